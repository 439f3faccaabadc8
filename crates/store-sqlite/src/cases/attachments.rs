//! The SQL for scanned documents the worker uploads (紙の意見書など). Lists read every
//! column but the content; the content is read only when someone opens the scan.

use crate::db::Row;
use crate::db::{self, Conn};
use ryoritsu_app::StoreResult;
use ryoritsu_app::cases::attachment_ports::AttachmentRecord;
use ryoritsu_domain::attachment::ScanFormat;
use ryoritsu_domain::forms::FormKind;
use uuid::Uuid;

use crate::map_err;
use crate::rows::{code, get, ts};

/// Every column but `content`.
macro_rules! columns {
    () => {
        "id, case_id, form, format, file_name, size, sha256, uploaded_by, uploaded_at"
    };
}

fn attachment(r: &Row) -> StoreResult<AttachmentRecord> {
    Ok(AttachmentRecord {
        id: get(r, "id")?,
        case_id: get(r, "case_id")?,
        form: code(r, "form", FormKind::from_code)?,
        format: code(r, "format", ScanFormat::from_code)?,
        file_name: get(r, "file_name")?,
        size: get(r, "size")?,
        sha256: get(r, "sha256")?,
        uploaded_by: get(r, "uploaded_by")?,
        uploaded_at: ts(r, "uploaded_at")?,
    })
}

pub async fn list_attachments(c: &mut Conn, case: Uuid) -> StoreResult<Vec<AttachmentRecord>> {
    let rows = db::query(concat!(
        "SELECT ",
        columns!(),
        " FROM attachments WHERE case_id = $1 ORDER BY uploaded_at, id"
    ))
    .bind(case)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    rows.iter().map(attachment).collect()
}

pub async fn list_all_attachments(c: &mut Conn) -> StoreResult<Vec<AttachmentRecord>> {
    let rows = db::query(concat!(
        "/* full scan: backup */ SELECT ",
        columns!(),
        " FROM attachments ORDER BY uploaded_at, id"
    ))
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    rows.iter().map(attachment).collect()
}

pub async fn get_attachment(c: &mut Conn, id: Uuid) -> StoreResult<Option<AttachmentRecord>> {
    let row = db::query(concat!(
        "SELECT ",
        columns!(),
        " FROM attachments WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await
    .map_err(map_err)?;
    row.as_ref().map(attachment).transpose()
}

pub async fn attachment_content(c: &mut Conn, id: Uuid) -> StoreResult<Option<Vec<u8>>> {
    db::query_scalar("SELECT content FROM attachments WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await
        .map_err(map_err)
}

pub async fn insert_attachment(
    c: &mut Conn,
    a: &AttachmentRecord,
    content: &[u8],
) -> StoreResult<()> {
    db::query(
        "INSERT INTO attachments (id, case_id, form, format, file_name, size, sha256, content, \
         uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(a.id)
    .bind(a.case_id)
    .bind(a.form.code())
    .bind(a.format.code())
    .bind(&a.file_name)
    .bind(a.size)
    .bind(&a.sha256)
    .bind(content)
    .bind(a.uploaded_by)
    .bind(ryoritsu_domain::time_format::unix_micros(a.uploaded_at))
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

macro_rules! impl_attachment_reads {
    ($t:ty) => {
        impl ryoritsu_app::cases::attachment_ports::AttachmentReads for $t {
            async fn list_attachments(
                &mut self,
                case: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<
                Vec<ryoritsu_app::cases::attachment_ports::AttachmentRecord>,
            > {
                $crate::cases::attachments::list_attachments($crate::rows::AsConn::conn(self), case)
                    .await
            }
            async fn list_all_attachments(
                &mut self,
            ) -> ryoritsu_app::StoreResult<
                Vec<ryoritsu_app::cases::attachment_ports::AttachmentRecord>,
            > {
                $crate::cases::attachments::list_all_attachments($crate::rows::AsConn::conn(self))
                    .await
            }
            async fn get_attachment(
                &mut self,
                id: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<
                Option<ryoritsu_app::cases::attachment_ports::AttachmentRecord>,
            > {
                $crate::cases::attachments::get_attachment($crate::rows::AsConn::conn(self), id)
                    .await
            }
            async fn attachment_content(
                &mut self,
                id: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Option<Vec<u8>>> {
                $crate::cases::attachments::attachment_content($crate::rows::AsConn::conn(self), id)
                    .await
            }
        }
    };
}
pub(crate) use impl_attachment_reads;

macro_rules! impl_attachment_writes {
    ($t:ty) => {
        impl ryoritsu_app::cases::attachment_ports::AttachmentWrites for $t {
            async fn insert_attachment(
                &mut self,
                a: &ryoritsu_app::cases::attachment_ports::AttachmentRecord,
                content: &[u8],
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::cases::attachments::insert_attachment(
                    $crate::rows::AsConn::conn(self),
                    a,
                    content,
                )
                .await
            }
        }
    };
}
pub(crate) use impl_attachment_writes;
