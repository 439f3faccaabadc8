//! The storage ports for support cases: cases, their parties, documents, history, tasks,
//! consents, disclosure records and each employer's 取扱規程.
//!
//! Domain values whose shape is the domain's business (the case state, form answers, the
//! rules) are stored as JSON beside the columns that lists and statistics filter on.

use std::future::Future;

use ryoritsu_domain::case::{CaseState, CaseStatus, TaskKind};
use ryoritsu_domain::consent::{Consent, DisclosureRecord};
use ryoritsu_domain::forms::{DraftDocument, FinalisedDocument, FormKind};
use ryoritsu_domain::org::Role;
use ryoritsu_domain::policy::HandlingRules;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::error::StoreResult;

/// One worker's support at one employer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub id: Uuid,
    pub worker_id: Uuid,
    pub employer_id: Uuid,
    pub workplace_id: Option<Uuid>,
    /// The state machine's state; its status is also kept in a column for lists.
    pub state: CaseState,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub created_at: OffsetDateTime,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub updated_at: OffsetDateTime,
    /// Optimistic lock, exposed as the ETag.
    pub version: i64,
}

impl CaseRecord {
    pub fn status(&self) -> CaseStatus {
        self.state.status
    }
}

/// How someone other than the worker and the employer takes part in a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    /// The worker's 所属長 for this case.
    LineManager,
    /// The medical institution of the 主治医 (attached by the worker's share code).
    Hospital,
    /// A 両立支援コーディネーター added by the worker.
    Coordinator,
}

impl PartyKind {
    pub fn code(self) -> &'static str {
        match self {
            PartyKind::LineManager => "line_manager",
            PartyKind::Hospital => "hospital",
            PartyKind::Coordinator => "coordinator",
        }
    }

    pub fn from_code(code: &str) -> Option<PartyKind> {
        match code {
            "line_manager" => Some(PartyKind::LineManager),
            "hospital" => Some(PartyKind::Hospital),
            "coordinator" => Some(PartyKind::Coordinator),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CasePartyRecord {
    pub case_id: Uuid,
    pub kind: PartyKind,
    pub organisation_id: Uuid,
    /// The person, for line managers and coordinators; `None` for a hospital as a whole.
    pub user_id: Option<Uuid>,
    pub added_by: Uuid,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub added_at: OffsetDateTime,
}

/// A document draft or its finalised (確定) version: a different type each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", content = "document", rename_all = "snake_case")]
pub enum DocumentBody {
    Draft(DraftDocument),
    Finalised(FinalisedDocument),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRecord {
    pub id: Uuid,
    pub case_id: Uuid,
    pub form: FormKind,
    pub body: DocumentBody,
    pub created_by: Uuid,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub created_at: OffsetDateTime,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub updated_at: OffsetDateTime,
    pub version: i64,
    /// The fields left out of this reader's copy because they reveal what the reader may not
    /// see ([`ryoritsu_domain::forms::withhold`]); never stored, empty as read from the store.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<String>,
}

impl DocumentRecord {
    /// What a reader is told of the answers left out of their copy, e.g. 「「治療・投薬等の
    /// 状況、今後の予定」は、本人の同意がないため表示していません。」; `None` when nothing was.
    /// (Only answers that need the worker's consent are ever left out.)
    pub fn withheld_notice(&self) -> Option<String> {
        if self.withheld.is_empty() {
            return None;
        }
        let version = match &self.body {
            DocumentBody::Draft(d) => d.version,
            DocumentBody::Finalised(f) => f.version(),
        };
        let schema = ryoritsu_domain::forms::schema(self.form, version);
        let labels: String = self
            .withheld
            .iter()
            .map(|p| format!("「{}」", schema.label_of(p).unwrap_or("一部の欄")))
            .collect();
        Some(format!(
            "{labels}は、本人の同意がないため表示していません。"
        ))
    }

    pub fn is_finalised(&self) -> bool {
        matches!(self.body, DocumentBody::Finalised(_))
    }
}

/// One accepted step, for the case's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseEventRecord {
    pub id: Uuid,
    pub case_id: Uuid,
    /// The `ryoritsu_domain::case::Step` as JSON.
    pub step: serde_json::Value,
    pub actor: Uuid,
    pub actor_role: Role,
    pub from_status: CaseStatus,
    pub to_status: CaseStatus,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: TaskKind,
    /// Who must act: a role within an organisation (the employer, or the hospital).
    pub assignee_role: Role,
    pub assignee_organisation: Uuid,
    pub due: Date,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub opened_at: OffsetDateTime,
    #[serde(default, with = "ryoritsu_domain::time_format::micros::option")]
    pub closed_at: Option<OffsetDateTime>,
}

/// A one-time code the worker gives the hospital so that it can attach itself to the case
/// (also shown as a QR code). Only its SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareCodeRecord {
    pub code_hash: String,
    pub case_id: Uuid,
    pub worker_id: Uuid,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub created_at: OffsetDateTime,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub expires_at: OffsetDateTime,
    #[serde(default, with = "ryoritsu_domain::time_format::micros::option")]
    pub used_at: Option<OffsetDateTime>,
    pub used_by_organisation: Option<Uuid>,
    pub used_by_user: Option<Uuid>,
}

/// A coordinator's record of a consultation (相談記録). Kept as written: a correction is a
/// new note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultationNoteRecord {
    pub id: Uuid,
    pub case_id: Uuid,
    pub author: Uuid,
    pub author_role: Role,
    pub organisation_id: Uuid,
    pub body: String,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub created_at: OffsetDateTime,
}

/// Which cases to list: one question each, answered through an index. (Every case at
/// once is `list_all_cases`, for backups and rebuilds.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseFilter {
    /// The worker's own cases.
    Worker(Uuid),
    /// The cases at this employer.
    Employer(Uuid),
    /// Cases this organisation takes part in as a party (a hospital, a coordinator's
    /// agency, the line manager's employer).
    PartyOrganisation(Uuid),
}

/// The tasks of one case; only the open ones with `open_only`. (Every task at once is
/// `list_all_tasks`, for backups.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskFilter {
    pub case: Uuid,
    pub open_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlingRulesRecord {
    pub rules: HandlingRules,
    pub updated_by: Uuid,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

/// Case reads, on read connections, snapshots and inside the write transaction.
pub trait CaseReads: Send {
    fn get_case(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<Option<CaseRecord>>> + Send;
    /// The cases the filter names, newest first.
    fn list_cases(
        &mut self,
        filter: CaseFilter,
    ) -> impl Future<Output = StoreResult<Vec<CaseRecord>>> + Send;
    /// Every case, newest first: for backups and for rebuilding derived indexes only.
    fn list_all_cases(&mut self) -> impl Future<Output = StoreResult<Vec<CaseRecord>>> + Send;
    /// The parties of one case.
    fn list_case_parties(
        &mut self,
        case: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<CasePartyRecord>>> + Send;
    /// The parties of every case, for backups.
    fn list_all_case_parties(
        &mut self,
    ) -> impl Future<Output = StoreResult<Vec<CasePartyRecord>>> + Send;
    fn get_document(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<Option<DocumentRecord>>> + Send;
    /// The documents of one case (every revision), oldest first.
    fn list_documents(
        &mut self,
        case: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<DocumentRecord>>> + Send;
    /// The forms of which the case holds a finalised transcription of a paper original
    /// (read without decoding the documents; the case page asks for nothing more).
    fn paper_original_forms(
        &mut self,
        case: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<FormKind>>> + Send;
    /// Every document of every case, for backups.
    fn list_all_documents(
        &mut self,
    ) -> impl Future<Output = StoreResult<Vec<DocumentRecord>>> + Send;
    /// The history of one case, oldest first.
    fn list_case_events(
        &mut self,
        case: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<CaseEventRecord>>> + Send;
    /// The history of every case, for backups.
    fn list_all_case_events(
        &mut self,
    ) -> impl Future<Output = StoreResult<Vec<CaseEventRecord>>> + Send;
    /// The tasks of one case, oldest first.
    fn list_tasks(
        &mut self,
        filter: TaskFilter,
    ) -> impl Future<Output = StoreResult<Vec<TaskRecord>>> + Send;
    /// Every task, open or closed, for backups.
    fn list_all_tasks(&mut self) -> impl Future<Output = StoreResult<Vec<TaskRecord>>> + Send;
    /// The consents given on one case, oldest first.
    fn list_consents(
        &mut self,
        case: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<Consent>>> + Send;
    /// Every consent one worker gave, on any case, oldest first.
    fn list_consents_of_worker(
        &mut self,
        worker: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<Consent>>> + Send;
    /// Every consent, for backups.
    fn list_all_consents(&mut self) -> impl Future<Output = StoreResult<Vec<Consent>>> + Send;
    /// The provision records of one case, oldest first.
    fn list_disclosures(
        &mut self,
        case: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<DisclosureRecord>>> + Send;
    /// The provision records about one worker, on any case, oldest first.
    fn list_disclosures_of_worker(
        &mut self,
        worker: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<DisclosureRecord>>> + Send;
    /// Every provision record, for backups.
    fn list_all_disclosures(
        &mut self,
    ) -> impl Future<Output = StoreResult<Vec<DisclosureRecord>>> + Send;
    fn get_handling_rules(
        &mut self,
        employer: Uuid,
    ) -> impl Future<Output = StoreResult<Option<HandlingRulesRecord>>> + Send;
    fn list_handling_rules(
        &mut self,
    ) -> impl Future<Output = StoreResult<Vec<HandlingRulesRecord>>> + Send;
    fn find_share_code(
        &mut self,
        code_hash: &str,
    ) -> impl Future<Output = StoreResult<Option<ShareCodeRecord>>> + Send;
    /// The consultation notes of one case, oldest first.
    fn list_consultation_notes(
        &mut self,
        case: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<ConsultationNoteRecord>>> + Send;
    /// Every consultation note, for backups.
    fn list_all_consultation_notes(
        &mut self,
    ) -> impl Future<Output = StoreResult<Vec<ConsultationNoteRecord>>> + Send;
    /// The share codes issued on one case.
    fn list_share_codes(
        &mut self,
        case: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<ShareCodeRecord>>> + Send;
    /// Every share code, for backups.
    fn list_all_share_codes(
        &mut self,
    ) -> impl Future<Output = StoreResult<Vec<ShareCodeRecord>>> + Send;
}

/// Case writes, only inside the write transaction.
pub trait CaseWrites: CaseReads {
    fn insert_case(&mut self, c: &CaseRecord) -> impl Future<Output = StoreResult<()>> + Send;
    /// Writes state and `updated_at` if `c.version - 1` is the stored version; false when
    /// another write came first (the caller answers 412).
    fn update_case(&mut self, c: &CaseRecord) -> impl Future<Output = StoreResult<bool>> + Send;
    fn insert_case_party(
        &mut self,
        p: &CasePartyRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn insert_document(
        &mut self,
        d: &DocumentRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Replaces a draft's body if `d.version - 1` is the stored version and the stored
    /// document is still a draft: a finalised document never changes.
    fn update_document(
        &mut self,
        d: &DocumentRecord,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    fn insert_case_event(
        &mut self,
        e: &CaseEventRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn insert_task(&mut self, t: &TaskRecord) -> impl Future<Output = StoreResult<()>> + Send;
    /// Closes the open tasks of `kinds` on `case`; returns how many.
    fn close_tasks(
        &mut self,
        case: Uuid,
        kinds: &[TaskKind],
        at: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
    fn insert_consent(&mut self, c: &Consent) -> impl Future<Output = StoreResult<()>> + Send;
    /// Sets `withdrawn_at` on a consent not yet withdrawn; false otherwise.
    fn withdraw_consent(
        &mut self,
        id: Uuid,
        at: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    fn insert_disclosure(
        &mut self,
        d: &DisclosureRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Inserts when none is stored (keeping `r.version`, so a restore is exact), or replaces
    /// when `r.version - 1` is the stored version; false on a stale version.
    fn put_handling_rules(
        &mut self,
        r: &HandlingRulesRecord,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    fn insert_consultation_note(
        &mut self,
        n: &ConsultationNoteRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn insert_share_code(
        &mut self,
        c: &ShareCodeRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Marks an unused code used; false when it was used already.
    fn use_share_code(
        &mut self,
        code_hash: &str,
        organisation: Uuid,
        user: Uuid,
        at: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
}
