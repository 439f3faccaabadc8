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

/// Which tasks to list: one question each, answered through an index. (Every task at once
/// is `list_all_support_tasks`, for backups.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupportTaskFilter {
    /// The tasks on one case, open or done.
    Case(Uuid),
    /// The open tasks of an organisation (the one the task belongs to).
    OpenOfOrganisation(Uuid),
    /// The open tasks one person wrote.
    OpenCreatedBy(Uuid),
}

pub trait SupportTaskReads: Send {
    fn get_support_task(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<Option<SupportTaskRecord>>> + Send;
    /// The tasks the filter names, by due date, then by when they were added.
    fn list_support_tasks(
        &mut self,
        filter: SupportTaskFilter,
    ) -> impl Future<Output = StoreResult<Vec<SupportTaskRecord>>> + Send;
    /// Every task, in the same order, for backups.
    fn list_all_support_tasks(
        &mut self,
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
