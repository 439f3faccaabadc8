//! The official forms as PDF: a case's documents as their reader may read them, blank forms
//! for writing by hand, and the 勤務情報提供書 with a share code for the hospital.
//!
//! A document is printed only when it is among the documents `App::read_documents` gives the
//! reader — the same audited read the document page makes — so a PDF never shows more than
//! the page, and every print is in the worker's access log.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use ryoritsu_app::RequestContext;
use ryoritsu_app::accounts::Authenticated;
use ryoritsu_app::cases::ports::{DocumentBody, DocumentRecord};
use ryoritsu_app::ports::Store;
use ryoritsu_documents::RenderOptions;
use ryoritsu_domain::case::CasePath;
use ryoritsu_domain::forms::{Answers, FormKind, FormVersion};
use serde_json::Value;
use uuid::Uuid;

use super::api::document_out;
use crate::http::extract::PathParam;
use crate::http::failure::{ErrorBody, Failure};
use crate::http::session::{Ctx, User};
use crate::{Access, AppState, RouteTable};

/// Printed at the top of a draft, so that a paper copy is never taken for the final one.
const DRAFT_NOTE: &str =
    "この書類は下書きです。まだ確定していないため、内容が変わることがあります。";

/// Whether `Accept` asks for a PDF (a listed `application/pdf` not refused with `q=0`).
pub fn wants_pdf(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            media.eq_ignore_ascii_case("application/pdf") && !refused
        })
}

/// Renders off the async workers: laying out a form takes milliseconds of CPU.
async fn render(
    form: FormKind,
    version: FormVersion,
    answers: Option<Answers>,
    opts: RenderOptions,
) -> Result<Vec<u8>, Failure> {
    tokio::task::spawn_blocking(move || {
        ryoritsu_documents::render(form, version, answers.as_ref(), opts)
    })
    .await
    .map_err(|e| Failure::internal(format!("pdf task: {e}")))?
    .map_err(|e| Failure::internal(format!("pdf: {e}")))
}

fn parts(d: &DocumentRecord) -> (FormVersion, &Answers, bool) {
    match &d.body {
        DocumentBody::Draft(x) => (x.version, &x.answers, false),
        DocumentBody::Finalised(x) => (x.version(), x.answers(), true),
    }
}

/// A stored document as printed: its answers as they stand, drafts marked as such.
async fn render_document(
    d: &DocumentRecord,
    share_code: Option<String>,
) -> Result<Vec<u8>, Failure> {
    let (version, answers, finalised) = parts(d);
    let notes: Vec<String> = (!finalised)
        .then(|| DRAFT_NOTE.to_owned())
        .into_iter()
        .chain(d.withheld_notice())
        .collect();
    let opts = RenderOptions {
        share_code_qr: share_code,
        hidden_note: (!notes.is_empty()).then(|| notes.join("\n")),
    };
    render(d.form, version, Some(answers.clone()), opts).await
}

/// `attachment` with the Japanese name for browsers (RFC 6266 `filename*`) and an ASCII one
/// for the rest; never kept by a cache (the outer layer says so too, for every response).
fn pdf_response(pdf: Vec<u8>, name: &str, ascii_name: &str) -> Response {
    let mut r = pdf.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    let disposition = format!(
        "attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{}",
        utf8_percent_encode(name, NON_ALPHANUMERIC)
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn document_pdf_response<S: Store>(st: &AppState<S>, d: &DocumentRecord, pdf: Vec<u8>) -> Response {
    let day = st.app.now().to_offset(time::macros::offset!(+9)).date();
    let ymd = format!(
        "{:04}{:02}{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    );
    pdf_response(
        pdf,
        &format!("{}_{ymd}.pdf", d.form.label()),
        &format!("{}_{ymd}.pdf", d.form.code()),
    )
}

/// The document if the reader may read it (through the audited read), else the refusal the
/// document page gives.
async fn visible_document<S: Store>(
    st: &AppState<S>,
    ctx: &RequestContext,
    auth: &Authenticated,
    id: Uuid,
    doc: Uuid,
) -> Result<DocumentRecord, Failure> {
    let (_, docs) = st
        .app
        .read_documents(ctx, auth, id)
        .await
        .map_err(Failure::from)?;
    docs.into_iter()
        .find(|d| d.id == doc)
        .ok_or_else(Failure::not_found)
}

async fn printed<S: Store>(
    st: &AppState<S>,
    ctx: &RequestContext,
    auth: &Authenticated,
    id: Uuid,
    doc: Uuid,
) -> Result<Response, Failure> {
    let d = visible_document(st, ctx, auth, id, doc).await?;
    let pdf = render_document(&d, None).await?;
    Ok(document_pdf_response(st, &d, pdf))
}

/// `GET /cases/{id}/documents/{document}/pdf`: the document page, printed.
async fn document_pdf<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam((id, doc)): PathParam<(Uuid, Uuid)>,
) -> Response {
    printed(&st, &ctx, &auth, id, doc)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// The worker prints the 勤務情報提供書 for the hospital: a new share code is issued and
/// printed with its QR code (codes are stored hashed, so an earlier one cannot be printed).
async fn share_code_pdf<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam((id, doc)): PathParam<(Uuid, Uuid)>,
) -> Response {
    let run = async {
        let d = visible_document(&st, &ctx, &auth, id, doc).await?;
        if d.form != FormKind::WorkInformation {
            return Err(Failure::not_found());
        }
        let (code, _) = st
            .app
            .issue_share_code(&ctx, &auth, id)
            .await
            .map_err(Failure::from)?;
        let pdf = render_document(&d, Some(code)).await?;
        Ok(document_pdf_response(&st, &d, pdf))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// One document of the case the caller may read: JSON by default, the printed form for
/// `Accept: application/pdf`. The read is recorded as the list's is.
#[utoipa::path(get, path = "/api/v1/cases/{id}/documents/{document}", tag = "cases",
    params(("id" = Uuid, Path), ("document" = Uuid, Path),
        ("Accept" = Option<String>, Header, description = "`application/pdf` で、様式どおりに印刷できるPDFを返します。")),
    responses(
        (status = 200, description = "書類（JSON）または印刷用のPDF",
            content((super::api::DocumentOut = "application/json"), ("application/pdf")),
            headers(("ETag" = String))),
        (status = 404, body = ErrorBody)))]
pub async fn get_document<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam((id, doc)): PathParam<(Uuid, Uuid)>,
    headers: HeaderMap,
) -> Response {
    if wants_pdf(&headers) {
        return printed(&st, &ctx, &auth, id, doc)
            .await
            .unwrap_or_else(IntoResponse::into_response);
    }
    match visible_document(&st, &ctx, &auth, id, doc).await {
        Ok(d) => {
            let mut r = axum::Json(document_out(&d)).into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", d.version)) {
                r.headers_mut().insert(header::ETAG, v);
            }
            r
        }
        Err(f) => f.into_response(),
    }
}

/// A blank form to fill in by hand (the MHLW samples are public).
pub async fn blank_pdf(form: FormKind, version: FormVersion) -> Response {
    match render(form, version, None, RenderOptions::default()).await {
        Ok(pdf) => pdf_response(
            pdf,
            &format!("{}_{}_空欄.pdf", form.label(), version_year(version)),
            &format!("{}_{}_blank.pdf", form.code(), version.code()),
        ),
        Err(f) => f.into_response(),
    }
}

fn version_year(v: FormVersion) -> &'static str {
    match v {
        FormVersion::V2024 => "2024年版",
        FormVersion::V2026 => "2026年版",
    }
}

/// `GET /forms/{form}/{version}/blank.pdf`.
async fn blank_form(PathParam((form, version)): PathParam<(String, String)>) -> Response {
    match (FormKind::from_code(&form), FormVersion::from_code(&version)) {
        (Some(f), Some(v)) => blank_pdf(f, v).await,
        _ => Failure::not_found().into_response(),
    }
}

/// A blank form of the case's path, for the case page.
pub struct BlankForm {
    pub label: &'static str,
    /// (version label, link), newest first.
    pub links: Vec<(&'static str, String)>,
}

/// The blank forms the case page offers: to the worker, every form of the path (they carry
/// them to the doctor and the employer); to the others, the forms they fill in themselves,
/// so that no one is pointed at a kind of document they may not read in this case.
pub fn blank_forms(
    path: CasePath,
    worker: bool,
    writable: &[super::pages::FormLink],
) -> Vec<BlankForm> {
    super::pages::forms_of_path(path)
        .iter()
        .filter(|f| worker || writable.iter().any(|w| w.code == f.code()))
        .map(|f| BlankForm {
            label: f.label(),
            links: [FormVersion::V2026, FormVersion::V2024]
                .into_iter()
                .map(|v| {
                    (
                        version_year(v),
                        format!("/forms/{}/{}/blank.pdf", f.code(), v.code()),
                    )
                })
                .collect(),
        })
        .collect()
}

/// Adds to each document of a 開示 export its printed form (`pdf_base64`), from the stored
/// answers. Everything else of the export stays as it is.
pub async fn add_export_pdfs(export: &mut Value) -> Result<(), Failure> {
    use base64::Engine as _;
    let Some(cases) = export.get_mut("cases").and_then(Value::as_array_mut) else {
        return Ok(());
    };
    for case in cases {
        let Some(docs) = case.get_mut("documents").and_then(Value::as_array_mut) else {
            continue;
        };
        for doc in docs {
            let record: DocumentRecord = serde_json::from_value(doc.clone())
                .map_err(|e| Failure::internal(format!("export document: {e}")))?;
            let pdf = render_document(&record, None).await?;
            if let Some(obj) = doc.as_object_mut() {
                obj.insert(
                    "pdf_base64".to_owned(),
                    Value::String(base64::engine::general_purpose::STANDARD.encode(pdf)),
                );
            }
        }
    }
    Ok(())
}

pub(super) fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    use Method as M;
    t.add(
        M::GET,
        "/cases/{id}/documents/{document}/pdf",
        Access::SignedIn,
        "ViewCase + ViewCaseCategory (documents read audited)",
        document_pdf::<S>,
    )
    .add(
        M::POST,
        "/cases/{id}/documents/{document}/share-code-pdf",
        Access::SignedIn,
        "ViewCaseCategory (work information) + GrantConsent (the worker issues the code)",
        share_code_pdf::<S>,
    )
    .add(
        M::GET,
        "/api/v1/cases/{id}/documents/{document}",
        Access::SignedIn,
        "ViewCaseCategory (documents read audited)",
        get_document::<S>,
    )
    .add(
        M::GET,
        "/forms/{form}/{version}/blank.pdf",
        Access::Public,
        "none",
        blank_form,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn a_pdf_is_given_only_to_who_asks_for_one() {
        assert!(wants_pdf(&accept("application/pdf")));
        assert!(wants_pdf(&accept(
            "application/json;q=0.5, Application/PDF"
        )));
        assert!(!wants_pdf(&accept("application/pdf;q=0, application/json")));
        assert!(!wants_pdf(&accept("*/*")));
        assert!(!wants_pdf(&HeaderMap::new()));
    }
}
