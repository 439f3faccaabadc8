//! `demo load`: generated cases written straight through the store, then checked through the
//! app as people would meet them: HR sees every case through the access index, a worker
//! only their own, the categories follow consent, the audit chain verifies, search finds
//! the generated text, and the same seed gives the same cases.

use std::collections::BTreeSet;
use std::sync::Arc;

use ryoritsu::config::DatabaseUrl;
use ryoritsu::server::{self, WithStore};
use ryoritsu_app::access::ScopeFilter;
use ryoritsu_app::accounts::Authenticated;
use ryoritsu_app::accounts::ports::{AccountReads, SessionRecord};
use ryoritsu_app::cases::ports::{CaseFilter, CaseReads, DocumentBody};
use ryoritsu_app::conformance::Tamper;
use ryoritsu_app::loader::LoadOptions;
use ryoritsu_app::ports::Store;
use ryoritsu_app::search::SearchInput;
use ryoritsu_app::search::ports::SearchReads;
use ryoritsu_app::testing::ManualClock;
use ryoritsu_app::{App, RandomIds, RequestContext, SystemClock};
use ryoritsu_domain::account::LoginName;
use ryoritsu_domain::forms::FormKind;
use ryoritsu_domain::info::InformationCategory;
use ryoritsu_domain::org::Role;
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

use crate::harness::{DEMO_PASSWORD, TestDb, cli};

fn test_app<S: Store>(store: S, clock: Arc<dyn ryoritsu_app::ports::Clock>) -> App<S> {
    let mut cfg = ryoritsu_app::conformance::test_config();
    cfg.demo = true;
    App::new(store, cfg, clock, Arc::new(RandomIds)).unwrap()
}

async fn sign_in<S: Store>(app: &App<S>, login: &str) -> Authenticated {
    let signed = app
        .sign_in(&RequestContext::default(), login, DEMO_PASSWORD)
        .await
        .unwrap_or_else(|e| panic!("{login} signs in with the demo password: {e}"));
    app.authenticate(&signed.session.token).await.unwrap()
}

/// A generated worker never signs in; the test acts as them directly.
async fn acting_as<S: Store>(app: &App<S>, user: Uuid) -> Authenticated {
    let mut c = app.store().read().await.unwrap();
    let user = c.get_user(user).await.unwrap().unwrap();
    let memberships = c.list_memberships_of_user(user.id).await.unwrap();
    let principal = ryoritsu_app::accounts::principal_of(&user, &memberships, true);
    Authenticated {
        session: SessionRecord {
            id_hash: String::new(),
            handle: String::new(),
            user_id: user.id,
            created_at: OffsetDateTime::UNIX_EPOCH,
            last_seen_at: OffsetDateTime::UNIX_EPOCH,
            pending_second_factor: false,
            csrf_token: String::new(),
            user_agent: None,
            client_ip: None,
        },
        user,
        memberships,
        principal,
    }
}

/// Every case the principal sees through the access index, page by page.
async fn all_in_scope<S: Store>(app: &App<S>, who: &Authenticated) -> Vec<Uuid> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = app
            .scope_page(who, ScopeFilter::default(), after, 200)
            .await
            .unwrap();
        out.extend(page.cases.iter().map(|c| c.case));
        match page.next {
            Some(n) => after = Some(n),
            None => return out,
        }
    }
}

struct Check {
    expected: usize,
}

impl WithStore for Check {
    type Output = ();
    async fn run<S: Store + Tamper>(self, store: S) -> Result<(), String> {
        // The cases were generated against the real clock (the command line's).
        let app = test_app(store, Arc::new(SystemClock));
        let ctx = RequestContext::default();
        let hr = sign_in(&app, "jinji").await;
        let employer = hr.memberships[0].organisation_id;
        let mut c = app.store().read().await.unwrap();
        let cases = c.list_cases(CaseFilter::Employer(employer)).await.unwrap();
        assert_eq!(
            cases.len(),
            self.expected,
            "the demo's two and the loaded ones"
        );

        // HR sees them all through the index, each once.
        let seen = all_in_scope(&app, &hr).await;
        let distinct: BTreeSet<Uuid> = seen.iter().copied().collect();
        assert_eq!(distinct.len(), seen.len(), "no case twice across pages");
        assert_eq!(
            distinct,
            cases.iter().map(|c| c.id).collect::<BTreeSet<_>>(),
            "jinji sees every case of the employer"
        );

        // A generated worker sees their own case and nothing else.
        let mut generated = None;
        for case in &cases {
            let user = c.get_user(case.worker_id).await.unwrap().unwrap();
            if user.login.as_str().starts_with("demo-s1-") {
                assert!(
                    !user.demo,
                    "generated workers are not offered on the sign-in page"
                );
                generated = Some(case);
                break;
            }
        }
        let case = generated.expect("a generated case");
        // The sign-in page of the demo offers the demo's people, not the generated ones.
        let offered = app.demo_sign_ins().await.unwrap();
        assert!(
            offered.iter().all(|d| !d.login.starts_with("demo-s")),
            "no generated worker on the sign-in page"
        );
        assert!(offered.iter().any(|d| d.login == "jinji"));
        let worker = acting_as(&app, case.worker_id).await;
        assert_eq!(all_in_scope(&app, &worker).await, vec![case.id]);

        // The opinion of a case without the worker's consent stays with the doctors: HR reads
        // the 勤務情報提供書 but not the 主治医意見書.
        let mut checked_hr = false;
        let mut checked_sangyoi = false;
        let sangyoi = sign_in(&app, "sangyoi").await;
        let now = app.now();
        for case in &cases {
            let docs = c.list_documents(case.id).await.unwrap();
            let opinion = docs.iter().find(|d| {
                d.form == FormKind::ContinuationOpinion
                    && matches!(d.body, DocumentBody::Finalised(_))
            });
            let Some(opinion) = opinion else { continue };
            let consents = c.list_consents(case.id).await.unwrap();
            let active = |role: Role| {
                consents.iter().any(|k| {
                    k.recipient.role == role
                        && k.categories.contains(&InformationCategory::Medical)
                        && k.withdrawn_at.is_none_or(|w| w > now)
                        && k.expires_at.is_none_or(|e| e > now)
                })
            };
            if !checked_hr && !consents.iter().any(|k| k.recipient.role == Role::HrOfficer) {
                let (access, read) = app.read_documents(&ctx, &hr, case.id).await.unwrap();
                assert!(!access.may_view(InformationCategory::Medical));
                assert!(
                    read.iter().all(|d| d.id != opinion.id),
                    "HR does not read the opinion"
                );
                assert!(
                    read.iter().any(|d| d.form == FormKind::WorkInformation),
                    "HR reads the 勤務情報提供書 it wrote"
                );
                checked_hr = true;
            }
            if !checked_sangyoi && active(Role::OccupationalPhysician) {
                let (access, read) = app.read_documents(&ctx, &sangyoi, case.id).await.unwrap();
                assert!(access.may_view(InformationCategory::Medical));
                assert!(
                    read.iter().any(|d| d.id == opinion.id),
                    "the 産業医 reads it by consent"
                );
                checked_sangyoi = true;
            }
            if checked_hr && checked_sangyoi {
                break;
            }
        }
        assert!(
            checked_hr && checked_sangyoi,
            "cases of both kinds were generated"
        );

        // Someone of another employer sees none of them.
        let other = sign_in(&app, "bench-other").await;
        assert!(all_in_scope(&app, &other).await.is_empty());
        assert!(app.case_access(&other, case.id).await.is_err());
        let bench = sign_in(&app, "bench-worker-001").await;
        assert!(all_in_scope(&app, &bench).await.is_empty());

        // Search finds the generated text and the workers' names.
        let by_text = SearchInput {
            q: "製造ライン作業".into(),
            ..Default::default()
        };
        let by_name = SearchInput {
            name: worker.user.display_name.to_string(),
            ..Default::default()
        };
        let search = async |input: &SearchInput| {
            let found = app.search(&ctx, &hr, input).await.unwrap();
            let ids: Vec<Uuid> = found.results.iter().map(|r| r.case_id).collect();
            (found.total, ids)
        };
        let text_before = search(&by_text).await;
        assert!(
            text_before.0 > 0,
            "an occupation of the generated forms is found"
        );
        let name_before = search(&by_name).await;
        assert!(
            name_before.1.contains(&case.id),
            "the case is found by its worker's name {}",
            by_name.name
        );

        // The loader's search rows are those a rebuild of the index writes from the records:
        // as many, and the same searches find the same.
        let held = c.count_search_rows().await.unwrap();
        drop(c);
        let rebuilt = app.reindex().await.unwrap();
        assert_eq!(held, rebuilt as i64, "search rows as a rebuild writes them");
        assert_eq!(search(&by_text).await, text_before);
        assert_eq!(search(&by_name).await, name_before);

        // Every event chained in order.
        let report = app.verify_audit(None).await.unwrap().unwrap();
        assert!(report.records > self.expected as i64 * 5, "{report:?}");
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loaded_cases_are_seen_through_the_app_as_the_policy_says() {
    let db = TestDb::new().await;
    let dir = db.dir.path();
    let (code, out, err) = cli(
        &db.url,
        dir,
        &["demo", "load", "--cases", "300", "--batch", "120"],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("事例を 300 件読み込みました"), "{out}");
    assert!(out.contains("デモデータを作成しました"), "{out}");
    assert!(err.contains("300 / 300 件"), "progress is shown: {err}");
    // A second run continues the numbering: nothing collides, the bench accounts stay.
    let (code, out, err) = cli(&db.url, dir, &["demo", "load", "--cases", "12"], None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("通し番号 300〜"), "{out}");
    assert!(!out.contains("ベンチマーク用のアカウント"), "{out}");
    let (code, out, _) = cli(&db.url, dir, &["audit", "verify"], None);
    assert_eq!(code, 0, "{out}");
    if db.url.starts_with("postgres") {
        // The load leaves the planner's statistics behind (a manual ANALYZE, not the
        // autovacuum's): without them PostgreSQL plans a million-case search for empty tables.
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let unanalysed: Vec<String> = sqlx::query_scalar(
            "SELECT relname::text FROM pg_stat_user_tables \
             WHERE relname IN ('cases', 'case_grants', 'search_rows', 'documents', 'tasks') \
             AND last_analyze IS NULL ORDER BY 1",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        assert!(
            unanalysed.is_empty(),
            "not analysed after the load: {unanalysed:?}"
        );
    }
    server::with_store(&DatabaseUrl::new(db.url.clone()), Check { expected: 314 })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_is_not_a_demo_is_refused() {
    let db = TestDb::new().await;
    let dir = db.dir.path();
    let (code, _, err) = cli(
        &db.url,
        dir,
        &[
            "user",
            "create",
            "--login",
            "someone",
            "--name",
            "誰か 一人",
        ],
        Some("a-long-enough-passphrase-2026\n"),
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = cli(&db.url, dir, &["demo", "load", "--cases", "5"], None);
    assert_eq!(code, 1);
    assert!(err.contains("デモ用ではありません"), "{err}");
}

/// Loads with a manual clock and returns what identifies the cases: ids, names, texts.
struct LoadSeed(u64);

impl WithStore for LoadSeed {
    type Output = Vec<(Uuid, String, Vec<String>)>;
    async fn run<S: Store + Tamper>(self, store: S) -> Result<Self::Output, String> {
        server::migrate(&store).await?;
        let clock = Arc::new(ManualClock::new(datetime!(2026-04-01 03:00 UTC)));
        let app = test_app(store, clock);
        let summary = app
            .load_demo_cases(
                &LoadOptions {
                    cases: 40,
                    seed: self.0,
                    batch: 16,
                },
                |_| {},
            )
            .await
            .map_err(|e| e.to_string())?;
        assert_eq!(summary.counts.cases, 40);
        let mut c = app.store().read().await.unwrap();
        let mut out = Vec::new();
        for case in c.list_all_cases().await.unwrap() {
            let user = c.get_user(case.worker_id).await.unwrap().unwrap();
            if !user.login.as_str().starts_with("demo-s") {
                continue;
            }
            // The demo world's own people (who confirm documents) are made with fresh
            // ids in each database: they are compared by login name.
            let mut texts = Vec::new();
            for d in c.list_documents(case.id).await.unwrap() {
                let mut body = serde_json::to_value(&d.body).unwrap();
                if let Some(by) = body.pointer_mut("/document/confirmed_by") {
                    let id: Uuid = serde_json::from_value(by.clone()).unwrap();
                    let who = c.get_user(id).await.unwrap().unwrap();
                    *by = serde_json::Value::String(who.login.as_str().to_owned());
                }
                texts.push(format!("{}:{body}", d.id));
            }
            out.push((case.id, user.display_name.to_string(), texts));
        }
        out.sort();
        let login = LoginName::parse("bench-worker-032").unwrap();
        assert!(c.find_user_by_login(&login).await.unwrap().is_some());
        Ok(out)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_gives_the_same_cases() {
    let (a, b, other) = (
        TestDb::new().await,
        TestDb::new().await,
        TestDb::new().await,
    );
    let load = |db: &TestDb, seed| {
        let url = DatabaseUrl::new(db.url.clone());
        async move { server::with_store(&url, LoadSeed(seed)).await.unwrap() }
    };
    let first = load(&a, 7).await;
    let second = load(&b, 7).await;
    assert_eq!(first.len(), 40);
    assert_eq!(
        first, second,
        "ids, names and documents repeat with the seed"
    );
    assert!(first.iter().any(|(_, _, docs)| !docs.is_empty()));
    let third = load(&other, 8).await;
    assert_ne!(
        first.iter().map(|x| x.0).collect::<Vec<_>>(),
        third.iter().map(|x| x.0).collect::<Vec<_>>()
    );
}
