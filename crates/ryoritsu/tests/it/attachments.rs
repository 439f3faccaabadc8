//! Uploaded scans: type by content, size limit, who may read them, transcription.
//!
//! The 休業→復職 path with a physician who writes on paper: the worker uploads a scan of the
//! opinion, HR (once the worker consents) opens it, transcribes it into the form, confirms the
//! copy on the physician's line and records the opinion step the physician never took.

use serde_json::{Value, json};

use crate::harness::{Client, DEMO_PASSWORD, Resp, TestServer};

async fn signed_in(s: &TestServer, login: &str) -> Client {
    let mut c = s.client();
    let r = c.api_sign_in(login, DEMO_PASSWORD).await;
    assert_eq!(r.status, 200, "{login}: {}", r.body);
    c
}

fn etag(r: &Resp) -> String {
    r.header("etag")
        .unwrap_or_else(|| panic!("no ETag: {} {}", r.status, r.body))
        .to_owned()
}

/// A small but complete PDF (header to `%%EOF`).
fn pdf() -> Vec<u8> {
    let mut v = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n".to_vec();
    v.extend_from_slice("% 職場復帰の可否等についての主治医意見書\n".as_bytes());
    v.extend_from_slice(b"trailer<</Root 1 0 R>>\n%%EOF\n");
    v
}

fn multipart(fields: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    // Mixed case, as browsers send it (WebKitFormBoundary…): boundaries are case-sensitive.
    let boundary = "----RyoritsuFormBoundaryX7dQ3f";
    let mut body = Vec::new();
    for (name, file_name, value) in fields {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file_name {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(c: &mut Client, case: &str, form: &str, name: &str, bytes: &[u8]) -> Resp {
    let (ct, body) = multipart(&[("form", None, form.as_bytes()), ("file", Some(name), bytes)]);
    let token = c.csrf.clone().unwrap_or_default();
    c.request(
        "POST",
        &format!("/api/v1/cases/{case}/scans"),
        Some(&ct),
        body,
        &[("x-csrf-token", &token)],
    )
    .await
}

async fn try_step(c: &mut Client, case: &str, body: Value) -> Resp {
    let current = c.get(&format!("/api/v1/cases/{case}")).await;
    let tag = etag(&current);
    c.api(
        "POST",
        &format!("/api/v1/cases/{case}/steps"),
        Some(body),
        &[("if-match", &tag)],
    )
    .await
}

/// worker2 files a 休業→復職 case and HR starts the leave.
async fn case_on_leave(worker: &mut Client, hr: &mut Client) -> (String, String) {
    let employer = worker.get("/api/v1/me").await.json()["memberships"][0]["organisation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"employer_id": employer, "path": "leave_and_return"});
    let r = worker.api("POST", "/api/v1/cases", Some(body), &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let case = r.json()["id"].as_str().unwrap().to_owned();
    let leave = json!({"step": "start_leave", "expected_end": "2026-06-30"});
    let r = try_step(hr, &case, leave).await;
    assert_eq!(r.status, 200, "{}", r.body);
    (case, employer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paper_opinion_is_uploaded_by_the_worker_and_transcribed_by_hr_with_consent() {
    let s = TestServer::demo().await;
    let mut worker = signed_in(&s, "worker2").await;
    let mut hr = signed_in(&s, "jinji").await;
    let mut manager = signed_in(&s, "manager").await;
    let (case, employer) = case_on_leave(&mut worker, &mut hr).await;

    // Only the worker uploads; the type is decided by the content, not the name.
    let r = upload(&mut hr, &case, "return_to_work_opinion", "a.pdf", &pdf()).await;
    assert_eq!(
        r.status, 403,
        "HR cannot upload in the worker's name: {}",
        r.body
    );
    let r = upload(
        &mut worker,
        &case,
        "return_to_work_opinion",
        "意見書.pdf",
        b"<html><script>alert(1)</script></html>",
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "file");
    assert_eq!(r.json()["fields"][0]["code"], "unsupported_type");
    assert!(
        r.json()["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("「ファイル」")
    );
    let r = upload(&mut worker, &case, "support_plan", "a.pdf", &pdf()).await;
    assert_eq!(
        r.status, 422,
        "a plan is not a physician's paper: {}",
        r.body
    );
    // Over 10 MB: refused as soon as the length is known (the server may close the
    // connection before the client has finished sending), and nothing is stored.
    let mut big = pdf();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    big.extend_from_slice(b"%%EOF\n");
    let (ct, body) = multipart(&[
        ("form", None, b"return_to_work_opinion"),
        ("file", Some("big.pdf"), &big),
    ]);
    let cookie = worker
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let sent = reqwest::Client::new()
        .post(format!("{}/api/v1/cases/{case}/scans", worker.base))
        .header("content-type", ct)
        .header("cookie", cookie)
        .header("origin", worker.base.clone())
        .header("x-csrf-token", worker.csrf.clone().unwrap_or_default())
        .body(body)
        .send()
        .await;
    if let Ok(r) = sent {
        assert_eq!(r.status().as_u16(), 413);
    }
    let list = worker
        .get(&format!("/api/v1/cases/{case}/scans"))
        .await
        .json();
    assert!(list.as_array().unwrap().is_empty(), "{list}");

    let r = upload(
        &mut worker,
        &case,
        "return_to_work_opinion",
        "意見書.pdf",
        &pdf(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let scan = r.json();
    let scan_id = scan["id"].as_str().unwrap().to_owned();
    assert_eq!(scan["format"], "pdf");
    assert_eq!(scan["file_name"], "意見書.pdf");
    assert_eq!(scan["size"], pdf().len());

    // HR has a task, but without the worker's consent neither sees nor transcribes it.
    let c = hr.get(&format!("/api/v1/cases/{case}")).await.json();
    assert!(
        c["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"] == "transcribe_scan" && t["open"] == true),
        "{c}"
    );
    let list = hr.get(&format!("/api/v1/cases/{case}/scans")).await.json();
    assert!(list.as_array().unwrap().is_empty(), "{list}");
    let r = hr.get(&format!("/api/v1/scans/{scan_id}/content")).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = hr
        .api(
            "POST",
            &format!("/api/v1/scans/{scan_id}/transcription"),
            Some(json!({})),
            &[],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = manager
        .get(&format!("/api/v1/scans/{scan_id}/content"))
        .await;
    assert!(r.status == 403 || r.status == 404, "{}", r.status);

    let page = hr.get(&format!("/cases/{case}")).await;
    assert!(
        page.body
            .contains("本人から紙の書類の写しが1件提出されています"),
        "HR is told why the scan cannot be opened yet"
    );
    assert!(!page.body.contains("書類に転記する"));

    // The worker consents to HR seeing medical information for the transcription.
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/consents"),
            Some(json!({
                "organisation_id": employer, "role": "hr_officer",
                "categories": ["medical"], "purpose": "紙の意見書を書類に転記するため"
            })),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let list = hr.get(&format!("/api/v1/cases/{case}/scans")).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let page = hr.get(&format!("/cases/{case}")).await;
    assert!(page.body.contains("書類に転記する"), "{}", page.body);
    let r = hr.get(&format!("/api/v1/scans/{scan_id}/content")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/pdf"));
    assert!(
        r.header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.body.as_bytes(), pdf().as_slice());

    // The line manager still may not, consent or not to HR.
    let r = manager
        .api(
            "POST",
            &format!("/api/v1/scans/{scan_id}/transcription"),
            Some(json!({})),
            &[],
        )
        .await;
    assert!(r.status == 403 || r.status == 404, "{}", r.body);

    // Before the transcription is confirmed, HR cannot record the opinion step.
    let r = try_step(
        &mut hr,
        &case,
        json!({"step": "record_return_opinion", "fitness": "fit"}),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["code"], "attending_physician_only");

    let r = hr
        .api(
            "POST",
            &format!("/api/v1/scans/{scan_id}/transcription"),
            Some(json!({"form_version": "2026"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let doc = r.json();
    let doc_id = doc["id"].as_str().unwrap().to_owned();
    assert_eq!(doc["transcribed_from"], scan_id.as_str());
    assert_eq!(doc["form"], "return_to_work_opinion");
    // Starting again resumes the same draft.
    let again = hr
        .api(
            "POST",
            &format!("/api/v1/scans/{scan_id}/transcription"),
            Some(json!({})),
            &[],
        )
        .await;
    assert_eq!(again.json()["id"], doc_id.as_str());

    // The worker's own lines are not the transcriber's to fill.
    let r = hr
        .api(
            "PUT",
            &format!("/api/v1/cases/{case}/documents/{doc_id}"),
            Some(json!({"answers": {
                "return_opinion": "fit",
                "worker_confirmation": {"date": "2026-04-10", "name": "佐藤 花子"}
            }})),
            &[("if-match", &etag(&again))],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["code"], "worker_only");
    let answers = json!({
        "patient_name": "佐藤 花子",
        "return_opinion": "fit",
        "physician_signature": {"date": "2026-04-10", "name": "伊藤 健一"}
    });
    let r = hr
        .api(
            "PUT",
            &format!("/api/v1/cases/{case}/documents/{doc_id}"),
            Some(json!({"answers": answers})),
            &[("if-match", &etag(&again))],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = hr
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/documents/{doc_id}/finalise"),
            Some(json!({"signature_field": "physician_signature", "party": "attending_physician"})),
            &[("if-match", &etag(&r))],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["stage"], "finalised");
    assert_eq!(r.json()["transcribed_from"], scan_id.as_str());

    // The confirmed copy stands in for the physician's step; the task is done.
    let r = try_step(
        &mut hr,
        &case,
        json!({"step": "record_return_opinion", "fitness": "fit"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "return_assessment");
    let c = hr.get(&format!("/api/v1/cases/{case}")).await.json();
    assert!(
        c["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"] == "transcribe_scan" && t["open"] == false),
        "{c}"
    );

    // The worker sees the upload and HR's opening of it in their access log.
    let log = worker.get("/api/v1/me/access-log?limit=500").await.json()["items"].clone();
    let entries = log.as_array().unwrap();
    assert!(
        entries.iter().any(|e| e["action"] == "scan_uploaded"),
        "{log}"
    );
    assert!(
        entries.iter().any(|e| e["action"] == "read"
            && e["actor_role"] == "hr_officer"
            && e["category"] == "medical"),
        "{log}"
    );
    // And everything held about them includes the scan.
    let export = worker.get("/api/v1/me/export").await.json();
    assert!(
        export.to_string().contains(&scan_id),
        "the 開示 export lists the scan"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_uploads_from_the_case_page_with_the_forms_token() {
    let s = TestServer::demo().await;
    let mut worker = signed_in(&s, "worker2").await;
    let mut hr = signed_in(&s, "jinji").await;
    let (case, _) = case_on_leave(&mut worker, &mut hr).await;
    let mut page = s.client();
    let r = page.page_sign_in("worker2", DEMO_PASSWORD).await;
    assert!(r.status == 303 || r.status == 302, "{}", r.status);
    let detail = page.get(&format!("/cases/{case}")).await;
    assert_eq!(detail.status, 200);
    assert!(detail.body.contains("enctype=\"multipart/form-data\""));
    assert!(detail.body.contains("主治医が紙に記入した書類を提出する"));
    let token = detail.csrf_field();

    // Without the token the upload is refused before anything is stored.
    let (ct, body) = multipart(&[
        ("form", None, b"return_to_work_opinion"),
        ("file", Some("scan.pdf"), &pdf()),
    ]);
    let r = page
        .request(
            "POST",
            &format!("/cases/{case}/scans"),
            Some(&ct),
            body,
            &[],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);

    let png = {
        let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        v.extend_from_slice(&[0; 17]);
        v
    };
    let (ct, body) = multipart(&[
        ("csrf_token", None, token.as_bytes()),
        ("form", None, b"return_to_work_opinion"),
        ("file", Some("写真.png"), &png),
    ]);
    let r = page
        .request(
            "POST",
            &format!("/cases/{case}/scans"),
            Some(&ct),
            body,
            &[],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let detail = page.get(&format!("/cases/{case}?done=scan")).await;
    assert!(
        detail.body.contains("原本の写しを提出しました"),
        "{}",
        detail.body
    );
    assert!(detail.body.contains("写真.png"));
    let scans = worker
        .get(&format!("/api/v1/cases/{case}/scans"))
        .await
        .json();
    assert_eq!(scans[0]["format"], "png");
    // The worker opens their own upload inline.
    let id = scans[0]["id"].as_str().unwrap();
    let r = page.get(&format!("/scans/{id}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert!(
        r.header("content-disposition")
            .unwrap()
            .starts_with("inline")
    );
}
