//! The hospital workspace: 両立支援指導 sessions recorded through the pages and the API get
//! exactly the verdicts `ryoritsu fees evaluate` gives for the same sessions; employers and
//! other hospitals learn nothing of them; corrections and cancellations are versions with
//! `If-Match`; the monthly summary's CSV agrees with its page.

use serde_json::{Value, json};
use time::Duration;

use crate::harness::{Client, DEMO_PASSWORD, Resp, TestServer, cli};
use ryoritsu_domain::audit::AuditAction;

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

async fn case_of(worker: &mut Client, path: &str) -> String {
    let cases = worker.get("/api/v1/cases").await.json()["items"].clone();
    cases
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == path)
        .expect("the demo case")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn location(r: &Resp) -> String {
    assert_eq!(r.status, 303, "{}", r.body);
    r.header("location").unwrap().to_owned()
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// The text between `from` and the next `to` after it.
fn between<'a>(s: &'a str, from: &str, to: &str) -> &'a str {
    let i = s.find(from).unwrap_or_else(|| panic!("{from} not in page")) + from.len();
    let j = s[i..].find(to).map_or(s.len(), |j| i + j);
    &s[i..j]
}

/// The verdict the page shows for one session: per item (code, billable, points, reasons
/// as (met, text)), in the page's order.
type PageVerdict = Vec<(String, bool, u64, Vec<(bool, String)>)>;

fn page_verdict(html: &str, session: &str) -> PageVerdict {
    let article = between(html, &format!("id=\"guidance-{session}\""), "</article>");
    article
        .split("data-item=\"")
        .skip(1)
        .map(|chunk| {
            let code = chunk.split('"').next().unwrap().to_owned();
            let billable = between(chunk, "data-item-billable=\"", "\"") == "true";
            let points: u64 = between(chunk, "data-points=\"", "\"").parse().unwrap();
            let reasons = chunk
                .split("data-met=\"")
                .skip(1)
                .map(|r| {
                    let met = r.starts_with("true");
                    let text = unescape(between(r, "<span class=\"reason\">", "</span>"));
                    (met, text)
                })
                .collect();
            (code, billable, points, reasons)
        })
        .collect()
}

/// The same shape from the engine's JSON (the CLI's output or the API's `verdict`).
fn json_verdict(v: &Value) -> PageVerdict {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["item"].as_str().unwrap().to_owned(),
                i["billable"].as_bool().unwrap(),
                i["points"].as_u64().unwrap(),
                i["reasons"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| {
                        (
                            r["met"].as_bool().unwrap(),
                            r["text"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect(),
            )
        })
        .collect()
}

fn billable_items(v: &PageVerdict) -> Vec<(&str, u64)> {
    v.iter()
        .filter(|i| i.1)
        .map(|i| (i.0.as_str(), i.2))
        .collect()
}

/// Attaches the demo hospital (the doctor's) to 佐藤さん's leave case, which has no
/// sessions yet; returns the case.
async fn attach_hospital(s: &TestServer, doctor: &mut Client) -> String {
    let mut worker2 = signed_in(s, "worker2").await;
    let case = case_of(&mut worker2, "leave_and_return").await;
    let r = worker2
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/share-codes"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let code = r.json()["code"].as_str().unwrap().to_owned();
    let r = doctor
        .api(
            "POST",
            "/api/v1/share-codes/redeem",
            Some(json!({ "code": code })),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    case
}

const CONDITION: &str = "malignant_neoplasm";

async fn post(c: &mut Client, path: &str, fields: Vec<(&'static str, String)>) -> Resp {
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    c.post_form(path, &refs).await
}

async fn put(c: &mut Client, id: &str, body: &Value, if_match: Option<&str>) -> Resp {
    let h: Vec<(&str, &str)> = if_match.map(|v| ("if-match", v)).into_iter().collect();
    c.api(
        "PUT",
        &format!("/api/v1/guidance-sessions/{id}"),
        Some(body.clone()),
        &h,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_the_api_and_the_cli_give_the_same_verdicts() {
    let s = TestServer::demo().await;
    // From 2026-04-01 to 2027-03-01: the sessions below are all in the past.
    s.clock.advance(Duration::days(334));
    let mut doctor = person(&s, "doctor").await;
    let mut doctor_api = signed_in(&s, "doctor").await;
    let case = attach_hospital(&s, &mut doctor_api).await;
    let me = doctor_api.get("/api/v1/me").await.json();
    let doctor_id = me["id"].as_str().unwrap().to_owned();
    let hospital = me["memberships"][0]["organisation_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // From 2026-06-01 the hospital has notified both standards (recorded by the operator,
    // who sets up organisations; the demo notified the add-on only, from 2024).
    let mut op = s.operator_client().await;
    let r = op
        .api(
            "POST",
            &format!("/api/v1/organisations/{hospital}/facility-standards"),
            Some(json!({"effective_from": "令和8年6月1日", "consultation_support": true, "online": true})),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let standards = r.json();
    assert_eq!(standards["effective_from"], "2026-06-01");

    // The case page links to the records for the hospital.
    let page = doctor.get(&format!("/cases/{case}")).await;
    assert!(page.body.contains(&format!("/cases/{case}/guidance")));
    let form = doctor.get(&format!("/cases/{case}/guidance")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let token = form.csrf_field();
    // Prefilled: the doctor is the physician.
    assert!(
        form.body
            .contains(&format!("value=\"{doctor_id}\" selected"))
    );

    // S1, on the page: a 初回 (R8), information to the 産業医 on the jointly written
    // document, a trained full-time nurse present. First checked without saving.
    let s1_fields = |intent: &'static str| -> Vec<(&'static str, String)> {
        vec![
            ("csrf_token", token.clone()),
            ("intent", intent.into()),
            ("date", "令和8年7月1日".into()),
            ("physician_id", doctor_id.clone()),
            ("delivery", "face_to_face".into()),
            ("setting", "outpatient".into()),
            ("listed_disease", CONDITION.into()),
            ("repeated_treatment", "on".into()),
            ("work_consideration_needed", "on".into()),
            ("requested_with_consent", "on".into()),
            ("information_given", "on".into()),
            ("document", "jointly_prepared".into()),
            ("recipient", "sangyoi".into()),
            ("workplace_has_sangyoi", "on".into()),
            ("staff_profession_1", "nurse".into()),
            ("staff_dedicated_1", "on".into()),
            ("staff_training_1", "on".into()),
            ("note", "意見書を作成".into()),
        ]
    };
    let path = format!("/cases/{case}/guidance");
    let preview = post(&mut doctor, &path, s1_fields("preview")).await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(preview.body.contains("算定の確認（まだ記録していません）"));
    assert!(preview.body.contains("初回 850点＋相談支援加算 400点"));
    let listed = doctor_api
        .get(&format!("/api/v1/cases/{case}/guidance-sessions"))
        .await;
    assert_eq!(listed.json().as_array().unwrap().len(), 0, "nothing saved");

    let saved = post(&mut doctor, &path, s1_fields("save")).await;
    let to = location(&saved);
    let s1 = between(&to, "saved=", "#").to_owned();
    let shown = doctor.get(&to).await;
    assert!(shown.body.contains("いま記録しました"));
    // The verdict is shown beside the form at once.
    let beside = between(&shown.body, "id=\"guidance-saved\"", "</div>\n");
    assert!(
        beside.contains("初回 850点＋相談支援加算 400点"),
        "{beside}"
    );

    // S2, through the API: a ２回目以降 in the window, nobody present, no information.
    let r = doctor_api
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/guidance-sessions"),
            Some(json!({
                "date": "2026-08-03", "setting": "outpatient", "delivery": "face_to_face",
                "condition": {"listed_disease": CONDITION, "repeated_treatment": true, "work_consideration_needed": true},
                "requested_with_consent": true
            })),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let s2_out = r.json();
    let s2 = s2_out["id"].as_str().unwrap().to_owned();
    assert_eq!(
        s2_out["physician_id"],
        doctor_id.as_str(),
        "defaults to the caller"
    );
    assert_eq!(s2_out["verdict"]["total_points"], 500);

    // S3, on the page: online, information to HR only (not one of the 産業医等).
    let mut s3_fields = s1_fields("save");
    for f in &mut s3_fields {
        match f.0 {
            "date" => f.1 = "2026-09-01".into(),
            "delivery" => f.1 = "online".into(),
            "recipient" => f.1 = "hr_staff".into(),
            "staff_profession_1" => f.1 = String::new(),
            _ => {}
        }
    }
    s3_fields.retain(|f| f.0 != "workplace_has_sangyoi");
    let s3 = between(
        &location(&post(&mut doctor, &path, s3_fields).await),
        "saved=",
        "#",
    )
    .to_owned();

    // S4, through the API: past the ２回目以降 window of the July 初回 (Aug–Jan), to HR.
    let r = doctor_api
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/guidance-sessions"),
            Some(json!({
                "date": "R9.2.1", "setting": "outpatient", "delivery": "face_to_face",
                "physician_id": doctor_id,
                "condition": {"listed_disease": CONDITION, "repeated_treatment": true, "work_consideration_needed": true},
                "requested_with_consent": true,
                "information": {"document": "jointly_prepared", "recipient": "hr_staff", "workplace_has_sangyoi": false}
            })),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let s4 = r.json()["id"].as_str().unwrap().to_owned();

    // What the page shows now.
    let html = doctor.get(&format!("/cases/{case}/guidance")).await.body;
    let shown: Vec<PageVerdict> = [&s1, &s2, &s3, &s4]
        .iter()
        .map(|id| page_verdict(&html, id))
        .collect();
    assert_eq!(
        billable_items(&shown[0]),
        [("initial", 850), ("consultation_support", 400)]
    );
    assert_eq!(billable_items(&shown[1]), [("follow_up", 500)]);
    assert_eq!(billable_items(&shown[2]), [("follow_up_online", 435)]);
    assert!(billable_items(&shown[3]).is_empty());
    let refused: Vec<&str> = shown[3]
        .iter()
        .flat_map(|i| i.3.iter())
        .filter(|r| !r.0)
        .map(|r| r.1.as_str())
        .collect();
    assert!(
        refused
            .iter()
            .any(|t| t.contains("通知(3)") && t.contains("超えています"))
    );
    assert!(
        refused
            .iter()
            .any(|t| t.contains("人事労務担当者は産業医等"))
    );

    // The same sessions as the command's input, written by hand from what was entered.
    let condition = json!({"listed_disease": CONDITION, "repeated_treatment": true, "work_consideration_needed": true});
    let facility = json!({"consultation_support": true, "online": true});
    let input = json!({"sessions": [
        {"date": "2026-07-01", "setting": "outpatient", "delivery": "face_to_face", "condition": condition,
         "requested_with_consent": true,
         "information": {"document": "jointly_prepared", "recipient": "sangyoi", "workplace_has_sangyoi": true, "b009_or_b010_billed": false},
         "staff_present": [{"profession": "nurse", "training_completed": true, "dedicated": true}],
         "facility": facility},
        {"date": "2026-08-03", "setting": "outpatient", "delivery": "face_to_face", "condition": condition,
         "requested_with_consent": true, "facility": facility},
        {"date": "2026-09-01", "setting": "outpatient", "delivery": "online", "condition": condition,
         "requested_with_consent": true,
         "information": {"document": "jointly_prepared", "recipient": "hr_staff", "workplace_has_sangyoi": false},
         "facility": facility},
        {"date": "2027-02-01", "setting": "outpatient", "delivery": "face_to_face", "condition": condition,
         "requested_with_consent": true,
         "information": {"document": "jointly_prepared", "recipient": "hr_staff", "workplace_has_sangyoi": false},
         "facility": facility}
    ]});
    let (code, out, err) = cli(
        &s.db.url,
        s.db.dir.path(),
        &["fees", "evaluate"],
        Some(&input.to_string()),
    );
    assert_eq!(code, 0, "{err}");
    let evaluated: Value = serde_json::from_str(&out).unwrap();
    for (i, page) in shown.iter().enumerate() {
        let from_cli = json_verdict(&evaluated["sessions"][i]);
        assert_eq!(
            page, &from_cli,
            "session {i}: the page and the command differ"
        );
    }

    // The API gives the same verdicts too.
    let listed = doctor_api
        .get(&format!("/api/v1/cases/{case}/guidance-sessions"))
        .await
        .json();
    for (i, id) in [&s1, &s2, &s3, &s4].iter().enumerate() {
        let one = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id.as_str())
            .unwrap();
        assert_eq!(json_verdict(&one["verdict"]), shown[i], "API session {i}");
    }

    // Bad input: Japanese messages with stable codes, nothing stored.
    let r = doctor_api
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/guidance-sessions"),
            Some(
                json!({"date": "2027-03-02", "setting": "outpatient", "delivery": "face_to_face",
                        "requested_with_consent": true}),
            ),
            &[],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("in_the_future"), "{}", r.body);
    let r = doctor_api
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/guidance-sessions"),
            Some(
                json!({"date": "2026-07-01", "setting": "somewhere", "delivery": "face_to_face",
                        "requested_with_consent": true}),
            ),
            &[],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let mut bad = s1_fields("save");
    for f in &mut bad {
        if f.0 == "recipient" {
            f.1 = "the_boss".into();
        }
        if f.0 == "date" {
            f.1 = "昨日".into();
        }
    }
    let r = post(&mut doctor, &path, bad).await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("「情報提供先」を選び直してください。"),
        "{}",
        r.body
    );
    let count = doctor_api
        .get(&format!("/api/v1/cases/{case}/guidance-sessions"))
        .await
        .json();
    assert_eq!(count.as_array().unwrap().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_hospital_and_the_worker_see_the_sessions() {
    let s = TestServer::start_with(true, |c| {
        c.demo = true;
        // The other hospital's physician has no authenticator in this test.
        c.require_second_factor = false;
    })
    .await;
    let mut worker = signed_in(&s, "worker").await;
    let case = case_of(&mut worker, "continuation").await;
    let mut doctor = signed_in(&s, "doctor").await;
    let sessions = doctor
        .get(&format!("/api/v1/cases/{case}/guidance-sessions"))
        .await;
    assert_eq!(sessions.status, 200, "{}", sessions.body);
    let demo = sessions.json();
    assert_eq!(demo.as_array().unwrap().len(), 2, "the demo's sessions");
    let id = demo[0]["id"].as_str().unwrap().to_owned();

    // The worker reads them (their own medical information), but records nothing.
    let mine = worker
        .get(&format!("/api/v1/cases/{case}/guidance-sessions"))
        .await;
    assert_eq!(mine.status, 200);
    let mine = mine.json();
    for (a, b) in mine
        .as_array()
        .unwrap()
        .iter()
        .zip(demo.as_array().unwrap())
    {
        assert_eq!((&a["id"], &a["verdict"]), (&b["id"], &b["verdict"]));
        assert_eq!(a["may_change"], false, "the worker changes nothing");
    }
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/guidance-sessions"),
            Some(json!({"date": "2026-04-01", "setting": "outpatient", "delivery": "face_to_face", "requested_with_consent": true})),
            &[],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    // The worker's 開示 lists them.
    let export = worker.get("/api/v1/me/export").await;
    assert_eq!(export.status, 200, "{}", export.body);
    assert!(export.body.contains(&id));

    // Another hospital's physician.
    let other = s
        .newcomer(
            ("medical_institution", "みなと中央クリニック"),
            "attending_physician",
            ("minato.doctor", "港 医師", "minato-doctor-2026-password"),
        )
        .await;

    let demo_hospital = doctor.get("/api/v1/me").await.json()["memberships"][0]["organisation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut outsiders = vec![
        ("jinji", signed_in(&s, "jinji").await),
        ("sangyoi", signed_in(&s, "sangyoi").await),
        ("eisei", signed_in(&s, "eisei").await),
        ("manager", signed_in(&s, "manager").await),
        ("promoter", signed_in(&s, "promoter").await),
    ];
    outsiders.push(("other hospital", other));
    for (who, c) in &mut outsiders {
        let r = c
            .get(&format!("/api/v1/cases/{case}/guidance-sessions"))
            .await;
        assert_eq!(r.status, 404, "{who}: {}", r.body);
        assert!(!r.body.contains(&id));
        let r = c.get(&format!("/cases/{case}/guidance")).await;
        assert_eq!(r.status, 404, "{who}");
        let r = c
            .api(
                "POST",
                &format!("/api/v1/cases/{case}/guidance-sessions"),
                Some(json!({"date": "2026-04-01", "setting": "outpatient", "delivery": "face_to_face", "requested_with_consent": true})),
                &[],
            )
            .await;
        assert_eq!(r.status, 404, "{who}: {}", r.body);
        let r = c
            .api(
                "POST",
                &format!("/api/v1/guidance-sessions/{id}/cancel"),
                Some(json!({"reason": "x"})),
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(r.status, 404, "{who}: {}", r.body);
        let r = c
            .get(&format!(
                "/api/v1/hospital/billing?organisation={demo_hospital}&month=2026-03"
            ))
            .await;
        assert_eq!(r.status, 404, "{who}: {}", r.body);
        // Nor does the case page hint at them.
        let page = c.get(&format!("/cases/{case}")).await;
        assert!(!page.body.contains("両立支援指導の記録"), "{who}");
    }
    let r = outsiders[0].1.get("/hospital").await;
    assert_eq!(r.status, 404);
}

/// Rows of a CSV file (UTF-8 with BOM).
fn csv_rows(bytes: &str) -> Vec<Vec<String>> {
    bytes
        .trim_start_matches('\u{feff}')
        .lines()
        .map(|l| {
            l.split(',')
                .map(|c| c.trim_matches('"').to_owned())
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summaries_corrections_and_cancellations() {
    let s = TestServer::demo().await;
    let mut doctor = person(&s, "doctor").await;
    let mut doctor_api = signed_in(&s, "doctor").await;
    let mut worker = signed_in(&s, "worker").await;
    let case = case_of(&mut worker, "continuation").await;

    // The demo: a 初回 on 2026-03-18 and a ２回目以降 on 2026-04-01 (R6, with the add-on).
    let api = doctor_api
        .get("/api/v1/hospital/billing?month=2026-03")
        .await;
    assert_eq!(api.status, 200, "{}", api.body);
    let march = api.json();
    assert_eq!(march["totals"]["sessions"], 1);
    assert_eq!(march["totals"]["points"], 850);
    assert_eq!(march["physicians"][0]["physician_name"], "伊藤 健一");
    let page = doctor.get("/hospital/billing?month=2026-04").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let page_total: u64 = between(&page.body, "<tr data-row=\"total\">", "</tr>")
        .split("data-points=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(page_total, 450);
    let csv = doctor.get("/hospital/billing.csv?month=2026-04").await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().contains("utf-8"));
    let rows = csv_rows(&csv.body);
    assert_eq!(rows[0][0], "対象月");
    assert_eq!(rows[1][1], "医療機関計");
    assert_eq!(rows[1][16], page_total.to_string());
    assert_eq!(rows[2][2], "伊藤 健一");
    assert_eq!(rows[2][16], page_total.to_string());
    let sjis = doctor
        .get("/hospital/billing.csv?month=2026-04&encoding=cp932")
        .await;
    assert_eq!(sjis.status, 200);
    let bad = doctor.get("/hospital/billing?month=2026-13").await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("対象月"));
    let exported = crate::harness::audit_records(&s.db.url)
        .await
        .into_iter()
        .filter(|r| r.event.action == AuditAction::Exported)
        .count();
    assert_eq!(exported, 2);

    // A correction is a new version over the one seen; stale and missing If-Match refused.
    let listed = doctor_api
        .get(&format!("/api/v1/cases/{case}/guidance-sessions"))
        .await
        .json();
    let follow = listed[1].clone();
    let id = follow["id"].as_str().unwrap().to_owned();
    let body = json!({
        "date": "2026-04-01", "setting": "outpatient", "delivery": "face_to_face",
        "condition": follow["condition"], "requested_with_consent": true,
        "staff_present": [], "note": "同席者の記録を訂正"
    });
    assert_eq!(put(&mut doctor_api, &id, &body, None).await.status, 428);
    let r = put(&mut doctor_api, &id, &body, Some("\"1\"")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("etag"), Some("\"2\""));
    assert_eq!(r.json()["verdict"]["total_points"], 400, "no add-on now");
    assert_eq!(
        put(&mut doctor_api, &id, &body, Some("\"1\"")).await.status,
        412
    );

    // The 初回 corrected on the page: its form comes filled in; nobody was present after all.
    let first = listed[0]["id"].as_str().unwrap().to_owned();
    let form = doctor
        .get(&format!("/cases/{case}/guidance?correct={first}"))
        .await;
    assert!(
        form.body
            .contains(&format!("name=\"correct\" value=\"{first}\""))
    );
    assert!(form.body.contains("訂正を記録する"));
    assert!(form.body.contains("value=\"social_worker\" selected"));
    let token = form.csrf_field();
    let doctor_id = listed[0]["physician_id"].as_str().unwrap().to_owned();
    let fields = |version: &'static str| -> Vec<(&'static str, String)> {
        vec![
            ("csrf_token", token.clone()),
            ("intent", "save".into()),
            ("correct", first.clone()),
            ("version", version.into()),
            ("date", "2026-03-18".into()),
            ("physician_id", doctor_id.clone()),
            ("delivery", "face_to_face".into()),
            ("setting", "outpatient".into()),
            ("listed_disease", CONDITION.into()),
            ("requested_with_consent", "on".into()),
            ("information_given", "on".into()),
            ("document", "jointly_prepared".into()),
            ("recipient", "sangyoi".into()),
            ("workplace_has_sangyoi", "on".into()),
        ]
    };
    let path = format!("/cases/{case}/guidance");
    let to = location(&post(&mut doctor, &path, fields("1")).await);
    assert!(to.contains("done=corrected"), "{to}");
    let stale = post(&mut doctor, &path, fields("1")).await;
    assert_eq!(stale.status, 412);
    assert!(stale.body.contains("ほかの方が先に"));
    let march = doctor_api
        .get("/api/v1/hospital/billing?month=2026-03")
        .await
        .json();
    assert_eq!(march["totals"]["points"], 800, "the add-on is gone");

    // Cancelled on the page with a reason: kept, no longer counted.
    let html = doctor.get(&format!("/cases/{case}/guidance")).await;
    let token = html.csrf_field();
    let r = doctor
        .post_form(
            &format!("/guidance/{id}/cancel"),
            &[
                ("csrf_token", &token),
                ("case", &case),
                ("version", "2"),
                ("reason", "別の受診日の記録と重複していたため"),
            ],
        )
        .await;
    let to = location(&r);
    let after = doctor.get(&to).await;
    assert!(after.body.contains("取消済み"));
    assert!(after.body.contains("別の受診日の記録と重複していたため"));
    let again = doctor
        .post_form(
            &format!("/guidance/{id}/cancel"),
            &[
                ("csrf_token", &token),
                ("case", &case),
                ("version", "2"),
                ("reason", "もう一度"),
            ],
        )
        .await;
    assert_eq!(again.status, 409);
    let april = doctor_api
        .get("/api/v1/hospital/billing?month=2026-04")
        .await
        .json();
    assert_eq!(april["totals"]["sessions"], 0);
    assert_eq!(april["totals"]["points"], 0);

    // Only the institution's admin (or the operator) records facility standards.
    let me = doctor_api.get("/api/v1/me").await.json();
    let hospital = me["memberships"][0]["organisation_id"].as_str().unwrap();
    let r = doctor_api
        .api(
            "POST",
            &format!("/api/v1/organisations/{hospital}/facility-standards"),
            Some(json!({"effective_from": "2026-06-01", "consultation_support": false, "online": true})),
            &[],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = doctor_api
        .get(&format!(
            "/api/v1/organisations/{hospital}/facility-standards"
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json().as_array().unwrap().len(), 1);
    let settings = doctor.get("/hospital/settings").await;
    assert_eq!(settings.status, 200);
    assert!(settings.body.contains("組織管理者が行います"));

    // Every change is in the audit chain.
    let changes = crate::harness::audit_records(&s.db.url)
        .await
        .into_iter()
        .filter(|r| r.event.action == AuditAction::GuidanceRecorded)
        .count();
    assert_eq!(
        changes, 5,
        "two demo sessions, two corrections, a cancellation"
    );
}

/// Runs one statement directly against the test database; `Err` with the database's words.
async fn raw(s: &TestServer, sql: &'static str) -> Result<u64, String> {
    use sqlx::Connection;
    match s.db.sqlite_path() {
        Some(path) => {
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            sqlx::query(sql)
                .execute(&mut c)
                .await
                .map(|r| r.rows_affected())
                .map_err(|e| e.to_string())
        }
        None => {
            let mut c = sqlx::PgConnection::connect(&s.db.url).await.unwrap();
            sqlx::query(sql)
                .execute(&mut c)
                .await
                .map(|r| r.rows_affected())
                .map_err(|e| e.to_string())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billing_records_cannot_be_rewritten_or_removed_in_the_database() {
    let s = TestServer::demo().await;
    for sql in [
        "UPDATE guidance_sessions SET cancel_reason = 'x'",
        "DELETE FROM guidance_sessions",
        "UPDATE facility_standards SET online = true",
        "DELETE FROM facility_standards",
    ] {
        let r = raw(&s, sql).await;
        assert!(
            r.as_ref().is_err_and(|e| e.contains("append-only")),
            "{sql}: {r:?}"
        );
    }
    if s.db.sqlite_path().is_none() {
        for sql in [
            "TRUNCATE guidance_sessions CASCADE",
            "TRUNCATE facility_standards",
        ] {
            assert!(raw(&s, sql).await.is_err(), "{sql}");
        }
    }
    let mut doctor = signed_in(&s, "doctor").await;
    let mut worker = signed_in(&s, "worker").await;
    let case = case_of(&mut worker, "continuation").await;
    let listed = doctor
        .get(&format!("/api/v1/cases/{case}/guidance-sessions"))
        .await
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 2, "nothing changed");
}

/// A site's own rule file (`fee_rules`) is what the pages give verdicts under, as
/// `fees evaluate --rules` does with the same file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_follow_the_sites_own_fee_rules() {
    let dir = tempfile::tempdir().unwrap();
    let mut schedule = ryoritsu_domain::fees::FeeSchedule::standard();
    for r in &mut schedule.revisions {
        r.points.initial += 1;
    }
    let rules = dir.path().join("rules.json");
    std::fs::write(&rules, serde_json::to_string(&schedule).unwrap()).unwrap();
    let file = rules.clone();
    let s = TestServer::start_with(true, move |c| {
        c.demo = true;
        c.fee_rules = Some(file);
    })
    .await;
    s.clock.advance(Duration::days(334));
    let mut doctor = person(&s, "doctor").await;
    let mut doctor_api = signed_in(&s, "doctor").await;
    let case = attach_hospital(&s, &mut doctor_api).await;
    let me = doctor_api.get("/api/v1/me").await.json();
    let doctor_id = me["id"].as_str().unwrap().to_owned();
    let path = format!("/cases/{case}/guidance");
    let form = doctor.get(&path).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let fields = vec![
        ("csrf_token", form.csrf_field()),
        ("intent", "preview".into()),
        ("date", "令和8年7月1日".into()),
        ("physician_id", doctor_id),
        ("delivery", "face_to_face".into()),
        ("setting", "outpatient".into()),
        ("listed_disease", CONDITION.into()),
        ("repeated_treatment", "on".into()),
        ("work_consideration_needed", "on".into()),
        ("requested_with_consent", "on".into()),
        ("information_given", "on".into()),
        ("document", "jointly_prepared".into()),
        ("recipient", "sangyoi".into()),
        ("workplace_has_sangyoi", "on".into()),
    ];
    let preview = post(&mut doctor, &path, fields).await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(preview.body.contains("初回 851点"), "{}", preview.body);

    // A broken rule file stops the server before it serves anything.
    std::fs::write(&rules, "{\"revisions\": [").unwrap();
    let mut cfg = crate::harness::test_config("sqlite://unused.db");
    cfg.fee_rules = Some(rules);
    let refused = ryoritsu::server::app_config(&cfg).unwrap_err();
    assert!(refused.contains("ルールファイル"), "{refused}");
    assert!(refused.contains("形式が正しくありません"), "{refused}");
}
