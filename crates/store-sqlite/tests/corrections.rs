//! The correction-request storage ports on SQLite: round trips, filters, the answer's
//! version guard, and the triggers that keep what the worker filed.

// In tests a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ryoritsu_app::ports::Store;
use ryoritsu_store_sqlite::SqliteStore;

#[tokio::test]
async fn correction_requests_round_trip_and_keep_what_was_filed() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("corrections.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    ryoritsu_app::conformance::corrections::story(&store).await;
}
