//! The storage ports for the worker's requests for correction (訂正の請求).

use std::future::Future;

use ryoritsu_domain::correction::CorrectionRequest;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::StoreResult;

/// A request as stored: the domain value and its version (the ETag; the answer bumps it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectionRecord {
    pub request: CorrectionRequest,
    pub version: i64,
}

/// Which requests to list: one question each, answered through an index. (Every request
/// at once is `list_all_correction_requests`, for backups.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrectionFilter {
    /// The requests on one case.
    Case(Uuid),
    /// The requests one worker filed.
    Worker(Uuid),
    /// The requests this organisation has still to answer.
    OpenFor(Uuid),
}

pub trait CorrectionReads: Send {
    fn get_correction_request(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<Option<CorrectionRecord>>> + Send;
    /// The requests the filter names, oldest first.
    fn list_correction_requests(
        &mut self,
        filter: CorrectionFilter,
    ) -> impl Future<Output = StoreResult<Vec<CorrectionRecord>>> + Send;
    /// Every request, oldest first, for backups.
    fn list_all_correction_requests(
        &mut self,
    ) -> impl Future<Output = StoreResult<Vec<CorrectionRecord>>> + Send;
}

pub trait CorrectionWrites: CorrectionReads {
    fn insert_correction_request(
        &mut self,
        r: &CorrectionRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Stores the answer of `r` if `r.version - 1` is the stored version and the stored
    /// request has no answer yet; false otherwise (the caller answers 412). Nothing else of
    /// a filed request ever changes.
    fn answer_correction_request(
        &mut self,
        r: &CorrectionRecord,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
}
