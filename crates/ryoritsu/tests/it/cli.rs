//! The command line: creating organisations and accounts, migrations, help, metrics.

use crate::harness::{TestDb, TestServer, cli};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_creates_an_organisation_and_an_account_from_the_command_line() {
    let s = TestServer::start().await;
    let dir = s.db.dir.path();
    let (code, org, err) = cli(
        &s.db.url,
        dir,
        &[
            "org",
            "create",
            "--kind",
            "employer",
            "--name",
            "株式会社コマンド",
            "--prefecture",
            "北海道",
            "--workplace",
            "札幌本社:01:yes",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let org = org.trim().to_owned();
    assert!(err.contains("組織を登録しました"), "{err}");
    let (code, out, _) = cli(&s.db.url, dir, &["org", "list"], None);
    assert_eq!(code, 0);
    assert!(
        out.contains(&org) && out.contains("株式会社コマンド") && out.contains("\t01\t"),
        "{out}"
    );

    let (code, _, err) = cli(
        &s.db.url,
        dir,
        &[
            "user",
            "create",
            "--login",
            "cli.worker",
            "--name",
            "端末 太郎",
            "--org",
            &org,
            "--role",
            "worker",
        ],
        Some("password1234\n"),
    );
    assert_eq!(code, 1, "a common password is refused");
    assert!(err.contains("よく使われていて"), "{err}");
    let (code, _, err) = cli(
        &s.db.url,
        dir,
        &[
            "user",
            "create",
            "--login",
            "cli.worker",
            "--name",
            "端末 太郎",
            "--org",
            &org,
            "--role",
            "worker",
        ],
        Some("hokkaido-no-fuyu-2026\n"),
    );
    assert_eq!(code, 0, "{err}");
    let mut c = s.client();
    assert_eq!(
        c.api_sign_in("cli.worker", "hokkaido-no-fuyu-2026")
            .await
            .json()["next"],
        "done"
    );
    let me = c.get("/api/v1/me").await.json();
    assert_eq!(me["memberships"][0]["organisation_id"], org.as_str());

    let (code, _, err) = cli(
        &s.db.url,
        dir,
        &[
            "org",
            "create",
            "--kind",
            "factory",
            "--name",
            "",
            "--prefecture",
            "99",
        ],
        None,
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("組織の種類") && err.contains("組織名") && err.contains("都道府県"),
        "every problem named: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_has_help() {
    let db = TestDb::new().await;
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["org", "create", "--help"],
        vec!["user", "create", "--help"],
        vec!["backup", "--help"],
        vec!["restore", "--help"],
        vec!["audit", "verify", "--help"],
        vec!["audit", "head", "--help"],
        vec!["fees", "evaluate", "--help"],
    ] {
        let (code, out, err) = cli(&db.url, db.dir.path(), &args, None);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(out.contains("Usage:"), "{args:?}: {out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_newer_than_the_program_is_refused() {
    let db = TestDb::new().await;
    let Some(path) = db.sqlite_path() else {
        eprintln!(
            "skipping: a database file test (PostgreSQL run; the adapter's own test covers it)"
        );
        return;
    };
    let (code, out, err) = cli(&db.url, db.dir.path(), &["migrate"], None);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = cli(&db.url, db.dir.path(), &["migrate"], None);
    assert_eq!(code, 0);
    assert!(out.contains("最新"), "{out}");
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
         VALUES (999999, 'from the future', 0, 1, x'00', 0)",
    )
    .execute(&mut c)
    .await
    .unwrap();
    drop(c);
    for args in [vec!["migrate"], vec!["serve", "--listen", "127.0.0.1:0"]] {
        let (code, _, err) = cli(&db.url, db.dir.path(), &args, None);
        assert_eq!(code, 1, "{args:?}");
        assert!(err.contains("このプログラムより新しい"), "{args:?}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_on_their_own_listener() {
    let addr = ryoritsu::server::start_metrics("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let s = TestServer::start().await;
    s.client().get("/login").await;
    let body = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("http_request_duration_seconds"), "{body}");
    assert!(
        body.contains("route=\"/login\""),
        "labelled by route template: {body}"
    );
    let app = s.client().get("/metrics").await;
    assert_eq!(app.status, 404, "not on the application listener");
}

/// The JSON example of docs/fees.md, so the document and the command cannot drift apart.
fn documented_fee_input() -> String {
    let doc = include_str!("../../../../docs/fees.md");
    let from = doc.find("Input (`FeeInput`)").unwrap();
    let start = doc[from..].find("```json").unwrap() + from + "```json".len();
    let end = doc[start..].find("```").unwrap() + start;
    doc[start..end].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fees_evaluate_gives_the_engines_verdicts_without_a_server() {
    let db = TestDb::new().await;
    let input = documented_fee_input();
    let (code, out, err) = cli(&db.url, db.dir.path(), &["fees", "evaluate"], Some(&input));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // The same engine as the domain: compare with a direct evaluation.
    let direct = ryoritsu_domain::fees::evaluate(
        &ryoritsu_domain::fees::FeeSchedule::standard(),
        &serde_json::from_str(&input).unwrap(),
    );
    assert_eq!(v, serde_json::to_value(&direct).unwrap());
    assert_eq!(v["sessions"][0]["revision"], "r8");
    assert_eq!(v["sessions"][0]["total_points"], 1250);
    let initial = &v["sessions"][0]["items"][0];
    assert_eq!(initial["item"], "initial");
    assert!(
        initial["reasons"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("R8 B001-9")
    );

    // From a file as well; bad input is a Japanese message and exit 2, nothing on stdout.
    let path = db.dir.path().join("sessions.json");
    std::fs::write(&path, &input).unwrap();
    let (code, out2, _) = cli(
        &db.url,
        db.dir.path(),
        &["fees", "evaluate", path.to_str().unwrap()],
        None,
    );
    assert_eq!((code, out2), (0, out));
    let (code, out, err) = cli(
        &db.url,
        db.dir.path(),
        &["fees", "evaluate"],
        Some(r#"{"sessions": [{"date": "2026-13-01"}]}"#),
    );
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("入力の形式が正しくありません"), "{err}");
}
