//! Tests across the forms module: schemas, realistic examples, every error code, finalising,
//! and property tests over every field of every form × version.

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::json;
use time::macros::datetime;
use uuid::Uuid;

use super::*;
use crate::error::ValidationErrors;

use AnswerValue as A;

fn answers(v: serde_json::Value) -> Answers {
    serde_json::from_value(v).unwrap()
}

fn all_schemas() -> impl Iterator<Item = &'static FormSchema> {
    FormKind::ALL
        .iter()
        .flat_map(|f| FormVersion::ALL.iter().map(move |v| schema(*f, *v)))
}

/// The label of the field an error path points at (`group.part`, `table[0].column`).
fn label_at(form: FormKind, version: FormVersion, path: &str) -> Option<&'static str> {
    let mut specs: Vec<&'static FieldSpec> = schema(form, version).fields().collect();
    let mut label = None;
    for segment in path.split('.') {
        let id = segment.split('[').next()?;
        let spec = *specs.iter().find(|s| s.id == id)?;
        label = Some(spec.label);
        specs = match spec.kind {
            FieldKind::Table { columns, .. } => columns.iter().collect(),
            k => k.sub_fields().unwrap_or(&[]).iter().collect(),
        };
    }
    label
}

fn codes(e: &ValidationErrors) -> Vec<(&str, &str)> {
    e.errors
        .iter()
        .map(|f| (f.field.as_str(), f.code.as_str()))
        .collect()
}

fn assert_error(result: Result<impl std::fmt::Debug, ValidationErrors>, field: &str, code: &str) {
    let e = result.unwrap_err();
    assert!(
        e.errors.iter().any(|f| f.field == field && f.code == code),
        "expected {field}/{code}, got {:?}",
        codes(&e)
    );
}

// ---------------------------------------------------------------------------------------------
// Realistic examples

fn work_information_2026() -> Answers {
    answers(json!({
        "addressee": {"institution": "〇〇市立病院 消化器内科", "physician_name": "山田 太郎"},
        "employee_name": "佐藤 花子",
        "date_of_birth": "1978-05-12",
        "address": "愛知県豊田市〇〇町1-2-3",
        "occupation": "製造ライン作業",
        "job_description": {
            "details": "自動車部品工場での組立ライン作業。\n部品の取付と目視検査を担当。",
            "tasks": ["machine_operation", "prolonged_standing", "light_physical"]
        },
        "work_pattern": {"pattern": "two_shift"},
        "work_hours": {
            "start": "8:30", "end": "１７：３０", "break_hours": "1", "days_per_week": 5,
            "overtime": "月10時間程度", "business_trips": "なし"
        },
        "commute": {"methods": ["public_transport_seated"], "minutes": "４５"},
        "leave_period": {"until": "2026-12-31", "days": 180, "salary_paid": false,
                         "sickness_allowance_percent": 67},
        "paid_leave_days": "12.5",
        "other_notes": "通院は月2回（平日午前）の予定。",
        "available_systems": {"systems": ["short_hours", "hourly_annual_leave", "other"],
                              "other": "半日単位の年次有給休暇"},
        "occupational_physician": true,
        "company_contact": {"address": "愛知県豊田市〇〇町4-5-6", "phone": "0565-00-0000"},
        "worker_confirmation": {"date": "2026-04-10", "name": "佐藤 花子"},
        "company_signature": {"date": "2026-04-10", "name": "株式会社〇〇製作所"}
    }))
}

#[test]
fn work_information_example_validates_and_normalises() {
    let v = validate(
        FormKind::WorkInformation,
        FormVersion::V2026,
        &work_information_2026(),
    )
    .unwrap();
    let a = v.answers();
    let hours = match &a["work_hours"] {
        A::Group(g) => g,
        other => panic!("{other:?}"),
    };
    assert_eq!(hours["start"], A::text("08:30"));
    assert_eq!(hours["end"], A::text("17:30"));
    assert_eq!(hours["days_per_week"], A::Number(5.into()));
    assert_eq!(
        a["paid_leave_days"],
        A::Number(serde_json::Number::from_f64(12.5).unwrap())
    );
    let commute = match &a["commute"] {
        A::Group(g) => g,
        other => panic!("{other:?}"),
    };
    assert_eq!(commute["minutes"], A::Number(45.into()));
    // Multiple choices come back in form order.
    let systems = match &a["available_systems"] {
        A::Group(g) => &g["systems"],
        other => panic!("{other:?}"),
    };
    assert_eq!(
        systems,
        &A::list(["hourly_annual_leave", "short_hours", "other"])
    );
    // Validating normalised answers changes nothing.
    let again = validate(FormKind::WorkInformation, FormVersion::V2026, a).unwrap();
    assert_eq!(&again, &v);
}

#[test]
fn the_2026_additions_are_refused_in_the_2024_version() {
    let draft = work_information_2026();
    let e = validate(FormKind::WorkInformation, FormVersion::V2024, &draft).unwrap_err();
    let unknown: BTreeSet<&str> = e
        .errors
        .iter()
        .filter(|f| f.code == "unknown_field")
        .map(|f| f.field.as_str())
        .collect();
    assert_eq!(
        unknown,
        BTreeSet::from(["company_contact", "occupational_physician"])
    );
    let mut draft = draft;
    draft.remove("company_contact");
    draft.remove("occupational_physician");
    validate(FormKind::WorkInformation, FormVersion::V2024, &draft).unwrap();
}

fn continuation_opinion() -> Answers {
    answers(json!({
        "patient_name": "佐藤 花子",
        "date_of_birth": "1978-05-12",
        "address": "愛知県豊田市〇〇町1-2-3",
        "diagnosis": "大腸がん（術後）",
        "current_symptoms": "術後の倦怠感が残る。抗がん剤の副作用で手足のしびれがある。",
        "treatment_plan": "外来化学療法を半年間、月2回の通院が必要。",
        "fitness_for_work": "fit_with_conditions",
        "work_measures": "重いものを持たない。残業を避ける。短時間勤務（1日6時間）が望ましい。",
        "other_considerations": "通院時間を確保する。休憩場所を確保する。",
        "measure_period": {"from": "2026-05-01", "to": "2026-10-31"},
        "worker_confirmation": {"date": "2026-04-20", "name": "佐藤 花子"},
        "physician_signature": {"date": "2026-04-20", "name": "山田 太郎"}
    }))
}

#[test]
fn continuation_opinion_example_validates_in_both_versions() {
    let a = continuation_opinion();
    validate(FormKind::ContinuationOpinion, FormVersion::V2024, &a).unwrap();
    let mut a26 = a.clone();
    a26.insert(
        "clinic_contact".into(),
        A::group([
            ("address", A::text("愛知県豊田市△△町7-8")),
            ("phone", A::text("0565-11-2222")),
        ]),
    );
    validate(FormKind::ContinuationOpinion, FormVersion::V2026, &a26).unwrap();
}

#[test]
fn conditional_fitness_requires_the_work_measures() {
    let mut a = continuation_opinion();
    a.remove("work_measures");
    assert_error(
        validate(FormKind::ContinuationOpinion, FormVersion::V2026, &a),
        "work_measures",
        "required",
    );
    a.insert("fitness_for_work".into(), A::text("fit"));
    validate(FormKind::ContinuationOpinion, FormVersion::V2026, &a).unwrap();
}

#[test]
fn return_to_work_opinion_not_yet_needs_the_leave_date() {
    let mut a = answers(json!({
        "patient_name": "鈴木 一郎",
        "date_of_birth": "1969-11-03",
        "return_opinion": "not_yet",
        "other_considerations": "通院時間を確保する。",
    }));
    assert_error(
        validate(FormKind::ReturnToWorkOpinion, FormVersion::V2024, &a),
        "leave_until",
        "required",
    );
    a.insert("leave_until".into(), A::text("2026-06-30"));
    validate(FormKind::ReturnToWorkOpinion, FormVersion::V2024, &a).unwrap();
    validate(FormKind::ReturnToWorkOpinion, FormVersion::V2026, &a).unwrap();
}

fn support_plan() -> Answers {
    answers(json!({
        "created_on": "2026-04-25",
        "employee_name": "佐藤 花子",
        "date_of_birth": "1978-05-12",
        "sex": "female",
        "department": "第二製造部 組立課",
        "employee_number": "A-01234",
        "treatment_status": "外来化学療法中（月2回通院）。副作用で手足のしびれと倦怠感あり。",
        "plan_periods": [
            {"period": "1か月目", "working_hours": "10:00～15:00（1時間休憩）",
             "measures": "短時間勤務／残業・深夜勤務・休日勤務は禁止／通院配慮",
             "treatment_schedule": "通院 月2回"},
            {"period": "2か月目", "working_hours": "9:00～16:00（1時間休憩）",
             "measures": "短時間勤務／残業禁止／通院配慮", "treatment_schedule": "通院 月2回"},
            {"period": "", "working_hours": "", "measures": ""},
            {"period": "3か月目", "working_hours": "8:30～17:30（1時間休憩）",
             "measures": "通常勤務／残業は月10時間まで", "treatment_schedule": "通院 月1回"}
        ],
        "job_duties": "組立ラインの検査工程（座位作業）に限る。重量物の運搬は行わない。",
        "other_work_considerations": "二交替勤務は当面免除する。",
        "follow_up": "2週間ごとに本人・所属長・人事担当で面談し、必要に応じてプランを見直す。",
        "worker_confirmation": {"date": "2026-04-25", "name": "佐藤 花子"},
        "manager_signature": {"date": "2026-04-25", "name": "高橋 次郎"},
        "hr_signature": {"date": "2026-04-25", "name": "田中 三子"}
    }))
}

#[test]
fn support_plan_example_validates_and_drops_blank_rows() {
    for version in FormVersion::ALL {
        let v = validate(FormKind::SupportPlan, *version, &support_plan()).unwrap();
        match &v.answers()["plan_periods"] {
            A::Rows(rows) => assert_eq!(rows.len(), 3),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn return_to_work_plan_needs_the_return_date() {
    let mut a = support_plan();
    assert_error(
        validate(FormKind::ReturnToWorkPlan, FormVersion::V2026, &a),
        "return_to_work_date",
        "required",
    );
    a.insert("return_to_work_date".into(), A::text("2026-05-07"));
    validate(FormKind::ReturnToWorkPlan, FormVersion::V2026, &a).unwrap();
    // The support plan has no such field.
    assert_error(
        validate(FormKind::SupportPlan, FormVersion::V2026, &a),
        "return_to_work_date",
        "unknown_field",
    );
}

#[test]
fn a_plan_row_needs_its_period() {
    let mut a = support_plan();
    a.insert(
        "plan_periods".into(),
        A::Rows(vec![answers(json!({"measures": "短時間勤務"}))]),
    );
    let e = validate(FormKind::SupportPlan, FormVersion::V2024, &a).unwrap_err();
    let err = e
        .errors
        .iter()
        .find(|f| f.field == "plan_periods[0].period")
        .unwrap();
    assert_eq!(err.code, "required");
    assert!(err.message.contains("1行目"));
    assert!(err.message.contains("「期間」"));
}

fn card_worker_part() -> Answers {
    answers(json!({
        "name": "佐藤 花子",
        "date_of_birth": "1978-05-12",
        "job_description": "製造ライン作業（自動車部品の組立）。正社員。",
        "work_hours": {"start": "08:30", "end": "17:30", "break_hours": 1, "days_per_week": 5},
        "tasks": {"physical_load": ["standing", "heavy_lifting"],
                  "accident_risk": ["dangerous_machinery"],
                  "mental_burden": ["long_hours"]},
        "occupational_physician": false,
        "worker_entry": {"date": "2026-04-05", "name": "佐藤 花子"}
    }))
}

#[test]
fn support_card_goes_from_the_worker_to_the_physician() {
    let mut a = card_worker_part();
    // STEP1: the worker's part is complete on its own.
    validate_part(FormKind::SupportCard, FormVersion::V2026, &a, Party::Worker).unwrap();
    let e = validate(FormKind::SupportCard, FormVersion::V2026, &a).unwrap_err();
    let missing: BTreeSet<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(missing, BTreeSet::from(["diagnosis", "work_opinion"]));
    // STEP2: the physician.
    a.extend(answers(json!({
        "diagnosis": "2型糖尿病",
        "current_symptoms": "血糖コントロール不良。低血糖発作の可能性あり。",
        "treatment": "インスリン導入。",
        "visit_frequency": "月2回",
        "work_opinion": "fit_with_conditions",
        "consideration_a": "高所作業・危険な機械操作は当面避ける。",
        "clinic_contact": {"phone": "0565-11-2222"},
        "physician_entry": {"date": "2026-04-12", "name": "山田 太郎"}
    })));
    validate(FormKind::SupportCard, FormVersion::V2026, &a).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Every error code

#[test]
fn required_names_the_field() {
    let e = validate(
        FormKind::ContinuationOpinion,
        FormVersion::V2026,
        &Answers::new(),
    )
    .unwrap_err();
    let err = e.errors.iter().find(|f| f.field == "diagnosis").unwrap();
    assert_eq!(err.code, "required");
    assert_eq!(err.message, "「病名」を入力してください。");
    let err = e
        .errors
        .iter()
        .find(|f| f.field == "fitness_for_work")
        .unwrap();
    assert_eq!(
        err.message,
        "「退院後／治療中の就業継続の可否」を選択してください。"
    );
    // Whitespace only is empty.
    let a = answers(json!({"diagnosis": "　 "}));
    assert_error(
        validate(FormKind::ContinuationOpinion, FormVersion::V2026, &a),
        "diagnosis",
        "required",
    );
    // Drafts may be saved half-way.
    check_draft(FormKind::ContinuationOpinion, FormVersion::V2026, &a).unwrap();
}

#[test]
fn too_long_counts_nfc_characters() {
    // 100 × 「が」 written decomposed (か + ゛) is 200 code points but 100 characters.
    let decomposed = "か\u{3099}".repeat(100);
    let a = answers(json!({ "employee_name": decomposed, "occupation": "事務職" }));
    let v = validate(FormKind::WorkInformation, FormVersion::V2024, &a).unwrap();
    assert_eq!(v.answers()["employee_name"], A::text("が".repeat(100)));
    let a = answers(json!({ "employee_name": "あ".repeat(101), "occupation": "事務職" }));
    let e = validate(FormKind::WorkInformation, FormVersion::V2024, &a).unwrap_err();
    assert_eq!(codes(&e), vec![("employee_name", "too_long")]);
    assert_eq!(
        e.errors[0].message,
        "「従業員氏名」は100文字以内で入力してください。"
    );
    // Megabytes are refused without normalising them.
    let a = answers(json!({ "other_notes": "x".repeat(1 << 20) }));
    assert_error(
        check_draft(FormKind::WorkInformation, FormVersion::V2024, &a),
        "other_notes",
        "too_long",
    );
}

#[test]
fn invalid_option_is_refused() {
    let a = answers(json!({"fitness_for_work": "maybe"}));
    assert_error(
        check_draft(FormKind::ContinuationOpinion, FormVersion::V2024, &a),
        "fitness_for_work",
        "invalid_option",
    );
    let a = answers(json!({"job_description": {"tasks": ["driving", "flying"]}}));
    let e = check_draft(FormKind::WorkInformation, FormVersion::V2024, &a).unwrap_err();
    assert_eq!(codes(&e), vec![("job_description.tasks", "invalid_option")]);
    assert!(
        e.errors[0]
            .message
            .contains("「職務内容」の「該当する作業」")
    );
}

#[test]
fn dates_are_read_as_people_type_them_and_stored_as_iso() {
    for (bad, code) in [
        ("2026-02-30", "invalid_day"),
        ("26-04-01", "invalid_date"),
        ("令和0年4月1日", "era_year_zero"),
        ("平成32年4月1日", "outside_era"),
        ("1800-01-01", "invalid_date"),
        ("あした", "invalid_date"),
    ] {
        let a = answers(json!({ "date_of_birth": bad }));
        let e = check_draft(FormKind::ContinuationOpinion, FormVersion::V2024, &a).unwrap_err();
        assert_eq!(codes(&e), vec![("date_of_birth", code)], "{bad}");
        assert!(
            e.errors[0].message.contains("「生年月日」"),
            "{bad}: {}",
            e.errors[0].message
        );
    }
    for (typed, iso) in [
        ("２０２４－０２－２９", "2024-02-29"),
        ("令和8年4月1日", "2026-04-01"),
        ("R8.4.1", "2026-04-01"),
        ("2026/4/1", "2026-04-01"),
        ("平成元年1月8日", "1989-01-08"),
    ] {
        let a = answers(json!({ "date_of_birth": typed }));
        let out = check_draft(FormKind::ContinuationOpinion, FormVersion::V2024, &a).unwrap();
        assert_eq!(out["date_of_birth"], A::text(iso), "{typed}");
    }
}

#[test]
fn invalid_range_when_the_period_ends_before_it_starts() {
    let a = answers(json!({"measure_period": {"from": "2026-10-01", "to": "2026-05-01"}}));
    let e = check_draft(FormKind::ReturnToWorkOpinion, FormVersion::V2024, &a).unwrap_err();
    assert_eq!(codes(&e), vec![("measure_period", "invalid_range")]);
    assert!(e.errors[0].message.contains("「上記の措置期間」"));
}

#[test]
fn unknown_fields_are_refused_at_every_level() {
    let a = answers(json!({"blood_type": "A", "work_hours": {"lunch": "12:00"}}));
    let e = check_draft(FormKind::WorkInformation, FormVersion::V2026, &a).unwrap_err();
    assert_eq!(
        codes(&e),
        vec![
            ("work_hours.lunch", "unknown_field"),
            ("blood_type", "unknown_field")
        ]
    );
}

#[test]
fn charset_refuses_controls_and_bidi_overrides() {
    for bad in [
        "佐藤\u{0007}",
        "佐藤\u{202E}子花",
        "佐藤\n花子",
        "\u{2066}x",
    ] {
        let a = answers(json!({ "patient_name": bad }));
        let e = check_draft(FormKind::ReturnToWorkOpinion, FormVersion::V2026, &a).unwrap_err();
        assert_eq!(codes(&e), vec![("patient_name", "charset")], "{bad:?}");
        assert!(e.errors[0].message.contains("「患者氏名」"));
    }
    // Multiline text keeps newlines and tabs; CRLF becomes LF.
    let a = answers(
        json!({ "other_considerations": "通院時間を確保する。\r\n\t休憩場所を確保する。" }),
    );
    let out = check_draft(FormKind::ReturnToWorkOpinion, FormVersion::V2026, &a).unwrap();
    assert_eq!(
        out["other_considerations"],
        A::text("通院時間を確保する。\n\t休憩場所を確保する。")
    );
    let a = answers(json!({ "other_considerations": "通院\u{0000}" }));
    assert_error(
        check_draft(FormKind::ReturnToWorkOpinion, FormVersion::V2026, &a),
        "other_considerations",
        "charset",
    );
}

#[test]
fn times_numbers_and_types() {
    let f = FormKind::WorkInformation;
    let v = FormVersion::V2024;
    let cases = [
        (
            json!({"work_hours": {"start": "25:00"}}),
            "work_hours.start",
            "invalid_time",
        ),
        (
            json!({"work_hours": {"days_per_week": "８"}}),
            "work_hours.days_per_week",
            "out_of_range",
        ),
        (
            json!({"work_hours": {"days_per_week": "五"}}),
            "work_hours.days_per_week",
            "invalid_number",
        ),
        (
            json!({"work_hours": {"break_hours": 0.125}}),
            "work_hours.break_hours",
            "invalid_number",
        ),
        (
            json!({"paid_leave_days": -1}),
            "paid_leave_days",
            "invalid_number",
        ),
        (
            json!({"occupational_physician": "有"}),
            "occupational_physician",
            "unknown_field",
        ),
        (
            json!({"leave_period": {"salary_paid": "有り"}}),
            "leave_period.salary_paid",
            "invalid_type",
        ),
        (
            json!({"employee_name": ["佐藤"]}),
            "employee_name",
            "invalid_type",
        ),
        (
            json!({"work_hours": "8:30-17:30"}),
            "work_hours",
            "invalid_type",
        ),
        (json!({"lead": "上書き"}), "lead", "read_only"),
    ];
    for (input, field, code) in cases {
        assert_error(check_draft(f, v, &answers(input)), field, code);
    }
    let ok = answers(json!({"work_hours": {"break_hours": "０．７５", "days_per_week": 5.0}}));
    check_draft(f, v, &ok).unwrap();
}

#[test]
fn too_many_rows_is_refused() {
    let rows: Vec<Answers> = (1..=25)
        .map(|i| answers(json!({ "period": format!("{i}か月目") })))
        .collect();
    let mut a = support_plan();
    a.insert("plan_periods".into(), A::Rows(rows));
    assert_error(
        validate(FormKind::SupportPlan, FormVersion::V2024, &a),
        "plan_periods",
        "too_many_rows",
    );
}

#[test]
fn other_text_is_required_once_other_is_ticked() {
    let a =
        answers(json!({"employee_name": "佐藤 花子", "commute": {"methods": ["walk", "other"]}}));
    let e = validate_part(
        FormKind::WorkInformation,
        FormVersion::V2024,
        &a,
        Party::Worker,
    )
    .unwrap_err();
    assert_eq!(codes(&e), vec![("commute.other", "required")]);
    assert_eq!(
        e.errors[0].message,
        "「通勤方法／通勤時間」の「その他（内容）」を入力してください。"
    );
}

#[test]
fn answers_round_trip_through_json() {
    let a = work_information_2026();
    let json = serde_json::to_string(&a).unwrap();
    let back: Answers = serde_json::from_str(&json).unwrap();
    assert_eq!(back, a);
}

// ---------------------------------------------------------------------------------------------
// Draft → finalised → correction

fn worker_signs() -> Attestation {
    Attestation {
        signature_field: "worker_confirmation".into(),
        party: Party::Worker,
    }
}

#[test]
fn finalise_needs_valid_answers_and_the_attested_signature() {
    let id = Uuid::from_u128(1);
    let by = Uuid::from_u128(2);
    let at = datetime!(2026-04-10 09:15:00.123456789 UTC);
    let mut draft = DraftDocument::new(id, FormKind::WorkInformation, FormVersion::V2026);
    assert!(draft.finalise(by, at, worker_signs()).is_err());

    draft.answers = work_information_2026();
    draft.answers.remove("worker_confirmation");
    draft.check().unwrap();
    assert_error(
        draft.finalise(by, at, worker_signs()),
        "worker_confirmation",
        "required",
    );
    let wrong_party = Attestation {
        signature_field: "worker_confirmation".into(),
        party: Party::Employer,
    };
    assert_error(
        draft.finalise(by, at, wrong_party),
        "worker_confirmation",
        "wrong_party",
    );
    let not_a_signature = Attestation {
        signature_field: "employee_name".into(),
        party: Party::Worker,
    };
    assert_error(
        draft.finalise(by, at, not_a_signature),
        "attestation",
        "invalid_attestation",
    );

    draft.answers = work_information_2026();
    let fin = draft.finalise(by, at, worker_signs()).unwrap();
    assert_eq!(fin.id(), id);
    assert_eq!(fin.revision(), 1);
    assert_eq!(fin.corrects(), None);
    assert_eq!(fin.confirmed_by(), by);
    assert_eq!(fin.confirmed_at().nanosecond(), 123_456_000);

    // Stored JSON loads back only if it still validates.
    let json = serde_json::to_value(&fin).unwrap();
    let back: FinalisedDocument = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, fin);
    let mut tampered = json;
    tampered["answers"]["occupation"] = json!("");
    assert!(serde_json::from_value::<FinalisedDocument>(tampered).is_err());

    // A correction is a new document that points at the one it corrects.
    let mut fix = DraftDocument::correction_of(&fin, Uuid::from_u128(3));
    assert_eq!(fix.corrects, Some(id));
    assert_eq!(fix.revision, 2);
    fix.answers
        .insert("other_notes".into(), A::text("通院は月1回に変更。"));
    let fixed = fix
        .finalise(by, datetime!(2026-05-01 10:00 UTC), worker_signs())
        .unwrap();
    assert_eq!(fixed.corrects(), Some(id));
    assert_eq!(fixed.revision(), 2);
    assert_eq!(
        fin.answers()["other_notes"],
        A::text("通院は月2回（平日午前）の予定。")
    );
}

// ---------------------------------------------------------------------------------------------
// Schemas

fn check_specs(specs: &[&'static FieldSpec], top_level: bool, where_: &str) {
    let mut ids = BTreeSet::new();
    for spec in specs {
        assert!(!spec.id.is_empty() && !spec.label.is_empty(), "{where_}");
        assert!(ids.insert(spec.id), "{where_}: duplicate id {}", spec.id);
        assert!(
            spec.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{where_}: id {}",
            spec.id
        );
        if top_level {
            assert_eq!(
                spec.filled_by.is_some(),
                spec.kind.answerable(),
                "{where_}.{}",
                spec.id
            );
        } else {
            assert!(spec.filled_by.is_none(), "{where_}.{}", spec.id);
            assert_eq!(spec.versions, FormVersion::ALL, "{where_}.{}", spec.id);
        }
        if let Some(w) = spec.required_when {
            let sibling = specs.iter().find(|s| s.id == w.field).unwrap();
            let options = match sibling.kind {
                FieldKind::SingleChoice { options } | FieldKind::MultipleChoice { options } => {
                    options
                }
                _ => panic!("{where_}.{}: condition on a non-choice", spec.id),
            };
            assert!(options.iter().any(|o| o.code == w.option));
        }
        match spec.kind {
            FieldKind::SingleChoice { options } | FieldKind::MultipleChoice { options } => {
                let codes: BTreeSet<_> = options.iter().map(|o| o.code).collect();
                assert_eq!(codes.len(), options.len());
                assert!(options.iter().all(|o| !o.label.is_empty()));
            }
            FieldKind::Table { columns, max_rows } => {
                assert!(max_rows > 0);
                let cols: Vec<_> = columns.iter().collect();
                check_specs(&cols, false, &format!("{where_}.{}", spec.id));
            }
            FieldKind::FixedText { text } => assert!(!text.is_empty()),
            k => {
                if let Some(parts) = k.sub_fields() {
                    let parts: Vec<_> = parts.iter().collect();
                    check_specs(&parts, false, &format!("{where_}.{}", spec.id));
                }
            }
        }
    }
}

#[test]
fn every_schema_has_labelled_unique_fields() {
    for s in all_schemas() {
        assert_eq!(schema(s.form, s.version).form, s.form);
        assert!(!s.title.is_empty());
        let fields: Vec<_> = s.fields().collect();
        assert!(fields.len() > 5);
        check_specs(&fields, true, s.form.code());
        // At least one signature line to attest on finalising.
        assert!(
            fields
                .iter()
                .any(|f| matches!(f.kind, FieldKind::Signature { .. }))
        );
        let json = serde_json::to_value(s).unwrap();
        assert_eq!(json["fields"].as_array().unwrap().len(), fields.len());
    }
}

#[test]
fn the_2026_version_has_the_2026_additions() {
    use FormKind as F;
    let additions: &[(F, &[&str])] = &[
        (
            F::WorkInformation,
            &["occupational_physician", "company_contact"],
        ),
        (
            F::ContinuationOpinion,
            &["clinic_contact", "employer_decides"],
        ),
        (
            F::ReturnToWorkOpinion,
            &["clinic_contact", "employer_decides"],
        ),
        (
            F::SupportCard,
            &[
                "occupational_physician",
                "company_contact",
                "clinic_contact",
            ],
        ),
    ];
    for (form, ids) in additions {
        for id in *ids {
            assert!(
                schema(*form, FormVersion::V2026).field(id).is_some(),
                "{id}"
            );
            assert!(
                schema(*form, FormVersion::V2024).field(id).is_none(),
                "{id}"
            );
        }
    }
    let note = schema(F::ContinuationOpinion, FormVersion::V2026)
        .field("employer_decides")
        .unwrap();
    assert!(
        matches!(note.kind, FieldKind::FixedText { text } if text.contains("事業者が最終的に決定する"))
    );
    assert_eq!(
        schema(F::SupportPlan, FormVersion::V2026).title,
        "治療と就業の両立支援プラン"
    );
    assert!(
        schema(F::ReturnToWorkPlan, FormVersion::V2024)
            .field("return_to_work_date")
            .is_some()
    );
}

#[test]
fn enumerations_serialise_as_their_codes() {
    fn check<T: serde::Serialize>(all: &[T], code: impl Fn(&T) -> &'static str) {
        for v in all {
            assert_eq!(serde_json::to_value(v).unwrap(), json!(code(v)));
        }
    }
    check(FormKind::ALL, |v| v.code());
    check(FormVersion::ALL, |v| v.code());
    check(Party::ALL, |v| v.code());
    check(WorkTask::ALL, |v| v.code());
    check(WorkPattern::ALL, |v| v.code());
    check(CommuteMethod::ALL, |v| v.code());
    check(AvailableSystem::ALL, |v| v.code());
    check(FitnessForWork::ALL, |v| v.code());
    check(ReturnToWorkFitness::ALL, |v| v.code());
    check(Sex::ALL, |v| v.code());
    check(PhysicalLoadTask::ALL, |v| v.code());
    check(AccidentRiskTask::ALL, |v| v.code());
    check(MentalBurdenTask::ALL, |v| v.code());
    check(CardWorkOpinion::ALL, |v| v.code());
    assert_eq!(WorkTask::OPTIONS.len(), 12);
    assert_eq!(AvailableSystem::OPTIONS.len(), 7);
    assert_eq!(PhysicalLoadTask::OPTIONS.len(), 8);
}

// ---------------------------------------------------------------------------------------------
// Properties

/// The natural JSON shape for a field, with `s` in every leaf.
fn shaped(spec: &FieldSpec, s: &str) -> AnswerValue {
    match spec.kind {
        FieldKind::MultipleChoice { .. } => A::List(vec![s.to_owned()]),
        FieldKind::Table { columns, .. } => A::Rows(vec![
            columns
                .iter()
                .map(|c| (c.id.to_owned(), shaped(c, s)))
                .collect(),
        ]),
        k => match k.sub_fields() {
            Some(parts) => A::Group(
                parts
                    .iter()
                    .map(|p| (p.id.to_owned(), shaped(p, s)))
                    .collect(),
            ),
            None => A::text(s),
        },
    }
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => any::<String>(),
        4 => "[ぁ-んァ-ヶ一-龠ー、。・（）「」　 a-zA-Z]{0,60}",
        3 => "[0-9０-９]{0,4}[-－:：.．]?[0-9０-９]{0,2}[-－]?[0-9０-９]{0,2}",
        2 => "[\\x00-\\x1f\\x7f\u{202A}-\u{202E}\u{2066}-\u{2069}\u{3099}か a\n\t]{0,30}",
        1 => Just(String::new()),
        1 => (any::<char>(), 0usize..=(1 << 20))
            .prop_map(|(c, bytes)| std::iter::repeat_n(c, bytes / c.len_utf8()).collect()),
    ]
}

fn check_messages(form: FormKind, version: FormVersion, e: &ValidationErrors) {
    for err in &e.errors {
        assert_ne!(err.code, "unknown_field");
        let label = label_at(form, version, &err.field)
            .unwrap_or_else(|| panic!("no field at {}", err.field));
        assert!(
            err.message.contains(&format!("「{label}」")),
            "{} does not name {label}",
            err.message
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn validation_never_panics_and_errors_name_their_field(s in any_text()) {
        for sch in all_schemas() {
            for spec in sch.fields() {
                let mut a = Answers::new();
                a.insert(spec.id.to_owned(), shaped(spec, &s));
                for result in [
                    validate(sch.form, sch.version, &a).map(ValidatedAnswers::into_answers),
                    validate_part(sch.form, sch.version, &a, Party::Worker),
                    check_draft(sch.form, sch.version, &a),
                ] {
                    match result {
                        Err(e) => check_messages(sch.form, sch.version, &e),
                        // Normalising twice gives the same answers.
                        Ok(out) => prop_assert_eq!(
                            check_draft(sch.form, sch.version, &out).unwrap(),
                            out
                        ),
                    }
                }
            }
        }
    }
}
