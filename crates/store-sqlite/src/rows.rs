//! The SQL, written once over a connection and exposed through the app's repository
//! traits on the transaction, the read connection and the snapshot alike.

use ryoritsu_app::error::{StoreError, StoreResult};
use ryoritsu_app::ports::{
    IdempotencyRecord, InvitationRecord, LoginFailureRecord, MembershipRecord, OrganisationRecord,
    RecoveryCodeRecord, SessionRecord, SettingRecord, UserRecord, WorkplaceRecord,
};
use ryoritsu_domain::account::{DisplayName, Email, LoginName};
use ryoritsu_domain::audit::{AuditAction, AuditEvent, AuditRecord, ChainHead, Outcome};
use ryoritsu_domain::info::InformationCategory;
use ryoritsu_domain::org::{OrganisationKind, Role, RoleDetail, SupportAgencyKind};
use ryoritsu_domain::prefecture::Prefecture;
use ryoritsu_domain::time_format::{from_unix_micros, unix_micros};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::map_err;

pub trait AsConn: Send {
    fn conn(&mut self) -> &mut SqliteConnection;
}

pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("unreadable value in {what}"))
}

pub(crate) fn get<'r, T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>>(
    row: &'r SqliteRow,
    col: &str,
) -> StoreResult<T> {
    row.try_get(col).map_err(map_err)
}

pub(crate) fn ts(row: &SqliteRow, col: &str) -> StoreResult<OffsetDateTime> {
    from_unix_micros(get::<i64>(row, col)?).ok_or_else(|| corrupt(col))
}

pub(crate) fn ots(row: &SqliteRow, col: &str) -> StoreResult<Option<OffsetDateTime>> {
    get::<Option<i64>>(row, col)?
        .map(|v| from_unix_micros(v).ok_or_else(|| corrupt(col)))
        .transpose()
}

pub(crate) fn code<T>(row: &SqliteRow, col: &str, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    parse(&get::<String>(row, col)?).ok_or_else(|| corrupt(col))
}

fn ocode<T>(row: &SqliteRow, col: &str, parse: fn(&str) -> Option<T>) -> StoreResult<Option<T>> {
    get::<Option<String>>(row, col)?
        .map(|s| parse(&s).ok_or_else(|| corrupt(col)))
        .transpose()
}

fn name(row: &SqliteRow, col: &str) -> StoreResult<DisplayName> {
    DisplayName::parse(col, col, &get::<String>(row, col)?).map_err(|_| corrupt(col))
}

fn prefecture(row: &SqliteRow, col: &str) -> StoreResult<Prefecture> {
    u8::try_from(get::<i64>(row, col)?)
        .ok()
        .and_then(Prefecture::from_code)
        .ok_or_else(|| corrupt(col))
}

fn detail(row: &SqliteRow) -> StoreResult<RoleDetail> {
    serde_json::from_str(&get::<String>(row, "detail")?).map_err(|_| corrupt("detail"))
}

fn hash32(row: &SqliteRow, col: &str) -> StoreResult<[u8; 32]> {
    get::<Vec<u8>>(row, col)?
        .try_into()
        .map_err(|_| corrupt(col))
}

fn organisation(r: &SqliteRow) -> StoreResult<OrganisationRecord> {
    Ok(OrganisationRecord {
        id: get(r, "id")?,
        kind: code(r, "kind", OrganisationKind::from_code)?,
        name: name(r, "name")?,
        prefecture: prefecture(r, "prefecture")?,
        agency_kind: ocode(r, "agency_kind", SupportAgencyKind::from_code)?,
        created_at: ts(r, "created_at")?,
        version: get(r, "version")?,
    })
}

fn workplace(r: &SqliteRow) -> StoreResult<WorkplaceRecord> {
    Ok(WorkplaceRecord {
        id: get(r, "id")?,
        organisation_id: get(r, "organisation_id")?,
        name: name(r, "name")?,
        prefecture: prefecture(r, "prefecture")?,
        has_occupational_physician: get(r, "has_occupational_physician")?,
        created_at: ts(r, "created_at")?,
    })
}

/// Column lists as macros so that every statement stays a string literal (sqlx refuses
/// SQL assembled at run time unless audited).
macro_rules! user_cols {
    () => {
        "u.id, u.login, u.display_name, u.email, u.password_hash, u.active, u.operator, u.demo, \
         u.totp_secret, u.totp_pending_secret, u.totp_last_step, u.created_at, \
         u.password_changed_at, u.version"
    };
}

fn user(r: &SqliteRow) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        id: get(r, "id")?,
        login: LoginName::parse(&get::<String>(r, "login")?).map_err(|_| corrupt("login"))?,
        display_name: name(r, "display_name")?,
        email: get::<Option<String>>(r, "email")?
            .map(|e| Email::parse(&e).map_err(|_| corrupt("email")))
            .transpose()?,
        password_hash: get(r, "password_hash")?,
        active: get(r, "active")?,
        operator: get(r, "operator")?,
        demo: get(r, "demo")?,
        totp_secret: get(r, "totp_secret")?,
        totp_pending_secret: get(r, "totp_pending_secret")?,
        totp_last_step: get(r, "totp_last_step")?,
        created_at: ts(r, "created_at")?,
        password_changed_at: ts(r, "password_changed_at")?,
        version: get(r, "version")?,
    })
}

macro_rules! membership_cols {
    () => {
        "m.id AS m_id, m.user_id, m.organisation_id, o.kind AS org_kind, m.role, m.detail, \
         m.created_at AS m_created_at"
    };
}

fn membership(r: &SqliteRow) -> StoreResult<MembershipRecord> {
    Ok(MembershipRecord {
        id: get(r, "m_id")?,
        user_id: get(r, "user_id")?,
        organisation_id: get(r, "organisation_id")?,
        organisation_kind: code(r, "org_kind", OrganisationKind::from_code)?,
        role: code(r, "role", Role::from_code)?,
        detail: detail(r)?,
        created_at: ts(r, "m_created_at")?,
    })
}

fn invitation(r: &SqliteRow) -> StoreResult<InvitationRecord> {
    Ok(InvitationRecord {
        id: get(r, "id")?,
        organisation_id: get(r, "organisation_id")?,
        role: code(r, "role", Role::from_code)?,
        detail: detail(r)?,
        token_hash: get(r, "token_hash")?,
        invited_by: get(r, "invited_by")?,
        note: get(r, "note")?,
        expires_at: ts(r, "expires_at")?,
        used_at: ots(r, "used_at")?,
        used_by: get(r, "used_by")?,
        created_at: ts(r, "created_at")?,
    })
}

fn session(r: &SqliteRow) -> StoreResult<SessionRecord> {
    Ok(SessionRecord {
        id_hash: get(r, "id_hash")?,
        handle: get(r, "handle")?,
        user_id: get(r, "user_id")?,
        created_at: ts(r, "created_at")?,
        last_seen_at: ts(r, "last_seen_at")?,
        pending_second_factor: get(r, "pending_second_factor")?,
        csrf_token: get(r, "csrf_token")?,
        user_agent: get(r, "user_agent")?,
        client_ip: get(r, "client_ip")?,
    })
}

fn audit(r: &SqliteRow) -> StoreResult<AuditRecord> {
    Ok(AuditRecord {
        seq: get(r, "seq")?,
        event: AuditEvent {
            at: ts(r, "at")?,
            actor: get(r, "actor")?,
            actor_role: ocode(r, "actor_role", Role::from_code)?,
            organisation: get(r, "organisation")?,
            action: code(r, "action", AuditAction::from_code)?,
            target: get(r, "target")?,
            category: ocode(r, "category", InformationCategory::from_code)?,
            case_id: get(r, "case_id")?,
            outcome: code(r, "outcome", Outcome::from_code)?,
            purpose: get(r, "purpose")?,
            operation_id: get(r, "operation_id")?,
            client_ip: get(r, "client_ip")?,
        },
        prev_hash: hash32(r, "prev_hash")?,
        hash: hash32(r, "hash")?,
    })
}

fn all<T>(rows: Vec<SqliteRow>, f: fn(&SqliteRow) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    rows.iter().map(f).collect()
}

// ---- reads ----------------------------------------------------------------------------

pub async fn get_organisation(
    c: &mut SqliteConnection,
    id: Uuid,
) -> StoreResult<Option<OrganisationRecord>> {
    sqlx::query("SELECT * FROM organisations WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(organisation)
        .transpose()
}

pub async fn list_organisations(c: &mut SqliteConnection) -> StoreResult<Vec<OrganisationRecord>> {
    let rows = sqlx::query("SELECT * FROM organisations ORDER BY prefecture, kind, name, id")
        .fetch_all(c)
        .await
        .map_err(map_err)?;
    all(rows, organisation)
}

pub async fn list_workplaces(
    c: &mut SqliteConnection,
    org: Option<Uuid>,
) -> StoreResult<Vec<WorkplaceRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM workplaces WHERE ($1 IS NULL OR organisation_id = $1) ORDER BY created_at, id",
    )
    .bind(org)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, workplace)
}

pub async fn get_user(c: &mut SqliteConnection, id: Uuid) -> StoreResult<Option<UserRecord>> {
    sqlx::query(concat!(
        "SELECT ",
        user_cols!(),
        " FROM users u WHERE u.id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await
    .map_err(map_err)?
    .as_ref()
    .map(user)
    .transpose()
}

pub async fn find_user_by_login(
    c: &mut SqliteConnection,
    login: &LoginName,
) -> StoreResult<Option<UserRecord>> {
    sqlx::query(concat!(
        "SELECT ",
        user_cols!(),
        " FROM users u WHERE u.login = $1"
    ))
    .bind(login.as_str())
    .fetch_optional(c)
    .await
    .map_err(map_err)?
    .as_ref()
    .map(user)
    .transpose()
}

pub async fn list_users(c: &mut SqliteConnection) -> StoreResult<Vec<UserRecord>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        user_cols!(),
        " FROM users u ORDER BY u.login"
    ))
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, user)
}

pub async fn count_users(c: &mut SqliteConnection) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(c)
        .await
        .map_err(map_err)
}

pub async fn list_memberships_of_user(
    c: &mut SqliteConnection,
    user_id: Option<Uuid>,
) -> StoreResult<Vec<MembershipRecord>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        membership_cols!(),
        " FROM memberships m JOIN organisations o ON o.id = m.organisation_id \
         WHERE ($1 IS NULL OR m.user_id = $1) ORDER BY m.created_at, m.id"
    ))
    .bind(user_id)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, membership)
}

pub async fn list_members(
    c: &mut SqliteConnection,
    org: Uuid,
) -> StoreResult<Vec<(MembershipRecord, UserRecord)>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        membership_cols!(),
        ", ",
        user_cols!(),
        " FROM memberships m JOIN organisations o ON o.id = m.organisation_id \
         JOIN users u ON u.id = m.user_id \
         WHERE m.organisation_id = $1 ORDER BY u.display_name, m.role, m.id"
    ))
    .bind(org)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    rows.iter()
        .map(|r| Ok((membership(r)?, user(r)?)))
        .collect()
}

pub async fn find_invitation(
    c: &mut SqliteConnection,
    token_hash: &str,
) -> StoreResult<Option<InvitationRecord>> {
    sqlx::query("SELECT * FROM invitations WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(c)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(invitation)
        .transpose()
}

pub async fn list_invitations(
    c: &mut SqliteConnection,
    org: Option<Uuid>,
) -> StoreResult<Vec<InvitationRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM invitations WHERE ($1 IS NULL OR organisation_id = $1) ORDER BY created_at DESC, id",
    )
    .bind(org)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, invitation)
}

pub async fn get_session(
    c: &mut SqliteConnection,
    id_hash: &str,
) -> StoreResult<Option<SessionRecord>> {
    sqlx::query("SELECT * FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .fetch_optional(c)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(session)
        .transpose()
}

pub async fn list_sessions(
    c: &mut SqliteConnection,
    user_id: Option<Uuid>,
) -> StoreResult<Vec<SessionRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM sessions WHERE ($1 IS NULL OR user_id = $1) ORDER BY created_at, id_hash",
    )
    .bind(user_id)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, session)
}

pub async fn list_recovery_codes(
    c: &mut SqliteConnection,
    user_id: Option<Uuid>,
) -> StoreResult<Vec<RecoveryCodeRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM recovery_codes WHERE ($1 IS NULL OR user_id = $1) ORDER BY user_id, digest",
    )
    .bind(user_id)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    rows.iter()
        .map(|r| {
            Ok(RecoveryCodeRecord {
                user_id: get(r, "user_id")?,
                digest: get(r, "digest")?,
                used_at: ots(r, "used_at")?,
            })
        })
        .collect()
}

pub async fn login_failures_since(
    c: &mut SqliteConnection,
    key: &str,
    since: OffsetDateTime,
) -> StoreResult<Vec<OffsetDateTime>> {
    let rows: Vec<i64> =
        sqlx::query_scalar("SELECT at FROM login_failures WHERE key = $1 AND at >= $2 ORDER BY at")
            .bind(key)
            .bind(unix_micros(since))
            .fetch_all(c)
            .await
            .map_err(map_err)?;
    rows.into_iter()
        .map(|v| from_unix_micros(v).ok_or_else(|| corrupt("at")))
        .collect()
}

pub async fn list_login_failures(c: &mut SqliteConnection) -> StoreResult<Vec<LoginFailureRecord>> {
    let rows = sqlx::query("SELECT * FROM login_failures ORDER BY key, at")
        .fetch_all(c)
        .await
        .map_err(map_err)?;
    rows.iter()
        .map(|r| {
            Ok(LoginFailureRecord {
                key: get(r, "key")?,
                at: ts(r, "at")?,
            })
        })
        .collect()
}

fn idempotency(r: &SqliteRow) -> StoreResult<IdempotencyRecord> {
    Ok(IdempotencyRecord {
        scope: get(r, "scope")?,
        key: get(r, "key")?,
        fingerprint: get(r, "fingerprint")?,
        status: u16::try_from(get::<i64>(r, "status")?).map_err(|_| corrupt("status"))?,
        body: get(r, "body")?,
        created_at: ts(r, "created_at")?,
    })
}

pub async fn get_idempotency(
    c: &mut SqliteConnection,
    scope: &str,
    key: &str,
) -> StoreResult<Option<IdempotencyRecord>> {
    sqlx::query("SELECT * FROM idempotency WHERE scope = $1 AND key = $2")
        .bind(scope)
        .bind(key)
        .fetch_optional(c)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(idempotency)
        .transpose()
}

pub async fn list_idempotency(c: &mut SqliteConnection) -> StoreResult<Vec<IdempotencyRecord>> {
    let rows = sqlx::query("SELECT * FROM idempotency ORDER BY scope, key")
        .fetch_all(c)
        .await
        .map_err(map_err)?;
    all(rows, idempotency)
}

pub async fn get_setting(c: &mut SqliteConnection, name: &str) -> StoreResult<Option<String>> {
    sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
        .bind(name)
        .fetch_optional(c)
        .await
        .map_err(map_err)
}

pub async fn list_settings(c: &mut SqliteConnection) -> StoreResult<Vec<SettingRecord>> {
    let rows = sqlx::query("SELECT name, value FROM settings ORDER BY name")
        .fetch_all(c)
        .await
        .map_err(map_err)?;
    rows.iter()
        .map(|r| {
            Ok(SettingRecord {
                name: get(r, "name")?,
                value: get(r, "value")?,
            })
        })
        .collect()
}

pub async fn audit_head(c: &mut SqliteConnection) -> StoreResult<ChainHead> {
    let r = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(c)
        .await
        .map_err(map_err)?;
    Ok(ChainHead {
        seq: get(&r, "seq")?,
        hash: hash32(&r, "hash")?,
    })
}

pub async fn audit_records_for_case(
    c: &mut SqliteConnection,
    case: Uuid,
) -> StoreResult<Vec<AuditRecord>> {
    let rows = sqlx::query("SELECT * FROM audit_event WHERE case_id = $1 ORDER BY seq")
        .bind(case)
        .fetch_all(c)
        .await
        .map_err(map_err)?;
    all(rows, audit)
}

pub async fn audit_records(
    c: &mut SqliteConnection,
    after: i64,
    limit: u32,
) -> StoreResult<Vec<AuditRecord>> {
    let rows = sqlx::query("SELECT * FROM audit_event WHERE seq > $1 ORDER BY seq LIMIT $2")
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(c)
        .await
        .map_err(map_err)?;
    all(rows, audit)
}

// ---- writes ---------------------------------------------------------------------------

pub async fn insert_organisation(
    c: &mut SqliteConnection,
    o: &OrganisationRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO organisations (id, kind, name, prefecture, agency_kind, created_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(o.id)
    .bind(o.kind.code())
    .bind(o.name.as_str())
    .bind(i64::from(o.prefecture.code()))
    .bind(o.agency_kind.map(SupportAgencyKind::code))
    .bind(unix_micros(o.created_at))
    .bind(o.version)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn insert_workplace(c: &mut SqliteConnection, w: &WorkplaceRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO workplaces (id, organisation_id, name, prefecture, has_occupational_physician, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(w.id)
    .bind(w.organisation_id)
    .bind(w.name.as_str())
    .bind(i64::from(w.prefecture.code()))
    .bind(w.has_occupational_physician)
    .bind(unix_micros(w.created_at))
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn insert_user(c: &mut SqliteConnection, u: &UserRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO users (id, login, display_name, email, password_hash, active, operator, demo, \
         totp_secret, totp_pending_secret, totp_last_step, created_at, password_changed_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(u.id)
    .bind(u.login.as_str())
    .bind(u.display_name.as_str())
    .bind(u.email.as_ref().map(Email::as_str))
    .bind(&u.password_hash)
    .bind(u.active)
    .bind(u.operator)
    .bind(u.demo)
    .bind(&u.totp_secret)
    .bind(&u.totp_pending_secret)
    .bind(u.totp_last_step)
    .bind(unix_micros(u.created_at))
    .bind(unix_micros(u.password_changed_at))
    .bind(u.version)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn update_user(c: &mut SqliteConnection, u: &UserRecord) -> StoreResult<bool> {
    let r = sqlx::query(
        "UPDATE users SET display_name = $1, email = $2, password_hash = $3, active = $4, \
         operator = $5, totp_secret = $6, totp_pending_secret = $7, totp_last_step = $8, \
         password_changed_at = $9, version = $10 WHERE id = $11 AND version = $12",
    )
    .bind(u.display_name.as_str())
    .bind(u.email.as_ref().map(Email::as_str))
    .bind(&u.password_hash)
    .bind(u.active)
    .bind(u.operator)
    .bind(&u.totp_secret)
    .bind(&u.totp_pending_secret)
    .bind(u.totp_last_step)
    .bind(unix_micros(u.password_changed_at))
    .bind(u.version)
    .bind(u.id)
    .bind(u.version - 1)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(r.rows_affected() == 1)
}

pub async fn insert_membership(c: &mut SqliteConnection, m: &MembershipRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO memberships (id, user_id, organisation_id, role, detail, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(m.id)
    .bind(m.user_id)
    .bind(m.organisation_id)
    .bind(m.role.code())
    .bind(serde_json::to_string(&m.detail).map_err(|e| StoreError::Other(e.to_string()))?)
    .bind(unix_micros(m.created_at))
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn delete_membership(c: &mut SqliteConnection, id: Uuid) -> StoreResult<bool> {
    let r = sqlx::query("DELETE FROM memberships WHERE id = $1")
        .bind(id)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(r.rows_affected() == 1)
}

pub async fn insert_invitation(c: &mut SqliteConnection, i: &InvitationRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO invitations (id, organisation_id, role, detail, token_hash, invited_by, note, \
         expires_at, used_at, used_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(i.id)
    .bind(i.organisation_id)
    .bind(i.role.code())
    .bind(serde_json::to_string(&i.detail).map_err(|e| StoreError::Other(e.to_string()))?)
    .bind(&i.token_hash)
    .bind(i.invited_by)
    .bind(&i.note)
    .bind(unix_micros(i.expires_at))
    .bind(i.used_at.map(unix_micros))
    .bind(i.used_by)
    .bind(unix_micros(i.created_at))
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn use_invitation(
    c: &mut SqliteConnection,
    id: Uuid,
    user_id: Uuid,
    at: OffsetDateTime,
) -> StoreResult<bool> {
    let r = sqlx::query(
        "UPDATE invitations SET used_at = $1, used_by = $2 WHERE id = $3 AND used_at IS NULL",
    )
    .bind(unix_micros(at))
    .bind(user_id)
    .bind(id)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(r.rows_affected() == 1)
}

pub async fn insert_session(c: &mut SqliteConnection, s: &SessionRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, handle, user_id, created_at, last_seen_at, \
         pending_second_factor, csrf_token, user_agent, client_ip) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&s.id_hash)
    .bind(&s.handle)
    .bind(s.user_id)
    .bind(unix_micros(s.created_at))
    .bind(unix_micros(s.last_seen_at))
    .bind(s.pending_second_factor)
    .bind(&s.csrf_token)
    .bind(&s.user_agent)
    .bind(&s.client_ip)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn touch_session(
    c: &mut SqliteConnection,
    id_hash: &str,
    at: OffsetDateTime,
) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(unix_micros(at))
        .bind(id_hash)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub async fn delete_session(c: &mut SqliteConnection, id_hash: &str) -> StoreResult<bool> {
    let r = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(r.rows_affected() == 1)
}

pub async fn delete_sessions_of_user(
    c: &mut SqliteConnection,
    user_id: Uuid,
    keep: Option<&str>,
) -> StoreResult<u64> {
    let r =
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id_hash <> $2)")
            .bind(user_id)
            .bind(keep)
            .execute(c)
            .await
            .map_err(map_err)?;
    Ok(r.rows_affected())
}

pub async fn delete_expired_sessions(
    c: &mut SqliteConnection,
    idle_before: OffsetDateTime,
    created_before: OffsetDateTime,
) -> StoreResult<u64> {
    let r = sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
        .bind(unix_micros(idle_before))
        .bind(unix_micros(created_before))
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(r.rows_affected())
}

pub async fn replace_recovery_codes(
    c: &mut SqliteConnection,
    user_id: Uuid,
    codes: &[RecoveryCodeRecord],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
    for code in codes {
        sqlx::query("INSERT INTO recovery_codes (user_id, digest, used_at) VALUES ($1, $2, $3)")
            .bind(user_id)
            .bind(&code.digest)
            .bind(code.used_at.map(unix_micros))
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

pub async fn use_recovery_code(
    c: &mut SqliteConnection,
    user_id: Uuid,
    digest: &str,
    at: OffsetDateTime,
) -> StoreResult<bool> {
    let r = sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND digest = $3 AND used_at IS NULL")
        .bind(unix_micros(at))
        .bind(user_id)
        .bind(digest)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(r.rows_affected() == 1)
}

pub async fn insert_login_failure(
    c: &mut SqliteConnection,
    f: &LoginFailureRecord,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
        .bind(&f.key)
        .bind(unix_micros(f.at))
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub async fn clear_login_failures(c: &mut SqliteConnection, key: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM login_failures WHERE key = $1")
        .bind(key)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub async fn prune_login_failures(
    c: &mut SqliteConnection,
    before: OffsetDateTime,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM login_failures WHERE at < $1")
        .bind(unix_micros(before))
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub async fn prune_idempotency(
    c: &mut SqliteConnection,
    before: OffsetDateTime,
) -> StoreResult<u64> {
    let r = sqlx::query("DELETE FROM idempotency WHERE created_at < $1")
        .bind(unix_micros(before))
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(r.rows_affected())
}

pub async fn insert_idempotency(
    c: &mut SqliteConnection,
    r: &IdempotencyRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO idempotency (scope, key, fingerprint, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&r.scope)
    .bind(&r.key)
    .bind(&r.fingerprint)
    .bind(i64::from(r.status))
    .bind(&r.body)
    .bind(unix_micros(r.created_at))
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn put_setting(c: &mut SqliteConnection, name: &str, value: &str) -> StoreResult<()> {
    sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
        .bind(name)
        .bind(value)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}

async fn insert_audit(c: &mut SqliteConnection, r: &AuditRecord) -> StoreResult<()> {
    let e = &r.event;
    sqlx::query(
        "INSERT INTO audit_event (seq, at, actor, actor_role, organisation, action, target, category, \
         case_id, outcome, purpose, operation_id, client_ip, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(r.seq)
    .bind(unix_micros(e.at))
    .bind(e.actor)
    .bind(e.actor_role.map(Role::code))
    .bind(e.organisation)
    .bind(e.action.code())
    .bind(&e.target)
    .bind(e.category.map(InformationCategory::code))
    .bind(e.case_id)
    .bind(e.outcome.code())
    .bind(&e.purpose)
    .bind(&e.operation_id)
    .bind(&e.client_ip)
    .bind(r.prev_hash.as_slice())
    .bind(r.hash.as_slice())
    .execute(&mut *c)
    .await
    .map_err(map_err)?;
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(r.seq)
        .bind(r.hash.as_slice())
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub async fn append_audit(
    c: &mut SqliteConnection,
    event: &AuditEvent,
) -> StoreResult<AuditRecord> {
    // The write transaction is BEGIN IMMEDIATE, so no other writer can move the head
    // between this read and the insert.
    let head = audit_head(&mut *c).await?;
    let record = AuditRecord::next(&head, event.clone());
    insert_audit(c, &record).await?;
    Ok(record)
}

pub async fn restore_audit_record(c: &mut SqliteConnection, r: &AuditRecord) -> StoreResult<()> {
    insert_audit(c, r).await
}

macro_rules! impl_read_repo {
    ($t:ty) => {
        impl ryoritsu_app::ports::ReadRepo for $t {
            async fn get_organisation(
                &mut self,
                id: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Option<ryoritsu_app::ports::OrganisationRecord>> {
                $crate::rows::get_organisation($crate::rows::AsConn::conn(self), id).await
            }
            async fn list_organisations(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::ports::OrganisationRecord>> {
                $crate::rows::list_organisations($crate::rows::AsConn::conn(self)).await
            }
            async fn list_workplaces(
                &mut self,
                org: Option<uuid::Uuid>,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::ports::WorkplaceRecord>> {
                $crate::rows::list_workplaces($crate::rows::AsConn::conn(self), org).await
            }
            async fn get_user(
                &mut self,
                id: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Option<ryoritsu_app::ports::UserRecord>> {
                $crate::rows::get_user($crate::rows::AsConn::conn(self), id).await
            }
            async fn find_user_by_login(
                &mut self,
                login: &ryoritsu_domain::account::LoginName,
            ) -> ryoritsu_app::StoreResult<Option<ryoritsu_app::ports::UserRecord>> {
                $crate::rows::find_user_by_login($crate::rows::AsConn::conn(self), login).await
            }
            async fn list_users(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::ports::UserRecord>> {
                $crate::rows::list_users($crate::rows::AsConn::conn(self)).await
            }
            async fn count_users(&mut self) -> ryoritsu_app::StoreResult<i64> {
                $crate::rows::count_users($crate::rows::AsConn::conn(self)).await
            }
            async fn list_memberships_of_user(
                &mut self,
                user: Option<uuid::Uuid>,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::ports::MembershipRecord>> {
                $crate::rows::list_memberships_of_user($crate::rows::AsConn::conn(self), user).await
            }
            async fn list_members(
                &mut self,
                org: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<
                Vec<(
                    ryoritsu_app::ports::MembershipRecord,
                    ryoritsu_app::ports::UserRecord,
                )>,
            > {
                $crate::rows::list_members($crate::rows::AsConn::conn(self), org).await
            }
            async fn find_invitation(
                &mut self,
                token_hash: &str,
            ) -> ryoritsu_app::StoreResult<Option<ryoritsu_app::ports::InvitationRecord>> {
                $crate::rows::find_invitation($crate::rows::AsConn::conn(self), token_hash).await
            }
            async fn list_invitations(
                &mut self,
                org: Option<uuid::Uuid>,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::ports::InvitationRecord>> {
                $crate::rows::list_invitations($crate::rows::AsConn::conn(self), org).await
            }
            async fn get_session(
                &mut self,
                id_hash: &str,
            ) -> ryoritsu_app::StoreResult<Option<ryoritsu_app::ports::SessionRecord>> {
                $crate::rows::get_session($crate::rows::AsConn::conn(self), id_hash).await
            }
            async fn list_sessions(
                &mut self,
                user: Option<uuid::Uuid>,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::ports::SessionRecord>> {
                $crate::rows::list_sessions($crate::rows::AsConn::conn(self), user).await
            }
            async fn list_recovery_codes(
                &mut self,
                user: Option<uuid::Uuid>,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::ports::RecoveryCodeRecord>> {
                $crate::rows::list_recovery_codes($crate::rows::AsConn::conn(self), user).await
            }
            async fn login_failures_since(
                &mut self,
                key: &str,
                since: time::OffsetDateTime,
            ) -> ryoritsu_app::StoreResult<Vec<time::OffsetDateTime>> {
                $crate::rows::login_failures_since($crate::rows::AsConn::conn(self), key, since)
                    .await
            }
            async fn list_login_failures(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::ports::LoginFailureRecord>> {
                $crate::rows::list_login_failures($crate::rows::AsConn::conn(self)).await
            }
            async fn get_idempotency(
                &mut self,
                scope: &str,
                key: &str,
            ) -> ryoritsu_app::StoreResult<Option<ryoritsu_app::ports::IdempotencyRecord>> {
                $crate::rows::get_idempotency($crate::rows::AsConn::conn(self), scope, key).await
            }
            async fn list_idempotency(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::ports::IdempotencyRecord>> {
                $crate::rows::list_idempotency($crate::rows::AsConn::conn(self)).await
            }
            async fn get_setting(
                &mut self,
                name: &str,
            ) -> ryoritsu_app::StoreResult<Option<String>> {
                $crate::rows::get_setting($crate::rows::AsConn::conn(self), name).await
            }
            async fn list_settings(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::ports::SettingRecord>> {
                $crate::rows::list_settings($crate::rows::AsConn::conn(self)).await
            }
            async fn audit_head(
                &mut self,
            ) -> ryoritsu_app::StoreResult<ryoritsu_domain::audit::ChainHead> {
                $crate::rows::audit_head($crate::rows::AsConn::conn(self)).await
            }
            async fn audit_records_for_case(
                &mut self,
                case: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_domain::audit::AuditRecord>> {
                $crate::rows::audit_records_for_case($crate::rows::AsConn::conn(self), case).await
            }
            async fn audit_records(
                &mut self,
                after: i64,
                limit: u32,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_domain::audit::AuditRecord>> {
                $crate::rows::audit_records($crate::rows::AsConn::conn(self), after, limit).await
            }
        }
    };
}
pub(crate) use impl_read_repo;

macro_rules! impl_write_repo {
    ($t:ty) => {
        impl ryoritsu_app::ports::WriteRepo for $t {
            async fn insert_organisation(
                &mut self,
                o: &ryoritsu_app::ports::OrganisationRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::rows::insert_organisation($crate::rows::AsConn::conn(self), o).await
            }
            async fn insert_workplace(
                &mut self,
                w: &ryoritsu_app::ports::WorkplaceRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::rows::insert_workplace($crate::rows::AsConn::conn(self), w).await
            }
            async fn insert_user(
                &mut self,
                u: &ryoritsu_app::ports::UserRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::rows::insert_user($crate::rows::AsConn::conn(self), u).await
            }
            async fn update_user(
                &mut self,
                u: &ryoritsu_app::ports::UserRecord,
            ) -> ryoritsu_app::StoreResult<bool> {
                $crate::rows::update_user($crate::rows::AsConn::conn(self), u).await
            }
            async fn insert_membership(
                &mut self,
                m: &ryoritsu_app::ports::MembershipRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::rows::insert_membership($crate::rows::AsConn::conn(self), m).await
            }
            async fn delete_membership(
                &mut self,
                id: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<bool> {
                $crate::rows::delete_membership($crate::rows::AsConn::conn(self), id).await
            }
            async fn insert_invitation(
                &mut self,
                i: &ryoritsu_app::ports::InvitationRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::rows::insert_invitation($crate::rows::AsConn::conn(self), i).await
            }
            async fn use_invitation(
                &mut self,
                id: uuid::Uuid,
                user: uuid::Uuid,
                at: time::OffsetDateTime,
            ) -> ryoritsu_app::StoreResult<bool> {
                $crate::rows::use_invitation($crate::rows::AsConn::conn(self), id, user, at).await
            }
            async fn insert_session(
                &mut self,
                s: &ryoritsu_app::ports::SessionRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::rows::insert_session($crate::rows::AsConn::conn(self), s).await
            }
            async fn touch_session(
                &mut self,
                id_hash: &str,
                at: time::OffsetDateTime,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::rows::touch_session($crate::rows::AsConn::conn(self), id_hash, at).await
            }
            async fn delete_session(&mut self, id_hash: &str) -> ryoritsu_app::StoreResult<bool> {
                $crate::rows::delete_session($crate::rows::AsConn::conn(self), id_hash).await
            }
            async fn delete_sessions_of_user(
                &mut self,
                user: uuid::Uuid,
                keep: Option<&str>,
            ) -> ryoritsu_app::StoreResult<u64> {
                $crate::rows::delete_sessions_of_user($crate::rows::AsConn::conn(self), user, keep)
                    .await
            }
            async fn delete_expired_sessions(
                &mut self,
                idle_before: time::OffsetDateTime,
                created_before: time::OffsetDateTime,
            ) -> ryoritsu_app::StoreResult<u64> {
                $crate::rows::delete_expired_sessions(
                    $crate::rows::AsConn::conn(self),
                    idle_before,
                    created_before,
                )
                .await
            }
            async fn replace_recovery_codes(
                &mut self,
                user: uuid::Uuid,
                codes: &[ryoritsu_app::ports::RecoveryCodeRecord],
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::rows::replace_recovery_codes($crate::rows::AsConn::conn(self), user, codes)
                    .await
            }
            async fn use_recovery_code(
                &mut self,
                user: uuid::Uuid,
                digest: &str,
                at: time::OffsetDateTime,
            ) -> ryoritsu_app::StoreResult<bool> {
                $crate::rows::use_recovery_code($crate::rows::AsConn::conn(self), user, digest, at)
                    .await
            }
            async fn insert_login_failure(
                &mut self,
                f: &ryoritsu_app::ports::LoginFailureRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::rows::insert_login_failure($crate::rows::AsConn::conn(self), f).await
            }
            async fn clear_login_failures(&mut self, key: &str) -> ryoritsu_app::StoreResult<()> {
                $crate::rows::clear_login_failures($crate::rows::AsConn::conn(self), key).await
            }
            async fn prune_login_failures(
                &mut self,
                before: time::OffsetDateTime,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::rows::prune_login_failures($crate::rows::AsConn::conn(self), before).await
            }
            async fn insert_idempotency(
                &mut self,
                r: &ryoritsu_app::ports::IdempotencyRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::rows::insert_idempotency($crate::rows::AsConn::conn(self), r).await
            }
            async fn prune_idempotency(
                &mut self,
                before: time::OffsetDateTime,
            ) -> ryoritsu_app::StoreResult<u64> {
                $crate::rows::prune_idempotency($crate::rows::AsConn::conn(self), before).await
            }
            async fn put_setting(
                &mut self,
                name: &str,
                value: &str,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::rows::put_setting($crate::rows::AsConn::conn(self), name, value).await
            }
            async fn append_audit(
                &mut self,
                event: &ryoritsu_domain::audit::AuditEvent,
            ) -> ryoritsu_app::StoreResult<ryoritsu_domain::audit::AuditRecord> {
                $crate::rows::append_audit($crate::rows::AsConn::conn(self), event).await
            }
            async fn restore_audit_record(
                &mut self,
                r: &ryoritsu_domain::audit::AuditRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::rows::restore_audit_record($crate::rows::AsConn::conn(self), r).await
            }
        }
    };
}
pub(crate) use impl_write_repo;
