//! The worker's own view: everything held about them (開示), and who saw which of their
//! information and when (the access log, including every 第三者提供記録).

use std::collections::BTreeMap;

use ryoritsu_domain::audit::{AuditAction, Outcome};
use ryoritsu_domain::info::InformationCategory;
use ryoritsu_domain::org::Role;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::accounts::Authenticated;
use crate::accounts::ports::AccountReads;
use crate::cases::attachment_ports::AttachmentReads;
use crate::cases::correction_ports::CorrectionReads;
use crate::cases::ports::{CaseFilter, CaseReads};
use crate::cases::support_task_ports::{SupportTaskFilter, SupportTaskReads};
use crate::error::AppError;
use crate::hospital::ports::{GuidanceFilter, GuidanceReads};
use crate::ports::{ReadRepo, Store, WriteRepo};
use crate::{App, RequestContext};

/// One line of the access log as the worker sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessLogEntry {
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub at: OffsetDateTime,
    pub case_id: Uuid,
    /// Who: a person's name and role, with their organisation; the worker for themselves.
    pub actor_name: Option<String>,
    pub actor_role: Option<Role>,
    pub organisation: Option<String>,
    pub action: AuditAction,
    pub category: Option<InformationCategory>,
    pub outcome: Outcome,
}

/// The most entries one page of the access log holds.
pub const MAX_ACCESS_LOG_PAGE: u32 = 500;

/// One page of the access log, and where the next (older) one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogPage {
    pub items: Vec<AccessLogEntry>,
    /// Give this as `before` for the next page; `None` after the last.
    pub next: Option<i64>,
}

/// What is read, decided or handed on about a worker: the actions their access log lists.
fn worth_showing(a: AuditAction) -> bool {
    matches!(
        a,
        AuditAction::Read
            | AuditAction::Disclosed
            | AuditAction::DocumentSaved
            | AuditAction::DocumentFinalised
            | AuditAction::CaseStep
            | AuditAction::CaseOpened
            | AuditAction::ConsentGranted
            | AuditAction::ConsentWithdrawn
            | AuditAction::PartyAdded
            | AuditAction::ScanUploaded
            | AuditAction::AccessDenied
            | AuditAction::CorrectionRequested
            | AuditAction::CorrectionAnswered
            | AuditAction::SupportTaskChanged
            | AuditAction::GuidanceRecorded
    )
}

impl<S: Store> App<S> {
    /// Who saw or did what with the worker's case information, newest first: the whole
    /// log, for the 開示 export and the FHIR AuditEvent search.
    pub async fn my_access_log(
        &self,
        auth: &Authenticated,
    ) -> Result<Vec<AccessLogEntry>, AppError> {
        let mut out = Vec::new();
        let mut before = None;
        loop {
            let page = self
                .access_log_page(auth, before, MAX_ACCESS_LOG_PAGE, true)
                .await?;
            out.extend(page.items);
            match page.next {
                Some(n) => before = Some(n),
                None => return Ok(out),
            }
        }
    }

    /// One page of the worker's access log, newest first: at most `limit` entries (capped at
    /// [`MAX_ACCESS_LOG_PAGE`]) older than `before` (the `next` of the page before). Each of
    /// the worker's cases is read backwards through its audit index only as far as the page
    /// needs.
    ///
    /// `own`: the worker's own reads of their information are listed too; without it the
    /// log is what others did (the 開示 export lists everything).
    pub async fn access_log_page(
        &self,
        auth: &Authenticated,
        before: Option<i64>,
        limit: u32,
        own: bool,
    ) -> Result<AccessLogPage, AppError> {
        const CHUNK: u32 = 200;
        let limit = limit.clamp(1, MAX_ACCESS_LOG_PAGE) as usize;
        let mut c = self.store.read().await?;
        let cases = c.list_cases(CaseFilter::Worker(auth.user.id)).await?;
        let mut found: Vec<(Uuid, ryoritsu_domain::audit::AuditRecord)> = Vec::new();
        for case in &cases {
            let mut cursor = before.unwrap_or(i64::MAX);
            let mut shown = 0;
            loop {
                let chunk = c
                    .audit_records_for_case_before(case.id, cursor, CHUNK)
                    .await?;
                let read = chunk.len();
                for r in chunk {
                    cursor = r.seq;
                    let own_read =
                        r.event.action == AuditAction::Read && r.event.actor == Some(auth.user.id);
                    if worth_showing(r.event.action) && (own || !own_read) {
                        found.push((case.id, r));
                        shown += 1;
                    }
                }
                if shown > limit || read < CHUNK as usize {
                    break;
                }
            }
        }
        found.sort_by_key(|(_, r)| std::cmp::Reverse(r.seq));
        let next = if found.len() > limit {
            found.truncate(limit);
            found.last().map(|(_, r)| r.seq)
        } else {
            None
        };
        let mut users: BTreeMap<Uuid, Option<String>> = BTreeMap::new();
        let mut orgs: BTreeMap<Uuid, Option<String>> = BTreeMap::new();
        let mut items = Vec::with_capacity(found.len());
        for (case_id, r) in found {
            let e = r.event;
            let actor_name = match e.actor {
                Some(a) if a == auth.user.id => Some(auth.user.display_name.to_string()),
                Some(a) => match users.get(&a) {
                    Some(n) => n.clone(),
                    None => {
                        let n = c.get_user(a).await?.map(|u| u.display_name.to_string());
                        users.insert(a, n.clone());
                        n
                    }
                },
                None => None,
            };
            let organisation = match e.organisation {
                Some(o) => match orgs.get(&o) {
                    Some(n) => n.clone(),
                    None => {
                        let n = c.get_organisation(o).await?.map(|x| x.name.to_string());
                        orgs.insert(o, n.clone());
                        n
                    }
                },
                None => None,
            };
            items.push(AccessLogEntry {
                at: e.at,
                case_id,
                actor_name,
                actor_role: e.actor_role,
                organisation,
                action: e.action,
                category: e.category,
                outcome: e.outcome,
            });
        }
        Ok(AccessLogPage { items, next })
    }

    /// 開示: everything held about the worker, as one JSON document — account (without
    /// secrets), memberships, cases with every document, consents, 第三者提供記録, tasks,
    /// history, coordinators' support tasks, requests for correction with their answers, and the
    /// access log. Taking the export is itself recorded.
    pub async fn my_export(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
    ) -> Result<serde_json::Value, AppError> {
        let log = self.my_access_log(auth).await?;
        let mut c = self.store.read().await?;
        let cases = c.list_cases(CaseFilter::Worker(auth.user.id)).await?;
        let mut case_values = Vec::new();
        for case in &cases {
            let documents = c.list_documents(case.id).await?;
            let tasks = c
                .list_tasks(crate::cases::ports::TaskFilter {
                    case: case.id,
                    open_only: false,
                })
                .await?;
            let history = c.list_case_events(case.id).await?;
            let parties = c.list_case_parties(case.id).await?;
            // Consultation notes are about the worker too: the 開示 gives them back.
            let notes = c.list_consultation_notes(case.id).await?;
            let support_tasks: Vec<_> = c
                .list_support_tasks(SupportTaskFilter::Case(case.id))
                .await?
                .into_iter()
                .map(|r| r.task)
                .collect();
            // The hospitals' records of 両立支援指導 about the worker, every version.
            let guidance_sessions = c
                .list_guidance_versions(GuidanceFilter::Case(case.id))
                .await?;
            // Scans with their content: the 開示 gives back the originals themselves.
            let mut scans = Vec::new();
            for a in c.list_attachments(case.id).await? {
                use base64::Engine as _;
                let content = c.attachment_content(a.id).await?.unwrap_or_default();
                scans.push(serde_json::json!({
                    "scan": a,
                    "content_base64": base64::engine::general_purpose::STANDARD.encode(content),
                }));
            }
            case_values.push(serde_json::json!({
                "case": case,
                "documents": documents,
                "scans": scans,
                "tasks": tasks,
                "history": history,
                "parties": parties,
                "consultation_notes": notes,
                "support_tasks": support_tasks,
                "guidance_sessions": guidance_sessions,
            }));
        }
        let consents = c.list_consents_of_worker(auth.user.id).await?;
        let disclosures = c.list_disclosures_of_worker(auth.user.id).await?;
        let memberships = c.list_memberships_of_user(auth.user.id).await?;
        let corrections: Vec<_> = c
            .list_correction_requests(crate::cases::correction_ports::CorrectionFilter::Worker(
                auth.user.id,
            ))
            .await?
            .into_iter()
            .map(|r| r.request)
            .collect();
        drop(c);
        let u = &auth.user;
        let export = serde_json::json!({
            "format": "ryoritsu-disclosure",
            "version": 1,
            "generated_at": ryoritsu_domain::time_format::format_micros(self.now()),
            "account": {
                "id": u.id,
                "login": u.login,
                "display_name": u.display_name,
                "email": u.email,
                "active": u.active,
                "second_factor_enabled": u.totp_secret.is_some(),
                "created_at": ryoritsu_domain::time_format::format_micros(u.created_at),
            },
            "memberships": memberships,
            "cases": case_values,
            "consents": consents,
            "disclosures": disclosures,
            "correction_requests": corrections,
            "access_log": log,
        });
        let mut ev = self.event(
            ctx,
            Some(&auth.principal),
            None,
            AuditAction::Read,
            Outcome::Success,
        );
        ev.target = Some(format!("user:{}", u.id));
        ev.purpose = Some("disclosure_export".into());
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(export)
    }
}
