//! Ryoritsu's use cases. Each operation is one function that asks the policy, does the
//! work in the write transaction, writes its audit event in that same transaction, and
//! returns only after the commit is durable.

// The areas of the system: each holds its use cases and, beside them, its ports.
pub mod accounts;
pub mod cases;
pub mod fhir;
pub mod hospital;
pub mod records;
pub mod search;

// What every area shares: the storage port, the writer, the audit chain, the access index,
// errors.
pub mod access;
pub mod audit;
pub mod backup;
pub mod conformance;
pub mod demo;
pub mod error;
pub mod idempotency;
pub mod loader;
pub mod ports;
pub mod secrets;
pub mod testing;
pub mod writer;

use std::sync::Arc;

use ryoritsu_domain::audit::{AuditAction, AuditEvent, Outcome};
use ryoritsu_domain::policy::Principal;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub use error::{AppError, StoreError, StoreResult};
use ports::{Clock, IdSource, Store};
pub use writer::{TxFuture, Writer};

/// Argon2id cost. The defaults follow OWASP's password storage guidance for argon2id
/// (19 MiB, 2 passes, 1 lane).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PasswordCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for PasswordCost {
    fn default() -> Self {
        PasswordCost {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Demo mode: demo users may skip the second factor, and every page says so.
    pub demo: bool,
    /// The operator may turn the second-factor requirement off (not recommended).
    pub require_second_factor: bool,
    pub password_cost: PasswordCost,
    pub invitation_ttl: Duration,
    /// Shown in authenticator apps.
    pub totp_issuer: String,
    /// E-mail notices: written to the outbox only when set (mail is configured).
    pub notices: Option<cases::notices::NoticeSettings>,
    /// The rules of 療養・就労両立支援指導料 the hospital pages give verdicts under: the
    /// built-in revisions unless the site loaded its own (`fee_rules` in the configuration).
    pub fee_schedule: Arc<ryoritsu_domain::fees::FeeSchedule>,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            demo: false,
            require_second_factor: true,
            password_cost: PasswordCost::default(),
            invitation_ttl: Duration::days(7),
            totp_issuer: "Ryoritsu".into(),
            notices: None,
            fee_schedule: Arc::new(ryoritsu_domain::fees::FeeSchedule::standard()),
        }
    }
}

/// Where a request came from, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub operation_id: Option<String>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        ryoritsu_domain::time_format::truncate_micros(OffsetDateTime::now_utc())
    }
}

/// UUIDv7: time-ordered, so new rows land at the end of their indexes.
pub struct RandomIds;

impl IdSource for RandomIds {
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}

pub struct App<S: Store> {
    store: S,
    writer: Writer<S>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    config: Arc<AppConfig>,
    /// A hash checked when the sign-in name is unknown, so that unknown and known names
    /// take the same time.
    dummy_hash: Arc<String>,
    /// Words the search has found common lately (see [`search::CommonWords`]).
    common_words: Arc<search::CommonWords>,
}

impl<S: Store> Clone for App<S> {
    fn clone(&self) -> Self {
        App {
            store: self.store.clone(),
            writer: self.writer.clone(),
            clock: self.clock.clone(),
            ids: self.ids.clone(),
            config: self.config.clone(),
            dummy_hash: self.dummy_hash.clone(),
            common_words: self.common_words.clone(),
        }
    }
}

impl<S: Store> App<S> {
    /// Starts the writer task; call inside a Tokio runtime.
    pub fn new(
        store: S,
        config: AppConfig,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
    ) -> Result<App<S>, AppError> {
        let dummy = secrets::hash_password_sync(
            "dummy password for timing equalisation",
            config.password_cost,
        )?;
        Ok(App {
            writer: Writer::start(store.clone()),
            store,
            clock,
            ids,
            config: Arc::new(config),
            dummy_hash: Arc::new(dummy),
            common_words: Arc::default(),
        })
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn config(&self) -> &AppConfig {
        &self.config
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Today in Japan: the business date of everything done now.
    pub fn today(&self) -> time::Date {
        ryoritsu_domain::time_format::japan_date(self.now())
    }

    pub fn new_id(&self) -> Uuid {
        self.ids.new_id()
    }

    pub fn writer(&self) -> &Writer<S> {
        &self.writer
    }

    /// An audit event about one case by the signed-in principal; callers name a narrower
    /// target (a document, a consent) where there is one.
    pub(crate) fn case_event(
        &self,
        ctx: &RequestContext,
        auth: &accounts::Authenticated,
        organisation: Uuid,
        action: AuditAction,
        case: Uuid,
    ) -> AuditEvent {
        let mut ev = self.event(
            ctx,
            Some(&auth.principal),
            Some(organisation),
            action,
            Outcome::Success,
        );
        ev.case_id = Some(case);
        ev.target = Some(format!("case:{case}"));
        ev
    }

    /// An audit event stamped with the server time and the request's origin.
    pub fn event(
        &self,
        ctx: &RequestContext,
        principal: Option<&Principal>,
        org: Option<Uuid>,
        action: AuditAction,
        outcome: Outcome,
    ) -> AuditEvent {
        let mut e = AuditEvent::new(self.now(), action, outcome);
        e.actor = principal.map(|p| p.user);
        e.actor_role = principal.and_then(|p| p.audit_role(org));
        e.organisation = org;
        e.operation_id = ctx.operation_id.clone();
        e.client_ip = ctx.client_ip.clone();
        e
    }
}

/// The write half of a use case, prepared outside the transaction (validation, policy,
/// hashing, ids) and applied inside it.
pub type Apply<S> = Box<dyn for<'a> FnOnce(&'a mut <S as Store>::Tx) -> TxFuture<'a, ()> + Send>;

/// A use case ready to commit: its result is known; `apply` makes it so.
pub struct Planned<S: Store, T> {
    pub value: T,
    pub apply: Apply<S>,
}

impl<S: Store> App<S> {
    /// Commits a planned use case on its own (no idempotency key).
    pub async fn commit<T>(&self, p: Planned<S, T>) -> Result<T, AppError> {
        self.writer.write(p.apply).await?;
        Ok(p.value)
    }

    /// Commits a planned use case under an idempotency key, answering with `render`.
    pub async fn commit_idempotent<T>(
        &self,
        scope: String,
        key: Option<String>,
        fingerprint: String,
        p: Planned<S, T>,
        render: impl FnOnce(&T) -> (u16, String),
    ) -> Result<idempotency::StoredResponse, AppError> {
        let response = render(&p.value);
        let apply = p.apply;
        self.idempotent(scope, key, fingerprint, move |tx| {
            Box::pin(async move {
                apply(tx).await?;
                Ok(response)
            })
        })
        .await
    }
}
