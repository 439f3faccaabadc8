//! Security headers on every response.

use crate::harness::{DEMO_PASSWORD, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers() {
    let s = TestServer::demo().await;
    let mut c = s.client();
    c.page_sign_in("worker", DEMO_PASSWORD).await;
    let mut responses = Vec::new();
    for path in [
        "/",
        "/login",
        "/account",
        "/api/v1/me",
        "/api/v1/prefectures",
        "/nowhere",
        "/api/v1/nowhere",
        "/healthz",
        "/static/app.css",
    ] {
        responses.push((path, c.get(path).await));
    }
    responses.push((
        "POST /api/v1/me",
        c.api("POST", "/api/v1/me", None, &[]).await,
    ));
    for (path, r) in &responses {
        let csp = r
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: CSP"));
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"),
            "{path}: {csp}"
        );
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{path}: no inline script"
        );
        assert!(csp.contains("base-uri 'none'"));
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert!(r.header("referrer-policy").is_some(), "{path}");
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert!(r.header("x-operation-id").is_some(), "{path}");
        if !path.starts_with("/static/") {
            assert_eq!(
                r.header("cache-control"),
                Some("no-store"),
                "{path}: personal data is never cached"
            );
        }
        assert!(
            r.header("strict-transport-security").is_none(),
            "{path}: no HSTS over plain HTTP"
        );
    }
    let page = c.get("/").await;
    assert!(
        !page.body.contains("<script>") && !page.body.contains("onclick="),
        "no inline script"
    );
    assert!(
        page.body.contains("src=\"/static/htmx.min.js"),
        "htmx is served by us"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_pages_show_the_operation_id_that_is_in_the_header() {
    let s = TestServer::start().await;
    let mut c = s.client();
    let r = c.get("/does/not/exist").await;
    assert_eq!(r.status, 404);
    let op = r.header("x-operation-id").unwrap().to_owned();
    assert!(r.body.contains(&op), "the page shows {op}");
    assert!(r.body.contains("ページが見つかりません"));
    let api = c.get("/api/v1/does-not-exist").await;
    assert_eq!(
        api.json()["operation_id"],
        api.header("x-operation-id").unwrap()
    );
    assert_eq!(api.json()["code"], "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_without_a_session() {
    let s = TestServer::start().await;
    let r = s.client().get("/healthz").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");
}
