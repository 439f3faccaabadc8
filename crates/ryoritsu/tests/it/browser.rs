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

    /// Sets an input's value directly: date and time inputs take typed keys in the
    /// browser's locale order, which a test should not depend on.
    async fn set_value(&self, css: &str, value: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({
                "script": "arguments[0].value = arguments[1];",
                "args": [{ ELEMENT: e }, value]
            })),
        )
        .await;
    }

    /// Saves what the window shows as a PNG file.
    async fn screenshot(&self, path: &std::path::Path) {
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64_decode(v.as_str().expect("a base64 screenshot"));
        std::fs::write(path, png).unwrap();
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

/// Standard base64 (with or without padding) to bytes; no crate needed for one use.
fn base64_decode(text: &str) -> Vec<u8> {
    let sextet = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .map(sextet)
        .collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut n: u32 = 0;
        for (i, d) in chunk.iter().enumerate() {
            n |= u32::from(*d) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
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

/// Numbered screenshots of one journey, one a step, in one folder.
struct Shots {
    dir: std::path::PathBuf,
    taken: Vec<std::path::PathBuf>,
}

impl Shots {
    /// The folder is `RYORITSU_TEST_SCREENSHOTS` if set, else `ryoritsu-journey-<pid>` in the
    /// temporary directory; screenshots of an earlier run there are removed first.
    fn new() -> Shots {
        let dir = std::env::var_os("RYORITSU_TEST_SCREENSHOTS")
            .filter(|s| !s.is_empty())
            .map_or_else(
                || std::env::temp_dir().join(format!("ryoritsu-journey-{}", std::process::id())),
                std::path::PathBuf::from,
            );
        std::fs::create_dir_all(&dir).unwrap();
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let ours = name.len() > 7
                && name.as_bytes()[..2].iter().all(u8::is_ascii_digit)
                && name.as_bytes()[2] == b'-'
                && name.ends_with(".png");
            if ours {
                std::fs::remove_file(e.path()).unwrap();
            }
        }
        println!("screenshots: {}", dir.display());
        Shots {
            dir,
            taken: Vec::new(),
        }
    }

    async fn take(&mut self, d: &Driver, name: &str) {
        let path = self
            .dir
            .join(format!("{:02}-{name}.png", self.taken.len() + 1));
        d.screenshot(&path).await;
        self.taken.push(path);
    }
}

/// Clicks the submit button of the case page's form for `step` (and `by`, where given).
async fn take_step(d: &Driver, step: &str, by: Option<&str>) {
    let by = by.map_or_else(String::new, |b| {
        format!(":has(input[name='by'][value='{b}'])")
    });
    d.click(&format!(
        "form[action$='/steps']:has(input[name='step'][value='{step}']){by} button[type=submit]"
    ))
    .await;
}

/// Waits until the case page's status badge reads `status`.
async fn wait_status(d: &Driver, status: &str) -> String {
    d.wait_for(&format!("{status}</span></dd>")).await
}

/// The `value` of the `<option>` whose label starts with `label`.
fn option_value(page: &str, label: &str) -> String {
    let at = page
        .find(&format!("\">{label}"))
        .unwrap_or_else(|| panic!("no option {label:?} in {page}"));
    let from = page[..at].rfind("value=\"").expect("an option value") + "value=\"".len();
    page[from..at].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_people_take_a_continuation_case_from_request_to_plan_in_a_real_browser() {
    if !available() {
        return;
    }
    let mut shots = Shots::new();
    let s = TestServer::demo().await;
    let d = Driver::start().await;
    let base = s.base.as_str();

    // 1. 佐藤さん (worker2) files a 就業継続 申出 at the 本社工場, which has a 産業医.
    d.sign_in(base, "worker2", DEMO_PASSWORD).await;
    d.go(&format!("{base}/cases")).await;
    let list = d.wait_for("両立支援を申し出る").await;
    let workplace = option_value(&list, "本社工場");
    d.click(&format!("select#workplace option[value='{workplace}']"))
        .await;
    d.click("input[name='path'][value='continuation']").await;
    d.click("form[action='/cases'] button[type=submit]").await;
    let filed = d.wait_url("?done=filed").await;
    let case_url = filed.split('?').next().unwrap().to_owned();
    let case = case_url.rsplit('/').next().unwrap().to_owned();
    let page = d.wait_for("申出を受け付けました").await;
    assert!(page.contains("申出受付</span></dd>"), "{page}");
    shots.take(&d, "worker2-files-request").await;

    // 2. HR drafts the 勤務情報提供書 on the document page.
    d.sign_in(base, "jinji", DEMO_PASSWORD).await;
    d.go(&case_url).await;
    d.wait_for("勤務情報提供書を作成する").await;
    d.click(&format!(
        "a[href='/cases/{case}/documents/new?form=work_information']"
    ))
    .await;
    d.wait_for("name=\"occupation\"").await;
    d.type_into("#f-occupation", "営業事務").await;
    d.type_into(
        "#f-job_description-details",
        "本社2階の事務所で受発注の入力と電話応対。",
    )
    .await;
    d.click("input[name='work_pattern.pattern'][value='day_shift']")
        .await;
    d.set_value("#f-work_hours-start", "09:00").await;
    d.set_value("#f-work_hours-end", "17:30").await;
    d.type_into("#f-work_hours-days_per_week", "5").await;
    d.click("input[name='occupational_physician'][value='true']")
        .await;
    d.click("form[action$='/documents'] button.btn-secondary[type=submit]")
        .await;
    d.wait_url("?done=saved").await;
    let saved = d.wait_for("下書きを保存しました").await;
    assert!(saved.contains("営業事務"), "{saved}");
    shots.take(&d, "hr-drafts-work-information").await;

    // 3. HR records the draft, then confirms it as the 会社.
    d.go(&case_url).await;
    d.wait_for("勤務情報提供書を作成済みにする").await;
    take_step(&d, "draft_work_information", None).await;
    wait_status(&d, "勤務情報提供書の作成中").await;
    shots.take(&d, "hr-records-work-information").await;
    take_step(&d, "confirm_work_information", Some("employer")).await;
    wait_status(&d, "本人・会社の確認待ち").await;
    shots.take(&d, "hr-confirms-as-employer").await;

    // 4. 佐藤さん confirms as 本人 and finalises the document with her signature.
    d.sign_in(base, "worker2", DEMO_PASSWORD).await;
    d.go(&case_url).await;
    d.wait_for("勤務情報提供書の確認（本人として）").await;
    take_step(&d, "confirm_work_information", Some("worker")).await;
    wait_status(&d, "主治医への提出待ち").await;
    shots.take(&d, "worker2-confirms-as-worker").await;
    d.click(&format!("a[href^='/cases/{case}/documents/']"))
        .await;
    d.wait_for("確定すると内容を変更できなくなります。").await;
    d.type_into("#f-employee_name", "佐藤 美咲").await;
    d.set_value("#f-worker_confirmation-date", "2026-04-01")
        .await;
    d.type_into("#f-worker_confirmation-name", "佐藤 美咲")
        .await;
    d.click("button[formaction$='/finalise']").await;
    d.wait_url("?done=finalised").await;
    let fin = d.wait_for("確定日時").await;
    assert!(fin.contains("佐藤 美咲"), "{fin}");
    assert!(
        !fin.contains("<textarea"),
        "a finalised document has no inputs"
    );
    shots.take(&d, "worker2-finalises-work-information").await;

    // 5. She issues a share code for her 主治医's hospital.
    d.go(&case_url).await;
    d.wait_for("共有コードを発行する").await;
    d.click(&format!("form[action='/cases/{case}/share-code'] button"))
        .await;
    let issued = d.wait_for("id=\"share-code\">").await;
    let marker = "id=\"share-code\">";
    let from = issued.find(marker).unwrap() + marker.len();
    let code = issued[from..].split('<').next().unwrap().to_owned();
    assert_eq!(code.len(), 14, "{code}");
    shots.take(&d, "worker2-issues-share-code").await;

    // 6. The 主治医 enters the code at the hospital and joins the case.
    d.sign_in(base, "doctor", DEMO_PASSWORD).await;
    d.go(&format!("{base}/cases")).await;
    d.wait_for("共有コードを入力する").await;
    d.click("a[href='/share']").await;
    d.wait_for("共有コードの入力").await;
    d.type_into("#code", &code).await;
    d.click("form[action='/share'] button[type=submit]").await;
    d.wait_url("?done=shared").await;
    let joined = d.wait_for("医療機関として参加しました").await;
    assert!(
        !joined.contains("勤務情報提供書（"),
        "nothing is shown before consent"
    );
    shots.take(&d, "doctor-redeems-share-code").await;

    // 7. 佐藤さん lets the hospital's 主治医 see her work information: the form, the
    //    explanation, then 「同意する」. The hospital is on offer only once it has joined.
    d.sign_in(base, "worker2", DEMO_PASSWORD).await;
    d.go(&case_url).await;
    d.wait_for("都立さくら総合病院").await;
    d.click(&format!("a[href='/cases/{case}/consents']")).await;
    d.wait_for("新しく同意する").await;
    d.click("select#recipient option[value$=':attending_physician']")
        .await;
    d.click("input[name='categories'][value='work_information']")
        .await;
    d.type_into("#purpose", "主治医意見書の作成のため").await;
    d.click("form[action$='/consents'] button[type=submit]")
        .await;
    let confirm = d.wait_for("同意の内容の確認").await;
    assert!(confirm.contains("都立さくら総合病院の主治医"), "{confirm}");
    assert!(confirm.contains("勤務に関する情報"), "{confirm}");
    shots.take(&d, "worker2-reads-consent-explanation").await;
    d.click("button[name='confirm'][value='yes']").await;
    d.wait_url("?done=granted").await;
    let granted = d.wait_for("同意を登録しました").await;
    assert!(granted.contains("主治医意見書の作成のため"));
    shots.take(&d, "worker2-grants-consent").await;

    // 8. She records handing the 勤務情報提供書 to her 主治医 (the task is hers).
    d.go(&case_url).await;
    d.wait_for("勤務情報提供書を主治医に渡した").await;
    take_step(&d, "hand_to_physician", None).await;
    wait_status(&d, "主治医意見書の依頼中").await;
    shots.take(&d, "worker2-hands-to-physician").await;

    // 9. The 主治医 reads the work information and writes the 主治医意見書: 条件付きで可.
    d.sign_in(base, "doctor", DEMO_PASSWORD).await;
    d.go(&case_url).await;
    let d_case = d.wait_for("主治医意見書（就業継続）を作成する").await;
    assert!(d_case.contains("勤務情報提供書（"), "consented: {d_case}");
    d.click(&format!(
        "a[href='/cases/{case}/documents/new?form=continuation_opinion']"
    ))
    .await;
    let blank = d.wait_for("name=\"diagnosis\"").await;
    // The new opinion starts from the 勤務情報提供書: the patient's name is there already.
    assert!(
        blank.contains("id=\"f-patient_name\" name=\"patient_name\" value=\"佐藤 美咲\""),
        "the opinion is prefilled from the work information"
    );
    d.type_into("#f-diagnosis", "乳がん（術後）").await;
    d.type_into(
        "#f-treatment_plan",
        "術後の放射線治療のため、5週間、平日に毎日通院。",
    )
    .await;
    d.click("input[name='fitness_for_work'][value='fit_with_conditions']")
        .await;
    d.type_into(
        "#f-work_measures",
        "通院のため終業を1時間早める。重いものを持たない。",
    )
    .await;
    d.set_value("#f-physician_signature-date", "2026-04-01")
        .await;
    d.type_into("#f-physician_signature-name", "伊藤 健一")
        .await;
    d.click("form[action$='/documents'] button.btn-secondary[type=submit]")
        .await;
    d.wait_url("?done=saved").await;
    d.wait_for("下書きを保存しました").await;
    shots.take(&d, "doctor-drafts-opinion").await;
    d.click("button[formaction$='/finalise']").await;
    d.wait_url("?done=finalised").await;
    let opinion = d.wait_for("確定日時").await;
    assert!(opinion.contains("伊藤 健一"), "{opinion}");
    assert!(opinion.contains("条件付きで可"), "{opinion}");
    shots.take(&d, "doctor-finalises-opinion").await;

    // 10. …and records it on the case.
    d.go(&case_url).await;
    d.wait_for("主治医の意見を記録する").await;
    d.click("form:has(input[name='step'][value='record_opinion']) input[name='fitness'][value='fit_with_conditions']")
        .await;
    take_step(&d, "record_opinion", None).await;
    let after = wait_status(&d, "産業医の意見待ち").await;
    assert!(after.contains("主治医意見書の記録"), "{after}");
    shots.take(&d, "doctor-records-opinion").await;

    // 11. The 産業医 records his opinion.
    d.sign_in(base, "sangyoi", DEMO_PASSWORD).await;
    d.go(&case_url).await;
    d.wait_for("産業医の意見を記録する").await;
    take_step(&d, "record_occupational_physician_opinion", None).await;
    wait_status(&d, "プラン作成中").await;
    shots.take(&d, "sangyoi-records-opinion").await;

    // 12. HR drafts the 両立支援プラン and takes 「プランの作成」 with its dates.
    d.sign_in(base, "jinji", DEMO_PASSWORD).await;
    d.go(&case_url).await;
    d.wait_for("プランを本人に示す").await;
    d.click(&format!(
        "a[href='/cases/{case}/documents/new?form=support_plan']"
    ))
    .await;
    let blank = d.wait_for("name=\"plan_periods[0].period\"").await;
    assert!(
        blank.contains("id=\"f-employee_name\" name=\"employee_name\" value=\"佐藤 美咲\""),
        "the plan is prefilled"
    );
    d.set_value("#f-created_on", "2026-04-01").await;
    d.type_into("#f-plan_periods-0-period", "1か月目").await;
    d.type_into("#f-plan_periods-0-working_hours", "9:00～16:30")
        .await;
    d.type_into(
        "#f-plan_periods-0-measures",
        "通院日は1時間早く退勤。重量物の運搬は免除。",
    )
    .await;
    d.type_into(
        "#f-follow_up",
        "2週間ごとに本人・人事で面談し、必要に応じて見直す。",
    )
    .await;
    d.click("form[action$='/documents'] button.btn-secondary[type=submit]")
        .await;
    d.wait_url("?done=saved").await;
    d.wait_for("下書きを保存しました").await;
    shots.take(&d, "hr-drafts-plan").await;
    d.go(&case_url).await;
    d.wait_for("プランを本人に示す").await;
    d.set_value("#s-draft_plan-follow_up_on", "2026-04-15")
        .await;
    d.set_value("#s-draft_plan-review_on", "2026-05-01").await;
    take_step(&d, "draft_plan", None).await;
    wait_status(&d, "本人のプラン確認待ち").await;
    shots.take(&d, "hr-records-plan").await;

    // 13. 佐藤さん reads the plan and confirms it: support is under way.
    d.sign_in(base, "worker2", DEMO_PASSWORD).await;
    d.go(&case_url).await;
    let w_case = d.wait_for("プランの内容を確認した").await;
    assert!(w_case.contains("確認待ちのプラン"), "{w_case}");
    let marker = "両立支援プラン（";
    let at = w_case.find(marker).expect("the plan is listed");
    let from = w_case[..at].rfind("href=\"").unwrap() + "href=\"".len();
    let plan_path = w_case[from..at].split('"').next().unwrap().to_owned();
    d.go(&format!("{base}{plan_path}")).await;
    let plan = d.wait_for("1か月目").await;
    assert!(plan.contains("通院日は1時間早く退勤"), "{plan}");
    shots.take(&d, "worker2-reads-plan").await;
    d.go(&case_url).await;
    d.wait_for("プランの内容を確認した").await;
    take_step(&d, "confirm_plan", None).await;
    let active = wait_status(&d, "支援中（プラン実施中）").await;
    assert!(active.contains("手続きを記録しました"));
    shots.take(&d, "worker2-confirms-plan").await;

    // One PNG a step, each a real PNG.
    let pngs: Vec<_> = std::fs::read_dir(&shots.dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".png"))
        .collect();
    assert_eq!(pngs.len(), shots.taken.len(), "one screenshot a step");
    assert!(shots.taken.len() >= 10, "{}", shots.taken.len());
    for p in &shots.taken {
        let bytes = std::fs::read(p).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{} is not a PNG",
            p.display()
        );
    }
}
