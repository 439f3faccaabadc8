//! The forms as PDF: a reader's PDF shows exactly what their document page shows (HR gets no
//! diagnosis without the worker's consent), every print is a recorded read, blank forms for
//! paper, the worker's print with a share code the hospital redeems, and the 開示 export.
//!
//! The PDFs' text is read back with `pdftotext` (poppler-utils), as a person copying from
//! the PDF would see it.

use std::process::Command;

use ryoritsu_domain::forms::{FormKind, FormVersion};
use serde_json::{Value, json};

use crate::harness::{Client, DEMO_PASSWORD, TestServer};

/// What the diagnosis and the opinion of 田中さん's case read like in the demo world.
const SECRETS: &[&str] = &["胃がん", "抗がん剤", "条件付きで可"];

fn pdftotext_missing() -> bool {
    if Command::new("pdftotext").arg("-v").output().is_ok() {
        return false;
    }
    println!("SKIPPED: pdftotext not installed (apt-get install poppler-utils)");
    true
}

/// The text of a PDF, without the white space the layout puts between words.
fn pdf_text(pdf: &[u8]) -> String {
    assert!(
        pdf.starts_with(b"%PDF"),
        "not a PDF: {:?}",
        &pdf[..pdf.len().min(40)]
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg("-raw")
        .arg(file.path())
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success(), "pdftotext: {:?}", out);
    String::from_utf8(out.stdout)
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// A response with its body as bytes (the harness reads bodies as text).
struct Raw {
    status: u16,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn is_pdf(&self) -> bool {
        self.status == 200
            && self.header("content-type") == "application/pdf"
            && self.bytes.starts_with(b"%PDF")
    }
}

/// A request in the client's session: `form` makes it a page's form post.
async fn raw(c: &Client, path: &str, accept: Option<&str>, form: Option<&[(&str, &str)]>) -> Raw {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = format!("{}{path}", c.base);
    let mut rb = match form {
        Some(fields) => http
            .post(url)
            .header("origin", &c.base)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                fields
                    .iter()
                    .map(|(k, v)| format!("{}={}", crate::harness::enc(k), crate::harness::enc(v)))
                    .collect::<Vec<_>>()
                    .join("&"),
            ),
        None => http.get(url),
    };
    let cookies = c
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    if !cookies.is_empty() {
        rb = rb.header("cookie", cookies);
    }
    if let Some(a) = accept {
        rb = rb.header("accept", a);
    }
    let r = rb.send().await.unwrap();
    Raw {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        bytes: r.bytes().await.unwrap().to_vec(),
    }
}

async fn signed_in(s: &TestServer, login: &str) -> Client {
    let mut c = s.client();
    let r = c.api_sign_in(login, DEMO_PASSWORD).await;
    assert_eq!(r.status, 200, "{login}: {}", r.body);
    c
}

/// 田中さん's 就業継続 case and its documents, as the worker lists them: (case, form → id).
async fn demo_case(worker: &mut Client) -> (String, Vec<(String, String)>) {
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
    let docs = docs
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["form"].as_str().unwrap().to_owned(),
                d["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (case, docs)
}

fn doc_of<'a>(docs: &'a [(String, String)], form: &str) -> &'a str {
    &docs.iter().find(|(f, _)| f == form).expect(form).1
}

/// The reads by `actor` in the worker's access log.
async fn reads_by(worker: &mut Client, actor: &str) -> usize {
    let log = worker.get("/api/v1/me/access-log?limit=500").await.json()["items"].clone();
    log.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "read" && e["actor_name"] == actor)
        .count()
}

fn assert_no_secret(who: &str, what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{who} {what} shows {secret}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hr_prints_no_diagnosis_until_the_worker_consents_and_every_print_is_a_recorded_read() {
    if pdftotext_missing() {
        return;
    }
    let s = TestServer::demo().await;
    let mut worker = signed_in(&s, "worker").await;
    let mut hr = signed_in(&s, "jinji").await;
    let mut manager = signed_in(&s, "manager").await;
    let hr_name = hr.get("/api/v1/me").await.json()["display_name"]
        .as_str()
        .unwrap()
        .to_owned();
    let (case, docs) = demo_case(&mut worker).await;
    let opinion = doc_of(&docs, "continuation_opinion").to_owned();
    let page_pdf = |d: &str| format!("/cases/{case}/documents/{d}/pdf");
    let api_doc = |d: &str| format!("/api/v1/cases/{case}/documents/{d}");

    // Every document of the case, printed by HR and the 所属長 through the page and the API:
    // refused exactly when the page refuses, and never with the diagnosis.
    let mut hr_printed = 0;
    for (form, d) in &docs {
        for (who, c) in [("HR", &mut hr), ("所属長", &mut manager)] {
            let page = c.get(&format!("/cases/{case}/documents/{d}")).await;
            for (what, r) in [
                ("page PDF", raw(c, &page_pdf(d), None, None).await),
                (
                    "API PDF",
                    raw(c, &api_doc(d), Some("application/pdf"), None).await,
                ),
            ] {
                assert_eq!(r.status, page.status, "{who} {what} of {form}");
                if page.status == 200 {
                    assert!(r.is_pdf(), "{who} {what} of {form}");
                    assert_no_secret(who, &format!("{what} of {form}"), &pdf_text(&r.bytes));
                    hr_printed += 1;
                }
            }
        }
    }
    assert!(hr_printed >= 2, "HR prints the documents HR may read");
    let refused = raw(&hr, &page_pdf(&opinion), None, None).await;
    assert_eq!(refused.status, 404, "HR may not print the opinion");
    let refused = raw(&hr, &api_doc(&opinion), Some("application/pdf"), None).await;
    assert_eq!(refused.status, 404);
    assert!(String::from_utf8_lossy(&refused.bytes).contains("\"code\":\"not_found\""));

    // The worker prints their own opinion, diagnosis and all, as a named download.
    let r = raw(&worker, &page_pdf(&opinion), None, None).await;
    assert!(r.is_pdf(), "{}", r.status);
    let text = pdf_text(&r.bytes);
    assert!(
        text.contains("胃がん") && text.contains("抗がん剤"),
        "{text}"
    );
    assert_eq!(r.header("cache-control"), "no-store");
    let disposition = r.header("content-disposition");
    assert!(
        disposition.starts_with("attachment; filename=\"continuation_opinion_20260401.pdf\""),
        "{disposition}"
    );
    let encoded = disposition.split("UTF-8''").nth(1).unwrap();
    assert_eq!(
        percent_decode(encoded),
        "主治医意見書（就業継続）_20260401.pdf"
    );
    let r = raw(&worker, &api_doc(&opinion), Some("application/pdf"), None).await;
    assert!(r.is_pdf());
    assert!(pdf_text(&r.bytes).contains("胃がん"));
    // Without asking for a PDF, the API answers the document as JSON with its ETag.
    let r = worker.get(&api_doc(&opinion)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["answers"]["diagnosis"], "胃がん（術後）");
    assert_eq!(r.json()["form"], "continuation_opinion");
    assert!(r.header("etag").is_some());

    // With the worker's consent, HR's print of the opinion carries the diagnosis.
    let employer = worker.get("/api/v1/me").await.json()["memberships"][0]["organisation_id"]
        .as_str()
        .unwrap()
        .to_owned();
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
    let before = reads_by(&mut worker, &hr_name).await;
    let r = raw(&hr, &page_pdf(&opinion), None, None).await;
    assert!(r.is_pdf(), "{}", r.status);
    assert!(pdf_text(&r.bytes).contains("胃がん"));
    let after_page = reads_by(&mut worker, &hr_name).await;
    assert!(
        after_page > before,
        "HR's print is in the worker's access log"
    );
    let r = raw(&hr, &api_doc(&opinion), Some("application/pdf"), None).await;
    assert!(r.is_pdf());
    assert!(pdf_text(&r.bytes).contains("抗がん剤"));
    assert!(
        reads_by(&mut worker, &hr_name).await > after_page,
        "so is HR's print through the API"
    );
    let log = worker.get("/api/v1/me/access-log?limit=500").await.json()["items"].clone();
    assert!(
        log.as_array().unwrap().iter().any(|e| e["action"] == "read"
            && e["category"] == "medical"
            && e["actor_name"] == hr_name.as_str()),
        "{log}"
    );
}

fn percent_decode(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_blank_form_downloads_for_paper() {
    let s = TestServer::demo().await;
    let anonymous = s.client();
    for form in FormKind::ALL {
        for version in FormVersion::ALL {
            let path = format!("/forms/{}/{}/blank.pdf", form.code(), version.code());
            let r = raw(&anonymous, &path, None, None).await;
            assert!(r.is_pdf(), "{path}: {}", r.status);
            assert!(
                r.header("content-disposition").contains(&format!(
                    "{}_{}_blank.pdf",
                    form.code(),
                    version.code()
                )),
                "{path}"
            );
            let api = format!("/api/v1/forms/{}/{}", form.code(), version.code());
            let r = raw(&anonymous, &api, Some("application/pdf"), None).await;
            assert!(r.is_pdf(), "{api}: {}", r.status);
            let r = raw(&anonymous, &api, None, None).await;
            assert_eq!(r.status, 200);
            let schema: Value = serde_json::from_slice(&r.bytes).unwrap();
            assert!(schema.is_object(), "{api} answers JSON by default");
        }
    }
    let r = raw(
        &anonymous,
        "/forms/no_such_form/v2026/blank.pdf",
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    let r = raw(
        &anonymous,
        "/forms/support_card/v1999/blank.pdf",
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 404);

    // The case page offers the blank forms of its path.
    let mut worker = signed_in(&s, "worker").await;
    let (case, _) = demo_case(&mut worker).await;
    let page = worker.get(&format!("/cases/{case}")).await;
    assert!(page.body.contains("空欄の様式（紙に記入する場合）"));
    assert!(
        page.body
            .contains("/forms/continuation_opinion/v2026/blank.pdf")
    );
    assert!(!page.body.contains("/forms/return_to_work_opinion/"));
    // HR is offered the forms HR fills in, not the opinion it may not read here.
    let mut hr = signed_in(&s, "jinji").await;
    let page = hr.get(&format!("/cases/{case}")).await;
    assert!(page.body.contains("/forms/support_plan/v2026/blank.pdf"));
    assert!(!page.body.contains("/forms/continuation_opinion/"));
}

/// The first `XXXX-XXXX-XXXX` in a text.
fn share_code_in(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(14).find_map(|w| {
        let ok = w.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 9 {
                *c == '-'
            } else {
                c.is_ascii_uppercase() || c.is_ascii_digit()
            }
        });
        ok.then(|| w.iter().collect())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_prints_the_work_information_with_a_share_code_that_the_hospital_redeems() {
    if pdftotext_missing() {
        return;
    }
    let s = TestServer::demo().await;
    let mut worker = signed_in(&s, "worker").await;
    let mut hr = signed_in(&s, "jinji").await;
    let mut doctor = signed_in(&s, "doctor").await;
    let (case, docs) = demo_case(&mut worker).await;
    let wi = doc_of(&docs, "work_information").to_owned();
    let page = format!("/cases/{case}/documents/{wi}");
    let action = format!("/cases/{case}/documents/{wi}/share-code-pdf");

    // Only the worker is offered the print with a code; everyone who reads it may print it.
    let mine = worker.get(&page).await;
    assert_eq!(mine.status, 200);
    assert!(mine.body.contains("PDFで印刷する"));
    assert!(mine.body.contains("医療機関用の共有コード付きで印刷する"));
    assert!(mine.body.contains("14日間"));
    assert!(mine.body.contains(&action));
    let hrs = hr.get(&page).await;
    assert!(hrs.body.contains("PDFで印刷する"));
    assert!(!hrs.body.contains(&action), "only the worker issues codes");
    let plain = raw(&hr, &format!("{page}/pdf"), None, None).await;
    assert!(plain.is_pdf());
    assert!(
        !pdf_text(&plain.bytes).contains("共有コード"),
        "other prints carry no code"
    );
    let token = hr.csrf.clone().unwrap();
    let r = raw(&hr, &action, None, Some(&[("csrf_token", &token)])).await;
    assert_eq!(r.status, 403, "HR cannot issue the worker's code");

    let token = worker.csrf.clone().unwrap();
    let r = raw(&worker, &action, None, Some(&[("csrf_token", &token)])).await;
    assert!(
        r.is_pdf(),
        "{} {}",
        r.status,
        String::from_utf8_lossy(&r.bytes)
    );
    let text = pdf_text(&r.bytes);
    assert!(text.contains("共有コード"), "{text}");
    let code = share_code_in(&text).unwrap_or_else(|| panic!("no code in {text}"));
    let ok = doctor
        .api(
            "POST",
            "/api/v1/share-codes/redeem",
            Some(json!({"code": code})),
            &[],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["case_id"], case.as_str());
    let again = doctor
        .api(
            "POST",
            "/api/v1/share-codes/redeem",
            Some(json!({"code": code})),
            &[],
        )
        .await;
    assert_eq!(again.status, 422, "the printed code works once");

    // A draft prints marked as such; a finalised document does not.
    assert!(!text.contains("下書き"), "the 勤務情報提供書 is finalised");
    let draft = hr
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/documents"),
            Some(json!({"form": "support_plan", "answers": {}})),
            &[],
        )
        .await;
    assert_eq!(draft.status, 201, "{}", draft.body);
    let draft = draft.json()["id"].as_str().unwrap().to_owned();
    let r = raw(
        &hr,
        &format!("/cases/{case}/documents/{draft}/pdf"),
        None,
        None,
    )
    .await;
    assert!(r.is_pdf(), "{}", r.status);
    assert!(pdf_text(&r.bytes).contains("この書類は下書きです"));

    // The code print is for the 勤務情報提供書 only.
    let opinion = doc_of(&docs, "continuation_opinion");
    let r = raw(
        &worker,
        &format!("/cases/{case}/documents/{opinion}/share-code-pdf"),
        None,
        Some(&[("csrf_token", &token)]),
    )
    .await;
    assert_eq!(r.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_disclosure_export_carries_every_document_as_a_pdf() {
    if pdftotext_missing() {
        return;
    }
    let s = TestServer::demo().await;
    let mut worker = signed_in(&s, "worker").await;
    let r = raw(&worker, "/api/v1/me/export", None, None).await;
    assert_eq!(r.status, 200);
    let export: Value = serde_json::from_slice(&r.bytes).unwrap();
    assert_eq!(export["format"], "ryoritsu-disclosure");
    let mut texts = Vec::new();
    for case in export["cases"].as_array().unwrap() {
        for doc in case["documents"].as_array().unwrap() {
            assert!(
                doc["form"].is_string(),
                "the document is kept as it was: {doc}"
            );
            let b64 = doc["pdf_base64"].as_str().expect("pdf_base64");
            texts.push(pdf_text(&base64_decode(b64)));
        }
    }
    assert!(texts.len() >= 2, "the demo case has documents");
    assert!(
        texts.iter().any(|t| t.contains("胃がん")),
        "the worker's own opinion, printed"
    );
    let (case, _) = demo_case(&mut worker).await;
    assert!(export.to_string().contains(&case));
}

/// Decodes with coreutils' `base64`, so the test needs no crate of its own for it.
fn base64_decode(s: &str) -> Vec<u8> {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), s).unwrap();
    let out = Command::new("base64")
        .arg("-d")
        .arg(file.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "base64: {out:?}");
    out.stdout
}

/// The medical lines of a plan (its 「治療・投薬等の状況」 and the 「（参考）治療等の予定」 of its
/// periods) reach a 所属長 who may read the plan but has no consent to medical information
/// through no channel: not the API, the document page, the PDF, FHIR nor the search; what
/// they read is logged as 就業上の措置 only. The HR officer who wrote them still reads them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plans_treatment_lines_reach_no_channel_of_a_manager_without_medical_consent() {
    let s = TestServer::demo().await;
    let mut worker = signed_in(&s, "worker").await;
    let mut hr = signed_in(&s, "jinji").await;
    let mut manager = signed_in(&s, "manager").await;
    let (case, _) = demo_case(&mut worker).await;
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
                    "treatment_status": "外来で抗がん剤治療を半年間",
                    "plan_periods": [
                        {"period": "1か月目", "measures": "短時間勤務の継続", "treatment_schedule": "毎週火曜に点滴"}
                    ],
                    "job_duties": "経理事務の補助"
                }
            })),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let plan = r.json()["id"].as_str().unwrap().to_owned();
    // The worker names the 所属長 on the case.
    crate::harness::name_line_manager(&mut worker, &mut manager, &case).await;
    // The lines as written (the search page repeats the words searched for).
    let medical = ["外来で抗がん剤治療を半年間", "毎週火曜に点滴"];
    let medical_reads = |log: &Value| {
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "read" && e["category"] == "medical")
            .count()
    };
    let before = medical_reads(&worker.get("/api/v1/me/access-log?limit=500").await.json());

    // The API: the plan without its medical lines, and which were left out.
    let docs = manager
        .get(&format!("/api/v1/cases/{case}/documents"))
        .await;
    assert_eq!(docs.status, 200);
    let mine = docs
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == plan.as_str())
        .expect("the 所属長 reads the plan")
        .clone();
    assert_eq!(
        mine["withheld"],
        json!(["treatment_status", "plan_periods.treatment_schedule"])
    );
    assert!(mine.to_string().contains("短時間勤務の継続"));
    let one = manager
        .get(&format!("/api/v1/cases/{case}/documents/{plan}"))
        .await;
    // The page, the PDF, FHIR and the search.
    let page = manager
        .get(&format!("/cases/{case}/documents/{plan}"))
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("本人の同意がないため表示していません"),
        "the page says what is hidden and why"
    );
    assert!(page.body.contains("短時間勤務の継続"));
    let fhir_qr = manager.get("/fhir/R4/QuestionnaireResponse").await;
    let fhir_cp = manager.get("/fhir/R4/CarePlan").await;
    assert_eq!(fhir_cp.status, 200, "{}", fhir_cp.body);
    assert!(
        fhir_cp.body.contains("短時間勤務の継続"),
        "{}",
        fhir_cp.body
    );
    let search = manager
        .get(&format!(
            "/api/v1/search?q={}",
            crate::harness::enc("抗がん剤")
        ))
        .await;
    let search_page = manager
        .get(&format!("/search?q={}", crate::harness::enc("点滴")))
        .await;
    for (what, body) in [
        ("documents", &docs.body),
        ("document", &one.body),
        ("page", &page.body),
        ("QuestionnaireResponse", &fhir_qr.body),
        ("CarePlan", &fhir_cp.body),
        ("search", &search.body),
        ("search page", &search_page.body),
    ] {
        for secret in medical {
            assert!(!body.contains(secret), "所属長 {what} shows {secret}");
        }
    }
    assert_eq!(search.status, 200, "{}", search.body);
    assert_eq!(search.json()["total"], 0, "{}", search.body);
    if !pdftotext_missing() {
        let pdf = raw(
            &manager,
            &format!("/cases/{case}/documents/{plan}/pdf"),
            None,
            None,
        )
        .await;
        assert!(pdf.is_pdf());
        let text = pdf_text(&pdf.bytes);
        for secret in medical {
            assert!(!text.contains(secret), "所属長 PDF shows {secret}");
            assert!(
                !text.contains("抗がん剤") && !text.contains("点滴"),
                "{text}"
            );
        }
        assert!(
            text.contains("本人の同意がないため表示していません"),
            "{text}"
        );
    }
    // Logged as what was read: work measures, no medical information.
    let log = worker.get("/api/v1/me/access-log?limit=500").await.json();
    assert_eq!(medical_reads(&log), before, "{log}");
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "read" && e["category"] == "work_measures"),
        "{log}"
    );
    // The author reads what they wrote, and a search finds it for them.
    let own = hr
        .get(&format!("/api/v1/cases/{case}/documents"))
        .await
        .body;
    assert!(own.contains("抗がん剤") && own.contains("点滴"));
    let found = hr
        .get(&format!(
            "/api/v1/search?q={}",
            crate::harness::enc("抗がん剤")
        ))
        .await;
    assert!(
        found.json()["total"].as_i64().unwrap() >= 1,
        "{}",
        found.body
    );
}
