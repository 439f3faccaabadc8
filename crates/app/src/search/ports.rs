//! The storage ports for the full-text search index (each backend's own full-text engine)
//! and for the reading (フリガナ) of users' names.
//!
//! The index is derived data: rows are built by [`crate::search`] from the records, with the
//! words already cut and normalised by `ryoritsu_search`, and replaced per case inside the
//! write transaction that changed the case.

use std::future::Future;

use ryoritsu_domain::case::CaseStatus;
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
    /// search (the worker's name and the workplace).
    pub category: String,
    /// `<case id>:<category>`: matched against the keys a search may touch.
    pub scope_key: String,
    /// `<case id>:author:<user id>` for what a person wrote (they may read it whatever
    /// its category).
    pub own_key: Option<String>,
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
    /// The scope and own keys the principal may touch; nothing else is matched or counted.
    pub keys: Vec<String>,
    /// The principal's user id: a row they wrote is checked by its own key, others by their
    /// scope key (one key list to look up, not two).
    pub author: Uuid,
    /// FTS5 MATCH expression and PostgreSQL tsquery literal of the keywords, if any.
    pub fts5: Option<String>,
    pub tsquery: Option<String>,
    /// The same for the name, matched only in the case rows.
    pub name_fts5: Option<String>,
    pub name_tsquery: Option<String>,
    pub status: Option<CaseStatus>,
    /// Cases opened at or after `from` and before `until`.
    pub from: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    pub limit: u32,
    pub offset: u32,
}

/// One case found, with its rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchHit {
    pub case_id: Uuid,
    /// Sum of the weights of the rows that matched the keywords (0 without keywords).
    pub score: i64,
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
    /// first, then case id; and how many match in all.
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
    /// How many rows the index holds.
    fn count_search_rows(&mut self) -> impl Future<Output = StoreResult<i64>> + Send;
}

pub trait SearchWrites: SearchReads {
    /// Replaces every row of `case` with `rows`.
    fn replace_search_rows(
        &mut self,
        case: Uuid,
        rows: &[SearchRow],
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Empties the index (before a rebuild).
    fn clear_search_rows(&mut self) -> impl Future<Output = StoreResult<()>> + Send;
}

/// The category of the rows anyone who sees the case may search (the name and the
/// workplace).
pub const CASE_ROW: &str = "case";

/// The key a row is found by when the principal may read its category of the case.
pub fn scope_key(case: Uuid, category: &str) -> String {
    format!("{case}:{category}")
}

/// The key a row is found by for its author, whatever the author may read now.
pub fn own_key(case: Uuid, user: Uuid) -> String {
    format!("{case}:author:{user}")
}
