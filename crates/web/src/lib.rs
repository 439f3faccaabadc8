//! Ryoritsu's HTTP face: Japanese pages (askama + htmx), the JSON API under `/api/v1` with
//! its OpenAPI document, sessions, CSRF and security headers.
//!
//! The code is one folder per area — [`accounts`], [`cases`], [`hospital`], [`search`],
//! [`fhir`] — each with one `routes` that adds its pages and its API, over the shared
//! plumbing in [`http`]. An area names no other area: a link to another area's page is a
//! URL. Every route is added through [`RouteTable`] with its [`Access`] entry, so a route
//! without a policy entry cannot exist; tests walk [`RouteTable::entries`].

pub mod accounts;
pub mod cases;
pub mod fhir;
pub mod hospital;
pub mod http;
pub mod search;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::{Extension, Router};
use ryoritsu_app::App;
use ryoritsu_app::ports::Store;

pub use http::routes::{RouteEntry, RouteTable};
pub use http::session::Access;

use http::{context, failure, session};

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

/// Every route of the server.
pub fn routes<S: Store>() -> RouteTable<S> {
    let t = RouteTable::new();
    let t = accounts::routes(t);
    let t = cases::routes(t);
    let t = search::routes(t);
    let t = hospital::routes(t);
    let t = fhir::routes(t);
    http::routes(t)
}

/// The whole application.
pub fn router<S: Store>(state: AppState<S>) -> Router {
    let (router, home_tasks) = routes::<S>().into_parts();
    let limit = state.web.body_limit;
    router
        .fallback(fallback)
        .layer(Extension(Arc::new(home_tasks)))
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
