//! Search for staff: cases and documents by what people type, within what each may see.
//!
//! The index ([`crate::search::ports`]) holds, per case, a row for the worker's name and its
//! reading and one for the employer and workplace (searchable by anyone who sees the case),
//! one per document revision (its form's category) and one per consultation note. The cases
//! area writes them in the transaction of every change to that text, so a search never
//! misses a confirmed change nor finds a removed text.
//!
//! A search is scoped by the access index (`crate::access`): the store matches a row only
//! where one of the principal's keys opens its category of its case now (or the principal
//! wrote it), and only in cases they see. Ranking, totals and excerpts never touch anything
//! else, and nothing is loaded case by case. Without words or a name, the search lists the
//! principal's cases by the index's date order. Excerpts of health information are reads of
//! it and are recorded in the audit log as the case pages record theirs, before the answer
//! is given.

pub mod ports;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ryoritsu_domain::audit::{AuditAction, AuditEvent};
use ryoritsu_domain::case::CaseStatus;
use ryoritsu_domain::forms::FormKind;
use ryoritsu_domain::info::InformationCategory;
use ryoritsu_domain::org::Role;
use ryoritsu_domain::policy::{Denial, subject_keys};
use ryoritsu_domain::{FieldError, ValidationErrors, wareki};
use ryoritsu_search::{Fragment, Query};
use time::{Date, OffsetDateTime, UtcOffset};
use uuid::Uuid;

use crate::access::ScopeFilter;
use crate::accounts::Authenticated;
use crate::accounts::ports::AccountReads;
use crate::error::AppError;
use crate::error::StoreResult;
use crate::ports::{Store, WriteRepo as _};
use crate::search::ports::{
    FIRST_BATCH, LARGEST_BATCH, MAX_COUNTED, SCAN_BUDGET, SearchHit, SearchQuery, SearchReads,
    SearchStart, WORDS_FIRST_BELOW, WordsDriver,
};
use crate::{App, RequestContext};

/// Results per page, on the page and in the API.
pub const PER_PAGE: u32 = 20;
/// Pages beyond this are refused: nobody reads the 2,000th result, and deep offsets cost.
pub const MAX_PAGE: u32 = 100;
/// Excerpts shown per case, and their length in characters.
const SNIPPETS_PER_CASE: usize = 3;
const SNIPPET_CHARS: usize = 80;

/// Japan's offset: dates typed into the form are Japanese calendar days.
const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// What a person typed into the search form (or the API's query string).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchInput {
    pub q: String,
    pub name: String,
    pub status: String,
    pub from: String,
    pub to: String,
    /// 1-based; empty means the first.
    pub page: String,
}

/// Which document or note an excerpt comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// `name`, `workplace`, `document` or `note`.
    pub kind: &'static str,
    /// The document's or note's id.
    pub id: Option<Uuid>,
    /// Where it comes from, in words: 「氏名」「勤務先」, the form's name, 「相談記録」.
    pub label: String,
    pub category: Option<InformationCategory>,
    pub fragments: Vec<Fragment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchResult {
    pub case_id: Uuid,
    pub worker_name: String,
    pub status: CaseStatus,
    pub opened_at: OffsetDateTime,
    pub score: i64,
    pub snippets: Vec<Snippet>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchResults {
    /// Matching cases known: all of them when `total_complete`, otherwise at least this
    /// many (the count stops one page ahead, or where the search stopped looking).
    pub total: i64,
    pub total_complete: bool,
    /// False when the search examined its budget of the newest cases ([`SCAN_BUDGET`])
    /// without reaching the oldest: narrowing the dates or the status searches further.
    pub searched_all: bool,
    pub page: u32,
    pub per_page: u32,
    pub results: Vec<SearchResult>,
}

impl SearchResults {
    /// The pages there are to go to: those the known cases fill, and one more where more
    /// cases are known to match beyond them.
    pub fn pages(&self) -> u32 {
        let n = u32::try_from(self.total.max(0)).unwrap_or(u32::MAX);
        let more = u32::from(!self.total_complete && self.searched_all);
        (n.div_ceil(PER_PAGE) + more).min(MAX_PAGE)
    }
}

/// What a search found for its page (see [`find`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The page's cases, newest first.
    pub hits: Vec<SearchHit>,
    /// As [`SearchResults::total`].
    pub total: i64,
    pub complete: bool,
    pub searched_all: bool,
}

/// The page of cases matching `q`, newest first, and how many match.
///
/// When fewer than [`WORDS_FIRST_BELOW`] rows of the index hold the rarer of the words and
/// the name, every case they belong to is checked (scope, filters, the other part) and
/// counted exactly. Otherwise the principal's cases within the filters are examined newest
/// first in growing batches, each case's few rows tested, until one case past the page has
/// matched (the total is then a lower bound), the cases run out (exact), or
/// [`SCAN_BUDGET`] cases have been examined. The cost is bounded by those constants and
/// the page, never by the number of cases in the database.
pub async fn find<C: SearchReads>(c: &mut C, q: &SearchQuery) -> StoreResult<Found> {
    find_within(c, q, SCAN_BUDGET, None).await
}

/// Words that lately stood in at least [`WORDS_FIRST_BELOW`] rows of the index. Such a
/// word stays common (rows are rarely removed), and counting its rows up to the bound
/// costs a walk through that many entries of the word index on every search: a search
/// for it starts from the cases without counting again. Only the choice of where a
/// search starts depends on this, never what it finds. A map behind a lock is enough here
/// (a few thousand short keys, one lookup per search, forgotten all at once when full): a
/// caching crate would add eviction policies and threads this does not need.
#[derive(Debug, Default)]
pub struct CommonWords(Mutex<HashMap<String, Instant>>);

impl CommonWords {
    /// How long a count is trusted.
    const KEPT: Duration = Duration::from_secs(600);
    /// Words remembered at most (the memo starts again when full).
    const MOST: usize = 4_096;

    pub(crate) fn is_common(&self, key: &str) -> bool {
        let Ok(m) = self.0.lock() else { return false };
        m.get(key).is_some_and(|at| at.elapsed() < Self::KEPT)
    }

    pub(crate) fn remember(&self, key: String) {
        let Ok(mut m) = self.0.lock() else { return };
        if m.len() >= Self::MOST {
            m.clear();
        }
        m.insert(key, Instant::now());
    }
}

/// [`find`], examining at most `budget` cases when it starts from them; `common` spares
/// counting the rows of words known to be common.
pub async fn find_within<C: SearchReads>(
    c: &mut C,
    q: &SearchQuery,
    budget: u32,
    common: Option<&CommonWords>,
) -> StoreResult<Found> {
    if q.words.is_none() && q.name.is_none() {
        return Ok(Found {
            hits: Vec::new(),
            total: 0,
            complete: true,
            searched_all: true,
        });
    }
    let offset = q.offset as usize;
    let want = offset + q.limit as usize;
    let driver = match q.start {
        SearchStart::Words if q.words.is_some() => Some(WordsDriver::Words),
        SearchStart::Words => Some(WordsDriver::Name),
        SearchStart::Scope => None,
        SearchStart::Cheaper => {
            let mut best: Option<(i64, WordsDriver)> = None;
            for (part, driver) in [(&q.words, WordsDriver::Words), (&q.name, WordsDriver::Name)] {
                if let Some(words) = part {
                    let key = words.fts5();
                    let n = if common.is_some_and(|m| m.is_common(&key)) {
                        WORDS_FIRST_BELOW
                    } else {
                        let n = c.count_word_rows(words, WORDS_FIRST_BELOW).await?;
                        if n >= WORDS_FIRST_BELOW
                            && let Some(m) = common
                        {
                            m.remember(key);
                        }
                        n
                    };
                    if n < WORDS_FIRST_BELOW && best.is_none_or(|(m, _)| n < m) {
                        best = Some((n, driver));
                    }
                }
            }
            best.map(|(_, d)| d)
        }
    };
    // Every case matching in order (complete), or the newest ones and why the search stopped.
    let (mut matched, complete, searched_all) = match driver {
        Some(driver) => (c.search_from_words(q, driver).await?, true, true),
        None => {
            let mut matched: Vec<SearchHit> = Vec::new();
            let mut after = None;
            let mut examined = 0u32;
            let mut batch = (2 * (want as u32 + 1)).clamp(FIRST_BATCH, LARGEST_BATCH);
            loop {
                let b = c
                    .search_scope_batch(q, after, batch.min(budget - examined))
                    .await?;
                examined += b.examined;
                matched.extend(b.hits);
                match b.next {
                    // One case past the page: there are more; the count stops here.
                    _ if matched.len() > want => {
                        matched.truncate(want);
                        break (matched, false, true);
                    }
                    None => break (matched, true, true),
                    Some(_) if examined >= budget => break (matched, false, false),
                    Some(next) => after = Some(next),
                }
                batch = (batch * 2).min(LARGEST_BATCH);
            }
        }
    };
    let total = matched.len() as i64;
    matched.truncate(want);
    Ok(Found {
        hits: matched.into_iter().skip(offset).collect(),
        total,
        complete,
        searched_all,
    })
}

/// A parsed search: the queries and the filters.
struct Parsed {
    q: Option<Query>,
    name: Option<Query>,
    status: Option<CaseStatus>,
    from: Option<OffsetDateTime>,
    until: Option<OffsetDateTime>,
    page: u32,
}

fn query_field(field: &str, input: &str, errs: &mut ValidationErrors) -> Option<Query> {
    if input.trim().is_empty() {
        return None;
    }
    match Query::parse(input) {
        Ok(q) => Some(q),
        Err(e) => {
            errs.push(FieldError::new(field, e.code(), e.message()));
            None
        }
    }
}

fn date_field(field: &str, label: &str, input: &str, errs: &mut ValidationErrors) -> Option<Date> {
    if input.trim().is_empty() {
        return None;
    }
    match wareki::parse(input, label) {
        Ok(d) => Some(d),
        Err(e) => {
            errs.push(e.into_field_error(field));
            None
        }
    }
}

fn parse(input: &SearchInput) -> Result<Parsed, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let q = query_field("q", &input.q, &mut errs);
    let name = query_field("name", &input.name, &mut errs);
    let status = match input.status.trim() {
        "" => None,
        s => {
            let st = CaseStatus::from_code(s);
            if st.is_none() {
                errs.push(FieldError::new(
                    "status",
                    "invalid_status",
                    "状況は一覧から選んでください。",
                ));
            }
            st
        }
    };
    let from = date_field("from", "期間の開始日", &input.from, &mut errs);
    let to = date_field("to", "期間の終了日", &input.to, &mut errs);
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        errs.push(FieldError::new(
            "to",
            "range_reversed",
            "期間の終了日は開始日以降の日付にしてください。",
        ));
    }
    let page = match input.page.trim() {
        "" => 1,
        p => match p.parse::<u32>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                errs.push(FieldError::new(
                    "page",
                    "invalid_page",
                    format!("ページは1から{MAX_PAGE}までの数字で指定してください。"),
                ));
                1
            }
        },
    };
    errs.into_result(())?;
    Ok(Parsed {
        q,
        name,
        status,
        from: from.map(|d| d.midnight().assume_offset(JST)),
        until: to
            .and_then(|d| d.next_day())
            .map(|d| d.midnight().assume_offset(JST)),
        page,
    })
}

/// Roles that search cases: staff of employers, hospitals and support agencies.
fn is_staff(role: Role) -> bool {
    matches!(
        role,
        Role::HrOfficer
            | Role::LineManager
            | Role::OccupationalPhysician
            | Role::OccupationalHealthStaff
            | Role::AttendingPhysician
            | Role::HospitalCoordinator
            | Role::AgencyCoordinator
    )
}

/// Whether the person may use the search page at all (what they find is still limited to
/// their cases).
pub fn may_search(auth: &Authenticated) -> bool {
    auth.memberships.iter().any(|m| is_staff(m.role))
}

fn snippet_source(source: &str) -> (&'static str, Option<Uuid>, String) {
    let mut parts = source.split(':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("document"), Some(form), Some(id)) => (
            "document",
            Uuid::parse_str(id).ok(),
            FormKind::from_code(form)
                .map(|f| f.label().to_owned())
                .unwrap_or_default(),
        ),
        (Some("note"), Some(id), _) => (
            "note",
            Uuid::parse_str(id).ok(),
            InformationCategory::ConsultationNotes.label().to_owned(),
        ),
        (Some("workplace"), _, _) => ("workplace", None, "勤務先".to_owned()),
        _ => ("name", None, "氏名".to_owned()),
    }
}

impl<S: Store> App<S> {
    /// Cases (and excerpts) matching the search, only among what the principal may read.
    pub async fn search(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        input: &SearchInput,
    ) -> Result<SearchResults, AppError> {
        if !may_search(auth) {
            return Err(AppError::Denied(Denial::Forbidden));
        }
        let parsed = parse(input)?;
        let keys = subject_keys(&auth.principal);
        let mut results = SearchResults {
            total: 0,
            total_complete: true,
            searched_all: true,
            page: parsed.page,
            per_page: PER_PAGE,
            results: Vec::new(),
        };
        if keys.is_empty() {
            return Ok(results);
        }
        let offset = (parsed.page - 1) * PER_PAGE;
        let query = SearchQuery {
            keys,
            author: auth.user.id,
            now: self.now(),
            words: parsed.q.clone(),
            name: parsed.name.clone(),
            status: parsed.status,
            from: parsed.from,
            until: parsed.until,
            limit: PER_PAGE,
            offset,
            start: SearchStart::Cheaper,
        };
        let hits = if parsed.q.is_none() && parsed.name.is_none() {
            // Only filters: the principal's cases in the index's date order.
            let filter = ScopeFilter {
                status: parsed.status,
                opened_from: parsed.from,
                opened_until: parsed.until,
            };
            let found = self
                .scope_prefix(auth, filter, MAX_COUNTED as usize)
                .await?;
            let page: Vec<Uuid> = found
                .iter()
                .skip(offset as usize)
                .take(PER_PAGE as usize)
                .map(|c| c.case)
                .collect();
            let hits = self.store.read().await?.search_hits(&page).await?;
            let counted = found.len() as i64;
            results.total = counted.min(MAX_COUNTED - 1);
            results.total_complete = counted < MAX_COUNTED;
            hits
        } else {
            let found = find_within(
                &mut self.store.read().await?,
                &query,
                SCAN_BUDGET,
                Some(&self.common_words),
            )
            .await?;
            results.total = found.total;
            results.total_complete = found.complete;
            results.searched_all = found.searched_all;
            found.hits
        };
        let mut c = self.store.read().await?;
        let page_cases: Vec<Uuid> = hits.iter().map(|h| h.case_id).collect();
        let mut matched = c.search_matched_rows(&query, &page_cases).await?;
        if parsed.name.is_some() {
            // The name's own matches, shown from the case row.
            let by_name = SearchQuery {
                words: query.name.clone(),
                ..query.clone()
            };
            matched.extend(
                c.search_matched_rows(&by_name, &page_cases)
                    .await?
                    .into_iter()
                    .filter(|r| r.source == "name"),
            );
        }
        let mut read: BTreeSet<(Uuid, InformationCategory)> = BTreeSet::new();
        let mut employers: BTreeMap<Uuid, Uuid> = BTreeMap::new();
        for hit in hits {
            employers.insert(hit.case_id, hit.employer_id);
            let worker_name = c
                .get_user(hit.worker_id)
                .await?
                .map(|u| u.display_name.to_string())
                .unwrap_or_default();
            let mut snippets = Vec::new();
            let mut seen = BTreeSet::new();
            for row in matched.iter().filter(|r| r.case_id == hit.case_id) {
                if snippets.len() >= SNIPPETS_PER_CASE || !seen.insert(row.source.clone()) {
                    continue;
                }
                let q = if row.source == "name" && parsed.name.is_some() {
                    parsed.name.as_ref()
                } else {
                    parsed.q.as_ref()
                };
                let fragments = q
                    .and_then(|q| q.snippet(&row.body, SNIPPET_CHARS))
                    .or_else(|| {
                        // The other query may be the one that matched this row.
                        parsed.q.as_ref()?.snippet(&row.body, SNIPPET_CHARS)
                    });
                let Some(fragments) = fragments else {
                    continue;
                };
                let category = InformationCategory::from_code(&row.category);
                if let Some(cat) = category
                    && cat.is_sensitive()
                {
                    read.insert((hit.case_id, cat));
                }
                let (kind, id, label) = snippet_source(&row.source);
                snippets.push(Snippet {
                    kind,
                    id,
                    label,
                    category,
                    fragments,
                });
            }
            results.results.push(SearchResult {
                case_id: hit.case_id,
                worker_name,
                status: hit.status,
                opened_at: hit.opened_at,
                score: hit.score,
                snippets,
            });
        }
        drop(c);
        if !read.is_empty() {
            // Excerpts of health information are reads of it: recorded, durably, before the
            // answer is given (fail closed), as the case pages record theirs.
            let events: Vec<AuditEvent> = read
                .into_iter()
                .map(|(case, cat)| {
                    let org = employers.get(&case).copied().unwrap_or(case);
                    let mut ev = self.case_event(ctx, auth, org, AuditAction::Read, case);
                    ev.category = Some(cat);
                    ev.purpose = Some("search".into());
                    ev
                })
                .collect();
            self.writer
                .write(move |tx| {
                    Box::pin(async move {
                        tx.append_audits(&events).await?;
                        Ok(())
                    })
                })
                .await?;
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::CommonWords;

    #[test]
    fn common_words_are_remembered_until_the_memo_is_full() {
        let m = CommonWords::default();
        assert!(!m.is_common("'通院'"));
        m.remember("'通院'".into());
        assert!(m.is_common("'通院'"));
        assert!(!m.is_common("'残業'"));
        for i in 0..CommonWords::MOST {
            m.remember(format!("'w{i}'"));
        }
        // Full: it started again, so the first word is counted again.
        assert!(!m.is_common("'通院'"));
        assert!(m.is_common(&format!("'w{}'", CommonWords::MOST - 1)));
    }
}
