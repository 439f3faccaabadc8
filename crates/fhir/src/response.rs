//! A document's answers as a `QuestionnaireResponse`, and a `QuestionnaireResponse` back into
//! answers. The import only translates: whether the answers make a valid form is the
//! domain's own validation, run by the use case that saves the document.

use ryoritsu_domain::forms::{
    AnswerValue, Answers, FieldKind, FieldSpec, FormKind, FormVersion, schema,
};
use ryoritsu_domain::{FieldError, ValidationErrors};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::questionnaire::{QUESTIONNAIRES, option_set_name};
use crate::{
    case_extension, code_system, extension_url, identifier_system, instant, questionnaire_url,
    reference, user_reference,
};

/// What a `QuestionnaireResponse` is made from: one document of a case.
#[derive(Debug, Clone)]
pub struct DocumentView<'a> {
    pub id: Uuid,
    pub case: Uuid,
    /// The worker the case is about (the subject).
    pub worker: Uuid,
    pub form: FormKind,
    pub version: FormVersion,
    pub answers: &'a Answers,
    /// 確定 (completed) or a draft (in-progress).
    pub finalised: bool,
    pub revision: u32,
    /// The document this one corrects.
    pub corrects: Option<Uuid>,
    /// Who wrote the draft, and who confirmed it when finalised.
    pub author: Uuid,
    /// When it was confirmed, or last saved for a draft.
    pub authored: OffsetDateTime,
}

fn link(parent: &str, id: &str) -> String {
    if parent.is_empty() {
        id.to_owned()
    } else {
        format!("{parent}.{id}")
    }
}

/// The answers of one field, or `None` when it holds nothing to send.
fn answer_values(spec: &FieldSpec, value: &AnswerValue) -> Vec<Value> {
    let number = |v: &AnswerValue| -> Option<serde_json::Number> {
        match v {
            AnswerValue::Number(n) => Some(n.clone()),
            AnswerValue::Text(s) => serde_json::from_str::<serde_json::Number>(s.trim()).ok(),
            _ => None,
        }
    };
    let coding = |options: &[ryoritsu_domain::forms::ChoiceOption], code: &str| {
        let system = code_system(option_set_name(options));
        let display = options
            .iter()
            .find(|o| o.code == code)
            .map_or(code, |o| o.label);
        json!({"valueCoding": {"system": system, "code": code, "display": display}})
    };
    match (spec.kind, value) {
        (FieldKind::Text { .. } | FieldKind::Multiline { .. }, AnswerValue::Text(s)) => {
            vec![json!({"valueString": s})]
        }
        (FieldKind::Date, AnswerValue::Text(s)) => vec![json!({"valueDate": s})],
        // FHIR times carry seconds; the forms ask for hours and minutes.
        (FieldKind::Time, AnswerValue::Text(s)) => vec![json!({"valueTime": format!("{s}:00")})],
        (FieldKind::Number { decimals, .. }, v) => match number(v) {
            Some(n) if decimals == 0 => vec![json!({"valueInteger": n})],
            Some(n) => vec![json!({"valueDecimal": n})],
            None => Vec::new(),
        },
        (FieldKind::YesNo { .. }, AnswerValue::Bool(b)) => vec![json!({"valueBoolean": b})],
        (FieldKind::SingleChoice { options }, AnswerValue::Text(code)) => {
            vec![coding(options, code)]
        }
        (FieldKind::MultipleChoice { options }, AnswerValue::List(codes)) => {
            codes.iter().map(|c| coding(options, c)).collect()
        }
        _ => Vec::new(),
    }
}

fn response_items(fields: &[&'static FieldSpec], answers: &Answers, parent: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for f in fields {
        let Some(value) = answers.get(f.id) else {
            continue;
        };
        let link_id = link(parent, f.id);
        match (f.kind, value) {
            (FieldKind::FixedText { .. } | FieldKind::Heading, _) => {}
            (
                FieldKind::Group { .. } | FieldKind::DateRange | FieldKind::Signature { .. },
                AnswerValue::Group(parts),
            ) => {
                let specs: Vec<&'static FieldSpec> =
                    f.kind.sub_fields().unwrap_or_default().iter().collect();
                let children = response_items(&specs, parts, &link_id);
                if !children.is_empty() {
                    out.push(json!({"linkId": link_id, "text": f.label, "item": children}));
                }
            }
            (FieldKind::Table { columns, .. }, AnswerValue::Rows(rows)) => {
                let specs: Vec<&'static FieldSpec> = columns.iter().collect();
                for row in rows {
                    let children = response_items(&specs, row, &link_id);
                    if !children.is_empty() {
                        out.push(json!({"linkId": link_id, "text": f.label, "item": children}));
                    }
                }
            }
            _ => {
                let answers = answer_values(f, value);
                if !answers.is_empty() {
                    out.push(json!({"linkId": link_id, "text": f.label, "answer": answers}));
                }
            }
        }
    }
    out
}

/// The `QuestionnaireResponse` of one document.
pub fn questionnaire_response(d: &DocumentView<'_>) -> Value {
    let fields: Vec<&'static FieldSpec> = schema(d.form, d.version).fields().collect();
    let mut extension = vec![case_extension(d.case)];
    extension.push(json!({
        "url": extension_url("document-revision"),
        "valueInteger": d.revision
    }));
    if let Some(c) = d.corrects {
        extension.push(json!({
            "url": extension_url("corrects"),
            "valueReference": reference("QuestionnaireResponse", c)
        }));
    }
    let mut m = Map::new();
    m.insert("resourceType".into(), json!("QuestionnaireResponse"));
    m.insert("id".into(), json!(d.id.to_string()));
    m.insert("language".into(), json!("ja"));
    m.insert("extension".into(), Value::Array(extension));
    m.insert(
        "identifier".into(),
        json!({"system": identifier_system("document"), "value": d.id.to_string()}),
    );
    m.insert(
        "questionnaire".into(),
        json!(format!(
            "{}|{}",
            questionnaire_url(d.form),
            d.version.code()
        )),
    );
    m.insert(
        "status".into(),
        json!(if d.finalised {
            "completed"
        } else {
            "in-progress"
        }),
    );
    m.insert("subject".into(), reference("Patient", d.worker));
    m.insert("authored".into(), json!(instant(d.authored)));
    m.insert(
        "author".into(),
        user_reference(
            if matches!(
                d.form,
                FormKind::ContinuationOpinion | FormKind::ReturnToWorkOpinion
            ) {
                "Practitioner"
            } else {
                "RelatedPerson"
            },
            d.author,
        ),
    );
    let items = response_items(&fields, d.answers, "");
    if !items.is_empty() {
        m.insert("item".into(), Value::Array(items));
    }
    Value::Object(m)
}

/// A `QuestionnaireResponse` read back: which case and form, the answers, and whether it
/// is to be confirmed (`completed`) or kept as a draft (`in-progress`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedResponse {
    pub case: Uuid,
    pub form: FormKind,
    pub version: FormVersion,
    pub answers: Answers,
    pub completed: bool,
}

fn err(field: &str, code: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(field, code, message)
}

/// Reads a `QuestionnaireResponse` into a form's answers. Only the shape is checked here
/// (known items, answer types, codes of the form's options); the form's rules are the
/// domain's.
pub fn import_response(v: &Value) -> Result<ImportedResponse, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    if v.get("resourceType").and_then(Value::as_str) != Some("QuestionnaireResponse") {
        return Err(err(
            "resourceType",
            "wrong_resource_type",
            "QuestionnaireResponse リソースを送信してください。",
        )
        .into());
    }
    let canonical = v.get("questionnaire").and_then(Value::as_str).unwrap_or("");
    let (url, version) = canonical.split_once('|').unwrap_or((canonical, ""));
    let form = QUESTIONNAIRES
        .iter()
        .copied()
        .find(|(f, ver)| questionnaire_url(*f) == url && ver.code() == version);
    let completed = match v.get("status").and_then(Value::as_str) {
        Some("completed") => Some(true),
        Some("in-progress") => Some(false),
        _ => {
            errs.push(err(
                "status",
                "unsupported_status",
                "status は completed（確定）か in-progress（下書き）を指定してください。",
            ));
            None
        }
    };
    let case = v
        .get("extension")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| e.get("url").and_then(Value::as_str) == Some(&extension_url("support-case")))
        .find_map(|e| {
            e.pointer("/valueIdentifier/value")
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())
        });
    if case.is_none() {
        errs.push(err(
            "extension",
            "missing_case",
            "どの両立支援の案件の書類か（support-case 拡張）を指定してください。",
        ));
    }
    let Some((form, version)) = form else {
        errs.push(err(
            "questionnaire",
            "unknown_questionnaire",
            "questionnaire には、このシステムが公開している様式の URL と版（例: …|v2026）を指定してください。",
        ));
        return Err(errs);
    };
    let fields: Vec<&'static FieldSpec> = schema(form, version).fields().collect();
    let items = match v.get("item") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => {
            errs.push(err(
                "item",
                "invalid_item",
                "item は配列で指定してください。",
            ));
            Vec::new()
        }
    };
    let answers = read_items(&fields, &items, "", &mut errs);
    match (case, completed) {
        (Some(case), Some(completed)) if errs.is_empty() => Ok(ImportedResponse {
            case,
            form,
            version,
            answers,
            completed,
        }),
        _ => Err(errs),
    }
}

fn read_items(
    fields: &[&'static FieldSpec],
    items: &[Value],
    parent: &str,
    errs: &mut ValidationErrors,
) -> Answers {
    let mut out = Answers::new();
    for item in items {
        let link_id = item.get("linkId").and_then(Value::as_str).unwrap_or("");
        let Some(spec) = fields
            .iter()
            .find(|f| link(parent, f.id) == link_id && f.kind.answerable())
        else {
            errs.push(err(
                link_id,
                "unknown_item",
                format!("linkId「{link_id}」はこの様式の入力項目ではありません。"),
            ));
            continue;
        };
        let place = link(parent, spec.id);
        let children = || -> Vec<Value> {
            item.get("item")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let value = match spec.kind {
            FieldKind::Group { .. } | FieldKind::DateRange | FieldKind::Signature { .. } => {
                if out.contains_key(spec.id) {
                    errs.push(repeated(spec, &place));
                    continue;
                }
                let parts: Vec<&'static FieldSpec> =
                    spec.kind.sub_fields().unwrap_or_default().iter().collect();
                AnswerValue::Group(read_items(&parts, &children(), &place, errs))
            }
            FieldKind::Table { columns, .. } => {
                let parts: Vec<&'static FieldSpec> = columns.iter().collect();
                let row = read_items(&parts, &children(), &place, errs);
                match out.get_mut(spec.id) {
                    Some(AnswerValue::Rows(rows)) => {
                        rows.push(row);
                        continue;
                    }
                    _ => AnswerValue::Rows(vec![row]),
                }
            }
            _ => {
                if out.contains_key(spec.id) {
                    errs.push(repeated(spec, &place));
                    continue;
                }
                let answers = item
                    .get("answer")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                match read_answer(spec, &answers, &place) {
                    Ok(Some(v)) => v,
                    Ok(None) => continue,
                    Err(e) => {
                        errs.push(e);
                        continue;
                    }
                }
            }
        };
        out.insert(spec.id.to_owned(), value);
    }
    out
}

fn repeated(spec: &FieldSpec, place: &str) -> FieldError {
    err(
        place,
        "repeated_item",
        format!("「{}」が2回以上含まれています。", spec.label),
    )
}

fn wrong_type(spec: &FieldSpec, place: &str, want: &str) -> FieldError {
    err(
        place,
        "invalid_answer",
        format!("「{}」の回答は {want} で指定してください。", spec.label),
    )
}

fn read_answer(
    spec: &FieldSpec,
    answers: &[Value],
    place: &str,
) -> Result<Option<AnswerValue>, FieldError> {
    let single = |key: &str| -> Result<Option<&Value>, FieldError> {
        match answers {
            [] => Ok(None),
            [a] => a
                .get(key)
                .map(Some)
                .ok_or_else(|| wrong_type(spec, place, key)),
            _ => Err(err(
                place,
                "too_many_answers",
                format!("「{}」の回答は1つだけにしてください。", spec.label),
            )),
        }
    };
    let text = |key: &str| -> Result<Option<AnswerValue>, FieldError> {
        match single(key)? {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(AnswerValue::Text(s.clone()))),
            Some(_) => Err(wrong_type(spec, place, key)),
        }
    };
    let code_of = |options: &[ryoritsu_domain::forms::ChoiceOption],
                   a: &Value|
     -> Result<String, FieldError> {
        let system = code_system(option_set_name(options));
        let coding = a
            .get("valueCoding")
            .ok_or_else(|| wrong_type(spec, place, "valueCoding"))?;
        let code = coding.get("code").and_then(Value::as_str).unwrap_or("");
        let from_system = coding.get("system").and_then(Value::as_str) == Some(system.as_str());
        if from_system && options.iter().any(|o| o.code == code) {
            Ok(code.to_owned())
        } else {
            Err(err(
                place,
                "invalid_option",
                format!(
                    "「{}」の回答は選択肢のコードで指定してください。",
                    spec.label
                ),
            ))
        }
    };
    match spec.kind {
        FieldKind::Text { .. } | FieldKind::Multiline { .. } => text("valueString"),
        FieldKind::Date => text("valueDate"),
        FieldKind::Time => match single("valueTime")? {
            None => Ok(None),
            Some(Value::String(s)) => match s.strip_suffix(":00") {
                Some(hm) if hm.len() == 5 => Ok(Some(AnswerValue::Text(hm.to_owned()))),
                _ => Err(err(
                    place,
                    "invalid_time",
                    format!(
                        "「{}」は秒を 00 にした時刻（例: 09:00:00）で指定してください。",
                        spec.label
                    ),
                )),
            },
            Some(_) => Err(wrong_type(spec, place, "valueTime")),
        },
        FieldKind::Number { decimals, .. } => {
            let key = if decimals == 0 {
                "valueInteger"
            } else {
                "valueDecimal"
            };
            match single(key)? {
                None => Ok(None),
                Some(Value::Number(n)) => Ok(Some(AnswerValue::Number(n.clone()))),
                Some(_) => Err(wrong_type(spec, place, key)),
            }
        }
        FieldKind::YesNo { .. } => match single("valueBoolean")? {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(AnswerValue::Bool(*b))),
            Some(_) => Err(wrong_type(spec, place, "valueBoolean")),
        },
        FieldKind::SingleChoice { options } => match answers {
            [] => Ok(None),
            [a] => Ok(Some(AnswerValue::Text(code_of(options, a)?))),
            _ => Err(err(
                place,
                "too_many_answers",
                format!("「{}」の回答は1つだけにしてください。", spec.label),
            )),
        },
        FieldKind::MultipleChoice { options } => {
            let codes = answers
                .iter()
                .map(|a| code_of(options, a))
                .collect::<Result<Vec<String>, FieldError>>()?;
            Ok((!codes.is_empty()).then_some(AnswerValue::List(codes)))
        }
        FieldKind::Group { .. }
        | FieldKind::DateRange
        | FieldKind::Signature { .. }
        | FieldKind::Table { .. }
        | FieldKind::FixedText { .. }
        | FieldKind::Heading => Ok(None),
    }
}
