//! 療養・就労両立支援指導 as the hospital records it: the sessions of B001-9 given to a patient,
//! the institution's notified facility standards, the fee engine's input built from them, and
//! the monthly billing summaries.
//!
//! Decided rules:
//! - A session is a billing record of the hospital and names the disease, so the worker reads
//!   it as medical information about them and nobody outside the hospital sees it (employers
//!   never). Hospital staff attached to the case (主治医, the hospital's coordinators) record
//!   it; the physician named is an 主治医 of that hospital.
//! - Sessions are append-only: a correction is a new version of the session, a 取消 is a new
//!   version that marks it cancelled with a reason. The latest version counts.
//! - Facility standards are effective-dated: each notification applies from its date until a
//!   later one. A session is evaluated with the standards in force on its date.
//! - Verdicts come from [`crate::fees::evaluate`] over all current sessions of the patient at
//!   the institution together (初回 and ２回目以降 depend on history).

use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime};
use uuid::Uuid;

use crate::error::{FieldError, ValidationErrors};
use crate::fees::{
    Condition, Delivery, Exclusions, FacilityStandards, FeeEvaluation, FeeInput, FeeItem,
    FeeSchedule, InformationProvision, Session, SessionVerdict, Setting, StaffPresent, evaluate,
};
use crate::org::Role;

/// Longest note, in characters.
pub const NOTE_MAX: usize = 1000;
/// Longest cancellation reason, in characters.
pub const REASON_MAX: usize = 500;
/// Most staff listed as present at one session.
pub const STAFF_MAX: usize = 10;

/// Field names in the API and on the forms.
pub mod field {
    pub const DATE: &str = "date";
    pub const PHYSICIAN: &str = "physician_id";
    pub const STAFF: &str = "staff_present";
    pub const NOTE: &str = "note";
    pub const REASON: &str = "reason";
    pub const MONTH: &str = "month";
    pub const EFFECTIVE_FROM: &str = "effective_from";
}

/// What one session records, apart from who recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuidanceDetails {
    /// 実施日.
    pub date: Date,
    pub setting: Setting,
    pub delivery: Delivery,
    /// The 主治医 who gave the guidance (a user of the institution).
    pub physician: Uuid,
    pub condition: Condition,
    /// 患者の求め and 同意.
    pub requested_with_consent: bool,
    /// Information given to the workplace at this visit, if any.
    #[serde(default)]
    pub information: Option<InformationProvision>,
    #[serde(default)]
    pub staff_present: Vec<StaffPresent>,
    #[serde(default)]
    pub exclusions: Exclusions,
    #[serde(default)]
    pub note: Option<String>,
}

/// The input as typed: everything but the date and note is already one of the engine's values.
#[derive(Debug, Clone)]
pub struct GuidanceInput<'a> {
    /// 和暦 or 西暦, as other date fields accept.
    pub date: &'a str,
    pub setting: Setting,
    pub delivery: Delivery,
    pub physician: Option<Uuid>,
    pub condition: Condition,
    pub requested_with_consent: bool,
    pub information: Option<InformationProvision>,
    pub staff_present: Vec<StaffPresent>,
    pub exclusions: Exclusions,
    pub note: Option<&'a str>,
}

fn unusable(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A free text: trimmed, at most `max` characters, no control characters but line breaks.
fn text(name: &str, label: &str, raw: &str, max: usize) -> Result<Option<String>, FieldError> {
    let s = raw.replace("\r\n", "\n").replace('\r', "\n");
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > max {
        return Err(FieldError::new(
            name,
            "too_long",
            format!("「{label}」は{max}文字以内で入力してください。"),
        ));
    }
    if s.chars().any(unusable) {
        return Err(FieldError::new(
            name,
            "charset",
            format!("「{label}」に使えない文字が含まれています。"),
        ));
    }
    Ok(Some(s.to_owned()))
}

impl GuidanceDetails {
    /// Checks the input against `today` (the Japanese date) and reports every problem at once.
    /// Whether the physician belongs to the institution is the caller's to check.
    pub fn parse(
        input: GuidanceInput<'_>,
        today: Date,
    ) -> Result<GuidanceDetails, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let date = match crate::wareki::parse(input.date, "実施日") {
            Ok(d) if d > today => {
                errs.push(FieldError::new(
                    field::DATE,
                    "in_the_future",
                    "「実施日」には今日までの日付を入力してください（指導を行った日を記録します）。",
                ));
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                errs.push(e.into_field_error(field::DATE));
                None
            }
        };
        if input.physician.is_none() {
            errs.push(FieldError::new(
                field::PHYSICIAN,
                "required",
                "指導を行った主治医を選んでください。",
            ));
        }
        if input.staff_present.len() > STAFF_MAX {
            errs.push(FieldError::new(
                field::STAFF,
                "too_many",
                format!("同席した職員は{STAFF_MAX}人まで記録できます。"),
            ));
        }
        let note = match text(field::NOTE, "メモ", input.note.unwrap_or(""), NOTE_MAX) {
            Ok(n) => n,
            Err(e) => {
                errs.push(e);
                None
            }
        };
        match (date, input.physician) {
            (Some(date), Some(physician)) if errs.is_empty() => Ok(GuidanceDetails {
                date,
                setting: input.setting,
                delivery: input.delivery,
                physician,
                condition: input.condition,
                requested_with_consent: input.requested_with_consent,
                information: input.information,
                staff_present: input.staff_present,
                exclusions: input.exclusions,
                note,
            }),
            _ => Err(errs),
        }
    }

    /// The engine's session, with the facility standards in force on the session's date.
    pub fn fee_session(&self, facility: FacilityStandards) -> Session {
        Session {
            date: self.date,
            setting: self.setting,
            delivery: self.delivery,
            condition: self.condition.clone(),
            requested_with_consent: self.requested_with_consent,
            information: self.information.clone(),
            staff_present: self.staff_present.clone(),
            facility,
            exclusions: self.exclusions,
        }
    }
}

/// A 取消: the session stays on record but is no longer billed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancellation {
    pub reason: String,
}

/// Checks a cancellation reason.
pub fn parse_reason(raw: &str) -> Result<Cancellation, ValidationErrors> {
    match text(field::REASON, "取消の理由", raw, REASON_MAX) {
        Ok(Some(reason)) => Ok(Cancellation { reason }),
        Ok(None) => Err(FieldError::new(
            field::REASON,
            "required",
            "「取消の理由」を入力してください（例：別の患者の記録を誤って入力したため）。",
        )
        .into()),
        Err(e) => Err(e.into()),
    }
}

/// One version of a recorded session. Versions are never changed; the latest counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuidanceSession {
    /// The session, the same across its versions.
    pub id: Uuid,
    /// 1 for the first record, then one more for each correction or the 取消.
    pub version: i64,
    pub case_id: Uuid,
    /// The medical institution whose billing record it is.
    pub institution: Uuid,
    /// The patient (the case's worker): the engine evaluates a patient's sessions together.
    pub patient: Uuid,
    pub details: GuidanceDetails,
    #[serde(default)]
    pub cancelled: Option<Cancellation>,
    pub recorded_by: Uuid,
    pub recorded_role: Role,
    #[serde(with = "crate::time_format::micros")]
    pub recorded_at: OffsetDateTime,
}

impl GuidanceSession {
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.is_some()
    }

    /// The next version with corrected details.
    pub fn corrected(
        &self,
        details: GuidanceDetails,
        by: (Uuid, Role),
        now: OffsetDateTime,
    ) -> GuidanceSession {
        GuidanceSession {
            version: self.version + 1,
            details,
            cancelled: None,
            recorded_by: by.0,
            recorded_role: by.1,
            recorded_at: crate::time_format::truncate_micros(now),
            ..self.clone()
        }
    }

    /// The next version, cancelled.
    pub fn cancel(
        &self,
        c: Cancellation,
        by: (Uuid, Role),
        now: OffsetDateTime,
    ) -> GuidanceSession {
        GuidanceSession {
            version: self.version + 1,
            cancelled: Some(c),
            recorded_by: by.0,
            recorded_role: by.1,
            recorded_at: crate::time_format::truncate_micros(now),
            ..self.clone()
        }
    }
}

/// A cancelled session cannot be changed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlreadyCancelled;

impl AlreadyCancelled {
    pub fn code(self) -> &'static str {
        "guidance_cancelled"
    }
}

/// The latest version of each session, in date order (ties by id).
pub fn current(versions: &[GuidanceSession]) -> Vec<GuidanceSession> {
    let mut latest: std::collections::BTreeMap<Uuid, &GuidanceSession> =
        std::collections::BTreeMap::new();
    for v in versions {
        match latest.get(&v.id) {
            Some(l) if l.version >= v.version => {}
            _ => {
                latest.insert(v.id, v);
            }
        }
    }
    let mut out: Vec<GuidanceSession> = latest.into_values().cloned().collect();
    out.sort_by_key(|s| (s.details.date, s.recorded_at, s.id));
    out
}

/// One notification of facility standards (施設基準の届出), in force from `effective_from`
/// until a later one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacilityStandardsRecord {
    pub id: Uuid,
    pub institution: Uuid,
    pub effective_from: Date,
    pub standards: FacilityStandards,
    pub recorded_by: Uuid,
    #[serde(with = "crate::time_format::micros")]
    pub recorded_at: OffsetDateTime,
}

/// The standards in force on `day`: the latest notification not after it (the last recorded
/// wins for the same date); none notified before means none.
pub fn standards_on(history: &[FacilityStandardsRecord], day: Date) -> FacilityStandards {
    history
        .iter()
        .filter(|r| r.effective_from <= day)
        .max_by_key(|r| (r.effective_from, r.recorded_at))
        .map(|r| r.standards)
        .unwrap_or_default()
}

/// The engine's input for the sessions of one patient at one institution: the current,
/// not-cancelled ones, in the given order.
pub fn fee_input(sessions: &[&GuidanceSession], history: &[FacilityStandardsRecord]) -> FeeInput {
    FeeInput {
        sessions: sessions
            .iter()
            .map(|s| s.details.fee_session(standards_on(history, s.details.date)))
            .collect(),
    }
}

/// Each current session with its verdict (`None` for a cancelled one), for the sessions of
/// possibly several patients: each patient's are evaluated together, apart from others'.
pub fn verdicts(
    schedule: &FeeSchedule,
    sessions: &[GuidanceSession],
    history: &[FacilityStandardsRecord],
) -> Vec<(GuidanceSession, Option<SessionVerdict>)> {
    let mut by_patient: std::collections::BTreeMap<(Uuid, Uuid), Vec<usize>> =
        std::collections::BTreeMap::new();
    for (i, s) in sessions.iter().enumerate() {
        if !s.is_cancelled() {
            by_patient
                .entry((s.institution, s.patient))
                .or_default()
                .push(i);
        }
    }
    let mut out: Vec<(GuidanceSession, Option<SessionVerdict>)> =
        sessions.iter().map(|s| (s.clone(), None)).collect();
    for ((institution, _), idx) in by_patient {
        let own: Vec<FacilityStandardsRecord> = history
            .iter()
            .filter(|h| h.institution == institution)
            .cloned()
            .collect();
        let group: Vec<&GuidanceSession> = idx.iter().filter_map(|&i| sessions.get(i)).collect();
        let FeeEvaluation { sessions: vs } = evaluate(schedule, &fee_input(&group, &own));
        for v in vs {
            if let Some(&i) = idx.get(v.index)
                && let Some(slot) = out.get_mut(i)
            {
                slot.1 = Some(v);
            }
        }
    }
    out
}

/// A calendar month, as `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct YearMonth {
    pub year: i32,
    pub month: Month,
}

impl YearMonth {
    pub fn of(d: Date) -> YearMonth {
        YearMonth {
            year: d.year(),
            month: d.month(),
        }
    }

    /// `2026-07` (also `2026/7` and full-width digits).
    pub fn parse(raw: &str) -> Result<YearMonth, FieldError> {
        let bad = || {
            FieldError::new(
                field::MONTH,
                "invalid_month",
                "「対象月」は 2026-07 のように年と月で指定してください。",
            )
        };
        if raw.len() > 32 {
            return Err(bad());
        }
        let s: String = raw
            .trim()
            .chars()
            .map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
                '／' | '－' => '-',
                '/' => '-',
                _ => c,
            })
            .collect();
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u8 = m.parse().map_err(|_| bad())?;
        if !(2000..=2999).contains(&year) {
            return Err(bad());
        }
        Ok(YearMonth {
            year,
            month: Month::try_from(month).map_err(|_| bad())?,
        })
    }

    pub fn contains(self, d: Date) -> bool {
        YearMonth::of(d) == self
    }

    /// 2026年7月
    pub fn label(self) -> String {
        format!("{}年{}月", self.year, u8::from(self.month))
    }
}

impl std::fmt::Display for YearMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, u8::from(self.month))
    }
}

/// The billable items in the order summaries list them.
pub const ITEMS: [FeeItem; 5] = [
    FeeItem::Initial,
    FeeItem::FollowUp,
    FeeItem::InitialOnline,
    FeeItem::FollowUpOnline,
    FeeItem::ConsultationSupport,
];

/// How many times one item was billable and its points.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ItemTotal {
    pub count: u32,
    pub points: u32,
}

/// Totals over some sessions of a month.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Sessions recorded (cancelled ones not counted).
    pub sessions: u32,
    /// Sessions with at least one billable item.
    pub billable: u32,
    pub not_billable: u32,
    /// In the order of [`ITEMS`].
    pub items: [ItemTotal; 5],
    pub points: u32,
}

impl Totals {
    fn add(&mut self, v: &SessionVerdict) {
        self.sessions += 1;
        if v.items.iter().any(|i| i.billable) {
            self.billable += 1;
        } else {
            self.not_billable += 1;
        }
        for iv in v.items.iter().filter(|i| i.billable) {
            if let Some(pos) = ITEMS.iter().position(|x| *x == iv.item)
                && let Some(t) = self.items.get_mut(pos)
            {
                t.count += 1;
                t.points += iv.points;
            }
        }
        self.points += v.total_points;
    }

    pub fn item(&self, item: FeeItem) -> ItemTotal {
        ITEMS
            .iter()
            .position(|x| *x == item)
            .and_then(|p| self.items.get(p).copied())
            .unwrap_or_default()
    }
}

/// One month of one institution: its totals, then per physician.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthlySummary {
    pub institution: Uuid,
    pub month: String,
    pub totals: Totals,
    /// By physician id, in id order (callers sort by name).
    pub physicians: Vec<(Uuid, Totals)>,
}

/// Sums the verdicts of `evaluated` (as [`verdicts`] returns them, over whole histories) for
/// the sessions of `institution` dated in `month`. Cancelled sessions count nowhere.
pub fn monthly_summary(
    institution: Uuid,
    month: YearMonth,
    evaluated: &[(GuidanceSession, Option<SessionVerdict>)],
) -> MonthlySummary {
    let mut totals = Totals::default();
    let mut per: std::collections::BTreeMap<Uuid, Totals> = std::collections::BTreeMap::new();
    for (s, v) in evaluated {
        let Some(v) = v else { continue };
        if s.institution != institution || !month.contains(s.details.date) {
            continue;
        }
        totals.add(v);
        per.entry(s.details.physician).or_default().add(v);
    }
    MonthlySummary {
        institution,
        month: month.to_string(),
        totals,
        physicians: per.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fees::{DocumentKind, ListedDisease, Profession, RecipientRole};
    use time::macros::{date, datetime};

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn input(date: &str) -> GuidanceInput<'_> {
        GuidanceInput {
            date,
            setting: Setting::Outpatient,
            delivery: Delivery::FaceToFace,
            physician: Some(id(7)),
            condition: Condition {
                listed_disease: Some(ListedDisease::MalignantNeoplasm),
                repeated_treatment: true,
                work_consideration_needed: true,
            },
            requested_with_consent: true,
            information: Some(InformationProvision {
                document: DocumentKind::JointlyPrepared,
                recipient: RecipientRole::Sangyoi,
                workplace_has_sangyoi: true,
                b009_or_b010_billed: false,
            }),
            staff_present: vec![StaffPresent {
                profession: Profession::Nurse,
                training_completed: true,
                dedicated: true,
            }],
            exclusions: Exclusions::default(),
            note: None,
        }
    }

    fn session(n: u128, patient: u128, details: GuidanceDetails) -> GuidanceSession {
        GuidanceSession {
            id: id(n),
            version: 1,
            case_id: id(100),
            institution: id(50),
            patient: id(patient),
            details,
            cancelled: None,
            recorded_by: id(7),
            recorded_role: Role::AttendingPhysician,
            recorded_at: datetime!(2026-07-01 00:00 UTC),
        }
    }

    fn standards(from: Date, consultation_support: bool) -> FacilityStandardsRecord {
        FacilityStandardsRecord {
            id: id(900),
            institution: id(50),
            effective_from: from,
            standards: FacilityStandards {
                consultation_support,
                online: false,
            },
            recorded_by: id(1),
            recorded_at: datetime!(2026-01-01 00:00 UTC),
        }
    }

    #[test]
    fn dates_are_read_as_typed_and_checked() {
        let today = date!(2026 - 07 - 20);
        let d = GuidanceDetails::parse(input("令和8年7月1日"), today).unwrap();
        assert_eq!(d.date, date!(2026 - 07 - 01));
        let d = GuidanceDetails::parse(input("２０２６／７／２"), today).unwrap();
        assert_eq!(d.date, date!(2026 - 07 - 02));
        let e = GuidanceDetails::parse(input("2026-07-21"), today).unwrap_err();
        assert_eq!(e.errors[0].code, "in_the_future");
        let mut i = input("");
        i.physician = None;
        i.note = Some("\u{202E}x");
        let e = GuidanceDetails::parse(i, today).unwrap_err();
        let codes: Vec<&str> = e.errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, ["required", "required", "charset"]);
        assert!(e.errors.iter().all(|e| !e.message.is_empty()));
        assert_eq!(parse_reason("  ").unwrap_err().errors[0].code, "required");
        assert_eq!(parse_reason("誤入力").unwrap().reason, "誤入力");
    }

    #[test]
    fn standards_apply_from_their_date() {
        let h = [
            standards(date!(2026 - 06 - 01), false),
            standards(date!(2026 - 08 - 01), true),
        ];
        assert!(!standards_on(&h, date!(2026 - 05 - 31)).consultation_support);
        assert!(!standards_on(&h, date!(2026 - 07 - 31)).consultation_support);
        assert!(standards_on(&h, date!(2026 - 08 - 01)).consultation_support);
    }

    #[test]
    fn corrections_and_cancellations_are_new_versions() {
        let today = date!(2026 - 07 - 20);
        let first = session(
            1,
            10,
            GuidanceDetails::parse(input("2026-07-01"), today).unwrap(),
        );
        let fixed = first.corrected(
            GuidanceDetails::parse(input("2026-07-02"), today).unwrap(),
            (id(8), Role::HospitalCoordinator),
            datetime!(2026-07-03 00:00 UTC),
        );
        assert_eq!(fixed.version, 2);
        let gone = fixed.cancel(
            parse_reason("誤入力").unwrap(),
            (id(8), Role::HospitalCoordinator),
            datetime!(2026-07-04 00:00 UTC),
        );
        let cur = current(&[gone.clone(), first.clone(), fixed.clone()]);
        assert_eq!(cur, vec![gone.clone()]);
        let ev = verdicts(&FeeSchedule::standard(), &cur, &[]);
        assert!(ev[0].1.is_none(), "a cancelled session gets no verdict");
    }

    #[test]
    fn verdicts_follow_each_patients_history_and_sum_by_month() {
        let today = date!(2026 - 12 - 31);
        let s = |n, p, d: &str| session(n, p, GuidanceDetails::parse(input(d), today).unwrap());
        let mut hr = input("2026-09-01");
        hr.information = Some(InformationProvision {
            document: DocumentKind::JointlyPrepared,
            recipient: RecipientRole::HrStaff,
            workplace_has_sangyoi: false,
            b009_or_b010_billed: false,
        });
        let mut later = s(4, 11, "2026-09-01");
        later.details = GuidanceDetails::parse(hr, today).unwrap();
        let sessions = vec![
            s(1, 10, "2026-07-01"),
            s(2, 10, "2026-08-03"),
            // Another patient: a 初回 of their own.
            s(3, 11, "2026-07-02"),
            // To HR only, so no 初回; but in the window of this patient's July 初回.
            later,
        ];
        let h = [standards(date!(2026 - 06 - 01), true)];
        let ev = verdicts(&FeeSchedule::standard(), &sessions, &h);
        let item = |i: usize, it: FeeItem| ev[i].1.as_ref().unwrap().item(it).unwrap().billable;
        assert!(item(0, FeeItem::Initial));
        assert!(item(1, FeeItem::FollowUp));
        assert!(item(2, FeeItem::Initial), "the other patient's own 初回");
        assert!(item(3, FeeItem::FollowUp), "in the window of its 初回");
        // Same input to the engine directly gives the same verdicts.
        let group: Vec<&GuidanceSession> = vec![&sessions[0], &sessions[1]];
        let direct = evaluate(&FeeSchedule::standard(), &fee_input(&group, &h));
        assert_eq!(ev[1].1.as_ref(), direct.sessions.get(1));

        let july = monthly_summary(id(50), YearMonth::parse("2026-07").unwrap(), &ev);
        assert_eq!(july.totals.sessions, 2);
        assert_eq!(july.totals.item(FeeItem::Initial).count, 2);
        assert_eq!(july.totals.item(FeeItem::Initial).points, 1700);
        assert_eq!(july.totals.item(FeeItem::ConsultationSupport).count, 2);
        assert_eq!(july.totals.points, 2 * (850 + 400));
        assert_eq!(july.physicians.len(), 1);
        assert_eq!(july.physicians[0].1, july.totals);
        let other = monthly_summary(id(51), YearMonth::parse("2026-07").unwrap(), &ev);
        assert_eq!(other.totals.sessions, 0);
    }

    #[test]
    fn months_are_read_strictly() {
        assert_eq!(
            YearMonth::parse("２０２６／７").unwrap().to_string(),
            "2026-07"
        );
        assert_eq!(YearMonth::parse("2026-07").unwrap().label(), "2026年7月");
        for bad in ["", "2026", "2026-13", "x-1", "1999-01", "2026-07-01"] {
            assert_eq!(
                YearMonth::parse(bad).unwrap_err().code,
                "invalid_month",
                "{bad}"
            );
        }
    }
}
