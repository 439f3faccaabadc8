//! The SQL for support cases (migration 0002), written once over a connection and exposed
//! through the app's case ports on the transaction, the read connection and the snapshot.
//!
//! Domain values whose shape is the domain's business are stored as serde_json text and
//! read back through serde, so a finalised document is re-validated on every load; coded
//! enums are stored by their stable code. Columns that copy part of a JSON value (a case's
//! status, a document's stage) are written from the value in the same statement.

pub(crate) mod attachments;
pub(crate) mod corrections;
pub(crate) mod notices;
pub(crate) mod support_tasks;

use std::collections::BTreeSet;

use ryoritsu_app::cases::ports::{
    CaseEventRecord, CaseFilter, CasePartyRecord, CaseRecord, ConsultationNoteRecord, DocumentBody,
    DocumentRecord, HandlingRulesRecord, PartyKind, ShareCodeRecord, TaskFilter, TaskRecord,
};
use ryoritsu_app::error::{StoreError, StoreResult};
use ryoritsu_domain::case::{CaseState, CaseStatus, TaskKind};
use ryoritsu_domain::consent::{Consent, DisclosedDocument, DisclosureRecord, Recipient};
use ryoritsu_domain::forms::FormKind;
use ryoritsu_domain::info::InformationCategory;
use ryoritsu_domain::org::Role;
use sqlx::PgConnection;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::map_err;
use crate::rows::{code, corrupt, get};

/// A JSON column parsed into whatever the caller's field needs.
macro_rules! from_json {
    ($row:expr, $col:literal) => {
        serde_json::from_str(&get::<String>($row, $col)?).map_err(|_| corrupt($col))
    };
}

/// A value as the JSON text stored in a column.
macro_rules! to_json {
    ($value:expr) => {
        serde_json::to_string($value).map_err(|e| StoreError::Other(e.to_string()))
    };
}

fn all<T>(rows: Vec<PgRow>, f: fn(&PgRow) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    rows.iter().map(f).collect()
}

/// A u32 kept in a bigint column.
fn u32_col(row: &PgRow, col: &str) -> StoreResult<u32> {
    u32::try_from(get::<i64>(row, col)?).map_err(|_| corrupt(col))
}

fn case(r: &PgRow) -> StoreResult<CaseRecord> {
    let state: CaseState = from_json!(r, "state")?;
    Ok(CaseRecord {
        id: get(r, "id")?,
        worker_id: get(r, "worker_id")?,
        employer_id: get(r, "employer_id")?,
        workplace_id: get(r, "workplace_id")?,
        state,
        created_at: get(r, "created_at")?,
        updated_at: get(r, "updated_at")?,
        version: get(r, "version")?,
    })
}

fn party(r: &PgRow) -> StoreResult<CasePartyRecord> {
    Ok(CasePartyRecord {
        case_id: get(r, "case_id")?,
        kind: code(r, "kind", PartyKind::from_code)?,
        organisation_id: get(r, "organisation_id")?,
        user_id: get(r, "user_id")?,
        added_by: get(r, "added_by")?,
        added_at: get(r, "added_at")?,
    })
}

fn document(r: &PgRow) -> StoreResult<DocumentRecord> {
    let body: DocumentBody = from_json!(r, "body")?;
    Ok(DocumentRecord {
        id: get(r, "id")?,
        case_id: get(r, "case_id")?,
        form: code(r, "form", FormKind::from_code)?,
        body,
        created_by: get(r, "created_by")?,
        created_at: get(r, "created_at")?,
        updated_at: get(r, "updated_at")?,
        version: get(r, "version")?,
        withheld: Vec::new(),
    })
}

fn case_event(r: &PgRow) -> StoreResult<CaseEventRecord> {
    Ok(CaseEventRecord {
        id: get(r, "id")?,
        case_id: get(r, "case_id")?,
        step: from_json!(r, "step")?,
        actor: get(r, "actor")?,
        actor_role: code(r, "actor_role", Role::from_code)?,
        from_status: code(r, "from_status", CaseStatus::from_code)?,
        to_status: code(r, "to_status", CaseStatus::from_code)?,
        at: get(r, "at")?,
    })
}

pub(crate) fn task(r: &PgRow) -> StoreResult<TaskRecord> {
    Ok(TaskRecord {
        id: get(r, "id")?,
        case_id: get(r, "case_id")?,
        kind: code(r, "kind", TaskKind::from_code)?,
        assignee_role: code(r, "assignee_role", Role::from_code)?,
        assignee_organisation: get(r, "assignee_organisation")?,
        due: get(r, "due")?,
        opened_at: get(r, "opened_at")?,
        closed_at: get(r, "closed_at")?,
    })
}

fn consent(r: &PgRow) -> StoreResult<Consent> {
    let categories: BTreeSet<InformationCategory> = from_json!(r, "categories")?;
    Ok(Consent {
        id: get(r, "id")?,
        worker: get(r, "worker_id")?,
        case: get(r, "case_id")?,
        recipient: Recipient {
            organisation: get(r, "recipient_organisation")?,
            role: code(r, "recipient_role", Role::from_code)?,
            person: get(r, "recipient_person")?,
        },
        categories,
        purpose: get(r, "purpose")?,
        granted_at: get(r, "granted_at")?,
        expires_at: get(r, "expires_at")?,
        withdrawn_at: get(r, "withdrawn_at")?,
        explanation_version: u32_col(r, "explanation_version")?,
    })
}

fn disclosure(r: &PgRow) -> StoreResult<DisclosureRecord> {
    let categories: BTreeSet<InformationCategory> = from_json!(r, "categories")?;
    Ok(DisclosureRecord {
        id: get(r, "id")?,
        case: get(r, "case_id")?,
        worker: get(r, "worker_id")?,
        from_organisation: get(r, "from_organisation")?,
        to_organisation: get(r, "to_organisation")?,
        to_role: code(r, "to_role", Role::from_code)?,
        categories,
        consent: get(r, "consent_id")?,
        at: get(r, "at")?,
        what: DisclosedDocument {
            kind: get(r, "what_kind")?,
            id: get(r, "what_id")?,
        },
    })
}

fn handling_rules(r: &PgRow) -> StoreResult<HandlingRulesRecord> {
    Ok(HandlingRulesRecord {
        rules: from_json!(r, "rules")?,
        updated_by: get(r, "updated_by")?,
        updated_at: get(r, "updated_at")?,
        version: get(r, "version")?,
    })
}

/// The stage column's value and the revision a document body holds.
pub(crate) fn stage_of(body: &DocumentBody) -> (&'static str, u32) {
    match body {
        DocumentBody::Draft(d) => ("draft", d.revision),
        DocumentBody::Finalised(f) => ("finalised", f.revision()),
    }
}

// ---- reads ----------------------------------------------------------------------------

pub async fn get_case(c: &mut PgConnection, id: Uuid) -> StoreResult<Option<CaseRecord>> {
    sqlx::query("SELECT * FROM cases WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(case)
        .transpose()
}

pub async fn list_cases(c: &mut PgConnection, filter: CaseFilter) -> StoreResult<Vec<CaseRecord>> {
    let query = match filter {
        CaseFilter::Worker(worker) => sqlx::query(
            "SELECT * FROM cases WHERE worker_id = $1 \
             ORDER BY created_at DESC, id",
        )
        .bind(worker),
        CaseFilter::Employer(employer) => sqlx::query(
            "SELECT * FROM cases WHERE employer_id = $1 \
             ORDER BY created_at DESC, id",
        )
        .bind(employer),
        CaseFilter::PartyOrganisation(organisation) => sqlx::query(
            "SELECT * FROM cases WHERE id IN \
             (SELECT case_id FROM case_parties WHERE organisation_id = $1) \
             ORDER BY created_at DESC, id",
        )
        .bind(organisation),
    };
    let rows = query.fetch_all(c).await.map_err(map_err)?;
    all(rows, case)
}

pub async fn list_all_cases(c: &mut PgConnection) -> StoreResult<Vec<CaseRecord>> {
    let rows = sqlx::query(
        "/* full scan: maintenance */ SELECT * FROM cases \
         ORDER BY created_at DESC, id",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, case)
}

pub async fn list_case_parties(
    c: &mut PgConnection,
    case_id: Uuid,
) -> StoreResult<Vec<CasePartyRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM case_parties WHERE case_id = $1 \
         ORDER BY added_at, case_id, kind, organisation_id, user_id NULLS FIRST",
    )
    .bind(case_id)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, party)
}

pub async fn list_all_case_parties(c: &mut PgConnection) -> StoreResult<Vec<CasePartyRecord>> {
    let rows = sqlx::query(
        "/* full scan: backup */ SELECT * FROM case_parties \
         ORDER BY added_at, case_id, kind, organisation_id, user_id NULLS FIRST",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, party)
}

pub async fn get_document(c: &mut PgConnection, id: Uuid) -> StoreResult<Option<DocumentRecord>> {
    sqlx::query("SELECT * FROM documents WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(document)
        .transpose()
}

pub async fn list_documents(
    c: &mut PgConnection,
    case_id: Uuid,
) -> StoreResult<Vec<DocumentRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM documents WHERE case_id = $1 \
         ORDER BY created_at, id",
    )
    .bind(case_id)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, document)
}

pub async fn paper_original_forms(
    c: &mut PgConnection,
    case_id: Uuid,
) -> StoreResult<Vec<FormKind>> {
    let rows = sqlx::query(
        "SELECT DISTINCT form FROM documents WHERE case_id = $1 AND stage = 'finalised' \
         AND (body::jsonb -> 'document' ->> 'transcribed_from') IS NOT NULL",
    )
    .bind(case_id)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    rows.iter()
        .map(|r| code(r, "form", FormKind::from_code))
        .collect()
}

pub async fn list_all_documents(c: &mut PgConnection) -> StoreResult<Vec<DocumentRecord>> {
    let rows = sqlx::query(
        "/* full scan: backup */ SELECT * FROM documents \
         ORDER BY created_at, id",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, document)
}

pub async fn list_case_events(
    c: &mut PgConnection,
    case_id: Uuid,
) -> StoreResult<Vec<CaseEventRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM case_events WHERE case_id = $1 \
         ORDER BY at, id",
    )
    .bind(case_id)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, case_event)
}

pub async fn list_all_case_events(c: &mut PgConnection) -> StoreResult<Vec<CaseEventRecord>> {
    let rows = sqlx::query(
        "/* full scan: backup */ SELECT * FROM case_events \
         ORDER BY at, id",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, case_event)
}

pub async fn list_tasks(c: &mut PgConnection, filter: TaskFilter) -> StoreResult<Vec<TaskRecord>> {
    let query = match filter.open_only {
        true => sqlx::query(
            "SELECT * FROM tasks WHERE case_id = $1 AND closed_at IS NULL \
             ORDER BY opened_at, id",
        )
        .bind(filter.case),
        false => sqlx::query(
            "SELECT * FROM tasks WHERE case_id = $1 \
             ORDER BY opened_at, id",
        )
        .bind(filter.case),
    };
    let rows = query.fetch_all(c).await.map_err(map_err)?;
    all(rows, task)
}

pub async fn list_all_tasks(c: &mut PgConnection) -> StoreResult<Vec<TaskRecord>> {
    let rows = sqlx::query(
        "/* full scan: backup */ SELECT * FROM tasks \
         ORDER BY opened_at, id",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, task)
}

pub async fn list_consents(c: &mut PgConnection, case_id: Uuid) -> StoreResult<Vec<Consent>> {
    let rows = sqlx::query(
        "SELECT * FROM consents WHERE case_id = $1 \
         ORDER BY granted_at, id",
    )
    .bind(case_id)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, consent)
}

pub async fn list_consents_of_worker(
    c: &mut PgConnection,
    worker: Uuid,
) -> StoreResult<Vec<Consent>> {
    let rows = sqlx::query(
        "SELECT * FROM consents WHERE worker_id = $1 \
         ORDER BY granted_at, id",
    )
    .bind(worker)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, consent)
}

pub async fn list_all_consents(c: &mut PgConnection) -> StoreResult<Vec<Consent>> {
    let rows = sqlx::query(
        "/* full scan: backup */ SELECT * FROM consents \
         ORDER BY granted_at, id",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, consent)
}

pub async fn list_disclosures(
    c: &mut PgConnection,
    case_id: Uuid,
) -> StoreResult<Vec<DisclosureRecord>> {
    let rows = sqlx::query(
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
    c: &mut PgConnection,
    worker: Uuid,
) -> StoreResult<Vec<DisclosureRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM disclosures WHERE worker_id = $1 \
         ORDER BY at, id",
    )
    .bind(worker)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, disclosure)
}

pub async fn list_all_disclosures(c: &mut PgConnection) -> StoreResult<Vec<DisclosureRecord>> {
    let rows = sqlx::query(
        "/* full scan: backup */ SELECT * FROM disclosures \
         ORDER BY at, id",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, disclosure)
}

pub async fn get_handling_rules(
    c: &mut PgConnection,
    employer: Uuid,
) -> StoreResult<Option<HandlingRulesRecord>> {
    sqlx::query("SELECT * FROM handling_rules WHERE employer_id = $1")
        .bind(employer)
        .fetch_optional(c)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(handling_rules)
        .transpose()
}

pub async fn list_handling_rules(c: &mut PgConnection) -> StoreResult<Vec<HandlingRulesRecord>> {
    let rows = sqlx::query("SELECT * FROM handling_rules ORDER BY employer_id")
        .fetch_all(c)
        .await
        .map_err(map_err)?;
    all(rows, handling_rules)
}

// ---- writes ---------------------------------------------------------------------------

pub async fn insert_case(c: &mut PgConnection, r: &CaseRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO cases (id, worker_id, employer_id, workplace_id, path, status, state, \
         created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(r.id)
    .bind(r.worker_id)
    .bind(r.employer_id)
    .bind(r.workplace_id)
    .bind(r.state.path.code())
    .bind(r.state.status.code())
    .bind(to_json!(&r.state)?)
    .bind(r.created_at)
    .bind(r.updated_at)
    .bind(r.version)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn update_case(c: &mut PgConnection, r: &CaseRecord) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE cases SET path = $1, status = $2, state = $3, updated_at = $4, version = $5 \
         WHERE id = $6 AND version = $7",
    )
    .bind(r.state.path.code())
    .bind(r.state.status.code())
    .bind(to_json!(&r.state)?)
    .bind(r.updated_at)
    .bind(r.version)
    .bind(r.id)
    .bind(r.version - 1)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_case_party(c: &mut PgConnection, p: &CasePartyRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO case_parties (case_id, kind, organisation_id, user_id, added_by, added_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(p.case_id)
    .bind(p.kind.code())
    .bind(p.organisation_id)
    .bind(p.user_id)
    .bind(p.added_by)
    .bind(p.added_at)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn insert_document(c: &mut PgConnection, d: &DocumentRecord) -> StoreResult<()> {
    let (stage, revision) = stage_of(&d.body);
    sqlx::query(
        "INSERT INTO documents (id, case_id, form, stage, revision, body, created_by, \
         created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(d.id)
    .bind(d.case_id)
    .bind(d.form.code())
    .bind(stage)
    .bind(i64::from(revision))
    .bind(to_json!(&d.body)?)
    .bind(d.created_by)
    .bind(d.created_at)
    .bind(d.updated_at)
    .bind(d.version)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn update_document(c: &mut PgConnection, d: &DocumentRecord) -> StoreResult<bool> {
    let (stage, revision) = stage_of(&d.body);
    // `stage = 'draft'` in the condition: a finalised document never changes, whatever
    // version the caller holds.
    let done = sqlx::query(
        "UPDATE documents SET stage = $1, revision = $2, body = $3, updated_at = $4, \
         version = $5 WHERE id = $6 AND version = $7 AND stage = 'draft'",
    )
    .bind(stage)
    .bind(i64::from(revision))
    .bind(to_json!(&d.body)?)
    .bind(d.updated_at)
    .bind(d.version)
    .bind(d.id)
    .bind(d.version - 1)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_case_event(c: &mut PgConnection, e: &CaseEventRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO case_events (id, case_id, step, actor, actor_role, from_status, \
         to_status, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.id)
    .bind(e.case_id)
    .bind(to_json!(&e.step)?)
    .bind(e.actor)
    .bind(e.actor_role.code())
    .bind(e.from_status.code())
    .bind(e.to_status.code())
    .bind(e.at)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn insert_task(c: &mut PgConnection, t: &TaskRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO tasks (id, case_id, kind, assignee_role, assignee_organisation, due, \
         opened_at, closed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(t.id)
    .bind(t.case_id)
    .bind(t.kind.code())
    .bind(t.assignee_role.code())
    .bind(t.assignee_organisation)
    .bind(t.due)
    .bind(t.opened_at)
    .bind(t.closed_at)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn close_tasks(
    c: &mut PgConnection,
    case_id: Uuid,
    kinds: &[TaskKind],
    at: OffsetDateTime,
) -> StoreResult<u64> {
    let codes: Vec<&str> = kinds.iter().map(|k| k.code()).collect();
    let done = sqlx::query(
        "UPDATE tasks SET closed_at = $3 \
         WHERE case_id = $1 AND kind = ANY($2) AND closed_at IS NULL",
    )
    .bind(case_id)
    .bind(codes)
    .bind(at)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected())
}

pub async fn insert_consent(c: &mut PgConnection, r: &Consent) -> StoreResult<()> {
    sqlx::query(
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
    .bind(to_json!(&r.categories)?)
    .bind(&r.purpose)
    .bind(r.granted_at)
    .bind(r.expires_at)
    .bind(r.withdrawn_at)
    .bind(i64::from(r.explanation_version))
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn withdraw_consent(
    c: &mut PgConnection,
    id: Uuid,
    at: OffsetDateTime,
) -> StoreResult<bool> {
    let done =
        sqlx::query("UPDATE consents SET withdrawn_at = $1 WHERE id = $2 AND withdrawn_at IS NULL")
            .bind(at)
            .bind(id)
            .execute(c)
            .await
            .map_err(map_err)?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_disclosure(c: &mut PgConnection, d: &DisclosureRecord) -> StoreResult<()> {
    sqlx::query(
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
    .bind(to_json!(&d.categories)?)
    .bind(d.consent)
    .bind(d.at)
    .bind(&d.what.kind)
    .bind(d.what.id)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn put_handling_rules(
    c: &mut PgConnection,
    r: &HandlingRulesRecord,
) -> StoreResult<bool> {
    let rules = to_json!(&r.rules)?;
    // No row yet: insert, keeping the given version (a restore is exact). A row: replace it
    // only when it is the version before this one; otherwise another write came first.
    let done = sqlx::query(
        "INSERT INTO handling_rules (employer_id, rules, updated_by, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (employer_id) DO UPDATE SET \
         rules = excluded.rules, updated_by = excluded.updated_by, \
         updated_at = excluded.updated_at, version = excluded.version \
         WHERE handling_rules.version = excluded.version - 1",
    )
    .bind(r.rules.employer)
    .bind(rules)
    .bind(r.updated_by)
    .bind(r.updated_at)
    .bind(r.version)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected() == 1)
}

// ---- share codes ----------------------------------------------------------------------

fn share_code(r: &PgRow) -> StoreResult<ShareCodeRecord> {
    Ok(ShareCodeRecord {
        code_hash: get(r, "code_hash")?,
        case_id: get(r, "case_id")?,
        worker_id: get(r, "worker_id")?,
        created_at: get(r, "created_at")?,
        expires_at: get(r, "expires_at")?,
        used_at: get(r, "used_at")?,
        used_by_organisation: get(r, "used_by_organisation")?,
        used_by_user: get(r, "used_by_user")?,
    })
}

pub async fn find_share_code(
    c: &mut PgConnection,
    code_hash: &str,
) -> StoreResult<Option<ShareCodeRecord>> {
    sqlx::query("SELECT * FROM share_codes WHERE code_hash = $1")
        .bind(code_hash)
        .fetch_optional(c)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(share_code)
        .transpose()
}

pub async fn list_share_codes(
    c: &mut PgConnection,
    case: Uuid,
) -> StoreResult<Vec<ShareCodeRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM share_codes WHERE case_id = $1 \
         ORDER BY created_at, code_hash",
    )
    .bind(case)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, share_code)
}

pub async fn list_all_share_codes(c: &mut PgConnection) -> StoreResult<Vec<ShareCodeRecord>> {
    let rows = sqlx::query(
        "/* full scan: backup */ SELECT * FROM share_codes \
         ORDER BY created_at, code_hash",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, share_code)
}

pub async fn insert_share_code(c: &mut PgConnection, s: &ShareCodeRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO share_codes (code_hash, case_id, worker_id, created_at, expires_at, used_at, \
         used_by_organisation, used_by_user) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&s.code_hash)
    .bind(s.case_id)
    .bind(s.worker_id)
    .bind(s.created_at)
    .bind(s.expires_at)
    .bind(s.used_at)
    .bind(s.used_by_organisation)
    .bind(s.used_by_user)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn use_share_code(
    c: &mut PgConnection,
    code_hash: &str,
    organisation: Uuid,
    user: Uuid,
    at: OffsetDateTime,
) -> StoreResult<bool> {
    let r = sqlx::query(
        "UPDATE share_codes SET used_at = $1, used_by_organisation = $2, used_by_user = $3 \
         WHERE code_hash = $4 AND used_at IS NULL",
    )
    .bind(at)
    .bind(organisation)
    .bind(user)
    .bind(code_hash)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(r.rows_affected() == 1)
}

// ---- consultation notes ---------------------------------------------------------------

fn consultation_note(r: &PgRow) -> StoreResult<ConsultationNoteRecord> {
    Ok(ConsultationNoteRecord {
        id: get(r, "id")?,
        case_id: get(r, "case_id")?,
        author: get(r, "author")?,
        author_role: code(r, "author_role", Role::from_code)?,
        organisation_id: get(r, "organisation_id")?,
        body: get(r, "body")?,
        created_at: get(r, "created_at")?,
    })
}

pub async fn list_consultation_notes(
    c: &mut PgConnection,
    case: Uuid,
) -> StoreResult<Vec<ConsultationNoteRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM consultation_notes WHERE case_id = $1 \
         ORDER BY created_at, id",
    )
    .bind(case)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, consultation_note)
}

pub async fn list_all_consultation_notes(
    c: &mut PgConnection,
) -> StoreResult<Vec<ConsultationNoteRecord>> {
    let rows = sqlx::query(
        "/* full scan: backup */ SELECT * FROM consultation_notes \
         ORDER BY created_at, id",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, consultation_note)
}

pub async fn insert_consultation_note(
    c: &mut PgConnection,
    n: &ConsultationNoteRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO consultation_notes (id, case_id, author, author_role, organisation_id, \
         body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(n.id)
    .bind(n.case_id)
    .bind(n.author)
    .bind(n.author_role.code())
    .bind(n.organisation_id)
    .bind(&n.body)
    .bind(n.created_at)
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
