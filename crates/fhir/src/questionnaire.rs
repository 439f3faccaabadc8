//! Each form × version of the domain's schemas as a `Questionnaire`.
//!
//! Field kinds map to item types: text → `string`, multiline → `text`, date → `date`,
//! time → `time`, number → `integer`/`decimal`, yes/no → `boolean`, choices → `choice` (with
//! `repeats` for checkboxes) whose options are codings of one code system per option set,
//! groups, date ranges and signatures → `group`, tables → repeating `group`, fixed wording
//! and headings → `display`. The linkId of a part is `parent.part`.

use ryoritsu_domain::forms::{
    AccidentRiskTask, AvailableSystem, CardWorkOpinion, ChoiceOption, CommuteMethod, FieldKind,
    FieldSpec, FitnessForWork, FormKind, FormVersion, MentalBurdenTask, PhysicalLoadTask,
    ReturnToWorkFitness, Sex, WorkPattern, WorkTask, schema,
};
use serde_json::{Map, Value, json};

use crate::{code_system, extension_url, questionnaire_id, questionnaire_url};

/// Every form × version, in catalogue order.
pub const QUESTIONNAIRES: &[(FormKind, FormVersion)] = &[
    (FormKind::WorkInformation, FormVersion::V2024),
    (FormKind::WorkInformation, FormVersion::V2026),
    (FormKind::ContinuationOpinion, FormVersion::V2024),
    (FormKind::ContinuationOpinion, FormVersion::V2026),
    (FormKind::ReturnToWorkOpinion, FormVersion::V2024),
    (FormKind::ReturnToWorkOpinion, FormVersion::V2026),
    (FormKind::SupportPlan, FormVersion::V2024),
    (FormKind::SupportPlan, FormVersion::V2026),
    (FormKind::ReturnToWorkPlan, FormVersion::V2024),
    (FormKind::ReturnToWorkPlan, FormVersion::V2026),
    (FormKind::SupportCard, FormVersion::V2024),
    (FormKind::SupportCard, FormVersion::V2026),
];

/// The option sets of the forms and the code system each one is published as.
const OPTION_SETS: &[(&[ChoiceOption], &str)] = &[
    (WorkTask::OPTIONS, "work-task"),
    (WorkPattern::OPTIONS, "work-pattern"),
    (CommuteMethod::OPTIONS, "commute-method"),
    (AvailableSystem::OPTIONS, "available-system"),
    (FitnessForWork::OPTIONS, "fitness-for-work"),
    (ReturnToWorkFitness::OPTIONS, "return-to-work-fitness"),
    (Sex::OPTIONS, "sex"),
    (PhysicalLoadTask::OPTIONS, "physical-load-task"),
    (AccidentRiskTask::OPTIONS, "accident-risk-task"),
    (MentalBurdenTask::OPTIONS, "mental-burden-task"),
    (CardWorkOpinion::OPTIONS, "card-work-opinion"),
];

/// The code system name of a choice's options. Compared by content, so an option list is
/// known whichever constant it came from; a list not in the table falls back to `form-option`.
pub fn option_set_name(options: &[ChoiceOption]) -> &'static str {
    OPTION_SETS
        .iter()
        .find(|(set, _)| *set == options)
        .map_or("form-option", |(_, name)| name)
}

/// The form × version a `Questionnaire` id names.
pub fn questionnaire_for_id(id: &str) -> Option<(FormKind, FormVersion)> {
    QUESTIONNAIRES
        .iter()
        .copied()
        .find(|(f, v)| questionnaire_id(*f, *v) == id)
}

fn link(parent: &str, id: &str) -> String {
    if parent.is_empty() {
        id.to_owned()
    } else {
        format!("{parent}.{id}")
    }
}

/// Guidance printed with a field, as a help text the form filler can open.
fn help(link_id: &str, text: &str) -> Value {
    json!({
        "extension": [{
            "url": "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl",
            "valueCodeableConcept": {"coding": [{
                "system": "http://hl7.org/fhir/questionnaire-item-control",
                "code": "help",
                "display": "Help-Button"
            }]}
        }],
        "linkId": format!("{link_id}.hint"),
        "text": text,
        "type": "display"
    })
}

fn items(fields: &[&'static FieldSpec], parent: &str) -> Vec<Value> {
    fields.iter().map(|f| item(f, parent)).collect()
}

fn item(f: &FieldSpec, parent: &str) -> Value {
    let link_id = link(parent, f.id);
    let mut m = Map::new();
    m.insert("linkId".into(), json!(link_id));
    m.insert("text".into(), json!(f.label));
    let mut children: Vec<Value> = Vec::new();
    let kind = match f.kind {
        FieldKind::Text { max_chars } => {
            m.insert("maxLength".into(), json!(max_chars));
            "string"
        }
        FieldKind::Multiline { max_chars } => {
            m.insert("maxLength".into(), json!(max_chars));
            "text"
        }
        FieldKind::Date => "date",
        FieldKind::Time => "time",
        FieldKind::Number {
            min, max, decimals, ..
        } => {
            let (kind, value) = if decimals == 0 {
                ("integer", "valueInteger")
            } else {
                ("decimal", "valueDecimal")
            };
            let bound = |url: &str, n: i64| {
                let mut e = Map::new();
                e.insert("url".into(), json!(url));
                e.insert(value.into(), json!(n));
                Value::Object(e)
            };
            m.insert(
                "extension".into(),
                json!([
                    bound("http://hl7.org/fhir/StructureDefinition/minValue", min),
                    bound("http://hl7.org/fhir/StructureDefinition/maxValue", max)
                ]),
            );
            kind
        }
        FieldKind::YesNo { .. } => "boolean",
        FieldKind::SingleChoice { options } | FieldKind::MultipleChoice { options } => {
            let system = code_system(option_set_name(options));
            let opts: Vec<Value> = options
                .iter()
                .map(|o| json!({"valueCoding": {"system": system, "code": o.code, "display": o.label}}))
                .collect();
            m.insert("answerOption".into(), Value::Array(opts));
            if matches!(f.kind, FieldKind::MultipleChoice { .. }) {
                m.insert("repeats".into(), json!(true));
            }
            "choice"
        }
        FieldKind::Group { .. } | FieldKind::DateRange => {
            let parts: Vec<&'static FieldSpec> =
                f.kind.sub_fields().unwrap_or_default().iter().collect();
            children.extend(items(&parts, &link_id));
            "group"
        }
        FieldKind::Signature { statement } => {
            if let Some(s) = statement {
                children.push(json!({
                    "linkId": format!("{link_id}.statement"),
                    "text": s,
                    "type": "display"
                }));
            }
            let parts: Vec<&'static FieldSpec> =
                f.kind.sub_fields().unwrap_or_default().iter().collect();
            children.extend(items(&parts, &link_id));
            "group"
        }
        FieldKind::Table { columns, max_rows } => {
            let parts: Vec<&'static FieldSpec> = columns.iter().collect();
            children.extend(items(&parts, &link_id));
            m.insert("repeats".into(), json!(true));
            m.insert(
                "extension".into(),
                json!([{
                    "url": "http://hl7.org/fhir/StructureDefinition/questionnaire-maxOccurs",
                    "valueInteger": max_rows
                }]),
            );
            "group"
        }
        FieldKind::FixedText { text } => {
            m.insert("text".into(), json!(text));
            "display"
        }
        FieldKind::Heading => "display",
    };
    m.insert("type".into(), json!(kind));
    if f.kind.answerable() && f.required {
        m.insert("required".into(), json!(true));
    }
    if let Some(hint) = f.hint {
        if kind == "display" {
            // A display item has no children; its guidance joins its text.
            let text = format!(
                "{}（{hint}）",
                m.get("text").and_then(Value::as_str).unwrap_or("")
            );
            m.insert("text".into(), json!(text));
        } else {
            children.insert(0, help(&link_id, hint));
        }
    }
    // Who fills the field in; display items carry no code (que-3).
    if let Some(party) = f.filled_by.filter(|_| kind != "display") {
        m.insert(
            "code".into(),
            json!([{"system": code_system("party"), "code": party.code(), "display": party.label()}]),
        );
    }
    if !children.is_empty() {
        m.insert("item".into(), Value::Array(children));
    }
    Value::Object(order(m))
}

/// Puts `extension` first and keeps the rest in FHIR element order, for readable output.
fn order(m: Map<String, Value>) -> Map<String, Value> {
    const ORDER: &[&str] = &[
        "extension",
        "linkId",
        "code",
        "text",
        "type",
        "required",
        "repeats",
        "maxLength",
        "answerOption",
        "item",
    ];
    let mut out = Map::new();
    for k in ORDER {
        if let Some(v) = m.get(*k) {
            out.insert((*k).to_owned(), v.clone());
        }
    }
    for (k, v) in m {
        if !out.contains_key(&k) {
            out.insert(k, v);
        }
    }
    out
}

/// A computer-friendly name (que-0), e.g. `ContinuationOpinionV2026`.
fn machine_name(form: FormKind, version: FormVersion) -> String {
    let mut out = String::new();
    for word in form.code().split('_') {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out + &version.code().to_uppercase()
}

/// The `Questionnaire` of one form in one version.
pub fn questionnaire(form: FormKind, version: FormVersion) -> Value {
    let s = schema(form, version);
    let fields: Vec<&'static FieldSpec> = s.fields().collect();
    json!({
        "resourceType": "Questionnaire",
        "id": questionnaire_id(form, version),
        "language": "ja",
        "extension": [{
            "url": extension_url("form-version-label"),
            "valueString": version.label()
        }],
        "url": questionnaire_url(form),
        "version": version.code(),
        "name": machine_name(form, version),
        "title": s.title,
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": "Ryoritsu",
        "description": format!("{}（{}）の様式。厚生労働省の様式例に基づく。", form.label(), version.label()),
        "code": [{"system": code_system("form"), "code": form.code(), "display": form.label()}],
        "item": items(&fields, "")
    })
}
