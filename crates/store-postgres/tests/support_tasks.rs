//! The support-task storage ports on PostgreSQL: round trips, filters, the version guard on
//! marking done, and the triggers that keep what was written.
//!
//! Runs only when `RYORITSU_TEST_POSTGRES_URL` names a server where the user may create
//! databases; the run works in a throwaway database and drops it afterwards.

// In tests a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[tokio::test]
async fn support_tasks_round_trip_and_keep_what_was_written() {
    let Some((store, _guard)) =
        common::throwaway_store("support_tasks", "PostgreSQL support-task storage").await
    else {
        return;
    };
    ryoritsu_app::conformance::support_tasks::story(&store).await;
}
