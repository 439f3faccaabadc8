//! Organisations and the roles people hold in them.

use serde::{Deserialize, Serialize};

/// Declares a closed set of codes stored in the database and sent in the API as stable
/// snake_case strings, each with its Japanese label.
macro_rules! coded_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $code:literal => $label:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $code)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code used in storage and in the API.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The label shown to people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            pub fn from_code(code: &str) -> Option<$name> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}
pub(crate) use coded_enum;

coded_enum! {
    /// What kind of body an organisation is.
    OrganisationKind {
        Employer = "employer" => "事業者",
        MedicalInstitution = "medical_institution" => "医療機関",
        SupportAgency = "support_agency" => "支援機関",
        LabourBureau = "labour_bureau" => "都道府県労働局",
        TrainingBody = "training_body" => "研修実施機関",
    }
}

coded_enum! {
    /// Sub-kind of a support agency: the 産業保健総合支援センター is the one the law names.
    SupportAgencyKind {
        OhsCenter = "ohs_center" => "産業保健総合支援センター",
        RegionalOhsCenter = "regional_ohs_center" => "地域産業保健センター",
        OtherAgency = "other" => "その他の支援機関",
    }
}

coded_enum! {
    /// The role a person holds in one organisation.
    Role {
        Worker = "worker" => "労働者（本人）",
        HrOfficer = "hr_officer" => "人事労務担当者",
        LineManager = "line_manager" => "管理監督者（所属長）",
        OccupationalPhysician = "occupational_physician" => "産業医",
        OccupationalHealthStaff = "occupational_health_staff" => "産業保健スタッフ",
        AttendingPhysician = "attending_physician" => "主治医",
        HospitalCoordinator = "hospital_coordinator" => "医療機関の両立支援コーディネーター",
        AgencyCoordinator = "agency_coordinator" => "支援機関の両立支援コーディネーター・両立支援促進員",
        BureauStaff = "bureau_staff" => "労働局職員",
        OrgAdmin = "org_admin" => "組織管理者",
        SystemOperator = "system_operator" => "システム運用者",
    }
}

coded_enum! {
    /// The 安衛法 position of an occupational health staff member: the people to whom a
    /// hospital may send information under the fee rules (産業医等).
    SafetyHealthRole {
        OccupationalPhysician = "sangyoi" => "産業医",
        GeneralSafetyHealthManager = "sokatsu_anzen_eisei_kanrisha" => "総括安全衛生管理者",
        HealthSupervisor = "eisei_kanrisha" => "衛生管理者",
        SafetyHealthPromoter = "anzen_eisei_suishinsha" => "安全衛生推進者",
        HealthPromoter = "eisei_suishinsha" => "衛生推進者",
        PublicHealthNurse = "hokenshi" => "保健師",
    }
}

coded_enum! {
    /// Profession of a hospital coordinator.
    CoordinatorProfession {
        MedicalSocialWorker = "msw" => "医療ソーシャルワーカー（MSW）",
        Nurse = "nurse" => "看護師",
        SocialWorker = "social_worker" => "社会福祉士",
        PsychiatricSocialWorker = "psychiatric_social_worker" => "精神保健福祉士",
        CertifiedPsychologist = "certified_psychologist" => "公認心理師",
        OtherProfession = "other" => "その他",
    }
}

impl Role {
    /// The roles of a medical institution's staff (the 主治医, the MSW or nurse coordinator):
    /// that one of them acts in a case tells who treats the worker, which is health
    /// information.
    pub fn is_medical_institution_staff(self) -> bool {
        matches!(self, Role::AttendingPhysician | Role::HospitalCoordinator)
    }

    /// The organisation kinds in which this role may be held. The system operator holds no
    /// organisation membership.
    pub fn allowed_in(self, kind: OrganisationKind) -> bool {
        use OrganisationKind as K;
        match self {
            Role::Worker
            | Role::HrOfficer
            | Role::LineManager
            | Role::OccupationalPhysician
            | Role::OccupationalHealthStaff => kind == K::Employer,
            Role::AttendingPhysician | Role::HospitalCoordinator => kind == K::MedicalInstitution,
            Role::AgencyCoordinator => kind == K::SupportAgency,
            Role::BureauStaff => kind == K::LabourBureau,
            Role::OrgAdmin => true,
            Role::SystemOperator => false,
        }
    }

    /// Professional roles handle other people's health information and so need a second
    /// factor (医療情報システムの安全管理に関するガイドライン 6.0: 二要素認証). Workers see only
    /// their own information.
    pub fn requires_second_factor(self) -> bool {
        self != Role::Worker
    }

    /// Roles an organisation admin may grant by invitation.
    pub fn invitable(self) -> bool {
        self != Role::SystemOperator
    }
}

/// Extra attributes some roles carry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDetail {
    /// For occupational health staff and occupational physicians.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety_health_role: Option<SafetyHealthRole>,
    /// For hospital coordinators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profession: Option<CoordinatorProfession>,
    /// For agency coordinators: true for a 両立支援促進員 of an 産業保健総合支援センター.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub promotion_officer: bool,
}

impl RoleDetail {
    /// Checks that the details fit the role; the occupational physician is always 産業医.
    pub fn normalised_for(mut self, role: Role) -> Result<RoleDetail, crate::error::FieldError> {
        use crate::error::FieldError;
        match role {
            Role::OccupationalPhysician => {
                self.safety_health_role = Some(SafetyHealthRole::OccupationalPhysician);
            }
            Role::OccupationalHealthStaff => {
                if self.safety_health_role.is_none() {
                    return Err(FieldError::new(
                        "safety_health_role",
                        "required",
                        "安衛法上の役割（産業医・衛生管理者・保健師など）を選んでください。",
                    ));
                }
            }
            _ => self.safety_health_role = None,
        }
        if role != Role::HospitalCoordinator {
            self.profession = None;
        }
        if role != Role::AgencyCoordinator {
            self.promotion_officer = false;
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_for_every_enum() {
        for r in Role::ALL {
            assert_eq!(Role::from_code(r.code()), Some(*r));
            assert!(!r.label().is_empty());
        }
        for k in OrganisationKind::ALL {
            assert_eq!(OrganisationKind::from_code(k.code()), Some(*k));
        }
        for s in SafetyHealthRole::ALL {
            assert_eq!(SafetyHealthRole::from_code(s.code()), Some(*s));
        }
        for p in CoordinatorProfession::ALL {
            assert_eq!(CoordinatorProfession::from_code(p.code()), Some(*p));
        }
        assert_eq!(SafetyHealthRole::ALL.len(), 6);
    }

    fn serde_is_the_code<T>(all: &[T], code: fn(&T) -> &'static str)
    where
        T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        for v in all {
            let json = serde_json::to_string(v).unwrap();
            assert_eq!(json, format!("\"{}\"", code(v)));
            assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), v);
        }
    }

    #[test]
    fn serde_uses_the_stable_codes() {
        serde_is_the_code(Role::ALL, |r| r.code());
        serde_is_the_code(OrganisationKind::ALL, |r| r.code());
        serde_is_the_code(SupportAgencyKind::ALL, |r| r.code());
        serde_is_the_code(SafetyHealthRole::ALL, |r| r.code());
        serde_is_the_code(CoordinatorProfession::ALL, |r| r.code());
    }

    #[test]
    fn roles_fit_their_organisation_kinds() {
        use OrganisationKind as K;
        assert!(Role::HrOfficer.allowed_in(K::Employer));
        assert!(!Role::HrOfficer.allowed_in(K::MedicalInstitution));
        assert!(Role::AttendingPhysician.allowed_in(K::MedicalInstitution));
        assert!(!Role::AttendingPhysician.allowed_in(K::Employer));
        assert!(Role::AgencyCoordinator.allowed_in(K::SupportAgency));
        assert!(Role::BureauStaff.allowed_in(K::LabourBureau));
        for k in K::ALL {
            assert!(Role::OrgAdmin.allowed_in(*k));
            assert!(!Role::SystemOperator.allowed_in(*k));
        }
    }

    #[test]
    fn only_workers_may_go_without_a_second_factor() {
        for r in Role::ALL {
            assert_eq!(r.requires_second_factor(), *r != Role::Worker);
        }
    }

    #[test]
    fn health_staff_need_their_legal_role() {
        assert!(
            RoleDetail::default()
                .normalised_for(Role::OccupationalHealthStaff)
                .is_err()
        );
        let d = RoleDetail::default()
            .normalised_for(Role::OccupationalPhysician)
            .unwrap();
        assert_eq!(
            d.safety_health_role,
            Some(SafetyHealthRole::OccupationalPhysician)
        );
        let d = RoleDetail {
            safety_health_role: Some(SafetyHealthRole::HealthSupervisor),
            profession: Some(CoordinatorProfession::Nurse),
            promotion_officer: true,
        }
        .normalised_for(Role::HrOfficer)
        .unwrap();
        assert_eq!(d, RoleDetail::default());
    }
}
