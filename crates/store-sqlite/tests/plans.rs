//! No full scans on the hot path, on SQLite: every statement the store executes while the
//! storage conformance stories and the case flows run is explained on a database of
//! realistic size, and none may read a growing table whole unless it starts with
//! `/* full scan: … */` (see `ryoritsu_app::conformance::plans`).

// In tests a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use ryoritsu_app::conformance::plans::{
    self, ColumnInfo, Dialect, Finding, StatementLog, is_explainable, is_marked_full_scan,
};
use ryoritsu_app::ports::Store;
use ryoritsu_store_sqlite::SqliteStore;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AssertSqlSafe, Connection, Row, SqliteConnection};

mod case_flows;

/// Opens a migrated store in a new file of `dir`.
async fn store(dir: &tempfile::TempDir, name: &str) -> SqliteStore {
    let url = format!("sqlite://{}", dir.path().join(name).display());
    let s = SqliteStore::open(&url).await.unwrap();
    s.migrate().await.unwrap();
    s
}

/// Runs everything that exercises the store: the conformance stories, the port sweep and
/// the case flows.
async fn exercise(dir: &tempfile::TempDir) {
    let export =
        ryoritsu_app::conformance::story(store(dir, "a.db").await, store(dir, "b.db").await)
            .await
            .unwrap();
    assert!(export.get("users").is_some());
    ryoritsu_app::conformance::corrections::story(&store(dir, "corrections.db").await).await;
    ryoritsu_app::conformance::support_tasks::story(&store(dir, "support.db").await).await;
    ryoritsu_app::conformance::access::story(&store(dir, "access.db").await).await;
    ryoritsu_app::conformance::plans::sweep(&store(dir, "sweep.db").await)
        .await
        .unwrap();
    case_flows::all().await;
}

async fn describe(c: &mut SqliteConnection) -> BTreeMap<String, Vec<ColumnInfo>> {
    let mut out = BTreeMap::new();
    for table in plans::filled_tables() {
        let rows = sqlx::query(r#"SELECT name, type, "notnull" FROM pragma_table_info($1)"#)
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
                data_type: r.get::<String, _>("type").to_ascii_lowercase(),
                nullable: r.get::<i64, _>("notnull") == 0,
                generated: false,
            })
            .collect();
        out.insert(table.to_owned(), cols);
    }
    out
}

/// A migrated database filled to the plan tests' size and analysed.
async fn filled(dir: &tempfile::TempDir) -> SqliteConnection {
    let path = dir.path().join("filled.db");
    let s = store(dir, "filled.db").await;
    s.close().await;
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .unwrap()
        .foreign_keys(false);
    let mut c = SqliteConnection::connect_with(&options).await.unwrap();
    let columns = describe(&mut c).await;
    sqlx::query("BEGIN").execute(&mut c).await.unwrap();
    for sql in plans::fill_statements(Dialect::Sqlite, &columns) {
        sqlx::query(AssertSqlSafe(sql.clone()))
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }
    // The full-text table beside the rows, when the schema has one.
    let fts: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE name = 'search_words' AND sql LIKE '%fts5%'",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    if fts == 1
        && let Err(e) =
            sqlx::query("INSERT INTO search_words (rowid, words) SELECT id, body FROM search_rows")
                .execute(&mut c)
                .await
    {
        println!("search_words left empty: {e}");
    }
    sqlx::query("COMMIT").execute(&mut c).await.unwrap();
    sqlx::query("ANALYZE").execute(&mut c).await.unwrap();
    c
}

/// The indexes with a WHERE clause: scanning one reads only the rows it was made for.
async fn partial_indexes(c: &mut SqliteConnection) -> BTreeSet<String> {
    sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '% WHERE %'",
    )
    .fetch_all(c)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

async fn explain(c: &mut SqliteConnection, sql: &str, partial: &BTreeSet<String>) -> Finding {
    let rows = sqlx::query(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
        .fetch_all(&mut *c)
        .await;
    match rows {
        Ok(rows) => {
            let details: Vec<String> = rows.iter().map(|r| r.get("detail")).collect();
            Finding {
                statement: sql.to_owned(),
                plan: details.join("\n"),
                scans: plans::sqlite_full_scans(sql, &details, partial),
            }
        }
        Err(e) => Finding {
            statement: sql.to_owned(),
            plan: String::new(),
            scans: vec![format!("could not explain: {e}")],
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_statement_reads_a_growing_table_whole() {
    let log = StatementLog::new();
    tracing::subscriber::set_global_default(log.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();

    log.collect(true);
    exercise(&dir).await;
    log.collect(false);

    let statements: Vec<String> = log
        .statements()
        .into_iter()
        .filter(|s| is_explainable(s))
        .collect();
    let mut c = filled(&dir).await;
    let partial = partial_indexes(&mut c).await;
    let mut findings = Vec::new();
    for s in &statements {
        findings.push(explain(&mut c, s, &partial).await);
    }
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
