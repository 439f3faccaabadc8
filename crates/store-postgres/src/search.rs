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
    CasePosition, MatchedRow, Query, ScopeBatch, SearchHit, SearchQuery, SearchRow, WordsDriver,
};
use ryoritsu_domain::case::CaseStatus;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{PgConnection, Row as _};
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

/// The statement's `SELECT` of what a result shows of case `c`.
const HIT_COLUMNS: &str = "c.id AS id, c.worker_id AS worker_id, \
     c.employer_id AS employer_id, c.status AS status, c.created_at AS created_at";

/// The score of the case `case` (an SQL expression): the sum of the weights of its rows
/// the principal may read whose `tsvector` matches the keywords, `NULL` where none does;
/// `0` without keywords.
fn score_of(q: &SearchQuery, keys: &str, case: &str, args: &mut Vec<Arg>) -> String {
    let Some(words) = &q.words else {
        return "0::bigint".into();
    };
    let p = arg(args, Arg::Text(words.tsquery()));
    let visible = row_visible(q, keys, args);
    // `OFFSET 0` keeps the test of the words out of the case's few rows' scan: left to
    // itself, the planner ANDs the case's index with the word's GIN list, reading a common
    // word's whole list for every case (measured: 1.4 ms a case at 10,000 cases).
    format!(
        "(SELECT SUM(s.weight)::bigint FROM (SELECT * FROM search_rows r \
         WHERE r.case_id = {case} OFFSET 0) AS s \
         WHERE s.words @@ {p}::tsquery AND {visible})"
    )
}

/// The name row of the case `case` matches the query's name (`true` without a name).
fn named(q: &SearchQuery, case: &str, args: &mut Vec<Arg>) -> String {
    let Some(name) = &q.name else {
        return "true".into();
    };
    let p = arg(args, Arg::Text(name.tsquery()));
    // `OFFSET 0`: as in `score_of`.
    format!(
        "EXISTS (SELECT 1 FROM (SELECT r.words FROM search_rows r WHERE r.case_id = {case} \
         AND r.source = 'name' OFFSET 0) AS s WHERE s.words @@ {p}::tsquery)"
    )
}

/// The status and date filters, on the columns given (the case's, or the access index's).
fn filters(q: &SearchQuery, status: &str, opened: &str, args: &mut Vec<Arg>) -> String {
    let mut sql = String::new();
    if let Some(s) = q.status {
        let p = arg(args, Arg::Text(s.code().to_owned()));
        sql.push_str(&format!(" AND {status} = {p}"));
    }
    if let Some(f) = q.from {
        let p = arg(args, Arg::At(f));
        sql.push_str(&format!(" AND {opened} >= {p}"));
    }
    if let Some(u) = q.until {
        let p = arg(args, Arg::At(u));
        sql.push_str(&format!(" AND {opened} < {p}"));
    }
    sql
}

fn hit(r: &PgRow) -> StoreResult<Option<SearchHit>> {
    // No score: none of the rows the principal may read holds the keywords.
    let Some(score) = get::<Option<i64>>(r, "score")? else {
        return Ok(None);
    };
    if !get::<bool>(r, "named")? {
        return Ok(None);
    }
    Ok(Some(SearchHit {
        case_id: get(r, "id")?,
        score,
        worker_id: get(r, "worker_id")?,
        employer_id: get(r, "employer_id")?,
        status: code(r, "status", CaseStatus::from_code)?,
        opened_at: ts(r, "created_at")?,
    }))
}

/// Runs a statement put together here (fixed SQL text, every value bound; not kept as a
/// prepared statement: a generic plan cannot see how selective the words and the scope
/// are) and keeps the rows that match.
async fn hits_of(
    c: &mut PgConnection,
    sql: String,
    args: Vec<Arg>,
) -> StoreResult<(Vec<PgRow>, Vec<SearchHit>)> {
    let rows = bind_all(
        sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false),
        args,
    )
    .fetch_all(&mut *c)
    .await
    .map_err(map_err)?;
    let mut hits = Vec::new();
    for r in &rows {
        if let Some(h) = hit(r)? {
            hits.push(h);
        }
    }
    Ok((rows, hits))
}

/// The planner's estimate, from the column's statistics (its most common words and their
/// frequencies), of how many rows hold `words`, up to `bound`. Counting them for real would
/// read the word's whole GIN list (a bitmap scan cannot stop early): for a common word that
/// grows with the database. Only the search's speed depends on this figure, never its answer.
pub async fn count_word_rows(c: &mut PgConnection, words: &Query, bound: i64) -> StoreResult<i64> {
    let r =
        sqlx::query("EXPLAIN (FORMAT JSON) SELECT 1 FROM search_rows WHERE words @@ $1::tsquery")
            .bind(words.tsquery())
            .fetch_one(&mut *c)
            .await
            .map_err(map_err)?;
    let text: String = r.try_get_unchecked(0).map_err(map_err)?;
    let plan: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| ryoritsu_app::error::StoreError::Other(format!("EXPLAIN output: {e}")))?;
    let rows = plan[0]["Plan"]["Plan Rows"].as_f64().unwrap_or(f64::MAX);
    // `as` saturates: an estimate beyond i64 reads as the bound.
    Ok((rows as i64).min(bound))
}

/// From the word index (GIN): the rows matching the driver's words (only those the
/// principal may read, for keywords; only name rows, for a name), their cases within the
/// scope and the filters, the other part tested on each case's rows.
pub async fn search_from_words(
    c: &mut PgConnection,
    q: &SearchQuery,
    driver: WordsDriver,
) -> StoreResult<Vec<SearchHit>> {
    let mut args = Vec::new();
    let keys = arg(&mut args, Arg::Keys(q.keys.clone()));
    let (found, score, name_test) = match (driver, &q.words, &q.name) {
        (WordsDriver::Words, Some(words), _) => {
            let p = arg(&mut args, Arg::Text(words.tsquery()));
            let visible = row_visible(q, &keys, &mut args);
            (
                format!(
                    "found AS (SELECT s.case_id, SUM(s.weight)::bigint AS score \
                     FROM search_rows s WHERE s.words @@ {p}::tsquery AND {visible} \
                     GROUP BY s.case_id)"
                ),
                "found.score".to_owned(),
                true,
            )
        }
        (WordsDriver::Name, _, Some(name)) => {
            let p = arg(&mut args, Arg::Text(name.tsquery()));
            (
                format!(
                    "found AS (SELECT DISTINCT s.case_id FROM search_rows s \
                     WHERE s.words @@ {p}::tsquery AND s.source = 'name')"
                ),
                score_of(q, &keys, "c.id", &mut args),
                false,
            )
        }
        _ => return Ok(Vec::new()),
    };
    let named = if name_test {
        named(q, "c.id", &mut args)
    } else {
        "true".into()
    };
    let mut sql = format!(
        "WITH {found} SELECT {HIT_COLUMNS}, {score} AS score, {named} AS named \
         FROM found JOIN cases c ON c.id = found.case_id \
         WHERE EXISTS (SELECT 1 FROM case_grants g WHERE g.case_id = c.id \
         AND g.subject = ANY({keys}::text[]) AND g.scope = 'case')"
    );
    sql.push_str(&filters(q, "c.status", "c.created_at", &mut args));
    sql.push_str(" ORDER BY c.created_at DESC, c.id DESC");
    Ok(hits_of(c, sql, args).await?.1)
}

/// From the principal's cases: per key, a descending index range of `case_grants` within
/// the filters after `after` (`case_grants_status` or `case_grants_list`), the first
/// `batch` of each, merged; each case tested on its rows.
pub async fn search_scope_batch(
    c: &mut PgConnection,
    q: &SearchQuery,
    after: Option<CasePosition>,
    batch: u32,
) -> StoreResult<ScopeBatch> {
    let mut args = Vec::new();
    // The keys are needed only to test the keywords' rows (PostgreSQL must see every
    // parameter used to type it).
    let keys = match q.words {
        Some(_) => arg(&mut args, Arg::Keys(q.keys.clone())),
        None => String::new(),
    };
    let limit = arg(&mut args, Arg::Int(i64::from(batch)));
    let mut arms = Vec::new();
    for key in &q.keys {
        let k = arg(&mut args, Arg::Text(key.clone()));
        let mut arm = format!(
            "(SELECT DISTINCT g.case_id, g.opened_at FROM case_grants g \
             WHERE g.subject = {k} AND g.scope = 'case'"
        );
        arm.push_str(&filters(q, "g.status", "g.opened_at", &mut args));
        if let Some(pos) = after {
            let t = arg(&mut args, Arg::At(pos.opened_at));
            let id = arg(&mut args, Arg::Id(pos.case_id));
            arm.push_str(&format!(" AND (g.opened_at, g.case_id) < ({t}, {id})"));
        }
        arm.push_str(&format!(
            " ORDER BY g.opened_at DESC, g.case_id DESC LIMIT {limit})"
        ));
        arms.push(arm);
    }
    if arms.is_empty() {
        return Ok(ScopeBatch {
            examined: 0,
            next: None,
            hits: Vec::new(),
        });
    }
    let mut sql = format!(
        "WITH cand AS MATERIALIZED (SELECT case_id, opened_at FROM ({}) AS u \
         ORDER BY opened_at DESC, case_id DESC LIMIT {limit})",
        arms.join(" UNION ")
    );
    let score = score_of(q, &keys, "cand.case_id", &mut args);
    let named = named(q, "cand.case_id", &mut args);
    sql.push_str(&format!(
        " SELECT {HIT_COLUMNS}, cand.opened_at AS pos, {score} AS score, {named} AS named \
         FROM cand JOIN cases c ON c.id = cand.case_id \
         ORDER BY cand.opened_at DESC, cand.case_id DESC"
    ));
    let (rows, hits) = hits_of(c, sql, args).await?;
    let last = match rows.last() {
        Some(r) => Some(CasePosition {
            opened_at: ts(r, "pos")?,
            case_id: get(r, "id")?,
        }),
        None => None,
    };
    Ok(ScopeBatch::new(batch, rows.len(), last, hits))
}

pub async fn search_hits(c: &mut PgConnection, cases: &[Uuid]) -> StoreResult<Vec<SearchHit>> {
    let rows = sqlx::query(
        "SELECT id, worker_id, employer_id, status, created_at, 0::bigint AS score, \
         true AS named FROM cases WHERE id = ANY($1)",
    )
    .bind(cases)
    .fetch_all(&mut *c)
    .await
    .map_err(map_err)?;
    let mut found = Vec::new();
    for r in &rows {
        found.extend(hit(r)?);
    }
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
        // `OFFSET 0`: the case's few rows, then the words (as in `score_of`).
        let sql = format!(
            "SELECT s.case_id, s.source, s.category, s.body FROM \
             (SELECT * FROM search_rows r WHERE r.case_id = {id} OFFSET 0) AS s \
             WHERE s.words @@ {p}::tsquery AND {visible} \
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
            async fn count_word_rows(
                &mut self,
                words: &ryoritsu_app::search::ports::Query,
                bound: i64,
            ) -> ryoritsu_app::StoreResult<i64> {
                $crate::search::count_word_rows($crate::rows::AsConn::conn(self), words, bound)
                    .await
            }
            async fn search_from_words(
                &mut self,
                q: &ryoritsu_app::search::ports::SearchQuery,
                driver: ryoritsu_app::search::ports::WordsDriver,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::search::ports::SearchHit>> {
                $crate::search::search_from_words($crate::rows::AsConn::conn(self), q, driver).await
            }
            async fn search_scope_batch(
                &mut self,
                q: &ryoritsu_app::search::ports::SearchQuery,
                after: Option<ryoritsu_app::search::ports::CasePosition>,
                batch: u32,
            ) -> ryoritsu_app::StoreResult<ryoritsu_app::search::ports::ScopeBatch> {
                $crate::search::search_scope_batch(
                    $crate::rows::AsConn::conn(self),
                    q,
                    after,
                    batch,
                )
                .await
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
