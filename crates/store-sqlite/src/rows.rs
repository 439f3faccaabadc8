//! The SQL, written once over a connection and exposed through the app's repository
//! traits on the transaction, the read connection and the snapshot alike.

use crate::db::Row;
use crate::db::{self, Conn, Decode};
use ryoritsu_app::error::{StoreError, StoreResult};
use ryoritsu_app::ports::{IdempotencyRecord, SettingRecord};
use ryoritsu_domain::audit::{AuditAction, AuditEvent, AuditRecord, ChainHead, Outcome};
use ryoritsu_domain::info::InformationCategory;
use ryoritsu_domain::org::Role;
use ryoritsu_domain::time_format::{from_unix_micros, unix_micros};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::map_err;

pub trait AsConn: Send {
    fn conn(&mut self) -> &mut Conn;
}

pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("unreadable value in {what}"))
}

pub(crate) fn get<T: Decode>(row: &Row, col: &str) -> StoreResult<T> {
    row.try_get(col).map_err(map_err)
}

pub(crate) fn ts(row: &Row, col: &str) -> StoreResult<OffsetDateTime> {
    from_unix_micros(get::<i64>(row, col)?).ok_or_else(|| corrupt(col))
}

pub(crate) fn ots(row: &Row, col: &str) -> StoreResult<Option<OffsetDateTime>> {
    get::<Option<i64>>(row, col)?
        .map(|v| from_unix_micros(v).ok_or_else(|| corrupt(col)))
        .transpose()
}

pub(crate) fn code<T>(row: &Row, col: &str, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    parse(&get::<String>(row, col)?).ok_or_else(|| corrupt(col))
}

pub(crate) fn ocode<T>(
    row: &Row,
    col: &str,
    parse: fn(&str) -> Option<T>,
) -> StoreResult<Option<T>> {
    get::<Option<String>>(row, col)?
        .map(|s| parse(&s).ok_or_else(|| corrupt(col)))
        .transpose()
}

pub(crate) fn hash32(row: &Row, col: &str) -> StoreResult<[u8; 32]> {
    get::<Vec<u8>>(row, col)?
        .try_into()
        .map_err(|_| corrupt(col))
}

fn audit(r: &Row) -> StoreResult<AuditRecord> {
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

pub(crate) fn all<T>(rows: Vec<Row>, f: fn(&Row) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    rows.iter().map(f).collect()
}

fn idempotency(r: &Row) -> StoreResult<IdempotencyRecord> {
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
    c: &mut Conn,
    scope: &str,
    key: &str,
) -> StoreResult<Option<IdempotencyRecord>> {
    db::query("SELECT * FROM idempotency WHERE scope = $1 AND key = $2")
        .bind(scope)
        .bind(key)
        .fetch_optional(c)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(idempotency)
        .transpose()
}

pub async fn list_idempotency(c: &mut Conn) -> StoreResult<Vec<IdempotencyRecord>> {
    let rows = db::query("/* full scan: backup */ SELECT * FROM idempotency ORDER BY scope, key")
        .fetch_all(c)
        .await
        .map_err(map_err)?;
    all(rows, idempotency)
}

pub async fn get_setting(c: &mut Conn, name: &str) -> StoreResult<Option<String>> {
    db::query_scalar("SELECT value FROM settings WHERE name = $1")
        .bind(name)
        .fetch_optional(c)
        .await
        .map_err(map_err)
}

pub async fn list_settings(c: &mut Conn) -> StoreResult<Vec<SettingRecord>> {
    let rows = db::query("SELECT name, value FROM settings ORDER BY name")
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

pub async fn audit_head(c: &mut Conn) -> StoreResult<ChainHead> {
    let r = db::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(c)
        .await
        .map_err(map_err)?;
    Ok(ChainHead {
        seq: get(&r, "seq")?,
        hash: hash32(&r, "hash")?,
    })
}

pub async fn audit_records_for_case(c: &mut Conn, case: Uuid) -> StoreResult<Vec<AuditRecord>> {
    let rows = db::query("SELECT * FROM audit_event WHERE case_id = $1 ORDER BY seq")
        .bind(case)
        .fetch_all(c)
        .await
        .map_err(map_err)?;
    all(rows, audit)
}

pub async fn audit_records_for_case_before(
    c: &mut Conn,
    case: Uuid,
    before: i64,
    limit: u32,
) -> StoreResult<Vec<AuditRecord>> {
    let rows = db::query(
        "SELECT * FROM audit_event WHERE case_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
    )
    .bind(case)
    .bind(before)
    .bind(i64::from(limit))
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    all(rows, audit)
}

pub async fn audit_records(c: &mut Conn, after: i64, limit: u32) -> StoreResult<Vec<AuditRecord>> {
    let rows = db::query("SELECT * FROM audit_event WHERE seq > $1 ORDER BY seq LIMIT $2")
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(c)
        .await
        .map_err(map_err)?;
    all(rows, audit)
}

pub async fn prune_idempotency(c: &mut Conn, before: OffsetDateTime) -> StoreResult<u64> {
    // Through idempotency_created (migration 0013).
    let r = db::query("DELETE FROM idempotency WHERE created_at < $1")
        .bind(unix_micros(before))
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(r.rows_affected())
}

pub async fn insert_idempotency(c: &mut Conn, r: &IdempotencyRecord) -> StoreResult<()> {
    db::query(
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

pub async fn put_setting(c: &mut Conn, name: &str, value: &str) -> StoreResult<()> {
    db::query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
        .bind(name)
        .bind(value)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Audit records per INSERT statement (15 values each, well under either backend's limit
/// of bound values per statement).
const AUDIT_ROWS_PER_INSERT: usize = 400;

/// Stores `records` (a run of the chain, in order) and moves the head to the last of them.
async fn insert_audits(c: &mut Conn, records: &[AuditRecord]) -> StoreResult<()> {
    let Some(last) = records.last() else {
        return Ok(());
    };
    for chunk in records.chunks(AUDIT_ROWS_PER_INSERT) {
        let mut q = db::insert_rows(
            "INSERT INTO audit_event (seq, at, actor, actor_role, organisation, action, target, \
             category, case_id, outcome, purpose, operation_id, client_ip, prev_hash, hash)",
            chunk.len(),
            15,
        );
        for r in chunk {
            let e = &r.event;
            q = q
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
                .bind(r.prev_hash)
                .bind(r.hash);
        }
        q.execute(&mut *c).await.map_err(map_err)?;
    }
    db::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(last.seq)
        .bind(last.hash.as_slice())
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub async fn append_audits(c: &mut Conn, events: &[AuditEvent]) -> StoreResult<Vec<AuditRecord>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    // The write transaction is BEGIN IMMEDIATE, so no other writer can move the head
    // between this read and the insert.
    let head = audit_head(&mut *c).await?;
    let records = ryoritsu_domain::audit::chain_after(&head, events);
    insert_audits(c, &records).await?;
    Ok(records)
}

pub async fn restore_audit_record(c: &mut Conn, r: &AuditRecord) -> StoreResult<()> {
    insert_audits(c, std::slice::from_ref(r)).await
}

macro_rules! impl_read_repo {
    ($t:ty) => {
        impl ryoritsu_app::ports::ReadRepo for $t {
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
            async fn audit_records_for_case_before(
                &mut self,
                case: uuid::Uuid,
                before: i64,
                limit: u32,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_domain::audit::AuditRecord>> {
                $crate::rows::audit_records_for_case_before(
                    $crate::rows::AsConn::conn(self),
                    case,
                    before,
                    limit,
                )
                .await
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
            async fn append_audits(
                &mut self,
                events: &[ryoritsu_domain::audit::AuditEvent],
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_domain::audit::AuditRecord>> {
                $crate::rows::append_audits($crate::rows::AsConn::conn(self), events).await
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
