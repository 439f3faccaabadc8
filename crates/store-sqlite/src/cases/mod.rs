//! The SQL for support cases, written once over a connection and exposed through the app's
//! case ports on the transaction, the read connection and the snapshot alike.
//!
//! Domain values whose shape is the domain's business (the case state, document bodies,
//! steps, the rules, category sets) are stored as JSON text; the columns beside them repeat
//! what lists filter on and are always written from the same value.

pub(crate) mod attachments;
pub(crate) mod corrections;
pub(crate) mod notices;
pub(crate) mod support_tasks;

use crate::db::Row;
use crate::db::{self, Conn};
use ryoritsu_app::cases::ports::{
    CaseEventRecord, CaseFilter, CasePartyRecord, CaseRecord, ConsultationNoteRecord, DocumentBody,
    DocumentRecord, HandlingRulesRecord, PartyKind, ShareCodeRecord, TaskFilter, TaskRecord,
};
use ryoritsu_app::error::{StoreError, StoreResult};
use ryoritsu_domain::case::{CaseStatus, TaskKind};
use ryoritsu_domain::consent::{Consent, DisclosedDocument, DisclosureRecord, Recipient};
use ryoritsu_domain::forms::FormKind;
use ryoritsu_domain::org::Role;
use ryoritsu_domain::time_format::unix_micros;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::map_err;
use crate::rows::{code, corrupt, get, ots, ts};

/// Calendar dates as ISO text, the same form as their JSON.
const DATE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// Reads a JSON column into the type the context expects. (Macros rather than generic
/// functions, so this crate needs no direct dependency on serde for the trait bounds.)
macro_rules! json {
    ($row:expr, $col:literal) => {
        serde_json::from_str(&get::<String>($row, $col)?).map_err(|_| corrupt($col))
    };
}

/// Writes a value as JSON text for a column.
macro_rules! to_json {
    ($value:expr, $what:literal) => {
        serde_json::to_string($value)
            .map_err(|e| StoreError::Other(format!("cannot write {} as JSON: {e}", $what)))
    };
}

fn date_text(d: Date) -> StoreResult<String> {
    d.format(DATE)
        .map_err(|e| StoreError::Other(format!("cannot write date {d}: {e}")))
}

fn date(row: &Row, col: &str) -> StoreResult<Date> {
    Date::parse(&get::<String>(row, col)?, DATE).map_err(|_| corrupt(col))
}

fn all<T>(rows: Vec<Row>, f: fn(&Row) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    rows.iter().map(f).collect()
}

fn case(r: &Row) -> StoreResult<CaseRecord> {
    Ok(CaseRecord {
        id: get(r, "id")?,
        worker_id: get(r, "worker_id")?,
        employer_id: get(r, "employer_id")?,
        workplace_id: get(r, "workplace_id")?,
        state: json!(r, "state")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        version: get(r, "version")?,
    })
}

fn party(r: &Row) -> StoreResult<CasePartyRecord> {
    Ok(CasePartyRecord {
        case_id: get(r, "case_id")?,
        kind: code(r, "kind", PartyKind::from_code)?,
        organisation_id: get(r, "organisation_id")?,
        user_id: get(r, "user_id")?,
        added_by: get(r, "added_by")?,
        added_at: ts(r, "added_at")?,
    })
}

fn stage(body: &DocumentBody) -> &'static str {
    match body {
        DocumentBody::Draft(_) => "draft",
        DocumentBody::Finalised(_) => "finalised",
    }
}

fn revision(body: &DocumentBody) -> i64 {
    i64::from(match body {
        DocumentBody::Draft(d) => d.revision,
        DocumentBody::Finalised(f) => f.revision(),
    })
}

fn document(r: &Row) -> StoreResult<DocumentRecord> {
    // A finalised body re-validates against its form's schema as it loads.
    let body: DocumentBody = json!(r, "body")?;
    if stage(&body) != get::<String>(r, "stage")? {
        return Err(corrupt("stage"));
    }
    Ok(DocumentRecord {
        id: get(r, "id")?,
        case_id: get(r, "case_id")?,
        form: code(r, "form", FormKind::from_code)?,
        body,
        created_by: get(r, "created_by")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        version: get(r, "version")?,
        withheld: Vec::new(),
    })
}

fn event(r: &Row) -> StoreResult<CaseEventRecord> {
    Ok(CaseEventRecord {
        id: get(r, "id")?,
        case_id: get(r, "case_id")?,
        step: json!(r, "step")?,
        actor: get(r, "actor")?,
        actor_role: code(r, "actor_role", Role::from_code)?,
        from_status: code(r, "from_status", CaseStatus::from_code)?,
        to_status: code(r, "to_status", CaseStatus::from_code)?,
        at: ts(r, "at")?,
    })
}

pub(crate) fn task(r: &Row) -> StoreResult<TaskRecord> {
    Ok(TaskRecord {
        id: get(r, "id")?,
        case_id: get(r, "case_id")?,
        kind: code(r, "kind", TaskKind::from_code)?,
        assignee_role: code(r, "assignee_role", Role::from_code)?,
        assignee_organisation: get(r, "assignee_organisation")?,
        due: date(r, "due")?,
        opened_at: ts(r, "opened_at")?,
        closed_at: ots(r, "closed_at")?,
    })
}

fn consent(r: &Row) -> StoreResult<Consent> {
    Ok(Consent {
        id: get(r, "id")?,
        worker: get(r, "worker_id")?,
        case: get(r, "case_id")?,
        recipient: Recipient {
            organisation: get(r, "recipient_organisation")?,
            role: code(r, "recipient_role", Role::from_code)?,
            person: get(r, "recipient_person")?,
        },
        categories: json!(r, "categories")?,
        purpose: get(r, "purpose")?,
        granted_at: ts(r, "granted_at")?,
        expires_at: ots(r, "expires_at")?,
        withdrawn_at: ots(r, "withdrawn_at")?,
        explanation_version: u32::try_from(get::<i64>(r, "explanation_version")?)
            .map_err(|_| corrupt("explanation_version"))?,
    })
}

fn disclosure(r: &Row) -> StoreResult<DisclosureRecord> {
    Ok(DisclosureRecord {
        id: get(r, "id")?,
        case: get(r, "case_id")?,
        worker: get(r, "worker_id")?,
        from_organisation: get(r, "from_organisation")?,
        to_organisation: get(r, "to_organisation")?,
        to_role: code(r, "to_role", Role::from_code)?,
        categories: json!(r, "categories")?,
        consent: get(r, "consent_id")?,
        at: ts(r, "at")?,
        what: DisclosedDocument {
            kind: get(r, "what_kind")?,
            id: get(r, "what_id")?,
        },
    })
}

fn handling_rules(r: &Row) -> StoreResult<HandlingRulesRecord> {
    let rec = HandlingRulesRecord {
        rules: json!(r, "rules")?,
        updated_by: get(r, "updated_by")?,
        updated_at: ts(r, "updated_at")?,
        version: get(r, "version")?,
    };
    if rec.rules.employer != get::<Uuid>(r, "employer_id")? {
        return Err(corrupt("rules"));
    }
    Ok(rec)
}

// ---- reads ----------------------------------------------------------------------------

pub async fn get_case(c: &mut Conn, id: Uuid) -> StoreResult<Option<CaseRecord>> {
    db::query("SELECT * FROM cases WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(case)
        .transpose()
}

pub async fn list_cases(c: &mut Conn, filter: CaseFilter) -> StoreResult<Vec<CaseRecord>> {
    let query = match filter {
        CaseFilter::Worker(worker) => db::query(
            "SELECT * FROM cases WHERE worker_id = $1 \
             ORDER BY created_at DESC, id",
        )
        .bind(worker),
        CaseFilter::Employer(employer) => db::query(
            "SELECT * FROM cases WHERE employer_id = $1 \
             ORDER BY created_at DESC, id",
        )
        .bind(employer),
        CaseFilter::PartyOrganisation(organisation) => db::query(
            "SELECT * FROM cases WHERE id IN \
             (SELECT case_id FROM case_parties WHERE organisation_id = $1) \
             ORDER BY created_at DESC, id",
        )
        .bind(organisation),
    };
    let rows = query.fetch_all(c).await.map_err(map_err)?;
    all(rows, case)
}

pub async fn list_all_cases(c: &mut Conn) -> StoreResult<Vec<CaseRecord>> {
    let rows = db::query(
        "/* full scan: maintenance */ SELECT * FROM cases \
         ORDER BY created_at DESC, id",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, case)
}

pub async fn list_case_parties(c: &mut Conn, case_id: Uuid) -> StoreResult<Vec<CasePartyRecord>> {
    let rows = db::query(
        "SELECT * FROM case_parties WHERE case_id = $1 \
         ORDER BY added_at, case_id, kind, organisation_id, user_id",
    )
    .bind(case_id)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, party)
}

pub async fn list_all_case_parties(c: &mut Conn) -> StoreResult<Vec<CasePartyRecord>> {
    let rows = db::query(
        "/* full scan: backup */ SELECT * FROM case_parties \
         ORDER BY added_at, case_id, kind, organisation_id, user_id",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, party)
}

pub async fn get_document(c: &mut Conn, id: Uuid) -> StoreResult<Option<DocumentRecord>> {
    db::query("SELECT * FROM documents WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(document)
        .transpose()
}

pub async fn list_documents(c: &mut Conn, case_id: Uuid) -> StoreResult<Vec<DocumentRecord>> {
    let rows = db::query(
        "SELECT * FROM documents WHERE case_id = $1 \
         ORDER BY created_at, id",
    )
    .bind(case_id)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, document)
}

pub async fn paper_original_forms(c: &mut Conn, case_id: Uuid) -> StoreResult<Vec<FormKind>> {
    let rows = db::query(
        "SELECT DISTINCT form FROM documents WHERE case_id = $1 AND stage = 'finalised' \
         AND json_extract(body, '$.document.transcribed_from') IS NOT NULL",
    )
    .bind(case_id)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    rows.iter()
        .map(|r| code(r, "form", FormKind::from_code))
        .collect()
}

pub async fn list_all_documents(c: &mut Conn) -> StoreResult<Vec<DocumentRecord>> {
    let rows = db::query(
        "/* full scan: backup */ SELECT * FROM documents \
         ORDER BY created_at, id",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, document)
}

pub async fn list_case_events(c: &mut Conn, case_id: Uuid) -> StoreResult<Vec<CaseEventRecord>> {
    let rows = db::query(
        "SELECT * FROM case_events WHERE case_id = $1 \
         ORDER BY at, id",
    )
    .bind(case_id)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, event)
}

pub async fn list_all_case_events(c: &mut Conn) -> StoreResult<Vec<CaseEventRecord>> {
    let rows = db::query(
        "/* full scan: backup */ SELECT * FROM case_events \
         ORDER BY at, id",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, event)
}

pub async fn list_tasks(c: &mut Conn, filter: TaskFilter) -> StoreResult<Vec<TaskRecord>> {
    let query = match filter.open_only {
        true => db::query(
            "SELECT * FROM tasks WHERE case_id = $1 AND closed_at IS NULL \
             ORDER BY opened_at, id",
        )
        .bind(filter.case),
        false => db::query(
            "SELECT * FROM tasks WHERE case_id = $1 \
             ORDER BY opened_at, id",
        )
        .bind(filter.case),
    };
    let rows = query.fetch_all(c).await.map_err(map_err)?;
    all(rows, task)
}

pub async fn list_all_tasks(c: &mut Conn) -> StoreResult<Vec<TaskRecord>> {
    let rows = db::query(
        "/* full scan: backup */ SELECT * FROM tasks \
         ORDER BY opened_at, id",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, task)
}

pub async fn list_consents(c: &mut Conn, case_id: Uuid) -> StoreResult<Vec<Consent>> {
    let rows = db::query(
        "SELECT * FROM consents WHERE case_id = $1 \
         ORDER BY granted_at, id",
    )
    .bind(case_id)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, consent)
}

pub async fn list_consents_of_worker(c: &mut Conn, worker: Uuid) -> StoreResult<Vec<Consent>> {
    let rows = db::query(
        "SELECT * FROM consents WHERE worker_id = $1 \
         ORDER BY granted_at, id",
    )
    .bind(worker)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, consent)
}

pub async fn list_all_consents(c: &mut Conn) -> StoreResult<Vec<Consent>> {
    let rows = db::query(
        "/* full scan: backup */ SELECT * FROM consents \
         ORDER BY granted_at, id",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, consent)
}

pub async fn list_disclosures(c: &mut Conn, case_id: Uuid) -> StoreResult<Vec<DisclosureRecord>> {
    let rows = db::query(
        "SELECT * FROM disclosures WHERE case_id = $1 \
         ORDER BY at, id",
    )
    .bind(case_id)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, disclosure)
}

pub async fn list_disclosures_of_worker(
    c: &mut Conn,
    worker: Uuid,
) -> StoreResult<Vec<DisclosureRecord>> {
    let rows = db::query(
        "SELECT * FROM disclosures WHERE worker_id = $1 \
         ORDER BY at, id",
    )
    .bind(worker)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, disclosure)
}

pub async fn list_all_disclosures(c: &mut Conn) -> StoreResult<Vec<DisclosureRecord>> {
    let rows = db::query(
        "/* full scan: backup */ SELECT * FROM disclosures \
         ORDER BY at, id",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, disclosure)
}

pub async fn get_handling_rules(
    c: &mut Conn,
    employer: Uuid,
) -> StoreResult<Option<HandlingRulesRecord>> {
    db::query("SELECT * FROM handling_rules WHERE employer_id = $1")
        .bind(employer)
        .fetch_optional(c)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(handling_rules)
        .transpose()
}

pub async fn list_handling_rules(c: &mut Conn) -> StoreResult<Vec<HandlingRulesRecord>> {
    let rows = db::query("SELECT * FROM handling_rules ORDER BY employer_id")
        .fetch_all(c)
        .await
        .map_err(map_err)?;
    all(rows, handling_rules)
}

// ---- writes ---------------------------------------------------------------------------

pub async fn insert_case(c: &mut Conn, r: &CaseRecord) -> StoreResult<()> {
    db::query(
        "INSERT INTO cases (id, worker_id, employer_id, workplace_id, path, status, state, \
         created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(r.id)
    .bind(r.worker_id)
    .bind(r.employer_id)
    .bind(r.workplace_id)
    .bind(r.state.path.code())
    .bind(r.state.status.code())
    .bind(to_json!(&r.state, "case state")?)
    .bind(unix_micros(r.created_at))
    .bind(unix_micros(r.updated_at))
    .bind(r.version)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn update_case(c: &mut Conn, r: &CaseRecord) -> StoreResult<bool> {
    let n = db::query(
        "UPDATE cases SET path = $1, status = $2, state = $3, updated_at = $4, version = $5 \
         WHERE id = $6 AND version = $5 - 1",
    )
    .bind(r.state.path.code())
    .bind(r.state.status.code())
    .bind(to_json!(&r.state, "case state")?)
    .bind(unix_micros(r.updated_at))
    .bind(r.version)
    .bind(r.id)
    .execute(c)
    .await
    .map_err(map_err)?
    .rows_affected();
    Ok(n == 1)
}

pub async fn insert_case_party(c: &mut Conn, p: &CasePartyRecord) -> StoreResult<()> {
    db::query(
        "INSERT INTO case_parties (case_id, kind, organisation_id, user_id, added_by, added_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(p.case_id)
    .bind(p.kind.code())
    .bind(p.organisation_id)
    .bind(p.user_id)
    .bind(p.added_by)
    .bind(unix_micros(p.added_at))
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn insert_document(c: &mut Conn, d: &DocumentRecord) -> StoreResult<()> {
    db::query(
        "INSERT INTO documents (id, case_id, form, stage, revision, body, created_by, \
         created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(d.id)
    .bind(d.case_id)
    .bind(d.form.code())
    .bind(stage(&d.body))
    .bind(revision(&d.body))
    .bind(to_json!(&d.body, "document")?)
    .bind(d.created_by)
    .bind(unix_micros(d.created_at))
    .bind(unix_micros(d.updated_at))
    .bind(d.version)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn update_document(c: &mut Conn, d: &DocumentRecord) -> StoreResult<bool> {
    // `stage = 'draft'` in the condition: a finalised document never changes.
    let n = db::query(
        "UPDATE documents SET stage = $1, revision = $2, body = $3, updated_at = $4, \
         version = $5 WHERE id = $6 AND version = $5 - 1 AND stage = 'draft'",
    )
    .bind(stage(&d.body))
    .bind(revision(&d.body))
    .bind(to_json!(&d.body, "document")?)
    .bind(unix_micros(d.updated_at))
    .bind(d.version)
    .bind(d.id)
    .execute(c)
    .await
    .map_err(map_err)?
    .rows_affected();
    Ok(n == 1)
}

pub async fn insert_case_event(c: &mut Conn, e: &CaseEventRecord) -> StoreResult<()> {
    db::query(
        "INSERT INTO case_events (id, case_id, step, actor, actor_role, from_status, to_status, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.id)
    .bind(e.case_id)
    .bind(to_json!(&e.step, "step")?)
    .bind(e.actor)
    .bind(e.actor_role.code())
    .bind(e.from_status.code())
    .bind(e.to_status.code())
    .bind(unix_micros(e.at))
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn insert_task(c: &mut Conn, t: &TaskRecord) -> StoreResult<()> {
    db::query(
        "INSERT INTO tasks (id, case_id, kind, assignee_role, assignee_organisation, due, \
         opened_at, closed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(t.id)
    .bind(t.case_id)
    .bind(t.kind.code())
    .bind(t.assignee_role.code())
    .bind(t.assignee_organisation)
    .bind(date_text(t.due)?)
    .bind(unix_micros(t.opened_at))
    .bind(t.closed_at.map(unix_micros))
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn close_tasks(
    c: &mut Conn,
    case_id: Uuid,
    kinds: &[TaskKind],
    at: OffsetDateTime,
) -> StoreResult<u64> {
    if kinds.is_empty() {
        return Ok(0);
    }
    // The kinds go in as one JSON array, so the statement stays a literal.
    let codes: Vec<&str> = kinds.iter().map(|k| k.code()).collect();
    let n = db::query(
        "UPDATE tasks SET closed_at = $1 WHERE case_id = $2 AND closed_at IS NULL \
         AND kind IN (SELECT value FROM json_each($3))",
    )
    .bind(unix_micros(at))
    .bind(case_id)
    .bind(to_json!(&codes, "task kinds")?)
    .execute(c)
    .await
    .map_err(map_err)?
    .rows_affected();
    Ok(n)
}

pub async fn insert_consent(c: &mut Conn, r: &Consent) -> StoreResult<()> {
    db::query(
        "INSERT INTO consents (id, case_id, worker_id, recipient_organisation, recipient_role, \
         recipient_person, categories, purpose, granted_at, expires_at, withdrawn_at, \
         explanation_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(r.id)
    .bind(r.case)
    .bind(r.worker)
    .bind(r.recipient.organisation)
    .bind(r.recipient.role.code())
    .bind(r.recipient.person)
    .bind(to_json!(&r.categories, "categories")?)
    .bind(&r.purpose)
    .bind(unix_micros(r.granted_at))
    .bind(r.expires_at.map(unix_micros))
    .bind(r.withdrawn_at.map(unix_micros))
    .bind(i64::from(r.explanation_version))
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn withdraw_consent(c: &mut Conn, id: Uuid, at: OffsetDateTime) -> StoreResult<bool> {
    let n =
        db::query("UPDATE consents SET withdrawn_at = $1 WHERE id = $2 AND withdrawn_at IS NULL")
            .bind(unix_micros(at))
            .bind(id)
            .execute(c)
            .await
            .map_err(map_err)?
            .rows_affected();
    Ok(n == 1)
}

pub async fn insert_disclosure(c: &mut Conn, d: &DisclosureRecord) -> StoreResult<()> {
    db::query(
        "INSERT INTO disclosures (id, case_id, worker_id, from_organisation, to_organisation, \
         to_role, categories, consent_id, at, what_kind, what_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(d.id)
    .bind(d.case)
    .bind(d.worker)
    .bind(d.from_organisation)
    .bind(d.to_organisation)
    .bind(d.to_role.code())
    .bind(to_json!(&d.categories, "categories")?)
    .bind(d.consent)
    .bind(unix_micros(d.at))
    .bind(&d.what.kind)
    .bind(d.what.id)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn put_handling_rules(c: &mut Conn, r: &HandlingRulesRecord) -> StoreResult<bool> {
    let rules = to_json!(&r.rules, "handling rules")?;
    // No row yet: insert, keeping the given version (a restore is exact). A row: replace it
    // only when it is the version before this one; otherwise another write came first.
    let n = db::query(
        "INSERT INTO handling_rules (employer_id, rules, updated_by, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (employer_id) DO UPDATE SET \
         rules = excluded.rules, updated_by = excluded.updated_by, \
         updated_at = excluded.updated_at, version = excluded.version \
         WHERE handling_rules.version = excluded.version - 1",
    )
    .bind(r.rules.employer)
    .bind(rules)
    .bind(r.updated_by)
    .bind(unix_micros(r.updated_at))
    .bind(r.version)
    .execute(c)
    .await
    .map_err(map_err)?
    .rows_affected();
    Ok(n == 1)
}

// ---- share codes ----------------------------------------------------------------------

fn share_code(r: &Row) -> StoreResult<ShareCodeRecord> {
    Ok(ShareCodeRecord {
        code_hash: get(r, "code_hash")?,
        case_id: get(r, "case_id")?,
        worker_id: get(r, "worker_id")?,
        created_at: ts(r, "created_at")?,
        expires_at: ts(r, "expires_at")?,
        used_at: ots(r, "used_at")?,
        used_by_organisation: get(r, "used_by_organisation")?,
        used_by_user: get(r, "used_by_user")?,
    })
}

pub async fn find_share_code(
    c: &mut Conn,
    code_hash: &str,
) -> StoreResult<Option<ShareCodeRecord>> {
    db::query("SELECT * FROM share_codes WHERE code_hash = $1")
        .bind(code_hash)
        .fetch_optional(c)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(share_code)
        .transpose()
}

pub async fn list_share_codes(c: &mut Conn, case: Uuid) -> StoreResult<Vec<ShareCodeRecord>> {
    let rows = db::query(
        "SELECT * FROM share_codes WHERE case_id = $1 \
         ORDER BY created_at, code_hash",
    )
    .bind(case)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, share_code)
}

pub async fn list_all_share_codes(c: &mut Conn) -> StoreResult<Vec<ShareCodeRecord>> {
    let rows = db::query(
        "/* full scan: backup */ SELECT * FROM share_codes \
         ORDER BY created_at, code_hash",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, share_code)
}

pub async fn insert_share_code(c: &mut Conn, s: &ShareCodeRecord) -> StoreResult<()> {
    db::query(
        "INSERT INTO share_codes (code_hash, case_id, worker_id, created_at, expires_at, used_at, \
         used_by_organisation, used_by_user) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&s.code_hash)
    .bind(s.case_id)
    .bind(s.worker_id)
    .bind(unix_micros(s.created_at))
    .bind(unix_micros(s.expires_at))
    .bind(s.used_at.map(unix_micros))
    .bind(s.used_by_organisation)
    .bind(s.used_by_user)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn use_share_code(
    c: &mut Conn,
    code_hash: &str,
    organisation: Uuid,
    user: Uuid,
    at: OffsetDateTime,
) -> StoreResult<bool> {
    let r = db::query(
        "UPDATE share_codes SET used_at = $1, used_by_organisation = $2, used_by_user = $3 \
         WHERE code_hash = $4 AND used_at IS NULL",
    )
    .bind(unix_micros(at))
    .bind(organisation)
    .bind(user)
    .bind(code_hash)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(r.rows_affected() == 1)
}

// ---- consultation notes ---------------------------------------------------------------

fn consultation_note(r: &Row) -> StoreResult<ConsultationNoteRecord> {
    Ok(ConsultationNoteRecord {
        id: get(r, "id")?,
        case_id: get(r, "case_id")?,
        author: get(r, "author")?,
        author_role: code(r, "author_role", Role::from_code)?,
        organisation_id: get(r, "organisation_id")?,
        body: get(r, "body")?,
        created_at: ts(r, "created_at")?,
    })
}

pub async fn list_consultation_notes(
    c: &mut Conn,
    case: Uuid,
) -> StoreResult<Vec<ConsultationNoteRecord>> {
    let rows = db::query(
        "SELECT * FROM consultation_notes WHERE case_id = $1 \
         ORDER BY created_at, id",
    )
    .bind(case)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, consultation_note)
}

pub async fn list_all_consultation_notes(c: &mut Conn) -> StoreResult<Vec<ConsultationNoteRecord>> {
    let rows = db::query(
        "/* full scan: backup */ SELECT * FROM consultation_notes \
         ORDER BY created_at, id",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, consultation_note)
}

pub async fn insert_consultation_note(c: &mut Conn, n: &ConsultationNoteRecord) -> StoreResult<()> {
    db::query(
        "INSERT INTO consultation_notes (id, case_id, author, author_role, organisation_id, \
         body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(n.id)
    .bind(n.case_id)
    .bind(n.author)
    .bind(n.author_role.code())
    .bind(n.organisation_id)
    .bind(&n.body)
    .bind(unix_micros(n.created_at))
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

macro_rules! impl_case_reads {
    ($t:ty) => {
        impl ryoritsu_app::cases::ports::CaseReads for $t {
            async fn get_case(
                &mut self,
                id: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Option<ryoritsu_app::cases::ports::CaseRecord>> {
                $crate::cases::get_case($crate::rows::AsConn::conn(self), id).await
            }
            async fn list_cases(
                &mut self,
                filter: ryoritsu_app::cases::ports::CaseFilter,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::cases::ports::CaseRecord>> {
                $crate::cases::list_cases($crate::rows::AsConn::conn(self), filter).await
            }
            async fn list_all_cases(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::cases::ports::CaseRecord>> {
                $crate::cases::list_all_cases($crate::rows::AsConn::conn(self)).await
            }
            async fn list_case_parties(
                &mut self,
                case: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::cases::ports::CasePartyRecord>> {
                $crate::cases::list_case_parties($crate::rows::AsConn::conn(self), case).await
            }
            async fn list_all_case_parties(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::cases::ports::CasePartyRecord>> {
                $crate::cases::list_all_case_parties($crate::rows::AsConn::conn(self)).await
            }
            async fn get_document(
                &mut self,
                id: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Option<ryoritsu_app::cases::ports::DocumentRecord>> {
                $crate::cases::get_document($crate::rows::AsConn::conn(self), id).await
            }
            async fn list_documents(
                &mut self,
                case: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::cases::ports::DocumentRecord>> {
                $crate::cases::list_documents($crate::rows::AsConn::conn(self), case).await
            }
            async fn paper_original_forms(
                &mut self,
                case: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_domain::forms::FormKind>> {
                $crate::cases::paper_original_forms($crate::rows::AsConn::conn(self), case).await
            }
            async fn list_all_documents(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::cases::ports::DocumentRecord>> {
                $crate::cases::list_all_documents($crate::rows::AsConn::conn(self)).await
            }
            async fn list_case_events(
                &mut self,
                case: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::cases::ports::CaseEventRecord>> {
                $crate::cases::list_case_events($crate::rows::AsConn::conn(self), case).await
            }
            async fn list_all_case_events(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::cases::ports::CaseEventRecord>> {
                $crate::cases::list_all_case_events($crate::rows::AsConn::conn(self)).await
            }
            async fn list_tasks(
                &mut self,
                filter: ryoritsu_app::cases::ports::TaskFilter,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::cases::ports::TaskRecord>> {
                $crate::cases::list_tasks($crate::rows::AsConn::conn(self), filter).await
            }
            async fn list_all_tasks(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::cases::ports::TaskRecord>> {
                $crate::cases::list_all_tasks($crate::rows::AsConn::conn(self)).await
            }
            async fn list_consents(
                &mut self,
                case: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_domain::consent::Consent>> {
                $crate::cases::list_consents($crate::rows::AsConn::conn(self), case).await
            }
            async fn list_consents_of_worker(
                &mut self,
                worker: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_domain::consent::Consent>> {
                $crate::cases::list_consents_of_worker($crate::rows::AsConn::conn(self), worker)
                    .await
            }
            async fn list_all_consents(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_domain::consent::Consent>> {
                $crate::cases::list_all_consents($crate::rows::AsConn::conn(self)).await
            }
            async fn list_disclosures(
                &mut self,
                case: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_domain::consent::DisclosureRecord>> {
                $crate::cases::list_disclosures($crate::rows::AsConn::conn(self), case).await
            }
            async fn list_disclosures_of_worker(
                &mut self,
                worker: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_domain::consent::DisclosureRecord>> {
                $crate::cases::list_disclosures_of_worker($crate::rows::AsConn::conn(self), worker)
                    .await
            }
            async fn list_all_disclosures(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_domain::consent::DisclosureRecord>> {
                $crate::cases::list_all_disclosures($crate::rows::AsConn::conn(self)).await
            }
            async fn get_handling_rules(
                &mut self,
                employer: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Option<ryoritsu_app::cases::ports::HandlingRulesRecord>>
            {
                $crate::cases::get_handling_rules($crate::rows::AsConn::conn(self), employer).await
            }
            async fn list_handling_rules(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::cases::ports::HandlingRulesRecord>>
            {
                $crate::cases::list_handling_rules($crate::rows::AsConn::conn(self)).await
            }
            async fn find_share_code(
                &mut self,
                code_hash: &str,
            ) -> ryoritsu_app::StoreResult<Option<ryoritsu_app::cases::ports::ShareCodeRecord>>
            {
                $crate::cases::find_share_code($crate::rows::AsConn::conn(self), code_hash).await
            }
            async fn list_consultation_notes(
                &mut self,
                case: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::cases::ports::ConsultationNoteRecord>>
            {
                $crate::cases::list_consultation_notes($crate::rows::AsConn::conn(self), case).await
            }
            async fn list_all_consultation_notes(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::cases::ports::ConsultationNoteRecord>>
            {
                $crate::cases::list_all_consultation_notes($crate::rows::AsConn::conn(self)).await
            }
            async fn list_share_codes(
                &mut self,
                case: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::cases::ports::ShareCodeRecord>> {
                $crate::cases::list_share_codes($crate::rows::AsConn::conn(self), case).await
            }
            async fn list_all_share_codes(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::cases::ports::ShareCodeRecord>> {
                $crate::cases::list_all_share_codes($crate::rows::AsConn::conn(self)).await
            }
        }
    };
}
pub(crate) use impl_case_reads;

macro_rules! impl_case_writes {
    ($t:ty) => {
        impl ryoritsu_app::cases::ports::CaseWrites for $t {
            async fn insert_case(
                &mut self,
                c: &ryoritsu_app::cases::ports::CaseRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::cases::insert_case($crate::rows::AsConn::conn(self), c).await
            }
            async fn update_case(
                &mut self,
                c: &ryoritsu_app::cases::ports::CaseRecord,
            ) -> ryoritsu_app::StoreResult<bool> {
                $crate::cases::update_case($crate::rows::AsConn::conn(self), c).await
            }
            async fn insert_case_party(
                &mut self,
                p: &ryoritsu_app::cases::ports::CasePartyRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::cases::insert_case_party($crate::rows::AsConn::conn(self), p).await
            }
            async fn insert_document(
                &mut self,
                d: &ryoritsu_app::cases::ports::DocumentRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::cases::insert_document($crate::rows::AsConn::conn(self), d).await
            }
            async fn update_document(
                &mut self,
                d: &ryoritsu_app::cases::ports::DocumentRecord,
            ) -> ryoritsu_app::StoreResult<bool> {
                $crate::cases::update_document($crate::rows::AsConn::conn(self), d).await
            }
            async fn insert_case_event(
                &mut self,
                e: &ryoritsu_app::cases::ports::CaseEventRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::cases::insert_case_event($crate::rows::AsConn::conn(self), e).await
            }
            async fn insert_task(
                &mut self,
                t: &ryoritsu_app::cases::ports::TaskRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::cases::insert_task($crate::rows::AsConn::conn(self), t).await
            }
            async fn close_tasks(
                &mut self,
                case: uuid::Uuid,
                kinds: &[ryoritsu_domain::case::TaskKind],
                at: time::OffsetDateTime,
            ) -> ryoritsu_app::StoreResult<u64> {
                $crate::cases::close_tasks($crate::rows::AsConn::conn(self), case, kinds, at).await
            }
            async fn insert_consent(
                &mut self,
                c: &ryoritsu_domain::consent::Consent,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::cases::insert_consent($crate::rows::AsConn::conn(self), c).await
            }
            async fn withdraw_consent(
                &mut self,
                id: uuid::Uuid,
                at: time::OffsetDateTime,
            ) -> ryoritsu_app::StoreResult<bool> {
                $crate::cases::withdraw_consent($crate::rows::AsConn::conn(self), id, at).await
            }
            async fn insert_disclosure(
                &mut self,
                d: &ryoritsu_domain::consent::DisclosureRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::cases::insert_disclosure($crate::rows::AsConn::conn(self), d).await
            }
            async fn put_handling_rules(
                &mut self,
                r: &ryoritsu_app::cases::ports::HandlingRulesRecord,
            ) -> ryoritsu_app::StoreResult<bool> {
                $crate::cases::put_handling_rules($crate::rows::AsConn::conn(self), r).await
            }
            async fn insert_consultation_note(
                &mut self,
                n: &ryoritsu_app::cases::ports::ConsultationNoteRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::cases::insert_consultation_note($crate::rows::AsConn::conn(self), n).await
            }
            async fn insert_share_code(
                &mut self,
                c: &ryoritsu_app::cases::ports::ShareCodeRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::cases::insert_share_code($crate::rows::AsConn::conn(self), c).await
            }
            async fn use_share_code(
                &mut self,
                code_hash: &str,
                organisation: uuid::Uuid,
                user: uuid::Uuid,
                at: time::OffsetDateTime,
            ) -> ryoritsu_app::StoreResult<bool> {
                $crate::cases::use_share_code(
                    $crate::rows::AsConn::conn(self),
                    code_hash,
                    organisation,
                    user,
                    at,
                )
                .await
            }
        }
    };
}
pub(crate) use impl_case_writes;
