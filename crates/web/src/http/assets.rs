//! Static files, embedded in the binary (no CDN: the server works on a closed network).

use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use ryoritsu_app::ports::Store;

use crate::{Access, RouteTable};

const CSS: &str = include_str!("../../../../assets/static/app.css");
/// htmx 2.0.11, from the npm package `htmx.org` (BSD-2-Clause, see htmx.LICENSE).
const HTMX: &str = include_str!("../../../../assets/static/htmx.min.js");

fn with_type(body: &'static str, ty: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ty));
    r
}

async fn css() -> Response {
    with_type(CSS, "text/css; charset=utf-8")
}

async fn htmx() -> Response {
    with_type(HTMX, "text/javascript; charset=utf-8")
}

pub(super) fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    t.add(
        Method::GET,
        "/static/app.css",
        Access::Public,
        "static file",
        css,
    )
    .add(
        Method::GET,
        "/static/htmx.min.js",
        Access::Public,
        "static file",
        htmx,
    )
}
