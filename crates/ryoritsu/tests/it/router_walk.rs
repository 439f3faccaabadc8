//! Walks the route table: every route has an access entry, the entry is enforced, and junk,
//! oversize and malformed input to every route gets a 4xx with a Japanese message and a
//! stable code — never a 5xx.

use std::collections::BTreeSet;

use ryoritsu_store_sqlite::SqliteStore;
use ryoritsu_web::{Access, RouteEntry};

use crate::harness::{Client, DEMO_PASSWORD, Resp, TestServer, has_japanese};

fn entries() -> Vec<RouteEntry> {
    ryoritsu_web::routes::<SqliteStore>().entries().to_vec()
}

#[test]
fn every_route_has_one_access_entry() {
    let es = entries();
    assert!(es.len() >= 30, "the table lists the routes ({})", es.len());
    let mut seen = BTreeSet::new();
    for e in &es {
        assert!(
            seen.insert((e.method.to_string(), e.path)),
            "{} {} registered twice",
            e.method,
            e.path
        );
        assert!(
            !e.policy.is_empty(),
            "{} {} names its policy",
            e.method,
            e.path
        );
    }
    // Nothing personal is public.
    for e in es.iter().filter(|e| e.access == Access::Public) {
        let allowed = [
            "/login",
            "/healthz",
            "/static/",
            "/invitations/",
            "/api/v1/openapi.json",
            "/api/v1/prefectures",
            "/api/v1/roles",
            "/api/v1/auth/sign-in",
            "/api/v1/invitations/",
            "/api/v1/categories",
            "/api/v1/forms/",
            "/forms/",
            "/fhir/R4/metadata",
            "/fhir/R4/Questionnaire",
        ];
        assert!(
            allowed.iter().any(|a| e.path.starts_with(a)),
            "{} {} is public",
            e.method,
            e.path
        );
    }
}

fn fill(path: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = rest[i..].find('}').map_or(rest.len(), |j| i + j + 1);
        out.push_str(value);
        rest = &rest[j..];
    }
    out.push_str(rest);
    out
}

const JUNK_PARAMS: &[&str] = &[
    "nonexistent",
    "00000000-0000-0000-0000-000000000000",
    "0193a5b2-7c1d-7000-8000-0000000000ff",
    "%FF%FE%00",
    "%27%3B%20DROP%20TABLE%20users%3B--",
    "..%2F..%2Fetc%2Fpasswd",
    "%E6%97%A5%E6%9C%AC%E8%AA%9E",
];

fn check_failure(what: &str, r: &Resp) {
    assert!(r.status < 500, "{what}: got {} {}", r.status, r.body);
    if r.status >= 400 {
        assert!(
            has_japanese(&r.body),
            "{what}: {} without a Japanese message: {}",
            r.status,
            r.body
        );
        let ct = r.header("content-type").unwrap_or_default();
        if ct.starts_with("application/fhir+json") {
            // FHIR routes answer with an OperationOutcome carrying the same code and message.
            let v = r.json();
            assert_eq!(v["resourceType"], "OperationOutcome", "{what}");
            assert!(
                v["issue"][0]["details"]["coding"][0]["code"]
                    .as_str()
                    .is_some_and(|c| !c.is_empty()),
                "{what}: stable code"
            );
            assert!(
                v["issue"][0]["diagnostics"]
                    .as_str()
                    .is_some_and(has_japanese),
                "{what}: message"
            );
            assert!(r.header("x-operation-id").is_some(), "{what}: operation id");
        } else if ct.contains("json") {
            let v = r.json();
            assert!(
                v["code"].as_str().is_some_and(|c| !c.is_empty()),
                "{what}: stable code"
            );
            assert!(
                v["message"].as_str().is_some_and(has_japanese),
                "{what}: message"
            );
            assert!(v["operation_id"].as_str().is_some(), "{what}: operation id");
        } else {
            assert!(ct.starts_with("text/html"), "{what}: {ct}");
        }
    }
}

async fn bodies_for(c: &mut Client, method: &str, path: &str, limit: usize) -> Vec<(String, Resp)> {
    let mut out = Vec::new();
    let cases: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
        ("empty", None, Vec::new()),
        ("junk json", Some("application/json"), b"\x00\x01\x02garbage".to_vec()),
        ("cut-off json", Some("application/json"), b"{\"login\": \"a".to_vec()),
        ("wrong types", Some("application/json"), br#"{"login":5,"kind":[1],"name":{},"prefecture":true,"code":null,"role":7,"password":[]}"#.to_vec()),
        ("array json", Some("application/json"), b"[1,2,3]".to_vec()),
        ("invalid utf-8", Some("application/json"), vec![0x22, 0xff, 0xfe, 0x22]),
        ("oversize", Some("application/json"), vec![b'a'; limit + 1]),
        ("odd type", Some("text/x-unknown"), b"hello".to_vec()),
        ("junk form", Some("application/x-www-form-urlencoded"), b"%zz=%zz&&=&name=%FF".to_vec()),
        ("huge field", Some("application/json"), format!("{{\"name\":\"{}\"}}", "長".repeat(3000)).into_bytes()),
    ];
    for (label, ct, body) in cases {
        let token = c.csrf.clone().unwrap_or_default();
        let r = c
            .request(method, path, ct, body, &[("x-csrf-token", token.as_str())])
            .await;
        out.push((format!("{method} {path} [{label}]"), r));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_to_every_route_gets_a_japanese_4xx_never_a_5xx() {
    // A small limit, so that an oversize body still fits the socket buffers and the client
    // reads the 413 instead of meeting a connection closed before it finished writing.
    let s = TestServer::start_with(true, |c| {
        c.demo = true;
        c.body_limit = 16 * 1024;
    })
    .await;
    let limit = s.config.body_limit;
    let mut anon = s.client();
    anon.get("/login").await;
    let mut op = s.operator_client().await;
    let mut worker = s.client();
    worker.api_sign_in("worker", DEMO_PASSWORD).await;
    // Routes that take no body: an empty POST is a real request to them.
    let bodyless = [
        "/logout",
        "/api/v1/auth/sign-out",
        "/api/v1/users/{id}/deactivate",
        "/api/v1/me/sessions/{handle}",
        "/account/sessions/{handle}/end",
        "/organisations/{id}/members/{membership}/revoke",
    ];
    // Those that end the session are walked last, so the others meet a live session.
    let mut all = entries();
    all.sort_by_key(|e| matches!(e.path, "/logout" | "/api/v1/auth/sign-out"));
    for e in all {
        let method = e.method.as_str();
        let paths: Vec<String> = if e.path.contains('{') {
            JUNK_PARAMS.iter().map(|j| fill(e.path, j)).collect()
        } else {
            vec![format!(
                "{}?next=%FF%FE&done=%3Cscript%3E&x={}",
                e.path,
                "y".repeat(2000)
            )]
        };
        for path in &paths {
            for (who, c) in [
                ("anonymous", &mut anon),
                ("operator", &mut op),
                ("worker", &mut worker),
            ] {
                if method == "GET" {
                    let r = c.get(path).await;
                    check_failure(&format!("{who} GET {path}"), &r);
                    if e.path.contains('{') && who != "anonymous" {
                        assert!(
                            r.status >= 400,
                            "{who} GET {path}: junk names nothing, got {}",
                            r.status
                        );
                    }
                } else {
                    for (what, r) in bodies_for(c, method, path, limit).await {
                        check_failure(&format!("{who} {what}"), &r);
                        if !bodyless.contains(&e.path) || e.path.contains('{') {
                            assert!(
                                r.status >= 400,
                                "{who} {what}: junk must be refused, got {} {}",
                                r.status,
                                r.body
                            );
                        }
                    }
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_access_entry_is_enforced() {
    let s = TestServer::start_with(true, |_| {}).await;
    let mut anon = s.client();
    anon.get("/login").await;
    // A professional who has not passed the second factor.
    let mut pending = s.client();
    assert_eq!(
        pending.api_sign_in("jinji", DEMO_PASSWORD).await.json()["next"],
        "enrol_second_factor"
    );
    for e in entries() {
        let path = fill(e.path, "0193a5b2-7c1d-7000-8000-0000000000ff");
        let method = e.method.as_str();
        let r = anon.request(method, &path, None, Vec::new(), &[]).await;
        match e.access {
            Access::Public => assert!(r.status < 500, "{method} {path}"),
            Access::Session | Access::SignedIn => {
                if method == "GET" && !path.starts_with("/api/") && !path.starts_with("/fhir/") {
                    assert_eq!(
                        r.status, 303,
                        "{method} {path} sends the anonymous to sign in"
                    );
                    assert!(r.header("location").unwrap().starts_with("/login"));
                } else {
                    assert!(
                        r.status == 401 || r.status == 403,
                        "{method} {path}: {}",
                        r.status
                    );
                }
            }
        }
        if e.access == Access::SignedIn {
            let token = pending.csrf.clone().unwrap_or_default();
            let r = pending
                .request(
                    method,
                    &path,
                    Some("application/json"),
                    b"{}".to_vec(),
                    &[("x-csrf-token", token.as_str())],
                )
                .await;
            if path.starts_with("/fhir/") {
                assert_eq!(r.status, 403, "{method} {path}: second factor first");
                assert_eq!(
                    r.json()["issue"][0]["details"]["coding"][0]["code"],
                    "second_factor_required"
                );
            } else if method == "GET" && !path.starts_with("/api/") {
                assert_eq!(r.status, 303, "{method} {path}: to the second-factor setup");
            } else if path.starts_with("/api/") {
                assert_eq!(
                    r.status, 403,
                    "{method} {path}: second factor first ({})",
                    r.body
                );
                assert_eq!(r.json()["code"], "second_factor_required");
            } else {
                assert_eq!(r.status, 403, "{method} {path}: second factor first");
                assert!(r.body.contains("二要素認証"), "{method} {path}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_organisations_answer_not_found() {
    let s = TestServer::demo().await;
    let mut admin = s.client();
    admin.api_sign_in("admin", DEMO_PASSWORD).await;
    let mut op = s.operator_client().await;
    let orgs = op
        .api("GET", "/api/v1/organisations", None, &[])
        .await
        .json();
    let hospital = orgs
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "medical_institution")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [
        format!("/api/v1/organisations/{hospital}"),
        format!("/api/v1/organisations/{hospital}/members"),
        format!("/api/v1/organisations/{hospital}/workplaces"),
    ] {
        let r = admin.api("GET", &path, None, &[]).await;
        assert_eq!(
            r.status, 404,
            "{path}: probing another tenant reveals nothing"
        );
    }
    let r = admin
        .api(
            "POST",
            &format!("/api/v1/organisations/{hospital}/invitations"),
            Some(serde_json::json!({"role": "attending_physician"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 404);
    let mine = admin
        .api("GET", "/api/v1/organisations", None, &[])
        .await
        .json();
    assert_eq!(
        mine.as_array().unwrap().len(),
        1,
        "an admin sees only their own organisation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_by_the_policy_are_in_the_audit_log() {
    let s = TestServer::demo().await;
    let mut worker = s.client();
    worker.api_sign_in("worker", DEMO_PASSWORD).await;
    let r = worker
        .api(
            "POST",
            "/api/v1/organisations",
            Some(serde_json::json!({"kind": "employer", "name": "x社", "prefecture": "13"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 403);
    let records = crate::harness::audit_records(&s.db.url).await;
    let denied = records
        .iter()
        .find(|r| r.event.action == ryoritsu_domain::audit::AuditAction::AccessDenied)
        .expect("an access_denied event");
    assert_eq!(denied.event.purpose.as_deref(), Some("forbidden"));
    assert_eq!(
        denied.event.target.as_deref(),
        Some("route:/api/v1/organisations")
    );
    assert!(denied.event.actor.is_some());
    assert_eq!(
        denied.event.outcome,
        ryoritsu_domain::audit::Outcome::Denied
    );
}
