//! Per-request context and the outer middleware: operation ids, logging, security
//! headers, the body-size limit, and Japanese bodies for every error response.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ryoritsu_app::RequestContext;
use ryoritsu_app::ports::Store;
use tracing::Instrument;

use crate::AppState;
use crate::http::failure::{Failure, FailureInfo, Flavour};

#[derive(Debug, Clone)]
pub struct RequestInfo {
    pub operation_id: String,
    pub flavour: Flavour,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    pub demo: bool,
}

tokio::task_local! {
    static REQUEST: RequestInfo;
}

pub fn operation_id() -> Option<String> {
    REQUEST.try_with(|r| r.operation_id.clone()).ok()
}

/// Whether this server runs in demo mode (every page says so).
pub fn demo() -> bool {
    REQUEST.try_with(|r| r.demo).unwrap_or(false)
}

pub fn flavour() -> Flavour {
    REQUEST.try_with(|r| r.flavour).unwrap_or(Flavour::Page)
}

/// The audit context of the current request.
pub fn request_context() -> RequestContext {
    REQUEST
        .try_with(|r| RequestContext {
            operation_id: Some(r.operation_id.clone()),
            client_ip: r.client_ip.clone(),
            user_agent: r.user_agent.clone(),
        })
        .unwrap_or_default()
}

pub fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/fhir/") || path == "/healthz"
}

fn new_operation_id() -> String {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        return "unknown".into();
    }
    hex::encode(b)
}

/// The client's address: the socket peer, or (only when configured, behind a proxy that
/// sets it) the last address the proxy appended to `X-Forwarded-For`.
fn client_ip<S: Store>(st: &AppState<S>, req: &Request) -> Option<String> {
    if st.web.trust_forwarded_for
        && let Some(v) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
        && let Some(last) = v
            .rsplit(',')
            .next()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    {
        return Some(last.chars().take(64).collect());
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

/// Outermost layer: gives the request its operation id, logs one line per request (by
/// route template, never with personal data), and makes sure every error has a body.
pub async fn outer<S: Store>(State(st): State<AppState<S>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let path = req.uri().path().to_owned();
    let is_fhir = path.starts_with("/fhir/");
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |m| m.as_str().to_owned());
    let info = RequestInfo {
        operation_id: new_operation_id(),
        flavour: if is_api_path(&path) {
            Flavour::Api
        } else {
            Flavour::Page
        },
        client_ip: client_ip(&st, &req),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(200).collect()),
        demo: st.app.config().demo,
    };
    let method = req.method().clone();
    let op = info.operation_id.clone();
    let span = tracing::info_span!("http.request", %method, route = %route, operation_id = %op);
    let secure = st.web.secure_cookies;
    let resp = REQUEST
        .scope(info.clone(), async move {
            let resp = guard_body_size(&st, req, next).await;
            let resp = fill_error_body(resp);
            // FHIR clients read errors as OperationOutcome, whoever refused the request.
            let resp = if is_fhir {
                crate::http::fhir_errors::as_operation_outcome(resp)
            } else {
                resp
            };
            let status = resp.status().as_u16();
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            if status >= 500 {
                tracing::error!(status, ms, "request failed");
            } else {
                tracing::info!(status, ms, "request");
            }
            metrics::histogram!("http_request_duration_seconds", "route" => route.clone(), "method" => method.to_string(), "status" => status.to_string())
                .record(ms / 1000.0);
            resp
        }.instrument(span))
        .await;
    let mut resp = resp;
    if let Ok(v) = HeaderValue::from_str(&op) {
        resp.headers_mut()
            .insert(HeaderName::from_static("x-operation-id"), v);
    }
    security_headers(secure, &path, &mut resp);
    resp
}

/// Refuses a declared body over the limit before reading any of it; bodies without a
/// declared length are cut off by the extractors at the same limit.
async fn guard_body_size<S: Store>(st: &AppState<S>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > st.web.body_limit as u64) {
        return Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "送信された内容が大きすぎます。",
        )
        .into_response();
    }
    next.run(req).await
}

/// A framework-made error (no route, wrong method, a rejected header) gets the same
/// Japanese body and stable code as ours.
fn fill_error_body(resp: Response) -> Response {
    let status = resp.status();
    // Ours carry `FailureInfo`, or are pages re-shown with their messages (HTML).
    let ours = resp.extensions().get::<FailureInfo>().is_some()
        || resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html") || v.contains("json"));
    if !(status.is_client_error() || status.is_server_error()) || ours {
        return resp;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (
            "not_found",
            "お探しのページまたはデータは見つかりませんでした。",
        ),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method_not_allowed", "この操作はこのページでは行えません。")
        }
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "送信された内容が大きすぎます。"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "送信された内容の形式に対応していません。",
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "request_timeout",
            "時間内に処理が終わりませんでした。もう一度お試しください。",
        ),
        s if s.is_server_error() => (
            "internal_error",
            "システムで問題が発生しました。お手数ですが、表示されている操作IDを添えて管理者にお問い合わせください。",
        ),
        _ => ("bad_request", "リクエストの内容が正しくありません。"),
    };
    let mut f = Failure::new(status, code, message);
    // Keep headers the framework set for a reason (Allow on 405).
    let allow = resp.headers().get(header::ALLOW).cloned();
    f.operation_id = operation_id();
    let mut r = f.into_response();
    if let Some(a) = allow {
        r.headers_mut().insert(header::ALLOW, a);
    }
    r
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

fn security_headers(secure: bool, path: &str, resp: &mut Response) {
    let h = resp.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    };
    set(h, "content-security-policy", CSP);
    set(h, "x-content-type-options", "nosniff");
    // `same-origin`, not `no-referrer`: under `no-referrer` browsers send `Origin: null` even
    // on same-site form posts, which the CSRF check must refuse.
    set(h, "referrer-policy", "same-origin");
    set(h, "x-frame-options", "DENY");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(h, "cross-origin-resource-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    if secure {
        set(
            h,
            "strict-transport-security",
            "max-age=63072000; includeSubDomains",
        );
    }
    // Everything but the versioned static files may carry personal data: never cache it.
    if path.starts_with("/static/") {
        set(h, "cache-control", "public, max-age=86400");
    } else {
        set(h, "cache-control", "no-store");
        set(h, "pragma", "no-cache");
    }
}

/// State-changing methods need the CSRF checks; the rest must not change anything.
pub fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}
