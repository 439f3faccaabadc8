//! The storage ports for guidance sessions (療養・就労両立支援指導) recorded by hospitals, and
//! the hospitals' notified facility standards. Both are append-only: a session's correction
//! or 取消 is a new version, a change of standards a new notification.

use std::future::Future;

use ryoritsu_domain::guidance::{FacilityStandardsRecord, GuidanceSession};
use uuid::Uuid;

use crate::error::StoreResult;

/// Which session versions to list: one question each, answered through an index. (Every
/// version at once is `list_all_guidance_versions`, for backups.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuidanceFilter {
    /// One session (all its versions).
    Session(Uuid),
    /// The sessions on one case.
    Case(Uuid),
    /// The sessions an institution recorded.
    Institution(Uuid),
    /// The sessions an institution recorded about one patient.
    InstitutionPatient { institution: Uuid, patient: Uuid },
    /// The sessions about one patient, at every institution.
    Patient(Uuid),
}

pub trait GuidanceReads: Send {
    /// Every version of the sessions the filter names, by date, then session, then version.
    fn list_guidance_versions(
        &mut self,
        filter: GuidanceFilter,
    ) -> impl Future<Output = StoreResult<Vec<GuidanceSession>>> + Send;
    /// Every version of every session, in the same order, for backups.
    fn list_all_guidance_versions(
        &mut self,
    ) -> impl Future<Output = StoreResult<Vec<GuidanceSession>>> + Send;
    /// The notifications of one institution, oldest first.
    fn list_facility_standards(
        &mut self,
        institution: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<FacilityStandardsRecord>>> + Send;
    /// The notifications of every institution, oldest first.
    fn list_all_facility_standards(
        &mut self,
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
