//! FHIR R4 reads and writes, through the same use cases and access policy as the JSON API.
//!
//! Nothing here decides access on its own: documents come from [`App::read_documents`] (the
//! policy per category, the read audited, disclosures recorded), cases from
//! the access index, a page of cases at a time ([`App::scope_page`]) / [`App::case_access`],
//! consents only for the case's worker
//! (as the consents page), the access log only for the worker themselves, and an opinion
//! is created through [`App::save_draft`] and [`App::finalise_document`] after
//! `WriteOpinion` is granted. `ryoritsu_fhir` only turns what is returned into resources.

use ryoritsu_domain::FieldError;
use ryoritsu_domain::forms::{Attestation, DraftDocument, FormKind, Party};
use ryoritsu_domain::policy::{
    Action, CaseAccess, CaseRelation, Denial, GrantScope, Subject, decide_case,
};
use ryoritsu_fhir as fhir;
use serde_json::Value;
use uuid::Uuid;

use crate::access::ScopeFilter;
use crate::access::ports::{AccessReads as _, CaseCursor, ScopeRange};
use crate::accounts::Authenticated;
use crate::accounts::ports::AccountReads;
use crate::cases::LoadedCase;
use crate::cases::ports::{CaseReads, DocumentBody, DocumentRecord};
use crate::error::AppError;
use crate::ports::Store;
use crate::{App, RequestContext};

/// Which resources a search asks for: `_id` and the subject (`subject`/`patient`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FhirQuery {
    pub id: Option<Uuid>,
    pub patient: Option<Uuid>,
    /// Cases per page (`_count`); 0 means the default.
    pub count: u32,
    /// Where the page starts (the `next` link of the page before).
    pub after: Option<FhirCursor>,
}

/// Where a page of a FHIR search starts: a case of the access index (searches over cases)
/// or a record of the audit chain (the access log's AuditEvents).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FhirCursor {
    Case(CaseCursor),
    Log(i64),
}

impl FhirCursor {
    /// As it travels in the `next` link (`_cursor`): a case cursor (`<micros>.<id>`) or the
    /// chain's sequence number.
    pub fn token(&self) -> String {
        match self {
            FhirCursor::Case(c) => c.token(),
            FhirCursor::Log(seq) => seq.to_string(),
        }
    }

    /// A cursor read back from a link; `None` for anything that is not one.
    pub fn from_token(token: &str) -> Option<FhirCursor> {
        if token.contains('.') {
            CaseCursor::from_token(token).map(FhirCursor::Case)
        } else {
            token
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .map(FhirCursor::Log)
        }
    }
}

/// Cases per page of a FHIR search when `_count` is not given, and the most it may ask.
pub const DEFAULT_COUNT: u32 = 20;
pub const MAX_COUNT: u32 = 100;

/// The resources of one page of a search, and where the next page starts.
#[derive(Debug, Clone, Default)]
pub struct FhirPage {
    pub resources: Vec<Value>,
    pub next: Option<FhirCursor>,
}

impl FhirQuery {
    /// The case cursor a search over cases continues after.
    fn case_after(&self) -> Option<CaseCursor> {
        match self.after {
            Some(FhirCursor::Case(c)) => Some(c),
            _ => None,
        }
    }

    fn wants_case(&self, worker: Uuid) -> bool {
        self.patient.is_none_or(|p| p == worker)
    }
}

fn is_plan(form: FormKind) -> bool {
    matches!(form, FormKind::SupportPlan | FormKind::ReturnToWorkPlan)
}

fn is_opinion(form: FormKind) -> bool {
    matches!(
        form,
        FormKind::ContinuationOpinion | FormKind::ReturnToWorkOpinion
    )
}

fn is_worker(access: &CaseAccess) -> bool {
    access.relations().contains(&CaseRelation::Worker)
}

/// The `QuestionnaireResponse` of a stored document.
pub fn response_of(d: &DocumentRecord, worker: Uuid) -> Value {
    let view = match &d.body {
        DocumentBody::Draft(x) => fhir::DocumentView {
            id: d.id,
            case: d.case_id,
            worker,
            form: x.form,
            version: x.version,
            answers: &x.answers,
            finalised: false,
            revision: x.revision,
            corrects: x.corrects,
            author: d.created_by,
            authored: d.updated_at,
        },
        DocumentBody::Finalised(x) => fhir::DocumentView {
            id: d.id,
            case: d.case_id,
            worker,
            form: x.form(),
            version: x.version(),
            answers: x.answers(),
            finalised: true,
            revision: x.revision(),
            corrects: x.corrects(),
            author: x.confirmed_by(),
            authored: x.confirmed_at(),
        },
    };
    fhir::with_meta(fhir::questionnaire_response(&view), d.version, d.updated_at)
}

fn care_plan_of(d: &DocumentRecord, loaded: &LoadedCase, employer_name: &str) -> Value {
    let (version, answers, finalised) = match &d.body {
        DocumentBody::Draft(x) => (x.version, &x.answers, false),
        DocumentBody::Finalised(x) => (x.version(), x.answers(), true),
    };
    let plan = fhir::care_plan(&fhir::PlanView {
        id: d.id,
        case: d.case_id,
        worker: loaded.case.worker_id,
        employer: loaded.case.employer_id,
        employer_name,
        form: d.form,
        version,
        answers,
        finalised,
        created: d.created_at,
    });
    fhir::with_meta(plan, d.version, d.updated_at)
}

/// A case as the principal may read it: the documents through the audited read.
struct ReadCase {
    loaded: LoadedCase,
    access: CaseAccess,
    documents: Vec<DocumentRecord>,
}

impl<S: Store> App<S> {
    async fn fhir_read_case(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case: Uuid,
        wanted: impl Fn(&DocumentRecord) -> bool + Send + Sync,
    ) -> Result<ReadCase, AppError> {
        let (loaded, _) = self.case_access(auth, case).await?;
        let (access, documents) = self.read_documents_where(ctx, auth, case, wanted).await?;
        Ok(ReadCase {
            loaded,
            access,
            documents,
        })
    }

    /// One page of the cases a search covers: the one holding the resource `_id` names, or
    /// the cases the principal may see (of the patient asked for), newest first, from the
    /// access index.
    async fn fhir_cases(
        &self,
        auth: &Authenticated,
        q: FhirQuery,
        holder: Option<Uuid>,
    ) -> Result<(Vec<Uuid>, Option<CaseCursor>), AppError> {
        if let Some(h) = holder {
            let seen = self
                .cases_granting(auth, &[h], GrantScope::Case.code())
                .await?;
            return Ok((seen.into_iter().collect(), None));
        }
        let count = match q.count {
            0 => DEFAULT_COUNT,
            n => n.min(MAX_COUNT),
        };
        match q.patient {
            None => {
                let page = self
                    .scope_page(auth, ScopeFilter::default(), q.case_after(), count)
                    .await?;
                Ok((page.cases.iter().map(|c| c.case).collect(), page.next))
            }
            Some(patient) => {
                // The patient's own cases (a handful), of which those the principal sees.
                let key = Subject::User { user: patient }.key();
                let mut c = self.store.read().await?;
                let mut range = c
                    .cases_in_scope(&ScopeRange {
                        key: &key,
                        status: None,
                        opened_from: None,
                        opened_until: None,
                        after: q.case_after(),
                        limit: count + 1,
                    })
                    .await?;
                drop(c);
                let next = if range.len() > count as usize {
                    range.truncate(count as usize);
                    range.last().copied()
                } else {
                    None
                };
                let ids: Vec<Uuid> = range.iter().map(|c| c.case).collect();
                let seen = self
                    .cases_granting(auth, &ids, GrantScope::Case.code())
                    .await?;
                Ok((
                    ids.into_iter().filter(|id| seen.contains(id)).collect(),
                    next,
                ))
            }
        }
    }

    /// The case holding a document, if the document exists.
    async fn document_case(&self, id: Uuid) -> Result<Option<Uuid>, AppError> {
        Ok(self
            .store
            .read()
            .await?
            .get_document(id)
            .await?
            .map(|d| d.case_id))
    }

    /// Documents the principal may read, across the cases a search covers.
    async fn fhir_documents(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        q: FhirQuery,
        wanted: impl Fn(&DocumentRecord) -> bool + Send + Sync + Copy,
    ) -> Result<(Vec<(ReadCase, Vec<DocumentRecord>)>, Option<CaseCursor>), AppError> {
        let holder = match q.id {
            Some(id) => match self.document_case(id).await? {
                Some(c) => Some(c),
                None => return Ok((Vec::new(), None)),
            },
            None => None,
        };
        let mut out = Vec::new();
        let (cases, next) = self.fhir_cases(auth, q, holder).await?;
        for case in cases {
            let read = self
                .fhir_read_case(ctx, auth, case, move |d| {
                    wanted(d) && q.id.is_none_or(|id| id == d.id)
                })
                .await?;
            let docs = read.documents.clone();
            out.push((read, docs));
        }
        Ok((out, next))
    }

    /// `QuestionnaireResponse?…`: every document the principal may read.
    pub async fn fhir_search_responses(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        q: FhirQuery,
    ) -> Result<FhirPage, AppError> {
        let (found, next) = self.fhir_documents(ctx, auth, q, |_| true).await?;
        Ok(FhirPage {
            resources: found
                .iter()
                .flat_map(|(r, docs)| docs.iter().map(|d| response_of(d, r.loaded.case.worker_id)))
                .collect(),
            next: next.map(FhirCursor::Case),
        })
    }

    /// `QuestionnaireResponse/{id}`: 404 outside the principal's scope, exactly as for a
    /// document that does not exist.
    pub async fn fhir_read_response(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        id: Uuid,
    ) -> Result<Value, AppError> {
        let case = self
            .document_case(id)
            .await?
            .ok_or(AppError::Denied(Denial::NotFound))?;
        let read = self.fhir_read_case(ctx, auth, case, |d| d.id == id).await?;
        read.documents
            .iter()
            .find(|d| d.id == id)
            .map(|d| response_of(d, read.loaded.case.worker_id))
            .ok_or(AppError::Denied(Denial::NotFound))
    }

    /// `CarePlan?…` / `CarePlan/{id}`: the plan documents the principal may read.
    pub async fn fhir_care_plans(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        q: FhirQuery,
    ) -> Result<FhirPage, AppError> {
        let mut out = Vec::new();
        let (found, next) = self
            .fhir_documents(ctx, auth, q, |d| is_plan(d.form))
            .await?;
        for (r, docs) in found {
            let names = self.case_organisation_names(auth, r.loaded.case.id).await?;
            let employer = names
                .get(&r.loaded.case.employer_id)
                .map_or("", String::as_str);
            out.extend(
                docs.iter()
                    .filter(|d| is_plan(d.form))
                    .map(|d| care_plan_of(d, &r.loaded, employer)),
            );
        }
        Ok(FhirPage {
            resources: out,
            next: next.map(FhirCursor::Case),
        })
    }

    /// `Consent?…` / `Consent/{id}`: a worker's consents, for the worker only (as on the
    /// consents page); other parties see none.
    pub async fn fhir_consents(
        &self,
        auth: &Authenticated,
        q: FhirQuery,
    ) -> Result<Vec<Value>, AppError> {
        let now = self.now();
        let mut out = Vec::new();
        // Only the worker's own consents: their own cases, a handful.
        for case in self.own_cases(auth).await? {
            if !q.wants_case(case.worker_id) {
                continue;
            }
            let (loaded, _) = self.case_access(auth, case.id).await?;
            let names = self.case_organisation_names(auth, loaded.case.id).await?;
            let mut c = self.store.read().await?;
            for consent in &loaded.context.consents {
                if q.id.is_some_and(|id| id != consent.id) {
                    continue;
                }
                let org = consent.recipient.organisation;
                let name = match names.get(&org) {
                    Some(n) => n.clone(),
                    None => c
                        .get_organisation(org)
                        .await?
                        .map_or_else(String::new, |o| o.name.to_string()),
                };
                out.push(fhir::consent(consent, &name, now));
            }
        }
        Ok(out)
    }

    /// `AuditEvent?patient=…`: the worker's own access log (what /me/records shows them).
    pub async fn fhir_audit_events(
        &self,
        auth: &Authenticated,
        q: FhirQuery,
    ) -> Result<FhirPage, AppError> {
        if !q.wants_case(auth.user.id) || q.id.is_some() {
            return Ok(FhirPage::default());
        }
        let count = match q.count {
            0 => DEFAULT_COUNT,
            n => n.min(MAX_COUNT),
        };
        let before = match q.after {
            Some(FhirCursor::Log(seq)) => Some(seq),
            _ => None,
        };
        let page = self.access_log_page(auth, before, count, true).await?;
        Ok(FhirPage {
            resources: page
                .items
                .iter()
                .map(|e| {
                    fhir::audit_event(&fhir::AuditView {
                        at: e.at,
                        case: e.case_id,
                        worker: auth.user.id,
                        actor_name: e.actor_name.as_deref(),
                        actor_role: e.actor_role,
                        organisation: e.organisation.as_deref(),
                        action: e.action,
                        category: e.category,
                        outcome: e.outcome,
                    })
                })
                .collect(),
            next: page.next.map(FhirCursor::Log),
        })
    }

    /// `Patient/{id}`: a worker, for those who may see one of the worker's cases.
    pub async fn fhir_patient(&self, auth: &Authenticated, id: Uuid) -> Result<Value, AppError> {
        let q = FhirQuery {
            patient: Some(id),
            ..FhirQuery::default()
        };
        let case = self
            .fhir_cases(auth, q, None)
            .await?
            .0
            .into_iter()
            .next()
            .ok_or(AppError::Denied(Denial::NotFound))?;
        let names = self.case_people_names(auth, case).await?;
        let name = names.get(&id).map_or("", String::as_str);
        Ok(fhir::patient(id, name))
    }

    /// `Composition/{case}/$document`: the case as a FHIR document holding exactly what the
    /// principal may see (HR without consent gets no medical entries).
    pub async fn fhir_case_document(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case: Uuid,
        base: &str,
    ) -> Result<Value, AppError> {
        let read = self.fhir_read_case(ctx, auth, case, |_| true).await?;
        let loaded = &read.loaded;
        let names = self.case_organisation_names(auth, case).await?;
        let people = self.case_people_names(auth, case).await?;
        let employer_name = names
            .get(&loaded.case.employer_id)
            .map_or("", String::as_str);
        let worker = loaded.case.worker_id;
        let mut resources: Vec<Value> = Vec::new();
        let mut forms = Vec::new();
        let mut plans = Vec::new();
        for d in &read.documents {
            forms.push(format!("QuestionnaireResponse/{}", d.id));
            resources.push(response_of(d, worker));
            if is_plan(d.form) {
                plans.push(format!("CarePlan/{}", d.id));
                resources.push(care_plan_of(d, loaded, employer_name));
            }
        }
        let mut consents = Vec::new();
        if is_worker(&read.access) {
            let now = self.now();
            for c in &loaded.context.consents {
                consents.push(format!("Consent/{}", c.id));
                let name = names
                    .get(&c.recipient.organisation)
                    .map_or("", String::as_str);
                resources.push(fhir::consent(c, name, now));
            }
        }
        resources.push(fhir::patient(
            worker,
            people.get(&worker).map_or("", String::as_str),
        ));
        resources.extend(names.iter().map(|(id, n)| fhir::organization(*id, n)));
        let sections = [
            fhir::DocumentSection {
                code: "forms",
                title: "書類（様式）",
                entries: forms,
            },
            fhir::DocumentSection {
                code: "plans",
                title: "両立支援プラン",
                entries: plans,
            },
            fhir::DocumentSection {
                code: "consents",
                title: "本人の同意",
                entries: consents,
            },
        ];
        let now = self.now();
        let composition = fhir::composition(
            case,
            worker,
            loaded.case.employer_id,
            employer_name,
            &format!("両立支援の記録（{}）", loaded.case.state.path.label()),
            now,
            loaded.case.state.is_closed(),
            &sections,
        );
        Ok(fhir::document_bundle(
            base,
            self.new_id(),
            now,
            composition,
            resources,
        ))
    }

    /// `POST QuestionnaireResponse`: the attending physician attached to the case writes an
    /// opinion (主治医意見書) from a QuestionnaireResponse. `completed` confirms it with the
    /// physician's signature line; `in-progress` keeps it as a draft. The answers go through
    /// the domain's validation before anything is written, so a refused form writes nothing.
    pub async fn fhir_create_opinion(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        body: &Value,
    ) -> Result<Value, AppError> {
        let imported = fhir::import_response(body)?;
        if !is_opinion(imported.form) {
            return Err(AppError::Invalid(
                FieldError::new(
                    "questionnaire",
                    "unsupported_form",
                    "FHIR で作成できるのは主治医意見書（就業継続・職場復帰）だけです。",
                )
                .into(),
            ));
        }
        let loaded = self.read_case(imported.case).await?;
        decide_case(
            &auth.principal,
            &loaded.context,
            Action::WriteOpinion {
                case: imported.case,
            },
            self.now(),
        )?;
        let attestation = Attestation {
            signature_field: "physician_signature".into(),
            party: Party::AttendingPhysician,
        };
        // The same checks the saves below make, done first so that a refused form leaves
        // no draft behind.
        let mut probe = DraftDocument::new(Uuid::nil(), imported.form, imported.version);
        probe.answers = imported.answers.clone();
        probe.answers = probe.check()?;
        if imported.completed {
            probe.finalise(auth.user.id, self.now(), attestation.clone())?;
        }
        let draft = self
            .save_draft(
                ctx,
                auth,
                imported.case,
                imported.form,
                imported.version,
                None,
                imported.answers,
            )
            .await?;
        let record = if imported.completed {
            self.finalise_document(ctx, auth, draft.id, draft.version, attestation)
                .await?
        } else {
            draft
        };
        Ok(response_of(&record, loaded.case.worker_id))
    }
}
