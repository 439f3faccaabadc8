//! The command line.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use ryoritsu_app::accounts::NewUser;
use ryoritsu_app::accounts::orgs::{NewOrganisation, NewWorkplace};
use ryoritsu_app::ports::Store;
use ryoritsu_app::{App, RandomIds, RequestContext, SystemClock};
use ryoritsu_domain::account::DisplayName;
use ryoritsu_domain::audit::ChainHead;
use ryoritsu_domain::org::{Role, RoleDetail, SafetyHealthRole};
use ryoritsu_domain::policy::{Action, Principal, decide};
use uuid::Uuid;

use crate::config::{self, Config};
use crate::server::{self, WithStore, migrate, with_store};

#[derive(Parser, Debug)]
#[command(
    name = "ryoritsu",
    version,
    about = "Ryoritsu: 治療と仕事の両立支援プラットフォーム"
)]
pub struct Cli {
    /// Configuration file (default: ./ryoritsu.toml if present).
    #[arg(long, global = true, env = "RYORITSU_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (migrates the database first).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Organisations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Write a consistent copy of the whole database to PATH while the server runs.
    Backup {
        /// Where to write the backup (refuses to overwrite an existing file).
        path: PathBuf,
    },
    /// Load a backup into an empty database.
    Restore {
        /// The backup file.
        path: PathBuf,
    },
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Print the OpenAPI document of the JSON API (as committed in docs/api/openapi.json).
    Openapi,
    /// The full-text search index.
    #[command(subcommand)]
    Search(SearchCommand),
    /// 療養・就労両立支援指導料: the fee engine, without a server or a database.
    #[command(subcommand)]
    Fees(FeesCommand),
    /// Demo data.
    #[command(subcommand)]
    Demo(DemoCommand),
}

#[derive(Subcommand, Debug)]
pub enum DemoCommand {
    /// Load N generated support cases (realistic Japanese data, fixed seed) into the demo
    /// employer, seeding the demo world first on an empty database; also creates the bench
    /// accounts (bench-worker-001 … 032, bench-other) once.
    Load {
        /// How many cases.
        #[arg(long)]
        cases: u64,
        /// The generator's seed: the same seed gives the same cases (on the same day).
        #[arg(long, default_value_t = ryoritsu_app::loader::DEFAULT_SEED)]
        seed: u64,
        /// Cases per transaction.
        #[arg(long, default_value_t = ryoritsu_app::loader::DEFAULT_BATCH,
              value_parser = clap::value_parser!(u32).range(1..=100_000))]
        batch: u32,
    },
}

#[derive(Subcommand, Debug)]
pub enum FeesCommand {
    /// Read a patient's sessions as JSON (docs/fees.md) and print the verdicts as JSON.
    Evaluate {
        /// The input file; standard input when absent or `-`.
        file: Option<PathBuf>,
        /// Rule data to use instead of the built-in revisions (JSON, as docs/fees.md shows),
        /// for a site that settles an uncertain value differently.
        #[arg(long)]
        rules: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Create demo data if the database is empty, and let demo users skip the second factor.
    #[arg(long)]
    pub demo: bool,
    /// Address to listen on (overrides the configuration).
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
}

#[derive(Subcommand, Debug)]
pub enum SearchCommand {
    /// Rebuild the search index from the records, in one transaction (the server may run).
    Reindex,
}

#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Create an organisation (as the system operator).
    Create {
        /// employer, medical_institution, support_agency, labour_bureau, training_body
        #[arg(long)]
        kind: String,
        #[arg(long)]
        name: String,
        /// JIS code (1–47) or name of the prefecture
        #[arg(long)]
        prefecture: String,
        /// For support agencies: ohs_center, regional_ohs_center, other
        #[arg(long)]
        agency_kind: Option<String>,
        /// A workplace of an employer, as NAME:PREFECTURE:yes|no (yes = has an 産業医);
        /// repeat for several.
        #[arg(long = "workplace")]
        workplaces: Vec<String>,
    },
    /// List organisations.
    List,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an account. The password is read from the first line of standard input.
    Create {
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: Option<String>,
        /// Make the account a system operator.
        #[arg(long)]
        operator: bool,
        /// Give the account a role in this organisation (its id).
        #[arg(long, requires = "role")]
        org: Option<Uuid>,
        /// The role: worker, hr_officer, line_manager, occupational_physician,
        /// occupational_health_staff, attending_physician, hospital_coordinator,
        /// agency_coordinator, bureau_staff, org_admin
        #[arg(long, requires = "org")]
        role: Option<String>,
        /// For occupational health staff: sangyoi, sokatsu_anzen_eisei_kanrisha,
        /// eisei_kanrisha, anzen_eisei_suishinsha, eisei_suishinsha, hokenshi
        #[arg(long)]
        safety_health_role: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the whole hash chain; name the first bad sequence number.
    Verify {
        /// A head kept outside the server (from `audit head`), as SEQ:HASH; catches a cut-off
        /// tail and a re-written chain.
        #[arg(long)]
        head: Option<String>,
    },
    /// Print the current head (SEQ:HASH) for keeping outside the server.
    Head,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut cfg = match config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let serving = matches!(cli.command, Command::Serve(_));
    init_logging(&cfg, serving);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("起動できません: {e}");
            return ExitCode::from(2);
        }
    };
    if let Command::Serve(a) = &cli.command {
        cfg.demo |= a.demo;
        if let Some(l) = a.listen {
            cfg.listen = l;
        }
    }
    match rt.block_on(run(cli.command, cfg)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("エラー: {e}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(cfg: &Config, serving: bool) {
    let default = if serving { "info,sqlx=warn" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RYORITSU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if cfg.log_format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

async fn run(command: Command, cfg: Config) -> Result<ExitCode, String> {
    let url = cfg.database_url.clone();
    match command {
        Command::Serve(_) => with_store(&url, server::Serve { cfg })
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Migrate => with_store(&url, Migrate).await,
        Command::Org(c) => with_store(&url, OrgCmd { cfg, c }).await,
        Command::User(c) => with_store(&url, UserCmd { cfg, c }).await,
        Command::Backup { path } => with_store(&url, Backup { cfg, path }).await,
        Command::Restore { path } => with_store(&url, Restore { cfg, path }).await,
        Command::Audit(c) => with_store(&url, AuditCmd { cfg, c }).await,
        Command::Search(SearchCommand::Reindex) => with_store(&url, Reindex { cfg }).await,
        Command::Openapi => {
            print!("{}", ryoritsu_web::http::openapi::openapi_json());
            Ok(ExitCode::SUCCESS)
        }
        Command::Fees(FeesCommand::Evaluate { file, rules }) => fees_evaluate(file, rules),
        Command::Demo(DemoCommand::Load { cases, seed, batch }) => {
            with_store(
                &url,
                DemoLoad {
                    cfg,
                    opts: ryoritsu_app::loader::LoadOptions { cases, seed, batch },
                },
            )
            .await
        }
    }
}

struct DemoLoad {
    cfg: Config,
    opts: ryoritsu_app::loader::LoadOptions,
}

/// 1234567 → "1,234,567".
fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl WithStore for DemoLoad {
    type Output = ExitCode;
    async fn run<S: Store + ryoritsu_app::conformance::Tamper>(
        self,
        store: S,
    ) -> Result<ExitCode, String> {
        let app = app_for(store, &self.cfg).await?;
        let total = self.opts.cases;
        eprintln!(
            "デモの事例を {} 件読み込みます（シード {}、1トランザクション {} 件）: {}",
            grouped(total),
            self.opts.seed,
            grouped(u64::from(self.opts.batch)),
            app.store().describe()
        );
        let summary = app
            .load_demo_cases(&self.opts, |p| {
                eprintln!(
                    "  {} / {} 件（{:.0} 件/秒、{:.1} 秒）",
                    grouped(p.done),
                    grouped(p.total),
                    p.rate(),
                    p.elapsed.as_secs_f64()
                );
            })
            .await
            .map_err(show)?;
        if summary.demo_seeded {
            println!("空のデータベースだったため、デモデータを作成しました。");
        }
        if summary.bench_accounts_created > 0 {
            println!(
                "ベンチマーク用のアカウントを {} 件作成しました（bench-worker-001〜{:03}、bench-other）。",
                summary.bench_accounts_created,
                ryoritsu_app::loader::BENCH_WORKERS
            );
        }
        let c = &summary.counts;
        println!(
            "事例を {} 件読み込みました（シード {}、通し番号 {}〜）: {:.1} 秒、{:.0} 件/秒。",
            grouped(c.cases),
            summary.seed,
            summary.first_case,
            summary.elapsed.as_secs_f64(),
            summary.rate()
        );
        println!(
            "  書類 {}（確定 {}）、同意 {}、関係者 {}、経過 {}、タスク {}（未完了 {}）、監査記録 {}、アクセス索引 {}、計 {} 行（検索の索引を除く）",
            grouped(c.documents),
            grouped(c.finalised_documents),
            grouped(c.consents),
            grouped(c.parties),
            grouped(c.case_events),
            grouped(c.tasks),
            grouped(c.open_tasks),
            grouped(c.audit_events),
            grouped(c.access_rows),
            grouped(c.rows())
        );
        let statuses: Vec<String> = summary
            .by_status
            .iter()
            .map(|(s, n)| format!("{} {}", s.label(), grouped(*n)))
            .collect();
        println!("  状況: {}", statuses.join("、"));
        Ok(ExitCode::SUCCESS)
    }
}

/// `fees evaluate`: the same engine the hospital pages use, for a hospital's own checks.
/// Bad input is answered with a Japanese message naming where the JSON is wrong (exit 2).
fn fees_evaluate(file: Option<PathBuf>, rules: Option<PathBuf>) -> Result<ExitCode, String> {
    use ryoritsu_domain::fees::{FeeInput, evaluate};
    use std::io::Read;
    let mut text = String::new();
    match file.as_deref() {
        Some(p) if p != std::path::Path::new("-") => {
            text = std::fs::read_to_string(p)
                .map_err(|e| format!("入力ファイル {} を読めません: {e}", p.display()))?;
        }
        _ => {
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("標準入力を読めません: {e}"))?;
        }
    }
    let schedule = crate::config::fee_schedule(rules.as_deref())?;
    let input: FeeInput = match serde_json::from_str(&text) {
        Ok(i) => i,
        Err(e) => {
            eprintln!(
                "入力の形式が正しくありません（{}行{}列）: {e}。形式は docs/fees.md を参照してください。",
                e.line(),
                e.column()
            );
            return Ok(ExitCode::from(2));
        }
    };
    let out = serde_json::to_string_pretty(&evaluate(&schedule, &input))
        .map_err(|e| format!("結果を書き出せません: {e}"))?;
    println!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// Commands act as the system operator; their audit events carry the nil actor and the
/// purpose `cli`, so they are told apart from actions in the web interface.
fn cli_operator() -> Principal {
    Principal {
        user: Uuid::nil(),
        operator: true,
        memberships: Vec::new(),
        second_factor_ok: true,
    }
}

fn cli_ctx() -> RequestContext {
    RequestContext {
        operation_id: Some("cli".into()),
        client_ip: None,
        user_agent: Some("ryoritsu-cli".into()),
    }
}

async fn app_for<S: Store>(store: S, cfg: &Config) -> Result<App<S>, String> {
    migrate(&store).await?;
    App::new(
        store,
        server::app_config(cfg)?,
        Arc::new(SystemClock),
        Arc::new(RandomIds),
    )
    .map_err(|e| e.to_string())
}

pub(crate) fn show(e: ryoritsu_app::AppError) -> String {
    match &e {
        ryoritsu_app::AppError::Invalid(v) => v
            .errors
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => e.message(),
    }
}

struct Migrate;

impl WithStore for Migrate {
    type Output = ExitCode;
    async fn run<S: Store + ryoritsu_app::conformance::Tamper>(
        self,
        store: S,
    ) -> Result<ExitCode, String> {
        let applied = migrate(&store).await?;
        if applied.is_empty() {
            println!("スキーマは最新です。");
        } else {
            println!("マイグレーションを適用しました: {applied:?}");
        }
        Ok(ExitCode::SUCCESS)
    }
}

struct OrgCmd {
    cfg: Config,
    c: OrgCommand,
}

impl WithStore for OrgCmd {
    type Output = ExitCode;
    async fn run<S: Store + ryoritsu_app::conformance::Tamper>(
        self,
        store: S,
    ) -> Result<ExitCode, String> {
        let app = app_for(store, &self.cfg).await?;
        let op = cli_operator();
        match self.c {
            OrgCommand::Create {
                kind,
                name,
                prefecture,
                agency_kind,
                workplaces,
            } => {
                let mut new =
                    NewOrganisation::parse(&kind, &name, &prefecture, agency_kind.as_deref())
                        .map_err(|v| show(v.into()))?;
                for w in workplaces {
                    let mut parts = w.splitn(3, ':');
                    let (Some(n), Some(p)) = (parts.next(), parts.next()) else {
                        return Err(format!(
                            "--workplace は 名前:都道府県:yes|no の形で指定してください（{w}）"
                        ));
                    };
                    let physician =
                        matches!(parts.next().map(str::trim), Some("yes" | "true" | "あり"));
                    new.workplaces.push(NewWorkplace {
                        name: DisplayName::parse("workplace", "事業場名", n)
                            .map_err(|e| e.message)?,
                        prefecture: ryoritsu_app::accounts::orgs::parse_prefecture("workplace", p)
                            .map_err(|e| e.message)?,
                        has_occupational_physician: physician,
                    });
                }
                let permit =
                    decide(&op, Action::CreateOrganisation).map_err(|d| d.message().to_owned())?;
                let o = app
                    .create_organisation(&cli_ctx(), &op, permit, new)
                    .await
                    .map_err(show)?;
                println!("{}", o.id);
                eprintln!(
                    "組織を登録しました: {}（{}・{}）",
                    o.name,
                    o.kind.label(),
                    o.prefecture.name()
                );
            }
            OrgCommand::List => {
                let mut c = app.store().read().await.map_err(|e| e.to_string())?;
                use ryoritsu_app::accounts::ports::AccountReads;
                for o in c.list_organisations().await.map_err(|e| e.to_string())? {
                    println!(
                        "{}\t{}\t{}\t{}",
                        o.id,
                        o.kind.code(),
                        o.prefecture.jis_code(),
                        o.name
                    );
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

struct UserCmd {
    cfg: Config,
    c: UserCommand,
}

impl WithStore for UserCmd {
    type Output = ExitCode;
    async fn run<S: Store + ryoritsu_app::conformance::Tamper>(
        self,
        store: S,
    ) -> Result<ExitCode, String> {
        let app = app_for(store, &self.cfg).await?;
        let UserCommand::Create {
            login,
            name,
            email,
            operator,
            org,
            role,
            safety_health_role,
        } = self.c;
        let mut password = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut password)
            .map_err(|e| format!("パスワードを標準入力から読めません: {e}"))?;
        let password = password.trim_end_matches(['\r', '\n']);
        let mut new = NewUser::parse(&login, &name, email.as_deref(), password)
            .map_err(|v| show(v.into()))?;
        new.operator = operator;
        let op = cli_operator();
        let ctx = cli_ctx();
        let role = match role {
            Some(r) => Some(
                Role::from_code(&r)
                    .filter(|r| r.invitable())
                    .ok_or_else(|| format!("役割 {r} はありません。"))?,
            ),
            None => None,
        };
        let detail = RoleDetail {
            safety_health_role: match safety_health_role {
                Some(s) => Some(
                    SafetyHealthRole::from_code(&s)
                        .ok_or_else(|| format!("安衛法上の役割 {s} はありません。"))?,
                ),
                None => None,
            },
            ..RoleDetail::default()
        };
        let user = app.create_user(&ctx, Some(&op), new).await.map_err(show)?;
        if let (Some(org), Some(role)) = (org, role) {
            app.grant_membership(&ctx, &op, user.id, org, role, detail)
                .await
                .map_err(show)?;
        }
        println!("{}", user.id);
        eprintln!(
            "アカウントを作成しました: {}（{}）",
            user.display_name, user.login
        );
        Ok(ExitCode::SUCCESS)
    }
}

struct Backup {
    cfg: Config,
    path: PathBuf,
}

impl WithStore for Backup {
    type Output = ExitCode;
    async fn run<S: Store + ryoritsu_app::conformance::Tamper>(
        self,
        store: S,
    ) -> Result<ExitCode, String> {
        let app = app_for(store, &self.cfg).await?;
        // Written beside the target and renamed into place, so a failed backup never
        // leaves a file that looks complete.
        let tmp = self.path.with_extension("partial");
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| format!("{} に書き込めません: {e}", tmp.display()))?;
        if self.path.exists() {
            let _ = std::fs::remove_file(&tmp);
            return Err(format!(
                "{} はすでにあります。別の名前を指定してください。",
                self.path.display()
            ));
        }
        let mut w = BufWriter::new(file);
        let result = app.backup(&mut w).await;
        let rows = match result {
            Ok(n) => n,
            Err(e) => {
                drop(w);
                let _ = std::fs::remove_file(&tmp);
                return Err(show(e));
            }
        };
        let file = w.into_inner().map_err(|e| e.to_string())?;
        file.sync_all().map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, &self.path).map_err(|e| e.to_string())?;
        println!(
            "バックアップを作成しました: {}（{rows} 行）",
            self.path.display()
        );
        Ok(ExitCode::SUCCESS)
    }
}

struct Restore {
    cfg: Config,
    path: PathBuf,
}

struct Reindex {
    cfg: Config,
}

impl WithStore for Reindex {
    type Output = ExitCode;
    async fn run<S: Store + ryoritsu_app::conformance::Tamper>(
        self,
        store: S,
    ) -> Result<ExitCode, String> {
        let app = app_for(store, &self.cfg).await?;
        let rows = app.reindex().await.map_err(show)?;
        println!("検索の索引を作り直しました（{rows} 行）。");
        Ok(ExitCode::SUCCESS)
    }
}

impl WithStore for Restore {
    type Output = ExitCode;
    async fn run<S: Store + ryoritsu_app::conformance::Tamper>(
        self,
        store: S,
    ) -> Result<ExitCode, String> {
        let app = app_for(store, &self.cfg).await?;
        let file = std::fs::File::open(&self.path)
            .map_err(|e| format!("{} を開けません: {e}", self.path.display()))?;
        let rows = app.restore(BufReader::new(file)).await.map_err(show)?;
        println!("復元しました: {rows} 行。監査ログの検証も完了しています。");
        Ok(ExitCode::SUCCESS)
    }
}

struct AuditCmd {
    cfg: Config,
    c: AuditCommand,
}

impl WithStore for AuditCmd {
    type Output = ExitCode;
    async fn run<S: Store + ryoritsu_app::conformance::Tamper>(
        self,
        store: S,
    ) -> Result<ExitCode, String> {
        let app = app_for(store, &self.cfg).await?;
        match self.c {
            AuditCommand::Head => {
                let head = app.audit_head().await.map_err(show)?;
                println!("{}", head.to_text());
                Ok(ExitCode::SUCCESS)
            }
            AuditCommand::Verify { head } => {
                let expected = match head {
                    Some(h) => Some(
                        ChainHead::parse(&h)
                            .ok_or("--head は SEQ:HASH の形で指定してください。")?,
                    ),
                    None => None,
                };
                match app.verify_audit(expected).await.map_err(show)? {
                    Ok(r) => {
                        println!(
                            "監査ログは正常です: {} 件、ヘッド {}",
                            r.records,
                            r.head.to_text()
                        );
                        let _ = std::io::stdout().flush();
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(b) => {
                        println!("監査ログの検証に失敗しました: {b}");
                        println!("first_bad_seq={}", b.seq);
                        Ok(ExitCode::from(3))
                    }
                }
            }
        }
    }
}
