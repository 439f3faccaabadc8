//! The SQL for the outbox of e-mail notices (no health information, only a link).

use crate::db::Row;
use crate::db::{self, Conn};
use ryoritsu_app::cases::notice_ports::{NoticeKind, NoticeRecord};
use ryoritsu_app::cases::ports::TaskRecord;
use ryoritsu_app::error::{StoreError, StoreResult};
use ryoritsu_domain::case::TaskKind;
use ryoritsu_domain::org::Role;
use ryoritsu_domain::time_format::unix_micros;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::map_err;
use crate::rows::{code, corrupt, get, ots, ts};

/// Task due dates are ISO text (as in the tasks table), so they compare as text.
const DATE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

fn notice(r: &Row) -> StoreResult<NoticeRecord> {
    Ok(NoticeRecord {
        id: get(r, "id")?,
        kind: code(r, "kind", NoticeKind::from_code)?,
        recipient: get(r, "recipient")?,
        address: get(r, "address")?,
        subject: get(r, "subject")?,
        body: get(r, "body")?,
        case_id: get(r, "case_id")?,
        task_id: get(r, "task_id")?,
        created_at: ts(r, "created_at")?,
        attempts: get(r, "attempts")?,
        next_attempt_at: ots(r, "next_attempt_at")?,
        sent_at: ots(r, "sent_at")?,
        last_error: get(r, "last_error")?,
    })
}

fn task(r: &Row) -> StoreResult<TaskRecord> {
    Ok(TaskRecord {
        id: get(r, "id")?,
        case_id: get(r, "case_id")?,
        kind: code(r, "kind", TaskKind::from_code)?,
        assignee_role: code(r, "assignee_role", Role::from_code)?,
        assignee_organisation: get(r, "assignee_organisation")?,
        due: Date::parse(&get::<String>(r, "due")?, DATE).map_err(|_| corrupt("due"))?,
        opened_at: ts(r, "opened_at")?,
        closed_at: ots(r, "closed_at")?,
    })
}

pub async fn list_notices(c: &mut Conn) -> StoreResult<Vec<NoticeRecord>> {
    let rows =
        db::query("/* full scan: backup */ SELECT * FROM notice_outbox ORDER BY created_at, id")
            .fetch_all(c)
            .await
            .map_err(map_err)?;
    rows.iter().map(notice).collect()
}

pub async fn due_notices(
    c: &mut Conn,
    now: OffsetDateTime,
    limit: i64,
) -> StoreResult<Vec<NoticeRecord>> {
    let rows = db::query(
        "SELECT * FROM notice_outbox \
         WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $1 AND sent_at IS NULL \
         ORDER BY next_attempt_at, id LIMIT $2",
    )
    .bind(unix_micros(now))
    .bind(limit)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    rows.iter().map(notice).collect()
}

pub async fn unreminded_overdue_tasks(c: &mut Conn, today: Date) -> StoreResult<Vec<TaskRecord>> {
    let today = today
        .format(DATE)
        .map_err(|e| StoreError::Other(format!("cannot write date {today}: {e}")))?;
    // The open tasks by due date through tasks_open_due (migration 0013), and for each one
    // a lookup in notice_outbox_reminder. `OFFSET 0` keeps the check a lookup per overdue
    // task: PostgreSQL turns a plain NOT EXISTS into an anti-join, and its generic plan
    // would hash every reminder ever written.
    let rows = db::query(
        "SELECT * FROM tasks t WHERE t.closed_at IS NULL AND t.due < $1 \
         AND NOT EXISTS (SELECT 1 FROM notice_outbox n \
             WHERE n.task_id = t.id AND n.kind = 'overdue' LIMIT 1 OFFSET 0) \
         ORDER BY t.due, t.id",
    )
    .bind(today)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    rows.iter().map(task).collect()
}

/// The insert, with an optional tail (the reminder's conflict clause).
macro_rules! insert_sql {
    ($($tail:literal)?) => {
        concat!(
            "INSERT INTO notice_outbox (id, kind, recipient, address, subject, body, case_id, \
             task_id, created_at, attempts, next_attempt_at, sent_at, last_error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            $(, $tail)?
        )
    };
}

async fn insert(c: &mut Conn, sql: &'static str, n: &NoticeRecord) -> StoreResult<u64> {
    let r = db::query(sql)
        .bind(n.id)
        .bind(n.kind.code())
        .bind(n.recipient)
        .bind(&n.address)
        .bind(&n.subject)
        .bind(&n.body)
        .bind(n.case_id)
        .bind(n.task_id)
        .bind(unix_micros(n.created_at))
        .bind(n.attempts)
        .bind(n.next_attempt_at.map(unix_micros))
        .bind(n.sent_at.map(unix_micros))
        .bind(&n.last_error)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(r.rows_affected())
}

pub async fn insert_notice(c: &mut Conn, n: &NoticeRecord) -> StoreResult<()> {
    insert(c, insert_sql!(), n).await.map(|_| ())
}

pub async fn insert_reminder(c: &mut Conn, n: &NoticeRecord) -> StoreResult<bool> {
    let sql = insert_sql!(" ON CONFLICT (task_id, recipient) WHERE kind = 'overdue' DO NOTHING");
    Ok(insert(c, sql, n).await? == 1)
}

pub async fn claim_notice(
    c: &mut Conn,
    id: Uuid,
    attempts: i64,
    lease_until: OffsetDateTime,
) -> StoreResult<bool> {
    let r = db::query(
        "UPDATE notice_outbox SET attempts = attempts + 1, next_attempt_at = $1 \
         WHERE id = $2 AND attempts = $3 AND sent_at IS NULL AND next_attempt_at IS NOT NULL",
    )
    .bind(unix_micros(lease_until))
    .bind(id)
    .bind(attempts)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(r.rows_affected() == 1)
}

pub async fn mark_notice_sent(c: &mut Conn, id: Uuid, at: OffsetDateTime) -> StoreResult<bool> {
    let r = db::query(
        "UPDATE notice_outbox SET sent_at = $1, next_attempt_at = NULL \
         WHERE id = $2 AND sent_at IS NULL",
    )
    .bind(unix_micros(at))
    .bind(id)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(r.rows_affected() == 1)
}

pub async fn mark_notice_failed(
    c: &mut Conn,
    id: Uuid,
    next_attempt_at: Option<OffsetDateTime>,
    error: &str,
) -> StoreResult<bool> {
    let r = db::query(
        "UPDATE notice_outbox SET next_attempt_at = $1, last_error = $2 \
         WHERE id = $3 AND sent_at IS NULL",
    )
    .bind(next_attempt_at.map(unix_micros))
    .bind(error)
    .bind(id)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(r.rows_affected() == 1)
}

macro_rules! impl_notice_reads {
    ($t:ty) => {
        impl ryoritsu_app::cases::notice_ports::NoticeReads for $t {
            async fn list_notices(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::cases::notice_ports::NoticeRecord>>
            {
                $crate::cases::notices::list_notices($crate::rows::AsConn::conn(self)).await
            }
            async fn due_notices(
                &mut self,
                now: time::OffsetDateTime,
                limit: i64,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::cases::notice_ports::NoticeRecord>>
            {
                $crate::cases::notices::due_notices($crate::rows::AsConn::conn(self), now, limit)
                    .await
            }
            async fn unreminded_overdue_tasks(
                &mut self,
                today: time::Date,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::cases::ports::TaskRecord>> {
                $crate::cases::notices::unreminded_overdue_tasks(
                    $crate::rows::AsConn::conn(self),
                    today,
                )
                .await
            }
        }
    };
}
pub(crate) use impl_notice_reads;

macro_rules! impl_notice_writes {
    ($t:ty) => {
        impl ryoritsu_app::cases::notice_ports::NoticeWrites for $t {
            async fn insert_notice(
                &mut self,
                n: &ryoritsu_app::cases::notice_ports::NoticeRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::cases::notices::insert_notice($crate::rows::AsConn::conn(self), n).await
            }
            async fn insert_reminder(
                &mut self,
                n: &ryoritsu_app::cases::notice_ports::NoticeRecord,
            ) -> ryoritsu_app::StoreResult<bool> {
                $crate::cases::notices::insert_reminder($crate::rows::AsConn::conn(self), n).await
            }
            async fn claim_notice(
                &mut self,
                id: uuid::Uuid,
                attempts: i64,
                lease_until: time::OffsetDateTime,
            ) -> ryoritsu_app::StoreResult<bool> {
                $crate::cases::notices::claim_notice(
                    $crate::rows::AsConn::conn(self),
                    id,
                    attempts,
                    lease_until,
                )
                .await
            }
            async fn mark_notice_sent(
                &mut self,
                id: uuid::Uuid,
                at: time::OffsetDateTime,
            ) -> ryoritsu_app::StoreResult<bool> {
                $crate::cases::notices::mark_notice_sent($crate::rows::AsConn::conn(self), id, at)
                    .await
            }
            async fn mark_notice_failed(
                &mut self,
                id: uuid::Uuid,
                next_attempt_at: Option<time::OffsetDateTime>,
                error: &str,
            ) -> ryoritsu_app::StoreResult<bool> {
                $crate::cases::notices::mark_notice_failed(
                    $crate::rows::AsConn::conn(self),
                    id,
                    next_attempt_at,
                    error,
                )
                .await
            }
        }
    };
}
pub(crate) use impl_notice_writes;
