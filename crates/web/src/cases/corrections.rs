//! The worker's requests for correction (訂正の請求): the JSON API and the pages.
//!
//! The worker files from their own records or from a document; the answering side (the
//! employer's 人事労務担当者, or the hospital's 主治医 for an opinion it wrote) finds open
//! requests on its home page and answers with a form, over the version it saw (`If-Match`
//! in the API, a hidden field on the page).

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use ryoritsu_app::accounts::Authenticated;
use ryoritsu_app::cases::corrections::{CorrectionView, DocumentRef};
use ryoritsu_app::ports::Store;
use ryoritsu_app::{App, AppError};
use ryoritsu_domain::FieldError;
use ryoritsu_domain::correction::{
    ANSWER_DAYS, AnswerInput, CorrectionInput, CorrectionKind, CorrectionTarget, Decision,
    Responder, TARGET_MAX, TEXT_MAX,
};
use ryoritsu_domain::time_format::format_micros;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::api::{body_json, if_match, json, parse_body, post_once, with_etag};
use crate::http::extract::{PageForm, PathParam, QueryParams};
use crate::http::failure::{ErrorBody, Failure};
use crate::http::page::{Layout, jp_date, jp_datetime};
use crate::http::session::{Csrf, Ctx, User};
use crate::{Access, AppState, RouteTable};

const ANSWERED_MESSAGE: &str =
    "この訂正の請求にはすでに回答しています。回答は後から変更できません。";
const STALE_MESSAGE: &str = "ほかの方が先にこの請求を更新しました。最新の内容を表示していますので、確認してからもう一度操作してください。";

/// A failure with this feature's own words for its conflict.
fn failure(e: AppError) -> Failure {
    match e {
        AppError::Conflict("correction_answered") => Failure::new(
            StatusCode::CONFLICT,
            "correction_answered",
            ANSWERED_MESSAGE,
        ),
        other => Failure::from(other),
    }
}

fn today<S: Store>(app: &App<S>) -> Date {
    app.today()
}

// ---- API ------------------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
pub struct NewCorrectionRequest {
    /// A 確定 document of the case; omit it for other data and name that instead.
    #[serde(default)]
    pub document_id: Option<Uuid>,
    /// 「その他」: the data the request is about, in the worker's words (up to 200 characters).
    #[serde(default)]
    pub target_description: Option<String>,
    /// `correct` (訂正), `add` (追加) or `delete` (削除).
    pub kind: String,
    /// What is wrong (up to 2,000 characters).
    pub what_is_wrong: String,
    /// What it should say (up to 2,000 characters).
    pub should_say: String,
}

#[derive(Deserialize, ToSchema)]
pub struct CorrectionAnswerRequest {
    /// `corrected` (訂正した), `not_corrected` (訂正しない) or `partly_corrected` (一部を訂正した).
    pub decision: String,
    /// Required for `not_corrected` and `partly_corrected`, and for a request about other
    /// data: the reason, or what was done. Shown to the worker.
    #[serde(default)]
    pub reason: Option<String>,
    /// The 確定 new version that corrects the document (for `corrected` and
    /// `partly_corrected` when the request is about a document).
    #[serde(default)]
    pub corrected_document_id: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct CorrectionTargetOut {
    /// `document` or `other`.
    #[serde(rename = "type")]
    pub kind: String,
    pub document_id: Option<Uuid>,
    pub form: Option<String>,
    pub revision: Option<u32>,
    pub description: Option<String>,
    /// In words, e.g. 「主治医意見書（就業継続）（第1版）」.
    pub label: String,
}

#[derive(Serialize, ToSchema)]
pub struct CorrectionAnswerOut {
    pub decision: String,
    pub decision_label: String,
    pub reason: Option<String>,
    pub corrected_document_id: Option<Uuid>,
    pub answered_by: Uuid,
    pub answered_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct CorrectionOut {
    pub id: Uuid,
    pub case_id: Uuid,
    pub target: CorrectionTargetOut,
    pub kind: String,
    pub kind_label: String,
    pub what_is_wrong: String,
    pub should_say: String,
    /// `employer` or `hospital`: who answers.
    pub responder: String,
    pub responder_label: String,
    pub responder_organisation_id: Uuid,
    pub responder_name: String,
    /// `received` (受付) or `answered` (回答済み).
    pub status: String,
    pub status_label: String,
    pub filed_at: String,
    /// The answer is due by this date (YYYY-MM-DD).
    pub due: String,
    pub overdue: bool,
    pub answer: Option<CorrectionAnswerOut>,
    /// Also the ETag; answering needs it in `If-Match`.
    pub version: i64,
}

fn correction_out(v: &CorrectionView, today: Date) -> CorrectionOut {
    let r = v.request();
    CorrectionOut {
        id: r.id,
        case_id: r.case_id,
        target: CorrectionTargetOut {
            kind: match r.target {
                CorrectionTarget::Document { .. } => "document".into(),
                CorrectionTarget::Other { .. } => "other".into(),
            },
            document_id: r.target.document(),
            form: v.target.map(|d| d.form.code().into()),
            revision: v.target.map(|d| d.revision),
            description: match &r.target {
                CorrectionTarget::Other { description } => Some(description.clone()),
                CorrectionTarget::Document { .. } => None,
            },
            label: v.target_label(),
        },
        kind: r.kind.code().into(),
        kind_label: r.kind.label().into(),
        what_is_wrong: r.what_is_wrong.clone(),
        should_say: r.should_say.clone(),
        responder: r.responder.code().into(),
        responder_label: r.responder.label().into(),
        responder_organisation_id: r.responder_organisation,
        responder_name: v.responder_name.clone(),
        status: r.status().code().into(),
        status_label: r.status().label().into(),
        filed_at: format_micros(r.filed_at),
        due: r.due.to_string(),
        overdue: r.overdue(today),
        answer: r.answer.as_ref().map(|a| CorrectionAnswerOut {
            decision: a.decision.code().into(),
            decision_label: a.decision.label().into(),
            reason: a.reason.clone(),
            corrected_document_id: a.corrected_document,
            answered_by: a.answered_by,
            answered_at: format_micros(a.answered_at),
        }),
        version: v.version(),
    }
}

/// The worker asks for a correction of what is held about them in this case: a 確定
/// document (`document_id`) or other data (`target_description`). Only the worker files;
/// anyone else taking part in the case gets 403. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/cases/{id}/correction-requests", tag = "corrections",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    request_body = NewCorrectionRequest,
    responses((status = 201, body = CorrectionOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn file_request<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let path = format!("/api/v1/cases/{id}/correction-requests");
    let today = today(&st.app);
    post_once(
        &st,
        format!("user:{}", auth.user.id),
        &headers,
        &path,
        &body,
        || async {
            let b: NewCorrectionRequest = parse_body(&body)?;
            let input = CorrectionInput {
                document: b.document_id,
                target_description: b.target_description.as_deref(),
                kind: &b.kind,
                what_is_wrong: &b.what_is_wrong,
                should_say: &b.should_say,
            };
            st.app
                .plan_file_correction(&ctx, &auth, id, input)
                .await
                .map_err(failure)
        },
        |v| body_json(201, &correction_out(v, today)),
    )
    .await
}

/// The requests of a case: the worker sees their own; the answering side those it answers
/// (its reads are recorded). 404 outside the case.
#[utoipa::path(get, path = "/api/v1/cases/{id}/correction-requests", tag = "corrections",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<CorrectionOut>), (status = 404, body = ErrorBody)))]
pub async fn list_case<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
) -> Response {
    let today = today(&st.app);
    match st.app.case_correction_requests(&ctx, &auth, id).await {
        Ok(vs) => json(
            StatusCode::OK,
            &vs.iter()
                .map(|v| correction_out(v, today))
                .collect::<Vec<_>>(),
        ),
        Err(e) => failure(e).into_response(),
    }
}

/// Every request the caller filed, newest first, with its answer once given.
#[utoipa::path(get, path = "/api/v1/me/correction-requests", tag = "corrections",
    responses((status = 200, body = Vec<CorrectionOut>)))]
pub async fn list_mine<S: Store>(State(st): State<AppState<S>>, User(auth): User) -> Response {
    let today = today(&st.app);
    match st.app.my_correction_requests(&auth).await {
        Ok(vs) => json(
            StatusCode::OK,
            &vs.iter()
                .map(|v| correction_out(v, today))
                .collect::<Vec<_>>(),
        ),
        Err(e) => failure(e).into_response(),
    }
}

/// One request, for the worker who filed it or the side that answers it; 404 otherwise.
#[utoipa::path(get, path = "/api/v1/correction-requests/{id}", tag = "corrections",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CorrectionOut, headers(("ETag" = String))), (status = 404, body = ErrorBody)))]
pub async fn get_one<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
) -> Response {
    let today = today(&st.app);
    match st.app.correction_request(&ctx, &auth, id).await {
        Ok(v) => with_etag(
            json(StatusCode::OK, &correction_out(&v, today)),
            v.version(),
        ),
        Err(e) => failure(e).into_response(),
    }
}

/// The answer (回答): 訂正した with the 確定 new version of the document, 訂正しない with the
/// reason, or 一部を訂正した with both. Needs `If-Match` (412 stale, 428 missing); an answer
/// is final (409 once answered).
#[utoipa::path(post, path = "/api/v1/correction-requests/{id}/answer", tag = "corrections",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = CorrectionAnswerRequest,
    responses((status = 200, body = CorrectionOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody), (status = 428, body = ErrorBody)))]
pub async fn answer<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    headers: HeaderMap,
    crate::http::extract::ApiJson(b): crate::http::extract::ApiJson<CorrectionAnswerRequest>,
) -> Response {
    let version = match if_match(&headers) {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    let input = AnswerInput {
        decision: &b.decision,
        reason: b.reason.as_deref(),
        corrected_document: b.corrected_document_id,
    };
    let today = today(&st.app);
    match st
        .app
        .answer_correction(&ctx, &auth, id, version, input)
        .await
    {
        Ok(v) => with_etag(
            json(StatusCode::OK, &correction_out(&v, today)),
            v.version(),
        ),
        Err(e) => failure(e).into_response(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct CorrectingDocumentOut {
    pub document_id: Uuid,
    pub case_id: Uuid,
    pub form: String,
    /// The new version's number (第n版).
    pub revision: u32,
    /// The document this version corrects.
    pub corrects: Option<Uuid>,
    /// The draft's version, for `If-Match` when saving and confirming it.
    pub version: i64,
}

/// The answering side starts the corrected version of the document a request is about: a
/// draft with the latest 確定 contents that points at the version it corrects (or the draft
/// already started). It is then edited and confirmed through the case's document API.
#[utoipa::path(post, path = "/api/v1/correction-requests/{id}/correcting-document", tag = "corrections",
    params(("id" = Uuid, Path)),
    responses((status = 201, body = CorrectingDocumentOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn correcting_document<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
) -> Response {
    match st.app.start_correcting_document(&ctx, &auth, id).await {
        Ok(d) => {
            let (revision, corrects) = match &d.body {
                ryoritsu_app::cases::ports::DocumentBody::Draft(x) => (x.revision, x.corrects),
                ryoritsu_app::cases::ports::DocumentBody::Finalised(x) => {
                    (x.revision(), x.corrects())
                }
            };
            with_etag(
                json(
                    StatusCode::CREATED,
                    &CorrectingDocumentOut {
                        document_id: d.id,
                        case_id: d.case_id,
                        form: d.form.code().into(),
                        revision,
                        corrects,
                        version: d.version,
                    },
                ),
                d.version,
            )
        }
        Err(e) => failure(e).into_response(),
    }
}

// ---- pages ----------------------------------------------------------------------------

fn render<T: Template>(t: &T, status: StatusCode) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => Failure::internal(format!("template: {e}")).into_response(),
    }
}

fn responder_explanation(r: Responder) -> &'static str {
    match r {
        Responder::Employer => "勤務先の人事労務担当者",
        Responder::Hospital => "書類を書いた医療機関の主治医",
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "cases/correction_new.html")]
struct NewPage {
    layout: Layout,
    case_id: Uuid,
    documents: Vec<Choice>,
    other_selected: bool,
    target_description: String,
    kinds: Vec<Choice>,
    what_is_wrong: String,
    should_say: String,
    errors: Vec<FieldError>,
    answer_days: i64,
    text_max: usize,
    target_max: usize,
}

impl NewPage {
    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }
}

#[derive(Deserialize, Default)]
struct NewQuery {
    document: Option<Uuid>,
}

#[derive(Deserialize, Default)]
struct NewForm {
    /// A document id, or `other`.
    #[serde(default)]
    target: String,
    #[serde(default)]
    target_description: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    what_is_wrong: String,
    #[serde(default)]
    should_say: String,
}

async fn new_page_render<S: Store>(
    st: &AppState<S>,
    csrf: &str,
    auth: &Authenticated,
    case_id: Uuid,
    form: &NewForm,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Response {
    let targets = match st.app.correction_targets(auth, case_id).await {
        Ok(t) => t,
        Err(AppError::Denied(ryoritsu_domain::policy::Denial::Forbidden)) => {
            return Failure::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "訂正の請求は、ご本人だけが行えます。ご本人に、この画面から請求するようお伝えください。",
            )
            .into_response();
        }
        Err(e) => return failure(e).into_response(),
    };
    let documents = targets
        .iter()
        .map(|(d, r)| Choice {
            value: d.id.to_string(),
            label: format!("{}　回答する方：{}", d.label(), responder_explanation(*r)),
            selected: form.target == d.id.to_string(),
        })
        .collect();
    let kinds = CorrectionKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.code().into(),
            label: k.label().into(),
            selected: form.kind == k.code()
                || (form.kind.is_empty() && *k == CorrectionKind::Correct),
        })
        .collect();
    render(
        &NewPage {
            layout: Layout::new(st, "内容の訂正を求める", csrf, Some(auth), "/me/records"),
            case_id,
            documents,
            other_selected: form.target == "other",
            target_description: form.target_description.clone(),
            kinds,
            what_is_wrong: form.what_is_wrong.clone(),
            should_say: form.should_say.clone(),
            errors,
            answer_days: ANSWER_DAYS,
            text_max: TEXT_MAX,
            target_max: TARGET_MAX,
        },
        status,
    )
}

async fn new_page<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    User(auth): User,
    PathParam(case_id): PathParam<Uuid>,
    QueryParams(q): QueryParams<NewQuery>,
) -> Response {
    let form = NewForm {
        target: q.document.map(|d| d.to_string()).unwrap_or_default(),
        ..NewForm::default()
    };
    new_page_render(
        &st,
        &csrf,
        &auth,
        case_id,
        &form,
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

async fn file_page<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    Csrf(csrf): Csrf,
    User(auth): User,
    PathParam(case_id): PathParam<Uuid>,
    PageForm(form): PageForm<NewForm>,
) -> Response {
    let (document, other) = match form.target.as_str() {
        "other" => (None, true),
        "" => (None, false),
        s => match Uuid::parse_str(s) {
            Ok(id) => (Some(id), false),
            Err(_) => (None, false),
        },
    };
    let input = CorrectionInput {
        document,
        target_description: other.then_some(form.target_description.as_str()),
        kind: &form.kind,
        what_is_wrong: &form.what_is_wrong,
        should_say: &form.should_say,
    };
    match st.app.file_correction(&ctx, &auth, case_id, input).await {
        Ok(v) => Redirect::to(&format!(
            "/correction-requests/{}?done=filed",
            v.request().id
        ))
        .into_response(),
        Err(AppError::Invalid(e)) => {
            new_page_render(
                &st,
                &csrf,
                &auth,
                case_id,
                &form,
                e.errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => failure(e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "cases/correction_detail.html")]
struct DetailPage {
    layout: Layout,
    notice: Option<&'static str>,
    message: Option<&'static str>,
    id: Uuid,
    case_id: Uuid,
    target: String,
    target_link: Option<String>,
    kind: &'static str,
    /// Free texts as escaped HTML with their line breaks kept.
    what_is_wrong: String,
    should_say: String,
    filed: String,
    due: String,
    overdue: bool,
    responder: String,
    answered: bool,
    decision: String,
    reason: Option<String>,
    corrected: Option<(String, String)>,
    answered_at: String,
    /// The answer form, for the side that answers an open request.
    answer_form: bool,
    version: i64,
    decisions: Vec<Choice>,
    reason_input: String,
    corrections: Vec<Choice>,
    drafts: Vec<(String, String)>,
    on_document: bool,
    errors: Vec<FieldError>,
    text_max: usize,
}

impl DetailPage {
    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }
}

#[derive(Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
}

#[derive(Deserialize, Default)]
struct AnswerForm {
    #[serde(default)]
    version: i64,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    corrected_document: String,
}

/// A free text as escaped HTML, its line breaks shown as breaks.
fn lines_html(s: &str) -> String {
    crate::http::page::escape(s).replace('\n', "<br>")
}

fn document_link(case: Uuid, d: &DocumentRef) -> (String, String) {
    (format!("/cases/{case}/documents/{}", d.id), d.label())
}

#[allow(clippy::too_many_arguments)] // one page: each argument is part of what it shows
fn detail_render<S: Store>(
    st: &AppState<S>,
    csrf: &str,
    auth: &Authenticated,
    v: &CorrectionView,
    form: &AnswerForm,
    notice: Option<&'static str>,
    message: Option<&'static str>,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Response {
    let r = v.request();
    let case = r.case_id;
    let answer = r.answer.as_ref();
    let decisions = Decision::ALL
        .iter()
        .map(|d| Choice {
            value: d.code().into(),
            label: d.label().into(),
            selected: form.decision == d.code(),
        })
        .collect();
    let corrections = v
        .corrections
        .iter()
        .filter(|d| d.finalised)
        .map(|d| Choice {
            value: d.id.to_string(),
            label: d.label(),
            selected: form.corrected_document == d.id.to_string(),
        })
        .collect();
    let drafts = v
        .corrections
        .iter()
        .filter(|d| !d.finalised)
        .map(|d| document_link(case, d))
        .collect();
    let page = DetailPage {
        layout: Layout::new(st, "訂正の請求", csrf, Some(auth), "/"),
        notice,
        message,
        id: r.id,
        case_id: case,
        target: v.target_label(),
        target_link: v.target.map(|d| document_link(case, &d).0),
        kind: r.kind.label(),
        what_is_wrong: lines_html(&r.what_is_wrong),
        should_say: lines_html(&r.should_say),
        filed: jp_datetime(r.filed_at),
        due: jp_date(r.due),
        overdue: r.overdue(today(&st.app)),
        responder: format!("{}（{}）", v.responder_name, r.responder.label()),
        answered: answer.is_some(),
        decision: answer.map_or_else(String::new, |a| a.decision.label().to_owned()),
        reason: answer.and_then(|a| a.reason.as_deref().map(lines_html)),
        corrected: answer.and_then(|a| a.corrected_document).map(|id| {
            v.corrections.iter().find(|d| d.id == id).map_or_else(
                || {
                    (
                        format!("/cases/{case}/documents/{id}"),
                        "訂正した書類".to_owned(),
                    )
                },
                |d| document_link(case, d),
            )
        }),
        answered_at: answer.map_or_else(String::new, |a| jp_datetime(a.answered_at)),
        answer_form: v.answerer && answer.is_none(),
        version: v.version(),
        decisions,
        reason_input: form.reason.clone(),
        corrections,
        drafts,
        on_document: r.target.document().is_some(),
        errors,
        text_max: TEXT_MAX,
    };
    render(&page, status)
}

async fn detail_page<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    Csrf(csrf): Csrf,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    QueryParams(q): QueryParams<DoneQuery>,
) -> Response {
    let v = match st.app.correction_request(&ctx, &auth, id).await {
        Ok(v) => v,
        Err(e) => return failure(e).into_response(),
    };
    let notice = match q.done.as_deref() {
        Some("filed") => {
            Some("訂正の請求を受け付けました。回答はこの画面と「わたしの情報」でお知らせします。")
        }
        Some("answered") => Some("回答を登録しました。ご本人に表示されます。"),
        _ => None,
    };
    detail_render(
        &st,
        &csrf,
        &auth,
        &v,
        &AnswerForm::default(),
        notice,
        None,
        Vec::new(),
        StatusCode::OK,
    )
}

async fn answer_page<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    Csrf(csrf): Csrf,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    PageForm(form): PageForm<AnswerForm>,
) -> Response {
    let corrected = match form.corrected_document.trim() {
        "" => None,
        s => Uuid::parse_str(s).ok(),
    };
    let input = AnswerInput {
        decision: &form.decision,
        reason: Some(form.reason.as_str()),
        corrected_document: corrected,
    };
    let result = st
        .app
        .answer_correction(&ctx, &auth, id, form.version, input)
        .await;
    let (message, errors, status) = match result {
        Ok(_) => {
            return Redirect::to(&format!("/correction-requests/{id}?done=answered"))
                .into_response();
        }
        Err(AppError::Invalid(e)) => (None, e.errors, StatusCode::UNPROCESSABLE_ENTITY),
        Err(AppError::PreconditionFailed) => {
            (Some(STALE_MESSAGE), Vec::new(), StatusCode::CONFLICT)
        }
        Err(AppError::Conflict("correction_answered")) => {
            (Some(ANSWERED_MESSAGE), Vec::new(), StatusCode::CONFLICT)
        }
        Err(e) => return failure(e).into_response(),
    };
    let v = match st.app.correction_request(&ctx, &auth, id).await {
        Ok(v) => v,
        Err(e) => return failure(e).into_response(),
    };
    let form = if status == StatusCode::CONFLICT {
        AnswerForm::default()
    } else {
        form
    };
    detail_render(&st, &csrf, &auth, &v, &form, None, message, errors, status)
}

async fn correcting_document_page<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
) -> Response {
    match st.app.start_correcting_document(&ctx, &auth, id).await {
        Ok(d) => Redirect::to(&format!("/cases/{}/documents/{}", d.case_id, d.id)).into_response(),
        Err(e) => failure(e).into_response(),
    }
}

// ---- for other pages -------------------------------------------------------------------

/// One of the worker's requests, for 「わたしの情報」.
pub struct MyCorrectionRow {
    pub href: String,
    pub target: String,
    pub filed: String,
    pub status: &'static str,
    pub answered: bool,
    pub result: String,
}

/// A case of the worker's, with the link to ask for a correction in it.
pub struct CorrectionLink {
    pub href: String,
    pub label: String,
}

/// The worker's requests and where to file a new one.
pub async fn my_corrections<S: Store>(
    app: &App<S>,
    auth: &Authenticated,
) -> Result<(Vec<MyCorrectionRow>, Vec<CorrectionLink>), AppError> {
    let rows = app
        .my_correction_requests(auth)
        .await?
        .iter()
        .map(|v| {
            let r = v.request();
            MyCorrectionRow {
                href: format!("/correction-requests/{}", r.id),
                target: v.target_label(),
                filed: jp_datetime(r.filed_at),
                status: r.status().label(),
                answered: r.answer.is_some(),
                result: match &r.answer {
                    Some(a) => a.decision.label().to_owned(),
                    None => format!("{}までに{}が回答します", jp_date(r.due), v.responder_name),
                },
            }
        })
        .collect();
    let links = app
        .own_cases(auth)
        .await?
        .iter()
        .map(|c| CorrectionLink {
            href: format!("/cases/{}/correction-requests/new", c.id),
            label: format!(
                "{}の事例（{}受付）について、内容の訂正を求める",
                c.state.path.label(),
                jp_date(c.state.requested_on.unwrap_or_else(|| c.created_at.date())),
            ),
        })
        .collect();
    Ok((rows, links))
}

/// Open requests the signed-in person answers, for the home page's task list.
pub async fn home_tasks<S: Store>(
    app: &App<S>,
    auth: &Authenticated,
) -> Result<Vec<crate::http::home::HomeTask>, AppError> {
    let today = today(app);
    Ok(app
        .correction_tasks(auth)
        .await?
        .iter()
        .map(|v| crate::http::home::HomeTask {
            label: "訂正の請求への回答",
            href: format!("/correction-requests/{}", v.request().id),
            due: jp_date(v.request().due),
            overdue: v.request().overdue(today),
        })
        .collect())
}

pub(super) fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    use Method as M;
    t.add(
        M::POST,
        "/api/v1/cases/{id}/correction-requests",
        Access::SignedIn,
        "ViewCase, the worker only",
        file_request::<S>,
    )
    .add(
        M::GET,
        "/api/v1/cases/{id}/correction-requests",
        Access::SignedIn,
        "ViewCase; the worker's own or those the caller answers",
        list_case::<S>,
    )
    .add(
        M::GET,
        "/api/v1/me/correction-requests",
        Access::SignedIn,
        "own requests only",
        list_mine::<S>,
    )
    .add(
        M::GET,
        "/api/v1/correction-requests/{id}",
        Access::SignedIn,
        "the worker who filed it, or the answering side with ViewCaseCategory",
        get_one::<S>,
    )
    .add(
        M::POST,
        "/api/v1/correction-requests/{id}/answer",
        Access::SignedIn,
        "the answering side (HR / the 主治医) with ViewCaseCategory",
        answer::<S>,
    )
    .add(
        M::POST,
        "/api/v1/correction-requests/{id}/correcting-document",
        Access::SignedIn,
        "the answering side, with EditCaseDocument / WriteOpinion",
        correcting_document::<S>,
    )
    .add(
        M::GET,
        "/cases/{id}/correction-requests/new",
        Access::SignedIn,
        "ViewCase, the worker only",
        new_page::<S>,
    )
    .add(
        M::POST,
        "/cases/{id}/correction-requests",
        Access::SignedIn,
        "ViewCase, the worker only",
        file_page::<S>,
    )
    .add(
        M::GET,
        "/correction-requests/{id}",
        Access::SignedIn,
        "the worker who filed it, or the answering side with ViewCaseCategory",
        detail_page::<S>,
    )
    .add(
        M::POST,
        "/correction-requests/{id}/answer",
        Access::SignedIn,
        "the answering side (HR / the 主治医) with ViewCaseCategory",
        answer_page::<S>,
    )
    .add(
        M::POST,
        "/correction-requests/{id}/correcting-document",
        Access::SignedIn,
        "the answering side, with EditCaseDocument / WriteOpinion",
        correcting_document_page::<S>,
    )
}
