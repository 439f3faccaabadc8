//! The case list as a CSV file for Excel: UTF-8 with a BOM and cp932 decode to the same
//! rows, each person gets only the cases they may see, no category content (the
//! diagnosis) is in the file, and a name cp932 cannot hold is refused with a message
//! instead of being written as 「?」.

use ryoritsu_web::cases::csv::CASE_HEADINGS;
use ryoritsu_web::http::csv::{CsvEncoding, decode};
use serde_json::json;

use crate::harness::{Client, DEMO_PASSWORD, TestServer, has_japanese};

struct Download {
    status: u16,
    content_type: String,
    disposition: String,
    bytes: Vec<u8>,
}

/// The raw bytes of a download with the client's session (the harness reads bodies as
/// UTF-8 text, which a cp932 file is not).
async fn download(c: &Client, path: &str) -> Download {
    let cookie = c
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}{}", c.base, path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    Download {
        status: r.status().as_u16(),
        content_type: header("content-type"),
        disposition: header("content-disposition"),
        bytes: r.bytes().await.unwrap().to_vec(),
    }
}

async fn api_client(s: &TestServer, login: &str) -> Client {
    let mut c = s.client();
    let r = c.api_sign_in(login, DEMO_PASSWORD).await;
    assert_eq!(r.status, 200, "{login}: {}", r.body);
    c
}

/// Both encodings of one list, checked and decoded to the same rows.
async fn rows_in_both_encodings(c: &Client, base: &str) -> Vec<Vec<String>> {
    let utf8 = download(c, &format!("{base}?encoding=utf8")).await;
    assert_eq!(utf8.status, 200, "{}", String::from_utf8_lossy(&utf8.bytes));
    assert_eq!(utf8.content_type, "text/csv; charset=utf-8");
    assert!(utf8.bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with a BOM");
    assert!(
        utf8.disposition.starts_with("attachment;")
            && utf8.disposition.contains(
                // 両立支援事例一覧_
                "filename*=UTF-8''%E4%B8%A1%E7%AB%8B%E6%94%AF%E6%8F%B4%E4%BA%8B%E4%BE%8B%E4%B8%80%E8%A6%A7%5F"
            ),
        "{}",
        utf8.disposition
    );
    let cp932 = download(c, &format!("{base}?encoding=cp932")).await;
    assert_eq!(
        cp932.status,
        200,
        "{}",
        String::from_utf8_lossy(&cp932.bytes)
    );
    assert_eq!(cp932.content_type, "text/csv; charset=Shift_JIS");
    assert!(
        std::str::from_utf8(&cp932.bytes).is_err(),
        "Japanese text in cp932 is not UTF-8"
    );
    let from_utf8 = decode(&utf8.bytes, CsvEncoding::Utf8Bom).unwrap();
    let from_cp932 = decode(&cp932.bytes, CsvEncoding::Cp932).unwrap();
    assert_eq!(from_utf8, from_cp932, "both encodings hold the same rows");
    // No encoding asked for: UTF-8.
    let default = download(c, base).await;
    assert_eq!(default.bytes, utf8.bytes);
    assert_eq!(from_utf8[0], CASE_HEADINGS);
    from_utf8
}

fn column(rows: &[Vec<String>], heading: &str) -> Vec<String> {
    let i = rows[0].iter().position(|h| h == heading).unwrap();
    rows[1..].iter().map(|r| r[i].clone()).collect()
}

/// Words of the demo case's 主治医意見書 and consultation note.
const MEDICAL_WORDS: [&str; 6] = [
    "胃がん",
    "抗がん剤",
    "倦怠感",
    "化学療法",
    "条件付き",
    "fit_with_conditions",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hr_downloads_the_demo_cases_in_both_encodings_without_medical_information() {
    let s = TestServer::demo().await;
    let mut hr = api_client(&s, "jinji").await;
    let rows = rows_in_both_encodings(&hr, "/api/v1/cases.csv").await;
    assert_eq!(rows.len(), 3, "the two demo cases: {rows:?}");
    let mut names = column(&rows, "本人氏名");
    names.sort();
    assert_eq!(names, ["佐藤 美咲", "田中 太郎"]);
    let mut paths = column(&rows, "支援の種類");
    paths.sort();
    assert_eq!(paths, ["休業・復職", "就業継続"]);
    assert!(
        column(&rows, "勤務先")
            .iter()
            .all(|e| e == "株式会社みどり精機")
    );
    for d in column(&rows, "申出日（和暦）") {
        assert!(d.starts_with("令和") && d.ends_with('日'), "{d}");
    }
    for d in column(&rows, "申出日（西暦）") {
        assert_eq!(d.len(), 10, "{d}");
    }
    // The case ids are the ones the API lists.
    let listed = hr.get("/api/v1/cases").await.json()["items"].clone();
    let mut ids: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    let mut csv_ids = column(&rows, "事例ID");
    csv_ids.sort();
    assert_eq!(csv_ids, ids);
    let text = rows.concat().concat();
    for w in MEDICAL_WORDS {
        assert!(!text.contains(w), "HR's file contains {w}: {text}");
    }

    // Each file handed over is in the audit log: who, which list, how many rows.
    let exports: Vec<_> = crate::harness::audit_records(&s.db.url)
        .await
        .into_iter()
        .filter(|r| r.event.action == ryoritsu_domain::audit::AuditAction::Exported)
        .collect();
    assert_eq!(
        exports.len(),
        3,
        "one per file: UTF-8, cp932 and the default"
    );
    for r in &exports {
        assert_eq!(r.event.target.as_deref(), Some("cases.csv"));
        assert_eq!(r.event.purpose.as_deref(), Some("rows:2"));
        assert!(r.event.actor.is_some());
    }

    // The 産業医 may read the opinion on the case page; the list file still has none of it.
    let sangyoi = api_client(&s, "sangyoi").await;
    let text = rows_in_both_encodings(&sangyoi, "/api/v1/cases.csv")
        .await
        .concat()
        .concat();
    for w in MEDICAL_WORDS {
        assert!(!text.contains(w), "the 産業医's file contains {w}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_gets_only_their_own_case_from_the_page_link() {
    let s = TestServer::demo().await;
    let mut worker = s.client();
    let r = worker.page_sign_in("worker", DEMO_PASSWORD).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let list = worker.get("/cases").await;
    assert!(list.body.contains("一覧をCSVでダウンロード（Excel用"));
    assert!(list.body.contains("href=\"/cases.csv?encoding=utf8\""));
    assert!(list.body.contains("href=\"/cases.csv?encoding=cp932\""));
    let rows = rows_in_both_encodings(&worker, "/cases.csv").await;
    assert_eq!(column(&rows, "本人氏名"), ["田中 太郎"]);
    assert_eq!(column(&rows, "支援の種類"), ["就業継続"]);

    let worker2 = api_client(&s, "worker2").await;
    let rows = rows_in_both_encodings(&worker2, "/api/v1/cases.csv").await;
    assert_eq!(column(&rows, "本人氏名"), ["佐藤 美咲"]);
    assert_eq!(column(&rows, "状況"), ["休業中"]);

    // Someone with no case gets the headings only.
    let bureau = api_client(&s, "bureau").await;
    let rows = rows_in_both_encodings(&bureau, "/api/v1/cases.csv").await;
    assert_eq!(rows.len(), 1);

    // Signed out: no file.
    let anon = s.client();
    assert_eq!(download(&anon, "/api/v1/cases.csv").await.status, 401);
    let page = download(&anon, "/cases.csv").await;
    assert_eq!(page.status, 303, "to the sign-in page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_cp932_cannot_hold_is_refused_with_a_message_not_a_question_mark() {
    let s = TestServer::demo().await;
    // A worker whose name has 𠮷 (outside JIS X 0208) joins the demo employer and files a
    // request.
    let mut admin = api_client(&s, "admin").await;
    let employer = admin.get("/api/v1/me").await.json()["memberships"][0]["organisation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let inv = admin
        .api(
            "POST",
            &format!("/api/v1/organisations/{employer}/invitations"),
            Some(json!({"role": "worker"})),
            &[],
        )
        .await;
    assert_eq!(inv.status, 201, "{}", inv.body);
    let link = inv.json()["link"].as_str().unwrap().to_owned();
    let token = link.rsplit('/').next().unwrap().to_owned();
    let password = "sakura-namiki-2026-michi";
    let accepted = s
        .client()
        .api(
            "POST",
            &format!("/api/v1/invitations/{token}/accept"),
            Some(json!({"login": "yoshida", "display_name": "𠮷田 花子", "password": password})),
            &[],
        )
        .await;
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    let mut yoshida = s.client();
    assert_eq!(yoshida.api_sign_in("yoshida", password).await.status, 200);
    let filed = yoshida
        .api(
            "POST",
            "/api/v1/cases",
            Some(json!({"employer_id": employer, "path": "continuation"})),
            &[],
        )
        .await;
    assert_eq!(filed.status, 201, "{}", filed.body);

    // UTF-8 holds the name as it is.
    let mut hr = api_client(&s, "jinji").await;
    let utf8 = download(&hr, "/api/v1/cases.csv").await;
    assert_eq!(utf8.status, 200);
    let rows = decode(&utf8.bytes, CsvEncoding::Utf8Bom).unwrap();
    let at = column(&rows, "本人氏名")
        .iter()
        .position(|n| n == "𠮷田 花子")
        .unwrap()
        + 1;

    // cp932 cannot: refused, naming the character and the row it is in.
    let r = download(&hr, "/api/v1/cases.csv?encoding=cp932").await;
    assert_eq!(r.status, 422);
    let body: serde_json::Value = serde_json::from_slice(&r.bytes).unwrap();
    assert_eq!(body["code"], "csv_unencodable");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("（{at}件目の「本人氏名」の「𠮷」）")),
        "{message}"
    );
    assert!(message.contains("UTF-8"), "{message}");
    assert!(!message.contains('?'), "{message}");

    // The same on the page, as a Japanese page.
    let mut hr_page = s.client();
    assert_eq!(
        hr_page.page_sign_in("jinji", DEMO_PASSWORD).await.status,
        303
    );
    let page = hr_page.get("/cases.csv?encoding=cp932").await;
    assert_eq!(page.status, 422);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.body.contains("「𠮷」"), "{}", page.body);

    // An unknown encoding is a Japanese 400.
    let r = hr.get("/api/v1/cases.csv?encoding=latin1").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "invalid_encoding");
    assert!(has_japanese(r.json()["message"].as_str().unwrap()));
}
