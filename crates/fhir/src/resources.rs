//! Patient, Organization, Consent, CarePlan and AuditEvent.

use ryoritsu_domain::audit::{AuditAction, Outcome};
use ryoritsu_domain::consent::Consent;
use ryoritsu_domain::forms::{AnswerValue, Answers, FieldKind, FormKind, FormVersion, schema};
use ryoritsu_domain::info::InformationCategory;
use ryoritsu_domain::org::Role;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    case_extension, coding, extension_url, identifier_system, instant, reference, reference_named,
};

/// The worker a case is about.
pub fn patient(worker: Uuid, name: &str) -> Value {
    json!({
        "resourceType": "Patient",
        "id": worker.to_string(),
        "identifier": [{"system": identifier_system("user"), "value": worker.to_string()}],
        "name": [{"text": name}]
    })
}

/// An employer, hospital or support agency taking part in a case.
pub fn organization(id: Uuid, name: &str) -> Value {
    json!({
        "resourceType": "Organization",
        "id": id.to_string(),
        "identifier": [{"system": identifier_system("organisation"), "value": id.to_string()}],
        "name": name
    })
}

fn category_coding(c: InformationCategory) -> Value {
    coding("information-category", c.code(), c.label())
}

fn role_coding(r: Role) -> Value {
    coding("role", r.code(), r.label())
}

/// One consent of the worker: a privacy consent that permits the named recipient (an
/// organisation, in one role, possibly one person) to read the listed categories until it
/// expires or is withdrawn.
pub fn consent(c: &Consent, recipient_name: &str, now: OffsetDateTime) -> Value {
    let status = if c.is_active(now) {
        "active"
    } else {
        "inactive"
    };
    // The consent ends at its withdrawal or its expiry, whichever comes first.
    let end = match (c.withdrawn_at, c.expires_at) {
        (Some(w), Some(e)) => Some(w.min(e)),
        (w, e) => w.or(e),
    };
    let mut period = Map::new();
    period.insert("start".into(), json!(instant(c.granted_at)));
    if let Some(e) = end {
        period.insert("end".into(), json!(instant(e)));
    }
    let recipient_role = json!({"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
        "code": "IRCP",
        "display": "information recipient"
    }]});
    let mut actors = vec![json!({
        "extension": [{"url": extension_url("recipient-role"), "valueCoding": role_coding(c.recipient.role)}],
        "role": recipient_role,
        "reference": reference_named("Organization", c.recipient.organisation, recipient_name)
    })];
    if let Some(person) = c.recipient.person {
        actors.push(json!({
            "role": recipient_role,
            "reference": crate::user_reference("Practitioner", person)
        }));
    }
    let mut extension = vec![case_extension(c.case)];
    extension.push(json!({"url": extension_url("consent-purpose"), "valueString": c.purpose}));
    extension.push(json!({
        "url": extension_url("consent-explanation-version"),
        "valueInteger": c.explanation_version
    }));
    json!({
        "resourceType": "Consent",
        "id": c.id.to_string(),
        "extension": extension,
        "status": status,
        "scope": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/consentscope",
            "code": "patient-privacy",
            "display": "Privacy Consent"
        }]},
        "category": [{"coding": [{
            "system": "http://loinc.org",
            "code": "59284-0",
            "display": "Patient Consent"
        }]}],
        "patient": reference("Patient", c.worker),
        "dateTime": instant(c.granted_at),
        "performer": [reference("Patient", c.worker)],
        "policyRule": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "OPTIN",
            "display": "opt-in"
        }]},
        "provision": {
            "type": "permit",
            "period": Value::Object(period),
            "actor": actors,
            "class": c.categories.iter().map(|x| category_coding(*x)).collect::<Vec<_>>()
        }
    })
}

/// A plan document (両立支援プラン / 職場復帰支援プラン).
#[derive(Debug, Clone)]
pub struct PlanView<'a> {
    pub id: Uuid,
    pub case: Uuid,
    pub worker: Uuid,
    pub employer: Uuid,
    pub employer_name: &'a str,
    pub form: FormKind,
    pub version: FormVersion,
    pub answers: &'a Answers,
    pub finalised: bool,
    pub created: OffsetDateTime,
}

fn text_of<'a>(answers: &'a Answers, id: &str) -> Option<&'a str> {
    answers
        .get(id)
        .and_then(AnswerValue::as_text)
        .filter(|s| !s.trim().is_empty())
}

/// The plan as a `CarePlan`: one activity per period of the plan's table (勤務時間, 就業上の
/// 措置, 治療の予定), the other sections as notes. The plan's own form is the
/// `QuestionnaireResponse` with the same id, named in `supportingInfo`.
pub fn care_plan(p: &PlanView<'_>) -> Value {
    let s = schema(p.form, p.version);
    let label = |id: &'static str| -> &'static str { s.field(id).map_or(id, |f| f.label) };
    let mut m = Map::new();
    m.insert("resourceType".into(), json!("CarePlan"));
    m.insert("id".into(), json!(p.id.to_string()));
    m.insert("language".into(), json!("ja"));
    m.insert("extension".into(), json!([case_extension(p.case)]));
    m.insert(
        "identifier".into(),
        json!([{"system": identifier_system("document"), "value": p.id.to_string()}]),
    );
    m.insert(
        "status".into(),
        json!(if p.finalised { "active" } else { "draft" }),
    );
    m.insert("intent".into(), json!("plan"));
    m.insert(
        "category".into(),
        json!([{"coding": [coding("form", p.form.code(), p.form.label())]}]),
    );
    m.insert("title".into(), json!(s.title));
    if let Some(t) = text_of(p.answers, "treatment_status") {
        m.insert("description".into(), json!(t));
    }
    m.insert("subject".into(), reference("Patient", p.worker));
    let start = text_of(p.answers, "return_to_work_date").or(text_of(p.answers, "created_on"));
    if let Some(start) = start {
        m.insert("period".into(), json!({"start": start}));
    }
    m.insert("created".into(), json!(instant(p.created)));
    m.insert(
        "author".into(),
        reference_named("Organization", p.employer, p.employer_name),
    );
    m.insert(
        "supportingInfo".into(),
        json!([reference("QuestionnaireResponse", p.id)]),
    );
    let rows: &[Answers] = match p.answers.get("plan_periods") {
        Some(AnswerValue::Rows(rows)) => rows,
        _ => &[],
    };
    let columns = ["working_hours", "measures", "treatment_schedule"];
    let column_label = |c: &'static str| -> &'static str {
        match s.field("plan_periods").map(|f| f.kind) {
            Some(FieldKind::Table { columns, .. }) => {
                columns.iter().find(|x| x.id == c).map_or(c, |x| x.label)
            }
            _ => c,
        }
    };
    let activities: Vec<Value> = rows
        .iter()
        .map(|row| {
            let period = text_of(row, "period").unwrap_or("");
            let mut lines = vec![format!("期間: {period}")];
            for c in columns {
                if let Some(v) = text_of(row, c) {
                    let name = column_label(c);
                    lines.push(format!("{name}: {v}"));
                }
            }
            json!({"detail": {
                "code": {"text": format!("{}（{period}）", label("plan_periods"))},
                "status": "unknown",
                "description": lines.join("\n")
            }})
        })
        .collect();
    if !activities.is_empty() {
        m.insert("activity".into(), Value::Array(activities));
    }
    let notes: Vec<Value> = ["job_duties", "other_work_considerations", "follow_up"]
        .iter()
        .filter_map(|id| {
            text_of(p.answers, id).map(|t| json!({"text": format!("{}: {t}", label(id))}))
        })
        .collect();
    if !notes.is_empty() {
        m.insert("note".into(), Value::Array(notes));
    }
    Value::Object(m)
}

/// One line of a worker's access log.
#[derive(Debug, Clone)]
pub struct AuditView<'a> {
    pub at: OffsetDateTime,
    pub case: Uuid,
    pub worker: Uuid,
    pub actor_name: Option<&'a str>,
    pub actor_role: Option<Role>,
    pub organisation: Option<&'a str>,
    pub action: AuditAction,
    pub category: Option<InformationCategory>,
    pub outcome: Outcome,
}

/// The REST-style action code (create, read, update, execute) of an audited action.
fn action_code(a: AuditAction) -> &'static str {
    match a {
        AuditAction::Read | AuditAction::Disclosed | AuditAction::AccessDenied => "R",
        AuditAction::CaseOpened
        | AuditAction::ConsentGranted
        | AuditAction::ScanUploaded
        | AuditAction::NoteWritten
        | AuditAction::CorrectionRequested => "C",
        AuditAction::DocumentSaved
        | AuditAction::DocumentFinalised
        | AuditAction::CaseStep
        | AuditAction::ConsentWithdrawn
        | AuditAction::PartyAdded
        | AuditAction::CorrectionAnswered
        | AuditAction::SupportTaskChanged => "U",
        _ => "E",
    }
}

/// An access-log line as an `AuditEvent`: who (name, role, organisation) did what to which
/// category of the worker's case, when, and whether it was allowed.
pub fn audit_event(a: &AuditView<'_>) -> Value {
    let outcome = match a.outcome {
        Outcome::Success => "0",
        Outcome::Denied => "4",
        Outcome::Failure => "8",
    };
    let mut who = Map::new();
    let name = match (a.actor_name, a.organisation) {
        (Some(n), Some(o)) => Some(format!("{n}（{o}）")),
        (Some(n), None) => Some(n.to_owned()),
        (None, Some(o)) => Some(o.to_owned()),
        (None, None) => None,
    };
    if let Some(n) = &name {
        who.insert("display".into(), json!(n));
    }
    let mut agent = Map::new();
    if let Some(r) = a.actor_role {
        agent.insert(
            "role".into(),
            json!([{"coding": [coding("role", r.code(), r.label())]}]),
        );
    }
    if !who.is_empty() {
        agent.insert("who".into(), Value::Object(who));
    }
    if let Some(n) = name {
        agent.insert("name".into(), json!(n));
    }
    agent.insert("requestor".into(), json!(true));
    let mut case_entity = Map::new();
    case_entity.insert(
        "what".into(),
        json!({"identifier": {"system": identifier_system("support-case"), "value": a.case.to_string()}}),
    );
    case_entity.insert(
        "type".into(),
        json!({"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2", "display": "System Object"}),
    );
    if let Some(c) = a.category {
        case_entity.insert("securityLabel".into(), json!([category_coding(c)]));
        case_entity.insert("description".into(), json!(c.label()));
    }
    json!({
        "resourceType": "AuditEvent",
        "extension": [case_extension(a.case)],
        "type": {
            "system": "http://dicom.nema.org/resources/ontology/DCM",
            "code": "110110",
            "display": "Patient Record"
        },
        "subtype": [coding("audit-action", a.action.code(), a.action.label())],
        "action": action_code(a.action),
        "recorded": instant(a.at),
        "outcome": outcome,
        "outcomeDesc": a.outcome.label(),
        "agent": [Value::Object(agent)],
        "source": {
            "observer": {"display": "両立支援システム Ryoritsu"},
            "type": [{
                "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                "code": "4",
                "display": "Application Server"
            }]
        },
        "entity": [
            {
                "what": reference("Patient", a.worker),
                "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1", "display": "Person"},
                "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient"}
            },
            Value::Object(case_entity)
        ]
    })
}
