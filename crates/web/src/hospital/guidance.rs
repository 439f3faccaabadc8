//! The hospital workspace: guidance sessions (療養・就労両立支援指導) recorded on a case with
//! the fee engine's verdicts, monthly billing summaries with CSV, and the facility standards.
//!
//! Staff of a hospital attached to the case record sessions for their institution; the
//! verdict of B001-9 is shown as soon as a session is saved (or checked with 「算定を確認」
//! without saving). Sessions are never changed in place: a correction is a new version over
//! the version the caller saw (`If-Match`), a 取消 keeps the session with its reason. The
//! worker reads the sessions about them; nobody else learns of them.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use ryoritsu_app::accounts::Authenticated;
use ryoritsu_app::hospital::{BillingSummary, CaseGuidance, GuidanceEntry, RecordingAt};
use ryoritsu_app::ports::Store;
use ryoritsu_app::{App, AppError};
use ryoritsu_domain::fees::{
    Condition, Delivery, DocumentKind, Exclusions, FacilityStandards, InformationProvision,
    ListedDisease, Profession, RecipientRole, SessionVerdict, Setting, StaffPresent,
};
use ryoritsu_domain::guidance::{
    FacilityStandardsRecord, GuidanceInput, GuidanceSession, ITEMS, NOTE_MAX, REASON_MAX, Totals,
    YearMonth, field,
};
use ryoritsu_domain::policy::Denial;
use ryoritsu_domain::support_task::japan_date;
use ryoritsu_domain::time_format::format_micros;
use ryoritsu_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::api::{body_json, if_match, parse_body, post_once, with_etag};
use crate::http::csv::{CsvEncoding, encode};
use crate::http::extract::{PageForm, PathParam, QueryParams};
use crate::http::failure::{ErrorBody, Failure};
use crate::http::page::{Layout, jp_date, jp_datetime, render};
use crate::http::session::{Csrf, Ctx, User};
use crate::{Access, AppState, RouteTable};

const CLOSED_MESSAGE: &str =
    "この事例は終了しているため、両立支援指導の記録・訂正・取消はできません。";
const CANCELLED_MESSAGE: &str = "この指導の記録はすでに取り消されています。";
const STALE_MESSAGE: &str = "ほかの方が先にこの指導の記録を訂正または取消しました。最新の内容を確認してから、もう一度操作してください。";
const MAY_NOT_RECORD: &str = "両立支援指導を記録できるのは、この事例に加わっている医療機関の主治医と両立支援コーディネーターです。";
const NO_WORKSPACE: &str =
    "医療機関の業務画面は、医療機関の主治医・両立支援コーディネーター・組織管理者が使います。";

fn failure(e: AppError) -> Failure {
    let message = match &e {
        AppError::Conflict("case_closed") => CLOSED_MESSAGE,
        AppError::Conflict("guidance_cancelled") => CANCELLED_MESSAGE,
        AppError::PreconditionFailed => STALE_MESSAGE,
        AppError::Denied(Denial::Forbidden) => MAY_NOT_RECORD,
        _ => return Failure::from(e),
    };
    let mut f = Failure::from(e);
    f.message = message.to_owned();
    f
}

// ---- labels -----------------------------------------------------------------------------

fn setting_label(s: Setting) -> &'static str {
    match s {
        Setting::Outpatient => "外来",
        Setting::Inpatient => "入院中",
    }
}

fn delivery_label(d: Delivery) -> &'static str {
    match d {
        Delivery::FaceToFace => "対面",
        Delivery::Online => "情報通信機器（オンライン）",
    }
}

/// The stable code of one of the engine's values (its serde name).
fn code_of<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// One of the engine's values from its code; `None` for an empty or unknown code.
fn from_code<T: serde::de::DeserializeOwned>(code: &str) -> Option<T> {
    if code.is_empty() || code.len() > 64 {
        return None;
    }
    serde_json::from_value(serde_json::Value::String(code.to_owned())).ok()
}

const DOCUMENTS: [DocumentKind; 3] = [
    DocumentKind::JointlyPrepared,
    DocumentKind::WorkerWrittenEmployerChecked,
    DocumentKind::Other,
];
const RECIPIENTS: [RecipientRole; 7] = [
    RecipientRole::Sangyoi,
    RecipientRole::GeneralSafetyHealthManager,
    RecipientRole::HealthSupervisor,
    RecipientRole::SafetyHealthPromoter,
    RecipientRole::PublicHealthNurse,
    RecipientRole::HrStaff,
    RecipientRole::Other,
];
const PROFESSIONS: [Profession; 5] = [
    Profession::Nurse,
    Profession::SocialWorker,
    Profession::MentalHealthSocialWorker,
    Profession::CertifiedPsychologist,
    Profession::Other,
];
/// Staff rows on the form.
const STAFF_ROWS: usize = 3;

// ---- API ----------------------------------------------------------------------------------

/// A session as recorded. Values are the codes of `ryoritsu fees evaluate` (docs/fees.md).
#[derive(Debug, Deserialize, ToSchema)]
pub struct GuidanceSessionIn {
    /// 実施日: `2026-07-01`, `令和8年7月1日`, `R8.7.1` …; today or earlier.
    pub date: String,
    /// `outpatient` | `inpatient`.
    #[schema(value_type = String)]
    pub setting: Setting,
    /// `face_to_face` | `online`.
    #[schema(value_type = String)]
    pub delivery: Delivery,
    /// The 主治医 who gave the guidance (a user of the institution); defaults to the caller
    /// when they are one.
    #[serde(default)]
    pub physician_id: Option<Uuid>,
    /// `{listed_disease, repeated_treatment, work_consideration_needed}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub condition: Condition,
    /// 患者の求めを受け、同意を得ている.
    pub requested_with_consent: bool,
    /// `{document, recipient, workplace_has_sangyoi, b009_or_b010_billed}` when information
    /// was given to the workplace at this visit.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub information: Option<InformationProvision>,
    /// `[{profession, training_completed, dedicated}]`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub staff_present: Vec<StaffPresent>,
    /// `{physician_is_workplace_sangyoi, same_capital}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub exclusions: Exclusions,
    /// A note (up to 1,000 characters).
    #[serde(default)]
    pub note: Option<String>,
}

impl GuidanceSessionIn {
    fn input(&self) -> GuidanceInput<'_> {
        GuidanceInput {
            date: &self.date,
            setting: self.setting,
            delivery: self.delivery,
            physician: self.physician_id,
            condition: self.condition.clone(),
            requested_with_consent: self.requested_with_consent,
            information: self.information.clone(),
            staff_present: self.staff_present.clone(),
            exclusions: self.exclusions,
            note: self.note.as_deref(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CancelIn {
    /// Why the record is cancelled (up to 500 characters).
    pub reason: String,
}

/// A session with the engine's verdict.
#[derive(Debug, Serialize, ToSchema)]
pub struct GuidanceSessionOut {
    pub id: Uuid,
    /// Also the ETag; corrections and cancellations need it in `If-Match`.
    pub version: i64,
    pub case_id: Uuid,
    pub institution_id: Uuid,
    pub institution_name: String,
    /// YYYY-MM-DD.
    pub date: String,
    #[schema(value_type = String)]
    pub setting: Setting,
    #[schema(value_type = String)]
    pub delivery: Delivery,
    pub physician_id: Uuid,
    pub physician_name: String,
    #[schema(value_type = Object)]
    pub condition: Condition,
    pub requested_with_consent: bool,
    #[schema(value_type = Option<Object>)]
    pub information: Option<InformationProvision>,
    #[schema(value_type = Vec<Object>)]
    pub staff_present: Vec<StaffPresent>,
    #[schema(value_type = Object)]
    pub exclusions: Exclusions,
    pub note: Option<String>,
    pub cancelled: bool,
    pub cancel_reason: Option<String>,
    pub recorded_by: Uuid,
    pub recorded_by_name: String,
    pub recorded_role: String,
    pub recorded_at: String,
    /// Whether the caller may correct or cancel it now.
    pub may_change: bool,
    /// The engine's verdict (as `ryoritsu fees evaluate` gives it; `index` counts the
    /// patient's sessions at the institution); null for a cancelled session.
    #[schema(value_type = Option<Object>)]
    pub verdict: Option<SessionVerdict>,
}

fn session_out(e: &GuidanceEntry) -> GuidanceSessionOut {
    let s = &e.session;
    let d = &s.details;
    GuidanceSessionOut {
        id: s.id,
        version: s.version,
        case_id: s.case_id,
        institution_id: s.institution,
        institution_name: e.institution_name.clone(),
        date: d.date.to_string(),
        setting: d.setting,
        delivery: d.delivery,
        physician_id: d.physician,
        physician_name: e.physician_name.clone(),
        condition: d.condition.clone(),
        requested_with_consent: d.requested_with_consent,
        information: d.information.clone(),
        staff_present: d.staff_present.clone(),
        exclusions: d.exclusions,
        note: d.note.clone(),
        cancelled: s.is_cancelled(),
        cancel_reason: s.cancelled.as_ref().map(|c| c.reason.clone()),
        recorded_by: s.recorded_by,
        recorded_by_name: e.recorded_by_name.clone(),
        recorded_role: s.recorded_role.code().into(),
        recorded_at: format_micros(s.recorded_at),
        may_change: e.may_change,
        verdict: e.verdict.clone(),
    }
}

/// The case's 両立支援指導 sessions with the engine's verdicts: hospital staff of an
/// attached institution see their institution's, the worker every session about them
/// (the read is recorded). 404 for everyone else, the employer included.
#[utoipa::path(get, path = "/api/v1/cases/{id}/guidance-sessions", tag = "guidance",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<GuidanceSessionOut>), (status = 404, body = ErrorBody)))]
pub async fn list<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
) -> Response {
    match st.app.case_guidance(&ctx, &auth, id).await {
        Ok(g) => (
            StatusCode::OK,
            axum::Json(g.entries.iter().map(session_out).collect::<Vec<_>>()),
        )
            .into_response(),
        Err(e) => failure(e).into_response(),
    }
}

/// Records a session: staff of a hospital attached to the open case, for their institution.
/// The answer carries the verdict. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/cases/{id}/guidance-sessions", tag = "guidance",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    request_body = GuidanceSessionIn,
    responses((status = 201, body = GuidanceSessionOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let path = format!("/api/v1/cases/{id}/guidance-sessions");
    post_once(
        &st,
        format!("user:{}", auth.user.id),
        &headers,
        &path,
        &body,
        || async {
            let b: GuidanceSessionIn = parse_body(&body)?;
            st.app
                .plan_record_guidance(&ctx, &auth, id, b.input())
                .await
                .map_err(failure)
        },
        |e| body_json(201, &session_out(e)),
    )
    .await
}

/// The verdict a session would get, without recording it (「算定を確認」).
#[utoipa::path(post, path = "/api/v1/cases/{id}/guidance-sessions/preview", tag = "guidance",
    params(("id" = Uuid, Path)),
    request_body = GuidanceSessionIn,
    responses((status = 200, body = GuidanceSessionOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn preview<S: Store>(
    State(st): State<AppState<S>>,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    body: axum::body::Bytes,
) -> Response {
    let b: GuidanceSessionIn = match parse_body(&body) {
        Ok(b) => b,
        Err(f) => return f.into_response(),
    };
    match st.app.preview_guidance(&auth, id, b.input()).await {
        Ok(e) => (StatusCode::OK, axum::Json(session_out(&e))).into_response(),
        Err(e) => failure(e).into_response(),
    }
}

/// Corrects a session by a new version. Needs `If-Match` (412 stale, 428 missing); 409 once
/// cancelled or on a closed case.
#[utoipa::path(put, path = "/api/v1/guidance-sessions/{id}", tag = "guidance",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    request_body = GuidanceSessionIn,
    responses((status = 200, body = GuidanceSessionOut, headers(("ETag" = String))), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 428, body = ErrorBody)))]
pub async fn correct<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let version = match if_match(&headers) {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    let b: GuidanceSessionIn = match parse_body(&body) {
        Ok(b) => b,
        Err(f) => return f.into_response(),
    };
    match st
        .app
        .correct_guidance(&ctx, &auth, id, version, b.input())
        .await
    {
        Ok(e) => with_etag(
            (StatusCode::OK, axum::Json(session_out(&e))).into_response(),
            e.session.version,
        ),
        Err(e) => failure(e).into_response(),
    }
}

/// Cancels (取消) a session with a reason: it stays on record and is no longer billed.
/// Needs `If-Match`.
#[utoipa::path(post, path = "/api/v1/guidance-sessions/{id}/cancel", tag = "guidance",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    request_body = CancelIn,
    responses((status = 204, headers(("ETag" = String))), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 412, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 428, body = ErrorBody)))]
pub async fn cancel<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let version = match if_match(&headers) {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    let b: CancelIn = match parse_body(&body) {
        Ok(b) => b,
        Err(f) => return f.into_response(),
    };
    match st
        .app
        .cancel_guidance(&ctx, &auth, id, version, &b.reason)
        .await
    {
        Ok(s) => with_etag(StatusCode::NO_CONTENT.into_response(), s.version),
        Err(e) => failure(e).into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct BillingQuery {
    /// `YYYY-MM`; this month when omitted.
    #[serde(default)]
    pub month: Option<String>,
    /// The medical institution; the caller's first when omitted.
    #[serde(default)]
    pub organisation: Option<Uuid>,
    /// CSV only: `utf8` (default) or `cp932`.
    #[serde(default)]
    pub encoding: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemTotalOut {
    /// `initial` | `follow_up` | `initial_online` | `follow_up_online` | `consultation_support`.
    pub item: String,
    pub label: String,
    pub count: u32,
    pub points: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotalsOut {
    /// Sessions recorded in the month (cancelled ones not counted).
    pub sessions: u32,
    /// Sessions with something billable.
    pub billable: u32,
    pub not_billable: u32,
    pub items: Vec<ItemTotalOut>,
    pub points: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhysicianTotalsOut {
    pub physician_id: Uuid,
    pub physician_name: String,
    pub totals: TotalsOut,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillingSummaryOut {
    pub organisation_id: Uuid,
    pub organisation_name: String,
    /// YYYY-MM.
    pub month: String,
    pub totals: TotalsOut,
    pub physicians: Vec<PhysicianTotalsOut>,
}

fn totals_out(t: &Totals) -> TotalsOut {
    TotalsOut {
        sessions: t.sessions,
        billable: t.billable,
        not_billable: t.not_billable,
        items: ITEMS
            .iter()
            .map(|&i| {
                let x = t.item(i);
                ItemTotalOut {
                    item: code_of(&i),
                    label: i.label().into(),
                    count: x.count,
                    points: x.points,
                }
            })
            .collect(),
        points: t.points,
    }
}

fn physician_rows(b: &BillingSummary) -> Vec<(Uuid, String, &Totals)> {
    let mut rows: Vec<(Uuid, String, &Totals)> = b
        .summary
        .physicians
        .iter()
        .map(|(id, t)| {
            (
                *id,
                b.physician_names.get(id).cloned().unwrap_or_default(),
                t,
            )
        })
        .collect();
    rows.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    rows
}

fn summary_out(b: &BillingSummary) -> BillingSummaryOut {
    BillingSummaryOut {
        organisation_id: b.summary.institution,
        organisation_name: b.institution_name.clone(),
        month: b.month.to_string(),
        totals: totals_out(&b.summary.totals),
        physicians: physician_rows(b)
            .into_iter()
            .map(|(id, name, t)| PhysicianTotalsOut {
                physician_id: id,
                physician_name: name,
                totals: totals_out(t),
            })
            .collect(),
    }
}

/// The month and institution a billing request is about.
async fn billing_target<S: Store>(
    app: &App<S>,
    auth: &Authenticated,
    q: &BillingQuery,
) -> Result<(Uuid, YearMonth), Failure> {
    let month = match q.month.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => YearMonth::parse(m)
            .map_err(|e| Failure::from(AppError::Invalid(ValidationErrors::from(e))))?,
        None => YearMonth::of(japan_date(app.now())),
    };
    let org = match q.organisation {
        Some(o) => o,
        None => app
            .hospital_workspaces(auth)
            .await
            .map_err(Failure::from)?
            .first()
            .map(|w| w.0)
            .ok_or_else(Failure::not_found)?,
    };
    Ok((org, month))
}

async fn summary<S: Store>(
    st: &AppState<S>,
    ctx: &ryoritsu_app::RequestContext,
    auth: &Authenticated,
    q: &BillingQuery,
) -> Result<BillingSummary, Failure> {
    let (org, month) = billing_target(&st.app, auth, q).await?;
    st.app
        .billing_summary(ctx, auth, org, month)
        .await
        .map_err(Failure::from)
}

/// The month's billing summary of a medical institution: its totals, then per physician
/// (sessions, billable count and points per item, not billable). For the institution's
/// staff; 404 for everyone else.
#[utoipa::path(get, path = "/api/v1/hospital/billing", tag = "guidance",
    params(("month" = Option<String>, Query, description = "YYYY-MM（省略時は今月）"),
        ("organisation" = Option<Uuid>, Query, description = "医療機関（省略時は所属する最初の医療機関）")),
    responses((status = 200, body = BillingSummaryOut), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn api_billing<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    QueryParams(q): QueryParams<BillingQuery>,
) -> Response {
    match summary(&st, &ctx, &auth, &q).await {
        Ok(b) => (StatusCode::OK, axum::Json(summary_out(&b))).into_response(),
        Err(f) => f.into_response(),
    }
}

const CSV_HEADINGS: [&str; 17] = [
    "対象月",
    "区分",
    "主治医",
    "指導の回数",
    "算定できた回数",
    "算定できなかった回数",
    "初回 回数",
    "初回 点数",
    "２回目以降 回数",
    "２回目以降 点数",
    "初回（情報通信機器） 回数",
    "初回（情報通信機器） 点数",
    "２回目以降（情報通信機器） 回数",
    "２回目以降（情報通信機器） 点数",
    "相談支援加算 回数",
    "相談支援加算 点数",
    "合計点数",
];

fn csv_row(month: &str, kind: &str, name: &str, t: &Totals) -> Vec<String> {
    let mut row = vec![
        month.to_owned(),
        kind.to_owned(),
        name.to_owned(),
        t.sessions.to_string(),
        t.billable.to_string(),
        t.not_billable.to_string(),
    ];
    for i in ITEMS {
        let x = t.item(i);
        row.push(x.count.to_string());
        row.push(x.points.to_string());
    }
    row.push(t.points.to_string());
    row
}

fn csv_rows(b: &BillingSummary) -> Vec<Vec<String>> {
    let month = b.month.to_string();
    let mut rows = vec![csv_row(
        &month,
        "医療機関計",
        &b.institution_name,
        &b.summary.totals,
    )];
    for (_, name, t) in physician_rows(b) {
        rows.push(csv_row(&month, "主治医別", &name, t));
    }
    rows
}

async fn billing_csv<S: Store>(
    st: &AppState<S>,
    ctx: &ryoritsu_app::RequestContext,
    auth: &Authenticated,
    q: &BillingQuery,
) -> Response {
    let encoding = match CsvEncoding::from_param(q.encoding.as_deref()) {
        Ok(e) => e,
        Err(f) => return f.into_response(),
    };
    let b = match summary(st, ctx, auth, q).await {
        Ok(b) => b,
        Err(f) => return f.into_response(),
    };
    let rows = csv_rows(&b);
    match encode(&CSV_HEADINGS, &rows, encoding) {
        Ok(bytes) => {
            // The institution's billing figures leave the system: recorded first.
            if let Err(e) = st
                .app
                .record_export(
                    ctx,
                    auth,
                    &format!("guidance_billing.csv:{}:{}", b.summary.institution, b.month),
                    rows.len(),
                )
                .await
            {
                return Failure::from(e).into_response();
            }
            crate::http::csv::download(
                bytes,
                encoding,
                &crate::http::csv::disposition(
                    &format!("両立支援指導料_{}", b.month),
                    &format!("ryoritsu_guidance_billing_{}", b.month),
                    japan_date(st.app.now()),
                ),
            )
        }
        Err(e) => e.into_failure().into_response(),
    }
}

/// The month's billing summary as CSV (Japanese headings; the institution's total row, then
/// one row per physician), UTF-8 with BOM or `encoding=cp932`. Recorded as an export.
#[utoipa::path(get, path = "/api/v1/hospital/billing.csv", tag = "guidance",
    params(("month" = Option<String>, Query, description = "YYYY-MM（省略時は今月）"),
        ("organisation" = Option<Uuid>, Query, description = "医療機関"),
        ("encoding" = Option<String>, Query, description = "`utf8`（標準、BOM付き）または `cp932`（Shift_JIS）")),
    responses(
        (status = 200, description = "the summary (text/csv)", content_type = "text/csv", body = String),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn api_billing_csv<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    QueryParams(q): QueryParams<BillingQuery>,
) -> Response {
    billing_csv(&st, &ctx, &auth, &q).await
}

async fn page_billing_csv<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    QueryParams(q): QueryParams<BillingQuery>,
) -> Response {
    billing_csv(&st, &ctx, &auth, &q).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FacilityStandardsIn {
    /// 算定を始める日（届出が受理され算定できる日）: `2026-06-01`, `令和8年6月1日` ….
    pub effective_from: String,
    /// 相談支援加算の施設基準を届け出ている.
    pub consultation_support: bool,
    /// 情報通信機器を用いた診療の施設基準を届け出ている.
    pub online: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FacilityStandardsOut {
    pub id: Uuid,
    /// YYYY-MM-DD: in force from this day until a later notification.
    pub effective_from: String,
    pub consultation_support: bool,
    pub online: bool,
    pub recorded_by: Uuid,
    pub recorded_at: String,
}

fn standards_out(r: &FacilityStandardsRecord) -> FacilityStandardsOut {
    FacilityStandardsOut {
        id: r.id,
        effective_from: r.effective_from.to_string(),
        consultation_support: r.standards.consultation_support,
        online: r.standards.online,
        recorded_by: r.recorded_by,
        recorded_at: format_micros(r.recorded_at),
    }
}

/// The institution's notified facility standards, oldest first (each in force from its
/// date until the next). For the institution's staff.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/facility-standards", tag = "guidance",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<FacilityStandardsOut>), (status = 404, body = ErrorBody)))]
pub async fn api_standards<S: Store>(
    State(st): State<AppState<S>>,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
) -> Response {
    match st.app.facility_standards(&auth, id).await {
        Ok(list) => (
            StatusCode::OK,
            axum::Json(list.iter().map(standards_out).collect::<Vec<_>>()),
        )
            .into_response(),
        Err(e) => Failure::from(e).into_response(),
    }
}

/// Records a notification of facility standards in force from a date: the institution's
/// admin. Earlier notifications stay, for sessions before it.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/facility-standards", tag = "guidance",
    params(("id" = Uuid, Path)),
    request_body = FacilityStandardsIn,
    responses((status = 201, body = FacilityStandardsOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn api_set_standards<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    body: axum::body::Bytes,
) -> Response {
    let b: FacilityStandardsIn = match parse_body(&body) {
        Ok(b) => b,
        Err(f) => return f.into_response(),
    };
    let standards = FacilityStandards {
        consultation_support: b.consultation_support,
        online: b.online,
    };
    match st
        .app
        .set_facility_standards(&ctx, &auth, id, &b.effective_from, standards)
        .await
    {
        Ok(r) => (StatusCode::CREATED, axum::Json(standards_out(&r))).into_response(),
        Err(e) => Failure::from(e).into_response(),
    }
}

// ---- pages: the case's sessions ------------------------------------------------------------

/// One reason as the page shows it.
pub struct ReasonRow {
    pub met: bool,
    pub text: String,
}

/// One item of a verdict.
pub struct ItemRow {
    pub code: String,
    pub label: &'static str,
    pub billable: bool,
    pub points: u32,
    pub reasons: Vec<ReasonRow>,
}

/// A verdict as the page shows it.
pub struct VerdictView {
    pub billable: bool,
    pub total_points: u32,
    /// 「初回 850点＋相談支援加算 400点」
    pub summary: String,
    pub revision: String,
    pub items: Vec<ItemRow>,
}

fn verdict_view(v: &SessionVerdict) -> VerdictView {
    let billable: Vec<String> = v
        .items
        .iter()
        .filter(|i| i.billable)
        .map(|i| format!("{} {}点", i.item.label(), i.points))
        .collect();
    VerdictView {
        billable: !billable.is_empty(),
        total_points: v.total_points,
        summary: if billable.is_empty() {
            "算定できません".to_owned()
        } else {
            billable.join("＋")
        },
        revision: v
            .revision
            .map_or_else(|| "適用される改定なし".to_owned(), |r| r.label().to_owned()),
        items: v
            .items
            .iter()
            .map(|i| ItemRow {
                code: code_of(&i.item),
                label: i.item.label(),
                billable: i.billable,
                points: i.points,
                reasons: i
                    .reasons
                    .iter()
                    .map(|r| ReasonRow {
                        met: r.met,
                        text: r.text.clone(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// One session on the page.
pub struct SessionRow {
    pub id: Uuid,
    pub version: i64,
    pub date: String,
    pub what: String,
    pub physician: String,
    pub institution: String,
    pub recorded: String,
    pub information: String,
    pub staff: String,
    pub note: Option<String>,
    pub cancelled: Option<String>,
    pub may_change: bool,
    pub verdict: Option<VerdictView>,
    /// Just saved: shown beside the form.
    pub fresh: bool,
}

fn session_row(e: &GuidanceEntry, fresh: Option<Uuid>) -> SessionRow {
    let s = &e.session;
    let d = &s.details;
    let disease = d
        .condition
        .listed_disease
        .map(|x| x.label().to_owned())
        .unwrap_or_default();
    let mut what = format!(
        "{}・{}",
        delivery_label(d.delivery),
        setting_label(d.setting)
    );
    if !disease.is_empty() {
        what.push('・');
        what.push_str(&disease);
    }
    let information = match &d.information {
        Some(i) => format!(
            "{}に情報提供（{}）{}",
            i.recipient.label(),
            i.document.label(),
            if i.workplace_has_sangyoi {
                "・産業医選任あり"
            } else {
                ""
            }
        ),
        None => "職場への情報提供なし".to_owned(),
    };
    let staff = d
        .staff_present
        .iter()
        .map(|p| {
            format!(
                "{}{}{}",
                p.profession.label(),
                if p.dedicated { "（専任）" } else { "" },
                if p.training_completed {
                    "（研修修了）"
                } else {
                    ""
                }
            )
        })
        .collect::<Vec<_>>()
        .join("、");
    SessionRow {
        id: s.id,
        version: s.version,
        date: jp_date(d.date),
        what,
        physician: e.physician_name.clone(),
        institution: e.institution_name.clone(),
        recorded: format!(
            "{}（{}）{}",
            e.recorded_by_name,
            jp_datetime(s.recorded_at),
            if s.version > 1 { "・訂正あり" } else { "" }
        ),
        information,
        staff,
        note: d
            .note
            .as_deref()
            .map(|n| crate::http::page::escape(n).replace('\n', "<br>")),
        cancelled: s.cancelled.as_ref().map(|c| c.reason.clone()),
        may_change: e.may_change,
        verdict: e.verdict.as_ref().map(verdict_view),
        fresh: fresh == Some(s.id),
    }
}

/// A choice in a select or radio group.
pub struct Opt {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

fn opts<T: Serialize + Copy>(all: &[T], label: fn(T) -> &'static str, chosen: &str) -> Vec<Opt> {
    all.iter()
        .map(|&v| {
            let code = code_of(&v);
            Opt {
                selected: code == chosen,
                label: label(v).to_owned(),
                code,
            }
        })
        .collect()
}

/// The form as sent (or as prefilled).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SessionForm {
    #[serde(default)]
    pub intent: String,
    /// The session being corrected (empty for a new one) and the version the page showed.
    #[serde(default)]
    pub correct: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub setting: String,
    #[serde(default)]
    pub delivery: String,
    #[serde(default)]
    pub physician_id: String,
    #[serde(default)]
    pub listed_disease: String,
    #[serde(default)]
    pub repeated_treatment: Option<String>,
    #[serde(default)]
    pub work_consideration_needed: Option<String>,
    #[serde(default)]
    pub requested_with_consent: Option<String>,
    #[serde(default)]
    pub information_given: Option<String>,
    #[serde(default)]
    pub document: String,
    #[serde(default)]
    pub recipient: String,
    #[serde(default)]
    pub workplace_has_sangyoi: Option<String>,
    #[serde(default)]
    pub b009_or_b010_billed: Option<String>,
    #[serde(default)]
    pub staff_profession_1: String,
    #[serde(default)]
    pub staff_dedicated_1: Option<String>,
    #[serde(default)]
    pub staff_training_1: Option<String>,
    #[serde(default)]
    pub staff_profession_2: String,
    #[serde(default)]
    pub staff_dedicated_2: Option<String>,
    #[serde(default)]
    pub staff_training_2: Option<String>,
    #[serde(default)]
    pub staff_profession_3: String,
    #[serde(default)]
    pub staff_dedicated_3: Option<String>,
    #[serde(default)]
    pub staff_training_3: Option<String>,
    #[serde(default)]
    pub physician_is_workplace_sangyoi: Option<String>,
    #[serde(default)]
    pub same_capital: Option<String>,
    #[serde(default)]
    pub note: String,
}

fn on(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.is_empty())
}

fn checked(v: bool) -> Option<String> {
    v.then(|| "on".to_owned())
}

impl SessionForm {
    fn staff(&self) -> [(&str, bool, bool); STAFF_ROWS] {
        [
            (
                self.staff_profession_1.as_str(),
                on(&self.staff_dedicated_1),
                on(&self.staff_training_1),
            ),
            (
                self.staff_profession_2.as_str(),
                on(&self.staff_dedicated_2),
                on(&self.staff_training_2),
            ),
            (
                self.staff_profession_3.as_str(),
                on(&self.staff_dedicated_3),
                on(&self.staff_training_3),
            ),
        ]
    }

    /// The typed input, or what is wrong with the choices (a code no option has).
    fn input(&self) -> Result<GuidanceInput<'_>, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let bad = |name: &str, label: &str| {
            FieldError::new(
                name,
                "invalid_choice",
                format!("「{label}」を選び直してください。"),
            )
        };
        let setting = from_code::<Setting>(&self.setting).unwrap_or_else(|| {
            errs.push(bad("setting", "外来・入院"));
            Setting::Outpatient
        });
        let delivery = from_code::<Delivery>(&self.delivery).unwrap_or_else(|| {
            errs.push(bad("delivery", "指導の方法"));
            Delivery::FaceToFace
        });
        let physician = if self.physician_id.trim().is_empty() {
            None
        } else {
            match Uuid::parse_str(self.physician_id.trim()) {
                Ok(u) => Some(u),
                Err(_) => {
                    errs.push(bad(field::PHYSICIAN, "主治医"));
                    None
                }
            }
        };
        let listed_disease = if self.listed_disease.is_empty() {
            None
        } else {
            match from_code::<ListedDisease>(&self.listed_disease) {
                Some(d) => Some(d),
                None => {
                    errs.push(bad("listed_disease", "対象疾患"));
                    None
                }
            }
        };
        let information = if on(&self.information_given) {
            let document = from_code::<DocumentKind>(&self.document);
            let recipient = from_code::<RecipientRole>(&self.recipient);
            if document.is_none() {
                errs.push(bad("document", "受け取った勤務情報の文書"));
            }
            if recipient.is_none() {
                errs.push(bad("recipient", "情報提供先"));
            }
            match (document, recipient) {
                (Some(document), Some(recipient)) => Some(InformationProvision {
                    document,
                    recipient,
                    workplace_has_sangyoi: on(&self.workplace_has_sangyoi),
                    b009_or_b010_billed: on(&self.b009_or_b010_billed),
                }),
                _ => None,
            }
        } else {
            None
        };
        let mut staff_present = Vec::new();
        for (i, (profession, dedicated, training_completed)) in self.staff().into_iter().enumerate()
        {
            if profession.is_empty() {
                continue;
            }
            match from_code::<Profession>(profession) {
                Some(profession) => staff_present.push(StaffPresent {
                    profession,
                    training_completed,
                    dedicated,
                }),
                None => errs.push(bad(
                    &format!("staff_profession_{}", i + 1),
                    "同席した職員の職種",
                )),
            }
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(GuidanceInput {
            date: &self.date,
            setting,
            delivery,
            physician,
            condition: Condition {
                listed_disease,
                repeated_treatment: on(&self.repeated_treatment),
                work_consideration_needed: on(&self.work_consideration_needed),
            },
            requested_with_consent: on(&self.requested_with_consent),
            information,
            staff_present,
            exclusions: Exclusions {
                physician_is_workplace_sangyoi: on(&self.physician_is_workplace_sangyoi),
                same_capital: on(&self.same_capital),
            },
            note: Some(&self.note),
        })
    }

    /// The form for correcting `s`, filled in with what it records.
    fn of_session(s: &GuidanceSession) -> SessionForm {
        let d = &s.details;
        let staff = |i: usize| d.staff_present.get(i);
        let profession = |i: usize| staff(i).map(|p| code_of(&p.profession)).unwrap_or_default();
        let dedicated = |i: usize| checked(staff(i).is_some_and(|p| p.dedicated));
        let training = |i: usize| checked(staff(i).is_some_and(|p| p.training_completed));
        let info = d.information.as_ref();
        SessionForm {
            intent: String::new(),
            correct: s.id.to_string(),
            version: s.version.to_string(),
            date: d.date.to_string(),
            setting: code_of(&d.setting),
            delivery: code_of(&d.delivery),
            physician_id: d.physician.to_string(),
            listed_disease: d
                .condition
                .listed_disease
                .map(|x| code_of(&x))
                .unwrap_or_default(),
            repeated_treatment: checked(d.condition.repeated_treatment),
            work_consideration_needed: checked(d.condition.work_consideration_needed),
            requested_with_consent: checked(d.requested_with_consent),
            information_given: checked(info.is_some()),
            document: info.map(|i| code_of(&i.document)).unwrap_or_default(),
            recipient: info.map(|i| code_of(&i.recipient)).unwrap_or_default(),
            workplace_has_sangyoi: checked(info.is_some_and(|i| i.workplace_has_sangyoi)),
            b009_or_b010_billed: checked(info.is_some_and(|i| i.b009_or_b010_billed)),
            staff_profession_1: profession(0),
            staff_dedicated_1: dedicated(0),
            staff_training_1: training(0),
            staff_profession_2: profession(1),
            staff_dedicated_2: dedicated(1),
            staff_training_2: training(1),
            staff_profession_3: profession(2),
            staff_dedicated_3: dedicated(2),
            staff_training_3: training(2),
            physician_is_workplace_sangyoi: checked(d.exclusions.physician_is_workplace_sangyoi),
            same_capital: checked(d.exclusions.same_capital),
            note: d.note.clone().unwrap_or_default(),
        }
    }

    /// The session to correct and the version seen, when the form corrects one.
    fn correcting(&self) -> Result<Option<(Uuid, i64)>, ValidationErrors> {
        if self.correct.trim().is_empty() {
            return Ok(None);
        }
        match (
            Uuid::parse_str(self.correct.trim()),
            self.version.trim().parse::<i64>(),
        ) {
            (Ok(id), Ok(v)) => Ok(Some((id, v))),
            _ => Err(FieldError::new(
                "correct",
                "invalid_choice",
                "訂正する記録を一覧から選び直してください。",
            )
            .into()),
        }
    }

    /// A new form, filled in with what the case already knows.
    fn prefilled(r: &RecordingAt, today: time::Date, auth: &Authenticated) -> SessionForm {
        let physician = r
            .physicians
            .iter()
            .find(|(id, _)| *id == auth.user.id)
            .or_else(|| {
                (r.physicians.len() == 1)
                    .then(|| r.physicians.first())
                    .flatten()
            })
            .map(|(id, _)| id.to_string())
            .unwrap_or_default();
        SessionForm {
            date: today.to_string(),
            setting: code_of(&Setting::Outpatient),
            delivery: code_of(&Delivery::FaceToFace),
            physician_id: physician,
            requested_with_consent: checked(true),
            information_given: checked(r.prefill.document.is_some()),
            document: r.prefill.document.map(|d| code_of(&d)).unwrap_or_default(),
            recipient: if r.prefill.workplace_has_sangyoi {
                code_of(&RecipientRole::Sangyoi)
            } else {
                String::new()
            },
            workplace_has_sangyoi: checked(r.prefill.workplace_has_sangyoi),
            ..SessionForm::default()
        }
    }
}

/// One staff row of the form.
pub struct StaffRow {
    pub n: usize,
    pub professions: Vec<Opt>,
    pub dedicated: bool,
    pub training: bool,
}

#[derive(Template)]
#[template(path = "hospital/guidance_case.html")]
struct CasePage {
    layout: Layout,
    case_id: Uuid,
    notice: Option<String>,
    message: Option<String>,
    rows: Vec<SessionRow>,
    /// The verdict of 「算定を確認」, not saved.
    preview: Option<VerdictView>,
    /// The verdict of the session just saved, shown beside the form.
    saved: Option<VerdictView>,
    recording: Option<RecordingView>,
    errors: Vec<FieldError>,
    note_max: usize,
    reason_max: usize,
}

impl CasePage {
    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }
}

/// The form's values and choices.
pub struct RecordingView {
    pub institution_name: String,
    pub standards: String,
    pub form: SessionForm,
    pub physicians: Vec<Opt>,
    pub settings: Vec<Opt>,
    pub deliveries: Vec<Opt>,
    pub diseases: Vec<Opt>,
    pub documents: Vec<Opt>,
    pub recipients: Vec<Opt>,
    pub staff: Vec<StaffRow>,
}

impl RecordingView {
    fn on(&self, v: &Option<String>) -> bool {
        on(v)
    }
}

fn standards_label(s: FacilityStandards) -> String {
    let yes = |b: bool| if b { "届出あり" } else { "届出なし" };
    format!(
        "相談支援加算の施設基準：{}／情報通信機器の施設基準：{}",
        yes(s.consultation_support),
        yes(s.online)
    )
}

fn recording_view(r: &RecordingAt, form: SessionForm) -> RecordingView {
    let staff = form
        .staff()
        .iter()
        .enumerate()
        .map(|(i, (p, dedicated, training))| StaffRow {
            n: i + 1,
            professions: opts(&PROFESSIONS, Profession::label, p),
            dedicated: *dedicated,
            training: *training,
        })
        .collect();
    RecordingView {
        institution_name: r.institution_name.clone(),
        standards: standards_label(r.standards_today),
        physicians: r
            .physicians
            .iter()
            .map(|(id, name)| Opt {
                code: id.to_string(),
                label: name.clone(),
                selected: id.to_string() == form.physician_id,
            })
            .collect(),
        settings: opts(
            &[Setting::Outpatient, Setting::Inpatient],
            setting_label,
            &form.setting,
        ),
        deliveries: opts(
            &[Delivery::FaceToFace, Delivery::Online],
            delivery_label,
            &form.delivery,
        ),
        diseases: opts(
            &ListedDisease::ALL,
            ListedDisease::label,
            &form.listed_disease,
        ),
        documents: opts(&DOCUMENTS, DocumentKind::label, &form.document),
        recipients: opts(&RECIPIENTS, RecipientRole::label, &form.recipient),
        staff,
        form,
    }
}

struct PageState {
    /// The session whose correction form to show.
    correct: Option<Uuid>,
    notice: Option<String>,
    message: Option<String>,
    fresh: Option<Uuid>,
    preview: Option<VerdictView>,
    form: Option<SessionForm>,
    errors: Vec<FieldError>,
}

async fn case_page<S: Store>(
    st: &AppState<S>,
    ctx: &ryoritsu_app::RequestContext,
    csrf: &str,
    auth: &Authenticated,
    case_id: Uuid,
    state: PageState,
    status: StatusCode,
) -> Response {
    let g: CaseGuidance = match st.app.case_guidance(ctx, auth, case_id).await {
        Ok(g) => g,
        Err(e) => return failure(e).into_response(),
    };
    let today = japan_date(st.app.now());
    let correcting = state.correct.and_then(|id| {
        g.entries
            .iter()
            .find(|e| e.session.id == id && e.may_change)
            .map(|e| SessionForm::of_session(&e.session))
    });
    let recording = g.recording.as_ref().map(|r| {
        let form = state
            .form
            .clone()
            .or(correcting)
            .unwrap_or_else(|| SessionForm::prefilled(r, today, auth));
        recording_view(r, form)
    });
    let page = CasePage {
        layout: Layout::new(st, "両立支援指導の記録", csrf, Some(auth), "/hospital"),
        case_id,
        notice: state.notice,
        message: state.message,
        rows: g
            .entries
            .iter()
            .rev()
            .map(|e| session_row(e, state.fresh))
            .collect(),
        preview: state.preview,
        saved: state
            .fresh
            .and_then(|id| g.entries.iter().find(|e| e.session.id == id))
            .and_then(|e| e.verdict.as_ref())
            .map(verdict_view),
        recording,
        errors: state.errors,
        note_max: NOTE_MAX,
        reason_max: REASON_MAX,
    };
    let mut r = render(&page);
    if r.status() == StatusCode::OK {
        *r.status_mut() = status;
    }
    r
}

#[derive(Debug, Default, Deserialize)]
struct CaseQuery {
    #[serde(default)]
    saved: Option<Uuid>,
    #[serde(default)]
    correct: Option<Uuid>,
    #[serde(default)]
    done: Option<String>,
}

async fn case_get<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    Csrf(csrf): Csrf,
    User(auth): User,
    PathParam(case_id): PathParam<Uuid>,
    QueryParams(q): QueryParams<CaseQuery>,
) -> Response {
    let notice = match q.done.as_deref() {
        Some("saved") => Some(
            "指導を記録しました。算定の判定を確認してください（この記録は一覧の先頭にあります）。"
                .to_owned(),
        ),
        Some("cancelled") => Some("指導の記録を取り消しました。".to_owned()),
        Some("corrected") => {
            Some("指導の記録を訂正しました。訂正後の算定の判定を確認してください。".to_owned())
        }
        _ => None,
    };
    let state = PageState {
        correct: q.correct,
        notice,
        message: None,
        fresh: q.saved,
        preview: None,
        form: None,
        errors: Vec::new(),
    };
    case_page(&st, &ctx, &csrf, &auth, case_id, state, StatusCode::OK).await
}

async fn case_post<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    Csrf(csrf): Csrf,
    User(auth): User,
    PathParam(case_id): PathParam<Uuid>,
    PageForm(form): PageForm<SessionForm>,
) -> Response {
    let again = |errors: Vec<FieldError>, preview: Option<VerdictView>, status: StatusCode| {
        let form = form.clone();
        let (st, ctx, csrf, auth) = (&st, &ctx, &csrf, &auth);
        async move {
            let state = PageState {
                correct: None,
                notice: None,
                message: None,
                fresh: None,
                preview,
                form: Some(form),
                errors,
            };
            case_page(st, ctx, csrf, auth, case_id, state, status).await
        }
    };
    let (input, correcting) = match (form.input(), form.correcting()) {
        (Ok(i), Ok(c)) => (i, c),
        (Err(e), _) | (_, Err(e)) => {
            return again(e.errors, None, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let preview = form.intent == "preview";
    let result = match correcting {
        Some((id, version)) if preview => {
            st.app.preview_correction(&auth, id, version, input).await
        }
        Some((id, version)) => {
            st.app
                .correct_guidance(&ctx, &auth, id, version, input)
                .await
        }
        None if preview => st.app.preview_guidance(&auth, case_id, input).await,
        None => st.app.record_guidance(&ctx, &auth, case_id, input).await,
    };
    match result {
        Ok(e) if form.intent == "preview" => {
            again(
                Vec::new(),
                e.verdict.as_ref().map(verdict_view),
                StatusCode::OK,
            )
            .await
        }
        Ok(e) => Redirect::to(&format!(
            "/cases/{case_id}/guidance?done={done}&saved={id}#guidance-{id}",
            done = if correcting.is_some() {
                "corrected"
            } else {
                "saved"
            },
            id = e.session.id
        ))
        .into_response(),
        Err(AppError::Invalid(v)) => again(v.errors, None, StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(AppError::PreconditionFailed) => {
            let stale = FieldError::new("version", "precondition_failed", STALE_MESSAGE);
            again(vec![stale], None, StatusCode::PRECONDITION_FAILED).await
        }
        Err(e) => failure(e).into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
struct CancelForm {
    #[serde(default)]
    case: Option<Uuid>,
    #[serde(default)]
    version: i64,
    #[serde(default)]
    reason: String,
}

async fn cancel_post<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    Csrf(csrf): Csrf,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    PageForm(form): PageForm<CancelForm>,
) -> Response {
    let (message, status) = match st
        .app
        .cancel_guidance(&ctx, &auth, id, form.version, &form.reason)
        .await
    {
        Ok(s) => {
            return Redirect::to(&format!(
                "/cases/{}/guidance?done=cancelled#guidance-{id}",
                s.case_id
            ))
            .into_response();
        }
        Err(AppError::Invalid(v)) => (
            v.errors
                .first()
                .map(|e| e.message.clone())
                .unwrap_or_default(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(AppError::PreconditionFailed) => {
            (STALE_MESSAGE.to_owned(), StatusCode::PRECONDITION_FAILED)
        }
        Err(AppError::Conflict("guidance_cancelled")) => {
            (CANCELLED_MESSAGE.to_owned(), StatusCode::CONFLICT)
        }
        Err(e) => return failure(e).into_response(),
    };
    match form.case {
        Some(case) => {
            let state = PageState {
                correct: None,
                notice: None,
                message: Some(message),
                fresh: None,
                preview: None,
                form: None,
                errors: Vec::new(),
            };
            case_page(&st, &ctx, &csrf, &auth, case, state, status).await
        }
        None => Failure::new(status, "guidance_not_cancelled", message).into_response(),
    }
}

// ---- pages: the workspace, billing and settings -------------------------------------------

/// A medical institution the person works at.
pub struct WorkspaceRow {
    pub id: Uuid,
    pub name: String,
    pub admin: bool,
}

#[derive(Template)]
#[template(path = "hospital/hospital_home.html")]
struct HomePage {
    layout: Layout,
    workspaces: Vec<WorkspaceRow>,
    month: String,
}

async fn home<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    User(auth): User,
) -> Response {
    let workspaces = match st.app.hospital_workspaces(&auth).await {
        Ok(w) => w,
        Err(e) => return Failure::from(e).into_response(),
    };
    if workspaces.is_empty() {
        let mut f = Failure::not_found();
        f.message = NO_WORKSPACE.to_owned();
        return f.into_response();
    }
    render(&HomePage {
        layout: Layout::new(&st, "医療機関の業務", &csrf, Some(&auth), "/hospital"),
        workspaces: workspaces
            .into_iter()
            .map(|(id, name, admin)| WorkspaceRow { id, name, admin })
            .collect(),
        month: YearMonth::of(japan_date(st.app.now())).to_string(),
    })
}

/// One line of the summary table.
pub struct TotalsRow {
    pub name: String,
    pub sessions: u32,
    pub billable: u32,
    pub not_billable: u32,
    /// (count, points) per item in [`ITEMS`] order.
    pub items: Vec<(u32, u32)>,
    pub points: u32,
}

fn totals_row(name: &str, t: &Totals) -> TotalsRow {
    TotalsRow {
        name: name.to_owned(),
        sessions: t.sessions,
        billable: t.billable,
        not_billable: t.not_billable,
        items: ITEMS
            .iter()
            .map(|&i| {
                let x = t.item(i);
                (x.count, x.points)
            })
            .collect(),
        points: t.points,
    }
}

#[derive(Template)]
#[template(path = "hospital/hospital_billing.html")]
struct BillingPage {
    layout: Layout,
    organisation: Uuid,
    institution_name: String,
    month: String,
    month_label: String,
    previous: String,
    next: String,
    item_labels: Vec<&'static str>,
    total: TotalsRow,
    physicians: Vec<TotalsRow>,
}

fn shift(m: YearMonth, forward: bool) -> YearMonth {
    let (year, month) = if forward {
        if m.month == time::Month::December {
            (m.year + 1, time::Month::January)
        } else {
            (m.year, m.month.next())
        }
    } else if m.month == time::Month::January {
        (m.year - 1, time::Month::December)
    } else {
        (m.year, m.month.previous())
    };
    YearMonth { year, month }
}

async fn billing_page<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    Csrf(csrf): Csrf,
    User(auth): User,
    QueryParams(q): QueryParams<BillingQuery>,
) -> Response {
    let b = match summary(&st, &ctx, &auth, &q).await {
        Ok(b) => b,
        Err(f) => return f.into_response(),
    };
    render(&BillingPage {
        layout: Layout::new(
            &st,
            "両立支援指導料の月別集計",
            &csrf,
            Some(&auth),
            "/hospital",
        ),
        organisation: b.summary.institution,
        institution_name: b.institution_name.clone(),
        month: b.month.to_string(),
        month_label: b.month.label(),
        previous: shift(b.month, false).to_string(),
        next: shift(b.month, true).to_string(),
        item_labels: ITEMS.iter().map(|i| i.label()).collect(),
        total: totals_row(&b.institution_name, &b.summary.totals),
        physicians: physician_rows(&b)
            .into_iter()
            .map(|(_, name, t)| totals_row(&name, t))
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "hospital/hospital_settings.html")]
struct SettingsPage {
    layout: Layout,
    organisation: Uuid,
    institution_name: String,
    admin: bool,
    history: Vec<(String, String, String)>,
    current: String,
    effective_from: String,
    consultation_support: bool,
    online: bool,
    errors: Vec<FieldError>,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct SettingsQuery {
    #[serde(default)]
    organisation: Option<Uuid>,
    #[serde(default)]
    done: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct SettingsForm {
    #[serde(default)]
    organisation: Option<Uuid>,
    #[serde(default)]
    effective_from: String,
    #[serde(default)]
    consultation_support: Option<String>,
    #[serde(default)]
    online: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn settings_render<S: Store>(
    st: &AppState<S>,
    csrf: &str,
    auth: &Authenticated,
    org: Option<Uuid>,
    form: Option<SettingsForm>,
    errors: Vec<FieldError>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let workspaces = match st.app.hospital_workspaces(auth).await {
        Ok(w) => w,
        Err(e) => return Failure::from(e).into_response(),
    };
    let Some((id, name, admin)) = (match org {
        Some(o) => workspaces.into_iter().find(|w| w.0 == o),
        None => workspaces.into_iter().next(),
    }) else {
        return Failure::not_found().into_response();
    };
    let history = match st.app.facility_standards(auth, id).await {
        Ok(h) => h,
        Err(e) => return Failure::from(e).into_response(),
    };
    let today = japan_date(st.app.now());
    let current = ryoritsu_domain::guidance::standards_on(&history, today);
    let form = form.unwrap_or(SettingsForm {
        organisation: Some(id),
        effective_from: today.to_string(),
        consultation_support: checked(current.consultation_support),
        online: checked(current.online),
    });
    let yes = |b: bool| if b { "届出あり" } else { "届出なし" }.to_owned();
    let page = SettingsPage {
        layout: Layout::new(st, "施設基準の届出", csrf, Some(auth), "/hospital"),
        organisation: id,
        institution_name: name,
        admin,
        history: history
            .iter()
            .rev()
            .map(|r| {
                (
                    jp_date(r.effective_from),
                    yes(r.standards.consultation_support),
                    yes(r.standards.online),
                )
            })
            .collect(),
        current: standards_label(current),
        effective_from: form.effective_from.clone(),
        consultation_support: on(&form.consultation_support),
        online: on(&form.online),
        errors,
        notice,
    };
    let mut r = render(&page);
    if r.status() == StatusCode::OK {
        *r.status_mut() = status;
    }
    r
}

async fn settings_get<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    User(auth): User,
    QueryParams(q): QueryParams<SettingsQuery>,
) -> Response {
    let notice =
        (q.done.as_deref() == Some("saved")).then(|| "施設基準の届出を記録しました。".to_owned());
    settings_render(
        &st,
        &csrf,
        &auth,
        q.organisation,
        None,
        Vec::new(),
        notice,
        StatusCode::OK,
    )
    .await
}

async fn settings_post<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    Csrf(csrf): Csrf,
    User(auth): User,
    PageForm(form): PageForm<SettingsForm>,
) -> Response {
    let Some(org) = form.organisation else {
        return Failure::not_found().into_response();
    };
    let standards = FacilityStandards {
        consultation_support: on(&form.consultation_support),
        online: on(&form.online),
    };
    match st
        .app
        .set_facility_standards(&ctx, &auth, org, &form.effective_from, standards)
        .await
    {
        Ok(_) => Redirect::to(&format!("/hospital/settings?organisation={org}&done=saved"))
            .into_response(),
        Err(AppError::Invalid(v)) => {
            settings_render(
                &st,
                &csrf,
                &auth,
                Some(org),
                Some(form),
                v.errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Denied(Denial::Forbidden)) => Failure::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "施設基準の届出を記録できるのは、この医療機関の組織管理者です。",
        )
        .into_response(),
        Err(e) => Failure::from(e).into_response(),
    }
}

pub(super) fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    use Method as M;
    t.add(
        M::GET,
        "/api/v1/cases/{id}/guidance-sessions",
        Access::SignedIn,
        "ViewGuidance (hospital staff of the case, the worker)",
        list::<S>,
    )
    .add(
        M::POST,
        "/api/v1/cases/{id}/guidance-sessions",
        Access::SignedIn,
        "RecordGuidance (hospital staff of the case)",
        create::<S>,
    )
    .add(
        M::POST,
        "/api/v1/cases/{id}/guidance-sessions/preview",
        Access::SignedIn,
        "RecordGuidance (hospital staff of the case); nothing stored",
        preview::<S>,
    )
    .add(
        M::PUT,
        "/api/v1/guidance-sessions/{id}",
        Access::SignedIn,
        "RecordGuidance (the session's institution)",
        correct::<S>,
    )
    .add(
        M::POST,
        "/api/v1/guidance-sessions/{id}/cancel",
        Access::SignedIn,
        "RecordGuidance (the session's institution)",
        cancel::<S>,
    )
    .add(
        M::GET,
        "/api/v1/hospital/billing",
        Access::SignedIn,
        "ViewOrganisation + hospital role in the institution",
        api_billing::<S>,
    )
    .add(
        M::GET,
        "/api/v1/hospital/billing.csv",
        Access::SignedIn,
        "ViewOrganisation + hospital role in the institution; recorded as an export",
        api_billing_csv::<S>,
    )
    .add(
        M::GET,
        "/api/v1/organisations/{id}/facility-standards",
        Access::SignedIn,
        "ViewOrganisation + hospital role in the institution",
        api_standards::<S>,
    )
    .add(
        M::POST,
        "/api/v1/organisations/{id}/facility-standards",
        Access::SignedIn,
        "ManageOrganisation (the institution's admin)",
        api_set_standards::<S>,
    )
    .add(
        M::GET,
        "/cases/{id}/guidance",
        Access::SignedIn,
        "ViewGuidance (hospital staff of the case, the worker)",
        case_get::<S>,
    )
    .add(
        M::POST,
        "/cases/{id}/guidance",
        Access::SignedIn,
        "RecordGuidance (hospital staff of the case)",
        case_post::<S>,
    )
    .add(
        M::POST,
        "/guidance/{id}/cancel",
        Access::SignedIn,
        "RecordGuidance (the session's institution)",
        cancel_post::<S>,
    )
    .add(
        M::GET,
        "/hospital",
        Access::SignedIn,
        "hospital role in an institution",
        home::<S>,
    )
    .add(
        M::GET,
        "/hospital/billing",
        Access::SignedIn,
        "ViewOrganisation + hospital role in the institution",
        billing_page::<S>,
    )
    .add(
        M::GET,
        "/hospital/billing.csv",
        Access::SignedIn,
        "ViewOrganisation + hospital role in the institution; recorded as an export",
        page_billing_csv::<S>,
    )
    .add(
        M::GET,
        "/hospital/settings",
        Access::SignedIn,
        "ViewOrganisation + hospital role in the institution",
        settings_get::<S>,
    )
    .add(
        M::POST,
        "/hospital/settings",
        Access::SignedIn,
        "ManageOrganisation (the institution's admin)",
        settings_post::<S>,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_codes_round_trip_and_bad_choices_are_named() {
        assert_eq!(code_of(&RecipientRole::HrStaff), "hr_staff");
        assert_eq!(
            from_code::<RecipientRole>("hr_staff"),
            Some(RecipientRole::HrStaff)
        );
        assert_eq!(from_code::<RecipientRole>("nobody"), None);
        let form = SessionForm {
            setting: "outpatient".into(),
            delivery: "by_pigeon".into(),
            information_given: checked(true),
            document: "jointly_prepared".into(),
            recipient: "x".into(),
            staff_profession_2: "wizard".into(),
            ..SessionForm::default()
        };
        let e = form.input().unwrap_err();
        let fields: Vec<&str> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["delivery", "recipient", "staff_profession_2"]);
        assert!(e.errors.iter().all(|e| e.message.contains("選び直して")));
    }

    #[test]
    fn months_step_over_the_year() {
        let dec = YearMonth::parse("2026-12").unwrap();
        assert_eq!(shift(dec, true).to_string(), "2027-01");
        assert_eq!(shift(shift(dec, true), false), dec);
    }

    #[test]
    fn refusals_use_this_features_words() {
        let f = failure(AppError::Conflict("guidance_cancelled"));
        assert_eq!(
            (f.status, f.message.as_str()),
            (StatusCode::CONFLICT, CANCELLED_MESSAGE)
        );
        let f = failure(AppError::Denied(Denial::NotFound));
        assert_eq!(f.status, StatusCode::NOT_FOUND);
        assert_ne!(f.message, MAY_NOT_RECORD);
    }
}
