//! The SQL for the full-text search index and name readings, migration 0010.
//!
//! Words arrive cut and normalised by the application; FTS5 (`unicode61`) stores them split
//! at the spaces. The keys a search may touch arrive as a JSON array and are read with
//! `json_each`, so ranking, totals and excerpts only ever see rows inside them.

use ryoritsu_app::error::StoreResult;
use ryoritsu_app::search::ports::{MatchedRow, SearchHit, SearchQuery, SearchRow};
use ryoritsu_domain::time_format::unix_micros;
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteArguments;
use uuid::Uuid;

use crate::map_err;
use crate::rows::get;

/// A value bound to the next `?` of a statement built piece by piece.
enum Arg {
    Text(String),
    Int(i64),
}

fn bind_all(
    mut q: sqlx::query::Query<'_, sqlx::Sqlite, SqliteArguments>,
    args: Vec<Arg>,
) -> sqlx::query::Query<'_, sqlx::Sqlite, SqliteArguments> {
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s),
            Arg::Int(i) => q.bind(i),
        };
    }
    q
}

fn keys_json(q: &SearchQuery) -> String {
    serde_json::Value::from(q.keys.clone()).to_string()
}

/// The statement's body. Only fixed SQL text is put together here; every value, the match
/// expressions included, is bound (hence the `AssertSqlSafe` below). (from `WITH` to the last join/filter) and its arguments.
fn case_query(q: &SearchQuery) -> (String, Vec<Arg>) {
    let mut args = vec![Arg::Text(keys_json(q))];
    let mut sql = String::from("WITH keys AS (SELECT value AS k FROM json_each(?))");
    if let Some(m) = &q.fts5 {
        sql.push_str(
            ", kw AS (SELECT s.case_id, SUM(s.weight) AS score FROM search_words w \
             JOIN search_rows s ON s.id = w.rowid WHERE search_words MATCH ? \
             AND (CASE WHEN s.own_key = substr(s.scope_key, 1, 36) || ':author:' || ? \
             THEN s.own_key ELSE s.scope_key END) IN (SELECT k FROM keys) \
             GROUP BY s.case_id)",
        );
        args.push(Arg::Text(m.clone()));
        args.push(Arg::Text(q.author.to_string()));
    }
    if let Some(m) = &q.name_fts5 {
        sql.push_str(
            ", nm AS (SELECT DISTINCT s.case_id FROM search_words w \
             JOIN search_rows s ON s.id = w.rowid WHERE search_words MATCH ? \
             AND s.source = 'name' AND s.scope_key IN (SELECT k FROM keys))",
        );
        args.push(Arg::Text(m.clone()));
    }
    sql.push_str(
        " SELECT c.id AS id, c.created_at AS created_at, {score} AS score FROM cases c \
         JOIN search_rows b ON b.case_id = c.id AND b.source = 'name' \
         AND b.scope_key IN (SELECT k FROM keys)",
    );
    let score = if q.fts5.is_some() {
        sql.push_str(" JOIN kw ON kw.case_id = c.id");
        "kw.score"
    } else {
        "0"
    };
    let mut sql = sql.replace("{score}", score);
    if q.name_fts5.is_some() {
        sql.push_str(" JOIN nm ON nm.case_id = c.id");
    }
    sql.push_str(" WHERE 1 = 1");
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

pub async fn search_cases(
    c: &mut SqliteConnection,
    q: &SearchQuery,
) -> StoreResult<(i64, Vec<SearchHit>)> {
    // The page and the total in one pass; a page past the end has no row to carry the
    // total, so only then is it counted on its own.
    let (body, mut args) = case_query(q);
    let page_sql = format!(
        "SELECT id, score, count(*) OVER () AS total FROM ({body}) \
         ORDER BY score DESC, created_at DESC, id LIMIT ? OFFSET ?"
    );
    args.push(Arg::Int(i64::from(q.limit)));
    args.push(Arg::Int(i64::from(q.offset)));
    let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(page_sql)), args)
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
            let count_sql = format!("SELECT count(*) AS n FROM ({body})");
            get(
                &bind_all(sqlx::query(sqlx::AssertSqlSafe(count_sql)), args)
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
    c: &mut SqliteConnection,
    q: &SearchQuery,
    cases: &[Uuid],
) -> StoreResult<Vec<MatchedRow>> {
    let Some(m) = &q.fts5 else {
        return Ok(Vec::new());
    };
    let keys = keys_json(q);
    let mut out = Vec::new();
    for case in cases {
        let rows = sqlx::query(
            "WITH keys AS (SELECT value AS k FROM json_each($1)) \
             SELECT s.case_id, s.source, s.category, s.body FROM search_words w \
             JOIN search_rows s ON s.id = w.rowid WHERE search_words MATCH $2 \
             AND s.case_id = $3 \
             AND (CASE WHEN s.own_key = substr(s.scope_key, 1, 36) || ':author:' || $4 \
             THEN s.own_key ELSE s.scope_key END) IN (SELECT k FROM keys) \
             ORDER BY s.weight DESC, s.source, s.id",
        )
        .bind(&keys)
        .bind(m)
        .bind(*case)
        .bind(q.author.to_string())
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

pub async fn count_search_rows(c: &mut SqliteConnection) -> StoreResult<i64> {
    let r = sqlx::query("SELECT count(*) AS n FROM search_rows")
        .fetch_one(c)
        .await
        .map_err(map_err)?;
    get(&r, "n")
}

pub async fn replace_search_rows(
    c: &mut SqliteConnection,
    case: Uuid,
    rows: &[SearchRow],
) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM search_words WHERE rowid IN (SELECT id FROM search_rows WHERE case_id = $1)",
    )
    .bind(case)
    .execute(&mut *c)
    .await
    .map_err(map_err)?;
    sqlx::query("DELETE FROM search_rows WHERE case_id = $1")
        .bind(case)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
    for r in rows {
        let id: i64 = get(
            &sqlx::query(
                "INSERT INTO search_rows (case_id, source, category, scope_key, own_key, \
                 weight, body) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(r.case_id)
            .bind(&r.source)
            .bind(&r.category)
            .bind(&r.scope_key)
            .bind(r.own_key.as_deref())
            .bind(r.weight)
            .bind(&r.body)
            .fetch_one(&mut *c)
            .await
            .map_err(map_err)?,
            "id",
        )?;
        sqlx::query("INSERT INTO search_words (rowid, words) VALUES ($1, $2)")
            .bind(id)
            .bind(r.fts5_words())
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

pub async fn clear_search_rows(c: &mut SqliteConnection) -> StoreResult<()> {
    sqlx::query("DELETE FROM search_words")
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
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
