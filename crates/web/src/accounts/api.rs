//! The accounts part of the JSON API under `/api/v1`: sign-in, one's own account and
//! sessions, organisations, workplaces, members and invitations, and the reference data.
//!
//! Authentication is the same session cookie as the pages; state-changing calls carry the
//! session's CSRF token in `X-CSRF-Token` (given by sign-in and by `GET /api/v1/me`).
//! POSTs that create something honour `Idempotency-Key`: a retry with the same key gets the
//! first answer and writes nothing more.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ryoritsu_app::accounts::NextStep;
use ryoritsu_app::accounts::orgs::{MAX_MEMBERS_PAGE, NewWorkplace};
use ryoritsu_app::accounts::ports::{MemberCursor, OrganisationRecord, WorkplaceRecord};
use ryoritsu_app::ports::Store;
use ryoritsu_domain::account::DisplayName;
use ryoritsu_domain::org::{CoordinatorProfession, Role, RoleDetail, SafetyHealthRole};
use ryoritsu_domain::policy::Action;
use ryoritsu_domain::prefecture::Prefecture;
use ryoritsu_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::home::role_guide;
use crate::http::api::{body_json, json, parse_body, post_once};
use crate::http::extract::{ApiJson, PathParam, QueryParams};
use crate::http::failure::{ErrorBody, Failure};
use crate::http::session::{Ctx, MaybeUser, User, clear_cookie, session_cookie_name, set_cookie};
use crate::{Access, AppState, RouteTable};

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
    let prefecture = ryoritsu_app::accounts::orgs::parse_prefecture("prefecture", prefecture)
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
) -> Result<ryoritsu_app::accounts::orgs::NewOrganisation, ValidationErrors> {
    let mut org = ryoritsu_app::accounts::orgs::NewOrganisation::parse(
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

/// Where a page of members starts and how long it is.
#[derive(Deserialize, Default)]
pub struct MembersQuery {
    /// The `next` of the page before.
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

/// One page of members, and where the next one starts.
#[derive(Serialize, ToSchema)]
pub struct MemberPageOut {
    pub items: Vec<MemberOut>,
    /// Give this as `after` for the next page; absent after the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Members per page when the caller names no `limit`.
const MEMBERS_DEFAULT_LIMIT: u32 = 100;

/// The organisation's members in the order they joined, a page at a time (`limit` 1–200,
/// default 100; `after` = the `next` of the page before).
#[utoipa::path(get, path = "/api/v1/organisations/{id}/members", tag = "organisations",
    params(
        ("id" = Uuid, Path),
        ("after" = Option<String>, Query, description = "前のページの `next`"),
        ("limit" = Option<u32>, Query, description = "1ページの件数（1〜200、既定100）"),
    ),
    responses((status = 200, body = MemberPageOut), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_members<S: Store>(
    State(st): State<AppState<S>>,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    QueryParams(q): QueryParams<MembersQuery>,
) -> Response {
    let after = match q.after.as_deref() {
        None | Some("") => None,
        Some(t) => match MemberCursor::from_token(t) {
            Some(c) => Some(c),
            None => {
                return Failure::bad_request(
                    "bad_cursor",
                    "ページの指定が正しくありません。一覧の最初から開き直してください。",
                )
                .into_response();
            }
        },
    };
    let limit = q
        .limit
        .unwrap_or(MEMBERS_DEFAULT_LIMIT)
        .clamp(1, MAX_MEMBERS_PAGE);
    match st.app.list_members(&auth, id, after, limit).await {
        Ok(page) => json(
            StatusCode::OK,
            &MemberPageOut {
                items: page
                    .items
                    .iter()
                    .map(|(m, u)| MemberOut {
                        membership_id: m.id,
                        user_id: u.id,
                        login: u.login.to_string(),
                        display_name: u.display_name.to_string(),
                        role: m.role.code().into(),
                        active: u.active,
                    })
                    .collect(),
                next: page.next.map(|c| c.token()),
            },
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
    let link_base = super::pages::invitation_link(&st, &headers, "");
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

pub(super) fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    use Method as M;
    t.add(
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
