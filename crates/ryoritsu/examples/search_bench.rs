//! Measures search latency at 100,000 indexed documents on the backend the URL names.
//!
//!     cargo run --release -p ryoritsu --example search_bench -- sqlite:///tmp/bench.db
//!     cargo run --release -p ryoritsu --example search_bench -- postgres://postgres@127.0.0.1:5432/bench
//!
//! The database must be empty (or new). It loads 20,000 cases at one employer, each with five
//! index rows (the worker's name and reading, the workplace, a 主治医意見書, a 両立支援プラン and
//! a consultation note: 100,000 documents of realistic Japanese text cut by the same
//! segmenter as the server), then times the store's search (the count, the page of 20 and
//! the excerpts' rows) for an HR officer who sees every case and every category, and for a
//! coordinator who sees 30 cases. Results go to standard output as a Markdown table.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use ryoritsu::config::DatabaseUrl;
use ryoritsu::server::{WithStore, with_store};
use ryoritsu_app::accounts::ports::AccountWrites;
use ryoritsu_app::accounts::ports::{OrganisationRecord, UserRecord};
use ryoritsu_app::cases::ports::{CaseRecord, CaseWrites};
use ryoritsu_app::ports::{Store, TxControl};
use ryoritsu_app::search::ports::{SearchQuery, SearchReads, SearchRow, SearchWrites};
use ryoritsu_domain::account::{DisplayName, LoginName};
use ryoritsu_domain::case::{CasePath, CaseState, CaseStatus};
use ryoritsu_domain::org::OrganisationKind;
use ryoritsu_domain::prefecture::Prefecture;
use ryoritsu_search::Query;
use time::OffsetDateTime;
use uuid::Uuid;

const CASES: usize = 20_000;
const RUNS: usize = 21;

const SURNAMES: &[(&str, &str)] = &[
    ("田中", "タナカ"),
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("清水", "シミズ"),
];
const GIVEN: &[(&str, &str)] = &[
    ("太郎", "タロウ"),
    ("花子", "ハナコ"),
    ("一郎", "イチロウ"),
    ("美咲", "ミサキ"),
    ("健一", "ケンイチ"),
    ("由美", "ユミ"),
    ("直子", "ナオコ"),
    ("誠", "マコト"),
    ("恵", "メグミ"),
    ("浩", "ヒロシ"),
];
const WORKPLACES: &[&str] = &["本社", "城南営業所", "川崎工場", "大阪支店", "物流センター"];
const DIAGNOSES: &[&str] = &[
    "胃がん（術後）",
    "乳がん",
    "肺がん（化学療法中）",
    "大腸がん",
    "肝臓の機能障害（慢性肝炎）",
    "2型糖尿病",
    "脳梗塞の後遺症",
    "心筋梗塞（術後）",
    "うつ病",
    "関節リウマチ",
    "慢性腎臓病（人工透析）",
];
const TREATMENTS: &[&str] = &[
    "外来で抗がん剤治療を半年間。月2回の通院が必要。",
    "週3回の人工透析（午後）。通院日の勤務調整が必要。",
    "インスリン注射を1日4回。低血糖に注意。",
    "放射線治療を平日に5週間。治療後は倦怠感が出やすい。",
    "リハビリテーションを週1回。右手の細かい作業に制限。",
    "服薬治療を継続。月1回の通院。",
];
const MEASURES: &[&str] = &[
    "当面は短時間勤務（1日6時間）とする。",
    "重量物の取扱いを避け、残業を控える。",
    "通院日は時間単位の年次有給休暇を使う。",
    "在宅勤務（テレワーク）を週2日まで認める。",
    "夜勤を免除し、日勤のみとする。",
    "時差出勤（10時始業）を認める。",
];
const NOTES: &[&str] = &[
    "本人は治療と仕事の両立に不安があり、上司への伝え方を相談したいとのこと。",
    "肝臓の数値（ALT）が高めで、疲れやすいと話している。",
    "職場の理解があり、短時間勤務の延長を希望している。",
    "次回面談では復職後の業務内容を確認する。",
    "通院の付き添いが必要な日があり、家族の支援を受けている。",
];

/// A small deterministic generator: the same documents on every run and backend.
struct Lcg(u64);

impl Lcg {
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let i = usize::try_from(self.0 >> 33).unwrap() % xs.len();
        &xs[i]
    }
}

fn row(case: Uuid, source: &str, category: &str, body: String, words: Vec<String>) -> SearchRow {
    SearchRow {
        case_id: case,
        source: source.into(),
        category: category.into(),
        scope_key: format!("{case}:{category}"),
        own_key: None,
        weight: 2,
        body,
        words,
    }
}

struct Bench;

impl WithStore for Bench {
    type Output = ();
    async fn run<S: Store + ryoritsu_app::conformance::Tamper>(
        self,
        store: S,
    ) -> Result<(), String> {
        let e = |e: ryoritsu_app::StoreError| e.to_string();
        store.migrate().await.map_err(e)?;
        let now = ryoritsu_domain::time_format::truncate_micros(OffsetDateTime::now_utc());
        let employer = Uuid::now_v7();
        let mut rng = Lcg(7);
        let mut cases = Vec::with_capacity(CASES);
        let load = Instant::now();
        let mut tx = store.begin().await.map_err(e)?;
        tx.insert_organisation(&OrganisationRecord {
            id: employer,
            kind: OrganisationKind::Employer,
            name: DisplayName::parse("name", "名前", "株式会社サンプル製作所").unwrap(),
            prefecture: Prefecture::from_code(13).unwrap(),
            agency_kind: None,
            created_at: now,
            version: 1,
        })
        .await
        .map_err(e)?;
        for i in 0..CASES {
            let (sur, sur_kana) = *rng.pick(SURNAMES);
            let (given, given_kana) = *rng.pick(GIVEN);
            let name = format!("{sur} {given}");
            let reading = format!("{sur_kana} {given_kana}");
            let worker = Uuid::now_v7();
            tx.insert_user(&UserRecord {
                id: worker,
                login: LoginName::parse(&format!("bench{i}")).unwrap(),
                display_name: DisplayName::parse("name", "名前", &name).unwrap(),
                email: None,
                password_hash: "$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into(),
                active: true,
                operator: false,
                demo: false,
                totp_secret: None,
                totp_pending_secret: None,
                totp_last_step: None,
                created_at: now,
                password_changed_at: now,
                version: 1,
            })
            .await
            .map_err(e)?;
            tx.set_user_reading(worker, Some(&reading))
                .await
                .map_err(e)?;
            let mut state = CaseState::new(CasePath::Continuation);
            state.status = *rng.pick(&[
                CaseStatus::Requested,
                CaseStatus::OpinionRequested,
                CaseStatus::PlanDrafting,
                CaseStatus::Active,
                CaseStatus::Closed,
            ]);
            let id = Uuid::now_v7();
            let opened = now - time::Duration::days(i64::try_from(i % 900).unwrap());
            tx.insert_case(&CaseRecord {
                id,
                worker_id: worker,
                employer_id: employer,
                workplace_id: None,
                state,
                created_at: opened,
                updated_at: opened,
                version: 1,
            })
            .await
            .map_err(e)?;
            let mut words = ryoritsu_search::name_words(&name);
            words.extend(ryoritsu_search::name_words(&reading));
            let place = format!("株式会社サンプル製作所　{}", rng.pick(WORKPLACES));
            let opinion = format!(
                "診断名：{}\n{}\n{}",
                rng.pick(DIAGNOSES),
                rng.pick(TREATMENTS),
                rng.pick(MEASURES)
            );
            let plan = format!("{}\n{}", rng.pick(MEASURES), rng.pick(MEASURES));
            let note = (*rng.pick(NOTES)).to_owned();
            let rows = vec![
                row(id, "name", "case", format!("{name}（{reading}）"), words),
                row(
                    id,
                    "workplace",
                    "case",
                    place.clone(),
                    ryoritsu_search::index_words(&place),
                ),
                row(
                    id,
                    &format!("document:continuation_opinion:{}", Uuid::now_v7()),
                    "medical",
                    opinion.clone(),
                    ryoritsu_search::index_words(&opinion),
                ),
                row(
                    id,
                    &format!("document:support_plan:{}", Uuid::now_v7()),
                    "work_measures",
                    plan.clone(),
                    ryoritsu_search::index_words(&plan),
                ),
                row(
                    id,
                    &format!("note:{}", Uuid::now_v7()),
                    "consultation_notes",
                    note.clone(),
                    ryoritsu_search::index_words(&note),
                ),
            ];
            tx.replace_search_rows(id, &rows).await.map_err(e)?;
            cases.push(id);
            if i % 5_000 == 4_999 {
                tx.commit().await.map_err(e)?;
                tx = store.begin().await.map_err(e)?;
            }
        }
        tx.commit().await.map_err(e)?;
        let loaded = load.elapsed();
        let mut c = store.read().await.map_err(e)?;
        let rows = c.count_search_rows().await.map_err(e)?;
        println!("{}", store.describe());
        println!(
            "loaded {CASES} cases, {rows} index rows in {:.1} s",
            loaded.as_secs_f64()
        );
        println!();
        println!("| scope | query | total | median ms | max ms |");
        println!("|---|---|---:|---:|---:|");

        let keys = |ids: &[Uuid], cats: &[&str]| -> Vec<String> {
            ids.iter()
                .flat_map(|id| cats.iter().map(move |c| format!("{id}:{c}")))
                .collect()
        };
        let hr_keys = keys(
            &cases,
            &["case", "medical", "work_measures", "consultation_notes"],
        );
        let coordinator: Vec<Uuid> = cases.iter().step_by(CASES / 30).copied().collect();
        let coord_keys = keys(&coordinator, &["case", "consultation_notes"]);
        let queries: &[(&str, &str, Option<CaseStatus>)] = &[
            ("がん", "", None),
            ("肝臓", "", None),
            ("短時間勤務", "", None),
            ("通院", "", None),
            ("胃", "", None),
            ("短時間勤務 通院", "", None),
            ("", "たなか", None),
            ("", "田中", None),
            ("がん", "", Some(CaseStatus::Active)),
        ];
        for (scope, ks) in [
            ("HR, 20,000 cases", &hr_keys),
            ("coordinator, 30 cases", &coord_keys),
        ] {
            for (q, name, status) in queries {
                let parse = |s: &str| (!s.is_empty()).then(|| Query::parse(s).unwrap());
                let (q1, n1) = (parse(q), parse(name));
                let query = SearchQuery {
                    keys: ks.clone(),
                    author: Uuid::nil(),
                    fts5: q1.as_ref().map(Query::fts5),
                    tsquery: q1.as_ref().map(Query::tsquery),
                    name_fts5: n1.as_ref().map(Query::fts5),
                    name_tsquery: n1.as_ref().map(Query::tsquery),
                    status: *status,
                    from: None,
                    until: None,
                    limit: 20,
                    offset: 0,
                };
                let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
                let mut total = 0;
                for _ in 0..RUNS {
                    let t = Instant::now();
                    let (n, hits) = c.search_cases(&query).await.map_err(e)?;
                    let page: Vec<Uuid> = hits.iter().map(|h| h.case_id).collect();
                    // As the server does: the excerpts look up only the page's keys.
                    let prefixes: Vec<String> = page.iter().map(|p| format!("{p}:")).collect();
                    let page_query = SearchQuery {
                        keys: query
                            .keys
                            .iter()
                            .filter(|k| prefixes.iter().any(|p| k.starts_with(p.as_str())))
                            .cloned()
                            .collect(),
                        ..query.clone()
                    };
                    let matched = c.search_matched_rows(&page_query, &page).await.map_err(e)?;
                    // The excerpts are cut in Rust, as the server does.
                    for m in &matched {
                        if let Some(q) = &q1 {
                            let _ = q.snippet(&m.body, 80);
                        }
                    }
                    times.push(t.elapsed());
                    total = n;
                }
                times.sort();
                let label = match (q.is_empty(), name.is_empty(), status) {
                    (false, true, None) => format!("q={q}"),
                    (true, false, _) => format!("name={name}"),
                    (_, _, Some(s)) => format!("q={q}, status={}", s.code()),
                    _ => String::new(),
                };
                println!(
                    "| {scope} | {label} | {total} | {:.1} | {:.1} |",
                    times[RUNS / 2].as_secs_f64() * 1000.0,
                    times[RUNS - 1].as_secs_f64() * 1000.0
                );
            }
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sqlite:///tmp/ryoritsu-search-bench.db".into());
    with_store(&DatabaseUrl::new(url), Bench).await.unwrap();
}
