//! The correction-request storage ports on PostgreSQL: round trips, filters, the answer's
//! version guard, and the triggers that keep what the worker filed.
//!
//! Runs only when `RYORITSU_TEST_POSTGRES_URL` names a server where the user may create
//! databases; the run works in a throwaway database and drops it afterwards.

// In tests a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[tokio::test]
async fn correction_requests_round_trip_and_keep_what_was_filed() {
    let Some((store, _guard)) =
        common::throwaway_store("corrections", "PostgreSQL correction storage").await
    else {
        return;
    };
    ryoritsu_app::conformance::corrections::story(&store).await;
}
