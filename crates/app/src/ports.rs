//! The ports the use cases need: storage (read connections and the write transaction),
//! the clock and the id source. Each storage adapter implements these and must pass the
//! conformance story in [`crate::conformance`].

use std::future::Future;
use std::path::Path;

use ryoritsu_domain::audit::{AuditEvent, AuditRecord, ChainHead};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::access::ports::{AccessReads, AccessWrites};
use crate::accounts::ports::{AccountReads, AccountWrites};
use crate::cases::attachment_ports::{AttachmentReads, AttachmentWrites};
use crate::cases::correction_ports::{CorrectionReads, CorrectionWrites};
use crate::cases::notice_ports::{NoticeReads, NoticeWrites};
use crate::cases::ports::{CaseReads, CaseWrites};
use crate::cases::support_task_ports::{SupportTaskReads, SupportTaskWrites};
use crate::error::{StoreError, StoreResult};
use crate::hospital::ports::{GuidanceReads, GuidanceWrites};
use crate::loader::ports::BulkWrites;
use crate::search::ports::{SearchReads, SearchWrites};

pub trait Clock: Send + Sync + 'static {
    /// UTC, truncated to microseconds.
    fn now(&self) -> OffsetDateTime;
}

pub trait IdSource: Send + Sync + 'static {
    fn new_id(&self) -> Uuid;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub scope: String,
    pub key: String,
    pub fingerprint: String,
    pub status: u16,
    pub body: String,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingRecord {
    pub name: String,
    pub value: String,
}

/// Reads every area shares (idempotency records, settings, the audit log), available on a
/// read connection and inside the write transaction.
pub trait ReadRepo: Send {
    fn get_idempotency(
        &mut self,
        scope: &str,
        key: &str,
    ) -> impl Future<Output = StoreResult<Option<IdempotencyRecord>>> + Send;
    fn list_idempotency(
        &mut self,
    ) -> impl Future<Output = StoreResult<Vec<IdempotencyRecord>>> + Send;

    fn get_setting(
        &mut self,
        name: &str,
    ) -> impl Future<Output = StoreResult<Option<String>>> + Send;
    fn list_settings(&mut self) -> impl Future<Output = StoreResult<Vec<SettingRecord>>> + Send;

    /// The head recorded by the last append (kept beside the log).
    fn audit_head(&mut self) -> impl Future<Output = StoreResult<ChainHead>> + Send;
    /// Every record about one case, in ascending order of `seq`.
    fn audit_records_for_case(
        &mut self,
        case: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<AuditRecord>>> + Send;
    /// Records about one case with `seq < before`, newest first, at most `limit`: the
    /// worker's access log a page at a time.
    fn audit_records_for_case_before(
        &mut self,
        case: Uuid,
        before: i64,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<AuditRecord>>> + Send;
    /// Records with `seq > after`, in ascending order of `seq`, at most `limit`.
    fn audit_records(
        &mut self,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<AuditRecord>>> + Send;
}

/// Writes every area shares, only inside the write transaction that the group-commit writer
/// owns.
pub trait WriteRepo: ReadRepo {
    fn insert_idempotency(
        &mut self,
        r: &IdempotencyRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Forgets stored answers older than `before` (a retry comes within hours, not days).
    fn prune_idempotency(
        &mut self,
        before: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<u64>> + Send;

    fn put_setting(
        &mut self,
        name: &str,
        value: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Chains `events` after the current head, in order, and stores them in this
    /// transaction: one read of the head, one INSERT per few hundred records, one move of
    /// the head.
    fn append_audits(
        &mut self,
        events: &[AuditEvent],
    ) -> impl Future<Output = StoreResult<Vec<AuditRecord>>> + Send;

    /// Chains `event` after the current head and stores it, in this transaction.
    fn append_audit(
        &mut self,
        event: &AuditEvent,
    ) -> impl Future<Output = StoreResult<AuditRecord>> + Send {
        async move {
            let mut records = self.append_audits(std::slice::from_ref(event)).await?;
            records
                .pop()
                .ok_or_else(|| StoreError::Other("no audit record was chained".into()))
        }
    }
    /// Stores a record exactly as given (restore only), moving the head to it.
    fn restore_audit_record(
        &mut self,
        r: &AuditRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

/// The write transaction's controls, used by the group-commit writer.
pub trait TxControl: Send {
    fn savepoint(&mut self) -> impl Future<Output = StoreResult<()>> + Send;
    fn release_savepoint(&mut self) -> impl Future<Output = StoreResult<()>> + Send;
    fn rollback_to_savepoint(&mut self) -> impl Future<Output = StoreResult<()>> + Send;
    fn commit(self) -> impl Future<Output = StoreResult<()>> + Send;
    fn rollback(self) -> impl Future<Output = StoreResult<()>> + Send;
}

/// Schema state as the store sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaStatus {
    /// Versions applied in the database.
    pub applied: Vec<i64>,
    /// Versions this program knows.
    pub known: Vec<i64>,
}

impl SchemaStatus {
    /// Versions in the database that this program does not know: a newer program wrote
    /// them, and this one must not run on that schema.
    pub fn unknown(&self) -> Vec<i64> {
        self.applied
            .iter()
            .copied()
            .filter(|v| !self.known.contains(v))
            .collect()
    }

    pub fn pending(&self) -> Vec<i64> {
        self.known
            .iter()
            .copied()
            .filter(|v| !self.applied.contains(v))
            .collect()
    }
}

pub trait Store: Clone + Send + Sync + 'static {
    type Tx: WriteRepo
        + AccountWrites
        + AccessWrites
        + BulkWrites
        + CaseWrites
        + AttachmentWrites
        + CorrectionWrites
        + NoticeWrites
        + SupportTaskWrites
        + SearchWrites
        + GuidanceWrites
        + TxControl;
    type Conn: ReadRepo
        + AccountReads
        + AccessReads
        + CaseReads
        + AttachmentReads
        + CorrectionReads
        + NoticeReads
        + SupportTaskReads
        + SearchReads
        + GuidanceReads;
    /// A read-only snapshot: every read through it sees one consistent state.
    type Snapshot: ReadRepo
        + AccountReads
        + AccessReads
        + CaseReads
        + AttachmentReads
        + CorrectionReads
        + NoticeReads
        + SupportTaskReads
        + SearchReads
        + GuidanceReads;

    /// Opens the write transaction (one writer at a time).
    fn begin(&self) -> impl Future<Output = StoreResult<Self::Tx>> + Send;
    fn read(&self) -> impl Future<Output = StoreResult<Self::Conn>> + Send;
    fn snapshot(&self) -> impl Future<Output = StoreResult<Self::Snapshot>> + Send;

    fn schema_status(&self) -> impl Future<Output = StoreResult<SchemaStatus>> + Send;
    /// Applies pending migrations; refuses a schema newer than this program.
    fn migrate(&self) -> impl Future<Output = StoreResult<Vec<i64>>> + Send;
    /// A short description of the backend and its durability settings, for logs and
    /// benchmarks (never the URL).
    fn describe(&self) -> String;
    /// A round trip to the database.
    fn health(&self) -> impl Future<Output = StoreResult<()>> + Send;
    fn close(&self) -> impl Future<Output = ()> + Send;

    /// Path of the database file, where there is one (for refusing to restore over it).
    fn file_path(&self) -> Option<&Path>;
}
