//! The SQL for the full-text search index (migrations 0010 and 0014).
//!
//! Mirrors the SQLite adapter's statements. Words arrive cut and normalised by the
//! application and are stored as a `tsvector` literal with positions (GIN-indexed); queries
//! arrive as a `tsquery` literal. A search is scoped by the access index: the principal's
//! keys arrive as a text array and a row counts only where one of them may read the row's
//! category of its case at the moment given, or the principal wrote it; the case itself
//! must be one they see. Ranking, totals and excerpts never see anything else.

use ryoritsu_app::error::StoreResult;
use ryoritsu_app::search::ports::{
    MAX_COUNTED, MatchedRow, SCOPE_FIRST_BELOW, SearchHit, SearchQuery, SearchRow, SearchStart,
};
use ryoritsu_domain::case::CaseStatus;
use sqlx::PgConnection;
use sqlx::postgres::{PgArguments, PgRow};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::map_err;
use crate::rows::{code, get, ts};

/// A value bound to the next `$n` of a statement built piece by piece.
enum Arg {
    Text(String),
    Keys(Vec<String>),
    Int(i64),
    At(OffsetDateTime),
    Id(Uuid),
}

fn bind_all(
    mut q: sqlx::query::Query<'_, sqlx::Postgres, PgArguments>,
    args: Vec<Arg>,
) -> sqlx::query::Query<'_, sqlx::Postgres, PgArguments> {
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s),
            Arg::Keys(k) => q.bind(k),
            Arg::Int(i) => q.bind(i),
            Arg::At(t) => q.bind(t),
            Arg::Id(u) => q.bind(u),
        };
    }
    q
}

/// Adds `a` and returns its placeholder.
fn arg(args: &mut Vec<Arg>, a: Arg) -> String {
    args.push(a);
    format!("${}", args.len())
}

/// `s` (a search row) may be read by the principal: they wrote it, or one of `keys` opens
/// its category of its case at `now`.
fn row_visible(q: &SearchQuery, keys: &str, args: &mut Vec<Arg>) -> String {
    let me = arg(args, Arg::Id(q.author));
    let now = arg(args, Arg::At(q.now));
    format!(
        "(s.author = {me} OR EXISTS (SELECT 1 FROM case_grants g \
         WHERE g.case_id = s.case_id AND g.subject = ANY({keys}::text[]) \
         AND g.scope = s.category \
         AND (g.valid_from IS NULL OR g.valid_from <= {now}) \
         AND (g.valid_until IS NULL OR {now} < g.valid_until)))"
    )
}

/// The principal's cases within the query's filters, from the access index: `cand`.
fn scope_cte(q: &SearchQuery, keys: &str, args: &mut Vec<Arg>) -> String {
    let mut sql = format!(
        "cand AS MATERIALIZED (SELECT DISTINCT g.case_id FROM case_grants g \
         WHERE g.subject = ANY({keys}::text[]) AND g.scope = 'case'"
    );
    if let Some(s) = q.status {
        let p = arg(args, Arg::Text(s.code().to_owned()));
        sql.push_str(&format!(" AND g.status = {p}"));
    }
    if let Some(f) = q.from {
        let p = arg(args, Arg::At(f));
        sql.push_str(&format!(" AND g.opened_at >= {p}"));
    }
    if let Some(u) = q.until {
        let p = arg(args, Arg::At(u));
        sql.push_str(&format!(" AND g.opened_at < {p}"));
    }
    sql.push(')');
    sql
}

/// How many of the principal's cases fall within the filters, counted up to `cap`: an
/// index range per key.
async fn count_scope(c: &mut PgConnection, q: &SearchQuery, cap: i64) -> StoreResult<i64> {
    let mut args = Vec::new();
    let keys = arg(&mut args, Arg::Keys(q.keys.clone()));
    let cand = scope_cte(q, &keys, &mut args);
    let cap = arg(&mut args, Arg::Int(cap));
    let sql =
        format!("WITH {cand} SELECT count(*) AS n FROM (SELECT 1 FROM cand LIMIT {cap}) AS capped");
    get(
        &bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), args)
            .fetch_one(&mut *c)
            .await
            .map_err(map_err)?,
        "n",
    )
}

/// The statement's body and its arguments: the matching cases with their score and what a
/// result shows. Only fixed SQL text is put together here; every value, the match
/// expressions included, is bound (hence the `AssertSqlSafe` below). `None` when the query
/// has keywords or a name (without either the app lists by the index).
///
/// `scoped`: start from the principal's cases within the filters (`cand`, materialised) and
/// test the words on each of their rows; otherwise start from the rows the GIN index finds
/// for the words.
fn case_query(q: &SearchQuery, scoped: bool) -> (String, Vec<Arg>) {
    let mut args = Vec::new();
    let keys = arg(&mut args, Arg::Keys(q.keys.clone()));
    let mut ctes = Vec::new();
    let rows_from = if scoped {
        ctes.push(scope_cte(q, &keys, &mut args));
        "cand JOIN search_rows s ON s.case_id = cand.case_id WHERE"
    } else {
        "search_rows s WHERE"
    };
    if let Some(words) = &q.words {
        let p = arg(&mut args, Arg::Text(words.tsquery()));
        let visible = row_visible(q, &keys, &mut args);
        ctes.push(format!(
            "kw AS (SELECT s.case_id, SUM(s.weight)::bigint AS score FROM {rows_from} \
             s.words @@ {p}::tsquery AND {visible} GROUP BY s.case_id)"
        ));
    }
    if let Some(name) = &q.name {
        let p = arg(&mut args, Arg::Text(name.tsquery()));
        ctes.push(format!(
            "nm AS (SELECT DISTINCT s.case_id FROM {rows_from} \
             s.words @@ {p}::tsquery AND s.source = 'name')"
        ));
    }
    let (from, score) = match (q.words.is_some(), q.name.is_some()) {
        (true, true) => ("kw JOIN nm ON nm.case_id = kw.case_id", "kw.score"),
        (true, false) => ("kw", "kw.score"),
        _ => ("nm", "0::bigint"),
    };
    let driver = if q.words.is_some() { "kw" } else { "nm" };
    let mut sql = format!(
        "WITH {} SELECT c.id AS id, c.worker_id AS worker_id, c.employer_id AS employer_id, \
         c.status AS status, c.created_at AS created_at, {score} AS score \
         FROM {from} JOIN cases c ON c.id = {driver}.case_id \
         WHERE EXISTS (SELECT 1 FROM case_grants g WHERE g.case_id = c.id \
         AND g.subject = ANY({keys}::text[]) AND g.scope = 'case')",
        ctes.join(", ")
    );
    if let Some(s) = q.status {
        let p = arg(&mut args, Arg::Text(s.code().to_owned()));
        sql.push_str(&format!(" AND c.status = {p}"));
    }
    if let Some(f) = q.from {
        let p = arg(&mut args, Arg::At(f));
        sql.push_str(&format!(" AND c.created_at >= {p}"));
    }
    if let Some(u) = q.until {
        let p = arg(&mut args, Arg::At(u));
        sql.push_str(&format!(" AND c.created_at < {p}"));
    }
    (sql, args)
}

fn hit(r: &PgRow) -> StoreResult<SearchHit> {
    Ok(SearchHit {
        case_id: get(r, "id")?,
        score: get(r, "score")?,
        worker_id: get(r, "worker_id")?,
        employer_id: get(r, "employer_id")?,
        status: code(r, "status", CaseStatus::from_code)?,
        opened_at: ts(r, "created_at")?,
    })
}

pub async fn search_cases(
    c: &mut PgConnection,
    q: &SearchQuery,
) -> StoreResult<(i64, Vec<SearchHit>)> {
    // The page and the total in one pass; a page past the end has no row to carry the
    // total, so only then is it counted on its own (up to MAX_COUNTED). Not kept as
    // prepared statements: a generic plan cannot see how selective the words and the scope
    // are (measured: a status filter went from 0.4 s to 5 s once PostgreSQL switched to the
    // generic plan).
    if q.words.is_none() && q.name.is_none() {
        return Ok((0, Vec::new()));
    }
    // PostgreSQL tests a row's tsvector as cheaply as the GIN index finds it: the number
    // of cases alone decides.
    let scoped = match q.start {
        SearchStart::Words => false,
        SearchStart::Scope => true,
        SearchStart::Cheaper => count_scope(c, q, SCOPE_FIRST_BELOW).await? < SCOPE_FIRST_BELOW,
    };
    let (body, mut args) = case_query(q, scoped);
    let limit = arg(&mut args, Arg::Int(i64::from(q.limit)));
    let offset = arg(&mut args, Arg::Int(i64::from(q.offset)));
    let page_sql = format!(
        "SELECT *, count(*) OVER () AS total FROM ({body}) AS found \
         ORDER BY score DESC, created_at DESC, id LIMIT {limit} OFFSET {offset}"
    );
    let rows = bind_all(
        sqlx::query(sqlx::AssertSqlSafe(page_sql)).persistent(false),
        args,
    )
    .fetch_all(&mut *c)
    .await
    .map_err(map_err)?;
    let hits = rows.iter().map(hit).collect::<StoreResult<Vec<_>>>()?;
    let total: i64 = match rows.first() {
        Some(r) => get::<i64>(r, "total")?.min(MAX_COUNTED),
        None if q.offset == 0 => 0,
        None => {
            let (body, mut args) = case_query(q, scoped);
            let cap = arg(&mut args, Arg::Int(MAX_COUNTED));
            let count_sql = format!(
                "SELECT count(*) AS n FROM (SELECT 1 FROM ({body}) AS found LIMIT {cap}) AS capped"
            );
            get(
                &bind_all(
                    sqlx::query(sqlx::AssertSqlSafe(count_sql)).persistent(false),
                    args,
                )
                .fetch_one(&mut *c)
                .await
                .map_err(map_err)?,
                "n",
            )?
        }
    };
    Ok((total, hits))
}

pub async fn search_hits(c: &mut PgConnection, cases: &[Uuid]) -> StoreResult<Vec<SearchHit>> {
    let rows = sqlx::query(
        "SELECT id, worker_id, employer_id, status, created_at, 0::bigint AS score \
         FROM cases WHERE id = ANY($1)",
    )
    .bind(cases)
    .fetch_all(&mut *c)
    .await
    .map_err(map_err)?;
    let found = rows.iter().map(hit).collect::<StoreResult<Vec<_>>>()?;
    Ok(cases
        .iter()
        .filter_map(|id| found.iter().find(|h| h.case_id == *id).copied())
        .collect())
}

pub async fn search_matched_rows(
    c: &mut PgConnection,
    q: &SearchQuery,
    cases: &[Uuid],
) -> StoreResult<Vec<MatchedRow>> {
    let Some(words) = &q.words else {
        return Ok(Vec::new());
    };
    let m = words.tsquery();
    let mut out = Vec::new();
    for case in cases {
        let mut args = Vec::new();
        let keys = arg(&mut args, Arg::Keys(q.keys.clone()));
        let p = arg(&mut args, Arg::Text(m.clone()));
        let id = arg(&mut args, Arg::Id(*case));
        let visible = row_visible(q, &keys, &mut args);
        let sql = format!(
            "SELECT s.case_id, s.source, s.category, s.body FROM search_rows s \
             WHERE s.words @@ {p}::tsquery AND s.case_id = {id} AND {visible} \
             ORDER BY s.weight DESC, s.source, s.id"
        );
        let rows = bind_all(
            sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false),
            args,
        )
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
        for r in &rows {
            out.push(MatchedRow {
                case_id: get(r, "case_id")?,
                source: get(r, "source")?,
                category: get(r, "category")?,
                body: get(r, "body")?,
            });
        }
    }
    Ok(out)
}

pub async fn count_search_rows(c: &mut PgConnection) -> StoreResult<i64> {
    let r = sqlx::query("SELECT count(*) AS n FROM search_rows")
        .fetch_one(c)
        .await
        .map_err(map_err)?;
    get(&r, "n")
}

async fn insert_row(c: &mut PgConnection, r: &SearchRow) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO search_rows (case_id, source, category, author, weight, body, words) \
         VALUES ($1, $2, $3, $4, $5, $6, $7::tsvector)",
    )
    .bind(r.case_id)
    .bind(&r.source)
    .bind(&r.category)
    .bind(r.author)
    .bind(r.weight)
    .bind(&r.body)
    .bind(r.tsvector())
    .execute(&mut *c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn put_search_row(c: &mut PgConnection, r: &SearchRow) -> StoreResult<()> {
    sqlx::query("DELETE FROM search_rows WHERE case_id = $1 AND source = $2")
        .bind(r.case_id)
        .bind(&r.source)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
    if !r.words.is_empty() {
        insert_row(c, r).await?;
    }
    Ok(())
}

pub async fn replace_search_rows(
    c: &mut PgConnection,
    case: Uuid,
    rows: &[SearchRow],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM search_rows WHERE case_id = $1")
        .bind(case)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
    for r in rows.iter().filter(|r| !r.words.is_empty()) {
        insert_row(c, r).await?;
    }
    Ok(())
}

pub async fn clear_search_rows(c: &mut PgConnection) -> StoreResult<()> {
    sqlx::query("/* full scan: maintenance */ DELETE FROM search_rows")
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
    Ok(())
}

macro_rules! impl_search_reads {
    ($t:ty) => {
        impl ryoritsu_app::search::ports::SearchReads for $t {
            async fn search_cases(
                &mut self,
                q: &ryoritsu_app::search::ports::SearchQuery,
            ) -> ryoritsu_app::StoreResult<(i64, Vec<ryoritsu_app::search::ports::SearchHit>)> {
                $crate::search::search_cases($crate::rows::AsConn::conn(self), q).await
            }
            async fn search_matched_rows(
                &mut self,
                q: &ryoritsu_app::search::ports::SearchQuery,
                cases: &[uuid::Uuid],
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::search::ports::MatchedRow>> {
                $crate::search::search_matched_rows($crate::rows::AsConn::conn(self), q, cases)
                    .await
            }
            async fn search_hits(
                &mut self,
                cases: &[uuid::Uuid],
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::search::ports::SearchHit>> {
                $crate::search::search_hits($crate::rows::AsConn::conn(self), cases).await
            }
            async fn count_search_rows(&mut self) -> ryoritsu_app::StoreResult<i64> {
                $crate::search::count_search_rows($crate::rows::AsConn::conn(self)).await
            }
        }
    };
}
pub(crate) use impl_search_reads;

macro_rules! impl_search_writes {
    ($t:ty) => {
        impl ryoritsu_app::search::ports::SearchWrites for $t {
            async fn put_search_row(
                &mut self,
                row: &ryoritsu_app::search::ports::SearchRow,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::search::put_search_row($crate::rows::AsConn::conn(self), row).await
            }
            async fn replace_search_rows(
                &mut self,
                case: uuid::Uuid,
                rows: &[ryoritsu_app::search::ports::SearchRow],
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::search::replace_search_rows($crate::rows::AsConn::conn(self), case, rows)
                    .await
            }
            async fn clear_search_rows(&mut self) -> ryoritsu_app::StoreResult<()> {
                $crate::search::clear_search_rows($crate::rows::AsConn::conn(self)).await
            }
        }
    };
}
pub(crate) use impl_search_writes;
