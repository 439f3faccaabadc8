//! The route table: every route is added with its [`Access`] entry, so a route without a
//! policy entry cannot exist; tests walk [`RouteTable::entries`]. Areas also register here
//! what they put on the home page.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, on};
use ryoritsu_app::ports::Store;

use crate::AppState;
use crate::http::home::{HomeTaskSource, HomeTasks};
use crate::http::session::{self, Access};

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
    home_tasks: Vec<HomeTaskSource<S>>,
}

impl<S: Store> RouteTable<S> {
    pub(crate) fn new() -> Self {
        RouteTable {
            router: Router::new(),
            entries: Vec::new(),
            home_tasks: Vec::new(),
        }
    }

    /// Adds an upload route: like [`RouteTable::add`], with room for one scan in the body.
    pub(crate) fn add_upload<H, T>(
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
    pub(crate) fn add<H, T>(
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

    /// Adds a source of tasks for the home page; the page lists the sources' tasks in the
    /// order they were added.
    pub fn home_tasks(mut self, source: HomeTaskSource<S>) -> Self {
        self.home_tasks.push(source);
        self
    }

    pub fn entries(&self) -> &[RouteEntry] {
        &self.entries
    }

    /// The routes, and the home page's task sources for the router to hand to the page.
    /// A page address that only takes a form post (a step, a 確定, a withdrawal) answers a
    /// GET, as after a reload or going back, with the nearest page above it instead of 405
    /// ([`nearest_page`]).
    pub(crate) fn into_parts(self) -> (Router<AppState<S>>, HomeTasks<S>) {
        let pages: Arc<Vec<&'static str>> = Arc::new(
            self.entries
                .iter()
                .filter(|e| e.method == Method::GET && is_page(e.path))
                .map(|e| e.path)
                .collect(),
        );
        let router = self
            .router
            .layer(axum::middleware::from_fn(move |req, next| {
                no_dead_end(pages.clone(), req, next)
            }));
        (router, HomeTasks::new(self.home_tasks))
    }
}

/// Pages, as against the JSON API and FHIR (whose clients get the 405 they asked for).
fn is_page(path: &str) -> bool {
    !path.starts_with("/api/") && !path.starts_with("/fhir/")
}

async fn no_dead_end(
    pages: Arc<Vec<&'static str>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let get = matches!(*req.method(), Method::GET | Method::HEAD);
    let path = req.uri().path().to_owned();
    let resp = next.run(req).await;
    if get && resp.status() == axum::http::StatusCode::METHOD_NOT_ALLOWED && is_page(&path) {
        let to = nearest_page(&pages, &path);
        return axum::response::Redirect::to(&to).into_response();
    }
    resp
}

/// The longest leading part of `path` that is a page (`templates` are the GET pages'
/// route paths, `{…}` matching any one segment), or the home page.
pub fn nearest_page(templates: &[&str], path: &str) -> String {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    for n in (2..segments.len()).rev() {
        let candidate = &segments[..n];
        let matches = |t: &&str| {
            let parts: Vec<&str> = t.split('/').collect();
            parts.len() == candidate.len()
                && parts
                    .iter()
                    .zip(candidate)
                    .all(|(p, c)| (p.starts_with('{') && !c.is_empty()) || p == c)
        };
        if templates.iter().any(matches) {
            return candidate.join("/");
        }
    }
    "/".to_owned()
}

/// The body limit of upload routes: one scan and the form around it.
pub const UPLOAD_BODY_LIMIT: usize = ryoritsu_domain::attachment::MAX_SCAN_BYTES + 64 * 1024;

#[cfg(test)]
mod tests {
    use super::nearest_page;

    #[test]
    fn a_post_only_address_leads_to_the_page_above_it() {
        let pages = [
            "/",
            "/cases",
            "/cases/{id}",
            "/cases/{id}/consents",
            "/cases/{id}/documents/{document}",
        ];
        for (path, to) in [
            ("/cases/abc/steps", "/cases/abc"),
            (
                "/cases/abc/documents/d1/finalise",
                "/cases/abc/documents/d1",
            ),
            ("/cases/abc/consents/c1/withdraw", "/cases/abc/consents"),
            ("/cases/abc/share-code", "/cases/abc"),
            ("/sign-out", "/"),
        ] {
            assert_eq!(nearest_page(&pages, path), to, "{path}");
        }
    }
}
