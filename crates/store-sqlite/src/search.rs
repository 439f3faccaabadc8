//! The SQL for the full-text search index (migrations 0010 and 0014).
//!
//! Words arrive cut and normalised by the application; FTS5 (`unicode61`) stores them split
//! at the spaces. A search is scoped by the access index: the principal's keys arrive as a
//! JSON array (read with `json_each`) and a row counts only where one of them may read the
//! row's category of its case at the moment given, or the principal wrote it; the case
//! itself must be one they see. Ranking, totals and excerpts never see anything else.

use crate::db::Conn;
use crate::db::{self, Query, Row};
use ryoritsu_app::error::StoreResult;
use ryoritsu_app::search::ports::{
    MAX_COUNTED, MatchedRow, Phrase, ROWS_PER_CASE, SCOPE_FIRST_BELOW, SearchHit, SearchQuery,
    SearchRow, SearchStart,
};
use ryoritsu_domain::case::CaseStatus;
use ryoritsu_domain::time_format::unix_micros;
use uuid::Uuid;

use crate::map_err;
use crate::rows::{code, get, ts};

/// A value bound to the next `?` of a statement built piece by piece.
enum Arg {
    Text(String),
    Int(i64),
    Id(Uuid),
}

fn bind_all(mut q: Query<'_>, args: Vec<Arg>) -> Query<'_> {
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s),
            Arg::Int(i) => q.bind(i),
            Arg::Id(u) => q.bind(u),
        };
    }
    q
}

fn keys_json(q: &SearchQuery) -> String {
    serde_json::Value::from(q.keys.clone()).to_string()
}

/// `s` (a search row) may be read by the principal: they wrote it, or a key of theirs opens
/// its category of its case now. Arguments: author, now.
const ROW_VISIBLE: &str = "(s.author = ? OR EXISTS (SELECT 1 FROM case_grants g \
     WHERE g.case_id = s.case_id AND g.subject IN (SELECT k FROM keys) \
     AND g.scope = s.category \
     AND (g.valid_from IS NULL OR g.valid_from <= ?) \
     AND (g.valid_until IS NULL OR ? < g.valid_until)))";

fn row_visible_args(q: &SearchQuery, args: &mut Vec<Arg>) {
    args.push(Arg::Id(q.author));
    args.push(Arg::Int(unix_micros(q.now)));
    args.push(Arg::Int(unix_micros(q.now)));
}

/// `w`'s words (the FTS5 table's own column, fetched by rowid) hold every group of
/// `phrases`: the same test as the MATCH expression, on one row (FTS5's `unicode61` splits
/// the stored words only at the spaces, so a phrase is the padded text occurring in the
/// padded words). Seeking each row's rowid in a word's list instead costs a lookup in every
/// segment of the index per row: ten times as much.
fn words_hold(phrases: &[Vec<Phrase>], args: &mut Vec<Arg>) -> String {
    if phrases.is_empty() {
        return "0".into();
    }
    phrases
        .iter()
        .map(|group| {
            let any: Vec<&str> = group
                .iter()
                .map(|p| {
                    args.push(Arg::Text(p.padded()));
                    "instr(' ' || w.words || ' ', ?) > 0"
                })
                .collect();
            format!("({})", any.join(" OR "))
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The principal's cases within the query's filters, from the access index: `cand`.
/// Arguments: status, from, until (those given).
fn scope_cte(q: &SearchQuery, args: &mut Vec<Arg>) -> String {
    let mut sql = String::from(
        "cand AS (SELECT DISTINCT g.case_id FROM case_grants g \
         WHERE g.subject IN (SELECT k FROM keys) AND g.scope = 'case'",
    );
    if let Some(s) = q.status {
        sql.push_str(" AND g.status = ?");
        args.push(Arg::Text(s.code().to_owned()));
    }
    if let Some(f) = q.from {
        sql.push_str(" AND g.opened_at >= ?");
        args.push(Arg::Int(unix_micros(f)));
    }
    if let Some(u) = q.until {
        sql.push_str(" AND g.opened_at < ?");
        args.push(Arg::Int(unix_micros(u)));
    }
    sql.push(')');
    sql
}

/// How many of the principal's cases fall within the filters, counted up to `cap`: an
/// index range per key.
async fn count_scope(c: &mut Conn, q: &SearchQuery, cap: i64) -> StoreResult<i64> {
    let mut args = vec![Arg::Text(keys_json(q))];
    let cand = scope_cte(q, &mut args);
    let sql = format!(
        "WITH keys AS (SELECT value AS k FROM json_each(?)), {cand} \
         SELECT count(*) AS n FROM (SELECT 1 FROM cand LIMIT ?)"
    );
    args.push(Arg::Int(cap));
    get(
        &bind_all(db::assembled(sql), args)
            .fetch_one(&mut *c)
            .await
            .map_err(map_err)?,
        "n",
    )
}

/// Whether the search starts from the principal's cases (see [`SearchStart`]): both counts
/// stop at their bound, so weighing costs at most a few thousand index entries.
async fn starts_from_scope(c: &mut Conn, q: &SearchQuery) -> StoreResult<bool> {
    match q.start {
        SearchStart::Words => Ok(false),
        SearchStart::Scope => Ok(true),
        SearchStart::Cheaper => {
            let cases = count_scope(c, q, SCOPE_FIRST_BELOW).await?;
            if cases >= SCOPE_FIRST_BELOW {
                return Ok(false);
            }
            let Some(words) = q.words.as_ref().or(q.name.as_ref()) else {
                return Ok(false);
            };
            let bound = cases.saturating_mul(ROWS_PER_CASE).max(1);
            let rows: i64 = get(
                &db::query(
                    "SELECT count(*) AS n FROM (SELECT 1 FROM search_words \
                     WHERE search_words MATCH $1 LIMIT $2)",
                )
                .bind(words.fts5())
                .bind(bound)
                .fetch_one(&mut *c)
                .await
                .map_err(map_err)?,
                "n",
            )?;
            Ok(rows >= bound)
        }
    }
}

/// The statement's body (from `WITH` to the last filter) and its arguments: the matching
/// cases with their score and what a result shows. Only fixed SQL text is put together
/// here; every value, the match expressions included, is bound (hence `AssertSqlSafe`).
/// The query has keywords or a name (without either the app lists by the index).
///
/// `scoped`: start from the principal's cases within the filters (`cand`) and test the
/// words of each of their rows (`words_hold`); otherwise start from every row the word
/// index finds for the words. `CROSS JOIN` keeps that order.
fn case_query(q: &SearchQuery, scoped: bool) -> (String, Vec<Arg>) {
    let mut args = vec![Arg::Text(keys_json(q))];
    let mut sql = String::from("WITH keys AS (SELECT value AS k FROM json_each(?))");
    if scoped {
        sql.push_str(", ");
        sql.push_str(&scope_cte(q, &mut args));
    }
    const SCOPED_ROWS: &str = "cand CROSS JOIN search_rows s CROSS JOIN search_words w \
         WHERE s.case_id = cand.case_id AND w.rowid = s.id AND";
    const WORD_ROWS: &str = "search_words w JOIN search_rows s ON s.id = w.rowid WHERE";
    if let Some(words) = &q.words {
        let (rows, matched) = if scoped {
            (SCOPED_ROWS, words_hold(&words.phrases(), &mut args))
        } else {
            args.push(Arg::Text(words.fts5()));
            (WORD_ROWS, "search_words MATCH ?".to_owned())
        };
        sql.push_str(&format!(
            ", kw AS (SELECT s.case_id, SUM(s.weight) AS score FROM {rows} \
             {matched} AND {ROW_VISIBLE} GROUP BY s.case_id)"
        ));
        row_visible_args(q, &mut args);
    }
    if let Some(name) = &q.name {
        let (rows, matched) = if scoped {
            (SCOPED_ROWS, words_hold(&name.phrases(), &mut args))
        } else {
            args.push(Arg::Text(name.fts5()));
            (WORD_ROWS, "search_words MATCH ?".to_owned())
        };
        sql.push_str(&format!(
            ", nm AS (SELECT DISTINCT s.case_id FROM {rows} {matched} AND s.source = 'name')"
        ));
    }
    let (from, score) = match (q.words.is_some(), q.name.is_some()) {
        (true, true) => ("kw JOIN nm ON nm.case_id = kw.case_id", "kw.score"),
        (true, false) => ("kw", "kw.score"),
        _ => ("nm", "0"),
    };
    let driver = if q.words.is_some() { "kw" } else { "nm" };
    sql.push_str(&format!(
        " SELECT c.id AS id, c.worker_id AS worker_id, c.employer_id AS employer_id, \
         c.status AS status, c.created_at AS created_at, {score} AS score \
         FROM {from} JOIN cases c ON c.id = {driver}.case_id \
         WHERE EXISTS (SELECT 1 FROM case_grants g WHERE g.case_id = c.id \
         AND g.subject IN (SELECT k FROM keys) AND g.scope = 'case')"
    ));
    if let Some(s) = q.status {
        sql.push_str(" AND c.status = ?");
        args.push(Arg::Text(s.code().to_owned()));
    }
    if let Some(f) = q.from {
        sql.push_str(" AND c.created_at >= ?");
        args.push(Arg::Int(unix_micros(f)));
    }
    if let Some(u) = q.until {
        sql.push_str(" AND c.created_at < ?");
        args.push(Arg::Int(unix_micros(u)));
    }
    (sql, args)
}

fn hit(r: &Row) -> StoreResult<SearchHit> {
    Ok(SearchHit {
        case_id: get(r, "id")?,
        score: get(r, "score")?,
        worker_id: get(r, "worker_id")?,
        employer_id: get(r, "employer_id")?,
        status: code(r, "status", CaseStatus::from_code)?,
        opened_at: ts(r, "created_at")?,
    })
}

pub async fn search_cases(c: &mut Conn, q: &SearchQuery) -> StoreResult<(i64, Vec<SearchHit>)> {
    if q.words.is_none() && q.name.is_none() {
        return Ok((0, Vec::new()));
    }
    let scoped = starts_from_scope(c, q).await?;
    let (body, mut args) = case_query(q, scoped);
    // The page and the total in one pass; a page past the end has no row to carry the
    // total, so only then is it counted on its own (up to MAX_COUNTED).
    let page_sql = format!(
        "SELECT *, count(*) OVER () AS total FROM ({body}) \
         ORDER BY score DESC, created_at DESC, id LIMIT ? OFFSET ?"
    );
    args.push(Arg::Int(i64::from(q.limit)));
    args.push(Arg::Int(i64::from(q.offset)));
    let rows = bind_all(db::assembled(page_sql), args)
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
    let hits = rows.iter().map(hit).collect::<StoreResult<Vec<_>>>()?;
    let total: i64 = match rows.first() {
        Some(r) => get::<i64>(r, "total")?.min(MAX_COUNTED),
        None if q.offset == 0 => 0,
        None => {
            let (body, mut args) = case_query(q, scoped);
            let count_sql = format!("SELECT count(*) AS n FROM (SELECT 1 FROM ({body}) LIMIT ?)");
            args.push(Arg::Int(MAX_COUNTED));
            get(
                &bind_all(db::assembled(count_sql), args)
                    .fetch_one(&mut *c)
                    .await
                    .map_err(map_err)?,
                "n",
            )?
        }
    };
    Ok((total, hits))
}

pub async fn search_hits(c: &mut Conn, cases: &[Uuid]) -> StoreResult<Vec<SearchHit>> {
    let mut out = Vec::with_capacity(cases.len());
    for id in cases {
        if let Some(r) = db::query(
            "SELECT id, worker_id, employer_id, status, created_at, 0 AS score \
             FROM cases WHERE id = $1",
        )
        .bind(*id)
        .fetch_optional(&mut *c)
        .await
        .map_err(map_err)?
        {
            out.push(hit(&r)?);
        }
    }
    Ok(out)
}

pub async fn search_matched_rows(
    c: &mut Conn,
    q: &SearchQuery,
    cases: &[Uuid],
) -> StoreResult<Vec<MatchedRow>> {
    let Some(words) = &q.words else {
        return Ok(Vec::new());
    };
    let phrases = words.phrases();
    let keys = keys_json(q);
    let mut out = Vec::new();
    for case in cases {
        let mut args = vec![Arg::Text(keys.clone()), Arg::Id(*case)];
        let matched = words_hold(&phrases, &mut args);
        let sql = format!(
            "WITH keys AS (SELECT value AS k FROM json_each(?)) \
             SELECT s.case_id, s.source, s.category, s.body \
             FROM search_rows s CROSS JOIN search_words w \
             WHERE s.case_id = ? AND w.rowid = s.id AND {matched} \
             AND {ROW_VISIBLE} \
             ORDER BY s.weight DESC, s.source, s.id"
        );
        row_visible_args(q, &mut args);
        let rows = bind_all(db::assembled(sql), args)
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

pub async fn count_search_rows(c: &mut Conn) -> StoreResult<i64> {
    let r = db::query("SELECT count(*) AS n FROM search_rows")
        .fetch_one(c)
        .await
        .map_err(map_err)?;
    get(&r, "n")
}

async fn insert_row(c: &mut Conn, r: &SearchRow) -> StoreResult<()> {
    let id: i64 = get(
        &db::query(
            "INSERT INTO search_rows (case_id, source, category, author, weight, body) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(r.case_id)
        .bind(&r.source)
        .bind(&r.category)
        .bind(r.author)
        .bind(r.weight)
        .bind(&r.body)
        .fetch_one(&mut *c)
        .await
        .map_err(map_err)?,
        "id",
    )?;
    db::query("INSERT INTO search_words (rowid, words) VALUES ($1, $2)")
        .bind(id)
        .bind(r.fts5_words())
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub async fn put_search_row(c: &mut Conn, r: &SearchRow) -> StoreResult<()> {
    db::query(
        "DELETE FROM search_words WHERE rowid IN \
         (SELECT id FROM search_rows WHERE case_id = $1 AND source = $2)",
    )
    .bind(r.case_id)
    .bind(&r.source)
    .execute(&mut *c)
    .await
    .map_err(map_err)?;
    db::query("DELETE FROM search_rows WHERE case_id = $1 AND source = $2")
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

pub async fn replace_search_rows(c: &mut Conn, case: Uuid, rows: &[SearchRow]) -> StoreResult<()> {
    db::query(
        "DELETE FROM search_words WHERE rowid IN (SELECT id FROM search_rows WHERE case_id = $1)",
    )
    .bind(case)
    .execute(&mut *c)
    .await
    .map_err(map_err)?;
    db::query("DELETE FROM search_rows WHERE case_id = $1")
        .bind(case)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
    for r in rows.iter().filter(|r| !r.words.is_empty()) {
        insert_row(c, r).await?;
    }
    Ok(())
}

pub async fn clear_search_rows(c: &mut Conn) -> StoreResult<()> {
    db::query("/* full scan: maintenance */ DELETE FROM search_words")
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
    db::query("/* full scan: maintenance */ DELETE FROM search_rows")
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
