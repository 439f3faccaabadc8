//! The bulk loader behind `ryoritsu demo load --cases N`: support cases with realistic
//! Japanese data, written straight through the store's ports in large transactions, next to
//! the demo world (benchmarks pre-load 10,000 or 1,000,000 cases this way).
//!
//! - **Where**: the demo employer 「株式会社みどり精機」 (the demo world is seeded first when the
//!   database is empty; a database that is not a demo database is refused). Each case has a
//!   worker of its own (a demo account that never signs in), and the demo hospital is
//!   attached to every case that reached the physician.
//! - **What**: each case walks a random number of steps through the domain's state machine
//!   ([`case::apply`]), so every state is a reachable one, with what the use cases would have
//!   written on the way: documents built and validated by the domain's form types (drafts and
//!   確定), consents (some with an expiry, some withdrawn), the hospital as a party, history,
//!   tasks, audit events chained by `append_audit`, the access index rows and the search rows.
//!   Times spread over the five years before today (Japan time), on working days.
//! - **Same seed, same data**: each case draws from its own ChaCha8 stream (the seed, and the
//!   case's number as the stream), and every id is a UUIDv7 built from the row's time and that
//!   stream. Runs continue the numbering of earlier runs with the same seed (kept in the
//!   `settings` table in the same transactions), so loading twice never repeats an id or a
//!   login name. The dates follow the app's clock: the same seed on the same day (or the same
//!   manual clock) gives the same cases.
//! - **Speed**: the next batch is generated on a blocking thread while the current one is
//!   written, with its access and search rows; each batch is one transaction, written by
//!   kind of row ([`ports::BulkWrites`]: on PostgreSQL each kind of row of the whole batch in
//!   one statement, instead of a round trip per row).
//!
//! The bench accounts the load generator signs in as (`bench-worker-001` … `-032` at the demo
//! employer and `bench-other`, an HR officer of a second employer) are created once, through
//! the use cases, with the demo password.

pub mod ports;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use ryoritsu_domain::account::{DisplayName, LoginName, NewPassword};
use ryoritsu_domain::audit::{AuditAction, AuditEvent, Outcome as AuditOutcome};
use ryoritsu_domain::case::{
    self, CaseFacts, CasePath, CaseState, CaseStatus, Confirmer, FitnessForWork, Outcome,
    ReturnToWorkFitness, Step,
};
use ryoritsu_domain::consent::{Consent, ConsentDraft, EXPLANATION_VERSION, Recipient};
use ryoritsu_domain::forms::{
    AnswerValue, Answers, Attestation, DraftDocument, FormKind, FormVersion, Party,
};
use ryoritsu_domain::info::InformationCategory;
use ryoritsu_domain::org::{OrganisationKind, Role, RoleDetail};
use ryoritsu_domain::policy::{Action, CaseContext, CaseGrant, HandlingRules, Principal, decide};
use ryoritsu_domain::prefecture::Prefecture;
use ryoritsu_domain::{FieldError, ValidationErrors};
use time::{Date, Duration, OffsetDateTime, UtcOffset, Weekday};
use uuid::Uuid;

use crate::access;
use crate::accounts::orgs::{NewOrganisation, NewWorkplace};
use crate::accounts::ports::{AccountReads, MembershipRecord, UserRecord, WorkplaceRecord};
use crate::accounts::{NewUser, parse_reading};
use crate::cases::ports::{
    CaseEventRecord, CasePartyRecord, CaseReads, CaseRecord, DocumentBody, DocumentRecord,
    PartyKind, TaskRecord,
};
use crate::cases::search_index;
use crate::error::AppError;
use crate::ports::{ReadRepo, Store, TxControl, WriteRepo};
use crate::search::ports::SearchRow;
use crate::{App, RequestContext};
use ports::{BulkWrites, CaseRows};

/// The seed when none is given.
pub const DEFAULT_SEED: u64 = 1;
/// Cases per transaction when none is given.
pub const DEFAULT_BATCH: u32 = 1_000;
/// Generated workers never sign in: this is not a PHC string, so no password verifies
/// against it (and no hash is computed for it).
pub const NO_PASSWORD: &str = "!demo-load: no password";
/// The employer the cases are loaded into, and the hospital attached to them.
pub const DEMO_EMPLOYER: &str = "株式会社みどり精機";
pub const DEMO_HOSPITAL: &str = "都立さくら総合病院";
/// The second employer of the bench account `bench-other`.
pub const OTHER_EMPLOYER: &str = "株式会社あおぞら物産";
pub const BENCH_WORKERS: u32 = 32;

/// Days before today that cases are spread over (five years).
const SPAN_DAYS: i64 = 5 * 365 + 1;
const OPERATION: &str = "demo-load";
const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// What to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    pub cases: u64,
    pub seed: u64,
    /// Cases per transaction.
    pub batch: u32,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            cases: 0,
            seed: DEFAULT_SEED,
            batch: DEFAULT_BATCH,
        }
    }
}

/// Reported after each committed transaction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadProgress {
    pub done: u64,
    pub total: u64,
    pub elapsed: StdDuration,
}

impl LoadProgress {
    /// Cases per second so far.
    pub fn rate(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 { self.done as f64 / s } else { 0.0 }
    }
}

/// Rows written by one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadCounts {
    pub cases: u64,
    pub users: u64,
    pub documents: u64,
    pub finalised_documents: u64,
    pub case_events: u64,
    pub tasks: u64,
    pub open_tasks: u64,
    pub consents: u64,
    pub parties: u64,
    pub audit_events: u64,
    pub access_rows: u64,
}

impl LoadCounts {
    fn add(&mut self, g: &GeneratedCase) {
        self.cases += 1;
        self.users += 1;
        self.documents += g.documents.len() as u64;
        self.finalised_documents += g.documents.iter().filter(|d| d.is_finalised()).count() as u64;
        self.case_events += g.events.len() as u64;
        self.tasks += g.tasks.len() as u64;
        self.open_tasks += g.tasks.iter().filter(|t| t.closed_at.is_none()).count() as u64;
        self.consents += g.consents.len() as u64;
        self.parties += g.parties.len() as u64;
        self.audit_events += g.audit.len() as u64;
        self.access_rows += g.grants.len() as u64;
    }

    /// Every row written, search rows not counted (the store derives them).
    pub fn rows(&self) -> u64 {
        // A user, its membership, the case.
        self.users * 2
            + self.cases
            + self.documents
            + self.case_events
            + self.tasks
            + self.consents
            + self.parties
            + self.audit_events
            + self.access_rows
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadSummary {
    pub seed: u64,
    /// The number of this run's first case among all cases loaded with this seed.
    pub first_case: u64,
    pub counts: LoadCounts,
    pub by_status: BTreeMap<CaseStatus, u64>,
    pub by_path: BTreeMap<CasePath, u64>,
    pub elapsed: StdDuration,
    /// Whether the demo world had to be created first.
    pub demo_seeded: bool,
    pub bench_accounts_created: u32,
}

impl LoadSummary {
    pub fn rate(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.counts.cases as f64 / s
        } else {
            0.0
        }
    }
}

fn invalid(field: &str, code: &str, message: impl Into<String>) -> AppError {
    AppError::Invalid(FieldError::new(field, code, message).into())
}

// ---- the world the cases are loaded into ------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct Actor {
    id: Uuid,
    role: Role,
}

#[derive(Debug, Clone)]
struct World {
    seed: u64,
    employer: Uuid,
    employer_name: String,
    workplaces: Vec<WorkplaceRecord>,
    hospital: Uuid,
    /// Who creates the workers' accounts (the demo operator, or the command line's nil user).
    operator: Uuid,
    hr: Actor,
    hr_name: String,
    doctor: Actor,
    doctor_name: String,
    sangyoi: Actor,
    manager: Option<(Uuid, String)>,
    rules: HandlingRules,
    /// Today in Japan: cases happen before it.
    today: Date,
    /// Midnight at the start of today, Japan time: every generated time is before it.
    end: OffsetDateTime,
    start: Date,
}

impl World {
    fn has_occupational_physician(&self, workplace: Option<Uuid>) -> bool {
        // As `cases::load_case` decides it.
        match workplace {
            Some(w) => self
                .workplaces
                .iter()
                .any(|x| x.id == w && x.has_occupational_physician),
            None => self.workplaces.iter().any(|x| x.has_occupational_physician),
        }
    }
}

fn jst_date(t: OffsetDateTime) -> Date {
    t.to_offset(JST).date()
}

fn at_jst(d: Date, minute_of_day: i64) -> OffsetDateTime {
    (d.midnight().assume_offset(JST) + Duration::minutes(minute_of_day)).to_offset(UtcOffset::UTC)
}

impl<S: Store> App<S> {
    /// Loads `opts.cases` generated cases into the demo employer (seeding the demo world first
    /// on an empty database, and creating the bench accounts once), reporting after each
    /// transaction.
    pub async fn load_demo_cases(
        &self,
        opts: &LoadOptions,
        mut progress: impl FnMut(&LoadProgress) + Send,
    ) -> Result<LoadSummary, AppError> {
        let started = Instant::now();
        let demo_seeded = self.seed_demo().await?.is_some();
        let world = Arc::new(self.demo_world(opts.seed).await?);
        let bench_accounts_created = self.ensure_bench_accounts(&world).await?;

        let key = format!("demo_load_next:{}", opts.seed);
        let first_case = match self.store.read().await?.get_setting(&key).await? {
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map_err(|_| AppError::Internal(format!("setting {key} is not a number: {v}")))?,
            None => 0,
        };
        let total = opts.cases;
        let batch = u64::from(opts.batch.max(1));
        let mut summary = LoadSummary {
            seed: opts.seed,
            first_case,
            counts: LoadCounts::default(),
            by_status: BTreeMap::new(),
            by_path: BTreeMap::new(),
            elapsed: StdDuration::ZERO,
            demo_seeded,
            bench_accounts_created,
        };
        let spawn = |from: u64| {
            let world = world.clone();
            let to = (from + batch).min(total);
            tokio::task::spawn_blocking(move || {
                (from..to)
                    .map(|j| generate(&world, first_case + j, j, total))
                    .collect::<Result<Vec<_>, AppError>>()
            })
        };
        let mut next = (total > 0).then(|| spawn(0));
        let mut done = 0;
        while let Some(handle) = next.take() {
            let cases = handle
                .await
                .map_err(|e| AppError::Internal(format!("generator: {e}")))??;
            let end = done + cases.len() as u64;
            if end < total {
                next = Some(spawn(end));
            }
            let mut tx = self.store.begin().await?;
            let written = async {
                write_cases(&mut tx, &cases).await?;
                tx.put_setting(&key, &(first_case + end).to_string())
                    .await?;
                if end == total {
                    tx.refresh_statistics().await?;
                }
                Ok::<(), AppError>(())
            }
            .await;
            if let Err(e) = written {
                let _ = tx.rollback().await;
                return Err(e);
            }
            tx.commit().await?;
            for g in &cases {
                summary.counts.add(g);
                *summary.by_status.entry(g.case.state.status).or_default() += 1;
                *summary.by_path.entry(g.case.state.path).or_default() += 1;
            }
            done = end;
            progress(&LoadProgress {
                done,
                total,
                elapsed: started.elapsed(),
            });
        }
        summary.elapsed = started.elapsed();
        Ok(summary)
    }

    /// The demo employer, its hospital and people, as the cases need them.
    async fn demo_world(&self, seed: u64) -> Result<World, AppError> {
        let mut c = self.store.read().await?;
        if c.get_setting("demo").await?.as_deref() != Some("true") {
            return Err(invalid(
                "database",
                "not_a_demo_database",
                "このデータベースはデモ用ではありません。demo load は空のデータベースか、デモデータの入ったデータベース（serve --demo で作成）にだけ使えます。",
            ));
        }
        let orgs = c.list_organisations().await?;
        let find = |kind: OrganisationKind, name: &str| {
            orgs.iter()
                .find(|o| o.kind == kind && o.name.as_str() == name)
                .map(|o| o.id)
                .ok_or_else(|| {
                    invalid(
                        "database",
                        "demo_world_missing",
                        format!(
                            "デモの組織「{name}」が見つかりません。デモデータを作り直してください（空のデータベースで demo load を実行すると作成されます）。"
                        ),
                    )
                })
        };
        let employer = find(OrganisationKind::Employer, DEMO_EMPLOYER)?;
        let hospital = find(OrganisationKind::MedicalInstitution, DEMO_HOSPITAL)?;
        let workplaces = c.list_workplaces(employer).await?;
        let mut person = async |login: &str, role: Role| -> Result<(Actor, String), AppError> {
            let l = LoginName::parse(login).map_err(ValidationErrors::from)?;
            let u = c.find_user_by_login(&l).await?.ok_or_else(|| {
                invalid(
                    "database",
                    "demo_world_missing",
                    format!("デモのアカウント「{login}」が見つかりません。"),
                )
            })?;
            Ok((Actor { id: u.id, role }, u.display_name.to_string()))
        };
        let (hr, hr_name) = person("jinji", Role::HrOfficer).await?;
        let (doctor, doctor_name) = person("doctor", Role::AttendingPhysician).await?;
        let (sangyoi, _) = person("sangyoi", Role::OccupationalPhysician).await?;
        let manager = person("manager", Role::LineManager)
            .await
            .ok()
            .map(|(a, n)| (a.id, n));
        let operator = person("operator", Role::SystemOperator)
            .await
            .map_or(Uuid::nil(), |(a, _)| a.id);
        let rules = c
            .get_handling_rules(employer)
            .await?
            .map_or_else(|| HandlingRules::defaults(employer), |r| r.rules);
        let today = jst_date(self.now());
        Ok(World {
            seed,
            employer,
            employer_name: DEMO_EMPLOYER.to_owned(),
            workplaces,
            hospital,
            operator,
            hr,
            hr_name,
            doctor,
            doctor_name,
            sangyoi,
            manager,
            rules,
            today,
            end: at_jst(today, 0),
            start: today - Duration::days(SPAN_DAYS),
        })
    }

    /// `bench-worker-001` … `-032` (workers of the demo employer) and `bench-other` (HR of a
    /// second employer), with the demo password, each created once through the use cases.
    async fn ensure_bench_accounts(&self, world: &World) -> Result<u32, AppError> {
        let ctx = RequestContext {
            operation_id: Some(OPERATION.into()),
            ..RequestContext::default()
        };
        let operator = Principal {
            user: world.operator,
            operator: true,
            memberships: Vec::new(),
            second_factor_ok: true,
        };
        let password =
            NewPassword::parse(crate::demo::DEMO_PASSWORD, None).map_err(ValidationErrors::from)?;
        let name = |s: &str| DisplayName::parse("name", "名前", s).map_err(ValidationErrors::from);
        let mut wanted: Vec<(String, String, String, Uuid, Role)> = Vec::new();
        for i in 1..=BENCH_WORKERS {
            let (family, given) = bench_name(i);
            wanted.push((
                format!("bench-worker-{i:03}"),
                format!("{} {}", family.0, given.0),
                format!("{} {}", family.1, given.1),
                world.employer,
                Role::Worker,
            ));
        }
        let mut created = 0;
        let missing = {
            let mut c = self.store.read().await?;
            let mut missing = Vec::new();
            for w in wanted {
                let l = LoginName::parse(&w.0).map_err(ValidationErrors::from)?;
                if c.find_user_by_login(&l).await?.is_none() {
                    missing.push(w);
                }
            }
            let other = LoginName::parse("bench-other").map_err(ValidationErrors::from)?;
            let other_missing = c.find_user_by_login(&other).await?.is_none();
            (missing, other_missing)
        };
        let (mut missing, other_missing) = missing;
        if other_missing {
            let orgs = self.store.read().await?.list_organisations().await?;
            let existing = orgs
                .iter()
                .find(|o| o.kind == OrganisationKind::Employer && o.name.as_str() == OTHER_EMPLOYER)
                .map(|o| o.id);
            let org = match existing {
                Some(id) => id,
                None => {
                    let tokyo = Prefecture::from_code(13)
                        .ok_or_else(|| invalid("prefecture", "prefecture", "都道府県"))?;
                    let permit = decide(&operator, Action::CreateOrganisation)?;
                    self.create_organisation(
                        &ctx,
                        &operator,
                        permit,
                        NewOrganisation {
                            kind: OrganisationKind::Employer,
                            name: name(OTHER_EMPLOYER)?,
                            prefecture: tokyo,
                            agency_kind: None,
                            workplaces: vec![NewWorkplace {
                                name: name("本社（東京都中央区）")?,
                                prefecture: tokyo,
                                has_occupational_physician: true,
                            }],
                        },
                    )
                    .await?
                    .id
                }
            };
            missing.push((
                "bench-other".into(),
                "青木 理恵".into(),
                "アオキ リエ".into(),
                org,
                Role::HrOfficer,
            ));
        }
        for (login, display, reading, org, role) in missing {
            let user = self
                .create_user(
                    &ctx,
                    Some(&operator),
                    NewUser {
                        login: LoginName::parse(&login).map_err(ValidationErrors::from)?,
                        display_name: name(&display)?,
                        email: None,
                        password: password.clone(),
                        operator: false,
                        demo: true,
                        name_reading: None,
                    },
                )
                .await?;
            self.grant_membership(&ctx, &operator, user.id, org, role, RoleDetail::default())
                .await?;
            self.set_name_reading(user.id, parse_reading(&reading)?)
                .await?;
            created += 1;
        }
        Ok(created)
    }
}

/// Writes a batch of generated cases, as the use cases would have left them: their rows by
/// kind, then their audit events in order (each case's in time order, case after case).
async fn write_cases<T: WriteRepo + BulkWrites>(
    tx: &mut T,
    cases: &[GeneratedCase],
) -> Result<(), AppError> {
    let rows: Vec<CaseRows<'_>> = cases
        .iter()
        .map(|g| CaseRows {
            user: &g.user,
            reading: &g.reading,
            membership: &g.membership,
            case: &g.case,
            parties: &g.parties,
            documents: &g.documents,
            consents: &g.consents,
            events: &g.events,
            tasks: &g.tasks,
            grants: &g.grants,
            search: &g.search,
        })
        .collect();
    tx.insert_cases(&rows).await?;
    let audit: Vec<AuditEvent> = cases.iter().flat_map(|g| g.audit.iter().cloned()).collect();
    tx.append_audits(&audit).await?;
    Ok(())
}

// ---- one case ---------------------------------------------------------------------------------

/// Everything one case adds.
#[derive(Debug, Clone)]
struct GeneratedCase {
    user: UserRecord,
    reading: String,
    membership: MembershipRecord,
    case: CaseRecord,
    parties: Vec<CasePartyRecord>,
    documents: Vec<DocumentRecord>,
    events: Vec<CaseEventRecord>,
    tasks: Vec<TaskRecord>,
    consents: Vec<Consent>,
    /// In order of time.
    audit: Vec<AuditEvent>,
    /// The access rows the policy gives for the case's context (as `cases::load_case`
    /// would build it from the rows above).
    grants: Vec<CaseGrant>,
    /// The search rows, as a rebuild of the index would write them.
    search: Vec<SearchRow>,
}

/// A small deterministic random source: one ChaCha8 stream per case.
struct Rng(ChaCha8Rng);

impl Rng {
    fn for_case(seed: u64, index: u64) -> Rng {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        r.set_stream(index);
        Rng(r)
    }

    /// Uniform in `0..n` (`0` for `n == 0`).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.0.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// `k` distinct items of `xs` in their order.
    fn some<'a, T>(&mut self, xs: &'a [T], k: usize) -> Vec<&'a T> {
        let mut idx: Vec<usize> = (0..xs.len()).collect();
        for i in 0..idx.len() {
            let j = i + self.below((idx.len() - i) as u64) as usize;
            idx.swap(i, j);
        }
        idx.truncate(k.min(xs.len()));
        idx.sort_unstable();
        idx.into_iter().map(|i| &xs[i]).collect()
    }

    /// An index into `weights`, chosen in proportion to them.
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        let mut x = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            if x < u64::from(*w) {
                return i;
            }
            x -= u64::from(*w);
        }
        weights.len().saturating_sub(1)
    }

    /// A UUIDv7 of the time `at` with random bits from the stream.
    fn id(&mut self, at: OffsetDateTime) -> Uuid {
        let millis = u64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        let mut b = [0u8; 10];
        self.0.fill_bytes(&mut b);
        uuid::Builder::from_unix_timestamp_millis(millis, &b).into_uuid()
    }
}

/// A step of the walk, before its dates are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    DraftWorkInformation,
    Confirm(Confirmer),
    HandToPhysician,
    Opinion,
    OccupationalPhysician,
    SkipOccupationalPhysician,
    DraftPlan,
    ConfirmPlan,
    RevisePlan,
    FollowUp,
    StartLeave,
    LeaveContact,
    ReturnOpinion,
    CardWorker,
    CardPhysician,
    CardHanded,
    Close { by_worker: bool },
}

impl Move {
    /// Days from the last step to this one (from, to).
    fn gap(self) -> (i64, i64) {
        match self {
            Move::DraftWorkInformation => (1, 10),
            Move::Confirm(_) => (0, 4),
            Move::HandToPhysician => (2, 21),
            Move::Opinion => (7, 28),
            Move::OccupationalPhysician => (3, 14),
            Move::SkipOccupationalPhysician => (1, 7),
            Move::DraftPlan => (3, 14),
            Move::ConfirmPlan => (1, 7),
            Move::RevisePlan => (30, 120),
            Move::FollowUp => (14, 60),
            Move::StartLeave => (1, 14),
            Move::LeaveContact => (20, 40),
            Move::ReturnOpinion => (20, 90),
            Move::CardWorker => (1, 10),
            Move::CardPhysician => (7, 28),
            Move::CardHanded => (1, 10),
            Move::Close { .. } => (7, 90),
        }
    }
}

struct Gen<'w> {
    w: &'w World,
    rng: Rng,
    /// The case's clock: every record is written after the one before.
    t: OffsetDateTime,
    worker: Actor,
    name: String,
    female: bool,
    birth: Date,
    employee_number: String,
    occupation: &'static Occupation,
    condition: &'static Condition,
    department: &'static str,
    case: CaseRecord,
    facts: CaseFacts,
    hospital_attached: bool,
    line_manager: Option<Uuid>,
    parties: Vec<CasePartyRecord>,
    documents: Vec<DocumentRecord>,
    events: Vec<CaseEventRecord>,
    tasks: Vec<TaskRecord>,
    consents: Vec<Consent>,
    audit: Vec<AuditEvent>,
    work_information: Option<usize>,
    plan: Option<usize>,
    card: Option<usize>,
    follow_ups: u32,
    contacts: u32,
}

/// Generates case number `index` of the seed, the `j`-th of `n` in this run (which fixes its
/// place in the five years).
fn generate(w: &World, index: u64, j: u64, n: u64) -> Result<GeneratedCase, AppError> {
    let mut rng = Rng::for_case(w.seed, index);
    // The day: evenly through the window in the order of the run, on a working day.
    let span = (w.today - w.start).whole_days().max(1);
    let pos = (j as f64 + rng.unit()) / n.max(1) as f64;
    let mut day = w.start + Duration::days(((pos * span as f64) as i64).clamp(0, span - 1));
    day = match day.weekday() {
        Weekday::Saturday => day - Duration::days(1),
        Weekday::Sunday => day - Duration::days(2),
        _ => day,
    };
    let opened = at_jst(day, rng.range(8 * 60 + 30, 17 * 60 + 30));

    let female = rng.chance(0.45);
    let family = *rng.pick(FAMILY_NAMES);
    let given = if female {
        *rng.pick(FEMALE_NAMES)
    } else {
        *rng.pick(MALE_NAMES)
    };
    let name = format!("{} {}", family.0, given.0);
    let reading = parse_reading(&format!("{} {}", family.1, given.1))?
        .ok_or_else(|| AppError::Internal("empty reading".into()))?;
    let age = rng.range(22, 64);
    let month = time::Month::try_from(rng.range(1, 12) as u8)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let birth = Date::from_calendar_date(day.year() - age as i32, month, rng.range(1, 28) as u8)
        .map_err(|e| AppError::Internal(e.to_string()))?;

    // Most work at the head office factory (with a 産業医), some at the sales office.
    let workplace = {
        let x = rng.unit();
        let by_name = |part: &str| {
            w.workplaces
                .iter()
                .find(|p| p.name.as_str().contains(part))
                .or(w.workplaces.first())
                .map(|p| p.id)
        };
        if x < 0.72 {
            by_name("工場")
        } else if x < 0.95 {
            by_name("営業所")
        } else {
            None
        }
    };
    let office = workplace.is_some_and(|id| {
        w.workplaces
            .iter()
            .any(|p| p.id == id && p.name.as_str().contains("営業所"))
    });
    let occupations: Vec<&'static Occupation> =
        OCCUPATIONS.iter().filter(|o| !office || o.office).collect();
    let occupation = *rng.pick(&occupations);
    let condition = rng.pick(CONDITIONS);

    let registered = opened - Duration::minutes(rng.range(10, 600));
    let user_id = rng.id(registered);
    let user = UserRecord {
        id: user_id,
        login: LoginName::parse(&format!("demo-s{}-{index:07}", w.seed))
            .map_err(ValidationErrors::from)?,
        display_name: DisplayName::parse("name", "名前", &name).map_err(ValidationErrors::from)?,
        email: None,
        password_hash: NO_PASSWORD.into(),
        active: true,
        operator: false,
        // Not offered on the demo's sign-in page (they have no password to sign in with):
        // listing a million of them made every start of `serve --demo` and every view of
        // the sign-in page cost a statement per generated worker.
        demo: false,
        totp_secret: None,
        totp_pending_secret: None,
        totp_last_step: None,
        created_at: registered,
        password_changed_at: registered,
        version: 1,
    };
    let joined = registered + Duration::minutes(1);
    let membership = MembershipRecord {
        id: rng.id(joined),
        user_id,
        organisation_id: w.employer,
        organisation_kind: OrganisationKind::Employer,
        role: Role::Worker,
        detail: RoleDetail::default(),
        created_at: joined,
    };
    let path = {
        let x = rng.unit();
        if x < condition.leave {
            CasePath::LeaveAndReturn
        } else if x < condition.leave + 0.12 {
            CasePath::SupportCard
        } else {
            CasePath::Continuation
        }
    };
    let case_id = rng.id(opened);
    let mut audit = Vec::new();
    let account_event = |at, action, org: Option<Uuid>, target: String| {
        let mut e = AuditEvent::new(at, action, AuditOutcome::Success);
        e.actor = Some(w.operator);
        e.actor_role = Some(Role::SystemOperator);
        e.organisation = org;
        e.target = Some(target);
        e.operation_id = Some(OPERATION.into());
        e
    };
    let mut created = account_event(
        registered,
        AuditAction::UserCreated,
        None,
        format!("user:{user_id}"),
    );
    created.category = Some(InformationCategory::Account);
    audit.push(created);
    audit.push(account_event(
        joined,
        AuditAction::MembershipGranted,
        Some(w.employer),
        format!("membership:{}", membership.id),
    ));

    let mut g = Gen {
        w,
        t: opened,
        worker: Actor {
            id: user_id,
            role: Role::Worker,
        },
        name,
        female,
        birth,
        employee_number: format!("M{:06}", 100_000 + index % 900_000),
        occupation,
        condition,
        department: occupation.department,
        case: CaseRecord {
            id: case_id,
            worker_id: user_id,
            employer_id: w.employer,
            workplace_id: workplace,
            state: CaseState::new(path),
            created_at: opened,
            updated_at: opened,
            version: 0,
        },
        facts: CaseFacts {
            has_occupational_physician: w.has_occupational_physician(workplace),
            paper: Default::default(),
        },
        rng,
        hospital_attached: false,
        line_manager: None,
        parties: Vec::new(),
        documents: Vec::new(),
        events: Vec::new(),
        tasks: Vec::new(),
        consents: Vec::new(),
        audit,
        work_information: None,
        plan: None,
        card: None,
        follow_ups: 0,
        contacts: 0,
    };
    g.walk()?;
    Ok(g.finish(reading, membership, user))
}

impl Gen<'_> {
    fn today(&self) -> Date {
        jst_date(self.t)
    }

    /// A few minutes later, for what happens in one sitting.
    fn tick(&mut self) {
        let m = self.rng.range(1, 6);
        self.t += Duration::minutes(m);
    }

    /// The time of a step `days` (drawn from `gap`) working days on, or `None` when that is
    /// not before today.
    fn later(&mut self, (lo, hi): (i64, i64)) -> Option<OffsetDateTime> {
        let mut days = self.rng.range(lo, hi);
        if days == 0 {
            // The same day, unless that runs into the evening.
            let t = self.t + Duration::minutes(self.rng.range(5, 120));
            if t.to_offset(JST).hour() < 19 {
                return (t < self.w.end).then_some(t);
            }
            days = 1;
        }
        let mut d = self.today() + Duration::days(days);
        d = match d.weekday() {
            Weekday::Saturday => d + Duration::days(2),
            Weekday::Sunday => d + Duration::days(1),
            _ => d,
        };
        if d >= self.w.today {
            return None;
        }
        Some(at_jst(d, self.rng.range(8 * 60 + 30, 18 * 60)))
    }

    fn event(&mut self, actor: Actor, action: AuditAction, target: String) -> &mut AuditEvent {
        let mut e = AuditEvent::new(self.t, action, AuditOutcome::Success);
        e.actor = Some(actor.id);
        e.actor_role = Some(actor.role);
        e.organisation = Some(self.w.employer);
        e.target = Some(target);
        e.case_id = Some(self.case.id);
        e.operation_id = Some(OPERATION.into());
        self.audit.push(e);
        let last = self.audit.len() - 1;
        &mut self.audit[last]
    }

    fn actor(&self, role: Role) -> Actor {
        match role {
            Role::Worker => self.worker,
            Role::AttendingPhysician => self.w.doctor,
            Role::OccupationalPhysician => self.w.sangyoi,
            _ => self.w.hr,
        }
    }

    // ---- the walk ----

    fn walk(&mut self) -> Result<(), AppError> {
        self.take(Step::FileRequest, self.worker)?;
        // Most cases run their course until today; some stop early (a step not yet taken).
        let budget = if self.rng.chance(0.8) {
            80
        } else {
            self.rng.range(0, 10)
        };
        for _ in 0..budget {
            if self.case.state.is_closed() {
                break;
            }
            let mut options = self.options();
            let mut taken = false;
            while !options.is_empty() {
                let weights: Vec<u32> = options.iter().map(|(w, _)| *w).collect();
                let (_, mv) = options.swap_remove(self.rng.weighted(&weights));
                let Some(at) = self.later(mv.gap()) else {
                    // Not yet: the case waits in this state today.
                    self.pending();
                    return Ok(());
                };
                let before = self.t;
                self.t = at;
                if self.play(mv)? {
                    taken = true;
                    break;
                }
                self.t = before;
            }
            if !taken {
                break;
            }
        }
        self.pending();
        Ok(())
    }

    /// What may come next, with weights.
    fn options(&mut self) -> Vec<(u32, Move)> {
        use CaseStatus as St;
        let s = &self.case.state;
        let op = if self.facts.has_occupational_physician {
            Move::OccupationalPhysician
        } else {
            Move::SkipOccupationalPhysician
        };
        let withdraw = Move::Close { by_worker: true };
        let close = Move::Close { by_worker: false };
        match s.status {
            St::NotRequested | St::Closed => Vec::new(),
            St::Requested => match s.path {
                CasePath::Continuation => vec![
                    (100, Move::DraftWorkInformation),
                    (4, Move::StartLeave),
                    (3, withdraw),
                ],
                CasePath::LeaveAndReturn => vec![(100, Move::StartLeave), (3, withdraw)],
                CasePath::SupportCard => vec![(100, Move::CardWorker), (3, withdraw)],
            },
            St::WorkInformationDrafting | St::WorkInformationConfirming => {
                let mut o = vec![(5, Move::DraftWorkInformation)];
                if !s.work_information.employer {
                    o.push((50, Move::Confirm(Confirmer::Employer)));
                }
                if !s.work_information.worker {
                    o.push((50, Move::Confirm(Confirmer::Worker)));
                }
                o
            }
            St::ReadyForPhysician => vec![(100, Move::HandToPhysician), (2, withdraw)],
            St::OpinionRequested => vec![(100, Move::Opinion), (3, Move::StartLeave)],
            St::CardAtPhysician => vec![(100, Move::CardPhysician)],
            St::CardWithWorker => vec![(100, Move::CardHanded)],
            St::OccupationalPhysicianPending => {
                if s.fitness == Some(FitnessForWork::UnfitForNow) {
                    vec![(100, Move::StartLeave), (20, op), (5, close)]
                } else {
                    vec![(100, op), (2, Move::StartLeave), (2, close)]
                }
            }
            St::ReturnAssessment => vec![(100, op)],
            St::PlanDrafting => {
                if !s.on_leave() && s.fitness == Some(FitnessForWork::UnfitForNow) {
                    vec![(100, Move::StartLeave), (5, close)]
                } else {
                    vec![(100, Move::DraftPlan), (2, close)]
                }
            }
            St::PlanConfirmation => vec![(100, Move::ConfirmPlan), (6, Move::DraftPlan)],
            St::Active => vec![
                (60, Move::FollowUp),
                (12, Move::RevisePlan),
                (2, Move::StartLeave),
                (8 + 12 * self.follow_ups, close),
            ],
            St::OnLeave => vec![
                (if self.contacts < 3 { 40 } else { 5 }, Move::LeaveContact),
                (60, Move::ReturnOpinion),
                (3, close),
            ],
        }
    }

    fn fitness(&mut self) -> (FitnessForWork, Option<Date>) {
        let x = self.rng.unit();
        if x < self.condition.unfit {
            let until = self.today() + Duration::days(self.rng.range(30, 120));
            (FitnessForWork::UnfitForNow, Some(until))
        } else if x < self.condition.unfit + 0.2 {
            (FitnessForWork::Fit, None)
        } else {
            (FitnessForWork::FitWithConditions, None)
        }
    }

    fn outcome(&mut self) -> Outcome {
        let s = &self.case.state;
        let x = self.rng.unit();
        if s.on_leave() {
            if x < 0.5 {
                Outcome::LeaveContinues
            } else {
                Outcome::Resigned
            }
        } else if s.leave.is_some_and(|l| l.return_on.is_some()) {
            match x {
                x if x < 0.65 => Outcome::Returned,
                x if x < 0.8 => Outcome::Continuing,
                x if x < 0.9 => Outcome::Transferred,
                _ => Outcome::Resigned,
            }
        } else {
            match x {
                x if x < 0.7 => Outcome::Continuing,
                x if x < 0.82 => Outcome::Transferred,
                x if x < 0.92 => Outcome::Resigned,
                _ => Outcome::Other,
            }
        }
    }

    /// Plays one move at `self.t`: the step, if the state machine accepts it, with what the
    /// people do around it. False when refused (nothing written).
    fn play(&mut self, mv: Move) -> Result<bool, AppError> {
        let today = self.today();
        let later = |rng: &mut Rng, lo, hi| today + Duration::days(rng.range(lo, hi));
        let (step, role) = match mv {
            Move::DraftWorkInformation => (Step::DraftWorkInformation, Role::HrOfficer),
            Move::Confirm(by) => (
                Step::ConfirmWorkInformation { by },
                match by {
                    Confirmer::Worker => Role::Worker,
                    Confirmer::Employer => Role::HrOfficer,
                },
            ),
            Move::HandToPhysician => (Step::HandToPhysician, Role::Worker),
            Move::Opinion => {
                let (fitness, leave_until) = self.fitness();
                (
                    Step::RecordOpinion {
                        fitness,
                        leave_until,
                    },
                    Role::AttendingPhysician,
                )
            }
            Move::OccupationalPhysician => (
                Step::RecordOccupationalPhysicianOpinion,
                Role::OccupationalPhysician,
            ),
            Move::SkipOccupationalPhysician => (Step::SkipOccupationalPhysician, Role::HrOfficer),
            Move::DraftPlan => {
                let returning = self.case.state.on_leave();
                (
                    Step::DraftPlan {
                        review_on: later(&mut self.rng, 60, 180),
                        follow_up_on: later(&mut self.rng, 14, 30),
                        return_on: returning.then(|| later(&mut self.rng, 7, 30)),
                    },
                    Role::HrOfficer,
                )
            }
            Move::ConfirmPlan => (Step::ConfirmPlan, Role::Worker),
            Move::RevisePlan => (Step::RevisePlan, Role::HrOfficer),
            Move::FollowUp => {
                let next_follow_up_on = self.rng.chance(0.8).then(|| later(&mut self.rng, 14, 60));
                let next_review_on = self.rng.chance(0.2).then(|| later(&mut self.rng, 60, 180));
                let role = if self.facts.has_occupational_physician && self.rng.chance(0.3) {
                    Role::OccupationalPhysician
                } else {
                    Role::HrOfficer
                };
                (
                    Step::RecordFollowUp {
                        next_follow_up_on,
                        next_review_on,
                    },
                    role,
                )
            }
            Move::StartLeave => (
                Step::StartLeave {
                    expected_end: later(&mut self.rng, 30, 180),
                },
                Role::HrOfficer,
            ),
            Move::LeaveContact => (
                Step::RecordLeaveContact {
                    next_contact_on: self.rng.chance(0.7).then(|| later(&mut self.rng, 20, 40)),
                },
                Role::HrOfficer,
            ),
            Move::ReturnOpinion => {
                let x = self.rng.unit();
                let (fitness, leave_until) = if x < 0.35 {
                    (ReturnToWorkFitness::Fit, None)
                } else if x < 0.85 {
                    (ReturnToWorkFitness::FitWithConditions, None)
                } else {
                    (
                        ReturnToWorkFitness::NotYet,
                        Some(later(&mut self.rng, 30, 90)),
                    )
                };
                (
                    Step::RecordReturnOpinion {
                        fitness,
                        leave_until,
                    },
                    Role::AttendingPhysician,
                )
            }
            Move::CardWorker => (Step::CardWorkerSection, Role::Worker),
            Move::CardPhysician => {
                let (fitness, leave_until) = self.fitness();
                (
                    Step::CardPhysicianSection {
                        fitness,
                        leave_until,
                    },
                    Role::AttendingPhysician,
                )
            }
            Move::CardHanded => (
                Step::CardHandedToEmployer,
                if self.rng.chance(0.8) {
                    Role::Worker
                } else {
                    Role::HrOfficer
                },
            ),
            Move::Close { by_worker } => {
                let outcome = if by_worker {
                    Outcome::Other
                } else {
                    self.outcome()
                };
                (
                    Step::Close { outcome },
                    if by_worker {
                        Role::Worker
                    } else {
                        Role::HrOfficer
                    },
                )
            }
        };
        // Ask the state machine first: a refused step leaves no trace.
        if case::apply(&self.case.state, &step, role, &self.facts, today).is_err() {
            return Ok(false);
        }
        let actor = self.actor(role);
        // What comes before the step.
        match &step {
            Step::DraftWorkInformation => {
                if self.work_information.is_none()
                    && self.line_manager.is_none()
                    && self.rng.chance(0.3)
                {
                    self.add_line_manager();
                }
                let answers = self.work_information_answers();
                let slot = self.work_information;
                self.work_information =
                    Some(self.save(slot, FormKind::WorkInformation, answers, self.w.hr)?);
                self.tick();
            }
            Step::HandToPhysician => {
                self.attach_hospital();
                if self.rng.chance(0.85) {
                    self.consent(
                        Recipient {
                            organisation: self.w.hospital,
                            role: Role::AttendingPhysician,
                            person: None,
                        },
                        OrganisationKind::MedicalInstitution,
                        InformationCategory::WorkInformation,
                        "主治医意見書を作成してもらうため",
                    )?;
                }
                self.tick();
            }
            Step::RecordOpinion {
                fitness,
                leave_until,
            } => {
                self.attach_hospital();
                let answers = self.opinion_answers(*fitness, *leave_until);
                let i = self.save(None, FormKind::ContinuationOpinion, answers, self.w.doctor)?;
                self.tick();
                self.finalise(
                    i,
                    self.w.doctor,
                    "physician_signature",
                    Party::AttendingPhysician,
                )?;
                self.tick();
            }
            Step::CardWorkerSection => {
                self.attach_hospital();
                let answers = self.card_worker_answers();
                self.card = Some(self.save(None, FormKind::SupportCard, answers, self.worker)?);
                self.tick();
            }
            Step::CardPhysicianSection {
                fitness,
                leave_until,
            } => {
                self.attach_hospital();
                if let Some(i) = self.card {
                    let mut answers = self.draft_answers(i);
                    answers.extend(self.card_physician_answers(*fitness, *leave_until));
                    self.save(Some(i), FormKind::SupportCard, answers, self.w.doctor)?;
                    self.tick();
                    self.finalise(
                        i,
                        self.w.doctor,
                        "physician_entry",
                        Party::AttendingPhysician,
                    )?;
                    self.tick();
                }
            }
            Step::StartLeave { .. } if self.rng.chance(0.6) => {
                self.attach_hospital();
                self.tick();
            }
            Step::RecordReturnOpinion {
                fitness,
                leave_until,
            } => {
                self.attach_hospital();
                let answers = self.return_opinion_answers(*fitness, *leave_until);
                let i = self.save(None, FormKind::ReturnToWorkOpinion, answers, self.w.doctor)?;
                self.tick();
                self.finalise(
                    i,
                    self.w.doctor,
                    "physician_signature",
                    Party::AttendingPhysician,
                )?;
                self.tick();
            }
            Step::DraftPlan { return_on, .. } => {
                let form = if return_on.is_some() {
                    FormKind::ReturnToWorkPlan
                } else {
                    FormKind::SupportPlan
                };
                let slot = self.plan.filter(|i| {
                    self.documents[*i].form == form && !self.documents[*i].is_finalised()
                });
                let answers = self.plan_answers(*return_on);
                self.plan = Some(self.save(slot, form, answers, self.w.hr)?);
                self.tick();
            }
            _ => {}
        }
        self.take(step.clone(), actor)?;
        // What follows it.
        match &step {
            Step::ConfirmWorkInformation { .. }
                if self.case.state.status == CaseStatus::ReadyForPhysician =>
            {
                if let Some(i) = self.work_information {
                    self.tick();
                    let mut answers = self.draft_answers(i);
                    answers.insert(
                        "worker_confirmation".into(),
                        signature(self.today(), &self.name),
                    );
                    self.set_answers(i, answers)?;
                    self.finalise(i, self.worker, "worker_confirmation", Party::Worker)?;
                }
            }
            Step::RecordOpinion { .. }
            | Step::CardPhysicianSection { .. }
            | Step::RecordReturnOpinion { .. } => {
                let shared = self.consents.iter().any(|c| {
                    c.categories.contains(&InformationCategory::Medical)
                        && c.recipient.role == Role::OccupationalPhysician
                });
                if self.facts.has_occupational_physician && !shared && self.rng.chance(0.6) {
                    self.tick();
                    self.consent(
                        Recipient {
                            organisation: self.w.employer,
                            role: Role::OccupationalPhysician,
                            person: None,
                        },
                        OrganisationKind::Employer,
                        InformationCategory::Medical,
                        "就業上の措置について産業医の意見を聴くため",
                    )?;
                }
                if self.rng.chance(0.04) {
                    self.tick();
                    self.consent(
                        Recipient {
                            organisation: self.w.employer,
                            role: Role::HrOfficer,
                            person: None,
                        },
                        OrganisationKind::Employer,
                        InformationCategory::Medical,
                        "配置や勤務時間の調整を人事担当者と相談するため",
                    )?;
                }
            }
            Step::ConfirmPlan => {
                if let Some(i) = self.plan.take() {
                    self.tick();
                    let mut answers = self.draft_answers(i);
                    answers.insert(
                        "worker_confirmation".into(),
                        signature(self.today(), &self.name),
                    );
                    self.set_answers(i, answers)?;
                    self.finalise(i, self.w.hr, "hr_signature", Party::Employer)?;
                }
            }
            Step::RecordFollowUp { .. } => self.follow_ups += 1,
            Step::RecordLeaveContact { .. } => self.contacts += 1,
            _ => {}
        }
        Ok(true)
    }

    /// Work that is under way when today comes: a draft the next person has started.
    fn pending(&mut self) {
        let status = self.case.state.status;
        let Some(at) = self.later((1, 10)) else {
            return;
        };
        let before = self.t;
        self.t = at;
        let done = match status {
            CaseStatus::OpinionRequested if self.rng.chance(0.4) => {
                let (fitness, leave_until) = self.fitness();
                let answers = self.opinion_answers(fitness, leave_until);
                self.save(None, FormKind::ContinuationOpinion, answers, self.w.doctor)
                    .is_ok()
            }
            CaseStatus::PlanDrafting if self.plan.is_none() && self.rng.chance(0.4) => {
                let returning = self.case.state.on_leave();
                let return_on = returning.then(|| self.today() + Duration::days(14));
                let form = if returning {
                    FormKind::ReturnToWorkPlan
                } else {
                    FormKind::SupportPlan
                };
                let answers = self.plan_answers(return_on);
                match self.save(None, form, answers, self.w.hr) {
                    Ok(i) => {
                        self.plan = Some(i);
                        true
                    }
                    Err(_) => false,
                }
            }
            _ => false,
        };
        if !done {
            self.t = before;
        }
    }

    /// Takes an accepted step: state, tasks, history and its audit event.
    fn take(&mut self, step: Step, actor: Actor) -> Result<(), AppError> {
        let today = self.today();
        let t = case::apply(&self.case.state, &step, actor.role, &self.facts, today)
            .map_err(|r| AppError::Internal(format!("demo load: step refused: {}", r.message())))?;
        let at = self.t;
        for task in self
            .tasks
            .iter_mut()
            .filter(|x| x.closed_at.is_none() && t.closed.contains(&x.kind))
        {
            task.closed_at = Some(at);
        }
        for task in &t.opened {
            let organisation = match task.assignee {
                Role::AttendingPhysician | Role::HospitalCoordinator if self.hospital_attached => {
                    self.w.hospital
                }
                _ => self.w.employer,
            };
            let id = self.rng.id(at);
            self.tasks.push(TaskRecord {
                id,
                case_id: self.case.id,
                kind: task.kind,
                assignee_role: task.assignee,
                assignee_organisation: organisation,
                due: task.due,
                opened_at: at,
                closed_at: None,
            });
        }
        let id = self.rng.id(at);
        self.events.push(CaseEventRecord {
            id,
            case_id: self.case.id,
            step: serde_json::to_value(&step).map_err(|e| AppError::Internal(e.to_string()))?,
            actor: actor.id,
            actor_role: actor.role,
            from_status: self.case.state.status,
            to_status: t.state.status,
            at,
        });
        let target = format!("case:{}", self.case.id);
        if step == Step::FileRequest {
            self.event(actor, AuditAction::CaseOpened, target);
        } else {
            self.event(actor, AuditAction::CaseStep, target).purpose =
                Some(step.kind().code().to_owned());
        }
        self.case.state = t.state;
        self.case.updated_at = at;
        self.case.version += 1;
        Ok(())
    }

    fn attach_hospital(&mut self) {
        if self.hospital_attached || self.case.state.is_closed() {
            return;
        }
        self.hospital_attached = true;
        self.parties.push(CasePartyRecord {
            case_id: self.case.id,
            kind: PartyKind::Hospital,
            organisation_id: self.w.hospital,
            user_id: None,
            added_by: self.worker.id,
            added_at: self.t,
        });
        let target = format!("{}:{}", PartyKind::Hospital.code(), self.w.hospital);
        self.event(self.worker, AuditAction::PartyAdded, target);
        // Tasks opened before stay with the employer, as the use cases leave them.
        self.tick();
    }

    fn add_line_manager(&mut self) {
        let Some((manager, _)) = self.w.manager else {
            return;
        };
        self.line_manager = Some(manager);
        self.parties.push(CasePartyRecord {
            case_id: self.case.id,
            kind: PartyKind::LineManager,
            organisation_id: self.w.employer,
            user_id: Some(manager),
            added_by: self.w.hr.id,
            added_at: self.t,
        });
        let target = format!("{}:{manager}", PartyKind::LineManager.code());
        self.event(self.w.hr, AuditAction::PartyAdded, target);
        self.tick();
    }

    /// The worker grants a consent; some are given an end, some are withdrawn later.
    fn consent(
        &mut self,
        recipient: Recipient,
        kind: OrganisationKind,
        category: InformationCategory,
        purpose: &str,
    ) -> Result<(), AppError> {
        let granted = self.t;
        let expires_at = self
            .rng
            .chance(0.25)
            .then(|| granted + Duration::days(self.rng.range(90, 365)));
        let id = self.rng.id(granted);
        let mut consent = Consent::grant(
            id,
            self.worker.id,
            self.case.id,
            ConsentDraft {
                recipient,
                recipient_kind: kind,
                categories: [category].into_iter().collect(),
                purpose: purpose.into(),
                expires_at,
            },
            granted,
            EXPLANATION_VERSION,
        )?;
        self.event(
            self.worker,
            AuditAction::ConsentGranted,
            format!("consent:{id}"),
        );
        if self.rng.chance(0.08) {
            let at = granted
                + Duration::days(self.rng.range(7, 180))
                + Duration::minutes(self.rng.range(0, 600));
            if at < self.w.end && expires_at.is_none_or(|e| at < e) {
                consent.withdrawn_at = Some(at);
                let mut e =
                    AuditEvent::new(at, AuditAction::ConsentWithdrawn, AuditOutcome::Success);
                e.actor = Some(self.worker.id);
                e.actor_role = Some(Role::Worker);
                e.organisation = Some(self.w.employer);
                e.target = Some(format!("consent:{id}"));
                e.case_id = Some(self.case.id);
                e.operation_id = Some(OPERATION.into());
                self.audit.push(e);
            }
        }
        self.consents.push(consent);
        Ok(())
    }

    fn draft_answers(&self, i: usize) -> Answers {
        match &self.documents[i].body {
            DocumentBody::Draft(d) => d.answers.clone(),
            DocumentBody::Finalised(f) => f.answers().clone(),
        }
    }

    /// Replaces a draft's answers without a save of its own (part of finalising).
    fn set_answers(&mut self, i: usize, answers: Answers) -> Result<(), AppError> {
        if let DocumentBody::Draft(d) = &mut self.documents[i].body {
            d.answers = answers;
            d.answers = d.check()?;
        }
        Ok(())
    }

    /// Saves a draft (new, or over the one in `slot`), as `save_draft` does.
    fn save(
        &mut self,
        slot: Option<usize>,
        form: FormKind,
        answers: Answers,
        by: Actor,
    ) -> Result<usize, AppError> {
        let at = self.t;
        let i = match slot {
            Some(i) if !self.documents[i].is_finalised() => {
                let d = &mut self.documents[i];
                if let DocumentBody::Draft(draft) = &mut d.body {
                    draft.answers = answers;
                    draft.answers = draft.check()?;
                }
                d.updated_at = at;
                d.version += 1;
                i
            }
            _ => {
                let id = self.rng.id(at);
                let mut draft = DraftDocument::new(id, form, FormVersion::V2026);
                draft.answers = answers;
                draft.answers = draft.check()?;
                self.documents.push(DocumentRecord {
                    id,
                    case_id: self.case.id,
                    form,
                    body: DocumentBody::Draft(draft),
                    created_by: by.id,
                    created_at: at,
                    updated_at: at,
                    version: 1,
                    withheld: Vec::new(),
                });
                self.documents.len() - 1
            }
        };
        let id = self.documents[i].id;
        self.event(by, AuditAction::DocumentSaved, format!("document:{id}"))
            .category = Some(form.category());
        Ok(i)
    }

    /// 確定 on the given signature line, as `finalise_document` does.
    fn finalise(
        &mut self,
        i: usize,
        by: Actor,
        signature_field: &str,
        party: Party,
    ) -> Result<(), AppError> {
        let at = self.t;
        let d = &mut self.documents[i];
        let DocumentBody::Draft(draft) = &d.body else {
            return Ok(());
        };
        let finalised = draft.finalise(
            by.id,
            at,
            Attestation {
                signature_field: signature_field.into(),
                party,
            },
        )?;
        d.body = DocumentBody::Finalised(finalised);
        d.updated_at = at;
        d.version += 1;
        let (id, category) = (d.id, d.form.category());
        self.event(by, AuditAction::DocumentFinalised, format!("document:{id}"))
            .category = Some(category);
        Ok(())
    }

    fn finish(
        mut self,
        reading: String,
        membership: MembershipRecord,
        user: UserRecord,
    ) -> GeneratedCase {
        self.audit.sort_by_key(|e| e.at);
        let context = CaseContext {
            case: self.case.id,
            worker: self.case.worker_id,
            employer: self.case.employer_id,
            closed: self.case.state.is_closed(),
            line_managers: self.line_manager.into_iter().collect(),
            hospitals: if self.hospital_attached {
                vec![self.w.hospital]
            } else {
                Vec::new()
            },
            coordinators: Vec::new(),
            consents: self.consents.clone(),
            rules: self.w.rules.clone(),
        };
        let grants = access::stored_grants(&context);
        let workplace = self
            .case
            .workplace_id
            .and_then(|id| self.w.workplaces.iter().find(|p| p.id == id))
            .map(|p| p.name.to_string())
            .unwrap_or_default();
        let mut search = search_index::header_rows_of(
            self.case.id,
            user.display_name.as_str(),
            &reading,
            &self.w.employer_name,
            &workplace,
        );
        search.extend(self.documents.iter().flat_map(search_index::document_rows));
        GeneratedCase {
            user,
            reading,
            membership,
            case: self.case,
            parties: self.parties,
            documents: self.documents,
            events: self.events,
            tasks: self.tasks,
            consents: self.consents,
            audit: self.audit,
            grants,
            search,
        }
    }

    // ---- the forms ----

    fn visits(&mut self) -> &'static str {
        let visits: &'static [&'static str] = self.condition.visits;
        let v: &&'static str = self.rng.pick(visits);
        v
    }

    fn work_information_answers(&mut self) -> Answers {
        let o = self.occupation;
        let c = self.condition;
        let pattern = *self.rng.pick(o.patterns);
        let (start, end) = match pattern {
            "two_shift" => *self.rng.pick(&[("6:00", "14:45"), ("14:30", "23:15")]),
            "three_shift" => {
                *self
                    .rng
                    .pick(&[("6:00", "14:00"), ("14:00", "22:00"), ("22:00", "6:00")])
            }
            _ => *self
                .rng
                .pick(&[("8:30", "17:30"), ("9:00", "18:00"), ("8:00", "17:00")]),
        };
        let tasks = self.rng.some(o.tasks, 3);
        let systems = self.rng.some(SYSTEMS, 3);
        let methods: Vec<&str> = if self.rng.chance(0.3) {
            vec!["car"]
        } else if self.rng.chance(0.5) {
            vec!["walk", "public_transport_standing"]
        } else {
            vec!["walk", "public_transport_seated"]
        };
        let visits = self.visits();
        let details = *self.rng.pick(o.details);
        let overtime = *self.rng.pick(OVERTIME);
        let mut a = Answers::new();
        put(
            &mut a,
            "addressee",
            group([
                (
                    "institution",
                    text(format!("{DEMO_HOSPITAL} {}", c.department)),
                ),
                ("physician_name", text(&self.w.doctor_name)),
            ]),
        );
        put(&mut a, "employee_name", text(&self.name));
        put(&mut a, "date_of_birth", text(self.birth.to_string()));
        put(&mut a, "occupation", text(o.name));
        put(
            &mut a,
            "job_description",
            group([
                ("details", text(details)),
                ("tasks", list(tasks.iter().map(|t| **t))),
            ]),
        );
        put(&mut a, "work_pattern", group([("pattern", text(pattern))]));
        put(
            &mut a,
            "work_hours",
            group([
                ("start", text(start)),
                ("end", text(end)),
                ("break_hours", number(1)),
                ("days_per_week", number(5)),
                ("overtime", text(overtime)),
            ]),
        );
        put(
            &mut a,
            "commute",
            group([
                ("methods", list(methods)),
                ("minutes", number(self.rng.range(10, 90))),
            ]),
        );
        put(&mut a, "paid_leave_days", number(self.rng.range(3, 30)));
        put(
            &mut a,
            "other_notes",
            text(format!(
                "通院は{visits}の予定。{}",
                self.rng.pick(WORK_NOTES)
            )),
        );
        put(
            &mut a,
            "available_systems",
            group([("systems", list(systems.iter().map(|s| **s)))]),
        );
        put(
            &mut a,
            "occupational_physician",
            AnswerValue::Bool(self.facts.has_occupational_physician),
        );
        let office = self.case.workplace_id.is_some_and(|id| {
            self.w
                .workplaces
                .iter()
                .any(|p| p.id == id && p.name.as_str().contains("営業所"))
        });
        put(
            &mut a,
            "company_contact",
            group([
                (
                    "address",
                    text(if office {
                        "東京都品川区〇〇4-5-6"
                    } else {
                        "東京都大田区〇〇1-2-3"
                    }),
                ),
                ("phone", text("03-0000-0000")),
            ]),
        );
        put(
            &mut a,
            "company_signature",
            signature(
                self.today(),
                &format!("{DEMO_EMPLOYER} 人事部 {}", self.w.hr_name),
            ),
        );
        a
    }

    fn opinion_answers(&mut self, fitness: FitnessForWork, leave_until: Option<Date>) -> Answers {
        let c = self.condition;
        let today = self.today();
        let symptoms = self.rng.some(c.symptoms, 2);
        let treatment = *self.rng.pick(c.treatments);
        let visits = self.visits();
        let mut a = Answers::new();
        put(&mut a, "patient_name", text(&self.name));
        put(&mut a, "date_of_birth", text(self.birth.to_string()));
        put(&mut a, "diagnosis", text(c.diagnosis));
        put(
            &mut a,
            "current_symptoms",
            text(symptoms.iter().map(|s| **s).collect::<Vec<_>>().join("")),
        );
        put(
            &mut a,
            "treatment_plan",
            text(format!("{treatment}{visits}の通院が必要。")),
        );
        put(&mut a, "fitness_for_work", text(fitness.code()));
        match fitness {
            FitnessForWork::FitWithConditions => {
                let n = self.rng.range(2, 3) as usize;
                let measures = self.rng.some(c.measures, n);
                put(
                    &mut a,
                    "work_measures",
                    text(measures.iter().map(|s| **s).collect::<Vec<_>>().join("")),
                );
            }
            FitnessForWork::UnfitForNow => {
                if let Some(d) = leave_until {
                    put(
                        &mut a,
                        "other_considerations",
                        text(format!(
                            "{}ごろまでは療養に専念することが望ましい。復職の時期は改めて意見を述べる。",
                            japanese_date(d)
                        )),
                    );
                }
            }
            FitnessForWork::Fit => {}
        }
        if fitness != FitnessForWork::UnfitForNow {
            let considerations = *self.rng.pick(c.considerations);
            put(&mut a, "other_considerations", text(considerations));
            put(
                &mut a,
                "measure_period",
                group([
                    ("from", text(today.to_string())),
                    (
                        "to",
                        text((today + Duration::days(self.rng.range(60, 180))).to_string()),
                    ),
                ]),
            );
        }
        put(
            &mut a,
            "clinic_contact",
            group([
                ("address", text("東京都〇〇区〇〇2-3-4")),
                ("phone", text("03-1111-2222")),
            ]),
        );
        put(
            &mut a,
            "physician_signature",
            signature(today, &self.w.doctor_name),
        );
        a
    }

    fn return_opinion_answers(
        &mut self,
        fitness: ReturnToWorkFitness,
        leave_until: Option<Date>,
    ) -> Answers {
        let c = self.condition;
        let today = self.today();
        let mut a = Answers::new();
        put(&mut a, "patient_name", text(&self.name));
        put(&mut a, "date_of_birth", text(self.birth.to_string()));
        put(&mut a, "return_opinion", text(fitness.code()));
        if let Some(d) = leave_until {
            put(&mut a, "leave_until", text(d.to_string()));
        }
        if fitness == ReturnToWorkFitness::FitWithConditions {
            let measures = self.rng.some(c.measures, 2);
            put(
                &mut a,
                "work_measures",
                text(format!(
                    "復職後1か月は短時間勤務から始める。{}",
                    measures.iter().map(|s| **s).collect::<Vec<_>>().join("")
                )),
            );
        }
        let considerations = *self.rng.pick(c.considerations);
        put(&mut a, "other_considerations", text(considerations));
        if fitness != ReturnToWorkFitness::NotYet {
            put(
                &mut a,
                "measure_period",
                group([
                    ("from", text(today.to_string())),
                    (
                        "to",
                        text((today + Duration::days(self.rng.range(60, 180))).to_string()),
                    ),
                ]),
            );
        }
        put(
            &mut a,
            "physician_signature",
            signature(today, &self.w.doctor_name),
        );
        a
    }

    fn plan_answers(&mut self, return_on: Option<Date>) -> Answers {
        let c = self.condition;
        let today = self.today();
        let mut a = Answers::new();
        put(&mut a, "created_on", text(today.to_string()));
        put(&mut a, "employee_name", text(&self.name));
        put(&mut a, "date_of_birth", text(self.birth.to_string()));
        put(
            &mut a,
            "sex",
            text(if self.female { "female" } else { "male" }),
        );
        put(&mut a, "department", text(self.department));
        put(&mut a, "employee_number", text(&self.employee_number));
        if let Some(d) = return_on {
            put(&mut a, "return_to_work_date", text(d.to_string()));
        }
        let status = *self.rng.pick(c.plan_status);
        put(&mut a, "treatment_status", text(status));
        let visits = self.visits();
        let rows = self.rng.range(1, 3) as usize;
        let mut periods = Vec::new();
        for (k, (period, hours)) in PLAN_PERIODS.iter().take(rows).enumerate() {
            let measure = if k + 1 == rows {
                "通常勤務／残業は月10時間まで／通院配慮".to_owned()
            } else {
                let m = self.rng.some(MEASURE_WORDS, 2);
                format!(
                    "{}／通院配慮",
                    m.iter().map(|s| **s).collect::<Vec<_>>().join("／")
                )
            };
            let mut row = Answers::new();
            put(&mut row, "period", text(*period));
            put(&mut row, "working_hours", text(*hours));
            put(&mut row, "measures", text(measure));
            put(
                &mut row,
                "treatment_schedule",
                text(format!("通院 {visits}")),
            );
            periods.push(row);
        }
        put(&mut a, "plan_periods", AnswerValue::Rows(periods));
        put(
            &mut a,
            "job_duties",
            text(*self.rng.pick(self.occupation.details)),
        );
        let measures = self.rng.some(c.measures, 2);
        put(
            &mut a,
            "other_work_considerations",
            text(measures.iter().map(|s| **s).collect::<Vec<_>>().join("")),
        );
        put(&mut a, "follow_up", text(*self.rng.pick(FOLLOW_UPS)));
        if let Some((_, manager)) = &self.w.manager {
            put(&mut a, "manager_signature", signature(today, manager));
        }
        put(&mut a, "hr_signature", signature(today, &self.w.hr_name));
        a
    }

    fn card_worker_answers(&mut self) -> Answers {
        let o = self.occupation;
        let today = self.today();
        let mut a = Answers::new();
        put(&mut a, "name", text(&self.name));
        put(&mut a, "date_of_birth", text(self.birth.to_string()));
        put(
            &mut a,
            "job_description",
            text(format!("{}。{}", o.name, self.rng.pick(o.details))),
        );
        put(
            &mut a,
            "work_hours",
            group([
                ("start", text("8:30")),
                ("end", text("17:30")),
                ("break_hours", number(1)),
                ("days_per_week", number(5)),
            ]),
        );
        let mut tasks = Answers::new();
        if !o.card_physical.is_empty() {
            put(
                &mut tasks,
                "physical_load",
                list(o.card_physical.iter().copied()),
            );
        }
        if !o.card_accident.is_empty() {
            put(
                &mut tasks,
                "accident_risk",
                list(o.card_accident.iter().copied()),
            );
        }
        if self.rng.chance(0.3) {
            put(&mut tasks, "mental_burden", list(["long_hours"]));
        }
        if !tasks.is_empty() {
            put(&mut a, "tasks", AnswerValue::Group(tasks));
        }
        put(
            &mut a,
            "occupational_physician",
            AnswerValue::Bool(self.facts.has_occupational_physician),
        );
        put(&mut a, "worker_entry", signature(today, &self.name));
        a
    }

    fn card_physician_answers(
        &mut self,
        fitness: FitnessForWork,
        leave_until: Option<Date>,
    ) -> Answers {
        let c = self.condition;
        let today = self.today();
        let mut a = Answers::new();
        put(&mut a, "diagnosis", text(c.diagnosis));
        put(&mut a, "current_symptoms", text(*self.rng.pick(c.symptoms)));
        put(&mut a, "treatment", text(*self.rng.pick(c.treatments)));
        put(&mut a, "visit_frequency", text(self.visits()));
        let code = match fitness {
            FitnessForWork::Fit => "fit",
            FitnessForWork::FitWithConditions => "fit_with_conditions",
            FitnessForWork::UnfitForNow => "unfit",
        };
        put(&mut a, "work_opinion", text(code));
        if let Some(d) = leave_until {
            put(&mut a, "unfit_until", text(d.to_string()));
        }
        if fitness == FitnessForWork::FitWithConditions {
            let measures = self.rng.some(c.measures, 2);
            put(
                &mut a,
                "consideration_a",
                text(measures.iter().map(|s| **s).collect::<Vec<_>>().join("")),
            );
        }
        put(
            &mut a,
            "clinic_contact",
            group([("phone", text("03-1111-2222"))]),
        );
        put(
            &mut a,
            "physician_entry",
            signature(today, &self.w.doctor_name),
        );
        a
    }
}

// ---- answers ----------------------------------------------------------------------------------

fn put(a: &mut Answers, key: &str, v: AnswerValue) {
    a.insert(key.to_owned(), v);
}

fn text(s: impl Into<String>) -> AnswerValue {
    AnswerValue::Text(s.into())
}

fn number(n: i64) -> AnswerValue {
    AnswerValue::Number(serde_json::Number::from(n))
}

fn list<'a>(codes: impl IntoIterator<Item = &'a str>) -> AnswerValue {
    AnswerValue::List(codes.into_iter().map(str::to_owned).collect())
}

fn group<const N: usize>(parts: [(&str, AnswerValue); N]) -> AnswerValue {
    AnswerValue::Group(parts.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn signature(date: Date, name: &str) -> AnswerValue {
    group([("date", text(date.to_string())), ("name", text(name))])
}

fn japanese_date(d: Date) -> String {
    format!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day())
}

fn bench_name(i: u32) -> ((&'static str, &'static str), (&'static str, &'static str)) {
    let i = i as usize;
    let family = FAMILY_NAMES[(i * 7) % FAMILY_NAMES.len()];
    let given = if i.is_multiple_of(2) {
        FEMALE_NAMES[(i * 5) % FEMALE_NAMES.len()]
    } else {
        MALE_NAMES[(i * 5) % MALE_NAMES.len()]
    };
    (family, given)
}

// ---- the vocabulary ---------------------------------------------------------------------------

struct Occupation {
    name: &'static str,
    department: &'static str,
    /// Also offered at the sales office.
    office: bool,
    details: &'static [&'static str],
    /// 勤務情報提供書 職務内容 codes.
    tasks: &'static [&'static str],
    patterns: &'static [&'static str],
    /// 両立支援カード codes.
    card_physical: &'static [&'static str],
    card_accident: &'static [&'static str],
}

struct Condition {
    diagnosis: &'static str,
    department: &'static str,
    symptoms: &'static [&'static str],
    treatments: &'static [&'static str],
    measures: &'static [&'static str],
    considerations: &'static [&'static str],
    visits: &'static [&'static str],
    plan_status: &'static [&'static str],
    /// How often the 主治医 says 現時点で不可.
    unfit: f64,
    /// How often the case starts as leave.
    leave: f64,
}

static OCCUPATIONS: &[Occupation] = &[
    Occupation {
        name: "製造ライン作業",
        department: "第一製造部 組立課",
        office: false,
        details: &[
            "自動車部品の組立ラインで、部品の取付と目視検査を担当。",
            "精密部品の組立と締付トルクの確認、ラインの段取り替えを担当。",
            "組立ラインのリーダーとして、作業者5名の配置と進捗管理を行う。",
        ],
        tasks: &["prolonged_standing", "light_physical", "machine_operation"],
        patterns: &["day_shift", "two_shift"],
        card_physical: &["standing", "large_movements"],
        card_accident: &["dangerous_machinery"],
    },
    Occupation {
        name: "機械オペレーター",
        department: "第二製造部 加工課",
        office: false,
        details: &[
            "NC旋盤・マシニングセンタの段取りと加工、寸法検査を担当。",
            "プレス機の操作と金型交換、加工品の抜取り検査を担当。",
        ],
        tasks: &["machine_operation", "prolonged_standing", "heavy_physical"],
        patterns: &["two_shift", "three_shift"],
        card_physical: &["standing", "heavy_lifting"],
        card_accident: &["dangerous_machinery", "working_alone"],
    },
    Occupation {
        name: "営業",
        department: "営業部 第一営業課",
        office: true,
        details: &[
            "法人顧客への精密部品の提案営業。担当は首都圏で、社用車で1日3〜5件を訪問。",
            "既存顧客のルート営業と見積書の作成。月に数回、地方の取引先へ出張。",
        ],
        tasks: &["driving", "customer_facing", "domestic_travel"],
        patterns: &["day_shift"],
        card_physical: &["facing_the_public"],
        card_accident: &["dangerous_machinery"],
    },
    Occupation {
        name: "一般事務",
        department: "総務部 総務課",
        office: true,
        details: &[
            "受発注データの入力、請求書の作成、電話応対。デスクワークが中心。",
            "来客の受付、備品の管理、社内文書の作成と発送。",
        ],
        tasks: &["customer_facing"],
        patterns: &["day_shift"],
        card_physical: &[],
        card_accident: &[],
    },
    Occupation {
        name: "経理",
        department: "経理部 経理課",
        office: true,
        details: &["月次決算、支払業務、経費精算の確認。月末月初に業務が集中する。"],
        tasks: &["customer_facing"],
        patterns: &["day_shift"],
        card_physical: &[],
        card_accident: &[],
    },
    Occupation {
        name: "品質管理",
        department: "品質保証部 品質管理課",
        office: false,
        details: &[
            "出荷前検査と三次元測定機による寸法測定、不良の原因分析と報告書の作成。",
            "受入検査と検査記録の管理。顧客監査への対応あり。",
        ],
        tasks: &["prolonged_standing", "light_physical", "customer_facing"],
        patterns: &["day_shift"],
        card_physical: &["standing"],
        card_accident: &[],
    },
    Occupation {
        name: "倉庫作業（フォークリフト運転）",
        department: "物流部 資材課",
        office: false,
        details: &[
            "資材倉庫での入出庫作業、フォークリフトによる運搬、月末の棚卸し。",
            "冷暖房のない倉庫でのピッキングと梱包、トラックへの積込み。",
        ],
        tasks: &[
            "heavy_physical",
            "machine_operation",
            "cold_environment",
            "hot_environment",
        ],
        patterns: &["day_shift", "two_shift"],
        card_physical: &["heavy_lifting", "heat_cold_outdoor"],
        card_accident: &["dangerous_machinery"],
    },
    Occupation {
        name: "配送ドライバー",
        department: "物流部 配送課",
        office: true,
        details: &["2トントラックで取引先へ部品を配送。1日10〜15か所を回り、荷下ろしも行う。"],
        tasks: &["driving", "heavy_physical", "customer_facing"],
        patterns: &["day_shift"],
        card_physical: &["heavy_lifting", "heat_cold_outdoor"],
        card_accident: &["dangerous_machinery", "working_alone"],
    },
    Occupation {
        name: "設計技術者",
        department: "技術部 設計課",
        office: true,
        details: &[
            "CADによる治具・金型の設計と試作品の評価。客先との打合せあり。",
            "新製品の機構設計。試作立会いのため月1回程度の出張がある。",
        ],
        tasks: &["domestic_travel", "customer_facing"],
        patterns: &["day_shift"],
        card_physical: &[],
        card_accident: &[],
    },
    Occupation {
        name: "看護職（健康管理室）",
        department: "人事部 健康管理室",
        office: false,
        details: &["健康診断の実施補助、社員の健康相談、けが人・急病人への初期対応。"],
        tasks: &["customer_facing", "prolonged_standing"],
        patterns: &["day_shift"],
        card_physical: &["facing_the_public", "pathogens"],
        card_accident: &[],
    },
    Occupation {
        name: "塗装作業",
        department: "第二製造部 塗装課",
        office: false,
        details: &["塗装ブースでの製品の吹付け塗装。有機溶剤を使用し、防毒マスクを着用する。"],
        tasks: &["hot_environment", "prolonged_standing", "light_physical"],
        patterns: &["two_shift"],
        card_physical: &["standing", "respirator"],
        card_accident: &[],
    },
    Occupation {
        name: "溶接作業",
        department: "第一製造部 製缶課",
        office: false,
        details: &["鋼材の溶接とグラインダーによる仕上げ。夏場は作業場が高温になる。"],
        tasks: &["heavy_physical", "hot_environment", "machine_operation"],
        patterns: &["day_shift"],
        card_physical: &["heavy_lifting", "heat_cold_outdoor", "vibrating_tools"],
        card_accident: &["dangerous_machinery"],
    },
    Occupation {
        name: "設備保全",
        department: "生産技術部 保全課",
        office: false,
        details: &["生産設備の点検・修理。高所での作業があり、故障時は夜間の呼出しもある。"],
        tasks: &["work_at_height", "heavy_physical", "machine_operation"],
        patterns: &["three_shift", "day_shift"],
        card_physical: &["large_movements", "heavy_lifting"],
        card_accident: &["work_at_height", "dangerous_machinery", "working_alone"],
    },
    Occupation {
        name: "情報システム",
        department: "情報システム部",
        office: true,
        details: &["社内システムの運用保守とヘルプデスク対応。障害時は夜間・休日の対応あり。"],
        tasks: &["customer_facing"],
        patterns: &["day_shift"],
        card_physical: &[],
        card_accident: &[],
    },
    Occupation {
        name: "カスタマーサポート",
        department: "営業部 サポート課",
        office: true,
        details: &["製品に関する電話・メールの問合せ対応と修理受付。"],
        tasks: &["customer_facing"],
        patterns: &["day_shift"],
        card_physical: &["facing_the_public"],
        card_accident: &[],
    },
    Occupation {
        name: "購買",
        department: "購買部 購買課",
        office: true,
        details: &["部品・資材の発注と納期管理、仕入先との価格交渉。"],
        tasks: &["customer_facing", "domestic_travel"],
        patterns: &["day_shift"],
        card_physical: &[],
        card_accident: &[],
    },
    Occupation {
        name: "海外営業",
        department: "海外営業部",
        office: true,
        details: &["アジアの代理店との商談と輸出手続。年に数回、1週間程度の海外出張がある。"],
        tasks: &["overseas_travel", "customer_facing", "domestic_travel"],
        patterns: &["day_shift"],
        card_physical: &["facing_the_public"],
        card_accident: &[],
    },
    Occupation {
        name: "出荷検査・梱包",
        department: "物流部 出荷課",
        office: false,
        details: &["完成品の外観検査と梱包、出荷ラベルの貼付。1箱10kg前後を扱う。"],
        tasks: &["prolonged_standing", "light_physical"],
        patterns: &["two_shift", "day_shift"],
        card_physical: &["standing", "heavy_lifting"],
        card_accident: &[],
    },
    Occupation {
        name: "研究開発",
        department: "開発部 材料開発課",
        office: false,
        details: &["新素材の評価試験と実験データの解析。試薬を扱う作業がある。"],
        tasks: &["light_physical"],
        patterns: &["day_shift"],
        card_physical: &["respirator"],
        card_accident: &[],
    },
];

static CONDITIONS: &[Condition] = &[
    Condition {
        diagnosis: "乳がん（術後）",
        department: "乳腺外科",
        symptoms: &[
            "術後の創部の痛みと右腕のしびれが残る。",
            "抗がん剤の副作用で倦怠感と吐き気がある。",
            "脱毛と手足のしびれがある。",
        ],
        treatments: &[
            "外来で化学療法を3週間ごとに6か月間行い、その後ホルモン療法を5年間続ける。",
            "放射線治療を平日毎日5週間行い、その後はホルモン療法を続ける。",
        ],
        measures: &[
            "化学療法の翌週は短時間勤務とする。",
            "重量物の取扱いを避ける。",
            "感染予防のため人混みでの業務を控える。",
            "右腕に負担のかかる反復作業を避ける。",
        ],
        considerations: &[
            "通院日の休暇取得に配慮する。",
            "脱毛に伴う帽子・ウィッグの着用を認める。",
            "体調不良時に横になれる休憩場所を確保する。",
        ],
        visits: &["3週間に1回", "月2回"],
        plan_status: &["乳がん術後の化学療法中（3週間ごとに外来）。副作用で倦怠感あり。"],
        unfit: 0.06,
        leave: 0.25,
    },
    Condition {
        diagnosis: "胃がん（術後）",
        department: "消化器外科",
        symptoms: &[
            "術後の倦怠感が残る。食事は少量ずつ。",
            "食後のダンピング症状がある。",
            "体重が術前より8kg減少している。",
        ],
        treatments: &[
            "外来で抗がん剤治療（内服）を1年間行う。",
            "術後補助化学療法を半年間行う。",
        ],
        measures: &[
            "重量物の取扱いを避ける。",
            "残業を控える。",
            "当面は短時間勤務（1日6時間）が望ましい。",
            "こまめに食事・休憩がとれるよう配慮する。",
        ],
        considerations: &[
            "通院日の勤務調整。休憩を取りやすくする。",
            "間食をとる時間と場所を確保する。",
        ],
        visits: &["月2回", "月1回"],
        plan_status: &["胃がん術後の抗がん剤治療中（内服）。月2回の通院。"],
        unfit: 0.08,
        leave: 0.3,
    },
    Condition {
        diagnosis: "大腸がん（術後）",
        department: "消化器外科",
        symptoms: &[
            "排便回数が多く、急な腹痛がある。",
            "術後の倦怠感と食欲不振がある。",
        ],
        treatments: &["術後補助化学療法（点滴と内服）を6か月間行う。"],
        measures: &[
            "トイレに行きやすい配置とする。",
            "腹圧のかかる重量物の取扱いを避ける。",
            "長時間の車の運転を避ける。",
        ],
        considerations: &["通院日の休暇取得に配慮する。", "トイレに近い席を用意する。"],
        visits: &["2週間に1回", "月2回"],
        plan_status: &["大腸がん術後の化学療法中。2週間ごとに外来で点滴。"],
        unfit: 0.08,
        leave: 0.3,
    },
    Condition {
        diagnosis: "肺がん",
        department: "呼吸器内科",
        symptoms: &[
            "階段を上ると息切れがする。",
            "分子標的薬の副作用で皮膚の発疹がある。",
        ],
        treatments: &["分子標的薬の内服を続け、月1回の外来で効果と副作用を確認する。"],
        measures: &[
            "粉じんや有機溶剤を扱う作業を避ける。",
            "重量物の取扱いを避ける。",
            "暑熱場所での作業を避ける。",
        ],
        considerations: &["通院日の休暇取得に配慮する。", "禁煙環境を確保する。"],
        visits: &["月1回"],
        plan_status: &["肺がんの分子標的薬治療中（内服）。月1回の通院。"],
        unfit: 0.1,
        leave: 0.25,
    },
    Condition {
        diagnosis: "2型糖尿病",
        department: "糖尿病・内分泌内科",
        symptoms: &[
            "血糖コントロール不良。低血糖発作の可能性あり。",
            "口渇と倦怠感がある。",
            "足のしびれがある（糖尿病性神経障害）。",
        ],
        treatments: &[
            "インスリンを導入し、食事療法を続ける。",
            "内服薬を調整し、教育入院を検討する。",
        ],
        measures: &[
            "高所作業・危険な機械操作は当面避ける。",
            "車の運転は当面避ける。",
            "夜勤を免除する。",
            "不規則な勤務を避ける。",
        ],
        considerations: &[
            "補食と血糖測定の時間・場所を確保する。",
            "インスリン注射の場所を確保する。",
        ],
        visits: &["月1回", "2週間に1回"],
        plan_status: &["2型糖尿病でインスリン治療中。月1回の通院と血糖測定。"],
        unfit: 0.02,
        leave: 0.05,
    },
    Condition {
        diagnosis: "脳梗塞",
        department: "脳神経内科",
        symptoms: &[
            "左上下肢に軽い麻痺が残る。",
            "疲れやすく、集中力が続かない。",
            "言葉が出にくいことがある。",
        ],
        treatments: &["再発予防の抗血小板薬を内服し、外来リハビリを週2回行う。"],
        measures: &[
            "車の運転は不可。",
            "高所作業を避ける。",
            "通勤ラッシュを避けるため時差出勤とする。",
            "作業手順を簡素化し、確認の時間をとる。",
        ],
        considerations: &[
            "リハビリ通院の時間を確保する。",
            "こまめな水分補給ができるようにする。",
        ],
        visits: &["週2回（リハビリ）", "月1回"],
        plan_status: &["脳梗塞後の外来リハビリ中（週2回）。再発予防の内服を継続。"],
        unfit: 0.15,
        leave: 0.55,
    },
    Condition {
        diagnosis: "うつ病",
        department: "精神科",
        symptoms: &[
            "不眠と意欲の低下がある。",
            "集中力が低下し、ミスを気にしている。",
            "朝の体調が悪い。",
        ],
        treatments: &["抗うつ薬を内服し、2週間ごとに通院して経過をみる。"],
        measures: &[
            "残業・休日出勤を禁止する。",
            "業務量を調整し、当面は定型業務を中心とする。",
            "出張を避ける。",
        ],
        considerations: &[
            "上司との定期的な面談の機会を設ける。",
            "通院日の休暇取得に配慮する。",
        ],
        visits: &["2週間に1回", "月2回"],
        plan_status: &["うつ病で通院中（2週間に1回）。抗うつ薬を内服。"],
        unfit: 0.2,
        leave: 0.45,
    },
    Condition {
        diagnosis: "適応障害",
        department: "心療内科",
        symptoms: &["抑うつ気分と不眠がある。", "職場に向かうと動悸がする。"],
        treatments: &["心療内科に2週間ごとに通院し、カウンセリングを受ける。"],
        measures: &[
            "残業を禁止する。",
            "配置転換を検討する。",
            "業務の指示は文書で行う。",
        ],
        considerations: &["相談窓口を周知する。", "通院日の休暇取得に配慮する。"],
        visits: &["2週間に1回"],
        plan_status: &["適応障害で心療内科に通院中。カウンセリングを継続。"],
        unfit: 0.2,
        leave: 0.4,
    },
    Condition {
        diagnosis: "関節リウマチ",
        department: "リウマチ・膠原病内科",
        symptoms: &[
            "手指と膝の関節痛、朝のこわばりがある。",
            "細かい作業で手が痛む。",
        ],
        treatments: &["生物学的製剤の自己注射（2週に1回）と内服を続ける。"],
        measures: &[
            "重量物の取扱いを制限する（5kgまで）。",
            "寒冷場所での作業を避ける。",
            "長時間の立ち作業を避ける。",
        ],
        considerations: &[
            "通院日の休暇取得に配慮する。",
            "椅子に座って作業できるようにする。",
        ],
        visits: &["月1回"],
        plan_status: &["関節リウマチで生物学的製剤を使用中。月1回の通院。"],
        unfit: 0.02,
        leave: 0.05,
    },
    Condition {
        diagnosis: "C型慢性肝炎",
        department: "消化器内科",
        symptoms: &["倦怠感がある。", "自覚症状はほとんどない。"],
        treatments: &["抗ウイルス薬の内服を12週間行い、4週ごとに通院する。"],
        measures: &["過重な残業を避ける。", "深夜勤務を避ける。"],
        considerations: &["通院日の休暇取得に配慮する。"],
        visits: &["4週間に1回"],
        plan_status: &["C型慢性肝炎の抗ウイルス治療中（12週間）。4週ごとの通院。"],
        unfit: 0.01,
        leave: 0.02,
    },
    Condition {
        diagnosis: "B型肝炎",
        department: "消化器内科",
        symptoms: &["疲れやすい。", "自覚症状はほとんどない。"],
        treatments: &["核酸アナログ製剤の内服を続け、3か月ごとに血液検査を行う。"],
        measures: &["過重な残業を避ける。", "深夜勤務を避ける。"],
        considerations: &[
            "通院日の休暇取得に配慮する。",
            "血液に触れる作業の手順を確認する。",
        ],
        visits: &["3か月に1回"],
        plan_status: &["B型肝炎で内服治療中。3か月ごとに血液検査。"],
        unfit: 0.01,
        leave: 0.02,
    },
    Condition {
        diagnosis: "急性心筋梗塞（PCI後）",
        department: "循環器内科",
        symptoms: &[
            "胸部症状はないが、坂道で息切れがする。",
            "降圧薬でふらつくことがある。",
        ],
        treatments: &["心臓リハビリを週1回行い、抗血小板薬と降圧薬を内服する。"],
        measures: &[
            "重量物の取扱い・暑熱場所での作業を避ける。",
            "夜勤を免除する。",
            "残業は月20時間までとする。",
        ],
        considerations: &[
            "心臓リハビリの通院時間を確保する。",
            "体調不良時にすぐ休める体制をとる。",
        ],
        visits: &["週1回（心臓リハビリ）", "月1回"],
        plan_status: &["心筋梗塞後の心臓リハビリ中（週1回）。内服を継続。"],
        unfit: 0.1,
        leave: 0.45,
    },
    Condition {
        diagnosis: "慢性腎臓病（血液透析）",
        department: "腎臓内科",
        symptoms: &["透析後は倦怠感が強い。", "むくみと血圧の変動がある。"],
        treatments: &["週3回（月・水・金の夕方）血液透析を行う。"],
        measures: &[
            "透析日は定時に退社できるようにする。",
            "重量物の取扱いを避ける。",
            "シャントのある腕に負担をかけない。",
        ],
        considerations: &["透析日の残業を免除する。", "水分・食事の制限に配慮する。"],
        visits: &["週3回（透析）"],
        plan_status: &["慢性腎臓病で血液透析中（週3回）。"],
        unfit: 0.05,
        leave: 0.15,
    },
    Condition {
        diagnosis: "子宮頸がん（術後）",
        department: "婦人科",
        symptoms: &["術後の下肢のむくみがある。", "疲れやすい。"],
        treatments: &[
            "術後の経過観察。3か月ごとに検査を行う。",
            "放射線治療を平日毎日5週間行う。",
        ],
        measures: &["長時間の立ち作業を避ける。", "重量物の取扱いを避ける。"],
        considerations: &[
            "通院日の休暇取得に配慮する。",
            "休憩時に足を上げて休めるようにする。",
        ],
        visits: &["3か月に1回", "平日毎日（放射線治療の期間）"],
        plan_status: &["子宮頸がん術後の経過観察中。3か月ごとに検査。"],
        unfit: 0.08,
        leave: 0.35,
    },
    Condition {
        diagnosis: "前立腺がん",
        department: "泌尿器科",
        symptoms: &["ホルモン療法の副作用でほてりと発汗がある。", "頻尿がある。"],
        treatments: &["ホルモン療法（3か月ごとの注射）を続ける。"],
        measures: &[
            "暑熱場所での作業を避ける。",
            "トイレに行きやすい配置とする。",
        ],
        considerations: &["通院日の休暇取得に配慮する。"],
        visits: &["3か月に1回", "月1回"],
        plan_status: &["前立腺がんのホルモン療法中。3か月ごとに注射。"],
        unfit: 0.03,
        leave: 0.1,
    },
    Condition {
        diagnosis: "潰瘍性大腸炎",
        department: "消化器内科",
        symptoms: &[
            "下痢と腹痛があり、再燃を繰り返している。",
            "貧血で疲れやすい。",
        ],
        treatments: &["5-ASA製剤の内服を続け、再燃時は生物学的製剤を使う。"],
        measures: &[
            "トイレに行きやすい配置とする。",
            "長時間の車の運転を避ける。",
            "出張を避ける。",
        ],
        considerations: &[
            "通院日の休暇取得に配慮する。",
            "体調に合わせて在宅勤務を認める。",
        ],
        visits: &["月1回"],
        plan_status: &["潰瘍性大腸炎で内服治療中。月1回の通院。"],
        unfit: 0.04,
        leave: 0.1,
    },
    Condition {
        diagnosis: "腰椎椎間板ヘルニア（術後）",
        department: "整形外科",
        symptoms: &["腰痛と右下肢のしびれが残る。", "長く座ると腰が痛む。"],
        treatments: &["術後のリハビリを週1回行う。"],
        measures: &[
            "重量物の取扱いの制限（10kg以上は不可）。",
            "前かがみの姿勢が続く作業を避ける。",
            "1時間ごとに姿勢を変えられるようにする。",
        ],
        considerations: &[
            "リハビリ通院の時間を確保する。",
            "高さを調整できる机を用意する。",
        ],
        visits: &["週1回（リハビリ）"],
        plan_status: &["腰椎椎間板ヘルニア術後のリハビリ中（週1回）。"],
        unfit: 0.1,
        leave: 0.4,
    },
];

static SYSTEMS: &[&str] = &[
    "hourly_annual_leave",
    "sick_leave",
    "staggered_hours",
    "short_hours",
    "telework",
    "trial_return",
];

static OVERTIME: &[&str] = &[
    "月10時間程度",
    "ほとんどなし",
    "月20時間程度",
    "繁忙期（3月・9月）は月30時間程度",
];

static WORK_NOTES: &[&str] = &[
    "本人は現在の職場での就業継続を希望している。",
    "職場の同僚には病名を伝えていない。",
    "繁忙期は3月と9月。",
    "本人は短時間勤務の利用を検討している。",
    "夜勤のある勤務への配置は調整できる。",
];

static MEASURE_WORDS: &[&str] = &[
    "短時間勤務",
    "残業・深夜勤務・休日勤務は禁止",
    "重量物の取扱いは禁止",
    "夜勤の免除",
    "時差出勤",
    "在宅勤務（週2日）",
    "車の運転は禁止",
    "高所作業は禁止",
];

static PLAN_PERIODS: &[(&str, &str)] = &[
    ("1か月目", "10:00～15:00（1時間休憩）"),
    ("2か月目", "9:00～16:00（1時間休憩）"),
    ("3か月目以降", "8:30～17:30（1時間休憩）"),
];

static FOLLOW_UPS: &[&str] = &[
    "2週間ごとに本人・所属長・人事担当で面談し、必要に応じてプランを見直す。",
    "月1回、産業医面談を行い、通院状況と体調を確認する。",
    "職場復帰後は1週間ごとに本人と人事担当で面談を行う。",
];

static FAMILY_NAMES: &[(&str, &str)] = &[
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
    ("山崎", "ヤマザキ"),
    ("森", "モリ"),
    ("池田", "イケダ"),
    ("橋本", "ハシモト"),
    ("阿部", "アベ"),
    ("石川", "イシカワ"),
    ("山下", "ヤマシタ"),
    ("中島", "ナカジマ"),
    ("石井", "イシイ"),
    ("小川", "オガワ"),
    ("前田", "マエダ"),
    ("岡田", "オカダ"),
    ("長谷川", "ハセガワ"),
    ("藤田", "フジタ"),
    ("後藤", "ゴトウ"),
    ("近藤", "コンドウ"),
    ("村上", "ムラカミ"),
    ("遠藤", "エンドウ"),
    ("青木", "アオキ"),
    ("坂本", "サカモト"),
    ("福田", "フクダ"),
    ("太田", "オオタ"),
    ("西村", "ニシムラ"),
    ("藤井", "フジイ"),
    ("金子", "カネコ"),
    ("岡本", "オカモト"),
    ("藤原", "フジワラ"),
    ("中野", "ナカノ"),
    ("三浦", "ミウラ"),
    ("原田", "ハラダ"),
    ("中川", "ナカガワ"),
    ("松田", "マツダ"),
    ("竹内", "タケウチ"),
    ("小野", "オノ"),
    ("田村", "タムラ"),
    ("中山", "ナカヤマ"),
    ("和田", "ワダ"),
    ("石田", "イシダ"),
    ("森田", "モリタ"),
    ("上田", "ウエダ"),
    ("原", "ハラ"),
    ("内田", "ウチダ"),
    ("柴田", "シバタ"),
    ("酒井", "サカイ"),
    ("宮崎", "ミヤザキ"),
    ("横山", "ヨコヤマ"),
    ("高木", "タカギ"),
    ("安藤", "アンドウ"),
    ("宮本", "ミヤモト"),
    ("大野", "オオノ"),
    ("小島", "コジマ"),
    ("工藤", "クドウ"),
    ("谷口", "タニグチ"),
    ("今井", "イマイ"),
    ("高田", "タカダ"),
    ("増田", "マスダ"),
    ("丸山", "マルヤマ"),
    ("杉山", "スギヤマ"),
    ("村田", "ムラタ"),
    ("大塚", "オオツカ"),
    ("新井", "アライ"),
    ("小山", "コヤマ"),
    ("平野", "ヒラノ"),
    ("藤本", "フジモト"),
    ("河野", "コウノ"),
    ("上野", "ウエノ"),
    ("野口", "ノグチ"),
    ("武田", "タケダ"),
    ("松井", "マツイ"),
    ("千葉", "チバ"),
    ("岩崎", "イワサキ"),
    ("菅原", "スガワラ"),
    ("木下", "キノシタ"),
    ("久保", "クボ"),
    ("佐野", "サノ"),
    ("野村", "ノムラ"),
    ("松尾", "マツオ"),
    ("市川", "イチカワ"),
    ("菊地", "キクチ"),
];

static MALE_NAMES: &[(&str, &str)] = &[
    ("翔太", "ショウタ"),
    ("大輔", "ダイスケ"),
    ("健太", "ケンタ"),
    ("拓也", "タクヤ"),
    ("直樹", "ナオキ"),
    ("和也", "カズヤ"),
    ("達也", "タツヤ"),
    ("誠", "マコト"),
    ("浩", "ヒロシ"),
    ("剛", "ツヨシ"),
    ("隆", "タカシ"),
    ("学", "マナブ"),
    ("修", "オサム"),
    ("茂", "シゲル"),
    ("勇気", "ユウキ"),
    ("亮", "リョウ"),
    ("翼", "ツバサ"),
    ("一郎", "イチロウ"),
    ("健一", "ケンイチ"),
    ("正人", "マサト"),
    ("聡", "サトシ"),
    ("豊", "ユタカ"),
    ("浩二", "コウジ"),
    ("悠斗", "ユウト"),
    ("蓮", "レン"),
    ("陽介", "ヨウスケ"),
    ("雄一", "ユウイチ"),
    ("俊介", "シュンスケ"),
    ("賢治", "ケンジ"),
    ("秀樹", "ヒデキ"),
    ("康弘", "ヤスヒロ"),
    ("智也", "トモヤ"),
    ("勝", "マサル"),
    ("哲也", "テツヤ"),
    ("大樹", "ダイキ"),
    ("和彦", "カズヒコ"),
];

static FEMALE_NAMES: &[(&str, &str)] = &[
    ("美咲", "ミサキ"),
    ("陽子", "ヨウコ"),
    ("恵子", "ケイコ"),
    ("裕子", "ユウコ"),
    ("直美", "ナオミ"),
    ("由美", "ユミ"),
    ("真由美", "マユミ"),
    ("智子", "トモコ"),
    ("久美子", "クミコ"),
    ("香織", "カオリ"),
    ("愛", "アイ"),
    ("彩", "アヤ"),
    ("舞", "マイ"),
    ("麻衣", "マイ"),
    ("沙織", "サオリ"),
    ("明美", "アケミ"),
    ("幸子", "サチコ"),
    ("京子", "キョウコ"),
    ("典子", "ノリコ"),
    ("純子", "ジュンコ"),
    ("恵", "メグミ"),
    ("千尋", "チヒロ"),
    ("さくら", "サクラ"),
    ("結衣", "ユイ"),
    ("葵", "アオイ"),
    ("奈々", "ナナ"),
    ("理恵", "リエ"),
    ("亜希子", "アキコ"),
    ("美穂", "ミホ"),
    ("由香", "ユカ"),
    ("晴美", "ハルミ"),
    ("真理子", "マリコ"),
    ("加奈子", "カナコ"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        let employer = Uuid::from_u128(1);
        let today = time::macros::date!(2026 - 04 - 01);
        let wp = |n: u128, name: &str, op: bool| WorkplaceRecord {
            id: Uuid::from_u128(n),
            organisation_id: employer,
            name: DisplayName::parse("n", "n", name).unwrap(),
            prefecture: Prefecture::from_code(13).unwrap(),
            has_occupational_physician: op,
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        World {
            seed: 1,
            employer,
            employer_name: DEMO_EMPLOYER.into(),
            workplaces: vec![
                wp(2, "本社工場（東京都大田区）", true),
                wp(3, "城南営業所", false),
            ],
            hospital: Uuid::from_u128(4),
            operator: Uuid::from_u128(5),
            hr: Actor {
                id: Uuid::from_u128(6),
                role: Role::HrOfficer,
            },
            hr_name: "山田 花子".into(),
            doctor: Actor {
                id: Uuid::from_u128(7),
                role: Role::AttendingPhysician,
            },
            doctor_name: "伊藤 健一".into(),
            sangyoi: Actor {
                id: Uuid::from_u128(8),
                role: Role::OccupationalPhysician,
            },
            manager: Some((Uuid::from_u128(9), "鈴木 一郎".into())),
            rules: HandlingRules::defaults(employer),
            today,
            end: at_jst(today, 0),
            start: today - Duration::days(SPAN_DAYS),
        }
    }

    #[test]
    fn every_status_is_reached_and_every_record_is_before_today() {
        let w = world();
        let n = 3_000;
        let mut seen = std::collections::BTreeSet::new();
        let mut finalised = std::collections::BTreeSet::new();
        for j in 0..n {
            let g = generate(&w, j, j, n).unwrap();
            seen.insert(g.case.state.status);
            assert!(g.case.created_at < w.end && g.case.updated_at < w.end);
            assert!(g.audit.iter().all(|e| e.at < w.end), "{j}");
            assert!(g.audit.windows(2).all(|p| p[0].at <= p[1].at));
            assert_eq!(g.case.version as usize, g.events.len());
            for d in &g.documents {
                if let DocumentBody::Finalised(_) = &d.body {
                    finalised.insert(d.form);
                }
                // What the store gives back re-validates.
                let json = serde_json::to_string(&d.body).unwrap();
                let _: DocumentBody = serde_json::from_str(&json).unwrap();
            }
        }
        let statuses: Vec<CaseStatus> = CaseStatus::ALL
            .iter()
            .copied()
            .filter(|s| *s != CaseStatus::NotRequested)
            .collect();
        for s in statuses {
            assert!(seen.contains(&s), "{s:?} never reached");
        }
        for f in FormKind::ALL {
            assert!(finalised.contains(f), "{f:?} never finalised");
        }
    }

    #[test]
    fn the_same_seed_and_number_give_the_same_case() {
        let w = world();
        let a = generate(&w, 42, 42, 100).unwrap();
        let b = generate(&w, 42, 42, 100).unwrap();
        assert_eq!(a.case, b.case);
        assert_eq!(a.documents, b.documents);
        assert_eq!(a.audit, b.audit);
        let c = generate(&w, 43, 42, 100).unwrap();
        assert_ne!(a.case.id, c.case.id);
        assert_ne!(a.user.login, c.user.login);
    }
}
