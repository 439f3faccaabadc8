//! `ryoritsu-bench`: the project's load generator for the one-case workload
//! (docs/benchmarks.md, and the benchmark design it follows).
//!
//! It prepares a database, lets `ryoritsu` create the demo world (and pre-load cases with
//! `ryoritsu demo load` when asked), starts `ryoritsu serve --demo` on 127.0.0.1, drives the
//! JSON API in a closed loop at each number of virtual users (warm-up, then a bounded
//! measured period), stops the server with SIGTERM and measures the disk. It prints a table
//! and writes the same figures as JSON. Any unexpected response makes the run invalid
//! (exit status 1).

mod client;
mod db;
mod procfs;
mod report;
mod server;
mod text;
mod workload;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::db::Db;
use crate::report::{Backend, Counted, Disk, Latencies, LevelFigures, Report};
use crate::server::Ryoritsu;
use crate::workload::{Accounts, Options, Shared, Vu, Window};

#[derive(Parser, Debug)]
#[command(
    name = "ryoritsu-bench",
    version,
    about = "The one-case workload against a real `ryoritsu serve` on 127.0.0.1 (docs/benchmarks.md)."
)]
struct Args {
    /// The server binary to measure (build it with `cargo build --release -p ryoritsu`).
    #[arg(long, default_value = "target/release/ryoritsu")]
    ryoritsu: PathBuf,
    /// `sqlite://` for a fresh file in a temporary directory, `sqlite://PATH` for a new
    /// file there, or `postgres://USER[:PASSWORD]@127.0.0.1:5432/NAME` for an EMPTY
    /// PostgreSQL database (see --fresh).
    #[arg(long, default_value = "sqlite://")]
    database_url: String,
    /// Drop and re-create the PostgreSQL database first (through the server's `postgres`
    /// database), or remove an existing SQLite file.
    #[arg(long)]
    fresh: bool,
    /// Numbers of concurrent virtual users, one load level each, in this order.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    users: Vec<usize>,
    /// Warm-up of each level before its measured period, in seconds.
    #[arg(long, default_value_t = 10)]
    warmup_secs: u64,
    /// The measured period of each level, in seconds.
    #[arg(long, default_value_t = 30)]
    secs: u64,
    /// Pre-load N cases with `ryoritsu demo load --cases N` before measuring (the design's
    /// reference run uses 10000; the scale run 1000000).
    #[arg(long, default_value_t = 0)]
    preload: u64,
    /// Only W1–W3 (the writes): no reads, no search.
    #[arg(long)]
    writes_only: bool,
    /// Measure W6 (monthly statistics by a bureau user, once per 50 cases). Off by default:
    /// there is no statistics API yet.
    #[arg(long)]
    w6: bool,
    /// The request W6 makes, when switched on.
    #[arg(long, default_value = "/api/v1/statistics/monthly?months=12")]
    w6_path: String,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// The fsync probe run just before measuring (`python3 PATH 300`).
    #[arg(long, default_value = "../shared/tools/fsync_probe.py")]
    fsync_probe: PathBuf,
    /// Where to make the temporary directory (the SQLite file, the server's logs).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Keep the temporary directory (and its database and logs) afterwards.
    #[arg(long)]
    keep: bool,
    /// Do not create the bench accounts (bench-worker-NNN, bench-other) when `demo load`
    /// has not: every virtual user is then the demo `worker`, and the denied reader `bureau`.
    #[arg(long)]
    no_create_accounts: bool,
    /// Extra environment for the server and its commands, as KEY=VALUE (repeatable).
    #[arg(long = "server-env", value_parser = parse_key_value)]
    server_env: Vec<(String, String)>,
    /// Seed of the text generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The revision of the server measured, when its binary was not built from the work
    /// tree the bench runs in (default: `git rev-parse --short HEAD` here).
    #[arg(long)]
    revision: Option<String>,
    /// Stop the run after this many unexpected responses.
    #[arg(long, default_value_t = 20)]
    max_errors: u64,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ryoritsu-bench: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(args)) {
        Ok(report) if report.valid => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("ryoritsu-bench: {e}");
            ExitCode::from(2)
        }
    }
}

fn progress(msg: impl AsRef<str>) {
    eprintln!("[ryoritsu-bench] {}", msg.as_ref());
}

fn git_revision() -> String {
    let rev = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let Some(rev) = rev else {
        return "unknown (not a git work tree)".into();
    };
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .is_some_and(|o| !o.stdout.is_empty());
    if dirty {
        format!("{rev} (with uncommitted changes)")
    } else {
        rev
    }
}

fn fsync_probe(script: &Path, work: &Path) -> String {
    if !script.is_file() {
        return "fsync probe: not available".into();
    }
    let out = Command::new("python3")
        .arg(script)
        .arg("300")
        .arg(work.join("fsync_probe.bin"))
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let s = String::from_utf8_lossy(&o.stdout);
            s.lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("fsync probe: no output")
                .trim()
                .to_owned()
        }
        Ok(o) => format!(
            "fsync probe: failed ({})",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => format!("fsync probe: not available (python3: {e})"),
    }
}

fn load_average() -> Option<String> {
    let s = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

/// The date in Japan (the dates written on the forms and searched for).
fn today_in_japan() -> time::Date {
    let jst = time::UtcOffset::from_hms(9, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::now_utc().to_offset(jst).date()
}

/// Creates `bench-worker-001…n` at 株式会社みどり精機 and `bench-other` at an employer of its
/// own with the server's commands, unless they exist (made by `demo load`). Returns what
/// was done.
fn create_bench_accounts(ry: &Ryoritsu, n: usize) -> Result<String, String> {
    let orgs = ry.run(&["org", "list"], None)?;
    if !orgs.ok {
        return Err(format!("ryoritsu org list: {}", orgs.stderr.trim()));
    }
    let employer = orgs
        .stdout
        .lines()
        .find(|l| l.ends_with("\t株式会社みどり精機"))
        .and_then(|l| l.split('\t').next())
        .ok_or("the demo employer 株式会社みどり精機 is missing")?
        .to_owned();
    let password = format!("{}\n", workload::PASSWORD);
    let create = |login: &str, k: usize, org: &str| {
        ry.run(
            &[
                "user",
                "create",
                "--login",
                login,
                "--name",
                &text::person_name(k),
                "--org",
                org,
                "--role",
                "worker",
            ],
            Some(&password),
        )
    };
    let first = create(&workload::bench_worker(1), 1, &employer)?;
    if !first.ok {
        return Ok(format!(
            "bench accounts kept from an earlier load ({} cannot be created again: {})",
            workload::bench_worker(1),
            first.stderr.lines().last().unwrap_or("").trim()
        ));
    }
    for k in 2..=n {
        let r = create(&workload::bench_worker(k), k, &employer)?;
        if !r.ok {
            return Err(format!(
                "ryoritsu user create {}: {}",
                workload::bench_worker(k),
                r.stderr.trim()
            ));
        }
    }
    let other = ry.run(
        &[
            "org",
            "create",
            "--kind",
            "employer",
            "--name",
            "株式会社ベンチ商事",
            "--prefecture",
            "13",
        ],
        None,
    )?;
    let other_id = other
        .stdout
        .lines()
        .next()
        .map(str::trim)
        .filter(|_| other.ok)
        .ok_or_else(|| format!("ryoritsu org create: {}", other.stderr.trim()))?
        .to_owned();
    let r = create("bench-other", 100, &other_id)?;
    if !r.ok {
        return Err(format!(
            "ryoritsu user create bench-other: {}",
            r.stderr.trim()
        ));
    }
    Ok(format!(
        "bench-worker-001…{n:03} and bench-other created by ryoritsu-bench (`ryoritsu user create`)"
    ))
}

async fn run(args: Args) -> Result<Report, String> {
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    if !args.ryoritsu.is_file() {
        return Err(format!(
            "{} not found: build it with `cargo build --release -p ryoritsu` or name it with --ryoritsu",
            args.ryoritsu.display()
        ));
    }
    if args.users.is_empty() || args.users.contains(&0) {
        return Err("--users needs numbers of at least 1, e.g. 1,8,32".into());
    }
    let ryoritsu_bin = std::fs::canonicalize(&args.ryoritsu)
        .map_err(|e| format!("{}: {e}", args.ryoritsu.display()))?;
    let tmp = server::work_dir(args.work_dir.as_deref())?;
    let work = tmp.path().to_path_buf();
    let _keep_or_remove = if args.keep {
        progress(format!("keeping {}", work.display()));
        let _ = tmp.keep();
        None
    } else {
        Some(tmp)
    };
    let mut notes: Vec<String> = Vec::new();
    let git_revision = args.revision.clone().unwrap_or_else(git_revision);
    let (ticks_per_sec, ticks_read) = procfs::clock_ticks();

    let db = Db::prepare(&args.database_url, args.fresh, &work)?;
    let ry = Ryoritsu {
        bin: ryoritsu_bin.clone(),
        work: work.clone(),
        database_url: db.url().to_owned(),
        extra_env: args.server_env.clone(),
    };
    progress(format!(
        "database {} ({}), work directory {}",
        db::redact(db.url()),
        db.kind(),
        work.display()
    ));
    if !args.server_env.is_empty() {
        notes.push(format!(
            "server environment set by --server-env: {}",
            args.server_env
                .iter()
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Ok(l) = std::env::var("RYORITSU_LOG") {
        notes.push(format!("server log filter RYORITSU_LOG={l}"));
    }

    // 1–2: migrate, then the demo world on the empty database.
    progress("ryoritsu migrate");
    let m = ry.run(&["migrate"], None)?;
    if !m.ok {
        return Err(format!("ryoritsu migrate failed: {}", m.stderr.trim()));
    }
    progress("ryoritsu serve --demo on the empty database (creates the demo world)");
    let (mut seed, startup_empty) = ry.start("server-seed").await?;
    seed.wait_started(Duration::from_secs(600)).await?;
    let (status, clean) = seed.stop().await?;
    if !clean {
        notes.push(format!(
            "the seeding server did not stop cleanly ({status})"
        ));
    }
    drop(seed);

    let mut preload_secs = None;
    if args.preload > 0 {
        if !ry.has_demo_load() {
            return Err(format!(
                "--preload {} needs `ryoritsu demo load --cases N`, which {} does not have (yet); run with --preload 0",
                args.preload,
                ryoritsu_bin.display()
            ));
        }
        progress(format!("ryoritsu demo load --cases {}", args.preload));
        let t = Instant::now();
        ry.run_visible(&["demo", "load", "--cases", &args.preload.to_string()])?;
        preload_secs = Some(t.elapsed().as_secs_f64());
    }
    let max_users = args.users.iter().copied().max().unwrap_or(1);
    let accounts_made = if args.no_create_accounts {
        None
    } else {
        progress("bench accounts");
        Some(create_bench_accounts(&ry, max_users)?)
    };

    let (disk_before, disk_method) = match db.disk_bytes() {
        Ok(d) => (Some(d.0), d.1),
        Err(e) => {
            notes.push(format!("disk not measured: {e}"));
            (None, String::new())
        }
    };

    // 3: the measured server.
    let load_average_before = load_average();
    progress("fsync probe");
    let fsync = fsync_probe(&args.fsync_probe, &work);
    progress(&fsync);
    progress("ryoritsu serve --demo on the loaded database");
    let (mut srv, startup_loaded) = ry.start("server").await?;
    srv.wait_started(Duration::from_secs(600)).await?;
    let described = srv.described_backend();
    let base = srv.base.clone();

    // The accounts: one probe each, so that a missing account costs at most one failure.
    let probe = client::http_client()?;
    let bench_workers = client::sign_in(
        &probe,
        &base,
        &workload::bench_worker(1),
        workload::PASSWORD,
    )
    .await?
    .is_some();
    let other = if client::sign_in(&probe, &base, "bench-other", workload::PASSWORD)
        .await?
        .is_some()
    {
        "bench-other".to_owned()
    } else {
        "bureau".to_owned()
    };
    let accounts = Accounts {
        bench_workers,
        other: other.clone(),
    };
    let accounts_text = format!(
        "{}; workers: {}; denied reader: {}{}",
        accounts_made.unwrap_or_else(|| "no accounts created (--no-create-accounts)".into()),
        if bench_workers {
            "bench-worker-NNN (one per virtual user)"
        } else {
            "the demo `worker` for every virtual user"
        },
        other,
        if other == "bureau" {
            " (a labour-bureau user: bench-other is missing)"
        } else {
            " (a worker of another employer)"
        }
    );

    let opts = Options {
        writes_only: args.writes_only,
        w6_path: args.w6.then(|| args.w6_path.clone()),
        max_errors: args.max_errors.max(1),
        seed: args.seed,
    };
    let template = Latencies::new()?;
    let mut vus: Vec<Vu> = Vec::new();
    progress("signing in virtual user 1");
    vus.push(Vu::sign_in(1, &base, &accounts, &opts).await?);
    let world = match vus.first() {
        Some(v) => v.world(&base, today_in_japan()).await?,
        None => return Err("no virtual user".into()),
    };
    let shared = Arc::new(Shared::new(world, opts.clone()));

    let mut levels = Vec::new();
    for &n in &args.users {
        if shared.abort.load(Ordering::SeqCst) {
            break;
        }
        if vus.len() < n {
            progress(format!(
                "signing in virtual users {}…{n} (one role at a time: Argon2 stays out of the measurement)",
                vus.len() + 1
            ));
        }
        while vus.len() < n {
            let k = vus.len() + 1;
            vus.push(Vu::sign_in(k, &base, &accounts, &opts).await?);
        }
        progress(format!(
            "{n} users: {} s warm-up, {} s measured",
            args.warmup_secs, args.secs
        ));
        let now = Instant::now();
        let win = Window {
            start: now + Duration::from_secs(args.warmup_secs),
            end: now + Duration::from_secs(args.warmup_secs + args.secs),
        };
        let mut tasks = Vec::new();
        let idle: Vec<Vu> = vus.split_off(n);
        for vu in vus.drain(..) {
            let sh = shared.clone();
            let lat = template.empty_like();
            tasks.push(tokio::spawn(async move {
                workload::run(vu, &sh, win, lat).await
            }));
        }
        tokio::time::sleep_until(tokio::time::Instant::from_std(win.start)).await;
        let cpu0 = procfs::read_stat(srv.pid).map(|s| s.ticks());
        let db0 = db.server_ticks();
        let t0 = Instant::now();
        tokio::time::sleep_until(tokio::time::Instant::from_std(win.end)).await;
        let cpu1 = procfs::read_stat(srv.pid).map(|s| s.ticks());
        let db1 = db.server_ticks();
        let measured = t0.elapsed().as_secs_f64();
        let mut lat = template.empty_like();
        let mut cases = 0;
        for t in tasks {
            match t.await {
                Ok((vu, l, c)) => {
                    lat.merge(&l);
                    cases += c;
                    vus.push(vu);
                }
                Err(e) => {
                    shared.fail("—", "virtual user", None, format!("task failed: {e}"));
                }
            }
        }
        vus.sort_by_key(|v| v.k);
        vus.extend(idle);
        let ms = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a) as f64 * 1000.0 / ticks_per_sec as f64),
            _ => None,
        };
        let server_cpu = ms(cpu0, cpu1).unwrap_or_else(|| {
            notes.push("the server's CPU time could not be read".into());
            0.0
        });
        let errors = shared.errors.load(Ordering::SeqCst);
        let level = LevelFigures::from_run(
            Counted {
                users: n,
                warmup_secs: args.warmup_secs as f64,
                measured_secs: measured,
                cases,
                server_cpu_ms: server_cpu,
                db_cpu_ms: ms(db0, db1),
                errors,
            },
            &lat,
        );
        progress(format!(
            "{n} users: {:.1} cases/s, {:.0} requests/s, server CPU {} ms/case",
            level.cases_per_sec,
            level.requests_per_sec,
            level
                .server_cpu_ms_per_case
                .map_or_else(|| "—".to_owned(), |v| format!("{v:.1}"))
        ));
        levels.push(level);
        if !srv.running() {
            shared.fail(
                "—",
                "server",
                None,
                "the server stopped during the run".into(),
            );
            break;
        }
    }

    // 5: peak RSS, a clean stop, then the disk.
    let peak_rss_kib = procfs::read_vm_hwm_kib(srv.pid);
    progress("stopping the server (SIGTERM)");
    let (status, clean) = srv.stop().await?;
    if !clean {
        shared.fail(
            "—",
            "server stop",
            None,
            format!(
                "the server did not stop cleanly on SIGTERM ({status}):\n{}",
                srv.log_tail(10)
            ),
        );
    }
    let cases_created = shared.cases_created.load(Ordering::SeqCst);
    let disk = match (disk_before, db.disk_bytes()) {
        (Some(before), Ok((after, _))) => Some(Disk {
            method: disk_method,
            bytes_before: before,
            bytes_after: after,
            cases_created,
            bytes_per_case: (cases_created > 0)
                .then(|| after.saturating_sub(before) as f64 / cases_created as f64),
        }),
        (_, Err(e)) => {
            notes.push(format!("disk not measured after the run: {e}"));
            None
        }
        _ => None,
    };
    if args.preload == 0 {
        notes.push(
            "no cases pre-loaded (--preload 0): the database held the demo world only; the design's reference run pre-loads 10,000".into(),
        );
    }
    notes.push(
        "the load levels run one after another on one server, so later levels find the cases of earlier ones".into(),
    );

    let forms = shared.forms.load(Ordering::Relaxed).max(1) as f64;
    let errors = shared.errors.load(Ordering::SeqCst);
    let error_samples = shared.samples.lock().map(|s| s.clone()).unwrap_or_default();
    let report = Report {
        tool: format!("ryoritsu-bench {}", env!("CARGO_PKG_VERSION")),
        started_at,
        git_revision,
        fsync_probe: fsync,
        backend: Backend {
            kind: db.kind().into(),
            url: db::redact(db.url()),
            described,
            settings: db.settings().into(),
        },
        ryoritsu: ryoritsu_bin.display().to_string(),
        preload_cases: args.preload,
        accounts: accounts_text,
        workload: if args.writes_only {
            "W1–W3 only (--writes-only)".into()
        } else {
            "W1–W5 per case: W1 申出, W2 two forms (draft, save, confirm, finalise), W3 two consents, W4 reads ×5, W5 searches ×2".into()
        },
        w6: if args.w6 {
            format!("W6: measured with GET {} once per 50 cases", args.w6_path)
        } else {
            "W6: not measured (no statistics API yet)".into()
        },
        clock_ticks_per_sec: ticks_per_sec,
        clock_ticks_assumed: !ticks_read,
        load_average_before,
        startup_empty_ms: Some(startup_empty.as_secs_f64() * 1000.0),
        startup_loaded_ms: Some(startup_loaded.as_secs_f64() * 1000.0),
        preload_secs,
        levels,
        peak_rss_kib,
        disk,
        form_answers: shared.form_answers.load(Ordering::Relaxed) as f64 / forms,
        form_bytes: shared.form_bytes.load(Ordering::Relaxed) as f64 / forms,
        valid: errors == 0,
        errors,
        error_samples,
        notes,
    };
    print!("{}", report.table());
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
        progress(format!("figures written to {}", path.display()));
    }
    Ok(report)
}
