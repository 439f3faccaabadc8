//! The JSON API for support cases. Every response is built through the principal's
//! `CaseAccess`, so what the policy hides is never put into it. Updates carry the version
//! they were based on in `If-Match` (412 when stale, 428 when missing); responses carry it
//! as the `ETag`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ryoritsu_app::access::ports::CaseCursor;
use ryoritsu_app::access::{MAX_PAGE, ScopeFilter};
use ryoritsu_app::cases::ports::{DocumentBody, DocumentRecord, PartyKind};
use ryoritsu_app::cases::{CaseDetails, LoadedCase};
use ryoritsu_app::ports::Store;
use ryoritsu_domain::case::{CasePath, CaseStatus, Step};
use ryoritsu_domain::consent::{ConsentDraft, Recipient};
use ryoritsu_domain::forms::{Answers, Attestation, FormKind, FormVersion, Party};
use ryoritsu_domain::info::InformationCategory;
use ryoritsu_domain::org::{OrganisationKind, Role};
use ryoritsu_domain::policy::CaseAccess;
use ryoritsu_domain::time_format::format_micros;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::api::{if_match, json, with_etag};
use crate::http::extract::{ApiJson, PathParam, QueryParams};
use crate::http::failure::{ErrorBody, Failure};
use crate::http::session::{Ctx, User};
use crate::{Access, AppState, RouteTable};

#[derive(Serialize, ToSchema)]
pub struct TaskOut {
    pub kind: String,
    pub label: String,
    pub assignee_role: String,
    pub due: String,
    pub open: bool,
}

#[derive(Serialize, ToSchema)]
pub struct PartyOut {
    pub kind: String,
    /// Absent for the hospital and its people when the caller may not see medical
    /// information: who treats the worker is health information.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
}

/// A case as the principal may see it. Fields of a category the principal may not see are
/// absent, not empty.
#[derive(Serialize, ToSchema)]
pub struct CaseOut {
    pub id: Uuid,
    pub worker_id: Uuid,
    pub employer_id: Uuid,
    pub workplace_id: Option<Uuid>,
    pub path: String,
    pub path_label: String,
    pub status: String,
    pub status_label: String,
    pub requested_on: Option<String>,
    /// The 主治医's opinion on continuing work (可 / 条件付きで可 / 現時点で不可): medical.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fitness_for_work: Option<String>,
    /// The 主治医's opinion on returning from leave: medical.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_fitness: Option<String>,
    /// Leave and plan dates: work measures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leave: Option<serde_json::Value>,
    pub outcome: Option<String>,
    /// Categories of this case the caller may read.
    pub visible: Vec<String>,
    pub tasks: Vec<TaskOut>,
    pub parties: Vec<PartyOut>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

fn case_out(loaded: &LoadedCase, access: &CaseAccess, details: Option<&CaseDetails>) -> CaseOut {
    let c = &loaded.case;
    let s = &c.state;
    let medical = InformationCategory::Medical;
    let measures = InformationCategory::WorkMeasures;
    CaseOut {
        id: c.id,
        worker_id: c.worker_id,
        employer_id: c.employer_id,
        workplace_id: c.workplace_id,
        path: s.path.code().into(),
        path_label: s.path.label().into(),
        status: s.status.code().into(),
        status_label: s.status.label().into(),
        requested_on: s.requested_on.map(|d| d.to_string()),
        fitness_for_work: access
            .reveal(medical, s.fitness)
            .flatten()
            .map(|f| f.code().into()),
        return_fitness: access
            .reveal(medical, s.return_fitness)
            .flatten()
            .map(|f| f.code().into()),
        plan: access
            .reveal(measures, s.plan.or(s.draft_plan))
            .flatten()
            .and_then(|p| serde_json::to_value(p).ok()),
        leave: access
            .reveal(measures, s.leave)
            .flatten()
            .and_then(|l| serde_json::to_value(l).ok()),
        outcome: s.outcome.map(|o| o.code().into()),
        visible: access.visible().iter().map(|c| c.code().into()).collect(),
        tasks: details.map_or_else(Vec::new, |d| {
            d.tasks
                .iter()
                .map(|t| TaskOut {
                    kind: t.kind.code().into(),
                    label: t.kind.label().into(),
                    assignee_role: t.assignee_role.code().into(),
                    due: t.due.to_string(),
                    open: t.closed_at.is_none(),
                })
                .collect()
        }),
        parties: details.map_or_else(Vec::new, |d| {
            d.parties
                .iter()
                .map(|p| {
                    let treating = p.kind == PartyKind::Hospital
                        || loaded.context.hospitals.contains(&p.organisation_id);
                    let named = !treating || ryoritsu_app::cases::sees_who_treats(loaded, access);
                    PartyOut {
                        kind: p.kind.code().into(),
                        organisation_id: named.then_some(p.organisation_id),
                        user_id: p.user_id.filter(|_| named),
                    }
                })
                .collect()
        }),
        version: c.version,
        created_at: format_micros(c.created_at),
        updated_at: format_micros(c.updated_at),
    }
}

#[derive(Serialize, ToSchema)]
pub struct DocumentOut {
    pub id: Uuid,
    pub case_id: Uuid,
    pub form: String,
    pub form_label: String,
    pub form_version: String,
    /// `draft` or `finalised` (確定).
    pub stage: String,
    pub revision: u32,
    pub corrects: Option<Uuid>,
    /// The uploaded scan of a paper original this document transcribes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcribed_from: Option<Uuid>,
    #[schema(value_type = Object)]
    pub answers: Answers,
    /// Fields left out of `answers` because they reveal what this reader may not see (a
    /// plan's treatment status without the worker's consent to medical information): a
    /// field's id, or `table.column` / `group.part`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<String>,
    pub confirmed_by: Option<Uuid>,
    pub confirmed_at: Option<String>,
    pub version: i64,
    pub updated_at: String,
}

pub fn document_out(d: &DocumentRecord) -> DocumentOut {
    let (stage, version, revision, corrects, answers, by, at) = match &d.body {
        DocumentBody::Draft(x) => (
            "draft",
            x.version,
            x.revision,
            x.corrects,
            x.answers.clone(),
            None,
            None,
        ),
        DocumentBody::Finalised(x) => (
            "finalised",
            x.version(),
            x.revision(),
            x.corrects(),
            x.answers().clone(),
            Some(x.confirmed_by()),
            Some(format_micros(x.confirmed_at())),
        ),
    };
    DocumentOut {
        id: d.id,
        case_id: d.case_id,
        form: d.form.code().into(),
        form_label: d.form.label().into(),
        form_version: version.code().into(),
        stage: stage.into(),
        revision,
        corrects,
        transcribed_from: match &d.body {
            DocumentBody::Draft(x) => x.transcribed_from,
            DocumentBody::Finalised(x) => x.transcribed_from(),
        },
        answers,
        withheld: d.withheld.clone(),
        confirmed_by: by,
        confirmed_at: at,
        version: d.version,
        updated_at: format_micros(d.updated_at),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct FileRequest {
    pub employer_id: Uuid,
    #[serde(default)]
    pub workplace_id: Option<Uuid>,
    /// `continuation` (就業継続), `leave_and_return` (休業・復職) or `support_card`.
    pub path: String,
}

/// The worker's 申出: opens a case.
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = FileRequest,
    responses((status = 201, body = CaseOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn file_request<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    ApiJson(body): ApiJson<FileRequest>,
) -> Response {
    let Some(path) = CasePath::from_code(&body.path) else {
        return Failure::from(ryoritsu_domain::ValidationErrors::from(
            ryoritsu_domain::FieldError::new(
                "path",
                "invalid_option",
                "支援の種類を選んでください。",
            ),
        ))
        .into_response();
    };
    let case = match st
        .app
        .file_request(&ctx, &auth, body.employer_id, body.workplace_id, path)
        .await
    {
        Ok(c) => c,
        Err(e) => return Failure::from(e).into_response(),
    };
    match st.app.case_details(&auth, case.id).await {
        Ok(d) => with_etag(
            json(
                StatusCode::CREATED,
                &case_out(&d.loaded, &d.access, Some(&d)),
            ),
            case.version,
        ),
        Err(e) => Failure::from(e).into_response(),
    }
}

/// How a case list is asked for: its filter, where the page starts, how long it is.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// A status code (`CaseStatus`), or nothing for every status.
    #[serde(default)]
    pub status: Option<String>,
    /// The `next` of the page before.
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Cases per page when the caller names no `limit`.
pub const DEFAULT_LIMIT: u32 = 50;

impl ListQuery {
    /// The filter, the cursor and the page size, or a 400 naming what is wrong.
    pub fn parse(&self) -> Result<(ScopeFilter, Option<CaseCursor>, u32), Failure> {
        let status = match self.status.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(code) => Some(CaseStatus::from_code(code).ok_or_else(|| {
                Failure::bad_request("bad_status", "状況の指定が正しくありません。")
            })?),
        };
        let after = match self.after.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(t) => Some(CaseCursor::from_token(t).ok_or_else(|| {
                Failure::bad_request(
                    "bad_cursor",
                    "ページの指定が正しくありません。一覧の最初から開き直してください。",
                )
            })?),
        };
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_PAGE);
        Ok((
            ScopeFilter {
                status,
                ..ScopeFilter::default()
            },
            after,
            limit,
        ))
    }
}

/// One page of cases, and where the next one starts.
#[derive(Serialize, ToSchema)]
pub struct CasePageOut {
    pub items: Vec<CaseOut>,
    /// Give this as `after` for the next page; absent after the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The cases the caller takes part in, newest first, a page at a time (`limit` 1–200,
/// default 50; `after` = the `next` of the page before; `status` to filter).
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases",
    params(
        ("status" = Option<String>, Query, description = "状況のコード（例: `requested`）"),
        ("after" = Option<String>, Query, description = "前のページの `next`"),
        ("limit" = Option<u32>, Query, description = "1ページの件数（1〜200、既定50）")),
    responses((status = 200, body = CasePageOut), (status = 400, body = ErrorBody)))]
pub async fn list_cases<S: Store>(
    State(st): State<AppState<S>>,
    User(auth): User,
    QueryParams(q): QueryParams<ListQuery>,
) -> Response {
    let (filter, after, limit) = match q.parse() {
        Ok(p) => p,
        Err(f) => return f.api().into_response(),
    };
    match st.app.visible_cases(&auth, filter, after, limit).await {
        Ok(page) => json(
            StatusCode::OK,
            &CasePageOut {
                items: page
                    .items
                    .iter()
                    .map(|(l, a)| case_out(l, a, None))
                    .collect(),
                next: page.next.map(|c| c.token()),
            },
        ),
        Err(e) => Failure::from(e).into_response(),
    }
}

#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = Uuid, Path)),
    responses((status = 200, body = CaseOut, headers(("ETag" = String))), (status = 404, body = ErrorBody)))]
pub async fn get_case<S: Store>(
    State(st): State<AppState<S>>,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
) -> Response {
    match st.app.case_details(&auth, id).await {
        Ok(d) => with_etag(
            json(StatusCode::OK, &case_out(&d.loaded, &d.access, Some(&d))),
            d.loaded.case.version,
        ),
        Err(e) => Failure::from(e).into_response(),
    }
}

/// Takes one step of the case's path (see `ryoritsu_domain::case::Step`), e.g.
/// `{"step":"confirm_work_information","by":"worker"}`. Needs `If-Match`.
#[utoipa::path(post, path = "/api/v1/cases/{id}/steps", tag = "cases", params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    request_body(content = Object, description = "a step, tagged by `step`"),
    responses((status = 200, body = CaseOut), (status = 412, body = ErrorBody), (status = 422, body = ErrorBody), (status = 428, body = ErrorBody)))]
pub async fn take_step<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    headers: HeaderMap,
    ApiJson(step): ApiJson<Step>,
) -> Response {
    let version = match if_match(&headers) {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    if let Err(e) = st.app.take_step(&ctx, &auth, id, Some(version), step).await {
        return Failure::from(e).into_response();
    }
    get_case(State(st), User(auth), PathParam(id)).await
}

/// The documents of the case the caller may read. Reading medical information is recorded
/// in the audit log before the answer is sent.
#[utoipa::path(get, path = "/api/v1/cases/{id}/documents", tag = "cases", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<DocumentOut>), (status = 404, body = ErrorBody)))]
pub async fn list_documents<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
) -> Response {
    match st.app.read_documents(&ctx, &auth, id).await {
        Ok((_, docs)) => json(
            StatusCode::OK,
            &docs.iter().map(document_out).collect::<Vec<_>>(),
        ),
        Err(e) => Failure::from(e).into_response(),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct NewDocument {
    /// `work_information`, `continuation_opinion`, `return_to_work_opinion`, `support_plan`,
    /// `return_to_work_plan`, `support_card`
    pub form: String,
    /// `v2024` or `v2026` (default)
    #[serde(default)]
    pub form_version: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub answers: Answers,
}

fn parse_form(form: &str, version: Option<&str>) -> Result<(FormKind, FormVersion), Failure> {
    let kind = FormKind::from_code(form).ok_or_else(|| {
        Failure::from(ryoritsu_domain::ValidationErrors::from(
            ryoritsu_domain::FieldError::new(
                "form",
                "invalid_option",
                "書類の様式を選んでください。",
            ),
        ))
    })?;
    let version = match version {
        None => FormVersion::V2026,
        Some(v) => FormVersion::from_code(v).ok_or_else(|| {
            Failure::from(ryoritsu_domain::ValidationErrors::from(
                ryoritsu_domain::FieldError::new(
                    "form_version",
                    "invalid_option",
                    "様式の版を選んでください。",
                ),
            ))
        })?,
    };
    Ok((kind, version))
}

/// Starts a document draft. Drafts save as you go: only the format of what is there is
/// checked; 確定 checks everything.
#[utoipa::path(post, path = "/api/v1/cases/{id}/documents", tag = "cases", params(("id" = Uuid, Path)), request_body = NewDocument,
    responses((status = 201, body = DocumentOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_document<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    ApiJson(body): ApiJson<NewDocument>,
) -> Response {
    let (form, version) = match parse_form(&body.form, body.form_version.as_deref()) {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    match st
        .app
        .save_draft(&ctx, &auth, id, form, version, None, body.answers)
        .await
    {
        Ok(d) => with_etag(json(StatusCode::CREATED, &document_out(&d)), d.version),
        Err(e) => Failure::from(e).into_response(),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct DraftUpdate {
    #[schema(value_type = Object)]
    pub answers: Answers,
}

/// Saves a draft over the version named in `If-Match`.
#[utoipa::path(put, path = "/api/v1/cases/{id}/documents/{document}", tag = "cases",
    params(("id" = Uuid, Path), ("document" = Uuid, Path), ("If-Match" = String, Header)), request_body = DraftUpdate,
    responses((status = 200, body = DocumentOut), (status = 409, body = ErrorBody), (status = 412, body = ErrorBody), (status = 428, body = ErrorBody)))]
pub async fn update_document<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam((id, document)): PathParam<(Uuid, Uuid)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<DraftUpdate>,
) -> Response {
    let version = match if_match(&headers) {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    let (_, docs) = match st.app.read_documents(&ctx, &auth, id).await {
        Ok(v) => v,
        Err(e) => return Failure::from(e).into_response(),
    };
    let Some(existing) = docs.iter().find(|d| d.id == document) else {
        return Failure::not_found().into_response();
    };
    let form_version = match &existing.body {
        DocumentBody::Draft(d) => d.version,
        DocumentBody::Finalised(f) => f.version(),
    };
    match st
        .app
        .save_draft(
            &ctx,
            &auth,
            id,
            existing.form,
            form_version,
            Some((document, version)),
            body.answers,
        )
        .await
    {
        Ok(d) => with_etag(json(StatusCode::OK, &document_out(&d)), d.version),
        Err(e) => Failure::from(e).into_response(),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct FinaliseRequest {
    /// The signature line attested, e.g. `worker_confirmation`, `physician_signature`.
    pub signature_field: String,
    /// `worker`, `employer` or `attending_physician`: must be the caller's own part.
    pub party: String,
}

/// 確定: validates the whole form, records who confirmed it and when, and makes it
/// immutable. Needs `If-Match`.
#[utoipa::path(post, path = "/api/v1/cases/{id}/documents/{document}/finalise", tag = "cases",
    params(("id" = Uuid, Path), ("document" = Uuid, Path), ("If-Match" = String, Header)), request_body = FinaliseRequest,
    responses((status = 200, body = DocumentOut), (status = 412, body = ErrorBody), (status = 422, body = ErrorBody), (status = 428, body = ErrorBody)))]
pub async fn finalise_document<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam((id, document)): PathParam<(Uuid, Uuid)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<FinaliseRequest>,
) -> Response {
    let version = match if_match(&headers) {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    let Some(party) = Party::from_code(&body.party) else {
        return Failure::from(ryoritsu_domain::ValidationErrors::from(
            ryoritsu_domain::FieldError::new(
                "party",
                "invalid_option",
                "確認する立場を選んでください。",
            ),
        ))
        .into_response();
    };
    let attestation = Attestation {
        signature_field: body.signature_field,
        party,
    };
    match st
        .app
        .finalise_document(&ctx, &auth, document, version, attestation)
        .await
    {
        Ok(d) if d.case_id == id => with_etag(json(StatusCode::OK, &document_out(&d)), d.version),
        Ok(_) => Failure::not_found().into_response(),
        Err(e) => Failure::from(e).into_response(),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ConsentRequest {
    pub organisation_id: Uuid,
    /// The recipient's role there, e.g. `attending_physician`, `hr_officer`.
    pub role: String,
    #[serde(default)]
    pub person_id: Option<Uuid>,
    /// Category codes: `work_information`, `medical`, `work_measures`, `consultation_notes`.
    pub categories: Vec<String>,
    pub purpose: String,
    /// RFC 3339; none for no expiry.
    #[serde(default)]
    pub expires_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConsentOut {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub role: String,
    pub person_id: Option<Uuid>,
    pub categories: Vec<String>,
    pub purpose: String,
    pub granted_at: String,
    pub expires_at: Option<String>,
    pub withdrawn_at: Option<String>,
}

/// The worker grants a consent. Nothing is shared without one.
#[utoipa::path(post, path = "/api/v1/cases/{id}/consents", tag = "cases", params(("id" = Uuid, Path)), request_body = ConsentRequest,
    responses((status = 201, body = ConsentOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn grant_consent<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    ApiJson(body): ApiJson<ConsentRequest>,
) -> Response {
    let mut errs = ryoritsu_domain::ValidationErrors::default();
    let role = Role::from_code(&body.role);
    if role.is_none() {
        errs.push(ryoritsu_domain::FieldError::new(
            "role",
            "invalid_option",
            "共有先の役割を選んでください。",
        ));
    }
    let mut categories = std::collections::BTreeSet::new();
    for c in &body.categories {
        match InformationCategory::from_code(c) {
            Some(c) => {
                categories.insert(c);
            }
            None => errs.push(ryoritsu_domain::FieldError::new(
                "categories",
                "invalid_option",
                "共有する情報の種類を一覧から選んでください。",
            )),
        }
    }
    let expires_at = match body.expires_at.as_deref() {
        None => None,
        Some(s) => {
            match time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
                Ok(t) => Some(ryoritsu_domain::time_format::truncate_micros(t)),
                Err(_) => {
                    errs.push(ryoritsu_domain::FieldError::new(
                        "expires_at",
                        "invalid_date",
                        "有効期限の日時の形式が正しくありません。",
                    ));
                    None
                }
            }
        }
    };
    let Some(role) = role.filter(|_| errs.is_empty()) else {
        return Failure::from(errs).into_response();
    };
    let draft = ConsentDraft {
        recipient: Recipient {
            organisation: body.organisation_id,
            role,
            person: body.person_id,
        },
        // Replaced by the organisation's real kind inside the use case.
        recipient_kind: OrganisationKind::Employer,
        categories,
        purpose: body.purpose,
        expires_at,
    };
    match st.app.grant_consent(&ctx, &auth, id, draft).await {
        Ok(c) => json(
            StatusCode::CREATED,
            &ConsentOut {
                id: c.id,
                organisation_id: c.recipient.organisation,
                role: c.recipient.role.code().into(),
                person_id: c.recipient.person,
                categories: c.categories.iter().map(|c| c.code().into()).collect(),
                purpose: c.purpose.clone(),
                granted_at: format_micros(c.granted_at),
                expires_at: c.expires_at.map(format_micros),
                withdrawn_at: c.withdrawn_at.map(format_micros),
            },
        ),
        Err(e) => Failure::from(e).into_response(),
    }
}

/// Withdraws a consent; it takes effect at once.
#[utoipa::path(post, path = "/api/v1/cases/{id}/consents/{consent}/withdraw", tag = "cases",
    params(("id" = Uuid, Path), ("consent" = Uuid, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn withdraw_consent<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam((id, consent)): PathParam<(Uuid, Uuid)>,
) -> Response {
    match st.app.withdraw_consent(&ctx, &auth, id, consent).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => Failure::from(e).into_response(),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct PartyRequest {
    /// `line_manager`, `hospital` or `coordinator`
    pub kind: String,
    pub organisation_id: Uuid,
    #[serde(default)]
    pub user_id: Option<Uuid>,
}

/// Adds the worker's 所属長, the hospital of the 主治医, or a coordinator to the case.
#[utoipa::path(post, path = "/api/v1/cases/{id}/parties", tag = "cases", params(("id" = Uuid, Path)), request_body = PartyRequest,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_party<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    ApiJson(body): ApiJson<PartyRequest>,
) -> Response {
    let Some(kind) = PartyKind::from_code(&body.kind) else {
        return Failure::from(ryoritsu_domain::ValidationErrors::from(
            ryoritsu_domain::FieldError::new(
                "kind",
                "invalid_option",
                "加える関係者の種類を選んでください。",
            ),
        ))
        .into_response();
    };
    match st
        .app
        .add_party(&ctx, &auth, id, kind, body.organisation_id, body.user_id)
        .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => Failure::from(e).into_response(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ShareCodeOut {
    /// Shown once: give it to the hospital (or show its QR code). `XXXX-XXXX-XXXX`.
    pub code: String,
    pub expires_at: String,
}

/// The worker issues a one-time share code with which their 主治医's hospital attaches
/// itself to the case; it then sees only what the worker consents to share with it.
#[utoipa::path(post, path = "/api/v1/cases/{id}/share-codes", tag = "cases", params(("id" = Uuid, Path)),
    responses((status = 201, body = ShareCodeOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn issue_share_code<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
) -> Response {
    match st.app.issue_share_code(&ctx, &auth, id).await {
        Ok((code, expires)) => json(
            StatusCode::CREATED,
            &ShareCodeOut {
                code,
                expires_at: format_micros(expires),
            },
        ),
        Err(e) => Failure::from(e).into_response(),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct RedeemRequest {
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct RedeemedOut {
    pub case_id: Uuid,
}

/// A physician or hospital coordinator redeems a worker's share code: their medical
/// institution is attached to the case. Failures are throttled.
#[utoipa::path(post, path = "/api/v1/share-codes/redeem", tag = "cases", request_body = RedeemRequest,
    responses((status = 200, body = RedeemedOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn redeem_share_code<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    ApiJson(body): ApiJson<RedeemRequest>,
) -> Response {
    match st.app.redeem_share_code(&ctx, &auth, &body.code).await {
        Ok(case_id) => json(StatusCode::OK, &RedeemedOut { case_id }),
        Err(e) => Failure::from(e).into_response(),
    }
}

/// Where a page of the access log starts and how long it is.
#[derive(Deserialize, Default)]
pub struct AccessLogQuery {
    /// The `next` of the page before.
    #[serde(default)]
    pub before: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
    /// `1`: list the caller's own reads too (left out otherwise).
    #[serde(default)]
    pub own: Option<String>,
}

impl AccessLogQuery {
    /// Whether the caller's own reads are asked for.
    pub fn own(&self) -> bool {
        matches!(self.own.as_deref(), Some("1" | "true"))
    }

    /// The cursor and the page length, or the error for a cursor that is not one.
    pub fn parse(&self, default_limit: u32) -> Result<(Option<i64>, u32), Failure> {
        let before = match self.before.as_deref() {
            None | Some("") => None,
            Some(t) => Some(t.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                Failure::bad_request(
                    "bad_cursor",
                    "ページの指定が正しくありません。一覧の最初から開き直してください。",
                )
            })?),
        };
        let limit = self
            .limit
            .unwrap_or(default_limit)
            .clamp(1, ryoritsu_app::records::MAX_ACCESS_LOG_PAGE);
        Ok((before, limit))
    }
}

/// One page of the access log, and where the next (older) one starts.
#[derive(Serialize, ToSchema)]
pub struct AccessLogPageOut {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<ryoritsu_app::records::AccessLogEntry>,
    /// Give this as `before` for the next page; absent after the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Who saw or handled the caller's case information, and when (newest first), including
/// every provision to another organisation; a page at a time (`limit` 1–500, default 100;
/// `before` = the `next` of the page before).
#[utoipa::path(get, path = "/api/v1/me/access-log", tag = "account",
    params(
        ("before" = Option<String>, Query, description = "前のページの `next`"),
        ("limit" = Option<u32>, Query, description = "1ページの件数（1〜500、既定100）"),
        ("own" = Option<String>, Query, description = "`1` で本人自身の閲覧も含める（既定は含めない）"),
    ),
    responses((status = 200, body = AccessLogPageOut), (status = 400, body = ErrorBody)))]
pub async fn my_access_log<S: Store>(
    State(st): State<AppState<S>>,
    User(auth): User,
    QueryParams(q): QueryParams<AccessLogQuery>,
) -> Response {
    let (before, limit) = match q.parse(100) {
        Ok(x) => x,
        Err(f) => return f.into_response(),
    };
    match st.app.access_log_page(&auth, before, limit, q.own()).await {
        Ok(page) => json(
            StatusCode::OK,
            &AccessLogPageOut {
                items: page.items,
                next: page.next.map(|n| n.to_string()),
            },
        ),
        Err(e) => Failure::from(e).into_response(),
    }
}

/// 開示: everything held about the caller as one JSON document (downloaded as a file); each
/// document also as its printed form (`pdf_base64`).
#[utoipa::path(get, path = "/api/v1/me/export", tag = "account",
    responses((status = 200, body = Object)))]
pub async fn my_export<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
) -> Response {
    match st.app.my_export(&ctx, &auth).await {
        Ok(mut v) => {
            if let Err(f) = super::printing::add_export_pdfs(&mut v).await {
                return f.into_response();
            }
            let mut r = json(StatusCode::OK, &v);
            r.headers_mut().insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"ryoritsu-disclosure.json\""),
            );
            r
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

type Grants = std::collections::BTreeMap<
    Role,
    std::collections::BTreeMap<InformationCategory, ryoritsu_domain::policy::Access>,
>;

#[derive(Serialize, ToSchema)]
pub struct HandlingRulesOut {
    pub employer_id: Uuid,
    /// role code → category code → `never`, `with_consent` or `always`.
    #[schema(value_type = Object)]
    pub grants: Grants,
    /// 0 while the safe defaults apply (nothing stored yet).
    pub version: i64,
    pub updated_at: String,
}

fn rules_out(r: &ryoritsu_app::cases::ports::HandlingRulesRecord) -> Response {
    with_etag(
        json(
            StatusCode::OK,
            &HandlingRulesOut {
                employer_id: r.rules.employer,
                grants: r.rules.grants.clone(),
                version: r.version,
                updated_at: format_micros(r.updated_at),
            },
        ),
        r.version,
    )
}

/// The employer's 健康情報等取扱規程: which of its roles may see which category of a case.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/handling-rules", tag = "organisations",
    params(("id" = Uuid, Path)), responses((status = 200, body = HandlingRulesOut), (status = 404, body = ErrorBody)))]
pub async fn get_handling_rules<S: Store>(
    State(st): State<AppState<S>>,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
) -> Response {
    match st.app.handling_rules(&auth, id).await {
        Ok(r) => rules_out(&r),
        Err(e) => Failure::from(e).into_response(),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct HandlingRulesUpdate {
    #[schema(value_type = Object)]
    pub grants: Grants,
}

/// Sets the 取扱規程 (organisation admins). Rules may only narrow the safe defaults: no role
/// gets the diagnosis without the worker's consent. Needs `If-Match`.
#[utoipa::path(put, path = "/api/v1/organisations/{id}/handling-rules", tag = "organisations",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)), request_body = HandlingRulesUpdate,
    responses((status = 200, body = HandlingRulesOut), (status = 403, body = ErrorBody), (status = 412, body = ErrorBody), (status = 422, body = ErrorBody), (status = 428, body = ErrorBody)))]
pub async fn put_handling_rules<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<HandlingRulesUpdate>,
) -> Response {
    let version = match if_match(&headers) {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    match st
        .app
        .set_handling_rules(&ctx, &auth, id, body.grants, version)
        .await
    {
        Ok(r) => rules_out(&r),
        Err(e) => Failure::from(e).into_response(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct NoteOut {
    pub id: Uuid,
    pub author: Uuid,
    pub author_role: String,
    pub organisation_id: Uuid,
    pub body: String,
    pub created_at: String,
}

#[derive(Deserialize, ToSchema)]
pub struct NewNote {
    pub body: String,
}

/// 相談記録 of the case the caller may read (with the worker's consent; authors read their
/// own). The read is recorded.
#[utoipa::path(get, path = "/api/v1/cases/{id}/notes", tag = "cases", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<NoteOut>), (status = 404, body = ErrorBody)))]
pub async fn list_notes<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
) -> Response {
    match st.app.consultation_notes(&ctx, &auth, id).await {
        Ok(notes) => json(
            StatusCode::OK,
            &notes
                .iter()
                .map(|n| NoteOut {
                    id: n.id,
                    author: n.author,
                    author_role: n.author_role.code().into(),
                    organisation_id: n.organisation_id,
                    body: n.body.clone(),
                    created_at: format_micros(n.created_at),
                })
                .collect::<Vec<_>>(),
        ),
        Err(e) => Failure::from(e).into_response(),
    }
}

/// Records a consultation (coordinators and health staff, with the worker's consent).
#[utoipa::path(post, path = "/api/v1/cases/{id}/notes", tag = "cases", params(("id" = Uuid, Path)), request_body = NewNote,
    responses((status = 201, body = NoteOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_note<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    ApiJson(body): ApiJson<NewNote>,
) -> Response {
    match st
        .app
        .add_consultation_note(&ctx, &auth, id, &body.body)
        .await
    {
        Ok(n) => json(
            StatusCode::CREATED,
            &NoteOut {
                id: n.id,
                author: n.author,
                author_role: n.author_role.code().into(),
                organisation_id: n.organisation_id,
                body: n.body,
                created_at: format_micros(n.created_at),
            },
        ),
        Err(e) => Failure::from(e).into_response(),
    }
}

/// The schema of an official form: every field in form order with its options; with
/// `Accept: application/pdf`, the blank form to fill in by hand.
#[utoipa::path(get, path = "/api/v1/forms/{form}/{version}", tag = "reference",
    params(("form" = String, Path), ("version" = String, Path),
        ("Accept" = Option<String>, Header, description = "`application/pdf` で、手書き用の空欄の様式（PDF）を返します。")),
    responses((status = 200, description = "様式の定義（JSON）または空欄の様式（PDF）",
            content((Object = "application/json"), ("application/pdf"))),
        (status = 404, body = ErrorBody)))]
pub async fn form_schema(
    PathParam((form, version)): PathParam<(String, String)>,
    headers: HeaderMap,
) -> Response {
    match (FormKind::from_code(&form), FormVersion::from_code(&version)) {
        (Some(f), Some(v)) if super::printing::wants_pdf(&headers) => {
            super::printing::blank_pdf(f, v).await
        }
        (Some(f), Some(v)) => json(StatusCode::OK, ryoritsu_domain::forms::schema(f, v)),
        _ => Failure::not_found().into_response(),
    }
}

/// Reference data: information categories with their labels, for consent pages.
#[utoipa::path(get, path = "/api/v1/categories", tag = "reference", responses((status = 200, body = Object)))]
pub async fn categories() -> Response {
    let map: BTreeMap<&str, &str> = InformationCategory::CASE
        .iter()
        .map(|c| (c.code(), c.label()))
        .collect();
    json(StatusCode::OK, &map)
}

pub(super) fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    use Method as M;
    t.add(
        M::GET,
        "/api/v1/categories",
        Access::Public,
        "none",
        categories,
    )
    .add(
        M::GET,
        "/api/v1/forms/{form}/{version}",
        Access::Public,
        "none",
        form_schema,
    )
    .add(
        M::GET,
        "/api/v1/cases",
        Access::SignedIn,
        "ViewCase (each)",
        list_cases::<S>,
    )
    .add(
        M::POST,
        "/api/v1/cases",
        Access::SignedIn,
        "worker of the employer",
        file_request::<S>,
    )
    .add(
        M::GET,
        "/api/v1/cases/{id}",
        Access::SignedIn,
        "ViewCase + ViewCaseCategory",
        get_case::<S>,
    )
    .add(
        M::POST,
        "/api/v1/cases/{id}/steps",
        Access::SignedIn,
        "ViewCase + the state machine's actor rules",
        take_step::<S>,
    )
    .add(
        M::GET,
        "/api/v1/cases/{id}/documents",
        Access::SignedIn,
        "ViewCaseCategory (each)",
        list_documents::<S>,
    )
    .add(
        M::POST,
        "/api/v1/cases/{id}/documents",
        Access::SignedIn,
        "EditCaseDocument / WriteOpinion",
        create_document::<S>,
    )
    .add(
        M::PUT,
        "/api/v1/cases/{id}/documents/{document}",
        Access::SignedIn,
        "EditCaseDocument / WriteOpinion",
        update_document::<S>,
    )
    .add(
        M::POST,
        "/api/v1/cases/{id}/documents/{document}/finalise",
        Access::SignedIn,
        "ConfirmAsWorker / WriteOpinion / EditCaseDocument",
        finalise_document::<S>,
    )
    .add(
        M::POST,
        "/api/v1/cases/{id}/consents",
        Access::SignedIn,
        "GrantConsent",
        grant_consent::<S>,
    )
    .add(
        M::POST,
        "/api/v1/cases/{id}/consents/{consent}/withdraw",
        Access::SignedIn,
        "WithdrawConsent",
        withdraw_consent::<S>,
    )
    .add(
        M::POST,
        "/api/v1/cases/{id}/parties",
        Access::SignedIn,
        "worker (or HR for the 所属長)",
        add_party::<S>,
    )
    .add(
        M::POST,
        "/api/v1/cases/{id}/share-codes",
        Access::SignedIn,
        "GrantConsent (the worker)",
        issue_share_code::<S>,
    )
    .add(
        M::GET,
        "/api/v1/organisations/{id}/handling-rules",
        Access::SignedIn,
        "ViewOrganisation",
        get_handling_rules::<S>,
    )
    .add(
        M::PUT,
        "/api/v1/organisations/{id}/handling-rules",
        Access::SignedIn,
        "ManageOrganisation",
        put_handling_rules::<S>,
    )
    .add(
        M::GET,
        "/api/v1/cases/{id}/notes",
        Access::SignedIn,
        "ViewCaseCategory (consultation notes) or own notes",
        list_notes::<S>,
    )
    .add(
        M::POST,
        "/api/v1/cases/{id}/notes",
        Access::SignedIn,
        "EditCaseDocument (consultation notes)",
        add_note::<S>,
    )
    .add(
        M::GET,
        "/api/v1/me/access-log",
        Access::SignedIn,
        "own cases only",
        my_access_log::<S>,
    )
    .add(
        M::GET,
        "/api/v1/me/export",
        Access::SignedIn,
        "own data only",
        my_export::<S>,
    )
    .add(
        M::POST,
        "/api/v1/share-codes/redeem",
        Access::SignedIn,
        "hospital staff with a valid code",
        redeem_share_code::<S>,
    )
}
