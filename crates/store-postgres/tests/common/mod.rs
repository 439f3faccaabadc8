//! Throwaway PostgreSQL databases for the storage tests: each test binary creates its own
//! uniquely named databases through `RYORITSU_TEST_POSTGRES_URL` and drops them however
//! the test ends.

// Not every test binary uses every helper; in tests a failed unwrap is a failed test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{SystemTime, UNIX_EPOCH};

use ryoritsu_app::ports::Store;
use ryoritsu_store_postgres::PgStore;
use sqlx::{Connection, Executor, PgConnection};

pub const ENV: &str = "RYORITSU_TEST_POSTGRES_URL";

/// `url` with its database replaced by `db` (query parameters kept).
pub fn with_database(url: &str, db: &str) -> String {
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

/// A database name no other run or test uses at the same time.
pub fn unique_name(suffix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("ryoritsu_test_{}_{nanos}_{suffix}", std::process::id())
}

/// Drops the throwaway databases however the test ends, failures and panics included.
pub struct Throwaway {
    admin: String,
    names: Vec<String>,
}

impl Throwaway {
    pub async fn create(admin: &str, names: &[String]) -> Result<Throwaway, sqlx::Error> {
        // Filled as each database is made, so a failure half-way still drops the first.
        let mut guard = Throwaway {
            admin: admin.to_owned(),
            names: Vec::new(),
        };
        let mut c = PgConnection::connect(admin).await?;
        for name in names {
            c.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                .await?;
            guard.names.push(name.clone());
        }
        c.close().await?;
        Ok(guard)
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let names = std::mem::take(&mut self.names);
        // Drop runs inside the test's runtime, which may not block: use a thread of its own.
        let done = std::thread::spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => return eprintln!("could not drop the throwaway databases: {e}"),
            };
            rt.block_on(async move {
                let mut c = match PgConnection::connect(&admin).await {
                    Ok(c) => c,
                    Err(e) => return eprintln!("could not drop the throwaway databases: {e}"),
                };
                for name in names {
                    // FORCE ends connections a failed test left open.
                    if let Err(e) = c
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        )))
                        .await
                    {
                        eprintln!("could not drop throwaway database {name}: {e}");
                    }
                }
                let _ = c.close().await;
            });
        })
        .join();
        if done.is_err() {
            eprintln!("could not drop the throwaway databases");
        }
    }
}

/// A migrated store in a new throwaway database, with the guard that drops it; `None`, after
/// saying so, when no server is configured (`what` names what goes untested).
pub async fn throwaway_store(suffix: &str, what: &str) -> Option<(PgStore, Throwaway)> {
    let Ok(admin) = std::env::var(ENV) else {
        println!("skipping: {ENV} is not set ({what} not tested)");
        return None;
    };
    let name = unique_name(suffix);
    let guard = Throwaway::create(&admin, std::slice::from_ref(&name))
        .await
        .unwrap();
    let store = PgStore::open(&with_database(&admin, &name)).await.unwrap();
    store.migrate().await.unwrap();
    Some((store, guard))
}
