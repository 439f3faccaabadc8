//! The storage ports for coordinators' own tasks on a case (支援タスク).

use std::future::Future;

use ryoritsu_domain::support_task::SupportTask;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::StoreResult;

/// A task as stored: the domain value and its version (the ETag; marking done bumps it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportTaskRecord {
    pub task: SupportTask,
    pub version: i64,
}

/// Which tasks to list; every given filter must match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SupportTaskFilter {
    pub case: Option<Uuid>,
    /// The organisation the task belongs to.
    pub organisation: Option<Uuid>,
    pub created_by: Option<Uuid>,
    /// Only those not done yet.
    pub open_only: bool,
}

pub trait SupportTaskReads: Send {
    fn get_support_task(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<Option<SupportTaskRecord>>> + Send;
    /// Matching tasks by due date, then by when they were added.
    fn list_support_tasks(
        &mut self,
        filter: SupportTaskFilter,
    ) -> impl Future<Output = StoreResult<Vec<SupportTaskRecord>>> + Send;
}

pub trait SupportTaskWrites: SupportTaskReads {
    fn insert_support_task(
        &mut self,
        r: &SupportTaskRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Stores `r`'s done fields if `r.version - 1` is the stored version and the stored task
    /// is still open; false otherwise (the caller answers 412). Nothing else of a task ever
    /// changes.
    fn complete_support_task(
        &mut self,
        r: &SupportTaskRecord,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
}
