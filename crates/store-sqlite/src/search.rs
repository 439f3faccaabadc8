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
    CasePosition, MatchedRow, Phrase, Query as Words, ScopeBatch, SearchHit, SearchQuery,
    SearchRow, WordsDriver,
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

/// The statement's `SELECT` of what a result shows of case `c`.
const HIT_COLUMNS: &str = "c.id AS id, c.worker_id AS worker_id, \
     c.employer_id AS employer_id, c.status AS status, c.created_at AS created_at";

/// The score of the case `case` (an SQL expression): the sum of the weights of its rows
/// the principal may read that hold the keywords, `NULL` where none does; `0` without
/// keywords. The words of each row are read from the FTS5 table by rowid and tested with
/// [`words_hold`].
fn score_of(q: &SearchQuery, case: &str, args: &mut Vec<Arg>) -> String {
    let Some(words) = &q.words else {
        return "0".into();
    };
    let hold = words_hold(&words.phrases(), args);
    row_visible_args(q, args);
    format!(
        "(SELECT SUM(s.weight) FROM search_rows s CROSS JOIN search_words w \
         WHERE s.case_id = {case} AND w.rowid = s.id AND {hold} AND {ROW_VISIBLE})"
    )
}

/// The name row of the case `case` holds the query's name (`1` without a name).
fn named(q: &SearchQuery, case: &str, args: &mut Vec<Arg>) -> String {
    let Some(name) = &q.name else {
        return "1".into();
    };
    let hold = words_hold(&name.phrases(), args);
    format!(
        "EXISTS (SELECT 1 FROM search_rows s CROSS JOIN search_words w \
         WHERE s.case_id = {case} AND s.source = 'name' AND w.rowid = s.id AND {hold})"
    )
}

/// The status and date filters, on the columns given (the case's, or the access index's).
fn filters(q: &SearchQuery, status: &str, opened: &str, args: &mut Vec<Arg>) -> String {
    let mut sql = String::new();
    if let Some(s) = q.status {
        sql.push_str(&format!(" AND {status} = ?"));
        args.push(Arg::Text(s.code().to_owned()));
    }
    if let Some(f) = q.from {
        sql.push_str(&format!(" AND {opened} >= ?"));
        args.push(Arg::Int(unix_micros(f)));
    }
    if let Some(u) = q.until {
        sql.push_str(&format!(" AND {opened} < ?"));
        args.push(Arg::Int(unix_micros(u)));
    }
    sql
}

fn hit(r: &Row) -> StoreResult<Option<SearchHit>> {
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

pub async fn count_word_rows(c: &mut Conn, words: &Words, bound: i64) -> StoreResult<i64> {
    get(
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
    )
}

/// From the word index: the rows holding the driver's words (only those the principal may
/// read, for keywords; only name rows, for a name), their cases within the scope and the
/// filters, the other part tested on each case's rows.
pub async fn search_from_words(
    c: &mut Conn,
    q: &SearchQuery,
    driver: WordsDriver,
) -> StoreResult<Vec<SearchHit>> {
    let mut args = vec![Arg::Text(keys_json(q))];
    let mut sql = String::from("WITH keys AS (SELECT value AS k FROM json_each(?)), ");
    let (score, name_test) = match (driver, &q.words, &q.name) {
        (WordsDriver::Words, Some(words), _) => {
            args.push(Arg::Text(words.fts5()));
            sql.push_str(&format!(
                "found AS (SELECT s.case_id, SUM(s.weight) AS score \
                 FROM search_words w JOIN search_rows s ON s.id = w.rowid \
                 WHERE search_words MATCH ? AND {ROW_VISIBLE} GROUP BY s.case_id)"
            ));
            row_visible_args(q, &mut args);
            ("found.score".to_owned(), true)
        }
        (WordsDriver::Name, _, Some(name)) => {
            args.push(Arg::Text(name.fts5()));
            sql.push_str(
                "found AS (SELECT DISTINCT s.case_id \
                 FROM search_words w JOIN search_rows s ON s.id = w.rowid \
                 WHERE search_words MATCH ? AND s.source = 'name')",
            );
            (score_of(q, "c.id", &mut args), false)
        }
        _ => return Ok(Vec::new()),
    };
    let named = if name_test {
        named(q, "c.id", &mut args)
    } else {
        "1".into()
    };
    sql.push_str(&format!(
        " SELECT {HIT_COLUMNS}, {score} AS score, {named} AS named \
         FROM found JOIN cases c ON c.id = found.case_id \
         WHERE EXISTS (SELECT 1 FROM case_grants g WHERE g.case_id = c.id \
         AND g.subject IN (SELECT k FROM keys) AND g.scope = 'case')"
    ));
    sql.push_str(&filters(q, "c.status", "c.created_at", &mut args));
    sql.push_str(" ORDER BY c.created_at DESC, c.id DESC");
    let rows = bind_all(db::assembled(sql), args)
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
    Ok(rows
        .iter()
        .map(hit)
        .collect::<StoreResult<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect())
}

/// From the principal's cases: per key, an index range of `case_grants` within the
/// filters in descending order (`case_grants_status` or `case_grants_list`), merged
/// (`UNION` of ordered arms: SQLite merges them as they come), the first `batch` after
/// `after`; each tested on its rows.
pub async fn search_scope_batch(
    c: &mut Conn,
    q: &SearchQuery,
    after: Option<CasePosition>,
    batch: u32,
) -> StoreResult<ScopeBatch> {
    let mut args = vec![Arg::Text(keys_json(q))];
    let mut arms = Vec::new();
    for key in &q.keys {
        let mut arm = String::from(
            "SELECT DISTINCT g.case_id, g.opened_at FROM case_grants g \
             WHERE g.subject = ? AND g.scope = 'case'",
        );
        args.push(Arg::Text(key.clone()));
        arm.push_str(&filters(q, "g.status", "g.opened_at", &mut args));
        if let Some(p) = after {
            arm.push_str(" AND (g.opened_at, g.case_id) < (?, ?)");
            args.push(Arg::Int(unix_micros(p.opened_at)));
            args.push(Arg::Id(p.case_id));
        }
        arms.push(arm);
    }
    if arms.is_empty() {
        return Ok(ScopeBatch {
            examined: 0,
            next: None,
            hits: Vec::new(),
        });
    }
    args.push(Arg::Int(i64::from(batch)));
    let mut sql = format!(
        "WITH keys AS (SELECT value AS k FROM json_each(?)), \
         cand AS (SELECT case_id, opened_at FROM ({} ORDER BY 2 DESC, 1 DESC LIMIT ?))",
        arms.join(" UNION ")
    );
    let score = score_of(q, "cand.case_id", &mut args);
    let named = named(q, "cand.case_id", &mut args);
    sql.push_str(&format!(
        " SELECT {HIT_COLUMNS}, cand.opened_at AS pos, {score} AS score, {named} AS named \
         FROM cand JOIN cases c ON c.id = cand.case_id \
         ORDER BY cand.opened_at DESC, cand.case_id DESC"
    ));
    let rows = bind_all(db::assembled(sql), args)
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
    let last = match rows.last() {
        Some(r) => Some(CasePosition {
            opened_at: ts(r, "pos")?,
            case_id: get(r, "id")?,
        }),
        None => None,
    };
    let mut hits = Vec::new();
    for r in &rows {
        hits.extend(hit(r)?);
    }
    Ok(ScopeBatch::new(batch, rows.len(), last, hits))
}

pub async fn search_hits(c: &mut Conn, cases: &[Uuid]) -> StoreResult<Vec<SearchHit>> {
    let mut out = Vec::with_capacity(cases.len());
    for id in cases {
        if let Some(r) = db::query(
            "SELECT id, worker_id, employer_id, status, created_at, 0 AS score, 1 AS named \
             FROM cases WHERE id = $1",
        )
        .bind(*id)
        .fetch_optional(&mut *c)
        .await
        .map_err(map_err)?
        {
            out.extend(hit(&r)?);
        }
    }
    Ok(out)
}

/// The rows of the page's cases that hold the words and that the principal may read, in one
/// statement (the cases travel as a JSON list of their ids in hex).
pub async fn search_matched_rows(
    c: &mut Conn,
    q: &SearchQuery,
    cases: &[Uuid],
) -> StoreResult<Vec<MatchedRow>> {
    let Some(words) = &q.words else {
        return Ok(Vec::new());
    };
    if cases.is_empty() {
        return Ok(Vec::new());
    }
    let page = serde_json::Value::from(
        cases
            .iter()
            .map(|c| c.simple().to_string())
            .collect::<Vec<_>>(),
    )
    .to_string();
    let mut args = vec![Arg::Text(keys_json(q)), Arg::Text(page)];
    let matched = words_hold(&words.phrases(), &mut args);
    let sql = format!(
        "WITH keys AS (SELECT value AS k FROM json_each(?)), \
         page AS (SELECT unhex(value) AS id FROM json_each(?)) \
         SELECT s.case_id, s.source, s.category, s.body \
         FROM page CROSS JOIN search_rows s CROSS JOIN search_words w \
         WHERE s.case_id = page.id AND w.rowid = s.id AND {matched} \
         AND {ROW_VISIBLE} \
         ORDER BY s.weight DESC, s.source, s.id"
    );
    row_visible_args(q, &mut args);
    let rows = bind_all(db::assembled(sql), args)
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
    rows.iter()
        .map(|r| {
            Ok(MatchedRow {
                case_id: get(r, "case_id")?,
                source: get(r, "source")?,
                category: get(r, "category")?,
                body: get(r, "body")?,
            })
        })
        .collect()
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

async fn put_search_row(c: &mut Conn, r: &SearchRow) -> StoreResult<()> {
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

async fn replace_search_rows(c: &mut Conn, case: Uuid, rows: &[SearchRow]) -> StoreResult<()> {
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

/// A write to the search index, held by the write transaction until it commits.
enum SearchWrite {
    Put(SearchRow),
    Replace(Uuid, Vec<SearchRow>),
    Clear,
}

/// The search index's writes of one write transaction, applied together just before it
/// commits.
///
/// FTS5 keeps a transaction's new words in memory and writes them out as a new segment of
/// its index whenever a savepoint opens. The group-commit writer opens a savepoint for
/// every job of a batch, so writing each job's words in its job cost one segment per job
/// (and the merging of all those small segments later), inside the one task every write
/// waits for. Held here, a batch's words go to FTS5 once, after the last job, as one
/// segment. A job rolled back to its savepoint drops the writes it had queued.
#[derive(Default)]
pub(crate) struct PendingSearch {
    writes: Vec<SearchWrite>,
    /// How many writes were queued when the current job's savepoint opened.
    mark: Option<usize>,
}

impl PendingSearch {
    pub(crate) fn savepoint(&mut self) {
        self.mark = Some(self.writes.len());
    }

    pub(crate) fn release(&mut self) {
        self.mark = None;
    }

    pub(crate) fn rollback_to_savepoint(&mut self) {
        if let Some(m) = self.mark.take() {
            self.writes.truncate(m);
        }
    }

    fn put(&mut self, row: &SearchRow) {
        self.writes.push(SearchWrite::Put(row.clone()));
    }

    /// Applies the queued writes, in the order they were made. A row put again later in
    /// the transaction is written once, as it was last put (whatever lies between, a later
    /// put of the same source replaces it).
    pub(crate) async fn apply(&mut self, c: &mut Conn) -> StoreResult<()> {
        let writes = std::mem::take(&mut self.writes);
        self.mark = None;
        let mut later = std::collections::HashSet::new();
        let mut superseded = vec![false; writes.len()];
        for (i, w) in writes.iter().enumerate().rev() {
            if let SearchWrite::Put(r) = w {
                superseded[i] = !later.insert((r.case_id, r.source.as_str()));
            }
        }
        for (w, superseded) in writes.iter().zip(superseded) {
            match w {
                SearchWrite::Put(_) if superseded => {}
                SearchWrite::Put(row) => put_search_row(c, row).await?,
                SearchWrite::Replace(case, rows) => replace_search_rows(c, *case, rows).await?,
                SearchWrite::Clear => clear_search_rows(c).await?,
            }
        }
        Ok(())
    }
}

async fn clear_search_rows(c: &mut Conn) -> StoreResult<()> {
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
            async fn count_word_rows(
                &mut self,
                words: &ryoritsu_app::search::ports::Query,
                bound: i64,
            ) -> ryoritsu_app::StoreResult<i64> {
                $crate::search::Settle::settle(self).await?;
                $crate::search::count_word_rows($crate::rows::AsConn::conn(self), words, bound)
                    .await
            }
            async fn search_from_words(
                &mut self,
                q: &ryoritsu_app::search::ports::SearchQuery,
                driver: ryoritsu_app::search::ports::WordsDriver,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::search::ports::SearchHit>> {
                $crate::search::Settle::settle(self).await?;
                $crate::search::search_from_words($crate::rows::AsConn::conn(self), q, driver).await
            }
            async fn search_scope_batch(
                &mut self,
                q: &ryoritsu_app::search::ports::SearchQuery,
                after: Option<ryoritsu_app::search::ports::CasePosition>,
                batch: u32,
            ) -> ryoritsu_app::StoreResult<ryoritsu_app::search::ports::ScopeBatch> {
                $crate::search::Settle::settle(self).await?;
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
                $crate::search::Settle::settle(self).await?;
                $crate::search::search_matched_rows($crate::rows::AsConn::conn(self), q, cases)
                    .await
            }
            async fn search_hits(
                &mut self,
                cases: &[uuid::Uuid],
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::search::ports::SearchHit>> {
                $crate::search::Settle::settle(self).await?;
                $crate::search::search_hits($crate::rows::AsConn::conn(self), cases).await
            }
            async fn count_search_rows(&mut self) -> ryoritsu_app::StoreResult<i64> {
                $crate::search::Settle::settle(self).await?;
                $crate::search::count_search_rows($crate::rows::AsConn::conn(self)).await
            }
        }
    };
}
pub(crate) use impl_search_reads;

impl ryoritsu_app::search::ports::SearchWrites for crate::SqliteTx {
    async fn put_search_row(
        &mut self,
        row: &ryoritsu_app::search::ports::SearchRow,
    ) -> ryoritsu_app::StoreResult<()> {
        self.search.put(row);
        Ok(())
    }
    async fn replace_search_rows(
        &mut self,
        case: uuid::Uuid,
        rows: &[ryoritsu_app::search::ports::SearchRow],
    ) -> ryoritsu_app::StoreResult<()> {
        self.search
            .writes
            .push(SearchWrite::Replace(case, rows.to_vec()));
        Ok(())
    }
    async fn clear_search_rows(&mut self) -> ryoritsu_app::StoreResult<()> {
        self.search.writes.push(SearchWrite::Clear);
        Ok(())
    }
}

/// Before a read of the search index: the transaction's own queued writes are applied
/// first, so that it reads what it wrote. Read connections have none.
pub(crate) trait Settle: Send {
    fn settle(&mut self) -> impl std::future::Future<Output = StoreResult<()>> + Send;
}

impl Settle for crate::SqliteTx {
    async fn settle(&mut self) -> StoreResult<()> {
        let (conn, search) = self.parts();
        search.apply(conn).await
    }
}

impl Settle for crate::SqliteConn {
    async fn settle(&mut self) -> StoreResult<()> {
        Ok(())
    }
}

impl Settle for crate::SqliteSnapshot {
    async fn settle(&mut self) -> StoreResult<()> {
        Ok(())
    }
}
