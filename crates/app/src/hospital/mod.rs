//! Guidance sessions recorded on a case by the hospital, and the fee engine's verdicts.
//!
//! The rules are the domain's ([`ryoritsu_domain::guidance`] and the policy's
//! `ViewGuidance`/`RecordGuidance`): staff of a hospital attached to the case record sessions
//! for their institution; the worker reads every session about them; nobody else learns of
//! them. Every verdict is the engine's over all current sessions of the patient at that
//! institution. Recording, correcting, cancelling and changing facility standards write their
//! audit event in the same transaction; reads of sessions are recorded as reads of medical
//! information, and billing summaries as reads of the institution's records.

pub mod ports;

use std::collections::BTreeMap;

use ryoritsu_domain::audit::{AuditAction, AuditEvent, Outcome};
use ryoritsu_domain::fees::{DocumentKind, FacilityStandards, FeeSchedule, SessionVerdict};
use ryoritsu_domain::forms::FormKind;
use ryoritsu_domain::guidance::{
    self, AlreadyCancelled, FacilityStandardsRecord, GuidanceDetails, GuidanceInput,
    GuidanceSession, MonthlySummary, YearMonth,
};
use ryoritsu_domain::info::InformationCategory;
use ryoritsu_domain::org::{OrganisationKind, Role};
use ryoritsu_domain::policy::{Action, CaseRelation, Denial, case_relations, decide_case};
use ryoritsu_domain::support_task::japan_date;
use ryoritsu_domain::{FieldError, ValidationErrors};
use time::Date;
use uuid::Uuid;

use crate::accounts::Authenticated;
use crate::accounts::ports::AccountReads;
use crate::cases::ports::CaseReads;
use crate::cases::{LoadedCase, load_case};
use crate::error::AppError;
use crate::hospital::ports::{GuidanceFilter, GuidanceReads, GuidanceWrites};
use crate::ports::{ReadRepo, Store, WriteRepo};
use crate::{App, Planned, RequestContext};

const CATEGORY: InformationCategory = InformationCategory::Medical;

/// One current session with its verdict and the names shown beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuidanceEntry {
    pub session: GuidanceSession,
    /// `None` for a cancelled session.
    pub verdict: Option<SessionVerdict>,
    pub physician_name: String,
    pub recorded_by_name: String,
    pub institution_name: String,
    /// Whether the viewer may correct or cancel it now.
    pub may_change: bool,
}

/// What the case already knows, to fill in a new session's form.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prefill {
    /// The 勤務情報 document the case holds, when the viewer may see that it exists.
    pub document: Option<DocumentKind>,
    /// Whether the worker's workplace has appointed a 産業医.
    pub workplace_has_sangyoi: bool,
}

/// Where and for whom the viewer records sessions on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingAt {
    pub institution: Uuid,
    pub institution_name: String,
    pub role: Role,
    /// The institution's 主治医 (id, name), for choosing who gave the guidance.
    pub physicians: Vec<(Uuid, String)>,
    pub prefill: Prefill,
    /// The standards notified for today (shown beside the form).
    pub standards_today: FacilityStandards,
}

/// A case's sessions as one viewer sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseGuidance {
    pub entries: Vec<GuidanceEntry>,
    /// Present when the viewer may record sessions now.
    pub recording: Option<RecordingAt>,
}

/// A month's summary with the names it is shown with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingSummary {
    pub institution_name: String,
    pub month: YearMonth,
    pub summary: MonthlySummary,
    /// Physician names by id (empty when gone).
    pub physician_names: BTreeMap<Uuid, String>,
}

/// The institutions where `auth` is hospital staff in the given roles.
fn staff_of(auth: &Authenticated, roles: &[Role]) -> Vec<Uuid> {
    let mut out: Vec<Uuid> = auth
        .memberships
        .iter()
        .filter(|m| m.organisation_kind == OrganisationKind::MedicalInstitution)
        .filter(|m| roles.contains(&m.role))
        .map(|m| m.organisation_id)
        .collect();
    out.dedup();
    out
}

/// The institutions through which the principal stands to the case as hospital staff.
fn hospital_relations(auth: &Authenticated, loaded: &LoadedCase) -> Vec<(Uuid, Role)> {
    let mut out: Vec<(Uuid, Role)> = case_relations(&auth.principal, &loaded.context)
        .into_iter()
        .filter_map(|r| match r {
            CaseRelation::Hospital { organisation, role } => Some((organisation, role)),
            _ => None,
        })
        .collect();
    // A physician's own role first: they are the default physician of what they record.
    out.sort_by_key(|(o, r)| (*o, *r != Role::AttendingPhysician));
    out
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

async fn name_of<R: ReadRepo + AccountReads>(
    c: &mut R,
    cache: &mut BTreeMap<Uuid, String>,
    id: Uuid,
) -> Result<String, AppError> {
    if let Some(n) = cache.get(&id) {
        return Ok(n.clone());
    }
    let n = c
        .get_user(id)
        .await?
        .map_or_else(String::new, |u| u.display_name.to_string());
    cache.insert(id, n.clone());
    Ok(n)
}

/// The 主治医 of an institution, by name.
async fn physicians<R: ReadRepo + AccountReads>(
    c: &mut R,
    institution: Uuid,
) -> Result<Vec<(Uuid, String)>, AppError> {
    let mut out: Vec<(Uuid, String)> = c
        .list_members_in_role(
            institution,
            Role::AttendingPhysician,
            crate::accounts::ports::MAX_STAFF_IN_ROLE,
        )
        .await?
        .into_iter()
        .filter(|(_, u)| u.active)
        .map(|(_, u)| (u.id, u.display_name.to_string()))
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out.dedup_by_key(|p| p.0);
    Ok(out)
}

/// The current sessions of the patient at the institution, each with its verdict.
async fn evaluated<R: GuidanceReads>(
    c: &mut R,
    schedule: &FeeSchedule,
    institution: Uuid,
    patient: Option<Uuid>,
) -> Result<Vec<(GuidanceSession, Option<SessionVerdict>)>, AppError> {
    let versions = c
        .list_guidance_versions(match patient {
            Some(patient) => GuidanceFilter::InstitutionPatient {
                institution,
                patient,
            },
            None => GuidanceFilter::Institution(institution),
        })
        .await?;
    let history = c.list_facility_standards(institution).await?;
    Ok(guidance::verdicts(
        schedule,
        &guidance::current(&versions),
        &history,
    ))
}

fn invalid(field: &str, code: &str, message: &str) -> AppError {
    AppError::Invalid(FieldError::new(field, code, message).into())
}

impl<S: Store> App<S> {
    fn guidance_event(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        s: &GuidanceSession,
        what: &str,
    ) -> AuditEvent {
        let mut ev = self.case_event(
            ctx,
            auth,
            s.institution,
            AuditAction::GuidanceRecorded,
            s.case_id,
        );
        ev.category = Some(CATEGORY);
        ev.target = Some(format!("guidance_session:{}", s.id));
        ev.purpose = Some(format!("{what}:v{}", s.version));
        ev
    }

    /// The case's sessions the viewer may see, in date order, with verdicts; and whether and
    /// where they may record one. The worker sees every institution's, hospital staff their
    /// own institution's; the read is recorded. `NotFound` for everyone else.
    pub async fn case_guidance(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
    ) -> Result<CaseGuidance, AppError> {
        let now = self.now();
        let mut c = self.store.read().await?;
        let loaded = loaded_case(&mut c, case_id).await?;
        decide_case(
            &auth.principal,
            &loaded.context,
            Action::ViewGuidance { case: case_id },
            now,
        )?;
        let is_worker = auth.user.id == loaded.case.worker_id;
        let rels = hospital_relations(auth, &loaded);
        let institutions: Vec<Uuid> = if is_worker {
            let mut all: Vec<Uuid> = c
                .list_guidance_versions(GuidanceFilter::Case(case_id))
                .await?
                .into_iter()
                .map(|s| s.institution)
                .collect();
            all.sort();
            all.dedup();
            all
        } else {
            let mut own: Vec<Uuid> = rels.iter().map(|(o, _)| *o).collect();
            own.dedup();
            own
        };
        let may_record = decide_case(
            &auth.principal,
            &loaded.context,
            Action::RecordGuidance { case: case_id },
            now,
        )
        .is_ok();
        let mut names = BTreeMap::new();
        let mut entries = Vec::new();
        for institution in &institutions {
            let institution_name = c
                .get_organisation(*institution)
                .await?
                .map_or_else(String::new, |o| o.name.to_string());
            for (session, verdict) in evaluated(
                &mut c,
                &self.config.fee_schedule,
                *institution,
                Some(loaded.case.worker_id),
            )
            .await?
            .into_iter()
            .filter(|(s, _)| s.case_id == case_id)
            {
                let physician_name = name_of(&mut c, &mut names, session.details.physician).await?;
                let recorded_by_name = name_of(&mut c, &mut names, session.recorded_by).await?;
                let may_change = may_record
                    && !session.is_cancelled()
                    && rels.iter().any(|(o, _)| *o == session.institution);
                entries.push(GuidanceEntry {
                    session,
                    verdict,
                    physician_name,
                    recorded_by_name,
                    institution_name: institution_name.clone(),
                    may_change,
                });
            }
        }
        entries.sort_by_key(|e| (e.session.details.date, e.session.recorded_at, e.session.id));
        let recording = match rels.first() {
            Some(&(institution, role)) if may_record => Some(
                self.recording_at(&mut c, auth, &loaded, institution, role)
                    .await?,
            ),
            _ => None,
        };
        drop(c);
        if !entries.is_empty() {
            let mut ev = self.case_event(
                ctx,
                auth,
                institutions
                    .first()
                    .copied()
                    .unwrap_or(loaded.case.employer_id),
                AuditAction::Read,
                case_id,
            );
            ev.category = Some(CATEGORY);
            ev.purpose = Some("guidance_sessions".into());
            self.writer
                .write(move |tx| {
                    Box::pin(async move {
                        tx.append_audit(&ev).await?;
                        Ok(())
                    })
                })
                .await?;
        }
        Ok(CaseGuidance { entries, recording })
    }

    async fn recording_at<R: ReadRepo + AccountReads + CaseReads + GuidanceReads>(
        &self,
        c: &mut R,
        auth: &Authenticated,
        loaded: &LoadedCase,
        institution: Uuid,
        role: Role,
    ) -> Result<RecordingAt, AppError> {
        let now = self.now();
        let institution_name = c
            .get_organisation(institution)
            .await?
            .map_or_else(String::new, |o| o.name.to_string());
        // The kind of 勤務情報 document is told only to those who may see work information.
        let sees_work_information = decide_case(
            &auth.principal,
            &loaded.context,
            Action::ViewCaseCategory {
                case: loaded.case.id,
                category: InformationCategory::WorkInformation,
            },
            now,
        )
        .is_ok();
        let document = if sees_work_information {
            let docs = c.list_documents(loaded.case.id).await?;
            let has = |f: FormKind| docs.iter().any(|d| d.form == f && d.is_finalised());
            if has(FormKind::WorkInformation) {
                Some(DocumentKind::JointlyPrepared)
            } else if has(FormKind::SupportCard) {
                Some(DocumentKind::WorkerWrittenEmployerChecked)
            } else {
                None
            }
        } else {
            None
        };
        let history = c.list_facility_standards(institution).await?;
        Ok(RecordingAt {
            institution,
            institution_name,
            role,
            physicians: physicians(c, institution).await?,
            prefill: Prefill {
                document,
                workplace_has_sangyoi: loaded.facts.has_occupational_physician,
            },
            standards_today: guidance::standards_on(&history, japan_date(now)),
        })
    }

    /// Checks the input for `auth` recording at `institution`: the physician defaults to the
    /// recorder when they are an 主治医 there, and must be one of its 主治医.
    async fn guidance_details<R: ReadRepo + AccountReads>(
        &self,
        c: &mut R,
        auth: &Authenticated,
        institution: Uuid,
        role: Role,
        mut input: GuidanceInput<'_>,
    ) -> Result<GuidanceDetails, AppError> {
        if input.physician.is_none() && role == Role::AttendingPhysician {
            input.physician = Some(auth.user.id);
        }
        let chosen = input.physician;
        let details = GuidanceDetails::parse(input, japan_date(self.now()))?;
        let doctors = physicians(c, institution).await?;
        if let Some(p) = chosen
            && !doctors.iter().any(|(id, _)| *id == p)
        {
            return Err(invalid(
                guidance::field::PHYSICIAN,
                "not_a_physician",
                "指導を行った医師には、この医療機関の主治医を選んでください。",
            ));
        }
        Ok(details)
    }

    /// The verdict `details` would get if recorded now as `id` (with everything else the
    /// patient has at the institution).
    async fn verdict_with<R: GuidanceReads>(
        &self,
        c: &mut R,
        candidate: &GuidanceSession,
    ) -> Result<Option<SessionVerdict>, AppError> {
        let mut versions = c
            .list_guidance_versions(GuidanceFilter::InstitutionPatient {
                institution: candidate.institution,
                patient: candidate.patient,
            })
            .await?;
        versions.push(candidate.clone());
        let history = c.list_facility_standards(candidate.institution).await?;
        Ok(guidance::verdicts(
            &self.config.fee_schedule,
            &guidance::current(&versions),
            &history,
        )
        .into_iter()
        .find(|(s, _)| s.id == candidate.id)
        .and_then(|(_, v)| v))
    }

    /// A new session (not stored) for `auth` on the case, with its verdict.
    async fn new_guidance(
        &self,
        auth: &Authenticated,
        case_id: Uuid,
        input: GuidanceInput<'_>,
    ) -> Result<GuidanceEntry, AppError> {
        let now = self.now();
        let mut c = self.store.read().await?;
        let loaded = loaded_case(&mut c, case_id).await?;
        decide_case(
            &auth.principal,
            &loaded.context,
            Action::RecordGuidance { case: case_id },
            now,
        )
        .map_err(|d| match d {
            Denial::Forbidden if loaded.context.closed => AppError::Conflict("case_closed"),
            d => AppError::Denied(d),
        })?;
        let Some(&(institution, role)) = hospital_relations(auth, &loaded).first() else {
            return Err(AppError::Denied(Denial::Forbidden));
        };
        let details = self
            .guidance_details(&mut c, auth, institution, role, input)
            .await?;
        let session = GuidanceSession {
            id: self.new_id(),
            version: 1,
            case_id,
            institution,
            patient: loaded.case.worker_id,
            details,
            cancelled: None,
            recorded_by: auth.user.id,
            recorded_role: role,
            recorded_at: ryoritsu_domain::time_format::truncate_micros(now),
        };
        let verdict = self.verdict_with(&mut c, &session).await?;
        let mut names = BTreeMap::new();
        let physician_name = name_of(&mut c, &mut names, session.details.physician).await?;
        let institution_name = c
            .get_organisation(institution)
            .await?
            .map_or_else(String::new, |o| o.name.to_string());
        Ok(GuidanceEntry {
            session,
            verdict,
            physician_name,
            recorded_by_name: auth.user.display_name.to_string(),
            institution_name,
            may_change: true,
        })
    }

    /// The verdict a session would get, without recording it (「算定を確認」).
    pub async fn preview_guidance(
        &self,
        auth: &Authenticated,
        case_id: Uuid,
        input: GuidanceInput<'_>,
    ) -> Result<GuidanceEntry, AppError> {
        self.new_guidance(auth, case_id, input).await
    }

    /// Plans recording a session: hospital staff attached to an open case, for their
    /// institution. The value carries the verdict it gets.
    pub async fn plan_record_guidance(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
        input: GuidanceInput<'_>,
    ) -> Result<Planned<S, GuidanceEntry>, AppError> {
        let entry = self.new_guidance(auth, case_id, input).await?;
        let ev = self.guidance_event(ctx, auth, &entry.session, "recorded");
        let s = entry.session.clone();
        Ok(Planned {
            value: entry,
            apply: Box::new(move |tx| {
                Box::pin(async move {
                    tx.insert_guidance_version(&s).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            }),
        })
    }

    pub async fn record_guidance(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
        input: GuidanceInput<'_>,
    ) -> Result<GuidanceEntry, AppError> {
        let p = self.plan_record_guidance(ctx, auth, case_id, input).await?;
        self.commit(p).await
    }

    /// The latest version of a session the principal may change, with its case: `NotFound`
    /// for those who may not see it, `Forbidden`/`case_closed` for those who see but may
    /// not change it, `PreconditionFailed` when `if_match` is not the latest version.
    async fn changeable(
        &self,
        auth: &Authenticated,
        id: Uuid,
        if_match: i64,
    ) -> Result<(GuidanceSession, Role), AppError> {
        let now = self.now();
        let mut c = self.store.read().await?;
        let versions = c
            .list_guidance_versions(GuidanceFilter::Session(id))
            .await?;
        let latest = versions
            .into_iter()
            .max_by_key(|s| s.version)
            .ok_or(AppError::Denied(Denial::NotFound))?;
        let loaded = loaded_case(&mut c, latest.case_id).await?;
        let case = latest.case_id;
        let rels = hospital_relations(auth, &loaded);
        // Only the institution's own staff know of its sessions.
        let Some(&(_, role)) = rels.iter().find(|(o, _)| *o == latest.institution) else {
            return Err(
                match decide_case(
                    &auth.principal,
                    &loaded.context,
                    Action::ViewGuidance { case },
                    now,
                ) {
                    Err(Denial::SecondFactorRequired) => {
                        AppError::Denied(Denial::SecondFactorRequired)
                    }
                    Ok(_) if auth.user.id == loaded.case.worker_id => {
                        AppError::Denied(Denial::Forbidden)
                    }
                    _ => AppError::Denied(Denial::NotFound),
                },
            );
        };
        decide_case(
            &auth.principal,
            &loaded.context,
            Action::RecordGuidance { case },
            now,
        )
        .map_err(|d| match d {
            Denial::Forbidden if loaded.context.closed => AppError::Conflict("case_closed"),
            d => AppError::Denied(d),
        })?;
        if latest.is_cancelled() {
            return Err(AppError::Conflict(AlreadyCancelled.code()));
        }
        if latest.version != if_match {
            return Err(AppError::PreconditionFailed);
        }
        Ok((latest, role))
    }

    /// Stores `next` if the latest stored version is still the one before it.
    async fn append_version(&self, next: GuidanceSession, ev: AuditEvent) -> Result<(), AppError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let stored = tx
                        .list_guidance_versions(GuidanceFilter::Session(next.id))
                        .await?;
                    let latest = stored.iter().map(|s| s.version).max().unwrap_or(0);
                    if latest != next.version - 1 {
                        return Err(AppError::PreconditionFailed);
                    }
                    tx.insert_guidance_version(&next).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await
    }

    /// The next version of a session with corrected details, and its verdict (not stored).
    async fn corrected_entry(
        &self,
        auth: &Authenticated,
        id: Uuid,
        if_match: i64,
        input: GuidanceInput<'_>,
    ) -> Result<GuidanceEntry, AppError> {
        let (latest, role) = self.changeable(auth, id, if_match).await?;
        let mut c = self.store.read().await?;
        let details = self
            .guidance_details(&mut c, auth, latest.institution, role, input)
            .await?;
        let next = latest.corrected(details, (auth.user.id, role), self.now());
        // The candidate's higher version replaces the stored one in the evaluation.
        let verdict = self.verdict_with(&mut c, &next).await?;
        let mut names = BTreeMap::new();
        let physician_name = name_of(&mut c, &mut names, next.details.physician).await?;
        let institution_name = c
            .get_organisation(next.institution)
            .await?
            .map_or_else(String::new, |o| o.name.to_string());
        Ok(GuidanceEntry {
            session: next,
            verdict,
            physician_name,
            recorded_by_name: auth.user.display_name.to_string(),
            institution_name,
            may_change: true,
        })
    }

    /// The verdict a correction would give, without storing it.
    pub async fn preview_correction(
        &self,
        auth: &Authenticated,
        id: Uuid,
        if_match: i64,
        input: GuidanceInput<'_>,
    ) -> Result<GuidanceEntry, AppError> {
        self.corrected_entry(auth, id, if_match, input).await
    }

    /// Corrects a session by a new version over the version the caller last saw.
    pub async fn correct_guidance(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        id: Uuid,
        if_match: i64,
        input: GuidanceInput<'_>,
    ) -> Result<GuidanceEntry, AppError> {
        let entry = self.corrected_entry(auth, id, if_match, input).await?;
        let ev = self.guidance_event(ctx, auth, &entry.session, "corrected");
        self.append_version(entry.session.clone(), ev).await?;
        Ok(entry)
    }

    /// Cancels (取消) a session with a reason, over the version the caller last saw. It stays
    /// on record and is no longer billed.
    pub async fn cancel_guidance(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        id: Uuid,
        if_match: i64,
        reason: &str,
    ) -> Result<GuidanceSession, AppError> {
        let cancellation = guidance::parse_reason(reason)?;
        let (latest, role) = self.changeable(auth, id, if_match).await?;
        let next = latest.cancel(cancellation, (auth.user.id, role), self.now());
        let ev = self.guidance_event(ctx, auth, &next, "cancelled");
        self.append_version(next.clone(), ev).await?;
        Ok(next)
    }

    /// The medical institutions where `auth` works in the hospital workspace (主治医,
    /// coordinators, admins), by name.
    pub async fn hospital_workspaces(
        &self,
        auth: &Authenticated,
    ) -> Result<Vec<(Uuid, String, bool)>, AppError> {
        let mut c = self.store.read().await?;
        let mut out = Vec::new();
        for org in staff_of(
            auth,
            &[
                Role::AttendingPhysician,
                Role::HospitalCoordinator,
                Role::OrgAdmin,
            ],
        ) {
            if let Some(o) = c.get_organisation(org).await? {
                let admin = auth.principal.has_role_in(org, Role::OrgAdmin);
                out.push((o.id, o.name.to_string(), admin));
            }
        }
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out.dedup_by_key(|o| o.0);
        Ok(out)
    }

    /// Checks that `auth` works at the medical institution `org` (any hospital role, or its
    /// admin); `NotFound` for everyone else.
    fn hospital_staff(&self, auth: &Authenticated, org: Uuid) -> Result<(), AppError> {
        auth.permit(Action::ViewOrganisation(org))?;
        if staff_of(
            auth,
            &[
                Role::AttendingPhysician,
                Role::HospitalCoordinator,
                Role::OrgAdmin,
            ],
        )
        .contains(&org)
        {
            Ok(())
        } else {
            Err(AppError::Denied(Denial::NotFound))
        }
    }

    /// The institution's notifications of facility standards, oldest first.
    pub async fn facility_standards(
        &self,
        auth: &Authenticated,
        org: Uuid,
    ) -> Result<Vec<FacilityStandardsRecord>, AppError> {
        if !auth.principal.operator {
            self.hospital_staff(auth, org)?;
        }
        let mut c = self.store.read().await?;
        let kind = c.get_organisation(org).await?.map(|o| o.kind);
        if kind != Some(OrganisationKind::MedicalInstitution) {
            return Err(AppError::Denied(Denial::NotFound));
        }
        Ok(c.list_facility_standards(org).await?)
    }

    /// Records a notification of facility standards in force from `effective_from`: the
    /// institution's admin (or the system operator, who sets organisations up).
    pub async fn set_facility_standards(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        org: Uuid,
        effective_from: &str,
        standards: FacilityStandards,
    ) -> Result<FacilityStandardsRecord, AppError> {
        auth.permit(Action::ManageOrganisation(org))?;
        let kind = self
            .store
            .read()
            .await?
            .get_organisation(org)
            .await?
            .map(|o| o.kind);
        if kind != Some(OrganisationKind::MedicalInstitution) {
            return Err(AppError::Denied(Denial::NotFound));
        }
        let effective_from: Date = ryoritsu_domain::wareki::parse(effective_from, "算定開始日")
            .map_err(|e| {
                AppError::Invalid(ValidationErrors::from(
                    e.into_field_error(guidance::field::EFFECTIVE_FROM),
                ))
            })?;
        let now = self.now();
        let r = FacilityStandardsRecord {
            id: self.new_id(),
            institution: org,
            effective_from,
            standards,
            recorded_by: auth.user.id,
            recorded_at: ryoritsu_domain::time_format::truncate_micros(now),
        };
        let mut ev = self.event(
            ctx,
            Some(&auth.principal),
            Some(org),
            AuditAction::FacilityStandardsChanged,
            Outcome::Success,
        );
        ev.target = Some(format!("organisation:{org}"));
        ev.purpose = Some(format!(
            "from:{effective_from} consultation_support:{} online:{}",
            standards.consultation_support, standards.online
        ));
        let stored = r.clone();
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.insert_facility_standards(&stored).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(r)
    }

    /// The month's billing summary of the institution (totals, then per physician), for its
    /// staff; the read is recorded.
    pub async fn billing_summary(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        org: Uuid,
        month: YearMonth,
    ) -> Result<BillingSummary, AppError> {
        self.hospital_staff(auth, org)?;
        let mut c = self.store.read().await?;
        let institution_name = c
            .get_organisation(org)
            .await?
            .map_or_else(String::new, |o| o.name.to_string());
        let all = evaluated(&mut c, &self.config.fee_schedule, org, None).await?;
        let summary = guidance::monthly_summary(org, month, &all);
        let mut physician_names = BTreeMap::new();
        for (p, _) in &summary.physicians {
            name_of(&mut c, &mut physician_names, *p).await?;
        }
        drop(c);
        let mut ev = self.event(
            ctx,
            Some(&auth.principal),
            Some(org),
            AuditAction::Read,
            Outcome::Success,
        );
        ev.target = Some(format!("organisation:{org}"));
        ev.purpose = Some(format!("guidance_billing:{month}"));
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(BillingSummary {
            institution_name,
            month,
            summary,
            physician_names,
        })
    }

    /// Every current session about the worker (all their cases and institutions), with
    /// verdicts, for the worker's own 開示 export.
    pub async fn guidance_about_worker<R: ReadRepo + AccountReads + GuidanceReads>(
        &self,
        c: &mut R,
        worker: Uuid,
    ) -> Result<Vec<(GuidanceSession, Option<SessionVerdict>)>, AppError> {
        let versions = c
            .list_guidance_versions(GuidanceFilter::Patient(worker))
            .await?;
        let history = c.list_all_facility_standards().await?;
        Ok(guidance::verdicts(
            &self.config.fee_schedule,
            &guidance::current(&versions),
            &history,
        ))
    }
}
