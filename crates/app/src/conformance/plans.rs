//! What the stores' plan tests share: which tables grow with the number of cases, how the
//! statements a store executes are collected, a database filled to a realistic size to
//! explain them on, and how a plan is read for full scans.
//!
//! Each store's `tests/plans.rs` runs the conformance stories (and its own case flows) with
//! [`StatementLog`] installed, fills a fresh database with [`fill_statements`], runs
//! `ANALYZE`, explains every distinct statement and fails on any full scan of a
//! [`GROWING_TABLES`] table that the statement does not own up to with a leading
//! [`FULL_SCAN_MARK`] comment (`/* full scan: backup */`, `/* full scan: maintenance */`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

mod fill;

use ryoritsu_domain::case::TaskKind;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use uuid::Uuid;

use crate::accounts::ports::{AccountReads, AccountWrites};
use crate::cases::attachment_ports::AttachmentReads;
use crate::cases::correction_ports::{CorrectionFilter, CorrectionReads};
use crate::cases::notice_ports::{NoticeReads, NoticeWrites};
use crate::cases::ports::{CaseFilter, CaseReads, CaseWrites, TaskFilter};
use crate::cases::support_task_ports::{SupportTaskFilter, SupportTaskReads};
use crate::hospital::ports::{GuidanceFilter, GuidanceReads};
use crate::ports::{ReadRepo, Store, TxControl, WriteRepo};

/// The tables that grow with the number of cases, or with the people in them and their
/// traffic. No statement on the hot path may read one of them from end to end: every read,
/// update and delete finds its rows through an index. A statement that must read a whole
/// table (a backup, a rebuild, a sweep) says so with a leading [`FULL_SCAN_MARK`] comment.
///
/// Not listed, and so free to be scanned: tables that grow only with the number of
/// organisations or stay tiny (organisations, workplaces, handling_rules,
/// facility_standards, settings, audit_head), and FTS5's own tables, which are searched by
/// MATCH.
pub const GROWING_TABLES: &[&str] = &[
    // A case and what hangs off it.
    "cases",
    "case_parties",
    "documents",
    "case_events",
    "tasks",
    "consents",
    "disclosures",
    "share_codes",
    "consultation_notes",
    "attachments",
    "notice_outbox",
    "correction_requests",
    "support_tasks",
    "guidance_sessions",
    // Derived indexes over the cases.
    "search_rows",
    "case_grants",
    // The audit chain: one or more records per request.
    "audit_event",
    // The people (every worker is a user with a membership) and their traffic.
    "users",
    "memberships",
    "invitations",
    "sessions",
    "recovery_codes",
    "login_failures",
    "idempotency",
];

/// The comment a statement starts with when it reads a growing table whole on purpose,
/// followed by why (`backup`, `maintenance`) and ` */`.
pub const FULL_SCAN_MARK: &str = "/* full scan: ";

/// The comment the stores put before SQL that the [`super::Tamper`] trait runs behind the
/// application's back: not the store's own statements, so never explained.
pub const TAMPER_MARK: &str = "/* tamper */";

/// `sql` on one line, with runs of white space as one space.
pub fn normalise(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `sql` (normalised) is one statement that reads or writes rows: `SELECT`,
/// `INSERT`, `UPDATE`, `DELETE` or `WITH`, possibly after a comment. Transaction control,
/// pragmas, DDL, tampering and multi-statement scripts (migrations) are not explained.
pub fn is_explainable(sql: &str) -> bool {
    if sql.starts_with(TAMPER_MARK) {
        return false;
    }
    let body = strip_leading_comment(sql);
    if body.trim_end().trim_end_matches(';').contains(';') {
        return false;
    }
    let first = body
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    matches!(
        first.as_str(),
        "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "WITH"
    )
}

/// Whether the statement owns up to reading a growing table whole.
pub fn is_marked_full_scan(sql: &str) -> bool {
    sql.trim_start().starts_with(FULL_SCAN_MARK)
}

fn strip_leading_comment(sql: &str) -> &str {
    let s = sql.trim_start();
    match s.strip_prefix("/*").and_then(|rest| rest.split_once("*/")) {
        Some((_, after)) => after.trim_start(),
        None => s,
    }
}

const NOT_AN_ALIAS: &[&str] = &[
    "where",
    "join",
    "inner",
    "left",
    "right",
    "full",
    "cross",
    "natural",
    "outer",
    "on",
    "using",
    "order",
    "group",
    "limit",
    "set",
    "values",
    "union",
    "except",
    "intersect",
    "having",
    "window",
    "returning",
    "default",
    "select",
    "indexed",
    "not",
    "for",
    "offset",
];

/// The names under which `sql` refers to each growing table: the table's own name and
/// any alias it is given (`FROM cases c`, `JOIN tasks AS t`), lower case, mapped to the
/// table. SQLite's plans name a table by its alias.
pub fn growing_names(sql: &str) -> BTreeMap<String, String> {
    let tokens: Vec<String> = sql
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut out = BTreeMap::new();
    for (i, t) in tokens.iter().enumerate() {
        if !GROWING_TABLES.contains(&t.as_str()) {
            continue;
        }
        out.insert(t.clone(), t.clone());
        let next = match tokens.get(i + 1).map(String::as_str) {
            Some("as") => tokens.get(i + 2),
            _ => tokens.get(i + 1),
        };
        if let Some(alias) = next
            && !NOT_AN_ALIAS.contains(&alias.as_str())
            && !GROWING_TABLES.contains(&alias.as_str())
            && alias
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
        {
            out.insert(alias.clone(), t.clone());
        }
    }
    out
}

/// The full scans of growing tables in a SQLite `EXPLAIN QUERY PLAN` of `sql`, one line of
/// `detail` each: `SCAN <table>`, with or without `USING [COVERING] INDEX` (walking a
/// whole index is no better than walking the table), unless the index is one of
/// `partial_indexes` (which holds only the rows asked for). A virtual table scanned by its
/// own index (FTS5 MATCH) and scans of subqueries and CTEs are fine.
pub fn sqlite_full_scans(
    sql: &str,
    details: &[String],
    partial_indexes: &BTreeSet<String>,
) -> Vec<String> {
    let names = growing_names(sql);
    // A DELETE without WHERE shows no plan at all: SQLite empties the table.
    let body = strip_leading_comment(sql).to_ascii_lowercase();
    let unfiltered_delete = body
        .strip_prefix("delete from ")
        .filter(|rest| !rest.contains(" where "))
        .and_then(|rest| rest.split_whitespace().next())
        .filter(|table| GROWING_TABLES.contains(table))
        .map(|table| format!("DELETE of every row of {table}"));
    details
        .iter()
        .filter(|d| {
            let Some(rest) = d.trim().strip_prefix("SCAN ") else {
                return false;
            };
            if rest.contains("VIRTUAL TABLE") {
                return false;
            }
            if let Some((_, index)) = rest.split_once(" INDEX ")
                && partial_indexes.contains(index.split_whitespace().next().unwrap_or_default())
            {
                return false;
            }
            let name = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            names.contains_key(&name)
        })
        .cloned()
        .chain(unfiltered_delete)
        .collect()
}

/// The full scans of growing tables in a PostgreSQL `EXPLAIN (FORMAT JSON)` plan: a
/// `Seq Scan` of one, or an index scan of one without an index condition (a walk of the
/// whole index, plain or under a bitmap heap scan) unless the index is one of
/// `partial_indexes`.
pub fn postgres_full_scans(
    plan: &serde_json::Value,
    partial_indexes: &BTreeSet<String>,
) -> Vec<String> {
    struct Walk<'a> {
        partial: &'a BTreeSet<String>,
        out: Vec<String>,
    }
    impl Walk<'_> {
        /// `heap`: the table of the bitmap heap scan above, for its bitmap index scans.
        fn node(&mut self, node: &serde_json::Value, heap: Option<&str>) {
            if let Some(items) = node.as_array() {
                for n in items {
                    self.node(n, heap);
                }
                return;
            }
            if let Some(inner) = node.get("Plan") {
                self.node(inner, heap);
                return;
            }
            let text = |key: &str| node.get(key).and_then(|v| v.as_str());
            let kind = text("Node Type").unwrap_or_default();
            let relation = text("Relation Name").or(heap).unwrap_or_default();
            if GROWING_TABLES.contains(&relation) {
                let whole_index =
                    matches!(kind, "Index Scan" | "Index Only Scan" | "Bitmap Index Scan")
                        && text("Index Cond").is_none()
                        && !text("Index Name").is_some_and(|i| self.partial.contains(i));
                if kind == "Seq Scan" || whole_index {
                    let index = text("Index Name")
                        .map(|i| format!(" using {i}"))
                        .unwrap_or_default();
                    let filter = text("Filter")
                        .map(|f| format!(" (filter: {f})"))
                        .unwrap_or_default();
                    self.out
                        .push(format!("{kind} on {relation}{index}{filter}"));
                }
            }
            let below = if kind == "Bitmap Heap Scan" {
                text("Relation Name")
            } else {
                heap
            };
            if let Some(children) = node.get("Plans") {
                self.node(children, below);
            }
        }
    }
    let mut walk = Walk {
        partial: partial_indexes,
        out: Vec::new(),
    };
    walk.node(plan, None);
    walk.out
}

/// A PostgreSQL JSON plan as an indented tree, one node a line, for failure messages.
pub fn postgres_plan_text(plan: &serde_json::Value) -> String {
    fn walk(node: &serde_json::Value, depth: usize, out: &mut Vec<String>) {
        if let Some(items) = node.as_array() {
            for n in items {
                walk(n, depth, out);
            }
            return;
        }
        if let Some(inner) = node.get("Plan") {
            walk(inner, depth, out);
            return;
        }
        let text = |key: &str| node.get(key).and_then(|v| v.as_str());
        let mut line = format!("{}{}", "  ".repeat(depth), text("Node Type").unwrap_or("?"));
        if let Some(index) = text("Index Name") {
            line.push_str(&format!(" using {index}"));
        }
        if let Some(relation) = text("Relation Name") {
            line.push_str(&format!(" on {relation}"));
        }
        for key in [
            "Index Cond",
            "Recheck Cond",
            "Hash Cond",
            "Join Filter",
            "Filter",
        ] {
            if let Some(cond) = text(key) {
                line.push_str(&format!(" [{key}: {cond}]"));
            }
        }
        out.push(line);
        if let Some(children) = node.get("Plans") {
            walk(children, depth + 1, out);
        }
    }
    let mut out = Vec::new();
    walk(plan, 0, &mut out);
    out.join("\n")
}

// ---- collecting the statements ---------------------------------------------------------

/// The `tracing` target under which the SQLite store reports each statement it runs
/// (field `db.statement`); sqlx reports PostgreSQL's under `sqlx::query`.
pub const STATEMENT_TARGET: &str = "ryoritsu::sql";

fn is_statement_event(target: &str) -> bool {
    target == "sqlx::query" || target == STATEMENT_TARGET
}

/// A `tracing` subscriber that keeps every statement the stores report executing (targets
/// `sqlx::query` and [`STATEMENT_TARGET`], fields `summary` and `db.statement`), normalised
/// and without repeats, while it is switched on. Install it as the global default before
/// the first statement.
#[derive(Clone, Default)]
pub struct StatementLog {
    inner: Arc<LogInner>,
}

#[derive(Default)]
struct LogInner {
    on: AtomicBool,
    next_span: AtomicU64,
    statements: Mutex<BTreeSet<String>>,
}

impl StatementLog {
    pub fn new() -> StatementLog {
        StatementLog::default()
    }

    /// Starts or stops collecting.
    pub fn collect(&self, on: bool) {
        self.inner.on.store(on, Ordering::SeqCst);
    }

    /// The distinct statements collected so far.
    pub fn statements(&self) -> BTreeSet<String> {
        self.inner
            .statements
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct StatementFields {
    summary: Option<String>,
    statement: Option<String>,
}

impl Visit for StatementFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => self.summary = Some(value.to_owned()),
            "db.statement" => self.statement = Some(value.to_owned()),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if matches!(field.name(), "summary" | "db.statement") {
            let text = format!("{value:?}");
            let text = text
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .unwrap_or(&text)
                .to_owned();
            self.record_str(field, &text);
        }
    }
}

impl Subscriber for StatementLog {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        is_statement_event(metadata.target())
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(self.inner.next_span.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        if !self.inner.on.load(Ordering::SeqCst) || !is_statement_event(event.metadata().target()) {
            return;
        }
        let mut fields = StatementFields::default();
        event.record(&mut fields);
        // sqlx leaves `db.statement` empty when the summary (the first four words) is the
        // whole statement.
        let sql = match (fields.statement, fields.summary) {
            (Some(s), _) if !s.trim().is_empty() => s,
            (_, Some(summary)) => summary,
            _ => return,
        };
        if let Ok(mut set) = self.inner.statements.lock() {
            set.insert(normalise(&sql));
        }
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

// ---- every port, once ----------------------------------------------------------------

/// Asks every read of the areas' ports once (with ids that match nothing), and runs the
/// sweeper's deletions and the single-row writes in a transaction that is rolled back, so
/// that a plan test sees every statement even where the stories do not reach. (The search
/// and access indexes are covered by their own story.)
pub async fn sweep<S: Store>(store: &S) -> Result<(), String> {
    let e = |x: crate::error::StoreError| x.to_string();
    let id = Uuid::from_u128(0x5eed);
    let at = time::macros::datetime!(2026-04-01 09:00 UTC);

    let mut c = store.read().await.map_err(e)?;
    // Shared rows.
    c.get_idempotency("user:x", "key").await.map_err(e)?;
    c.list_idempotency().await.map_err(e)?;
    c.get_setting("name").await.map_err(e)?;
    c.list_settings().await.map_err(e)?;
    c.audit_head().await.map_err(e)?;
    c.audit_records_for_case(id).await.map_err(e)?;
    c.audit_records_for_case_before(id, i64::MAX, 10)
        .await
        .map_err(e)?;
    c.audit_records(0, 10).await.map_err(e)?;
    // Accounts.
    c.get_organisation(id).await.map_err(e)?;
    c.list_organisations().await.map_err(e)?;
    c.list_workplaces(id).await.map_err(e)?;
    c.list_all_workplaces().await.map_err(e)?;
    c.get_user(id).await.map_err(e)?;
    let login = ryoritsu_domain::account::LoginName::parse("nobody").map_err(|x| x.message)?;
    c.find_user_by_login(&login).await.map_err(e)?;
    c.list_users().await.map_err(e)?;
    c.list_demo_users().await.map_err(e)?;
    c.count_users().await.map_err(e)?;
    c.list_memberships_of_user(id).await.map_err(e)?;
    c.list_all_memberships().await.map_err(e)?;
    c.list_members(id, None, 10).await.map_err(e)?;
    let cursor = crate::accounts::ports::MemberCursor {
        joined_at: time::OffsetDateTime::UNIX_EPOCH,
        membership: id,
    };
    c.list_members(id, Some(cursor), 10).await.map_err(e)?;
    c.list_members_in_role(id, ryoritsu_domain::org::Role::HrOfficer, 10)
        .await
        .map_err(e)?;
    c.get_membership(id).await.map_err(e)?;
    c.find_invitation("token").await.map_err(e)?;
    c.list_invitations(id, 50).await.map_err(e)?;
    c.list_all_invitations().await.map_err(e)?;
    c.get_session("session").await.map_err(e)?;
    c.list_sessions(id).await.map_err(e)?;
    c.list_all_sessions().await.map_err(e)?;
    c.list_recovery_codes(id).await.map_err(e)?;
    c.list_all_recovery_codes().await.map_err(e)?;
    c.login_failures_since("key", at).await.map_err(e)?;
    c.list_login_failures().await.map_err(e)?;
    c.user_reading(id).await.map_err(e)?;
    c.list_user_readings().await.map_err(e)?;
    // Cases.
    c.get_case(id).await.map_err(e)?;
    for filter in [
        CaseFilter::Worker(id),
        CaseFilter::Employer(id),
        CaseFilter::PartyOrganisation(id),
    ] {
        c.list_cases(filter).await.map_err(e)?;
    }
    c.list_all_cases().await.map_err(e)?;
    c.list_case_parties(id).await.map_err(e)?;
    c.list_all_case_parties().await.map_err(e)?;
    c.get_document(id).await.map_err(e)?;
    c.list_documents(id).await.map_err(e)?;
    c.list_all_documents().await.map_err(e)?;
    c.list_case_events(id).await.map_err(e)?;
    c.list_all_case_events().await.map_err(e)?;
    for open_only in [true, false] {
        c.list_tasks(TaskFilter {
            case: id,
            open_only,
        })
        .await
        .map_err(e)?;
    }
    c.list_all_tasks().await.map_err(e)?;
    c.list_consents(id).await.map_err(e)?;
    c.list_consents_of_worker(id).await.map_err(e)?;
    c.list_all_consents().await.map_err(e)?;
    c.list_disclosures(id).await.map_err(e)?;
    c.list_disclosures_of_worker(id).await.map_err(e)?;
    c.list_all_disclosures().await.map_err(e)?;
    c.get_handling_rules(id).await.map_err(e)?;
    c.list_handling_rules().await.map_err(e)?;
    c.find_share_code("code").await.map_err(e)?;
    c.list_share_codes(id).await.map_err(e)?;
    c.list_all_share_codes().await.map_err(e)?;
    c.list_consultation_notes(id).await.map_err(e)?;
    c.list_all_consultation_notes().await.map_err(e)?;
    c.list_attachments(id).await.map_err(e)?;
    c.list_all_attachments().await.map_err(e)?;
    c.get_attachment(id).await.map_err(e)?;
    c.attachment_content(id).await.map_err(e)?;
    c.get_correction_request(id).await.map_err(e)?;
    for filter in [
        CorrectionFilter::Case(id),
        CorrectionFilter::Worker(id),
        CorrectionFilter::OpenFor(id),
    ] {
        c.list_correction_requests(filter).await.map_err(e)?;
    }
    c.list_all_correction_requests().await.map_err(e)?;
    c.list_notices().await.map_err(e)?;
    c.due_notices(at, 10).await.map_err(e)?;
    c.unreminded_overdue_tasks(at.date()).await.map_err(e)?;
    c.get_support_task(id).await.map_err(e)?;
    for filter in [
        SupportTaskFilter::Case(id),
        SupportTaskFilter::OpenOfOrganisation(id),
        SupportTaskFilter::OpenCreatedBy(id),
    ] {
        c.list_support_tasks(filter).await.map_err(e)?;
    }
    c.list_all_support_tasks().await.map_err(e)?;
    // Hospitals.
    for filter in [
        GuidanceFilter::Session(id),
        GuidanceFilter::Case(id),
        GuidanceFilter::Institution(id),
        GuidanceFilter::InstitutionPatient {
            institution: id,
            patient: id,
        },
        GuidanceFilter::Patient(id),
    ] {
        c.list_guidance_versions(filter).await.map_err(e)?;
    }
    c.list_all_guidance_versions().await.map_err(e)?;
    c.list_facility_standards(id).await.map_err(e)?;
    c.list_all_facility_standards().await.map_err(e)?;
    drop(c);

    // The sweeper and the single-row writes, undone.
    let mut tx = store.begin().await.map_err(e)?;
    tx.touch_session("session", at).await.map_err(e)?;
    tx.delete_session("session").await.map_err(e)?;
    tx.delete_sessions_of_user(id, None).await.map_err(e)?;
    tx.delete_sessions_of_user(id, Some("session"))
        .await
        .map_err(e)?;
    tx.delete_expired_sessions(at, at).await.map_err(e)?;
    tx.use_invitation(id, id, at).await.map_err(e)?;
    tx.use_recovery_code(id, "digest", at).await.map_err(e)?;
    tx.replace_recovery_codes(id, &[]).await.map_err(e)?;
    tx.clear_login_failures("key").await.map_err(e)?;
    tx.prune_login_failures(at).await.map_err(e)?;
    tx.prune_idempotency(at).await.map_err(e)?;
    tx.delete_membership(id).await.map_err(e)?;
    tx.set_user_reading(id, None).await.map_err(e)?;
    tx.close_tasks(id, &[TaskKind::TranscribeScan], at)
        .await
        .map_err(e)?;
    tx.withdraw_consent(id, at).await.map_err(e)?;
    tx.use_share_code("code", id, id, at).await.map_err(e)?;
    tx.claim_notice(id, 0, at).await.map_err(e)?;
    tx.mark_notice_sent(id, at).await.map_err(e)?;
    tx.mark_notice_failed(id, None, "error").await.map_err(e)?;
    tx.rollback().await.map_err(e)?;
    Ok(())
}

// ---- a database of realistic size: see `fill` ----------------------------------------

pub use fill::{ColumnInfo, Dialect, fill_statements, filled_tables};

/// What one explained statement showed.
#[derive(Debug, Clone)]
pub struct Finding {
    pub statement: String,
    pub plan: String,
    pub scans: Vec<String>,
}

/// Every statement with its plan, for reading (`RYORITSU_PLANS_DUMP=<file>`).
pub fn dump(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| {
            let plan = f
                .plan
                .lines()
                .map(|l| format!("    {l}\n"))
                .collect::<String>();
            format!("{}\n{plan}\n", f.statement)
        })
        .collect()
}

/// The failures among `findings` (full scans in statements not marked as such), as one
/// message listing statement and plan each; `None` when there are none.
pub fn report(findings: &[Finding]) -> Option<String> {
    let bad: Vec<&Finding> = findings
        .iter()
        .filter(|f| !f.scans.is_empty() && !is_marked_full_scan(&f.statement))
        .collect();
    if bad.is_empty() {
        return None;
    }
    let mut msg = format!(
        "{} statement(s) read a growing table whole without saying so:\n",
        bad.len()
    );
    for f in bad {
        msg.push_str(&format!(
            "\n- {}\n  full scan: {}\n  plan:\n{}\n",
            f.statement,
            f.scans.join("; "),
            f.plan
                .lines()
                .map(|l| format!("    {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    Some(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_told_apart() {
        assert!(is_explainable("SELECT * FROM cases WHERE id = $1"));
        assert!(is_explainable(
            "/* full scan: backup */ SELECT * FROM cases ORDER BY id"
        ));
        assert!(is_explainable("WITH x AS (SELECT 1) SELECT * FROM x"));
        assert!(!is_explainable("BEGIN IMMEDIATE"));
        assert!(!is_explainable("SAVEPOINT job"));
        assert!(!is_explainable("ROLLBACK TO job; RELEASE job"));
        assert!(!is_explainable(
            "/* tamper */ UPDATE audit_event SET action = 'x'"
        ));
        assert!(!is_explainable(
            "CREATE TABLE x (a int); INSERT INTO x VALUES (1)"
        ));
        assert!(is_marked_full_scan(
            "/* full scan: maintenance */ DELETE FROM sessions"
        ));
        assert!(!is_marked_full_scan("SELECT /* full scan: x */ 1"));
    }

    #[test]
    fn aliases_resolve_to_their_tables() {
        let n = growing_names(
            "SELECT c.* FROM cases c JOIN case_parties AS p ON p.case_id = c.id \
             WHERE c.id IN (SELECT case_id FROM tasks WHERE x = 1)",
        );
        assert_eq!(n.get("c").map(String::as_str), Some("cases"));
        assert_eq!(n.get("p").map(String::as_str), Some("case_parties"));
        assert_eq!(n.get("tasks").map(String::as_str), Some("tasks"));
        assert!(!n.contains_key("where"));
    }

    #[test]
    fn sqlite_plans_are_read() {
        let sql = "SELECT * FROM cases c WHERE c.worker_id = $1";
        let partial: BTreeSet<String> = ["cases_open".to_owned()].into();
        let scan = |d: &str| sqlite_full_scans(sql, &[d.to_owned()], &partial);
        assert_eq!(scan("SCAN c").len(), 1);
        assert_eq!(scan("SCAN c USING INDEX cases_worker").len(), 1);
        assert!(scan("SEARCH c USING INDEX cases_worker (worker_id=?)").is_empty());
        assert!(scan("SCAN search_words VIRTUAL TABLE INDEX 0:M1").is_empty());
        assert!(scan("SCAN organisations").is_empty());
        assert!(scan("USE TEMP B-TREE FOR ORDER BY").is_empty());
        assert!(scan("SCAN c USING INDEX cases_open").is_empty());
        let none = BTreeSet::new();
        assert_eq!(
            sqlite_full_scans("DELETE FROM case_grants", &[], &none).len(),
            1
        );
        assert!(
            sqlite_full_scans("DELETE FROM case_grants WHERE case_id = $1", &[], &none).is_empty()
        );
        assert!(sqlite_full_scans("DELETE FROM settings", &[], &none).is_empty());
    }

    #[test]
    fn postgres_plans_are_read() {
        let plan = serde_json::json!([{"Plan": {
            "Node Type": "Nested Loop",
            "Plans": [
                {"Node Type": "Seq Scan", "Relation Name": "organisations"},
                {"Node Type": "Seq Scan", "Relation Name": "cases", "Filter": "(x)"},
                {"Node Type": "Index Scan", "Relation Name": "tasks", "Index Name": "t"},
                {"Node Type": "Index Scan", "Relation Name": "documents",
                 "Index Cond": "(case_id = $1)"},
                {"Node Type": "Index Scan", "Relation Name": "users", "Index Name": "users_demo"},
                {"Node Type": "Bitmap Heap Scan", "Relation Name": "sessions", "Plans": [
                    {"Node Type": "Bitmap Index Scan", "Index Name": "sessions_user"}
                ]},
                {"Node Type": "Bitmap Heap Scan", "Relation Name": "users", "Plans": [
                    {"Node Type": "Bitmap Index Scan", "Index Name": "users_demo"}
                ]}
            ]
        }}]);
        let scans = postgres_full_scans(&plan, &["users_demo".to_owned()].into());
        assert_eq!(scans.len(), 3, "{scans:?}");
        assert!(scans[0].starts_with("Seq Scan on cases"));
        assert!(scans[1].starts_with("Index Scan on tasks"));
        assert!(scans[2].starts_with("Bitmap Index Scan on sessions using sessions_user"));
    }
}
