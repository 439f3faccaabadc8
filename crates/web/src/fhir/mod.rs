//! FHIR R4 under /fhir/R4 (application/fhir+json).
//!
//! The same sessions, CSRF checks and access policy as the JSON API: every handler calls the
//! app's FHIR use cases, which read through the JSON API's own use cases. Errors are
//! `OperationOutcome`s with the status the JSON API gives for the same refusal, and with its
//! stable code and Japanese message.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use ryoritsu_app::AppError;
use ryoritsu_app::fhir::{FhirCursor, FhirPage, FhirQuery};
use ryoritsu_app::ports::Store;
use ryoritsu_fhir as fhir;
use serde_json::Value;
use uuid::Uuid;

use crate::http::extract::PathParam;
use crate::http::failure::Failure;
use crate::http::fhir_errors::{fhir_json, outcome};
use crate::http::session::{Ctx, User};
use crate::{Access, AppState, RouteTable};

/// When the profile's CapabilityStatement was last changed.
const PUBLISHED: &str = "2026-11-21";

/// One resource read by id: `ETag: W/"versionId"` where it has a version, as FHIR's RESTful
/// API gives it (the same version the JSON API's ETag carries).
fn fhir_resource(v: &Value) -> Response {
    let mut r = fhir_json(StatusCode::OK, v);
    if let Some(tag) = v["meta"]["versionId"]
        .as_str()
        .and_then(|n| HeaderValue::from_str(&format!("W/\"{n}\"")).ok())
    {
        r.headers_mut().insert(header::ETAG, tag);
    }
    r
}

fn app_failure(e: AppError) -> Response {
    outcome(Failure::from(e))
}

/// The server's FHIR base URL as clients reach it: the configured public origin, or the
/// request's Host.
fn base_url<S: Store>(st: &AppState<S>, headers: &HeaderMap) -> String {
    let origin = st.web.public_origin.clone().unwrap_or_else(|| {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .filter(|h| {
                h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
            })
            .unwrap_or("localhost");
        format!("http://{host}")
    });
    format!("{}/fhir/R4", origin.trim_end_matches('/'))
}

/// The search parameters of a request: `_id`, `subject`/`patient`, and for Questionnaire
/// `url` and `version`. Any other parameter is refused rather than ignored, so a filter the
/// server does not know never silently widens a result.
struct Search {
    query: FhirQuery,
    /// `_id` or a subject that names nothing here: the result is empty.
    impossible: bool,
    url: Option<String>,
    version: Option<String>,
}

fn parse_search(raw: Option<&str>, allowed: &[&str]) -> Result<Search, Failure> {
    let mut s = Search {
        query: FhirQuery::default(),
        impossible: false,
        url: None,
        version: None,
    };
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        // Formatting parameters: JSON is the only format served.
        if k == "_format" || k == "_pretty" {
            continue;
        }
        // Paging: every search is served a page of cases at a time.
        if k == "_count" {
            match v.parse::<u32>() {
                Ok(n) if (1..=ryoritsu_app::fhir::MAX_COUNT).contains(&n) => s.query.count = n,
                _ => {
                    return Err(Failure::bad_request(
                        "bad_count",
                        format!(
                            "_count には 1 から {} までの数を指定してください。",
                            ryoritsu_app::fhir::MAX_COUNT
                        ),
                    ));
                }
            }
            continue;
        }
        if k == "_cursor" {
            match FhirCursor::from_token(&v) {
                Some(c) => s.query.after = Some(c),
                None => {
                    return Err(Failure::bad_request(
                        "bad_cursor",
                        "ページの指定が正しくありません。検索を最初からやり直してください。",
                    ));
                }
            }
            continue;
        }
        if !allowed.contains(&k.as_ref()) {
            return Err(Failure::bad_request(
                "unsupported_search_parameter",
                format!(
                    "検索条件「{k}」には対応していません。使える条件: {}",
                    allowed.join(", ")
                ),
            ));
        }
        match k.as_ref() {
            "_id" => match Uuid::parse_str(&v) {
                Ok(id) => s.query.id = Some(id),
                Err(_) => s.impossible = true,
            },
            "subject" | "patient" => {
                let id = v.strip_prefix("Patient/").unwrap_or(&v);
                match Uuid::parse_str(id) {
                    Ok(p) if s.query.patient.is_none_or(|x| x == p) => s.query.patient = Some(p),
                    _ => s.impossible = true,
                }
            }
            "url" => s.url = Some(v.into_owned()),
            "version" => s.version = Some(v.into_owned()),
            _ => {}
        }
    }
    Ok(s)
}

fn self_link(base: &str, kind: &str, raw: Option<&str>) -> String {
    match raw.filter(|q| !q.is_empty()) {
        Some(q) => format!("{base}/{kind}?{q}"),
        None => format!("{base}/{kind}"),
    }
}

/// One resource by id from a search's result: 404 when it is not among what the principal
/// may see (whether it exists or not).
fn one(mut list: Vec<Value>) -> Response {
    match list.pop() {
        Some(v) if list.is_empty() => fhir_resource(&v),
        _ => app_failure(AppError::NotFound),
    }
}

fn parse_id(id: &str) -> Result<Uuid, Failure> {
    Uuid::parse_str(id).map_err(|_| Failure::from(AppError::NotFound))
}

async fn metadata() -> Response {
    fhir_json(
        StatusCode::OK,
        &fhir::capability_statement(env!("CARGO_PKG_VERSION"), PUBLISHED),
    )
}

async fn search_questionnaires<S: Store>(
    State(st): State<AppState<S>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let s = match parse_search(raw.as_deref(), &["_id", "url", "version"]) {
        Ok(s) => s,
        Err(f) => return outcome(f),
    };
    let id_param: Option<String> = form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "_id")
        .map(|(_, v)| v.into_owned());
    let list: Vec<Value> = fhir::QUESTIONNAIRES
        .iter()
        .filter(|(f, v)| {
            id_param
                .as_deref()
                .is_none_or(|id| fhir::questionnaire_id(*f, *v) == id)
        })
        .filter(|(f, _)| {
            s.url
                .as_deref()
                .is_none_or(|u| fhir::questionnaire_url(*f) == u)
        })
        .filter(|(_, v)| s.version.as_deref().is_none_or(|x| v.code() == x))
        .map(|(f, v)| fhir::questionnaire(*f, *v))
        .collect();
    let base = base_url(&st, &headers);
    fhir_json(
        StatusCode::OK,
        &fhir::searchset(
            &base,
            &self_link(&base, "Questionnaire", raw.as_deref()),
            list,
        ),
    )
}

async fn read_questionnaire(PathParam(id): PathParam<String>) -> Response {
    match fhir::questionnaire_for_id(&id) {
        Some((f, v)) => fhir_json(StatusCode::OK, &fhir::questionnaire(f, v)),
        None => app_failure(AppError::NotFound),
    }
}

/// The resource types searched through the app's use cases.
#[derive(Clone, Copy)]
enum Kind {
    Response,
    CarePlan,
    Consent,
    AuditEvent,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Response => "QuestionnaireResponse",
            Kind::CarePlan => "CarePlan",
            Kind::Consent => "Consent",
            Kind::AuditEvent => "AuditEvent",
        }
    }

    fn params(self) -> &'static [&'static str] {
        match self {
            Kind::Response | Kind::CarePlan => &["_id", "subject", "patient"],
            Kind::Consent => &["_id", "patient"],
            Kind::AuditEvent => &["patient"],
        }
    }
}

async fn find<S: Store>(
    st: &AppState<S>,
    ctx: &ryoritsu_app::RequestContext,
    auth: &ryoritsu_app::accounts::Authenticated,
    kind: Kind,
    q: FhirQuery,
) -> Result<FhirPage, AppError> {
    match kind {
        Kind::Response => st.app.fhir_search_responses(ctx, auth, q).await,
        Kind::CarePlan => st.app.fhir_care_plans(ctx, auth, q).await,
        // The worker's own consents: one page.
        Kind::Consent => Ok(FhirPage {
            resources: st.app.fhir_consents(auth, q).await?,
            next: None,
        }),
        Kind::AuditEvent => st.app.fhir_audit_events(auth, q).await,
    }
}

/// The search as asked, without its `_cursor`, continued after `next`.
fn next_link(base: &str, kind: &str, raw: Option<&str>, next: FhirCursor) -> String {
    let kept: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .filter(|(k, _)| k != "_cursor")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &kept {
        q.append_pair(k, v);
    }
    q.append_pair("_cursor", &next.token());
    format!("{base}/{kind}?{}", q.finish())
}

async fn search<S: Store>(
    st: AppState<S>,
    ctx: ryoritsu_app::RequestContext,
    auth: &ryoritsu_app::accounts::Authenticated,
    headers: &HeaderMap,
    raw: Option<String>,
    kind: Kind,
) -> Response {
    let s = match parse_search(raw.as_deref(), kind.params()) {
        Ok(s) => s,
        Err(f) => return outcome(f),
    };
    let paged = s.query.after.is_some();
    let page = if s.impossible {
        FhirPage::default()
    } else {
        match find(&st, &ctx, auth, kind, s.query).await {
            Ok(p) => p,
            Err(e) => return app_failure(e),
        }
    };
    let base = base_url(&st, headers);
    let next = page
        .next
        .map(|n| next_link(&base, kind.name(), raw.as_deref(), n));
    // The total is known only when the whole result is this one page.
    let total = (!paged && next.is_none()).then_some(page.resources.len());
    fhir_json(
        StatusCode::OK,
        &fhir::searchset_page(
            &base,
            &self_link(&base, kind.name(), raw.as_deref()),
            next.as_deref(),
            total,
            page.resources,
        ),
    )
}

async fn read<S: Store>(
    st: AppState<S>,
    ctx: ryoritsu_app::RequestContext,
    auth: &ryoritsu_app::accounts::Authenticated,
    id: &str,
    kind: Kind,
) -> Response {
    let id = match parse_id(id) {
        Ok(id) => id,
        Err(f) => return outcome(f),
    };
    let q = FhirQuery {
        id: Some(id),
        ..FhirQuery::default()
    };
    match kind {
        // The document read answers 404 for what the policy hides, as for what is not there.
        Kind::Response => match st.app.fhir_read_response(&ctx, auth, id).await {
            Ok(v) => fhir_resource(&v),
            Err(e) => app_failure(e),
        },
        _ => match find(&st, &ctx, auth, kind, q).await {
            Ok(page) => one(page.resources),
            Err(e) => app_failure(e),
        },
    }
}

macro_rules! fhir_type_handlers {
    ($search:ident, $read:ident, $kind:expr) => {
        async fn $search<S: Store>(
            State(st): State<AppState<S>>,
            Ctx(ctx): Ctx,
            User(auth): User,
            headers: HeaderMap,
            RawQuery(raw): RawQuery,
        ) -> Response {
            search(st, ctx, &auth, &headers, raw, $kind).await
        }

        async fn $read<S: Store>(
            State(st): State<AppState<S>>,
            Ctx(ctx): Ctx,
            User(auth): User,
            PathParam(id): PathParam<String>,
        ) -> Response {
            read(st, ctx, &auth, &id, $kind).await
        }
    };
}

fhir_type_handlers!(search_responses, read_response, Kind::Response);
fhir_type_handlers!(search_care_plans, read_care_plan, Kind::CarePlan);
fhir_type_handlers!(search_consents, read_consent, Kind::Consent);

async fn search_audit_events<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    search(st, ctx, &auth, &headers, raw, Kind::AuditEvent).await
}

async fn read_patient<S: Store>(
    State(st): State<AppState<S>>,
    User(auth): User,
    PathParam(id): PathParam<String>,
) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(f) => return outcome(f),
    };
    match st.app.fhir_patient(&auth, id).await {
        Ok(v) => fhir_json(StatusCode::OK, &v),
        Err(e) => app_failure(e),
    }
}

async fn case_document<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    headers: HeaderMap,
    PathParam(id): PathParam<String>,
) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(f) => return outcome(f),
    };
    let base = base_url(&st, &headers);
    match st.app.fhir_case_document(&ctx, &auth, id, &base).await {
        Ok(v) => fhir_json(StatusCode::OK, &v),
        Err(e) => app_failure(e),
    }
}

/// `POST QuestionnaireResponse`: an opinion written by the case's attending physician.
async fn create_response<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !(content_type.starts_with("application/fhir+json")
        || content_type.starts_with("application/json"))
    {
        return outcome(Failure::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "application/fhir+json で送信してください。",
        ));
    }
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => {
            return outcome(Failure::bad_request(
                "invalid_json",
                "送信された内容を JSON として読み取れませんでした。",
            ));
        }
    };
    match st.app.fhir_create_opinion(&ctx, &auth, &value).await {
        Ok(v) => {
            let id = v.get("id").and_then(Value::as_str).unwrap_or_default();
            let location = format!("{}/QuestionnaireResponse/{id}", base_url(&st, &headers));
            let mut r = fhir_json(StatusCode::CREATED, &v);
            if let Ok(h) = HeaderValue::from_str(&location) {
                r.headers_mut().insert(header::LOCATION, h);
            }
            r
        }
        Err(e) => app_failure(e),
    }
}

pub fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    use Method as M;
    t.add(
        M::GET,
        "/fhir/R4/metadata",
        Access::Public,
        "none",
        metadata,
    )
    .add(
        M::GET,
        "/fhir/R4/Questionnaire",
        Access::Public,
        "none (the published forms)",
        search_questionnaires::<S>,
    )
    .add(
        M::GET,
        "/fhir/R4/Questionnaire/{id}",
        Access::Public,
        "none (the published forms)",
        read_questionnaire,
    )
    .add(
        M::GET,
        "/fhir/R4/QuestionnaireResponse",
        Access::SignedIn,
        "ViewCase + ViewCaseCategory (each document, audited read)",
        search_responses::<S>,
    )
    .add(
        M::POST,
        "/fhir/R4/QuestionnaireResponse",
        Access::SignedIn,
        "WriteOpinion (the case's attending physician)",
        create_response::<S>,
    )
    .add(
        M::GET,
        "/fhir/R4/QuestionnaireResponse/{id}",
        Access::SignedIn,
        "ViewCase + ViewCaseCategory (audited read)",
        read_response::<S>,
    )
    .add(
        M::GET,
        "/fhir/R4/CarePlan",
        Access::SignedIn,
        "ViewCase + ViewCaseCategory (work measures, audited read)",
        search_care_plans::<S>,
    )
    .add(
        M::GET,
        "/fhir/R4/CarePlan/{id}",
        Access::SignedIn,
        "ViewCase + ViewCaseCategory (work measures, audited read)",
        read_care_plan::<S>,
    )
    .add(
        M::GET,
        "/fhir/R4/Consent",
        Access::SignedIn,
        "the case's worker only",
        search_consents::<S>,
    )
    .add(
        M::GET,
        "/fhir/R4/Consent/{id}",
        Access::SignedIn,
        "the case's worker only",
        read_consent::<S>,
    )
    .add(
        M::GET,
        "/fhir/R4/AuditEvent",
        Access::SignedIn,
        "own access log only",
        search_audit_events::<S>,
    )
    .add(
        M::GET,
        "/fhir/R4/Patient/{id}",
        Access::SignedIn,
        "ViewCase (a case of the worker)",
        read_patient::<S>,
    )
    .add(
        M::GET,
        "/fhir/R4/Composition/{id}/$document",
        Access::SignedIn,
        "ViewCase + ViewCaseCategory (each entry, audited read)",
        case_document::<S>,
    )
}
