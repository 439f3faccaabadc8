//! The support-task storage ports on SQLite: round trips, filters, the version guard on
//! marking done, and the triggers that keep what was written.

// In tests a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ryoritsu_app::ports::Store;
use ryoritsu_store_sqlite::SqliteStore;

#[tokio::test]
async fn support_tasks_round_trip_and_keep_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("support_tasks.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    ryoritsu_app::conformance::support_tasks::story(&store).await;
}
