//! Support cases: the worker's 申出, the steps of the three paths, the documents, consent.
//!
//! Every operation loads the case's facts, asks the policy (`decide_case`), lets the domain
//! state machine (`case::apply`) accept or refuse the step, and writes the new state, its
//! tasks, the history and the audit event in one transaction, guarded by the case's version.

pub mod attachment_ports;
pub mod attachments;
pub mod correction_ports;
pub mod corrections;
pub mod notice_ports;
pub mod notices;
pub mod ports;
pub mod search_index;
pub mod support_task_ports;
pub mod support_tasks;

use crate::search::ports::SearchWrites as _;
use std::collections::BTreeSet;

use ryoritsu_domain::audit::{AuditAction, AuditEvent, Outcome};
use ryoritsu_domain::case::{self, CaseFacts, CasePath, CaseState, Step, StepRefused};
use ryoritsu_domain::consent::{
    Consent, ConsentDraft, DisclosedDocument, DisclosureRecord, EXPLANATION_VERSION,
};
use ryoritsu_domain::forms::Reader;
use ryoritsu_domain::forms::{Answers, Attestation, DraftDocument, FormKind, FormVersion, Party};
use ryoritsu_domain::info::InformationCategory;
use ryoritsu_domain::org::{OrganisationKind, Role};
use ryoritsu_domain::policy::{
    Action, CaseAccess, CaseContext, CaseCoordinator, CaseRelation, Denial, HandlingRules, Subject,
    case_access, case_relations, decide_case, subject_keys,
};
use ryoritsu_domain::{FieldError, ValidationErrors};
use uuid::Uuid;

use crate::access::ports::{AccessReads as _, AccessWrites, CaseCursor, GrantedCase, ScopeRange};
use crate::access::{self, ScopeFilter};
use crate::accounts::Authenticated;
use crate::accounts::ports::AccountReads;
use crate::cases::ports::{
    CaseEventRecord, CaseReads, CaseRecord, CaseWrites, DocumentBody, DocumentRecord, PartyKind,
    TaskRecord,
};
use crate::error::AppError;
use crate::ports::{ReadRepo, Store, WriteRepo};
use crate::{App, RequestContext};

/// How long a share code may be redeemed: long enough for the next consultation.
pub const SHARE_CODE_TTL: time::Duration = time::Duration::days(14);

/// 12 characters of Crockford base32 (60 random bits) as `XXXX-XXXX-XXXX`: easy to read out
/// over a counter, and with one-time use, expiry and throttled redemption not guessable.
fn new_share_code() -> Result<String, AppError> {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let bytes = crate::secrets::random_bytes::<12>()?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect();
    let s: String = chars.iter().collect();
    Ok(format!("{}-{}-{}", &s[..4], &s[4..8], &s[8..]))
}

/// Case, spaces, hyphens, full-width forms and the look-alikes O/I/L are folded before
/// hashing, so a code typed from paper still matches.
pub fn share_code_digest(input: &str) -> String {
    use sha2::{Digest, Sha256};
    let folded: String = input
        .chars()
        .map(|c| {
            // Full-width ASCII (U+FF01..U+FF5E) to half-width.
            let c = match u32::from(c) {
                0xFF01..=0xFF5E => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
                _ => c,
            };
            c.to_ascii_uppercase()
        })
        .filter(char::is_ascii_alphanumeric)
        .map(|c| match c {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    hex::encode(Sha256::digest(folded.as_bytes()))
}

/// A case as one principal may see it, with its tasks, parties and history.
#[derive(Debug, Clone)]
pub struct CaseDetails {
    pub loaded: LoadedCase,
    pub access: CaseAccess,
    pub tasks: Vec<TaskRecord>,
    pub parties: Vec<crate::cases::ports::CasePartyRecord>,
    pub events: Vec<CaseEventRecord>,
}

/// Someone who may be added to a case, named for the person choosing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyCandidate {
    pub kind: PartyKind,
    pub user: Uuid,
    pub name: String,
    pub organisation: Uuid,
    pub organisation_name: String,
    pub role: Role,
}

/// One page of a case list: the cases with what the principal may see of each, and where the
/// next page starts (none after the last).
#[derive(Debug, Clone)]
pub struct CasePage {
    pub items: Vec<(LoadedCase, CaseAccess)>,
    pub next: Option<CaseCursor>,
}

/// A case with everything access depends on.
#[derive(Debug, Clone)]
pub struct LoadedCase {
    pub case: CaseRecord,
    pub context: CaseContext,
    pub facts: CaseFacts,
}

/// Builds the policy's view of a case from the stored parties, consents and rules.
pub async fn load_case<R: ReadRepo + AccountReads + CaseReads>(
    c: &mut R,
    case: CaseRecord,
) -> Result<LoadedCase, AppError> {
    let parties = c.list_case_parties(case.id).await?;
    let consents = c.list_consents(case.id).await?;
    let rules = c
        .get_handling_rules(case.employer_id)
        .await?
        .map_or_else(|| HandlingRules::defaults(case.employer_id), |r| r.rules);
    let workplaces = c.list_workplaces(case.employer_id).await?;
    // The 産業医 question is asked of the worker's workplace; with none named, of the employer.
    let has_occupational_physician = match case.workplace_id {
        Some(w) => workplaces
            .iter()
            .any(|x| x.id == w && x.has_occupational_physician),
        None => workplaces.iter().any(|x| x.has_occupational_physician),
    };
    let context = CaseContext {
        case: case.id,
        worker: case.worker_id,
        employer: case.employer_id,
        closed: case.state.is_closed(),
        line_managers: parties
            .iter()
            .filter(|p| p.kind == PartyKind::LineManager)
            .filter_map(|p| p.user_id)
            .collect(),
        hospitals: parties
            .iter()
            .filter(|p| p.kind == PartyKind::Hospital)
            .map(|p| p.organisation_id)
            .collect(),
        coordinators: parties
            .iter()
            .filter(|p| p.kind == PartyKind::Coordinator)
            .filter_map(|p| {
                p.user_id.map(|user| CaseCoordinator {
                    user,
                    organisation: p.organisation_id,
                })
            })
            .collect(),
        consents,
        rules,
    };
    Ok(LoadedCase {
        case,
        context,
        facts: CaseFacts {
            has_occupational_physician,
            // Filled in by the steps it matters to (it needs the documents).
            paper: Default::default(),
        },
    })
}

/// What the access index copies of a case.
pub(crate) fn granted(c: &CaseRecord) -> GrantedCase {
    GrantedCase {
        id: c.id,
        employer: c.employer_id,
        opened_at: c.created_at,
        status: c.state.status,
    }
}

/// Rewrites the access index rows of a case from its context, inside the job that changed
/// the case, its parties or its consents (after the change).
pub(crate) async fn refresh_access<T: ReadRepo + AccountReads + CaseReads + AccessWrites>(
    tx: &mut T,
    case: Uuid,
) -> Result<(), AppError> {
    let Some(record) = tx.get_case(case).await? else {
        return Ok(());
    };
    let loaded = load_case(tx, record).await?;
    access::refresh_case(tx, granted(&loaded.case), &loaded.context).await
}

/// Empties the access index and builds it again from every case (after a restore).
pub(crate) async fn rebuild_access<T: ReadRepo + AccountReads + CaseReads + AccessWrites>(
    tx: &mut T,
) -> Result<usize, AppError> {
    tx.clear_grants().await?;
    let cases = tx.list_all_cases().await?;
    let n = cases.len();
    for case in cases {
        let loaded = load_case(tx, case).await?;
        access::refresh_case(tx, granted(&loaded.case), &loaded.context).await?;
    }
    Ok(n)
}

fn relation_role(r: &CaseRelation) -> Role {
    match r {
        CaseRelation::Worker => Role::Worker,
        CaseRelation::Employer { role }
        | CaseRelation::Hospital { role, .. }
        | CaseRelation::Coordinator { role, .. } => *role,
    }
}

fn refused(r: StepRefused) -> AppError {
    AppError::Invalid(FieldError::new("step", r.code(), r.message()).into())
}

/// The organisation the principal acts for in this case, for the audit log: the one of
/// their memberships that takes part in it (the hospital for its physician, the agency for
/// its coordinator), else the employer (its staff, and the worker).
fn acting_for(auth: &Authenticated, loaded: &LoadedCase) -> Uuid {
    let ctx = &loaded.context;
    auth.memberships
        .iter()
        .map(|m| m.organisation_id)
        .find(|o| {
            ctx.hospitals.contains(o) || ctx.coordinators.iter().any(|c| c.organisation == *o)
        })
        .unwrap_or(loaded.case.employer_id)
}

/// Which organisation a task's assignee works in: hospital roles at the attached hospital
/// (until one is attached, the employer tracks the wait), everyone else at the employer.
fn assignee_organisation(loaded: &LoadedCase, role: Role) -> Uuid {
    match role {
        Role::AttendingPhysician | Role::HospitalCoordinator => loaded
            .context
            .hospitals
            .first()
            .copied()
            .unwrap_or(loaded.case.employer_id),
        _ => loaded.case.employer_id,
    }
}

impl<S: Store> App<S> {
    pub(crate) async fn read_case(&self, id: Uuid) -> Result<LoadedCase, AppError> {
        let mut c = self.store.read().await?;
        let case = c
            .get_case(id)
            .await?
            .ok_or(AppError::Denied(Denial::NotFound))?;
        load_case(&mut c, case).await
    }

    /// What the principal may see and edit in the case; `NotFound` outside their scope.
    pub async fn case_access(
        &self,
        auth: &Authenticated,
        id: Uuid,
    ) -> Result<(LoadedCase, CaseAccess), AppError> {
        let loaded = self.read_case(id).await?;
        let access = case_access(&auth.principal, &loaded.context, self.now())?;
        Ok((loaded, access))
    }

    /// One page of the cases the principal takes part in, newest first, each with what they
    /// may see: the page is read from the access index, and only its cases are loaded.
    pub async fn visible_cases(
        &self,
        auth: &Authenticated,
        filter: ScopeFilter,
        after: Option<CaseCursor>,
        limit: u32,
    ) -> Result<CasePage, AppError> {
        let page = self.scope_page(auth, filter, after, limit).await?;
        let mut c = self.store.read().await?;
        let now = self.now();
        let mut items = Vec::with_capacity(page.cases.len());
        for cursor in &page.cases {
            let Some(case) = c.get_case(cursor.case).await? else {
                continue;
            };
            let loaded = load_case(&mut c, case).await?;
            // The index and the policy agree (property-tested); the single-case decision is
            // still the one the view is built from.
            if let Ok(access) = case_access(&auth.principal, &loaded.context, now) {
                items.push((loaded, access));
            }
        }
        Ok(CasePage {
            items,
            next: page.next,
        })
    }

    /// The signed-in person's own cases as the worker, newest first (at most one page of
    /// the largest size: a worker has a handful).
    pub async fn own_cases(&self, auth: &Authenticated) -> Result<Vec<CaseRecord>, AppError> {
        let key = Subject::User { user: auth.user.id }.key();
        let mut c = self.store.read().await?;
        let found = c
            .cases_in_scope(&ScopeRange {
                key: &key,
                status: None,
                opened_from: None,
                opened_until: None,
                after: None,
                limit: access::MAX_PAGE,
            })
            .await?;
        let mut out = Vec::with_capacity(found.len());
        for cursor in found {
            if let Some(case) = c.get_case(cursor.case).await? {
                out.push(case);
            }
        }
        Ok(out)
    }

    /// The open tasks waiting for the principal (assigned to one of their roles in its
    /// organisation, on a case where they hold that role), soonest due first, at most
    /// `limit`: one indexed range per membership.
    pub async fn open_tasks(
        &self,
        auth: &Authenticated,
        limit: u32,
    ) -> Result<Vec<(TaskRecord, CaseRecord)>, AppError> {
        if subject_keys(&auth.principal).is_empty() {
            return Ok(Vec::new());
        }
        let me = auth.user.id;
        let mut c = self.store.read().await?;
        let mut tasks = Vec::new();
        for m in &auth.memberships {
            let keys = if m.role == Role::Worker {
                vec![Subject::User { user: me }.key()]
            } else {
                vec![
                    Subject::Members {
                        organisation: m.organisation_id,
                        role: m.role,
                    }
                    .key(),
                    Subject::Member {
                        organisation: m.organisation_id,
                        role: m.role,
                        user: me,
                    }
                    .key(),
                ]
            };
            tasks.extend(
                c.open_tasks_in_scope(m.organisation_id, m.role, &keys, limit)
                    .await?,
            );
        }
        tasks.sort_by_key(|t| (t.due, t.id));
        tasks.dedup_by_key(|t| t.id);
        tasks.truncate(limit as usize);
        let mut out = Vec::with_capacity(tasks.len());
        for t in tasks {
            if let Some(case) = c.get_case(t.case_id).await? {
                out.push((t, case));
            }
        }
        Ok(out)
    }

    /// The tasks and parties of a case the principal may see.
    pub async fn case_details(
        &self,
        auth: &Authenticated,
        id: Uuid,
    ) -> Result<CaseDetails, AppError> {
        let (mut loaded, access) = self.case_access(auth, id).await?;
        let mut c = self.store.read().await?;
        // The steps offered depend on transcriptions of paper originals.
        loaded.facts.paper =
            crate::cases::attachments::paper_originals_of(&c.paper_original_forms(id).await?);
        let tasks = c
            .list_tasks(crate::cases::ports::TaskFilter {
                case: id,
                open_only: false,
            })
            .await?;
        let parties = c.list_case_parties(id).await?;
        let events = c.list_case_events(id).await?;
        Ok(CaseDetails {
            loaded,
            access,
            tasks,
            parties,
            events,
        })
    }

    /// The steps the principal could take on the case now, with a sample of each (dates set
    /// a week ahead) that the state machine accepts: pages offer exactly these.
    pub fn available_steps(&self, loaded: &LoadedCase, access: &CaseAccess) -> Vec<Step> {
        use ryoritsu_domain::case::{Confirmer, FitnessForWork, Outcome, ReturnToWorkFitness};
        let today = self.today();
        let later = today + time::Duration::days(7);
        let much_later = today + time::Duration::days(30);
        let samples = [
            Step::DraftWorkInformation,
            Step::ConfirmWorkInformation {
                by: Confirmer::Worker,
            },
            Step::ConfirmWorkInformation {
                by: Confirmer::Employer,
            },
            Step::HandToPhysician,
            Step::RecordOpinion {
                fitness: FitnessForWork::FitWithConditions,
                leave_until: None,
            },
            Step::RecordOccupationalPhysicianOpinion,
            Step::SkipOccupationalPhysician,
            Step::DraftPlan {
                review_on: much_later,
                follow_up_on: later,
                return_on: None,
            },
            Step::DraftPlan {
                review_on: much_later,
                follow_up_on: later,
                return_on: Some(later),
            },
            Step::ConfirmPlan,
            Step::RevisePlan,
            Step::RecordFollowUp {
                next_follow_up_on: Some(later),
                next_review_on: None,
            },
            Step::StartLeave {
                expected_end: much_later,
            },
            Step::RecordLeaveContact {
                next_contact_on: Some(later),
            },
            Step::RecordReturnOpinion {
                fitness: ReturnToWorkFitness::Fit,
                leave_until: None,
            },
            Step::CardWorkerSection,
            Step::CardPhysicianSection {
                fitness: FitnessForWork::Fit,
                leave_until: None,
            },
            Step::CardHandedToEmployer,
            Step::Close {
                outcome: Outcome::Other,
            },
        ];
        let roles: Vec<Role> = access.relations().iter().map(relation_role).collect();
        let mut out: Vec<Step> = Vec::new();
        for step in samples {
            let accepted = roles
                .iter()
                .any(|r| case::apply(&loaded.case.state, &step, *r, &loaded.facts, today).is_ok());
            if accepted
                && !out.iter().any(|s| {
                    s.kind() == step.kind() && !matches!(s, Step::ConfirmWorkInformation { .. })
                })
            {
                out.push(step);
            }
        }
        out
    }

    /// The worker issues a one-time share code for their 主治医's hospital. Returns the code
    /// (shown once, also as a QR code) and when it expires.
    pub async fn issue_share_code(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
    ) -> Result<(String, time::OffsetDateTime), AppError> {
        let loaded = self.read_case(case_id).await?;
        let now = self.now();
        // Only the worker decides who takes part: the same rule as granting a consent.
        decide_case(
            &auth.principal,
            &loaded.context,
            Action::GrantConsent { case: case_id },
            now,
        )?;
        let code = new_share_code()?;
        let record = crate::cases::ports::ShareCodeRecord {
            code_hash: share_code_digest(&code),
            case_id,
            worker_id: auth.user.id,
            created_at: now,
            expires_at: now + SHARE_CODE_TTL,
            used_at: None,
            used_by_organisation: None,
            used_by_user: None,
        };
        let ev = self.case_event(
            ctx,
            auth,
            acting_for(auth, &loaded),
            AuditAction::ShareCodeIssued,
            case_id,
        );
        let expires = record.expires_at;
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.insert_share_code(&record).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok((code, expires))
    }

    /// A hospital user redeems the worker's code: their medical institution is attached to
    /// the case, and sees what the worker has consented to share with it, nothing more.
    pub async fn redeem_share_code(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        code: &str,
    ) -> Result<Uuid, AppError> {
        let hospital = auth
            .memberships
            .iter()
            .find(|m| {
                m.organisation_kind == OrganisationKind::MedicalInstitution
                    && matches!(m.role, Role::AttendingPhysician | Role::HospitalCoordinator)
            })
            .map(|m| m.organisation_id)
            .ok_or(AppError::Denied(Denial::Forbidden))?;
        if !auth.principal.second_factor_ok && auth.principal.needs_second_factor() {
            return Err(AppError::Denied(Denial::SecondFactorRequired));
        }
        let key = format!("share:{}", auth.user.id);
        self.throttle_check_key(&key, ctx.client_ip.as_deref())
            .await?;
        let now = self.now();
        let digest = share_code_digest(code);
        let found = self.store.read().await?.find_share_code(&digest).await?;
        let Some(found) = found.filter(|c| c.used_at.is_none() && c.expires_at > now) else {
            self.record_failure(key, ctx.client_ip.clone()).await?;
            return Err(ValidationErrors::from(FieldError::new(
                "code",
                "share_code_invalid",
                "共有コードが正しくないか、有効期限が切れているか、すでに使われています。患者さんに新しいコードの発行を依頼してください。",
            ))
            .into());
        };
        let loaded = self.read_case(found.case_id).await?;
        if loaded.context.closed {
            return Err(refused(StepRefused::CaseClosed));
        }
        let party = crate::cases::ports::CasePartyRecord {
            case_id: found.case_id,
            kind: PartyKind::Hospital,
            organisation_id: hospital,
            user_id: None,
            added_by: auth.user.id,
            added_at: now,
        };
        let attached = loaded.context.hospitals.contains(&hospital);
        let mut ev = self.case_event(ctx, auth, hospital, AuditAction::PartyAdded, found.case_id);
        ev.target = Some(format!("hospital:{hospital}"));
        ev.purpose = Some("share_code".into());
        let user = auth.user.id;
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    if !tx.use_share_code(&digest, hospital, user, now).await? {
                        return Err(AppError::Conflict("share_code_used"));
                    }
                    if !attached {
                        tx.insert_case_party(&party).await?;
                        refresh_access(tx, party.case_id).await?;
                    }
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(found.case_id)
    }

    /// The employer's 健康情報等取扱規程 as the policy applies it: stored rules, or the safe
    /// defaults (version 0) while none are stored. Any member of the employer may read them:
    /// the 指針 asks that the rules be made known to the workers.
    pub async fn handling_rules(
        &self,
        auth: &Authenticated,
        employer: Uuid,
    ) -> Result<crate::cases::ports::HandlingRulesRecord, AppError> {
        let org = self.get_organisation(auth, employer).await?;
        if org.kind != OrganisationKind::Employer {
            return Err(AppError::NotFound);
        }
        let stored = self
            .store
            .read()
            .await?
            .get_handling_rules(employer)
            .await?;
        Ok(stored.unwrap_or(crate::cases::ports::HandlingRulesRecord {
            rules: HandlingRules::defaults(employer),
            updated_by: Uuid::nil(),
            updated_at: org.created_at,
            version: 0,
        }))
    }

    /// Sets the employer's 取扱規程 (organisation admins). Rules may only narrow the safe
    /// defaults; the version the caller last saw guards against lost updates.
    pub async fn set_handling_rules(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        employer: Uuid,
        grants: std::collections::BTreeMap<
            Role,
            std::collections::BTreeMap<InformationCategory, ryoritsu_domain::policy::Access>,
        >,
        if_match: i64,
    ) -> Result<crate::cases::ports::HandlingRulesRecord, AppError> {
        auth.permit(Action::ManageOrganisation(employer))?;
        let current = self.handling_rules(auth, employer).await?;
        if current.version != if_match {
            return Err(AppError::PreconditionFailed);
        }
        let rules = HandlingRules { employer, grants };
        rules.validate()?;
        let record = crate::cases::ports::HandlingRulesRecord {
            rules,
            updated_by: auth.user.id,
            updated_at: self.now(),
            version: current.version + 1,
        };
        let mut ev = self.event(
            ctx,
            Some(&auth.principal),
            Some(employer),
            AuditAction::RulesChanged,
            Outcome::Success,
        );
        ev.target = Some(format!("handling_rules:{employer}"));
        let r = record.clone();
        let old = current.rules;
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    if !tx.put_handling_rules(&r).await? {
                        return Err(AppError::PreconditionFailed);
                    }
                    // The access index follows in the same transaction: set-wise where the
                    // rules decide alone, case by case where consents count again.
                    let rebuild = access::apply_rules_change(tx, employer, &old, &r.rules).await?;
                    for role in rebuild {
                        for case in tx.cases_with_consents_naming(employer, role).await? {
                            refresh_access(tx, case).await?;
                        }
                    }
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(record)
    }

    /// A coordinator (or the 産業医 and health staff) records a consultation. Recording one is
    /// acquiring sensitive information, so the policy asks for the worker's consent.
    pub async fn add_consultation_note(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
        body: &str,
    ) -> Result<crate::cases::ports::ConsultationNoteRecord, AppError> {
        let loaded = self.read_case(case_id).await?;
        let now = self.now();
        let category = InformationCategory::ConsultationNotes;
        decide_case(
            &auth.principal,
            &loaded.context,
            Action::EditCaseDocument {
                case: case_id,
                category,
            },
            now,
        )?;
        let body = body.trim().replace("\r\n", "\n");
        let n = body.chars().count();
        let mut errs = ValidationErrors::default();
        if n == 0 {
            errs.push(FieldError::new(
                "body",
                "required",
                "相談の内容を入力してください。",
            ));
        } else if n > 4000 {
            errs.push(FieldError::new(
                "body",
                "too_long",
                "相談の内容は4,000文字以内で入力してください。",
            ));
        }
        if body.chars().any(|c| {
            (c.is_control() && c != '\n' && c != '\t')
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        }) {
            errs.push(FieldError::new(
                "body",
                "charset",
                "相談の内容に使えない文字が含まれています。",
            ));
        }
        errs.into_result(())?;
        // Written in the role (and organisation) through which the policy allowed it.
        let (organisation, role) = case_relations(&auth.principal, &loaded.context)
            .iter()
            .find_map(|r| match r {
                CaseRelation::Coordinator { organisation, role }
                | CaseRelation::Hospital { organisation, role } => Some((*organisation, *role)),
                CaseRelation::Employer { role } => Some((loaded.case.employer_id, *role)),
                CaseRelation::Worker => None,
            })
            .ok_or(AppError::Denied(Denial::Forbidden))?;
        let note = crate::cases::ports::ConsultationNoteRecord {
            id: self.new_id(),
            case_id,
            author: auth.user.id,
            author_role: role,
            organisation_id: organisation,
            body,
            created_at: now,
        };
        let mut ev = self.case_event(ctx, auth, organisation, AuditAction::NoteWritten, case_id);
        ev.category = Some(category);
        ev.target = Some(format!("note:{}", note.id));
        let n2 = note.clone();
        let row = search_index::note_row(&note);
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.insert_consultation_note(&n2).await?;
                    tx.put_search_row(&row).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(note)
    }

    /// The consultation notes the principal may read (all, with the category visible; else
    /// only their own), recording the read.
    pub async fn consultation_notes(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
    ) -> Result<Vec<crate::cases::ports::ConsultationNoteRecord>, AppError> {
        let (loaded, access) = self.case_access(auth, case_id).await?;
        let category = InformationCategory::ConsultationNotes;
        let all = self
            .store
            .read()
            .await?
            .list_consultation_notes(case_id)
            .await?;
        let notes: Vec<_> = all
            .into_iter()
            .filter(|n| access.may_view(category) || n.author == auth.user.id)
            .collect();
        if !notes.is_empty() {
            let mut ev = self.case_event(
                ctx,
                auth,
                acting_for(auth, &loaded),
                AuditAction::Read,
                case_id,
            );
            ev.category = Some(category);
            ev.target = Some(format!("case:{case_id}"));
            self.writer
                .write(move |tx| {
                    Box::pin(async move {
                        tx.append_audit(&ev).await?;
                        Ok(())
                    })
                })
                .await?;
        }
        Ok(notes)
    }

    /// Names of the organisations taking part in a case (the employer, attached hospitals,
    /// coordinators' organisations), for anyone who may see the case. Which organisations
    /// take part is case-level information; their names are not personal data.
    pub async fn case_organisation_names(
        &self,
        auth: &Authenticated,
        case_id: Uuid,
    ) -> Result<std::collections::BTreeMap<Uuid, String>, AppError> {
        let (loaded, access) = self.case_access(auth, case_id).await?;
        // Who treats the worker is health information: a cancer centre's name alone tells
        // the diagnosis. Without medical information a hospital is 「医療機関」.
        let sees_medical = sees_who_treats(&loaded, &access);
        let mut ids: BTreeSet<Uuid> = loaded.context.hospitals.iter().copied().collect();
        ids.extend(loaded.context.coordinators.iter().map(|c| c.organisation));
        ids.insert(loaded.case.employer_id);
        let mut c = self.store.read().await?;
        let mut out = std::collections::BTreeMap::new();
        for id in ids {
            if let Some(o) = c.get_organisation(id).await? {
                let name = if o.kind == OrganisationKind::MedicalInstitution && !sees_medical {
                    OrganisationKind::MedicalInstitution.label().to_owned()
                } else {
                    o.name.to_string()
                };
                out.insert(id, name);
            }
        }
        Ok(out)
    }

    /// The worker's 申出: opens a case at their employer. Support always starts here.
    pub async fn file_request(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        employer: Uuid,
        workplace: Option<Uuid>,
        path: CasePath,
    ) -> Result<CaseRecord, AppError> {
        if !auth.principal.has_role_in(employer, Role::Worker) {
            return Err(AppError::Denied(Denial::NotFound));
        }
        if !auth.principal.second_factor_ok && auth.principal.needs_second_factor() {
            return Err(AppError::Denied(Denial::SecondFactorRequired));
        }
        let mut conn = self.store.read().await?;
        let org = conn
            .get_organisation(employer)
            .await?
            .ok_or(AppError::NotFound)?;
        if org.kind != OrganisationKind::Employer {
            return Err(AppError::Denied(Denial::NotFound));
        }
        if let Some(w) = workplace {
            let ws = conn.list_workplaces(employer).await?;
            if !ws.iter().any(|x| x.id == w) {
                return Err(ValidationErrors::from(FieldError::new(
                    "workplace",
                    "unknown",
                    "事業場を一覧から選んでください。",
                ))
                .into());
            }
        }
        let now = self.now();
        let record = CaseRecord {
            id: self.new_id(),
            worker_id: auth.user.id,
            employer_id: employer,
            workplace_id: workplace,
            state: CaseState::new(path),
            created_at: now,
            updated_at: now,
            version: 0,
        };
        let loaded = load_case(&mut conn, record).await?;
        drop(conn);
        let t = case::apply(
            &loaded.case.state,
            &Step::FileRequest,
            Role::Worker,
            &loaded.facts,
            ryoritsu_domain::time_format::japan_date(now),
        )
        .map_err(refused)?;
        let (case, tasks, event) =
            self.plan_step(auth, &loaded, &Step::FileRequest, Role::Worker, t)?;
        let ev = self.case_event(ctx, auth, employer, AuditAction::CaseOpened, case.id);
        let notices = self.task_notices(&loaded, &tasks, auth.user.id).await?;
        let c = case.clone();
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.insert_case(&c).await?;
                    refresh_access(tx, c.id).await?;
                    search_index::index_header(tx, c.id).await?;
                    for t in &tasks {
                        tx.insert_task(t).await?;
                    }
                    for n in &notices {
                        crate::cases::notice_ports::NoticeWrites::insert_notice(tx, n).await?;
                    }
                    tx.insert_case_event(&event).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(case)
    }

    /// Turns an accepted transition into the new record (version + 1), the tasks it opens
    /// and the history entry.
    fn plan_step(
        &self,
        auth: &Authenticated,
        loaded: &LoadedCase,
        step: &Step,
        role: Role,
        t: case::Transition,
    ) -> Result<(CaseRecord, Vec<TaskRecord>, CaseEventRecord), AppError> {
        let now = self.now();
        let mut case = loaded.case.clone();
        let from = case.state.status;
        case.state = t.state;
        case.updated_at = now;
        case.version += 1;
        let tasks = t
            .opened
            .iter()
            .map(|task| TaskRecord {
                id: self.new_id(),
                case_id: case.id,
                kind: task.kind,
                assignee_role: task.assignee,
                assignee_organisation: assignee_organisation(loaded, task.assignee),
                due: task.due,
                opened_at: now,
                closed_at: None,
            })
            .collect();
        let event = CaseEventRecord {
            id: self.new_id(),
            case_id: case.id,
            step: serde_json::to_value(step).map_err(|e| AppError::Internal(e.to_string()))?,
            actor: auth.user.id,
            actor_role: role,
            from_status: from,
            to_status: case.state.status,
            at: now,
        };
        Ok((case, tasks, event))
    }

    /// Takes one step on a case. `if_match` is the version the caller last saw; a stale one
    /// answers `PreconditionFailed` and nothing is written.
    pub async fn take_step(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        id: Uuid,
        if_match: Option<i64>,
        step: Step,
    ) -> Result<CaseRecord, AppError> {
        let mut loaded = self.read_case(id).await?;
        if matches!(
            step,
            Step::RecordOpinion { .. }
                | Step::RecordReturnOpinion { .. }
                | Step::CardPhysicianSection { .. }
        ) {
            let documents = self.store.read().await?.list_documents(id).await?;
            loaded.facts.paper = crate::cases::attachments::paper_originals(&documents);
        }
        let now = self.now();
        decide_case(
            &auth.principal,
            &loaded.context,
            Action::ViewCase { case: id },
            now,
        )?;
        if if_match.is_some_and(|v| v != loaded.case.version) {
            return Err(AppError::PreconditionFailed);
        }
        // A person may relate to a case in more than one role; the step is taken in the
        // first role the rules accept, and refused with the first role's reason otherwise.
        let roles: Vec<Role> = case_relations(&auth.principal, &loaded.context)
            .iter()
            .map(relation_role)
            .collect();
        let mut first_refusal = None;
        let mut planned = None;
        for role in roles {
            match case::apply(
                &loaded.case.state,
                &step,
                role,
                &loaded.facts,
                ryoritsu_domain::time_format::japan_date(now),
            ) {
                Ok(t) => {
                    let closed = t.closed.clone();
                    planned = Some((self.plan_step(auth, &loaded, &step, role, t)?, closed));
                    break;
                }
                Err(r) => {
                    first_refusal.get_or_insert(r);
                }
            }
        }
        let Some(((case, tasks, event), closed)) = planned else {
            return Err(first_refusal.map_or(AppError::Denied(Denial::Forbidden), refused));
        };
        let mut ev = self.case_event(ctx, auth, case.employer_id, AuditAction::CaseStep, case.id);
        ev.purpose = Some(step_code(&step));
        let notices = self.task_notices(&loaded, &tasks, auth.user.id).await?;
        let status_changed = case.state.status != loaded.case.state.status;
        let c = case.clone();
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    if !tx.update_case(&c).await? {
                        return Err(AppError::PreconditionFailed);
                    }
                    if status_changed {
                        tx.set_grants_status(c.id, c.state.status).await?;
                    }
                    tx.close_tasks(c.id, &closed, c.updated_at).await?;
                    for t in &tasks {
                        tx.insert_task(t).await?;
                    }
                    for n in &notices {
                        crate::cases::notice_ports::NoticeWrites::insert_notice(tx, n).await?;
                    }
                    tx.insert_case_event(&event).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(case)
    }

    /// Saves a document draft (new, or over the caller's last-seen version of it). Drafts save
    /// as you go: only the format of what is there is checked.
    #[allow(clippy::too_many_arguments)] // one use case: each argument is part of the request
    pub async fn save_draft(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
        form: FormKind,
        version: FormVersion,
        document: Option<(Uuid, i64)>,
        answers: Answers,
    ) -> Result<DocumentRecord, AppError> {
        let loaded = self.read_case(case_id).await?;
        let now = self.now();
        let category = form.category();
        let allowed = decide_case(
            &auth.principal,
            &loaded.context,
            Action::EditCaseDocument {
                case: case_id,
                category,
            },
            now,
        )
        .or_else(|d| {
            if category == InformationCategory::Medical {
                decide_case(
                    &auth.principal,
                    &loaded.context,
                    Action::WriteOpinion { case: case_id },
                    now,
                )
            } else {
                Err(d)
            }
        });
        let existing = match document {
            Some((id, v)) => {
                let d = self
                    .store
                    .read()
                    .await?
                    .get_document(id)
                    .await?
                    .filter(|d| d.case_id == case_id)
                    .ok_or(AppError::NotFound)?;
                if d.version != v {
                    return Err(AppError::PreconditionFailed);
                }
                Some(d)
            }
            None => None,
        };
        // A transcription of a paper original is written by those who may transcribe.
        let transcribing = matches!(
            &existing,
            Some(DocumentRecord { body: DocumentBody::Draft(d), .. }) if d.transcribed_from.is_some()
        );
        if transcribing {
            decide_case(
                &auth.principal,
                &loaded.context,
                Action::TranscribeScan {
                    case: case_id,
                    category,
                },
                now,
            )?;
        } else {
            allowed?;
        }
        let mut draft = match &existing {
            Some(DocumentRecord {
                body: DocumentBody::Draft(d),
                ..
            }) => d.clone(),
            Some(_) => return Err(AppError::Conflict("document_finalised")),
            None => DraftDocument::new(self.new_id(), form, version),
        };
        if draft.form != form {
            return Err(AppError::Conflict("document_form"));
        }
        if transcribing {
            // The transcriber copies the physician's part; the worker's lines stay the
            // worker's, so no one writes or signs them in the worker's name.
            let schema = ryoritsu_domain::forms::schema(draft.form, draft.version);
            let mut errs = ValidationErrors::default();
            for f in schema
                .fields()
                .filter(|f| f.filled_by == Some(Party::Worker))
            {
                if answers.get(f.id) != draft.answers.get(f.id) {
                    errs.push(FieldError::new(
                        f.id,
                        "worker_only",
                        format!(
                            "「{}」は本人が記入する欄です。転記では変更できません。",
                            f.label
                        ),
                    ));
                }
            }
            errs.into_result(())?;
        }
        let mut answers = answers;
        // Someone else's document: what this editor was not shown stays as it was (they can
        // neither erase nor replace an answer they may not read, a plan's treatment status),
        // and their copy of the result leaves it out again.
        let reader = match &existing {
            Some(before) if before.created_by != auth.user.id => {
                let access = case_access(&auth.principal, &loaded.context, now)?;
                ryoritsu_domain::forms::keep_withheld(
                    draft.form,
                    draft.version,
                    &draft.answers,
                    &mut answers,
                    &Reader {
                        may_view: &|c| access.may_view(c),
                        treats: treats(&loaded, &access),
                    },
                );
                Some(access)
            }
            _ => None,
        };
        draft.answers = answers;
        draft.answers = draft.check()?;
        let record = DocumentRecord {
            id: draft.id,
            case_id,
            form,
            body: DocumentBody::Draft(draft),
            created_by: existing.as_ref().map_or(auth.user.id, |d| d.created_by),
            created_at: existing.as_ref().map_or(now, |d| d.created_at),
            updated_at: now,
            version: existing.as_ref().map_or(1, |d| d.version + 1),
            withheld: Vec::new(),
        };
        let mut ev = self.case_event(
            ctx,
            auth,
            acting_for(auth, &loaded),
            AuditAction::DocumentSaved,
            case_id,
        );
        ev.category = Some(category);
        ev.target = Some(format!("document:{}", record.id));
        let r = record.clone();
        let rows = search_index::document_rows(&record);
        let new = existing.is_none();
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    if new {
                        tx.insert_document(&r).await?;
                    } else if !tx.update_document(&r).await? {
                        return Err(AppError::PreconditionFailed);
                    }
                    for row in &rows {
                        tx.put_search_row(row).await?;
                    }
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        let mut record = record;
        if let Some(access) = reader {
            record.withheld = reader_copy(&mut record, auth.user.id, &loaded, &access).withheld;
        }
        Ok(record)
    }

    /// 確定: validates fully, records who confirmed and when, and makes the document
    /// immutable. The party signing must be the principal's own (the worker signs only as
    /// themselves; no one signs in the worker's name).
    pub async fn finalise_document(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        document: Uuid,
        if_match: i64,
        attestation: Attestation,
    ) -> Result<DocumentRecord, AppError> {
        let doc = self
            .store
            .read()
            .await?
            .get_document(document)
            .await?
            .ok_or(AppError::Denied(Denial::NotFound))?;
        let loaded = self.read_case(doc.case_id).await?;
        let now = self.now();
        let case = loaded.case.id;
        let transcription =
            matches!(&doc.body, DocumentBody::Draft(d) if d.transcribed_from.is_some());
        let action = match attestation.party {
            Party::Worker => Action::ConfirmAsWorker { case },
            // The physician signed the paper original; whoever transcribed it confirms the copy.
            Party::AttendingPhysician if transcription => Action::TranscribeScan {
                case,
                category: doc.form.category(),
            },
            Party::AttendingPhysician => Action::WriteOpinion { case },
            Party::Employer => Action::EditCaseDocument {
                case,
                category: doc.form.category(),
            },
        };
        decide_case(&auth.principal, &loaded.context, action, now)?;
        if doc.version != if_match {
            return Err(AppError::PreconditionFailed);
        }
        let DocumentBody::Draft(draft) = &doc.body else {
            return Err(AppError::Conflict("document_finalised"));
        };
        let finalised = draft.finalise(auth.user.id, now, attestation)?;
        let mut record = doc.clone();
        record.body = DocumentBody::Finalised(finalised);
        record.updated_at = now;
        record.version += 1;
        let mut ev = self.case_event(
            ctx,
            auth,
            acting_for(auth, &loaded),
            AuditAction::DocumentFinalised,
            case,
        );
        ev.category = Some(doc.form.category());
        ev.target = Some(format!("document:{}", doc.id));
        let r = record.clone();
        let rows = search_index::document_rows(&record);
        // The scan waiting for it is transcribed once the copy is confirmed.
        let done: Vec<case::TaskKind> = if transcription {
            vec![case::TaskKind::TranscribeScan]
        } else {
            Vec::new()
        };
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    if !tx.update_document(&r).await? {
                        return Err(AppError::PreconditionFailed);
                    }
                    for row in &rows {
                        tx.put_search_row(row).await?;
                    }
                    if !done.is_empty() {
                        tx.close_tasks(r.case_id, &done, r.updated_at).await?;
                    }
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        // Someone else's document: the finaliser's copy leaves out what they may not read.
        if record.created_by != auth.user.id {
            let access = case_access(&auth.principal, &loaded.context, now)?;
            record.withheld = reader_copy(&mut record, auth.user.id, &loaded, &access).withheld;
        }
        Ok(record)
    }

    /// The worker grants consent; nothing is shared without one.
    pub async fn grant_consent(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
        draft: ConsentDraft,
    ) -> Result<Consent, AppError> {
        let loaded = self.read_case(case_id).await?;
        let now = self.now();
        decide_case(
            &auth.principal,
            &loaded.context,
            Action::GrantConsent { case: case_id },
            now,
        )?;
        // The recipient's kind comes from the store, never from the request.
        let mut draft = draft;
        draft.recipient_kind = self
            .store
            .read()
            .await?
            .get_organisation(draft.recipient.organisation)
            .await?
            .ok_or_else(|| {
                AppError::Invalid(
                    FieldError::new(
                        "recipient.organisation",
                        "unknown",
                        "共有先の組織が見つかりません。",
                    )
                    .into(),
                )
            })?
            .kind;
        let consent = Consent::grant(
            self.new_id(),
            auth.user.id,
            case_id,
            draft,
            now,
            EXPLANATION_VERSION,
        )?;
        let mut ev = self.case_event(
            ctx,
            auth,
            acting_for(auth, &loaded),
            AuditAction::ConsentGranted,
            case_id,
        );
        ev.target = Some(format!("consent:{}", consent.id));
        let c = consent.clone();
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.insert_consent(&c).await?;
                    refresh_access(tx, c.case).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(consent)
    }

    /// Withdrawal takes effect at once: the next read by the recipient is refused.
    pub async fn withdraw_consent(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
        consent: Uuid,
    ) -> Result<(), AppError> {
        let loaded = self.read_case(case_id).await?;
        let now = self.now();
        decide_case(
            &auth.principal,
            &loaded.context,
            Action::WithdrawConsent { case: case_id },
            now,
        )?;
        if !loaded.context.consents.iter().any(|c| c.id == consent) {
            return Err(AppError::NotFound);
        }
        let mut ev = self.case_event(
            ctx,
            auth,
            acting_for(auth, &loaded),
            AuditAction::ConsentWithdrawn,
            case_id,
        );
        ev.target = Some(format!("consent:{consent}"));
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    if !tx.withdraw_consent(consent, now).await? {
                        return Err(AppError::Conflict("consent_withdrawn"));
                    }
                    refresh_access(tx, case_id).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await
    }

    /// Adds a party to the case: the worker's 所属長 (by HR or the worker) or a coordinator
    /// (by the worker, who decides who helps them).
    pub async fn add_party(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
        kind: PartyKind,
        organisation: Uuid,
        user: Option<Uuid>,
    ) -> Result<(), AppError> {
        let loaded = self.read_case(case_id).await?;
        let now = self.now();
        let relations = case_relations(&auth.principal, &loaded.context);
        if relations.is_empty() {
            return Err(AppError::Denied(Denial::NotFound));
        }
        if loaded.context.closed {
            return Err(refused(StepRefused::CaseClosed));
        }
        let is_worker = relations.contains(&CaseRelation::Worker);
        let is_hr = relations.contains(&CaseRelation::Employer {
            role: Role::HrOfficer,
        });
        let allowed = match kind {
            PartyKind::LineManager => is_worker || is_hr,
            PartyKind::Coordinator | PartyKind::Hospital => is_worker,
        };
        if !allowed {
            return Err(AppError::Denied(Denial::Forbidden));
        }
        let mut c = self.store.read().await?;
        // The named person's own memberships, not the organisation's member list.
        let held: Vec<Role> = match user {
            Some(u) if c.get_user(u).await?.is_some_and(|usr| usr.active) => c
                .list_memberships_of_user(u)
                .await?
                .into_iter()
                .filter(|m| m.organisation_id == organisation)
                .map(|m| m.role)
                .collect(),
            _ => Vec::new(),
        };
        let role_ok = |role: Role| held.contains(&role);
        let fits = match kind {
            PartyKind::LineManager => {
                organisation == loaded.case.employer_id && role_ok(Role::LineManager)
            }
            PartyKind::Coordinator => {
                role_ok(Role::HospitalCoordinator)
                    || role_ok(Role::AgencyCoordinator)
                    || role_ok(Role::OccupationalHealthStaff)
            }
            PartyKind::Hospital => c
                .get_organisation(organisation)
                .await?
                .is_some_and(|o| o.kind == OrganisationKind::MedicalInstitution),
        };
        drop(c);
        if !fits {
            return Err(ValidationErrors::from(FieldError::new(
                "party",
                "not_eligible",
                "指定された方（組織）はこの役割で事例に加えることができません。",
            ))
            .into());
        }
        let party = crate::cases::ports::CasePartyRecord {
            case_id,
            kind,
            organisation_id: organisation,
            user_id: if kind == PartyKind::Hospital {
                None
            } else {
                user
            },
            added_by: auth.user.id,
            added_at: now,
        };
        let mut ev = self.case_event(
            ctx,
            auth,
            acting_for(auth, &loaded),
            AuditAction::PartyAdded,
            case_id,
        );
        ev.target = Some(format!("{}:{}", kind.code(), user.unwrap_or(organisation)));
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.insert_case_party(&party).await.map_err(|e| match e {
                        crate::StoreError::Conflict(_) => AppError::Conflict("already_party"),
                        other => AppError::Store(other),
                    })?;
                    refresh_access(tx, party.case_id).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await
    }

    /// The people the principal may add to the case, for a form to choose from. The worker
    /// chooses their 所属長, the employer's 産業保健スタッフ and the coordinators of hospitals
    /// already attached to the case; HR chooses the 所属長. Only organisations the case
    /// already involves are listed (a support agency's coordinator is found by login name,
    /// see [`App::find_agency_coordinator`]); people already taking part are left out.
    pub async fn party_candidates(
        &self,
        auth: &Authenticated,
        case_id: Uuid,
    ) -> Result<Vec<PartyCandidate>, AppError> {
        let (loaded, access) = self.case_access(auth, case_id).await?;
        let relations = access.relations();
        let is_worker = relations.contains(&CaseRelation::Worker);
        let is_hr = relations.contains(&CaseRelation::Employer {
            role: Role::HrOfficer,
        });
        if access.closed() || !(is_worker || is_hr) {
            return Ok(Vec::new());
        }
        let employer = loaded.case.employer_id;
        let mut wanted = vec![(employer, Role::LineManager, PartyKind::LineManager)];
        if is_worker {
            wanted.push((
                employer,
                Role::OccupationalHealthStaff,
                PartyKind::Coordinator,
            ));
            for h in &loaded.context.hospitals {
                wanted.push((*h, Role::HospitalCoordinator, PartyKind::Coordinator));
            }
        }
        let mut c = self.store.read().await?;
        let parties = c.list_case_parties(case_id).await?;
        let mut out = Vec::new();
        for (org, role, kind) in wanted {
            let Some(o) = c.get_organisation(org).await? else {
                continue;
            };
            for (m, u) in c
                .list_members_in_role(org, role, crate::accounts::ports::MAX_STAFF_IN_ROLE)
                .await?
            {
                let taken = parties
                    .iter()
                    .any(|p| p.kind == kind && p.user_id == Some(u.id));
                if m.role == role && u.active && !taken && u.id != loaded.case.worker_id {
                    out.push(PartyCandidate {
                        kind,
                        user: u.id,
                        name: u.display_name.to_string(),
                        organisation: org,
                        organisation_name: o.name.to_string(),
                        role,
                    });
                }
            }
        }
        Ok(out)
    }

    /// The support agency coordinator with this login name, for the worker adding them to
    /// their own open case. An agency has no relation to the worker before that, so its
    /// staff are never listed: the coordinator tells the worker their login name. Failed
    /// look-ups are throttled like share codes, so login names cannot be harvested.
    pub async fn find_agency_coordinator(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
        login: &str,
    ) -> Result<PartyCandidate, AppError> {
        let loaded = self.read_case(case_id).await?;
        // Only the worker decides who helps them: the same rule as granting a consent.
        decide_case(
            &auth.principal,
            &loaded.context,
            Action::GrantConsent { case: case_id },
            self.now(),
        )?;
        let key = format!("coordinator:{}", auth.user.id);
        self.throttle_check_key(&key, ctx.client_ip.as_deref())
            .await?;
        let mut c = self.store.read().await?;
        let user = match ryoritsu_domain::account::LoginName::parse(login) {
            Ok(l) => c.find_user_by_login(&l).await?.filter(|u| u.active),
            Err(_) => None,
        };
        let mut found = None;
        if let Some(u) = user {
            let memberships = c.list_memberships_of_user(u.id).await?;
            if let Some(m) = memberships.iter().find(|m| {
                m.role == Role::AgencyCoordinator
                    && m.organisation_kind == OrganisationKind::SupportAgency
            }) && let Some(o) = c.get_organisation(m.organisation_id).await?
            {
                found = Some(PartyCandidate {
                    kind: PartyKind::Coordinator,
                    user: u.id,
                    name: u.display_name.to_string(),
                    organisation: o.id,
                    organisation_name: o.name.to_string(),
                    role: Role::AgencyCoordinator,
                });
            }
        }
        drop(c);
        match found {
            Some(f) => Ok(f),
            None => {
                self.record_failure(key, ctx.client_ip.clone()).await?;
                Err(ValidationErrors::from(FieldError::new(
                    "coordinator_login",
                    "coordinator_not_found",
                    "このログインIDの支援機関の両立支援コーディネーターは見つかりませんでした。コーディネーターに伝えられたログインIDを確認してください。",
                ))
                .into())
            }
        }
    }

    /// The coordinators taking part in the case, each with the role they act in, for anyone
    /// who may see the case (the worker's consent page offers them as recipients).
    pub async fn case_coordinators(
        &self,
        auth: &Authenticated,
        case_id: Uuid,
    ) -> Result<Vec<PartyCandidate>, AppError> {
        let (loaded, _) = self.case_access(auth, case_id).await?;
        let mut c = self.store.read().await?;
        let mut out = Vec::new();
        for cc in &loaded.context.coordinators {
            let memberships = c.list_memberships_of_user(cc.user).await?;
            let role = memberships
                .iter()
                .filter(|m| m.organisation_id == cc.organisation)
                .map(|m| m.role)
                .find(|r| {
                    matches!(
                        r,
                        Role::HospitalCoordinator
                            | Role::AgencyCoordinator
                            | Role::OccupationalHealthStaff
                    )
                });
            let (Some(role), Some(user), Some(org)) = (
                role,
                c.get_user(cc.user).await?,
                c.get_organisation(cc.organisation).await?,
            ) else {
                continue;
            };
            out.push(PartyCandidate {
                kind: PartyKind::Coordinator,
                user: user.id,
                name: user.display_name.to_string(),
                organisation: org.id,
                organisation_name: org.name.to_string(),
                role,
            });
        }
        Ok(out)
    }

    /// Display names of the worker, the people added to the case and those who took its
    /// steps, for anyone who may see the case: who takes part and who did what is what
    /// [`Action::ViewCase`] shows, not the content of any category.
    pub async fn case_people_names(
        &self,
        auth: &Authenticated,
        case_id: Uuid,
    ) -> Result<std::collections::BTreeMap<Uuid, String>, AppError> {
        let (loaded, access) = self.case_access(auth, case_id).await?;
        let mut c = self.store.read().await?;
        let parties = c.list_case_parties(case_id).await?;
        let events = c.list_case_events(case_id).await?;
        // The hospital's people (the 主治医, the MSW) are named only to those who may see
        // medical information: who treats the worker is health information too.
        let mut treating: BTreeSet<Uuid> = BTreeSet::new();
        if !sees_who_treats(&loaded, &access) {
            for p in &parties {
                let Some(user) = p.user_id else { continue };
                let hospital = p.kind == PartyKind::Hospital
                    || loaded.context.hospitals.contains(&p.organisation_id)
                    || c.get_organisation(p.organisation_id)
                        .await?
                        .is_some_and(|o| o.kind == OrganisationKind::MedicalInstitution);
                if hospital {
                    treating.insert(user);
                }
            }
            treating.extend(
                events
                    .iter()
                    .filter(|e| e.actor_role.is_medical_institution_staff())
                    .map(|e| e.actor),
            );
        }
        let mut ids: BTreeSet<Uuid> = parties.iter().filter_map(|p| p.user_id).collect();
        ids.extend(events.iter().map(|e| e.actor));
        ids.insert(loaded.case.worker_id);
        let mut out = std::collections::BTreeMap::new();
        for id in ids.difference(&treating) {
            if let Some(u) = c.get_user(*id).await? {
                out.insert(*id, u.display_name.to_string());
            }
        }
        Ok(out)
    }

    /// The answers a new document of `form` starts with, from the 確定 documents the
    /// principal may read (an audited read, as opening them is) and the worker's name
    /// ([`ryoritsu_domain::forms::prefill`]).
    pub async fn prefill(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
        form: FormKind,
        version: FormVersion,
    ) -> Result<Answers, AppError> {
        let (loaded, _) = self.case_access(auth, case_id).await?;
        let worker = self
            .store
            .read()
            .await?
            .get_user(loaded.case.worker_id)
            .await?
            .map(|u| u.display_name.to_string());
        let wanted = |d: &DocumentRecord| d.is_finalised() && d.form != form;
        let (_, mut docs) = self
            .read_documents_where(ctx, auth, case_id, wanted)
            .await?;
        docs.sort_by_key(|d| std::cmp::Reverse(d.updated_at));
        let documents = docs
            .iter()
            .filter_map(|d| match &d.body {
                DocumentBody::Finalised(f) => Some((d.form, f.answers())),
                DocumentBody::Draft(_) => None,
            })
            .collect();
        let sources = ryoritsu_domain::forms::Sources {
            worker_name: worker.as_deref(),
            documents,
        };
        Ok(ryoritsu_domain::forms::prefill(form, version, &sources))
    }

    /// The forms of the case's 確定 documents the principal may not read, for the case page
    /// to say that they exist and why they are hidden (nothing of their content is read,
    /// so nothing is recorded). Drafts are not listed: they are their author's work.
    pub async fn hidden_documents(
        &self,
        auth: &Authenticated,
        case_id: Uuid,
    ) -> Result<Vec<FormKind>, AppError> {
        let (_, access) = self.case_access(auth, case_id).await?;
        let mut forms: Vec<FormKind> = self
            .store
            .read()
            .await?
            .list_documents(case_id)
            .await?
            .into_iter()
            .filter(|d| {
                d.is_finalised()
                    && d.created_by != auth.user.id
                    && !access.may_view(d.form.category())
            })
            .map(|d| d.form)
            .collect();
        forms.sort_by_key(|f| f.code());
        forms.dedup();
        Ok(forms)
    }

    /// Who confirmed (確定) a document the principal has read, by the name of the account
    /// whose session finalised it, never a name typed on a signature line. `None` for a
    /// draft, and for a hospital's staff when the principal may not know who treats the
    /// worker.
    pub async fn confirmer_name(
        &self,
        auth: &Authenticated,
        d: &DocumentRecord,
    ) -> Result<Option<String>, AppError> {
        let DocumentBody::Finalised(f) = &d.body else {
            return Ok(None);
        };
        let (loaded, access) = self.case_access(auth, d.case_id).await?;
        let mut c = self.store.read().await?;
        if !sees_who_treats(&loaded, &access)
            && c.list_memberships_of_user(f.confirmed_by())
                .await?
                .iter()
                .any(|m| m.role.is_medical_institution_staff())
        {
            return Ok(None);
        }
        Ok(c.get_user(f.confirmed_by())
            .await?
            .map(|u| u.display_name.to_string()))
    }

    /// The documents of a case the principal may read, and an audit record of each
    /// category of sensitive information read.
    pub async fn read_documents(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
    ) -> Result<(CaseAccess, Vec<DocumentRecord>), AppError> {
        self.read_documents_where(ctx, auth, case_id, |_| true)
            .await
    }

    /// [`Self::read_documents`] for only the documents `wanted` keeps (a FHIR search for
    /// plans, one response by id): only those are read, so only their categories go into
    /// the worker's access log.
    pub async fn read_documents_where(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
        wanted: impl Fn(&DocumentRecord) -> bool + Send + Sync,
    ) -> Result<(CaseAccess, Vec<DocumentRecord>), AppError> {
        let (loaded, access) = self.case_access(auth, case_id).await?;
        let all = self.store.read().await?.list_documents(case_id).await?;
        // A document is read by those who may see its category, and always by the person
        // who wrote it (the physician working on an opinion sees their own draft).
        // Within a document, an answer revealing more than the form's category (a plan's
        // treatment status) reaches only those who may view that too; its author sees it.
        let mut categories: BTreeSet<InformationCategory> = BTreeSet::new();
        let visible: Vec<DocumentRecord> = all
            .into_iter()
            .filter(|d| access.may_view(d.form.category()) || d.created_by == auth.user.id)
            .filter(|d| wanted(d))
            .map(|mut d| {
                let shown = reader_copy(&mut d, auth.user.id, &loaded, &access);
                categories.extend(shown.revealed);
                d.withheld = shown.withheld;
                d
            })
            .collect();
        let events: Vec<AuditEvent> = categories
            .into_iter()
            .filter(|c| c.is_sensitive())
            .map(|c| {
                let mut ev = self.case_event(
                    ctx,
                    auth,
                    acting_for(auth, &loaded),
                    AuditAction::Read,
                    case_id,
                );
                ev.category = Some(c);
                ev.target = Some(format!("case:{case_id}"));
                ev
            })
            .collect();
        let disclosures = self
            .new_disclosures(ctx, auth, &loaded, &access, &visible)
            .await?;
        if !events.is_empty() || !disclosures.is_empty() {
            // The read is answered only once its record is durable (fail closed).
            self.writer
                .write(move |tx| {
                    Box::pin(async move {
                        let mut all = Vec::with_capacity(disclosures.len() + events.len());
                        for (d, e) in &disclosures {
                            tx.insert_disclosure(d).await?;
                            all.push(e.clone());
                        }
                        all.extend(events.iter().cloned());
                        tx.append_audits(&all).await?;
                        Ok(())
                    })
                })
                .await?;
        }
        Ok((access, visible))
    }

    /// Documents that reach another organisation than the one they come from are a 第三者提供
    /// under the worker's consent: the first time each document reaches an organisation under
    /// a consent, a disclosure record (who, to whom, what, when, which consent) is written.
    async fn new_disclosures(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        loaded: &LoadedCase,
        access: &CaseAccess,
        visible: &[DocumentRecord],
    ) -> Result<Vec<(DisclosureRecord, AuditEvent)>, AppError> {
        let now = self.now();
        let case = &loaded.case;
        let readers: Vec<(Uuid, Role)> = access
            .relations()
            .iter()
            .filter_map(|r| match r {
                CaseRelation::Worker => None,
                CaseRelation::Employer { role } => Some((case.employer_id, *role)),
                CaseRelation::Hospital { organisation, role }
                | CaseRelation::Coordinator { organisation, role } => Some((*organisation, *role)),
            })
            .collect();
        if readers.is_empty() {
            return Ok(Vec::new());
        }
        let existing = self.store.read().await?.list_disclosures(case.id).await?;
        let mut out: Vec<(DisclosureRecord, AuditEvent)> = Vec::new();
        for doc in visible {
            let Some(from) = origin_organisation(loaded, doc) else {
                continue;
            };
            let category = doc.form.category();
            for &(to, role) in &readers {
                if to == from {
                    continue;
                }
                let Some(consent) = loaded.context.consents.iter().find(|c| {
                    c.covers(
                        case.id,
                        case.worker_id,
                        to,
                        role,
                        auth.user.id,
                        category,
                        now,
                    )
                }) else {
                    continue;
                };
                let seen = existing.iter().chain(out.iter().map(|(d, _)| d)).any(|d| {
                    d.what.id == doc.id && d.to_organisation == to && d.consent == consent.id
                });
                if seen {
                    continue;
                }
                let record = DisclosureRecord::record(
                    self.new_id(),
                    consent,
                    from,
                    [category].into_iter().collect(),
                    DisclosedDocument {
                        kind: doc.form.code().into(),
                        id: doc.id,
                    },
                    now,
                )?;
                let mut ev = self.case_event(ctx, auth, to, AuditAction::Disclosed, case.id);
                ev.category = Some(category);
                ev.target = Some(format!("document:{}", doc.id));
                ev.purpose = Some(format!("consent:{}", consent.id));
                out.push((record, ev));
            }
        }
        Ok(out)
    }
}

/// Makes `d` the copy of `user` (who may see what `access` says in the case `loaded`):
/// the answers they may not see are taken out, unless they wrote the document.
fn reader_copy(
    d: &mut DocumentRecord,
    user: Uuid,
    loaded: &LoadedCase,
    access: &CaseAccess,
) -> ryoritsu_domain::forms::Shown {
    let author = d.created_by == user;
    let may_view = |c| author || access.may_view(c);
    let reader = Reader {
        may_view: &may_view,
        treats: treats(loaded, access),
    };
    match &mut d.body {
        DocumentBody::Draft(draft) => {
            ryoritsu_domain::forms::withhold(draft.form, draft.version, &mut draft.answers, &reader)
        }
        DocumentBody::Finalised(f) => f.withhold(&reader),
    }
}

/// Whether the principal may know who treats the worker (the hospital, its 主治医 and MSW,
/// the physician's steps): those who may see medical information, and the treating
/// hospital's own staff.
pub fn sees_who_treats(loaded: &LoadedCase, access: &CaseAccess) -> bool {
    access.may_view(InformationCategory::Medical) || treats(loaded, access)
}

/// Whether the principal acts for a hospital treating the worker in this case (its
/// physician, its MSW): who treats the worker is no secret to them.
fn treats(loaded: &LoadedCase, access: &CaseAccess) -> bool {
    access.relations().iter().any(|r| match r {
        CaseRelation::Hospital { .. } => true,
        CaseRelation::Coordinator { organisation, .. } => {
            loaded.context.hospitals.contains(organisation)
        }
        _ => false,
    })
}

/// The organisation a document comes from: the 主治医's hospital for the opinions, the
/// employer for the 勤務情報提供書 and the plans. The card is the worker's own: handing it
/// over is the worker's act, not a provision by an organisation.
fn origin_organisation(loaded: &LoadedCase, doc: &DocumentRecord) -> Option<Uuid> {
    // A transcription copies what the worker handed over themselves.
    let transcribed = match &doc.body {
        DocumentBody::Draft(d) => d.transcribed_from.is_some(),
        DocumentBody::Finalised(f) => f.transcribed_from().is_some(),
    };
    if transcribed {
        return None;
    }
    match doc.form {
        FormKind::ContinuationOpinion | FormKind::ReturnToWorkOpinion => {
            loaded.context.hospitals.first().copied()
        }
        FormKind::WorkInformation | FormKind::SupportPlan | FormKind::ReturnToWorkPlan => {
            Some(loaded.case.employer_id)
        }
        FormKind::SupportCard => None,
    }
}

fn step_code(step: &Step) -> String {
    step.kind().code().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_codes_fold_what_people_type() {
        let code = new_share_code().unwrap();
        assert_eq!(code.len(), 14);
        assert_eq!(
            share_code_digest(&code),
            share_code_digest(&code.to_lowercase().replace('-', " "))
        );
        assert_eq!(
            share_code_digest("ABCD-0000-1111"),
            share_code_digest("ａｂｃｄ－OOOO－ILil")
        );
        assert_ne!(
            share_code_digest("ABCD-0000-1111"),
            share_code_digest("ABCD-0000-1112")
        );
    }

    #[test]
    fn forms_map_to_their_information_category() {
        assert_eq!(
            FormKind::WorkInformation.category(),
            InformationCategory::WorkInformation
        );
        assert_eq!(
            FormKind::ContinuationOpinion.category(),
            InformationCategory::Medical
        );
        assert_eq!(
            FormKind::SupportPlan.category(),
            InformationCategory::WorkMeasures
        );
    }
}
