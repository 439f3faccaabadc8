//! B001-9 療養・就労両立支援指導料: which points a clinic may bill for each session, and why.
//!
//! Each revision (R6 2024, R8 2026) is effective-dated data in [`rules`]; [`evaluate`] applies
//! the revision in force on each session's date and explains every verdict in Japanese, citing
//! the 告示 (注) or 留意事項通知 item. docs/fees.md lists the rules and the configurable values.

pub mod evaluate;
pub mod rules;

#[cfg(test)]
mod tests;

pub use evaluate::{
    Condition, Delivery, Exclusions, FacilityStandards, FeeEvaluation, FeeInput, FeeItem,
    InformationProvision, ItemVerdict, Reason, Session, SessionVerdict, Setting, StaffPresent,
    evaluate,
};
pub use rules::{
    DocumentKind, FeeSchedule, ListedDisease, Points, Profession, RecipientRole, Revision,
    RevisionRules, TargetRule,
};
