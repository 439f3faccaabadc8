//! The worker's request for correction (訂正の請求) and its answer, through the API and the
//! pages in the demo world: only the worker files; HR answers for the employer's documents
//! and the 主治医 for the opinion, by a corrected new version; stale and missing `If-Match`;
//! the audit chain and the worker's access log; nothing for another employer's HR.

use serde_json::{Value, json};

use crate::harness::{Client, DEMO_PASSWORD, Resp, TestDb, TestServer, cli, has_japanese};
use ryoritsu_domain::audit::{AuditAction, ChainVerifier};

async fn signed_in(s: &TestServer, login: &str) -> Client {
    let mut c = s.client();
    let r = c.api_sign_in(login, DEMO_PASSWORD).await;
    assert_eq!(r.status, 200, "{login}: {}", r.body);
    c
}

/// Signs in through the pages, keeping the token for the forms.
async fn person(s: &TestServer, login: &str) -> Client {
    let mut c = s.client();
    let r = c.page_sign_in(login, DEMO_PASSWORD).await;
    assert_eq!(r.status, 303, "{login}: {}", r.body);
    c
}

/// 田中さん's demo case and its 確定 documents: (case, 勤務情報提供書, 主治医意見書).
async fn demo_case(worker: &mut Client) -> (String, String, String) {
    let cases = worker.get("/api/v1/cases").await.json()["items"].clone();
    let case = cases
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == "continuation")
        .expect("the demo case")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let docs = worker
        .get(&format!("/api/v1/cases/{case}/documents"))
        .await
        .json();
    let doc = |form: &str| {
        docs.as_array()
            .unwrap()
            .iter()
            .find(|d| d["form"] == form && d["stage"] == "finalised")
            .unwrap_or_else(|| panic!("a finalised {form}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let wi = doc("work_information");
    let opinion = doc("continuation_opinion");
    (case, wi, opinion)
}

fn request_on(document: &str) -> Value {
    json!({
        "document_id": document,
        "kind": "correct",
        "what_is_wrong": "通院は「月2回（平日午前）」と書かれています。",
        "should_say": "通院は月1回（第2水曜日の午前）です。"
    })
}

async fn file(c: &mut Client, case: &str, body: Value) -> Resp {
    c.api(
        "POST",
        &format!("/api/v1/cases/{case}/correction-requests"),
        Some(body),
        &[],
    )
    .await
}

async fn answer(c: &mut Client, id: &str, if_match: Option<&str>, body: Value) -> Resp {
    let headers: Vec<(&str, &str)> = if_match.map(|v| ("if-match", v)).into_iter().collect();
    c.api(
        "POST",
        &format!("/api/v1/correction-requests/{id}/answer"),
        Some(body),
        &headers,
    )
    .await
}

fn location(r: &Resp) -> String {
    assert_eq!(r.status, 303, "{}", r.body);
    r.header("location").unwrap().to_owned()
}

/// The audit chain verifies, and holds exactly one filing and one answer for the request,
/// each with the case.
async fn assert_audited(s: &TestServer, case: &str, request: &str) {
    let records = crate::harness::audit_records(&s.db.url).await;
    let mut v = ChainVerifier::default();
    for r in &records {
        v.feed(r).unwrap();
    }
    v.finish(None).unwrap();
    let target = format!("correction:{request}");
    for action in [
        AuditAction::CorrectionRequested,
        AuditAction::CorrectionAnswered,
    ] {
        let found: Vec<_> = records
            .iter()
            .filter(|r| r.event.action == action && r.event.target.as_deref() == Some(&target))
            .collect();
        assert_eq!(found.len(), 1, "{action:?}");
        assert_eq!(
            found[0].event.case_id.map(|c| c.to_string()).as_deref(),
            Some(case),
            "{action:?} names the case"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_files_and_hr_answers_that_it_does_not_correct_with_its_reason() {
    let s = TestServer::demo().await;
    let mut worker = signed_in(&s, "worker").await;
    let (case, wi, _) = demo_case(&mut worker).await;

    // Every problem is named by its field, in Japanese.
    let bad = file(
        &mut worker,
        &case,
        json!({"document_id": wi, "kind": "rewrite", "what_is_wrong": " ", "should_say": "x"}),
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let fields: Vec<(String, String)> = bad.json()["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        fields.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
        ["kind", "what_is_wrong"]
    );
    assert!(fields[1].1.contains("「誤っている内容」"), "{fields:?}");

    // Filed once, even when the client retries with its key.
    let key = [("idempotency-key", "correction-1")];
    let path = format!("/api/v1/cases/{case}/correction-requests");
    let first = worker.api("POST", &path, Some(request_on(&wi)), &key).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let retry = worker.api("POST", &path, Some(request_on(&wi)), &key).await;
    assert_eq!(retry.status, 201);
    assert_eq!(retry.body, first.body);
    let filed = first.json();
    let id = filed["id"].as_str().unwrap().to_owned();
    assert_eq!(filed["status"], "received");
    assert_eq!(filed["responder"], "employer");
    assert_eq!(filed["responder_name"], "株式会社みどり精機");
    assert_eq!(filed["due"], "2026-04-15", "two weeks after filing");
    assert_eq!(filed["target"]["label"], "勤務情報提供書（第1版）");
    assert_eq!(filed["version"], 1);
    let mine = worker.get("/api/v1/me/correction-requests").await.json();
    assert_eq!(mine.as_array().unwrap().len(), 1, "one request, not two");

    // HR finds it and answers over the version it saw.
    let mut hr = signed_in(&s, "jinji").await;
    let listed = hr
        .get(&format!("/api/v1/cases/{case}/correction-requests"))
        .await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()[0]["id"], id.as_str());
    let one = hr.get(&format!("/api/v1/correction-requests/{id}")).await;
    assert_eq!(one.header("etag"), Some("\"1\""));
    let not_corrected = json!({
        "decision": "not_corrected",
        "reason": "通院の予定は、ご本人から4月1日に伺った内容のとおり記載しています。変更があれば新しい勤務情報提供書を作成します。"
    });
    let missing = answer(&mut hr, &id, None, not_corrected.clone()).await;
    assert_eq!(missing.status, 428, "{}", missing.body);
    let stale = answer(&mut hr, &id, Some("\"0\""), not_corrected.clone()).await;
    assert_eq!(stale.status, 412, "{}", stale.body);
    assert!(has_japanese(&stale.json()["message"].to_string()));
    let no_reason = answer(
        &mut hr,
        &id,
        Some("\"1\""),
        json!({"decision": "not_corrected"}),
    )
    .await;
    assert_eq!(no_reason.status, 422);
    assert_eq!(no_reason.json()["fields"][0]["field"], "reason");
    let done = answer(&mut hr, &id, Some("\"1\""), not_corrected.clone()).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.header("etag"), Some("\"2\""));
    assert_eq!(done.json()["status"], "answered");
    let again = answer(
        &mut hr,
        &id,
        Some("\"2\""),
        json!({"decision": "corrected"}),
    )
    .await;
    assert_eq!(again.status, 409, "an answer is final: {}", again.body);
    assert_eq!(again.json()["code"], "correction_answered");

    // The worker sees the answer with its reason, in the API, the access log and the export.
    let mine = worker.get("/api/v1/me/correction-requests").await.json();
    assert_eq!(mine[0]["answer"]["decision"], "not_corrected");
    assert_eq!(mine[0]["answer"]["decision_label"], "訂正しない");
    assert_eq!(mine[0]["answer"]["reason"], not_corrected["reason"]);
    let log = worker.get("/api/v1/me/access-log?limit=500").await.json()["items"].clone();
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"correction_requested"), "{actions:?}");
    assert!(actions.contains(&"correction_answered"), "{actions:?}");
    let export = worker.get("/api/v1/me/export").await.json();
    assert_eq!(export["correction_requests"][0]["id"], id.as_str());
    assert_eq!(
        export["correction_requests"][0]["answer"]["decision"],
        "not_corrected"
    );
    assert_audited(&s, &case, &id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_files_in_the_workers_name() {
    let s = TestServer::demo().await;
    let mut worker = signed_in(&s, "worker").await;
    let (case, wi, _) = demo_case(&mut worker).await;
    // Taking part in the case (coordinator, HR, 産業医, 主治医) is not enough: 403.
    for login in ["msw", "jinji", "sangyoi", "doctor"] {
        let mut c = signed_in(&s, login).await;
        let r = file(&mut c, &case, request_on(&wi)).await;
        assert_eq!(r.status, 403, "{login}: {}", r.body);
        let form = c
            .get(&format!("/cases/{case}/correction-requests/new"))
            .await;
        assert_eq!(form.status, 403, "{login}: the form");
        assert!(form.body.contains("ご本人だけ"), "{login}: {}", form.body);
    }
    // Without a part in the case, it does not exist.
    for login in ["worker2", "manager", "promoter"] {
        let mut c = signed_in(&s, login).await;
        let r = file(&mut c, &case, request_on(&wi)).await;
        assert_eq!(r.status, 404, "{login}: {}", r.body);
    }
    let none = worker.get("/api/v1/me/correction-requests").await.json();
    assert!(none.as_array().unwrap().is_empty());
    let records = crate::harness::audit_records(&s.db.url).await;
    assert!(
        !records
            .iter()
            .any(|r| r.event.action == AuditAction::CorrectionRequested)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hospital_answers_for_its_opinion_with_a_corrected_version() {
    let s = TestServer::demo().await;
    let mut worker = signed_in(&s, "worker").await;
    let (case, _, opinion) = demo_case(&mut worker).await;
    let filed = file(&mut worker, &case, request_on(&opinion)).await;
    assert_eq!(filed.status, 201, "{}", filed.body);
    let filed = filed.json();
    let id = filed["id"].as_str().unwrap().to_owned();
    assert_eq!(filed["responder"], "hospital");
    assert_eq!(filed["responder_name"], "都立さくら総合病院");

    // The employer does not answer for the hospital's opinion, and does not see the request.
    let mut hr = signed_in(&s, "jinji").await;
    assert_eq!(
        hr.get(&format!("/api/v1/correction-requests/{id}"))
            .await
            .status,
        404
    );
    let hr_list = hr
        .get(&format!("/api/v1/cases/{case}/correction-requests"))
        .await
        .json();
    assert!(hr_list.as_array().unwrap().is_empty());
    let r = answer(
        &mut hr,
        &id,
        Some("\"1\""),
        json!({"decision": "not_corrected", "reason": "x"}),
    )
    .await;
    assert_eq!(r.status, 404);

    // The 主治医 starts the corrected version, edits and confirms it, then answers with it.
    let mut doctor = signed_in(&s, "doctor").await;
    let home = doctor.get("/").await;
    assert!(
        home.body.contains("訂正の請求への回答"),
        "the doctor's task"
    );
    assert!(home.body.contains(&format!("/correction-requests/{id}")));
    let without = answer(
        &mut doctor,
        &id,
        Some("\"1\""),
        json!({"decision": "corrected"}),
    )
    .await;
    assert_eq!(without.status, 422);
    assert_eq!(
        without.json()["fields"][0]["field"],
        "corrected_document_id"
    );
    let started = doctor
        .api(
            "POST",
            &format!("/api/v1/correction-requests/{id}/correcting-document"),
            None,
            &[],
        )
        .await;
    assert_eq!(started.status, 201, "{}", started.body);
    let started = started.json();
    let fix = started["document_id"].as_str().unwrap().to_owned();
    assert_eq!(started["revision"], 2);
    assert_eq!(started["corrects"], opinion.as_str());
    // Starting again opens the same draft.
    let again = doctor
        .api(
            "POST",
            &format!("/api/v1/correction-requests/{id}/correcting-document"),
            None,
            &[],
        )
        .await;
    assert_eq!(again.json()["document_id"], fix.as_str());
    // A draft is not yet a correction.
    let draft_named = answer(
        &mut doctor,
        &id,
        Some("\"1\""),
        json!({"decision": "corrected", "corrected_document_id": fix}),
    )
    .await;
    assert_eq!(draft_named.status, 422);
    assert_eq!(
        draft_named.json()["fields"][0]["code"],
        "not_finalised",
        "{}",
        draft_named.body
    );
    let docs = doctor
        .get(&format!("/api/v1/cases/{case}/documents"))
        .await
        .json();
    let mut answers = docs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == fix.as_str())
        .unwrap()["answers"]
        .clone();
    answers["other_considerations"] = json!("通院は月1回（第2水曜日の午前）。通院日の勤務調整。");
    let saved = doctor
        .api(
            "PUT",
            &format!("/api/v1/cases/{case}/documents/{fix}"),
            Some(json!({ "answers": answers })),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    let confirmed = doctor
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/documents/{fix}/finalise"),
            Some(json!({"signature_field": "physician_signature", "party": "attending_physician"})),
            &[("if-match", "\"2\"")],
        )
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let done = answer(
        &mut doctor,
        &id,
        Some("\"1\""),
        json!({"decision": "corrected", "corrected_document_id": fix}),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.json()["answer"]["corrected_document_id"], fix.as_str());
    assert!(
        !doctor.get("/").await.body.contains("訂正の請求への回答"),
        "the task is done"
    );

    // The worker sees the answer and the new version, which points at the old one.
    let mine = worker.get("/api/v1/me/correction-requests").await.json();
    assert_eq!(mine[0]["answer"]["decision_label"], "訂正した");
    let docs = worker
        .get(&format!("/api/v1/cases/{case}/documents"))
        .await
        .json();
    let new = docs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == fix.as_str())
        .unwrap();
    assert_eq!(new["stage"], "finalised");
    assert_eq!(new["corrects"], opinion.as_str());
    let old = docs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == opinion.as_str())
        .unwrap();
    assert_eq!(
        old["stage"], "finalised",
        "the old version is kept as it was"
    );
    let page = worker.get(&format!("/correction-requests/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("訂正した"));
    assert!(
        page.body
            .contains(&format!("/cases/{case}/documents/{fix}"))
    );
    assert_audited(&s, &case, &id).await;

    // A backup holds the request with its answer, and restores it as it was.
    let file = s.db.dir.path().join("backup.jsonl");
    let (code, out, err) = cli(
        &s.db.url,
        s.db.dir.path(),
        &["backup", file.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let target = TestDb::new().await;
    let (code, out, err) = cli(
        &target.url,
        target.dir.path(),
        &["restore", file.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let before = export(&s.db.url).await;
    let after = export(&target.url).await;
    let requests = &before["correction_requests"];
    assert_eq!(requests.as_array().unwrap().len(), 1);
    assert_eq!(
        requests[0]["request"]["answer"]["corrected_document"],
        fix.as_str()
    );
    assert_eq!(&after["correction_requests"], requests);
    assert_eq!(after["documents"], before["documents"]);
}

struct Export;

impl ryoritsu::server::WithStore for Export {
    type Output = Value;
    async fn run<S: ryoritsu_app::ports::Store + ryoritsu_app::conformance::Tamper>(
        self,
        store: S,
    ) -> Result<Value, String> {
        let app = ryoritsu_app::App::new(
            store,
            ryoritsu_app::conformance::test_config(),
            std::sync::Arc::new(ryoritsu_app::SystemClock),
            std::sync::Arc::new(ryoritsu_app::RandomIds),
        )
        .map_err(|e| e.to_string())?;
        Ok(app
            .export_dataset()
            .await
            .map_err(|e| e.to_string())?
            .canonical())
    }
}

/// The canonical export of a test database.
async fn export(url: &str) -> Value {
    ryoritsu::server::with_store(&ryoritsu::config::DatabaseUrl::new(url.to_owned()), Export)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_employers_hr_finds_nothing() {
    let s = TestServer::start_with(true, |c| {
        c.demo = true;
        // The new HR account has no authenticator in this test.
        c.require_second_factor = false;
    })
    .await;
    let mut worker = signed_in(&s, "worker").await;
    let (case, wi, _) = demo_case(&mut worker).await;
    let filed = file(&mut worker, &case, request_on(&wi)).await;
    let id = filed.json()["id"].as_str().unwrap().to_owned();

    let mut other = s
        .newcomer(
            ("employer", "株式会社あおば物産"),
            "hr_officer",
            ("aoba.jinji", "青葉 人事", "aoba-jinji-2026-password"),
        )
        .await;
    for path in [
        format!("/api/v1/correction-requests/{id}"),
        format!("/api/v1/cases/{case}/correction-requests"),
        format!("/correction-requests/{id}"),
    ] {
        assert_eq!(other.get(&path).await.status, 404, "{path}");
    }
    let r = answer(
        &mut other,
        &id,
        Some("\"1\""),
        json!({"decision": "not_corrected", "reason": "x"}),
    )
    .await;
    assert_eq!(r.status, 404);
    let r = other
        .api(
            "POST",
            &format!("/api/v1/correction-requests/{id}/correcting-document"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 404);
    let home = other.get("/").await;
    assert!(!home.body.contains("訂正の請求への回答"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_pages_the_worker_asks_and_hr_answers_with_the_form() {
    let s = TestServer::demo().await;
    let mut api = signed_in(&s, "worker").await;
    let (case, wi, _) = demo_case(&mut api).await;
    let mut worker = person(&s, "worker").await;

    // From the records page and from the document.
    let records = worker.get("/me/records").await;
    assert_eq!(records.status, 200);
    assert!(
        records
            .body
            .contains(&format!("/cases/{case}/correction-requests/new"))
    );
    let doc = worker.get(&format!("/cases/{case}/documents/{wi}")).await;
    assert!(doc.body.contains("内容の訂正を求める"), "{}", doc.body);
    let new = format!("/cases/{case}/correction-requests/new?document={wi}");
    assert!(doc.body.contains(&new.replace('&', "&amp;")));
    let form = worker.get(&new).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("人事労務担当者"), "who answers");
    assert!(form.body.contains("14日以内"), "by when");
    assert!(form.body.contains("わたしの情報"), "where the answer comes");
    assert!(!form.body.contains(" style="), "no inline style (CSP)");
    assert!(form.body.contains(&format!("value=\"{wi}\" checked")));
    let token = form.csrf_field();
    let action = format!("/cases/{case}/correction-requests");

    let refused = worker
        .post_form(
            &action,
            &[
                ("csrf_token", &token),
                ("target", &wi),
                ("kind", "correct"),
                ("what_is_wrong", ""),
                ("should_say", "通院は月1回です。"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .body
            .contains("「誤っている内容」を入力してください。")
    );
    assert!(refused.body.contains("通院は月1回です。"), "input kept");
    let filed = worker
        .post_form(
            &action,
            &[
                ("csrf_token", &token),
                ("target", &wi),
                ("kind", "correct"),
                (
                    "what_is_wrong",
                    "通院は月2回と書かれています。\n平日午前とも書かれています。",
                ),
                ("should_say", "通院は月1回です。"),
            ],
        )
        .await;
    let to = location(&filed);
    assert!(to.ends_with("?done=filed"), "{to}");
    let id = to
        .trim_start_matches("/correction-requests/")
        .trim_end_matches("?done=filed")
        .to_owned();
    let shown = worker.get(&to).await;
    assert_eq!(shown.status, 200);
    assert!(shown.body.contains("受け付けました"));
    assert!(shown.body.contains("回答をお待ちください"));
    assert!(
        shown
            .body
            .contains("通院は月2回と書かれています。<br>平日午前とも書かれています。"),
        "line breaks kept, text escaped"
    );
    assert!(
        !shown.body.contains("回答を登録する"),
        "no answer form for the worker"
    );

    // HR sees the task on the home page and answers with the form.
    let mut hr = person(&s, "jinji").await;
    let home = hr.get("/").await;
    assert!(home.body.contains("訂正の請求への回答"));
    assert!(home.body.contains(&format!("/correction-requests/{id}")));
    let page = hr.get(&format!("/correction-requests/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("回答を登録する"));
    assert!(page.body.contains("訂正した新しい版を作る"));
    let token = page.csrf_field();
    let post = format!("/correction-requests/{id}/answer");
    let no_reason = hr
        .post_form(
            &post,
            &[
                ("csrf_token", &token),
                ("version", "1"),
                ("decision", "not_corrected"),
                ("reason", ""),
            ],
        )
        .await;
    assert_eq!(no_reason.status, 422);
    assert!(no_reason.body.contains("「理由・説明」"));
    let reason = "記載はご本人から伺った内容のとおりです。";
    let answered = hr
        .post_form(
            &post,
            &[
                ("csrf_token", &token),
                ("version", "1"),
                ("decision", "not_corrected"),
                ("reason", reason),
            ],
        )
        .await;
    assert!(location(&answered).ends_with("?done=answered"));
    // The same form sent again is stale.
    let stale = hr
        .post_form(
            &post,
            &[
                ("csrf_token", &token),
                ("version", "1"),
                ("decision", "corrected"),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(stale.status, 409);
    assert!(stale.body.contains("ほかの方が先に"));
    assert!(
        !hr.get("/")
            .await
            .body
            .contains(&format!("/correction-requests/{id}"))
    );

    // The worker reads the answer and its reason.
    let records = worker.get("/me/records").await;
    assert!(records.body.contains("訂正しない"));
    assert!(
        records.body.contains("訂正の請求への回答"),
        "in the access log"
    );
    let shown = worker.get(&format!("/correction-requests/{id}")).await;
    assert!(shown.body.contains("訂正しない"));
    assert!(shown.body.contains(reason));
}
