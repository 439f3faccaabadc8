//! Support cases over the JSON API: the 就業継続 path in the demo world, consent deciding
//! what each party reads, and optimistic locking (412 stale, 428 missing).

use serde_json::{Value, json};

use crate::harness::{Client, DEMO_PASSWORD, TestServer};

async fn signed_in(s: &TestServer, login: &str) -> Client {
    let mut c = s.client();
    let r = c.api_sign_in(login, DEMO_PASSWORD).await;
    assert_eq!(r.status, 200, "{login}: {}", r.body);
    c
}

fn etag(r: &crate::harness::Resp) -> String {
    r.header("etag")
        .unwrap_or_else(|| panic!("no ETag: {} {}", r.status, r.body))
        .to_owned()
}

async fn org_of(c: &mut Client) -> String {
    c.get("/api/v1/me").await.json()["memberships"][0]["organisation_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn work_information() -> Value {
    json!({
        "addressee": {"institution": "都立さくら総合病院", "physician_name": "伊藤 健一"},
        "employee_name": "田中 太郎",
        "occupation": "製造ライン作業",
        "job_description": {"details": "部品の組立と目視検査。", "tasks": ["prolonged_standing"]},
        "work_pattern": {"pattern": "day_shift"},
        "work_hours": {"start": "8:30", "end": "17:30", "break_hours": "1", "days_per_week": 5},
        "commute": {"methods": ["public_transport_seated"], "minutes": "45"},
        "available_systems": {"systems": ["short_hours"]},
        "occupational_physician": true,
        "company_contact": {"address": "東京都大田区1-2-3", "phone": "03-0000-0000"},
        "worker_confirmation": {"date": "2026-04-01", "name": "田中 太郎"}
    })
}

fn opinion() -> Value {
    json!({
        "patient_name": "田中 太郎",
        "diagnosis": "胃がん（術後）",
        "current_symptoms": "倦怠感が残る。",
        "treatment_plan": "外来化学療法を月2回。",
        "fitness_for_work": "fit_with_conditions",
        "work_measures": "重いものを持たない。残業を避ける。",
        "measure_period": {"from": "2026-05-01", "to": "2026-10-31"},
        "physician_signature": {"date": "2026-04-02", "name": "伊藤 健一"}
    })
}

async fn step(c: &mut Client, case: &str, etag: &str, body: Value) -> crate::harness::Resp {
    c.api(
        "POST",
        &format!("/api/v1/cases/{case}/steps"),
        Some(body),
        &[("if-match", etag)],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_continuation_path_runs_with_consent_deciding_who_reads_what() {
    let s = TestServer::demo().await;
    let mut worker = signed_in(&s, "worker").await;
    let mut hr = signed_in(&s, "jinji").await;
    let mut doctor = signed_in(&s, "doctor").await;
    let mut bureau = signed_in(&s, "bureau").await;
    let employer = org_of(&mut worker).await;
    let hospital = org_of(&mut doctor).await;

    // 申出: only the worker files it.
    let body = json!({"employer_id": employer, "path": "continuation"});
    assert_eq!(
        hr.api("POST", "/api/v1/cases", Some(body.clone()), &[])
            .await
            .status,
        404
    );
    let r = worker.api("POST", "/api/v1/cases", Some(body), &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(etag(&r), "\"1\"");
    let case = r.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(r.json()["status"], "requested");
    assert_eq!(
        bureau.get(&format!("/api/v1/cases/{case}")).await.status,
        404,
        "other organisations see nothing"
    );
    let listed = hr.get("/api/v1/cases").await.json()["items"].clone();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == case.as_str()),
        "HR sees the case of its employer"
    );

    // HR drafts the 勤務情報提供書 and takes the step; If-Match is required and checked.
    let d = hr
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/documents"),
            Some(json!({"form": "work_information", "answers": work_information()})),
            &[],
        )
        .await;
    assert_eq!(d.status, 201, "{}", d.body);
    let doc = d.json()["id"].as_str().unwrap().to_owned();
    let missing = hr
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/steps"),
            Some(json!({"step": "draft_work_information"})),
            &[],
        )
        .await;
    assert_eq!(missing.status, 428);
    assert_eq!(missing.json()["code"], "precondition_required");
    let r = step(
        &mut hr,
        &case,
        "\"1\"",
        json!({"step": "draft_work_information"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let stale = step(
        &mut hr,
        &case,
        "\"1\"",
        json!({"step": "confirm_work_information", "by": "employer"}),
    )
    .await;
    assert_eq!(stale.status, 412);
    let r = step(
        &mut hr,
        &case,
        &etag(&r),
        json!({"step": "confirm_work_information", "by": "employer"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let for_worker = step(
        &mut hr,
        &case,
        &etag(&r),
        json!({"step": "confirm_work_information", "by": "worker"}),
    )
    .await;
    assert_eq!(
        for_worker.status, 422,
        "HR never confirms in the worker's name"
    );
    let r = step(
        &mut worker,
        &case,
        &etag(&r),
        json!({"step": "confirm_work_information", "by": "worker"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "ready_for_physician");
    let sign_as_worker = hr
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/documents/{doc}/finalise"),
            Some(json!({"signature_field": "worker_confirmation", "party": "worker"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(sign_as_worker.status, 403, "{}", sign_as_worker.body);
    let fin = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/documents/{doc}/finalise"),
            Some(json!({"signature_field": "worker_confirmation", "party": "worker"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(fin.status, 200, "{}", fin.body);
    assert_eq!(fin.json()["stage"], "finalised");

    // The worker attaches the hospital and consents to share the work information only.
    assert_eq!(
        doctor.get(&format!("/api/v1/cases/{case}")).await.status,
        404,
        "not yet attached"
    );
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/parties"),
            Some(json!({"kind": "hospital", "organisation_id": hospital})),
            &[],
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let docs = doctor
        .get(&format!("/api/v1/cases/{case}/documents"))
        .await
        .json();
    assert!(
        docs.as_array().unwrap().is_empty(),
        "nothing shared by default"
    );
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/consents"),
            Some(json!({
                "organisation_id": hospital, "role": "attending_physician",
                "categories": ["work_information"], "purpose": "主治医意見書の作成のため"
            })),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let docs = doctor
        .get(&format!("/api/v1/cases/{case}/documents"))
        .await
        .json();
    assert_eq!(docs.as_array().unwrap().len(), 1);
    assert_eq!(docs[0]["form"], "work_information");
    let current = worker.get(&format!("/api/v1/cases/{case}")).await;
    let r = step(
        &mut worker,
        &case,
        &etag(&current),
        json!({"step": "hand_to_physician"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // The physician writes and attests the opinion, and records it on the case.
    let o = doctor
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/documents"),
            Some(json!({"form": "continuation_opinion", "answers": opinion()})),
            &[],
        )
        .await;
    assert_eq!(o.status, 201, "{}", o.body);
    let op = o.json()["id"].as_str().unwrap().to_owned();
    let fin = doctor
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/documents/{op}/finalise"),
            Some(json!({"signature_field": "physician_signature", "party": "attending_physician"})),
            &[("if-match", &etag(&o))],
        )
        .await;
    assert_eq!(fin.status, 200, "{}", fin.body);
    let current = doctor.get(&format!("/api/v1/cases/{case}")).await;
    let r = step(
        &mut doctor,
        &case,
        &etag(&current),
        json!({"step": "record_opinion", "fitness": "fit_with_conditions"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "occupational_physician_pending");

    // HR sees neither the opinion nor the fitness until the worker consents.
    let hr_case = hr.get(&format!("/api/v1/cases/{case}")).await.json();
    assert!(hr_case.get("fitness_for_work").is_none(), "{hr_case}");
    assert!(
        !hr_case["visible"]
            .as_array()
            .unwrap()
            .contains(&json!("medical"))
    );
    let hr_docs = hr
        .get(&format!("/api/v1/cases/{case}/documents"))
        .await
        .body;
    assert!(
        !hr_docs.contains("胃がん") && !hr_docs.contains("continuation_opinion"),
        "{hr_docs}"
    );
    let w_case = worker.get(&format!("/api/v1/cases/{case}")).await.json();
    assert_eq!(
        w_case["fitness_for_work"], "fit_with_conditions",
        "the worker sees everything of their own"
    );
    let granted = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/consents"),
            Some(json!({
                "organisation_id": employer, "role": "hr_officer",
                "categories": ["medical"], "purpose": "就業上の措置を検討するため"
            })),
            &[],
        )
        .await;
    assert_eq!(granted.status, 201, "{}", granted.body);
    let consent = granted.json()["id"].as_str().unwrap().to_owned();
    let hr_docs = hr
        .get(&format!("/api/v1/cases/{case}/documents"))
        .await
        .body;
    assert!(
        hr_docs.contains("胃がん"),
        "with consent HR reads the opinion"
    );
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/consents/{consent}/withdraw"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let hr_docs = hr
        .get(&format!("/api/v1/cases/{case}/documents"))
        .await
        .body;
    assert!(
        !hr_docs.contains("胃がん"),
        "withdrawal takes effect at once"
    );

    // Tasks wait on the 産業医.
    let c = hr.get(&format!("/api/v1/cases/{case}")).await.json();
    let open: Vec<&Value> = c["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["open"] == true)
        .collect();
    assert!(
        open.iter()
            .any(|t| t["assignee_role"] == "occupational_physician"),
        "{c}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_simultaneous_edits_of_one_plan_one_wins_the_other_gets_412() {
    let s = TestServer::demo().await;
    let mut worker = signed_in(&s, "worker").await;
    let mut hr = signed_in(&s, "jinji").await;
    let employer = org_of(&mut worker).await;
    let r = worker
        .api(
            "POST",
            "/api/v1/cases",
            Some(json!({"employer_id": employer, "path": "continuation"})),
            &[],
        )
        .await;
    let case = r.json()["id"].as_str().unwrap().to_owned();
    let d = hr
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/documents"),
            Some(json!({"form": "support_plan", "answers": {"job_duties": "事務"}})),
            &[],
        )
        .await;
    let doc = d.json()["id"].as_str().unwrap().to_owned();
    let tag = etag(&d);
    let path = format!("/api/v1/cases/{case}/documents/{doc}");
    let mut a = Client::new(&s.base);
    a.cookies = hr.cookies.clone();
    a.csrf = hr.csrf.clone();
    let mut b = Client::new(&s.base);
    b.cookies = hr.cookies.clone();
    b.csrf = hr.csrf.clone();
    let (p1, t1) = (path.clone(), tag.clone());
    let (p2, t2) = (path.clone(), tag.clone());
    let ra = tokio::spawn(async move {
        a.api(
            "PUT",
            &p1,
            Some(json!({"answers": {"job_duties": "営業（外回りなし）"}})),
            &[("if-match", &t1)],
        )
        .await
    });
    let rb = tokio::spawn(async move {
        b.api(
            "PUT",
            &p2,
            Some(json!({"answers": {"job_duties": "経理（残業なし）"}})),
            &[("if-match", &t2)],
        )
        .await
    });
    let mut statuses = vec![ra.await.unwrap().status, rb.await.unwrap().status];
    statuses.sort_unstable();
    assert_eq!(statuses, vec![200, 412], "exactly one edit wins");
    // The plan holds the winner's text, whole.
    let docs = hr
        .get(&format!("/api/v1/cases/{case}/documents"))
        .await
        .json();
    let duties = docs[0]["answers"]["job_duties"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        duties == "営業（外回りなし）" || duties == "経理（残業なし）",
        "{duties}"
    );
    let missing = hr
        .api("PUT", &path, Some(json!({"answers": {}})), &[])
        .await;
    assert_eq!(missing.status, 428);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_schemas_are_published_with_every_option() {
    let s = TestServer::start().await;
    let mut c = s.client();
    let r = c.get("/api/v1/forms/continuation_opinion/v2026").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("条件付きで可"));
    assert!(r.body.contains("現時点で不可"));
    assert_eq!(c.get("/api/v1/forms/nothing/v2026").await.status, 404);
    let cats = c.get("/api/v1/categories").await.json();
    assert_eq!(cats["medical"], "診断名・症状・治療の状況");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hospital_attaches_itself_with_the_workers_one_time_code() {
    let s = TestServer::demo().await;
    let mut worker = signed_in(&s, "worker").await;
    let mut doctor = signed_in(&s, "doctor").await;
    let mut hr = signed_in(&s, "jinji").await;
    let employer = org_of(&mut worker).await;
    let r = worker
        .api(
            "POST",
            "/api/v1/cases",
            Some(json!({"employer_id": employer, "path": "support_card"})),
            &[],
        )
        .await;
    let case = r.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        hr.api(
            "POST",
            &format!("/api/v1/cases/{case}/share-codes"),
            None,
            &[]
        )
        .await
        .status,
        403,
        "only the worker issues codes"
    );
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/share-codes"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let code = r.json()["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 14);
    let wrong = doctor
        .api(
            "POST",
            "/api/v1/share-codes/redeem",
            Some(json!({"code": "0000-0000-0000"})),
            &[],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert_eq!(wrong.json()["fields"][0]["code"], "share_code_invalid");
    let by_hr = hr
        .api(
            "POST",
            "/api/v1/share-codes/redeem",
            Some(json!({"code": code})),
            &[],
        )
        .await;
    assert_eq!(by_hr.status, 403, "only hospital staff redeem");
    // Typed from paper: lower case, spaces instead of hyphens.
    let typed = code.to_lowercase().replace('-', " ");
    let ok = doctor
        .api(
            "POST",
            "/api/v1/share-codes/redeem",
            Some(json!({"code": typed})),
            &[],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["case_id"], case.as_str());
    let seen = doctor.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(seen.status, 200, "attached");
    assert!(
        seen.json()["visible"].as_array().unwrap().is_empty(),
        "but sees nothing without consent"
    );
    let again = doctor
        .api(
            "POST",
            "/api/v1/share-codes/redeem",
            Some(json!({"code": code})),
            &[],
        )
        .await;
    assert_eq!(again.status, 422, "a code works once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_sees_who_read_what_and_can_take_everything_away_as_json() {
    // The demo world has 田中さん's case with the opinion shared with the 産業医 by consent.
    let s = TestServer::demo().await;
    let mut sangyoi = signed_in(&s, "sangyoi").await;
    let cases = sangyoi.get("/api/v1/cases").await.json()["items"].clone();
    let case = cases
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["visible"].as_array().unwrap().contains(&json!("medical")))
        .expect("a case with a consent to the 産業医")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let docs = sangyoi
        .get(&format!("/api/v1/cases/{case}/documents"))
        .await
        .body;
    assert!(
        docs.contains("胃がん"),
        "the 産業医 reads the opinion under the worker's consent"
    );
    let mut worker = signed_in(&s, "worker").await;
    let log = worker.get("/api/v1/me/access-log?limit=500").await.json()["items"].clone();
    let entries = log.as_array().unwrap();
    assert!(
        entries.iter().any(|e| e["action"] == "read"
            && e["category"] == "medical"
            && e["actor_name"] == "高橋 誠"),
        "the 産業医's read is in the worker's log: {log}"
    );
    assert!(
        entries.iter().any(|e| e["action"] == "disclosed"),
        "provisions are listed too"
    );
    let export = worker.get("/api/v1/me/export").await;
    assert_eq!(export.status, 200);
    assert!(
        export
            .header("content-disposition")
            .unwrap()
            .contains("attachment")
    );
    let v = export.json();
    assert_eq!(v["format"], "ryoritsu-disclosure");
    assert!(!v["cases"].as_array().unwrap().is_empty());
    assert!(!export.body.contains("password_hash") && !export.body.contains("totp_secret"));
    // Page by page, the log is the same list, newest first, with no gaps or repeats.
    let mut paged = Vec::new();
    let mut url = "/api/v1/me/access-log?limit=3".to_owned();
    let mut pages = 0;
    loop {
        let page = worker.get(&url).await.json();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        paged.extend(items.iter().cloned());
        pages += 1;
        match page.get("next").and_then(|n| n.as_str()) {
            Some(n) => url = format!("/api/v1/me/access-log?limit=3&before={n}"),
            None => break,
        }
        assert!(pages < 500, "paging never ends");
    }
    assert!(pages > 1, "the demo log spans several pages of three");
    assert_eq!(&paged, entries, "the pages together are the whole log");
    let bad = worker.get("/api/v1/me/access-log?before=abc").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["code"], "bad_cursor");
    // Someone else's log does not include this worker's case.
    let mut worker2 = signed_in(&s, "worker2").await;
    let other = worker2.get("/api/v1/me/access-log").await.body;
    assert!(!other.contains(&case));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_employer_narrows_its_handling_rules_and_can_never_widen_them() {
    let s = TestServer::demo().await;
    let mut admin = signed_in(&s, "admin").await;
    let mut worker = signed_in(&s, "worker").await;
    let mut manager = signed_in(&s, "manager").await;
    let mut doctor = signed_in(&s, "doctor").await;
    let employer = org_of(&mut admin).await;
    let path = format!("/api/v1/organisations/{employer}/handling-rules");
    let r = worker.get(&path).await;
    assert_eq!(r.status, 200, "the rules are made known to the workers");
    assert_eq!(etag(&r), "\"0\"", "the safe defaults apply");
    let rules = r.json();
    assert_eq!(rules["grants"]["hr_officer"]["medical"], "with_consent");
    assert_eq!(rules["grants"]["line_manager"]["work_measures"], "always");
    assert_eq!(
        doctor.get(&path).await.status,
        404,
        "another organisation's rules are not visible"
    );

    let mut grants = rules["grants"].clone();
    grants["hr_officer"]["medical"] = json!("always");
    let widen = admin
        .api(
            "PUT",
            &path,
            Some(json!({"grants": grants})),
            &[("if-match", "\"0\"")],
        )
        .await;
    assert_eq!(
        widen.status, 422,
        "no role may get the diagnosis without consent: {}",
        widen.body
    );
    let mut grants = rules["grants"].clone();
    grants["line_manager"]["work_measures"] = json!("with_consent");
    let by_worker = worker
        .api(
            "PUT",
            &path,
            Some(json!({"grants": grants.clone()})),
            &[("if-match", "\"0\"")],
        )
        .await;
    assert_eq!(by_worker.status, 403);
    assert_eq!(
        admin
            .api("PUT", &path, Some(json!({"grants": grants.clone()})), &[])
            .await
            .status,
        428
    );
    let ok = admin
        .api(
            "PUT",
            &path,
            Some(json!({"grants": grants.clone()})),
            &[("if-match", "\"0\"")],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(etag(&ok), "\"1\"");
    let stale = admin
        .api(
            "PUT",
            &path,
            Some(json!({"grants": grants})),
            &[("if-match", "\"0\"")],
        )
        .await;
    assert_eq!(stale.status, 412);
    assert_eq!(
        manager.get(&path).await.json()["grants"]["line_manager"]["work_measures"],
        "with_consent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_keeps_consultation_notes_that_only_consented_parties_read() {
    let s = TestServer::demo().await;
    let mut worker = signed_in(&s, "worker2").await;
    let mut promoter = signed_in(&s, "promoter").await;
    let mut hr = signed_in(&s, "jinji").await;
    let employer = org_of(&mut worker).await;
    let center = org_of(&mut promoter).await;
    let promoter_id = promoter.get("/api/v1/me").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = worker
        .api(
            "POST",
            "/api/v1/cases",
            Some(json!({"employer_id": employer, "path": "continuation"})),
            &[],
        )
        .await;
    let case = r.json()["id"].as_str().unwrap().to_owned();
    let notes = format!("/api/v1/cases/{case}/notes");
    assert_eq!(
        promoter
            .api("POST", &notes, Some(json!({"body": "初回相談"})), &[])
            .await
            .status,
        404,
        "not yet on the case"
    );
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/parties"),
            Some(json!({"kind": "coordinator", "organisation_id": center, "user_id": promoter_id})),
            &[],
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let no_consent = promoter
        .api("POST", &notes, Some(json!({"body": "初回相談"})), &[])
        .await;
    assert_eq!(
        no_consent.status, 403,
        "recording needs the worker's consent: {}",
        no_consent.body
    );
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/consents"),
            Some(json!({
                "organisation_id": center, "role": "agency_coordinator", "person_id": promoter_id,
                "categories": ["consultation_notes"], "purpose": "両立支援の相談のため"
            })),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let empty = promoter
        .api("POST", &notes, Some(json!({"body": "  "})), &[])
        .await;
    assert_eq!(empty.status, 422);
    let r = promoter
        .api(
            "POST",
            &notes,
            Some(json!({"body": "通院日の調整について相談。会社への伝え方を一緒に整理した。"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["author_role"], "agency_coordinator");
    let seen = promoter.get(&notes).await.json();
    assert_eq!(seen.as_array().unwrap().len(), 1);
    assert!(
        worker.get(&notes).await.body.contains("通院日の調整"),
        "the worker reads every note about them"
    );
    let export = worker.get("/api/v1/me/export").await;
    assert!(
        export.body.contains("通院日の調整"),
        "the 開示 export gives the worker the notes about them"
    );
    let hr_view = hr.get(&notes).await;
    assert!(
        !hr_view.body.contains("通院日の調整"),
        "HR reads no notes without consent: {}",
        hr_view.body
    );
    // A coordinator never acts for the worker.
    let current = worker.get(&format!("/api/v1/cases/{case}")).await;
    let r = promoter
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/steps"),
            Some(json!({"step": "confirm_work_information", "by": "worker"})),
            &[("if-match", &etag(&current))],
        )
        .await;
    assert!(r.status == 403 || r.status == 422, "{}", r.status);
}

/// Attaches the demo hospital to a case through the worker's share code.
async fn attach_hospital(worker: &mut Client, doctor: &mut Client, case: &str) {
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/share-codes"),
            None,
            &[],
        )
        .await;
    let code = r.json()["code"].as_str().unwrap().to_owned();
    let r = doctor
        .api(
            "POST",
            "/api/v1/share-codes/redeem",
            Some(json!({"code": code})),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Tries a step with the case's current version.
async fn try_step(c: &mut Client, case: &str, body: Value) -> crate::harness::Resp {
    let current = c.get(&format!("/api/v1/cases/{case}")).await;
    let tag = etag(&current);
    step(c, case, &tag, body).await
}

/// Takes a step with the case's current version and returns the new status.
async fn next(c: &mut Client, case: &str, body: Value) -> String {
    let r = try_step(c, case, body.clone()).await;
    assert_eq!(r.status, 200, "{body}: {}", r.body);
    r.json()["status"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leave_and_return_path_runs_to_a_return_to_work_plan() {
    let s = TestServer::demo().await;
    let mut worker = signed_in(&s, "worker2").await;
    let mut hr = signed_in(&s, "jinji").await;
    let mut doctor = signed_in(&s, "doctor").await;
    let mut sangyoi = signed_in(&s, "sangyoi").await;
    let employer = org_of(&mut worker).await;
    let body = json!({"employer_id": employer, "path": "leave_and_return"});
    let r = worker.api("POST", "/api/v1/cases", Some(body), &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let case = r.json()["id"].as_str().unwrap().to_owned();
    attach_hospital(&mut worker, &mut doctor, &case).await;
    let leave = json!({"step": "start_leave", "expected_end": "2026-06-30"});
    assert_eq!(next(&mut hr, &case, leave).await, "on_leave");
    let contact = json!({"step": "record_leave_contact", "next_contact_on": "2026-05-01"});
    assert_eq!(next(&mut hr, &case, contact).await, "on_leave");
    // 現時点で不可 extends the leave; 復職可 moves on.
    let not_yet =
        json!({"step": "record_return_opinion", "fitness": "not_yet", "leave_until": "2026-07-31"});
    assert_eq!(next(&mut doctor, &case, not_yet).await, "on_leave");
    let fit = json!({"step": "record_return_opinion", "fitness": "fit"});
    assert_eq!(next(&mut doctor, &case, fit).await, "return_assessment");
    let op = json!({"step": "record_occupational_physician_opinion"});
    assert_eq!(next(&mut sangyoi, &case, op).await, "plan_drafting");
    let no_date =
        json!({"step": "draft_plan", "review_on": "2026-09-01", "follow_up_on": "2026-08-15"});
    let r = try_step(&mut hr, &case, no_date).await;
    assert_eq!(r.status, 422, "a 職場復帰支援プラン needs its 職場復帰日");
    assert_eq!(r.json()["fields"][0]["code"], "return_date_required");
    let plan = json!({"step": "draft_plan", "review_on": "2026-09-01", "follow_up_on": "2026-08-15", "return_on": "2026-08-01"});
    assert_eq!(next(&mut hr, &case, plan).await, "plan_confirmation");
    assert_eq!(
        next(&mut worker, &case, json!({"step": "confirm_plan"})).await,
        "active"
    );
    let c = worker.get(&format!("/api/v1/cases/{case}")).await.json();
    assert_eq!(c["leave"]["return_on"], "2026-08-01");
    let close = json!({"step": "close", "outcome": "returned"});
    assert_eq!(next(&mut hr, &case, close).await, "closed");
    let r = try_step(&mut hr, &case, json!({"step": "revise_plan"})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["fields"][0]["code"], "case_closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_support_card_path_runs_from_the_workers_section_to_a_plan() {
    let s = TestServer::demo().await;
    let mut worker = signed_in(&s, "worker2").await;
    let mut hr = signed_in(&s, "jinji").await;
    let mut doctor = signed_in(&s, "doctor").await;
    let mut sangyoi = signed_in(&s, "sangyoi").await;
    let employer = org_of(&mut worker).await;
    let body = json!({"employer_id": employer, "path": "support_card"});
    let r = worker.api("POST", "/api/v1/cases", Some(body), &[]).await;
    let case = r.json()["id"].as_str().unwrap().to_owned();
    attach_hospital(&mut worker, &mut doctor, &case).await;
    let r = try_step(&mut hr, &case, json!({"step": "card_worker_section"})).await;
    assert_eq!(r.status, 422, "only the worker fills the 本人記載欄");
    let own = json!({"step": "card_worker_section"});
    assert_eq!(next(&mut worker, &case, own).await, "card_at_physician");
    let physician = json!({"step": "card_physician_section", "fitness": "fit_with_conditions"});
    assert_eq!(
        next(&mut doctor, &case, physician).await,
        "card_with_worker"
    );
    let handed = json!({"step": "card_handed_to_employer"});
    assert_eq!(
        next(&mut worker, &case, handed).await,
        "occupational_physician_pending"
    );
    let op = json!({"step": "record_occupational_physician_opinion"});
    assert_eq!(next(&mut sangyoi, &case, op).await, "plan_drafting");
    let plan =
        json!({"step": "draft_plan", "review_on": "2026-07-01", "follow_up_on": "2026-05-15"});
    assert_eq!(next(&mut hr, &case, plan).await, "plan_confirmation");
    assert_eq!(
        next(&mut worker, &case, json!({"step": "confirm_plan"})).await,
        "active"
    );
    let follow = json!({"step": "record_follow_up", "next_follow_up_on": "2026-06-15"});
    assert_eq!(next(&mut hr, &case, follow).await, "active");
    let close = json!({"step": "close", "outcome": "continuing"});
    assert_eq!(next(&mut hr, &case, close).await, "closed");
    let c = hr.get(&format!("/api/v1/cases/{case}")).await.json();
    assert_eq!(c["outcome"], "continuing", "kept for statistics");
}

/// The demo case of 田中さん: consents to the hospital's 主治医 (work information), the
/// 産業医 (medical) and the MSW (consultation notes); the diagnosis is 胃がん.
async fn demo_case(s: &TestServer) -> String {
    let mut worker = signed_in(s, "worker").await;
    let cases = worker.get("/api/v1/cases").await.json()["items"].clone();
    cases
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == "continuation")
        .expect("the demo case")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_sees_exactly_its_categories_of_a_case_through_the_api() {
    let s = TestServer::demo().await;
    let case = demo_case(&s).await;
    let all = [
        "work_information",
        "medical",
        "work_measures",
        "consultation_notes",
    ];
    // (login, expected case categories, or None for 404)
    let table: &[(&str, Option<&[&str]>)] = &[
        ("worker", Some(&all)),
        ("jinji", Some(&["work_information", "work_measures"])),
        (
            "sangyoi",
            Some(&["work_information", "medical", "work_measures"]),
        ),
        ("eisei", Some(&["work_information", "work_measures"])),
        ("doctor", Some(&["work_information"])),
        ("msw", Some(&["consultation_notes"])),
        ("manager", None),
        ("worker2", None),
        ("admin", None),
        ("promoter", None),
        ("bureau", None),
        ("operator", None),
    ];
    for (login, expected) in table {
        let mut c = signed_in(&s, login).await;
        let r = c.get(&format!("/api/v1/cases/{case}")).await;
        match expected {
            None => {
                assert_eq!(r.status, 404, "{login} has no part in the case");
                assert_eq!(
                    c.get(&format!("/api/v1/cases/{case}/documents"))
                        .await
                        .status,
                    404,
                    "{login}"
                );
                assert_eq!(
                    c.get(&format!("/api/v1/cases/{case}/notes")).await.status,
                    404,
                    "{login}"
                );
                assert_eq!(
                    c.get(&format!("/cases/{case}")).await.status,
                    404,
                    "{login}: page"
                );
            }
            Some(cats) => {
                assert_eq!(r.status, 200, "{login}");
                let visible: Vec<String> = r.json()["visible"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_owned())
                    .filter(|v| all.contains(&v.as_str()))
                    .collect();
                let mut want: Vec<String> = cats.iter().map(|s| (*s).to_owned()).collect();
                want.sort();
                let mut got = visible.clone();
                got.sort();
                assert_eq!(got, want, "{login}");
                let medical = cats.contains(&"medical");
                assert_eq!(
                    r.json().get("fitness_for_work").is_some(),
                    medical,
                    "{login}: the opinion's conclusion"
                );
                let docs = c.get(&format!("/api/v1/cases/{case}/documents")).await.body;
                let is_author = *login == "doctor";
                assert_eq!(
                    docs.contains("胃がん"),
                    medical || is_author,
                    "{login}: the diagnosis"
                );
                let notes = c.get(&format!("/api/v1/cases/{case}/notes")).await.body;
                assert_eq!(
                    notes.contains("外来化学療法の日程"),
                    cats.contains(&"consultation_notes"),
                    "{login}: notes"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_route_that_shows_a_case_gives_hr_the_diagnosis_without_consent() {
    let s = TestServer::demo().await;
    let case = demo_case(&s).await;
    let mut hr = signed_in(&s, "jinji").await;
    let mut manager = signed_in(&s, "manager").await;
    let docs = hr
        .get(&format!("/api/v1/cases/{case}/documents"))
        .await
        .json();
    let mut paths: Vec<String> = vec![
        "/api/v1/cases".into(),
        format!("/api/v1/cases/{case}"),
        format!("/api/v1/cases/{case}/documents"),
        format!("/api/v1/cases/{case}/notes"),
        format!("/api/v1/cases/{case}/scans"),
        format!("/api/v1/cases/{case}/correction-requests"),
        format!("/api/v1/cases/{case}/support-tasks"),
        format!("/api/v1/cases/{case}/guidance-sessions"),
        format!("/cases/{case}/guidance"),
        format!("/cases/{case}/correction-requests/new"),
        "/cases".into(),
        "/cases.csv".into(),
        "/api/v1/cases.csv".into(),
        format!("/cases/{case}"),
        "/".into(),
    ];
    for d in docs.as_array().unwrap() {
        let id = d["id"].as_str().unwrap();
        paths.push(format!("/cases/{case}/documents/{id}"));
        paths.push(format!("/api/v1/cases/{case}/documents/{id}"));
        // The PDF's text is checked with pdftotext in printing::, for HR and the 所属長 alike.
        paths.push(format!("/cases/{case}/documents/{id}/pdf"));
    }
    // Every GET route about cases in the route table is covered.
    for e in ryoritsu_web::routes::<ryoritsu_store_sqlite::SqliteStore>().entries() {
        if e.method == "GET"
            && (e.path.starts_with("/api/v1/cases") || e.path.starts_with("/cases"))
        {
            let covered = paths.iter().any(|p| {
                let template: Vec<&str> = e.path.split('/').collect();
                let actual: Vec<&str> = p.split('?').next().unwrap().split('/').collect();
                template.len() == actual.len()
                    && template
                        .iter()
                        .zip(&actual)
                        .all(|(t, a)| t.starts_with('{') || t == a)
            });
            let form_page = e.path.ends_with("/documents/new") || e.path.contains("consents");
            assert!(covered || form_page, "{} is not checked", e.path);
        }
    }
    for p in &paths {
        for (who, c) in [("HR", &mut hr), ("所属長", &mut manager)] {
            let r = c.get(p).await;
            assert!(r.status < 500, "{who} {p}");
            for secret in ["胃がん", "抗がん剤", "fitness_for_work", "条件付きで可"] {
                assert!(!r.body.contains(secret), "{who} {p} shows {secret}");
            }
        }
    }
}

/// What one demo login reads of a case through the API: the case categories it may see,
/// or `None` when the case, its documents and its notes all answer 404. The content follows
/// the categories: no diagnosis or opinion without `medical`, no note without
/// `consultation_notes`.
async fn categories_seen(s: &TestServer, login: &str, case: &str) -> Option<Vec<String>> {
    let mut c = signed_in(s, login).await;
    let r = c.get(&format!("/api/v1/cases/{case}")).await;
    if r.status == 404 {
        for sub in ["documents", "notes"] {
            let r = c.get(&format!("/api/v1/cases/{case}/{sub}")).await;
            assert_eq!(r.status, 404, "{login}: {sub}");
        }
        return None;
    }
    assert_eq!(r.status, 200, "{login}: {}", r.body);
    let mut seen: Vec<String> = r.json()["visible"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .filter(|v| {
            [
                "work_information",
                "medical",
                "work_measures",
                "consultation_notes",
            ]
            .contains(&v.as_str())
        })
        .collect();
    seen.sort();
    let medical = seen.iter().any(|c| c == "medical");
    if !medical {
        assert!(r.json().get("fitness_for_work").is_none(), "{login}");
        let docs = c.get(&format!("/api/v1/cases/{case}/documents")).await;
        assert_eq!(docs.status, 200, "{login}");
        // The physician reads the opinion they wrote, whatever the consents say.
        if login != "doctor" {
            assert!(!docs.body.contains("胃がん"), "{login} reads the diagnosis");
        }
    }
    if !seen.iter().any(|c| c == "consultation_notes") {
        let notes = c.get(&format!("/api/v1/cases/{case}/notes")).await;
        assert_eq!(notes.status, 200, "{login}");
        assert!(
            !notes.body.contains("外来化学療法の日程"),
            "{login} reads a note"
        );
    }
    Some(seen)
}

/// Each login's categories of the case, `None` for 404.
async fn check_access(s: &TestServer, case: &str, when: &str, table: &[(&str, Option<&[&str]>)]) {
    for (login, want) in table {
        let want = want.map(|w| {
            let mut v: Vec<String> = w.iter().map(|c| (*c).to_owned()).collect();
            v.sort();
            v
        });
        assert_eq!(
            categories_seen(s, login, case).await,
            want,
            "{when}: {login}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_follows_each_cases_own_parties_consents_over_time_and_closure() {
    const WI: &str = "work_information";
    const MED: &str = "medical";
    const WM: &str = "work_measures";
    const CN: &str = "consultation_notes";
    let s = TestServer::demo().await;
    let case = demo_case(&s).await;
    let mut worker = signed_in(&s, "worker").await;
    let employer = org_of(&mut worker).await;

    // Another case at the same employer (佐藤さん's leave): the consents of 田中さん's case do
    // not reach it, and that case's hospital and coordinator have no part in it.
    let mut worker2 = signed_in(&s, "worker2").await;
    let leave = worker2.get("/api/v1/cases").await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(leave, case);
    check_access(
        &s,
        &leave,
        "another case at the employer",
        &[
            ("worker2", Some(&[WI, MED, WM, CN])),
            ("jinji", Some(&[WI, WM])),
            ("sangyoi", Some(&[WI, WM])),
            ("eisei", Some(&[WI, WM])),
            ("doctor", None),
            ("msw", None),
            ("worker", None),
            ("manager", None),
            ("promoter", None),
        ],
    )
    .await;

    // Another hospital: its physician finds nothing until the worker attaches it, then sees
    // the case but none of what the worker shared with the first hospital.
    let mut op = s.operator_client().await;
    let clinic = op
        .api(
            "POST",
            "/api/v1/organisations",
            Some(json!({"kind": "medical_institution", "name": "城北クリニック", "prefecture": "13"})),
            &[],
        )
        .await;
    assert_eq!(clinic.status, 201, "{}", clinic.body);
    let clinic = clinic.json()["id"].as_str().unwrap().to_owned();
    let inv = op
        .api(
            "POST",
            &format!("/api/v1/organisations/{clinic}/invitations"),
            Some(json!({"role": "attending_physician"})),
            &[],
        )
        .await;
    assert_eq!(inv.status, 201, "{}", inv.body);
    let link = inv.json()["link"].as_str().unwrap().to_owned();
    let token = link.rsplit('/').next().unwrap().to_owned();
    // 加藤さん (the bureau's demo account) joins the clinic as its physician.
    let mut joining = signed_in(&s, "bureau").await;
    let r = joining
        .api(
            "POST",
            &format!("/api/v1/invitations/{token}/accept"),
            Some(json!({})),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(categories_seen(&s, "bureau", &case).await, None);
    let mut other_doctor = signed_in(&s, "bureau").await;
    attach_hospital(&mut worker, &mut other_doctor, &case).await;
    check_access(
        &s,
        &case,
        "a second hospital attached",
        &[("bureau", Some(&[])), ("doctor", Some(&[WI]))],
    )
    .await;

    // A consent withdrawn: HR reads the opinion while it lasts, and not a moment after.
    let grant = |worker: &mut Client, body: Value| {
        let path = format!("/api/v1/cases/{case}/consents");
        let mut c = Client::new(&worker.base);
        c.cookies = worker.cookies.clone();
        c.csrf = worker.csrf.clone();
        async move {
            let r = c.api("POST", &path, Some(body), &[]).await;
            assert_eq!(r.status, 201, "{}", r.body);
            r.json()["id"].as_str().unwrap().to_owned()
        }
    };
    let to_hr = grant(
        &mut worker,
        json!({"organisation_id": employer, "role": "hr_officer",
               "categories": [MED], "purpose": "就業上の措置を検討するため"}),
    )
    .await;
    check_access(
        &s,
        &case,
        "consent to HR",
        &[("jinji", Some(&[WI, MED, WM]))],
    )
    .await;
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/consents/{to_hr}/withdraw"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    check_access(
        &s,
        &case,
        "consent withdrawn",
        &[("jinji", Some(&[WI, WM]))],
    )
    .await;

    // A consent that expires: the 衛生管理者 reads the opinion until the day given.
    grant(
        &mut worker,
        json!({"organisation_id": employer, "role": "occupational_health_staff",
               "categories": [MED], "purpose": "復職後の面談のため",
               "expires_at": "2026-04-03T00:00:00Z"}),
    )
    .await;
    check_access(
        &s,
        &case,
        "before expiry",
        &[("eisei", Some(&[WI, MED, WM]))],
    )
    .await;
    s.clock.advance(time::Duration::days(3));
    check_access(&s, &case, "after expiry", &[("eisei", Some(&[WI, WM]))]).await;

    // The case closed: read as before, written no more; the worker may still withdraw.
    let mut worker = signed_in(&s, "worker").await;
    let to_doctor = grant(
        &mut worker,
        json!({"organisation_id": org_of(&mut signed_in(&s, "doctor").await).await,
               "role": "attending_physician", "categories": [WM],
               "purpose": "就業上の措置を主治医と確認するため"}),
    )
    .await;
    let mut hr = signed_in(&s, "jinji").await;
    let close = json!({"step": "close", "outcome": "continuing"});
    assert_eq!(next(&mut hr, &case, close).await, "closed");
    check_access(
        &s,
        &case,
        "closed",
        &[
            ("worker", Some(&[WI, MED, WM, CN])),
            ("jinji", Some(&[WI, WM])),
            ("sangyoi", Some(&[WI, MED, WM])),
            ("eisei", Some(&[WI, WM])),
            ("doctor", Some(&[WI, WM])),
            ("msw", Some(&[CN])),
            ("bureau", Some(&[])),
            ("manager", None),
            ("worker2", None),
            ("promoter", None),
            ("admin", None),
            ("operator", None),
        ],
    )
    .await;
    let r = hr
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/documents"),
            Some(json!({"form": "support_plan", "answers": {"job_duties": "事務"}})),
            &[],
        )
        .await;
    assert_eq!(
        r.status, 403,
        "no new documents on a closed case: {}",
        r.body
    );
    let mut msw = signed_in(&s, "msw").await;
    let r = msw
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/notes"),
            Some(json!({"body": "終了後の相談"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 403, "no new notes on a closed case: {}", r.body);
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/consents"),
            Some(json!({"organisation_id": employer, "role": "hr_officer",
                        "categories": [MED], "purpose": "確認のため"})),
            &[],
        )
        .await;
    assert_eq!(
        r.status, 403,
        "no new consents on a closed case: {}",
        r.body
    );
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/consents/{to_doctor}/withdraw"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    check_access(
        &s,
        &case,
        "withdrawn after closure",
        &[("doctor", Some(&[WI]))],
    )
    .await;
}

/// Who treats the worker is health information: the hospital's name (a cancer centre's
/// name alone tells the diagnosis), the 主治医's and the MSW's names and the physician's
/// steps reach only those who may see medical information. Others read 「医療機関」 and
/// 「主治医の意見が届きました」, on the page, in the API, the CSV and FHIR.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_treats_the_worker_reaches_only_those_who_may_see_medical_information() {
    let s = TestServer::demo().await;
    let case = demo_case(&s).await;
    let mut worker = signed_in(&s, "worker").await;
    let mut hr = signed_in(&s, "jinji").await;
    let mut manager = signed_in(&s, "manager").await;
    crate::harness::name_line_manager(&mut worker, &mut manager, &case).await;
    // The worker sees whom they chose, and the physician's step by name.
    let own = worker.get(&format!("/cases/{case}")).await.body;
    for seen in ["都立さくら総合病院", "伊藤 健一", "主治医意見書の記録"] {
        assert!(own.contains(seen), "the worker's page lacks {seen}");
    }
    let parties = worker.get(&format!("/api/v1/cases/{case}")).await.json()["parties"].clone();
    let hospital = parties
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "hospital")
        .expect("the demo case's hospital")["organisation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (who, c) in [("所属長", &mut manager), ("HR", &mut hr)] {
        let page = c.get(&format!("/cases/{case}")).await;
        assert_eq!(page.status, 200, "{who}");
        for hidden in ["都立さくら総合病院", "伊藤 健一", "主治医意見書の記録"]
        {
            assert!(
                !page.body.contains(hidden),
                "{who}'s case page shows {hidden}"
            );
        }
        assert!(page.body.contains("医療機関"), "{who}");
        assert!(page.body.contains("主治医の意見が届きました"), "{who}");
        assert!(
            page.body.contains(
                "主治医意見書（就業継続）があります。本人の同意がないため表示されません。"
            ),
            "{who}: hidden, not absent"
        );
        let api = c.get(&format!("/api/v1/cases/{case}")).await;
        assert_eq!(api.status, 200, "{who}");
        assert!(!api.body.contains(&hospital), "{who}: {}", api.body);
        assert!(
            api.body.contains("\"hospital\""),
            "{who} still sees that a hospital takes part"
        );
        for p in ["/cases.csv", "/api/v1/cases.csv", "/cases", "/api/v1/cases"] {
            let r = c.get(p).await;
            assert!(r.status < 400, "{who} {p}");
            for hidden in ["都立さくら総合病院", "伊藤 健一"] {
                assert!(!r.body.contains(hidden), "{who} {p} shows {hidden}");
            }
        }
    }
}

/// Business dates are Japanese dates: a 申出 filed at 00:30 in Japan (15:30 UTC the day
/// before) is dated that Japanese day, in the API, on the page and in the CSV.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_filed_at_half_past_midnight_in_japan_is_dated_that_day() {
    let s = TestServer::demo().await;
    // The test clock starts at 2026-04-01 00:00 UTC; 15:30 later it is 00:30 on 4月2日 in Japan.
    s.clock.advance(time::Duration::minutes(15 * 60 + 30));
    let mut worker = signed_in(&s, "worker2").await;
    let employer = worker.get("/api/v1/me").await.json()["memberships"][0]["organisation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = worker
        .api(
            "POST",
            "/api/v1/cases",
            Some(json!({"employer_id": employer, "path": "continuation"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["requested_on"], "2026-04-02", "{}", r.body);
    let case = r.json()["id"].as_str().unwrap().to_owned();
    let page = worker.get(&format!("/cases/{case}")).await.body;
    assert!(
        page.contains("令和8年4月2日"),
        "the page dates the 申出 in Japan"
    );
    assert!(!page.contains("令和8年4月1日"), "no UTC date on the page");
    let mut hr = signed_in(&s, "jinji").await;
    let csv = hr.get("/api/v1/cases.csv").await.body;
    let line = csv
        .lines()
        .find(|l| l.contains(&case))
        .expect("the new case in HR's CSV");
    assert!(line.contains("2026-04-02"), "{line}");
}

/// The document page names who confirmed a document by the account that did it: a name
/// typed on a signature line never becomes the 確定者.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_confirmer_is_the_account_that_finalised_never_a_typed_name() {
    let s = TestServer::demo().await;
    let case = demo_case(&s).await;
    let mut hr = signed_in(&s, "jinji").await;
    let me = hr.get("/api/v1/me").await.json()["display_name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(me, "鈴木 一郎");
    let today = "2026-04-01";
    let r = hr
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/documents"),
            Some(json!({
                "form": "support_plan",
                "answers": {
                    "created_on": today,
                    "employee_name": "田中 太郎",
                    "plan_periods": [{"period": "1か月目", "measures": "短時間勤務"}],
                    "hr_signature": {"date": today, "name": "鈴木 一郎"}
                }
            })),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let tag = etag(&r);
    let r = hr
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/documents/{id}/finalise"),
            Some(json!({"signature_field": "hr_signature", "party": "employer"})),
            &[("if-match", tag.as_str())],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let page = hr.get(&format!("/cases/{case}/documents/{id}")).await;
    assert_eq!(page.status, 200);
    let row = |label: &str| {
        let at = page
            .body
            .find(label)
            .unwrap_or_else(|| panic!("no {label}"));
        let rest = &page.body[at..];
        rest[..rest.find("</dd>").unwrap_or(rest.len())].to_owned()
    };
    assert!(row("確定者").contains(&me), "{}", row("確定者"));
    assert!(!row("確定者").contains("鈴木 一郎"), "{}", row("確定者"));
    assert!(row("署名欄の記入").contains("鈴木 一郎"));
}

/// わたしの情報 lists what others did: the worker's own reads only when asked for, and each
/// actor with the organisation they acted for (the 主治医 for the hospital, not the employer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_log_shows_others_by_the_organisation_they_acted_for() {
    let s = TestServer::demo().await;
    let case = demo_case(&s).await;
    let mut worker = signed_in(&s, "worker").await;
    let mut doctor = signed_in(&s, "doctor").await;
    let me = worker.get("/api/v1/me").await.json()["display_name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        worker
            .get(&format!("/api/v1/cases/{case}/documents"))
            .await
            .status,
        200
    );
    assert_eq!(
        doctor
            .get(&format!("/api/v1/cases/{case}/documents"))
            .await
            .status,
        200
    );
    let items = |v: Value| v["items"].as_array().unwrap().clone();
    let log = items(worker.get("/api/v1/me/access-log?limit=500").await.json());
    assert!(
        !log.iter()
            .any(|e| e["action"] == "read" && e["actor_name"] == me.as_str()),
        "the worker's own reads are left out"
    );
    let with_own = items(
        worker
            .get("/api/v1/me/access-log?limit=500&own=1")
            .await
            .json(),
    );
    assert!(
        with_own
            .iter()
            .any(|e| e["action"] == "read" && e["actor_name"] == me.as_str()),
        "…and listed when asked for"
    );
    let by_doctor: Vec<&Value> = log
        .iter()
        .filter(|e| e["action"] == "read" && e["actor_name"] == "伊藤 健一")
        .collect();
    assert!(!by_doctor.is_empty(), "{log:?}");
    for e in by_doctor {
        assert_eq!(e["organisation"], "都立さくら総合病院", "{e}");
    }
    let page = worker.get("/me/records").await.body;
    assert!(page.contains("自分の閲覧も表示する"));
}
