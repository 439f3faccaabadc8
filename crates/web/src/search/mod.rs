//! Search pages and API for staff: cases by a name in kanji or kana, the status, the date the
//! case was opened, and words in what the person may read (documents, consultation notes).
//!
//! What is found, counted and quoted is decided in the use case ([`App::search`]) through
//! the access policy; this module only reads the form or query string and shows the answer.
//! Excerpts arrive as plain and marked pieces: the page escapes each piece and wraps the
//! marked ones in `<mark>`, the API returns them as they are.

use askama::Template;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use ryoritsu_app::ports::Store;
use ryoritsu_app::search::{SearchInput, SearchResult, SearchResults, Snippet};
use ryoritsu_app::{App, AppError};
use ryoritsu_domain::FieldError;
use ryoritsu_domain::case::CaseStatus;
use ryoritsu_domain::policy::Denial;
use serde::{Deserialize, Serialize};
use time::UtcOffset;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::extract::QueryParams;
use crate::http::failure::{ErrorBody, Failure};
use crate::http::page::{Layout, jp_date, render};
use crate::http::session::{Csrf, Ctx, User};
use crate::{Access, AppState, RouteTable};

const MAY_NOT_SEARCH: &str = "検索を使えるのは、人事労務担当者・産業保健スタッフ・医療機関や支援機関の担当者など、事例に関わる方です。";

/// The query string of the page and the API.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to look for in what you may read (documents, consultation notes, names,
    /// workplaces). Up to 100 characters; spaces separate words that must all appear.
    #[serde(default)]
    pub q: Option<String>,
    /// The worker's name in kanji or kana (フリガナ).
    #[serde(default)]
    pub name: Option<String>,
    /// Case status code (see `/api/v1/categories` for the codes).
    #[serde(default)]
    pub status: Option<String>,
    /// Cases opened on or after this day: `YYYY-MM-DD` or 和暦 (令和8年4月1日).
    #[serde(default)]
    pub from: Option<String>,
    /// Cases opened on or before this day.
    #[serde(default)]
    pub to: Option<String>,
    /// 1-based page of 20 results.
    #[serde(default)]
    pub page: Option<String>,
}

impl SearchParams {
    fn input(&self) -> SearchInput {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        SearchInput {
            q: s(&self.q),
            name: s(&self.name),
            status: s(&self.status),
            from: s(&self.from),
            to: s(&self.to),
            page: s(&self.page),
        }
    }

    fn is_empty(&self) -> bool {
        [&self.q, &self.name, &self.status, &self.from, &self.to]
            .iter()
            .all(|v| v.as_deref().is_none_or(|s| s.trim().is_empty()))
    }
}

/// Refusals in this feature's words; bad input is a 400 (a malformed search, not a form
/// that failed its rules).
fn failure(e: AppError) -> Failure {
    match e {
        AppError::Invalid(_) => {
            let mut f = Failure::from(e);
            f.status = StatusCode::BAD_REQUEST;
            f.code = "invalid_search".into();
            f.message = "検索条件を確認してください。".into();
            f
        }
        AppError::Denied(Denial::Forbidden) => {
            let mut f = Failure::from(e);
            f.message = MAY_NOT_SEARCH.into();
            f
        }
        other => Failure::from(other),
    }
}

fn jst_date(t: time::OffsetDateTime) -> time::Date {
    t.to_offset(UtcOffset::from_hms(9, 0, 0).unwrap_or(UtcOffset::UTC))
        .date()
}

// ---- API ------------------------------------------------------------------------------

/// A piece of an excerpt; `mark` is true for the words searched for.
#[derive(Serialize, ToSchema)]
pub struct FragmentOut {
    pub text: String,
    pub mark: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SnippetOut {
    /// `name` (the worker's name and reading), `workplace`, `document` or `note`.
    pub source: String,
    /// The document's or note's id.
    pub source_id: Option<Uuid>,
    /// Where the excerpt comes from, in words (the form's name, 相談記録, 氏名, 勤務先).
    pub label: String,
    /// The information category code of the excerpt; none for the name and workplace.
    pub category: Option<String>,
    /// The excerpt: join the texts to read it; highlight those with `mark`.
    pub fragments: Vec<FragmentOut>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResultOut {
    pub case_id: Uuid,
    pub worker_name: String,
    /// Status code and its label.
    pub status: String,
    pub status_label: String,
    /// The day the case was opened (申出日, Japan time), `YYYY-MM-DD`.
    pub opened_on: String,
    /// The rank: the weighted number of places the words were found (0 without `q`).
    pub score: i64,
    pub snippets: Vec<SnippetOut>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchOut {
    /// How many cases match, among those the caller may see: all of them when
    /// `total_complete`, otherwise at least this many (a common word is counted one page
    /// ahead of the page asked for; a list by status or dates up to 2,000).
    pub total: i64,
    pub total_complete: bool,
    /// False when the search stopped after examining the newest 5,000 of the caller's
    /// cases within the filters: narrow the dates or the status to search older cases.
    pub searched_all: bool,
    pub page: u32,
    pub per_page: u32,
    /// The newest case first (申出日), then the case id.
    pub results: Vec<SearchResultOut>,
}

/// 「12件」, or 「2,000件以上」 where the count stopped.
fn total_label(total: i64, complete: bool) -> String {
    let (n, more) = (total, if complete { "" } else { "以上" });
    // Digits grouped by three, as Japanese business documents write numbers.
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{grouped}件{more}")
}

fn snippet_out(s: &Snippet) -> SnippetOut {
    SnippetOut {
        source: s.kind.into(),
        source_id: s.id,
        label: s.label.clone(),
        category: s.category.map(|c| c.code().to_owned()),
        fragments: s
            .fragments
            .iter()
            .map(|f| FragmentOut {
                text: f.text.clone(),
                mark: f.mark,
            })
            .collect(),
    }
}

fn search_out(r: &SearchResults) -> SearchOut {
    SearchOut {
        total: r.total,
        total_complete: r.total_complete,
        searched_all: r.searched_all,
        page: r.page,
        per_page: r.per_page,
        results: r
            .results
            .iter()
            .map(|x| SearchResultOut {
                case_id: x.case_id,
                worker_name: x.worker_name.clone(),
                status: x.status.code().into(),
                status_label: x.status.label().into(),
                opened_on: jst_date(x.opened_at).to_string(),
                score: x.score,
                snippets: x.snippets.iter().map(snippet_out).collect(),
            })
            .collect(),
    }
}

/// Search cases, for staff who take part in cases. Only cases the caller may see are
/// matched, counted and returned, and words are matched only in what the caller may read
/// (a diagnosis is found only with the worker's consent). Excerpts of health information are
/// recorded in the access log. 400 on a malformed search (page out of range, a date that
/// cannot be read, a query over 100 characters).
#[utoipa::path(get, path = "/api/v1/search", tag = "search",
    params(SearchParams),
    responses((status = 200, body = SearchOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn api_search<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    QueryParams(p): QueryParams<SearchParams>,
) -> Response {
    match st.app.search(&ctx, &auth, &p.input()).await {
        Ok(r) => (StatusCode::OK, axum::Json(search_out(&r))).into_response(),
        Err(e) => failure(e).into_response(),
    }
}

// ---- page -----------------------------------------------------------------------------

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct ResultRow {
    pub case_id: Uuid,
    pub worker_name: String,
    pub status: String,
    pub opened_on: String,
    pub snippets: Vec<SnippetOut>,
}

pub struct PageLink {
    pub number: u32,
    pub href: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "search/search.html")]
struct SearchPage {
    layout: Layout,
    q: String,
    name: String,
    from: String,
    to: String,
    statuses: Vec<Choice>,
    errors: Vec<FieldError>,
    searched: bool,
    /// 「12件」, or 「2,000件以上」 beyond what is counted.
    total: String,
    /// The search stopped at its budget of cases before the oldest.
    narrow: bool,
    scan_budget: u32,
    results: Vec<ResultRow>,
    pages: Vec<PageLink>,
    prev: Option<String>,
    next: Option<String>,
}

impl SearchPage {
    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }
}

fn row(r: &SearchResult) -> ResultRow {
    ResultRow {
        case_id: r.case_id,
        worker_name: r.worker_name.clone(),
        status: r.status.label().into(),
        opened_on: jp_date(jst_date(r.opened_at)),
        snippets: r.snippets.iter().map(snippet_out).collect(),
    }
}

/// The page's own link for page `n` with the same conditions.
fn page_href(p: &SearchParams, n: u32) -> String {
    let enc = |s: &Option<String>| {
        percent_encoding::utf8_percent_encode(
            s.as_deref().unwrap_or(""),
            percent_encoding::NON_ALPHANUMERIC,
        )
        .to_string()
    };
    format!(
        "/search?q={}&name={}&status={}&from={}&to={}&page={n}",
        enc(&p.q),
        enc(&p.name),
        enc(&p.status),
        enc(&p.from),
        enc(&p.to)
    )
}

async fn page<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    Csrf(csrf): Csrf,
    User(auth): User,
    QueryParams(p): QueryParams<SearchParams>,
) -> Response {
    let app: &App<S> = &st.app;
    let status_now = p.status.clone().unwrap_or_default();
    let mut page = SearchPage {
        layout: Layout::new(&st, "検索", &csrf, Some(&auth), "/search"),
        q: p.q.clone().unwrap_or_default(),
        name: p.name.clone().unwrap_or_default(),
        from: p.from.clone().unwrap_or_default(),
        to: p.to.clone().unwrap_or_default(),
        statuses: CaseStatus::ALL
            .iter()
            .filter(|s| **s != CaseStatus::NotRequested)
            .map(|s| Choice {
                value: s.code().into(),
                label: s.label().into(),
                selected: s.code() == status_now,
            })
            .collect(),
        errors: Vec::new(),
        searched: false,
        total: String::new(),
        narrow: false,
        scan_budget: ryoritsu_app::search::ports::SCAN_BUDGET,
        results: Vec::new(),
        pages: Vec::new(),
        prev: None,
        next: None,
    };
    if !ryoritsu_app::search::may_search(&auth) {
        return failure(AppError::Denied(Denial::Forbidden)).into_response();
    }
    if p.is_empty() {
        return render(&page);
    }
    match app.search(&ctx, &auth, &p.input()).await {
        Ok(r) => {
            page.searched = true;
            page.total = total_label(r.total, r.total_complete);
            page.narrow = !r.searched_all;
            page.results = r.results.iter().map(row).collect();
            let last = r.pages();
            page.pages = (1..=last)
                .filter(|n| n.abs_diff(r.page) <= 4 || *n == 1 || *n == last)
                .map(|n| PageLink {
                    number: n,
                    href: page_href(&p, n),
                    current: n == r.page,
                })
                .collect();
            page.prev = (r.page > 1).then(|| page_href(&p, r.page - 1));
            page.next = (r.page < last).then(|| page_href(&p, r.page + 1));
            render(&page)
        }
        Err(AppError::Invalid(e)) => {
            page.errors = e.errors;
            let mut resp = render(&page);
            *resp.status_mut() = StatusCode::BAD_REQUEST;
            resp
        }
        Err(e) => failure(e).into_response(),
    }
}

pub fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    use Method as M;
    t.add(
        M::GET,
        "/api/v1/search",
        Access::SignedIn,
        "staff roles; results through case_access (ViewCase, ViewCaseCategory)",
        api_search::<S>,
    )
    .add(
        M::GET,
        "/search",
        Access::SignedIn,
        "staff roles; results through case_access (ViewCase, ViewCaseCategory)",
        page::<S>,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn totals_read_as_people_write_them() {
        assert_eq!(super::total_label(0, true), "0件");
        assert_eq!(super::total_label(12, true), "12件");
        assert_eq!(super::total_label(1_234, true), "1,234件");
        assert_eq!(super::total_label(20, false), "20件以上");
        assert_eq!(super::total_label(2_000, false), "2,000件以上");
    }
}
