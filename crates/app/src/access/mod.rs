//! The access index: who may see which case and which of its categories, kept as rows.
//!
//! The rows of a case are the access policy's own answer for every subject of the case at
//! once ([`policy::case_grants`]), written in the same transaction as the case, its parties,
//! its consents and the employer's 取扱規程 they derive from: [`refresh_case`] after a change
//! to one case, [`apply_rules_change`] after a change of rules. Lists, search, tasks, exports
//! and FHIR searches ask the index for one page of case ids with [`App::scope_page`] (one
//! indexed range per key the principal holds); deciding one case still runs
//! `policy::decide_case` on its loaded context. Shared by every area, like the audit log.
//!
//! [`policy::case_grants`]: ryoritsu_domain::policy::case_grants

pub mod ports;

use std::collections::BTreeSet;

use ryoritsu_domain::case::CaseStatus;
use ryoritsu_domain::policy::{
    CaseContext, CaseGrant, HandlingRules, RulesDelta, case_grants, rules_delta, subject_keys,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::App;
use crate::accounts::Authenticated;
use crate::error::AppError;
use crate::ports::Store;
use ports::{AccessReads, AccessWrites, CaseCursor, GrantedCase, ScopeRange};

/// The most cases one page of any list holds.
pub const MAX_PAGE: u32 = 200;

/// Brings the rows of one case up to date with its context (inside the write transaction
/// that changed the case, its parties or its consents, after the change). The store writes
/// only the rows that differ ([`AccessWrites::set_case_grants`]): a consent adds a row or two
/// to the twenty or so a case holds, and rewriting them all changed every index page they
/// sit on, inside the writer.
pub async fn refresh_case<T: AccessWrites>(
    tx: &mut T,
    case: GrantedCase,
    ctx: &CaseContext,
) -> Result<(), AppError> {
    tx.set_case_grants(&case, &stored_grants(ctx)).await?;
    Ok(())
}

/// The rows of a case as the stores keep them: the policy's answer, times to the
/// microsecond, in order.
pub fn stored_grants(ctx: &CaseContext) -> Vec<CaseGrant> {
    let rows: BTreeSet<CaseGrant> = case_grants(ctx).into_iter().map(as_stored).collect();
    rows.into_iter().collect()
}

/// The rows to delete (held, not wanted) and to insert (wanted, not held) to bring `held`
/// to `wanted`, for a store that diffs on its side of the port (where a read costs no round
/// trip).
pub fn grants_diff(held: Vec<CaseGrant>, wanted: &[CaseGrant]) -> (Vec<CaseGrant>, Vec<CaseGrant>) {
    let wanted: BTreeSet<CaseGrant> = wanted.iter().copied().map(as_stored).collect();
    let held: BTreeSet<CaseGrant> = held.into_iter().map(as_stored).collect();
    (
        held.difference(&wanted).copied().collect(),
        wanted.difference(&held).copied().collect(),
    )
}

/// A row as the stores keep it: times to the microsecond.
fn as_stored(mut g: CaseGrant) -> CaseGrant {
    let micros = |t: OffsetDateTime| {
        t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
            .unwrap_or(t)
    };
    g.valid_from = g.valid_from.map(micros);
    g.valid_until = g.valid_until.map(micros);
    g
}

/// The changes to the rows of an employer's cases after its rules went from `old` to `new`:
/// the set-wise ones are applied here; the roles whose consents count again are returned,
/// and the caller rebuilds the cases that have a consent naming them ([`refresh_case`]).
pub async fn apply_rules_change<T: AccessWrites>(
    tx: &mut T,
    employer: Uuid,
    old: &HandlingRules,
    new: &HandlingRules,
) -> Result<BTreeSet<ryoritsu_domain::org::Role>, AppError> {
    let mut rebuild = BTreeSet::new();
    for delta in rules_delta(employer, old, new) {
        match delta {
            RulesDelta::RebuildConsents { role, .. } => {
                rebuild.insert(role);
            }
            other => tx.apply_rules_delta(employer, other).await?,
        }
    }
    Ok(rebuild)
}

/// Which cases a list asks for, and where its page starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScopeFilter {
    pub status: Option<CaseStatus>,
    /// Cases opened at or after this time.
    pub opened_from: Option<OffsetDateTime>,
    /// Cases opened before this time.
    pub opened_until: Option<OffsetDateTime>,
}

/// One page of case ids, newest first, and where the next page starts (none after the last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopePage {
    pub cases: Vec<CaseCursor>,
    pub next: Option<CaseCursor>,
}

/// Merges the ranges of several keys (each newest first) into one page of distinct cases.
/// Each range was read with `limit + 1` rows, which is enough: a case among the first
/// `limit + 1` distinct cases of the union is among the first `limit + 1` of every range
/// that holds it.
fn merge_ranges(ranges: Vec<Vec<CaseCursor>>, limit: usize) -> ScopePage {
    let mut all: Vec<CaseCursor> = ranges.into_iter().flatten().collect();
    all.sort_by(|a, b| b.opened_at.cmp(&a.opened_at).then(b.case.cmp(&a.case)));
    all.dedup_by_key(|c| c.case);
    let next = if all.len() > limit {
        all.truncate(limit);
        all.last().copied()
    } else {
        None
    };
    ScopePage { cases: all, next }
}

impl<S: Store> App<S> {
    /// One page of the cases the principal takes part in, newest first: one indexed range
    /// per key the principal holds, never a look at a case outside the page. Nothing while
    /// a second factor is owed.
    pub async fn scope_page(
        &self,
        auth: &Authenticated,
        filter: ScopeFilter,
        after: Option<CaseCursor>,
        limit: u32,
    ) -> Result<ScopePage, AppError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let keys = subject_keys(&auth.principal);
        let mut c = self.store.read().await?;
        let mut ranges = Vec::with_capacity(keys.len());
        for key in &keys {
            ranges.push(
                c.cases_in_scope(&ScopeRange {
                    key,
                    status: filter.status,
                    opened_from: filter.opened_from,
                    opened_until: filter.opened_until,
                    after,
                    limit: limit + 1,
                })
                .await?,
            );
        }
        Ok(merge_ranges(ranges, limit as usize))
    }

    /// The first `n` cases the principal takes part in, newest first (for a search by
    /// filters only, which pages by number up to a bound rather than by cursor).
    pub async fn scope_prefix(
        &self,
        auth: &Authenticated,
        filter: ScopeFilter,
        n: usize,
    ) -> Result<Vec<CaseCursor>, AppError> {
        let keys = subject_keys(&auth.principal);
        let limit = u32::try_from(n).unwrap_or(u32::MAX);
        let mut c = self.store.read().await?;
        let mut ranges = Vec::with_capacity(keys.len());
        for key in &keys {
            ranges.push(
                c.cases_in_scope(&ScopeRange {
                    key,
                    status: filter.status,
                    opened_from: filter.opened_from,
                    opened_until: filter.opened_until,
                    after: None,
                    limit,
                })
                .await?,
            );
        }
        Ok(merge_ranges(ranges, n).cases)
    }

    /// Of `cases`, those of which the principal may read `scope` (a category code, or
    /// `case`) now, by the index.
    pub async fn cases_granting(
        &self,
        auth: &Authenticated,
        cases: &[Uuid],
        scope: &str,
    ) -> Result<BTreeSet<Uuid>, AppError> {
        let keys = subject_keys(&auth.principal);
        let mut c = self.store.read().await?;
        Ok(c.cases_granting(cases, &keys, scope, self.now())
            .await?
            .into_iter()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(n: i64, case: u128) -> CaseCursor {
        CaseCursor {
            opened_at: OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(n),
            case: Uuid::from_u128(case),
        }
    }

    #[test]
    fn ranges_merge_newest_first_without_repeats() {
        let page = merge_ranges(
            vec![
                vec![at(9, 1), at(7, 2), at(5, 3)],
                vec![at(9, 1), at(8, 4), at(5, 3)],
                vec![],
            ],
            3,
        );
        assert_eq!(page.cases, vec![at(9, 1), at(8, 4), at(7, 2)]);
        assert_eq!(page.next, Some(at(7, 2)));
        let last = merge_ranges(vec![vec![at(5, 3)], vec![at(5, 3)]], 3);
        assert_eq!(last.cases, vec![at(5, 3)]);
        assert_eq!(last.next, None);
    }

    #[test]
    fn a_cursor_survives_its_url_form_and_nothing_else_is_one() {
        let c = at(1_800_000_000, 0xABCD);
        assert_eq!(CaseCursor::from_token(&c.token()), Some(c));
        for bad in [
            "",
            ".",
            "12",
            "x.y",
            "1.not-a-uuid",
            "99999999999999999999.0",
        ] {
            assert_eq!(CaseCursor::from_token(bad), None, "{bad}");
        }
    }

    #[test]
    fn cases_opened_at_the_same_moment_are_ordered_by_id() {
        let page = merge_ranges(vec![vec![at(5, 2), at(5, 1)], vec![at(5, 3)]], 2);
        assert_eq!(page.cases, vec![at(5, 3), at(5, 2)]);
        assert_eq!(page.next, Some(at(5, 2)));
    }
}
