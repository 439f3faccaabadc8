//! Ryoritsu's HTTP face: Japanese pages (askama + htmx), the JSON API under `/api/v1` with
//! its OpenAPI document, sessions, CSRF and security headers.
//!
//! Every route is added through [`RouteTable::add`] with its [`Access`] entry, so a route
//! without a policy entry cannot exist; tests walk [`RouteTable::entries`].

pub mod api;
pub mod api_cases;
mod assets;
pub mod attachments;
pub mod context;
pub mod corrections;
pub mod csv_export;
pub mod extract;
pub mod failure;
pub mod fhir;
pub mod form_html;
pub mod guidance;
pub mod pages;
pub mod pages_cases;
pub mod pages_me;
pub mod pages_settings;
pub mod printing;
pub mod search;
mod session;
pub mod support_tasks;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodRouter, on};
use ryoritsu_app::App;
use ryoritsu_app::ports::Store;

pub use session::Access;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Served over TLS (directly or behind a TLS-terminating proxy): `__Host-` Secure
    /// cookies and HSTS.
    pub secure_cookies: bool,
    /// The public origin (`https://ryoritsu.example.jp`), for the Origin check and links.
    /// Without it, the request's Host is the reference.
    pub public_origin: Option<String>,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            public_origin: None,
            body_limit: 1024 * 1024,
            trust_forwarded_for: false,
        }
    }
}

pub struct AppState<S: Store> {
    pub app: App<S>,
    pub web: Arc<WebConfig>,
    /// Server secret for signing pre-session CSRF tokens.
    pub secret: Arc<[u8; 32]>,
}

impl<S: Store> Clone for AppState<S> {
    fn clone(&self) -> Self {
        AppState {
            app: self.app.clone(),
            web: self.web.clone(),
            secret: self.secret.clone(),
        }
    }
}

/// One route and who may reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntry {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    /// The domain policy action the handler asks for, in words (for the docs and review).
    pub policy: &'static str,
}

pub struct RouteTable<S: Store> {
    router: Router<AppState<S>>,
    entries: Vec<RouteEntry>,
}

impl<S: Store> RouteTable<S> {
    fn new() -> Self {
        RouteTable {
            router: Router::new(),
            entries: Vec::new(),
        }
    }

    /// Adds an upload route: like [`RouteTable::add`], with room for one scan in the body.
    fn add_upload<H, T>(
        mut self,
        path: &'static str,
        access: Access,
        policy: &'static str,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState<S>>,
        T: 'static,
    {
        let mr: MethodRouter<AppState<S>> = on(axum::routing::MethodFilter::POST, handler).layer(
            axum::middleware::from_fn(move |req, next| session::enforce(access, req, next)),
        );
        let mr = mr.layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT));
        self.router = self.router.route(path, mr);
        self.entries.push(RouteEntry {
            method: Method::POST,
            path,
            access,
            policy,
        });
        self
    }

    /// Adds a route with its access entry; the access check runs before the handler.
    fn add<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        access: Access,
        policy: &'static str,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState<S>>,
        T: 'static,
    {
        let filter = match method {
            Method::GET => axum::routing::MethodFilter::GET,
            Method::POST => axum::routing::MethodFilter::POST,
            Method::DELETE => axum::routing::MethodFilter::DELETE,
            Method::PUT => axum::routing::MethodFilter::PUT,
            Method::PATCH => axum::routing::MethodFilter::PATCH,
            _ => axum::routing::MethodFilter::GET,
        };
        let mr: MethodRouter<AppState<S>> =
            on(filter, handler).layer(axum::middleware::from_fn(move |req, next| {
                session::enforce(access, req, next)
            }));
        self.router = self.router.route(path, mr);
        self.entries.push(RouteEntry {
            method,
            path,
            access,
            policy,
        });
        self
    }

    pub fn entries(&self) -> &[RouteEntry] {
        &self.entries
    }
}

/// The body limit of upload routes: one scan and the form around it.
pub const UPLOAD_BODY_LIMIT: usize = ryoritsu_domain::attachment::MAX_SCAN_BYTES + 64 * 1024;

/// Every route of the server.
pub fn routes<S: Store>() -> RouteTable<S> {
    let t = RouteTable::new();
    let t = pages::routes(t);
    let t = api::routes(t);
    let t = api_cases::routes(t);
    let t = pages_cases::routes(t);
    let t = pages_me::routes(t);
    let t = attachments::routes(t);
    let t = corrections::routes(t);
    let t = csv_export::routes(t);
    let t = support_tasks::routes(t);
    let t = printing::routes(t);
    let t = pages_settings::routes(t);
    let t = search::routes(t);
    let t = guidance::routes(t);
    let t = fhir::routes(t);
    assets::routes(t)
}

/// The whole application.
pub fn router<S: Store>(state: AppState<S>) -> Router {
    let table = routes::<S>();
    let limit = state.web.body_limit;
    table
        .router
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::session_layer::<S>,
        ))
        .layer(DefaultBodyLimit::max(limit))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(on_panic))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            context::outer::<S>,
        ))
        .with_state(state)
}

async fn fallback() -> failure::Failure {
    failure::Failure::not_found()
}

fn on_panic(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    failure::Failure::internal("handler panicked").into_response()
}
