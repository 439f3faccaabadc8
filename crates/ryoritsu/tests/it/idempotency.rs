//! `Idempotency-Key`: a retry returns the first answer and writes once.

use crate::harness::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_with_the_same_key_returns_the_first_answer_and_writes_once() {
    let s = TestServer::demo().await;
    let mut c = s.operator_client().await;
    let before = c
        .api("GET", "/api/v1/organisations", None, &[])
        .await
        .json()
        .as_array()
        .unwrap()
        .len();
    let body = serde_json::json!({
        "kind": "employer", "name": "株式会社リトライ", "prefecture": "大阪府",
        "workplaces": [{ "name": "本社", "prefecture": "27", "has_occupational_physician": true }]
    });
    let key = [("idempotency-key", "9f1c2e7a-retry-0001")];
    let first = c
        .api("POST", "/api/v1/organisations", Some(body.clone()), &key)
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let second = c
        .api("POST", "/api/v1/organisations", Some(body.clone()), &key)
        .await;
    assert_eq!(second.status, 201);
    assert_eq!(first.body, second.body, "the same answer");
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    let after = c
        .api("GET", "/api/v1/organisations", None, &[])
        .await
        .json();
    let after = after.as_array().unwrap();
    assert_eq!(after.len(), before + 1, "written once");
    let id = first.json()["id"].as_str().unwrap().to_owned();
    let wps = c
        .api(
            "GET",
            &format!("/api/v1/organisations/{id}/workplaces"),
            None,
            &[],
        )
        .await
        .json();
    assert_eq!(wps.as_array().unwrap().len(), 1);

    // The same key with another body is refused.
    let mut other = body.clone();
    other["name"] = "株式会社ちがう".into();
    let r = c
        .api("POST", "/api/v1/organisations", Some(other), &key)
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["code"], "idempotency_key_reused");
    // Without a key, each POST is a new write.
    c.api("POST", "/api/v1/organisations", Some(body.clone()), &[])
        .await;
    let n = c
        .api("GET", "/api/v1/organisations", None, &[])
        .await
        .json()
        .as_array()
        .unwrap()
        .len();
    assert_eq!(n, before + 2);
    // A malformed key is refused with a Japanese message.
    let r = c
        .api(
            "POST",
            "/api/v1/organisations",
            Some(body),
            &[("idempotency-key", "")],
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retries_still_write_once() {
    let s = TestServer::demo().await;
    let c = s.operator_client().await;
    let body = serde_json::json!({ "kind": "medical_institution", "name": "同時再送病院", "prefecture": "13" });
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let mut cc = crate::harness::Client::new(&s.base);
        cc.cookies = c.cookies.clone();
        cc.csrf = c.csrf.clone();
        let b = body.clone();
        tasks.push(tokio::spawn(async move {
            cc.api(
                "POST",
                "/api/v1/organisations",
                Some(b),
                &[("idempotency-key", "race-key-1")],
            )
            .await
        }));
    }
    let mut bodies = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
        bodies.push(r.body);
    }
    bodies.dedup();
    assert_eq!(bodies.len(), 1, "every retry got the same answer");
    let mut c = c;
    let list = c
        .api("GET", "/api/v1/organisations", None, &[])
        .await
        .json();
    let n = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["name"] == "同時再送病院")
        .count();
    assert_eq!(n, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_an_invitation_twice_with_the_key_replays_the_first_answer() {
    let s = TestServer::demo().await;
    let mut admin = s.client();
    admin
        .api_sign_in("admin", crate::harness::DEMO_PASSWORD)
        .await;
    let me = admin.get("/api/v1/me").await.json();
    let org = me["memberships"][0]["organisation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let inv = admin
        .api(
            "POST",
            &format!("/api/v1/organisations/{org}/invitations"),
            Some(serde_json::json!({"role": "worker"})),
            &[],
        )
        .await;
    assert_eq!(inv.status, 201, "{}", inv.body);
    let link = inv.json()["link"].as_str().unwrap().to_owned();
    let token = link.rsplit('/').next().unwrap().to_owned();
    let mut newcomer = s.client();
    let body = serde_json::json!({ "login": "suzuki.new", "display_name": "鈴木 新", "password": "atarashii-shokuba-2026" });
    let key = [("idempotency-key", "accept-once-1")];
    let path = format!("/api/v1/invitations/{token}/accept");
    let first = newcomer.api("POST", &path, Some(body.clone()), &key).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let retry = newcomer.api("POST", &path, Some(body.clone()), &key).await;
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(first.body, retry.body);
    let other = newcomer.api("POST", &path, Some(body), &[]).await;
    assert_eq!(
        other.status, 409,
        "without the key the used invitation is refused"
    );
    assert_eq!(
        s.client()
            .api_sign_in("suzuki.new", "atarashii-shokuba-2026")
            .await
            .status,
        200
    );
}
