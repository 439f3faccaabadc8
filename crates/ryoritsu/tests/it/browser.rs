//! Journeys through the pages in headless Chromium, driven over the WebDriver protocol
//! (Debian's `chromium` and `chromium-driver`). Skips, saying so, where they are missing;
//! `.ci/run` installs them.

use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use crate::harness::{DEMO_PASSWORD, TestServer};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn available() -> bool {
    let ok = std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if !ok {
        eprintln!(
            "skipping: browser journeys need {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
        );
    }
    ok
}

impl Driver {
    async fn start() -> Driver {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        // Ready when the driver answers its status endpoint (bounded: 20 s).
        let mut ready = false;
        for _ in 0..200 {
            let answered = http.get(format!("{base}/status")).send().await;
            if answered.is_ok_and(|r| r.status().is_success()) {
                ready = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(ready, "chromedriver did not start");
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                         "--disable-dev-shm-usage", "--no-first-run", "--disable-component-update",
                         "--disable-sync", "--window-size=390,900",
                         format!("--user-data-dir={}", profile.path().display())]
            }
        }}});
        let r: Value = http
            .post(format!("{base}/session"))
            .body(caps.to_string())
            .send()
            .await
            .unwrap()
            .json_value()
            .await;
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_owned();
        Driver {
            child,
            base,
            session,
            http,
            _profile: profile,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut rb = self.http.request(method, url);
        if let Some(b) = body {
            rb = rb.body(b.to_string());
        }
        let v = rb.send().await.unwrap().json_value().await;
        assert!(v["value"].get("error").is_none(), "webdriver {path}: {v}");
        v["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        v[ELEMENT].as_str().unwrap().to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Waits (at most 10 s) until the page holds `text`: a click that submits a form
    /// returns before the next page has loaded.
    async fn wait_for(&self, text: &str) -> String {
        let mut last = String::new();
        for _ in 0..100 {
            last = self.source().await;
            if last.contains(text) {
                return last;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the page never showed {text:?}: {last}");
    }

    /// Waits (at most 10 s) until the address contains `part`.
    async fn wait_url(&self, part: &str) -> String {
        let mut last = String::new();
        for _ in 0..100 {
            last = self.url().await;
            if last.contains(part) {
                return last;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the address never contained {part:?}: {last}");
    }

    async fn clear_cookies(&self) {
        self.call(reqwest::Method::DELETE, "/cookie", None).await;
    }

    async fn sign_in(&self, base: &str, login: &str, password: &str) {
        self.clear_cookies().await;
        self.go(&format!("{base}/login")).await;
        self.type_into("#login", login).await;
        self.type_into("#password", password).await;
        self.click("form[action='/login'] button[type=submit]")
            .await;
        // Signed in: the menu offers to sign out.
        self.wait_for("ログアウト").await;
    }
}

trait JsonBody {
    async fn json_value(self) -> Value;
}

impl JsonBody for reqwest::Response {
    async fn json_value(self) -> Value {
        let text = self.text().await.unwrap();
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_signs_in_sees_home_and_signs_out_in_a_real_browser() {
    if !available() {
        return;
    }
    let s = TestServer::demo().await;
    let d = Driver::start().await;
    d.sign_in(&s.base, "worker", DEMO_PASSWORD).await;
    let home = d.wait_for("田中 太郎 さん、こんにちは").await;
    assert_eq!(
        d.url().await,
        format!("{}/", s.base),
        "signed in and at home"
    );
    assert!(home.contains("これはデモ環境です"));
    d.go(&format!("{}/account", s.base)).await;
    d.wait_for("ログイン中の端末").await;
    d.click("form[action='/logout'] button").await;
    d.wait_for("ログアウトしました").await;
    assert!(d.url().await.ends_with("/login?done=logout"));
    d.go(&format!("{}/", s.base)).await;
    d.wait_for("ログインID").await;
    assert!(
        d.url().await.contains("/login?next="),
        "signed out for good"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_invites_a_worker_who_joins_through_the_link() {
    if !available() {
        return;
    }
    let s = TestServer::demo().await;
    let d = Driver::start().await;
    d.sign_in(&s.base, "admin", DEMO_PASSWORD).await;
    d.go(&format!("{}/organisations", s.base)).await;
    d.wait_for("組織名").await;
    d.click("table a").await;
    d.wait_for("メンバーを招待する").await;
    d.click("select#role option[value='worker']").await;
    d.type_into("#note", "製造部 新入社員").await;
    d.click("form[action$='/invitations'] button[type=submit]")
        .await;
    let page = d.wait_for("招待リンクを発行しました").await;
    let start = page.find("/invitations/").expect("link shown");
    let from = page[..start].rfind('"').expect("link attribute") + 1;
    let link: String = page[from..].split('"').next().unwrap().to_owned();
    assert!(
        link.starts_with("http") && link.contains("/invitations/"),
        "{link}"
    );

    d.clear_cookies().await;
    d.go(&link).await;
    d.wait_for("招待への参加").await;
    d.type_into("#display_name", "新井 一花").await;
    d.type_into("#login", "arai.ichika").await;
    // Long enough for the browser's own check, refused by ours.
    d.type_into("#password", "password1234").await;
    d.click("form button[type=submit]").await;
    let refused = d.wait_for("よく使われていて推測されやすい").await;
    assert!(refused.contains("新井 一花"), "what was typed is kept");
    d.type_into("#password", "sakura-no-kisetsu-2026").await;
    d.click("form button[type=submit]").await;
    // Account made: on to the sign-in page.
    d.wait_url("/login").await;
    d.sign_in(&s.base, "arai.ichika", "sakura-no-kisetsu-2026")
        .await;
    let home = d.wait_for("新井 一花 さん").await;
    assert!(home.contains("労働者（本人）"), "{home}");
}
