//! The demo world created by `serve --demo` on an empty database.

use ryoritsu_domain::account::{DisplayName, Email, LoginName, NewPassword};
use ryoritsu_domain::audit::{AuditAction, Outcome};
use ryoritsu_domain::org::{
    CoordinatorProfession, OrganisationKind, Role, RoleDetail, SafetyHealthRole, SupportAgencyKind,
};
use ryoritsu_domain::policy::{Action, Principal, decide};
use ryoritsu_domain::prefecture::Prefecture;
use ryoritsu_domain::{FieldError, ValidationErrors};

use crate::accounts::orgs::{NewOrganisation, NewWorkplace};
use crate::accounts::ports::AccountReads;
use crate::accounts::{NewUser, acting_as};
use crate::error::AppError;
use crate::ports::{Store, WriteRepo};
use crate::{App, RequestContext};

/// Every demo account signs in with this; it is printed at start and shown on the sign-in
/// page of a demo server only.
pub const DEMO_PASSWORD: &str = "demo-ryouritsu-shien";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSignIn {
    pub login: String,
    pub name: String,
    pub role: String,
    pub organisation: String,
}

fn name(s: &str) -> Result<DisplayName, AppError> {
    DisplayName::parse("name", "名前", s).map_err(|e| AppError::Invalid(e.into()))
}

fn login(s: &str) -> Result<LoginName, AppError> {
    LoginName::parse(s).map_err(|e| AppError::Invalid(e.into()))
}

impl<S: Store> App<S> {
    /// Creates the demo world if the database holds no account. Returns the sign-ins, or
    /// `None` when the database was not empty.
    pub async fn seed_demo(&self) -> Result<Option<Vec<DemoSignIn>>, AppError> {
        if self.store.read().await?.count_users().await? > 0 {
            return Ok(None);
        }
        let ctx = RequestContext {
            operation_id: Some("demo-seed".into()),
            ..RequestContext::default()
        };
        let password = NewPassword::parse(DEMO_PASSWORD, None).map_err(ValidationErrors::from)?;
        let mut signins = Vec::new();
        let user = |l: &str, n: &str, operator: bool| -> Result<NewUser, AppError> {
            Ok(NewUser {
                login: login(l)?,
                display_name: name(n)?,
                // Addresses under example.jp, reserved for examples: e-mail notices from a
                // demo server reach no one.
                email: Some(
                    Email::parse(&format!("{l}@example.jp"))
                        .map_err(|e| AppError::Invalid(e.into()))?,
                ),
                password: password.clone(),
                operator,
                demo: true,
                name_reading: None,
            })
        };
        let op = self
            .create_user(&ctx, None, user("operator", "運用 担当", true)?)
            .await?;
        signins.push(DemoSignIn {
            login: "operator".into(),
            name: "運用 担当".into(),
            role: Role::SystemOperator.label().into(),
            organisation: "—".into(),
        });
        let operator = Principal {
            user: op.id,
            operator: true,
            memberships: Vec::new(),
            second_factor_ok: true,
        };
        let permit = decide(&operator, Action::CreateOrganisation)?;
        let tokyo = Prefecture::from_code(13).ok_or_else(|| {
            AppError::Invalid(FieldError::new("prefecture", "prefecture", "都道府県").into())
        })?;
        let org = |kind, n: &str, agency| -> Result<NewOrganisation, AppError> {
            Ok(NewOrganisation {
                kind,
                name: name(n)?,
                prefecture: tokyo,
                agency_kind: agency,
                workplaces: Vec::new(),
            })
        };
        let mut employer = org(OrganisationKind::Employer, "株式会社みどり精機", None)?;
        employer.workplaces = vec![
            NewWorkplace {
                name: name("本社工場（東京都大田区）")?,
                prefecture: tokyo,
                has_occupational_physician: true,
            },
            NewWorkplace {
                name: name("城南営業所")?,
                prefecture: tokyo,
                has_occupational_physician: false,
            },
        ];
        let employer = self
            .create_organisation(&ctx, &operator, permit, employer)
            .await?;
        let hospital = self
            .create_organisation(
                &ctx,
                &operator,
                permit,
                org(
                    OrganisationKind::MedicalInstitution,
                    "都立さくら総合病院",
                    None,
                )?,
            )
            .await?;
        let center = self
            .create_organisation(
                &ctx,
                &operator,
                permit,
                org(
                    OrganisationKind::SupportAgency,
                    "東京産業保健総合支援センター",
                    Some(SupportAgencyKind::OhsCenter),
                )?,
            )
            .await?;
        let bureau = self
            .create_organisation(
                &ctx,
                &operator,
                permit,
                org(OrganisationKind::LabourBureau, "東京労働局", None)?,
            )
            .await?;

        let msw = RoleDetail {
            profession: Some(CoordinatorProfession::MedicalSocialWorker),
            ..RoleDetail::default()
        };
        let promoter = RoleDetail {
            promotion_officer: true,
            ..RoleDetail::default()
        };
        let none = RoleDetail::default;
        let people = [
            ("admin", "管理 花子", &employer, Role::OrgAdmin, none()),
            ("jinji", "山田 花子", &employer, Role::HrOfficer, none()),
            ("manager", "鈴木 一郎", &employer, Role::LineManager, none()),
            (
                "sangyoi",
                "高橋 誠",
                &employer,
                Role::OccupationalPhysician,
                none(),
            ),
            ("worker", "田中 太郎", &employer, Role::Worker, none()),
            ("worker2", "佐藤 美咲", &employer, Role::Worker, none()),
            (
                "doctor",
                "伊藤 健一",
                &hospital,
                Role::AttendingPhysician,
                none(),
            ),
            (
                "msw",
                "渡辺 由美",
                &hospital,
                Role::HospitalCoordinator,
                msw,
            ),
            (
                "promoter",
                "小林 直子",
                &center,
                Role::AgencyCoordinator,
                promoter,
            ),
            ("bureau", "加藤 浩", &bureau, Role::BureauStaff, none()),
        ];
        for (l, n, org, role, detail) in people {
            let u = self
                .create_user(&ctx, Some(&operator), user(l, n, false)?)
                .await?;
            self.grant_membership(&ctx, &operator, u.id, org.id, role, detail)
                .await?;
            signins.push(DemoSignIn {
                login: l.into(),
                name: n.into(),
                role: role.label().into(),
                organisation: org.name.to_string(),
            });
        }
        // The workers' names also by their reading (フリガナ), as search finds them.
        for (l, reading) in [("worker", "タナカ タロウ"), ("worker2", "サトウ ミサキ")]
        {
            let found = self
                .store
                .read()
                .await?
                .find_user_by_login(&login(l)?)
                .await?;
            if let Some(u) = found {
                self.set_name_reading(u.id, Some(reading.to_owned()))
                    .await?;
            }
        }
        // The employer's health staff: a 衛生管理者 as well.
        let staff = self
            .create_user(&ctx, Some(&operator), user("eisei", "中村 恵", false)?)
            .await?;
        self.grant_membership(
            &ctx,
            &operator,
            staff.id,
            employer.id,
            Role::OccupationalHealthStaff,
            RoleDetail {
                safety_health_role: Some(SafetyHealthRole::HealthSupervisor),
                ..RoleDetail::default()
            },
        )
        .await?;
        signins.push(DemoSignIn {
            login: "eisei".into(),
            name: "中村 恵".into(),
            role: format!(
                "{}（{}）",
                Role::OccupationalHealthStaff.label(),
                SafetyHealthRole::HealthSupervisor.label()
            ),
            organisation: employer.name.to_string(),
        });
        self.seed_demo_cases(&ctx, employer.id, hospital.id).await?;
        let ev = self.event(
            &ctx,
            Some(&operator),
            None,
            AuditAction::DemoSeeded,
            Outcome::Success,
        );
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.put_setting("demo", "true").await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(Some(signins))
    }
}

impl<S: Store> App<S> {
    /// The demo accounts, for the sign-in page of a demo server.
    pub async fn demo_sign_ins(&self) -> Result<Vec<DemoSignIn>, AppError> {
        let mut c = self.store.read().await?;
        let orgs = c.list_organisations().await?;
        let mut out = Vec::new();
        for u in c
            .list_demo_users()
            .await?
            .into_iter()
            .filter(|u| u.demo && u.active)
        {
            let mine = c.list_memberships_of_user(u.id).await?;
            if u.operator {
                out.push(DemoSignIn {
                    login: u.login.to_string(),
                    name: u.display_name.to_string(),
                    role: Role::SystemOperator.label().into(),
                    organisation: "—".into(),
                });
            }
            for m in mine {
                let org = orgs
                    .iter()
                    .find(|o| o.id == m.organisation_id)
                    .map_or_else(String::new, |o| o.name.to_string());
                let role = match m.detail.safety_health_role {
                    Some(r) if m.role == Role::OccupationalHealthStaff => {
                        format!("{}（{}）", m.role.label(), r.label())
                    }
                    _ => m.role.label().to_owned(),
                };
                out.push(DemoSignIn {
                    login: u.login.to_string(),
                    name: u.display_name.to_string(),
                    role,
                    organisation: org,
                });
            }
        }
        // Workers first, as most people trying the demo start there.
        out.sort_by_key(|d| (d.role != Role::Worker.label(), d.login.clone()));
        Ok(out)
    }
}

impl<S: Store> App<S> {
    /// The hospital's facility standards and two 両立支援指導 sessions on 田中さん's case (a
    /// 初回 two weeks ago with the MSW present, and a ２回目以降 today), so that the hospital
    /// workspace shows verdicts and a billing summary.
    async fn seed_demo_guidance(
        &self,
        ctx: &RequestContext,
        hospital: uuid::Uuid,
        case: uuid::Uuid,
        doctor: &crate::accounts::Authenticated,
        msw: &crate::accounts::Authenticated,
    ) -> Result<(), AppError> {
        use ryoritsu_domain::fees::{
            Condition, Delivery, DocumentKind, Exclusions, FacilityStandards, InformationProvision,
            ListedDisease, Profession, RecipientRole, Setting, StaffPresent,
        };
        use ryoritsu_domain::guidance::GuidanceInput;

        let operator = acting_as(&self.store, "operator").await?;
        self.set_facility_standards(
            ctx,
            &operator,
            hospital,
            "2024-06-01",
            FacilityStandards {
                consultation_support: true,
                online: false,
            },
        )
        .await?;
        let today = ryoritsu_domain::support_task::japan_date(self.now());
        let first = (today - time::Duration::days(14)).to_string();
        let later = today.to_string();
        fn session(date: &str, physician: uuid::Uuid, first: bool) -> GuidanceInput<'_> {
            GuidanceInput {
                date,
                setting: Setting::Outpatient,
                delivery: Delivery::FaceToFace,
                physician: Some(physician),
                condition: Condition {
                    listed_disease: Some(ListedDisease::MalignantNeoplasm),
                    repeated_treatment: true,
                    work_consideration_needed: true,
                },
                requested_with_consent: true,
                // The 初回 is the visit at which the doctor answered the 勤務情報提供書.
                information: first.then_some(InformationProvision {
                    document: DocumentKind::JointlyPrepared,
                    recipient: RecipientRole::Sangyoi,
                    workplace_has_sangyoi: true,
                    b009_or_b010_billed: false,
                }),
                staff_present: vec![StaffPresent {
                    profession: Profession::SocialWorker,
                    training_completed: true,
                    dedicated: true,
                }],
                exclusions: Exclusions::default(),
                note: first.then_some(
                    "勤務情報提供書をもとに、通院日の勤務調整について産業医あての意見書を作成した。",
                ),
            }
        }
        self.record_guidance(ctx, doctor, case, session(&first, doctor.user.id, true))
            .await?;
        self.record_guidance(ctx, msw, case, session(&later, doctor.user.id, false))
            .await?;
        Ok(())
    }

    /// Two cases so that every role has something to look at: 田中さん's 就業継続 case
    /// waiting on the 産業医 (the opinion written, shared with the 産業医 by consent), and
    /// 佐藤さん's leave that has just started.
    async fn seed_demo_cases(
        &self,
        ctx: &RequestContext,
        employer: uuid::Uuid,
        hospital: uuid::Uuid,
    ) -> Result<(), AppError> {
        use ryoritsu_domain::case::{CasePath, Confirmer, FitnessForWork, Step};
        use ryoritsu_domain::consent::{ConsentDraft, Recipient};
        use ryoritsu_domain::forms::{Attestation, FormKind, FormVersion, Party};
        use ryoritsu_domain::info::InformationCategory;

        let worker = acting_as(&self.store, "worker").await?;
        let worker2 = acting_as(&self.store, "worker2").await?;
        let hr = acting_as(&self.store, "jinji").await?;
        let doctor = acting_as(&self.store, "doctor").await?;
        let today = self.today();
        let answers = |v: serde_json::Value| -> Result<ryoritsu_domain::forms::Answers, AppError> {
            serde_json::from_value(v).map_err(|e| AppError::Internal(e.to_string()))
        };

        let case = self
            .file_request(ctx, &worker, employer, None, CasePath::Continuation)
            .await?;
        let wi = answers(serde_json::json!({
            "addressee": {"institution": "都立さくら総合病院 消化器内科", "physician_name": "伊藤 健一"},
            "employee_name": "田中 太郎",
            "occupation": "製造ライン作業",
            "job_description": {
                "details": "自動車部品の組立ラインで、部品の取付と目視検査を担当。",
                "tasks": ["prolonged_standing", "light_physical"]
            },
            "work_pattern": {"pattern": "day_shift"},
            "work_hours": {"start": "8:30", "end": "17:30", "break_hours": "1", "days_per_week": 5,
                           "overtime": "月10時間程度"},
            "commute": {"methods": ["public_transport_seated"], "minutes": "40"},
            "other_notes": "通院は月2回（平日午前）の予定。",
            "available_systems": {"systems": ["short_hours", "hourly_annual_leave"]},
            "occupational_physician": true,
            "company_contact": {"address": "東京都大田区〇〇1-2-3", "phone": "03-0000-0000"},
            "worker_confirmation": {"date": today.to_string(), "name": "田中 太郎"}
        }))?;
        let doc = self
            .save_draft(
                ctx,
                &hr,
                case.id,
                FormKind::WorkInformation,
                FormVersion::V2026,
                None,
                wi,
            )
            .await?;
        let case = self
            .take_step(
                ctx,
                &hr,
                case.id,
                Some(case.version),
                Step::DraftWorkInformation,
            )
            .await?;
        let case = self
            .take_step(
                ctx,
                &hr,
                case.id,
                Some(case.version),
                Step::ConfirmWorkInformation {
                    by: Confirmer::Employer,
                },
            )
            .await?;
        let case = self
            .take_step(
                ctx,
                &worker,
                case.id,
                Some(case.version),
                Step::ConfirmWorkInformation {
                    by: Confirmer::Worker,
                },
            )
            .await?;
        self.finalise_document(
            ctx,
            &worker,
            doc.id,
            doc.version,
            Attestation {
                signature_field: "worker_confirmation".into(),
                party: Party::Worker,
            },
        )
        .await?;
        let (code, _) = self.issue_share_code(ctx, &worker, case.id).await?;
        self.redeem_share_code(ctx, &doctor, &code).await?;
        self.grant_consent(
            ctx,
            &worker,
            case.id,
            ConsentDraft {
                recipient: Recipient {
                    organisation: hospital,
                    role: Role::AttendingPhysician,
                    person: None,
                },
                recipient_kind: ryoritsu_domain::org::OrganisationKind::MedicalInstitution,
                categories: [InformationCategory::WorkInformation].into_iter().collect(),
                purpose: "主治医意見書を作成してもらうため".into(),
                expires_at: None,
            },
        )
        .await?;
        self.grant_consent(
            ctx,
            &worker,
            case.id,
            ConsentDraft {
                recipient: Recipient {
                    organisation: employer,
                    role: Role::OccupationalPhysician,
                    person: None,
                },
                recipient_kind: ryoritsu_domain::org::OrganisationKind::Employer,
                categories: [InformationCategory::Medical].into_iter().collect(),
                purpose: "就業上の措置について産業医の意見を聴くため".into(),
                expires_at: None,
            },
        )
        .await?;
        let case = self
            .take_step(
                ctx,
                &worker,
                case.id,
                Some(case.version),
                Step::HandToPhysician,
            )
            .await?;
        let op = answers(serde_json::json!({
            "patient_name": "田中 太郎",
            "diagnosis": "胃がん（術後）",
            "current_symptoms": "術後の倦怠感が残る。食事は少量ずつ。",
            "treatment_plan": "外来で抗がん剤治療を半年間。月2回の通院が必要。",
            "fitness_for_work": "fit_with_conditions",
            "work_measures": "重量物の取扱いを避ける。残業を控える。当面は短時間勤務（1日6時間）が望ましい。",
            "other_considerations": "通院日の勤務調整。休憩を取りやすくする。",
            "measure_period": {
                "from": today.to_string(),
                "to": (today + time::Duration::days(180)).to_string()
            },
            "physician_signature": {"date": today.to_string(), "name": "伊藤 健一"}
        }))?;
        let opinion = self
            .save_draft(
                ctx,
                &doctor,
                case.id,
                FormKind::ContinuationOpinion,
                FormVersion::V2026,
                None,
                op,
            )
            .await?;
        self.finalise_document(
            ctx,
            &doctor,
            opinion.id,
            opinion.version,
            Attestation {
                signature_field: "physician_signature".into(),
                party: Party::AttendingPhysician,
            },
        )
        .await?;
        self.take_step(
            ctx,
            &doctor,
            case.id,
            Some(case.version),
            Step::RecordOpinion {
                fitness: FitnessForWork::FitWithConditions,
                leave_until: None,
            },
        )
        .await?;

        // The hospital's MSW supports 田中さん, who lets them keep consultation notes.
        let msw = acting_as(&self.store, "msw").await?;
        self.add_party(
            ctx,
            &worker,
            case.id,
            crate::cases::ports::PartyKind::Coordinator,
            hospital,
            Some(msw.user.id),
        )
        .await?;
        self.grant_consent(
            ctx,
            &worker,
            case.id,
            ConsentDraft {
                recipient: Recipient {
                    organisation: hospital,
                    role: Role::HospitalCoordinator,
                    person: Some(msw.user.id),
                },
                recipient_kind: ryoritsu_domain::org::OrganisationKind::MedicalInstitution,
                categories: [InformationCategory::ConsultationNotes]
                    .into_iter()
                    .collect(),
                purpose: "治療と仕事の両立について相談するため".into(),
                expires_at: None,
            },
        )
        .await?;
        self.add_consultation_note(
            ctx,
            &msw,
            case.id,
            "外来化学療法の日程と勤務の調整について相談を受けた。会社への伝え方を一緒に整理し、勤務情報提供書の内容を主治医に確認してもらうことにした。",
        )
        .await?;

        self.seed_demo_guidance(ctx, hospital, case.id, &doctor, &msw)
            .await?;

        let leave = self
            .file_request(ctx, &worker2, employer, None, CasePath::LeaveAndReturn)
            .await?;
        self.take_step(
            ctx,
            &hr,
            leave.id,
            Some(leave.version),
            Step::StartLeave {
                expected_end: today + time::Duration::days(60),
            },
        )
        .await?;
        Ok(())
    }
}
