//! A coordinator's own tasks on a case (支援タスク): what the 両立支援コーディネーター has to do
//! for the worker, by a date, e.g. 「次回面談の日程を本人と調整する」 by 2026-05-10.
//!
//! These are not the steps of the case (the state machine's tasks, one per kind and opened by
//! steps): a coordinator writes them, as many as needed, and marks them done. A coordinator
//! supports and coordinates and never acts for the worker towards the employer, so a task is
//! the coordinator's record of their own work, kept with the consultation notes.
//!
//! Decided rules:
//! - A task is consultation-record information ([`InformationCategory::ConsultationNotes`]):
//!   writing one needs the same right as writing a consultation note (for anyone outside the
//!   employer, the worker's consent), reading needs the right to read the notes, and the
//!   worker always sees the tasks of their own case.
//! - Those who keep tasks are the coordinators of the case (of a hospital or a support
//!   agency) and the employer's 産業保健スタッフ, who coordinate too. The 産業医, HR and the
//!   所属長 do not.
//! - A task belongs to the organisation its writer acted for. Its writer, or someone of that
//!   organisation who keeps tasks on the case, marks it done; nobody else.
//! - A closed case is read-only: no new tasks, nothing marked done.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, OffsetDateTime};
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

use crate::error::{FieldError, ValidationErrors};
use crate::info::InformationCategory;
use crate::org::Role;
use crate::policy::{
    Action, CaseContext, CaseRelation, Denial, Principal, case_relations, decide_case,
};

/// Longest title, in characters.
pub const TITLE_MAX: usize = 200;
/// Longest note, in characters.
pub const NOTE_MAX: usize = 1000;
/// How far ahead a due date may be: further is almost always a mistyped year.
pub const DUE_YEARS_MAX: i64 = 3;

/// Field names in the API and on the forms, with the labels messages name them by.
pub mod field {
    pub const TITLE: &str = "title";
    pub const DUE: &str = "due";
    pub const NOTE: &str = "note";

    /// The Japanese label of a field, as the forms show it.
    pub fn label(field: &str) -> &'static str {
        match field {
            TITLE => "内容",
            DUE => "期限",
            NOTE => "メモ",
            _ => "入力欄",
        }
    }
}

/// The calendar date in Japan at a moment: due dates and "today" are Japanese dates.
pub use crate::time_format::japan_date;

/// The input, as typed.
#[derive(Debug, Clone, Copy, Default)]
pub struct SupportTaskInput<'a> {
    pub title: &'a str,
    /// `YYYY-MM-DD` (a date field sends this; `2026/5/10` and full-width digits are accepted).
    pub due: &'a str,
    pub note: Option<&'a str>,
}

/// A validated task, before it is added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportTaskDraft {
    pub title: String,
    pub due: Date,
    pub note: Option<String>,
}

/// Control characters (a note may keep line breaks and tabs) and the bidirectional
/// overrides that can make a text read differently from what it holds.
fn unusable(c: char, multiline: bool) -> bool {
    (c.is_control() && !(multiline && (c == '\n' || c == '\t')))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// 1000 → "1,000", as numbers are written in messages.
fn with_commas(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn text(name: &str, raw: &str, max: usize, multiline: bool) -> Result<Option<String>, FieldError> {
    let label = field::label(name);
    let s = raw.replace("\r\n", "\n").replace('\r', "\n");
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > max {
        return Err(FieldError::new(
            name,
            "too_long",
            format!(
                "「{label}」は{}文字以内で入力してください。",
                with_commas(max)
            ),
        ));
    }
    if s.chars().any(|c| unusable(c, multiline)) {
        let message = if multiline {
            format!("「{label}」に使えない文字が含まれています。")
        } else {
            format!("「{label}」は改行や制御文字を含めずに1行で入力してください。")
        };
        return Err(FieldError::new(name, "charset", message));
    }
    Ok(Some(s.to_owned()))
}

/// `2026-05-10`, `2026/5/10` or the same in full-width digits.
fn parse_date(raw: &str) -> Option<Date> {
    // Longer than any date: not worth normalising.
    if raw.len() > 64 {
        return None;
    }
    let s: String = raw.nfkc().collect();
    let mut parts = s.trim().split(['-', '/']);
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1000..=9999).contains(&year) {
        return None;
    }
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

impl SupportTaskDraft {
    /// Checks every field against `today` (the Japanese date) and reports every problem at
    /// once.
    pub fn parse(
        input: SupportTaskInput<'_>,
        today: Date,
    ) -> Result<SupportTaskDraft, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let title = match text(field::TITLE, input.title, TITLE_MAX, false) {
            Ok(Some(t)) => Some(t),
            Ok(None) => {
                errs.push(FieldError::new(
                    field::TITLE,
                    "required",
                    "「内容」に、行うことを入力してください（例：次回面談の日程を本人と調整する）。",
                ));
                None
            }
            Err(e) => {
                errs.push(e);
                None
            }
        };
        let latest = today
            .checked_add(Duration::days(365 * DUE_YEARS_MAX))
            .unwrap_or(Date::MAX);
        let due = if input.due.trim().is_empty() {
            errs.push(FieldError::new(
                field::DUE,
                "required",
                "「期限」を入力してください。",
            ));
            None
        } else {
            match parse_date(input.due) {
                None => {
                    errs.push(FieldError::new(
                        field::DUE,
                        "invalid_date",
                        "「期限」は 2026-05-10 のような日付で入力してください。",
                    ));
                    None
                }
                Some(d) if d < today => {
                    errs.push(FieldError::new(
                        field::DUE,
                        "in_the_past",
                        "「期限」には今日以降の日付を入力してください。",
                    ));
                    None
                }
                Some(d) if d > latest => {
                    errs.push(FieldError::new(
                        field::DUE,
                        "too_far",
                        format!("「期限」は{DUE_YEARS_MAX}年以内の日付を入力してください。"),
                    ));
                    None
                }
                Some(d) => Some(d),
            }
        };
        let note = match text(field::NOTE, input.note.unwrap_or(""), NOTE_MAX, true) {
            Ok(n) => n,
            Err(e) => {
                errs.push(e);
                None
            }
        };
        match (title, due) {
            (Some(title), Some(due)) if errs.is_empty() => {
                Ok(SupportTaskDraft { title, due, note })
            }
            _ => Err(errs),
        }
    }
}

/// One task, from being added to being done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportTask {
    pub id: Uuid,
    pub case_id: Uuid,
    /// The organisation the writer acted for; its people keep the task.
    pub organisation: Uuid,
    pub created_by: Uuid,
    /// The role the writer acted in.
    pub created_role: Role,
    pub title: String,
    pub due: Date,
    pub note: Option<String>,
    #[serde(with = "crate::time_format::micros")]
    pub created_at: OffsetDateTime,
    #[serde(default, with = "crate::time_format::micros::option")]
    pub done_at: Option<OffsetDateTime>,
    pub done_by: Option<Uuid>,
}

/// Marking done a task that is done already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlreadyDone;

impl AlreadyDone {
    pub fn code(self) -> &'static str {
        "support_task_done"
    }
}

impl SupportTask {
    /// A new open task written by `by`, acting as `role` for `organisation`.
    pub fn new(
        id: Uuid,
        case_id: Uuid,
        (organisation, role): (Uuid, Role),
        by: Uuid,
        draft: SupportTaskDraft,
        now: OffsetDateTime,
    ) -> SupportTask {
        SupportTask {
            id,
            case_id,
            organisation,
            created_by: by,
            created_role: role,
            title: draft.title,
            due: draft.due,
            note: draft.note,
            created_at: crate::time_format::truncate_micros(now),
            done_at: None,
            done_by: None,
        }
    }

    pub fn is_done(&self) -> bool {
        self.done_at.is_some()
    }

    /// Open past its due date (`today` is the Japanese date).
    pub fn overdue(&self, today: Date) -> bool {
        !self.is_done() && self.due < today
    }

    /// Open → done, once.
    pub fn complete(&self, by: Uuid, now: OffsetDateTime) -> Result<SupportTask, AlreadyDone> {
        if self.is_done() {
            return Err(AlreadyDone);
        }
        let mut next = self.clone();
        next.done_at = Some(crate::time_format::truncate_micros(now));
        next.done_by = Some(by);
        Ok(next)
    }
}

const CATEGORY: InformationCategory = InformationCategory::ConsultationNotes;

/// The organisation and role in which `p` keeps tasks on the case, if any relation of theirs
/// is a coordinating one.
fn coordinating(p: &Principal, ctx: &CaseContext) -> Vec<(Uuid, Role)> {
    case_relations(p, ctx)
        .into_iter()
        .filter_map(|r| match r {
            CaseRelation::Coordinator { organisation, role } => Some((organisation, role)),
            CaseRelation::Hospital {
                organisation,
                role: Role::HospitalCoordinator,
            } => Some((organisation, Role::HospitalCoordinator)),
            CaseRelation::Employer {
                role: Role::OccupationalHealthStaff,
            } => Some((ctx.employer, Role::OccupationalHealthStaff)),
            _ => None,
        })
        .collect()
}

/// Whether `p` sees the case's tasks: the worker always, others with the right to read the
/// consultation notes. `NotFound` outside the case, `Forbidden` for those who see the case
/// but not its notes.
pub fn may_view(p: &Principal, ctx: &CaseContext, now: OffsetDateTime) -> Result<(), Denial> {
    let case = ctx.case;
    decide_case(p, ctx, Action::ViewCase { case }, now)?;
    decide_case(
        p,
        ctx,
        Action::ViewCaseCategory {
            case,
            category: CATEGORY,
        },
        now,
    )?;
    Ok(())
}

/// Why a change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Denied(Denial),
    /// The case is closed: it is read-only.
    CaseClosed,
}

impl From<Denial> for Refused {
    fn from(d: Denial) -> Self {
        Refused::Denied(d)
    }
}

/// Whether `p` may add a task, and for which organisation in which role. Outsiders learn
/// nothing (`NotFound`); others taking part who do not coordinate, or lack the worker's
/// consent, are `Forbidden`.
pub fn may_add(
    p: &Principal,
    ctx: &CaseContext,
    now: OffsetDateTime,
) -> Result<(Uuid, Role), Refused> {
    let case = ctx.case;
    decide_case(p, ctx, Action::ViewCase { case }, now)?;
    if ctx.closed {
        return Err(Refused::CaseClosed);
    }
    decide_case(
        p,
        ctx,
        Action::EditCaseDocument {
            case,
            category: CATEGORY,
        },
        now,
    )?;
    coordinating(p, ctx)
        .first()
        .copied()
        .ok_or(Refused::Denied(Denial::Forbidden))
}

/// Whether `p` may mark `task` done: its writer or someone of its organisation who keeps
/// tasks on the case, with the right to write notes now. Those who may not read the task
/// learn nothing of it (`NotFound`).
pub fn may_complete(
    p: &Principal,
    ctx: &CaseContext,
    task: &SupportTask,
    now: OffsetDateTime,
) -> Result<(), Refused> {
    if task.case_id != ctx.case {
        return Err(Refused::Denied(Denial::NotFound));
    }
    match may_view(p, ctx, now) {
        Ok(()) => {}
        Err(Denial::SecondFactorRequired) => {
            return Err(Refused::Denied(Denial::SecondFactorRequired));
        }
        Err(_) => return Err(Refused::Denied(Denial::NotFound)),
    }
    if ctx.closed {
        return Err(Refused::CaseClosed);
    }
    let case = ctx.case;
    decide_case(
        p,
        ctx,
        Action::EditCaseDocument {
            case,
            category: CATEGORY,
        },
        now,
    )?;
    let keeps = coordinating(p, ctx);
    let theirs = !keeps.is_empty()
        && (task.created_by == p.user || keeps.iter().any(|(o, _)| *o == task.organisation));
    if theirs {
        Ok(())
    } else {
        Err(Refused::Denied(Denial::Forbidden))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::{Consent, EXPLANATION_VERSION, Recipient};
    use crate::org::OrganisationKind;
    use crate::policy::{CaseCoordinator, HandlingRules, MembershipRef};
    use proptest::prelude::*;
    use time::macros::{date, datetime};

    const NOW: OffsetDateTime = datetime!(2026-04-01 09:00 UTC);
    const TODAY: Date = date!(2026 - 04 - 01);
    const CASE: Uuid = Uuid::from_u128(0xCA5E);
    const E: Uuid = Uuid::from_u128(0xE1);
    const E2: Uuid = Uuid::from_u128(0xE2);
    const H: Uuid = Uuid::from_u128(0x41);
    const AG: Uuid = Uuid::from_u128(0xA6);
    const WORKER: Uuid = Uuid::from_u128(0x100);
    const MSW: u128 = 0x302;
    const PROMOTER: u128 = 0x401;
    const PROMOTER2: u128 = 0x402;
    const STAFF: u128 = 0x203;

    fn input<'a>(title: &'a str, due: &'a str) -> SupportTaskInput<'a> {
        SupportTaskInput {
            title,
            due,
            note: None,
        }
    }

    fn person(user: u128, ms: &[(Uuid, OrganisationKind, Role)]) -> Principal {
        Principal {
            user: Uuid::from_u128(user),
            operator: false,
            memberships: ms
                .iter()
                .map(|&(organisation, kind, role)| MembershipRef {
                    organisation,
                    kind,
                    role,
                })
                .collect(),
            second_factor_ok: true,
        }
    }

    fn notes_consent(organisation: Uuid, role: Role, person: Option<u128>) -> Consent {
        Consent {
            id: Uuid::from_u128(0xC0 + u128::from(role as u8)),
            worker: WORKER,
            case: CASE,
            recipient: Recipient {
                organisation,
                role,
                person: person.map(Uuid::from_u128),
            },
            categories: [CATEGORY].into_iter().collect(),
            purpose: "両立支援のため".into(),
            granted_at: NOW - Duration::days(1),
            expires_at: None,
            withdrawn_at: None,
            explanation_version: EXPLANATION_VERSION,
        }
    }

    fn context(consents: Vec<Consent>) -> CaseContext {
        CaseContext {
            case: CASE,
            worker: WORKER,
            employer: E,
            closed: false,
            line_managers: Vec::new(),
            hospitals: vec![H],
            coordinators: vec![
                CaseCoordinator {
                    user: Uuid::from_u128(MSW),
                    organisation: H,
                },
                CaseCoordinator {
                    user: Uuid::from_u128(PROMOTER),
                    organisation: AG,
                },
                CaseCoordinator {
                    user: Uuid::from_u128(PROMOTER2),
                    organisation: AG,
                },
            ],
            consents,
            rules: HandlingRules::defaults(E),
        }
    }

    fn consented() -> CaseContext {
        context(vec![
            notes_consent(H, Role::HospitalCoordinator, Some(MSW)),
            notes_consent(AG, Role::AgencyCoordinator, None),
            notes_consent(E, Role::OccupationalHealthStaff, None),
            notes_consent(E, Role::OccupationalPhysician, None),
            notes_consent(E, Role::HrOfficer, None),
        ])
    }

    fn worker() -> Principal {
        person(0x100, &[(E, OrganisationKind::Employer, Role::Worker)])
    }
    fn hr() -> Principal {
        person(0x201, &[(E, OrganisationKind::Employer, Role::HrOfficer)])
    }
    fn sangyoi() -> Principal {
        person(
            0x202,
            &[(E, OrganisationKind::Employer, Role::OccupationalPhysician)],
        )
    }
    fn staff() -> Principal {
        person(
            STAFF,
            &[(E, OrganisationKind::Employer, Role::OccupationalHealthStaff)],
        )
    }
    fn msw() -> Principal {
        person(
            MSW,
            &[(
                H,
                OrganisationKind::MedicalInstitution,
                Role::HospitalCoordinator,
            )],
        )
    }
    fn promoter(user: u128) -> Principal {
        person(
            user,
            &[(AG, OrganisationKind::SupportAgency, Role::AgencyCoordinator)],
        )
    }
    fn doctor() -> Principal {
        person(
            0x301,
            &[(
                H,
                OrganisationKind::MedicalInstitution,
                Role::AttendingPhysician,
            )],
        )
    }
    fn other_hr() -> Principal {
        person(0x501, &[(E2, OrganisationKind::Employer, Role::HrOfficer)])
    }

    fn task_by(user: u128, organisation: Uuid, role: Role) -> SupportTask {
        let draft =
            SupportTaskDraft::parse(input("次回面談の日程を本人と調整する", "2026-05-10"), TODAY)
                .unwrap();
        SupportTask::new(
            Uuid::from_u128(0x7A5C),
            CASE,
            (organisation, role),
            Uuid::from_u128(user),
            draft,
            NOW,
        )
    }

    #[test]
    fn a_valid_task_is_trimmed_and_open() {
        let d = SupportTaskDraft::parse(
            SupportTaskInput {
                title: "　次回面談の日程を本人と調整する ",
                due: "2026-05-10",
                note: Some("  本人の希望は\r\n平日の午後  "),
            },
            TODAY,
        )
        .unwrap();
        assert_eq!(d.title, "次回面談の日程を本人と調整する");
        assert_eq!(d.due, date!(2026 - 05 - 10));
        assert_eq!(d.note.as_deref(), Some("本人の希望は\n平日の午後"));
        let t = SupportTask::new(
            Uuid::from_u128(1),
            CASE,
            (H, Role::HospitalCoordinator),
            Uuid::from_u128(MSW),
            d,
            NOW,
        );
        assert!(!t.is_done());
        assert!(!t.overdue(date!(2026 - 05 - 10)));
        assert!(t.overdue(date!(2026 - 05 - 11)));
    }

    #[test]
    fn dates_are_read_as_people_type_them() {
        for s in [
            "2026-05-10",
            "2026/5/10",
            "２０２６－０５－１０",
            " 2026/05/10 ",
        ] {
            assert_eq!(parse_date(s), Some(date!(2026 - 05 - 10)), "{s}");
        }
        for s in [
            "2026-02-30",
            "26-05-10",
            "2026-05",
            "2026-05-10-1",
            "明日",
            "",
        ] {
            assert_eq!(parse_date(s), None, "{s}");
        }
        let empty_note = SupportTaskDraft::parse(
            SupportTaskInput {
                note: Some("   "),
                ..input("電話する", "2026-04-01")
            },
            TODAY,
        )
        .unwrap();
        assert_eq!(
            empty_note.note, None,
            "today is allowed; a blank note is none"
        );
    }

    #[test]
    fn refusals_name_their_field() {
        let long = "あ".repeat(TITLE_MAX + 1);
        let long_note = "あ".repeat(NOTE_MAX + 1);
        let table: Vec<(SupportTaskInput<'_>, &[(&str, &str)])> = vec![
            (
                input("", "2026-05-10"),
                &[(
                    field::TITLE,
                    "「内容」に、行うことを入力してください（例：次回面談の日程を本人と調整する）。",
                )],
            ),
            (
                input(&long, "2026-05-10"),
                &[(field::TITLE, "「内容」は200文字以内で入力してください。")],
            ),
            (
                input("一行目\n二行目", "2026-05-10"),
                &[(
                    field::TITLE,
                    "「内容」は改行や制御文字を含めずに1行で入力してください。",
                )],
            ),
            (
                input("電話する", ""),
                &[(field::DUE, "「期限」を入力してください。")],
            ),
            (
                input("電話する", "来週"),
                &[(
                    field::DUE,
                    "「期限」は 2026-05-10 のような日付で入力してください。",
                )],
            ),
            (
                input("電話する", "2026-03-31"),
                &[(field::DUE, "「期限」には今日以降の日付を入力してください。")],
            ),
            (
                input("電話する", "2126-03-31"),
                &[(field::DUE, "「期限」は3年以内の日付を入力してください。")],
            ),
            (
                SupportTaskInput {
                    note: Some(&long_note),
                    ..input("電話する", "2026-05-10")
                },
                &[(field::NOTE, "「メモ」は1,000文字以内で入力してください。")],
            ),
            (
                SupportTaskInput {
                    note: Some("a\u{202E}b"),
                    ..input("\u{0007}", "")
                },
                &[
                    (
                        field::TITLE,
                        "「内容」は改行や制御文字を含めずに1行で入力してください。",
                    ),
                    (field::DUE, "「期限」を入力してください。"),
                    (field::NOTE, "「メモ」に使えない文字が含まれています。"),
                ],
            ),
        ];
        for (i, want) in table {
            let got = SupportTaskDraft::parse(i, TODAY).unwrap_err();
            let got: Vec<(&str, &str)> = got
                .errors
                .iter()
                .map(|e| (e.field.as_str(), e.message.as_str()))
                .collect();
            assert_eq!(got, want.to_vec(), "{i:?}");
        }
    }

    #[test]
    fn a_task_is_done_once() {
        let t = task_by(MSW, H, Role::HospitalCoordinator);
        let done = t
            .complete(Uuid::from_u128(MSW), NOW + Duration::hours(1))
            .unwrap();
        assert!(done.is_done());
        assert_eq!(done.done_by, Some(Uuid::from_u128(MSW)));
        assert!(
            !done.overdue(date!(2027 - 01 - 01)),
            "done is never overdue"
        );
        assert_eq!(done.complete(Uuid::from_u128(MSW), NOW), Err(AlreadyDone));
    }

    #[test]
    fn japanese_dates_turn_at_midnight_in_japan() {
        assert_eq!(
            japan_date(datetime!(2026-04-01 14:59 UTC)),
            date!(2026 - 04 - 01)
        );
        assert_eq!(
            japan_date(datetime!(2026-04-01 15:00 UTC)),
            date!(2026 - 04 - 02)
        );
    }

    type Added = Result<(Uuid, Role), Refused>;

    #[test]
    fn who_adds_tasks() {
        use Refused::{CaseClosed, Denied};
        let with = consented();
        let without = context(Vec::new());
        let table: Vec<(&str, Principal, &CaseContext, Added)> = vec![
            (
                "msw with consent",
                msw(),
                &with,
                Ok((H, Role::HospitalCoordinator)),
            ),
            (
                "msw without",
                msw(),
                &without,
                Err(Denied(Denial::Forbidden)),
            ),
            (
                "agency coordinator with consent",
                promoter(PROMOTER),
                &with,
                Ok((AG, Role::AgencyCoordinator)),
            ),
            (
                "agency coordinator without",
                promoter(PROMOTER),
                &without,
                Err(Denied(Denial::Forbidden)),
            ),
            (
                "an agency colleague not added to the case",
                promoter(0x499),
                &with,
                Err(Denied(Denial::NotFound)),
            ),
            (
                "health staff with consent",
                staff(),
                &with,
                Ok((E, Role::OccupationalHealthStaff)),
            ),
            (
                "health staff without",
                staff(),
                &without,
                Err(Denied(Denial::Forbidden)),
            ),
            ("産業医", sangyoi(), &with, Err(Denied(Denial::Forbidden))),
            ("HR", hr(), &with, Err(Denied(Denial::Forbidden))),
            (
                "the worker",
                worker(),
                &with,
                Err(Denied(Denial::Forbidden)),
            ),
            ("主治医", doctor(), &with, Err(Denied(Denial::Forbidden))),
            (
                "another employer's HR",
                other_hr(),
                &with,
                Err(Denied(Denial::NotFound)),
            ),
        ];
        for (who, p, ctx, want) in table {
            assert_eq!(may_add(&p, ctx, NOW), want, "{who}");
        }
        let mut closed = consented();
        closed.closed = true;
        assert_eq!(may_add(&msw(), &closed, NOW), Err(CaseClosed));
        assert_eq!(
            may_add(&other_hr(), &closed, NOW),
            Err(Denied(Denial::NotFound)),
            "a closed case says nothing to outsiders"
        );
        let mut no_2fa = msw();
        no_2fa.second_factor_ok = false;
        assert_eq!(
            may_add(&no_2fa, &with, NOW),
            Err(Denied(Denial::SecondFactorRequired))
        );
    }

    #[test]
    fn who_sees_tasks() {
        let with = consented();
        let without = context(Vec::new());
        assert_eq!(
            may_view(&worker(), &without, NOW),
            Ok(()),
            "the worker always"
        );
        assert_eq!(may_view(&msw(), &with, NOW), Ok(()));
        assert_eq!(may_view(&msw(), &without, NOW), Err(Denial::Forbidden));
        assert_eq!(may_view(&hr(), &without, NOW), Err(Denial::Forbidden));
        assert_eq!(may_view(&other_hr(), &with, NOW), Err(Denial::NotFound));
    }

    #[test]
    fn who_marks_a_task_done() {
        use Refused::{CaseClosed, Denied};
        let with = consented();
        let agency_task = task_by(PROMOTER, AG, Role::AgencyCoordinator);
        let table: Vec<(&str, Principal, Result<(), Refused>)> = vec![
            ("its writer", promoter(PROMOTER), Ok(())),
            ("a colleague on the case", promoter(PROMOTER2), Ok(())),
            (
                "another organisation's coordinator",
                msw(),
                Err(Denied(Denial::Forbidden)),
            ),
            (
                "health staff of the employer",
                staff(),
                Err(Denied(Denial::Forbidden)),
            ),
            ("the worker", worker(), Err(Denied(Denial::Forbidden))),
            (
                "HR, who may read the notes",
                hr(),
                Err(Denied(Denial::Forbidden)),
            ),
            (
                "another employer's HR",
                other_hr(),
                Err(Denied(Denial::NotFound)),
            ),
        ];
        for (who, p, want) in table {
            assert_eq!(may_complete(&p, &with, &agency_task, NOW), want, "{who}");
        }
        // Without the worker's consent the task is out of sight.
        assert_eq!(
            may_complete(&promoter(PROMOTER), &context(Vec::new()), &agency_task, NOW),
            Err(Denied(Denial::NotFound))
        );
        assert_eq!(
            may_complete(&hr(), &context(Vec::new()), &agency_task, NOW),
            Err(Denied(Denial::NotFound))
        );
        let mut closed = consented();
        closed.closed = true;
        assert_eq!(
            may_complete(&promoter(PROMOTER), &closed, &agency_task, NOW),
            Err(CaseClosed)
        );
        let mut elsewhere = agency_task.clone();
        elsewhere.case_id = Uuid::from_u128(0xCA5F);
        assert_eq!(
            may_complete(&promoter(PROMOTER), &with, &elsewhere, NOW),
            Err(Denied(Denial::NotFound))
        );
    }

    fn text_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("　".repeat(10)),
            Just("あ".repeat(1024 * 1024)),
            Just("Ａ".repeat(TITLE_MAX)),
            ".*",
            "[\\x00-\\x1F\\x7F\\u{202A}-\\u{202E}あ-んＡ-Ｚ０-９ a-z]{0,50}",
            "\\PC{0,300}",
        ]
    }

    fn date_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("2026-05-10".to_owned()),
            Just("2026-03-31".to_owned()),
            Just("２０２６／５／１０".to_owned()),
            Just("9".repeat(1024 * 1024)),
            "[0-9]{1,6}[-/][0-9]{1,3}[-/][0-9]{1,3}",
            text_strategy(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn any_input_is_accepted_clean_or_refused_with_messages_naming_their_field(
            title in text_strategy(),
            due in date_strategy(),
            note in proptest::option::of(text_strategy()),
        ) {
            let got = SupportTaskDraft::parse(
                SupportTaskInput { title: &title, due: &due, note: note.as_deref() },
                TODAY,
            );
            match got {
                Ok(d) => {
                    prop_assert!(!d.title.is_empty() && d.title.chars().count() <= TITLE_MAX);
                    prop_assert!(!d.title.chars().any(|c| unusable(c, false)));
                    prop_assert_eq!(d.title.trim(), d.title.as_str());
                    prop_assert!(d.due >= TODAY);
                    if let Some(n) = &d.note {
                        prop_assert!(!n.is_empty() && n.chars().count() <= NOTE_MAX);
                        prop_assert!(!n.chars().any(|c| unusable(c, true)));
                    }
                }
                Err(e) => {
                    prop_assert!(!e.errors.is_empty());
                    for f in &e.errors {
                        prop_assert!([field::TITLE, field::DUE, field::NOTE].contains(&f.field.as_str()), "{}", f.field);
                        let label = field::label(&f.field);
                        prop_assert!(f.message.contains(&format!("「{label}」")), "{}", f.message);
                    }
                }
            }
        }
    }
}
