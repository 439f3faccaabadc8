use std::collections::BTreeSet;

use ryoritsu_domain::forms::{AnswerValue, Answers, FormKind, FormVersion, validate};
use serde_json::{Value, json};
use time::macros::datetime;
use uuid::Uuid;

use super::*;

fn link_ids(items: &Value, out: &mut Vec<String>) {
    for it in items.as_array().into_iter().flatten() {
        out.push(it["linkId"].as_str().unwrap().to_owned());
        link_ids(&it["item"], out);
    }
}

#[test]
fn every_form_and_version_is_a_questionnaire_with_unique_link_ids() {
    for (form, version) in QUESTIONNAIRES {
        let q = questionnaire(*form, *version);
        assert_eq!(q["resourceType"], "Questionnaire");
        assert_eq!(q["status"], "active");
        assert_eq!(q["language"], "ja");
        assert_eq!(q["version"], version.code());
        assert_eq!(
            questionnaire_for_id(q["id"].as_str().unwrap()),
            Some((*form, *version))
        );
        let mut ids = Vec::new();
        link_ids(&q["item"], &mut ids);
        let unique: BTreeSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{form:?} {version:?}");
    }
}

#[test]
fn choices_are_codings_of_one_system_per_option_set() {
    let q = questionnaire(FormKind::ContinuationOpinion, FormVersion::V2026);
    let item = q["item"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["linkId"] == "fitness_for_work")
        .unwrap();
    assert_eq!(item["type"], "choice");
    assert_eq!(item["required"], true);
    let opts = item["answerOption"].as_array().unwrap();
    assert_eq!(opts.len(), 3);
    assert_eq!(
        opts[1]["valueCoding"],
        json!({
            "system": "https://ryoritsu.jp/fhir/CodeSystem/fitness-for-work",
            "code": "fit_with_conditions",
            "display": "条件付きで可（就業上の措置があれば可能）"
        })
    );
    // The 2024 edition lacks the 2026 additions.
    let old = questionnaire(FormKind::ContinuationOpinion, FormVersion::V2024);
    assert!(!old.to_string().contains("clinic_contact"));
    assert!(q.to_string().contains("clinic_contact"));
}

fn opinion_answers() -> Answers {
    serde_json::from_value(json!({
        "patient_name": "田中 太郎",
        "diagnosis": "胃がん（術後）",
        "current_symptoms": "術後の倦怠感が残る。\n食事は少量ずつ。",
        "fitness_for_work": "fit_with_conditions",
        "work_measures": "重量物の取扱いを避ける。",
        "measure_period": {"from": "2026-04-01", "to": "2026-09-30"},
        "physician_signature": {"date": "2026-03-20", "name": "伊藤 健一"}
    }))
    .unwrap()
}

fn view(answers: &Answers, form: FormKind) -> DocumentView<'_> {
    DocumentView {
        id: Uuid::from_u128(1),
        case: Uuid::from_u128(2),
        worker: Uuid::from_u128(3),
        form,
        version: FormVersion::V2026,
        answers,
        finalised: true,
        revision: 1,
        corrects: None,
        author: Uuid::from_u128(4),
        authored: datetime!(2026-03-20 10:00 UTC),
    }
}

#[test]
fn an_exported_opinion_imports_to_the_same_answers() {
    let answers = validate(
        FormKind::ContinuationOpinion,
        FormVersion::V2026,
        &opinion_answers(),
    )
    .unwrap()
    .into_answers();
    let qr = questionnaire_response(&view(&answers, FormKind::ContinuationOpinion));
    assert_eq!(qr["status"], "completed");
    assert_eq!(
        qr["questionnaire"],
        "https://ryoritsu.jp/fhir/Questionnaire/continuation-opinion|v2026"
    );
    let back = import_response(&qr).unwrap();
    assert_eq!(back.case, Uuid::from_u128(2));
    assert_eq!(back.form, FormKind::ContinuationOpinion);
    assert_eq!(back.version, FormVersion::V2026);
    assert!(back.completed);
    assert_eq!(back.answers, answers);
}

#[test]
fn every_kind_of_answer_survives_the_round_trip() {
    let answers: Answers = serde_json::from_value(json!({
        "employee_name": "田中 太郎",
        "occupation": "製造ライン作業",
        "job_description": {"details": "組立", "tasks": ["prolonged_standing", "light_physical"]},
        "work_pattern": {"pattern": "other", "other": "隔週土曜"},
        "work_hours": {"start": "08:30", "end": "17:30", "break_hours": 1.5, "days_per_week": 5},
        "paid_leave_days": 12.5,
        "occupational_physician": true,
        "worker_confirmation": {"date": "2026-03-01", "name": "田中 太郎"}
    }))
    .unwrap();
    let answers = validate(FormKind::WorkInformation, FormVersion::V2026, &answers)
        .unwrap()
        .into_answers();
    let qr = questionnaire_response(&view(&answers, FormKind::WorkInformation));
    assert!(qr.to_string().contains("\"valueTime\":\"08:30:00\""));
    assert_eq!(import_response(&qr).unwrap().answers, answers);

    let plan: Answers = serde_json::from_value(json!({
        "created_on": "2026-03-01",
        "employee_name": "田中 太郎",
        "sex": "male",
        "plan_periods": [
            {"period": "1か月目", "working_hours": "10:00～15:00", "measures": "短時間勤務"},
            {"period": "2か月目", "measures": "残業禁止"}
        ]
    }))
    .unwrap();
    let plan = validate(FormKind::SupportPlan, FormVersion::V2026, &plan)
        .unwrap()
        .into_answers();
    let qr = questionnaire_response(&view(&plan, FormKind::SupportPlan));
    let back = import_response(&qr).unwrap();
    assert_eq!(back.answers, plan);
    assert!(matches!(back.answers.get("plan_periods"), Some(AnswerValue::Rows(r)) if r.len() == 2));
}

#[test]
fn imports_name_what_is_wrong_in_japanese_with_stable_codes() {
    let answers = opinion_answers();
    let mut qr = questionnaire_response(&view(&answers, FormKind::ContinuationOpinion));
    qr["item"]
        .as_array_mut()
        .unwrap()
        .push(json!({"linkId": "nonsense", "answer": [{"valueString": "x"}]}));
    qr["item"][0]["answer"] = json!([{"valueInteger": 3}]);
    let errs = import_response(&qr).unwrap_err();
    let codes: Vec<&str> = errs.errors.iter().map(|e| e.code.as_str()).collect();
    assert!(codes.contains(&"unknown_item"), "{codes:?}");
    assert!(codes.contains(&"invalid_answer"), "{codes:?}");
    assert!(
        errs.errors
            .iter()
            .all(|e| e.message.chars().any(|c| c > '\u{3000}'))
    );

    let mut qr = questionnaire_response(&view(&answers, FormKind::ContinuationOpinion));
    let fitness = qr["item"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|i| i["linkId"] == "fitness_for_work")
        .unwrap();
    fitness["answer"][0]["valueCoding"]["code"] = json!("maybe");
    assert_eq!(
        import_response(&qr).unwrap_err().errors[0].code,
        "invalid_option"
    );

    let mut qr = questionnaire_response(&view(&answers, FormKind::ContinuationOpinion));
    qr["questionnaire"] = json!("https://example.org/Questionnaire/other|1");
    assert_eq!(
        import_response(&qr).unwrap_err().errors[0].code,
        "unknown_questionnaire"
    );
    assert_eq!(
        import_response(&json!({"resourceType": "Patient"}))
            .unwrap_err()
            .errors[0]
            .code,
        "wrong_resource_type"
    );
    let mut qr = questionnaire_response(&view(&answers, FormKind::ContinuationOpinion));
    qr.as_object_mut().unwrap().remove("extension");
    assert_eq!(
        import_response(&qr).unwrap_err().errors[0].code,
        "missing_case"
    );
}

#[test]
fn a_document_bundle_starts_with_its_composition() {
    let c = composition(
        Uuid::from_u128(2),
        Uuid::from_u128(3),
        Uuid::from_u128(5),
        "株式会社みどり精機",
        "両立支援の記録",
        datetime!(2026-03-20 10:00 UTC),
        false,
        &[
            DocumentSection {
                code: "forms",
                title: "書類",
                entries: vec!["QuestionnaireResponse/x".into()],
            },
            DocumentSection {
                code: "consents",
                title: "同意",
                entries: vec![],
            },
        ],
    );
    assert_eq!(
        c["section"].as_array().unwrap().len(),
        1,
        "empty sections are left out"
    );
    let b = document_bundle(
        "http://localhost/fhir/R4",
        Uuid::from_u128(9),
        datetime!(2026-03-20 10:00 UTC),
        c,
        vec![patient(Uuid::from_u128(3), "田中 太郎")],
    );
    assert_eq!(b["type"], "document");
    assert_eq!(b["entry"][0]["resource"]["resourceType"], "Composition");
    assert_eq!(
        b["entry"][1]["fullUrl"],
        format!("http://localhost/fhir/R4/Patient/{}", Uuid::from_u128(3))
    );
}

/// The folder of the independent validators, when they are installed.
fn validator() -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/fhir-validate");
    (dir.join("node_modules").is_dir() && dir.join(".venv").is_dir()).then_some(dir)
}

/// One of each resource, written to a folder and checked by the independent validators
/// (tools/fhir-validate) when they are installed; CI installs them.
#[test]
fn every_kind_of_exported_resource_validates_as_fhir_r4() {
    use ryoritsu_domain::audit::{AuditAction, Outcome};
    use ryoritsu_domain::consent::{Consent, Recipient};
    use ryoritsu_domain::info::InformationCategory;
    use ryoritsu_domain::org::Role;

    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<(String, Value)> = Vec::new();
    for (form, version) in QUESTIONNAIRES {
        files.push((
            format!("q-{}.json", questionnaire_id(*form, *version)),
            questionnaire(*form, *version),
        ));
    }
    let opinion = validate(
        FormKind::ContinuationOpinion,
        FormVersion::V2026,
        &opinion_answers(),
    )
    .unwrap()
    .into_answers();
    files.push((
        "qr-opinion.json".into(),
        questionnaire_response(&view(&opinion, FormKind::ContinuationOpinion)),
    ));
    let plan: Answers = serde_json::from_value(json!({
        "created_on": "2026-03-01",
        "employee_name": "田中 太郎",
        "return_to_work_date": "2026-04-01",
        "treatment_status": "外来で治療中",
        "plan_periods": [{"period": "1か月目", "working_hours": "10:00～15:00", "measures": "短時間勤務"}],
        "follow_up": "2週間ごとに面談"
    }))
    .unwrap();
    let plan = validate(FormKind::ReturnToWorkPlan, FormVersion::V2026, &plan)
        .unwrap()
        .into_answers();
    let mut draft = view(&plan, FormKind::ReturnToWorkPlan);
    draft.finalised = false;
    files.push(("qr-plan.json".into(), questionnaire_response(&draft)));
    files.push((
        "careplan.json".into(),
        care_plan(&PlanView {
            id: Uuid::from_u128(1),
            case: Uuid::from_u128(2),
            worker: Uuid::from_u128(3),
            employer: Uuid::from_u128(5),
            employer_name: "株式会社みどり精機",
            form: FormKind::ReturnToWorkPlan,
            version: FormVersion::V2026,
            answers: &plan,
            finalised: true,
            created: datetime!(2026-03-01 09:00 UTC),
        }),
    ));
    let c = Consent {
        id: Uuid::from_u128(6),
        worker: Uuid::from_u128(3),
        case: Uuid::from_u128(2),
        recipient: Recipient {
            organisation: Uuid::from_u128(5),
            role: Role::OccupationalPhysician,
            person: Some(Uuid::from_u128(7)),
        },
        categories: [
            InformationCategory::Medical,
            InformationCategory::WorkMeasures,
        ]
        .into_iter()
        .collect(),
        purpose: "就業上の措置について産業医の意見を聴くため".into(),
        granted_at: datetime!(2026-03-01 09:00 UTC),
        expires_at: Some(datetime!(2027-03-01 09:00 UTC)),
        withdrawn_at: Some(datetime!(2026-05-01 09:00 UTC)),
        explanation_version: 1,
    };
    files.push((
        "consent.json".into(),
        consent(&c, "株式会社みどり精機", datetime!(2026-06-01 09:00 UTC)),
    ));
    files.push((
        "audit.json".into(),
        audit_event(&AuditView {
            at: datetime!(2026-03-01 09:00:00.123456 UTC),
            case: Uuid::from_u128(2),
            worker: Uuid::from_u128(3),
            actor_name: Some("山田 花子"),
            actor_role: Some(Role::HrOfficer),
            organisation: Some("株式会社みどり精機"),
            action: AuditAction::Read,
            category: Some(InformationCategory::WorkInformation),
            outcome: Outcome::Success,
        }),
    ));
    let comp = composition(
        Uuid::from_u128(2),
        Uuid::from_u128(3),
        Uuid::from_u128(5),
        "株式会社みどり精機",
        "両立支援の記録",
        datetime!(2026-03-20 10:00 UTC),
        true,
        &[DocumentSection {
            code: "forms",
            title: "書類",
            entries: vec![format!("QuestionnaireResponse/{}", Uuid::from_u128(1))],
        }],
    );
    files.push((
        "document.json".into(),
        document_bundle(
            "http://localhost/fhir/R4",
            Uuid::from_u128(9),
            datetime!(2026-03-20 10:00 UTC),
            comp,
            vec![
                questionnaire_response(&view(&opinion, FormKind::ContinuationOpinion)),
                patient(Uuid::from_u128(3), "田中 太郎"),
                organization(Uuid::from_u128(5), "株式会社みどり精機"),
            ],
        ),
    ));
    files.push((
        "searchset.json".into(),
        searchset(
            "http://localhost/fhir/R4",
            "http://localhost/fhir/R4/Consent",
            vec![consent(
                &c,
                "株式会社みどり精機",
                datetime!(2026-04-01 09:00 UTC),
            )],
        ),
    ));
    files.push((
        "outcome.json".into(),
        operation_outcome(
            Some("0a1b2c3d4e5f6071"),
            "invalid",
            "validation_failed",
            "入力内容に誤りがあります。",
            &[(
                "diagnosis".into(),
                "required".into(),
                "「病名」を入力してください。".into(),
            )],
        ),
    ));
    files.push((
        "metadata.json".into(),
        capability_statement("0.1.0", "2026-11-01"),
    ));
    for (name, v) in &files {
        std::fs::write(dir.path().join(name), serde_json::to_vec_pretty(v).unwrap()).unwrap();
    }
    let Some(tool) = validator() else {
        println!(
            "FHIR validator not installed (tools/fhir-validate/setup.sh): only the mapping was checked"
        );
        return;
    };
    let out = std::process::Command::new(tool.join("validate.sh"))
        .arg(dir.path())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
