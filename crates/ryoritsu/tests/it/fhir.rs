//! FHIR R4 under /fhir/R4: every resource of the demo world validates against the R4
//! specification (with the independent validators of tools/fhir-validate), an exported
//! opinion imported again gives the same form, and FHIR refuses exactly what the JSON API
//! refuses.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::harness::{Client, DEMO_PASSWORD, Resp, TestServer, has_japanese};

async fn signed_in(s: &TestServer, login: &str) -> Client {
    let mut c = s.client();
    let r = c.api_sign_in(login, DEMO_PASSWORD).await;
    assert_eq!(r.status, 200, "{login}: {}", r.body);
    c
}

fn is_fhir(r: &Resp) -> bool {
    r.header("content-type")
        .is_some_and(|c| c.starts_with("application/fhir+json"))
}

/// The stable code of an OperationOutcome (the JSON API's `code`).
fn outcome_code(r: &Resp) -> String {
    assert!(is_fhir(r), "{} {}", r.status, r.body);
    let v = r.json();
    assert_eq!(v["resourceType"], "OperationOutcome", "{}", r.body);
    // Its id is the operation id of the server's log line.
    assert_eq!(v["id"].as_str(), r.header("x-operation-id"), "{}", r.body);
    assert!(
        v["issue"][0]["diagnostics"]
            .as_str()
            .is_some_and(has_japanese),
        "{}",
        r.body
    );
    v["issue"][0]["details"]["coding"][0]["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn entries(bundle: &Value) -> Vec<Value> {
    bundle["entry"]
        .as_array()
        .map(|a| a.iter().map(|e| e["resource"].clone()).collect())
        .unwrap_or_default()
}

async fn demo_case(s: &TestServer) -> String {
    let mut worker = signed_in(s, "worker").await;
    worker.get("/api/v1/cases").await.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == "continuation")
        .expect("the demo case")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn opinion_id(s: &TestServer, case: &str) -> String {
    let mut doctor = signed_in(s, "doctor").await;
    doctor
        .get(&format!("/api/v1/cases/{case}/documents"))
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["form"] == "continuation_opinion")
        .expect("the demo opinion")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The independent validators (tools/fhir-validate/validate.sh), when installed: named by
/// RYORITSU_TEST_FHIR_VALIDATE, or installed in place by tools/fhir-validate/setup.sh.
fn validator() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("RYORITSU_TEST_FHIR_VALIDATE") {
        return Some(PathBuf::from(p));
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/fhir-validate");
    (dir.join("node_modules").is_dir() && dir.join(".venv").is_dir())
        .then(|| dir.join("validate.sh"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_and_the_forms_are_public_fhir_json() {
    let s = TestServer::demo().await;
    let mut anon = s.client();
    let r = anon.get("/fhir/R4/metadata").await;
    assert_eq!(r.status, 200);
    assert!(is_fhir(&r));
    let cs = r.json();
    assert_eq!(cs["resourceType"], "CapabilityStatement");
    assert_eq!(cs["fhirVersion"], "4.0.1");
    let r = anon.get("/fhir/R4/Questionnaire").await;
    assert_eq!(r.status, 200);
    let list = entries(&r.json());
    assert_eq!(list.len(), 12, "six forms in two editions");
    let r = anon
        .get("/fhir/R4/Questionnaire/continuation-opinion-v2026")
        .await;
    assert_eq!(r.status, 200);
    let q = r.json();
    assert_eq!(
        q["title"],
        "治療の状況や就業継続の可否等についての主治医意見書"
    );
    assert_eq!(
        q["url"],
        "https://ryoritsu.jp/fhir/Questionnaire/continuation-opinion"
    );
    assert_eq!(q["version"], "v2026");
    let r = anon
        .get("/fhir/R4/Questionnaire?url=https://ryoritsu.jp/fhir/Questionnaire/support-plan&version=v2024")
        .await;
    assert_eq!(entries(&r.json()).len(), 1);
    assert_eq!(entries(&r.json())[0]["title"], "両立支援プラン");
    // Application/json is served too; unknown search parameters are refused, not ignored.
    let r = anon.get("/fhir/R4/Questionnaire?name=x").await;
    assert_eq!(r.status, 400);
    assert_eq!(outcome_code(&r), "unsupported_search_parameter");
    // Case data needs a session: 401 as on the JSON API, as an OperationOutcome.
    let r = anon.get("/fhir/R4/QuestionnaireResponse").await;
    assert_eq!(r.status, anon.get("/api/v1/cases").await.status);
    assert_eq!(r.status, 401);
    assert_eq!(outcome_code(&r), "unauthenticated");
    let r = anon.get("/fhir/R4/NoSuchType").await;
    assert_eq!(r.status, 404);
    outcome_code(&r);
}

/// A finalised 両立支援プラン on the demo case, so that a CarePlan is exported too.
async fn add_plan(s: &TestServer, case: &str) {
    let mut hr = signed_in(s, "jinji").await;
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let r = hr
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/documents"),
            Some(json!({
                "form": "support_plan",
                "answers": {
                    "created_on": today,
                    "employee_name": "田中 太郎",
                    "department": "製造部　第一課",
                    "treatment_status": "外来で抗がん剤治療を半年間。月2回の通院。",
                    "plan_periods": [
                        {"period": "1か月目", "working_hours": "9:00～15:00（1時間休憩）", "measures": "短時間勤務。残業禁止。"},
                        {"period": "2～6か月目", "measures": "通院日は時間単位の年休で対応"}
                    ],
                    "follow_up": "2週間ごとに本人・人事で面談",
                    "hr_signature": {"date": today, "name": "山田 花子"}
                }
            })),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let etag = r.header("etag").unwrap().to_owned();
    let r = hr
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/documents/{id}/finalise"),
            Some(json!({"signature_field": "hr_signature", "party": "employer"})),
            &[("if-match", etag.as_str())],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fhir_resource_of_the_demo_world_validates_against_r4() {
    let s = TestServer::demo().await;
    let case = demo_case(&s).await;
    add_plan(&s, &case).await;
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    let mut kinds = std::collections::BTreeSet::new();
    let mut save = |name: &str, r: &Resp| {
        assert_eq!(r.status, 200, "{name}: {}", r.body);
        assert!(is_fhir(r), "{name}");
        let v = r.json();
        kinds.insert(v["resourceType"].as_str().unwrap().to_owned());
        for e in entries(&v) {
            kinds.insert(e["resourceType"].as_str().unwrap().to_owned());
        }
        n += 1;
        std::fs::write(dir.path().join(format!("{n:03}-{name}.json")), &r.body).unwrap();
    };
    let mut anon = s.client();
    save("metadata", &anon.get("/fhir/R4/metadata").await);
    for q in entries(&anon.get("/fhir/R4/Questionnaire").await.json()) {
        let id = q["id"].as_str().unwrap().to_owned();
        save(
            &format!("questionnaire-{id}"),
            &anon.get(&format!("/fhir/R4/Questionnaire/{id}")).await,
        );
    }
    for login in [
        "worker", "worker2", "jinji", "sangyoi", "eisei", "doctor", "msw", "manager",
    ] {
        let mut c = signed_in(&s, login).await;
        for kind in ["QuestionnaireResponse", "CarePlan", "Consent", "AuditEvent"] {
            let r = c.get(&format!("/fhir/R4/{kind}")).await;
            save(&format!("{login}-{kind}-search"), &r);
            for e in entries(&r.json()) {
                if let Some(id) = e["id"].as_str() {
                    let one = c.get(&format!("/fhir/R4/{kind}/{id}")).await;
                    assert_eq!(one.json(), e, "{login}: read and search agree");
                    save(&format!("{login}-{kind}-{id}"), &one);
                }
            }
        }
        let cases = c.get("/api/v1/cases").await.json()["items"].clone();
        for k in cases.as_array().unwrap() {
            let id = k["id"].as_str().unwrap();
            let doc = c.get(&format!("/fhir/R4/Composition/{id}/$document")).await;
            save(&format!("{login}-document-{id}"), &doc);
            let worker = k["worker_id"].as_str().unwrap();
            save(
                &format!("{login}-patient-{worker}"),
                &c.get(&format!("/fhir/R4/Patient/{worker}")).await,
            );
        }
    }
    for kind in [
        "CapabilityStatement",
        "Questionnaire",
        "QuestionnaireResponse",
        "CarePlan",
        "Consent",
        "AuditEvent",
        "Composition",
        "Patient",
        "Organization",
        "Bundle",
    ] {
        assert!(kinds.contains(kind), "{kind} exported: {kinds:?}");
    }
    let Some(tool) = validator() else {
        println!(
            "the FHIR validator is not installed (run tools/fhir-validate/setup.sh): {n} resources exported, validation skipped"
        );
        return;
    };
    let out = std::process::Command::new(&tool)
        .arg(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", tool.display()));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "FHIR R4 validation failed:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exported_opinion_imported_again_gives_an_identical_form() {
    let s = TestServer::demo().await;
    let case = demo_case(&s).await;
    let opinion = opinion_id(&s, &case).await;
    let mut doctor = signed_in(&s, "doctor").await;
    let exported = doctor
        .get(&format!("/fhir/R4/QuestionnaireResponse/{opinion}"))
        .await;
    assert_eq!(exported.status, 200, "{}", exported.body);
    let qr = exported.json();
    assert_eq!(qr["status"], "completed");
    let token = doctor.csrf.clone().unwrap();
    let r = doctor
        .request(
            "POST",
            "/fhir/R4/QuestionnaireResponse",
            Some("application/fhir+json"),
            exported.body.clone().into_bytes(),
            &[("x-csrf-token", token.as_str())],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let location = r.header("location").unwrap().to_owned();
    let created = r.json();
    let new_id = created["id"].as_str().unwrap().to_owned();
    assert_ne!(new_id, opinion);
    assert!(location.ends_with(&format!("/fhir/R4/QuestionnaireResponse/{new_id}")));
    let path = &location[location.find("/fhir/").unwrap()..];
    let again = doctor.get(path).await.json();
    assert_eq!(again["item"], qr["item"], "the same answers, item by item");
    assert_eq!(again["questionnaire"], qr["questionnaire"]);
    assert_eq!(again["status"], "completed");
    // The form itself, as the JSON API shows it: the same form, edition and answers.
    let docs = doctor
        .get(&format!("/api/v1/cases/{case}/documents"))
        .await
        .json();
    let find = |id: &str| {
        docs.as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id)
            .unwrap()
            .clone()
    };
    let (old, new) = (find(&opinion), find(&new_id));
    for k in ["form", "form_version", "answers", "stage"] {
        assert_eq!(old[k], new[k], "{k}");
    }
    assert_eq!(new["stage"], "finalised");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_questionnaire_response_writes_nothing_and_says_why_in_japanese() {
    let s = TestServer::demo().await;
    let case = demo_case(&s).await;
    let opinion = opinion_id(&s, &case).await;
    let mut doctor = signed_in(&s, "doctor").await;
    let mut qr = doctor
        .get(&format!("/fhir/R4/QuestionnaireResponse/{opinion}"))
        .await
        .json();
    let count = |docs: Value| docs.as_array().unwrap().len();
    let before = count(
        doctor
            .get(&format!("/api/v1/cases/{case}/documents"))
            .await
            .json(),
    );
    let token = doctor.csrf.clone().unwrap();
    let post = async |c: &mut Client, body: &Value, ct: &str| {
        c.request(
            "POST",
            "/fhir/R4/QuestionnaireResponse",
            Some(ct),
            serde_json::to_vec(body).unwrap(),
            &[("x-csrf-token", token.as_str())],
        )
        .await
    };
    // The domain's own rule: a completed opinion needs the diagnosis.
    qr["item"]
        .as_array_mut()
        .unwrap()
        .retain(|i| i["linkId"] != "diagnosis");
    let r = post(&mut doctor, &qr, "application/fhir+json").await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(outcome_code(&r), "validation_failed");
    let issues = r.json()["issue"].clone();
    assert!(
        issues
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["expression"][0] == "diagnosis"
                && i["details"]["coding"][0]["code"] == "required"
                && i["diagnostics"].as_str().unwrap().contains("病名")),
        "{issues}"
    );
    // An item the form does not have.
    qr["item"]
        .as_array_mut()
        .unwrap()
        .push(json!({"linkId": "blood_type", "answer": [{"valueString": "A"}]}));
    let r = post(&mut doctor, &qr, "application/json").await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("unknown_item"), "{}", r.body);
    let r = post(&mut doctor, &qr, "text/plain").await;
    assert_eq!(r.status, 415);
    outcome_code(&r);
    let after = count(
        doctor
            .get(&format!("/api/v1/cases/{case}/documents"))
            .await
            .json(),
    );
    assert_eq!(before, after, "nothing was written");
}

/// Joins `login` to a new organisation of `kind` with `role`, through an invitation.
async fn join_new_organisation(s: &TestServer, kind: &str, name: &str, role: &str, login: &str) {
    let mut op = s.operator_client().await;
    let org = op
        .api(
            "POST",
            "/api/v1/organisations",
            Some(json!({"kind": kind, "name": name, "prefecture": "13"})),
            &[],
        )
        .await;
    assert_eq!(org.status, 201, "{}", org.body);
    let org = org.json()["id"].as_str().unwrap().to_owned();
    let inv = op
        .api(
            "POST",
            &format!("/api/v1/organisations/{org}/invitations"),
            Some(json!({"role": role})),
            &[],
        )
        .await;
    assert_eq!(inv.status, 201, "{}", inv.body);
    let link = inv.json()["link"].as_str().unwrap().to_owned();
    let token = link.rsplit('/').next().unwrap().to_owned();
    let mut joining = signed_in(s, login).await;
    let r = joining
        .api(
            "POST",
            &format!("/api/v1/invitations/{token}/accept"),
            Some(json!({})),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fhir_refuses_exactly_what_the_json_api_refuses() {
    let s = TestServer::demo().await;
    let case = demo_case(&s).await;
    let opinion = opinion_id(&s, &case).await;
    // 佐藤さん (worker2) as HR of another employer; 加藤さん (bureau) as the physician of
    // another hospital that the worker never attached.
    join_new_organisation(
        &s,
        "employer",
        "株式会社あおば商事",
        "hr_officer",
        "worker2",
    )
    .await;
    join_new_organisation(
        &s,
        "medical_institution",
        "城北クリニック",
        "attending_physician",
        "bureau",
    )
    .await;

    let mut doctor = signed_in(&s, "doctor").await;
    let opinion_qr = doctor
        .get(&format!("/fhir/R4/QuestionnaireResponse/{opinion}"))
        .await
        .body;

    // (login, may see the case, may read the opinion)
    let table = [
        ("worker", true, true),
        ("jinji", true, false),
        ("eisei", true, false),
        ("sangyoi", true, true),
        ("doctor", true, true),
        ("msw", true, false),
        ("manager", false, false),
        ("worker2", false, false),
        ("bureau", false, false),
        ("promoter", false, false),
    ];
    for (login, sees_case, sees_opinion) in table {
        let mut c = signed_in(&s, login).await;
        let api_case = c.get(&format!("/api/v1/cases/{case}")).await.status;
        let api_docs = c.get(&format!("/api/v1/cases/{case}/documents")).await;
        assert_eq!(api_case, if sees_case { 200 } else { 404 }, "{login}");
        let doc = c
            .get(&format!("/fhir/R4/Composition/{case}/$document"))
            .await;
        assert_eq!(doc.status, api_case, "{login}: the case document");
        let read = c
            .get(&format!("/fhir/R4/QuestionnaireResponse/{opinion}"))
            .await;
        let api_has_opinion = api_docs.status == 200 && api_docs.body.contains(&opinion);
        assert_eq!(api_has_opinion, sees_opinion, "{login}: JSON API");
        assert_eq!(
            read.status,
            if sees_opinion { 200 } else { 404 },
            "{login}: read"
        );
        if !sees_opinion {
            assert_eq!(outcome_code(&read), "not_found", "{login}");
        }
        let search = c.get("/fhir/R4/QuestionnaireResponse").await;
        assert_eq!(search.status, 200);
        assert_eq!(
            search.body.contains(&opinion),
            sees_opinion,
            "{login}: search"
        );
        if doc.status == 200 {
            assert_eq!(
                doc.body.contains(&opinion),
                sees_opinion,
                "{login}: document"
            );
            assert_eq!(
                doc.body.contains("胃がん"),
                sees_opinion,
                "{login}: the diagnosis"
            );
        }
        // Creating an opinion: the JSON API's create and 確定 as the attending physician (the
        // WriteOpinion the FHIR create asks for) refuse with the same status.
        let token = c.csrf.clone().unwrap();
        let created = c
            .api(
                "POST",
                &format!("/api/v1/cases/{case}/documents"),
                Some(json!({"form": "continuation_opinion", "answers": {}})),
                &[],
            )
            .await;
        let api_create = if created.status == 201 {
            let id = created.json()["id"].as_str().unwrap().to_owned();
            let tag = created.header("etag").unwrap().to_owned();
            c.api(
                "POST",
                &format!("/api/v1/cases/{case}/documents/{id}/finalise"),
                Some(json!({"signature_field": "physician_signature", "party": "attending_physician"})),
                &[("if-match", tag.as_str())],
            )
            .await
            .status
        } else {
            created.status
        };
        let fhir_create = c
            .request(
                "POST",
                "/fhir/R4/QuestionnaireResponse",
                Some("application/fhir+json"),
                opinion_qr.clone().into_bytes(),
                &[("x-csrf-token", token.as_str())],
            )
            .await;
        if login == "doctor" {
            // Allowed on both (the empty draft then fails the form's own rules).
            assert_eq!((api_create, fhir_create.status), (422, 201), "{login}");
        } else {
            assert_eq!(
                fhir_create.status, api_create,
                "{login}: create {}",
                fhir_create.body
            );
            outcome_code(&fhir_create);
        }
    }

    // Consents are the worker's: no other party gets them (the consents page is 404 too).
    let mut worker = signed_in(&s, "worker").await;
    let consents = entries(&worker.get("/fhir/R4/Consent").await.json());
    assert_eq!(consents.len(), 3);
    let consent = consents[0]["id"].as_str().unwrap().to_owned();
    let mut hr = signed_in(&s, "jinji").await;
    assert_eq!(
        hr.get(&format!("/cases/{case}/consents")).await.status,
        hr.get(&format!("/fhir/R4/Consent/{consent}")).await.status
    );
    assert!(entries(&hr.get("/fhir/R4/Consent").await.json()).is_empty());
    // The access log is the worker's own.
    let own = worker.get("/fhir/R4/AuditEvent").await.json();
    assert!(!entries(&own).is_empty());
    // Page by page (three at a time), the AuditEvents are the JSON API's whole access log
    // (the worker's own reads included).
    let log = worker
        .get("/api/v1/me/access-log?limit=500&own=1")
        .await
        .json()["items"]
        .clone();
    let paged = every_page(&mut worker, "/fhir/R4/AuditEvent?_count=3").await;
    assert!(paged.len() > 3, "several pages: {}", paged.len());
    assert_eq!(paged.len(), log.as_array().unwrap().len());
    let bad = worker.get("/fhir/R4/AuditEvent?_cursor=abc").await;
    assert_eq!(bad.status, 400);
    let worker_id = consents[0]["patient"]["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = hr
        .get(&format!("/fhir/R4/AuditEvent?patient={worker_id}"))
        .await;
    assert_eq!(r.json()["total"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_an_opinion_over_fhir_is_in_the_workers_access_log() {
    let s = TestServer::demo().await;
    let case = demo_case(&s).await;
    let opinion = opinion_id(&s, &case).await;
    let mut worker = signed_in(&s, "worker").await;
    let reads = |log: &Value| {
        log.as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["action"] == "read"
                    && e["category"] == "medical"
                    && e["actor_role"] == "occupational_physician"
            })
            .count()
    };
    let before =
        reads(&worker.get("/api/v1/me/access-log?limit=500").await.json()["items"].clone());
    let mut sangyoi = signed_in(&s, "sangyoi").await;
    let r = sangyoi
        .get(&format!("/fhir/R4/QuestionnaireResponse/{opinion}"))
        .await;
    assert_eq!(r.status, 200);
    // The resource carries the record's version, as the JSON API's ETag does.
    let version = r.json()["meta"]["versionId"].as_str().unwrap().to_owned();
    assert_eq!(r.header("etag"), Some(format!("W/\"{version}\"").as_str()));
    let after = reads(&worker.get("/api/v1/me/access-log?limit=500").await.json()["items"].clone());
    assert_eq!(after, before + 1, "the 産業医's read is recorded");

    // A search for plans reads plans only: the log gets no medical read for it.
    let r = sangyoi.get("/fhir/R4/CarePlan").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let later = reads(&worker.get("/api/v1/me/access-log?limit=500").await.json()["items"].clone());
    assert_eq!(later, after, "a plan search is not a read of the opinion");

    let api = sangyoi
        .get(&format!("/api/v1/cases/{case}/documents/{opinion}"))
        .await;
    assert_eq!(api.status, 200, "{}", api.body);
    assert!(
        api.header("etag").unwrap().contains(&version),
        "{:?}",
        api.header("etag")
    );
}

/// Every entry of a search, following its `next` links; a page with more after it has no
/// `total`.
async fn every_page(c: &mut Client, first: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut url = first.to_owned();
    for _ in 0..500 {
        let page = c.get(&url).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let bundle = page.json();
        out.extend(entries(&bundle));
        let next = bundle["link"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["relation"] == "next")
            .map(|l| l["url"].as_str().unwrap().to_owned());
        match next {
            Some(n) => {
                assert!(bundle.get("total").is_none(), "a partial page has no total");
                let at = n.find("/fhir/R4/").unwrap();
                url = n[at..].to_owned();
            }
            None => return out,
        }
    }
    panic!("paging never ends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_come_a_page_of_cases_at_a_time() {
    let s = TestServer::demo().await;
    let mut hr = signed_in(&s, "jinji").await;
    let whole = entries(
        &hr.get("/fhir/R4/QuestionnaireResponse?_count=100")
            .await
            .json(),
    );
    let paged = every_page(&mut hr, "/fhir/R4/QuestionnaireResponse?_count=1").await;
    let ids = |v: &[Value]| {
        v.iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert!(!whole.is_empty());
    assert_eq!(
        ids(&paged),
        ids(&whole),
        "one case a page, nothing lost or repeated"
    );
    assert_eq!(
        hr.get("/fhir/R4/QuestionnaireResponse?_count=0")
            .await
            .status,
        400
    );
    assert_eq!(
        hr.get("/fhir/R4/QuestionnaireResponse?_cursor=1.x")
            .await
            .status,
        400
    );
}
