//! The storage ports for the outbox of e-mail notices (no health information, only a link).
//!
//! A notice is written in the same transaction as the change that calls for it, so a
//! committed step always has its notices, and a refused one has none. The sender then
//! claims, sends and marks each one; a row is never deleted, so a notice that could not be
//! sent stays with its error for the operator.

use std::future::Future;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::cases::ports::TaskRecord;
use crate::error::StoreResult;

/// Why a notice was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A step opened a task that waits on the recipient.
    TaskOpened,
    /// A task that waits on the recipient is past its due date (sent once per task).
    Overdue,
}

impl NoticeKind {
    pub fn code(self) -> &'static str {
        match self {
            NoticeKind::TaskOpened => "task_opened",
            NoticeKind::Overdue => "overdue",
        }
    }

    pub fn from_code(code: &str) -> Option<NoticeKind> {
        match code {
            "task_opened" => Some(NoticeKind::TaskOpened),
            "overdue" => Some(NoticeKind::Overdue),
            _ => None,
        }
    }
}

/// One e-mail in the outbox, as it will be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeRecord {
    pub id: Uuid,
    pub kind: NoticeKind,
    pub recipient: Uuid,
    /// The recipient's address when the notice was written.
    pub address: String,
    pub subject: String,
    pub body: String,
    pub case_id: Uuid,
    /// For a reminder, the overdue task (one reminder per task and recipient).
    pub task_id: Option<Uuid>,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub created_at: OffsetDateTime,
    /// Sending attempts so far, counted when an attempt starts.
    pub attempts: i64,
    /// When the next attempt may start; `None` once sent or given up.
    #[serde(default, with = "ryoritsu_domain::time_format::micros::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    #[serde(default, with = "ryoritsu_domain::time_format::micros::option")]
    pub sent_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
}

/// Outbox reads, on read connections, snapshots and inside the write transaction.
pub trait NoticeReads: Send {
    /// Every notice, oldest first (for backups).
    fn list_notices(&mut self) -> impl Future<Output = StoreResult<Vec<NoticeRecord>>> + Send;
    /// Unsent notices whose next attempt is due at `now`, the longest waiting first.
    fn due_notices(
        &mut self,
        now: OffsetDateTime,
        limit: i64,
    ) -> impl Future<Output = StoreResult<Vec<NoticeRecord>>> + Send;
    /// Open tasks due before `today` for which no reminder has been written yet.
    fn unreminded_overdue_tasks(
        &mut self,
        today: Date,
    ) -> impl Future<Output = StoreResult<Vec<TaskRecord>>> + Send;
}

/// Outbox writes, only inside the write transaction.
pub trait NoticeWrites: NoticeReads {
    fn insert_notice(&mut self, n: &NoticeRecord) -> impl Future<Output = StoreResult<()>> + Send;
    /// Inserts a reminder unless one for the same task and recipient exists (another
    /// instance may have written it first); false when it did.
    fn insert_reminder(
        &mut self,
        n: &NoticeRecord,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Starts an attempt: counts it and holds the notice until `lease_until`, if it is
    /// still unsent with `attempts` attempts; false when another sender came first.
    fn claim_notice(
        &mut self,
        id: Uuid,
        attempts: i64,
        lease_until: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Records delivery; false when the notice was already marked sent.
    fn mark_notice_sent(
        &mut self,
        id: Uuid,
        at: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Records a failed attempt: the error, and when to try again (`None`: given up).
    fn mark_notice_failed(
        &mut self,
        id: Uuid,
        next_attempt_at: Option<OffsetDateTime>,
        error: &str,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
}
