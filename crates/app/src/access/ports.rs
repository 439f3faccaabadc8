//! What the access index needs from storage: the rows of [`policy::case_grants`] per case,
//! and the indexed questions lists, search, tasks and exports ask of them.
//!
//! [`policy::case_grants`]: ryoritsu_domain::policy::case_grants

use std::future::Future;

use ryoritsu_domain::case::CaseStatus;
use ryoritsu_domain::org::Role;
use ryoritsu_domain::policy::{CaseGrant, RulesDelta};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::cases::ports::TaskRecord;
use crate::error::StoreResult;

/// Where a list of cases stands: every list is ordered by the case's 申出 (opened), newest
/// first, then by id, and a page starts after the last case of the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CaseCursor {
    pub opened_at: OffsetDateTime,
    pub case: Uuid,
}

impl CaseCursor {
    /// The cursor as it travels in a URL (`after=`): the opening time in microseconds and
    /// the case id, `<micros>.<id>`. Opaque to clients.
    pub fn token(&self) -> String {
        format!(
            "{}.{}",
            ryoritsu_domain::time_format::unix_micros(self.opened_at),
            self.case.simple()
        )
    }

    /// A cursor read back from a URL; `None` for anything that is not one.
    pub fn from_token(token: &str) -> Option<CaseCursor> {
        let (micros, id) = token.split_once('.')?;
        Some(CaseCursor {
            opened_at: ryoritsu_domain::time_format::from_unix_micros(micros.parse().ok()?)?,
            case: Uuid::try_parse(id).ok()?,
        })
    }
}

/// One range of the index: the cases one subject key sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeRange<'a> {
    pub key: &'a str,
    pub status: Option<CaseStatus>,
    /// Cases opened at or after this time.
    pub opened_from: Option<OffsetDateTime>,
    /// Cases opened before this time.
    pub opened_until: Option<OffsetDateTime>,
    pub after: Option<CaseCursor>,
    pub limit: u32,
}

/// The case a grant row belongs to, as the rows copy it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantedCase {
    pub id: Uuid,
    pub employer: Uuid,
    pub opened_at: OffsetDateTime,
    pub status: CaseStatus,
}

pub trait AccessReads: Send {
    /// The cases `range.key` sees, newest first, after the cursor, at most `range.limit`.
    fn cases_in_scope(
        &mut self,
        range: &ScopeRange<'_>,
    ) -> impl Future<Output = StoreResult<Vec<CaseCursor>>> + Send;
    /// Of `cases`, those for which one of `keys` holds a row of `scope` valid at `now`.
    fn cases_granting(
        &mut self,
        cases: &[Uuid],
        keys: &[String],
        scope: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<Vec<Uuid>>> + Send;
    /// The rows of one case, in the order of [`CaseGrant`]'s `Ord`.
    fn case_grants(
        &mut self,
        case: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<CaseGrant>>> + Send;
    /// Open tasks assigned to `role` of `organisation` on cases one of `keys` sees, soonest
    /// due first, at most `limit`.
    fn open_tasks_in_scope(
        &mut self,
        organisation: Uuid,
        role: Role,
        keys: &[String],
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<TaskRecord>>> + Send;
    /// Cases with a consent naming `role` of `organisation` (to rebuild when the rules let the
    /// role see a category again).
    fn cases_with_consents_naming(
        &mut self,
        organisation: Uuid,
        role: Role,
    ) -> impl Future<Output = StoreResult<Vec<Uuid>>> + Send;
}

pub trait AccessWrites: AccessReads {
    /// Brings the rows of the case to exactly `wanted` (each unique by the table's key,
    /// times to the microsecond), with the case's status on every row, writing only the
    /// rows that differ.
    fn set_case_grants(
        &mut self,
        case: &GrantedCase,
        wanted: &[CaseGrant],
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The case's status changed: its rows follow.
    fn set_grants_status(
        &mut self,
        case: Uuid,
        status: CaseStatus,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Applies an `AddRule`, `RemoveRule` or `RemoveConsents` change to every case of the
    /// employer (a `RebuildConsents` is the caller's: it rebuilds the cases it names).
    fn apply_rules_delta(
        &mut self,
        employer: Uuid,
        delta: RulesDelta,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Empties the index (before a rebuild).
    fn clear_grants(&mut self) -> impl Future<Output = StoreResult<()>> + Send;
}
