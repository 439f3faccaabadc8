//! The plumbing every area shares: the route table and its access entries, sessions and
//! CSRF, the per-request context and security headers, extractors, failures, the page
//! layout and helpers, the JSON API's helpers, CSV encoding, the OpenAPI document, the
//! home page's task sources, and the static files.

pub mod api;
mod assets;
pub mod context;
pub mod csv;
pub mod extract;
pub mod failure;
pub mod fhir_errors;
pub mod home;
pub mod openapi;
pub mod page;
pub mod routes;
pub(crate) mod session;

use ryoritsu_app::ports::Store;

use crate::RouteTable;

/// The plumbing's own routes: the static files and the OpenAPI document.
pub fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    let t = assets::routes(t);
    openapi::routes(t)
}
