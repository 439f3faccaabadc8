//! The case storage ports on SQLite: every read and write, version checks, finalised
//! documents, the append-only provision records and exact JSON round-trips. The flows live
//! in `case_flows`, which the plan test (`tests/plans.rs`) runs as well.

mod case_flows;

#[tokio::test]
async fn cases_and_parties_round_trip_and_filter() {
    case_flows::cases_and_parties_round_trip_and_filter().await;
}

#[tokio::test]
async fn documents_keep_finalised_versions_unchanged() {
    case_flows::documents_keep_finalised_versions_unchanged().await;
}

#[tokio::test]
async fn events_and_tasks() {
    case_flows::events_and_tasks().await;
}

#[tokio::test]
async fn consents_and_append_only_disclosures() {
    case_flows::consents_and_append_only_disclosures().await;
}

#[tokio::test]
async fn handling_rules_are_versioned_per_employer() {
    case_flows::handling_rules_are_versioned_per_employer().await;
}

#[tokio::test]
async fn consultation_notes_round_trip_and_are_append_only() {
    case_flows::consultation_notes_round_trip_and_are_append_only().await;
}

#[tokio::test]
async fn a_rolled_back_transaction_leaves_no_case_rows() {
    case_flows::a_rolled_back_transaction_leaves_no_case_rows().await;
}
