//! 「わたしの情報」: the worker's own view of who saw or handled their information, with the
//! 開示 download.

use askama::Template;
use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use ryoritsu_app::ports::Store;
use ryoritsu_app::records::AccessLogEntry;
use ryoritsu_domain::audit::AuditAction;

use crate::http::extract::QueryParams;
use crate::http::failure::Failure;
use crate::http::page::{Layout, jp_datetime, render};
use crate::http::session::{Csrf, User};
use crate::{Access, AppState, RouteTable};

pub struct LogRow {
    pub at: String,
    pub who: String,
    pub what: String,
    pub case_id: String,
    pub denied: bool,
}

/// A sentence-like description of an entry, as the worker reads it.
fn describe(e: &AccessLogEntry) -> String {
    let category = e.category.map(|c| format!("「{}」", c.label()));
    match (e.action, category) {
        (AuditAction::Read, Some(c)) => format!("{c}を閲覧しました"),
        (AuditAction::Disclosed, Some(c)) => format!("{c}の提供を受けました（第三者提供）"),
        (AuditAction::DocumentSaved, Some(c)) => format!("{c}の書類を保存しました"),
        (AuditAction::DocumentFinalised, Some(c)) => format!("{c}の書類を確定しました"),
        (AuditAction::AccessDenied, _) => "閲覧しようとしましたが、許可されませんでした".into(),
        (a, _) => format!("{}を行いました", a.label()),
    }
}

#[derive(Template)]
#[template(path = "cases/me_records.html")]
struct RecordsPage {
    layout: Layout,
    rows: Vec<LogRow>,
    /// The page of older entries, when there are more.
    older: Option<String>,
    /// Whether this page is not the newest.
    later: bool,
    /// Whether the worker's own reads are listed.
    own: bool,
    corrections: Vec<super::corrections::MyCorrectionRow>,
    correction_links: Vec<super::corrections::CorrectionLink>,
}

/// Access log entries on one page of わたしの情報.
const LOG_PER_PAGE: u32 = 100;

async fn records<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    User(auth): User,
    QueryParams(q): QueryParams<super::api::AccessLogQuery>,
) -> Response {
    let (before, limit) = match q.parse(LOG_PER_PAGE) {
        Ok(x) => x,
        Err(f) => return f.into_response(),
    };
    let own = q.own();
    let page = match st.app.access_log_page(&auth, before, limit, own).await {
        Ok(p) => p,
        Err(e) => return Failure::from(e).into_response(),
    };
    let own_param = if own { "&own=1" } else { "" };
    let older = page
        .next
        .map(|n| format!("/me/records?before={n}{own_param}"));
    let later = before.is_some();
    let log = page.items;
    let (corrections, correction_links) =
        match super::corrections::my_corrections(&st.app, &auth).await {
            Ok(c) => c,
            Err(e) => return Failure::from(e).into_response(),
        };
    let rows = log
        .iter()
        .map(|e| {
            let mut who = e.actor_name.clone().unwrap_or_else(|| "システム".into());
            if let Some(role) = e.actor_role {
                who.push_str(&format!("（{}", role.label()));
                if let Some(org) = &e.organisation {
                    who.push_str(&format!("・{org}"));
                }
                who.push('）');
            }
            LogRow {
                at: jp_datetime(e.at),
                who,
                what: describe(e),
                case_id: e.case_id.to_string(),
                denied: e.action == AuditAction::AccessDenied,
            }
        })
        .collect();
    render(&RecordsPage {
        layout: Layout::new(&st, "わたしの情報", &csrf, Some(&auth), "/me/records"),
        rows,
        older,
        later,
        own,
        corrections,
        correction_links,
    })
}

pub(super) fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    t.add(
        Method::GET,
        "/me/records",
        Access::SignedIn,
        "own cases only",
        records::<S>,
    )
}
