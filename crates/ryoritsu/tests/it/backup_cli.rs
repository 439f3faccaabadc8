//! `ryoritsu backup`, then `ryoritsu restore` into an empty database, gives an identical
//! canonical export and a chain that verifies.

use crate::audit_cli::demo_db;
use crate::harness::{TestDb, cli};

struct Export;

impl ryoritsu::server::WithStore for Export {
    type Output = serde_json::Value;
    async fn run<S: ryoritsu_app::ports::Store + ryoritsu_app::conformance::Tamper>(
        self,
        store: S,
    ) -> Result<serde_json::Value, String> {
        let app = ryoritsu_app::App::new(
            store,
            ryoritsu_app::conformance::test_config(),
            std::sync::Arc::new(ryoritsu_app::SystemClock),
            std::sync::Arc::new(ryoritsu_app::RandomIds),
        )
        .map_err(|e| e.to_string())?;
        Ok(app
            .export_dataset()
            .await
            .map_err(|e| e.to_string())?
            .canonical())
    }
}

async fn export(url: &str) -> serde_json::Value {
    ryoritsu::server::with_store(&ryoritsu::config::DatabaseUrl::new(url.to_owned()), Export)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_then_restore_gives_the_same_data_and_a_valid_chain() {
    let source = demo_db().await;
    let file = source.dir.path().join("backup.jsonl");
    let (code, out, err) = cli(
        &source.url,
        source.dir.path(),
        &["backup", file.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("バックアップを作成しました"));
    let (code, _, err) = cli(
        &source.url,
        source.dir.path(),
        &["backup", file.to_str().unwrap()],
        None,
    );
    assert_ne!(code, 0, "an existing backup is never overwritten");
    assert!(err.contains("すでにあります"), "{err}");

    let target = TestDb::new().await;
    let (code, out, err) = cli(
        &target.url,
        target.dir.path(),
        &["restore", file.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let a = export(&source.url).await;
    let b = export(&target.url).await;
    assert_eq!(a, b, "identical canonical export");
    assert!(a["users"].as_array().unwrap().len() >= 10);
    let (code, out, _) = cli(&target.url, target.dir.path(), &["audit", "verify"], None);
    assert_eq!(code, 0, "{out}");

    let (code, _, err) = cli(
        &target.url,
        target.dir.path(),
        &["restore", file.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 1, "a non-empty database is refused");
    assert!(err.contains("空ではありません"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_backup_is_refused_whole() {
    let source = demo_db().await;
    let file = source.dir.path().join("backup.jsonl");
    cli(
        &source.url,
        source.dir.path(),
        &["backup", file.to_str().unwrap()],
        None,
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let cut = source.dir.path().join("cut.jsonl");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let target = TestDb::new().await;
    let (code, _, err) = cli(
        &target.url,
        target.dir.path(),
        &["restore", cut.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("バックアップファイルを読み込めません"),
        "{err}"
    );
    let e = export(&target.url).await;
    assert!(
        e["users"].as_array().unwrap().is_empty(),
        "nothing half-restored"
    );
}
