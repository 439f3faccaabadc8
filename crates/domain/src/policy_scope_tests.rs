//! The access index against the single-case decision, on random worlds: for every principal,
//! case, category and moment, [`grants_allow`] over [`case_grants`] answers exactly as
//! [`decide_case`] does; and a change of 取扱規程 applied as [`rules_delta`] leaves the same rows
//! as building them again.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::*;
use crate::consent::{Consent, Recipient};

const EMPLOYERS: [u128; 2] = [0xE1, 0xE2];
const HOSPITALS: [u128; 2] = [0xB1, 0xB2];
const AGENCY: u128 = 0xA1;
const USERS: u128 = 6;
const CASE: u128 = 0xC1;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn base() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn at(hours: i64) -> OffsetDateTime {
    base() + Duration::hours(hours)
}

fn kind_of(org: u128) -> OrganisationKind {
    if EMPLOYERS.contains(&org) {
        OrganisationKind::Employer
    } else if HOSPITALS.contains(&org) {
        OrganisationKind::MedicalInstitution
    } else {
        OrganisationKind::SupportAgency
    }
}

fn orgs() -> Vec<u128> {
    let mut v = EMPLOYERS.to_vec();
    v.extend(HOSPITALS);
    v.push(AGENCY);
    v
}

fn memberships() -> impl Strategy<Value = Vec<(u128, Role)>> {
    let pairs: Vec<(u128, Role)> = orgs()
        .into_iter()
        .flat_map(|o| {
            Role::ALL
                .iter()
                .copied()
                .filter(move |r| r.allowed_in(kind_of(o)))
                .map(move |r| (o, r))
        })
        .collect();
    proptest::sample::subsequence(pairs.clone(), 0..5)
}

fn principal() -> impl Strategy<Value = Principal> {
    (
        1..=USERS,
        memberships(),
        prop::bool::weighted(0.85),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(user, ms, second_factor_ok, operator)| Principal {
            user: id(user),
            operator,
            memberships: ms
                .into_iter()
                .map(|(o, role)| MembershipRef {
                    organisation: id(o),
                    kind: kind_of(o),
                    role,
                })
                .collect(),
            second_factor_ok,
        })
}

fn category() -> impl Strategy<Value = InformationCategory> {
    proptest::sample::select(InformationCategory::ALL.to_vec())
}

fn consent(n: u128, worker: Uuid) -> impl Strategy<Value = Consent> {
    (
        proptest::sample::select(orgs()),
        proptest::sample::select(Role::ALL.to_vec()),
        proptest::option::weighted(0.4, 1..=USERS),
        proptest::collection::btree_set(category(), 1..4),
        -3i64..3,
        proptest::option::of(-2i64..5),
        proptest::option::of(-2i64..5),
        prop::bool::weighted(0.9),
        prop::bool::weighted(0.9),
    )
        .prop_map(
            move |(
                org,
                role,
                person,
                categories,
                granted,
                expires,
                withdrawn,
                same_case,
                same_worker,
            )| {
                Consent {
                    id: id(0x5000 + n),
                    worker: if same_worker { worker } else { id(0x99) },
                    case: if same_case { id(CASE) } else { id(0xC2) },
                    recipient: Recipient {
                        organisation: id(org),
                        role,
                        person: person.map(id),
                    },
                    categories,
                    purpose: "両立支援のため".into(),
                    granted_at: at(granted),
                    expires_at: expires.map(|h| at(granted + h)),
                    withdrawn_at: withdrawn.map(|h| at(granted + h)),
                    explanation_version: 1,
                }
            },
        )
}

/// Rules as an employer might store them: the defaults, narrowed (or, as if written by
/// something that skipped validation, widened) here and there; sometimes another employer's.
fn rules(employer: Uuid) -> impl Strategy<Value = HandlingRules> {
    let cells: Vec<(Role, InformationCategory)> = HandlingRules::ROLES
        .iter()
        .flat_map(|&r| InformationCategory::ALL.iter().map(move |&c| (r, c)))
        .collect();
    let n = cells.len();
    (
        proptest::collection::vec(
            proptest::option::weighted(
                0.3,
                proptest::sample::select(vec![Access::Never, Access::WithConsent, Access::Always]),
            ),
            n,
        ),
        prop::bool::weighted(0.95),
    )
        .prop_map(move |(changes, own)| {
            let mut r = HandlingRules::defaults(if own { employer } else { id(0xEE) });
            for ((role, category), change) in cells.iter().zip(changes) {
                if let Some(access) = change {
                    r.grants.entry(*role).or_default().insert(*category, access);
                }
            }
            r
        })
}

fn context() -> impl Strategy<Value = CaseContext> {
    (
        1..=USERS,
        proptest::sample::select(EMPLOYERS.to_vec()),
        prop::bool::ANY,
        proptest::sample::subsequence((1..=USERS).collect::<Vec<_>>(), 0..3),
        proptest::sample::subsequence(HOSPITALS.to_vec(), 0..3),
        proptest::sample::subsequence(
            (1..=USERS)
                .flat_map(|u| [(u, HOSPITALS[0]), (u, HOSPITALS[1]), (u, AGENCY)])
                .collect::<Vec<_>>(),
            0..3,
        ),
    )
        .prop_flat_map(|(worker, employer, closed, lms, hospitals, coordinators)| {
            let worker = id(worker);
            let consents = (0..6u128)
                .prop_flat_map(move |n| (0..n).map(|i| consent(i, worker)).collect::<Vec<_>>());
            (consents, rules(id(employer))).prop_map(move |(consents, rules)| CaseContext {
                case: id(CASE),
                worker,
                employer: id(employer),
                closed,
                line_managers: lms.iter().map(|&u| id(u)).collect(),
                hospitals: hospitals.iter().map(|&h| id(h)).collect(),
                coordinators: coordinators
                    .iter()
                    .map(|&(u, o)| CaseCoordinator {
                        user: id(u),
                        organisation: id(o),
                    })
                    .collect(),
                consents,
                rules,
            })
        })
}

/// Applies a rules change to the rows as the stores do, without the case's context except
/// for the cases the delta asks to rebuild.
fn apply_delta(
    rows: &[CaseGrant],
    delta: &[RulesDelta],
    rebuilt: &CaseContext,
) -> BTreeSet<CaseGrant> {
    let mut rows: BTreeSet<CaseGrant> = rows.iter().copied().collect();
    for d in delta {
        match *d {
            RulesDelta::AddRule { role, category } => {
                let add: Vec<CaseGrant> = rows
                    .iter()
                    .filter(|g| {
                        g.relation == CaseRelation::Employer { role } && g.scope == GrantScope::Case
                    })
                    .map(|g| CaseGrant {
                        scope: GrantScope::Category(category),
                        source: GrantSource::Rule,
                        ..*g
                    })
                    .collect();
                rows.extend(add);
            }
            RulesDelta::RemoveRule { role, category } => rows.retain(|g| {
                !(g.relation == CaseRelation::Employer { role }
                    && g.scope == GrantScope::Category(category)
                    && g.source == GrantSource::Rule)
            }),
            RulesDelta::RemoveConsents { role, category } => rows.retain(|g| {
                !(g.relation == CaseRelation::Employer { role }
                    && g.scope == GrantScope::Category(category)
                    && matches!(g.source, GrantSource::Consent(_)))
            }),
            RulesDelta::RebuildConsents { role, .. } => {
                let named = rebuilt.consents.iter().any(|c| {
                    c.case == rebuilt.case
                        && c.recipient.organisation == rebuilt.employer
                        && c.recipient.role == role
                });
                if named {
                    rows = case_grants(rebuilt).into_iter().collect();
                }
            }
        }
    }
    rows
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_index_answers_as_the_single_case_decision(
        ctx in context(),
        principals in proptest::collection::vec(principal(), 1..8),
        workers_too in prop::bool::ANY,
    ) {
        let grants = case_grants(&ctx);
        let mut principals = principals;
        if workers_too {
            // The worker themselves, with and without staff roles of their own.
            principals.push(Principal {
                user: ctx.worker,
                operator: false,
                memberships: vec![MembershipRef {
                    organisation: ctx.employer,
                    kind: OrganisationKind::Employer,
                    role: Role::HrOfficer,
                }],
                second_factor_ok: true,
            });
        }
        for p in &principals {
            for hours in -4..8 {
                let now = at(hours);
                let case = ctx.case;
                prop_assert_eq!(
                    grants_allow(&grants, p, GrantScope::Case, now),
                    decide_case(p, &ctx, Action::ViewCase { case }, now).is_ok(),
                    "case, {:?} at {}", p, hours
                );
                for &category in InformationCategory::ALL {
                    prop_assert_eq!(
                        grants_allow(&grants, p, GrantScope::Category(category), now),
                        decide_case(p, &ctx, Action::ViewCaseCategory { case, category }, now)
                            .is_ok(),
                        "{:?}, {:?} at {}", category, p, hours
                    );
                }
            }
        }
    }

    #[test]
    fn every_row_survives_its_stored_form(ctx in context()) {
        for g in case_grants(&ctx) {
            prop_assert_eq!(Subject::from_key(&g.subject.key()), Some(g.subject));
            prop_assert_eq!(GrantSource::from_code(&g.source.code()), Some(g.source));
            prop_assert_eq!(GrantScope::from_code(g.scope.code()), Some(g.scope));
            prop_assert_eq!(
                CaseRelation::from_parts(g.relation.kind(), g.relation.organisation(), g.relation.role()),
                Some(g.relation)
            );
        }
    }

    #[test]
    fn a_rules_change_applied_as_a_delta_leaves_the_rows_built_afresh(
        ctx in context(),
        new_rules in rules(Uuid::from_u128(0xE1)),
    ) {
        let old_rows = case_grants(&ctx);
        let mut changed = ctx.clone();
        changed.rules = HandlingRules { employer: ctx.employer, ..new_rules };
        let delta = rules_delta(ctx.employer, &ctx.rules, &changed.rules);
        let applied = apply_delta(&old_rows, &delta, &changed);
        let fresh: BTreeSet<CaseGrant> = case_grants(&changed).into_iter().collect();
        prop_assert_eq!(applied, fresh);
    }
}

#[test]
fn every_subject_key_is_distinct_and_parsable_by_eye() {
    let (o, u) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let keys: BTreeMap<String, Subject> = [
        Subject::User { user: u },
        Subject::Members {
            organisation: o,
            role: Role::HrOfficer,
        },
        Subject::Member {
            organisation: o,
            role: Role::HrOfficer,
            user: u,
        },
    ]
    .into_iter()
    .map(|s| (s.key(), s))
    .collect();
    assert_eq!(keys.len(), 3);
    assert!(keys.contains_key(&format!("m:{o}:hr_officer")));
}

#[test]
fn a_principal_owing_the_second_factor_holds_no_key() {
    let p = Principal {
        user: Uuid::from_u128(3),
        operator: false,
        memberships: vec![MembershipRef {
            organisation: Uuid::from_u128(0xE1),
            kind: OrganisationKind::Employer,
            role: Role::HrOfficer,
        }],
        second_factor_ok: false,
    };
    assert!(subject_keys(&p).is_empty());
}
