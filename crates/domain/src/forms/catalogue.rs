//! The five official sample forms, field by field in form order (forms-and-rules.md §1).
//!
//! Required flags and maximum lengths are ours [I]: the paper forms have neither. The party of
//! each field follows the flow in §1 (worker and employer write 1a together) [I].

use super::options::{
    AccidentRiskTask, AvailableSystem, CardWorkOpinion, CommuteMethod, FitnessForWork,
    MentalBurdenTask, PhysicalLoadTask, ReturnToWorkFitness, Sex, WorkPattern, WorkTask,
};
use super::schema::{FROM_2026, FieldKind, FieldSpec, FormSchema, field, fixed, heading, part};
use super::{FormKind, FormVersion, Party};
use crate::info::InformationCategory as C;

use FieldKind as K;
use Party::{AttendingPhysician as Physician, Employer, Worker};

const NAME: FieldKind = K::Text { max_chars: 100 };
const SHORT: FieldKind = K::Text { max_chars: 200 };
const PHONE: FieldKind = K::Text { max_chars: 30 };
const LONG: FieldKind = K::Multiline { max_chars: 2000 };
const MEDIUM: FieldKind = K::Multiline { max_chars: 500 };

/// Wording of the 2026 指針 draft (wic-net 23188/16) [C as draft; final wording not seen].
const EMPLOYER_DECIDES: &str = "職場復帰・就業継続の可否や具体的な就業上の配慮等に関しては、主治医の意見をもとに、産業医等の意見を勘案しつつ、労働者と十分話し合った上で、事業者が最終的に決定するものである。";

const YES_NO_PRESENT: FieldKind = K::YesNo {
    yes: "有",
    no: "無",
};

/// 2026: 会社の連絡先（住所、電話番号）.
const COMPANY_CONTACT: &[FieldSpec] = &[
    part("address", "住所", SHORT),
    part("phone", "電話番号", PHONE),
];

/// 2026: 医療機関の連絡先（住所、電話番号）.
const CLINIC_CONTACT: &[FieldSpec] = &[
    part("address", "住所", SHORT),
    part("phone", "電話番号", PHONE),
];

// ---------------------------------------------------------------------------------------------
// 1a 勤務情報提供書

const ADDRESSEE: &[FieldSpec] = &[
    part("institution", "主治医所属", SHORT),
    part("physician_name", "主治医氏名", NAME),
];

const JOB_DESCRIPTION: &[FieldSpec] = &[
    part("details", "作業場所・作業内容", LONG),
    // [R] unverified against the MHLW sample: the checkbox options.
    part(
        "tasks",
        "該当する作業",
        K::MultipleChoice {
            options: WorkTask::OPTIONS,
        },
    ),
];

// [R] unverified against the MHLW sample: options.
const WORK_PATTERN: &[FieldSpec] = &[
    part(
        "pattern",
        "種類",
        K::SingleChoice {
            options: WorkPattern::OPTIONS,
        },
    ),
    part("other", "その他（内容）", SHORT).required_when("pattern", "other"),
];

// [R] unverified against the MHLW sample: the sub-fields after 時 分 ～ 時 分.
const WORK_HOURS_1A: &[FieldSpec] = &[
    part("start", "始業時刻", K::Time),
    part("end", "終業時刻", K::Time),
    part(
        "break_hours",
        "休憩（時間）",
        K::Number {
            min: 0,
            max: 24,
            decimals: 2,
            unit: "時間",
        },
    ),
    part(
        "days_per_week",
        "週（日間）",
        K::Number {
            min: 0,
            max: 7,
            decimals: 0,
            unit: "日間",
        },
    ),
    part("overtime", "時間外・休日労働の状況", MEDIUM),
    part("business_trips", "国内・海外出張の状況", MEDIUM),
];

// [R] unverified against the MHLW sample: options.
const COMMUTE: &[FieldSpec] = &[
    part(
        "methods",
        "通勤方法",
        K::MultipleChoice {
            options: CommuteMethod::OPTIONS,
        },
    ),
    part("other", "その他（内容）", SHORT).required_when("methods", "other"),
    part(
        "minutes",
        "通勤時間（分）",
        K::Number {
            min: 0,
            max: 600,
            decimals: 0,
            unit: "分",
        },
    ),
];

// [R] unverified against the MHLW sample: the whole field.
const LEAVE_PERIOD: &[FieldSpec] = &[
    part("until", "年月日まで", K::Date),
    part(
        "days",
        "日間",
        K::Number {
            min: 0,
            max: 9999,
            decimals: 0,
            unit: "日間",
        },
    ),
    part(
        "salary_paid",
        "給与支給",
        K::YesNo {
            yes: "有り",
            no: "無し",
        },
    ),
    part(
        "sickness_allowance_percent",
        "傷病手当金（％）",
        K::Number {
            min: 0,
            max: 100,
            decimals: 0,
            unit: "％",
        },
    ),
];

// [R] unverified against the MHLW sample: options (the six 制度 are the 指針's list [C]).
const AVAILABLE_SYSTEMS: &[FieldSpec] = &[
    part(
        "systems",
        "制度",
        K::MultipleChoice {
            options: AvailableSystem::OPTIONS,
        },
    ),
    part("other", "その他（内容）", SHORT).required_when("systems", "other"),
];

static WORK_INFORMATION: &[FieldSpec] = &[
    field(
        "addressee",
        "主治医所属・氏名",
        K::Group { fields: ADDRESSEE },
        Worker,
    )
    .names_who_treats()
    .hint("（主治医所属・氏名）　先生"),
    // [R] unverified against the MHLW sample: the lead text.
    fixed(
        "lead",
        "前文",
        "今後の就業継続の可否、業務の内容について職場で配慮したほうがよいことなどについて、先生にご意見をいただくための従業員の勤務に関する情報です。",
    ),
    field("employee_name", "従業員氏名", NAME, Worker).required(),
    field("date_of_birth", "生年月日", K::Date, Worker),
    field("address", "住所", SHORT, Worker),
    // [R] unverified against the MHLW sample: the hint.
    field("occupation", "職種", NAME, Employer)
        .required()
        .hint("※事務職、自動車の運転手、建設作業員など"),
    field(
        "job_description",
        "職務内容",
        K::Group {
            fields: JOB_DESCRIPTION,
        },
        Employer,
    ),
    field(
        "work_pattern",
        "勤務形態",
        K::Group {
            fields: WORK_PATTERN,
        },
        Employer,
    ),
    field(
        "work_hours",
        "勤務時間",
        K::Group {
            fields: WORK_HOURS_1A,
        },
        Employer,
    ),
    field(
        "commute",
        "通勤方法／通勤時間",
        K::Group { fields: COMMUTE },
        Worker,
    ),
    // [R] unverified against the MHLW sample.
    field(
        "leave_period",
        "休業可能期間",
        K::Group {
            fields: LEAVE_PERIOD,
        },
        Employer,
    ),
    // [R] unverified against the MHLW sample.
    field(
        "paid_leave_days",
        "有給休暇日数",
        K::Number {
            min: 0,
            max: 999,
            decimals: 1,
            unit: "日間",
        },
        Employer,
    )
    .hint("残　日間"),
    // [R] unverified against the MHLW sample.
    field("other_notes", "その他特記事項", LONG, Employer),
    field(
        "available_systems",
        "利用可能な制度",
        K::Group {
            fields: AVAILABLE_SYSTEMS,
        },
        Employer,
    ),
    // 2026 additions [C as draft]; their position on the form is [I].
    field(
        "occupational_physician",
        "産業医の有無",
        YES_NO_PRESENT,
        Employer,
    )
    .only(FROM_2026),
    field(
        "company_contact",
        "会社の連絡先（住所、電話番号）",
        K::Group {
            fields: COMPANY_CONTACT,
        },
        Employer,
    )
    .only(FROM_2026),
    // [R] unverified against the MHLW sample: the wording.
    field(
        "worker_confirmation",
        "本人署名",
        K::Signature {
            statement: Some("上記内容を確認しました。"),
        },
        Worker,
    ),
    field(
        "company_signature",
        "会社名",
        K::Signature { statement: None },
        Employer,
    ),
];

// ---------------------------------------------------------------------------------------------
// 1b / 1c 主治医意見書

// [R] unverified against the MHLW sample: the examples and the note.
const WORK_MEASURES_HINT: &str = "例：重いものを持たない、暑い場所での作業は避ける、車の運転は不可、残業を避ける、長期の出張や海外出張は避ける　など\n注）提供された勤務情報を踏まえて、医学的見地から必要と考えられる配慮等の記載をお願いします。";
// [R] unverified against the MHLW sample: the examples.
const OTHER_CONSIDERATIONS_HINT: &str = "例：通院時間を確保する、休憩場所を確保する　など";
const WORK_MEASURES_LABEL: &str =
    "業務の内容について職場で配慮したほうがよいこと（望ましい就業上の措置）";

static CONTINUATION_OPINION: &[FieldSpec] = &[
    // [R] unverified against the MHLW sample: 患者氏名, 生年月日, 住所.
    field("patient_name", "患者氏名", NAME, Physician).required(),
    field("date_of_birth", "生年月日", K::Date, Physician),
    field("address", "住所", SHORT, Physician),
    field("diagnosis", "病名", SHORT, Physician).required(),
    // [R] unverified against the MHLW sample: label and hint.
    field("current_symptoms", "現在の症状", LONG, Physician)
        .hint("（通勤や業務遂行に影響を及ぼし得る症状や薬の副作用等）"),
    // [R] unverified against the MHLW sample: label and hint.
    field("treatment_plan", "治療の予定", LONG, Physician).hint(
        "（入院治療・通院治療の必要性、今後のスケジュール（半年間、月1回の通院が必要、等））",
    ),
    // [R] unverified against the MHLW sample: the option glosses.
    field(
        "fitness_for_work",
        "退院後／治療中の就業継続の可否",
        K::SingleChoice {
            options: FitnessForWork::OPTIONS,
        },
        Physician,
    )
    .required(),
    field("work_measures", WORK_MEASURES_LABEL, LONG, Physician)
        .about(C::WorkMeasures)
        .hint(WORK_MEASURES_HINT)
        .required_when("fitness_for_work", "fit_with_conditions"),
    field("other_considerations", "その他配慮事項", LONG, Physician)
        .about(C::WorkMeasures)
        .hint(OTHER_CONSIDERATIONS_HINT),
    field("measure_period", "上記の措置期間", K::DateRange, Physician).about(C::WorkMeasures),
    // 2026 additions [C as draft]; that they go on this form and where is [I].
    field(
        "clinic_contact",
        "医療機関の連絡先（住所、電話番号）",
        K::Group {
            fields: CLINIC_CONTACT,
        },
        Physician,
    )
    .only(FROM_2026),
    fixed(
        "employer_decides",
        "注記（事業者による決定）",
        EMPLOYER_DECIDES,
    )
    .only(FROM_2026),
    // [R] unverified against the MHLW sample.
    field(
        "worker_confirmation",
        "本人署名",
        K::Signature {
            statement: Some("上記内容を確認しました。"),
        },
        Worker,
    ),
    // [R] unverified against the MHLW sample.
    field(
        "physician_signature",
        "主治医署名",
        K::Signature {
            statement: Some("上記のとおり、診断し、就業継続の可否等に関する意見を提出します。"),
        },
        Physician,
    ),
    // [R] unverified against the MHLW sample: the footnote's wording.
    fixed(
        "footnote",
        "注",
        "（注）この様式は、患者が病状を悪化させることなく治療と就労を両立できるよう、職場での対応を検討するために使用するものです。この書類は、患者本人から会社に提供され、プライバシーに十分配慮して管理されます。",
    ),
];

static RETURN_TO_WORK_OPINION: &[FieldSpec] = &[
    field("patient_name", "患者氏名", NAME, Physician).required(),
    field("date_of_birth", "生年月日", K::Date, Physician),
    field("address", "住所", SHORT, Physician),
    // [P] the 「休業：～年月日」 wording of the third option.
    field(
        "return_opinion",
        "復職に関する意見",
        K::SingleChoice {
            options: ReturnToWorkFitness::OPTIONS,
        },
        Physician,
    )
    .required(),
    field("leave_until", "休業（～年月日）", K::Date, Physician)
        .required_when("return_opinion", "not_yet"),
    field("work_measures", WORK_MEASURES_LABEL, LONG, Physician)
        .about(C::WorkMeasures)
        .hint(WORK_MEASURES_HINT)
        .required_when("return_opinion", "fit_with_conditions"),
    field("other_considerations", "その他配慮事項", LONG, Physician)
        .about(C::WorkMeasures)
        .hint(OTHER_CONSIDERATIONS_HINT),
    field("measure_period", "上記の措置期間", K::DateRange, Physician).about(C::WorkMeasures),
    // 2026 additions: §1b lists them for 主治医意見書; applying them to 1c too is [I].
    field(
        "clinic_contact",
        "医療機関の連絡先（住所、電話番号）",
        K::Group {
            fields: CLINIC_CONTACT,
        },
        Physician,
    )
    .only(FROM_2026),
    fixed(
        "employer_decides",
        "注記（事業者による決定）",
        EMPLOYER_DECIDES,
    )
    .only(FROM_2026),
    field(
        "worker_confirmation",
        "本人署名",
        K::Signature {
            statement: Some("上記内容を確認しました。"),
        },
        Worker,
    ),
    field(
        "physician_signature",
        "主治医署名",
        K::Signature {
            statement: Some("上記のとおり、職場復帰の可否等に関する意見を提出します。"),
        },
        Physician,
    ),
];

// ---------------------------------------------------------------------------------------------
// 1d 両立支援プラン／職場復帰支援プラン — the whole layout is [R] (shoshiki691.docx not read).

const PLAN_PERIODS: &[FieldSpec] = &[
    part("period", "期間", K::Text { max_chars: 50 }).required(),
    part("working_hours", "勤務時間", SHORT),
    part("measures", "就業上の措置・治療への配慮等", MEDIUM),
    part("treatment_schedule", "（参考）治療等の予定", MEDIUM).about(C::Medical),
];

/// Generates the plan's field list; the return-to-work plan adds 職場復帰日.
macro_rules! plan_fields {
    ($($return_date:expr)?) => {
        &[
            // [R] unverified against the MHLW sample: every field of the plan.
            field("created_on", "作成日", K::Date, Employer).required(),
            field("employee_name", "従業員氏名", NAME, Employer).required(),
            field("date_of_birth", "生年月日", K::Date, Employer),
            field(
                "sex",
                "性別",
                K::SingleChoice {
                    options: Sex::OPTIONS,
                },
                Employer,
            ),
            field("department", "所属", SHORT, Employer),
            field("employee_number", "従業員番号", K::Text { max_chars: 50 }, Employer),
            $($return_date,)?
            field("treatment_status", "治療・投薬等の状況、今後の予定", LONG, Employer)
                .about(C::Medical),
            // The table has no printed label; this one names it in messages [I].
            field(
                "plan_periods",
                "期間ごとの勤務時間・就業上の措置等",
                K::Table {
                    columns: PLAN_PERIODS,
                    max_rows: 24,
                },
                Employer,
            )
            .required()
            .hint("例：1か月目｜10:00～15:00（1時間休憩）｜短時間勤務／残業・深夜勤務・休日勤務は禁止／通院配慮"),
            field("job_duties", "業務内容", LONG, Employer),
            field("other_work_considerations", "その他就業上の配慮事項", LONG, Employer),
            // Printed as 「その他」; it carries the follow-up method and schedule (指針 [C]).
            field(
                "follow_up",
                "その他（フォローアップの方法・スケジュール等）",
                LONG,
                Employer,
            )
            .hint("例：職場復帰後は2週間ごとに本人・総務担当で面談を行い、必要に応じてプランの見直しを行う。"),
            // Signers recalled as 本人／所属長／人事部; whether 産業医 signs is unconfirmed.
            field(
                "worker_confirmation",
                "本人",
                K::Signature {
                    statement: Some("上記内容について確認しました。"),
                },
                Worker,
            ),
            field(
                "manager_signature",
                "所属長",
                K::Signature { statement: None },
                Employer,
            ),
            field(
                "hr_signature",
                "人事部",
                K::Signature { statement: None },
                Employer,
            ),
        ]
    };
}

static SUPPORT_PLAN: &[FieldSpec] = plan_fields!();
static RETURN_TO_WORK_PLAN: &[FieldSpec] =
    plan_fields!(field("return_to_work_date", "職場復帰日", K::Date, Employer).required());

// ---------------------------------------------------------------------------------------------
// 1e 治療と仕事の両立支援カード

const WORK_HOURS_CARD: &[FieldSpec] = &[
    part("start", "始業時刻", K::Time),
    part("end", "終業時刻", K::Time),
    part(
        "break_hours",
        "休憩（時間）",
        K::Number {
            min: 0,
            max: 24,
            decimals: 2,
            unit: "時間",
        },
    ),
    part(
        "days_per_week",
        "週（日間）",
        K::Number {
            min: 0,
            max: 7,
            decimals: 0,
            unit: "日間",
        },
    ),
];

const CARD_TASKS: &[FieldSpec] = &[
    part(
        "physical_load",
        "(1) 身体上の負荷がある作業",
        K::MultipleChoice {
            options: PhysicalLoadTask::OPTIONS,
        },
    ),
    part(
        "accident_risk",
        "(2) 事故の可能性が高まる作業",
        K::MultipleChoice {
            options: AccidentRiskTask::OPTIONS,
        },
    ),
    // [P] only ① of (3) was captured.
    part(
        "mental_burden",
        "(3) 心身の負担が高いと感じられる作業",
        K::MultipleChoice {
            options: MentalBurdenTask::OPTIONS,
        },
    ),
];

static SUPPORT_CARD: &[FieldSpec] = &[
    heading("worker_section", "Ⅰ. 本人記載欄"),
    field("name", "氏名", NAME, Worker).required(),
    field("date_of_birth", "生年月日", K::Date, Worker),
    field(
        "job_description",
        "職務内容（有期雇用の場合は雇用契約期間も併せてご記入ください）",
        LONG,
        Worker,
    )
    .about(C::WorkInformation),
    field(
        "work_hours",
        "勤務時間",
        K::Group {
            fields: WORK_HOURS_CARD,
        },
        Worker,
    )
    .about(C::WorkInformation),
    field(
        "tasks",
        "1 上記職務内容に含まれる作業",
        K::Group { fields: CARD_TASKS },
        Worker,
    )
    .about(C::WorkInformation)
    .hint("右記(1)～(3)について該当する作業に〇を記してください"),
    // [P] any further 本人 items (e.g. a free 「2.」 section) were not captured.
    // 2026 additions to the 本人欄 [C as draft; row mapping I].
    field("occupational_physician", "産業医の有無", YES_NO_PRESENT, Worker).only(FROM_2026),
    field(
        "company_contact",
        "会社の連絡先（住所、電話番号）",
        K::Group {
            fields: COMPANY_CONTACT,
        },
        Worker,
    )
    .only(FROM_2026),
    // [I] a dated name line; the research notes do not show one, finalising needs it.
    field(
        "worker_entry",
        "本人記入日・氏名",
        K::Signature { statement: None },
        Worker,
    ),
    heading("physician_section", "Ⅱ. 医師記載欄"),
    field("diagnosis", "診断名", SHORT, Physician).required(),
    field("current_symptoms", "現在の症状", LONG, Physician),
    field("treatment", "今後の治療内容", LONG, Physician),
    field("visit_frequency", "通院頻度", NAME, Physician),
    // [P] the third option is unreadable in the source.
    field(
        "work_opinion",
        "就労に関する意見",
        K::SingleChoice {
            options: CardWorkOpinion::OPTIONS,
        },
        Physician,
    )
    .required(),
    field("unfit_until", "不可（年月日まで）", K::Date, Physician)
        .required_when("work_opinion", "unfit"),
    field(
        "consideration_a",
        "ア 病勢の悪化や労働災害など事故に巻き込まれることを防ぐために配慮が必要な事項（本人記載欄1の作業に対応する配慮事項）",
        LONG,
        Physician,
    )
    .about(C::WorkMeasures)
    .required_when("work_opinion", "fit_with_conditions"),
    // [P] headings イ and ウ were not captured (a fragment reads 「…・アの配慮の補足」); the
    // labels are the bare letters until checked against card.pdf.
    field("consideration_b", "医師記載欄 イ", LONG, Physician).about(C::WorkMeasures),
    field("consideration_c", "医師記載欄 ウ", LONG, Physician).about(C::WorkMeasures),
    // 2026 addition to the 医師欄 [C as draft; row mapping I].
    field(
        "clinic_contact",
        "医療機関の連絡先（住所、電話番号）",
        K::Group {
            fields: CLINIC_CONTACT,
        },
        Physician,
    )
    .only(FROM_2026),
    // [I] a dated signature line; the research notes do not show one, finalising needs it.
    field(
        "physician_entry",
        "医師記入日・氏名",
        K::Signature { statement: None },
        Physician,
    ),
];

// ---------------------------------------------------------------------------------------------

macro_rules! schemas {
    ($($name:ident = $form:ident, $version:ident, $title:literal, $fields:ident;)+) => {
        $(static $name: FormSchema = FormSchema {
            form: FormKind::$form,
            version: FormVersion::$version,
            title: $title,
            all_fields: $fields,
        };)+
    };
}

schemas! {
    WI_2024 = WorkInformation, V2024, "勤務情報提供書", WORK_INFORMATION;
    WI_2026 = WorkInformation, V2026, "勤務情報提供書", WORK_INFORMATION;
    CO_2024 = ContinuationOpinion, V2024, "治療の状況や就業継続の可否等についての主治医意見書", CONTINUATION_OPINION;
    CO_2026 = ContinuationOpinion, V2026, "治療の状況や就業継続の可否等についての主治医意見書", CONTINUATION_OPINION;
    RO_2024 = ReturnToWorkOpinion, V2024, "職場復帰の可否等についての主治医意見書", RETURN_TO_WORK_OPINION;
    RO_2026 = ReturnToWorkOpinion, V2026, "職場復帰の可否等についての主治医意見書", RETURN_TO_WORK_OPINION;
    SP_2024 = SupportPlan, V2024, "両立支援プラン", SUPPORT_PLAN;
    // The 2026 指針 renames the plan [C].
    SP_2026 = SupportPlan, V2026, "治療と就業の両立支援プラン", SUPPORT_PLAN;
    RP_2024 = ReturnToWorkPlan, V2024, "職場復帰支援プラン", RETURN_TO_WORK_PLAN;
    RP_2026 = ReturnToWorkPlan, V2026, "職場復帰支援プラン", RETURN_TO_WORK_PLAN;
    SC_2024 = SupportCard, V2024, "治療と仕事の両立支援カード", SUPPORT_CARD;
    // Whether the card is renamed 「治療と就業…」 in 2026 is not known [I].
    SC_2026 = SupportCard, V2026, "治療と仕事の両立支援カード", SUPPORT_CARD;
}

/// The schema of one form in one version.
pub fn schema(form: FormKind, version: FormVersion) -> &'static FormSchema {
    use FormKind as F;
    use FormVersion as V;
    match (form, version) {
        (F::WorkInformation, V::V2024) => &WI_2024,
        (F::WorkInformation, V::V2026) => &WI_2026,
        (F::ContinuationOpinion, V::V2024) => &CO_2024,
        (F::ContinuationOpinion, V::V2026) => &CO_2026,
        (F::ReturnToWorkOpinion, V::V2024) => &RO_2024,
        (F::ReturnToWorkOpinion, V::V2026) => &RO_2026,
        (F::SupportPlan, V::V2024) => &SP_2024,
        (F::SupportPlan, V::V2026) => &SP_2026,
        (F::ReturnToWorkPlan, V::V2024) => &RP_2024,
        (F::ReturnToWorkPlan, V::V2026) => &RP_2026,
        (F::SupportCard, V::V2024) => &SC_2024,
        (F::SupportCard, V::V2026) => &SC_2026,
    }
}
