//! Sign-in, sessions, throttling and the second factor over HTTP.

use time::Duration;

use crate::harness::{Client, DEMO_PASSWORD, TestServer, totp_code};

/// Demo people, but a normal server: professionals must use a second factor.
async fn server() -> TestServer {
    TestServer::start_with(true, |_| {}).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_issues_a_new_session_id_each_time() {
    let s = server().await;
    let mut c = s.client();
    // A cookie planted before sign-in (session fixation) is never adopted.
    c.cookies.insert("ryoritsu".into(), "a".repeat(64));
    let first = c.page_sign_in("worker", DEMO_PASSWORD).await;
    assert_eq!(first.status, 303);
    let id1 = c.session_cookie().cloned().unwrap();
    assert_ne!(id1, "a".repeat(64));
    assert_ne!(Some(&id1), c.cookies.get("ryoritsu-pre"));
    // Signing in again (say, after closing the browser) gives yet another id.
    c.cookies.remove("ryoritsu");
    let again = c.page_sign_in("worker", DEMO_PASSWORD).await;
    assert_eq!(again.status, 303);
    let id2 = c.session_cookie().cloned().unwrap();
    assert_ne!(id1, id2);
    assert_eq!(c.get("/api/v1/me").await.status, 200);
    let cookie = first.header("set-cookie").unwrap_or_default().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_deployments_get_host_prefixed_secure_cookies() {
    let s = TestServer::start_with(true, |c| {
        c.public_origin = Some("https://ryoritsu.example.jp".into())
    })
    .await;
    let mut c = s.client();
    c.origin = Some("https://ryoritsu.example.jp".into());
    let page = c.get("/login").await;
    let pre = page.header("set-cookie").unwrap().to_owned();
    assert!(
        pre.starts_with("__Host-ryoritsu-pre=") && pre.contains("; Secure"),
        "{pre}"
    );
    assert!(
        page.header("strict-transport-security")
            .is_some_and(|h| h.contains("max-age="))
    );
    let token = page.csrf_field();
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
    assert_eq!(r.status, 303, "{}", r.body);
    let set = r.header("set-cookie").unwrap();
    assert!(
        set.starts_with("__Host-ryoritsu=") && set.contains("; Secure") && set.contains("HttpOnly"),
        "{set}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_after_thirty_idle_minutes() {
    let s = server().await;
    let mut c = s.client();
    c.api_sign_in("worker", DEMO_PASSWORD).await;
    s.clock.advance(Duration::minutes(29));
    assert_eq!(
        c.get("/api/v1/me").await.status,
        200,
        "still active at 29 minutes"
    );
    s.clock.advance(Duration::minutes(31));
    let r = c.get("/api/v1/me").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["code"], "unauthenticated");
    // Pages send the person to the sign-in page.
    let mut c2 = s.client();
    c2.page_sign_in("worker", DEMO_PASSWORD).await;
    s.clock.advance(Duration::minutes(30));
    let page = c2.get("/account").await;
    assert_eq!(page.status, 303);
    assert!(page.header("location").unwrap().starts_with("/login?next="));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_twelve_hours_after_sign_in_however_active() {
    let s = server().await;
    let mut c = s.client();
    c.api_sign_in("worker", DEMO_PASSWORD).await;
    for _ in 0..24 {
        s.clock.advance(Duration::minutes(29));
        assert_eq!(c.get("/api/v1/me").await.status, 200);
    }
    s.clock.advance(Duration::minutes(29));
    assert_eq!(c.get("/api/v1/me").await.status, 401, "past 12 hours");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_ends_the_session_for_good() {
    let s = server().await;
    let mut c = s.client();
    c.page_sign_in("worker", DEMO_PASSWORD).await;
    let stolen = c.session_cookie().cloned().unwrap();
    let home = c.get("/").await;
    let token = home.csrf_field();
    let out = c.post_form("/logout", &[("csrf_token", &token)]).await;
    assert_eq!(out.status, 303);
    assert!(c.session_cookie().is_none(), "cookie cleared");
    let mut replay = Client::new(&s.base);
    replay.cookies.insert("ryoritsu".into(), stolen);
    assert_eq!(
        replay.get("/api/v1/me").await.status,
        401,
        "the old id no longer works"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_are_slowed_down_but_never_locked_for_good() {
    let s = server().await;
    let mut c = s.client();
    for _ in 0..5 {
        let r = c.api_sign_in("worker", "not-the-right-password").await;
        assert_eq!(r.status, 401);
    }
    let r = c.api_sign_in("worker", DEMO_PASSWORD).await;
    assert_eq!(r.status, 429, "the sixth attempt must wait: {}", r.body);
    assert_eq!(r.json()["code"], "too_many_attempts");
    assert!(r.header("retry-after").is_some());
    // The page says the same in Japanese.
    let page = c.page_sign_in("worker", DEMO_PASSWORD).await;
    assert_eq!(page.status, 429);
    assert!(page.body.contains("試行回数が多すぎます"));
    s.clock.advance(Duration::seconds(2));
    assert_eq!(
        c.api_sign_in("worker", DEMO_PASSWORD).await.status,
        200,
        "back-off ends"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_known_names_get_the_same_answer() {
    let s = server().await;
    let mut c = s.client();
    let unknown = c.api_sign_in("nobody-at-all", "some-password-123").await;
    let known = c.api_sign_in("worker", "some-password-123").await;
    let strip = |r: &crate::harness::Resp| {
        let mut v = r.json();
        v.as_object_mut().unwrap().remove("operation_id");
        v
    };
    assert_eq!(unknown.status, known.status);
    assert_eq!(strip(&unknown), strip(&known));
    let mut p = s.client();
    let a = p.page_sign_in("nobody-at-all", "some-password-123").await;
    let b = p.page_sign_in("worker", "some-password-123").await;
    assert_eq!(a.status, b.status);
    assert!(
        a.body.contains("ログインIDまたはパスワード")
            && b.body.contains("ログインIDまたはパスワード")
    );
}

fn secret_from_page(body: &str) -> String {
    let marker = "<p class=\"mono\">";
    let i = body.find(marker).expect("secret shown") + marker.len();
    body[i..].split('<').next().unwrap().replace(' ', "")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn professionals_need_a_second_factor_and_a_used_code_is_refused() {
    let s = server().await;
    let mut c = s.client();
    let r = c.api_sign_in("jinji", DEMO_PASSWORD).await;
    assert_eq!(r.json()["next"], "enrol_second_factor");
    let blocked = c.api("GET", "/api/v1/organisations", None, &[]).await;
    assert_eq!(blocked.status, 403);
    assert_eq!(blocked.json()["code"], "second_factor_required");
    let home = c.get("/").await;
    assert_eq!(home.status, 303);
    assert_eq!(home.header("location"), Some("/account/two-factor"));

    // Enrol through the page.
    let setup = c.get("/account/two-factor").await;
    assert_eq!(setup.status, 200);
    assert!(setup.body.contains("<svg"), "QR code shown");
    let secret = secret_from_page(&setup.body);
    let before = c.session_cookie().cloned();
    let code = totp_code(&secret, &s.clock);
    let done = c
        .post_form(
            "/account/two-factor",
            &[("csrf_token", &setup.csrf_field()), ("code", &code)],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("回復コード"));
    assert_ne!(
        before,
        c.session_cookie().cloned(),
        "a new session id after the second factor"
    );
    assert_eq!(c.get("/").await.status, 200);

    // Next sign-in asks for a code; the code already used is refused.
    let mut c2 = s.client();
    assert_eq!(
        c2.api_sign_in("jinji", DEMO_PASSWORD).await.json()["next"],
        "second_factor"
    );
    let reused = c2
        .api(
            "POST",
            "/api/v1/auth/second-factor",
            Some(serde_json::json!({ "code": code })),
            &[],
        )
        .await;
    assert_eq!(reused.status, 422, "{}", reused.body);
    assert_eq!(reused.json()["fields"][0]["code"], "totp_reused");
    s.clock.advance(Duration::seconds(30));
    let fresh = totp_code(&secret, &s.clock);
    let ok = c2
        .api(
            "POST",
            "/api/v1/auth/second-factor",
            Some(serde_json::json!({ "code": fresh })),
            &[],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    c2.csrf = ok.json()["csrf_token"].as_str().map(str::to_owned);
    assert_eq!(
        c2.api("GET", "/api/v1/organisations", None, &[])
            .await
            .status,
        200
    );

    let mut c3 = s.client();
    c3.api_sign_in("jinji", DEMO_PASSWORD).await;
    let again = c3
        .api(
            "POST",
            "/api/v1/auth/second-factor",
            Some(serde_json::json!({ "code": fresh })),
            &[],
        )
        .await;
    assert_eq!(again.status, 422, "a code works once");
    let wrong = c3
        .api(
            "POST",
            "/api/v1/auth/second-factor",
            Some(serde_json::json!({ "code": "000000" })),
            &[],
        )
        .await;
    assert!(
        wrong.status == 401 || wrong.status == 422,
        "{}",
        wrong.status
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_need_no_second_factor() {
    let s = server().await;
    let mut c = s.client();
    assert_eq!(
        c.api_sign_in("worker", DEMO_PASSWORD).await.json()["next"],
        "done"
    );
    assert_eq!(c.get("/").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_ends_every_session() {
    let s = server().await;
    let mut a = s.client();
    let mut b = s.client();
    a.page_sign_in("worker", DEMO_PASSWORD).await;
    b.api_sign_in("worker", DEMO_PASSWORD).await;
    let page = a.get("/account").await;
    let weak = a
        .post_form(
            "/account/password",
            &[
                ("csrf_token", &page.csrf_field()),
                ("current_password", DEMO_PASSWORD),
                ("new_password", "password1234"),
            ],
        )
        .await;
    assert_eq!(weak.status, 422);
    assert!(weak.body.contains("よく使われていて"));
    let r = a
        .post_form(
            "/account/password",
            &[
                ("csrf_token", &page.csrf_field()),
                ("current_password", DEMO_PASSWORD),
                ("new_password", "kawa-no-nagare-2026"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(a.get("/api/v1/me").await.status, 401);
    assert_eq!(
        b.get("/api/v1/me").await.status,
        401,
        "the other device is signed out too"
    );
    assert_eq!(
        s.client()
            .api_sign_in("worker", "kawa-no-nagare-2026")
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_can_list_and_end_their_own_sessions() {
    let s = server().await;
    let mut a = s.client();
    let mut b = s.client();
    a.api_sign_in("worker", DEMO_PASSWORD).await;
    b.api_sign_in("worker", DEMO_PASSWORD).await;
    let list = a.api("GET", "/api/v1/me/sessions", None, &[]).await.json();
    let sessions = list.as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    let other = sessions.iter().find(|s| s["current"] == false).unwrap()["handle"]
        .as_str()
        .unwrap()
        .to_owned();
    let ended = a
        .api("DELETE", &format!("/api/v1/me/sessions/{other}"), None, &[])
        .await;
    assert_eq!(ended.status, 204);
    assert_eq!(b.get("/api/v1/me").await.status, 401);
    assert_eq!(a.get("/api/v1/me").await.status, 200);
    let missing = a
        .api("DELETE", "/api/v1/me/sessions/nonexistent", None, &[])
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_ends_every_session_of_the_person() {
    let s = TestServer::demo().await;
    let mut worker = s.client();
    worker.api_sign_in("worker", DEMO_PASSWORD).await;
    let me = worker.get("/api/v1/me").await.json();
    let id = me["id"].as_str().unwrap().to_owned();
    let mut admin = s.client();
    admin.api_sign_in("admin", DEMO_PASSWORD).await;
    let key = [("idempotency-key", "deactivate-worker-1")];
    let r = admin
        .api(
            "POST",
            &format!("/api/v1/users/{id}/deactivate"),
            None,
            &key,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let before = crate::harness::audit_records(&s.db.url).await.len();
    let again = admin
        .api(
            "POST",
            &format!("/api/v1/users/{id}/deactivate"),
            None,
            &key,
        )
        .await;
    assert_eq!(again.status, 204);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        crate::harness::audit_records(&s.db.url).await.len(),
        before,
        "nothing written twice"
    );
    assert_eq!(worker.get("/api/v1/me").await.status, 401);
    assert_eq!(
        s.client().api_sign_in("worker", DEMO_PASSWORD).await.status,
        401
    );
    // Someone from another organisation cannot even see the account.
    let mut doctor = s.client();
    doctor.api_sign_in("doctor", DEMO_PASSWORD).await;
    let me2 = doctor.get("/api/v1/me").await.json();
    let r = admin
        .api(
            "POST",
            &format!("/api/v1/users/{}/deactivate", me2["id"].as_str().unwrap()),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 404);
}

/// Enrols a second factor through the page for a client signed in with its password.
async fn enrol(s: &TestServer, c: &mut Client) -> String {
    let setup = c.get("/account/two-factor").await;
    assert_eq!(setup.status, 200, "{}", setup.body);
    let secret = secret_from_page(&setup.body);
    let code = totp_code(&secret, &s.clock);
    let done = c
        .post_form(
            "/account/two-factor",
            &[("csrf_token", &setup.csrf_field()), ("code", &code)],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    s.clock.advance(Duration::seconds(30));
    secret
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_alone_cannot_replace_an_existing_second_factor() {
    let s = server().await;
    let mut owner = s.client();
    owner.page_sign_in("jinji", DEMO_PASSWORD).await;
    enrol(&s, &mut owner).await;

    // Someone who knows only the password.
    let mut thief = s.client();
    let r = thief.page_sign_in("jinji", DEMO_PASSWORD).await;
    assert_eq!(r.header("location"), Some("/login/second-factor"));
    let setup = thief.get("/account/two-factor").await;
    assert_eq!(setup.status, 303, "no new enrolment before the code");
    assert_eq!(setup.header("location"), Some("/login/second-factor"));
    let page = thief.get("/login/second-factor").await;
    let forged = thief
        .post_form(
            "/account/two-factor",
            &[("csrf_token", &page.csrf_field()), ("code", "123456")],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(thief.get("/").await.status, 303, "still not signed in");
    let denials = crate::harness::audit_records(&s.db.url)
        .await
        .into_iter()
        .filter(|r| r.event.action == ryoritsu_domain::audit::AuditAction::AccessDenied)
        .count();
    assert!(denials >= 1, "the refusal is in the audit log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_who_set_up_a_second_factor_is_asked_for_it() {
    let s = server().await;
    let mut c = s.client();
    c.page_sign_in("worker", DEMO_PASSWORD).await;
    let secret = enrol(&s, &mut c).await;
    let mut again = s.client();
    assert_eq!(
        again.api_sign_in("worker", DEMO_PASSWORD).await.json()["next"],
        "second_factor"
    );
    let code = totp_code(&secret, &s.clock);
    let r = again
        .api(
            "POST",
            "/api/v1/auth/second-factor",
            Some(serde_json::json!({ "code": code })),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ending_a_session_from_the_page_works_with_htmx_and_without() {
    let s = server().await;
    let mut a = s.client();
    let mut b = s.client();
    let mut c3 = s.client();
    a.page_sign_in("worker", DEMO_PASSWORD).await;
    b.api_sign_in("worker", DEMO_PASSWORD).await;
    c3.api_sign_in("worker", DEMO_PASSWORD).await;
    let page = a.get("/account").await;
    let token = page.csrf_field();
    let handles: Vec<String> = page
        .body
        .match_indices("/account/sessions/")
        .map(|(i, _)| page.body[i + 18..].split('/').next().unwrap().to_owned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(handles.len(), 2, "the two other devices");
    // htmx: the token travels in the header, the answer is the row to swap in.
    let r = a
        .request(
            "POST",
            &format!("/account/sessions/{}/end", handles[0]),
            None,
            Vec::new(),
            &[("hx-request", "true"), ("x-csrf-token", &token)],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("この端末はログアウトしました"));
    assert!(!r.body.contains("<html"), "a fragment, not a page");
    // Plain form post.
    let r = a
        .post_form(
            &format!("/account/sessions/{}/end", handles[1]),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(b.get("/api/v1/me").await.status, 401);
    assert_eq!(c3.get("/api/v1/me").await.status, 401);
    assert_eq!(a.get("/api/v1/me").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_stops_a_members_account_from_the_organisation_page() {
    let s = TestServer::demo().await;
    let mut worker2 = s.client();
    worker2.api_sign_in("worker2", DEMO_PASSWORD).await;
    let id = worker2.get("/api/v1/me").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut admin = s.client();
    admin.page_sign_in("admin", DEMO_PASSWORD).await;
    let org = admin.get("/api/v1/me").await.json()["memberships"][0]["organisation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = admin.get(&format!("/organisations/{org}")).await;
    assert!(
        page.body.contains(&format!("/users/{id}/deactivate")),
        "a button per member"
    );
    let r = admin
        .post_form(
            &format!("/organisations/{org}/users/{id}/deactivate"),
            &[("csrf_token", &page.csrf_field())],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let after = admin.get(r.header("location").unwrap()).await;
    assert!(after.body.contains("利用を停止しました"));
    assert!(after.body.contains("無効"));
    assert_eq!(worker2.get("/api/v1/me").await.status, 401);
}
