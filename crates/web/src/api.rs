//! The JSON API under `/api/v1`, described by the OpenAPI document at
//! `/api/v1/openapi.json` (also committed as `docs/api/openapi.json`).
//!
//! Authentication is the same session cookie as the pages; state-changing calls carry the
//! session's CSRF token in `X-CSRF-Token` (given by sign-in and by `GET /api/v1/me`).
//! POSTs that create something honour `Idempotency-Key`: a retry with the same key gets the
//! first answer and writes nothing more.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ryoritsu_app::Planned;
use ryoritsu_app::accounts::NextStep;
use ryoritsu_app::orgs::NewWorkplace;
use ryoritsu_app::ports::{OrganisationRecord, Store, WorkplaceRecord};
use ryoritsu_domain::account::DisplayName;
use ryoritsu_domain::org::{CoordinatorProfession, Role, RoleDetail, SafetyHealthRole};
use ryoritsu_domain::policy::Action;
use ryoritsu_domain::prefecture::Prefecture;
use ryoritsu_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::extract::{ApiJson, PathParam};
use crate::failure::{ErrorBody, Failure};
use crate::pages::role_guide;
use crate::session::{Ctx, MaybeUser, User, clear_cookie, session_cookie_name, set_cookie};
use crate::{Access, AppState, RouteTable};

const IDEMPOTENCY_KEY: &str = "idempotency-key";

fn json<T: Serialize>(status: StatusCode, v: &T) -> Response {
    (status, axum::Json(v)).into_response()
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

// ---- shapes -------------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
pub struct SignInRequest {
    /// ログインID
    pub login: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct SignInResponse {
    /// `done`, `second_factor` (send a code to `/api/v1/auth/second-factor`) or
    /// `enrol_second_factor` (set one up on the web page first).
    pub next: String,
    /// Send this in `X-CSRF-Token` on state-changing calls.
    pub csrf_token: String,
}

#[derive(Deserialize, ToSchema)]
pub struct SecondFactorRequest {
    /// 6-digit code from the authenticator app, or a recovery code.
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct MembershipOut {
    pub organisation_id: Uuid,
    pub organisation_kind: String,
    pub role: String,
    pub role_label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safety_health_role: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MeOut {
    pub id: Uuid,
    pub login: String,
    pub display_name: String,
    pub operator: bool,
    pub second_factor_enabled: bool,
    pub second_factor_passed: bool,
    pub memberships: Vec<MembershipOut>,
    pub csrf_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionOut {
    /// Public handle; pass it to `DELETE /api/v1/me/sessions/{handle}`.
    pub handle: String,
    pub created_at: String,
    pub last_seen_at: String,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
    pub current: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordChangeRequest {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct CreateOrganisation {
    /// `employer`, `medical_institution`, `support_agency`, `labour_bureau`, `training_body`
    pub kind: String,
    pub name: String,
    /// JIS code (1–47) or name of the prefecture.
    pub prefecture: String,
    /// For support agencies: `ohs_center`, `regional_ohs_center`, `other`.
    #[serde(default)]
    pub agency_kind: Option<String>,
    #[serde(default)]
    pub workplaces: Vec<CreateWorkplace>,
}

#[derive(Deserialize, ToSchema)]
pub struct CreateWorkplace {
    pub name: String,
    pub prefecture: String,
    #[serde(default)]
    pub has_occupational_physician: bool,
}

#[derive(Serialize, ToSchema)]
pub struct OrganisationOut {
    pub id: Uuid,
    pub kind: String,
    pub kind_label: String,
    pub name: String,
    pub prefecture_code: u8,
    pub prefecture: String,
    pub agency_kind: Option<String>,
    pub created_at: String,
    pub version: i64,
}

impl From<&OrganisationRecord> for OrganisationOut {
    fn from(o: &OrganisationRecord) -> Self {
        OrganisationOut {
            id: o.id,
            kind: o.kind.code().into(),
            kind_label: o.kind.label().into(),
            name: o.name.to_string(),
            prefecture_code: o.prefecture.code(),
            prefecture: o.prefecture.name().into(),
            agency_kind: o.agency_kind.map(|a| a.code().into()),
            created_at: ryoritsu_domain::time_format::format_micros(o.created_at),
            version: o.version,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct WorkplaceOut {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub name: String,
    pub prefecture_code: u8,
    pub has_occupational_physician: bool,
}

impl From<&WorkplaceRecord> for WorkplaceOut {
    fn from(w: &WorkplaceRecord) -> Self {
        WorkplaceOut {
            id: w.id,
            organisation_id: w.organisation_id,
            name: w.name.to_string(),
            prefecture_code: w.prefecture.code(),
            has_occupational_physician: w.has_occupational_physician,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MemberOut {
    pub membership_id: Uuid,
    pub user_id: Uuid,
    pub login: String,
    pub display_name: String,
    pub role: String,
    pub active: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct CreateInvitation {
    pub role: String,
    /// For occupational health staff: the 安衛法 role (`eisei_kanrisha`, `hokenshi`, …).
    #[serde(default)]
    pub safety_health_role: Option<String>,
    /// For hospital coordinators: `msw`, `nurse`, …
    #[serde(default)]
    pub profession: Option<String>,
    #[serde(default)]
    pub promotion_officer: bool,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct InvitationOut {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub role: String,
    pub expires_at: String,
    /// The one-time link. It is shown only in this answer (and its idempotent replays).
    pub link: String,
}

#[derive(Deserialize, ToSchema)]
pub struct AcceptInvitation {
    /// For a new account; omit these when signed in.
    #[serde(default)]
    pub login: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The reading of the name (フリガナ) in katakana or hiragana; optional.
    #[serde(default)]
    pub name_reading: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AcceptedOut {
    pub user_id: Uuid,
    pub membership_id: Uuid,
    pub organisation_id: Uuid,
    pub role: String,
}

#[derive(Serialize, ToSchema)]
pub struct PrefectureOut {
    /// JIS X 0401 code
    pub code: u8,
    pub jis_code: String,
    pub name: String,
}

// ---- parsing shared with the pages ---------------------------------------------------

pub fn parse_workplace(
    name: &str,
    prefecture: &str,
    physician: bool,
) -> Result<NewWorkplace, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let name = DisplayName::parse("name", "事業場名", name)
        .map_err(|e| errs.push(e))
        .ok();
    let prefecture = ryoritsu_app::orgs::parse_prefecture("prefecture", prefecture)
        .map_err(|e| errs.push(e))
        .ok();
    match (name, prefecture) {
        (Some(name), Some(prefecture)) if errs.is_empty() => Ok(NewWorkplace {
            name,
            prefecture,
            has_occupational_physician: physician,
        }),
        _ => Err(errs),
    }
}

pub fn parse_invitation(
    role: &str,
    safety: Option<&str>,
    profession: Option<&str>,
    promotion_officer: bool,
) -> Result<(Role, RoleDetail), ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let role = Role::from_code(role.trim()).filter(|r| r.invitable());
    if role.is_none() {
        errs.push(FieldError::new(
            "role",
            "required",
            "役割を選んでください。",
        ));
    }
    fn blank(s: Option<&str>) -> Option<&str> {
        s.map(str::trim).filter(|s| !s.is_empty())
    }
    let safety_health_role = match blank(safety) {
        None => None,
        Some(s) => match SafetyHealthRole::from_code(s) {
            Some(r) => Some(r),
            None => {
                errs.push(FieldError::new(
                    "safety_health_role",
                    "invalid",
                    "安衛法上の役割を一覧から選んでください。",
                ));
                None
            }
        },
    };
    let profession = match blank(profession) {
        None => None,
        Some(s) => match CoordinatorProfession::from_code(s) {
            Some(p) => Some(p),
            None => {
                errs.push(FieldError::new(
                    "profession",
                    "invalid",
                    "職種を一覧から選んでください。",
                ));
                None
            }
        },
    };
    match role {
        Some(role) if errs.is_empty() => Ok((
            role,
            RoleDetail {
                safety_health_role,
                profession,
                promotion_officer,
            },
        )),
        _ => Err(errs),
    }
}

fn new_organisation(
    body: &CreateOrganisation,
) -> Result<ryoritsu_app::orgs::NewOrganisation, ValidationErrors> {
    let mut org = ryoritsu_app::orgs::NewOrganisation::parse(
        &body.kind,
        &body.name,
        &body.prefecture,
        body.agency_kind.as_deref(),
    );
    let mut wps = Vec::new();
    let mut errs = ValidationErrors::default();
    for (i, w) in body.workplaces.iter().enumerate() {
        match parse_workplace(&w.name, &w.prefecture, w.has_occupational_physician) {
            Ok(wp) => wps.push(wp),
            Err(v) => {
                for mut e in v.errors {
                    e.field = format!("workplaces[{i}].{}", e.field);
                    errs.push(e);
                }
            }
        }
    }
    match &mut org {
        Ok(o) if errs.is_empty() => {
            if !wps.is_empty() && o.kind != ryoritsu_domain::org::OrganisationKind::Employer {
                errs.push(FieldError::new(
                    "workplaces",
                    "not_employer",
                    "事業場を登録できるのは事業者だけです。",
                ));
                return Err(errs);
            }
            o.workplaces = wps;
        }
        Ok(_) => return Err(errs),
        Err(v) => v.errors.extend(errs.errors),
    }
    org
}

// ---- idempotent commits -------------------------------------------------------------

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Failure> {
    match headers.get(IDEMPOTENCY_KEY) {
        None => Ok(None),
        Some(v) => match v.to_str() {
            Ok(k) if ryoritsu_app::idempotency::valid_key(k) => Ok(Some(k.to_owned())),
            _ => Err(Failure::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key は1〜255文字の英数字・記号で指定してください。",
            )),
        },
    }
}

/// The idempotency frame of one POST: the caller's scope, the key, and the fingerprint of
/// the exact request.
struct Idem {
    scope: String,
    key: Option<String>,
    fingerprint: String,
}

impl Idem {
    fn new(scope: String, headers: &HeaderMap, path: &str, body: &[u8]) -> Result<Idem, Failure> {
        Ok(Idem {
            scope,
            key: idempotency_key(headers)?,
            fingerprint: ryoritsu_app::idempotency::fingerprint("POST", path, body),
        })
    }

    /// A retry of a request already answered gets that answer before anything is planned
    /// (planning would fail on what the first request changed, e.g. a used invitation).
    async fn replayed<S: Store>(&self, st: &AppState<S>) -> Option<Response> {
        match st
            .app
            .replay(&self.scope, self.key.as_deref(), &self.fingerprint)
            .await
        {
            Ok(Some(r)) => Some(stored(r)),
            Ok(None) => None,
            Err(e) => Some(Failure::from(e).into_response()),
        }
    }

    async fn commit<S: Store, T>(
        self,
        st: &AppState<S>,
        planned: Planned<S, T>,
        render: impl FnOnce(&T) -> (u16, String),
    ) -> Response {
        match st
            .app
            .commit_idempotent(self.scope, self.key, self.fingerprint, planned, render)
            .await
        {
            Ok(r) => stored(r),
            Err(e) => Failure::from(e).into_response(),
        }
    }
}

/// An idempotent POST: a retry gets the stored answer before anything is parsed or
/// planned; otherwise `plan` prepares the use case, and its answer is stored with it.
pub(crate) async fn post_once<S: Store, T, Fut>(
    st: &AppState<S>,
    scope: String,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
    plan: impl FnOnce() -> Fut,
    render: impl FnOnce(&T) -> (u16, String),
) -> Response
where
    Fut: std::future::Future<Output = Result<Planned<S, T>, Failure>>,
{
    let idem = match Idem::new(scope, headers, path, body) {
        Ok(i) => i,
        Err(f) => return f.into_response(),
    };
    if let Some(r) = idem.replayed(st).await {
        return r;
    }
    match plan().await {
        Ok(p) => idem.commit(st, p, render).await,
        Err(f) => f.into_response(),
    }
}

fn stored(r: ryoritsu_app::idempotency::StoredResponse) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
    let mut resp = (status, r.body).into_response();
    if status != StatusCode::NO_CONTENT {
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    if r.replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

pub(crate) fn body_json<T: Serialize>(status: u16, v: &T) -> (u16, String) {
    (
        status,
        serde_json::to_string(v).unwrap_or_else(|_| "{}".into()),
    )
}

// ---- handlers -----------------------------------------------------------------------

/// Sign in with a password. `Idempotency-Key` is not replayed here: each success must
/// issue a fresh session cookie, which a stored answer cannot carry.
#[utoipa::path(post, path = "/api/v1/auth/sign-in", tag = "auth", request_body = SignInRequest,
    responses((status = 200, body = SignInResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn sign_in<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    ApiJson(body): ApiJson<SignInRequest>,
) -> Response {
    match st.app.sign_in(&ctx, &body.login, &body.password).await {
        Ok(s) => {
            let next = match s.next {
                NextStep::Done => "done",
                NextStep::SecondFactor => "second_factor",
                NextStep::EnrolSecondFactor => "enrol_second_factor",
            };
            let mut r = json(
                StatusCode::OK,
                &SignInResponse {
                    next: next.into(),
                    csrf_token: s.session.record.csrf_token.clone(),
                },
            );
            let secure = st.web.secure_cookies;
            r.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(secure, session_cookie_name(secure), &s.session.token),
            );
            r
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

/// Second step of signing in. The session id changes; use the new CSRF token. Not replayed
/// by key, for the same reason as sign-in; a code works once anyway.
#[utoipa::path(post, path = "/api/v1/auth/second-factor", tag = "auth", request_body = SecondFactorRequest,
    responses((status = 200, body = SignInResponse), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn second_factor<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    ApiJson(body): ApiJson<SecondFactorRequest>,
) -> Response {
    match st.app.verify_second_factor(&ctx, &auth, &body.code).await {
        Ok(s) => {
            let mut r = json(
                StatusCode::OK,
                &SignInResponse {
                    next: "done".into(),
                    csrf_token: s.record.csrf_token.clone(),
                },
            );
            let secure = st.web.secure_cookies;
            r.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(secure, session_cookie_name(secure), &s.token),
            );
            r
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

/// Ends this session. A retry finds no session (401) and writes nothing.
#[utoipa::path(post, path = "/api/v1/auth/sign-out", tag = "auth", responses((status = 204)))]
pub async fn sign_out<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
) -> Response {
    match st.app.sign_out(&ctx, &auth).await {
        Ok(()) => {
            let secure = st.web.secure_cookies;
            let mut r = StatusCode::NO_CONTENT.into_response();
            r.headers_mut().append(
                header::SET_COOKIE,
                clear_cookie(secure, session_cookie_name(secure)),
            );
            r
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

#[utoipa::path(get, path = "/api/v1/me", tag = "account", responses((status = 200, body = MeOut), (status = 401, body = ErrorBody)))]
pub async fn me<S: Store>(User(auth): User) -> Response {
    json(
        StatusCode::OK,
        &MeOut {
            id: auth.user.id,
            login: auth.user.login.to_string(),
            display_name: auth.user.display_name.to_string(),
            operator: auth.user.operator,
            second_factor_enabled: auth.user.totp_secret.is_some(),
            second_factor_passed: auth.principal.second_factor_ok,
            memberships: auth
                .memberships
                .iter()
                .map(|m| MembershipOut {
                    organisation_id: m.organisation_id,
                    organisation_kind: m.organisation_kind.code().into(),
                    role: m.role.code().into(),
                    role_label: m.role.label().into(),
                    safety_health_role: m.detail.safety_health_role.map(|r| r.code().into()),
                })
                .collect(),
            csrf_token: auth.session.csrf_token.clone(),
        },
    )
}

#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "account", responses((status = 200, body = Vec<SessionOut>)))]
pub async fn my_sessions<S: Store>(State(st): State<AppState<S>>, User(auth): User) -> Response {
    match st.app.list_own_sessions(&auth).await {
        Ok(list) => json(
            StatusCode::OK,
            &list
                .iter()
                .map(|s| SessionOut {
                    handle: s.handle.clone(),
                    created_at: ryoritsu_domain::time_format::format_micros(s.created_at),
                    last_seen_at: ryoritsu_domain::time_format::format_micros(s.last_seen_at),
                    user_agent: s.user_agent.clone(),
                    client_ip: s.client_ip.clone(),
                    current: s.id_hash == auth.session.id_hash,
                })
                .collect::<Vec<_>>(),
        ),
        Err(e) => Failure::from(e).into_response(),
    }
}

#[utoipa::path(delete, path = "/api/v1/me/sessions/{handle}", tag = "account",
    params(("handle" = String, Path, description = "session handle")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn end_my_session<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(handle): PathParam<String>,
) -> Response {
    match st.app.end_own_session(&ctx, &auth, &handle).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => Failure::from(e).into_response(),
    }
}

/// Changes the password and ends every session, this one included: a retry finds no
/// session (401) and so can never change the password twice.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "account", request_body = PasswordChangeRequest,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn change_password<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    ApiJson(body): ApiJson<PasswordChangeRequest>,
) -> Response {
    match st
        .app
        .change_password(&ctx, &auth, &body.current_password, &body.new_password)
        .await
    {
        Ok(()) => {
            let secure = st.web.secure_cookies;
            let mut r = StatusCode::NO_CONTENT.into_response();
            r.headers_mut().append(
                header::SET_COOKIE,
                clear_cookie(secure, session_cookie_name(secure)),
            );
            r
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

#[utoipa::path(get, path = "/api/v1/organisations", tag = "organisations",
    responses((status = 200, body = Vec<OrganisationOut>)))]
pub async fn list_organisations<S: Store>(
    State(st): State<AppState<S>>,
    User(auth): User,
) -> Response {
    match st.app.list_organisations(&auth).await {
        Ok(list) => json(
            StatusCode::OK,
            &list.iter().map(OrganisationOut::from).collect::<Vec<_>>(),
        ),
        Err(e) => Failure::from(e).into_response(),
    }
}

/// Creates an organisation (system operator only).
#[utoipa::path(post, path = "/api/v1/organisations", tag = "organisations", request_body = CreateOrganisation,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, body = OrganisationOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_organisation<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    post_once(
        &st,
        format!("user:{}", auth.user.id),
        &headers,
        "/api/v1/organisations",
        &body,
        || async {
            let parsed: CreateOrganisation = parse_body(&body)?;
            let permit = auth.permit(Action::CreateOrganisation)?;
            let new = new_organisation(&parsed)?;
            Ok(st
                .app
                .plan_create_organisation(&ctx, &auth.principal, permit, new)?)
        },
        |o| body_json(201, &OrganisationOut::from(o)),
    )
    .await
}

/// JSON bodies for idempotent POSTs are read raw (the fingerprint covers the exact bytes)
/// and parsed here with the same messages as [`ApiJson`].
pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Failure> {
    serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            Failure::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "送信された内容の項目が足りないか、形式が正しくありません。",
            )
        } else {
            Failure::bad_request(
                "malformed_body",
                "送信された内容を読み取れませんでした。形式を確認してください。",
            )
        }
    })
}

#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "organisations",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = OrganisationOut, headers(("ETag" = String))), (status = 404, body = ErrorBody)))]
pub async fn get_organisation<S: Store>(
    State(st): State<AppState<S>>,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
) -> Response {
    match st.app.get_organisation(&auth, id).await {
        Ok(o) => {
            let mut r = json(StatusCode::OK, &OrganisationOut::from(&o));
            r.headers_mut().insert(header::ETAG, etag(o.version));
            r
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

#[utoipa::path(get, path = "/api/v1/organisations/{id}/workplaces", tag = "organisations",
    params(("id" = Uuid, Path)), responses((status = 200, body = Vec<WorkplaceOut>), (status = 404, body = ErrorBody)))]
pub async fn list_workplaces<S: Store>(
    State(st): State<AppState<S>>,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
) -> Response {
    match st.app.list_workplaces(&auth, id).await {
        Ok(list) => json(
            StatusCode::OK,
            &list.iter().map(WorkplaceOut::from).collect::<Vec<_>>(),
        ),
        Err(e) => Failure::from(e).into_response(),
    }
}

#[utoipa::path(post, path = "/api/v1/organisations/{id}/workplaces", tag = "organisations", request_body = CreateWorkplace,
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, body = WorkplaceOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_workplace<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let path = format!("/api/v1/organisations/{id}/workplaces");
    post_once(
        &st,
        format!("user:{}", auth.user.id),
        &headers,
        &path,
        &body,
        || async {
            let parsed: CreateWorkplace = parse_body(&body)?;
            let new = parse_workplace(
                &parsed.name,
                &parsed.prefecture,
                parsed.has_occupational_physician,
            )?;
            Ok(st.app.plan_add_workplace(&ctx, &auth, id, new).await?)
        },
        |w| body_json(201, &WorkplaceOut::from(w)),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/organisations/{id}/members", tag = "organisations",
    params(("id" = Uuid, Path)), responses((status = 200, body = Vec<MemberOut>), (status = 404, body = ErrorBody)))]
pub async fn list_members<S: Store>(
    State(st): State<AppState<S>>,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
) -> Response {
    match st.app.list_members(&auth, id).await {
        Ok(list) => json(
            StatusCode::OK,
            &list
                .iter()
                .map(|(m, u)| MemberOut {
                    membership_id: m.id,
                    user_id: u.id,
                    login: u.login.to_string(),
                    display_name: u.display_name.to_string(),
                    role: m.role.code().into(),
                    active: u.active,
                })
                .collect::<Vec<_>>(),
        ),
        Err(e) => Failure::from(e).into_response(),
    }
}

#[utoipa::path(post, path = "/api/v1/organisations/{id}/invitations", tag = "organisations", request_body = CreateInvitation,
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, body = InvitationOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_invitation<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let path = format!("/api/v1/organisations/{id}/invitations");
    let link_base = crate::pages::invitation_link(&st, &headers, "");
    post_once(
        &st,
        format!("user:{}", auth.user.id),
        &headers,
        &path,
        &body,
        || async {
            let parsed: CreateInvitation = parse_body(&body)?;
            let (role, detail) = parse_invitation(
                &parsed.role,
                parsed.safety_health_role.as_deref(),
                parsed.profession.as_deref(),
                parsed.promotion_officer,
            )?;
            Ok(st
                .app
                .plan_invite(&ctx, &auth, id, role, detail, parsed.note)
                .await?)
        },
        move |i| {
            body_json(
                201,
                &InvitationOut {
                    id: i.record.id,
                    organisation_id: i.record.organisation_id,
                    role: i.record.role.code().into(),
                    expires_at: ryoritsu_domain::time_format::format_micros(i.record.expires_at),
                    link: format!("{link_base}{}", i.token),
                },
            )
        },
    )
    .await
}

/// Accepts an invitation: creates the account (or joins with the signed-in one).
#[utoipa::path(post, path = "/api/v1/invitations/{token}/accept", tag = "organisations", request_body = AcceptInvitation,
    params(("token" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, body = AcceptedOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn accept_invitation<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    MaybeUser(user): MaybeUser,
    PathParam(token): PathParam<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Failure::not_found().into_response();
    }
    // Scoped by the invitation: the (anonymous) client's retry replays the answer.
    let scope = format!("invitation:{}", ryoritsu_app::secrets::token_digest(&token));
    post_once(
        &st,
        scope,
        &headers,
        "/api/v1/invitations/accept",
        &body,
        || async {
            let parsed: AcceptInvitation = parse_body(&body)?;
            let signed_in = user.as_deref().filter(|a| a.principal.second_factor_ok);
            let new_user = match signed_in {
                Some(_) => None,
                None => Some(ryoritsu_app::accounts::NewUser::parse_with_reading(
                    parsed.login.as_deref().unwrap_or(""),
                    parsed.display_name.as_deref().unwrap_or(""),
                    parsed.email.as_deref(),
                    parsed.password.as_deref().unwrap_or(""),
                    parsed.name_reading.as_deref().unwrap_or(""),
                )?),
            };
            Ok(st
                .app
                .plan_accept_invitation(&ctx, &token, signed_in, new_user)
                .await?)
        },
        |(u, m)| {
            body_json(
                201,
                &AcceptedOut {
                    user_id: u.id,
                    membership_id: m.id,
                    organisation_id: m.organisation_id,
                    role: m.role.code().into(),
                },
            )
        },
    )
    .await
}

/// Deactivates an account and ends all its sessions at once (organisation admins, for
/// members of their organisation; the operator, for anyone).
#[utoipa::path(post, path = "/api/v1/users/{id}/deactivate", tag = "organisations",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn deactivate_user<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let path = format!("/api/v1/users/{id}/deactivate");
    post_once(
        &st,
        format!("user:{}", auth.user.id),
        &headers,
        &path,
        &body,
        || async { Ok(st.app.plan_deactivate_user(&ctx, &auth, id).await?) },
        |()| (204, String::new()),
    )
    .await
}

/// Reference data: the 47 prefectures with their JIS codes.
#[utoipa::path(get, path = "/api/v1/prefectures", tag = "reference", responses((status = 200, body = Vec<PrefectureOut>)))]
pub async fn prefectures() -> Response {
    json(
        StatusCode::OK,
        &Prefecture::all()
            .map(|p| PrefectureOut {
                code: p.code(),
                jis_code: p.jis_code(),
                name: p.name().into(),
            })
            .collect::<Vec<_>>(),
    )
}

/// Reference data: what each role does.
#[derive(Serialize, ToSchema)]
pub struct RoleOut {
    pub code: String,
    pub label: String,
    pub description: String,
    pub requires_second_factor: bool,
}

#[utoipa::path(get, path = "/api/v1/roles", tag = "reference", responses((status = 200, body = Vec<RoleOut>)))]
pub async fn roles() -> Response {
    json(
        StatusCode::OK,
        &Role::ALL
            .iter()
            .map(|r| RoleOut {
                code: r.code().into(),
                label: r.label().into(),
                description: role_guide(*r).0.into(),
                requires_second_factor: r.requires_second_factor(),
            })
            .collect::<Vec<_>>(),
    )
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Ryoritsu API", version = "1",
        description = "治療と仕事の両立支援プラットフォーム Ryoritsu の API。エラーは `code`（安定したコード）と `message`（日本語）を返します。"),
    paths(sign_in, second_factor, sign_out, me, my_sessions, end_my_session, change_password,
        list_organisations, create_organisation, get_organisation, list_workplaces, add_workplace,
        list_members, create_invitation, accept_invitation, deactivate_user, prefectures, roles,
        crate::api_cases::file_request, crate::api_cases::list_cases, crate::csv_export::api_cases_csv,
        crate::api_cases::get_case,
        crate::api_cases::take_step, crate::api_cases::list_documents, crate::api_cases::create_document,
        crate::printing::get_document,
        crate::api_cases::update_document, crate::api_cases::finalise_document,
        crate::api_cases::grant_consent, crate::api_cases::withdraw_consent,
        crate::api_cases::add_party, crate::api_cases::issue_share_code, crate::api_cases::redeem_share_code,
        crate::api_cases::my_access_log, crate::api_cases::my_export,
        crate::api_cases::get_handling_rules, crate::api_cases::put_handling_rules,
        crate::api_cases::list_notes, crate::api_cases::add_note,
        crate::api_cases::form_schema, crate::api_cases::categories,
        crate::attachments::upload, crate::attachments::list, crate::attachments::content,
        crate::attachments::transcribe,
        crate::corrections::file_request, crate::corrections::list_case,
        crate::corrections::list_mine, crate::corrections::get_one, crate::corrections::answer,
        crate::corrections::correcting_document,
        crate::support_tasks::list, crate::support_tasks::add, crate::support_tasks::done,
        crate::search::api_search,
        crate::guidance::list, crate::guidance::create, crate::guidance::preview,
        crate::guidance::correct, crate::guidance::cancel, crate::guidance::api_billing,
        crate::guidance::api_billing_csv, crate::guidance::api_standards, crate::guidance::api_set_standards),
    components(schemas(ErrorBody)),
    tags((name = "auth", description = "サインイン"), (name = "account", description = "自分のアカウント"),
        (name = "organisations", description = "組織・事業場・メンバー"), (name = "cases", description = "両立支援の事例・書類・同意"),
        (name = "scans", description = "紙の書類の写し（提出・閲覧・転記）"),
        (name = "corrections", description = "訂正の請求と回答"),
        (name = "support_tasks", description = "支援タスク（両立支援コーディネーターの対応と期限）"),
        (name = "search", description = "事例の検索（氏名・状況・期間・キーワード）"),
        (name = "guidance", description = "両立支援指導の記録と療養・就労両立支援指導料の算定（医療機関）"),
        (name = "reference", description = "参照データ"))
)]
pub struct ApiDoc;

/// The OpenAPI document as served and as committed (pretty JSON with a final newline).
pub fn openapi_json() -> String {
    let mut s = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

async fn openapi() -> Response {
    let mut r = openapi_json().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    use Method as M;
    t.add(
        M::GET,
        "/api/v1/openapi.json",
        Access::Public,
        "none",
        openapi,
    )
    .add(
        M::GET,
        "/api/v1/prefectures",
        Access::Public,
        "none",
        prefectures,
    )
    .add(M::GET, "/api/v1/roles", Access::Public, "none", roles)
    .add(
        M::POST,
        "/api/v1/auth/sign-in",
        Access::Public,
        "sign-in throttling",
        sign_in::<S>,
    )
    .add(
        M::POST,
        "/api/v1/auth/second-factor",
        Access::Session,
        "ManageOwnAccount",
        second_factor::<S>,
    )
    .add(
        M::POST,
        "/api/v1/auth/sign-out",
        Access::Session,
        "ManageOwnAccount",
        sign_out::<S>,
    )
    .add(
        M::GET,
        "/api/v1/me",
        Access::Session,
        "ManageOwnAccount",
        me::<S>,
    )
    .add(
        M::GET,
        "/api/v1/me/sessions",
        Access::SignedIn,
        "ManageOwnAccount",
        my_sessions::<S>,
    )
    .add(
        M::DELETE,
        "/api/v1/me/sessions/{handle}",
        Access::SignedIn,
        "ManageOwnAccount",
        end_my_session::<S>,
    )
    .add(
        M::POST,
        "/api/v1/me/password",
        Access::SignedIn,
        "ManageOwnAccount",
        change_password::<S>,
    )
    .add(
        M::GET,
        "/api/v1/organisations",
        Access::SignedIn,
        "ViewOrganisation (each)",
        list_organisations::<S>,
    )
    .add(
        M::POST,
        "/api/v1/organisations",
        Access::SignedIn,
        "CreateOrganisation",
        create_organisation::<S>,
    )
    .add(
        M::GET,
        "/api/v1/organisations/{id}",
        Access::SignedIn,
        "ViewOrganisation",
        get_organisation::<S>,
    )
    .add(
        M::GET,
        "/api/v1/organisations/{id}/workplaces",
        Access::SignedIn,
        "ViewOrganisation",
        list_workplaces::<S>,
    )
    .add(
        M::POST,
        "/api/v1/organisations/{id}/workplaces",
        Access::SignedIn,
        "ManageOrganisation",
        add_workplace::<S>,
    )
    .add(
        M::GET,
        "/api/v1/organisations/{id}/members",
        Access::SignedIn,
        "ManageMembers",
        list_members::<S>,
    )
    .add(
        M::POST,
        "/api/v1/organisations/{id}/invitations",
        Access::SignedIn,
        "ManageMembers",
        create_invitation::<S>,
    )
    .add(
        M::POST,
        "/api/v1/invitations/{token}/accept",
        Access::Public,
        "invitation token",
        accept_invitation::<S>,
    )
    .add(
        M::POST,
        "/api/v1/users/{id}/deactivate",
        Access::SignedIn,
        "ManageMembers (of the person's organisation)",
        deactivate_user::<S>,
    )
}
