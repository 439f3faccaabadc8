//! No full scans on the hot path, on PostgreSQL: every statement the store executes while
//! the storage conformance stories and the case flows run is explained, as the generic plan
//! a prepared statement gets, on a database of realistic size; none may read a growing
//! table whole unless it starts with `/* full scan: … */` (see
//! `ryoritsu_app::conformance::plans`).
//!
//! Runs only when `RYORITSU_TEST_POSTGRES_URL` names a server where the user may create
//! databases; the run works in throwaway databases and drops them afterwards.

// In tests a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use ryoritsu_app::conformance::plans::{
    self, ColumnInfo, Dialect, Finding, StatementLog, is_explainable, is_marked_full_scan,
};
use ryoritsu_app::ports::Store;
use ryoritsu_store_postgres::PgStore;
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row};

mod case_flows;
mod common;

use common::{ENV, Throwaway, unique_name, with_database};

/// The databases the run works in, each migrated before use.
const DATABASES: &[&str] = &[
    "story_a",
    "story_b",
    "corrections",
    "support",
    "access",
    "sweep",
    "filled",
];

async fn store(admin: &str, names: &BTreeMap<&str, String>, which: &str) -> PgStore {
    let s = PgStore::open(&with_database(admin, &names[which]))
        .await
        .unwrap();
    s.migrate().await.unwrap();
    s
}

/// Runs everything that exercises the store: the conformance stories, the port sweep and
/// the case flows.
async fn exercise(admin: &str, names: &BTreeMap<&str, String>) {
    let (a, b) = (
        store(admin, names, "story_a").await,
        store(admin, names, "story_b").await,
    );
    let export = ryoritsu_app::conformance::story(a.clone(), b.clone()).await;
    a.close().await;
    b.close().await;
    assert!(export.unwrap().get("users").is_some());
    let s = store(admin, names, "corrections").await;
    ryoritsu_app::conformance::corrections::story(&s).await;
    s.close().await;
    let s = store(admin, names, "support").await;
    ryoritsu_app::conformance::support_tasks::story(&s).await;
    s.close().await;
    let s = store(admin, names, "access").await;
    ryoritsu_app::conformance::access::story(&s).await;
    s.close().await;
    let s = store(admin, names, "sweep").await;
    ryoritsu_app::conformance::plans::sweep(&s).await.unwrap();
    s.close().await;
    case_flows::all(admin).await;
}

async fn describe(c: &mut PgConnection) -> BTreeMap<String, Vec<ColumnInfo>> {
    let mut out = BTreeMap::new();
    for table in plans::filled_tables() {
        let rows = sqlx::query(
            "SELECT column_name::text AS name, data_type::text AS data_type, \
             is_nullable = 'YES' AS nullable, \
             (is_identity = 'YES' OR is_generated = 'ALWAYS') AS generated \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(table)
        .fetch_all(&mut *c)
        .await
        .unwrap();
        if rows.is_empty() {
            continue;
        }
        let cols = rows
            .iter()
            .map(|r| ColumnInfo {
                name: r.get("name"),
                data_type: r.get::<String, _>("data_type").to_ascii_lowercase(),
                nullable: r.get("nullable"),
                generated: r.get("generated"),
            })
            .collect();
        out.insert(table.to_owned(), cols);
    }
    out
}

/// The migrated database filled to the plan tests' size and analysed, on a connection set
/// to plan prepared statements generically.
async fn filled(admin: &str, names: &BTreeMap<&str, String>) -> PgConnection {
    store(admin, names, "filled").await.close().await;
    let mut c = PgConnection::connect(&with_database(admin, &names["filled"]))
        .await
        .unwrap();
    let columns = describe(&mut c).await;
    let mut tx = c.begin().await.unwrap();
    // Neither foreign keys nor the append-only triggers while filling.
    sqlx::raw_sql("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    for sql in plans::fill_statements(Dialect::Postgres, &columns) {
        sqlx::raw_sql(AssertSqlSafe(sql.clone()))
            .execute(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }
    tx.commit().await.unwrap();
    // As autovacuum leaves a database at rest: statistics and the visibility map.
    sqlx::raw_sql("VACUUM ANALYZE")
        .execute(&mut c)
        .await
        .unwrap();
    sqlx::raw_sql("SET plan_cache_mode = force_generic_plan")
        .execute(&mut c)
        .await
        .unwrap();
    c
}

/// The indexes with a WHERE clause: scanning one reads only the rows it was made for.
async fn partial_indexes(c: &mut PgConnection) -> BTreeSet<String> {
    sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes \
         WHERE schemaname = current_schema() AND indexdef LIKE '% WHERE %'",
    )
    .fetch_all(c)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

/// The generic plan of `sql`: prepared, then explained with NULL for every parameter
/// (PostgreSQL 15 has no `EXPLAIN (GENERIC_PLAN)`).
async fn explain(c: &mut PgConnection, sql: &str, partial: &BTreeSet<String>) -> Finding {
    let failed = |e: String| Finding {
        statement: sql.to_owned(),
        plan: String::new(),
        scans: vec![format!("could not explain: {e}")],
    };
    if let Err(e) = sqlx::raw_sql(AssertSqlSafe(format!("PREPARE plan_check AS {sql}")))
        .execute(&mut *c)
        .await
    {
        return failed(e.to_string());
    }
    let params: i32 = sqlx::query_scalar(
        "SELECT coalesce(cardinality(parameter_types), 0) FROM pg_prepared_statements \
         WHERE name = 'plan_check'",
    )
    .fetch_one(&mut *c)
    .await
    .unwrap();
    let args = vec!["NULL"; usize::try_from(params).unwrap()].join(", ");
    let execute = if args.is_empty() {
        "EXECUTE plan_check".to_owned()
    } else {
        format!("EXECUTE plan_check({args})")
    };
    let rows = sqlx::raw_sql(AssertSqlSafe(format!("EXPLAIN (FORMAT JSON) {execute}")))
        .fetch_all(&mut *c)
        .await;
    sqlx::raw_sql("DEALLOCATE plan_check")
        .execute(&mut *c)
        .await
        .unwrap();
    let text: String = match rows {
        Ok(rows) => match rows.first() {
            Some(r) => r.try_get_unchecked(0).unwrap(),
            None => return failed("no plan".into()),
        },
        Err(e) => return failed(e.to_string()),
    };
    let plan: serde_json::Value = serde_json::from_str(&text).unwrap();
    Finding {
        statement: sql.to_owned(),
        plan: plans::postgres_plan_text(&plan),
        scans: plans::postgres_full_scans(&plan, partial),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_statement_reads_a_growing_table_whole() {
    let Ok(admin) = std::env::var(ENV) else {
        println!("skipping: {ENV} is not set (PostgreSQL plans not checked)");
        return;
    };
    let names: BTreeMap<&str, String> = DATABASES
        .iter()
        .map(|d| (*d, unique_name(&format!("plans_{d}"))))
        .collect();
    let _guard = Throwaway::create(&admin, &names.values().cloned().collect::<Vec<_>>())
        .await
        .unwrap();
    let log = StatementLog::new();
    tracing::subscriber::set_global_default(log.clone()).unwrap();

    log.collect(true);
    exercise(&admin, &names).await;
    log.collect(false);

    let statements: Vec<String> = log
        .statements()
        .into_iter()
        .filter(|s| is_explainable(s))
        .collect();
    let mut c = filled(&admin, &names).await;
    let partial = partial_indexes(&mut c).await;
    let mut findings = Vec::new();
    for s in &statements {
        findings.push(explain(&mut c, s, &partial).await);
    }
    c.close().await.unwrap();
    for f in findings
        .iter()
        .filter(|f| is_marked_full_scan(&f.statement))
    {
        let scans = if f.scans.is_empty() {
            "(no scan)".to_owned()
        } else {
            f.scans.join("; ")
        };
        println!("deliberate: {}\n  {scans}", f.statement);
    }
    if let Ok(path) = std::env::var("RYORITSU_PLANS_DUMP") {
        std::fs::write(path, plans::dump(&findings)).unwrap();
    }
    println!("{} distinct statements explained", statements.len());
    if let Some(failures) = plans::report(&findings) {
        panic!("{failures}");
    }
    assert!(
        statements.len() >= 60,
        "only {} distinct statements seen: the stories did not run?",
        statements.len()
    );
}
