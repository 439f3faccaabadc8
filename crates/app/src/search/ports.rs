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
    pub limit: u32,
    pub offset: u32,
    /// Where the search starts (only speed depends on it, never the answer).
    pub start: SearchStart,
}

/// Where a search starts: from the principal's cases within the filters (the access index,
/// then each case's few rows tested for the words), or from the rows the word index finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchStart {
    /// From the cases when fewer than [`SCOPE_FIRST_BELOW`] fall within the scope and the
    /// filters, and fewer than the rows holding the words (counted, each up to a bound,
    /// by index ranges); otherwise from the words.
    Cheaper,
    Words,
    Scope,
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

/// A row that matched, for excerpts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedRow {
    pub case_id: Uuid,
    pub source: String,
    pub category: String,
    pub body: String,
}

pub trait SearchReads: Send {
    /// The cases matching `q` within its keys, by score (highest first), then newest case
    /// first, then case id; and how many match in all, counted up to [`MAX_COUNTED`].
    fn search_cases(
        &mut self,
        q: &SearchQuery,
    ) -> impl Future<Output = StoreResult<(i64, Vec<SearchHit>)>> + Send;
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

/// Totals are counted up to this many cases: nobody pages further (100 pages of 20), and a
/// count of every match of a common word would cost as much as the matches.
pub const MAX_COUNTED: i64 = 2_001;

/// Up to this many cases within the principal's scope and the filters, a search may start
/// from the cases (a worker's own, a hospital's patients, HR's last month in one status):
/// each costs a lookup of its few rows, where a common word's list can hold a row of nearly
/// every case in the database.
pub const SCOPE_FIRST_BELOW: i64 = 5_000;

/// Rows per case assumed when weighing the two starts (a case has a name and a workplace
/// row and a row per document and note).
pub const ROWS_PER_CASE: i64 = 5;
