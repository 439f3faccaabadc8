//! Accounts, sign-in, the second factor and sessions.
//!
//! Security-sensitive. Rules kept here:
//! - An unknown name, an inactive account and a wrong password give the same answer and
//!   take the same time (a dummy hash is checked when there is no account).
//! - Failures are counted per sign-in name (whether or not it exists) and per client
//!   address; the domain decides the back-off (`session::next_attempt_allowed`).
//! - Every successful step issues a new session id; the previous one stops working.
//! - A TOTP step, once used, is never accepted again for that account.

pub mod orgs;
pub mod ports;

use ryoritsu_domain::account::{DisplayName, Email, LoginName, NewPassword};
use ryoritsu_domain::audit::{AuditAction, Outcome};
use ryoritsu_domain::policy::{Action, MembershipRef, Permit, Principal, decide};
use ryoritsu_domain::session::{
    ACCOUNT_LIMITS, ADDRESS_LIMITS, FailureStats, SessionCheck, THROTTLE_WINDOW, check_session,
    next_attempt_allowed,
};
use ryoritsu_domain::totp;
use ryoritsu_domain::{FieldError, ValidationErrors};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::accounts::ports::AccountReads;
use crate::accounts::ports::AccountWrites;
use crate::accounts::ports::{
    LoginFailureRecord, MembershipRecord, RecoveryCodeRecord, SessionRecord, UserRecord,
};
use crate::error::AppError;
use crate::ports::{Store, WriteRepo};
use crate::secrets::{self, random_token, token_digest};
use crate::{App, Planned, RequestContext};

/// A new session: the token goes into the cookie, the record into the store.
#[derive(Debug, Clone)]
pub struct IssuedSession {
    pub token: String,
    pub record: SessionRecord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Fully signed in.
    Done,
    /// Enter the code from the authenticator app.
    SecondFactor,
    /// A second factor is required but not yet set up.
    EnrolSecondFactor,
}

#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: IssuedSession,
    pub next: NextStep,
}

/// A request's signed-in user, resolved from the session cookie.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub session: SessionRecord,
    pub user: UserRecord,
    pub memberships: Vec<MembershipRecord>,
    pub principal: Principal,
}

impl Authenticated {
    pub fn permit(&self, action: Action) -> Result<Permit, AppError> {
        decide(&self.principal, action).map_err(AppError::Denied)
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub login: LoginName,
    pub display_name: DisplayName,
    pub email: Option<Email>,
    pub password: NewPassword,
    pub operator: bool,
    pub demo: bool,
    /// The reading of the name (フリガナ), already checked by `search::parse_reading`.
    pub name_reading: Option<String>,
}

impl NewUser {
    /// [`Self::parse`] with the reading of the name (empty: none), every problem at once.
    pub fn parse_with_reading(
        login: &str,
        display_name: &str,
        email: Option<&str>,
        password: &str,
        reading: &str,
    ) -> Result<NewUser, ValidationErrors> {
        let user = NewUser::parse(login, display_name, email, password);
        let reading = parse_reading(reading);
        match (user, reading) {
            (Ok(mut u), Ok(r)) => {
                u.name_reading = r;
                Ok(u)
            }
            (u, r) => {
                let mut errs = ValidationErrors::default();
                for e in u.err().into_iter().chain(r.err()) {
                    for f in e.errors {
                        errs.push(f);
                    }
                }
                Err(errs)
            }
        }
    }

    /// Validates raw input, reporting every field's problem at once.
    pub fn parse(
        login: &str,
        display_name: &str,
        email: Option<&str>,
        password: &str,
    ) -> Result<NewUser, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let login = LoginName::parse(login).map_err(|e| errs.push(e)).ok();
        let display_name = DisplayName::parse("display_name", "氏名", display_name)
            .map_err(|e| errs.push(e))
            .ok();
        let email = match email.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(e) => Email::parse(e).map_err(|e| errs.push(e)).ok(),
        };
        let password = NewPassword::parse(password, login.as_ref())
            .map_err(|e| errs.push(e))
            .ok();
        match (login, display_name, password) {
            (Some(login), Some(display_name), Some(password)) if errs.is_empty() => Ok(NewUser {
                login,
                display_name,
                email,
                password,
                operator: false,
                demo: false,
                name_reading: None,
            }),
            _ => Err(errs),
        }
    }
}

/// Second-factor setup shown to the user.
#[derive(Debug, Clone)]
pub struct TotpEnrolment {
    pub secret_base32: String,
    pub uri: String,
}

fn account_key(login_input: &str) -> String {
    format!("account:{}", LoginName::throttle_key(login_input))
}

fn address_key(ip: &str) -> String {
    format!("ip:{ip}")
}

fn stats(mut times: Vec<OffsetDateTime>) -> FailureStats {
    times.sort_unstable();
    FailureStats {
        count: u32::try_from(times.len()).unwrap_or(u32::MAX),
        oldest: times.first().copied(),
        latest: times.last().copied(),
    }
}

impl<S: Store> App<S> {
    /// The reading (フリガナ) of the signed-in person's name.
    pub async fn own_name_reading(&self, auth: &Authenticated) -> Result<Option<String>, AppError> {
        Ok(self.store.read().await?.user_reading(auth.user.id).await?)
    }

    /// Creates an account (operator CLI, demo data, accepted invitations).
    pub async fn create_user(
        &self,
        ctx: &RequestContext,
        actor: Option<&Principal>,
        new: NewUser,
    ) -> Result<UserRecord, AppError> {
        let hash =
            secrets::hash_password(new.password.expose().to_owned(), self.config.password_cost)
                .await?;
        let now = self.now();
        let user = UserRecord {
            id: self.new_id(),
            login: new.login,
            display_name: new.display_name,
            email: new.email,
            password_hash: hash,
            active: true,
            operator: new.operator,
            demo: new.demo,
            totp_secret: None,
            totp_pending_secret: None,
            totp_last_step: None,
            created_at: now,
            password_changed_at: now,
            version: 1,
        };
        let mut ev = self.event(ctx, actor, None, AuditAction::UserCreated, Outcome::Success);
        ev.target = Some(format!("user:{}", user.id));
        ev.category = Some(ryoritsu_domain::info::InformationCategory::Account);
        let u = user.clone();
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.insert_user(&u).await.map_err(login_conflict)?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(user)
    }

    /// Refuses with `Throttled` while the name or the address is backing off.
    async fn throttle_check(&self, login_input: &str, ip: Option<&str>) -> Result<(), AppError> {
        let now = self.now();
        let since = now - THROTTLE_WINDOW;
        let mut conn = self.store.read().await?;
        let acct = stats(
            conn.login_failures_since(&account_key(login_input), since)
                .await?,
        );
        let mut until = next_attempt_allowed(acct, ACCOUNT_LIMITS, now);
        if let Some(ip) = ip {
            let addr = stats(conn.login_failures_since(&address_key(ip), since).await?);
            until = until.max(next_attempt_allowed(addr, ADDRESS_LIMITS, now));
        }
        match until {
            Some(t) => Err(AppError::Throttled(t)),
            None => Ok(()),
        }
    }

    /// Password step of signing in.
    pub async fn sign_in(
        &self,
        ctx: &RequestContext,
        login_input: &str,
        password: &str,
    ) -> Result<SignedIn, AppError> {
        if let Err(e) = self
            .throttle_check(login_input, ctx.client_ip.as_deref())
            .await
        {
            let mut ev = self.event(ctx, None, None, AuditAction::SignIn, Outcome::Denied);
            ev.purpose = Some("throttled".into());
            self.writer
                .write(move |tx| {
                    Box::pin(async move {
                        tx.append_audit(&ev).await?;
                        Ok(())
                    })
                })
                .await?;
            return Err(e);
        }
        let user = match LoginName::parse(login_input) {
            Ok(login) => self.store.read().await?.find_user_by_login(&login).await?,
            Err(_) => None,
        };
        let phc = user.as_ref().map_or_else(
            || self.dummy_hash.as_str().to_owned(),
            |u| u.password_hash.clone(),
        );
        let password_ok = secrets::verify_password(password.to_owned(), phc).await?;
        let user = match user {
            Some(u) if password_ok && u.active => u,
            other => {
                let now = self.now();
                let mut ev = self.event(ctx, None, None, AuditAction::SignIn, Outcome::Failure);
                ev.target = other.as_ref().map(|u| format!("user:{}", u.id));
                let keys = [
                    Some(account_key(login_input)),
                    ctx.client_ip.as_deref().map(address_key),
                ];
                self.writer
                    .write(move |tx| {
                        Box::pin(async move {
                            for key in keys.into_iter().flatten() {
                                tx.insert_login_failure(&LoginFailureRecord { key, at: now })
                                    .await?;
                            }
                            tx.append_audit(&ev).await?;
                            Ok(())
                        })
                    })
                    .await?;
                return Err(AppError::AuthenticationFailed);
            }
        };
        let memberships = self
            .store
            .read()
            .await?
            .list_memberships_of_user(user.id)
            .await?;
        // Anyone who has set up a second factor uses it, required or not: the account page
        // promises that a leaked password alone is then not enough.
        let next = if user.totp_secret.is_some() {
            NextStep::SecondFactor
        } else if self.second_factor_required(&user, &memberships) {
            NextStep::EnrolSecondFactor
        } else {
            NextStep::Done
        };
        let session = self.new_session(ctx, user.id, next != NextStep::Done)?;
        let principal = principal_of(&user, &memberships, next == NextStep::Done);
        let mut ev = self.event(
            ctx,
            Some(&principal),
            None,
            AuditAction::SignIn,
            Outcome::Success,
        );
        ev.target = Some(format!("user:{}", user.id));
        if next != NextStep::Done {
            ev.purpose = Some("password_step".into());
        }
        let record = session.record.clone();
        let key = account_key(login_input);
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.insert_session(&record).await?;
                    tx.clear_login_failures(&key).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(SignedIn { session, next })
    }

    /// Whether this user must pass a second factor before reaching anyone's data.
    pub fn second_factor_required(
        &self,
        user: &UserRecord,
        memberships: &[MembershipRecord],
    ) -> bool {
        let professional =
            user.operator || memberships.iter().any(|m| m.role.requires_second_factor());
        if !professional || !self.config.require_second_factor {
            return false;
        }
        // Demo users may skip it, and only in a demo database run in demo mode.
        !(self.config.demo && user.demo)
    }

    fn new_session(
        &self,
        ctx: &RequestContext,
        user: Uuid,
        pending: bool,
    ) -> Result<IssuedSession, AppError> {
        let token = random_token()?;
        let now = self.now();
        let record = SessionRecord {
            id_hash: token_digest(&token),
            handle: random_token()?.chars().take(16).collect(),
            user_id: user,
            created_at: now,
            last_seen_at: now,
            pending_second_factor: pending,
            csrf_token: random_token()?,
            user_agent: ctx
                .user_agent
                .as_ref()
                .map(|s| s.chars().take(200).collect()),
            client_ip: ctx.client_ip.clone(),
        };
        Ok(IssuedSession { token, record })
    }

    /// Resolves a session cookie. Expired sessions are deleted and refused.
    pub async fn authenticate(&self, token: &str) -> Result<Authenticated, AppError> {
        let id_hash = token_digest(token);
        let mut conn = self.store.read().await?;
        let Some(session) = conn.get_session(&id_hash).await? else {
            return Err(AppError::Unauthenticated);
        };
        let now = self.now();
        match check_session(
            session.created_at,
            session.last_seen_at,
            session.pending_second_factor,
            now,
        ) {
            SessionCheck::IdleExpired | SessionCheck::AbsoluteExpired => {
                drop(conn);
                let h = id_hash.clone();
                self.writer
                    .write(move |tx| {
                        Box::pin(async move {
                            tx.delete_session(&h).await?;
                            Ok(())
                        })
                    })
                    .await?;
                Err(AppError::Unauthenticated)
            }
            SessionCheck::Valid { touch } => {
                let Some(user) = conn.get_user(session.user_id).await? else {
                    return Err(AppError::Unauthenticated);
                };
                if !user.active {
                    return Err(AppError::Unauthenticated);
                }
                let memberships = conn.list_memberships_of_user(user.id).await?;
                drop(conn);
                if touch {
                    let h = id_hash.clone();
                    self.writer
                        .write(move |tx| {
                            Box::pin(async move {
                                tx.touch_session(&h, now).await?;
                                Ok(())
                            })
                        })
                        .await?;
                }
                let ok = !session.pending_second_factor;
                let principal = principal_of(&user, &memberships, ok);
                Ok(Authenticated {
                    session,
                    user,
                    memberships,
                    principal,
                })
            }
        }
    }

    /// Second step: a code from the authenticator app, or a recovery code. Returns a new
    /// session that replaces the pending one.
    pub async fn verify_second_factor(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        code: &str,
    ) -> Result<IssuedSession, AppError> {
        let key = format!("totp:{}", auth.user.id);
        let ip = ctx.client_ip.clone();
        self.throttle_check_key(&key, ip.as_deref()).await?;
        let Some(secret) = auth.user.totp_secret.clone() else {
            return Err(AppError::Conflict("totp_not_pending"));
        };
        let now = self.now();
        let result = totp::verify(
            &secret,
            code,
            now.unix_timestamp(),
            auth.user.totp_last_step,
        );
        let recovery =
            if result.is_err() && code.chars().filter(char::is_ascii_alphanumeric).count() == 10 {
                Some(totp::recovery_code_digest(code))
            } else {
                None
            };
        let mut user = auth.user.clone();
        let new = self.new_session(ctx, user.id, false)?;
        let old = auth.session.id_hash.clone();
        let mut ok_ev = self.event(
            ctx,
            Some(&auth.principal),
            None,
            AuditAction::SecondFactor,
            Outcome::Success,
        );
        ok_ev.target = Some(format!("user:{}", user.id));
        let mut fail_ev = ok_ev.clone();
        fail_ev.outcome = Outcome::Failure;
        let record = new.record.clone();
        let step = result.as_ref().ok().copied();
        let totp_error = result.err();
        let passed = self
            .writer
            .write(move |tx| {
                Box::pin(async move {
                    let mut used_recovery = false;
                    if let Some(step) = step {
                        user.totp_last_step = Some(step);
                        user.version += 1;
                        if !tx.update_user(&user).await? {
                            return Err(AppError::PreconditionFailed);
                        }
                    } else if let Some(digest) = recovery {
                        used_recovery = tx.use_recovery_code(user.id, &digest, now).await?;
                    }
                    if step.is_none() && !used_recovery {
                        for k in [Some(key), ip.map(|i| address_key(&i))]
                            .into_iter()
                            .flatten()
                        {
                            tx.insert_login_failure(&LoginFailureRecord { key: k, at: now })
                                .await?;
                        }
                        tx.append_audit(&fail_ev).await?;
                        return Ok(false);
                    }
                    if used_recovery {
                        ok_ev.action = AuditAction::RecoveryCodeUsed;
                    }
                    tx.delete_session(&old).await?;
                    tx.insert_session(&record).await?;
                    tx.clear_login_failures(&key).await?;
                    tx.append_audit(&ok_ev).await?;
                    Ok(true)
                })
            })
            .await?;
        if passed {
            Ok(new)
        } else {
            match totp_error {
                Some(e @ (totp::TotpError::Format | totp::TotpError::Reused)) => Err(
                    ValidationErrors::from(FieldError::new("code", e.code(), e.to_string())).into(),
                ),
                _ => Err(AppError::AuthenticationFailed),
            }
        }
    }

    /// Records one failed attempt for `key` (and the client address), durably.
    pub(crate) async fn record_failure(
        &self,
        key: String,
        ip: Option<String>,
    ) -> Result<(), AppError> {
        let now = self.now();
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    for k in [Some(key), ip.map(|i| address_key(&i))]
                        .into_iter()
                        .flatten()
                    {
                        tx.insert_login_failure(&LoginFailureRecord { key: k, at: now })
                            .await?;
                    }
                    Ok(())
                })
            })
            .await
    }

    pub(crate) async fn throttle_check_key(
        &self,
        key: &str,
        ip: Option<&str>,
    ) -> Result<(), AppError> {
        let now = self.now();
        let since = now - THROTTLE_WINDOW;
        let mut conn = self.store.read().await?;
        let s = stats(conn.login_failures_since(key, since).await?);
        let mut until = next_attempt_allowed(s, ACCOUNT_LIMITS, now);
        if let Some(ip) = ip {
            let addr = stats(conn.login_failures_since(&address_key(ip), since).await?);
            until = until.max(next_attempt_allowed(addr, ADDRESS_LIMITS, now));
        }
        until.map_or(Ok(()), |t| Err(AppError::Throttled(t)))
    }

    /// Starts (or restarts) second-factor setup: a new secret, not active until confirmed.
    pub async fn begin_totp_enrolment(
        &self,
        auth: &Authenticated,
    ) -> Result<TotpEnrolment, AppError> {
        auth.permit(Action::ManageOwnAccount)?;
        refuse_reenrolment_before_second_factor(auth)?;
        // Re-showing the page keeps the secret already shown, so a phone that scanned it
        // stays valid; a new one is made only when none is pending.
        let secret = match auth.user.totp_pending_secret.clone() {
            Some(s) => s,
            None => {
                let secret = secrets::random_bytes::<{ totp::SECRET_BYTES }>()?.to_vec();
                let mut user = auth.user.clone();
                user.totp_pending_secret = Some(secret.clone());
                user.version += 1;
                self.writer
                    .write(move |tx| {
                        Box::pin(async move {
                            if tx.update_user(&user).await? {
                                Ok(())
                            } else {
                                Err(AppError::PreconditionFailed)
                            }
                        })
                    })
                    .await?;
                secret
            }
        };
        Ok(TotpEnrolment {
            secret_base32: totp::encode_secret(&secret),
            uri: totp::provisioning_uri(
                &secret,
                auth.user.login.as_str(),
                &self.config.totp_issuer,
            ),
        })
    }

    /// Confirms setup with a first code. Returns the recovery codes (shown once) and, when
    /// the session was waiting for this, a new full session.
    pub async fn confirm_totp_enrolment(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        code: &str,
    ) -> Result<(Vec<String>, Option<IssuedSession>), AppError> {
        auth.permit(Action::ManageOwnAccount)?;
        refuse_reenrolment_before_second_factor(auth)?;
        let key = format!("totp:{}", auth.user.id);
        self.throttle_check_key(&key, ctx.client_ip.as_deref())
            .await?;
        let user = self
            .store
            .read()
            .await?
            .get_user(auth.user.id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let Some(secret) = user.totp_pending_secret.clone() else {
            return Err(AppError::Conflict("totp_not_pending"));
        };
        let now = self.now();
        let step = match totp::verify(&secret, code, now.unix_timestamp(), user.totp_last_step) {
            Ok(step) => step,
            Err(e) => {
                let f = LoginFailureRecord { key, at: now };
                self.writer
                    .write(move |tx| {
                        Box::pin(async move { Ok(tx.insert_login_failure(&f).await?) })
                    })
                    .await?;
                return Err(ValidationErrors::from(FieldError::new(
                    "code",
                    e.code(),
                    e.to_string(),
                ))
                .into());
            }
        };
        let mut codes = Vec::with_capacity(totp::RECOVERY_CODES);
        let mut records = Vec::with_capacity(totp::RECOVERY_CODES);
        for _ in 0..totp::RECOVERY_CODES {
            let c = totp::format_recovery_code(&secrets::random_bytes::<7>()?);
            records.push(RecoveryCodeRecord {
                user_id: user.id,
                digest: totp::recovery_code_digest(&c),
                used_at: None,
            });
            codes.push(c);
        }
        let upgrade = if auth.session.pending_second_factor {
            Some(self.new_session(ctx, user.id, false)?)
        } else {
            None
        };
        let mut updated = user.clone();
        updated.totp_secret = Some(secret);
        updated.totp_pending_secret = None;
        updated.totp_last_step = Some(step);
        updated.version += 1;
        let mut ev = self.event(
            ctx,
            Some(&auth.principal),
            None,
            AuditAction::TotpEnrolled,
            Outcome::Success,
        );
        ev.target = Some(format!("user:{}", user.id));
        let old = auth.session.id_hash.clone();
        let new_record = upgrade.as_ref().map(|s| s.record.clone());
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    if !tx.update_user(&updated).await? {
                        return Err(AppError::PreconditionFailed);
                    }
                    tx.replace_recovery_codes(updated.id, &records).await?;
                    if let Some(r) = new_record {
                        tx.delete_session(&old).await?;
                        tx.insert_session(&r).await?;
                    }
                    tx.clear_login_failures(&key).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok((codes, upgrade))
    }

    pub async fn sign_out(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
    ) -> Result<(), AppError> {
        let mut ev = self.event(
            ctx,
            Some(&auth.principal),
            None,
            AuditAction::SignOut,
            Outcome::Success,
        );
        ev.target = Some(format!("user:{}", auth.user.id));
        let h = auth.session.id_hash.clone();
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.delete_session(&h).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await
    }

    pub async fn list_own_sessions(
        &self,
        auth: &Authenticated,
    ) -> Result<Vec<SessionRecord>, AppError> {
        auth.permit(Action::ManageOwnAccount)?;
        let mut s = self.store.read().await?.list_sessions(auth.user.id).await?;
        s.sort_by_key(|s| std::cmp::Reverse(s.created_at));
        Ok(s)
    }

    /// Ends one of the user's own sessions, named by its public handle.
    pub async fn end_own_session(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        handle: &str,
    ) -> Result<(), AppError> {
        auth.permit(Action::ManageOwnAccount)?;
        let sessions = self.store.read().await?.list_sessions(auth.user.id).await?;
        let Some(target) = sessions.into_iter().find(|s| s.handle == handle) else {
            return Err(AppError::NotFound);
        };
        let mut ev = self.event(
            ctx,
            Some(&auth.principal),
            None,
            AuditAction::SessionEnded,
            Outcome::Success,
        );
        ev.target = Some(format!("session:{}", target.handle));
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.delete_session(&target.id_hash).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await
    }

    /// Changes the password and ends every session of the user, this one included.
    pub async fn change_password(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        current: &str,
        new: &str,
    ) -> Result<(), AppError> {
        auth.permit(Action::ManageOwnAccount)?;
        let new =
            NewPassword::parse(new, Some(&auth.user.login)).map_err(ValidationErrors::from)?;
        if !secrets::verify_password(current.to_owned(), auth.user.password_hash.clone()).await? {
            return Err(ValidationErrors::from(FieldError::new(
                "current_password",
                "mismatch",
                "現在のパスワードが正しくありません。",
            ))
            .into());
        }
        let hash =
            secrets::hash_password(new.expose().to_owned(), self.config.password_cost).await?;
        let mut user = auth.user.clone();
        user.password_hash = hash;
        user.password_changed_at = self.now();
        user.version += 1;
        let mut ev = self.event(
            ctx,
            Some(&auth.principal),
            None,
            AuditAction::PasswordChanged,
            Outcome::Success,
        );
        ev.target = Some(format!("user:{}", user.id));
        ev.category = Some(ryoritsu_domain::info::InformationCategory::Account);
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    if !tx.update_user(&user).await? {
                        return Err(AppError::PreconditionFailed);
                    }
                    tx.delete_sessions_of_user(user.id, None).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await
    }

    /// Deactivates an account and ends all its sessions at once.
    pub async fn deactivate_user(
        &self,
        ctx: &RequestContext,
        actor: &Authenticated,
        user_id: Uuid,
    ) -> Result<(), AppError> {
        let p = self.plan_deactivate_user(ctx, actor, user_id).await?;
        self.commit(p).await
    }

    pub async fn plan_deactivate_user(
        &self,
        ctx: &RequestContext,
        actor: &Authenticated,
        user_id: Uuid,
    ) -> Result<Planned<S, ()>, AppError> {
        let mut conn = self.store.read().await?;
        let target_memberships = conn.list_memberships_of_user(user_id).await?;
        // An organisation admin may deactivate members of an organisation they administer;
        // the operator anyone. Others learn nothing, not even that the account exists.
        let org = target_memberships.first().map(|m| m.organisation_id);
        let permitted = actor.principal.operator
            || target_memberships.iter().any(|m| {
                decide(&actor.principal, Action::ManageMembers(m.organisation_id)).is_ok()
            });
        if !permitted {
            return Err(AppError::Denied(ryoritsu_domain::policy::Denial::NotFound));
        }
        let Some(mut user) = conn.get_user(user_id).await? else {
            return Err(AppError::NotFound);
        };
        drop(conn);
        user.active = false;
        user.version += 1;
        let mut ev = self.event(
            ctx,
            Some(&actor.principal),
            org,
            AuditAction::UserDeactivated,
            Outcome::Success,
        );
        ev.target = Some(format!("user:{user_id}"));
        ev.category = Some(ryoritsu_domain::info::InformationCategory::Account);
        Ok(Planned {
            value: (),
            apply: Box::new(move |tx| {
                Box::pin(async move {
                    if !tx.update_user(&user).await? {
                        return Err(AppError::PreconditionFailed);
                    }
                    tx.delete_sessions_of_user(user.id, None).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            }),
        })
    }

    /// Deletes sessions past their expiry and sign-in failures past the window.
    pub async fn sweep(&self) -> Result<(), AppError> {
        let now = self.now();
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.delete_expired_sessions(
                        now - ryoritsu_domain::session::IDLE_TIMEOUT,
                        now - ryoritsu_domain::session::ABSOLUTE_TIMEOUT,
                    )
                    .await?;
                    tx.prune_login_failures(now - THROTTLE_WINDOW).await?;
                    tx.prune_idempotency(now - crate::idempotency::RETENTION)
                        .await?;
                    Ok(())
                })
            })
            .await
    }
}

/// A session that has passed only the password may set up a first second factor, never
/// replace an existing one: otherwise a password alone would be enough to get in.
fn refuse_reenrolment_before_second_factor(auth: &Authenticated) -> Result<(), AppError> {
    if auth.session.pending_second_factor && auth.user.totp_secret.is_some() {
        return Err(AppError::Denied(
            ryoritsu_domain::policy::Denial::SecondFactorRequired,
        ));
    }
    Ok(())
}

/// Acts as a user without signing in: only for trusted callers inside this crate that work
/// on behalf of the system (the demo world, the conformance story), never for requests.
pub(crate) async fn acting_as<S: Store>(store: &S, login: &str) -> Result<Authenticated, AppError> {
    let mut c = store.read().await?;
    let login = LoginName::parse(login).map_err(ValidationErrors::from)?;
    let user = c
        .find_user_by_login(&login)
        .await?
        .ok_or(AppError::NotFound)?;
    let memberships = c.list_memberships_of_user(user.id).await?;
    let principal = principal_of(&user, &memberships, true);
    Ok(Authenticated {
        session: SessionRecord {
            id_hash: String::new(),
            handle: String::new(),
            user_id: user.id,
            created_at: OffsetDateTime::UNIX_EPOCH,
            last_seen_at: OffsetDateTime::UNIX_EPOCH,
            pending_second_factor: false,
            csrf_token: String::new(),
            user_agent: None,
            client_ip: None,
        },
        user,
        memberships,
        principal,
    })
}

pub fn principal_of(
    user: &UserRecord,
    memberships: &[MembershipRecord],
    second_factor_ok: bool,
) -> Principal {
    Principal {
        user: user.id,
        operator: user.operator,
        memberships: memberships
            .iter()
            .map(|m| MembershipRef {
                organisation: m.organisation_id,
                kind: m.organisation_kind,
                role: m.role,
            })
            .collect(),
        second_factor_ok,
    }
}

fn login_conflict(e: crate::error::StoreError) -> AppError {
    match e {
        crate::error::StoreError::Conflict(_) => AppError::Conflict("login_taken"),
        other => AppError::Store(other),
    }
}

/// A reading as typed: empty clears it; otherwise kana only, at most 100 characters.
pub fn parse_reading(input: &str) -> Result<Option<String>, ValidationErrors> {
    if input.trim().is_empty() {
        return Ok(None);
    }
    let mut errs = ValidationErrors::default();
    match ryoritsu_search::reading(input) {
        Some(r) if r.chars().count() <= 100 => return Ok(Some(r)),
        Some(_) => errs.push(FieldError::new(
            "name_reading",
            "too_long",
            "フリガナは100文字以内で入力してください。",
        )),
        None => errs.push(FieldError::new(
            "name_reading",
            "kana_only",
            "フリガナはカタカナかひらがなで入力してください。",
        )),
    }
    errs.into_result(None)
}
