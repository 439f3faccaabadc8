//! The official 様式例 of the 両立支援 guideline / 指針 as versioned schemas.
//!
//! The forms are data, not structs: the law publishes them as sample layouts that change with
//! each revision (2024 samples, 2026 指針 samples), so each form × version is a [`FormSchema`]
//! listing its fields in form order. A renderer walks [`schema`]; answers are a JSON-friendly
//! map of field id → [`AnswerValue`]; [`validate`] checks them against the schema; only
//! [`DraftDocument::finalise`] turns a draft into a [`FinalisedDocument`].
//!
//! Items tagged [R]/[P] in the research notes (forms-and-rules.md §1) are included and marked
//! `// [R] unverified against the MHLW sample` where they are defined.

mod answer;
mod catalogue;
mod document;
mod options;
mod prefill;
mod schema;
mod validate;
mod withhold;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::org::coded_enum;

pub use answer::{AnswerValue, Answers};
pub use catalogue::schema;
pub use document::{Attestation, DraftDocument, FinalisedDocument};
pub use options::{
    AccidentRiskTask, AvailableSystem, CardWorkOpinion, CommuteMethod, FitnessForWork,
    MentalBurdenTask, PhysicalLoadTask, ReturnToWorkFitness, Sex, WorkPattern, WorkTask,
};
pub use prefill::{Sources, prefill};
pub use schema::{
    ChoiceOption, DATE_RANGE_FIELDS, FieldKind, FieldSpec, FormSchema, RequiredWhen,
    SIGNATURE_FIELDS,
};
pub use validate::{ValidatedAnswers, check_draft, validate, validate_part};
pub use withhold::{Reader, Shown, gate, keep_withheld, withhold};

coded_enum! {
    /// The official sample forms. 1d has two variants: the return-to-work plan adds 職場復帰日.
    FormKind {
        WorkInformation = "work_information" => "勤務情報提供書",
        ContinuationOpinion = "continuation_opinion" => "主治医意見書（就業継続）",
        ReturnToWorkOpinion = "return_to_work_opinion" => "主治医意見書（職場復帰）",
        SupportPlan = "support_plan" => "両立支援プラン",
        ReturnToWorkPlan = "return_to_work_plan" => "職場復帰支援プラン",
        SupportCard = "support_card" => "両立支援カード",
    }
}

impl FormKind {
    /// The information category a document of this form belongs to, for consent and access:
    /// the opinions and the card carry the diagnosis and treatment; the plans carry the
    /// work measures and accommodations.
    pub fn category(self) -> crate::info::InformationCategory {
        use crate::info::InformationCategory as C;
        match self {
            FormKind::WorkInformation => C::WorkInformation,
            FormKind::ContinuationOpinion
            | FormKind::ReturnToWorkOpinion
            | FormKind::SupportCard => C::Medical,
            FormKind::SupportPlan | FormKind::ReturnToWorkPlan => C::WorkMeasures,
        }
    }
}

coded_enum! {
    /// Which edition of the sample forms a document follows. A stored document keeps its
    /// version for ever, so old schemas must never change once published.
    FormVersion {
        V2024 = "v2024" => "令和6年3月改訂版（2024年）",
        V2026 = "v2026" => "治療と就業の両立支援指針版（2026年）",
    }
}

coded_enum! {
    /// Who fills a field in.
    Party {
        Worker = "worker" => "労働者（本人）",
        Employer = "employer" => "事業者",
        AttendingPhysician = "attending_physician" => "主治医",
    }
}

/// A [`coded_enum!`] whose values are also a form's options, so typed code and schema data
/// cannot drift apart.
macro_rules! choice_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $code:literal => $label:literal),+ $(,)? }) => {
        crate::org::coded_enum! {
            $(#[$m])* $name { $($(#[$vm])* $variant = $code => $label),+ }
        }

        impl $name {
            /// The options in form order, for the schema.
            pub const OPTIONS: &'static [crate::forms::ChoiceOption] = &[
                $(crate::forms::ChoiceOption { code: $code, label: $label }),+
            ];
        }
    };
}
pub(crate) use choice_enum;
