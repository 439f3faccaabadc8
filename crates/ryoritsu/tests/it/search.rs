//! Search for staff, in the demo world (田中 太郎's 就業継続 case with a 主治医意見書 shared
//! with the 産業医 only, 佐藤 美咲's leave): names in kanji, katakana, hiragana and half-width
//! kana; words of one, two and three characters and mixed scripts; nothing outside the
//! policy, not even in the count; upkeep in the write's own transaction; the reindex command;
//! bad input; the page. Run once per backend (set RYORITSU_TEST_POSTGRES_URL for PostgreSQL):
//! the expected lists are exact, so both backends give the same results.

use serde_json::{Value, json};

use crate::harness::{Client, DEMO_PASSWORD, Resp, TestServer, cli, enc};
use ryoritsu_domain::audit::AuditAction;
use ryoritsu_domain::info::InformationCategory;

const TANAKA: &str = "田中 太郎";
const SATO: &str = "佐藤 美咲";

async fn signed_in(s: &TestServer, login: &str) -> Client {
    let mut c = s.client();
    let r = c.api_sign_in(login, DEMO_PASSWORD).await;
    assert_eq!(r.status, 200, "{login}: {}", r.body);
    c
}

async fn search(c: &mut Client, query: &[(&str, &str)]) -> Resp {
    let qs: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    c.get(&format!("/api/v1/search?{}", qs.join("&"))).await
}

/// The workers' names found, in rank order, and the total.
async fn names(c: &mut Client, query: &[(&str, &str)]) -> (i64, Vec<String>) {
    let r = search(c, query).await;
    assert_eq!(r.status, 200, "{query:?}: {}", r.body);
    let v = r.json();
    let found = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["worker_name"].as_str().unwrap().to_owned())
        .collect();
    (v["total"].as_i64().unwrap(), found)
}

/// The marked words of every excerpt of the first result.
fn marked(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for s in v["results"][0]["snippets"].as_array().unwrap() {
        for f in s["fragments"].as_array().unwrap() {
            if f["mark"] == true {
                out.push(f["text"].as_str().unwrap().to_owned());
            }
        }
    }
    out
}

async fn case_of(worker: &mut Client) -> String {
    worker.get("/api/v1/cases").await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn me(c: &mut Client) -> (String, String) {
    let me = c.get("/api/v1/me").await.json();
    (
        me["id"].as_str().unwrap().to_owned(),
        me["memberships"][0]["organisation_id"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

fn one(n: &str) -> (i64, Vec<String>) {
    (1, vec![n.to_owned()])
}

fn none() -> (i64, Vec<String>) {
    (0, Vec::new())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_found_in_kanji_and_every_kind_of_kana() {
    let s = TestServer::demo().await;
    let mut hr = signed_in(&s, "jinji").await;
    for q in [
        "田中",
        "田中 太郎",
        "タナカ",
        "たなか",
        "ﾀﾅｶ",
        "たなか たろう",
        "太郎",
    ] {
        assert_eq!(names(&mut hr, &[("name", q)]).await, one(TANAKA), "{q}");
    }
    for q in ["佐藤", "サトウ", "さとう", "ｻﾄｳ ﾐｻｷ"] {
        assert_eq!(names(&mut hr, &[("name", q)]).await, one(SATO), "{q}");
    }
    // One character matches the words it begins.
    assert_eq!(names(&mut hr, &[("name", "ﾀ")]).await, one(TANAKA));
    // Another employee who is not a worker of any case, and names nobody has.
    for q in ["鈴木", "山田", "たか", "ヨ"] {
        assert_eq!(names(&mut hr, &[("name", q)]).await, none(), "{q}");
    }
    // The keyword finds names too, and with the name shows it marked.
    let r = search(&mut hr, &[("q", "ﾀﾅｶ")]).await;
    assert_eq!(r.json()["total"], 1, "{}", r.body);
    let r = search(&mut hr, &[("name", "たなか")]).await;
    assert_eq!(marked(&r.json()), ["タナカ"], "{}", r.body);
    // Every visible case without conditions; by status.
    let (n, all) = names(&mut hr, &[("status", "")]).await;
    assert_eq!(n, 2, "{all:?}");
    let (_, leave) = names(&mut hr, &[("status", "on_leave")]).await;
    assert_eq!(leave, [SATO]);
    // Opened on the demo's day (2026-04-01 JST is the clock's day): in and out of range,
    // in 西暦 and 和暦.
    assert_eq!(
        names(&mut hr, &[("name", "田中"), ("from", "令和8年4月1日")]).await,
        one(TANAKA)
    );
    assert_eq!(
        names(&mut hr, &[("name", "田中"), ("to", "2026-03-31")]).await,
        none()
    );
    assert_eq!(
        names(&mut hr, &[("name", "田中"), ("from", "2026-04-02")]).await,
        none()
    );

    // A worker of another employer's HR sees nothing, and counts nothing.
    let mut bureau = signed_in(&s, "bureau").await;
    let r = search(&mut bureau, &[("name", "田中")]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let mut worker = signed_in(&s, "worker").await;
    assert_eq!(search(&mut worker, &[("q", "がん")]).await.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn words_of_one_two_and_three_characters_and_mixed_scripts() {
    let s = TestServer::demo().await;
    // The 産業医 may read the 主治医意見書 (the worker consented).
    let mut sangyoi = signed_in(&s, "sangyoi").await;
    for q in [
        "がん",
        "胃がん",
        "ｶﾞﾝ",
        "胃",
        "通院",
        "短時間勤務",
        "抗がん剤",
        "短時間勤務 通院",
        "倦怠感",
    ] {
        assert_eq!(names(&mut sangyoi, &[("q", q)]).await, one(TANAKA), "{q}");
    }
    for q in ["肝臓", "肺がん", "テレワーク", "通院 肝臓", "ALT"] {
        assert_eq!(names(&mut sangyoi, &[("q", q)]).await, none(), "{q}");
    }
    let r = search(&mut sangyoi, &[("q", "がん")]).await;
    let v = r.json();
    assert!(marked(&v).iter().all(|m| m == "がん"), "{}", r.body);
    assert!(!marked(&v).is_empty());
    assert!(
        v["results"][0]["snippets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["category"] == "medical" && s["source"] == "document"),
        "{}",
        r.body
    );

    // A coordinator the worker adds and lets keep consultation notes writes one; it is
    // found at once, by its own words in any width.
    let mut worker = signed_in(&s, "worker").await;
    let mut promoter = signed_in(&s, "promoter").await;
    let case = case_of(&mut worker).await;
    let (pid, center) = me(&mut promoter).await;
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/parties"),
            Some(json!({"kind": "coordinator", "organisation_id": center, "user_id": pid})),
            &[],
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/consents"),
            Some(json!({
                "organisation_id": center, "role": "agency_coordinator", "person_id": pid,
                "categories": ["consultation_notes"], "purpose": "両立支援の相談と調整のため"
            })),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let consent = r.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(names(&mut promoter, &[("q", "肝臓")]).await, none());
    let r = promoter
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/notes"),
            Some(json!({"body": "肝臓の数値（ＡＬＴ８０、HbA1c 7.2）を気にしている。通院日は在宅勤務を希望。"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    for q in [
        "肝臓",
        "ALT",
        "alt",
        "ｈｂａ１ｃ",
        "HbA1c",
        "在宅勤務",
        "肝",
    ] {
        assert_eq!(names(&mut promoter, &[("q", q)]).await, one(TANAKA), "{q}");
    }
    // The coordinator has no consent for the diagnosis: the opinion's words are not found.
    assert_eq!(names(&mut promoter, &[("q", "抗がん剤")]).await, none());
    // The 産業医 has no consent for consultation notes: the note's words are not found.
    assert_eq!(names(&mut sangyoi, &[("q", "肝臓")]).await, none());
    // Once the consent is withdrawn the coordinator still finds what they wrote themselves
    // (as the case page shows them their own notes), and nothing else of that category.
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/consents/{consent}/withdraw"),
            None,
            &[],
        )
        .await;
    assert!(r.status < 300, "{}", r.body);
    assert_eq!(names(&mut promoter, &[("q", "肝臓")]).await, one(TANAKA));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hr_finds_a_diagnosis_only_after_the_worker_consents() {
    let s = TestServer::demo().await;
    let mut hr = signed_in(&s, "jinji").await;
    let mut worker = signed_in(&s, "worker").await;
    let case = case_of(&mut worker).await;
    // Words only in the 主治医意見書: no results, and the count says nothing either.
    for q in ["胃がん", "抗がん剤", "倦怠感", "がん"] {
        let r = search(&mut hr, &[("q", q)]).await;
        assert_eq!(r.status, 200);
        let v = r.json();
        assert_eq!(v["total"], 0, "{q}: {}", r.body);
        assert!(!r.body.contains("がん") || q.contains("がん") && !r.body.contains("snippets"));
    }
    // Together with a name that matches: still nothing.
    assert_eq!(
        names(&mut hr, &[("q", "胃がん"), ("name", "田中")]).await,
        none()
    );
    let before = crate::harness::audit_records(&s.db.url).await.len();

    let (_, employer) = me(&mut hr).await;
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/consents"),
            Some(json!({
                "organisation_id": employer, "role": "hr_officer",
                "categories": ["medical"], "purpose": "就業上の配慮を検討するため"
            })),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = search(&mut hr, &[("q", "胃がん")]).await;
    let v = r.json();
    assert_eq!(v["total"], 1, "{}", r.body);
    assert_eq!(v["results"][0]["case_id"], case.as_str());
    assert_eq!(marked(&v), ["胃がん"], "{}", r.body);
    // The excerpt is a read of health information, recorded as one.
    let records = crate::harness::audit_records(&s.db.url).await;
    assert!(
        records[before..]
            .iter()
            .any(|r| r.event.action == AuditAction::Read
                && r.event.category == Some(InformationCategory::Medical)
                && r.event.case_id.map(|c| c.to_string()) == Some(case.clone())
                && r.event.purpose.as_deref() == Some("search")),
        "the search's read is in the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_draft_is_found_by_its_new_words_only() {
    let s = TestServer::demo().await;
    let mut hr = signed_in(&s, "jinji").await;
    let mut worker = signed_in(&s, "worker").await;
    let case = case_of(&mut worker).await;
    let r = hr
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/documents"),
            Some(json!({"form": "support_plan", "answers": {"job_duties": "週2日のテレワーク"}})),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let doc = r.json()["id"].as_str().unwrap().to_owned();
    let etag = r.header("etag").unwrap().to_owned();
    assert_eq!(names(&mut hr, &[("q", "テレワーク")]).await, one(TANAKA));
    assert_eq!(names(&mut hr, &[("q", "てれわーく")]).await, one(TANAKA));
    let r = hr
        .api(
            "PUT",
            &format!("/api/v1/cases/{case}/documents/{doc}"),
            Some(json!({"answers": {"job_duties": "時差出勤（10時始業）"}})),
            &[("if-match", etag.as_str())],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(names(&mut hr, &[("q", "テレワーク")]).await, none());
    assert_eq!(names(&mut hr, &[("q", "時差出勤")]).await, one(TANAKA));
    // The status is a filter column: it follows the case's steps.
    let (_, now) = names(&mut hr, &[("q", "時差出勤"), ("status", "on_leave")]).await;
    assert!(now.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_searches_are_refused_with_their_reasons() {
    let s = TestServer::demo().await;
    let mut hr = signed_in(&s, "jinji").await;
    let long = "あ".repeat(101);
    for (query, field, code) in [
        (vec![("q", "がん"), ("page", "0")], "page", "invalid_page"),
        (vec![("page", "x")], "page", "invalid_page"),
        (vec![("from", "2026-13-45")], "from", ""),
        (vec![("q", long.as_str())], "q", "query_too_long"),
        (vec![("q", "、。！")], "q", "query_no_words"),
        (vec![("status", "nope")], "status", "invalid_status"),
        (
            vec![("from", "2026-05-01"), ("to", "2026-04-01")],
            "to",
            "range_reversed",
        ),
    ] {
        let r = search(&mut hr, &query).await;
        assert_eq!(r.status, 400, "{query:?}: {}", r.body);
        let v = r.json();
        assert_eq!(v["code"], "invalid_search");
        let f = v["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == field)
            .unwrap_or_else(|| panic!("{query:?}: {}", r.body));
        if !code.is_empty() {
            assert_eq!(f["code"], code, "{}", r.body);
        }
        assert!(crate::harness::has_japanese(f["message"].as_str().unwrap()));
    }
    // A page past the end is empty, with the true total.
    let (n, found) = names(&mut hr, &[("name", "田中"), ("page", "2")]).await;
    assert_eq!((n, found.len()), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_marks_the_words_and_links_the_case() {
    let s = TestServer::demo().await;
    let mut sangyoi = s.client();
    let r = sangyoi.page_sign_in("sangyoi", DEMO_PASSWORD).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let home = sangyoi.get("/").await;
    assert!(
        home.body.contains("href=\"/search\""),
        "the nav links search"
    );
    let blank = sangyoi.get("/search").await;
    assert_eq!(blank.status, 200);
    assert!(blank.body.contains("キーワード") && blank.body.contains("フリガナ"));
    let r = sangyoi.get(&format!("/search?q={}", enc("がん"))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<mark>がん</mark>"), "{}", r.body);
    assert!(r.body.contains("1件"));
    assert!(r.body.contains("/cases/"));
    // Text is escaped, not markup.
    let r = sangyoi.get(&format!("/search?q={}", enc("<b>がん"))).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("&lt;b&gt;がん") || r.body.contains("&#60;b&#62;がん"));
    let r = sangyoi.get("/search?q=x&page=0").await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("ページは1から"));
    // A worker has no search page.
    let mut worker = s.client();
    worker.page_sign_in("worker", DEMO_PASSWORD).await;
    assert!(!worker.get("/").await.body.contains("href=\"/search\""));
    assert_eq!(worker.get("/search").await.status, 403);

    // The worker keeps the reading of their name on the account page; search follows at once.
    let mut hr = signed_in(&s, "jinji").await;
    let account = worker.get("/account").await;
    assert!(account.body.contains("タナカ タロウ"), "{}", account.body);
    let csrf = account.csrf_field();
    let r = worker
        .post_form(
            "/account/name-reading",
            &[("csrf_token", csrf.as_str()), ("name_reading", "田中")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("カタカナかひらがな"), "{}", r.body);
    let r = worker
        .post_form(
            "/account/name-reading",
            &[("csrf_token", csrf.as_str()), ("name_reading", "")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(names(&mut hr, &[("name", "たなか")]).await, none());
    assert_eq!(names(&mut hr, &[("name", "田中")]).await, one(TANAKA));
    let r = worker
        .post_form(
            "/account/name-reading",
            &[("csrf_token", csrf.as_str()), ("name_reading", "ﾀﾅｶ ﾀﾛｳ")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(
        worker
            .get("/account?done=name_reading")
            .await
            .body
            .contains("フリガナを保存しました")
    );
    assert_eq!(names(&mut hr, &[("name", "たなか")]).await, one(TANAKA));
}

/// Empties the index directly, as a lost or damaged index would be.
struct EmptyIndex;

impl ryoritsu::server::WithStore for EmptyIndex {
    type Output = ();
    async fn run<S: ryoritsu_app::ports::Store + ryoritsu_app::conformance::Tamper>(
        self,
        store: S,
    ) -> Result<(), String> {
        use ryoritsu_app::ports::TxControl;
        use ryoritsu_app::search::ports::SearchWrites;
        let mut tx = store.begin().await.map_err(|e| e.to_string())?;
        tx.clear_search_rows().await.map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_rebuilds_the_same_results() {
    let s = TestServer::demo().await;
    let mut sangyoi = signed_in(&s, "sangyoi").await;
    let queries: Vec<Vec<(&str, &str)>> = vec![
        vec![("q", "がん")],
        vec![("q", "通院")],
        vec![("name", "たなか")],
        vec![("status", "on_leave")],
        vec![("q", "短時間勤務"), ("name", "田中")],
    ];
    let mut before = Vec::new();
    for q in &queries {
        let r = search(&mut sangyoi, q).await;
        assert_eq!(r.status, 200);
        before.push(r.json());
    }
    assert_eq!(before[0]["total"], 1);

    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = cli(&s.db.url, dir.path(), &["search", "reindex"], None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("作り直しました"), "{out}");
    for (q, b) in queries.iter().zip(&before) {
        assert_eq!(&search(&mut sangyoi, q).await.json(), b, "{q:?}");
    }

    // With the index emptied, nothing is found (not even the case rows)...
    ryoritsu::server::with_store(
        &ryoritsu::config::DatabaseUrl::new(s.db.url.clone()),
        EmptyIndex,
    )
    .await
    .unwrap();
    assert_eq!(names(&mut sangyoi, &[("q", "がん")]).await, none());
    // ... until it is rebuilt from the records.
    let (code, out, err) = cli(&s.db.url, dir.path(), &["search", "reindex"], None);
    assert_eq!(code, 0, "{out}{err}");
    for (q, b) in queries.iter().zip(&before) {
        assert_eq!(&search(&mut sangyoi, q).await.json(), b, "{q:?}");
    }
}

/// How many rows the search index holds, read directly.
struct IndexRows;

impl ryoritsu::server::WithStore for IndexRows {
    type Output = i64;
    async fn run<S: ryoritsu_app::ports::Store + ryoritsu_app::conformance::Tamper>(
        self,
        store: S,
    ) -> Result<i64, String> {
        use ryoritsu_app::search::ports::SearchReads;
        let mut c = store.read().await.map_err(|e| e.to_string())?;
        c.count_search_rows().await.map_err(|e| e.to_string())
    }
}

async fn index_rows(url: &str) -> i64 {
    ryoritsu::server::with_store(
        &ryoritsu::config::DatabaseUrl::new(url.to_owned()),
        IndexRows,
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_rebuilds_the_index_it_does_not_carry() {
    let s = TestServer::demo().await;
    let rows = index_rows(&s.db.url).await;
    assert!(rows >= 4, "names, workplaces and documents: {rows}");
    let file = s.db.dir.path().join("backup.jsonl");
    let (code, out, err) = cli(
        &s.db.url,
        s.db.dir.path(),
        &["backup", file.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("search_rows"), "the index is not backed up");
    assert!(text.contains("タナカ タロウ"), "readings are");
    let target = crate::harness::TestDb::new().await;
    let (code, out, err) = cli(
        &target.url,
        target.dir.path(),
        &["restore", file.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(index_rows(&target.url).await, rows);
}

/// A newcomer gives the reading when accepting the invitation; a bad reading refuses the
/// whole registration (the invitation stays unused), and a good one makes the case they
/// file findable by it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reading_given_on_registration_finds_the_newcomers_case() {
    let s = TestServer::demo().await;
    let mut admin = signed_in(&s, "admin").await;
    let (_, employer) = me(&mut admin).await;
    let inv = admin
        .api(
            "POST",
            &format!("/api/v1/organisations/{employer}/invitations"),
            Some(serde_json::json!({"role": "worker"})),
            &[],
        )
        .await;
    assert_eq!(inv.status, 201, "{}", inv.body);
    let link = inv.json()["link"].as_str().unwrap().to_owned();
    let token = link.rsplit('/').next().unwrap().to_owned();
    let accept = |reading: &str| {
        serde_json::json!({"login": "suzuki.hanako", "display_name": "鈴木 花子",
            "password": "suzuki-hanako-2026-pass", "name_reading": reading})
    };
    let path = format!("/api/v1/invitations/{token}/accept");
    let refused = s
        .client()
        .api("POST", &path, Some(accept("Suzuki")), &[])
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("name_reading"), "{}", refused.body);
    assert!(
        refused.body.contains("カタカナかひらがな"),
        "{}",
        refused.body
    );
    let r = s
        .client()
        .api("POST", &path, Some(accept("ｽｽﾞｷ ﾊﾅｺ")), &[])
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    let mut newcomer = s.client();
    let r = newcomer
        .api_sign_in("suzuki.hanako", "suzuki-hanako-2026-pass")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        newcomer
            .get("/account")
            .await
            .body
            .contains("スズキ ハナコ")
    );
    let body = serde_json::json!({"employer_id": employer, "path": "continuation"});
    let r = newcomer.api("POST", "/api/v1/cases", Some(body), &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);

    let mut hr = signed_in(&s, "jinji").await;
    for q in ["すずき", "スズキ ハナコ", "鈴木"] {
        assert_eq!(
            names(&mut hr, &[("name", q)]).await,
            one("鈴木 花子"),
            "{q}"
        );
    }
}
