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
