//! Bundles (search results, a case as a document), the Composition that heads a document,
//! OperationOutcome for errors, and the server's CapabilityStatement.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    CONTENT_TYPE, FHIR_VERSION, case_extension, code_system, coding, identifier_system, instant,
    reference, reference_named,
};

/// `Type/id` of a resource built here, when it has an id.
fn local_ref(resource: &Value) -> Option<String> {
    let kind = resource.get("resourceType").and_then(Value::as_str)?;
    let id = resource.get("id").and_then(Value::as_str)?;
    Some(format!("{kind}/{id}"))
}

fn entry(base: &str, resource: Value, search: bool) -> Value {
    let mut e = Map::new();
    if let Some(r) = local_ref(&resource) {
        e.insert("fullUrl".into(), json!(format!("{base}/{r}")));
    }
    e.insert("resource".into(), resource);
    if search {
        e.insert("search".into(), json!({"mode": "match"}));
    }
    Value::Object(e)
}

/// A search result: every match, with the total; `base` is the server's FHIR base URL and
/// `self_link` the search as asked.
pub fn searchset(base: &str, self_link: &str, resources: Vec<Value>) -> Value {
    let total = resources.len();
    searchset_page(base, self_link, None, Some(total), resources)
}

/// One page of a search result: `next_link` continues it (a `next` link relation), and
/// `total` is given only when it is known (a search served in one page).
pub fn searchset_page(
    base: &str,
    self_link: &str,
    next_link: Option<&str>,
    total: Option<usize>,
    resources: Vec<Value>,
) -> Value {
    let mut m = Map::new();
    m.insert("resourceType".into(), json!("Bundle"));
    m.insert("type".into(), json!("searchset"));
    if let Some(total) = total {
        m.insert("total".into(), json!(total));
    }
    let mut links = vec![json!({"relation": "self", "url": self_link})];
    if let Some(next) = next_link {
        links.push(json!({"relation": "next", "url": next}));
    }
    m.insert("link".into(), Value::Array(links));
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|r| entry(base, r, true))
        .collect();
    if !entries.is_empty() {
        m.insert("entry".into(), Value::Array(entries));
    }
    Value::Object(m)
}

/// One section of a case document: its title, a code of the profile's `document-section`
/// system, and the `Type/id` of its entries.
#[derive(Debug, Clone)]
pub struct DocumentSection {
    pub code: &'static str,
    pub title: &'static str,
    pub entries: Vec<String>,
}

/// The Composition that heads a case document. Empty sections are left out (cmp-1).
#[allow(clippy::too_many_arguments)] // one resource: each argument is one of its elements
pub fn composition(
    case: Uuid,
    worker: Uuid,
    employer: Uuid,
    employer_name: &str,
    title: &str,
    date: OffsetDateTime,
    finished: bool,
    sections: &[DocumentSection],
) -> Value {
    let sections: Vec<Value> = sections
        .iter()
        .filter(|s| !s.entries.is_empty())
        .map(|s| {
            json!({
                "title": s.title,
                "code": {"coding": [coding("document-section", s.code, s.title)]},
                "entry": s.entries.iter().map(|r| json!({"reference": r})).collect::<Vec<_>>()
            })
        })
        .collect();
    let mut m = Map::new();
    m.insert("resourceType".into(), json!("Composition"));
    m.insert("id".into(), json!(case.to_string()));
    m.insert("language".into(), json!("ja"));
    m.insert("extension".into(), json!([case_extension(case)]));
    m.insert(
        "identifier".into(),
        json!({"system": identifier_system("support-case"), "value": case.to_string()}),
    );
    m.insert(
        "status".into(),
        json!(if finished { "final" } else { "preliminary" }),
    );
    m.insert(
        "type".into(),
        json!({"coding": [coding("document-type", "support-case-record", "両立支援の記録")]}),
    );
    m.insert("subject".into(), reference("Patient", worker));
    m.insert("date".into(), json!(instant(date)));
    m.insert(
        "author".into(),
        json!([reference_named("Organization", employer, employer_name)]),
    );
    m.insert("title".into(), json!(title));
    m.insert("confidentiality".into(), json!("R"));
    m.insert(
        "custodian".into(),
        reference_named("Organization", employer, employer_name),
    );
    if !sections.is_empty() {
        m.insert("section".into(), Value::Array(sections));
    }
    Value::Object(m)
}

/// A case as a FHIR document: the Composition first, then every resource it and its
/// entries refer to.
pub fn document_bundle(
    base: &str,
    id: Uuid,
    timestamp: OffsetDateTime,
    composition: Value,
    resources: Vec<Value>,
) -> Value {
    let mut entries = vec![entry(base, composition, false)];
    entries.extend(resources.into_iter().map(|r| entry(base, r, false)));
    json!({
        "resourceType": "Bundle",
        "id": id.to_string(),
        "language": "ja",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{id}")},
        "type": "document",
        "timestamp": instant(timestamp),
        "entry": entries
    })
}

/// An error as an `OperationOutcome`: the issue type (`not-found`, `forbidden`, `invalid`…),
/// the stable code of the JSON API, its Japanese message, and one issue per field problem.
/// Its id is the request's operation id (the one in the server log), when there is one.
pub fn operation_outcome(
    operation_id: Option<&str>,
    issue_type: &str,
    code: &str,
    message: &str,
    fields: &[(String, String, String)],
) -> Value {
    let issue = |kind: &str, code: &str, text: &str, at: Option<&str>| {
        let mut m = Map::new();
        m.insert("severity".into(), json!("error"));
        m.insert("code".into(), json!(kind));
        m.insert(
            "details".into(),
            json!({"coding": [{"system": code_system("error-code"), "code": code}], "text": text}),
        );
        m.insert("diagnostics".into(), json!(text));
        if let Some(at) = at.filter(|a| !a.is_empty()) {
            m.insert("expression".into(), json!([at]));
        }
        Value::Object(m)
    };
    let mut issues = vec![issue(issue_type, code, message, None)];
    issues.extend(
        fields
            .iter()
            .map(|(field, c, msg)| issue(issue_type, c, msg, Some(field))),
    );
    let mut m = Map::new();
    m.insert("resourceType".into(), json!("OperationOutcome"));
    // FHIR ids are [A-Za-z0-9.-]{1,64}; operation ids are hex.
    if let Some(id) = operation_id.filter(|id| {
        !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    }) {
        m.insert("id".into(), json!(id));
    }
    m.insert("issue".into(), Value::Array(issues));
    Value::Object(m)
}

fn search_param(name: &str, kind: &str, doc: &str) -> Value {
    json!({"name": name, "type": kind, "documentation": doc})
}

/// What this server offers under `/fhir/R4`.
pub fn capability_statement(software_version: &str, published: &str) -> Value {
    let read_search = json!([{"code": "read"}, {"code": "search-type"}]);
    let by_patient = |kind: &str| {
        json!([
            search_param("_id", "token", "リソースのID"),
            search_param(kind, "reference", "本人（Patient/{id}）")
        ])
    };
    json!({
        "resourceType": "CapabilityStatement",
        "id": "ryoritsu",
        "url": format!("{}/CapabilityStatement/ryoritsu", crate::CANONICAL_BASE),
        "version": software_version,
        "name": "RyoritsuFhirServer",
        "title": "両立支援システム Ryoritsu の FHIR R4 インターフェース",
        "status": "active",
        "date": published,
        "publisher": "Ryoritsu",
        "description": "治療と仕事の両立支援の様式（Questionnaire）、記入済みの様式（QuestionnaireResponse）、同意（Consent）、両立支援プラン（CarePlan）、アクセス記録（AuditEvent）、案件の文書（Bundle）を提供します。見える範囲は JSON API と同じアクセス方針で決まります。",
        "kind": "instance",
        "software": {"name": "Ryoritsu", "version": software_version},
        "implementation": {"description": "両立支援システム Ryoritsu"},
        "fhirVersion": FHIR_VERSION,
        "format": [CONTENT_TYPE, "json"],
        "rest": [{
            "mode": "server",
            "documentation": "サインイン済みのセッション（JSON API と同じ Cookie と X-CSRF-Token）で利用します。様式と metadata は公開です。",
            "security": {"description": "セッション Cookie による認証。読める範囲は本人の同意と健康情報等取扱規程に従います。"},
            "resource": [
                {
                    "type": "Questionnaire",
                    "interaction": read_search,
                    "searchParam": [
                        search_param("_id", "token", "様式のID（例: continuation-opinion-v2026）"),
                        search_param("url", "uri", "様式の正規URL"),
                        search_param("version", "token", "様式の版（v2024, v2026）")
                    ]
                },
                {
                    "type": "QuestionnaireResponse",
                    "interaction": [{"code": "read"}, {"code": "search-type"}, {"code": "create", "documentation": "主治医による主治医意見書の作成（status=completed で確定）"}],
                    "searchParam": [
                        search_param("_id", "token", "書類のID"),
                        search_param("subject", "reference", "本人（Patient/{id}）"),
                        search_param("patient", "reference", "本人（Patient/{id}）")
                    ]
                },
                {"type": "Consent", "interaction": read_search, "searchParam": by_patient("patient")},
                {
                    "type": "CarePlan",
                    "interaction": read_search,
                    "searchParam": [
                        search_param("_id", "token", "プランのID"),
                        search_param("subject", "reference", "本人（Patient/{id}）"),
                        search_param("patient", "reference", "本人（Patient/{id}）")
                    ]
                },
                {
                    "type": "AuditEvent",
                    "interaction": [{"code": "search-type"}],
                    "searchParam": [search_param("patient", "reference", "本人（Patient/{id}）")]
                },
                {
                    "type": "Composition",
                    "operation": [{
                        "name": "document",
                        "definition": "http://hl7.org/fhir/OperationDefinition/Composition-document",
                        "documentation": "案件（Composition/{案件ID}）を FHIR document の Bundle として返します。"
                    }]
                },
                {"type": "Patient", "interaction": [{"code": "read"}]}
            ]
        }]
    })
}
