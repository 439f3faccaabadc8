//! The case list as a CSV download for Excel (`/cases.csv`, `/api/v1/cases.csv`), in the
//! encodings of [`crate::http::csv`].
//!
//! The case list carries case-level information only, what the case page shows everyone
//! who may see the case (who, where, which path, the state and the next task); never the
//! content of a category such as the physician's opinion. A file travels further than a
//! page.

use axum::extract::State;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use ryoritsu_app::access::ports::CaseCursor;
use ryoritsu_app::accounts::Authenticated;
use ryoritsu_app::ports::Store;
use ryoritsu_domain::time_format::japan_date;
use ryoritsu_domain::wareki;
use time::Date;

use super::api::ListQuery;
use crate::http::csv::{CsvEncoding, disposition, download, encode};
use crate::http::extract::QueryParams;
use crate::http::failure::{ErrorBody, Failure};
use crate::http::session::{Ctx, User};
use crate::{Access, AppState, RouteTable};

/// The columns of the case list.
pub const CASE_HEADINGS: [&str; 12] = [
    "事例ID",
    "本人氏名",
    "勤務先",
    "支援の種類",
    "状況",
    "申出日（和暦）",
    "申出日（西暦）",
    "次の手続き",
    "次の手続きの期限（和暦）",
    "期限超過",
    "終了時の結果",
    "最終更新日（和暦）",
];

fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Cases per file at most: a file is one page of the list (a larger set is narrowed by
/// status, or fetched page by page through the API's `after`).
pub const MAX_ROWS: u32 = 1_000;

/// One row per case of the page the principal asked for, newest first, and the cursor of
/// the next page.
async fn case_rows<S: Store>(
    st: &AppState<S>,
    auth: &Authenticated,
    q: &CsvListQuery,
    today: Date,
) -> Result<(Vec<Vec<String>>, Option<CaseCursor>), Failure> {
    let (filter, after, limit) = ListQuery {
        status: q.status.clone(),
        after: q.after.clone(),
        limit: Some(q.limit.unwrap_or(MAX_ROWS).min(MAX_ROWS)),
    }
    .parse()?;
    let page = st
        .app
        .visible_cases(auth, filter, after, limit)
        .await
        .map_err(Failure::from)?;
    let mut rows = Vec::with_capacity(page.items.len());
    for (loaded, _) in &page.items {
        let c = &loaded.case;
        let s = &c.state;
        // Who takes part, and the tasks, are what the case page shows everyone who may
        // see the case.
        let details = st
            .app
            .case_details(auth, c.id)
            .await
            .map_err(Failure::from)?;
        let people = st
            .app
            .case_people_names(auth, c.id)
            .await
            .map_err(Failure::from)?;
        let orgs = st
            .app
            .case_organisation_names(auth, c.id)
            .await
            .map_err(Failure::from)?;
        let next = details
            .tasks
            .iter()
            .filter(|t| t.closed_at.is_none())
            .min_by_key(|t| t.due);
        rows.push(vec![
            c.id.to_string(),
            people.get(&c.worker_id).cloned().unwrap_or_default(),
            orgs.get(&c.employer_id).cloned().unwrap_or_default(),
            s.path.label().to_owned(),
            s.status.label().to_owned(),
            s.requested_on.map(wareki::format).unwrap_or_default(),
            s.requested_on.map(iso).unwrap_or_default(),
            next.map(|t| format!("{}（{}）", t.kind.label(), t.assignee_role.label()))
                .unwrap_or_default(),
            next.map(|t| wareki::format(t.due)).unwrap_or_default(),
            if next.is_some_and(|t| t.due < today) {
                "期限超過".to_owned()
            } else {
                String::new()
            },
            s.outcome.map(|o| o.label().to_owned()).unwrap_or_default(),
            wareki::format(japan_date(c.updated_at)),
        ]);
    }
    Ok((rows, page.next))
}

/// What a CSV download asks for: the encoding, and the page of the list.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CsvListQuery {
    /// `utf8` (default) or `cp932`.
    #[serde(default)]
    pub encoding: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

async fn case_list_csv<S: Store>(
    st: &AppState<S>,
    ctx: &ryoritsu_app::RequestContext,
    auth: &Authenticated,
    q: &CsvListQuery,
    path: &str,
) -> Response {
    let encoding = match CsvEncoding::from_param(q.encoding.as_deref()) {
        Ok(e) => e,
        Err(f) => return f.into_response(),
    };
    let today = st.app.today();
    let (rows, next) = match case_rows(st, auth, q, today).await {
        Ok(r) => r,
        Err(f) => return f.into_response(),
    };
    match encode(&CASE_HEADINGS, &rows, encoding) {
        Ok(bytes) => {
            // A list of people in support leaves the system: recorded first (fail closed).
            if let Err(e) = st
                .app
                .record_export(ctx, auth, "cases.csv", rows.len())
                .await
            {
                return Failure::from(e).into_response();
            }
            let mut resp = download(
                bytes,
                encoding,
                &disposition("両立支援事例一覧", "ryoritsu_cases", today),
            );
            // The next page, as a link relation (RFC 8288).
            if let Some(n) = next {
                let mut link = format!("{path}?encoding={}", encoding.param());
                if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
                    link.push_str(&format!("&status={s}"));
                }
                link.push_str(&format!("&after={}", n.token()));
                if let Ok(v) = HeaderValue::from_str(&format!("<{link}>; rel=\"next\"")) {
                    resp.headers_mut().insert(header::LINK, v);
                }
            }
            resp
        }
        Err(e) => e.into_failure().into_response(),
    }
}

/// The cases the caller takes part in as a CSV file (columns in Japanese, dates in 和暦
/// and 西暦), for Excel. Only case-level information: no category content. `encoding=cp932`
/// gives Shift_JIS (Windows-31J); a name it cannot hold is refused with 422.
#[utoipa::path(get, path = "/api/v1/cases.csv", tag = "cases",
    params(("encoding" = Option<String>, Query, description = "`utf8`（標準、BOM付き）または `cp932`（Shift_JIS）"),
        ("status" = Option<String>, Query, description = "状況のコード"),
        ("after" = Option<String>, Query, description = "前のファイルの `Link: rel=\"next\"` が示す続き"),
        ("limit" = Option<u32>, Query, description = "1ファイルの件数（1〜1000、既定1000）")),
    responses(
        (status = 200, description = "the case list (text/csv; UTF-8 with BOM, or Shift_JIS)", content_type = "text/csv", body = String),
        (status = 400, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "characters Shift_JIS cannot hold")))]
pub async fn api_cases_csv<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    QueryParams(q): QueryParams<CsvListQuery>,
) -> Response {
    case_list_csv(&st, &ctx, &auth, &q, "/api/v1/cases.csv").await
}

async fn page_cases_csv<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    QueryParams(q): QueryParams<CsvListQuery>,
) -> Response {
    case_list_csv(&st, &ctx, &auth, &q, "/cases.csv").await
}

pub(super) fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    t.add(
        Method::GET,
        "/cases.csv",
        Access::SignedIn,
        "ViewCase (each)",
        page_cases_csv::<S>,
    )
    .add(
        Method::GET,
        "/api/v1/cases.csv",
        Access::SignedIn,
        "ViewCase (each)",
        api_cases_csv::<S>,
    )
}
