//! Sessions and CSRF.
//!
//! Security-sensitive. The session cookie carries 256 random bits; the store keeps only
//! their SHA-256. Cookies are HttpOnly and SameSite=Lax, and `__Host-` + Secure when served
//! over TLS. Every state-changing request must pass two checks:
//! - its `Origin` (or, failing that, `Referer`) is this site, when the browser sends one;
//! - it carries the synchronizer token, in the `X-CSRF-Token` header (htmx and the API) or
//!   the `csrf_token` form field. Before sign-in the token is an HMAC of a random
//!   pre-session cookie under the server secret (signed double submit).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use hmac::{Hmac, Mac};
use ryoritsu_app::accounts::Authenticated;
use ryoritsu_app::ports::Store;
use ryoritsu_app::{AppError, RequestContext};
use sha2::Sha256;

use crate::AppState;
use crate::http::context::{flavour, is_unsafe, request_context};
use crate::http::failure::{Failure, FailureInfo, Flavour};

pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf_token";

pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-ryoritsu"
    } else {
        "ryoritsu"
    }
}

pub fn pre_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-ryoritsu-pre"
    } else {
        "ryoritsu-pre"
    }
}

pub fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_alphanumeric()))
}

pub fn set_cookie(secure: bool, name: &str, value: &str) -> HeaderValue {
    let s = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear_cookie(secure: bool, name: &str) -> HeaderValue {
    let s = format!(
        "{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn pre_token(secret: &[u8], pre: &str) -> String {
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mut m) => {
            m.update(b"csrf-pre:");
            m.update(pre.as_bytes());
            hex::encode(m.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The signed-in user of this request, if any (set by [`session_layer`]).
#[derive(Clone)]
pub struct CurrentSession(pub Option<Arc<Authenticated>>);

/// The token a page must embed in its forms.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

fn upload_too_large() -> Failure {
    Failure::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!(
            "送信されたファイルが大きすぎます（{}MBまで）。",
            ryoritsu_domain::attachment::MAX_SCAN_BYTES / (1024 * 1024)
        ),
    )
}

/// The `csrf_token` field of a multipart form (pages put it before the file).
async fn multipart_token(content_type: &str, bytes: axum::body::Bytes) -> Option<String> {
    let boundary = multer::parse_boundary(content_type).ok()?;
    let stream =
        futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(bytes) });
    let mut parts = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = parts.next_field().await {
        if field.name() == Some(CSRF_FIELD) {
            return field.text().await.ok();
        }
    }
    None
}

fn csrf_failure() -> Failure {
    Failure::new(
        StatusCode::FORBIDDEN,
        "csrf_failed",
        "画面の有効期限が切れたか、別のサイトから送信されたため処理できませんでした。ページを読み込み直してからもう一度お試しください。",
    )
}

/// The `Origin` (or `Referer`) must be this site when present. Browsers send `Origin` on
/// every cross-site POST, so a missing one means a non-browser client, which must still
/// present the token.
fn origin_ok<S: Store>(st: &AppState<S>, headers: &HeaderMap) -> bool {
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| {
                    let scheme_end = r.find("://")? + 3;
                    let host_end = r[scheme_end..]
                        .find('/')
                        .map_or(r.len(), |i| scheme_end + i);
                    Some(r[..host_end].to_owned())
                })
        });
    let Some(origin) = origin else { return true };
    if origin == "null" {
        return false;
    }
    if let Some(expected) = &st.web.public_origin {
        return origin.eq_ignore_ascii_case(expected.trim_end_matches('/'));
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or_default();
    host.is_some_and(|h| h.eq_ignore_ascii_case(origin_host))
}

/// Resolves the session, enforces CSRF on state-changing requests, and hands the result to
/// the handlers through request extensions.
pub async fn session_layer<S: Store>(
    State(st): State<AppState<S>>,
    req: Request,
    next: Next,
) -> Response {
    let secure = st.web.secure_cookies;
    let (mut parts, body) = req.into_parts();
    let mut clear_session = false;
    let auth = match read_cookie(&parts.headers, session_cookie_name(secure)) {
        Some(token) => match st.app.authenticate(token).await {
            Ok(a) => Some(Arc::new(a)),
            Err(AppError::Unauthenticated) => {
                clear_session = true;
                None
            }
            Err(e) => return Failure::from(e).into_response(),
        },
        None => None,
    };
    let existing_pre = read_cookie(&parts.headers, pre_cookie_name(secure)).map(str::to_owned);
    let new_pre = match (&auth, &existing_pre) {
        (None, None) => ryoritsu_app::secrets::random_token().ok(),
        _ => None,
    };
    let expected = match &auth {
        Some(a) => a.session.csrf_token.clone(),
        None => existing_pre
            .as_deref()
            .or(new_pre.as_deref())
            .map(|p| pre_token(&st.secret[..], p))
            .unwrap_or_default(),
    };
    let body = if is_unsafe(&parts.method) {
        if !origin_ok(&st, &parts.headers) {
            return deny_csrf(&st, auth.as_deref(), "origin").await;
        }
        let header_token = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let is_form = content_type.starts_with("application/x-www-form-urlencoded");
        let is_multipart = content_type.starts_with("multipart/form-data");
        // Without a session there is no ambient authority to abuse, except signing the
        // visitor in as someone else (login CSRF). A browser can send JSON cross-site only
        // after a CORS preflight, which this server never grants, so anonymous JSON calls
        // (API sign-in, accepting an invitation) need only the Origin check; anonymous
        // forms need the pre-session token.
        let anonymous_json = auth.is_none() && content_type.starts_with("application/json");
        let (provided, body) = match header_token {
            Some(t) => (Some(t), body),
            None if is_form => {
                let bytes = match axum::body::to_bytes(body, st.web.body_limit).await {
                    Ok(b) => b,
                    Err(_) => {
                        return Failure::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "payload_too_large",
                            "送信された内容が大きすぎます。",
                        )
                        .into_response();
                    }
                };
                let t = form_urlencoded::parse(&bytes)
                    .find(|(k, _)| k == CSRF_FIELD)
                    .map(|(_, v)| v.into_owned());
                (t, Body::from(bytes))
            }
            // An upload from a page: only signed-in people upload, so an anonymous one is
            // refused before its body is read.
            None if is_multipart && auth.is_some() => {
                let bytes = match axum::body::to_bytes(body, crate::http::routes::UPLOAD_BODY_LIMIT)
                    .await
                {
                    Ok(b) => b,
                    Err(_) => return upload_too_large().into_response(),
                };
                // The boundary is case-sensitive: parse it from the header as sent.
                let raw = parts
                    .headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let t = multipart_token(raw, bytes.clone()).await;
                (t, Body::from(bytes))
            }
            None => (None, body),
        };
        // A pre-session token is only valid with the cookie it was made from, which a
        // first-time visitor without one cannot yet have sent.
        let usable = auth.is_some() || existing_pre.is_some();
        let token_ok =
            provided.is_some_and(|p| !expected.is_empty() && constant_time_eq(&p, &expected));
        if !(anonymous_json || (usable && token_ok)) {
            return deny_csrf(&st, auth.as_deref(), "token").await;
        }
        body
    } else {
        body
    };
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    parts.extensions.insert(CurrentSession(auth.clone()));
    parts.extensions.insert(CsrfToken(expected));
    let mut resp = next.run(Request::from_parts(parts, body)).await;
    if let Some(info) = resp.extensions().get::<FailureInfo>().filter(|i| i.denied) {
        audit_denial(&st, auth.as_deref(), route, &info.code).await;
    }
    if let Some(p) = new_pre {
        resp.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(secure, pre_cookie_name(secure), &p),
        );
    }
    if clear_session {
        resp.headers_mut().append(
            header::SET_COOKIE,
            clear_cookie(secure, session_cookie_name(secure)),
        );
    }
    resp
}

/// Every refusal by the access policy is recorded, with the route and the reason.
async fn audit_denial<S: Store>(
    st: &AppState<S>,
    auth: Option<&Authenticated>,
    route: Option<String>,
    code: &str,
) {
    let ctx = request_context();
    let mut ev = st.app.event(
        &ctx,
        auth.map(|a| &a.principal),
        None,
        ryoritsu_domain::audit::AuditAction::AccessDenied,
        ryoritsu_domain::audit::Outcome::Denied,
    );
    ev.target = route.map(|r| format!("route:{r}"));
    ev.purpose = Some(code.to_owned());
    let written = st
        .app
        .writer()
        .write(move |tx| {
            Box::pin(async move {
                use ryoritsu_app::ports::WriteRepo;
                tx.append_audit(&ev).await?;
                Ok(())
            })
        })
        .await;
    if let Err(e) = written {
        tracing::error!(error = %e, "could not record a denied access");
    }
}

/// A refused state change is an attempt to get around a control: it is audited.
async fn deny_csrf<S: Store>(
    st: &AppState<S>,
    auth: Option<&Authenticated>,
    why: &str,
) -> Response {
    let ctx = request_context();
    let mut ev = st.app.event(
        &ctx,
        auth.map(|a| &a.principal),
        None,
        ryoritsu_domain::audit::AuditAction::AccessDenied,
        ryoritsu_domain::audit::Outcome::Denied,
    );
    ev.purpose = Some(format!("csrf:{why}"));
    let _ = st
        .app
        .writer()
        .write(move |tx| {
            Box::pin(async move {
                use ryoritsu_app::ports::WriteRepo;
                tx.append_audit(&ev).await?;
                Ok(())
            })
        })
        .await;
    csrf_failure().into_response()
}

/// Who may reach a route, checked before its handler runs. Finer rules (organisation,
/// role, consent) are decided by the domain policy inside the use case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: sign-in, health, static files, reference data.
    Public,
    /// A session past the password step, possibly still owing its second factor.
    Session,
    /// A fully signed-in session.
    SignedIn,
}

impl Access {
    pub fn label(self) -> &'static str {
        match self {
            Access::Public => "public",
            Access::Session => "session",
            Access::SignedIn => "signed_in",
        }
    }
}

pub async fn enforce(access: Access, req: Request, next: Next) -> Response {
    if access == Access::Public {
        return next.run(req).await;
    }
    let auth = req
        .extensions()
        .get::<CurrentSession>()
        .and_then(|c| c.0.clone());
    let Some(auth) = auth else {
        if flavour() == Flavour::Page && req.method() == Method::GET {
            let next_path = req.uri().path_and_query().map_or("/", |p| p.as_str());
            let enc = percent_encoding::utf8_percent_encode(
                next_path,
                percent_encoding::NON_ALPHANUMERIC,
            );
            return Redirect::to(&format!("/login?next={enc}")).into_response();
        }
        return Failure::from(AppError::Unauthenticated).into_response();
    };
    if access == Access::SignedIn && !auth.principal.second_factor_ok {
        if flavour() == Flavour::Page && req.method() == Method::GET {
            let to = if auth.user.totp_secret.is_some() {
                "/login/second-factor"
            } else {
                "/account/two-factor"
            };
            return Redirect::to(to).into_response();
        }
        return Failure::from(AppError::Denied(
            ryoritsu_domain::policy::Denial::SecondFactorRequired,
        ))
        .into_response();
    }
    next.run(req).await
}

/// Extractor: the signed-in user (the route's [`Access`] guarantees one).
pub struct User(pub Arc<Authenticated>);

impl<St: Send + Sync> FromRequestParts<St> for User {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<User, Failure> {
        parts
            .extensions
            .get::<CurrentSession>()
            .and_then(|c| c.0.clone())
            .map(User)
            .ok_or_else(|| Failure::from(AppError::Unauthenticated))
    }
}

/// Extractor: the signed-in user, if any.
pub struct MaybeUser(pub Option<Arc<Authenticated>>);

impl<St: Send + Sync> FromRequestParts<St> for MaybeUser {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<MaybeUser, Failure> {
        Ok(MaybeUser(
            parts
                .extensions
                .get::<CurrentSession>()
                .and_then(|c| c.0.clone()),
        ))
    }
}

/// Extractor: the CSRF token for forms on the page being rendered.
pub struct Csrf(pub String);

impl<St: Send + Sync> FromRequestParts<St> for Csrf {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<Csrf, Failure> {
        Ok(Csrf(
            parts
                .extensions
                .get::<CsrfToken>()
                .map(|t| t.0.clone())
                .unwrap_or_default(),
        ))
    }
}

/// Extractor: the audit context (operation id, client address, user agent).
pub struct Ctx(pub RequestContext);

impl<St: Send + Sync> FromRequestParts<St> for Ctx {
    type Rejection = Failure;

    async fn from_request_parts(_: &mut Parts, _: &St) -> Result<Ctx, Failure> {
        Ok(Ctx(request_context()))
    }
}
