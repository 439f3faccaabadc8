//! `ryoritsu audit verify` on a demo database, and after the audit table is edited,
//! deleted from or inserted into directly in the database file.

use sqlx::Connection;

use crate::harness::{TestDb, cli};

struct Seed;

impl ryoritsu::server::WithStore for Seed {
    type Output = ();
    async fn run<S: ryoritsu_app::ports::Store + ryoritsu_app::conformance::Tamper>(
        self,
        store: S,
    ) -> Result<(), String> {
        ryoritsu::server::migrate(&store).await?;
        let app = ryoritsu_app::App::new(
            store,
            ryoritsu_app::conformance::test_config(),
            std::sync::Arc::new(ryoritsu_app::SystemClock),
            std::sync::Arc::new(ryoritsu_app::RandomIds),
        )
        .map_err(|e| e.to_string())?;
        app.seed_demo().await.map_err(|e| e.to_string())?;
        Ok(())
    }
}

pub async fn demo_db() -> TestDb {
    let db = TestDb::new().await;
    ryoritsu::server::with_store(&ryoritsu::config::DatabaseUrl::new(db.url.clone()), Seed)
        .await
        .unwrap();
    db
}

/// Opens the database file as someone who has it on disk would.
async fn raw(db: &TestDb) -> Option<sqlx::SqliteConnection> {
    let path = db.sqlite_path()?;
    Some(
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap(),
    )
}

async fn exec(c: &mut sqlx::SqliteConnection, sql: &'static str) {
    sqlx::Executor::execute(&mut *c, sql).await.unwrap();
}

fn verify(db: &TestDb) -> (i32, String) {
    let (code, out, err) = cli(&db.url, db.dir.path(), &["audit", "verify"], None);
    (code, format!("{out}{err}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_database_verifies() {
    let db = demo_db().await;
    let (code, out) = verify(&db);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("監査ログは正常です"), "{out}");
    let (code, head, _) = cli(&db.url, db.dir.path(), &["audit", "head"], None);
    assert_eq!(code, 0);
    let head = head.trim().to_owned();
    assert!(head.contains(':'));
    let (code, out, _) = cli(
        &db.url,
        db.dir.path(),
        &["audit", "verify", "--head", &head],
        None,
    );
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_guard_refuses_edits_through_sql() {
    let db = demo_db().await;
    let Some(mut c) = raw(&db).await else {
        eprintln!("skipping: a database file test (PostgreSQL run)");
        return;
    };
    assert!(
        sqlx::Executor::execute(
            &mut c,
            "UPDATE audit_event SET outcome = 'failure' WHERE seq = 3"
        )
        .await
        .is_err()
    );
    assert!(
        sqlx::Executor::execute(&mut c, "DELETE FROM audit_event WHERE seq = 3")
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_row_is_named_by_its_sequence_number() {
    let db = demo_db().await;
    let Some(mut c) = raw(&db).await else {
        eprintln!("skipping: a database file test (PostgreSQL run)");
        return;
    };
    exec(&mut c, "DROP TRIGGER audit_event_no_update").await;
    exec(
        &mut c,
        "UPDATE audit_event SET target = 'user:someone-else' WHERE seq = 5",
    )
    .await;
    drop(c);
    let (code, out) = verify(&db);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("first_bad_seq=5"), "{out}");
    assert!(out.contains("シーケンス番号 5"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_row_is_named_by_its_sequence_number() {
    let db = demo_db().await;
    let Some(mut c) = raw(&db).await else {
        eprintln!("skipping: a database file test (PostgreSQL run)");
        return;
    };
    exec(&mut c, "DROP TRIGGER audit_event_no_delete").await;
    exec(&mut c, "DELETE FROM audit_event WHERE seq = 7").await;
    drop(c);
    let (code, out) = verify(&db);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("first_bad_seq=7"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inserted_row_is_named_by_its_sequence_number() {
    let db = demo_db().await;
    let Some(mut c) = raw(&db).await else {
        eprintln!("skipping: a database file test (PostgreSQL run)");
        return;
    };
    let max: i64 = sqlx::query_scalar("SELECT max(seq) FROM audit_event")
        .fetch_one(&mut c)
        .await
        .unwrap();
    exec(
        &mut c,
        "INSERT INTO audit_event (seq, at, actor, actor_role, organisation, action, target, category, case_id, \
         outcome, purpose, operation_id, client_ip, prev_hash, hash) \
         SELECT seq + 1, at, actor, actor_role, organisation, 'read', 'user:forged', category, case_id, outcome, \
         purpose, operation_id, client_ip, hash, hash FROM audit_event ORDER BY seq DESC LIMIT 1",
    )
    .await;
    drop(c);
    let (code, out) = verify(&db);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains(&format!("first_bad_seq={}", max + 1)), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_row_with_a_correct_hash_is_caught_by_the_head() {
    let db = demo_db().await;
    let Some(mut c) = raw(&db).await else {
        eprintln!("skipping: a database file test (PostgreSQL run)");
        return;
    };
    let (_, head, _) = cli(&db.url, db.dir.path(), &["audit", "head"], None);
    // Forge a row chained correctly after the last one, computing its hash as the server
    // would, without moving the stored head.
    use ryoritsu_domain::audit::{AuditAction, AuditEvent, AuditRecord, ChainHead, Outcome};
    let kept = ChainHead::parse(head.trim()).unwrap();
    let ev = AuditEvent::new(
        time::OffsetDateTime::UNIX_EPOCH,
        AuditAction::Read,
        Outcome::Success,
    );
    let r = AuditRecord::next(&kept, ev);
    sqlx::query("INSERT INTO audit_event (seq, at, action, outcome, prev_hash, hash) VALUES ($1, 0, 'read', 'success', $2, $3)")
        .bind(r.seq)
        .bind(r.prev_hash.as_slice())
        .bind(r.hash.as_slice())
        .execute(&mut c)
        .await
        .unwrap();
    drop(c);
    let (code, out) = verify(&db);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains(&format!("first_bad_seq={}", kept.seq + 1)),
        "{out}"
    );
}
