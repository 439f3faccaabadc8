//! The sender of e-mail notices: a background task that writes the overdue reminders,
//! takes the notices due from the outbox, hands each to the SMTP relay and records the
//! outcome. A notice is marked sent only after the relay accepted it; one that fails is
//! retried later, and after the last attempt stays in the outbox with its error.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use ryoritsu_app::cases::notice_ports::NoticeRecord;
use ryoritsu_app::ports::Store;
use ryoritsu_app::{App, AppError};
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{MailSettings, MailTls};

/// How long one SMTP command may take before the attempt counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// How often overdue tasks are looked for (by the application's clock).
const REMINDER_SWEEP_EVERY: time::Duration = time::Duration::hours(1);

/// `Auto-Submitted: auto-generated` (RFC 3834): tells the recipient's mail system not to
/// answer with an absence notice.
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// Why an attempt failed: in full for the outbox row, and without personal data for the
/// log.
struct Failure {
    stored: String,
    logged: String,
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    poll: Duration,
}

impl Mailer {
    /// Checks the settings and prepares the transport (no connection is made yet).
    pub fn new(settings: &MailSettings) -> Result<Mailer, String> {
        let from: Mailbox = settings.from.parse().map_err(|e| {
            format!(
                "[mail] の from（{}）をメールアドレスとして読めません / mail.from is not an address: {e}",
                settings.from
            )
        })?;
        let host = settings.smtp_host.trim();
        if host.is_empty() {
            return Err(
                "[mail] の smtp_host を指定してください / mail.smtp_host is required".into(),
            );
        }
        let tls = match settings.tls {
            MailTls::None => Tls::None,
            MailTls::Starttls | MailTls::Tls => {
                let params = TlsParameters::new(host.to_owned()).map_err(|e| {
                    format!("[mail] の TLS を設定できません / cannot set up TLS for mail: {e}")
                })?;
                if settings.tls == MailTls::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(settings.port())
            .tls(tls)
            .timeout(Some(SMTP_TIMEOUT));
        if let Some(user) = &settings.username {
            let password = settings
                .password
                .as_ref()
                .map(|p| p.expose().to_owned())
                .unwrap_or_default();
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
            poll: Duration::from_millis(settings.poll_interval_ms.max(10)),
        })
    }

    /// The message for a notice: plain UTF-8 text, the subject encoded for mail headers,
    /// and a Message-ID made from the notice's id, so that a notice sent twice (the relay
    /// accepted it but the outcome was not recorded) shows as one message.
    pub fn message(&self, n: &NoticeRecord) -> Result<Message, String> {
        let to: Address = n
            .address
            .parse()
            .map_err(|e| format!("the recipient's address is not usable: {e}"))?;
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(n.subject.clone())
            .message_id(Some(format!("<{}@{}>", n.id, self.from.email.domain())))
            .header(ContentType::TEXT_PLAIN)
            .header(AutoSubmitted)
            .body(n.body.clone())
            .map_err(|e| format!("cannot build the message: {e}"))
    }

    async fn send(&self, n: &NoticeRecord) -> Result<(), Failure> {
        let message = self.message(n).map_err(|e| Failure {
            stored: e.clone(),
            logged: e,
        })?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| Failure {
                stored: e.to_string(),
                // A relay's answer may quote the address; the log gets only its code.
                logged: match e.status() {
                    Some(code) => format!("the relay answered {code}"),
                    None => e.to_string(),
                },
            })
    }

    /// Sends what is due now: claims each notice, sends it, records the outcome. Returns
    /// how many were sent. Stops early when `stop` turns true; a notice claimed but not
    /// tried is tried again once its claim runs out.
    pub async fn deliver_due<S: Store>(
        &self,
        app: &App<S>,
        stop: &watch::Receiver<bool>,
    ) -> Result<usize, AppError> {
        let mut sent = 0;
        for n in app.due_notices().await? {
            if *stop.borrow() {
                break;
            }
            match self.send(&n).await {
                Ok(()) => {
                    app.mark_sent(n.id).await?;
                    sent += 1;
                }
                Err(failure) => match app.mark_failed(&n, &failure.stored).await? {
                    Some(next) => tracing::warn!(
                        notice = %n.id,
                        attempts = n.attempts,
                        next_attempt_at = %next,
                        error = %failure.logged,
                        "e-mail notice not sent; will retry"
                    ),
                    None => tracing::error!(
                        notice = %n.id,
                        attempts = n.attempts,
                        error = %failure.logged,
                        "e-mail notice given up after the last attempt; it stays in the outbox"
                    ),
                },
            }
        }
        Ok(sent)
    }

    /// Runs until `stop` turns true (or its sender is dropped). The notice being sent when
    /// it does is finished, so that one the relay accepted is recorded as sent.
    pub fn spawn<S: Store>(self, app: App<S>, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut last_sweep: Option<OffsetDateTime> = None;
            loop {
                let now = app.now();
                if last_sweep.is_none_or(|t| now - t >= REMINDER_SWEEP_EVERY) {
                    match app.remind_overdue().await {
                        Ok(n) => {
                            last_sweep = Some(now);
                            if n > 0 {
                                tracing::info!(reminders = n, "overdue reminders written");
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "overdue reminder sweep failed"),
                    }
                }
                if let Err(e) = self.deliver_due(&app, &stop).await {
                    tracing::warn!(error = %e, "e-mail notice round failed");
                }
                if *stop.borrow() {
                    break;
                }
                tokio::select! {
                    changed = stop.changed() => {
                        if changed.is_err() || *stop.borrow() {
                            break;
                        }
                    }
                    () = tokio::time::sleep(self.poll) => {}
                }
            }
        })
    }
}
