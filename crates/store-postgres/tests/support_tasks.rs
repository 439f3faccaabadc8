//! The support-task storage ports on PostgreSQL: round trips, filters, the version guard on
//! marking done, and the triggers that keep what was written.
//!
//! Runs only when `RYORITSU_TEST_POSTGRES_URL` names a server where the user may create
//! databases; the run works in a throwaway database and drops it afterwards.

// In tests a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{SystemTime, UNIX_EPOCH};

use ryoritsu_app::ports::Store;
use ryoritsu_store_postgres::PgStore;
use sqlx::{Connection, Executor, PgConnection};

const ENV: &str = "RYORITSU_TEST_POSTGRES_URL";

/// `url` with its database replaced by `db` (query parameters kept).
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{db}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Drops the throwaway database however the test ends.
struct Throwaway {
    admin: String,
    name: String,
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which may not block: use a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut c) = PgConnection::connect(&admin).await {
                    let _ = c
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        )))
                        .await;
                    let _ = c.close().await;
                }
            });
        })
        .join();
    }
}

#[tokio::test]
async fn support_tasks_round_trip_and_keep_what_was_written() {
    let Ok(admin) = std::env::var(ENV) else {
        println!("skipping: {ENV} is not set (PostgreSQL support-task storage not tested)");
        return;
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let name = format!("ryoritsu_test_{}_{nanos}_support_tasks", std::process::id());
    let mut c = PgConnection::connect(&admin).await.unwrap();
    c.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .await
        .unwrap();
    c.close().await.unwrap();
    let _guard = Throwaway {
        admin: admin.clone(),
        name: name.clone(),
    };
    let store = PgStore::open(&with_database(&admin, &name)).await.unwrap();
    store.migrate().await.unwrap();
    ryoritsu_app::conformance::support_tasks::story(&store).await;
}
