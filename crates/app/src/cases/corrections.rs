//! The worker's requests for correction (訂正の請求) and the holder's answers.
//!
//! The worker files; the organisation holding the data (the employer, or the hospital for
//! what its 主治医 confirmed) answers by a due date. "Corrected" is shown by a new version of
//! the document that points at the old one, which the answering side starts from here.
//! Filing, answering and starting a corrected version each write their audit event in the
//! same transaction; reads of a request by the answering side are recorded too, since a
//! request repeats the worker's health information.

use crate::search::ports::SearchWrites as _;
use std::collections::BTreeMap;

use ryoritsu_domain::audit::{AuditAction, AuditEvent, Outcome};
use ryoritsu_domain::correction::{
    self, AnswerInput, AnswerRefused, CorrectionDraft, CorrectionInput, CorrectionRequest,
    NamedDocument, Responder, corrects, may_answer, may_file,
};
use ryoritsu_domain::forms::{DraftDocument, FormKind};
use ryoritsu_domain::info::InformationCategory;
use ryoritsu_domain::org::{OrganisationKind, Role};
use ryoritsu_domain::policy::{Action, Denial, decide_case};
use ryoritsu_domain::{FieldError, ValidationErrors};
use uuid::Uuid;

use crate::accounts::Authenticated;
use crate::accounts::ports::AccountReads;
use crate::cases::correction_ports::{
    CorrectionFilter, CorrectionReads, CorrectionRecord, CorrectionWrites,
};
use crate::cases::ports::{CaseReads, CaseRecord, CaseWrites, DocumentBody, DocumentRecord};
use crate::cases::{LoadedCase, load_case};
use crate::error::AppError;
use crate::ports::{ReadRepo, Store, WriteRepo};
use crate::{App, Planned, RequestContext};

/// A document as a request shows it: which form, which version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentRef {
    pub id: Uuid,
    pub form: FormKind,
    pub revision: u32,
    pub finalised: bool,
}

impl DocumentRef {
    fn of(d: &DocumentRecord) -> DocumentRef {
        let (revision, finalised) = match &d.body {
            DocumentBody::Draft(x) => (x.revision, false),
            DocumentBody::Finalised(x) => (x.revision(), true),
        };
        DocumentRef {
            id: d.id,
            form: d.form,
            revision,
            finalised,
        }
    }

    /// 「勤務情報提供書（第2版）」
    pub fn label(&self) -> String {
        format!("{}（第{}版）", self.form.label(), self.revision)
    }
}

/// One request with what pages and the API show beside it.
#[derive(Debug, Clone)]
pub struct CorrectionView {
    pub record: CorrectionRecord,
    pub case: CaseRecord,
    /// The document the request is about (`None` for 「その他」).
    pub target: Option<DocumentRef>,
    /// Versions that correct the target: finalised ones an answer may name, and drafts
    /// being written.
    pub corrections: Vec<DocumentRef>,
    /// The organisation that answers, by name.
    pub responder_name: String,
    /// Whether the viewer is the one who answers it.
    pub answerer: bool,
}

impl CorrectionView {
    pub fn request(&self) -> &CorrectionRequest {
        &self.record.request
    }

    pub fn version(&self) -> i64 {
        self.record.version
    }

    /// What the request is about, in words.
    pub fn target_label(&self) -> String {
        match (&self.record.request.target, &self.target) {
            (_, Some(d)) => d.label(),
            (correction::CorrectionTarget::Other { description }, None) => {
                format!("その他（{description}）")
            }
            (correction::CorrectionTarget::Document { .. }, None) => "書類".to_owned(),
        }
    }
}

/// The category of what a request is about, for the policy and the audit log.
fn category_of(
    request: &CorrectionRequest,
    docs: &[DocumentRecord],
) -> Option<InformationCategory> {
    let id = request.target.document()?;
    docs.iter().find(|d| d.id == id).map(|d| d.form.category())
}

/// The later versions of `target` among `docs`, oldest first.
fn versions_of(target: Uuid, docs: &[DocumentRecord]) -> Vec<&DocumentRecord> {
    let parent: BTreeMap<Uuid, Option<Uuid>> = docs
        .iter()
        .map(|d| {
            let up = match &d.body {
                DocumentBody::Draft(x) => x.corrects,
                DocumentBody::Finalised(x) => x.corrects(),
            };
            (d.id, up)
        })
        .collect();
    let mut out: Vec<&DocumentRecord> = docs
        .iter()
        .filter(|d| corrects(d.id, target, |x| parent.get(&x).copied().flatten()))
        .collect();
    out.sort_by_key(|d| (DocumentRef::of(d).revision, d.created_at));
    out
}

fn refused(r: AnswerRefused) -> AppError {
    match r {
        AnswerRefused::AlreadyAnswered => AppError::Conflict("correction_answered"),
        AnswerRefused::Invalid(e) => AppError::Invalid(e),
    }
}

fn invalid(field: &str, code: &str, message: &str) -> AppError {
    AppError::Invalid(ValidationErrors::from(FieldError::new(
        field, code, message,
    )))
}

impl<S: Store> App<S> {
    /// An audit event about one request, in the organisation it was done for.
    fn correction_event(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        organisation: Uuid,
        action: AuditAction,
        request: &CorrectionRequest,
        category: Option<InformationCategory>,
    ) -> AuditEvent {
        let mut ev = self.event(
            ctx,
            Some(&auth.principal),
            Some(organisation),
            action,
            Outcome::Success,
        );
        ev.case_id = Some(request.case_id);
        ev.target = Some(format!("correction:{}", request.id));
        ev.category = category;
        ev
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

    /// Plans the worker's request on their own case. Only the worker files, in their own
    /// name; a document must be a 確定 one of this case.
    pub async fn plan_file_correction(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
        input: CorrectionInput<'_>,
    ) -> Result<Planned<S, CorrectionView>, AppError> {
        let now = self.now();
        let mut c = self.store.read().await?;
        let loaded = Self::loaded_case(&mut c, case_id).await?;
        may_file(&auth.principal, &loaded.context, now)?;
        let draft = CorrectionDraft::parse(input)?;
        let docs = c.list_documents(case_id).await?;
        let employer = loaded.case.employer_id;
        let (responder, organisation, category) = match draft.target.document() {
            None => (Responder::Employer, employer, None),
            Some(id) => {
                let doc = docs.iter().find(|d| d.id == id).ok_or_else(|| {
                        invalid(
                            correction::field::DOCUMENT,
                            "unknown",
                            "「訂正を求める情報」の書類が見つかりません。この事例の書類から選んでください。",
                        )
                    })?;
                let DocumentBody::Finalised(f) = &doc.body else {
                    return Err(invalid(
                        correction::field::DOCUMENT,
                        "not_finalised",
                        "「訂正を求める情報」には確定した書類を選んでください。作成中の書類は、作成している方に直接お伝えください。",
                    ));
                };
                let responder = Responder::for_document(f.attestation().party);
                let organisation = match responder {
                    Responder::Employer => Some(employer),
                    // The hospital where the physician who confirmed it works.
                    Responder::Hospital => {
                        let theirs = c.list_memberships_of_user(f.confirmed_by()).await?;
                        let hospitals = &loaded.context.hospitals;
                        theirs
                            .iter()
                            .find(|m| {
                                m.role == Role::AttendingPhysician
                                    && hospitals.contains(&m.organisation_id)
                            })
                            .map(|m| m.organisation_id)
                            .or_else(|| hospitals.first().copied())
                    }
                };
                match organisation {
                    Some(o) => (responder, o, Some(doc.form.category())),
                    // No hospital attached any more: the employer, who holds a copy, answers.
                    None => (Responder::Employer, employer, Some(doc.form.category())),
                }
            }
        };
        let request = CorrectionRequest::file(
            self.new_id(),
            case_id,
            auth.user.id,
            draft,
            responder,
            organisation,
            now,
        );
        let ev = self.correction_event(
            ctx,
            auth,
            employer,
            AuditAction::CorrectionRequested,
            &request,
            category,
        );
        let record = CorrectionRecord {
            request,
            version: 1,
        };
        let r = record.clone();
        let view = self
            .views_of_case(&mut c, auth, &loaded, vec![record], &mut BTreeMap::new())
            .await?
            .pop()
            .ok_or(AppError::Denied(Denial::NotFound))?;
        Ok(Planned {
            value: view,
            apply: Box::new(move |tx| {
                Box::pin(async move {
                    tx.insert_correction_request(&r).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            }),
        })
    }

    /// The documents the worker may name in a request on their case (the 確定 ones), each
    /// with the side that would answer. Only the worker gets an answer; others as in filing.
    pub async fn correction_targets(
        &self,
        auth: &Authenticated,
        case_id: Uuid,
    ) -> Result<Vec<(DocumentRef, Responder)>, AppError> {
        let mut c = self.store.read().await?;
        let loaded = Self::loaded_case(&mut c, case_id).await?;
        may_file(&auth.principal, &loaded.context, self.now())?;
        Ok(c.list_documents(case_id)
            .await?
            .iter()
            .filter_map(|d| match &d.body {
                DocumentBody::Finalised(f) => Some((
                    DocumentRef::of(d),
                    Responder::for_document(f.attestation().party),
                )),
                DocumentBody::Draft(_) => None,
            })
            .collect())
    }

    pub async fn file_correction(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
        input: CorrectionInput<'_>,
    ) -> Result<CorrectionView, AppError> {
        let p = self.plan_file_correction(ctx, auth, case_id, input).await?;
        self.commit(p).await
    }

    /// Views of `records` (all of one case) as `auth` may see them: the worker sees their
    /// own; the answering side sees those it answers. Others are left out.
    async fn views_of_case<R: ReadRepo + AccountReads + CaseReads>(
        &self,
        c: &mut R,
        auth: &Authenticated,
        loaded: &LoadedCase,
        records: Vec<CorrectionRecord>,
        names: &mut BTreeMap<Uuid, String>,
    ) -> Result<Vec<CorrectionView>, AppError> {
        let now = self.now();
        let docs = c.list_documents(loaded.case.id).await?;
        let mut out = Vec::new();
        for record in records {
            let r = &record.request;
            let is_worker = r.worker == auth.user.id && loaded.case.worker_id == auth.user.id;
            let answerer = may_answer(
                &auth.principal,
                &loaded.context,
                r,
                category_of(r, &docs),
                now,
            )
            .is_ok();
            if !is_worker && !answerer {
                continue;
            }
            let target = r
                .target
                .document()
                .and_then(|id| docs.iter().find(|d| d.id == id))
                .map(DocumentRef::of);
            let corrections = r
                .target
                .document()
                .map(|t| {
                    versions_of(t, &docs)
                        .into_iter()
                        .map(DocumentRef::of)
                        .collect()
                })
                .unwrap_or_default();
            let org = r.responder_organisation;
            let responder_name = match names.get(&org) {
                Some(n) => n.clone(),
                None => {
                    let n = c
                        .get_organisation(org)
                        .await?
                        .map_or_else(String::new, |o| o.name.to_string());
                    names.insert(org, n.clone());
                    n
                }
            };
            out.push(CorrectionView {
                case: loaded.case.clone(),
                target,
                corrections,
                responder_name,
                answerer,
                record,
            });
        }
        Ok(out)
    }

    /// Records that the answering side read requests (they repeat health information).
    async fn record_reads(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        views: &[CorrectionView],
    ) -> Result<(), AppError> {
        let events: Vec<AuditEvent> = views
            .iter()
            .filter(|v| v.answerer)
            .map(|v| {
                let mut ev = self.correction_event(
                    ctx,
                    auth,
                    v.request().responder_organisation,
                    AuditAction::Read,
                    v.request(),
                    v.target.map(|d| d.form.category()),
                );
                ev.purpose = Some("correction_request".into());
                ev
            })
            .collect();
        if events.is_empty() {
            return Ok(());
        }
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.append_audits(&events).await?;
                    Ok(())
                })
            })
            .await
    }

    /// The requests of one case the principal may see (the worker's own; those the
    /// principal answers), oldest first. `NotFound` outside the case.
    pub async fn case_correction_requests(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
    ) -> Result<Vec<CorrectionView>, AppError> {
        let mut c = self.store.read().await?;
        let loaded = Self::loaded_case(&mut c, case_id).await?;
        decide_case(
            &auth.principal,
            &loaded.context,
            Action::ViewCase { case: case_id },
            self.now(),
        )?;
        let records = c
            .list_correction_requests(CorrectionFilter::Case(case_id))
            .await?;
        let views = self
            .views_of_case(&mut c, auth, &loaded, records, &mut BTreeMap::new())
            .await?;
        drop(c);
        self.record_reads(ctx, auth, &views).await?;
        Ok(views)
    }

    /// Every request the signed-in worker filed, newest first.
    pub async fn my_correction_requests(
        &self,
        auth: &Authenticated,
    ) -> Result<Vec<CorrectionView>, AppError> {
        let mut c = self.store.read().await?;
        let records = c
            .list_correction_requests(CorrectionFilter::Worker(auth.user.id))
            .await?;
        let mut by_case: BTreeMap<Uuid, Vec<CorrectionRecord>> = BTreeMap::new();
        for r in records {
            by_case.entry(r.request.case_id).or_default().push(r);
        }
        let mut names = BTreeMap::new();
        let mut out = Vec::new();
        for (case_id, records) in by_case {
            let loaded = Self::loaded_case(&mut c, case_id).await?;
            out.extend(
                self.views_of_case(&mut c, auth, &loaded, records, &mut names)
                    .await?,
            );
        }
        out.sort_by_key(|v| std::cmp::Reverse(v.request().filed_at));
        Ok(out)
    }

    /// The requests waiting for the principal's answer, by due date: for the home page.
    pub async fn correction_tasks(
        &self,
        auth: &Authenticated,
    ) -> Result<Vec<CorrectionView>, AppError> {
        let mut orgs: Vec<Uuid> = auth
            .memberships
            .iter()
            .filter(|m| match m.organisation_kind {
                OrganisationKind::Employer => m.role == Responder::Employer.role(),
                OrganisationKind::MedicalInstitution => m.role == Responder::Hospital.role(),
                _ => false,
            })
            .map(|m| m.organisation_id)
            .collect();
        orgs.sort();
        orgs.dedup();
        let mut c = self.store.read().await?;
        let mut by_case: BTreeMap<Uuid, Vec<CorrectionRecord>> = BTreeMap::new();
        for org in orgs {
            for r in c
                .list_correction_requests(CorrectionFilter::OpenFor(org))
                .await?
            {
                by_case.entry(r.request.case_id).or_default().push(r);
            }
        }
        let mut names = BTreeMap::new();
        let mut out = Vec::new();
        for (case_id, records) in by_case {
            let loaded = Self::loaded_case(&mut c, case_id).await?;
            out.extend(
                self.views_of_case(&mut c, auth, &loaded, records, &mut names)
                    .await?
                    .into_iter()
                    .filter(|v| v.answerer),
            );
        }
        out.sort_by_key(|v| (v.request().due, v.request().filed_at));
        Ok(out)
    }

    /// One request, for the worker who filed it or the side that answers it; `NotFound`
    /// for anyone else.
    pub async fn correction_request(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        id: Uuid,
    ) -> Result<CorrectionView, AppError> {
        let mut c = self.store.read().await?;
        let record = c
            .get_correction_request(id)
            .await?
            .ok_or(AppError::Denied(Denial::NotFound))?;
        let loaded = Self::loaded_case(&mut c, record.request.case_id).await?;
        if !auth.principal.second_factor_ok && auth.principal.needs_second_factor() {
            return Err(AppError::Denied(Denial::SecondFactorRequired));
        }
        let view = self
            .views_of_case(&mut c, auth, &loaded, vec![record], &mut BTreeMap::new())
            .await?
            .pop()
            .ok_or(AppError::Denied(Denial::NotFound))?;
        drop(c);
        self.record_reads(ctx, auth, std::slice::from_ref(&view))
            .await?;
        Ok(view)
    }

    /// The answer: 受付 → 回答済み, over the version the answering side last saw. 訂正した
    /// and 一部を訂正した name the 確定 version that corrects the document.
    pub async fn answer_correction(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        id: Uuid,
        if_match: i64,
        input: AnswerInput<'_>,
    ) -> Result<CorrectionView, AppError> {
        let now = self.now();
        let mut c = self.store.read().await?;
        let record = c
            .get_correction_request(id)
            .await?
            .ok_or(AppError::Denied(Denial::NotFound))?;
        let loaded = Self::loaded_case(&mut c, record.request.case_id).await?;
        let docs = c.list_documents(loaded.case.id).await?;
        drop(c);
        let request = &record.request;
        let category = category_of(request, &docs);
        may_answer(&auth.principal, &loaded.context, request, category, now)?;
        if record.version != if_match {
            return Err(AppError::PreconditionFailed);
        }
        let named = input.corrected_document.and_then(|named| {
            let d = docs.iter().find(|d| d.id == named)?;
            Some(NamedDocument {
                id: d.id,
                case_id: d.case_id,
                finalised: d.is_finalised(),
                corrects_target: request
                    .target
                    .document()
                    .is_some_and(|t| versions_of(t, &docs).iter().any(|v| v.id == d.id)),
            })
        });
        let answered = request
            .answer(input, named, auth.user.id, now)
            .map_err(refused)?;
        let mut ev = self.correction_event(
            ctx,
            auth,
            request.responder_organisation,
            AuditAction::CorrectionAnswered,
            request,
            category,
        );
        ev.purpose = answered
            .answer
            .as_ref()
            .map(|a| a.decision.code().to_owned());
        let next = CorrectionRecord {
            request: answered,
            version: record.version + 1,
        };
        let r = next.clone();
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    if !tx.answer_correction_request(&r).await? {
                        return Err(AppError::PreconditionFailed);
                    }
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        let mut c = self.store.read().await?;
        self.views_of_case(&mut c, auth, &loaded, vec![next], &mut BTreeMap::new())
            .await?
            .pop()
            .ok_or(AppError::Denied(Denial::NotFound))
    }

    /// The answering side starts the corrected version of the document a request is about:
    /// a new draft with the latest 確定 answers that points at the version it corrects (or
    /// the draft already started). It is then written and confirmed like any document.
    pub async fn start_correcting_document(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        id: Uuid,
    ) -> Result<DocumentRecord, AppError> {
        let now = self.now();
        let mut c = self.store.read().await?;
        let record = c
            .get_correction_request(id)
            .await?
            .ok_or(AppError::Denied(Denial::NotFound))?;
        let loaded = Self::loaded_case(&mut c, record.request.case_id).await?;
        let docs = c.list_documents(loaded.case.id).await?;
        drop(c);
        let request = &record.request;
        let category = category_of(request, &docs);
        may_answer(&auth.principal, &loaded.context, request, category, now)?;
        if request.answer.is_some() {
            return Err(AppError::Conflict("correction_answered"));
        }
        let Some(target) = request.target.document() else {
            return Err(invalid(
                correction::field::CORRECTED_DOCUMENT,
                "not_a_document",
                "「その他」の情報についての請求です。「訂正した書類」は作らずに、どのように訂正したかを回答してください。",
            ));
        };
        let case = loaded.case.id;
        let Some(original) = docs.iter().find(|d| d.id == target) else {
            return Err(AppError::NotFound);
        };
        let action = match request.responder {
            Responder::Hospital => Action::WriteOpinion { case },
            Responder::Employer => Action::EditCaseDocument {
                case,
                category: original.form.category(),
            },
        };
        decide_case(&auth.principal, &loaded.context, action, now)?;
        let versions = versions_of(target, &docs);
        if let Some(draft) = versions.iter().find(|d| !d.is_finalised()) {
            return Ok((*draft).clone());
        }
        // Correct the latest 確定 version, so that corrections form one line.
        let latest = versions
            .iter()
            .rev()
            .find(|d| d.is_finalised())
            .copied()
            .unwrap_or(original);
        let DocumentBody::Finalised(f) = &latest.body else {
            return Err(AppError::Conflict("document_not_finalised"));
        };
        let draft = DraftDocument::correction_of(f, self.new_id());
        let doc = DocumentRecord {
            id: draft.id,
            case_id: case,
            form: latest.form,
            body: DocumentBody::Draft(draft),
            created_by: auth.user.id,
            created_at: now,
            updated_at: now,
            version: 1,
            withheld: Vec::new(),
        };
        let mut ev = self.correction_event(
            ctx,
            auth,
            loaded.case.employer_id,
            AuditAction::DocumentSaved,
            request,
            Some(doc.form.category()),
        );
        ev.target = Some(format!("document:{}", doc.id));
        ev.purpose = Some(format!("correction:{}", request.id));
        let d = doc.clone();
        let rows = crate::cases::search_index::document_rows(&doc);
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.insert_document(&d).await?;
                    for row in &rows {
                        tx.put_search_row(row).await?;
                    }
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(doc)
    }
}
