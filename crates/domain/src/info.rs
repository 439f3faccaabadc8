//! Categories of information, the unit in which consent is given and access decided.

use crate::org::coded_enum;
use serde::{Deserialize, Serialize};

coded_enum! {
    /// What kind of information an access touches.
    InformationCategory {
        WorkInformation = "work_information" => "勤務に関する情報",
        Medical = "medical" => "診断名・症状・治療の状況",
        WorkMeasures = "work_measures" => "就業上の措置・治療への配慮",
        ConsultationNotes = "consultation_notes" => "相談記録",
        Account = "account" => "アカウント情報",
        AuditLog = "audit_log" => "アクセス記録",
    }
}

impl InformationCategory {
    /// Health information is 要配慮個人情報 (個人情報保護法 2条3項).
    pub fn is_sensitive(self) -> bool {
        matches!(
            self,
            InformationCategory::Medical
                | InformationCategory::WorkMeasures
                | InformationCategory::ConsultationNotes
                | InformationCategory::WorkInformation
        )
    }
}

impl InformationCategory {
    /// The categories that make up a case's content. Account and audit-log data belong to
    /// people and the system, not to a case, so they are never shared through a consent.
    pub const CASE: &'static [InformationCategory] = &[
        InformationCategory::WorkInformation,
        InformationCategory::Medical,
        InformationCategory::WorkMeasures,
        InformationCategory::ConsultationNotes,
    ];

    pub fn is_case_information(self) -> bool {
        Self::CASE.contains(&self)
    }

    /// Categories that nobody but the worker may see without the worker's prior consent,
    /// whatever the employer's 取扱規程 says: the doctor's opinion and disease-management
    /// information (心身の状態の情報 指針 category ③, WH-03) and consultation records
    /// (健康相談の結果, same category). Work information and work measures are the employer's
    /// own information and follow the 取扱規程 alone.
    pub fn requires_consent(self) -> bool {
        matches!(
            self,
            InformationCategory::Medical | InformationCategory::ConsultationNotes
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_case_categories_are_sensitive() {
        for c in InformationCategory::ALL {
            assert_eq!(InformationCategory::from_code(c.code()), Some(*c));
        }
        for c in InformationCategory::CASE {
            assert!(c.is_sensitive());
        }
        assert!(!InformationCategory::Account.is_case_information());
        assert!(!InformationCategory::AuditLog.is_case_information());
        assert!(InformationCategory::Medical.requires_consent());
        assert!(!InformationCategory::WorkMeasures.requires_consent());
    }
}
