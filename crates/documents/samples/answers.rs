//! Filled answers for every form × version, matching the demo world (株式会社みどり精機, its
//! worker 田中 太郎, 都立さくら総合病院). Shared by the tests and the preview and benchmark
//! examples through `#[path]`; every set passes `ryoritsu_domain::forms::validate`.

use ryoritsu_domain::forms::{Answers, FormKind, FormVersion};
use serde_json::{Value, json};

/// The share code printed on the demo 勤務情報提供書.
pub const SHARE_CODE: &str = "K7QM-4WXD-9RTP";

/// Realistic answers for `form` in `version` (2026-only fields only in 2026).
pub fn filled(form: FormKind, version: FormVersion) -> Answers {
    let (mut base, from_2026) = match form {
        FormKind::WorkInformation => (work_information(), work_information_2026()),
        FormKind::ContinuationOpinion => (continuation_opinion(), clinic_contact()),
        FormKind::ReturnToWorkOpinion => (return_to_work_opinion(), clinic_contact()),
        FormKind::SupportPlan => (plan(), json!({})),
        FormKind::ReturnToWorkPlan => {
            let mut p = plan();
            if let Value::Object(m) = &mut p {
                m.insert("return_to_work_date".into(), json!("2026-06-02"));
            }
            (p, json!({}))
        }
        FormKind::SupportCard => (support_card(), support_card_2026()),
    };
    if version == FormVersion::V2026
        && let (Value::Object(b), Value::Object(extra)) = (&mut base, from_2026)
    {
        b.extend(extra);
    }
    serde_json::from_value(base).unwrap_or_default()
}

fn work_information() -> Value {
    json!({
        "addressee": {"institution": "都立さくら総合病院 消化器内科", "physician_name": "伊藤 健一"},
        "employee_name": "田中 太郎",
        "date_of_birth": "1979-07-15",
        "address": "東京都大田区西蒲田二丁目3番4号",
        "occupation": "製造ライン作業（組立・検査）",
        "job_description": {
            "details": "本社工場の組立ラインで、自動車用センサー部品の取付と目視検査を担当。\n1日の大半は立ち作業で、10kg程度の部品箱を運ぶことがある。",
            "tasks": ["light_physical", "prolonged_standing", "machine_operation"]
        },
        "work_pattern": {"pattern": "other", "other": "日勤のみ（繁忙期は早番あり）"},
        "work_hours": {
            "start": "08:30", "end": "17:30", "break_hours": 1, "days_per_week": 5,
            "overtime": "月10時間程度", "business_trips": "なし"
        },
        "commute": {"methods": ["public_transport_seated", "walk"], "minutes": 40},
        "leave_period": {"until": "2026-12-31", "days": 180, "salary_paid": false,
                         "sickness_allowance_percent": 67},
        "paid_leave_days": 12.5,
        "other_notes": "通院は月2回（平日午前）の予定。繁忙期は3月と9月。",
        "available_systems": {"systems": ["hourly_annual_leave", "short_hours", "other"],
                              "other": "半日単位の年次有給休暇"},
        "worker_confirmation": {"date": "2026-04-10", "name": "田中 太郎"},
        "company_signature": {"date": "2026-04-10", "name": "株式会社みどり精機"}
    })
}

fn work_information_2026() -> Value {
    json!({
        "occupational_physician": true,
        "company_contact": {"address": "東京都大田区東糀谷一丁目5番6号", "phone": "03-5700-1234"}
    })
}

fn clinic_contact() -> Value {
    json!({
        "clinic_contact": {"address": "東京都目黒区さくら台一丁目1番1号", "phone": "03-3700-5678"}
    })
}

fn continuation_opinion() -> Value {
    json!({
        "patient_name": "田中 太郎",
        "date_of_birth": "1979-07-15",
        "address": "東京都大田区西蒲田二丁目3番4号",
        "diagnosis": "胃がん（術後）",
        "current_symptoms": "術後の倦怠感が残る。抗がん剤の副作用で手足のしびれがあり、細かい作業で疲れやすい。",
        "treatment_plan": "外来で抗がん剤治療を半年間行う。月2回（平日午前）の通院が必要。",
        "fitness_for_work": "fit_with_conditions",
        "work_measures": "重いもの（10kg以上）を持たない。残業を避ける。当面は短時間勤務（1日6時間）が望ましい。",
        "other_considerations": "通院時間を確保する。休憩場所を確保する。",
        "measure_period": {"from": "2026-05-01", "to": "2026-10-31"},
        "worker_confirmation": {"date": "2026-04-24", "name": "田中 太郎"},
        "physician_signature": {"date": "2026-04-24", "name": "伊藤 健一"}
    })
}

fn return_to_work_opinion() -> Value {
    json!({
        "patient_name": "田中 太郎",
        "date_of_birth": "1979-07-15",
        "address": "東京都大田区西蒲田二丁目3番4号",
        "return_opinion": "fit_with_conditions",
        "work_measures": "復職後3か月は短時間勤務（1日6時間）とし、夜勤と重量物の取扱いを避ける。",
        "other_considerations": "通院時間（月1回）を確保する。",
        "measure_period": {"from": "2026-06-02", "to": "2026-08-31"},
        "worker_confirmation": {"date": "2026-05-20", "name": "田中 太郎"},
        "physician_signature": {"date": "2026-05-20", "name": "伊藤 健一"}
    })
}

fn plan() -> Value {
    json!({
        "created_on": "2026-05-08",
        "employee_name": "田中 太郎",
        "date_of_birth": "1979-07-15",
        "sex": "male",
        "department": "製造部 組立課",
        "employee_number": "M-20311",
        "treatment_status": "外来で抗がん剤治療中（月2回通院、平日午前）。副作用で手足のしびれと倦怠感がある。",
        "plan_periods": [
            {"period": "1か月目", "working_hours": "10:00～15:00（1時間休憩）",
             "measures": "短時間勤務／残業・深夜勤務・休日勤務は禁止／通院配慮",
             "treatment_schedule": "通院 月2回"},
            {"period": "2か月目", "working_hours": "9:00～16:00（1時間休憩）",
             "measures": "短時間勤務／残業禁止／通院配慮", "treatment_schedule": "通院 月2回"},
            {"period": "3か月目", "working_hours": "8:30～17:30（1時間休憩）",
             "measures": "通常勤務／残業は月10時間まで", "treatment_schedule": "通院 月1回"}
        ],
        "job_duties": "組立ラインの検査工程（座って行う作業）に限る。部品箱の運搬は行わない。",
        "other_work_considerations": "繁忙期（3月・9月）も残業は命じない。",
        "follow_up": "2週間ごとに本人・所属長・人事担当で面談し、必要に応じてプランを見直す。産業医面談は月1回。",
        "worker_confirmation": {"date": "2026-05-08", "name": "田中 太郎"},
        "manager_signature": {"date": "2026-05-08", "name": "高橋 誠"},
        "hr_signature": {"date": "2026-05-08", "name": "中村 由美"}
    })
}

fn support_card() -> Value {
    json!({
        "name": "田中 太郎",
        "date_of_birth": "1979-07-15",
        "job_description": "製造ライン作業（自動車用センサー部品の組立・検査）。正社員（期間の定めなし）。",
        "work_hours": {"start": "08:30", "end": "17:30", "break_hours": 1, "days_per_week": 5},
        "tasks": {"physical_load": ["standing", "heavy_lifting"],
                  "accident_risk": ["dangerous_machinery"],
                  "mental_burden": ["long_hours"]},
        "worker_entry": {"date": "2026-04-05", "name": "田中 太郎"},
        "diagnosis": "胃がん（術後）",
        "current_symptoms": "術後の倦怠感。抗がん剤の副作用で手足のしびれがある。",
        "treatment": "外来で抗がん剤治療を半年間。",
        "visit_frequency": "月2回（平日午前）",
        "work_opinion": "fit_with_conditions",
        "consideration_a": "重量物の取扱作業と危険な機械操作は当面避ける。",
        "consideration_b": "立位作業は1時間ごとに休憩をとる。",
        "consideration_c": "残業・休日労働は控える。",
        "physician_entry": {"date": "2026-04-12", "name": "伊藤 健一"}
    })
}

fn support_card_2026() -> Value {
    json!({
        "occupational_physician": true,
        "company_contact": {"address": "東京都大田区東糀谷一丁目5番6号", "phone": "03-5700-1234"},
        "clinic_contact": {"address": "東京都目黒区さくら台一丁目1番1号", "phone": "03-3700-5678"}
    })
}
