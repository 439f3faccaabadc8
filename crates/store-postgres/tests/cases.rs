//! The case storage ports (migration 0002) on PostgreSQL: every method of `CaseReads` and
//! `CaseWrites`, version conflicts, finalised documents that never change, the append-only
//! provision records, and domain values that come back equal from their JSON columns.
//!
//! Runs only when `RYORITSU_TEST_POSTGRES_URL` names a server where the user may create
//! databases (e.g. `postgres://postgres@127.0.0.1:5432/postgres`); each run works in a
//! throwaway database and drops it afterwards.

mod case_flows;
mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_ports_on_postgres() {
    let Ok(admin) = std::env::var(common::ENV) else {
        println!(
            "skipping: {} is not set (PostgreSQL case storage not tested)",
            common::ENV
        );
        return;
    };
    case_flows::all(&admin).await;
}
