//! Scanned documents the worker uploads: API and pages.
//!
//! The worker uploads a scan of what the physician wrote on paper (PDF, JPEG or PNG, its type
//! decided by its content); the employer's staff who handle health information open it and
//! transcribe it into the form. Who may see a scan is decided by the category of the form it
//! is a scan of, like the form itself.

use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use ryoritsu_app::accounts::Authenticated;
use ryoritsu_app::cases::attachment_ports::AttachmentRecord;
use ryoritsu_app::cases::attachments::ScanContent;
use ryoritsu_app::cases::ports::{DocumentBody, DocumentRecord};
use ryoritsu_app::ports::Store;
use ryoritsu_domain::attachment::{MAX_SCAN_BYTES, SCANNABLE_FORMS, ScanFormat};
use ryoritsu_domain::case::CasePath;
use ryoritsu_domain::forms::{FormKind, FormVersion};
use ryoritsu_domain::policy::{CaseAccess, CaseRelation};
use ryoritsu_domain::time_format::format_micros;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::api::{DocumentOut, document_out};
use crate::http::extract::{ApiJson, PageForm, PathParam};
use crate::http::failure::{ErrorBody, Failure};
use crate::http::page::jp_datetime;
use crate::http::session::{Ctx, User};
use crate::{Access, AppState, RouteTable};

/// A scan as the API shows it (never its content; that has its own URL).
#[derive(Serialize, ToSchema)]
pub struct ScanOut {
    pub id: Uuid,
    pub case_id: Uuid,
    /// The form it is a scan of (`continuation_opinion`, `return_to_work_opinion`,
    /// `support_card`).
    pub form: String,
    pub form_label: String,
    /// `pdf`, `jpeg` or `png`, decided from the content.
    pub format: String,
    pub content_type: String,
    pub file_name: String,
    pub size: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    pub uploaded_by: Uuid,
    pub uploaded_at: String,
    pub content_url: String,
}

fn scan_out(a: &AttachmentRecord) -> ScanOut {
    ScanOut {
        id: a.id,
        case_id: a.case_id,
        form: a.form.code().into(),
        form_label: a.form.label().into(),
        format: a.format.code().into(),
        content_type: a.format.content_type().into(),
        file_name: a.file_name.clone(),
        size: a.size,
        sha256: a.sha256.clone(),
        uploaded_by: a.uploaded_by,
        uploaded_at: format_micros(a.uploaded_at),
        content_url: format!("/api/v1/scans/{}/content", a.id),
    }
}

/// What an upload carried: the form it is a scan of, the file's name and its bytes.
struct Upload {
    form: Option<FormKind>,
    file_name: String,
    content: Vec<u8>,
}

fn bad_upload(message: &str) -> Failure {
    Failure::bad_request("invalid_upload", message)
}

/// Reads the `form` and `file` parts of a multipart body; other parts are ignored.
async fn read_upload(mp: Result<Multipart, MultipartRejection>) -> Result<Upload, Failure> {
    let mut mp = mp
        .map_err(|_| bad_upload("ファイルは multipart/form-data の「file」欄で送ってください。"))?;
    let mut up = Upload {
        form: None,
        file_name: String::new(),
        content: Vec::new(),
    };
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(Failure::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!(
                        "「ファイル」が大きすぎます（{}MBまで）。",
                        MAX_SCAN_BYTES / (1024 * 1024)
                    ),
                ));
            }
            Err(_) => return Err(bad_upload("送信された内容を読み取れませんでした。")),
        };
        match field.name() {
            Some("form") => {
                let code = field.text().await.unwrap_or_default();
                up.form = FormKind::from_code(code.trim());
            }
            Some("file") => {
                up.file_name = field.file_name().unwrap_or_default().to_owned();
                up.content = field
                    .bytes()
                    .await
                    .map_err(|_| bad_upload("ファイルを最後まで受け取れませんでした。"))?
                    .to_vec();
            }
            _ => {}
        }
    }
    Ok(up)
}

/// Uploads a scan of a paper form (the worker only). `multipart/form-data` with `form` (the
/// form's code) and `file` (PDF, JPEG or PNG, at most 10 MB; the type is decided by content).
#[utoipa::path(post, path = "/api/v1/cases/{id}/scans", tag = "scans",
    params(("id" = Uuid, Path)),
    request_body(content_type = "multipart/form-data", description = "form: the form's code; file: the scan"),
    responses((status = 201, body = ScanOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let up = match read_upload(mp).await {
        Ok(u) => u,
        Err(f) => return f.into_response(),
    };
    match st
        .app
        .upload_scan(&ctx, &auth, id, up.form, &up.file_name, up.content)
        .await
    {
        Ok(a) => (StatusCode::CREATED, axum::Json(scan_out(&a))).into_response(),
        Err(e) => Failure::from(e).into_response(),
    }
}

/// The scans of a case the caller may see.
#[utoipa::path(get, path = "/api/v1/cases/{id}/scans", tag = "scans", params(("id" = Uuid, Path)),
    responses((status = 200, body = [ScanOut]), (status = 404, body = ErrorBody)))]
pub async fn list<S: Store>(
    State(st): State<AppState<S>>,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
) -> Response {
    match st.app.list_scans(&auth, id).await {
        Ok(v) => axum::Json(v.iter().map(scan_out).collect::<Vec<_>>()).into_response(),
        Err(e) => Failure::from(e).into_response(),
    }
}

/// The scan itself. Images open in the browser; a PDF is downloaded, so that no script in
/// it runs in this site's pages. Every opening is recorded.
fn content_response(s: ScanContent) -> Response {
    let inline = s.record.format != ScanFormat::Pdf;
    let name = if s.record.file_name.is_empty() {
        format!("scan.{}", s.record.format.extension())
    } else {
        s.record.file_name.clone()
    };
    let disposition = format!(
        "{}; filename=\"scan.{}\"; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        s.record.format.extension(),
        utf8_percent_encode(&name, NON_ALPHANUMERIC)
    );
    let mut r = s.content.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(s.record.format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    // Health information: never kept by a shared cache or the browser's.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'; img-src 'self'"),
    );
    r
}

/// The content of one scan (recorded in the audit log and the worker's access log).
#[utoipa::path(get, path = "/api/v1/scans/{id}/content", tag = "scans", params(("id" = Uuid, Path)),
    responses((status = 200, description = "the scan (application/pdf, image/jpeg or image/png)"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn content<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
) -> Response {
    match st.app.read_scan(&ctx, &auth, id).await {
        Ok(s) => content_response(s),
        Err(e) => Failure::from(e).into_response(),
    }
}

#[derive(Deserialize, ToSchema, Default)]
pub struct TranscriptionRequest {
    /// The version of the form printed on the paper: `v2024` or `v2026` (also `2024`,
    /// `2026`; default `v2026`).
    #[serde(default)]
    pub form_version: Option<String>,
}

fn parse_version(v: Option<&str>) -> Result<FormVersion, Failure> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(FormVersion::V2026),
        Some(code) => FormVersion::from_code(&format!("v{}", code.trim_start_matches('v')))
            .ok_or_else(|| {
                Failure::bad_request(
                    "invalid_form_version",
                    "「様式の版」は 2024 または 2026 を指定してください。",
                )
            }),
    }
}

/// Starts (or resumes) the transcription of a scan into its form: a draft document that
/// points at the scan; save and confirm it like any document (the confirmation is on the
/// physician's signature line, copied from the paper).
#[utoipa::path(post, path = "/api/v1/scans/{id}/transcription", tag = "scans", params(("id" = Uuid, Path)),
    request_body = TranscriptionRequest,
    responses((status = 201, body = DocumentOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn transcribe<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    ApiJson(body): ApiJson<TranscriptionRequest>,
) -> Response {
    let version = match parse_version(body.form_version.as_deref()) {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    match st.app.start_transcription(&ctx, &auth, id, version).await {
        Ok(d) => {
            let mut r = (StatusCode::CREATED, axum::Json(document_out(&d))).into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", d.version)) {
                r.headers_mut().insert(header::ETAG, v);
            }
            r
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// Pages

async fn upload_page<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let up = match read_upload(mp).await {
        Ok(u) => u,
        Err(f) => return f.into_response(),
    };
    match st
        .app
        .upload_scan(&ctx, &auth, id, up.form, &up.file_name, up.content)
        .await
    {
        Ok(_) => Redirect::to(&format!("/cases/{id}?done=scan#scans")).into_response(),
        Err(e) => Failure::from(e).into_response(),
    }
}

async fn content_page<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
) -> Response {
    match st.app.read_scan(&ctx, &auth, id).await {
        Ok(s) => content_response(s),
        Err(e) => Failure::from(e).into_response(),
    }
}

#[derive(Deserialize)]
struct TranscriptionForm {
    #[serde(default)]
    form_version: Option<String>,
}

async fn transcribe_page<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    PageForm(f): PageForm<TranscriptionForm>,
) -> Response {
    let version = match parse_version(f.form_version.as_deref()) {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    match st.app.start_transcription(&ctx, &auth, id, version).await {
        Ok(d) => Redirect::to(&format!("/cases/{}/documents/{}", d.case_id, d.id)).into_response(),
        Err(e) => Failure::from(e).into_response(),
    }
}

/// One scan on the case page.
pub struct ScanRow {
    pub id: Uuid,
    pub form_label: &'static str,
    pub file_name: String,
    pub format: &'static str,
    pub size: String,
    pub uploaded: String,
    /// The transcription of this scan, if one was started: (document, confirmed).
    pub transcription: Option<(Uuid, bool)>,
}

/// The case page's section on paper originals.
pub struct ScanSection {
    pub rows: Vec<ScanRow>,
    /// Scans the viewer (the employer's health-information staff) may not open yet.
    pub waiting_for_consent: usize,
    pub may_upload: bool,
    pub may_transcribe: bool,
    pub forms: Vec<(&'static str, &'static str)>,
    pub max_mb: usize,
}

fn size_label(n: i64) -> String {
    if n >= 1024 * 1024 {
        format!("{:.1}MB", n as f64 / (1024.0 * 1024.0))
    } else {
        format!("{}KB", (n + 1023) / 1024)
    }
}

/// The section for the case page, from the scans the viewer may see and the documents they
/// were given.
pub async fn scan_section<S: Store>(
    st: &AppState<S>,
    auth: &Authenticated,
    access: &CaseAccess,
    documents: &[DocumentRecord],
    case_id: Uuid,
    path: CasePath,
) -> ScanSection {
    let scans = st.app.list_scans(auth, case_id).await.unwrap_or_default();
    let staff = super::pages::handles_health_information(access);
    let waiting_for_consent = if staff {
        st.app
            .hidden_scan_count(auth, case_id)
            .await
            .unwrap_or_default()
    } else {
        0
    };
    // The physician's form of the case's path first: the one most likely on paper.
    let first = match path {
        CasePath::Continuation => FormKind::ContinuationOpinion,
        CasePath::LeaveAndReturn => FormKind::ReturnToWorkOpinion,
        CasePath::SupportCard => FormKind::SupportCard,
    };
    let mut forms: Vec<FormKind> = SCANNABLE_FORMS.to_vec();
    forms.sort_by_key(|f| *f != first);
    let rows = scans
        .iter()
        .map(|a| ScanRow {
            id: a.id,
            form_label: a.form.label(),
            file_name: a.file_name.clone(),
            format: a.format.label(),
            size: size_label(a.size),
            uploaded: jp_datetime(a.uploaded_at),
            transcription: documents.iter().find_map(|d| match &d.body {
                DocumentBody::Draft(x) if x.transcribed_from == Some(a.id) => Some((d.id, false)),
                DocumentBody::Finalised(x) if x.transcribed_from() == Some(a.id) => {
                    Some((d.id, true))
                }
                _ => None,
            }),
        })
        .collect();
    ScanSection {
        rows,
        waiting_for_consent,
        may_upload: !access.closed() && access.relations().contains(&CaseRelation::Worker),
        may_transcribe: SCANNABLE_FORMS
            .iter()
            .any(|f| super::pages::may_transcribe(access, *f)),
        forms: forms.iter().map(|f| (f.code(), f.label())).collect(),
        max_mb: MAX_SCAN_BYTES / (1024 * 1024),
    }
}

pub(super) fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    use axum::http::Method as M;
    t.add_upload(
        "/api/v1/cases/{id}/scans",
        Access::SignedIn,
        "UploadScan (the worker)",
        upload::<S>,
    )
    .add(
        M::GET,
        "/api/v1/cases/{id}/scans",
        Access::SignedIn,
        "ViewCaseCategory of the scanned form (each)",
        list::<S>,
    )
    .add(
        M::GET,
        "/api/v1/scans/{id}/content",
        Access::SignedIn,
        "ViewCaseCategory of the scanned form",
        content::<S>,
    )
    .add(
        M::POST,
        "/api/v1/scans/{id}/transcription",
        Access::SignedIn,
        "TranscribeScan",
        transcribe::<S>,
    )
    .add_upload(
        "/cases/{id}/scans",
        Access::SignedIn,
        "UploadScan (the worker)",
        upload_page::<S>,
    )
    .add(
        M::GET,
        "/scans/{id}",
        Access::SignedIn,
        "ViewCaseCategory of the scanned form",
        content_page::<S>,
    )
    .add(
        M::POST,
        "/scans/{id}/transcription",
        Access::SignedIn,
        "TranscribeScan",
        transcribe_page::<S>,
    )
}
