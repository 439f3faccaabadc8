//! The storage conformance story on SQLite.

// In tests a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ryoritsu_app::ports::Store;
use ryoritsu_store_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_passes_the_conformance_story() {
    let dir = tempfile::tempdir().unwrap();
    let open = |name: &str| {
        let url = format!("sqlite://{}", dir.path().join(name).display());
        async move {
            let s = SqliteStore::open(&url).await.unwrap();
            s.migrate().await.unwrap();
            s
        }
    };
    let a = open("a.db").await;
    let b = open("b.db").await;
    let export = ryoritsu_app::conformance::story(a, b).await.unwrap();
    assert!(export.get("users").is_some());
}
