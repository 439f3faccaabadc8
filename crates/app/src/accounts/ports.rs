//! What accounts and organisations need from storage: organisations, workplaces, users,
//! memberships, invitations, sessions, recovery codes, sign-in failures and the reading of
//! each user's name.

use std::future::Future;

use ryoritsu_domain::account::{DisplayName, Email, LoginName};
use ryoritsu_domain::org::{OrganisationKind, Role, RoleDetail, SupportAgencyKind};
use ryoritsu_domain::prefecture::Prefecture;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreResult;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganisationRecord {
    pub id: Uuid,
    pub kind: OrganisationKind,
    pub name: DisplayName,
    pub prefecture: Prefecture,
    pub agency_kind: Option<SupportAgencyKind>,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub created_at: OffsetDateTime,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkplaceRecord {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub name: DisplayName,
    pub prefecture: Prefecture,
    /// Whether a 産業医 is appointed for this workplace (50 or more workers must have one).
    pub has_occupational_physician: bool,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: Uuid,
    pub login: LoginName,
    pub display_name: DisplayName,
    pub email: Option<Email>,
    /// PHC string (argon2id).
    pub password_hash: String,
    pub active: bool,
    pub operator: bool,
    /// Demo accounts exist only in a demo database, and its sign-in page offers them (the
    /// workers `demo load` generates are not demo accounts: they cannot sign in).
    pub demo: bool,
    pub totp_secret: Option<Vec<u8>>,
    /// A secret shown for enrolment, not yet confirmed by a code.
    pub totp_pending_secret: Option<Vec<u8>>,
    pub totp_last_step: Option<i64>,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub created_at: OffsetDateTime,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub password_changed_at: OffsetDateTime,
    pub version: i64,
}

/// The most members of one role that internal lookups read (notices, party candidates,
/// 主治医 lists): staff, never the organisation's workers.
pub const MAX_STAFF_IN_ROLE: u32 = 500;

/// Where a page of members ends: the last membership's time and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberCursor {
    pub joined_at: OffsetDateTime,
    pub membership: Uuid,
}

impl MemberCursor {
    pub fn of(m: &MembershipRecord) -> MemberCursor {
        MemberCursor {
            joined_at: m.created_at,
            membership: m.id,
        }
    }

    /// The cursor as it travels in a URL (`after=`): `<micros>.<id>`, opaque to clients.
    pub fn token(&self) -> String {
        format!(
            "{}.{}",
            ryoritsu_domain::time_format::unix_micros(self.joined_at),
            self.membership.simple()
        )
    }

    /// A cursor read back from a URL; `None` for anything that is not one.
    pub fn from_token(token: &str) -> Option<MemberCursor> {
        let (micros, id) = token.split_once('.')?;
        Some(MemberCursor {
            joined_at: ryoritsu_domain::time_format::from_unix_micros(micros.parse().ok()?)?,
            membership: Uuid::try_parse(id).ok()?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub organisation_id: Uuid,
    /// Read from the organisation (not stored with the membership).
    pub organisation_kind: OrganisationKind,
    pub role: Role,
    pub detail: RoleDetail,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationRecord {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub role: Role,
    pub detail: RoleDetail,
    /// SHA-256 of the one-time token in the link; the token itself is never stored.
    pub token_hash: String,
    pub invited_by: Uuid,
    pub note: Option<String>,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "ryoritsu_domain::time_format::micros::option")]
    pub used_at: Option<OffsetDateTime>,
    pub used_by: Option<Uuid>,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// SHA-256 of the cookie's token, hex: a database leak yields no usable session.
    pub id_hash: String,
    /// A short public handle, for listing and ending sessions without exposing the hash.
    pub handle: String,
    pub user_id: Uuid,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub created_at: OffsetDateTime,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub last_seen_at: OffsetDateTime,
    pub pending_second_factor: bool,
    pub csrf_token: String,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginFailureRecord {
    /// `account:<folded name>` or `ip:<address>`.
    pub key: String,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodeRecord {
    pub user_id: Uuid,
    pub digest: String,
    #[serde(with = "ryoritsu_domain::time_format::micros::option")]
    pub used_at: Option<OffsetDateTime>,
}

/// The reading (フリガナ) of a user's name, as backed up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserReadingRecord {
    pub user_id: Uuid,
    pub reading: String,
}

/// Reads of accounts, available on a read connection and inside the write transaction.
pub trait AccountReads: Send {
    fn get_organisation(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<Option<OrganisationRecord>>> + Send;
    fn list_organisations(
        &mut self,
    ) -> impl Future<Output = StoreResult<Vec<OrganisationRecord>>> + Send;
    /// The workplaces of one organisation, oldest first.
    fn list_workplaces(
        &mut self,
        organisation: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<WorkplaceRecord>>> + Send;
    /// Every workplace, for backups.
    fn list_all_workplaces(
        &mut self,
    ) -> impl Future<Output = StoreResult<Vec<WorkplaceRecord>>> + Send;

    fn get_user(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<Option<UserRecord>>> + Send;
    fn find_user_by_login(
        &mut self,
        login: &LoginName,
    ) -> impl Future<Output = StoreResult<Option<UserRecord>>> + Send;
    /// Every user by login name, for backups.
    fn list_users(&mut self) -> impl Future<Output = StoreResult<Vec<UserRecord>>> + Send;
    /// The demo accounts (`demo` set) by login name, for a demo server's sign-in page.
    fn list_demo_users(&mut self) -> impl Future<Output = StoreResult<Vec<UserRecord>>> + Send;
    /// How many users there are: a whole count, for start-up and restore checks only.
    fn count_users(&mut self) -> impl Future<Output = StoreResult<i64>> + Send;

    /// Memberships of one user, oldest first.
    fn list_memberships_of_user(
        &mut self,
        user: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<MembershipRecord>>> + Send;
    /// Every membership, for backups.
    fn list_all_memberships(
        &mut self,
    ) -> impl Future<Output = StoreResult<Vec<MembershipRecord>>> + Send;
    /// The members of an organisation in one role, in the order they joined, at most
    /// `limit`: the staff a task or a party list looks for, never the whole organisation.
    fn list_members_in_role(
        &mut self,
        organisation: Uuid,
        role: Role,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<(MembershipRecord, UserRecord)>>> + Send;
    fn get_membership(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<Option<MembershipRecord>>> + Send;
    /// One page of an organisation's members, in the order they joined (`created_at`, then
    /// id), after `after` when given, at most `limit`.
    fn list_members(
        &mut self,
        organisation: Uuid,
        after: Option<MemberCursor>,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<(MembershipRecord, UserRecord)>>> + Send;

    fn find_invitation(
        &mut self,
        token_hash: &str,
    ) -> impl Future<Output = StoreResult<Option<InvitationRecord>>> + Send;
    /// The newest `limit` invitations of one organisation, newest first.
    fn list_invitations(
        &mut self,
        organisation: Uuid,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<InvitationRecord>>> + Send;
    /// Every invitation, for backups.
    fn list_all_invitations(
        &mut self,
    ) -> impl Future<Output = StoreResult<Vec<InvitationRecord>>> + Send;

    fn get_session(
        &mut self,
        id_hash: &str,
    ) -> impl Future<Output = StoreResult<Option<SessionRecord>>> + Send;
    /// Sessions of one user, oldest first.
    fn list_sessions(
        &mut self,
        user: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<SessionRecord>>> + Send;
    /// Every session, for backups.
    fn list_all_sessions(&mut self)
    -> impl Future<Output = StoreResult<Vec<SessionRecord>>> + Send;

    /// The recovery codes of one user.
    fn list_recovery_codes(
        &mut self,
        user: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<RecoveryCodeRecord>>> + Send;
    /// Every recovery code, for backups.
    fn list_all_recovery_codes(
        &mut self,
    ) -> impl Future<Output = StoreResult<Vec<RecoveryCodeRecord>>> + Send;

    /// Failures for `key` at or after `since`.
    fn login_failures_since(
        &mut self,
        key: &str,
        since: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<Vec<OffsetDateTime>>> + Send;
    /// Every sign-in failure, for backups.
    fn list_login_failures(
        &mut self,
    ) -> impl Future<Output = StoreResult<Vec<LoginFailureRecord>>> + Send;
    /// The reading of a user's name, if one was given.
    fn user_reading(
        &mut self,
        user: Uuid,
    ) -> impl Future<Output = StoreResult<Option<String>>> + Send;
    /// Every reading given, for backups.
    fn list_user_readings(
        &mut self,
    ) -> impl Future<Output = StoreResult<Vec<UserReadingRecord>>> + Send;
}

/// Writes of accounts, only inside the write transaction.
pub trait AccountWrites: AccountReads {
    fn insert_organisation(
        &mut self,
        o: &OrganisationRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn insert_workplace(
        &mut self,
        w: &WorkplaceRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Fails with `Conflict("login_taken")` on a duplicate login name.
    fn insert_user(&mut self, u: &UserRecord) -> impl Future<Output = StoreResult<()>> + Send;
    /// Writes every mutable field if `u.version - 1` is the stored version; returns false
    /// when another write came first.
    fn update_user(&mut self, u: &UserRecord) -> impl Future<Output = StoreResult<bool>> + Send;
    fn insert_membership(
        &mut self,
        m: &MembershipRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn delete_membership(&mut self, id: Uuid) -> impl Future<Output = StoreResult<bool>> + Send;
    fn insert_invitation(
        &mut self,
        i: &InvitationRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Marks an unused invitation used; false when it was used already.
    fn use_invitation(
        &mut self,
        id: Uuid,
        user: Uuid,
        at: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    fn insert_session(&mut self, s: &SessionRecord)
    -> impl Future<Output = StoreResult<()>> + Send;
    fn touch_session(
        &mut self,
        id_hash: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn delete_session(&mut self, id_hash: &str) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Ends every session of `user`, except `keep` if given; returns how many ended.
    fn delete_sessions_of_user(
        &mut self,
        user: Uuid,
        keep: Option<&str>,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
    fn delete_expired_sessions(
        &mut self,
        idle_before: OffsetDateTime,
        created_before: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<u64>> + Send;

    fn replace_recovery_codes(
        &mut self,
        user: Uuid,
        codes: &[RecoveryCodeRecord],
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Marks an unused code used; false when no unused code has that digest.
    fn use_recovery_code(
        &mut self,
        user: Uuid,
        digest: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    fn insert_login_failure(
        &mut self,
        f: &LoginFailureRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn clear_login_failures(&mut self, key: &str) -> impl Future<Output = StoreResult<()>> + Send;
    fn prune_login_failures(
        &mut self,
        before: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Sets or clears the reading of a user's name.
    fn set_user_reading(
        &mut self,
        user: Uuid,
        reading: Option<&str>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}
