//! The SQL for guidance sessions (療養・就労両立支援指導) and facility standards, migration 0011.

use crate::db::Row;
use crate::db::{self, Conn};
use ryoritsu_app::error::{StoreError, StoreResult};
use ryoritsu_app::hospital::ports::GuidanceFilter;
use ryoritsu_domain::fees::FacilityStandards;
use ryoritsu_domain::guidance::{
    Cancellation, FacilityStandardsRecord, GuidanceDetails, GuidanceSession,
};
use ryoritsu_domain::org::Role;
use ryoritsu_domain::time_format::unix_micros;
use time::Date;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use uuid::Uuid;

use crate::map_err;
use crate::rows::{code, corrupt, get, ts};

/// Calendar dates as ISO text, as the other dates are kept.
const DATE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

fn date_text(d: Date) -> StoreResult<String> {
    d.format(DATE)
        .map_err(|e| StoreError::Other(format!("cannot write date {d}: {e}")))
}

fn date(r: &Row, col: &str) -> StoreResult<Date> {
    Date::parse(&get::<String>(r, col)?, DATE).map_err(|_| corrupt(col))
}

fn session(r: &Row) -> StoreResult<GuidanceSession> {
    let details: GuidanceDetails =
        serde_json::from_str(&get::<String>(r, "details")?).map_err(|_| corrupt("details"))?;
    Ok(GuidanceSession {
        id: get(r, "id")?,
        version: get(r, "version")?,
        case_id: get(r, "case_id")?,
        institution: get(r, "institution_id")?,
        patient: get(r, "patient_id")?,
        details,
        cancelled: get::<Option<String>>(r, "cancel_reason")?.map(|reason| Cancellation { reason }),
        recorded_by: get(r, "recorded_by")?,
        recorded_role: code(r, "recorded_role", Role::from_code)?,
        recorded_at: ts(r, "recorded_at")?,
    })
}

fn standards(r: &Row) -> StoreResult<FacilityStandardsRecord> {
    Ok(FacilityStandardsRecord {
        id: get(r, "id")?,
        institution: get(r, "institution_id")?,
        effective_from: date(r, "effective_from")?,
        standards: FacilityStandards {
            consultation_support: get(r, "consultation_support")?,
            online: get(r, "online")?,
        },
        recorded_by: get(r, "recorded_by")?,
        recorded_at: ts(r, "recorded_at")?,
    })
}

pub async fn list_guidance_versions(
    c: &mut Conn,
    filter: GuidanceFilter,
) -> StoreResult<Vec<GuidanceSession>> {
    let query = match filter {
        GuidanceFilter::Session(id) => db::query(
            "SELECT * FROM guidance_sessions WHERE id = $1 \
             ORDER BY session_date, id, version",
        )
        .bind(id),
        GuidanceFilter::Case(case) => db::query(
            "SELECT * FROM guidance_sessions WHERE case_id = $1 \
             ORDER BY session_date, id, version",
        )
        .bind(case),
        GuidanceFilter::Institution(institution) => db::query(
            "SELECT * FROM guidance_sessions WHERE institution_id = $1 \
             ORDER BY session_date, id, version",
        )
        .bind(institution),
        GuidanceFilter::InstitutionPatient {
            institution,
            patient,
        } => db::query(
            "SELECT * FROM guidance_sessions \
             WHERE institution_id = $1 AND patient_id = $2 ORDER BY session_date, id, version",
        )
        .bind(institution)
        .bind(patient),
        GuidanceFilter::Patient(patient) => db::query(
            "SELECT * FROM guidance_sessions WHERE patient_id = $1 \
             ORDER BY session_date, id, version",
        )
        .bind(patient),
    };
    let rows = query.fetch_all(c).await.map_err(map_err)?;
    rows.iter().map(session).collect()
}

pub async fn list_all_guidance_versions(c: &mut Conn) -> StoreResult<Vec<GuidanceSession>> {
    let rows = db::query(
        "/* full scan: backup */ SELECT * FROM guidance_sessions \
         ORDER BY session_date, id, version",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    rows.iter().map(session).collect()
}

pub async fn list_facility_standards(
    c: &mut Conn,
    institution: Uuid,
) -> StoreResult<Vec<FacilityStandardsRecord>> {
    let rows = db::query(
        "SELECT * FROM facility_standards WHERE institution_id = $1 \
         ORDER BY effective_from, recorded_at, id",
    )
    .bind(institution)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    rows.iter().map(standards).collect()
}

pub async fn list_all_facility_standards(
    c: &mut Conn,
) -> StoreResult<Vec<FacilityStandardsRecord>> {
    let rows = db::query(
        "SELECT * FROM facility_standards \
         ORDER BY effective_from, recorded_at, id",
    )
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    rows.iter().map(standards).collect()
}

pub async fn insert_guidance_version(c: &mut Conn, s: &GuidanceSession) -> StoreResult<()> {
    let details = serde_json::to_string(&s.details)
        .map_err(|e| StoreError::Other(format!("cannot write details: {e}")))?;
    db::query(
        "INSERT INTO guidance_sessions (id, version, case_id, institution_id, patient_id, \
         physician_id, session_date, details, cancel_reason, recorded_by, recorded_role, \
         recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(s.id)
    .bind(s.version)
    .bind(s.case_id)
    .bind(s.institution)
    .bind(s.patient)
    .bind(s.details.physician)
    .bind(date_text(s.details.date)?)
    .bind(details)
    .bind(s.cancelled.as_ref().map(|c| c.reason.as_str()))
    .bind(s.recorded_by)
    .bind(s.recorded_role.code())
    .bind(unix_micros(s.recorded_at))
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn insert_facility_standards(
    c: &mut Conn,
    r: &FacilityStandardsRecord,
) -> StoreResult<()> {
    db::query(
        "INSERT INTO facility_standards (id, institution_id, effective_from, \
         consultation_support, online, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(r.id)
    .bind(r.institution)
    .bind(date_text(r.effective_from)?)
    .bind(r.standards.consultation_support)
    .bind(r.standards.online)
    .bind(r.recorded_by)
    .bind(unix_micros(r.recorded_at))
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}

macro_rules! impl_guidance_reads {
    ($t:ty) => {
        impl ryoritsu_app::hospital::ports::GuidanceReads for $t {
            async fn list_guidance_versions(
                &mut self,
                filter: ryoritsu_app::hospital::ports::GuidanceFilter,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_domain::guidance::GuidanceSession>> {
                $crate::hospital::list_guidance_versions($crate::rows::AsConn::conn(self), filter)
                    .await
            }
            async fn list_all_guidance_versions(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_domain::guidance::GuidanceSession>> {
                $crate::hospital::list_all_guidance_versions($crate::rows::AsConn::conn(self)).await
            }
            async fn list_facility_standards(
                &mut self,
                institution: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_domain::guidance::FacilityStandardsRecord>>
            {
                $crate::hospital::list_facility_standards(
                    $crate::rows::AsConn::conn(self),
                    institution,
                )
                .await
            }
            async fn list_all_facility_standards(
                &mut self,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_domain::guidance::FacilityStandardsRecord>>
            {
                $crate::hospital::list_all_facility_standards($crate::rows::AsConn::conn(self))
                    .await
            }
        }
    };
}
pub(crate) use impl_guidance_reads;

macro_rules! impl_guidance_writes {
    ($t:ty) => {
        impl ryoritsu_app::hospital::ports::GuidanceWrites for $t {
            async fn insert_guidance_version(
                &mut self,
                s: &ryoritsu_domain::guidance::GuidanceSession,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::hospital::insert_guidance_version($crate::rows::AsConn::conn(self), s).await
            }
            async fn insert_facility_standards(
                &mut self,
                r: &ryoritsu_domain::guidance::FacilityStandardsRecord,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::hospital::insert_facility_standards($crate::rows::AsConn::conn(self), r)
                    .await
            }
        }
    };
}
pub(crate) use impl_guidance_writes;
