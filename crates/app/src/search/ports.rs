//! The storage ports for the full-text search index (each backend's own full-text engine)
//! and for the reading (フリガナ) of users' names.
//!
//! The index is derived data: rows are built from the records (`cases::search_index`), with
//! the words already cut and normalised by `ryoritsu_search`, and written inside the write
//! transaction that changed the text: one row at a time (a document saved, a note added),
//! or a case at a time when it is built whole. A search is scoped by the access index
//! (`case_grants`): a row is matched only where one of the principal's keys may read its
//! category of its case, or the principal wrote it.

use std::future::Future;

use ryoritsu_domain::case::CaseStatus;
pub use ryoritsu_search::{Phrase, Query};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreResult;

/// One row of the index: a piece of a case's text the policy decides on as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRow {
    pub case_id: Uuid,
    /// `name` (one per case), `workplace`, `document:<form>:<id>` or `note:<id>`.
    pub source: String,
    /// The information category code, or `case` for the rows anyone who sees the case may
    /// search (the worker's name and the workplace): the scope of the access index it is
    /// matched against.
    pub category: String,
    /// Who wrote it (a document's author, a note's): they may search it whatever its
    /// category, as long as they see the case.
    pub author: Option<Uuid>,
    /// How much a match in this row counts towards the case's rank.
    pub weight: i32,
    /// The original text, for excerpts.
    pub body: String,
    /// The normalised words, in order.
    pub words: Vec<String>,
}

impl SearchRow {
    /// The words as FTS5 (`unicode61`) stores them.
    pub fn fts5_words(&self) -> String {
        ryoritsu_search::fts5_document(&self.words)
    }

    /// The words as a PostgreSQL `tsvector` literal, with positions.
    pub fn tsvector(&self) -> String {
        ryoritsu_search::tsvector_literal(&self.words)
    }
}

/// A search as the store runs it. Every condition given must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// The principal's keys in the access index (`policy::subject_keys`): nothing outside
    /// what they open is matched, counted or quoted.
    pub keys: Vec<String>,
    /// The principal's user id: a row they wrote is theirs to search.
    pub author: Uuid,
    /// The moment the consents are checked at.
    pub now: OffsetDateTime,
    /// The keywords, if any (each store writes them in its own engine's terms:
    /// `Query::fts5`, `Query::tsquery`, `Query::phrases`).
    pub words: Option<Query>,
    /// A name, matched only in the case rows.
    pub name: Option<Query>,
    pub status: Option<CaseStatus>,
    /// Cases opened at or after `from` and before `until`.
    pub from: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    /// The page wanted: `limit` matching cases after the first `offset` (newest first).
    pub limit: u32,
    pub offset: u32,
    /// Where the search starts (only speed depends on it, never the answer).
    pub start: SearchStart,
}

/// Where a search starts: from the rows the word index finds for the rarer of the words and
/// the name, or from the principal's cases within the filters, newest first, testing each
/// case's few rows until the page is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchStart {
    /// From the words when fewer than [`WORDS_FIRST_BELOW`] rows of the whole index hold
    /// them (counted up to that bound), otherwise from the cases.
    Cheaper,
    Words,
    Scope,
}

/// Which of a query's two parts the word index is asked for (the other is tested on the
/// rows of each case found).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordsDriver {
    Words,
    Name,
}

/// One case found, with its rank and what a result shows of the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchHit {
    pub case_id: Uuid,
    /// Sum of the weights of the rows that matched the keywords (0 without keywords).
    pub score: i64,
    pub worker_id: Uuid,
    pub employer_id: Uuid,
    pub status: CaseStatus,
    pub opened_at: OffsetDateTime,
}

impl SearchHit {
    pub fn position(&self) -> CasePosition {
        CasePosition {
            opened_at: self.opened_at,
            case_id: self.case_id,
        }
    }
}

/// Where a case stands in a search's order: newest case first (申出日 and time), then the
/// case id, descending. Both backends compare ids byte by byte, as `Uuid`'s `Ord` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CasePosition {
    pub opened_at: OffsetDateTime,
    pub case_id: Uuid,
}

/// Part of a search started from the principal's cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeBatch {
    /// How many of the principal's cases within the filters were examined.
    pub examined: u32,
    /// The last case examined, where the next batch goes on; `None` once no older case is
    /// left.
    pub next: Option<CasePosition>,
    /// The examined cases that match, newest first.
    pub hits: Vec<SearchHit>,
}

impl ScopeBatch {
    /// A batch of `batch` asked for, `examined` given, the last of them at `last`: a full
    /// batch may have older cases after it; a short one was the end of the scope.
    pub fn new(
        batch: u32,
        examined: usize,
        last: Option<CasePosition>,
        hits: Vec<SearchHit>,
    ) -> ScopeBatch {
        let examined = u32::try_from(examined).unwrap_or(u32::MAX);
        ScopeBatch {
            examined,
            next: last.filter(|_| examined >= batch),
            hits,
        }
    }
}

/// A row that matched, for excerpts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedRow {
    pub case_id: Uuid,
    pub source: String,
    pub category: String,
    pub body: String,
}

pub trait SearchReads: Send {
    /// How many rows of the whole index hold `words` (in any case, seen by anyone),
    /// counted up to `bound`: an index range, to weigh where a search starts.
    fn count_word_rows(
        &mut self,
        words: &Query,
        bound: i64,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// Every case matching `q` within its keys and filters, newest first, found from the
    /// rows the word index gives for `driver` (the caller has counted them: the answer is
    /// as long as that count at most).
    fn search_from_words(
        &mut self,
        q: &SearchQuery,
        driver: WordsDriver,
    ) -> impl Future<Output = StoreResult<Vec<SearchHit>>> + Send;
    /// Up to `batch` of the principal's cases within `q`'s filters, newest first, older
    /// than `after` (from the newest without it), and which of them match `q`: index
    /// ranges of the access index, then each case's few rows.
    fn search_scope_batch(
        &mut self,
        q: &SearchQuery,
        after: Option<CasePosition>,
        batch: u32,
    ) -> impl Future<Output = StoreResult<ScopeBatch>> + Send;
    /// The rows of `cases` that match `q`'s keywords within its keys, heaviest first.
    fn search_matched_rows(
        &mut self,
        q: &SearchQuery,
        cases: &[Uuid],
    ) -> impl Future<Output = StoreResult<Vec<MatchedRow>>> + Send;
    /// What a result shows of each of `cases` (score 0), in the order given; a case that
    /// does not exist is left out.
    fn search_hits(
        &mut self,
        cases: &[Uuid],
    ) -> impl Future<Output = StoreResult<Vec<SearchHit>>> + Send;
    /// How many rows the index holds.
    fn count_search_rows(&mut self) -> impl Future<Output = StoreResult<i64>> + Send;
}

pub trait SearchWrites: SearchReads {
    /// Puts one row in place of the row of the same case and source, if any (a row without
    /// words removes it).
    fn put_search_row(&mut self, row: &SearchRow) -> impl Future<Output = StoreResult<()>> + Send;
    /// Replaces every row of `case` with `rows` (a case built whole).
    fn replace_search_rows(
        &mut self,
        case: Uuid,
        rows: &[SearchRow],
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Empties the index (before a rebuild).
    fn clear_search_rows(&mut self) -> impl Future<Output = StoreResult<()>> + Send;
}

/// The category of the rows anyone who sees the case may search (the name and the
/// workplace): the access index's scope of the case itself.
pub const CASE_ROW: &str = "case";

/// A list of cases by the filters alone counts up to this many (shown as 「2,000件以上」):
/// nobody pages further (100 pages of 20).
pub const MAX_COUNTED: i64 = 2_001;

/// A search starts from the word index when fewer rows than this hold its rarer part
/// (each costs an index entry, a row and a scope check); a common word starts from the
/// principal's cases instead, newest first, and stops when the page is full.
pub const WORDS_FIRST_BELOW: i64 = 1_000;

/// A search started from the cases examines at most this many of them, then answers with
/// what it found and says so (the person narrows the dates or the status to go further
/// back): a word found in none of someone's 100,000 cases must not cost 100,000 lookups.
pub const SCAN_BUDGET: u32 = 5_000;

/// The first batch of cases examined, and the largest (each batch doubles).
pub const FIRST_BATCH: u32 = 64;
pub const LARGEST_BATCH: u32 = 1_024;
