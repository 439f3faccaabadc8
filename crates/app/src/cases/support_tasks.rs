//! Coordinators' own tasks on a case (支援タスク): added, listed, marked done.
//!
//! The rules are the domain's ([`ryoritsu_domain::support_task`]): a task is kept with the
//! consultation notes, so writing one needs the right to write notes (the worker's consent
//! for anyone outside the employer) and reading needs the right to read them; the worker
//! always sees the tasks of their own case. Adding and marking done write their audit event
//! in the same transaction; reads of a case's tasks are recorded too.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use ryoritsu_domain::audit::{AuditAction, AuditEvent};
use ryoritsu_domain::info::InformationCategory;
use ryoritsu_domain::policy::Denial;
use ryoritsu_domain::support_task::{
    self, Refused, SupportTask, SupportTaskDraft, SupportTaskInput, japan_date,
};
use uuid::Uuid;

use crate::accounts::Authenticated;
use crate::accounts::ports::AccountReads;
use crate::cases::ports::{CaseReads, CaseRecord};
use crate::cases::support_task_ports::{
    SupportTaskFilter, SupportTaskReads, SupportTaskRecord, SupportTaskWrites,
};
use crate::cases::{LoadedCase, load_case};
use crate::error::AppError;
use crate::ports::{ReadRepo, Store, WriteRepo};
use crate::{App, Planned, RequestContext};

const CATEGORY: InformationCategory = InformationCategory::ConsultationNotes;

/// One task with what pages and the API show beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportTaskView {
    pub record: SupportTaskRecord,
    /// The writer's name and the organisation they wrote for (empty when gone).
    pub created_by_name: String,
    pub organisation_name: String,
    /// Whether the viewer may mark it done now.
    pub may_complete: bool,
}

impl SupportTaskView {
    pub fn task(&self) -> &SupportTask {
        &self.record.task
    }

    pub fn version(&self) -> i64 {
        self.record.version
    }
}

/// A case's tasks as one viewer sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSupportTasks {
    pub tasks: Vec<SupportTaskView>,
    /// Whether the viewer may add a task now.
    pub may_add: bool,
}

fn refused(r: Refused) -> AppError {
    match r {
        Refused::Denied(d) => AppError::Denied(d),
        Refused::CaseClosed => AppError::Conflict("case_closed"),
    }
}

async fn loaded_case<R: ReadRepo + AccountReads + CaseReads>(
    c: &mut R,
    id: Uuid,
) -> Result<LoadedCase, AppError> {
    let case = c
        .get_case(id)
        .await?
        .ok_or(AppError::Denied(Denial::NotFound))?;
    load_case(c, case).await
}

impl<S: Store> App<S> {
    fn support_task_event(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        organisation: Uuid,
        task: &SupportTask,
        what: &str,
    ) -> AuditEvent {
        let mut ev = self.case_event(
            ctx,
            auth,
            organisation,
            AuditAction::SupportTaskChanged,
            task.case_id,
        );
        ev.category = Some(CATEGORY);
        ev.target = Some(format!("support_task:{}", task.id));
        ev.purpose = Some(what.to_owned());
        ev
    }

    /// Views of `records` (all of `loaded`'s case) for `auth`, with names looked up once.
    async fn support_task_views<R: ReadRepo + AccountReads>(
        &self,
        c: &mut R,
        auth: &Authenticated,
        loaded: &LoadedCase,
        records: Vec<SupportTaskRecord>,
    ) -> Result<Vec<SupportTaskView>, AppError> {
        let now = self.now();
        let mut people: BTreeMap<Uuid, String> = BTreeMap::new();
        let mut orgs: BTreeMap<Uuid, String> = BTreeMap::new();
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            let t = &record.task;
            if let Entry::Vacant(e) = people.entry(t.created_by) {
                let n = c.get_user(t.created_by).await?;
                e.insert(n.map_or_else(String::new, |u| u.display_name.to_string()));
            }
            if let Entry::Vacant(e) = orgs.entry(t.organisation) {
                let n = c.get_organisation(t.organisation).await?;
                e.insert(n.map_or_else(String::new, |o| o.name.to_string()));
            }
            let may_complete = !t.is_done()
                && support_task::may_complete(&auth.principal, &loaded.context, t, now).is_ok();
            out.push(SupportTaskView {
                created_by_name: people.get(&t.created_by).cloned().unwrap_or_default(),
                organisation_name: orgs.get(&t.organisation).cloned().unwrap_or_default(),
                may_complete,
                record,
            });
        }
        Ok(out)
    }

    /// Plans a task added by a coordinator (or the employer's 産業保健スタッフ) to an open
    /// case, for the organisation they act for.
    pub async fn plan_add_support_task(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
        input: SupportTaskInput<'_>,
    ) -> Result<Planned<S, SupportTaskView>, AppError> {
        let now = self.now();
        let mut c = self.store.read().await?;
        let loaded = loaded_case(&mut c, case_id).await?;
        let acting =
            support_task::may_add(&auth.principal, &loaded.context, now).map_err(refused)?;
        let draft = SupportTaskDraft::parse(input, japan_date(now))?;
        let task = SupportTask::new(self.new_id(), case_id, acting, auth.user.id, draft, now);
        let ev = self.support_task_event(ctx, auth, acting.0, &task, "added");
        let record = SupportTaskRecord { task, version: 1 };
        let r = record.clone();
        let view = self
            .support_task_views(&mut c, auth, &loaded, vec![record])
            .await?
            .pop()
            .ok_or(AppError::Denied(Denial::NotFound))?;
        Ok(Planned {
            value: view,
            apply: Box::new(move |tx| {
                Box::pin(async move {
                    tx.insert_support_task(&r).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            }),
        })
    }

    pub async fn add_support_task(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
        input: SupportTaskInput<'_>,
    ) -> Result<SupportTaskView, AppError> {
        let p = self
            .plan_add_support_task(ctx, auth, case_id, input)
            .await?;
        self.commit(p).await
    }

    /// The case's tasks, open ones first by due date, for the worker and those who may read
    /// the consultation notes (their read is recorded). `NotFound` outside the case,
    /// `Forbidden` for those who see the case but not its notes.
    pub async fn case_support_tasks(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
    ) -> Result<CaseSupportTasks, AppError> {
        let now = self.now();
        let mut c = self.store.read().await?;
        let loaded = loaded_case(&mut c, case_id).await?;
        support_task::may_view(&auth.principal, &loaded.context, now)?;
        let records = c
            .list_support_tasks(SupportTaskFilter::Case(case_id))
            .await?;
        let mut tasks = self
            .support_task_views(&mut c, auth, &loaded, records)
            .await?;
        drop(c);
        tasks.sort_by_key(|v| (v.task().is_done(), v.task().due, v.task().created_at));
        if !tasks.is_empty() {
            let mut ev = self.case_event(
                ctx,
                auth,
                loaded.case.employer_id,
                AuditAction::Read,
                case_id,
            );
            ev.category = Some(CATEGORY);
            ev.purpose = Some("support_tasks".into());
            self.writer
                .write(move |tx| {
                    Box::pin(async move {
                        tx.append_audit(&ev).await?;
                        Ok(())
                    })
                })
                .await?;
        }
        Ok(CaseSupportTasks {
            tasks,
            may_add: support_task::may_add(&auth.principal, &loaded.context, now).is_ok(),
        })
    }

    /// Marks a task done over the version the caller last saw: its writer, or someone of its
    /// organisation who keeps tasks on the case.
    pub async fn complete_support_task(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        id: Uuid,
        if_match: i64,
    ) -> Result<SupportTaskView, AppError> {
        let now = self.now();
        let mut c = self.store.read().await?;
        let record = c
            .get_support_task(id)
            .await?
            .ok_or(AppError::Denied(Denial::NotFound))?;
        let loaded = loaded_case(&mut c, record.task.case_id).await?;
        support_task::may_complete(&auth.principal, &loaded.context, &record.task, now)
            .map_err(refused)?;
        if record.version != if_match {
            return Err(AppError::PreconditionFailed);
        }
        let done = record
            .task
            .complete(auth.user.id, now)
            .map_err(|e| AppError::Conflict(e.code()))?;
        let ev = self.support_task_event(ctx, auth, done.organisation, &done, "done");
        let next = SupportTaskRecord {
            task: done,
            version: record.version + 1,
        };
        let r = next.clone();
        let view = self
            .support_task_views(&mut c, auth, &loaded, vec![next])
            .await?
            .pop()
            .ok_or(AppError::Denied(Denial::NotFound))?;
        drop(c);
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    if !tx.complete_support_task(&r).await? {
                        return Err(AppError::PreconditionFailed);
                    }
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(view)
    }

    /// The open tasks the principal keeps (their own, and those of their organisations on
    /// cases where they coordinate), by due date: for the home page.
    pub async fn my_open_support_tasks(
        &self,
        auth: &Authenticated,
    ) -> Result<Vec<(SupportTaskRecord, CaseRecord)>, AppError> {
        let now = self.now();
        let mut c = self.store.read().await?;
        let mut filters = vec![SupportTaskFilter::OpenCreatedBy(auth.user.id)];
        let orgs: BTreeSet<Uuid> = auth.memberships.iter().map(|m| m.organisation_id).collect();
        filters.extend(orgs.into_iter().map(SupportTaskFilter::OpenOfOrganisation));
        let mut by_case: BTreeMap<Uuid, BTreeMap<Uuid, SupportTaskRecord>> = BTreeMap::new();
        for f in filters {
            for r in c.list_support_tasks(f).await? {
                by_case
                    .entry(r.task.case_id)
                    .or_default()
                    .insert(r.task.id, r);
            }
        }
        let mut out = Vec::new();
        for (case_id, records) in by_case {
            let loaded = loaded_case(&mut c, case_id).await?;
            for r in records.into_values() {
                if support_task::may_complete(&auth.principal, &loaded.context, &r.task, now)
                    .is_ok()
                {
                    out.push((r, loaded.case.clone()));
                }
            }
        }
        out.sort_by_key(|(r, _)| (r.task.due, r.task.created_at));
        Ok(out)
    }
}
