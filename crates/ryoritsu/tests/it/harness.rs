//! Test harness: a real server on 127.0.0.1:0 over a throwaway database (SQLite by
//! default; PostgreSQL when `RYORITSU_TEST_POSTGRES_URL` is set), a controllable clock,
//! and a small cookie-keeping HTTP client.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use reqwest::header::HeaderMap;
use ryoritsu::config::{Config, DatabaseUrl};
use ryoritsu::server::{self, WithStore};
use ryoritsu_app::ports::Store;
use ryoritsu_app::testing::ManualClock;
use ryoritsu_app::{App, RandomIds};
use time::macros::datetime;

pub const DEMO_PASSWORD: &str = ryoritsu_app::demo::DEMO_PASSWORD;

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn postgres_url() -> Option<String> {
    std::env::var("RYORITSU_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A throwaway database, dropped at the end of the test.
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        match postgres_url() {
            Some(admin) => {
                let n = COUNTER.fetch_add(1, Ordering::SeqCst);
                let name = format!("ryoritsu_it_{}_{n}", std::process::id());
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
                sqlx::Executor::execute(
                    &mut c,
                    sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")),
                )
                .await
                .unwrap();
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
                TestDb {
                    url: format!("{base}/{name}"),
                    dir,
                    pg: Some((admin, name)),
                }
            }
            None => TestDb {
                url: format!("sqlite://{}", dir.path().join("test.db").display()),
                dir,
                pg: None,
            },
        }
    }

    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.pg.is_none().then(|| self.dir.path().join("test.db"))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            // Dropped on a thread of its own: Drop may run inside a runtime.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    use sqlx::Connection;
                    if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                        let _ = sqlx::Executor::execute(
                            &mut c,
                            sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )),
                        )
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

/// Settings for tests: cheap password hashing, everything else as shipped.
pub fn test_config(url: &str) -> Config {
    let mut c = Config {
        database_url: DatabaseUrl::new(url),
        ..Config::default()
    };
    c.password.memory_kib = 256;
    c.password.iterations = 1;
    c
}

pub struct TestServer {
    pub base: String,
    pub clock: Arc<ManualClock>,
    pub db: TestDb,
    pub config: Config,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

struct Launch {
    cfg: Config,
    clock: Arc<ManualClock>,
    seed_demo: bool,
    tx: tokio::sync::oneshot::Sender<Result<(String, tokio::sync::oneshot::Sender<()>), String>>,
}

impl WithStore for Launch {
    type Output = ();
    async fn run<S: Store + ryoritsu_app::conformance::Tamper>(
        self,
        store: S,
    ) -> Result<(), String> {
        server::migrate(&store).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let (app, running): (App<S>, _) = server::start(
            store,
            &self.cfg,
            listener,
            self.clock.clone(),
            Arc::new(RandomIds),
        )
        .await?;
        if self.seed_demo {
            app.seed_demo().await.map_err(|e| e.to_string())?;
        }
        let _ = self
            .tx
            .send(Ok((format!("http://{}", running.addr), running.stop)));
        let _ = running.done.await;
        Ok(())
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(false, |_| {}).await
    }

    pub async fn demo() -> TestServer {
        TestServer::start_with(true, |c| c.demo = true).await
    }

    pub async fn start_with(seed_demo: bool, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let db = TestDb::new().await;
        let mut cfg = test_config(&db.url);
        tweak(&mut cfg);
        let clock = Arc::new(ManualClock::new(datetime!(2026-04-01 00:00 UTC)));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let launch = Launch {
            cfg: cfg.clone(),
            clock: clock.clone(),
            seed_demo,
            tx,
        };
        let url = cfg.database_url.clone();
        tokio::spawn(async move {
            if let Err(e) = server::with_store(&url, launch).await {
                eprintln!("test server failed: {e}");
            }
        });
        let (base, stop) = rx.await.expect("server started").expect("server ready");
        TestServer {
            base,
            clock,
            db,
            config: cfg,
            stop: Some(stop),
        }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// Creates an account from the command line's use case, with a role.
    pub async fn operator_client(&self) -> Client {
        let mut c = self.client();
        c.api_sign_in("operator", DEMO_PASSWORD).await;
        c
    }

    /// Someone outside the demo world: the operator registers a new organisation of `kind`
    /// and invites `login` to it as `role`; the newcomer accepts and is signed in (API).
    pub async fn newcomer(
        &self,
        (kind, name): (&str, &str),
        role: &str,
        (login, display_name, password): (&str, &str, &str),
    ) -> Client {
        let mut op = self.operator_client().await;
        let org = op
            .api(
                "POST",
                "/api/v1/organisations",
                Some(serde_json::json!({"kind": kind, "name": name, "prefecture": "13"})),
                &[],
            )
            .await;
        assert_eq!(org.status, 201, "{}", org.body);
        let org = org.json()["id"].as_str().unwrap().to_owned();
        let inv = op
            .api(
                "POST",
                &format!("/api/v1/organisations/{org}/invitations"),
                Some(serde_json::json!({"role": role})),
                &[],
            )
            .await;
        assert_eq!(inv.status, 201, "{}", inv.body);
        let link = inv.json()["link"].as_str().unwrap().to_owned();
        let token = link.rsplit('/').next().unwrap().to_owned();
        let accepted = self
            .client()
            .api(
                "POST",
                &format!("/api/v1/invitations/{token}/accept"),
                Some(serde_json::json!({"login": login, "display_name": display_name, "password": password})),
                &[],
            )
            .await;
        assert_eq!(accepted.status, 201, "{}", accepted.body);
        let mut c = self.client();
        assert_eq!(c.api_sign_in(login, password).await.status, 200);
        c
    }
}

pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The value of a hidden CSRF field on a page.
    pub fn csrf_field(&self) -> String {
        let marker = "name=\"csrf_token\" value=\"";
        let i = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no csrf field in {}", self.body))
            + marker.len();
        self.body[i..].split('"').next().unwrap().to_owned()
    }
}

/// An HTTP client that keeps cookies like a browser and sends `Origin` on writes.
pub struct Client {
    pub base: String,
    http: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
    /// The session's CSRF token, when known.
    pub csrf: Option<String>,
    pub origin: Option<String>,
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            csrf: None,
            origin: Some(base.to_owned()),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn session_cookie(&self) -> Option<&String> {
        self.cookies.get("ryoritsu")
    }

    async fn finish(&mut self, r: reqwest::Response) -> Resp {
        for v in r.headers().get_all("set-cookie") {
            let s = v.to_str().unwrap();
            let first = s.split(';').next().unwrap();
            let (k, val) = first.split_once('=').unwrap();
            if val.is_empty() || s.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.text().await.unwrap();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self
            .http
            .request(m.clone(), format!("{}{}", self.base, path));
        if !self.cookies.is_empty() {
            rb = rb.header("cookie", self.cookie_header());
        }
        if m != reqwest::Method::GET
            && let Some(o) = &self.origin
        {
            rb = rb.header("origin", o);
        }
        if let Some(ct) = content_type {
            rb = rb.header("content-type", ct);
        }
        for (k, v) in extra {
            rb = rb.header(*k, *v);
        }
        let r = rb.body(body).send().await.unwrap();
        self.finish(r).await
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.request("GET", path, None, Vec::new(), &[]).await
    }

    /// A form post, as a browser sends it (the page's token must be among the fields).
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.request(
            "POST",
            path,
            Some("application/x-www-form-urlencoded"),
            body.into_bytes(),
            &[],
        )
        .await
    }

    /// A JSON call with the session's CSRF token.
    pub async fn api(
        &mut self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let token = self.csrf.clone().unwrap_or_default();
        let mut headers: Vec<(&str, &str)> = vec![("x-csrf-token", token.as_str())];
        headers.extend_from_slice(extra);
        let (ct, bytes) = match body {
            Some(b) => (Some("application/json"), serde_json::to_vec(&b).unwrap()),
            None => (None, Vec::new()),
        };
        self.request(method, path, ct, bytes, &headers).await
    }

    /// Signs in through the API, keeping the session cookie and CSRF token.
    pub async fn api_sign_in(&mut self, login: &str, password: &str) -> Resp {
        let r = self
            .request(
                "POST",
                "/api/v1/auth/sign-in",
                Some("application/json"),
                serde_json::to_vec(&serde_json::json!({ "login": login, "password": password }))
                    .unwrap(),
                &[],
            )
            .await;
        if r.status == 200 {
            self.csrf = r.json()["csrf_token"].as_str().map(str::to_owned);
        }
        r
    }

    /// Signs in through the pages, as a person would.
    pub async fn page_sign_in(&mut self, login: &str, password: &str) -> Resp {
        let page = self.get("/login").await;
        let token = page.csrf_field();
        self.post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("login", login),
                ("password", password),
                ("next", "/"),
            ],
        )
        .await
    }
}

pub fn enc(s: &str) -> String {
    percent_encoding_lite(s)
}

fn percent_encoding_lite(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// True when the text contains Japanese (kana or kanji).
pub fn has_japanese(s: &str) -> bool {
    s.chars()
        .any(|c| matches!(c as u32, 0x3040..=0x30FF | 0x4E00..=0x9FFF))
}

/// The current TOTP code for a base32 secret at the server's clock.
pub fn totp_code(secret_b32: &str, clock: &ManualClock) -> String {
    use ryoritsu_app::ports::Clock;
    let secret = ryoritsu_domain::totp::decode_secret(&secret_b32.replace(' ', "")).unwrap();
    let step = ryoritsu_domain::totp::step_of(clock.now().unix_timestamp());
    format!("{:06}", ryoritsu_domain::totp::hotp(&secret, step as u64))
}

/// Runs the `ryoritsu` binary with the test database.
pub fn cli(
    db_url: &str,
    dir: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
) -> (i32, String, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_ryoritsu"))
        .args(args)
        .current_dir(dir)
        .env("RYORITSU_DATABASE_URL", db_url)
        .env("RYORITSU_PASSWORD__MEMORY_KIB", "256")
        .env("RYORITSU_PASSWORD__ITERATIONS", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

struct AuditRows;

impl WithStore for AuditRows {
    type Output = Vec<ryoritsu_domain::audit::AuditRecord>;
    async fn run<S: Store + ryoritsu_app::conformance::Tamper>(
        self,
        store: S,
    ) -> Result<Self::Output, String> {
        use ryoritsu_app::ports::ReadRepo;
        let mut c = store.read().await.map_err(|e| e.to_string())?;
        c.audit_records(0, 1_000_000)
            .await
            .map_err(|e| e.to_string())
    }
}

/// The worker names `manager` (signed in) as the 所属長 of their case.
pub async fn name_line_manager(worker: &mut Client, manager: &mut Client, case: &str) {
    let me = manager.get("/api/v1/me").await.json();
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/parties"),
            Some(serde_json::json!({
                "kind": "line_manager",
                "organisation_id": me["memberships"][0]["organisation_id"],
                "user_id": me["id"],
            })),
            &[],
        )
        .await;
    assert!(
        r.status == 204 || r.status == 409,
        "{}: {}",
        r.status,
        r.body
    );
}

/// Every audit record of a test database, read directly.
pub async fn audit_records(url: &str) -> Vec<ryoritsu_domain::audit::AuditRecord> {
    server::with_store(&DatabaseUrl::new(url.to_owned()), AuditRows)
        .await
        .unwrap()
}
