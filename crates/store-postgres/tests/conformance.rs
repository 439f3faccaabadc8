//! The storage conformance story on PostgreSQL, and the cross-backend parity check: the
//! same story on SQLite must end with the same canonical export.
//!
//! Runs only when `RYORITSU_TEST_POSTGRES_URL` names a server where the user may create
//! databases (e.g. `postgres://postgres@127.0.0.1:5432/postgres`); each run works in two
//! throwaway databases and drops them afterwards.

// In tests a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ryoritsu_app::StoreError;
use ryoritsu_app::conformance::Tamper;
use ryoritsu_app::ports::{ReadRepo, Store, TxControl, WriteRepo};
use ryoritsu_domain::audit::{AuditAction, AuditEvent, Outcome};
use ryoritsu_store_postgres::PgStore;
use ryoritsu_store_sqlite::SqliteStore;
use serde_json::Value;

mod common;

use common::{ENV, Throwaway, unique_name, with_database};
use ryoritsu_app::accounts::ports::AccountWrites;

/// `url` with a password added (ignored by trust authentication), to show it never leaks.
fn with_password(url: &str, password: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((user, host)) if !user.contains(':') => format!("{scheme}://{user}:{password}@{host}"),
        _ => url.to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_conformance_story_like_sqlite() {
    let Ok(admin) = std::env::var(ENV) else {
        println!("skipping: {ENV} is not set (PostgreSQL conformance not run)");
        return;
    };
    let names = vec![unique_name("a"), unique_name("b")];
    let guard = Throwaway::create(&admin, &names).await.unwrap();

    let open = |name: &str| {
        let url = with_database(&admin, name);
        async move {
            let s = PgStore::open(&url).await.unwrap();
            let applied = s.migrate().await.unwrap();
            assert_eq!(
                applied,
                s.schema_status().await.unwrap().known,
                "every known migration applied"
            );
            assert_eq!(s.describe(), "PostgreSQL (synchronous_commit=on)");
            assert!(s.file_path().is_none());
            s.health().await.unwrap();
            s
        }
    };
    let a = open(&names[0]).await;
    let b = open(&names[1]).await;
    let pg = ryoritsu_app::conformance::story(a.clone(), b.clone()).await;
    a.close().await;
    b.close().await;
    drop(guard);
    let pg = pg.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let open_sqlite = |name: &str| {
        let url = format!("sqlite://{}", dir.path().join(name).display());
        async move {
            let s = SqliteStore::open(&url).await.unwrap();
            s.migrate().await.unwrap();
            s
        }
    };
    let sa = open_sqlite("a.db").await;
    let sb = open_sqlite("b.db").await;
    let sqlite = ryoritsu_app::conformance::story(sa, sb).await.unwrap();

    assert!(pg.get("users").is_some());
    let (pg, sqlite) = (blank_session_handles(pg), blank_session_handles(sqlite));
    let mut diff = Vec::new();
    differences(&pg, &sqlite, "$", &mut diff);
    assert!(
        diff.is_empty(),
        "PostgreSQL and SQLite end the story with different exports:\n{}",
        diff.join("\n")
    );
}

/// Blanks the random session handle that `end_own_session` writes into an audit event's
/// target (`session:<handle>`). `canonical_without_random` blanks other random values but
/// not this one, so two runs differ there whatever the backend; once the app blanks it
/// too, this does nothing.
fn blank_session_handles(mut export: Value) -> Value {
    if let Some(rows) = export.get_mut("audit").and_then(Value::as_array_mut) {
        for row in rows {
            if let Some(target) = row.pointer_mut("/event/target")
                && target.as_str().is_some_and(|t| t.starts_with("session:"))
            {
                *target = Value::String("session:*".into());
            }
        }
    }
    export
}

/// Where two JSON values differ, one line per difference (for a readable failure).
fn differences(pg: &Value, sqlite: &Value, path: &str, out: &mut Vec<String>) {
    match (pg, sqlite) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) => differences(v, w, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}: only in PostgreSQL")),
                }
            }
            for k in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("{path}.{k}: only in SQLite"));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                out.push(format!(
                    "{path}: {} rows in PostgreSQL, {} in SQLite",
                    a.len(),
                    b.len()
                ));
            }
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                differences(v, w, &format!("{path}[{i}]"), out);
            }
        }
        (a, b) if a != b => out.push(format!("{path}: PostgreSQL {a}, SQLite {b}")),
        _ => {}
    }
}

/// What the story cannot see: connection settings, the TRUNCATE guard, the guard coming
/// back after tampering, schema refusal, error mapping and the password-free `Debug`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_adapter_details() {
    let Ok(admin) = std::env::var(ENV) else {
        println!("skipping: {ENV} is not set (PostgreSQL adapter checks not run)");
        return;
    };
    let name = unique_name("details");
    let guard = Throwaway::create(&admin, std::slice::from_ref(&name))
        .await
        .unwrap();
    let url = with_password(&with_database(&admin, &name), "not-a-real-secret");
    let store = PgStore::open(&url).await.unwrap();
    let debug = format!("{store:?}");
    assert!(!debug.contains("not-a-real-secret"), "{debug}");
    assert!(debug.contains(&name), "{debug}");

    assert_eq!(
        store.schema_status().await.unwrap().applied,
        Vec::<i64>::new()
    );
    let applied = store.migrate().await.unwrap();
    assert_eq!(
        applied,
        store.schema_status().await.unwrap().known,
        "every known migration applied"
    );
    assert_eq!(store.migrate().await.unwrap(), Vec::<i64>::new());

    // Every connection is set up as the module says.
    let settings = "DO $$ BEGIN \
        IF current_setting('synchronous_commit') <> 'on' \
        OR current_setting('application_name') <> 'ryoritsu' \
        THEN RAISE EXCEPTION 'connection settings'; END IF; END $$";
    store.try_raw(settings).await.unwrap();

    // The guard: UPDATE, DELETE and TRUNCATE refused, and back after tampering.
    let event = AuditEvent::new(
        time::OffsetDateTime::UNIX_EPOCH,
        AuditAction::Read,
        Outcome::Success,
    );
    let mut tx = store.begin().await.unwrap();
    tx.append_audit(&event).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.try_raw("TRUNCATE audit_event").await.is_err());
    assert_eq!(
        store
            .tamper_audit("UPDATE audit_event SET outcome = 'denied' WHERE seq = 1")
            .await
            .unwrap(),
        1
    );
    assert!(store.try_raw("DELETE FROM audit_event").await.is_err());
    assert!(
        store
            .try_raw("UPDATE audit_event SET seq = 2")
            .await
            .is_err()
    );

    // A failed statement inside a savepoint leaves the transaction usable.
    let mut tx = store.begin().await.unwrap();
    tx.savepoint().await.unwrap();
    tx.put_setting("kept", "1").await.unwrap();
    tx.release_savepoint().await.unwrap();
    tx.savepoint().await.unwrap();
    let err = tx
        .insert_workplace(&ryoritsu_app::accounts::ports::WorkplaceRecord {
            id: uuid::Uuid::nil(),
            organisation_id: uuid::Uuid::nil(),
            name: ryoritsu_domain::account::DisplayName::parse("n", "n", "x").unwrap(),
            prefecture: ryoritsu_domain::prefecture::Prefecture::from_code(1).unwrap(),
            has_occupational_physician: false,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    tx.rollback_to_savepoint().await.unwrap();
    tx.put_setting("after", "1").await.unwrap();
    tx.commit().await.unwrap();
    let mut c = store.read().await.unwrap();
    assert_eq!(c.get_setting("kept").await.unwrap().as_deref(), Some("1"));
    assert_eq!(c.get_setting("after").await.unwrap().as_deref(), Some("1"));
    let head = c.audit_head().await.unwrap();
    assert_eq!(head.seq, 1);
    assert_eq!(c.audit_records(0, 10).await.unwrap()[0].hash, head.hash);
    drop(c);

    // A schema from a newer program is refused.
    store
        .try_raw(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99990101000000, 'future', true, '\\x00', 0)",
        )
        .await
        .unwrap();
    let refused = store.migrate().await;
    assert!(matches!(refused, Err(StoreError::Schema(_))), "{refused:?}");

    store.close().await;
    drop(guard);
}

#[test]
fn database_is_replaced_in_the_url() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://h:5432", "x"),
        "postgres://h:5432/x"
    );
    assert_eq!(
        with_password("postgres://postgres@127.0.0.1:5432/x", "pw"),
        "postgres://postgres:pw@127.0.0.1:5432/x"
    );
}
