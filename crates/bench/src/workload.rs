//! The one-case workload (W1–W6 of docs/benchmarks.md), one iteration per case, by virtual
//! users in a closed loop.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use time::Date;

use crate::client::{self, Reply, Session};
use crate::report::{ErrorSample, Latencies};
use crate::text::{self, Persona, Rng};

/// The demo password of every demo and bench account.
pub const PASSWORD: &str = "demo-ryouritsu-shien";

/// What the run was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub writes_only: bool,
    /// W6's request path, when W6 is switched on.
    pub w6_path: Option<String>,
    pub max_errors: u64,
    pub seed: u64,
}

/// The demo world as the workload needs it.
#[derive(Debug, Clone)]
pub struct World {
    pub base: String,
    pub employer: String,
    pub hospital: String,
    pub today: Date,
}

/// Which accounts the virtual users sign in with.
#[derive(Debug, Clone)]
pub struct Accounts {
    /// Whether the `bench-worker-NNN` accounts exist (else every user is `worker`).
    pub bench_workers: bool,
    /// The reader of another organisation (W4's denied read).
    pub other: String,
}

impl Accounts {
    pub fn worker_login(&self, k: usize) -> String {
        if self.bench_workers {
            bench_worker(k)
        } else {
            "worker".to_owned()
        }
    }
}

pub fn bench_worker(k: usize) -> String {
    format!("bench-worker-{k:03}")
}

/// Counters and failures shared by every virtual user.
pub struct Shared {
    pub world: World,
    pub opts: Options,
    pub errors: AtomicU64,
    pub samples: Mutex<Vec<ErrorSample>>,
    pub abort: AtomicBool,
    /// Cases created (W1 answered 201) over the whole run, warm-up included.
    pub cases_created: AtomicU64,
    pub form_answers: AtomicU64,
    pub form_bytes: AtomicU64,
    pub forms: AtomicU64,
}

impl Shared {
    pub fn new(world: World, opts: Options) -> Shared {
        Shared {
            world,
            opts,
            errors: AtomicU64::new(0),
            samples: Mutex::new(Vec::new()),
            abort: AtomicBool::new(false),
            cases_created: AtomicU64::new(0),
            form_answers: AtomicU64::new(0),
            form_bytes: AtomicU64::new(0),
            forms: AtomicU64::new(0),
        }
    }

    pub fn fail(&self, step: &str, request: &str, status: Option<u16>, detail: String) {
        let n = self.errors.fetch_add(1, Ordering::SeqCst) + 1;
        if let Ok(mut s) = self.samples.lock()
            && s.len() < 20
        {
            s.push(ErrorSample {
                step: step.to_owned(),
                request: request.to_owned(),
                status,
                detail,
            });
        }
        if n >= self.opts.max_errors {
            self.abort.store(true, Ordering::SeqCst);
        }
    }

    fn note_form(&self, v: &Value) {
        self.form_answers
            .fetch_add(text::count_answers(v) as u64, Ordering::Relaxed);
        self.form_bytes.fetch_add(
            serde_json::to_vec(v).map(|b| b.len() as u64).unwrap_or(0),
            Ordering::Relaxed,
        );
        self.forms.fetch_add(1, Ordering::Relaxed);
    }
}

/// The measured period: requests and cases that finish inside it are counted.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: Instant,
    pub end: Instant,
}

impl Window {
    pub fn contains(&self, t: Instant) -> bool {
        t >= self.start && t < self.end
    }
}

/// One virtual user: one HTTP client, and a session per role it plays.
pub struct Vu {
    pub k: usize,
    http: reqwest::Client,
    worker: Session,
    hr: Session,
    doctor: Session,
    sangyoi: Session,
    other: Session,
    bureau: Option<Session>,
    rng: Rng,
}

async fn signed_in(http: &reqwest::Client, base: &str, login: &str) -> Result<Session, String> {
    client::sign_in(http, base, login, PASSWORD)
        .await?
        .ok_or_else(|| format!("{login} cannot sign in with the demo password (401)"))
}

impl Vu {
    /// Signs in every role of virtual user `k`, one after another (each sign-in costs the
    /// server an Argon2 hash: kept out of the measured period, and never many at once).
    pub async fn sign_in(
        k: usize,
        base: &str,
        accounts: &Accounts,
        opts: &Options,
    ) -> Result<Vu, String> {
        let http = client::http_client()?;
        let worker = signed_in(&http, base, &accounts.worker_login(k)).await?;
        let hr = signed_in(&http, base, "jinji").await?;
        let doctor = signed_in(&http, base, "doctor").await?;
        let sangyoi = signed_in(&http, base, "sangyoi").await?;
        let other = signed_in(&http, base, &accounts.other).await?;
        let bureau = match opts.w6_path {
            Some(_) => Some(signed_in(&http, base, "bureau").await?),
            None => None,
        };
        Ok(Vu {
            k,
            http,
            worker,
            hr,
            doctor,
            sangyoi,
            other,
            bureau,
            rng: Rng::new(opts.seed ^ (k as u64).wrapping_mul(0x0100_0000_01B3)),
        })
    }

    /// The organisation ids of the demo world, as the worker and the physician see them.
    pub async fn world(&self, base: &str, today: Date) -> Result<World, String> {
        let employer = self.organisation(base, &self.worker, "employer").await?;
        let hospital = self
            .organisation(base, &self.doctor, "medical_institution")
            .await?;
        Ok(World {
            base: base.to_owned(),
            employer,
            hospital,
            today,
        })
    }

    async fn organisation(&self, base: &str, s: &Session, kind: &str) -> Result<String, String> {
        let r = client::call(&self.http, base, s, Method::GET, "/api/v1/me", None, None).await?;
        let v = r
            .json()
            .filter(|_| r.status == 200)
            .ok_or_else(|| format!("GET /api/v1/me as {}: HTTP {}", s.login, r.status))?;
        v.get("memberships")
            .and_then(Value::as_array)
            .and_then(|ms| {
                ms.iter()
                    .find(|m| m.get("organisation_kind").and_then(Value::as_str) == Some(kind))
            })
            .and_then(|m| m.get("organisation_id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("{} has no membership of a {kind}", s.login))
    }
}

#[derive(Clone, Copy)]
enum Who {
    Worker,
    Hr,
    Doctor,
    Sangyoi,
    Other,
    Bureau,
}

/// One request of the workload, checked against the status it must get.
struct Call<'a> {
    step: &'static str,
    name: &'static str,
    who: Who,
    method: Method,
    path: String,
    body: Option<&'a Value>,
    if_match: Option<&'a str>,
    expect: u16,
}

/// Runs the virtual user's iterations until the window closes; returns its latencies and
/// the cases it completed inside the window.
pub async fn run(mut vu: Vu, sh: &Shared, win: Window, mut lat: Latencies) -> (Vu, Latencies, u64) {
    let mut cases = 0;
    while Instant::now() < win.end && !sh.abort.load(Ordering::SeqCst) {
        let ok = iteration(&mut vu, sh, &win, &mut lat).await;
        if ok && win.contains(Instant::now()) {
            cases += 1;
        }
        if !ok {
            // An iteration that went wrong is not retried at once in a tight loop.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    (vu, lat, cases)
}

async fn send(
    vu: &Vu,
    sh: &Shared,
    win: &Window,
    lat: &mut Latencies,
    c: Call<'_>,
) -> Option<Reply> {
    let session = match c.who {
        Who::Worker => &vu.worker,
        Who::Hr => &vu.hr,
        Who::Doctor => &vu.doctor,
        Who::Sangyoi => &vu.sangyoi,
        Who::Other => &vu.other,
        Who::Bureau => vu.bureau.as_ref()?,
    };
    let r = client::call(
        &vu.http,
        &sh.world.base,
        session,
        c.method,
        &c.path,
        c.body,
        c.if_match,
    )
    .await;
    match r {
        Ok(reply) => {
            if win.contains(Instant::now()) {
                lat.record(
                    c.step,
                    c.name,
                    u64::try_from(reply.took.as_micros()).unwrap_or(u64::MAX),
                );
            }
            if reply.status == c.expect {
                Some(reply)
            } else {
                sh.fail(
                    c.step,
                    c.name,
                    Some(reply.status),
                    format!(
                        "expected {} ({}): {}",
                        c.expect,
                        c.path,
                        client::excerpt(&reply.body)
                    ),
                );
                None
            }
        }
        Err(e) => {
            sh.fail(c.step, c.name, None, e);
            None
        }
    }
}

/// A check of what a reader was shown (W4).
fn check(sh: &Shared, step: &str, name: &str, ok: bool, what: &str) -> Option<()> {
    if ok {
        Some(())
    } else {
        sh.fail(
            step,
            name,
            Some(200),
            format!("access check failed: {what}"),
        );
        None
    }
}

fn etag_of(sh: &Shared, step: &str, name: &str, r: &Reply) -> Option<String> {
    match &r.etag {
        Some(t) => Some(t.clone()),
        None => {
            sh.fail(step, name, Some(r.status), "no ETag in the answer".into());
            None
        }
    }
}

fn id_of(sh: &Shared, step: &str, name: &str, r: &Reply, field: &str) -> Option<String> {
    match r.field(field) {
        Some(v) => Some(v),
        None => {
            sh.fail(
                step,
                name,
                Some(r.status),
                format!("no `{field}` in {}", client::excerpt(&r.body)),
            );
            None
        }
    }
}

/// One case: W1–W3, then W4 ×5 and W5 ×2 (unless writes only), and W6 once per 50 cases
/// when switched on. False when any request went wrong.
async fn iteration(vu: &mut Vu, sh: &Shared, win: &Window, lat: &mut Latencies) -> bool {
    one_case(vu, sh, win, lat).await.is_some()
}

async fn one_case(vu: &mut Vu, sh: &Shared, win: &Window, lat: &mut Latencies) -> Option<()> {
    let w = &sh.world;
    let today = w.today;
    let persona = Persona::draw(&mut vu.rng);
    let (wi_draft, wi_full) = text::work_information(&mut vu.rng, &persona, today);
    let (op_draft, op_full) = text::opinion(&mut vu.rng, &persona, today);
    sh.note_form(&wi_full);
    sh.note_form(&op_full);

    // W1: the worker's 申出.
    let body = json!({"employer_id": w.employer, "path": "continuation"});
    let r = send(
        vu,
        sh,
        win,
        lat,
        Call {
            step: "W1",
            name: "W1 worker POST /cases (申出)",
            who: Who::Worker,
            method: Method::POST,
            path: "/api/v1/cases".into(),
            body: Some(&body),
            if_match: None,
            expect: 201,
        },
    )
    .await?;
    let n = sh.cases_created.fetch_add(1, Ordering::SeqCst) + 1;
    let case = id_of(sh, "W1", "W1 worker POST /cases (申出)", &r, "id")?;
    let mut case_tag = etag_of(sh, "W1", "W1 worker POST /cases (申出)", &r)?;
    let cp = format!("/api/v1/cases/{case}");

    // W2: the 勤務情報提供書, drafted by HR, saved over, confirmed by both, finalised.
    let body = json!({"form": "work_information", "answers": wi_draft});
    let r = send(
        vu,
        sh,
        win,
        lat,
        Call {
            step: "W2",
            name: "W2 hr POST documents (勤務情報提供書 draft)",
            who: Who::Hr,
            method: Method::POST,
            path: format!("{cp}/documents"),
            body: Some(&body),
            if_match: None,
            expect: 201,
        },
    )
    .await?;
    let doc = id_of(sh, "W2", "W2 hr POST documents", &r, "id")?;
    let doc_tag = etag_of(sh, "W2", "W2 hr POST documents", &r)?;
    let body = json!({"answers": wi_full});
    let r = send(
        vu,
        sh,
        win,
        lat,
        Call {
            step: "W2",
            name: "W2 hr PUT document (勤務情報提供書)",
            who: Who::Hr,
            method: Method::PUT,
            path: format!("{cp}/documents/{doc}"),
            body: Some(&body),
            if_match: Some(&doc_tag),
            expect: 200,
        },
    )
    .await?;
    let doc_tag = etag_of(sh, "W2", "W2 hr PUT document", &r)?;
    for (name, who, step) in [
        (
            "W2 hr POST steps draft_work_information",
            Who::Hr,
            json!({"step": "draft_work_information"}),
        ),
        (
            "W2 hr POST steps confirm_work_information (employer)",
            Who::Hr,
            json!({"step": "confirm_work_information", "by": "employer"}),
        ),
        (
            "W2 worker POST steps confirm_work_information (worker)",
            Who::Worker,
            json!({"step": "confirm_work_information", "by": "worker"}),
        ),
    ] {
        let r = send(
            vu,
            sh,
            win,
            lat,
            Call {
                step: "W2",
                name,
                who,
                method: Method::POST,
                path: format!("{cp}/steps"),
                body: Some(&step),
                if_match: Some(&case_tag),
                expect: 200,
            },
        )
        .await?;
        case_tag = etag_of(sh, "W2", name, &r)?;
    }
    let body = json!({"signature_field": "worker_confirmation", "party": "worker"});
    send(
        vu,
        sh,
        win,
        lat,
        Call {
            step: "W2",
            name: "W2 worker POST finalise (勤務情報提供書)",
            who: Who::Worker,
            method: Method::POST,
            path: format!("{cp}/documents/{doc}/finalise"),
            body: Some(&body),
            if_match: Some(&doc_tag),
            expect: 200,
        },
    )
    .await?;

    // The hospital attaches itself with the worker's one-time share code.
    let r = send(
        vu,
        sh,
        win,
        lat,
        Call {
            step: "W2",
            name: "W2 worker POST share-codes",
            who: Who::Worker,
            method: Method::POST,
            path: format!("{cp}/share-codes"),
            body: None,
            if_match: None,
            expect: 201,
        },
    )
    .await?;
    let code = id_of(sh, "W2", "W2 worker POST share-codes", &r, "code")?;
    let body = json!({"code": code});
    send(
        vu,
        sh,
        win,
        lat,
        Call {
            step: "W2",
            name: "W2 doctor POST share-codes/redeem",
            who: Who::Doctor,
            method: Method::POST,
            path: "/api/v1/share-codes/redeem".into(),
            body: Some(&body),
            if_match: None,
            expect: 200,
        },
    )
    .await?;

    // W3 (first half): the work information to the hospital, before the physician reads it.
    let body = json!({
        "organisation_id": w.hospital, "role": "attending_physician",
        "categories": ["work_information"], "purpose": "主治医意見書を作成してもらうため"
    });
    send(
        vu,
        sh,
        win,
        lat,
        Call {
            step: "W3",
            name: "W3 worker POST consents (work_information → hospital)",
            who: Who::Worker,
            method: Method::POST,
            path: format!("{cp}/consents"),
            body: Some(&body),
            if_match: None,
            expect: 201,
        },
    )
    .await?;

    let body = json!({"step": "hand_to_physician"});
    let r = send(
        vu,
        sh,
        win,
        lat,
        Call {
            step: "W2",
            name: "W2 worker POST steps hand_to_physician",
            who: Who::Worker,
            method: Method::POST,
            path: format!("{cp}/steps"),
            body: Some(&body),
            if_match: Some(&case_tag),
            expect: 200,
        },
    )
    .await?;
    case_tag = etag_of(sh, "W2", "W2 worker POST steps hand_to_physician", &r)?;

    // The physician reads the work information, then writes and attests the opinion.
    let r = send(
        vu,
        sh,
        win,
        lat,
        Call {
            step: "W2",
            name: "W2 doctor GET documents (reads 勤務情報提供書)",
            who: Who::Doctor,
            method: Method::GET,
            path: format!("{cp}/documents"),
            body: None,
            if_match: None,
            expect: 200,
        },
    )
    .await?;
    check(
        sh,
        "W2",
        "W2 doctor GET documents",
        r.body.contains("work_information"),
        "the physician does not see the work information shared with consent",
    )?;
    let body = json!({"form": "continuation_opinion", "answers": op_draft});
    let r = send(
        vu,
        sh,
        win,
        lat,
        Call {
            step: "W2",
            name: "W2 doctor POST documents (主治医意見書 draft)",
            who: Who::Doctor,
            method: Method::POST,
            path: format!("{cp}/documents"),
            body: Some(&body),
            if_match: None,
            expect: 201,
        },
    )
    .await?;
    let op = id_of(sh, "W2", "W2 doctor POST documents", &r, "id")?;
    let op_tag = etag_of(sh, "W2", "W2 doctor POST documents", &r)?;
    let body = json!({"answers": op_full});
    let r = send(
        vu,
        sh,
        win,
        lat,
        Call {
            step: "W2",
            name: "W2 doctor PUT document (主治医意見書)",
            who: Who::Doctor,
            method: Method::PUT,
            path: format!("{cp}/documents/{op}"),
            body: Some(&body),
            if_match: Some(&op_tag),
            expect: 200,
        },
    )
    .await?;
    let op_tag = etag_of(sh, "W2", "W2 doctor PUT document", &r)?;
    let body = json!({"signature_field": "physician_signature", "party": "attending_physician"});
    send(
        vu,
        sh,
        win,
        lat,
        Call {
            step: "W2",
            name: "W2 doctor POST finalise (主治医意見書)",
            who: Who::Doctor,
            method: Method::POST,
            path: format!("{cp}/documents/{op}/finalise"),
            body: Some(&body),
            if_match: Some(&op_tag),
            expect: 200,
        },
    )
    .await?;
    let body = json!({"step": "record_opinion", "fitness": "fit_with_conditions"});
    send(
        vu,
        sh,
        win,
        lat,
        Call {
            step: "W2",
            name: "W2 doctor POST steps record_opinion",
            who: Who::Doctor,
            method: Method::POST,
            path: format!("{cp}/steps"),
            body: Some(&body),
            if_match: Some(&case_tag),
            expect: 200,
        },
    )
    .await?;

    // W3 (second half): the medical information to the 産業医.
    let body = json!({
        "organisation_id": w.employer, "role": "occupational_physician",
        "categories": ["medical"], "purpose": "就業上の措置について産業医の意見を聴くため"
    });
    send(
        vu,
        sh,
        win,
        lat,
        Call {
            step: "W3",
            name: "W3 worker POST consents (medical → 産業医)",
            who: Who::Worker,
            method: Method::POST,
            path: format!("{cp}/consents"),
            body: Some(&body),
            if_match: None,
            expect: 201,
        },
    )
    .await?;

    if sh.opts.writes_only {
        return Some(());
    }

    // W4 ×5: reads with access checks.
    for _ in 0..5 {
        let r = send(
            vu,
            sh,
            win,
            lat,
            Call {
                step: "W4",
                name: "W4 sangyoi GET case",
                who: Who::Sangyoi,
                method: Method::GET,
                path: cp.clone(),
                body: None,
                if_match: None,
                expect: 200,
            },
        )
        .await?;
        check(
            sh,
            "W4",
            "W4 sangyoi GET case",
            r.body.contains("\"fitness_for_work\""),
            "the 産業医 does not see the opinion's conclusion despite the consent",
        )?;
        let r = send(
            vu,
            sh,
            win,
            lat,
            Call {
                step: "W4",
                name: "W4 sangyoi GET documents",
                who: Who::Sangyoi,
                method: Method::GET,
                path: format!("{cp}/documents"),
                body: None,
                if_match: None,
                expect: 200,
            },
        )
        .await?;
        check(
            sh,
            "W4",
            "W4 sangyoi GET documents",
            r.body.contains("continuation_opinion"),
            "the 産業医 does not see the opinion despite the consent",
        )?;
        let r = send(
            vu,
            sh,
            win,
            lat,
            Call {
                step: "W4",
                name: "W4 hr GET case",
                who: Who::Hr,
                method: Method::GET,
                path: cp.clone(),
                body: None,
                if_match: None,
                expect: 200,
            },
        )
        .await?;
        check(
            sh,
            "W4",
            "W4 hr GET case",
            !r.body.contains("\"fitness_for_work\""),
            "HR sees the opinion's conclusion without consent",
        )?;
        let r = send(
            vu,
            sh,
            win,
            lat,
            Call {
                step: "W4",
                name: "W4 hr GET documents",
                who: Who::Hr,
                method: Method::GET,
                path: format!("{cp}/documents"),
                body: None,
                if_match: None,
                expect: 200,
            },
        )
        .await?;
        check(
            sh,
            "W4",
            "W4 hr GET documents",
            !r.body.contains("continuation_opinion"),
            "HR sees the opinion without consent",
        )?;
        send(
            vu,
            sh,
            win,
            lat,
            Call {
                step: "W4",
                name: "W4 other-organisation GET case (404)",
                who: Who::Other,
                method: Method::GET,
                path: cp.clone(),
                body: None,
                if_match: None,
                expect: 404,
            },
        )
        .await?;
    }

    // W5 ×2: HR searches its cases by a word, a status and the last 30 days.
    let from = (today - time::Duration::days(30)).to_string();
    let to = today.to_string();
    for _ in 0..2 {
        let word = vu.rng.pick(text::SEARCH_WORDS);
        let status = if vu.rng.below(4) == 0 {
            "requested"
        } else {
            "occupational_physician_pending"
        };
        let path = client::query_path(
            "/api/v1/search",
            &[
                ("q", word),
                ("status", status),
                ("from", &from),
                ("to", &to),
            ],
        );
        send(
            vu,
            sh,
            win,
            lat,
            Call {
                step: "W5",
                name: "W5 hr GET search",
                who: Who::Hr,
                method: Method::GET,
                path,
                body: None,
                if_match: None,
                expect: 200,
            },
        )
        .await?;
    }

    // W6: monthly statistics by a bureau user, once per 50 cases (off by default).
    if let Some(path) = &sh.opts.w6_path
        && n.is_multiple_of(50)
    {
        send(
            vu,
            sh,
            win,
            lat,
            Call {
                step: "W6",
                name: "W6 bureau GET statistics",
                who: Who::Bureau,
                method: Method::GET,
                path: path.clone(),
                body: None,
                if_match: None,
                expect: 200,
            },
        )
        .await?;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_users_get_their_own_worker_account_when_the_loader_made_them() {
        let a = Accounts {
            bench_workers: true,
            other: "bench-other".into(),
        };
        assert_eq!(a.worker_login(1), "bench-worker-001");
        assert_eq!(a.worker_login(32), "bench-worker-032");
        let b = Accounts {
            bench_workers: false,
            other: "bureau".into(),
        };
        assert_eq!(b.worker_login(7), "worker");
    }

    #[test]
    fn the_window_counts_what_finishes_inside_it() {
        let start = Instant::now();
        let w = Window {
            start,
            end: start + Duration::from_secs(1),
        };
        assert!(w.contains(start));
        assert!(!w.contains(start + Duration::from_secs(1)));
    }
}
