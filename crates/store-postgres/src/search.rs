//! The SQL for the full-text search index and name readings, migration 0010.
//!
//! Mirrors the SQLite adapter's statements. Words arrive cut and normalised by the
//! application and are stored as a `tsvector` literal with positions (GIN-indexed); queries
//! arrive as a `tsquery` literal. The keys a search may touch arrive as a text array, so
//! ranking, totals and excerpts only ever see rows inside them.

use ryoritsu_app::error::StoreResult;
use ryoritsu_app::search::ports::{MatchedRow, SearchHit, SearchQuery, SearchRow};
use sqlx::PgConnection;
use sqlx::postgres::PgArguments;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::map_err;
use crate::rows::get;

/// A value bound to the next `?` of a statement built piece by piece.
enum Arg {
    Text(String),
    Keys(Vec<String>),
    Int(i64),
    At(OffsetDateTime),
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
        };
    }
    q
}

/// Adds `a` and returns its placeholder.
fn arg(args: &mut Vec<Arg>, a: Arg) -> String {
    args.push(a);
    format!("${}", args.len())
}

/// The statement's body. Only fixed SQL text is put together here; every value, the match
/// expressions included, is bound (hence the `AssertSqlSafe` below). (from `WITH` to the last join/filter) and its arguments.
fn case_query(q: &SearchQuery) -> (String, Vec<Arg>) {
    let mut args = Vec::new();
    let keys = arg(&mut args, Arg::Keys(q.keys.clone()));
    let mut sql = format!("WITH keys AS (SELECT unnest({keys}::text[]) AS k)");
    if let Some(m) = &q.tsquery {
        let p = arg(&mut args, Arg::Text(m.clone()));
        let me = arg(&mut args, Arg::Text(q.author.to_string()));
        sql.push_str(&format!(
            ", kw AS (SELECT s.case_id, SUM(s.weight)::bigint AS score FROM search_rows s \
             WHERE s.words @@ {p}::tsquery \
             AND (CASE WHEN s.own_key = substr(s.scope_key, 1, 36) || ':author:' || {me} \
             THEN s.own_key ELSE s.scope_key END) IN (SELECT k FROM keys) \
             GROUP BY s.case_id)"
        ));
    }
    if let Some(m) = &q.name_tsquery {
        let p = arg(&mut args, Arg::Text(m.clone()));
        sql.push_str(&format!(
            ", nm AS (SELECT DISTINCT s.case_id FROM search_rows s \
             WHERE s.words @@ {p}::tsquery \
             AND s.source = 'name' AND s.scope_key IN (SELECT k FROM keys))"
        ));
    }
    let score = if q.tsquery.is_some() {
        "kw.score"
    } else {
        "0::bigint"
    };
    sql.push_str(&format!(
        " SELECT c.id AS id, c.created_at AS created_at, {score} AS score FROM cases c \
         JOIN search_rows b ON b.case_id = c.id AND b.source = 'name' \
         AND b.scope_key IN (SELECT k FROM keys)"
    ));
    if q.tsquery.is_some() {
        sql.push_str(" JOIN kw ON kw.case_id = c.id");
    }
    if q.name_tsquery.is_some() {
        sql.push_str(" JOIN nm ON nm.case_id = c.id");
    }
    sql.push_str(" WHERE true");
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

pub async fn search_cases(
    c: &mut PgConnection,
    q: &SearchQuery,
) -> StoreResult<(i64, Vec<SearchHit>)> {
    // The page and the total in one pass; a page past the end has no row to carry the
    // total, so only then is it counted on its own. Not kept as prepared statements: a
    // generic plan cannot see how selective the words and the scope are (measured: a status
    // filter went from 0.4 s to 5 s once PostgreSQL switched to the generic plan).
    let (body, mut args) = case_query(q);
    let limit = arg(&mut args, Arg::Int(i64::from(q.limit)));
    let offset = arg(&mut args, Arg::Int(i64::from(q.offset)));
    let page_sql = format!(
        "SELECT id, score, count(*) OVER () AS total FROM ({body}) AS found \
         ORDER BY score DESC, created_at DESC, id LIMIT {limit} OFFSET {offset}"
    );
    let rows = bind_all(
        sqlx::query(sqlx::AssertSqlSafe(page_sql)).persistent(false),
        args,
    )
    .fetch_all(&mut *c)
    .await
    .map_err(map_err)?;
    let hits = rows
        .iter()
        .map(|r| {
            Ok(SearchHit {
                case_id: get(r, "id")?,
                score: get(r, "score")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let total: i64 = match rows.first() {
        Some(r) => get(r, "total")?,
        None if q.offset == 0 => 0,
        None => {
            let (body, args) = case_query(q);
            let count_sql = format!("SELECT count(*) AS n FROM ({body}) AS found");
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

pub async fn search_matched_rows(
    c: &mut PgConnection,
    q: &SearchQuery,
    cases: &[Uuid],
) -> StoreResult<Vec<MatchedRow>> {
    let Some(m) = &q.tsquery else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for case in cases {
        let rows = sqlx::query(
            "WITH keys AS (SELECT unnest($1::text[]) AS k) \
             SELECT s.case_id, s.source, s.category, s.body FROM search_rows s \
             WHERE s.words @@ $2::tsquery AND s.case_id = $3 \
             AND (CASE WHEN s.own_key = substr(s.scope_key, 1, 36) || ':author:' || $4 \
             THEN s.own_key ELSE s.scope_key END) IN (SELECT k FROM keys) \
             ORDER BY s.weight DESC, s.source, s.id",
        )
        .bind(&q.keys)
        .bind(m)
        .bind(*case)
        .bind(q.author.to_string())
        .persistent(false)
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
    for r in rows {
        sqlx::query(
            "INSERT INTO search_rows (case_id, source, category, scope_key, own_key, weight, \
             body, words) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::tsvector)",
        )
        .bind(r.case_id)
        .bind(&r.source)
        .bind(&r.category)
        .bind(&r.scope_key)
        .bind(r.own_key.as_deref())
        .bind(r.weight)
        .bind(&r.body)
        .bind(r.tsvector())
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
    }
    Ok(())
}

pub async fn clear_search_rows(c: &mut PgConnection) -> StoreResult<()> {
    sqlx::query("DELETE FROM search_rows")
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
