//! Revision data for B001-9 療養・就労両立支援指導料.
//!
//! Each revision is plain data so a site can override a value the sources leave uncertain
//! (see docs/fees.md) by deserialising its own [`FeeSchedule`].

use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::date;

/// One 診療報酬改定 covered by the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Revision {
    /// 令和6年度改定 (2024).
    R6,
    /// 令和8年度改定 (2026).
    R8,
}

impl Revision {
    /// Short prefix used in every citation, e.g. 「R8 B001-9 注1」.
    pub fn code(self) -> &'static str {
        match self {
            Self::R6 => "R6",
            Self::R8 => "R8",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::R6 => "令和6年度診療報酬改定",
            Self::R8 => "令和8年度診療報酬改定",
        }
    }
}

/// Diseases of 別表第三の一の二 (R6 施設基準告示).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListedDisease {
    MalignantNeoplasm,
    AcuteCerebrovascular,
    ChronicLiverDisease,
    HeartDisease,
    Diabetes,
    EarlyOnsetDementia,
    /// 指定難病 (with a 医療受給者証, or diagnosed as meeting the criteria).
    DesignatedIntractable,
    /// 「これに準ずる疾患」: 特定疾患治療研究事業 / 先天性血液凝固因子障害等治療研究事業 with a 受給者証.
    EquivalentToIntractable,
}

impl ListedDisease {
    pub fn label(self) -> &'static str {
        match self {
            Self::MalignantNeoplasm => "悪性新生物",
            Self::AcuteCerebrovascular => "急性発症した脳血管疾患",
            Self::ChronicLiverDisease => "肝疾患（経過が慢性なもの）",
            Self::HeartDisease => "心疾患",
            Self::Diabetes => "糖尿病",
            Self::EarlyOnsetDementia => "若年性認知症",
            Self::DesignatedIntractable => "指定難病",
            Self::EquivalentToIntractable => "指定難病に準ずる疾患",
        }
    }

    pub const ALL: [ListedDisease; 8] = [
        Self::MalignantNeoplasm,
        Self::AcuteCerebrovascular,
        Self::ChronicLiverDisease,
        Self::HeartDisease,
        Self::Diabetes,
        Self::EarlyOnsetDementia,
        Self::DesignatedIntractable,
        Self::EquivalentToIntractable,
    ];
}

/// Who the patient must be, besides being an outpatient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TargetRule {
    /// R6: a disease on the list.
    ListedDiseases { diseases: Vec<ListedDisease> },
    /// R8: 「疾患の増悪防止等のための反復継続した治療が必要な…患者であって、就業の継続に配慮が必要なもの」.
    RepeatedTreatmentWithWorkConsideration,
}

/// The 勤務情報 document the patient brings to the treating doctor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// 患者と事業者が共同して作成した勤務情報提供書.
    JointlyPrepared,
    /// 患者が作成し事業者が確認した文書 (e.g. 両立支援カード).
    WorkerWrittenEmployerChecked,
    /// Anything else (e.g. written by the worker alone, or by the employer alone).
    Other,
}

impl DocumentKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::JointlyPrepared => "患者と事業者が共同して作成した勤務情報提供書",
            Self::WorkerWrittenEmployerChecked => {
                "患者が作成し事業者が確認した文書（両立支援カード等）"
            }
            Self::Other => "上記以外の文書",
        }
    }
}

/// The recipient's appointment at the patient's workplace (労働安全衛生法).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientRole {
    /// 第13条第1項 産業医.
    Sangyoi,
    /// 第10条第1項 総括安全衛生管理者.
    GeneralSafetyHealthManager,
    /// 第12条 衛生管理者.
    HealthSupervisor,
    /// 第12条の2 安全衛生推進者・衛生推進者.
    SafetyHealthPromoter,
    /// 第13条の2 労働者の健康管理等を行う保健師.
    PublicHealthNurse,
    /// 人事労務担当者 (not one of the 産業医等).
    HrStaff,
    /// 所属長 or any other person without an appointment above.
    Other,
}

impl RecipientRole {
    pub fn label(self) -> &'static str {
        match self {
            Self::Sangyoi => "産業医",
            Self::GeneralSafetyHealthManager => "総括安全衛生管理者",
            Self::HealthSupervisor => "衛生管理者",
            Self::SafetyHealthPromoter => "安全衛生推進者・衛生推進者",
            Self::PublicHealthNurse => "保健師",
            Self::HrStaff => "人事労務担当者",
            Self::Other => "その他の者",
        }
    }
}

/// Professions that may give 相談支援 for the add-on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profession {
    Nurse,
    SocialWorker,
    MentalHealthSocialWorker,
    CertifiedPsychologist,
    Other,
}

impl Profession {
    pub fn label(self) -> &'static str {
        match self {
            Self::Nurse => "看護師",
            Self::SocialWorker => "社会福祉士",
            Self::MentalHealthSocialWorker => "精神保健福祉士",
            Self::CertifiedPsychologist => "公認心理師",
            Self::Other => "その他の職種",
        }
    }
}

/// Points of one revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Points {
    /// １ 初回.
    pub initial: u32,
    /// ２ ２回目以降.
    pub follow_up: u32,
    /// 注5: 初回 with 情報通信機器.
    pub initial_online: u32,
    /// 注5: ２回目以降 with 情報通信機器.
    pub follow_up_online: u32,
    /// 注3 相談支援加算.
    pub consultation_support: u32,
}

/// Everything that differs between revisions, as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionRules {
    pub revision: Revision,
    /// First day the revision applies (inclusive).
    pub effective_from: Date,
    pub points: Points,
    /// How many months ２回目以降 may be billed (通知(3)).
    pub follow_up_months: u32,
    pub target: TargetRule,
    /// 勤務情報 documents that satisfy 通知(2)ア.
    pub accepted_documents: Vec<DocumentKind>,
    /// 「産業医等」 (注1).
    pub recipients: Vec<RecipientRole>,
    pub support_professions: Vec<Profession>,
    /// Whether the 相談支援 staff must have completed the 両立支援コーディネーター training.
    /// Seen only in the R2 施設基準通知 (forms-and-rules.md §6-5), so configurable.
    pub support_training_required: bool,
}

/// All revisions a site bills under, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeSchedule {
    pub revisions: Vec<RevisionRules>,
}

const RECIPIENTS: [RecipientRole; 5] = [
    RecipientRole::Sangyoi,
    RecipientRole::GeneralSafetyHealthManager,
    RecipientRole::HealthSupervisor,
    RecipientRole::SafetyHealthPromoter,
    RecipientRole::PublicHealthNurse,
];

const PROFESSIONS: [Profession; 4] = [
    Profession::Nurse,
    Profession::SocialWorker,
    Profession::MentalHealthSocialWorker,
    Profession::CertifiedPsychologist,
];

impl RevisionRules {
    /// R6 as published (告示 B001-9, 留意事項通知).
    pub fn r6() -> Self {
        Self {
            revision: Revision::R6,
            effective_from: date!(2024 - 06 - 01),
            points: Points {
                initial: 800,
                follow_up: 400,
                initial_online: 696,
                follow_up_online: 348,
                consultation_support: 50,
            },
            follow_up_months: 3,
            target: TargetRule::ListedDiseases {
                diseases: ListedDisease::ALL.to_vec(),
            },
            accepted_documents: vec![DocumentKind::JointlyPrepared],
            recipients: RECIPIENTS.to_vec(),
            support_professions: PROFESSIONS.to_vec(),
            support_training_required: true,
        }
    }

    /// R8 as printed in the text conversions of the 告示 and 通知. The effective date and the
    /// 400-point add-on are unconfirmed (forms-and-rules.md §6-6).
    pub fn r8() -> Self {
        Self {
            revision: Revision::R8,
            effective_from: date!(2026 - 06 - 01),
            points: Points {
                initial: 850,
                follow_up: 500,
                initial_online: 740,
                follow_up_online: 435,
                consultation_support: 400,
            },
            follow_up_months: 6,
            target: TargetRule::RepeatedTreatmentWithWorkConsideration,
            accepted_documents: vec![
                DocumentKind::JointlyPrepared,
                DocumentKind::WorkerWrittenEmployerChecked,
            ],
            recipients: RECIPIENTS.to_vec(),
            support_professions: PROFESSIONS.to_vec(),
            support_training_required: true,
        }
    }
}

impl Default for FeeSchedule {
    fn default() -> Self {
        Self::standard()
    }
}

impl FeeSchedule {
    /// R6 and R8 with the default values documented in docs/fees.md.
    pub fn standard() -> Self {
        Self {
            revisions: vec![RevisionRules::r6(), RevisionRules::r8()],
        }
    }

    /// The revision in force on `day`: the latest one whose effective date is not after it.
    pub fn rules_on(&self, day: Date) -> Option<&RevisionRules> {
        self.revisions
            .iter()
            .filter(|r| r.effective_from <= day)
            .max_by_key(|r| r.effective_from)
    }
}
