//! The access-index storage ports on PostgreSQL: rows, pages, consent windows, rules changes.
//!
//! Runs only when `RYORITSU_TEST_POSTGRES_URL` names a server where the user may create
//! databases; the run works in a throwaway database and drops it afterwards.

// In tests a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[tokio::test]
async fn the_access_index_answers_by_key_page_and_time() {
    let Some((store, _guard)) = common::throwaway_store("access", "PostgreSQL access index").await
    else {
        return;
    };
    ryoritsu_app::conformance::access::story(&store).await;
}
