//! The access-index storage ports: rows round-trip, a principal's cases come newest first a
//! page at a time (by status and by date too), consents open categories only while active,
//! a change of 取扱規程 applied set-wise leaves the rows built afresh, and a status change
//! follows. Every adapter runs this story.

// A story of checks: a failed unwrap is a failed check, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use ryoritsu_domain::account::{DisplayName, LoginName};
use ryoritsu_domain::case::{CasePath, CaseState, CaseStatus};
use ryoritsu_domain::consent::{Consent, Recipient};
use ryoritsu_domain::info::InformationCategory;
use ryoritsu_domain::org::{OrganisationKind, Role};
use ryoritsu_domain::policy::{
    Access, CaseContext, CaseGrant, HandlingRules, Subject, case_grants,
};
use ryoritsu_domain::prefecture::Prefecture;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::access::ports::{AccessReads, AccessWrites, CaseCursor, GrantedCase, ScopeRange};
use crate::access::{apply_rules_change, refresh_case};
use crate::accounts::ports::{AccountWrites, OrganisationRecord, UserRecord};
use crate::cases::ports::{CaseRecord, CaseWrites};
use crate::ports::{Store, TxControl};
use crate::search::ports::{SCAN_BUDGET, SearchQuery, SearchRow, SearchStart, SearchWrites};
use crate::search::{CommonWords, find, find_within};

const T0: OffsetDateTime = datetime!(2026-04-01 09:00:00.123456 UTC);

const EMPLOYER: Uuid = Uuid::from_u128(0xE0);
const OTHER_EMPLOYER: Uuid = Uuid::from_u128(0xE1);
const HOSPITAL: Uuid = Uuid::from_u128(0x40);
const WORKER: Uuid = Uuid::from_u128(0x01);
const MANAGER: Uuid = Uuid::from_u128(0x02);
const DOCTOR: Uuid = Uuid::from_u128(0x03);
const CASES: u128 = 7;

fn at(minutes: i64) -> OffsetDateTime {
    T0 + Duration::minutes(minutes)
}

fn case_id(n: u128) -> Uuid {
    Uuid::from_u128(0xCA00 + n)
}

fn org(id: Uuid, kind: OrganisationKind) -> OrganisationRecord {
    OrganisationRecord {
        id,
        kind,
        name: DisplayName::parse("name", "名称", "両立商事株式会社").unwrap(),
        prefecture: Prefecture::from_code(13).unwrap(),
        agency_kind: None,
        created_at: T0,
        version: 1,
    }
}

fn user(id: Uuid, login: &str) -> UserRecord {
    UserRecord {
        id,
        login: LoginName::parse(login).unwrap(),
        display_name: DisplayName::parse("display_name", "表示名", login).unwrap(),
        email: None,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        active: true,
        operator: false,
        demo: false,
        totp_secret: None,
        totp_pending_secret: None,
        totp_last_step: None,
        created_at: T0,
        password_changed_at: T0,
        version: 1,
    }
}

/// Case `n`: opened `n / 2` hours after T0 (so pairs share a moment and order by id), at
/// the other employer for the last one.
fn case(n: u128) -> CaseRecord {
    CaseRecord {
        id: case_id(n),
        worker_id: WORKER,
        employer_id: if n == CASES - 1 {
            OTHER_EMPLOYER
        } else {
            EMPLOYER
        },
        workplace_id: None,
        state: CaseState::new(CasePath::Continuation),
        created_at: at(60 * (n as i64 / 2)),
        updated_at: T0,
        version: 1,
    }
}

fn consent(n: u128, case: Uuid, role: Role, org: Uuid, until: Option<i64>) -> Consent {
    Consent {
        id: Uuid::from_u128(0x5000 + n),
        worker: WORKER,
        case,
        recipient: Recipient {
            organisation: org,
            role,
            person: None,
        },
        categories: [InformationCategory::Medical].into_iter().collect(),
        purpose: "両立支援のため".into(),
        granted_at: at(1),
        expires_at: until.map(at),
        withdrawn_at: None,
        explanation_version: 1,
    }
}

/// The context of case `n` under `rules`: case 0 has a hospital, a 所属長 and consents for the
/// hospital (until minute 600) and the 産業医; the others only their worker and employer.
fn context(n: u128, rules: &HandlingRules) -> CaseContext {
    let c = case(n);
    let first = n == 0;
    CaseContext {
        case: c.id,
        worker: WORKER,
        employer: c.employer_id,
        closed: false,
        line_managers: if first { vec![MANAGER] } else { Vec::new() },
        hospitals: if first { vec![HOSPITAL] } else { Vec::new() },
        coordinators: Vec::new(),
        consents: if first {
            vec![
                consent(1, c.id, Role::AttendingPhysician, HOSPITAL, Some(600)),
                consent(2, c.id, Role::OccupationalPhysician, EMPLOYER, None),
            ]
        } else {
            Vec::new()
        },
        rules: if c.employer_id == EMPLOYER {
            rules.clone()
        } else {
            HandlingRules::defaults(c.employer_id)
        },
    }
}

fn granted(c: &CaseRecord) -> GrantedCase {
    GrantedCase {
        id: c.id,
        employer: c.employer_id,
        opened_at: c.created_at,
        status: c.state.status,
    }
}

async fn all_pages<S: Store>(store: &S, key: &str, status: Option<CaseStatus>) -> Vec<CaseCursor> {
    let mut c = store.read().await.unwrap();
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = c
            .cases_in_scope(&ScopeRange {
                key,
                status,
                opened_from: None,
                opened_until: None,
                after,
                limit: 2,
            })
            .await
            .unwrap();
        assert!(page.len() <= 2, "a page holds at most its limit");
        let Some(last) = page.last().copied() else {
            break;
        };
        out.extend(page);
        after = Some(last);
    }
    out
}

/// Every read and write of the access index.
pub async fn story<S: Store>(store: &S) {
    let defaults = HandlingRules::defaults(EMPLOYER);
    let mut tx = store.begin().await.unwrap();
    tx.insert_organisation(&org(EMPLOYER, OrganisationKind::Employer))
        .await
        .unwrap();
    tx.insert_organisation(&org(OTHER_EMPLOYER, OrganisationKind::Employer))
        .await
        .unwrap();
    tx.insert_organisation(&org(HOSPITAL, OrganisationKind::MedicalInstitution))
        .await
        .unwrap();
    for (id, login) in [(WORKER, "worker"), (MANAGER, "manager"), (DOCTOR, "doctor")] {
        tx.insert_user(&user(id, login)).await.unwrap();
    }
    for n in 0..CASES {
        let c = case(n);
        tx.insert_case(&c).await.unwrap();
        for consent in &context(n, &defaults).consents {
            tx.insert_consent(consent).await.unwrap();
        }
        refresh_case(&mut tx, granted(&c), &context(n, &defaults))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    // Rows round-trip exactly.
    let mut c = store.read().await.unwrap();
    for n in 0..CASES {
        let expected = case_grants(&context(n, &defaults));
        assert_eq!(
            c.case_grants(case_id(n)).await.unwrap(),
            expected,
            "rows of case {n}"
        );
    }
    drop(c);

    // HR of the employer sees its six cases, newest first, ties by id (descending), two at a
    // time; the worker sees all seven; the hospital's doctors only case 0.
    let hr = Subject::Members {
        organisation: EMPLOYER,
        role: Role::HrOfficer,
    }
    .key();
    let mut expected: Vec<CaseCursor> = (0..CASES - 1)
        .map(|n| CaseCursor {
            opened_at: case(n).created_at,
            case: case_id(n),
        })
        .collect();
    expected.sort_by(|a, b| b.opened_at.cmp(&a.opened_at).then(b.case.cmp(&a.case)));
    assert_eq!(all_pages(store, &hr, None).await, expected);
    let worker = Subject::User { user: WORKER }.key();
    assert_eq!(all_pages(store, &worker, None).await.len(), CASES as usize);
    let doctors = Subject::Members {
        organisation: HOSPITAL,
        role: Role::AttendingPhysician,
    }
    .key();
    assert_eq!(
        all_pages(store, &doctors, None)
            .await
            .iter()
            .map(|c| c.case)
            .collect::<Vec<_>>(),
        vec![case_id(0)]
    );
    let manager = Subject::Member {
        organisation: EMPLOYER,
        role: Role::LineManager,
        user: MANAGER,
    }
    .key();
    assert_eq!(all_pages(store, &manager, None).await.len(), 1);

    // A date range: cases opened in [1 h, 2 h) are cases 2 and 3.
    let mut c = store.read().await.unwrap();
    let range = c
        .cases_in_scope(&ScopeRange {
            key: &hr,
            status: None,
            opened_from: Some(at(60)),
            opened_until: Some(at(120)),
            after: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(
        range.iter().map(|c| c.case).collect::<Vec<_>>(),
        vec![case_id(3), case_id(2)]
    );

    // The hospital's consent opens the opinion until minute 600, not after; the 産業医's
    // has no end.
    let medical = InformationCategory::Medical.code();
    let ids: Vec<Uuid> = (0..CASES).map(case_id).collect();
    assert_eq!(
        c.cases_granting(&ids, std::slice::from_ref(&doctors), medical, at(599))
            .await
            .unwrap(),
        vec![case_id(0)]
    );
    assert!(
        c.cases_granting(&ids, std::slice::from_ref(&doctors), medical, at(600))
            .await
            .unwrap()
            .is_empty(),
        "an expired consent opens nothing"
    );
    assert!(
        c.cases_granting(&ids, std::slice::from_ref(&doctors), medical, at(0))
            .await
            .unwrap()
            .is_empty(),
        "nothing before the consent was given"
    );
    let op = Subject::Members {
        organisation: EMPLOYER,
        role: Role::OccupationalPhysician,
    }
    .key();
    assert_eq!(
        c.cases_granting(&ids, &[op.clone(), hr.clone()], medical, at(100_000))
            .await
            .unwrap(),
        vec![case_id(0)]
    );
    assert!(
        c.cases_granting(&ids, std::slice::from_ref(&hr), medical, at(100))
            .await
            .unwrap()
            .is_empty(),
        "HR has no consent"
    );
    assert_eq!(
        c.cases_with_consents_naming(EMPLOYER, Role::OccupationalPhysician)
            .await
            .unwrap(),
        vec![case_id(0)]
    );
    drop(c);

    // The rules change: HR loses work information, 産業医 loses medical information (so its
    // consent no longer counts); then they come back. Each time, applied set-wise (and the
    // named cases rebuilt), the rows equal the rows built afresh.
    let mut narrowed = defaults.clone();
    narrowed
        .grants
        .entry(Role::HrOfficer)
        .or_default()
        .insert(InformationCategory::WorkInformation, Access::Never);
    narrowed
        .grants
        .entry(Role::OccupationalPhysician)
        .or_default()
        .insert(InformationCategory::Medical, Access::Never);
    for (old, new) in [(&defaults, &narrowed), (&narrowed, &defaults)] {
        let mut tx = store.begin().await.unwrap();
        let rebuild = apply_rules_change(&mut tx, EMPLOYER, old, new)
            .await
            .unwrap();
        for role in rebuild {
            for id in tx.cases_with_consents_naming(EMPLOYER, role).await.unwrap() {
                let n = id.as_u128() - 0xCA00;
                refresh_case(&mut tx, granted(&case(n)), &context(n, new))
                    .await
                    .unwrap();
            }
        }
        tx.commit().await.unwrap();
        let mut c = store.read().await.unwrap();
        for n in 0..CASES {
            let fresh: BTreeSet<CaseGrant> = case_grants(&context(n, new)).into_iter().collect();
            let stored: BTreeSet<CaseGrant> = c
                .case_grants(case_id(n))
                .await
                .unwrap()
                .into_iter()
                .collect();
            assert_eq!(stored, fresh, "rows of case {n} after a rules change");
        }
    }

    search_both_ways(store, &hr, &op, &doctors).await;

    // A refresh writes only the difference, and its result is the policy's answer whatever
    // it started from: the hospital's consent now ends later (its rows change in place), the
    // 産業医's is gone (its rows go), the case is closed (every row follows); then back.
    let mut changed = context(0, &defaults);
    changed.consents[0].expires_at = Some(at(900));
    changed.consents.truncate(1);
    let mut closed = granted(&case(0));
    closed.status = CaseStatus::Closed;
    for (ctx, row) in [
        (changed, closed),
        (context(0, &defaults), granted(&case(0))),
    ] {
        let mut tx = store.begin().await.unwrap();
        refresh_case(&mut tx, row, &ctx).await.unwrap();
        tx.commit().await.unwrap();
        let mut c = store.read().await.unwrap();
        assert_eq!(
            c.case_grants(case_id(0)).await.unwrap(),
            case_grants(&ctx),
            "rows of case 0 after a refresh"
        );
        let ids = [case_id(0)];
        let until = ctx.consents[0].expires_at.unwrap_or(at(0));
        assert_eq!(
            c.cases_granting(
                &ids,
                std::slice::from_ref(&doctors),
                medical,
                until - Duration::minutes(1)
            )
            .await
            .unwrap(),
            vec![case_id(0)],
            "the consent's rows carry its new end"
        );
        drop(c);
        let closed_now = all_pages(store, &hr, Some(CaseStatus::Closed)).await;
        assert_eq!(
            closed_now.iter().any(|c| c.case == case_id(0)),
            row.status == CaseStatus::Closed,
            "every row of the case follows its status"
        );
    }

    // A status change follows; the status range finds it.
    let mut tx = store.begin().await.unwrap();
    tx.set_grants_status(case_id(4), CaseStatus::Closed)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        all_pages(store, &hr, Some(CaseStatus::Closed))
            .await
            .iter()
            .map(|c| c.case)
            .collect::<Vec<_>>(),
        vec![case_id(4)]
    );
    assert_eq!(
        all_pages(store, &hr, Some(case(0).state.status))
            .await
            .len(),
        5
    );

    // Emptied before a rebuild.
    let mut tx = store.begin().await.unwrap();
    tx.clear_grants().await.unwrap();
    tx.commit().await.unwrap();
    assert!(all_pages(store, &worker, None).await.is_empty());
}

/// A row of case `n`'s index.
fn search_row(
    n: u128,
    source: &str,
    category: &str,
    author: Option<Uuid>,
    text: &str,
) -> SearchRow {
    SearchRow {
        case_id: case_id(n),
        source: source.into(),
        category: category.into(),
        author,
        weight: 3,
        body: text.into(),
        words: ryoritsu_search::index_words(text),
    }
}

/// Search scoped by the index, started from the words and from the principal's cases:
/// both starts find the same cases with the same scores, and only what the keys open.
async fn search_both_ways<S: Store>(store: &S, hr: &str, op: &str, doctors: &str) {
    let mut tx = store.begin().await.unwrap();
    for n in 0..CASES {
        let mut rows = vec![
            search_row(n, "name", "case", None, "両立 太郎"),
            search_row(
                n,
                "document:work_information:1",
                InformationCategory::WorkInformation.code(),
                None,
                "週二回の通院のため短時間勤務を希望",
            ),
        ];
        if n == 0 {
            rows.push(search_row(
                n,
                "document:physician_opinion:2",
                InformationCategory::Medical.code(),
                Some(DOCTOR),
                "通院による化学療法を継続",
            ));
        }
        tx.replace_search_rows(case_id(n), &rows).await.unwrap();
    }
    tx.commit().await.unwrap();

    let query = |keys: &str, words: Option<&str>, name: Option<&str>| {
        let parse = |w: &str| ryoritsu_search::Query::parse(w).unwrap();
        SearchQuery {
            keys: vec![keys.to_owned()],
            author: MANAGER,
            now: at(100),
            words: words.map(parse),
            name: name.map(parse),
            status: None,
            from: None,
            until: None,
            limit: 20,
            offset: 0,
            start: SearchStart::Words,
        }
    };
    let found = |q: SearchQuery| async move {
        let mut c = store.read().await.unwrap();
        let cheaper = find(
            &mut c,
            &SearchQuery {
                start: SearchStart::Cheaper,
                ..q.clone()
            },
        )
        .await
        .unwrap();
        let from_words = find(&mut c, &q).await.unwrap();
        assert_eq!(cheaper, from_words, "the chosen start agrees on {q:?}");
        let from_scope = find(
            &mut c,
            &SearchQuery {
                start: SearchStart::Scope,
                ..q.clone()
            },
        )
        .await
        .unwrap();
        assert_eq!(from_words, from_scope, "both starts agree on {q:?}");
        // Words remembered as common start from the cases without being counted: the
        // same answer.
        let common = CommonWords::default();
        for part in [&q.words, &q.name].into_iter().flatten() {
            common.remember(part.fts5());
        }
        let remembered = find_within(
            &mut c,
            &SearchQuery {
                start: SearchStart::Cheaper,
                ..q.clone()
            },
            SCAN_BUDGET,
            Some(&common),
        )
        .await
        .unwrap();
        assert_eq!(from_words, remembered, "a remembered common word, on {q:?}");
        assert!(from_words.complete && from_words.searched_all);
        assert_eq!(from_words.total, from_words.hits.len() as i64);
        // Newest first, then the case id, descending.
        assert!(
            from_words
                .hits
                .windows(2)
                .all(|w| w[0].position() > w[1].position()),
            "newest first: {q:?}"
        );
        let mut ids: Vec<u128> = from_words
            .hits
            .iter()
            .map(|h| h.case_id.as_u128() - 0xCA00)
            .collect();
        ids.sort_unstable();
        ids
    };

    // HR finds the work information of its six cases, never the opinion's words.
    assert_eq!(
        found(query(hr, Some("通院"), None)).await,
        vec![0, 1, 2, 3, 4, 5]
    );
    assert!(found(query(hr, Some("化学療法"), None)).await.is_empty());
    // The 産業医 has the worker's consent for case 0's medical information.
    assert_eq!(found(query(op, Some("化学療法"), None)).await, vec![0]);
    // The hospital's doctors see case 0 only, and its opinion while the consent runs.
    assert_eq!(found(query(doctors, Some("通院"), None)).await, vec![0]);
    // By name, and by name and word, within the status and a date range.
    assert_eq!(found(query(hr, None, Some("両立"))).await.len(), 6);
    let in_range = SearchQuery {
        status: Some(case(0).state.status),
        from: Some(at(60)),
        until: Some(at(120)),
        ..query(hr, Some("短時間勤務"), Some("両立"))
    };
    assert_eq!(found(in_range).await, vec![2, 3]);
    // Paged: the second page of two holds the next two, in the same order both ways; the
    // words count all six, the cases stop one past the page (at least four).
    let page = SearchQuery {
        limit: 2,
        offset: 2,
        ..query(hr, Some("通院"), None)
    };
    let mut c = store.read().await.unwrap();
    let a_all = find(&mut c, &query(hr, Some("通院"), None)).await.unwrap();
    let a = find(&mut c, &page).await.unwrap();
    let b = find(
        &mut c,
        &SearchQuery {
            start: SearchStart::Scope,
            ..page.clone()
        },
    )
    .await
    .unwrap();
    assert_eq!(a.hits, b.hits);
    assert_eq!((a.total, a.complete, a.hits.len()), (6, true, 2));
    assert_eq!((b.total, b.complete, b.searched_all), (4, false, true));
    // The last page: both ways count all six.
    let last = SearchQuery {
        offset: 4,
        ..page.clone()
    };
    let a = find(&mut c, &last).await.unwrap();
    let b = find(
        &mut c,
        &SearchQuery {
            start: SearchStart::Scope,
            ..last
        },
    )
    .await
    .unwrap();
    assert_eq!(a, b);
    assert_eq!((a.total, a.complete, a.hits.len()), (6, true, 2));
    // Started from the cases with a budget of three: the newest three, said so.
    let budgeted = find_within(
        &mut c,
        &SearchQuery {
            start: SearchStart::Scope,
            ..query(hr, Some("通院"), None)
        },
        3,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (budgeted.total, budgeted.complete, budgeted.searched_all),
        (3, false, false)
    );
    assert_eq!(budgeted.hits, a_all.hits[..3].to_vec());
}
