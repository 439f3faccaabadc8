//! The access-index storage ports on SQLite: rows, pages, consent windows, rules changes.

// In tests a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ryoritsu_app::ports::Store;
use ryoritsu_store_sqlite::SqliteStore;

#[tokio::test]
async fn the_access_index_answers_by_key_page_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("access.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    ryoritsu_app::conformance::access::story(&store).await;
}
