//! State-changing requests need this site's origin and the synchronizer token.

use crate::harness::{DEMO_PASSWORD, TestServer};

async fn org_count(c: &mut crate::harness::Client) -> usize {
    c.api("GET", "/api/v1/organisations", None, &[])
        .await
        .json()
        .as_array()
        .unwrap()
        .len()
}

fn new_org() -> serde_json::Value {
    serde_json::json!({ "kind": "employer", "name": "株式会社CSRF検証", "prefecture": "13" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_without_the_token_is_refused_and_changes_nothing() {
    let s = TestServer::demo().await;
    let mut c = s.operator_client().await;
    let before = org_count(&mut c).await;
    let token = c.csrf.take();
    let r = c
        .api("POST", "/api/v1/organisations", Some(new_org()), &[])
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.json()["code"], "csrf_failed");
    c.csrf = Some("0".repeat(64));
    assert_eq!(
        c.api("POST", "/api/v1/organisations", Some(new_org()), &[])
            .await
            .status,
        403,
        "wrong token"
    );
    c.csrf = token;
    assert_eq!(org_count(&mut c).await, before, "nothing was written");
    assert_eq!(
        c.api("POST", "/api/v1/organisations", Some(new_org()), &[])
            .await
            .status,
        201
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_from_a_foreign_origin_is_refused_even_with_the_token() {
    let s = TestServer::demo().await;
    let mut c = s.operator_client().await;
    c.origin = Some("https://evil.example".into());
    let r = c
        .api("POST", "/api/v1/organisations", Some(new_org()), &[])
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["code"], "csrf_failed");
    c.origin = None;
    let r = c
        .api(
            "POST",
            "/api/v1/organisations",
            Some(new_org()),
            &[("referer", "https://evil.example/page")],
        )
        .await;
    assert_eq!(
        r.status, 403,
        "a foreign Referer is refused when there is no Origin"
    );
    c.origin = Some("null".into());
    assert_eq!(
        c.api("POST", "/api/v1/organisations", Some(new_org()), &[])
            .await
            .status,
        403
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_need_their_hidden_token() {
    let s = TestServer::demo().await;
    let mut c = s.client();
    c.page_sign_in("worker", DEMO_PASSWORD).await;
    let r = c
        .post_form(
            "/account/password",
            &[
                ("current_password", DEMO_PASSWORD),
                ("new_password", "kawa-no-nagare-2026"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("別のサイトから送信された"), "Japanese page");
    // the password did not change
    assert_eq!(
        s.client().api_sign_in("worker", DEMO_PASSWORD).await.status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_form_is_protected_before_there_is_a_session() {
    let s = TestServer::demo().await;
    let mut c = s.client();
    // no pre-session cookie, no token
    let r = c
        .post_form(
            "/login",
            &[("login", "worker"), ("password", DEMO_PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 403);
    // a token from another visitor's cookie does not fit this visitor
    let mut other = s.client();
    let token = other.get("/login").await.csrf_field();
    c.get("/login").await;
    let r = c
        .post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("login", "worker"),
                ("password", DEMO_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_audited() {
    let s = TestServer::demo().await;
    let mut c = s.operator_client().await;
    c.csrf = None;
    c.api("POST", "/api/v1/organisations", Some(new_org()), &[])
        .await;
    let refused = crate::harness::audit_records(&s.db.url)
        .await
        .into_iter()
        .find(|r| r.event.action == ryoritsu_domain::audit::AuditAction::AccessDenied)
        .expect("the refusal is in the audit log");
    assert_eq!(refused.event.purpose.as_deref(), Some("csrf:token"));
    assert_eq!(
        refused.event.outcome,
        ryoritsu_domain::audit::Outcome::Denied
    );
    assert!(
        refused.event.actor.is_some(),
        "the signed-in actor is named"
    );
    let (code, out, _) =
        crate::harness::cli(&s.db.url, s.db.dir.path(), &["audit", "verify"], None);
    assert_eq!(code, 0, "the chain still verifies: {out}");
}
