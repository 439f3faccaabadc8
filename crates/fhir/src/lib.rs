//! Ryoritsu's records as FHIR R4 (4.0.1) resources, and filled forms back into answers.
//!
//! Pure mapping: no IO, no access decisions. The callers hand in only what the principal may
//! see; everything here turns domain values into JSON and back.
//!
//! The resources are built with `serde_json` rather than a FHIR model crate: the handful of
//! resources used here (Questionnaire, QuestionnaireResponse, Consent, CarePlan, AuditEvent,
//! Composition, Bundle, Patient, Organization, OperationOutcome, CapabilityStatement) does not
//! justify compiling hundreds of generated resource types, and few of those crates follow
//! R4 4.0.1. The exported JSON is checked against the R4 specification by the independent
//! validators in `tools/fhir-validate` (see docs/fhir.md).

mod bundle;
mod questionnaire;
mod resources;
mod response;

use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

pub use bundle::{
    DocumentSection, capability_statement, composition, document_bundle, operation_outcome,
    searchset, searchset_page,
};
pub use questionnaire::{QUESTIONNAIRES, option_set_name, questionnaire, questionnaire_for_id};
pub use resources::{AuditView, PlanView, audit_event, care_plan, consent, organization, patient};
pub use response::{DocumentView, ImportedResponse, import_response, questionnaire_response};

/// The base of every canonical URL and identifier system of the profile. It names the
/// profile, not a server: it is the same in every installation so that forms and codes
/// exchanged between installations and EHRs mean the same thing.
pub const CANONICAL_BASE: &str = "https://ryoritsu.jp/fhir";

/// The FHIR version served.
pub const FHIR_VERSION: &str = "4.0.1";

/// The media type of every FHIR answer.
pub const CONTENT_TYPE: &str = "application/fhir+json";

/// `CANONICAL_BASE/CodeSystem/{name}`: the system of one of the profile's code lists.
pub fn code_system(name: &str) -> String {
    format!("{CANONICAL_BASE}/CodeSystem/{name}")
}

/// `CANONICAL_BASE/sid/{name}`: an identifier system (users, cases, documents).
pub fn identifier_system(name: &str) -> String {
    format!("{CANONICAL_BASE}/sid/{name}")
}

/// `CANONICAL_BASE/StructureDefinition/{name}`: an extension of the profile.
pub fn extension_url(name: &str) -> String {
    format!("{CANONICAL_BASE}/StructureDefinition/{name}")
}

/// The extension that ties a resource to its 両立支援 case.
pub fn case_extension(case: Uuid) -> Value {
    json!({
        "url": extension_url("support-case"),
        "valueIdentifier": {"system": identifier_system("support-case"), "value": case.to_string()}
    })
}

/// A FHIR instant (UTC, microseconds).
pub fn instant(t: OffsetDateTime) -> String {
    ryoritsu_domain::time_format::format_micros(t)
}

/// Adds `meta.versionId` and `meta.lastUpdated` to a resource made from a stored record:
/// the version is the record's own (its ETag on the JSON API), so a client can tell a changed
/// draft from the one it filed.
pub fn with_meta(mut resource: Value, version: i64, updated: OffsetDateTime) -> Value {
    if let Some(m) = resource.as_object_mut() {
        m.insert(
            "meta".into(),
            json!({"versionId": version.to_string(), "lastUpdated": instant(updated)}),
        );
    }
    resource
}

/// A reference to a resource served here (`Type/id`).
pub fn reference(kind: &str, id: Uuid) -> Value {
    json!({"reference": format!("{kind}/{id}")})
}

/// A reference to a resource served here, with the name people read.
pub fn reference_named(kind: &str, id: Uuid, display: &str) -> Value {
    json!({"reference": format!("{kind}/{id}"), "display": display})
}

/// A logical reference to a person of this installation who is not served as a resource.
pub fn user_reference(kind: &str, user: Uuid) -> Value {
    json!({
        "type": kind,
        "identifier": {"system": identifier_system("user"), "value": user.to_string()}
    })
}

/// One coding of the profile's own code system `system`.
pub fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({"system": code_system(system), "code": code, "display": display})
}

/// The `Questionnaire` id of a form in a version, e.g. `continuation-opinion-v2026`
/// (FHIR ids allow no underscore).
pub fn questionnaire_id(
    form: ryoritsu_domain::forms::FormKind,
    version: ryoritsu_domain::forms::FormVersion,
) -> String {
    format!("{}-{}", form.code().replace('_', "-"), version.code())
}

/// The canonical URL of a form (all versions), e.g. `…/Questionnaire/continuation-opinion`.
pub fn questionnaire_url(form: ryoritsu_domain::forms::FormKind) -> String {
    format!(
        "{CANONICAL_BASE}/Questionnaire/{}",
        form.code().replace('_', "-")
    )
}

/// The FHIR `version` of a form version: the schema's code (`v2024`, `v2026`).
pub fn questionnaire_version(version: ryoritsu_domain::forms::FormVersion) -> &'static str {
    version.code()
}

#[cfg(test)]
mod tests;
