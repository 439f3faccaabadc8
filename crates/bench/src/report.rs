//! The figures of a run: latency histograms per step and per request, the report as JSON,
//! and the same figures as a table.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies in microseconds, from 1 µs to 10 minutes, 3 significant digits.
pub fn new_histogram() -> Result<Histogram<u64>, String> {
    Histogram::new_with_bounds(1, 600_000_000, 3).map_err(|e| format!("histogram: {e:?}"))
}

/// Per step (W1…W6) and per request kind, the latencies of one virtual user or of a whole
/// load level, recorded only inside the measured period.
#[derive(Debug, Clone)]
pub struct Latencies {
    /// An empty histogram with the bounds above, copied for every new entry.
    template: Histogram<u64>,
    pub by_step: BTreeMap<&'static str, Histogram<u64>>,
    pub by_request: BTreeMap<&'static str, (&'static str, Histogram<u64>)>,
}

impl Latencies {
    pub fn new() -> Result<Latencies, String> {
        Ok(Latencies {
            template: new_histogram()?,
            by_step: BTreeMap::new(),
            by_request: BTreeMap::new(),
        })
    }

    /// An empty collection with the same bounds.
    pub fn empty_like(&self) -> Latencies {
        Latencies {
            template: Histogram::new_from(&self.template),
            by_step: BTreeMap::new(),
            by_request: BTreeMap::new(),
        }
    }

    pub fn record(&mut self, step: &'static str, request: &'static str, micros: u64) {
        let t = &self.template;
        self.by_step
            .entry(step)
            .or_insert_with(|| Histogram::new_from(t))
            .saturating_record(micros.max(1));
        self.by_request
            .entry(request)
            .or_insert_with(|| (step, Histogram::new_from(t)))
            .1
            .saturating_record(micros.max(1));
    }

    pub fn merge(&mut self, other: &Latencies) {
        let t = &self.template;
        for (step, h) in &other.by_step {
            let mine = self
                .by_step
                .entry(step)
                .or_insert_with(|| Histogram::new_from(t));
            let _ = mine.add(h);
        }
        for (req, (step, h)) in &other.by_request {
            let mine = self
                .by_request
                .entry(req)
                .or_insert_with(|| (step, Histogram::new_from(t)));
            let _ = mine.1.add(h);
        }
    }

    pub fn total_requests(&self) -> u64 {
        self.by_step.values().map(Histogram::len).sum()
    }
}

/// p50, p90, p99, max and mean of a histogram, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

pub fn percentiles(h: &Histogram<u64>) -> Percentiles {
    let ms = |us: u64| (us as f64) / 1000.0;
    if h.is_empty() {
        return Percentiles {
            count: 0,
            p50_ms: 0.0,
            p90_ms: 0.0,
            p99_ms: 0.0,
            max_ms: 0.0,
            mean_ms: 0.0,
        };
    }
    Percentiles {
        count: h.len(),
        p50_ms: ms(h.value_at_quantile(0.50)),
        p90_ms: ms(h.value_at_quantile(0.90)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        max_ms: ms(h.max()),
        mean_ms: h.mean() / 1000.0,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StepFigures {
    /// `W1` … `W6`.
    pub step: String,
    pub requests: u64,
    pub requests_per_sec: f64,
    pub latency: Percentiles,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestFigures {
    pub step: String,
    /// What the request does, e.g. `W2 hr PUT work_information`.
    pub request: String,
    pub requests_per_sec: f64,
    pub latency: Percentiles,
}

/// One load level: n virtual users, warm-up then the measured period.
#[derive(Debug, Clone, Serialize)]
pub struct LevelFigures {
    pub users: usize,
    pub warmup_secs: f64,
    pub measured_secs: f64,
    /// Iterations (cases) completed in the measured period.
    pub cases: u64,
    pub cases_per_sec: f64,
    pub requests: u64,
    pub requests_per_sec: f64,
    pub requests_per_case: f64,
    /// Server utime + stime over the measured period.
    pub server_cpu_ms: f64,
    pub server_cpu_ms_per_case: Option<f64>,
    /// PostgreSQL: utime + stime of the database server's processes for this database.
    pub db_cpu_ms: Option<f64>,
    pub db_cpu_ms_per_case: Option<f64>,
    pub steps: Vec<StepFigures>,
    pub requests_by_kind: Vec<RequestFigures>,
    pub errors: u64,
}

/// What was counted over one load level's measured period, besides the latencies.
#[derive(Debug, Clone, Copy)]
pub struct Counted {
    pub users: usize,
    pub warmup_secs: f64,
    pub measured_secs: f64,
    pub cases: u64,
    pub server_cpu_ms: f64,
    pub db_cpu_ms: Option<f64>,
    pub errors: u64,
}

impl LevelFigures {
    pub fn from_run(c: Counted, lat: &Latencies) -> LevelFigures {
        let Counted {
            users,
            warmup_secs,
            measured_secs,
            cases,
            server_cpu_ms,
            db_cpu_ms,
            errors,
        } = c;
        let secs = measured_secs.max(1e-9);
        let per_case = |ms: f64| (cases > 0).then(|| ms / cases as f64);
        let requests = lat.total_requests();
        LevelFigures {
            users,
            warmup_secs,
            measured_secs,
            cases,
            cases_per_sec: cases as f64 / secs,
            requests,
            requests_per_sec: requests as f64 / secs,
            requests_per_case: if cases > 0 {
                requests as f64 / cases as f64
            } else {
                0.0
            },
            server_cpu_ms,
            server_cpu_ms_per_case: per_case(server_cpu_ms),
            db_cpu_ms,
            db_cpu_ms_per_case: db_cpu_ms.and_then(per_case),
            steps: lat
                .by_step
                .iter()
                .map(|(step, h)| StepFigures {
                    step: (*step).to_owned(),
                    requests: h.len(),
                    requests_per_sec: h.len() as f64 / secs,
                    latency: percentiles(h),
                })
                .collect(),
            requests_by_kind: lat
                .by_request
                .iter()
                .map(|(req, (step, h))| RequestFigures {
                    step: (*step).to_owned(),
                    request: (*req).to_owned(),
                    requests_per_sec: h.len() as f64 / secs,
                    latency: percentiles(h),
                })
                .collect(),
            errors,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Backend {
    /// `sqlite` or `postgres`.
    pub kind: String,
    /// The database URL with any password hidden.
    pub url: String,
    /// What the server says of its store at start-up (`storage ready backend=…`).
    pub described: Option<String>,
    /// The durability settings the server configures.
    pub settings: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Disk {
    pub method: String,
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// Cases created over the whole run (warm-up included).
    pub cases_created: u64,
    pub bytes_per_case: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorSample {
    pub step: String,
    pub request: String,
    pub status: Option<u16>,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tool: String,
    pub started_at: String,
    pub git_revision: String,
    pub fsync_probe: String,
    pub backend: Backend,
    pub ryoritsu: String,
    pub preload_cases: u64,
    pub accounts: String,
    pub workload: String,
    pub w6: String,
    pub clock_ticks_per_sec: u64,
    pub clock_ticks_assumed: bool,
    pub load_average_before: Option<String>,
    pub startup_empty_ms: Option<f64>,
    pub startup_loaded_ms: Option<f64>,
    pub preload_secs: Option<f64>,
    pub levels: Vec<LevelFigures>,
    pub peak_rss_kib: Option<u64>,
    pub disk: Option<Disk>,
    /// Answers and JSON bytes of the two W2 forms, as generated (means).
    pub form_answers: f64,
    pub form_bytes: f64,
    pub valid: bool,
    pub errors: u64,
    pub error_samples: Vec<ErrorSample>,
    pub notes: Vec<String>,
}

fn opt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}"))
}

impl Report {
    /// The table printed at the end of a run (the JSON holds the same figures).
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "ryoritsu-bench — the one-case workload");
        let _ = writeln!(s, "git revision: {}", self.git_revision);
        let _ = writeln!(s, "{}", self.fsync_probe);
        let _ = writeln!(
            s,
            "backend: {} — {}",
            self.backend
                .described
                .as_deref()
                .unwrap_or(&self.backend.kind),
            self.backend.settings
        );
        let _ = writeln!(s, "database: {}", self.backend.url);
        let _ = writeln!(
            s,
            "pre-loaded cases: {}{}",
            self.preload_cases,
            self.preload_secs
                .map(|t| format!(" (loaded in {t:.1} s)"))
                .unwrap_or_default()
        );
        let _ = writeln!(s, "accounts: {}", self.accounts);
        let _ = writeln!(s, "workload: {}", self.workload);
        let _ = writeln!(
            s,
            "forms: {:.0} answers, {:.0} bytes of JSON each (mean)",
            self.form_answers, self.form_bytes
        );
        if let Some(l) = &self.load_average_before {
            let _ = writeln!(s, "load average before the run: {l}");
        }
        let _ = writeln!(
            s,
            "start-up to first response: empty database {} ms, loaded database {} ms",
            opt_ms(self.startup_empty_ms),
            opt_ms(self.startup_loaded_ms)
        );
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:>5} {:>7} {:>8} {:>8} {:>9} {:>13} {:>12} {:>7}",
            "users", "cases", "cases/s", "req/s", "req/case", "server CPU", "db CPU", "errors"
        );
        let _ = writeln!(
            s,
            "{:>5} {:>7} {:>8} {:>8} {:>9} {:>13} {:>12} {:>7}",
            "", "", "", "", "", "ms/case", "ms/case", ""
        );
        for l in &self.levels {
            let _ = writeln!(
                s,
                "{:>5} {:>7} {:>8.1} {:>8.1} {:>9.1} {:>13} {:>12} {:>7}",
                l.users,
                l.cases,
                l.cases_per_sec,
                l.requests_per_sec,
                l.requests_per_case,
                opt_ms(l.server_cpu_ms_per_case),
                opt_ms(l.db_cpu_ms_per_case),
                l.errors
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:>5} {:<4} {:>8} {:>9} {:>9} {:>9} {:>9}",
            "users", "step", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms"
        );
        for l in &self.levels {
            for st in &l.steps {
                let _ = writeln!(
                    s,
                    "{:>5} {:<4} {:>8.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                    l.users,
                    st.step,
                    st.requests_per_sec,
                    st.latency.p50_ms,
                    st.latency.p90_ms,
                    st.latency.p99_ms,
                    st.latency.max_ms
                );
            }
        }
        let _ = writeln!(s, "      {}", self.w6);
        if let Some(l) = self.levels.last() {
            let _ = writeln!(s);
            let _ = writeln!(s, "each request at {} users:", l.users);
            let _ = writeln!(
                s,
                "{:<58} {:>7} {:>9} {:>9} {:>9}",
                "request", "req/s", "p50 ms", "p99 ms", "max ms"
            );
            for r in &l.requests_by_kind {
                let _ = writeln!(
                    s,
                    "{:<58} {:>7.1} {:>9.2} {:>9.2} {:>9.2}",
                    r.request,
                    r.requests_per_sec,
                    r.latency.p50_ms,
                    r.latency.p99_ms,
                    r.latency.max_ms
                );
            }
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "peak RSS of the server (VmHWM): {}",
            self.peak_rss_kib.map_or_else(
                || "—".to_owned(),
                |k| format!("{:.1} MB", k as f64 / 1024.0)
            )
        );
        match &self.disk {
            Some(d) => {
                let _ = writeln!(
                    s,
                    "disk per case: {} ({} → {} bytes over {} cases; {})",
                    d.bytes_per_case
                        .map_or_else(|| "—".to_owned(), |b| format!("{:.1} KB", b / 1024.0)),
                    d.bytes_before,
                    d.bytes_after,
                    d.cases_created,
                    d.method
                );
            }
            None => {
                let _ = writeln!(s, "disk per case: not measured");
            }
        }
        if self.clock_ticks_assumed {
            let _ = writeln!(
                s,
                "note: sysconf(_SC_CLK_TCK) could not be read; 100 ticks/s assumed"
            );
        }
        for n in &self.notes {
            let _ = writeln!(s, "note: {n}");
        }
        for e in &self.error_samples {
            let _ = writeln!(
                s,
                "error: {} {} → {}: {}",
                e.step,
                e.request,
                e.status
                    .map_or_else(|| "no response".to_owned(), |c| format!("HTTP {c}")),
                e.detail
            );
        }
        let _ = writeln!(
            s,
            "result: {}",
            if self.valid {
                "VALID (every response as expected)".to_owned()
            } else {
                format!(
                    "INVALID ({} unexpected responses or failures)",
                    self.errors.max(1)
                )
            }
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_histogram_in_milliseconds() {
        let mut h = new_histogram().unwrap();
        for us in 1..=1000u64 {
            h.record(us * 100).unwrap();
        }
        let p = percentiles(&h);
        assert_eq!(p.count, 1000);
        assert!((p.p50_ms - 50.0).abs() < 0.1, "{p:?}");
        assert!((p.p90_ms - 90.0).abs() < 0.1, "{p:?}");
        assert!((p.p99_ms - 99.0).abs() < 0.1, "{p:?}");
        assert!((p.max_ms - 100.0).abs() < 0.1, "{p:?}");
        assert!((p.mean_ms - 50.05).abs() < 0.1, "{p:?}");
        assert_eq!(percentiles(&new_histogram().unwrap()).count, 0);
    }

    #[test]
    fn latencies_merge_by_step_and_request() {
        let mut a = Latencies::new().unwrap();
        a.record("W1", "W1 worker POST case", 1000);
        a.record("W4", "W4 hr GET case", 200);
        let mut b = a.empty_like();
        b.record("W1", "W1 worker POST case", 3000);
        a.merge(&b);
        assert_eq!(a.total_requests(), 3);
        assert_eq!(a.by_step["W1"].len(), 2);
        assert_eq!(a.by_request["W1 worker POST case"].1.len(), 2);
        let l = LevelFigures::from_run(
            Counted {
                users: 8,
                warmup_secs: 1.0,
                measured_secs: 2.0,
                cases: 1,
                server_cpu_ms: 10.0,
                db_cpu_ms: Some(4.0),
                errors: 0,
            },
            &a,
        );
        assert_eq!(l.requests, 3);
        assert!((l.requests_per_sec - 1.5).abs() < 1e-9);
        assert_eq!(l.server_cpu_ms_per_case, Some(10.0));
        assert_eq!(l.db_cpu_ms_per_case, Some(4.0));
        assert_eq!(l.steps.len(), 2);
        assert_eq!(l.steps[0].step, "W1");
    }

    fn sample_report() -> Report {
        let mut lat = Latencies::new().unwrap();
        lat.record("W1", "W1 worker POST case", 2500);
        Report {
            tool: "ryoritsu-bench 0.1.0".into(),
            started_at: "2026-12-06T00:00:00Z".into(),
            git_revision: "abc1234".into(),
            fsync_probe: "fsync probe: 5054 fdatasync/s  p50=0.21ms p99=0.26ms  regime=fast".into(),
            backend: Backend {
                kind: "sqlite".into(),
                url: "sqlite:///tmp/x/bench.db".into(),
                described: Some("SQLite (WAL, synchronous=FULL, foreign_keys=ON)".into()),
                settings: "WAL, synchronous=FULL".into(),
            },
            ryoritsu: "target/release/ryoritsu".into(),
            preload_cases: 0,
            accounts: "bench accounts".into(),
            workload: "W1–W5".into(),
            w6: "W6: not measured (no statistics API yet)".into(),
            clock_ticks_per_sec: 100,
            clock_ticks_assumed: false,
            load_average_before: None,
            startup_empty_ms: Some(80.0),
            startup_loaded_ms: Some(60.0),
            preload_secs: None,
            levels: vec![LevelFigures::from_run(
                Counted {
                    users: 1,
                    warmup_secs: 1.0,
                    measured_secs: 1.0,
                    cases: 1,
                    server_cpu_ms: 5.0,
                    db_cpu_ms: None,
                    errors: 0,
                },
                &lat,
            )],
            peak_rss_kib: Some(40960),
            disk: Some(Disk {
                method: "file sizes after a clean stop".into(),
                bytes_before: 1000,
                bytes_after: 11240,
                cases_created: 10,
                bytes_per_case: Some(1024.0),
            }),
            form_answers: 20.0,
            form_bytes: 1100.0,
            valid: true,
            errors: 0,
            error_samples: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn the_json_report_has_the_figures_a_script_compares() {
        let v = serde_json::to_value(sample_report()).unwrap();
        for key in [
            "git_revision",
            "fsync_probe",
            "backend",
            "levels",
            "peak_rss_kib",
            "disk",
            "startup_empty_ms",
            "startup_loaded_ms",
            "valid",
            "w6",
        ] {
            assert!(v.get(key).is_some(), "{key} missing: {v}");
        }
        let level = &v["levels"][0];
        for key in [
            "users",
            "cases_per_sec",
            "requests_per_sec",
            "server_cpu_ms_per_case",
            "db_cpu_ms_per_case",
            "steps",
            "requests_by_kind",
        ] {
            assert!(level.get(key).is_some(), "{key} missing: {level}");
        }
        let step = &level["steps"][0];
        assert_eq!(step["step"], "W1");
        for key in ["p50_ms", "p90_ms", "p99_ms", "max_ms"] {
            assert!(step["latency"].get(key).is_some(), "{key}: {step}");
        }
        assert!((step["latency"]["p50_ms"].as_f64().unwrap() - 2.5).abs() < 0.01);
        assert_eq!(v["backend"]["settings"], "WAL, synchronous=FULL");
    }

    #[test]
    fn the_table_shows_the_probe_line_the_revision_and_the_verdict() {
        let mut r = sample_report();
        let t = r.table();
        assert!(t.contains("fsync probe: 5054"), "{t}");
        assert!(t.contains("git revision: abc1234"), "{t}");
        assert!(
            t.contains("W6: not measured (no statistics API yet)"),
            "{t}"
        );
        assert!(t.contains("result: VALID"), "{t}");
        assert!(t.contains("1.0 KB"), "{t}");
        r.valid = false;
        r.errors = 2;
        assert!(r.table().contains("result: INVALID"));
    }
}
