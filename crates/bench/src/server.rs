//! The `ryoritsu` binary under test: its commands (`migrate`, `demo load`, `org`, `user`)
//! and `serve --demo` as a child process on a free port of 127.0.0.1.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The line `serve` prints once it listens and the demo world is in place.
const STARTED: &str = "Ryoritsu を起動しました";

#[derive(Debug, Clone)]
pub struct Ryoritsu {
    pub bin: PathBuf,
    /// The working directory of every run (so no `ryoritsu.toml` is picked up by accident).
    pub work: PathBuf,
    pub database_url: String,
    /// `--server-env KEY=VALUE` pairs.
    pub extra_env: Vec<(String, String)>,
}

/// The output of a finished command.
#[derive(Debug)]
pub struct Finished {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Ryoritsu {
    fn command(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.current_dir(&self.work);
        // Only the settings given here: a developer's own RYORITSU_… variables (another
        // database, cheaper password hashing) must not leak into the measurement. The log
        // filter passes through.
        for (k, _) in std::env::vars_os() {
            if let Some(k) = k.to_str()
                && k.starts_with("RYORITSU_")
                && k != "RYORITSU_LOG"
            {
                c.env_remove(k);
            }
        }
        c.env("RYORITSU_DATABASE_URL", &self.database_url);
        for (k, v) in &self.extra_env {
            c.env(k, v);
        }
        c
    }

    /// Runs `ryoritsu ARGS…` to the end, with `stdin` as its standard input.
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Result<Finished, String> {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{} could not be run: {e}", self.bin.display()))?;
        if let Some(mut input) = child.stdin.take()
            && let Some(s) = stdin
        {
            input
                .write_all(s.as_bytes())
                .map_err(|e| format!("ryoritsu {}: {e}", args.join(" ")))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| format!("ryoritsu {}: {e}", args.join(" ")))?;
        Ok(Finished {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// Runs a command that must succeed, its output shown on the terminal.
    pub fn run_visible(&self, args: &[&str]) -> Result<(), String> {
        let status = self
            .command()
            .args(args)
            .stdin(Stdio::null())
            .status()
            .map_err(|e| format!("{} could not be run: {e}", self.bin.display()))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("ryoritsu {} failed ({status})", args.join(" ")))
        }
    }

    /// Whether this build has the bulk loader `ryoritsu demo load`.
    pub fn has_demo_load(&self) -> bool {
        self.run(&["demo", "load", "--help"], None)
            .map(|f| f.ok)
            .unwrap_or(false)
    }

    /// Starts `ryoritsu serve --demo` on a free port and waits for the first successful
    /// `GET /healthz`; returns the server and the time from spawning it to that answer.
    pub async fn start(&self, label: &str) -> Result<(Server, Duration), String> {
        let port = free_port()?;
        let out_path = self.work.join(format!("{label}.out"));
        let err_path = self.work.join(format!("{label}.log"));
        let out = File::create(&out_path).map_err(|e| format!("{}: {e}", out_path.display()))?;
        let err = File::create(&err_path).map_err(|e| format!("{}: {e}", err_path.display()))?;
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| e.to_string())?;
        let spawned = Instant::now();
        let child = self
            .command()
            .args(["serve", "--demo"])
            .env("RYORITSU_LISTEN", format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("{} could not be started: {e}", self.bin.display()))?;
        let mut server = Server {
            pid: child.id(),
            child,
            base,
            out: out_path,
            log: err_path,
        };
        // A 1M-case database may take a while to open; give it ten minutes.
        let deadline = spawned + Duration::from_secs(600);
        loop {
            if let Ok(r) = http.get(format!("{}/healthz", server.base)).send().await
                && r.status().as_u16() == 200
            {
                return Ok((server, spawned.elapsed()));
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "the server exited before answering ({status}):\n{}",
                    server.log_tail(20)
                ));
            }
            if Instant::now() > deadline {
                let _ = server.stop().await;
                return Err("the server did not answer /healthz within 600 s".into());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

pub struct Server {
    child: Child,
    pub pid: u32,
    pub base: String,
    out: PathBuf,
    pub log: PathBuf,
}

impl Server {
    /// Waits until `serve` says it has started (after creating the demo world on an empty
    /// database).
    pub async fn wait_started(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if std::fs::read_to_string(&self.out).is_ok_and(|s| s.contains(STARTED)) {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "the server exited ({status}):\n{}",
                    self.log_tail(20)
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the server did not report `{STARTED}` within {} s",
                    timeout.as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What the server said of its store at start-up (`storage ready backend=…`).
    pub fn described_backend(&self) -> Option<String> {
        let log = std::fs::read_to_string(&self.log).ok()?;
        log.lines()
            .map(strip_ansi)
            .find(|l| l.contains("storage ready"))
            .and_then(|l| backend_of(&l))
    }

    pub fn log_tail(&self, n: usize) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<String> = log.lines().map(strip_ansi).collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM, then up to 60 s for a clean exit (SIGKILL after that). Returns the exit
    /// status and whether the stop was clean.
    pub async fn stop(&mut self) -> Result<(ExitStatus, bool), String> {
        let pid = i32::try_from(self.pid).map_err(|e| e.to_string())?;
        if let Ok(Some(status)) = self.child.try_wait() {
            return Ok((status, false));
        }
        kill(Pid::from_raw(pid), Signal::SIGTERM).map_err(|e| format!("SIGTERM: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Ok((status, status.success()));
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let status = self.child.wait().map_err(|e| e.to_string())?;
                return Ok((status, false));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Never leave a server behind (an error path that did not stop it).
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A port of 127.0.0.1 that nothing listens on at this moment.
fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// Removes ANSI escape sequences (the server's log is coloured).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// `… storage ready backend=SQLite (WAL, synchronous=FULL) database=sqlite://…` → the
/// backend's description.
pub fn backend_of(line: &str) -> Option<String> {
    let start = line.find("backend=")? + "backend=".len();
    let rest = &line[start..];
    let end = rest.find(" database=").unwrap_or(rest.len());
    let v = rest[..end].trim().trim_matches('"');
    (!v.is_empty()).then(|| v.to_owned())
}

/// The path of the bench's own temporary directory.
pub fn work_dir(parent: Option<&Path>) -> Result<tempfile::TempDir, String> {
    let b = tempfile::Builder::new()
        .prefix("ryoritsu-bench-")
        .tempdir_in(
            parent
                .map(Path::to_path_buf)
                .unwrap_or_else(std::env::temp_dir),
        );
    b.map_err(|e| format!("temporary directory: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backend_is_read_from_the_coloured_start_up_line() {
        let line = "\u{1b}[2m2026-12-06T23:30:00.1Z\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m \u{1b}[2mryoritsu::server\u{1b}[0m\u{1b}[2m:\u{1b}[0m storage ready \u{1b}[3mbackend\u{1b}[0m\u{1b}[2m=\u{1b}[0mSQLite (WAL, synchronous=FULL, foreign_keys=ON) \u{1b}[3mdatabase\u{1b}[0m\u{1b}[2m=\u{1b}[0msqlite:///tmp/b.db";
        let plain = strip_ansi(line);
        assert!(plain.contains("storage ready backend=SQLite"), "{plain}");
        assert_eq!(
            backend_of(&plain).as_deref(),
            Some("SQLite (WAL, synchronous=FULL, foreign_keys=ON)")
        );
        assert_eq!(
            backend_of("storage ready backend=PostgreSQL (synchronous_commit=on)").as_deref(),
            Some("PostgreSQL (synchronous_commit=on)")
        );
        assert_eq!(backend_of("request status=200"), None);
    }
}
