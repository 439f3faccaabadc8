//! E-mail notices through SMTP, against an in-process SMTP sink: a notice reaches the person
//! a task waits on and says nothing but that something awaits them, with a link; notices
//! wait in the outbox while the relay is down and go out when it returns; an overdue task
//! is reminded once; and the outbox is written in the step's own transaction.

use std::sync::{Arc, Mutex};

use ryoritsu::config::{DatabaseUrl, MailSettings, MailTls};
use ryoritsu::server::{self, WithStore};
use ryoritsu_app::cases::notice_ports::{NoticeKind, NoticeReads, NoticeRecord};
use ryoritsu_app::cases::notices::{MAX_ATTEMPTS, NoticeSettings, REMINDER_SUBJECT, SUBJECT};
use ryoritsu_app::conformance::Tamper;
use ryoritsu_app::ports::Store;
use ryoritsu_app::testing::ManualClock;
use ryoritsu_app::{App, AppError, RandomIds, RequestContext};
use ryoritsu_domain::case::{CasePath, CaseStatus, StepKind, TaskKind};
use serde_json::json;
use time::Duration;
use time::macros::datetime;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::harness::{Client, DEMO_PASSWORD, TestDb, TestServer};

/// The origin notices link to (the tests' client sends it as its `Origin`).
const ORIGIN: &str = "http://ryoritsu.example.jp";

// ---- the SMTP sink ---------------------------------------------------------------------

/// One message as the sink received it.
#[derive(Debug, Clone, Default)]
struct Received {
    mail_from: String,
    rcpt_to: Vec<String>,
    data: Vec<u8>,
}

impl Received {
    fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.data)
            .expect("a parseable message")
    }

    fn subject(&self) -> String {
        let m = self.parsed();
        m.subject().unwrap_or_default().to_owned()
    }

    /// The body as a mail client shows it (transfer encoding undone).
    fn text(&self) -> String {
        let m = self.parsed();
        let text = m.body_text(0).map(|t| t.into_owned());
        text.unwrap_or_default()
    }

    fn raw(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// A small SMTP server on 127.0.0.1 that accepts every message and keeps it: enough of
/// the protocol for a client (greeting, EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT).
struct Sink {
    port: u16,
    inbox: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The address inside `<…>` of a MAIL FROM or RCPT TO argument.
fn path_address(arg: &str) -> String {
    let a = arg.trim();
    let a = a.strip_prefix('<').unwrap_or(a);
    a.split('>').next().unwrap_or(a).trim().to_owned()
}

async fn smtp_session(stream: TcpStream, inbox: Arc<Mutex<Vec<Received>>>) -> std::io::Result<()> {
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"220 sink.test ESMTP\r\n").await?;
    let mut current = Received::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        let upper = text.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            w.write_all(b"250-sink.test\r\n250 8BITMIME\r\n").await?;
        } else if upper.starts_with("HELO") {
            w.write_all(b"250 sink.test\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            current = Received {
                mail_from: path_address(&text[10..]),
                ..Received::default()
            };
            w.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            current.rcpt_to.push(path_address(&text[8..]));
            w.write_all(b"250 OK\r\n").await?;
        } else if upper == "DATA" {
            w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            let mut data = Vec::new();
            loop {
                line.clear();
                if r.read_until(b'\n', &mut line).await? == 0 {
                    return Ok(());
                }
                if line == b".\r\n" || line == b".\n" {
                    break;
                }
                // Dot-stuffing: a leading dot was doubled by the client.
                let content = if line.starts_with(b"..") {
                    &line[1..]
                } else {
                    &line[..]
                };
                data.extend_from_slice(content);
            }
            current.data = data;
            inbox.lock().unwrap().push(std::mem::take(&mut current));
            w.write_all(b"250 OK queued\r\n").await?;
        } else if upper == "QUIT" {
            w.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else if upper == "RSET" || upper == "NOOP" {
            current = Received::default();
            w.write_all(b"250 OK\r\n").await?;
        } else {
            w.write_all(b"502 Command not implemented\r\n").await?;
        }
    }
}

impl Sink {
    async fn start() -> Sink {
        Sink::on(TcpListener::bind("127.0.0.1:0").await.unwrap())
    }

    /// A sink on a port chosen earlier (the relay "comes back").
    async fn start_on(port: u16) -> Sink {
        Sink::on(TcpListener::bind(("127.0.0.1", port)).await.unwrap())
    }

    fn on(listener: TcpListener) -> Sink {
        let port = listener.local_addr().unwrap().port();
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let keep = inbox.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let inbox = keep.clone();
                tokio::spawn(async move {
                    let _ = smtp_session(stream, inbox).await;
                });
            }
        });
        Sink { port, inbox, task }
    }

    fn received(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().clone()
    }
}

/// A port with nothing listening on it: connecting is refused.
async fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

// ---- helpers ---------------------------------------------------------------------------

/// Polls `check` until it gives a value; the deadline only bounds a hung test.
async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn mail_to(port: u16) -> MailSettings {
    MailSettings {
        smtp_host: "127.0.0.1".into(),
        smtp_port: Some(port),
        tls: MailTls::None,
        username: None,
        password: None,
        from: "Ryoritsu <noreply@ryoritsu.example.jp>".into(),
        poll_interval_ms: 50,
    }
}

async fn server_mailing_to(port: u16) -> TestServer {
    TestServer::start_with(true, |c| {
        c.demo = true;
        c.public_origin = Some(ORIGIN.into());
        c.mail = Some(mail_to(port));
    })
    .await
}

async fn signed_in(s: &TestServer, login: &str) -> Client {
    let mut c = s.client();
    c.origin = Some(ORIGIN.into());
    let r = c.api_sign_in(login, DEMO_PASSWORD).await;
    assert_eq!(r.status, 200, "{login}: {}", r.body);
    c
}

/// The worker files a new 申出 at their employer; returns the case id.
async fn file_request(worker: &mut Client) -> String {
    let employer = worker.get("/api/v1/me").await.json()["memberships"][0]["organisation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = worker
        .api(
            "POST",
            "/api/v1/cases",
            Some(json!({"employer_id": employer, "path": "continuation"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_owned()
}

struct Outbox;

impl WithStore for Outbox {
    type Output = Vec<NoticeRecord>;
    async fn run<S: Store + Tamper>(self, store: S) -> Result<Self::Output, String> {
        let mut c = store.read().await.map_err(|e| e.to_string())?;
        c.list_notices().await.map_err(|e| e.to_string())
    }
}

/// Every notice in a test server's outbox, read directly.
async fn outbox(s: &TestServer) -> Vec<NoticeRecord> {
    server::with_store(&DatabaseUrl::new(s.db.url.clone()), Outbox)
        .await
        .unwrap()
}

/// Waits until the outbox holds notices and all of them are sent.
async fn all_sent(s: &TestServer) -> Vec<NoticeRecord> {
    eventually("every notice sent", async || {
        let o = outbox(s).await;
        (!o.is_empty() && o.iter().all(|n| n.sent_at.is_some())).then_some(o)
    })
    .await
}

/// Words that would give away the worker's health or what the task is about.
fn revealing_words() -> Vec<&'static str> {
    let mut words = vec![
        "胃がん",
        "がん",
        "抗がん剤",
        "化学療法",
        "術後",
        "倦怠感",
        "診断",
        "主治医",
        "意見書",
        "産業医",
        "休業",
        "復職",
    ];
    words.extend(TaskKind::ALL.iter().map(|k| k.label()));
    words.extend(StepKind::ALL.iter().map(|k| k.label()));
    words.extend(CaseStatus::ALL.iter().map(|k| k.label()));
    words
}

// ---- through the server ----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_reaches_the_person_a_task_waits_on_and_carries_only_a_link() {
    let sink = Sink::start().await;
    let s = server_mailing_to(sink.port).await;
    // The demo's own steps are announced as well; let them go out first.
    all_sent(&s).await;

    let mut worker = signed_in(&s, "worker").await;
    let case = file_request(&mut worker).await;
    let link = format!("{ORIGIN}/cases/{case}");
    let m = eventually("the notice for the new case", async || {
        sink.received()
            .into_iter()
            .find(|m| m.text().contains(&link))
    })
    .await;

    // To HR, who drafts the 勤務情報提供書; not to the worker, who just filed it.
    assert_eq!(m.rcpt_to, vec!["jinji@example.jp".to_owned()]);
    assert_eq!(m.mail_from, "noreply@ryoritsu.example.jp");
    assert_eq!(m.subject(), SUBJECT);
    let text = m.text();
    assert!(text.starts_with("山田 花子 様"), "{text}");
    assert!(text.contains("期限: 2026年"), "{text}");
    assert!(text.contains("サインイン"), "{text}");
    assert!(
        !sink
            .received()
            .iter()
            .any(|m| m.text().contains(&link) && m.rcpt_to.contains(&"worker@example.jp".into())),
        "the worker who took the step is not told about it"
    );

    // HR drafts the 勤務情報提供書: the worker is asked to confirm it, and HR, who must
    // confirm it too, is not mailed about their own step.
    let mut hr = signed_in(&s, "jinji").await;
    let d = hr
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/documents"),
            Some(json!({"form": "work_information", "answers": {
                "employee_name": "田中 太郎",
                "occupation": "製造ライン作業",
                "job_description": {"details": "部品の組立と目視検査。", "tasks": ["prolonged_standing"]},
                "work_pattern": {"pattern": "day_shift"},
                "work_hours": {"start": "8:30", "end": "17:30", "break_hours": "1", "days_per_week": 5},
                "commute": {"methods": ["public_transport_seated"], "minutes": "45"},
                "occupational_physician": true
            }})),
            &[],
        )
        .await;
    assert_eq!(d.status, 201, "{}", d.body);
    let r = hr
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/steps"),
            Some(json!({"step": "draft_work_information"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let to_worker = eventually("the worker's notice", async || {
        sink.received()
            .into_iter()
            .find(|m| m.text().contains(&link) && m.rcpt_to == vec!["worker@example.jp".to_owned()])
    })
    .await;
    assert!(
        to_worker.text().starts_with("田中 太郎 様"),
        "{}",
        to_worker.text()
    );
    // One more round of the sender, then count: still only the first notice went to HR.
    let again = file_request(&mut worker).await;
    eventually("a later notice", async || {
        sink.received()
            .iter()
            .any(|m| m.text().contains(&format!("{ORIGIN}/cases/{again}")))
            .then_some(())
    })
    .await;
    assert_eq!(
        sink.received()
            .iter()
            .filter(|m| m.text().contains(&link) && m.rcpt_to == vec!["jinji@example.jp".to_owned()])
            .count(),
        1
    );

    // Proper MIME: ASCII on the wire, UTF-8 text, the Japanese subject encoded.
    let raw = m.raw();
    assert!(m.data.is_ascii(), "{raw}");
    let lower = raw.to_ascii_lowercase();
    assert!(
        lower.contains("content-type: text/plain; charset=utf-8"),
        "{raw}"
    );
    assert!(lower.contains("subject: =?utf-8?"), "{raw}");
    assert!(lower.contains("auto-submitted: auto-generated"), "{raw}");

    // Nothing in any notice gives away health information or what the task is, and no
    // one is told another person's name (the worker's own notices greet the worker).
    let all = sink.received();
    assert!(all.len() > 1, "the demo's notices were sent too");
    for m in &all {
        let text = format!("{}\n{}", m.subject(), m.text());
        for w in revealing_words() {
            assert!(
                !text.contains(w),
                "{w:?} in a notice to {:?}: {text}",
                m.rcpt_to
            );
        }
        if m.rcpt_to != vec!["worker@example.jp".to_owned()] {
            assert!(!text.contains("田中"), "{text}");
        }
        assert!(text.contains(&format!("{ORIGIN}/cases/")), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_wait_in_the_outbox_while_the_relay_is_down_and_go_out_when_it_returns() {
    let port = closed_port().await;
    let s = server_mailing_to(port).await;

    // Every notice of the demo's steps was tried once and refused; nothing is lost.
    let tried = eventually("every notice tried once", async || {
        let o = outbox(&s).await;
        (!o.is_empty() && o.iter().all(|n| n.last_error.is_some())).then_some(o)
    })
    .await;
    for n in &tried {
        assert_eq!(n.attempts, 1, "{n:?}");
        assert!(n.sent_at.is_none(), "{n:?}");
        assert!(n.next_attempt_at.is_some(), "it will be tried again: {n:?}");
    }

    // The relay comes back; at the next attempt everything goes out, once.
    let sink = Sink::start_on(port).await;
    s.clock.advance(Duration::minutes(2));
    let sent = all_sent(&s).await;
    assert_eq!(sent.len(), tried.len());
    assert!(sent.iter().all(|n| n.attempts == 2), "{sent:?}");
    let mut expected: Vec<String> = tried.iter().map(|n| n.address.clone()).collect();
    let mut got: Vec<String> = sink
        .received()
        .iter()
        .flat_map(|m| m.rcpt_to.clone())
        .collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_task_is_reminded_once() {
    let sink = Sink::start().await;
    let s = server_mailing_to(sink.port).await;
    all_sent(&s).await;
    assert!(
        outbox(&s)
            .await
            .iter()
            .all(|n| n.kind == NoticeKind::TaskOpened)
    );

    // Far past every due date of the demo's open tasks.
    s.clock.advance(Duration::days(400));
    let reminders = eventually("the reminders written and sent", async || {
        let o = outbox(&s).await;
        let r: Vec<NoticeRecord> = o
            .iter()
            .filter(|n| n.kind == NoticeKind::Overdue)
            .cloned()
            .collect();
        (!r.is_empty() && o.iter().all(|n| n.sent_at.is_some())).then_some(r)
    })
    .await;
    let mut pairs: Vec<_> = reminders.iter().map(|n| (n.task_id, n.recipient)).collect();
    pairs.sort();
    pairs.dedup();
    assert_eq!(
        pairs.len(),
        reminders.len(),
        "one reminder per task and person"
    );
    assert!(reminders.iter().all(|n| n.task_id.is_some()));
    let reminded = |sink: &Sink| {
        sink.received()
            .iter()
            .filter(|m| m.subject() == REMINDER_SUBJECT)
            .count()
    };
    assert_eq!(reminded(&sink), reminders.len());
    let m = sink
        .received()
        .into_iter()
        .find(|m| m.subject() == REMINDER_SUBJECT)
        .unwrap();
    assert!(m.text().contains("を過ぎています"), "{}", m.text());

    // A day later the same tasks are still open and overdue: no second reminder. Two new
    // notices, one after the other has arrived, prove that a sweep ran after the clock moved.
    s.clock.advance(Duration::days(1));
    let mut worker = signed_in(&s, "worker").await;
    for _ in 0..2 {
        let case = file_request(&mut worker).await;
        let link = format!("{ORIGIN}/cases/{case}");
        eventually("a new notice", async || {
            sink.received()
                .iter()
                .any(|m| m.text().contains(&link))
                .then_some(())
        })
        .await;
    }
    let o = outbox(&s).await;
    assert_eq!(
        o.iter().filter(|n| n.kind == NoticeKind::Overdue).count(),
        reminders.len()
    );
    assert_eq!(reminded(&sink), reminders.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_mail_configured_nothing_accumulates() {
    let s = TestServer::demo().await;
    let mut worker = s.client();
    worker.api_sign_in("worker", DEMO_PASSWORD).await;
    file_request(&mut worker).await;
    assert!(outbox(&s).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_without_a_public_origin_refuses_to_start() {
    let db = TestDb::new().await;
    let mut cfg = crate::harness::test_config(&db.url);
    cfg.mail = Some(mail_to(25));
    struct Start(ryoritsu::config::Config);
    impl WithStore for Start {
        type Output = ();
        async fn run<S: Store + Tamper>(self, store: S) -> Result<(), String> {
            server::migrate(&store).await?;
            let listener = TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| e.to_string())?;
            let clock = Arc::new(ManualClock::new(datetime!(2026-04-01 00:00 UTC)));
            server::start(store, &self.0, listener, clock, Arc::new(RandomIds))
                .await
                .map(|_| ())
        }
    }
    let err = server::with_store(&cfg.database_url.clone(), Start(cfg))
        .await
        .expect_err("refused");
    assert!(err.contains("public_origin"), "{err}");
}

// ---- the use cases on a store ----------------------------------------------------------

/// The app over a migrated store with the demo world and notices on.
async fn demo_app<S: Store>(store: S, clock: Arc<ManualClock>) -> Result<App<S>, String> {
    server::migrate(&store).await?;
    let mut cfg = ryoritsu_app::conformance::test_config();
    cfg.demo = true;
    cfg.notices = Some(NoticeSettings {
        public_origin: ORIGIN.into(),
    });
    let app = App::new(store, cfg, clock, Arc::new(RandomIds)).map_err(|e| e.to_string())?;
    app.seed_demo().await.map_err(|e| e.to_string())?;
    Ok(app)
}

async fn sign_in<S: Store>(
    app: &App<S>,
    login: &str,
) -> Result<ryoritsu_app::accounts::Authenticated, String> {
    let ctx = RequestContext::default();
    let signed = app
        .sign_in(&ctx, login, DEMO_PASSWORD)
        .await
        .map_err(|e| e.to_string())?;
    app.authenticate(&signed.session.token)
        .await
        .map_err(|e| e.to_string())
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok { Ok(()) } else { Err(what.to_owned()) }
}

struct SameTransaction;

impl WithStore for SameTransaction {
    /// A backup taken at the end, and the export it must restore to.
    type Output = (Vec<u8>, serde_json::Value);
    async fn run<S: Store + Tamper>(self, store: S) -> Result<Self::Output, String> {
        let clock = Arc::new(ManualClock::new(datetime!(2026-04-01 00:00 UTC)));
        let app = demo_app(store.clone(), clock.clone()).await?;
        let worker = sign_in(&app, "worker").await?;
        let employer = worker.memberships[0].organisation_id;
        let ctx = RequestContext::default();
        let before = app.list_notices().await.map_err(|e| e.to_string())?;
        check(!before.is_empty(), "the demo's steps wrote notices")?;

        // The history insert, after the notices in the same transaction, is refused: the
        // whole write is undone, notices included.
        let postgres = store.describe().starts_with("PostgreSQL");
        let refuse: &[&str] = if postgres {
            &[
                "CREATE FUNCTION refuse_for_test() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN RAISE EXCEPTION 'refused for the test'; END; $$",
                "CREATE TRIGGER refuse_for_test BEFORE INSERT ON case_events \
                 FOR EACH ROW EXECUTE FUNCTION refuse_for_test()",
            ]
        } else {
            &[
                "CREATE TRIGGER refuse_for_test BEFORE INSERT ON case_events \
               BEGIN SELECT RAISE(ABORT, 'refused for the test'); END",
            ]
        };
        for sql in refuse {
            store.try_raw(sql).await?;
        }
        let failed = app
            .file_request(&ctx, &worker, employer, None, CasePath::Continuation)
            .await;
        check(failed.is_err(), "the refused write fails")?;
        let after_failure = app.list_notices().await.map_err(|e| e.to_string())?;
        check(
            after_failure == before,
            "a failed step leaves no notice behind",
        )?;
        store
            .try_raw(if postgres {
                "DROP TRIGGER refuse_for_test ON case_events"
            } else {
                "DROP TRIGGER refuse_for_test"
            })
            .await?;

        // The same step, committed, writes one notice: to HR, for the new case.
        let case = app
            .file_request(&ctx, &worker, employer, None, CasePath::Continuation)
            .await
            .map_err(|e| e.to_string())?;
        let after = app.list_notices().await.map_err(|e| e.to_string())?;
        let new: Vec<&NoticeRecord> = after.iter().filter(|n| !before.contains(n)).collect();
        check(new.len() == 1, &format!("one new notice: {new:?}"))?;
        let hr = sign_in(&app, "jinji").await?;
        check(
            new[0].recipient == hr.user.id
                && new[0].address == "jinji@example.jp"
                && new[0].case_id == case.id
                && new[0].kind == NoticeKind::TaskOpened
                && new[0].next_attempt_at == Some(app.now()),
            &format!("the notice goes to HR now: {:?}", new[0]),
        )?;

        // Overdue tasks are reminded once each, however often the sweep runs.
        clock.advance(Duration::days(400));
        let written = app.remind_overdue().await.map_err(|e| e.to_string())?;
        check(written > 0, "reminders for the overdue tasks")?;
        let again = app.remind_overdue().await.map_err(|e| e.to_string())?;
        check(again == 0, "no second reminder on the same day")?;
        clock.advance(Duration::days(1));
        let later = app.remind_overdue().await.map_err(|e| e.to_string())?;
        check(later == 0, "no second reminder the next day")?;

        let export = app.export_dataset().await.map_err(|e| e.to_string())?;
        check(
            export.notices.len() == after.len() + written,
            "the outbox is part of the export",
        )?;
        let mut backup = Vec::new();
        app.backup(&mut backup).await.map_err(|e| e.to_string())?;
        Ok((backup, export.canonical()))
    }
}

/// Restores a backup into an empty store; returns its export.
struct Restore(Vec<u8>);

impl WithStore for Restore {
    type Output = serde_json::Value;
    async fn run<S: Store + Tamper>(self, store: S) -> Result<Self::Output, String> {
        server::migrate(&store).await?;
        let clock = Arc::new(ManualClock::new(datetime!(2026-04-01 00:00 UTC)));
        let app = App::new(
            store,
            ryoritsu_app::conformance::test_config(),
            clock,
            Arc::new(RandomIds),
        )
        .map_err(|e| e.to_string())?;
        app.restore(&self.0[..]).await.map_err(|e| e.to_string())?;
        let export = app.export_dataset().await.map_err(|e| e.to_string())?;
        Ok(export.canonical())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_are_written_in_the_transaction_of_the_step_and_reminders_once() {
    let db = TestDb::new().await;
    let (backup, export) = server::with_store(&DatabaseUrl::new(db.url.clone()), SameTransaction)
        .await
        .unwrap();
    // The outbox survives a backup and restore (into SQLite, whichever backend wrote it).
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("restored.db").display());
    let restored = server::with_store(&DatabaseUrl::new(url), Restore(backup))
        .await
        .unwrap();
    assert_eq!(restored, export);
}

struct GivingUp;

impl WithStore for GivingUp {
    type Output = ();
    async fn run<S: Store + Tamper>(self, store: S) -> Result<(), String> {
        let clock = Arc::new(ManualClock::new(datetime!(2026-04-01 00:00 UTC)));
        let app = demo_app(store, clock.clone()).await?;
        let e = |e: AppError| e.to_string();
        let first = app.due_notices().await.map_err(e)?;
        check(!first.is_empty(), "the demo's notices are due")?;
        check(
            app.due_notices().await.map_err(e)?.is_empty(),
            "a claimed notice is not handed out twice",
        )?;
        let id = first[0].id;
        let mut n = first[0].clone();
        for attempt in 1..=MAX_ATTEMPTS {
            check(n.attempts == attempt, &format!("attempt {attempt}: {n:?}"))?;
            let next = app
                .mark_failed(&n, "421 relay unavailable")
                .await
                .map_err(e)?;
            if attempt == MAX_ATTEMPTS {
                check(next.is_none(), "given up after the last attempt")?;
                break;
            }
            let next = next.ok_or("a retry is planned")?;
            check(next > app.now(), "the retry waits")?;
            check(
                !app.due_notices()
                    .await
                    .map_err(e)?
                    .iter()
                    .any(|d| d.id == id),
                "not before its time",
            )?;
            clock.advance(next - app.now());
            n = app
                .due_notices()
                .await
                .map_err(e)?
                .into_iter()
                .find(|d| d.id == id)
                .ok_or("due again")?;
        }
        clock.advance(Duration::days(30));
        check(
            !app.due_notices()
                .await
                .map_err(e)?
                .iter()
                .any(|d| d.id == id),
            "a notice given up is not tried again",
        )?;
        let kept = app
            .list_notices()
            .await
            .map_err(e)?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or("the row is kept")?;
        check(
            kept.sent_at.is_none()
                && kept.next_attempt_at.is_none()
                && kept.attempts == MAX_ATTEMPTS
                && kept.last_error.as_deref() == Some("421 relay unavailable"),
            &format!("kept with its error: {kept:?}"),
        )?;
        // Another notice, sent, is marked so and not handed out again.
        let other = first.iter().find(|d| d.id != id).ok_or("a second notice")?;
        app.mark_sent(other.id).await.map_err(e)?;
        let kept = app.list_notices().await.map_err(e)?;
        check(
            kept.iter()
                .any(|d| d.id == other.id && d.sent_at == Some(app.now())),
            "marked sent",
        )?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_that_keeps_failing_is_retried_with_backoff_then_kept_unsent() {
    let db = TestDb::new().await;
    server::with_store(&DatabaseUrl::new(db.url.clone()), GivingUp)
        .await
        .unwrap();
}
