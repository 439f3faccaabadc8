//! The storage ports for guidance sessions (療養・就労両立支援指導) recorded by hospitals, and
//! the hospitals' notified facility standards. Both are append-only: a session's correction
//! or 取消 is a new version, a change of standards a new notification.

use std::future::Future;

use ryoritsu_domain::guidance::{FacilityStandardsRecord, GuidanceSession};
use uuid::Uuid;

use crate::error::StoreResult;

/// Which session versions to list; every given filter must match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GuidanceFilter {
    /// One session (all its versions).
    pub session: Option<Uuid>,
    pub case: Option<Uuid>,
    pub institution: Option<Uuid>,
    pub patient: Option<Uuid>,
}

pub trait GuidanceReads: Send {
    /// Every version of the matching sessions, by date, then session, then version.
    fn list_guidance_versions(
        &mut self,
        filter: GuidanceFilter,
    ) -> impl Future<Output = StoreResult<Vec<GuidanceSession>>> + Send;
    /// The notifications of one institution (or of all), oldest first.
    fn list_facility_standards(
        &mut self,
        institution: Option<Uuid>,
    ) -> impl Future<Output = StoreResult<Vec<FacilityStandardsRecord>>> + Send;
}

pub trait GuidanceWrites: GuidanceReads {
    /// Stores one version; a version that exists already is a conflict (the caller checks the
    /// latest version in the same transaction first).
    fn insert_guidance_version(
        &mut self,
        s: &GuidanceSession,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn insert_facility_standards(
        &mut self,
        r: &FacilityStandardsRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}
