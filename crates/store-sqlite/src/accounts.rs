//! The SQL of accounts: organisations, workplaces, users, memberships, invitations,
//! sessions, recovery codes, sign-in failures and the reading of each user's name.

use crate::db::Row;
use crate::db::{self, Conn};
use crate::map_err;
use crate::rows::{all, code, corrupt, get, ocode, ots, ts};
use ryoritsu_app::accounts::ports::{
    InvitationRecord, LoginFailureRecord, MemberCursor, MembershipRecord, OrganisationRecord,
    RecoveryCodeRecord, SessionRecord, UserReadingRecord, UserRecord, WorkplaceRecord,
};
use ryoritsu_app::error::{StoreError, StoreResult};
use ryoritsu_domain::account::{DisplayName, Email, LoginName};
use ryoritsu_domain::org::{OrganisationKind, Role, RoleDetail, SupportAgencyKind};
use ryoritsu_domain::prefecture::Prefecture;
use ryoritsu_domain::time_format::{from_unix_micros, unix_micros};
use time::OffsetDateTime;
use uuid::Uuid;

fn name(row: &Row, col: &str) -> StoreResult<DisplayName> {
    DisplayName::parse(col, col, &get::<String>(row, col)?).map_err(|_| corrupt(col))
}

fn prefecture(row: &Row, col: &str) -> StoreResult<Prefecture> {
    u8::try_from(get::<i64>(row, col)?)
        .ok()
        .and_then(Prefecture::from_code)
        .ok_or_else(|| corrupt(col))
}

fn detail(row: &Row) -> StoreResult<RoleDetail> {
    serde_json::from_str(&get::<String>(row, "detail")?).map_err(|_| corrupt("detail"))
}

fn organisation(r: &Row) -> StoreResult<OrganisationRecord> {
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

fn workplace(r: &Row) -> StoreResult<WorkplaceRecord> {
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

fn user(r: &Row) -> StoreResult<UserRecord> {
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

fn membership(r: &Row) -> StoreResult<MembershipRecord> {
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

fn invitation(r: &Row) -> StoreResult<InvitationRecord> {
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

fn session(r: &Row) -> StoreResult<SessionRecord> {
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

// ---- reads ----------------------------------------------------------------------------

pub async fn get_organisation(c: &mut Conn, id: Uuid) -> StoreResult<Option<OrganisationRecord>> {
    db::query("SELECT * FROM organisations WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(organisation)
        .transpose()
}

pub async fn list_organisations(c: &mut Conn) -> StoreResult<Vec<OrganisationRecord>> {
    let rows = db::query("SELECT * FROM organisations ORDER BY prefecture, kind, name, id")
        .fetch_all(c)
        .await
        .map_err(map_err)?;
    all(rows, organisation)
}

pub async fn list_workplaces(c: &mut Conn, org: Uuid) -> StoreResult<Vec<WorkplaceRecord>> {
    let rows =
        db::query("SELECT * FROM workplaces WHERE organisation_id = $1 ORDER BY created_at, id")
            .bind(org)
            .fetch_all(c)
            .await
            .map_err(map_err)?;
    all(rows, workplace)
}

pub async fn list_all_workplaces(c: &mut Conn) -> StoreResult<Vec<WorkplaceRecord>> {
    let rows =
        db::query("/* full scan: backup */ SELECT * FROM workplaces ORDER BY created_at, id")
            .fetch_all(c)
            .await
            .map_err(map_err)?;
    all(rows, workplace)
}

pub async fn get_user(c: &mut Conn, id: Uuid) -> StoreResult<Option<UserRecord>> {
    db::query(concat!(
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
    c: &mut Conn,
    login: &LoginName,
) -> StoreResult<Option<UserRecord>> {
    db::query(concat!(
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

pub async fn list_users(c: &mut Conn) -> StoreResult<Vec<UserRecord>> {
    let rows = db::query(concat!(
        "/* full scan: backup */ SELECT ",
        user_cols!(),
        " FROM users u ORDER BY u.login"
    ))
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, user)
}

pub async fn list_demo_users(c: &mut Conn) -> StoreResult<Vec<UserRecord>> {
    // The partial index users_demo (migration 0013) holds the demo accounts alone.
    let rows = db::query(concat!(
        "SELECT ",
        user_cols!(),
        " FROM users u WHERE u.demo ORDER BY u.login"
    ))
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, user)
}

pub async fn count_users(c: &mut Conn) -> StoreResult<i64> {
    db::query_scalar("/* full scan: maintenance */ SELECT count(*) FROM users")
        .fetch_one(c)
        .await
        .map_err(map_err)
}

pub async fn list_memberships_of_user(
    c: &mut Conn,
    user_id: Uuid,
) -> StoreResult<Vec<MembershipRecord>> {
    let rows = db::query(concat!(
        "SELECT ",
        membership_cols!(),
        " FROM memberships m JOIN organisations o ON o.id = m.organisation_id \
         WHERE m.user_id = $1 ORDER BY m.created_at, m.id"
    ))
    .bind(user_id)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, membership)
}

pub async fn list_all_memberships(c: &mut Conn) -> StoreResult<Vec<MembershipRecord>> {
    let rows = db::query(concat!(
        "/* full scan: backup */ SELECT ",
        membership_cols!(),
        " FROM memberships m JOIN organisations o ON o.id = m.organisation_id \
         ORDER BY m.created_at, m.id"
    ))
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, membership)
}

pub async fn list_members_in_role(
    c: &mut Conn,
    org: Uuid,
    role: Role,
    limit: u32,
) -> StoreResult<Vec<(MembershipRecord, UserRecord)>> {
    let rows = db::query(concat!(
        "SELECT ",
        membership_cols!(),
        ", ",
        user_cols!(),
        " FROM memberships m JOIN organisations o ON o.id = m.organisation_id \
         JOIN users u ON u.id = m.user_id \
         WHERE m.organisation_id = $1 AND m.role = $2 ORDER BY m.created_at, m.id LIMIT $3"
    ))
    .bind(org)
    .bind(role.code())
    .bind(i64::from(limit))
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    rows.iter()
        .map(|r| Ok((membership(r)?, user(r)?)))
        .collect()
}

pub async fn get_membership(c: &mut Conn, id: Uuid) -> StoreResult<Option<MembershipRecord>> {
    let row = db::query(concat!(
        "SELECT ",
        membership_cols!(),
        " FROM memberships m JOIN organisations o ON o.id = m.organisation_id WHERE m.id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await
    .map_err(map_err)?;
    row.as_ref().map(membership).transpose()
}

pub async fn list_members(
    c: &mut Conn,
    org: Uuid,
    after: Option<MemberCursor>,
    limit: u32,
) -> StoreResult<Vec<(MembershipRecord, UserRecord)>> {
    let rows = match after {
        None => db::query(concat!(
            "SELECT ",
            membership_cols!(),
            ", ",
            user_cols!(),
            " FROM memberships m JOIN organisations o ON o.id = m.organisation_id \
             JOIN users u ON u.id = m.user_id \
             WHERE m.organisation_id = $1 ORDER BY m.created_at, m.id LIMIT $2"
        ))
        .bind(org)
        .bind(i64::from(limit))
        .fetch_all(c)
        .await
        .map_err(map_err)?,
        Some(cur) => db::query(concat!(
            "SELECT ",
            membership_cols!(),
            ", ",
            user_cols!(),
            " FROM memberships m JOIN organisations o ON o.id = m.organisation_id \
             JOIN users u ON u.id = m.user_id \
             WHERE m.organisation_id = $1 AND (m.created_at, m.id) > ($2, $3) \
             ORDER BY m.created_at, m.id LIMIT $4"
        ))
        .bind(org)
        .bind(unix_micros(cur.joined_at))
        .bind(cur.membership)
        .bind(i64::from(limit))
        .fetch_all(c)
        .await
        .map_err(map_err)?,
    };
    rows.iter()
        .map(|r| Ok((membership(r)?, user(r)?)))
        .collect()
}

pub async fn find_invitation(
    c: &mut Conn,
    token_hash: &str,
) -> StoreResult<Option<InvitationRecord>> {
    db::query("SELECT * FROM invitations WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(c)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(invitation)
        .transpose()
}

pub async fn list_invitations(
    c: &mut Conn,
    org: Uuid,
    limit: u32,
) -> StoreResult<Vec<InvitationRecord>> {
    let rows = db::query(
        "SELECT * FROM invitations WHERE organisation_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(org)
    .bind(i64::from(limit))
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, invitation)
}

pub async fn list_all_invitations(c: &mut Conn) -> StoreResult<Vec<InvitationRecord>> {
    let rows =
        db::query("/* full scan: backup */ SELECT * FROM invitations ORDER BY created_at DESC, id")
            .fetch_all(c)
            .await
            .map_err(map_err)?;
    all(rows, invitation)
}

pub async fn get_session(c: &mut Conn, id_hash: &str) -> StoreResult<Option<SessionRecord>> {
    db::query("SELECT * FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .fetch_optional(c)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(session)
        .transpose()
}

pub async fn list_sessions(c: &mut Conn, user_id: Uuid) -> StoreResult<Vec<SessionRecord>> {
    let rows = db::query("SELECT * FROM sessions WHERE user_id = $1 ORDER BY created_at, id_hash")
        .bind(user_id)
        .fetch_all(c)
        .await
        .map_err(map_err)?;
    all(rows, session)
}

pub async fn list_all_sessions(c: &mut Conn) -> StoreResult<Vec<SessionRecord>> {
    let rows =
        db::query("/* full scan: backup */ SELECT * FROM sessions ORDER BY created_at, id_hash")
            .fetch_all(c)
            .await
            .map_err(map_err)?;
    all(rows, session)
}

fn recovery_code(r: &Row) -> StoreResult<RecoveryCodeRecord> {
    Ok(RecoveryCodeRecord {
        user_id: get(r, "user_id")?,
        digest: get(r, "digest")?,
        used_at: ots(r, "used_at")?,
    })
}

pub async fn list_recovery_codes(
    c: &mut Conn,
    user_id: Uuid,
) -> StoreResult<Vec<RecoveryCodeRecord>> {
    let rows = db::query("SELECT * FROM recovery_codes WHERE user_id = $1 ORDER BY digest")
        .bind(user_id)
        .fetch_all(c)
        .await
        .map_err(map_err)?;
    all(rows, recovery_code)
}

pub async fn list_all_recovery_codes(c: &mut Conn) -> StoreResult<Vec<RecoveryCodeRecord>> {
    let rows =
        db::query("/* full scan: backup */ SELECT * FROM recovery_codes ORDER BY user_id, digest")
            .fetch_all(c)
            .await
            .map_err(map_err)?;
    all(rows, recovery_code)
}

pub async fn login_failures_since(
    c: &mut Conn,
    key: &str,
    since: OffsetDateTime,
) -> StoreResult<Vec<OffsetDateTime>> {
    let rows: Vec<i64> =
        db::query_scalar("SELECT at FROM login_failures WHERE key = $1 AND at >= $2 ORDER BY at")
            .bind(key)
            .bind(unix_micros(since))
            .fetch_all(c)
            .await
            .map_err(map_err)?;
    rows.into_iter()
        .map(|v| from_unix_micros(v).ok_or_else(|| corrupt("at")))
        .collect()
}

pub async fn list_login_failures(c: &mut Conn) -> StoreResult<Vec<LoginFailureRecord>> {
    let rows = db::query("/* full scan: backup */ SELECT * FROM login_failures ORDER BY key, at")
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

// ---- writes ---------------------------------------------------------------------------

pub async fn insert_organisation(c: &mut Conn, o: &OrganisationRecord) -> StoreResult<()> {
    db::query(
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

pub async fn insert_workplace(c: &mut Conn, w: &WorkplaceRecord) -> StoreResult<()> {
    db::query(
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

pub async fn insert_user(c: &mut Conn, u: &UserRecord) -> StoreResult<()> {
    db::query(
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

pub async fn update_user(c: &mut Conn, u: &UserRecord) -> StoreResult<bool> {
    let r = db::query(
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

pub async fn insert_membership(c: &mut Conn, m: &MembershipRecord) -> StoreResult<()> {
    db::query(
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

pub async fn delete_membership(c: &mut Conn, id: Uuid) -> StoreResult<bool> {
    let r = db::query("DELETE FROM memberships WHERE id = $1")
        .bind(id)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(r.rows_affected() == 1)
}

pub async fn insert_invitation(c: &mut Conn, i: &InvitationRecord) -> StoreResult<()> {
    db::query(
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
    c: &mut Conn,
    id: Uuid,
    user_id: Uuid,
    at: OffsetDateTime,
) -> StoreResult<bool> {
    let r = db::query(
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

pub async fn insert_session(c: &mut Conn, s: &SessionRecord) -> StoreResult<()> {
    db::query(
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

pub async fn touch_session(c: &mut Conn, id_hash: &str, at: OffsetDateTime) -> StoreResult<()> {
    db::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(unix_micros(at))
        .bind(id_hash)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub async fn delete_session(c: &mut Conn, id_hash: &str) -> StoreResult<bool> {
    let r = db::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(r.rows_affected() == 1)
}

pub async fn delete_sessions_of_user(
    c: &mut Conn,
    user_id: Uuid,
    keep: Option<&str>,
) -> StoreResult<u64> {
    let r = match keep {
        None => db::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(c)
            .await
            .map_err(map_err)?,
        Some(keep) => db::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
            .bind(user_id)
            .bind(keep)
            .execute(c)
            .await
            .map_err(map_err)?,
    };
    Ok(r.rows_affected())
}

pub async fn delete_expired_sessions(
    c: &mut Conn,
    idle_before: OffsetDateTime,
    created_before: OffsetDateTime,
) -> StoreResult<u64> {
    // One range each, through sessions_last_seen and sessions_created (migration 0013): an
    // OR of the two would be planned as a walk through the whole table.
    let idle = db::query("DELETE FROM sessions WHERE last_seen_at < $1")
        .bind(unix_micros(idle_before))
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
    let old = db::query("DELETE FROM sessions WHERE created_at < $1")
        .bind(unix_micros(created_before))
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(idle.rows_affected() + old.rows_affected())
}

pub async fn replace_recovery_codes(
    c: &mut Conn,
    user_id: Uuid,
    codes: &[RecoveryCodeRecord],
) -> StoreResult<()> {
    db::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
    for code in codes {
        db::query("INSERT INTO recovery_codes (user_id, digest, used_at) VALUES ($1, $2, $3)")
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
    c: &mut Conn,
    user_id: Uuid,
    digest: &str,
    at: OffsetDateTime,
) -> StoreResult<bool> {
    let r = db::query("UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND digest = $3 AND used_at IS NULL")
        .bind(unix_micros(at))
        .bind(user_id)
        .bind(digest)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(r.rows_affected() == 1)
}

pub async fn insert_login_failure(c: &mut Conn, f: &LoginFailureRecord) -> StoreResult<()> {
    db::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
        .bind(&f.key)
        .bind(unix_micros(f.at))
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub async fn clear_login_failures(c: &mut Conn, key: &str) -> StoreResult<()> {
    db::query("DELETE FROM login_failures WHERE key = $1")
        .bind(key)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub async fn prune_login_failures(c: &mut Conn, before: OffsetDateTime) -> StoreResult<()> {
    // Through login_failures_at (migration 0013).
    db::query("DELETE FROM login_failures WHERE at < $1")
        .bind(unix_micros(before))
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub async fn user_reading(c: &mut Conn, user: Uuid) -> StoreResult<Option<String>> {
    let r = db::query("SELECT name_reading FROM users WHERE id = $1")
        .bind(user)
        .fetch_optional(c)
        .await
        .map_err(map_err)?;
    match r {
        Some(r) => get(&r, "name_reading"),
        None => Ok(None),
    }
}

pub async fn list_user_readings(c: &mut Conn) -> StoreResult<Vec<UserReadingRecord>> {
    let rows = db::query(
        "/* full scan: backup */ SELECT id, name_reading FROM users \
         WHERE name_reading IS NOT NULL ORDER BY id",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    rows.iter()
        .map(|r| {
            Ok(UserReadingRecord {
                user_id: get(r, "id")?,
                reading: get(r, "name_reading")?,
            })
        })
        .collect()
}

pub async fn set_user_reading(c: &mut Conn, user: Uuid, reading: Option<&str>) -> StoreResult<()> {
    db::query("UPDATE users SET name_reading = $1 WHERE id = $2")
        .bind(reading)
        .bind(user)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}

macro_rules! impl_account_reads {
    ($t:ty) => {
        impl ryoritsu_app::accounts::ports::AccountReads for $t {
            async fn get_organisation(
                &mut self,
                id: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Option<ryoritsu_app::accounts::ports::OrganisationRecord>> {
                $crate::accounts::get_organisation($crate::rows::AsConn::conn(self), id).await
            }
            async fn list_organisations(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::accounts::ports::OrganisationRecord>> {
                $crate::accounts::list_organisations($crate::rows::AsConn::conn(self)).await
            }
            async fn list_workplaces(
                &mut self,
                org: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::accounts::ports::WorkplaceRecord>> {
                $crate::accounts::list_workplaces($crate::rows::AsConn::conn(self), org).await
            }
            async fn list_all_workplaces(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::accounts::ports::WorkplaceRecord>> {
                $crate::accounts::list_all_workplaces($crate::rows::AsConn::conn(self)).await
            }
            async fn get_user(
                &mut self,
                id: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Option<ryoritsu_app::accounts::ports::UserRecord>> {
                $crate::accounts::get_user($crate::rows::AsConn::conn(self), id).await
            }
            async fn find_user_by_login(
                &mut self,
                login: &ryoritsu_domain::account::LoginName,
            ) -> ryoritsu_app::StoreResult<Option<ryoritsu_app::accounts::ports::UserRecord>> {
                $crate::accounts::find_user_by_login($crate::rows::AsConn::conn(self), login).await
            }
            async fn list_users(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::accounts::ports::UserRecord>> {
                $crate::accounts::list_users($crate::rows::AsConn::conn(self)).await
            }
            async fn list_demo_users(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::accounts::ports::UserRecord>> {
                $crate::accounts::list_demo_users($crate::rows::AsConn::conn(self)).await
            }
            async fn count_users(&mut self) -> ryoritsu_app::StoreResult<i64> {
                $crate::accounts::count_users($crate::rows::AsConn::conn(self)).await
            }
            async fn list_memberships_of_user(
                &mut self,
                user: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::accounts::ports::MembershipRecord>> {
                $crate::accounts::list_memberships_of_user($crate::rows::AsConn::conn(self), user).await
            }
            async fn list_all_memberships(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::accounts::ports::MembershipRecord>> {
                $crate::accounts::list_all_memberships($crate::rows::AsConn::conn(self)).await
            }
            async fn list_members_in_role(
                &mut self,
                org: uuid::Uuid,
                role: ryoritsu_domain::org::Role,
                limit: u32,
            ) -> ryoritsu_app::StoreResult<
                Vec<(
                    ryoritsu_app::accounts::ports::MembershipRecord,
                    ryoritsu_app::accounts::ports::UserRecord,
                )>,
            > {
                $crate::accounts::list_members_in_role($crate::rows::AsConn::conn(self), org, role, limit)
                    .await
            }
            async fn get_membership(
                &mut self,
                id: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Option<ryoritsu_app::accounts::ports::MembershipRecord>> {
                $crate::accounts::get_membership($crate::rows::AsConn::conn(self), id).await
            }
            async fn list_members(
                &mut self,
                org: uuid::Uuid,
                after: Option<ryoritsu_app::accounts::ports::MemberCursor>,
                limit: u32,
            ) -> ryoritsu_app::StoreResult<
                Vec<(
                    ryoritsu_app::accounts::ports::MembershipRecord,
                    ryoritsu_app::accounts::ports::UserRecord,
                )>,
            > {
                $crate::accounts::list_members($crate::rows::AsConn::conn(self), org, after, limit).await
            }
            async fn find_invitation(
                &mut self,
                token_hash: &str,
            ) -> ryoritsu_app::StoreResult<Option<ryoritsu_app::accounts::ports::InvitationRecord>> {
                $crate::accounts::find_invitation($crate::rows::AsConn::conn(self), token_hash).await
            }
            async fn list_invitations(
                &mut self,
                org: uuid::Uuid,
                limit: u32,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::accounts::ports::InvitationRecord>> {
                $crate::accounts::list_invitations($crate::rows::AsConn::conn(self), org, limit)
                    .await
            }
            async fn list_all_invitations(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::accounts::ports::InvitationRecord>> {
                $crate::accounts::list_all_invitations($crate::rows::AsConn::conn(self)).await
            }
            async fn get_session(
                &mut self,
                id_hash: &str,
            ) -> ryoritsu_app::StoreResult<Option<ryoritsu_app::accounts::ports::SessionRecord>> {
                $crate::accounts::get_session($crate::rows::AsConn::conn(self), id_hash).await
            }
            async fn list_sessions(
                &mut self,
                user: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::accounts::ports::SessionRecord>> {
                $crate::accounts::list_sessions($crate::rows::AsConn::conn(self), user).await
            }
            async fn list_all_sessions(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::accounts::ports::SessionRecord>> {
                $crate::accounts::list_all_sessions($crate::rows::AsConn::conn(self)).await
            }
            async fn list_recovery_codes(
                &mut self,
                user: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::accounts::ports::RecoveryCodeRecord>> {
                $crate::accounts::list_recovery_codes($crate::rows::AsConn::conn(self), user).await
            }
            async fn list_all_recovery_codes(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::accounts::ports::RecoveryCodeRecord>> {
                $crate::accounts::list_all_recovery_codes($crate::rows::AsConn::conn(self)).await
            }
            async fn login_failures_since(
                &mut self,
                key: &str,
                since: time::OffsetDateTime,
            ) -> ryoritsu_app::StoreResult<Vec<time::OffsetDateTime>> {
                $crate::accounts::login_failures_since($crate::rows::AsConn::conn(self), key, since)
                    .await
            }
            async fn list_login_failures(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::accounts::ports::LoginFailureRecord>> {
                $crate::accounts::list_login_failures($crate::rows::AsConn::conn(self)).await
            }
            async fn user_reading(
                &mut self,
                user: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Option<String>> {
                $crate::accounts::user_reading($crate::rows::AsConn::conn(self), user).await
            }
            async fn list_user_readings(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::accounts::ports::UserReadingRecord>> {
                $crate::accounts::list_user_readings($crate::rows::AsConn::conn(self)).await
            }
        }
    };
}
pub(crate) use impl_account_reads;

macro_rules! impl_account_writes {
    ($t:ty) => {
        impl ryoritsu_app::accounts::ports::AccountWrites for $t {
            async fn insert_organisation(
                &mut self,
                o: &ryoritsu_app::accounts::ports::OrganisationRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::accounts::insert_organisation($crate::rows::AsConn::conn(self), o).await
            }
            async fn insert_workplace(
                &mut self,
                w: &ryoritsu_app::accounts::ports::WorkplaceRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::accounts::insert_workplace($crate::rows::AsConn::conn(self), w).await
            }
            async fn insert_user(
                &mut self,
                u: &ryoritsu_app::accounts::ports::UserRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::accounts::insert_user($crate::rows::AsConn::conn(self), u).await
            }
            async fn update_user(
                &mut self,
                u: &ryoritsu_app::accounts::ports::UserRecord,
            ) -> ryoritsu_app::StoreResult<bool> {
                $crate::accounts::update_user($crate::rows::AsConn::conn(self), u).await
            }
            async fn insert_membership(
                &mut self,
                m: &ryoritsu_app::accounts::ports::MembershipRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::accounts::insert_membership($crate::rows::AsConn::conn(self), m).await
            }
            async fn delete_membership(
                &mut self,
                id: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<bool> {
                $crate::accounts::delete_membership($crate::rows::AsConn::conn(self), id).await
            }
            async fn insert_invitation(
                &mut self,
                i: &ryoritsu_app::accounts::ports::InvitationRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::accounts::insert_invitation($crate::rows::AsConn::conn(self), i).await
            }
            async fn use_invitation(
                &mut self,
                id: uuid::Uuid,
                user: uuid::Uuid,
                at: time::OffsetDateTime,
            ) -> ryoritsu_app::StoreResult<bool> {
                $crate::accounts::use_invitation($crate::rows::AsConn::conn(self), id, user, at)
                    .await
            }
            async fn insert_session(
                &mut self,
                s: &ryoritsu_app::accounts::ports::SessionRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::accounts::insert_session($crate::rows::AsConn::conn(self), s).await
            }
            async fn touch_session(
                &mut self,
                id_hash: &str,
                at: time::OffsetDateTime,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::accounts::touch_session($crate::rows::AsConn::conn(self), id_hash, at).await
            }
            async fn delete_session(&mut self, id_hash: &str) -> ryoritsu_app::StoreResult<bool> {
                $crate::accounts::delete_session($crate::rows::AsConn::conn(self), id_hash).await
            }
            async fn delete_sessions_of_user(
                &mut self,
                user: uuid::Uuid,
                keep: Option<&str>,
            ) -> ryoritsu_app::StoreResult<u64> {
                $crate::accounts::delete_sessions_of_user(
                    $crate::rows::AsConn::conn(self),
                    user,
                    keep,
                )
                .await
            }
            async fn delete_expired_sessions(
                &mut self,
                idle_before: time::OffsetDateTime,
                created_before: time::OffsetDateTime,
            ) -> ryoritsu_app::StoreResult<u64> {
                $crate::accounts::delete_expired_sessions(
                    $crate::rows::AsConn::conn(self),
                    idle_before,
                    created_before,
                )
                .await
            }
            async fn replace_recovery_codes(
                &mut self,
                user: uuid::Uuid,
                codes: &[ryoritsu_app::accounts::ports::RecoveryCodeRecord],
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::accounts::replace_recovery_codes(
                    $crate::rows::AsConn::conn(self),
                    user,
                    codes,
                )
                .await
            }
            async fn use_recovery_code(
                &mut self,
                user: uuid::Uuid,
                digest: &str,
                at: time::OffsetDateTime,
            ) -> ryoritsu_app::StoreResult<bool> {
                $crate::accounts::use_recovery_code(
                    $crate::rows::AsConn::conn(self),
                    user,
                    digest,
                    at,
                )
                .await
            }
            async fn insert_login_failure(
                &mut self,
                f: &ryoritsu_app::accounts::ports::LoginFailureRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::accounts::insert_login_failure($crate::rows::AsConn::conn(self), f).await
            }
            async fn clear_login_failures(&mut self, key: &str) -> ryoritsu_app::StoreResult<()> {
                $crate::accounts::clear_login_failures($crate::rows::AsConn::conn(self), key).await
            }
            async fn prune_login_failures(
                &mut self,
                before: time::OffsetDateTime,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::accounts::prune_login_failures($crate::rows::AsConn::conn(self), before)
                    .await
            }
            async fn set_user_reading(
                &mut self,
                user: uuid::Uuid,
                reading: Option<&str>,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::accounts::set_user_reading($crate::rows::AsConn::conn(self), user, reading)
                    .await
            }
        }
    };
}
pub(crate) use impl_account_writes;
