//! The accounts pages: sign-in and the second factor, one's own account (password,
//! sessions, the reading of one's name), organisations with their workplaces and members,
//! invitations, and the health check. One struct per template.

use askama::Template;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use ryoritsu_app::AppError;
use ryoritsu_app::accounts::ports::MemberCursor;
use ryoritsu_app::accounts::{Authenticated, NewUser, NextStep};
use ryoritsu_app::ports::Store;
use ryoritsu_domain::FieldError;
use ryoritsu_domain::org::{
    CoordinatorProfession, OrganisationKind, Role, SafetyHealthRole, SupportAgencyKind,
};
use ryoritsu_domain::policy::{Action, decide};
use ryoritsu_domain::prefecture::Prefecture;
use serde::Deserialize;
use uuid::Uuid;

use crate::http::extract::{PageForm, PathParam, QueryParams};
use crate::http::failure::Failure;
use crate::http::page::{Errors, Layout, jp_datetime, public_origin, qr_svg, render};
use crate::http::session::{
    Csrf, Ctx, MaybeUser, User, clear_cookie, session_cookie_name, set_cookie,
};
use crate::{Access, AppState, RouteTable};

// ---- sign-in ------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "accounts/login.html")]
struct LoginPage {
    layout: Layout,
    message: Option<String>,
    notice: Option<String>,
    login: String,
    next: String,
    demo_accounts: Vec<ryoritsu_app::demo::DemoSignIn>,
    demo_password: &'static str,
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    next: Option<String>,
    done: Option<String>,
}

/// Only same-site paths, so a crafted link cannot send someone elsewhere after sign-in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

async fn demo_accounts<S: Store>(st: &AppState<S>) -> Vec<ryoritsu_app::demo::DemoSignIn> {
    if st.app.config().demo {
        st.app.demo_sign_ins().await.unwrap_or_default()
    } else {
        Vec::new()
    }
}

async fn login_page<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Csrf(csrf): Csrf,
    MaybeUser(user): MaybeUser,
    QueryParams(q): QueryParams<LoginQuery>,
) -> Response {
    if user.as_ref().is_some_and(|u| u.principal.second_factor_ok) {
        return Redirect::to("/").into_response();
    }
    let notice = match q.done.as_deref() {
        Some("password") => {
            Some("パスワードを変更しました。新しいパスワードでログインしてください。".to_owned())
        }
        Some("logout") => Some("ログアウトしました。".to_owned()),
        _ => None,
    };
    render(&LoginPage {
        layout: Layout::new(&st, "ログイン", &csrf, None, "/login"),
        message: None,
        notice,
        login: String::new(),
        next: safe_next(q.next.as_deref()),
        demo_accounts: demo_accounts(&st).await,
        demo_password: ryoritsu_app::demo::DEMO_PASSWORD,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

fn with_session_cookie<S: Store>(st: &AppState<S>, mut resp: Response, token: &str) -> Response {
    let secure = st.web.secure_cookies;
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(secure, session_cookie_name(secure), token),
    );
    resp
}

async fn login_submit<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    PageForm(form): PageForm<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    match st.app.sign_in(&ctx, &form.login, &form.password).await {
        Ok(signed) => {
            let to = match signed.next {
                NextStep::Done => next,
                NextStep::SecondFactor => "/login/second-factor".to_owned(),
                NextStep::EnrolSecondFactor => "/account/two-factor".to_owned(),
            };
            with_session_cookie(
                &st,
                Redirect::to(&to).into_response(),
                &signed.session.token,
            )
        }
        Err(e @ (AppError::AuthenticationFailed | AppError::Throttled(_))) => {
            let status = if matches!(e, AppError::Throttled(_)) {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::UNAUTHORIZED
            };
            let page = LoginPage {
                layout: Layout::new(&st, "ログイン", &csrf, None, "/login"),
                message: Some(e.message()),
                notice: None,
                login: form.login.chars().take(64).collect(),
                next,
                demo_accounts: demo_accounts(&st).await,
                demo_password: ryoritsu_app::demo::DEMO_PASSWORD,
            };
            (status, render(&page)).into_response()
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "accounts/second_factor.html")]
struct SecondFactorPage {
    layout: Layout,
    message: Option<String>,
}

async fn second_factor_page<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Csrf(csrf): Csrf,
    User(auth): User,
) -> Response {
    if auth.principal.second_factor_ok {
        return Redirect::to("/").into_response();
    }
    if auth.user.totp_secret.is_none() {
        return Redirect::to("/account/two-factor").into_response();
    }
    render(&SecondFactorPage {
        layout: Layout::new(&st, "確認コードの入力", &csrf, Some(&auth), ""),
        message: None,
    })
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

async fn second_factor_submit<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    User(auth): User,
    PageForm(form): PageForm<CodeForm>,
) -> Response {
    match st.app.verify_second_factor(&ctx, &auth, &form.code).await {
        Ok(session) => with_session_cookie(&st, Redirect::to("/").into_response(), &session.token),
        Err(
            e @ (AppError::AuthenticationFailed | AppError::Throttled(_) | AppError::Invalid(_)),
        ) => {
            let status = Failure::from(e.clone()).status;
            let page = SecondFactorPage {
                layout: Layout::new(&st, "確認コードの入力", &csrf, Some(&auth), ""),
                message: Some(match &e {
                    AppError::AuthenticationFailed => "確認コードが正しくありません。".to_owned(),
                    other => other.message(),
                }),
            };
            (status, render(&page)).into_response()
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

async fn logout<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
) -> Response {
    if let Err(e) = st.app.sign_out(&ctx, &auth).await {
        return Failure::from(e).into_response();
    }
    let secure = st.web.secure_cookies;
    let mut r = Redirect::to("/login?done=logout").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        clear_cookie(secure, session_cookie_name(secure)),
    );
    r
}

// ---- second-factor setup ------------------------------------------------------------

#[derive(Template)]
#[template(path = "accounts/two_factor_setup.html")]
struct TwoFactorSetupPage {
    layout: Layout,
    required: bool,
    message: Option<String>,
    qr_svg: String,
    secret: String,
}

async fn two_factor_page<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Csrf(csrf): Csrf,
    User(auth): User,
) -> Response {
    // Half signed in with a second factor already set up: the code comes first.
    if auth.session.pending_second_factor && auth.user.totp_secret.is_some() {
        return Redirect::to("/login/second-factor").into_response();
    }
    two_factor_render(&st, &csrf, &auth, None, StatusCode::OK).await
}

async fn two_factor_render<S: Store>(
    st: &AppState<S>,
    csrf: &str,
    auth: &Authenticated,
    message: Option<String>,
    status: StatusCode,
) -> Response {
    let enrol = match st.app.begin_totp_enrolment(auth).await {
        Ok(e) => e,
        Err(e) => return Failure::from(e).into_response(),
    };
    let required = st.app.second_factor_required(&auth.user, &auth.memberships);
    let page = TwoFactorSetupPage {
        layout: Layout::new(st, "二要素認証の設定", csrf, Some(auth), "/account"),
        required: required && auth.user.totp_secret.is_none(),
        message,
        qr_svg: qr_svg(&enrol.uri),
        secret: enrol
            .secret_base32
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" "),
    };
    (status, render(&page)).into_response()
}

#[derive(Template)]
#[template(path = "accounts/recovery_codes.html")]
struct RecoveryCodesPage {
    layout: Layout,
    codes: Vec<String>,
}

async fn two_factor_submit<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    User(auth): User,
    PageForm(form): PageForm<CodeForm>,
) -> Response {
    match st.app.confirm_totp_enrolment(&ctx, &auth, &form.code).await {
        Ok((codes, upgraded)) => {
            let csrf = upgraded
                .as_ref()
                .map_or(csrf, |s| s.record.csrf_token.clone());
            let page = RecoveryCodesPage {
                layout: Layout::new(
                    &st,
                    "二要素認証を設定しました",
                    &csrf,
                    Some(&auth),
                    "/account",
                ),
                codes,
            };
            let resp = render(&page);
            match upgraded {
                Some(s) => with_session_cookie(&st, resp, &s.token),
                None => resp,
            }
        }
        Err(e @ (AppError::Invalid(_) | AppError::Throttled(_) | AppError::Conflict(_))) => {
            let status = Failure::from(e.clone()).status;
            two_factor_render(&st, &csrf, &auth, Some(e.message()), status).await
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

// ---- account ------------------------------------------------------------------------

pub struct SessionRow {
    pub handle: String,
    pub agent: String,
    pub created: String,
    pub last_seen: String,
    pub ip: Option<String>,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "accounts/account.html")]
struct AccountPage {
    layout: Layout,
    notice: Option<String>,
    display_name: String,
    /// The reading (フリガナ) of the name, for search; empty when not given.
    name_reading: String,
    login: String,
    memberships: Vec<String>,
    totp_enabled: bool,
    totp_required: bool,
    sessions: Vec<SessionRow>,
    errors: Errors,
}

/// A readable name for a browser from its User-Agent, without fingerprinting detail.
fn agent_label(ua: Option<&str>) -> String {
    let Some(ua) = ua else {
        return "不明な端末".into();
    };
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("Chrome/") {
        "Chrome"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("Safari/") {
        "Safari"
    } else {
        "その他のアプリ"
    };
    let os = if ua.contains("iPhone") || ua.contains("iPad") {
        "iPhone・iPad"
    } else if ua.contains("Android") {
        "Android"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS") {
        "Mac"
    } else if ua.contains("Linux") {
        "Linux"
    } else {
        "不明な端末"
    };
    format!("{browser}（{os}）")
}

async fn account_render<S: Store>(
    st: &AppState<S>,
    csrf: &str,
    auth: &Authenticated,
    notice: Option<String>,
    errors: Errors,
    status: StatusCode,
) -> Response {
    let sessions = match st.app.list_own_sessions(auth).await {
        Ok(s) => s,
        Err(e) => return Failure::from(e).into_response(),
    };
    let orgs = st.app.list_organisations(auth).await.unwrap_or_default();
    let memberships = auth
        .memberships
        .iter()
        .map(|m| {
            let org = orgs
                .iter()
                .find(|o| o.id == m.organisation_id)
                .map_or_else(String::new, |o| o.name.to_string());
            format!("{org}　{}", m.role.label())
        })
        .collect();
    let page = AccountPage {
        layout: Layout::new(st, "アカウント設定", csrf, Some(auth), "/account"),
        notice,
        display_name: auth.user.display_name.to_string(),
        name_reading: st
            .app
            .own_name_reading(auth)
            .await
            .ok()
            .flatten()
            .unwrap_or_default(),
        login: auth.user.login.to_string(),
        memberships,
        totp_enabled: auth.user.totp_secret.is_some(),
        totp_required: st.app.second_factor_required(&auth.user, &auth.memberships),
        sessions: sessions
            .iter()
            .map(|s| SessionRow {
                handle: s.handle.clone(),
                agent: agent_label(s.user_agent.as_deref()),
                created: jp_datetime(s.created_at),
                last_seen: jp_datetime(s.last_seen_at),
                ip: s.client_ip.clone(),
                current: s.id_hash == auth.session.id_hash,
            })
            .collect(),
        errors,
    };
    (status, render(&page)).into_response()
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    done: Option<String>,
    /// Where the page of members starts (the organisation page).
    #[serde(default)]
    after: Option<String>,
}

async fn account<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Csrf(csrf): Csrf,
    User(auth): User,
    QueryParams(q): QueryParams<NoticeQuery>,
) -> Response {
    let notice = match q.done.as_deref() {
        Some("session") => Some("選んだ端末をログアウトさせました。".to_owned()),
        Some("name_reading") => Some("フリガナを保存しました。".to_owned()),
        _ => None,
    };
    account_render(&st, &csrf, &auth, notice, Errors::default(), StatusCode::OK).await
}

/// The field is required: a form without it (not an empty one, which clears the reading)
/// is refused rather than taken as "clear".
#[derive(Deserialize)]
struct ReadingForm {
    name_reading: String,
}

/// The signed-in person sets the reading of their own name on the account page.
async fn set_reading<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Ctx(ctx): Ctx,
    Csrf(csrf): Csrf,
    User(auth): User,
    PageForm(form): PageForm<ReadingForm>,
) -> Response {
    match st
        .app
        .set_own_name_reading(&ctx, &auth, &form.name_reading)
        .await
    {
        Ok(_) => Redirect::to("/account?done=name_reading").into_response(),
        Err(AppError::Invalid(v)) => {
            account_render(
                &st,
                &csrf,
                &auth,
                None,
                v.errors.into(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

async fn change_password<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    User(auth): User,
    PageForm(form): PageForm<PasswordForm>,
) -> Response {
    match st
        .app
        .change_password(&ctx, &auth, &form.current_password, &form.new_password)
        .await
    {
        Ok(()) => {
            let secure = st.web.secure_cookies;
            let mut r = Redirect::to("/login?done=password").into_response();
            r.headers_mut().append(
                header::SET_COOKIE,
                clear_cookie(secure, session_cookie_name(secure)),
            );
            r
        }
        Err(AppError::Invalid(v)) => {
            account_render(
                &st,
                &csrf,
                &auth,
                None,
                Errors::from(v.errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "accounts/account_session_ended_partial.html")]
struct SessionEndedPartial;

async fn end_session<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    headers: axum::http::HeaderMap,
    PathParam(handle): PathParam<String>,
) -> Response {
    match st.app.end_own_session(&ctx, &auth, &handle).await {
        // htmx swaps the row in place; without JavaScript the form posts and comes back.
        Ok(()) if headers.contains_key("hx-request") => render(&SessionEndedPartial),
        Ok(()) => Redirect::to("/account?done=session").into_response(),
        Err(e) => Failure::from(e).into_response(),
    }
}

// ---- organisations ------------------------------------------------------------------

pub struct OrgRow {
    pub id: Uuid,
    pub name: String,
    pub kind: &'static str,
    pub prefecture: &'static str,
    pub prefecture_code: String,
    pub created: String,
}

impl OrgRow {
    fn of(o: &ryoritsu_app::accounts::ports::OrganisationRecord) -> OrgRow {
        OrgRow {
            id: o.id,
            name: o.name.to_string(),
            kind: match o.agency_kind {
                Some(a) if o.kind == OrganisationKind::SupportAgency => a.label(),
                _ => o.kind.label(),
            },
            prefecture: o.prefecture.name(),
            prefecture_code: o.prefecture.code().to_string(),
            created: jp_datetime(o.created_at),
        }
    }
}

#[derive(Deserialize, Default)]
struct OrgForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    prefecture: String,
    #[serde(default)]
    agency_kind: String,
}

#[derive(Template)]
#[template(path = "accounts/organisations.html")]
struct OrganisationsPage {
    layout: Layout,
    notice: Option<String>,
    organisations: Vec<OrgRow>,
    can_create: bool,
    kinds: Vec<(&'static str, &'static str)>,
    agency_kinds: Vec<(&'static str, &'static str)>,
    prefectures: Vec<(String, &'static str)>,
    form: OrgForm,
    errors: Errors,
}

fn prefecture_options() -> Vec<(String, &'static str)> {
    Prefecture::all()
        .map(|p| (p.code().to_string(), p.name()))
        .collect()
}

async fn organisations_render<S: Store>(
    st: &AppState<S>,
    csrf: &str,
    auth: &Authenticated,
    notice: Option<String>,
    form: OrgForm,
    errors: Errors,
    status: StatusCode,
) -> Response {
    let orgs = match st.app.list_organisations(auth).await {
        Ok(o) => o,
        Err(e) => return Failure::from(e).into_response(),
    };
    let page = OrganisationsPage {
        layout: Layout::new(st, "組織", csrf, Some(auth), "/organisations"),
        notice,
        organisations: orgs.iter().map(OrgRow::of).collect(),
        can_create: decide(&auth.principal, Action::CreateOrganisation).is_ok(),
        kinds: OrganisationKind::ALL
            .iter()
            .map(|k| (k.code(), k.label()))
            .collect(),
        agency_kinds: SupportAgencyKind::ALL
            .iter()
            .map(|k| (k.code(), k.label()))
            .collect(),
        prefectures: prefecture_options(),
        form,
        errors,
    };
    (status, render(&page)).into_response()
}

async fn organisations<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Csrf(csrf): Csrf,
    User(auth): User,
) -> Response {
    organisations_render(
        &st,
        &csrf,
        &auth,
        None,
        OrgForm::default(),
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

async fn create_organisation<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    User(auth): User,
    PageForm(form): PageForm<OrgForm>,
) -> Response {
    let permit = match auth.permit(Action::CreateOrganisation) {
        Ok(p) => p,
        Err(e) => return Failure::from(e).into_response(),
    };
    let agency = Some(form.agency_kind.as_str()).filter(|s| !s.is_empty());
    let new = match ryoritsu_app::accounts::orgs::NewOrganisation::parse(
        &form.kind,
        &form.name,
        &form.prefecture,
        agency,
    ) {
        Ok(n) => n,
        Err(v) => {
            return organisations_render(
                &st,
                &csrf,
                &auth,
                None,
                form,
                Errors::from(v.errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match st
        .app
        .create_organisation(&ctx, &auth.principal, permit, new)
        .await
    {
        Ok(o) => Redirect::to(&format!("/organisations/{}?done=created", o.id)).into_response(),
        Err(e) => Failure::from(e).into_response(),
    }
}

pub struct WorkplaceRow {
    pub name: String,
    pub prefecture: &'static str,
    pub has_physician: bool,
}

/// Members on one page of the organisation page.
const MEMBERS_PER_PAGE: u32 = 100;

pub struct MemberRow {
    pub membership_id: Uuid,
    pub user_id: Uuid,
    pub is_self: bool,
    pub name: String,
    pub login: String,
    pub role: String,
    pub active: bool,
}

pub struct InvitationRow {
    pub role: &'static str,
    pub note: Option<String>,
    pub created: String,
    pub expires: String,
    pub state: &'static str,
    pub badge_class: &'static str,
}

#[derive(Template)]
#[template(path = "accounts/organisation.html")]
struct OrganisationPage {
    layout: Layout,
    notice: Option<String>,
    org: OrgRow,
    is_employer: bool,
    is_hospital: bool,
    is_agency: bool,
    can_manage: bool,
    workplaces: Vec<WorkplaceRow>,
    members: Vec<MemberRow>,
    /// The next page of members, when there is one.
    next_members: Option<String>,
    /// Whether this page of members is not the first.
    later_members: bool,
    invitations: Vec<InvitationRow>,
    roles: Vec<(&'static str, &'static str)>,
    safety_roles: Vec<(&'static str, &'static str)>,
    professions: Vec<(&'static str, &'static str)>,
    prefectures: Vec<(String, &'static str)>,
    errors: Errors,
}

async fn organisation_render<S: Store>(
    st: &AppState<S>,
    csrf: &str,
    auth: &Authenticated,
    id: Uuid,
    notice: Option<String>,
    errors: Errors,
    status: StatusCode,
) -> Response {
    organisation_render_from(st, csrf, auth, id, None, notice, errors, status).await
}

/// The organisation page with its page of members starting after `after`.
#[allow(clippy::too_many_arguments)]
async fn organisation_render_from<S: Store>(
    st: &AppState<S>,
    csrf: &str,
    auth: &Authenticated,
    id: Uuid,
    after: Option<MemberCursor>,
    notice: Option<String>,
    errors: Errors,
    status: StatusCode,
) -> Response {
    let org = match st.app.get_organisation(auth, id).await {
        Ok(o) => o,
        Err(e) => return Failure::from(e).into_response(),
    };
    let can_manage = decide(&auth.principal, Action::ManageMembers(id)).is_ok();
    let workplaces = st.app.list_workplaces(auth, id).await.unwrap_or_default();
    let (members, next_members, invitations) = if can_manage {
        let page = st
            .app
            .list_members(auth, id, after, MEMBERS_PER_PAGE)
            .await
            .map(|p| (p.items, p.next))
            .unwrap_or_default();
        (
            page.0,
            page.1
                .map(|n| format!("/organisations/{id}?after={}", n.token())),
            st.app.list_invitations(auth, id).await.unwrap_or_default(),
        )
    } else {
        (Vec::new(), None, Vec::new())
    };
    let now = st.app.now();
    let page = OrganisationPage {
        layout: Layout::new(
            st,
            &org.name.to_string(),
            csrf,
            Some(auth),
            "/organisations",
        ),
        notice,
        is_employer: org.kind == OrganisationKind::Employer,
        is_hospital: org.kind == OrganisationKind::MedicalInstitution,
        is_agency: org.kind == OrganisationKind::SupportAgency,
        can_manage,
        workplaces: workplaces
            .iter()
            .map(|w| WorkplaceRow {
                name: w.name.to_string(),
                prefecture: w.prefecture.name(),
                has_physician: w.has_occupational_physician,
            })
            .collect(),
        members: members
            .iter()
            .map(|(m, u)| MemberRow {
                membership_id: m.id,
                user_id: u.id,
                is_self: u.id == auth.user.id,
                name: u.display_name.to_string(),
                login: u.login.to_string(),
                role: m.role.label().to_owned(),
                active: u.active,
            })
            .collect(),
        next_members,
        later_members: after.is_some(),
        invitations: invitations
            .iter()
            .map(|i| {
                let (state, badge_class) = if i.used_at.is_some() {
                    ("参加済み", "badge-ok")
                } else if i.expires_at <= now {
                    ("期限切れ", "badge-muted")
                } else {
                    ("未使用", "badge-warn")
                };
                InvitationRow {
                    role: i.role.label(),
                    note: i.note.clone(),
                    created: jp_datetime(i.created_at),
                    expires: jp_datetime(i.expires_at),
                    state,
                    badge_class,
                }
            })
            .collect(),
        roles: Role::ALL
            .iter()
            .filter(|r| r.invitable() && r.allowed_in(org.kind))
            .map(|r| (r.code(), r.label()))
            .collect(),
        safety_roles: SafetyHealthRole::ALL
            .iter()
            .map(|r| (r.code(), r.label()))
            .collect(),
        professions: CoordinatorProfession::ALL
            .iter()
            .map(|r| (r.code(), r.label()))
            .collect(),
        prefectures: prefecture_options(),
        org: OrgRow::of(&org),
        errors,
    };
    (status, render(&page)).into_response()
}

async fn organisation<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Csrf(csrf): Csrf,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    QueryParams(q): QueryParams<NoticeQuery>,
) -> Response {
    let notice = match q.done.as_deref() {
        Some("created") => Some("組織を登録しました。".to_owned()),
        Some("workplace") => Some("事業場を追加しました。".to_owned()),
        Some("revoked") => Some("役割を外しました。".to_owned()),
        Some("deactivated") => Some(
            "利用を停止しました。その方のログイン中の端末もすべてログアウトしました。".to_owned(),
        ),
        _ => None,
    };
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
    organisation_render_from(
        &st,
        &csrf,
        &auth,
        id,
        after,
        notice,
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
struct WorkplaceForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    prefecture: String,
    #[serde(default)]
    has_occupational_physician: Option<String>,
}

async fn add_workplace<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    PageForm(form): PageForm<WorkplaceForm>,
) -> Response {
    let new = match super::api::parse_workplace(
        &form.name,
        &form.prefecture,
        form.has_occupational_physician.is_some(),
    ) {
        Ok(n) => n,
        Err(v) => {
            return organisation_render(
                &st,
                &csrf,
                &auth,
                id,
                None,
                Errors::from(v.errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match st.app.add_workplace(&ctx, &auth, id, new).await {
        Ok(_) => Redirect::to(&format!("/organisations/{id}?done=workplace")).into_response(),
        Err(AppError::Invalid(v)) => {
            organisation_render(
                &st,
                &csrf,
                &auth,
                id,
                None,
                Errors::from(v.errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

#[derive(Deserialize)]
struct InviteForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    safety_health_role: String,
    #[serde(default)]
    profession: String,
    #[serde(default)]
    promotion_officer: Option<String>,
    #[serde(default)]
    note: String,
}

#[derive(Template)]
#[template(path = "accounts/invitation_created.html")]
struct InvitationCreatedPage {
    layout: Layout,
    organisation: String,
    org_id: Uuid,
    role: &'static str,
    expires: String,
    link: String,
}

/// The link people follow, on this server's public origin when one is configured.
pub fn invitation_link<S: Store>(
    st: &AppState<S>,
    headers: &axum::http::HeaderMap,
    token: &str,
) -> String {
    format!("{}/invitations/{token}", public_origin(st, headers))
}

async fn invite<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    User(auth): User,
    headers: axum::http::HeaderMap,
    PathParam(id): PathParam<Uuid>,
    PageForm(form): PageForm<InviteForm>,
) -> Response {
    let parsed = super::api::parse_invitation(
        &form.role,
        Some(form.safety_health_role.as_str()),
        Some(form.profession.as_str()),
        form.promotion_officer.is_some(),
    );
    let (role, detail) = match parsed {
        Ok(v) => v,
        Err(v) => {
            return organisation_render(
                &st,
                &csrf,
                &auth,
                id,
                None,
                Errors::from(v.errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let note = Some(form.note).filter(|n| !n.trim().is_empty());
    match st.app.invite(&ctx, &auth, id, role, detail, note).await {
        Ok(inv) => {
            let org = st
                .app
                .get_organisation(&auth, id)
                .await
                .map(|o| o.name.to_string())
                .unwrap_or_default();
            render(&InvitationCreatedPage {
                layout: Layout::new(
                    &st,
                    "招待リンクを発行しました",
                    &csrf,
                    Some(&auth),
                    "/organisations",
                ),
                organisation: org,
                org_id: id,
                role: inv.record.role.label(),
                expires: jp_datetime(inv.record.expires_at),
                link: invitation_link(&st, &headers, &inv.token),
            })
        }
        Err(AppError::Invalid(v)) => {
            organisation_render(
                &st,
                &csrf,
                &auth,
                id,
                None,
                Errors::from(v.errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

async fn revoke<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam((id, membership)): PathParam<(Uuid, Uuid)>,
) -> Response {
    match st.app.revoke_membership(&ctx, &auth, id, membership).await {
        Ok(()) => Redirect::to(&format!("/organisations/{id}?done=revoked")).into_response(),
        Err(e) => Failure::from(e).into_response(),
    }
}

async fn deactivate<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam((id, user)): PathParam<(Uuid, Uuid)>,
) -> Response {
    // The page acts within one organisation: the person must be a member of it.
    match st.app.is_member(&auth, id, user).await {
        Ok(true) => {}
        Ok(false) => return Failure::not_found().into_response(),
        Err(e) => return Failure::from(e).into_response(),
    }
    match st.app.deactivate_user(&ctx, &auth, user).await {
        Ok(()) => Redirect::to(&format!("/organisations/{id}?done=deactivated")).into_response(),
        Err(e) => Failure::from(e).into_response(),
    }
}

// ---- invitations --------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct AcceptForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    name_reading: String,
}

#[derive(Template)]
#[template(path = "accounts/invitation.html")]
struct InvitationPage {
    layout: Layout,
    token: String,
    organisation: String,
    kind: &'static str,
    role: &'static str,
    signed_in_as: Option<String>,
    message: Option<String>,
    form: AcceptForm,
    errors: Errors,
}

/// Invitation tokens are 64 hex characters; anything else names nothing.
fn token_shape_ok(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn invitation_render<S: Store>(
    st: &AppState<S>,
    csrf: &str,
    auth: Option<&Authenticated>,
    token: &str,
    form: AcceptForm,
    errors: Errors,
    status: StatusCode,
) -> Response {
    if !token_shape_ok(token) {
        return Failure::not_found().into_response();
    }
    let view = match st.app.invitation(token).await {
        Ok(v) => v,
        Err(e) => return Failure::from(e).into_response(),
    };
    let page = InvitationPage {
        layout: Layout::new(st, "招待への参加", csrf, auth, ""),
        token: token.to_owned(),
        organisation: view.organisation.name.to_string(),
        kind: view.organisation.kind.label(),
        role: view.invitation.role.label(),
        signed_in_as: auth
            .filter(|a| a.principal.second_factor_ok)
            .map(|a| a.user.display_name.to_string()),
        message: None,
        form: AcceptForm {
            password: String::new(),
            ..form
        },
        errors,
    };
    (status, render(&page)).into_response()
}

async fn invitation<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Csrf(csrf): Csrf,
    MaybeUser(user): MaybeUser,
    PathParam(token): PathParam<String>,
) -> Response {
    invitation_render(
        &st,
        &csrf,
        user.as_deref(),
        &token,
        AcceptForm::default(),
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

async fn accept_invitation<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    MaybeUser(user): MaybeUser,
    PathParam(token): PathParam<String>,
    PageForm(form): PageForm<AcceptForm>,
) -> Response {
    if !token_shape_ok(&token) {
        return Failure::not_found().into_response();
    }
    let signed_in = user.as_deref().filter(|a| a.principal.second_factor_ok);
    let new_user = if signed_in.is_some() {
        None
    } else {
        match NewUser::parse_with_reading(
            &form.login,
            &form.display_name,
            Some(&form.email),
            &form.password,
            &form.name_reading,
        ) {
            Ok(n) => Some(n),
            Err(v) => {
                return invitation_render(
                    &st,
                    &csrf,
                    user.as_deref(),
                    &token,
                    form,
                    Errors::from(v.errors),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        }
    };
    match st
        .app
        .accept_invitation(&ctx, &token, signed_in, new_user)
        .await
    {
        Ok(_) if signed_in.is_some() => Redirect::to("/").into_response(),
        Ok(_) => Redirect::to("/login?next=%2F").into_response(),
        Err(e @ AppError::Conflict("login_taken")) => {
            let errors = Errors::from(vec![FieldError::new("login", "login_taken", e.message())]);
            invitation_render(
                &st,
                &csrf,
                user.as_deref(),
                &token,
                form,
                errors,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

async fn healthz<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
) -> Response {
    match st.app.store().health().await {
        Ok(()) => {
            let mut r = axum::Json(serde_json::json!({ "status": "ok" })).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => Failure::from(AppError::Store(e)).api().into_response(),
    }
}

pub(super) fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    use Method as M;
    t.add(M::GET, "/login", Access::Public, "none", login_page::<S>)
        .add(
            M::POST,
            "/login",
            Access::Public,
            "sign-in throttling",
            login_submit::<S>,
        )
        .add(
            M::GET,
            "/login/second-factor",
            Access::Session,
            "ManageOwnAccount",
            second_factor_page::<S>,
        )
        .add(
            M::POST,
            "/login/second-factor",
            Access::Session,
            "ManageOwnAccount",
            second_factor_submit::<S>,
        )
        .add(
            M::POST,
            "/logout",
            Access::Session,
            "ManageOwnAccount",
            logout::<S>,
        )
        .add(
            M::GET,
            "/account",
            Access::SignedIn,
            "ManageOwnAccount",
            account::<S>,
        )
        .add(
            M::POST,
            "/account/password",
            Access::SignedIn,
            "ManageOwnAccount",
            change_password::<S>,
        )
        .add(
            M::POST,
            "/account/sessions/{handle}/end",
            Access::SignedIn,
            "ManageOwnAccount",
            end_session::<S>,
        )
        .add(
            M::GET,
            "/account/two-factor",
            Access::Session,
            "ManageOwnAccount",
            two_factor_page::<S>,
        )
        .add(
            M::POST,
            "/account/two-factor",
            Access::Session,
            "ManageOwnAccount",
            two_factor_submit::<S>,
        )
        .add(
            M::POST,
            "/account/name-reading",
            Access::SignedIn,
            "ManageOwnAccount (one's own name reading)",
            set_reading::<S>,
        )
        .add(
            M::GET,
            "/organisations",
            Access::SignedIn,
            "ViewOrganisation (each)",
            organisations::<S>,
        )
        .add(
            M::POST,
            "/organisations",
            Access::SignedIn,
            "CreateOrganisation",
            create_organisation::<S>,
        )
        .add(
            M::GET,
            "/organisations/{id}",
            Access::SignedIn,
            "ViewOrganisation",
            organisation::<S>,
        )
        .add(
            M::POST,
            "/organisations/{id}/workplaces",
            Access::SignedIn,
            "ManageOrganisation",
            add_workplace::<S>,
        )
        .add(
            M::POST,
            "/organisations/{id}/invitations",
            Access::SignedIn,
            "ManageMembers",
            invite::<S>,
        )
        .add(
            M::POST,
            "/organisations/{id}/members/{membership}/revoke",
            Access::SignedIn,
            "ManageMembers",
            revoke::<S>,
        )
        .add(
            M::POST,
            "/organisations/{id}/users/{user}/deactivate",
            Access::SignedIn,
            "ManageMembers (of the person's organisation)",
            deactivate::<S>,
        )
        .add(
            M::GET,
            "/invitations/{token}",
            Access::Public,
            "invitation token",
            invitation::<S>,
        )
        .add(
            M::POST,
            "/invitations/{token}",
            Access::Public,
            "invitation token",
            accept_invitation::<S>,
        )
        .add(M::GET, "/healthz", Access::Public, "none", healthz::<S>)
}
