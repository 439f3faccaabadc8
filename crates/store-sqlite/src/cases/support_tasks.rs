//! The SQL for coordinators' own tasks on a case (支援タスク), migration 0009.

use crate::db::Row;
use crate::db::{self, Conn};
use ryoritsu_app::cases::support_task_ports::{SupportTaskFilter, SupportTaskRecord};
use ryoritsu_app::error::{StoreError, StoreResult};
use ryoritsu_domain::org::Role;
use ryoritsu_domain::support_task::SupportTask;
use ryoritsu_domain::time_format::unix_micros;
use time::Date;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use uuid::Uuid;

use crate::map_err;
use crate::rows::{code, corrupt, get, ots, ts};

/// Calendar dates as ISO text, as the other due dates are kept.
const DATE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

fn date_text(d: Date) -> StoreResult<String> {
    d.format(DATE)
        .map_err(|e| StoreError::Other(format!("cannot write date {d}: {e}")))
}

fn record(r: &Row) -> StoreResult<SupportTaskRecord> {
    Ok(SupportTaskRecord {
        task: SupportTask {
            id: get(r, "id")?,
            case_id: get(r, "case_id")?,
            organisation: get(r, "organisation_id")?,
            created_by: get(r, "created_by")?,
            created_role: code(r, "created_role", Role::from_code)?,
            title: get(r, "title")?,
            due: Date::parse(&get::<String>(r, "due")?, DATE).map_err(|_| corrupt("due"))?,
            note: get(r, "note")?,
            created_at: ts(r, "created_at")?,
            done_at: ots(r, "done_at")?,
            done_by: get(r, "done_by")?,
        },
        version: get(r, "version")?,
    })
}

pub async fn get_support_task(c: &mut Conn, id: Uuid) -> StoreResult<Option<SupportTaskRecord>> {
    db::query("SELECT * FROM support_tasks WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(record)
        .transpose()
}

pub async fn list_support_tasks(
    c: &mut Conn,
    filter: SupportTaskFilter,
) -> StoreResult<Vec<SupportTaskRecord>> {
    let query = match filter {
        SupportTaskFilter::Case(case) => db::query(
            "SELECT * FROM support_tasks WHERE case_id = $1 \
             ORDER BY due, created_at, id",
        )
        .bind(case),
        SupportTaskFilter::OpenOfOrganisation(organisation) => db::query(
            "SELECT * FROM support_tasks \
             WHERE organisation_id = $1 AND done_at IS NULL ORDER BY due, created_at, id",
        )
        .bind(organisation),
        SupportTaskFilter::OpenCreatedBy(user) => db::query(
            "SELECT * FROM support_tasks \
             WHERE created_by = $1 AND done_at IS NULL ORDER BY due, created_at, id",
        )
        .bind(user),
    };
    let rows = query.fetch_all(c).await.map_err(map_err)?;
    rows.iter().map(record).collect()
}

pub async fn list_all_support_tasks(c: &mut Conn) -> StoreResult<Vec<SupportTaskRecord>> {
    let rows = db::query(
        "/* full scan: backup */ SELECT * FROM support_tasks \
         ORDER BY due, created_at, id",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    rows.iter().map(record).collect()
}

pub async fn insert_support_task(c: &mut Conn, r: &SupportTaskRecord) -> StoreResult<()> {
    let t = &r.task;
    db::query(
        "INSERT INTO support_tasks (id, case_id, organisation_id, created_by, created_role, \
         title, due, note, created_at, done_at, done_by, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(t.id)
    .bind(t.case_id)
    .bind(t.organisation)
    .bind(t.created_by)
    .bind(t.created_role.code())
    .bind(&t.title)
    .bind(date_text(t.due)?)
    .bind(t.note.as_deref())
    .bind(unix_micros(t.created_at))
    .bind(t.done_at.map(unix_micros))
    .bind(t.done_by)
    .bind(r.version)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn complete_support_task(c: &mut Conn, r: &SupportTaskRecord) -> StoreResult<bool> {
    let (Some(done_at), Some(done_by)) = (r.task.done_at, r.task.done_by) else {
        return Ok(false);
    };
    let n = db::query(
        "UPDATE support_tasks SET done_at = $1, done_by = $2, version = $3 \
         WHERE id = $4 AND version = $3 - 1 AND done_at IS NULL",
    )
    .bind(unix_micros(done_at))
    .bind(done_by)
    .bind(r.version)
    .bind(r.task.id)
    .execute(c)
    .await
    .map_err(map_err)?
    .rows_affected();
    Ok(n == 1)
}

macro_rules! impl_support_task_reads {
    ($t:ty) => {
        impl ryoritsu_app::cases::support_task_ports::SupportTaskReads for $t {
            async fn get_support_task(
                &mut self,
                id: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<
                Option<ryoritsu_app::cases::support_task_ports::SupportTaskRecord>,
            > {
                $crate::cases::support_tasks::get_support_task($crate::rows::AsConn::conn(self), id)
                    .await
            }
            async fn list_support_tasks(
                &mut self,
                filter: ryoritsu_app::cases::support_task_ports::SupportTaskFilter,
            ) -> ryoritsu_app::StoreResult<
                Vec<ryoritsu_app::cases::support_task_ports::SupportTaskRecord>,
            > {
                $crate::cases::support_tasks::list_support_tasks(
                    $crate::rows::AsConn::conn(self),
                    filter,
                )
                .await
            }
            async fn list_all_support_tasks(
                &mut self,
            ) -> ryoritsu_app::StoreResult<
                Vec<ryoritsu_app::cases::support_task_ports::SupportTaskRecord>,
            > {
                $crate::cases::support_tasks::list_all_support_tasks($crate::rows::AsConn::conn(
                    self,
                ))
                .await
            }
        }
    };
}
pub(crate) use impl_support_task_reads;

macro_rules! impl_support_task_writes {
    ($t:ty) => {
        impl ryoritsu_app::cases::support_task_ports::SupportTaskWrites for $t {
            async fn insert_support_task(
                &mut self,
                r: &ryoritsu_app::cases::support_task_ports::SupportTaskRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::cases::support_tasks::insert_support_task(
                    $crate::rows::AsConn::conn(self),
                    r,
                )
                .await
            }
            async fn complete_support_task(
                &mut self,
                r: &ryoritsu_app::cases::support_task_ports::SupportTaskRecord,
            ) -> ryoritsu_app::StoreResult<bool> {
                $crate::cases::support_tasks::complete_support_task(
                    $crate::rows::AsConn::conn(self),
                    r,
                )
                .await
            }
        }
    };
}
pub(crate) use impl_support_task_writes;
