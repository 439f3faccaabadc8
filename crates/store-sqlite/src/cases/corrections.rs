//! The SQL for the worker's requests for correction (訂正の請求), migration 0008.
//!
//! The request's target and its answer are spread over plain columns, so that the CHECK
//! constraints and triggers can hold the rules: a target is a document or a description,
//! and an answer is written once, never changed.

use crate::db::Row;
use crate::db::{self, Conn};
use ryoritsu_app::cases::correction_ports::{CorrectionFilter, CorrectionRecord};
use ryoritsu_app::error::{StoreError, StoreResult};
use ryoritsu_domain::correction::{
    CorrectionAnswer, CorrectionKind, CorrectionRequest, CorrectionStatus, CorrectionTarget,
    Decision, Responder,
};
use ryoritsu_domain::time_format::unix_micros;
use time::Date;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use uuid::Uuid;

use crate::map_err;
use crate::rows::{code, corrupt, get, ots, ts};

/// Calendar dates as ISO text, as the tasks' due dates are kept.
const DATE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

fn date_text(d: Date) -> StoreResult<String> {
    d.format(DATE)
        .map_err(|e| StoreError::Other(format!("cannot write date {d}: {e}")))
}

fn record(r: &Row) -> StoreResult<CorrectionRecord> {
    let target = match get::<String>(r, "target_type")?.as_str() {
        "document" => CorrectionTarget::Document {
            document: get::<Option<Uuid>>(r, "target_document")?
                .ok_or_else(|| corrupt("target_document"))?,
        },
        "other" => CorrectionTarget::Other {
            description: get::<Option<String>>(r, "target_description")?
                .ok_or_else(|| corrupt("target_description"))?,
        },
        _ => return Err(corrupt("target_type")),
    };
    let answer = match get::<Option<String>>(r, "decision")? {
        None => None,
        Some(d) => Some(CorrectionAnswer {
            decision: Decision::from_code(&d).ok_or_else(|| corrupt("decision"))?,
            reason: get(r, "reason")?,
            corrected_document: get(r, "corrected_document")?,
            answered_by: get::<Option<Uuid>>(r, "answered_by")?
                .ok_or_else(|| corrupt("answered_by"))?,
            answered_at: ots(r, "answered_at")?.ok_or_else(|| corrupt("answered_at"))?,
        }),
    };
    let due = Date::parse(&get::<String>(r, "due")?, DATE).map_err(|_| corrupt("due"))?;
    Ok(CorrectionRecord {
        request: CorrectionRequest {
            id: get(r, "id")?,
            case_id: get(r, "case_id")?,
            worker: get(r, "worker_id")?,
            target,
            kind: code(r, "kind", CorrectionKind::from_code)?,
            what_is_wrong: get(r, "what_is_wrong")?,
            should_say: get(r, "should_say")?,
            responder: code(r, "responder", Responder::from_code)?,
            responder_organisation: get(r, "responder_organisation")?,
            filed_at: ts(r, "filed_at")?,
            due,
            answer,
        },
        version: get(r, "version")?,
    })
}

pub async fn get_correction_request(
    c: &mut Conn,
    id: Uuid,
) -> StoreResult<Option<CorrectionRecord>> {
    db::query("SELECT * FROM correction_requests WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(record)
        .transpose()
}

pub async fn list_correction_requests(
    c: &mut Conn,
    filter: CorrectionFilter,
) -> StoreResult<Vec<CorrectionRecord>> {
    let query = match filter {
        CorrectionFilter::Case(case) => db::query(
            "SELECT * FROM correction_requests WHERE case_id = $1 \
             ORDER BY filed_at, id",
        )
        .bind(case),
        CorrectionFilter::Worker(worker) => db::query(
            "SELECT * FROM correction_requests WHERE worker_id = $1 \
             ORDER BY filed_at, id",
        )
        .bind(worker),
        CorrectionFilter::OpenFor(organisation) => db::query(
            "SELECT * FROM correction_requests \
             WHERE responder_organisation = $1 AND status = 'received' ORDER BY filed_at, id",
        )
        .bind(organisation),
    };
    let rows = query.fetch_all(c).await.map_err(map_err)?;
    rows.iter().map(record).collect()
}

pub async fn list_all_correction_requests(c: &mut Conn) -> StoreResult<Vec<CorrectionRecord>> {
    let rows = db::query(
        "/* full scan: backup */ SELECT * FROM correction_requests \
         ORDER BY filed_at, id",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    rows.iter().map(record).collect()
}

pub async fn insert_correction_request(c: &mut Conn, r: &CorrectionRecord) -> StoreResult<()> {
    let q = &r.request;
    let (target_type, target_document, target_description) = match &q.target {
        CorrectionTarget::Document { document } => ("document", Some(*document), None),
        CorrectionTarget::Other { description } => ("other", None, Some(description.as_str())),
    };
    let a = q.answer.as_ref();
    db::query(
        "INSERT INTO correction_requests (id, case_id, worker_id, target_type, target_document, \
         target_description, kind, what_is_wrong, should_say, responder, \
         responder_organisation, filed_at, due, status, decision, reason, corrected_document, \
         answered_by, answered_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
         $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
    )
    .bind(q.id)
    .bind(q.case_id)
    .bind(q.worker)
    .bind(target_type)
    .bind(target_document)
    .bind(target_description)
    .bind(q.kind.code())
    .bind(&q.what_is_wrong)
    .bind(&q.should_say)
    .bind(q.responder.code())
    .bind(q.responder_organisation)
    .bind(unix_micros(q.filed_at))
    .bind(date_text(q.due)?)
    .bind(q.status().code())
    .bind(a.map(|a| a.decision.code()))
    .bind(a.and_then(|a| a.reason.as_deref()))
    .bind(a.and_then(|a| a.corrected_document))
    .bind(a.map(|a| a.answered_by))
    .bind(a.map(|a| unix_micros(a.answered_at)))
    .bind(r.version)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn answer_correction_request(c: &mut Conn, r: &CorrectionRecord) -> StoreResult<bool> {
    let Some(a) = &r.request.answer else {
        return Ok(false);
    };
    let n = db::query(
        "UPDATE correction_requests SET status = $1, decision = $2, reason = $3, \
         corrected_document = $4, answered_by = $5, answered_at = $6, version = $7 \
         WHERE id = $8 AND version = $7 - 1 AND status = 'received'",
    )
    .bind(CorrectionStatus::Answered.code())
    .bind(a.decision.code())
    .bind(a.reason.as_deref())
    .bind(a.corrected_document)
    .bind(a.answered_by)
    .bind(unix_micros(a.answered_at))
    .bind(r.version)
    .bind(r.request.id)
    .execute(c)
    .await
    .map_err(map_err)?
    .rows_affected();
    Ok(n == 1)
}

macro_rules! impl_correction_reads {
    ($t:ty) => {
        impl ryoritsu_app::cases::correction_ports::CorrectionReads for $t {
            async fn get_correction_request(
                &mut self,
                id: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<
                Option<ryoritsu_app::cases::correction_ports::CorrectionRecord>,
            > {
                $crate::cases::corrections::get_correction_request(
                    $crate::rows::AsConn::conn(self),
                    id,
                )
                .await
            }
            async fn list_correction_requests(
                &mut self,
                filter: ryoritsu_app::cases::correction_ports::CorrectionFilter,
            ) -> ryoritsu_app::StoreResult<
                Vec<ryoritsu_app::cases::correction_ports::CorrectionRecord>,
            > {
                $crate::cases::corrections::list_correction_requests(
                    $crate::rows::AsConn::conn(self),
                    filter,
                )
                .await
            }
            async fn list_all_correction_requests(
                &mut self,
            ) -> ryoritsu_app::StoreResult<
                Vec<ryoritsu_app::cases::correction_ports::CorrectionRecord>,
            > {
                $crate::cases::corrections::list_all_correction_requests(
                    $crate::rows::AsConn::conn(self),
                )
                .await
            }
        }
    };
}
pub(crate) use impl_correction_reads;

macro_rules! impl_correction_writes {
    ($t:ty) => {
        impl ryoritsu_app::cases::correction_ports::CorrectionWrites for $t {
            async fn insert_correction_request(
                &mut self,
                r: &ryoritsu_app::cases::correction_ports::CorrectionRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::cases::corrections::insert_correction_request(
                    $crate::rows::AsConn::conn(self),
                    r,
                )
                .await
            }
            async fn answer_correction_request(
                &mut self,
                r: &ryoritsu_app::cases::correction_ports::CorrectionRecord,
            ) -> ryoritsu_app::StoreResult<bool> {
                $crate::cases::corrections::answer_correction_request(
                    $crate::rows::AsConn::conn(self),
                    r,
                )
                .await
            }
        }
    };
}
pub(crate) use impl_correction_writes;
