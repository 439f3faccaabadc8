//! A database of realistic size for the plan tests, written as `INSERT … SELECT` over a
//! series of row numbers in either dialect.
//!
//! The proportions are those of a national system, not of a test: many organisations with
//! a few dozen cases each, workers who are users with one membership, most tasks closed,
//! most notices sent, few overdue reminders, JSON columns of a realistic width. PostgreSQL
//! chooses its plans by cost, so a database where every organisation holds a large share
//! of the cases, or where rows are a few bytes wide, would make full scans look cheap.

use std::collections::BTreeMap;

/// How many cases the database holds; everything else is sized from it.
const CASES: u32 = 10_000;
const EMPLOYERS: u32 = 500;
const HOSPITALS: u32 = 250;
const AGENCIES: u32 = 100;
const ORGANISATIONS: u32 = EMPLOYERS + HOSPITALS + AGENCIES;
/// Two per employer: workplace w belongs to employer w % EMPLOYERS.
const WORKPLACES: u32 = 2 * EMPLOYERS;
/// Users 0..CASES are the workers (user n has case n); the staff follow them.
const STAFF: u32 = 3000;
const USERS: u32 = CASES + STAFF;

/// The two SQL dialects the fill is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// One column of a table as the database describes it.
#[derive(Debug, Clone)]
pub struct ColumnInfo {
    pub name: String,
    /// The declared type, lower case (`blob`, `text`, `uuid`, `timestamp with time zone`…).
    pub data_type: String,
    pub nullable: bool,
    /// Filled by the database itself (an identity column): never written.
    pub generated: bool,
}

/// A value of a filled column, as an expression over the row number `n` (from 0). The
/// expressions name the sizes as `{C}` (cases), `{E}` (employers), `{H}` (hospitals), `{A}`
/// (agencies), `{O}` (organisations), `{W}` (workplaces), `{S}` (staff), `{U}` (users) and
/// the first number of each kind as `{HB}` (hospitals), `{AB}` (agencies), `{SB}` (staff).
#[derive(Debug, Clone, Copy)]
enum V {
    /// The id of entity `kind` number `expr`.
    Id(u32, &'static str),
    /// `Id` when `cond` holds, else NULL.
    IdIf(&'static str, u32, &'static str),
    /// A time `expr` minutes after 2024-01-01.
    Ts(&'static str),
    /// `Ts` when `cond` holds, else NULL.
    TsIf(&'static str, &'static str),
    /// A calendar date `expr` days after 2024-01-01.
    Date(&'static str),
    /// Text: a prefix and a number.
    Text(&'static str, &'static str),
    /// A JSON object of about this many bytes.
    Json(u32),
    /// An expression written the same in both dialects (literals, CASE, arithmetic).
    Sql(&'static str),
    Bool(&'static str),
    /// 32 bytes.
    Bytes,
    Null,
}

struct TableFill {
    table: &'static str,
    rows: u32,
    columns: &'static [(&'static str, V)],
}

// Entity kinds, the first eight hex digits of their ids.
const ORG: u32 = 1;
const WP: u32 = 2;
const USER: u32 = 3;
const CASE: u32 = 4;
const DOC: u32 = 5;
const EVENT: u32 = 6;
const TASK: u32 = 7;
const CONSENT: u32 = 8;
const DISCLOSURE: u32 = 9;
const NOTE: u32 = 10;
const ATTACHMENT: u32 = 11;
const NOTICE: u32 = 12;
const CORRECTION: u32 = 13;
const SUPPORT_TASK: u32 = 14;
const GUIDANCE: u32 = 15;
const MEMBERSHIP: u32 = 16;
const INVITATION: u32 = 17;
const STANDARDS: u32 = 18;
const OTHER: u32 = 99;

/// The rows: case n belongs to worker n at employer n % {E} (and its workplace n % {W}),
/// with hospital {HB} + n % {H} and agency {AB} + n % {A} as parties; staff user {SB} + s
/// belongs to organisation s % {O}.
fn plan() -> Vec<TableFill> {
    use V::*;
    vec![
        TableFill {
            table: "organisations",
            rows: ORGANISATIONS,
            columns: &[
                ("id", Id(ORG, "n")),
                (
                    "kind",
                    Sql("CASE WHEN n < {HB} THEN 'employer' WHEN n < {AB} \
                         THEN 'medical_institution' ELSE 'support_agency' END"),
                ),
                ("name", Text("org", "n")),
                ("prefecture", Sql("1 + n % 47")),
                ("agency_kind", Null),
                ("created_at", Ts("n")),
                ("version", Sql("1")),
            ],
        },
        TableFill {
            table: "workplaces",
            rows: WORKPLACES,
            columns: &[
                ("id", Id(WP, "n")),
                ("organisation_id", Id(ORG, "n % {E}")),
                ("name", Text("workplace", "n")),
                ("prefecture", Sql("1 + n % 47")),
                ("has_occupational_physician", Bool("n % 2 = 0")),
                ("created_at", Ts("n")),
            ],
        },
        TableFill {
            table: "users",
            rows: USERS,
            columns: &[
                ("id", Id(USER, "n")),
                ("login", Text("user", "n")),
                ("display_name", Text("name", "n")),
                ("email", Text("mail", "n")),
                (
                    "password_hash",
                    Sql("'$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g'"),
                ),
                ("active", Bool("n % 50 <> 0")),
                ("operator", Bool("n = {SB}")),
                ("demo", Bool("n < 3")),
                ("totp_secret", Null),
                ("totp_pending_secret", Null),
                ("totp_last_step", Null),
                ("created_at", Ts("n")),
                ("password_changed_at", Ts("n")),
                ("version", Sql("1")),
                ("name_reading", Text("よみ", "n")),
            ],
        },
        TableFill {
            table: "memberships",
            rows: USERS,
            columns: &[
                ("id", Id(MEMBERSHIP, "n")),
                ("user_id", Id(USER, "n")),
                (
                    "organisation_id",
                    Id(
                        ORG,
                        "CASE WHEN n < {SB} THEN n % {E} ELSE (n - {SB}) % {O} END",
                    ),
                ),
                (
                    "role",
                    Sql("CASE WHEN n < {SB} THEN 'worker' ELSE 'hr_officer' END"),
                ),
                ("detail", Sql("'{}'")),
                ("created_at", Ts("n")),
            ],
        },
        TableFill {
            table: "invitations",
            rows: USERS,
            columns: &[
                ("id", Id(INVITATION, "n")),
                ("organisation_id", Id(ORG, "n % {O}")),
                ("role", Sql("'worker'")),
                ("detail", Sql("'{}'")),
                ("token_hash", Text("token", "n")),
                ("invited_by", Id(USER, "{SB} + n % {S}")),
                ("note", Null),
                ("expires_at", Ts("n + 10080")),
                ("used_at", TsIf("n % 10 <> 0", "n + 60")),
                ("used_by", IdIf("n % 10 <> 0", USER, "n")),
                ("created_at", Ts("n")),
            ],
        },
        TableFill {
            table: "sessions",
            rows: 2 * USERS,
            columns: &[
                ("id_hash", Text("session", "n")),
                ("handle", Text("handle", "n")),
                ("user_id", Id(USER, "n % {U}")),
                ("created_at", Ts("n")),
                ("last_seen_at", Ts("n + 5")),
                ("pending_second_factor", Bool("n % 20 = 0")),
                ("csrf_token", Text("csrf", "n")),
                (
                    "user_agent",
                    Text("Mozilla/5.0 (Windows NT 10.0; Win64; x64) ", "n"),
                ),
                ("client_ip", Text("192.0.2.", "n % 250")),
            ],
        },
        TableFill {
            table: "recovery_codes",
            rows: 5 * STAFF,
            columns: &[
                ("user_id", Id(USER, "{SB} + n % {S}")),
                ("digest", Text("digest", "n")),
                ("used_at", TsIf("n % 7 = 0", "n")),
            ],
        },
        TableFill {
            table: "login_failures",
            rows: CASES,
            columns: &[("key", Text("key", "n % 2000")), ("at", Ts("n"))],
        },
        TableFill {
            table: "idempotency",
            rows: 2 * CASES,
            columns: &[
                ("scope", Text("user:", "n % {U}")),
                ("key", Text("key", "n")),
                ("fingerprint", Text("fingerprint", "n")),
                ("status", Sql("201")),
                ("body", Json(200)),
                ("created_at", Ts("n")),
            ],
        },
        TableFill {
            table: "handling_rules",
            rows: EMPLOYERS,
            columns: &[
                ("employer_id", Id(ORG, "n")),
                ("rules", Json(400)),
                ("updated_by", Id(USER, "{SB}")),
                ("updated_at", Ts("n")),
                ("version", Sql("1")),
            ],
        },
        TableFill {
            table: "cases",
            rows: CASES,
            columns: &[
                ("id", Id(CASE, "n")),
                ("worker_id", Id(USER, "n")),
                ("employer_id", Id(ORG, "n % {E}")),
                ("workplace_id", Id(WP, "n % {W}")),
                (
                    "path",
                    Sql("CASE n % 3 WHEN 0 THEN 'continue' WHEN 1 THEN 'leave' ELSE 'card' END"),
                ),
                (
                    "status",
                    Sql(
                        "CASE n % 6 WHEN 0 THEN 'requested' WHEN 1 THEN 'work_info_pending' \
                         WHEN 2 THEN 'opinion_pending' WHEN 3 THEN 'plan_pending' \
                         WHEN 4 THEN 'follow_up' ELSE 'closed' END",
                    ),
                ),
                ("state", Json(500)),
                ("created_at", Ts("n * 10")),
                ("updated_at", Ts("n * 10 + 5")),
                ("version", Sql("1 + n % 9")),
            ],
        },
        TableFill {
            table: "case_parties",
            rows: 3 * CASES,
            columns: &[
                ("case_id", Id(CASE, "n / 3")),
                (
                    "kind",
                    Sql(
                        "CASE n % 3 WHEN 0 THEN 'line_manager' WHEN 1 THEN 'hospital' \
                         ELSE 'coordinator' END",
                    ),
                ),
                (
                    "organisation_id",
                    Id(
                        ORG,
                        "CASE n % 3 WHEN 0 THEN (n / 3) % {E} WHEN 1 THEN {HB} + (n / 3) % {H} \
                         ELSE {AB} + (n / 3) % {A} END",
                    ),
                ),
                ("user_id", IdIf("n % 3 <> 1", USER, "{SB} + n % {S}")),
                ("added_by", Id(USER, "n / 3")),
                ("added_at", Ts("n")),
            ],
        },
        TableFill {
            table: "documents",
            rows: 2 * CASES,
            columns: &[
                ("id", Id(DOC, "n")),
                ("case_id", Id(CASE, "n / 2")),
                (
                    "form",
                    Sql("CASE n % 2 WHEN 0 THEN 'work_information' \
                         ELSE 'continuation_opinion' END"),
                ),
                (
                    "stage",
                    Sql("CASE WHEN n % 4 = 0 THEN 'draft' ELSE 'finalised' END"),
                ),
                ("revision", Sql("n % 3")),
                ("body", Json(1000)),
                ("created_by", Id(USER, "n / 2")),
                ("created_at", Ts("n")),
                ("updated_at", Ts("n + 1")),
                ("version", Sql("1")),
            ],
        },
        TableFill {
            table: "case_events",
            rows: 4 * CASES,
            columns: &[
                ("id", Id(EVENT, "n")),
                ("case_id", Id(CASE, "n / 4")),
                ("step", Json(150)),
                ("actor", Id(USER, "n / 4")),
                ("actor_role", Sql("'worker'")),
                ("from_status", Sql("'requested'")),
                ("to_status", Sql("'work_info_pending'")),
                ("at", Ts("n")),
            ],
        },
        TableFill {
            table: "tasks",
            rows: 3 * CASES,
            columns: &[
                ("id", Id(TASK, "n")),
                ("case_id", Id(CASE, "n / 3")),
                (
                    "kind",
                    Sql("CASE n % 3 WHEN 0 THEN 'draft_work_information' \
                         WHEN 1 THEN 'write_opinion' ELSE 'draft_plan' END"),
                ),
                ("assignee_role", Sql("'hr_officer'")),
                ("assignee_organisation", Id(ORG, "(n / 3) % {E}")),
                ("due", Date("(n / 10) % 730")),
                ("opened_at", Ts("n")),
                ("closed_at", TsIf("n % 5 <> 0", "n + 100")),
            ],
        },
        TableFill {
            table: "consents",
            rows: 2 * CASES,
            columns: &[
                ("id", Id(CONSENT, "n")),
                ("case_id", Id(CASE, "n / 2")),
                ("worker_id", Id(USER, "n / 2")),
                (
                    "recipient_organisation",
                    Id(
                        ORG,
                        "CASE n % 2 WHEN 0 THEN (n / 2) % {E} ELSE {HB} + (n / 2) % {H} END",
                    ),
                ),
                (
                    "recipient_role",
                    Sql("CASE n % 2 WHEN 0 THEN 'hr_officer' ELSE 'physician' END"),
                ),
                ("recipient_person", Null),
                ("categories", Sql("'[\"medical\",\"work\"]'")),
                ("purpose", Text("就業上の措置を検討するため ", "n")),
                ("granted_at", Ts("n")),
                ("expires_at", Null),
                ("withdrawn_at", TsIf("n % 9 = 0", "n + 10")),
                ("explanation_version", Sql("1")),
            ],
        },
        TableFill {
            table: "disclosures",
            rows: 2 * CASES,
            columns: &[
                ("id", Id(DISCLOSURE, "n")),
                ("case_id", Id(CASE, "n / 2")),
                ("worker_id", Id(USER, "n / 2")),
                ("from_organisation", Id(ORG, "{HB} + (n / 2) % {H}")),
                ("to_organisation", Id(ORG, "(n / 2) % {E}")),
                ("to_role", Sql("'hr_officer'")),
                ("categories", Sql("'[\"medical\"]'")),
                ("consent_id", Id(CONSENT, "n")),
                ("at", Ts("n")),
                ("what_kind", Sql("'continuation_opinion'")),
                ("what_id", Id(DOC, "n")),
            ],
        },
        TableFill {
            table: "share_codes",
            rows: CASES,
            columns: &[
                ("code_hash", Text("code", "n")),
                ("case_id", Id(CASE, "n")),
                ("worker_id", Id(USER, "n")),
                ("created_at", Ts("n")),
                ("expires_at", Ts("n + 1440")),
                ("used_at", TsIf("n % 2 = 0", "n + 30")),
                (
                    "used_by_organisation",
                    IdIf("n % 2 = 0", ORG, "{HB} + n % {H}"),
                ),
                ("used_by_user", Null),
            ],
        },
        TableFill {
            table: "consultation_notes",
            rows: CASES,
            columns: &[
                ("id", Id(NOTE, "n")),
                ("case_id", Id(CASE, "n")),
                ("author", Id(USER, "{SB} + n % {S}")),
                ("author_role", Sql("'agency_coordinator'")),
                ("organisation_id", Id(ORG, "{AB} + n % {A}")),
                ("body", Text("相談の記録 ", "n")),
                ("created_at", Ts("n")),
            ],
        },
        TableFill {
            table: "attachments",
            rows: CASES / 4,
            columns: &[
                ("id", Id(ATTACHMENT, "n")),
                ("case_id", Id(CASE, "n * 4")),
                ("form", Sql("'continuation_opinion'")),
                ("format", Sql("'pdf'")),
                ("file_name", Text("scan", "n")),
                ("size", Sql("32")),
                ("sha256", Text("sha", "n")),
                ("content", Bytes),
                ("uploaded_by", Id(USER, "n * 4")),
                ("uploaded_at", Ts("n")),
            ],
        },
        TableFill {
            table: "notice_outbox",
            rows: 2 * CASES,
            columns: &[
                ("id", Id(NOTICE, "n")),
                (
                    "kind",
                    Sql("CASE WHEN n % 10 = 0 THEN 'overdue' ELSE 'task_opened' END"),
                ),
                ("recipient", Id(USER, "{SB} + n % {S}")),
                ("address", Text("mail", "n")),
                ("subject", Text("両立支援のお知らせ ", "n")),
                ("body", Json(300)),
                ("case_id", Id(CASE, "n / 2")),
                ("task_id", Id(TASK, "n * 3 / 2")),
                ("created_at", Ts("n")),
                ("attempts", Sql("1")),
                ("next_attempt_at", TsIf("n % 50 = 0", "n + 5")),
                ("sent_at", TsIf("n % 50 <> 0", "n + 1")),
                ("last_error", Null),
            ],
        },
        TableFill {
            table: "correction_requests",
            rows: CASES / 4,
            columns: &[
                ("id", Id(CORRECTION, "n")),
                ("case_id", Id(CASE, "n * 4")),
                ("worker_id", Id(USER, "n * 4")),
                ("target_type", Sql("'other'")),
                ("target_document", Null),
                ("target_description", Text("勤務時間の記載 ", "n")),
                ("kind", Sql("'correct'")),
                ("what_is_wrong", Text("通院の頻度 ", "n")),
                ("should_say", Text("月に一度 ", "n")),
                ("responder", Sql("'employer'")),
                ("responder_organisation", Id(ORG, "(n * 4) % {E}")),
                ("filed_at", Ts("n")),
                ("due", Date("(n / 10) % 730")),
                (
                    "status",
                    Sql("CASE WHEN n % 10 = 0 THEN 'received' ELSE 'answered' END"),
                ),
                (
                    "decision",
                    Sql("CASE WHEN n % 10 = 0 THEN NULL ELSE 'corrected' END"),
                ),
                ("reason", Null),
                ("corrected_document", Null),
                ("answered_by", IdIf("n % 10 <> 0", USER, "{SB} + n % {S}")),
                ("answered_at", TsIf("n % 10 <> 0", "n + 60")),
                ("version", Sql("1")),
            ],
        },
        TableFill {
            table: "support_tasks",
            rows: 2 * CASES,
            columns: &[
                ("id", Id(SUPPORT_TASK, "n")),
                ("case_id", Id(CASE, "n / 2")),
                ("organisation_id", Id(ORG, "{AB} + (n / 2) % {A}")),
                ("created_by", Id(USER, "{SB} + n % {S}")),
                ("created_role", Sql("'agency_coordinator'")),
                ("title", Text("職場訪問の日程を決める ", "n")),
                ("due", Date("(n / 20) % 730")),
                ("note", Null),
                ("created_at", Ts("n")),
                ("done_at", TsIf("n % 4 <> 0", "n + 100")),
                ("done_by", IdIf("n % 4 <> 0", USER, "{SB} + n % {S}")),
                ("version", Sql("1")),
            ],
        },
        TableFill {
            table: "guidance_sessions",
            rows: CASES / 2,
            columns: &[
                ("id", Id(GUIDANCE, "n")),
                ("version", Sql("1")),
                ("case_id", Id(CASE, "n * 2")),
                ("institution_id", Id(ORG, "{HB} + (n * 2) % {H}")),
                ("patient_id", Id(USER, "n * 2")),
                ("physician_id", Id(USER, "{SB} + n % {S}")),
                ("session_date", Date("(n / 10) % 730")),
                ("details", Json(300)),
                ("cancel_reason", Null),
                ("recorded_by", Id(USER, "{SB} + n % {S}")),
                ("recorded_role", Sql("'physician'")),
                ("recorded_at", Ts("n")),
            ],
        },
        TableFill {
            table: "facility_standards",
            rows: HOSPITALS,
            columns: &[
                ("id", Id(STANDARDS, "n")),
                ("institution_id", Id(ORG, "{HB} + n")),
                ("effective_from", Date("0")),
                ("consultation_support", Bool("n % 2 = 0")),
                ("online", Bool("n % 3 = 0")),
                ("recorded_by", Id(USER, "{SB}")),
                ("recorded_at", Ts("n")),
            ],
        },
        TableFill {
            table: "search_rows",
            rows: 4 * CASES,
            columns: &[
                ("id", Sql("n + 1")),
                ("case_id", Id(CASE, "n / 4")),
                (
                    "source",
                    Sql("CASE n % 4 WHEN 0 THEN 'name' WHEN 1 THEN 'workplace' \
                         WHEN 2 THEN 'document' ELSE 'note' END"),
                ),
                (
                    "category",
                    Sql("CASE WHEN n % 4 < 2 THEN 'case' ELSE 'medical' END"),
                ),
                ("author", IdIf("n % 4 = 3", USER, "{SB} + n % {S}")),
                ("weight", Sql("1")),
                ("body", Text("やまだ はなこ りょうりつ しょうじ ", "n")),
            ],
        },
        TableFill {
            table: "case_grants",
            rows: 6 * CASES,
            columns: &[
                ("case_id", Id(CASE, "n / 6")),
                ("employer_id", Id(ORG, "(n / 6) % {E}")),
                (
                    "subject",
                    Sql("CASE n % 6 WHEN 0 THEN 'u:' || (n / 6) \
                         WHEN 1 THEN 'm:' || ((n / 6) % {E}) || ':hr_officer' \
                         WHEN 2 THEN 'm:' || ({HB} + (n / 6) % {H}) || ':physician' \
                         WHEN 3 THEN 'p:' || ({AB} + (n / 6) % {A}) || ':coordinator:' \
                         || ({SB} + n % {S}) \
                         WHEN 4 THEN 'm:' || ((n / 6) % {E}) || ':occupational_physician' \
                         ELSE 'p:' || ((n / 6) % {E}) || ':line_manager:' || ({SB} + n % {S}) \
                         END"),
                ),
                ("relation", Sql("'r' || (n % 6)")),
                ("relation_org", Null),
                ("role", Sql("'hr_officer'")),
                (
                    "scope",
                    Sql("CASE WHEN n % 2 = 0 THEN 'case' ELSE 'medical' END"),
                ),
                ("source", Sql("'relation'")),
                ("valid_from", Null),
                ("valid_until", Null),
                ("opened_at", Ts("(n / 6) * 10")),
                ("status", Sql("'requested'")),
            ],
        },
        TableFill {
            table: "audit_event",
            rows: AUDIT_RECORDS,
            columns: &[
                ("seq", Sql("n + 1")),
                ("at", Ts("n")),
                ("actor", Id(USER, "n % {U}")),
                ("actor_role", Sql("'worker'")),
                ("organisation", Id(ORG, "n % {O}")),
                ("action", Sql("'read'")),
                ("target", Text("case:", "n % {C}")),
                ("category", Null),
                ("case_id", IdIf("n % 10 <> 0", CASE, "n % {C}")),
                ("outcome", Sql("'success'")),
                ("purpose", Null),
                ("operation_id", Text("op-", "n")),
                ("client_ip", Text("192.0.2.", "n % 250")),
                ("prev_hash", Bytes),
                ("hash", Bytes),
            ],
        },
    ]
}

const AUDIT_RECORDS: u32 = 5 * CASES;

/// `expr` with the sizes put in for their names.
fn sized(expr: &str) -> String {
    [
        ("{HB}", EMPLOYERS),
        ("{AB}", EMPLOYERS + HOSPITALS),
        ("{SB}", CASES),
        ("{C}", CASES),
        ("{E}", EMPLOYERS),
        ("{H}", HOSPITALS),
        ("{A}", AGENCIES),
        ("{O}", ORGANISATIONS),
        ("{W}", WORKPLACES),
        ("{S}", STAFF),
        ("{U}", USERS),
    ]
    .iter()
    .fold(expr.to_owned(), |e, (name, value)| {
        e.replace(name, &value.to_string())
    })
}

fn id_expr(d: Dialect, kind: u32, expr: &str) -> String {
    let expr = sized(expr);
    match d {
        Dialect::Sqlite => format!("unhex(printf('%08x0000400080000000%08x', {kind}, ({expr})))"),
        Dialect::Postgres => format!(
            "(lpad(to_hex({kind}), 8, '0') || '-0000-4000-8000-0000' || \
             lpad(to_hex(({expr})::bigint), 8, '0'))::uuid"
        ),
    }
}

fn ts_expr(d: Dialect, minutes: &str) -> String {
    let minutes = sized(minutes);
    match d {
        // Microseconds since the epoch; 2024-01-01 00:00 UTC is 1704067200 s.
        Dialect::Sqlite => format!("(1704067200000000 + ({minutes}) * 60000000)"),
        Dialect::Postgres => {
            format!("(timestamptz '2024-01-01 00:00:00+00' + ({minutes}) * interval '1 minute')")
        }
    }
}

fn render(d: Dialect, v: V) -> String {
    match v {
        V::Id(kind, e) => id_expr(d, kind, e),
        V::IdIf(cond, kind, e) => format!(
            "CASE WHEN {} THEN {} ELSE NULL END",
            sized(cond),
            id_expr(d, kind, e)
        ),
        V::Ts(e) => ts_expr(d, e),
        V::TsIf(cond, e) => format!(
            "CASE WHEN {} THEN {} ELSE NULL END",
            sized(cond),
            ts_expr(d, e)
        ),
        V::Date(e) => match d {
            Dialect::Sqlite => format!("date('2024-01-01', '+' || ({}) || ' days')", sized(e)),
            Dialect::Postgres => format!("(date '2024-01-01' + ({})::int)", sized(e)),
        },
        V::Text(prefix, e) => match d {
            Dialect::Sqlite => format!("('{prefix}' || ({}))", sized(e)),
            Dialect::Postgres => format!("('{prefix}' || ({})::text)", sized(e)),
        },
        V::Json(bytes) => match d {
            Dialect::Sqlite => format!("('{{\"text\":\"' || printf('%.{bytes}c', 'x') || '\"}}')"),
            Dialect::Postgres => format!("('{{\"text\":\"' || repeat('x', {bytes}) || '\"}}')"),
        },
        V::Sql(e) => format!("({})", sized(e)),
        V::Bool(e) => match d {
            Dialect::Sqlite => format!("(CASE WHEN {} THEN 1 ELSE 0 END)", sized(e)),
            Dialect::Postgres => format!("({})", sized(e)),
        },
        V::Bytes => match d {
            Dialect::Sqlite => "zeroblob(32)".into(),
            Dialect::Postgres => "decode(repeat('00', 32), 'hex')".into(),
        },
        V::Null => "NULL".into(),
    }
}

/// A value for a NOT NULL column the plan does not know (added by a later migration), by
/// its type.
fn fallback(d: Dialect, c: &ColumnInfo) -> String {
    let t = c.data_type.as_str();
    let v = if t.contains("uuid") || t.contains("blob") {
        V::Id(OTHER, "n")
    } else if t.contains("timestamp") {
        V::Ts("n")
    } else if t == "date" {
        V::Date("n % 365")
    } else if t.contains("bool") {
        V::Bool("n % 2 = 0")
    } else if t.contains("bytea") {
        V::Bytes
    } else if t.contains("int") || t.contains("numeric") || t.contains("real") {
        V::Sql("n % 30000")
    } else if t.contains("tsvector") {
        return "to_tsvector('simple', 'word' || n::text)".into();
    } else if t.contains("json") {
        V::Json(100)
    } else {
        V::Text("x", "n")
    };
    render(d, v)
}

/// The statements that fill a freshly migrated, empty database to the plan tests' size, in
/// dependency order. `columns` describes each table as the database has it (a missing
/// table is skipped, columns the plan does not know get a value by type, columns it knows
/// that the table no longer has are left out), so that later migrations do not break the
/// fill. Run them with foreign keys and triggers off, then analyse the database.
pub fn fill_statements(
    dialect: Dialect,
    columns: &BTreeMap<String, Vec<ColumnInfo>>,
) -> Vec<String> {
    let mut out = Vec::new();
    for t in plan() {
        let Some(cols) = columns.get(t.table) else {
            continue;
        };
        let mut names = Vec::new();
        let mut values = Vec::new();
        for c in cols {
            if c.generated {
                continue;
            }
            let known = t.columns.iter().find(|(name, _)| *name == c.name);
            let value = match known {
                Some((_, v)) => render(dialect, *v),
                None if c.nullable => continue,
                None => fallback(dialect, c),
            };
            names.push(c.name.clone());
            values.push(value);
        }
        let (names, values) = (names.join(", "), values.join(", "));
        let last = t.rows.saturating_sub(1);
        out.push(match dialect {
            Dialect::Sqlite => format!(
                "WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < {last}) \
                 INSERT INTO {} ({names}) SELECT {values} FROM s",
                t.table
            ),
            Dialect::Postgres => format!(
                "INSERT INTO {} ({names}) SELECT {values} FROM generate_series(0, {last}) AS s(n)",
                t.table
            ),
        });
    }
    out.push(format!(
        "UPDATE audit_head SET seq = {AUDIT_RECORDS} WHERE id = 1"
    ));
    out
}

/// The tables [`fill_statements`] fills, to describe before calling it.
pub fn filled_tables() -> Vec<&'static str> {
    plan().iter().map(|t| t.table).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fill_adapts_to_the_schema() {
        let col = |name: &str, t: &str, nullable: bool| ColumnInfo {
            name: name.into(),
            data_type: t.into(),
            nullable,
            generated: false,
        };
        let mut columns = BTreeMap::new();
        columns.insert(
            "login_failures".to_owned(),
            vec![
                col("key", "text", false),
                col("at", "integer", false),
                col("added_later", "text", false),
                col("optional_later", "text", true),
            ],
        );
        let sql = fill_statements(Dialect::Sqlite, &columns);
        assert_eq!(sql.len(), 2, "one table and the audit head: {sql:?}");
        assert!(sql[0].contains("INSERT INTO login_failures (key, at, added_later)"));
        assert!(!sql[0].contains("optional_later"));
        assert!(!sql[0].contains('{'), "every size put in: {}", sql[0]);
    }

    #[test]
    fn sizes_are_put_in() {
        assert_eq!(sized("{SB} + n % {S}"), "10000 + n % 3000");
        assert_eq!(sized("{HB} + n % {H}"), "500 + n % 250");
    }
}
