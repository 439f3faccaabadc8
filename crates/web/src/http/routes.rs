//! The route table: every route is added with its [`Access`] entry, so a route without a
//! policy entry cannot exist; tests walk [`RouteTable::entries`]. Areas also register here
//! what they put on the home page.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
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
    pub(crate) fn into_parts(self) -> (Router<AppState<S>>, HomeTasks<S>) {
        (self.router, HomeTasks::new(self.home_tasks))
    }
}

/// The body limit of upload routes: one scan and the form around it.
pub const UPLOAD_BODY_LIMIT: usize = ryoritsu_domain::attachment::MAX_SCAN_BYTES + 64 * 1024;
