//! E-mail notices: when a step opens a task, the people it waits on are told by e-mail, and
//! once more when the task is overdue.
//!
//! A notice carries no health information and nothing that hints at one: not the worker's
//! name, not what the task is (「主治医意見書」 alone would reveal treatment), not the case's
//! status. Only a neutral subject, the recipient's own name, the due date and a link to the
//! case behind sign-in.
//!
//! Notices go to an outbox in the transaction of the change that calls for them, so nothing
//! committed goes unannounced and nothing refused is announced. A sender (outside this crate)
//! claims due notices, sends them, and marks each sent, or failed with a later retry; after
//! [`MAX_ATTEMPTS`] the row stays, unsent, with its last error.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use ryoritsu_domain::org::Role;
use ryoritsu_domain::policy::{CaseRelation, case_relations};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::App;
use crate::accounts::ports::AccountReads;
use crate::accounts::ports::UserRecord;
use crate::accounts::principal_of;
use crate::cases::notice_ports::{NoticeKind, NoticeReads, NoticeRecord, NoticeWrites};
use crate::cases::ports::{CaseReads, TaskRecord};
use crate::cases::{LoadedCase, load_case};
use crate::error::AppError;
use crate::ports::{ReadRepo, Store};

/// Where notices link to. Notices are written only when this is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeSettings {
    /// The address people use, e.g. `https://ryoritsu.example.jp` (no trailing slash).
    pub public_origin: String,
}

/// The subject of every notice that something awaits the recipient.
pub const SUBJECT: &str = "【Ryoritsu】確認が必要なお知らせがあります";
/// The subject of a reminder for an overdue task.
pub const REMINDER_SUBJECT: &str = "【Ryoritsu】期限を過ぎたお知らせがあります";

/// Attempts before a notice is given up (kept unsent, with its last error).
pub const MAX_ATTEMPTS: i64 = 9;

/// How long a claimed notice is held by its sender; after a crash it is retried then.
const LEASE: Duration = Duration::minutes(10);

/// Notices one sender takes at a time.
const BATCH: i64 = 20;

/// The wait after the `attempts`-th failed attempt: quick at first (a relay restarting),
/// then spaced out, about two days in all.
pub fn retry_delay(attempts: i64) -> Duration {
    match attempts {
        ..=1 => Duration::minutes(1),
        2 => Duration::minutes(5),
        3 => Duration::minutes(15),
        4 => Duration::hours(1),
        5 => Duration::hours(3),
        6 => Duration::hours(6),
        7 => Duration::hours(12),
        _ => Duration::hours(24),
    }
}

fn japanese_date(d: Date) -> String {
    format!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day())
}

/// The subject and body of a notice. Everything in it is listed here, so that what may
/// leave the system by e-mail is reviewable in one place.
pub fn compose(
    settings: &NoticeSettings,
    kind: NoticeKind,
    recipient_name: &str,
    case_id: Uuid,
    due: Option<Date>,
) -> (String, String) {
    let origin = settings.public_origin.trim_end_matches('/');
    let link = format!("{origin}/cases/{case_id}");
    let (subject, lead) = match kind {
        NoticeKind::TaskOpened => (
            SUBJECT,
            match due {
                Some(d) => format!(
                    "Ryoritsu で、あなたの確認や対応を待っている手続きがあります。\n期限: {}",
                    japanese_date(d)
                ),
                None => "Ryoritsu で、あなたの確認や対応を待っている手続きがあります。".to_owned(),
            },
        ),
        NoticeKind::Overdue => (
            REMINDER_SUBJECT,
            match due {
                Some(d) => format!(
                    "Ryoritsu で、あなたの確認や対応を待っている手続きが、期限（{}）を過ぎています。",
                    japanese_date(d)
                ),
                None => "Ryoritsu で、あなたの確認や対応を待っている手続きが、期限を過ぎています。"
                    .to_owned(),
            },
        ),
    };
    let body = format!(
        "{recipient_name} 様\n\
         \n\
         {lead}\n\
         \n\
         次のリンクを開き、サインインして内容をご確認ください。\n\
         {link}\n\
         \n\
         ※ 大切な情報を守るため、このメールには手続きの内容を書いていません。内容はサインインした後にだけ表示されます。\n\
         ※ このメールは送信専用です。返信されても届きません。\n"
    );
    (subject.to_owned(), body)
}

fn relation_role(r: &CaseRelation) -> Role {
    match r {
        CaseRelation::Worker => Role::Worker,
        CaseRelation::Employer { role }
        | CaseRelation::Hospital { role, .. }
        | CaseRelation::Coordinator { role, .. } => *role,
    }
}

/// The people a task waits on who can be told by e-mail: the holders of the assignee role
/// in the assignee organisation (the worker, for the worker's tasks) who take part in the
/// case in that role, so that a notice goes only to someone who will find the task on
/// their home page. Inactive accounts and people without an address are left out.
async fn recipients<R: ReadRepo + AccountReads>(
    c: &mut R,
    loaded: &LoadedCase,
    task: &TaskRecord,
) -> Result<Vec<UserRecord>, AppError> {
    let candidates: Vec<UserRecord> = if task.assignee_role == Role::Worker {
        c.get_user(loaded.case.worker_id)
            .await?
            .into_iter()
            .collect()
    } else {
        c.list_members_in_role(
            task.assignee_organisation,
            task.assignee_role,
            crate::accounts::ports::MAX_STAFF_IN_ROLE,
        )
        .await?
        .into_iter()
        .map(|(_, u)| u)
        .collect()
    };
    let mut out: Vec<UserRecord> = Vec::new();
    for u in candidates {
        if !u.active || u.email.is_none() || out.iter().any(|o| o.id == u.id) {
            continue;
        }
        let memberships = c.list_memberships_of_user(u.id).await?;
        let principal = principal_of(&u, &memberships, true);
        if case_relations(&principal, &loaded.context)
            .iter()
            .any(|r| relation_role(r) == task.assignee_role)
        {
            out.push(u);
        }
    }
    Ok(out)
}

impl<S: Store> App<S> {
    fn notice(
        &self,
        settings: &NoticeSettings,
        kind: NoticeKind,
        user: &UserRecord,
        case_id: Uuid,
        task_id: Option<Uuid>,
        due: Option<Date>,
    ) -> Option<NoticeRecord> {
        let address = user.email.as_ref()?.as_str().to_owned();
        let (subject, body) = compose(settings, kind, user.display_name.as_str(), case_id, due);
        let now = self.now();
        Some(NoticeRecord {
            id: self.new_id(),
            kind,
            recipient: user.id,
            address,
            subject,
            body,
            case_id,
            task_id,
            created_at: now,
            attempts: 0,
            next_attempt_at: Some(now),
            sent_at: None,
            last_error: None,
        })
    }

    /// The notices for tasks a write is about to open: one per person they wait on, with
    /// the earliest due date, except the `actor` taking the step, who is looking at the
    /// case already. Empty when notices are not configured. Read before the write; the
    /// caller inserts them in the write's transaction.
    pub async fn task_notices(
        &self,
        loaded: &LoadedCase,
        tasks: &[TaskRecord],
        actor: Uuid,
    ) -> Result<Vec<NoticeRecord>, AppError> {
        let Some(settings) = self.config.notices.as_ref() else {
            return Ok(Vec::new());
        };
        if tasks.is_empty() {
            return Ok(Vec::new());
        }
        let mut c = self.store.read().await?;
        let mut earliest: BTreeMap<Uuid, (UserRecord, Date)> = BTreeMap::new();
        for t in tasks {
            for u in recipients(&mut c, loaded, t).await? {
                if u.id == actor {
                    continue;
                }
                earliest
                    .entry(u.id)
                    .and_modify(|(_, due)| *due = (*due).min(t.due))
                    .or_insert((u, t.due));
            }
        }
        Ok(earliest
            .values()
            .filter_map(|(u, due)| {
                self.notice(
                    settings,
                    NoticeKind::TaskOpened,
                    u,
                    loaded.case.id,
                    None,
                    Some(*due),
                )
            })
            .collect())
    }

    /// Writes one reminder per open overdue task and person it waits on, once per task:
    /// a task already reminded is not reminded again. Returns the reminders written.
    pub async fn remind_overdue(&self) -> Result<usize, AppError> {
        let Some(settings) = self.config.notices.as_ref() else {
            return Ok(0);
        };
        let today = self.today();
        let mut c = self.store.read().await?;
        let tasks = c.unreminded_overdue_tasks(today).await?;
        let mut cases: BTreeMap<Uuid, Option<LoadedCase>> = BTreeMap::new();
        let mut reminders = Vec::new();
        for t in tasks {
            if let Entry::Vacant(slot) = cases.entry(t.case_id) {
                slot.insert(match c.get_case(t.case_id).await? {
                    Some(case) => Some(load_case(&mut c, case).await?),
                    None => None,
                });
            }
            let Some(Some(loaded)) = cases.get(&t.case_id) else {
                continue;
            };
            if loaded.context.closed {
                continue;
            }
            for u in recipients(&mut c, loaded, &t).await? {
                reminders.extend(self.notice(
                    settings,
                    NoticeKind::Overdue,
                    &u,
                    t.case_id,
                    Some(t.id),
                    Some(t.due),
                ));
            }
        }
        drop(c);
        if reminders.is_empty() {
            return Ok(0);
        }
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let mut written = 0;
                    for r in &reminders {
                        if tx.insert_reminder(r).await? {
                            written += 1;
                        }
                    }
                    Ok(written)
                })
            })
            .await
    }

    /// Claims the notices due now for sending (each attempt is counted as it starts, and
    /// the notice is held for a while so that no other sender takes it meanwhile).
    pub async fn due_notices(&self) -> Result<Vec<NoticeRecord>, AppError> {
        let now = self.now();
        let due = self.store.read().await?.due_notices(now, BATCH).await?;
        if due.is_empty() {
            return Ok(due);
        }
        let lease = now + LEASE;
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let mut claimed = Vec::with_capacity(due.len());
                    for mut n in due {
                        if tx.claim_notice(n.id, n.attempts, lease).await? {
                            n.attempts += 1;
                            n.next_attempt_at = Some(lease);
                            claimed.push(n);
                        }
                    }
                    Ok(claimed)
                })
            })
            .await
    }

    /// Records that the relay accepted a notice.
    pub async fn mark_sent(&self, id: Uuid) -> Result<(), AppError> {
        let at = self.now();
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.mark_notice_sent(id, at).await?;
                    Ok(())
                })
            })
            .await
    }

    /// Records a failed attempt of a claimed notice. Returns when it will be tried again,
    /// or `None` when it has been given up (it stays in the outbox with the error).
    pub async fn mark_failed(
        &self,
        notice: &NoticeRecord,
        error: &str,
    ) -> Result<Option<OffsetDateTime>, AppError> {
        let next =
            (notice.attempts < MAX_ATTEMPTS).then(|| self.now() + retry_delay(notice.attempts));
        let id = notice.id;
        // Relay answers can be long; the start says what went wrong.
        let error: String = error.chars().take(1000).collect();
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.mark_notice_failed(id, next, &error).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(next)
    }

    /// Every notice in the outbox, oldest first.
    pub async fn list_notices(&self) -> Result<Vec<NoticeRecord>, AppError> {
        Ok(self.store.read().await?.list_notices().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> NoticeSettings {
        NoticeSettings {
            public_origin: "https://ryoritsu.example.jp/".into(),
        }
    }

    #[test]
    fn a_notice_says_only_that_something_awaits_and_links_to_the_case() {
        let case = Uuid::from_u128(7);
        let due = Date::from_calendar_date(2026, time::Month::April, 8).ok();
        let (subject, body) = compose(&settings(), NoticeKind::TaskOpened, "山田 花子", case, due);
        assert_eq!(subject, SUBJECT);
        assert!(body.starts_with("山田 花子 様\n"), "{body}");
        assert!(body.contains("期限: 2026年4月8日"), "{body}");
        assert!(
            body.contains(&format!("https://ryoritsu.example.jp/cases/{case}\n")),
            "{body}"
        );
        assert!(body.contains("サインイン"), "{body}");
        for kind in ryoritsu_domain::case::TaskKind::ALL {
            assert!(!body.contains(kind.label()), "{body}");
        }
        let (subject, body) = compose(&settings(), NoticeKind::Overdue, "山田 花子", case, due);
        assert_eq!(subject, REMINDER_SUBJECT);
        assert!(
            body.contains("期限（2026年4月8日）を過ぎています"),
            "{body}"
        );
    }

    #[test]
    fn retries_space_out_and_stop() {
        let waits: Vec<Duration> = (1..=MAX_ATTEMPTS).map(retry_delay).collect();
        assert!(waits.windows(2).all(|w| w[0] <= w[1]), "{waits:?}");
        assert_eq!(waits[0], Duration::minutes(1));
        let total: Duration = waits
            .iter()
            .take(usize::try_from(MAX_ATTEMPTS - 1).unwrap_or(0))
            .copied()
            .sum();
        assert!(total > Duration::hours(24), "{total}");
    }
}
