//! Start-up: open the store named by the URL, migrate, and serve.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ryoritsu_app::ports::{Clock, IdSource, ReadRepo, Store, WriteRepo};
use ryoritsu_app::{App, AppConfig, PasswordCost, RandomIds, SystemClock};
use ryoritsu_store_postgres::PgStore;
use ryoritsu_store_sqlite::SqliteStore;
use ryoritsu_web::{AppState, WebConfig};
use tokio::net::TcpListener;

use crate::config::{Config, DatabaseUrl};

/// What the server and the commands do with a store, whichever backend it is.
pub trait WithStore {
    type Output;
    fn run<S: Store + ryoritsu_app::conformance::Tamper>(
        self,
        store: S,
    ) -> impl std::future::Future<Output = Result<Self::Output, String>> + Send;
}

/// Opens the backend the URL names and runs `f` with it (static dispatch, no `dyn`).
pub async fn with_store<F: WithStore>(url: &DatabaseUrl, f: F) -> Result<F::Output, String> {
    if url.is_postgres() {
        let s = PgStore::open(url.expose())
            .await
            .map_err(|e| format!("PostgreSQL（{url}）に接続できません: {e}"))?;
        let r = f.run(s.clone()).await;
        s.close().await;
        r
    } else if url.is_sqlite() {
        let s = SqliteStore::open(url.expose())
            .await
            .map_err(|e| format!("SQLite（{url}）を開けません: {e}"))?;
        let r = f.run(s.clone()).await;
        s.close().await;
        r
    } else {
        Err(format!(
            "データベースURL {url} の形式に対応していません（sqlite:// または postgres:// を指定してください）。"
        ))
    }
}

pub fn app_config(cfg: &Config) -> Result<AppConfig, String> {
    Ok(AppConfig {
        demo: cfg.demo,
        require_second_factor: cfg.require_second_factor,
        password_cost: PasswordCost {
            memory_kib: cfg.password.memory_kib,
            iterations: cfg.password.iterations,
            parallelism: cfg.password.parallelism,
        },
        // Notices are written only when they can be sent and their links lead somewhere.
        notices: cfg
            .mail
            .as_ref()
            .and(cfg.public_origin.as_ref())
            .map(|origin| ryoritsu_app::cases::notices::NoticeSettings {
                public_origin: origin.clone(),
            }),
        fee_schedule: std::sync::Arc::new(crate::config::fee_schedule(cfg.fee_rules.as_deref())?),
        ..AppConfig::default()
    })
}

pub fn web_config(cfg: &Config) -> WebConfig {
    WebConfig {
        secure_cookies: cfg.secure(),
        public_origin: cfg.public_origin.clone(),
        body_limit: cfg.body_limit,
        trust_forwarded_for: cfg.trust_forwarded_for,
    }
}

/// Applies migrations, refusing a schema newer than this program.
pub async fn migrate<S: Store>(store: &S) -> Result<Vec<i64>, String> {
    store.migrate().await.map_err(|e| match e {
        ryoritsu_app::StoreError::Schema(m) => format!(
            "データベースのスキーマがこのプログラムより新しいか、壊れています。新しい版の ryoritsu を使ってください。（{m}）"
        ),
        other => format!("マイグレーションに失敗しました: {other}"),
    })
}

/// The key that signs pre-sign-in CSRF tokens: made once and kept in the database, so that
/// every instance behind a load balancer agrees.
pub async fn server_secret<S: Store>(app: &App<S>) -> Result<[u8; 32], String> {
    let existing = app
        .store()
        .read()
        .await
        .map_err(|e| e.to_string())?
        .get_setting("server_secret")
        .await
        .map_err(|e| e.to_string())?;
    let hex_value = match existing {
        Some(v) => v,
        None => {
            let fresh = ryoritsu_app::secrets::random_token().map_err(|e| e.to_string())?;
            let v = fresh.clone();
            app.writer()
                .write(move |tx| {
                    Box::pin(async move {
                        // Another instance may have written it first: keep theirs.
                        if tx.get_setting("server_secret").await?.is_none() {
                            tx.put_setting("server_secret", &v).await?;
                        }
                        Ok(())
                    })
                })
                .await
                .map_err(|e| e.to_string())?;
            app.store()
                .read()
                .await
                .map_err(|e| e.to_string())?
                .get_setting("server_secret")
                .await
                .map_err(|e| e.to_string())?
                .unwrap_or(fresh)
        }
    };
    let bytes = hex::decode(hex_value.trim()).map_err(|_| "server_secret is not hex".to_owned())?;
    bytes
        .try_into()
        .map_err(|_| "server_secret has the wrong length".to_owned())
}

/// A running server: its address, and a handle that stops it.
pub struct Running {
    pub addr: SocketAddr,
    pub stop: tokio::sync::oneshot::Sender<()>,
    pub done: tokio::task::JoinHandle<()>,
}

/// Builds the app on `store` and serves it on `listener` until `stop` fires.
pub async fn start<S: Store>(
    store: S,
    cfg: &Config,
    listener: TcpListener,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
) -> Result<(App<S>, Running), String> {
    let mailer = match &cfg.mail {
        Some(_) if cfg.public_origin.is_none() => {
            return Err("メール通知（[mail]）を使うには、リンクの宛先となる public_origin（例: https://ryoritsu.example.jp）を設定してください。 / [mail] needs public_origin for the links in notices.".into());
        }
        Some(m) => Some(crate::mailer::Mailer::new(m)?),
        None => None,
    };
    let app = App::new(store, app_config(cfg)?, clock, ids).map_err(|e| e.to_string())?;
    let secret = server_secret(&app).await?;
    let state = AppState {
        app: app.clone(),
        web: Arc::new(web_config(cfg)),
        secret: Arc::new(secret),
    };
    let router = ryoritsu_web::router(state);
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let sweeper = app.clone();
    let (stop_mail, mail_stopped) = tokio::sync::watch::channel(false);
    let mail = mailer.map(|m| m.spawn(app.clone(), mail_stopped));
    let done = tokio::spawn(async move {
        let sweep = tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(300));
            loop {
                every.tick().await;
                if let Err(e) = sweeper.sweep().await {
                    tracing::warn!(error = %e, "session sweep failed");
                }
            }
        });
        let serve = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "server stopped with an error");
        }
        sweep.abort();
        let _ = stop_mail.send(true);
        if let Some(m) = mail {
            let _ = m.await;
        }
    });
    Ok((app, Running { addr, stop, done }))
}

/// `ryoritsu serve`.
pub struct Serve {
    pub cfg: Config,
}

impl WithStore for Serve {
    type Output = ();

    async fn run<S: Store + ryoritsu_app::conformance::Tamper>(
        self,
        store: S,
    ) -> Result<(), String> {
        let cfg = self.cfg;
        let applied = migrate(&store).await?;
        if !applied.is_empty() {
            tracing::info!(versions = ?applied, "migrations applied");
        }
        let listener = TcpListener::bind(cfg.listen)
            .await
            .map_err(|e| format!("{} で待ち受けできません: {e}", cfg.listen))?;
        if let Some(m) = cfg.metrics_listen {
            start_metrics(m).await?;
        }
        let (app, running) = start(
            store,
            &cfg,
            listener,
            Arc::new(SystemClock),
            Arc::new(RandomIds),
        )
        .await?;
        tracing::info!(backend = %app.store().describe(), database = %cfg.database_url, "storage ready");
        if cfg.demo {
            match app.seed_demo().await.map_err(crate::cli::show)? {
                Some(_) => println!("デモ用のデータを作成しました。"),
                None => {
                    println!("データベースにデータがあるため、デモ用のデータは作成しませんでした。")
                }
            }
            let people = app.demo_sign_ins().await.map_err(|e| e.to_string())?;
            if !people.is_empty() {
                println!(
                    "デモ用のアカウント（パスワードはすべて {}）:",
                    ryoritsu_app::demo::DEMO_PASSWORD
                );
                for p in people {
                    println!(
                        "  {:<10} {}（{}・{}）",
                        p.login, p.name, p.role, p.organisation
                    );
                }
            }
        }
        println!("Ryoritsu を起動しました: http://{}/", running.addr);
        let stop = running.stop;
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = stop.send(());
        });
        running.done.await.map_err(|e| e.to_string())?;
        println!("Ryoritsu を停止しました。");
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Prometheus metrics on their own listener, so they are never exposed by accident with
/// the application.
pub async fn start_metrics(addr: SocketAddr) -> Result<SocketAddr, String> {
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| format!("メトリクスを開始できません: {e}"))?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("{addr} でメトリクスを待ち受けできません: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let router = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let h = handle.clone();
            async move { h.render() }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(bound)
}
