//! The worker's request for correction (訂正等の請求) of what is held about them, and the
//! answer of the organisation that holds it.
//!
//! 個人情報保護法 第34条: a person may ask for the correction, addition or deletion (訂正等) of
//! their retained personal data when it is untrue; the business investigates without delay,
//! corrects where warranted and tells the person the result. 第36条: when it does not
//! correct (or corrects only part), it says why. Health information is 要配慮個人情報, so the
//! request itself (which repeats it) is kept with the case and shown only to the worker and
//! to the side that must answer.
//!
//! Decided rules:
//! - Only the worker files, always in their own name: a coordinator supports, never requests
//!   on the worker's behalf through the system.
//! - The organisation that holds the data answers: the hospital for a document its 主治医
//!   confirmed (the 主治医意見書), the employer for everything else. At the employer the
//!   人事労務担当者 answers; at the hospital the 主治医.
//! - A 確定 document is never edited: "corrected" means a new version that points at the one
//!   it corrects ([`crate::forms::DraftDocument::correction_of`]), and the answer names it.
//! - "遅滞なく" has no number in the law; the answer is due [`ANSWER_DAYS`] after filing, the
//!   same wait the flow allows a 主治医 for an opinion.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::error::{FieldError, ValidationErrors};
use crate::forms::Party;
use crate::org::{Role, coded_enum};
use crate::policy::{Action, CaseContext, CaseRelation, Denial, case_relations, decide_case};

/// Days the answering side has before an answer is overdue.
pub const ANSWER_DAYS: i64 = 14;
/// Longest free text of a request or an answer, in characters.
pub const TEXT_MAX: usize = 2000;
/// Longest description of 「その他」 data the request is about.
pub const TARGET_MAX: usize = 200;

coded_enum! {
    /// What the worker asks for (第34条: 訂正、追加又は削除).
    CorrectionKind {
        Correct = "correct" => "訂正（誤りを直す）",
        Add = "add" => "追加（足りない内容を加える）",
        Delete = "delete" => "削除（不要・誤った内容を消す）",
    }
}

coded_enum! {
    CorrectionStatus {
        Received = "received" => "受付",
        Answered = "answered" => "回答済み",
    }
}

coded_enum! {
    /// The answer's result.
    Decision {
        Corrected = "corrected" => "訂正した",
        NotCorrected = "not_corrected" => "訂正しない",
        PartlyCorrected = "partly_corrected" => "一部を訂正した",
    }
}

coded_enum! {
    /// Which side holds the data and answers.
    Responder {
        Employer = "employer" => "勤務先（人事労務担当者）",
        Hospital = "hospital" => "医療機関（主治医）",
    }
}

impl Responder {
    /// A document confirmed on the 主治医's signature line was written at the hospital; every
    /// other document, and data that is not a document, is held by the employer.
    pub fn for_document(signed_by: Party) -> Responder {
        match signed_by {
            Party::AttendingPhysician => Responder::Hospital,
            Party::Worker | Party::Employer => Responder::Employer,
        }
    }

    /// The role that answers for this side.
    pub fn role(self) -> Role {
        match self {
            Responder::Employer => Role::HrOfficer,
            Responder::Hospital => Role::AttendingPhysician,
        }
    }
}

/// Field names in the API and on the forms, with the labels messages name them by.
pub mod field {
    pub const DOCUMENT: &str = "document_id";
    pub const TARGET_DESCRIPTION: &str = "target_description";
    pub const KIND: &str = "kind";
    pub const WHAT_IS_WRONG: &str = "what_is_wrong";
    pub const SHOULD_SAY: &str = "should_say";
    pub const DECISION: &str = "decision";
    pub const REASON: &str = "reason";
    pub const CORRECTED_DOCUMENT: &str = "corrected_document_id";

    /// The Japanese label of a field, as the forms show it.
    pub fn label(field: &str) -> &'static str {
        match field {
            DOCUMENT | TARGET_DESCRIPTION => "訂正を求める情報",
            KIND => "請求の種類",
            WHAT_IS_WRONG => "誤っている内容",
            SHOULD_SAY => "正しい内容",
            DECISION => "回答",
            REASON => "理由・説明",
            CORRECTED_DOCUMENT => "訂正した書類",
            _ => "入力欄",
        }
    }
}

/// What the request is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CorrectionTarget {
    /// A document of the case.
    Document { document: Uuid },
    /// Other data held about the worker (「その他」), named in the worker's words.
    Other { description: String },
}

impl CorrectionTarget {
    pub fn document(&self) -> Option<Uuid> {
        match self {
            CorrectionTarget::Document { document } => Some(*document),
            CorrectionTarget::Other { .. } => None,
        }
    }
}

/// The worker's input, as typed.
#[derive(Debug, Clone, Copy, Default)]
pub struct CorrectionInput<'a> {
    pub document: Option<Uuid>,
    pub target_description: Option<&'a str>,
    pub kind: &'a str,
    pub what_is_wrong: &'a str,
    pub should_say: &'a str,
}

/// A validated request, before it is filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionDraft {
    pub target: CorrectionTarget,
    pub kind: CorrectionKind,
    pub what_is_wrong: String,
    pub should_say: String,
}

/// 2000 → "2,000", as numbers are written in messages.
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

/// Control characters (other than line breaks and tabs) and the bidirectional overrides that
/// can make a text read differently from what it holds.
fn unusable(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Trims, unifies line breaks and checks a free text; `None` for an optional empty one.
fn text(name: &str, raw: &str, max: usize, required: bool) -> Result<Option<String>, FieldError> {
    let label = field::label(name);
    let s = raw.replace("\r\n", "\n").replace('\r', "\n");
    let s = s.trim();
    if s.is_empty() {
        return if required {
            Err(FieldError::new(
                name,
                "required",
                format!("「{label}」を入力してください。"),
            ))
        } else {
            Ok(None)
        };
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
    if s.chars().any(unusable) {
        return Err(FieldError::new(
            name,
            "charset",
            format!("「{label}」に使えない文字が含まれています。"),
        ));
    }
    Ok(Some(s.to_owned()))
}

impl CorrectionDraft {
    /// Checks every field and reports every problem at once.
    pub fn parse(input: CorrectionInput<'_>) -> Result<CorrectionDraft, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let target = match input.document {
            Some(document) => Some(CorrectionTarget::Document { document }),
            None => match text(
                field::TARGET_DESCRIPTION,
                input.target_description.unwrap_or(""),
                TARGET_MAX,
                false,
            ) {
                Ok(Some(description)) => Some(CorrectionTarget::Other { description }),
                Ok(None) => {
                    errs.push(FieldError::new(
                        field::TARGET_DESCRIPTION,
                        "required",
                        "「訂正を求める情報」で書類を選ぶか、「その他」としてその情報を入力してください。",
                    ));
                    None
                }
                Err(e) => {
                    errs.push(e);
                    None
                }
            },
        };
        let kind = CorrectionKind::from_code(input.kind.trim());
        if kind.is_none() {
            errs.push(FieldError::new(
                field::KIND,
                "invalid_option",
                "「請求の種類」を訂正・追加・削除から選んでください。",
            ));
        }
        let mut take = |name: &str, raw: &str| match text(name, raw, TEXT_MAX, true) {
            Ok(s) => s,
            Err(e) => {
                errs.push(e);
                None
            }
        };
        let what_is_wrong = take(field::WHAT_IS_WRONG, input.what_is_wrong);
        let should_say = take(field::SHOULD_SAY, input.should_say);
        match (target, kind, what_is_wrong, should_say) {
            (Some(target), Some(kind), Some(what_is_wrong), Some(should_say))
                if errs.is_empty() =>
            {
                Ok(CorrectionDraft {
                    target,
                    kind,
                    what_is_wrong,
                    should_say,
                })
            }
            _ => Err(errs),
        }
    }
}

/// The answer, once given. It is never changed afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectionAnswer {
    pub decision: Decision,
    /// Why not (or not all), or what was done; required unless a document shows it.
    pub reason: Option<String>,
    /// The new version that corrects the target.
    pub corrected_document: Option<Uuid>,
    pub answered_by: Uuid,
    #[serde(with = "crate::time_format::micros")]
    pub answered_at: OffsetDateTime,
}

/// One request, from filing to its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectionRequest {
    pub id: Uuid,
    pub case_id: Uuid,
    /// The worker who filed it (always the worker of the case).
    pub worker: Uuid,
    pub target: CorrectionTarget,
    pub kind: CorrectionKind,
    pub what_is_wrong: String,
    pub should_say: String,
    pub responder: Responder,
    /// The employer, or the hospital that wrote the document.
    pub responder_organisation: Uuid,
    #[serde(with = "crate::time_format::micros")]
    pub filed_at: OffsetDateTime,
    pub due: Date,
    pub answer: Option<CorrectionAnswer>,
}

/// The worker's answer-side input, as typed.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnswerInput<'a> {
    pub decision: &'a str,
    pub reason: Option<&'a str>,
    pub corrected_document: Option<Uuid>,
}

/// Facts about the document an answer names, looked up by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedDocument {
    pub id: Uuid,
    pub case_id: Uuid,
    pub finalised: bool,
    /// Whether it is a later version of the request's target (see [`corrects`]).
    pub corrects_target: bool,
}

/// Why an answer was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerRefused {
    /// The request has its answer already; answers are not changed.
    AlreadyAnswered,
    Invalid(ValidationErrors),
}

impl AnswerRefused {
    pub fn code(&self) -> &'static str {
        match self {
            AnswerRefused::AlreadyAnswered => "correction_answered",
            AnswerRefused::Invalid(_) => "validation_failed",
        }
    }
}

/// Whether `start` is a later version of `target`, following each document's `corrects`
/// link (`parent`). Bounded, so a cycle in stored data cannot loop for ever.
pub fn corrects(start: Uuid, target: Uuid, parent: impl Fn(Uuid) -> Option<Uuid>) -> bool {
    let mut at = start;
    for _ in 0..1000 {
        match parent(at) {
            Some(p) if p == target => return true,
            Some(p) => at = p,
            None => return false,
        }
    }
    false
}

impl CorrectionRequest {
    /// Files a validated request; the answer is due [`ANSWER_DAYS`] later.
    pub fn file(
        id: Uuid,
        case_id: Uuid,
        worker: Uuid,
        draft: CorrectionDraft,
        responder: Responder,
        responder_organisation: Uuid,
        now: OffsetDateTime,
    ) -> CorrectionRequest {
        let now = crate::time_format::truncate_micros(now);
        CorrectionRequest {
            id,
            case_id,
            worker,
            target: draft.target,
            kind: draft.kind,
            what_is_wrong: draft.what_is_wrong,
            should_say: draft.should_say,
            responder,
            responder_organisation,
            filed_at: now,
            due: now
                .date()
                .checked_add(Duration::days(ANSWER_DAYS))
                .unwrap_or(Date::MAX),
            answer: None,
        }
    }

    pub fn status(&self) -> CorrectionStatus {
        if self.answer.is_some() {
            CorrectionStatus::Answered
        } else {
            CorrectionStatus::Received
        }
    }

    pub fn overdue(&self, today: Date) -> bool {
        self.answer.is_none() && self.due < today
    }

    /// The answer: 受付 → 回答済み. `named` describes `input.corrected_document` when the
    /// caller found it (`None` when none was named or it does not exist).
    pub fn answer(
        &self,
        input: AnswerInput<'_>,
        named: Option<NamedDocument>,
        by: Uuid,
        now: OffsetDateTime,
    ) -> Result<CorrectionRequest, AnswerRefused> {
        if self.answer.is_some() {
            return Err(AnswerRefused::AlreadyAnswered);
        }
        let mut errs = ValidationErrors::default();
        let decision = Decision::from_code(input.decision.trim());
        if decision.is_none() {
            errs.push(FieldError::new(
                field::DECISION,
                "invalid_option",
                "「回答」を「訂正した」「訂正しない」「一部を訂正した」から選んでください。",
            ));
        }
        let reason = match text(field::REASON, input.reason.unwrap_or(""), TEXT_MAX, false) {
            Ok(r) => r,
            Err(e) => {
                errs.push(e);
                None
            }
        };
        let on_document = self.target.document().is_some();
        let reason_missing =
            reason.is_none() && !errs.errors.iter().any(|e| e.field == field::REASON);
        if let (Some(d), true) = (decision, reason_missing) {
            let message = match d {
                Decision::NotCorrected => Some(
                    "訂正しない場合は、その理由を「理由・説明」に入力してください（本人にお知らせします）。",
                ),
                Decision::PartlyCorrected => Some(
                    "一部だけ訂正した場合は、訂正しなかった部分とその理由を「理由・説明」に入力してください。",
                ),
                Decision::Corrected if !on_document => {
                    Some("どのように訂正したかを「理由・説明」に入力してください。")
                }
                Decision::Corrected => None,
            };
            if let Some(m) = message {
                errs.push(FieldError::new(field::REASON, "required", m));
            }
        }
        let corrected = match (decision, input.corrected_document) {
            (Some(Decision::NotCorrected), Some(_)) => {
                errs.push(FieldError::new(
                    field::CORRECTED_DOCUMENT,
                    "not_applicable",
                    "訂正しない場合は「訂正した書類」を選ばないでください。",
                ));
                None
            }
            (Some(Decision::Corrected | Decision::PartlyCorrected), None) if on_document => {
                errs.push(FieldError::new(
                    field::CORRECTED_DOCUMENT,
                    "required",
                    "「訂正した書類」で、訂正した新しい版を選んでください。",
                ));
                None
            }
            (_, Some(id)) => match named.filter(|n| n.id == id && n.case_id == self.case_id) {
                None => {
                    errs.push(FieldError::new(
                        field::CORRECTED_DOCUMENT,
                        "unknown",
                        "「訂正した書類」が見つかりません。この事例の書類を選んでください。",
                    ));
                    None
                }
                Some(n) if !n.finalised => {
                    errs.push(FieldError::new(
                        field::CORRECTED_DOCUMENT,
                        "not_finalised",
                        "「訂正した書類」は確定してから選んでください。",
                    ));
                    None
                }
                Some(n) if on_document && !n.corrects_target => {
                    errs.push(FieldError::new(
                        field::CORRECTED_DOCUMENT,
                        "not_a_correction",
                        "「訂正した書類」には、訂正を求められた書類を訂正した新しい版を選んでください。",
                    ));
                    None
                }
                Some(n) => Some(n.id),
            },
            (_, None) => None,
        };
        let Some(decision) = decision.filter(|_| errs.is_empty()) else {
            return Err(AnswerRefused::Invalid(errs));
        };
        let mut next = self.clone();
        next.answer = Some(CorrectionAnswer {
            decision,
            reason,
            corrected_document: corrected,
            answered_by: by,
            answered_at: crate::time_format::truncate_micros(now),
        });
        Ok(next)
    }
}

/// Only the worker files, in their own name: anyone else related to the case is refused,
/// and anyone unrelated learns nothing (`NotFound`).
pub fn may_file(
    p: &crate::policy::Principal,
    ctx: &CaseContext,
    now: OffsetDateTime,
) -> Result<(), Denial> {
    decide_case(p, ctx, Action::ViewCase { case: ctx.case }, now)?;
    if case_relations(p, ctx).contains(&CaseRelation::Worker) {
        Ok(())
    } else {
        Err(Denial::Forbidden)
    }
}

/// Whether `p` answers `request`: the responder's role at the responder's organisation, and
/// allowed by the policy to see what the request is about (a hospital's 主治医 also by the
/// right to write the opinion, which is theirs). Everything else is `NotFound`: the request
/// repeats the worker's health information.
pub fn may_answer(
    p: &crate::policy::Principal,
    ctx: &CaseContext,
    request: &CorrectionRequest,
    category: Option<crate::info::InformationCategory>,
    now: OffsetDateTime,
) -> Result<(), Denial> {
    let case = ctx.case;
    if request.case_id != case {
        return Err(Denial::NotFound);
    }
    match decide_case(p, ctx, Action::ViewCase { case }, now) {
        Ok(_) => {}
        Err(Denial::SecondFactorRequired) => return Err(Denial::SecondFactorRequired),
        Err(_) => return Err(Denial::NotFound),
    }
    let role = request.responder.role();
    let holds = case_relations(p, ctx)
        .iter()
        .any(|r| match (request.responder, r) {
            (Responder::Employer, CaseRelation::Employer { role: r }) => {
                *r == role && ctx.employer == request.responder_organisation
            }
            (
                Responder::Hospital,
                CaseRelation::Hospital {
                    organisation,
                    role: r,
                },
            ) => *r == role && *organisation == request.responder_organisation,
            _ => false,
        });
    if !holds {
        return Err(Denial::NotFound);
    }
    let sees = match category {
        None => true,
        Some(category) => {
            decide_case(p, ctx, Action::ViewCaseCategory { case, category }, now).is_ok()
                || (request.responder == Responder::Hospital
                    && decide_case(p, ctx, Action::WriteOpinion { case }, now).is_ok())
        }
    };
    if sees { Ok(()) } else { Err(Denial::NotFound) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::{Consent, EXPLANATION_VERSION, Recipient};
    use crate::info::InformationCategory;
    use crate::org::OrganisationKind;
    use crate::policy::{HandlingRules, MembershipRef, Principal};
    use proptest::prelude::*;
    use time::macros::{date, datetime};

    const NOW: OffsetDateTime = datetime!(2026-04-01 09:00 UTC);
    const CASE: Uuid = Uuid::from_u128(0xCA5E);
    const DOC: Uuid = Uuid::from_u128(0xD0C);
    const FIX: Uuid = Uuid::from_u128(0xF12);
    const E: Uuid = Uuid::from_u128(0xE1);
    const E2: Uuid = Uuid::from_u128(0xE2);
    const H: Uuid = Uuid::from_u128(0x41);
    const WORKER: Uuid = Uuid::from_u128(0x100);

    fn input<'a>(what: &'a str, should: &'a str) -> CorrectionInput<'a> {
        CorrectionInput {
            document: Some(DOC),
            target_description: None,
            kind: "correct",
            what_is_wrong: what,
            should_say: should,
        }
    }

    fn filed(target: CorrectionTarget) -> CorrectionRequest {
        let mut draft = CorrectionDraft::parse(input("通院は月2回", "通院は月1回")).unwrap();
        draft.target = target;
        CorrectionRequest::file(
            Uuid::from_u128(1),
            CASE,
            WORKER,
            draft,
            Responder::Employer,
            E,
            NOW,
        )
    }

    fn on_document() -> CorrectionRequest {
        filed(CorrectionTarget::Document { document: DOC })
    }

    fn named(finalised: bool, corrects_target: bool) -> NamedDocument {
        NamedDocument {
            id: FIX,
            case_id: CASE,
            finalised,
            corrects_target,
        }
    }

    #[test]
    fn a_valid_request_is_filed_as_received_with_its_due_date() {
        let r = on_document();
        assert_eq!(r.status(), CorrectionStatus::Received);
        assert_eq!(r.due, date!(2026 - 04 - 15));
        assert!(!r.overdue(date!(2026 - 04 - 15)));
        assert!(r.overdue(date!(2026 - 04 - 16)));
        assert_eq!(r.what_is_wrong, "通院は月2回");
    }

    #[test]
    fn texts_are_trimmed_and_line_breaks_unified() {
        let d = CorrectionDraft::parse(input("  一行目\r\n二行目\r ", "正しくは\n三回")).unwrap();
        assert_eq!(d.what_is_wrong, "一行目\n二行目");
        assert_eq!(d.should_say, "正しくは\n三回");
    }

    #[test]
    fn other_data_is_named_in_the_workers_words() {
        let d = CorrectionDraft::parse(CorrectionInput {
            document: None,
            target_description: Some(" 休業開始日 "),
            ..input("4月1日", "4月8日")
        })
        .unwrap();
        assert_eq!(
            d.target,
            CorrectionTarget::Other {
                description: "休業開始日".into()
            }
        );
    }

    #[test]
    fn filing_refusals_name_their_field() {
        let long = "あ".repeat(TEXT_MAX + 1);
        let table: Vec<(CorrectionInput<'_>, &[(&str, &str)])> = vec![
            (
                input("", "x"),
                &[(
                    field::WHAT_IS_WRONG,
                    "「誤っている内容」を入力してください。",
                )],
            ),
            (
                input("x", "   "),
                &[(field::SHOULD_SAY, "「正しい内容」を入力してください。")],
            ),
            (
                input(&long, "x"),
                &[(
                    field::WHAT_IS_WRONG,
                    "「誤っている内容」は2,000文字以内で入力してください。",
                )],
            ),
            (
                input("x\u{0007}", "x\u{202E}"),
                &[
                    (
                        field::WHAT_IS_WRONG,
                        "「誤っている内容」に使えない文字が含まれています。",
                    ),
                    (
                        field::SHOULD_SAY,
                        "「正しい内容」に使えない文字が含まれています。",
                    ),
                ],
            ),
            (
                CorrectionInput {
                    kind: "rewrite",
                    ..input("x", "y")
                },
                &[(
                    field::KIND,
                    "「請求の種類」を訂正・追加・削除から選んでください。",
                )],
            ),
            (
                CorrectionInput {
                    document: None,
                    ..input("x", "y")
                },
                &[(
                    field::TARGET_DESCRIPTION,
                    "「訂正を求める情報」で書類を選ぶか、「その他」としてその情報を入力してください。",
                )],
            ),
        ];
        for (i, want) in table {
            let got = CorrectionDraft::parse(i).unwrap_err();
            let got: Vec<(&str, &str)> = got
                .errors
                .iter()
                .map(|e| (e.field.as_str(), e.message.as_str()))
                .collect();
            assert_eq!(got, want.to_vec());
        }
    }

    /// (decision, reason, named document, target is a document) → Ok, or the refused fields.
    #[test]
    fn answer_table() {
        type Row = (
            &'static str,
            Option<&'static str>,
            Option<NamedDocument>,
            bool,
            Result<(), &'static [&'static str]>,
        );
        let good = Some(named(true, true));
        let table: &[Row] = &[
            ("corrected", None, good, true, Ok(())),
            ("corrected", Some("誤記を直しました"), good, true, Ok(())),
            (
                "corrected",
                None,
                None,
                true,
                Err(&[field::CORRECTED_DOCUMENT]),
            ),
            (
                "corrected",
                None,
                Some(named(false, true)),
                true,
                Err(&[field::CORRECTED_DOCUMENT]),
            ),
            (
                "corrected",
                None,
                Some(named(true, false)),
                true,
                Err(&[field::CORRECTED_DOCUMENT]),
            ),
            (
                "not_corrected",
                Some("記載は事実のとおりです"),
                None,
                true,
                Ok(()),
            ),
            ("not_corrected", None, None, true, Err(&[field::REASON])),
            (
                "not_corrected",
                Some("理由"),
                good,
                true,
                Err(&[field::CORRECTED_DOCUMENT]),
            ),
            ("partly_corrected", Some("日付のみ訂正"), good, true, Ok(())),
            (
                "partly_corrected",
                None,
                None,
                true,
                Err(&[field::REASON, field::CORRECTED_DOCUMENT]),
            ),
            ("maybe", Some("x"), None, true, Err(&[field::DECISION])),
            // Other data: the explanation carries what was done; a document is optional.
            (
                "corrected",
                Some("休業開始日を直しました"),
                None,
                false,
                Ok(()),
            ),
            ("corrected", None, None, false, Err(&[field::REASON])),
            (
                "corrected",
                Some("説明"),
                Some(named(true, false)),
                false,
                Ok(()),
            ),
        ];
        for (decision, reason, doc, on_doc, want) in table {
            let r = if *on_doc {
                on_document()
            } else {
                filed(CorrectionTarget::Other {
                    description: "休業開始日".into(),
                })
            };
            let got = r.answer(
                AnswerInput {
                    decision,
                    reason: *reason,
                    corrected_document: doc.map(|d| d.id),
                },
                *doc,
                Uuid::from_u128(0x201),
                NOW,
            );
            match (got, want) {
                (Ok(next), Ok(())) => {
                    assert_eq!(next.status(), CorrectionStatus::Answered);
                    let a = next.answer.unwrap();
                    assert_eq!(a.decision.code(), *decision);
                    assert_eq!(a.corrected_document, doc.map(|d| d.id));
                }
                (Err(AnswerRefused::Invalid(e)), Err(fields)) => {
                    let got: Vec<&str> = e.errors.iter().map(|e| e.field.as_str()).collect();
                    assert_eq!(&got, fields, "{decision} {reason:?}");
                }
                (got, want) => panic!("{decision} {reason:?} {doc:?}: {got:?} vs {want:?}"),
            }
        }
    }

    #[test]
    fn an_answer_is_final() {
        let answered = on_document()
            .answer(
                AnswerInput {
                    decision: "not_corrected",
                    reason: Some("事実のとおりです"),
                    corrected_document: None,
                },
                None,
                Uuid::from_u128(0x201),
                NOW,
            )
            .unwrap();
        let again = answered.answer(
            AnswerInput {
                decision: "corrected",
                reason: None,
                corrected_document: Some(FIX),
            },
            Some(named(true, true)),
            Uuid::from_u128(0x201),
            NOW,
        );
        assert_eq!(again, Err(AnswerRefused::AlreadyAnswered));
        assert!(!answered.overdue(date!(2030 - 01 - 01)));
    }

    #[test]
    fn a_named_document_of_another_case_is_not_found() {
        let mut other = named(true, true);
        other.case_id = Uuid::from_u128(0xBAD);
        let got = on_document().answer(
            AnswerInput {
                decision: "corrected",
                reason: None,
                corrected_document: Some(FIX),
            },
            Some(other),
            Uuid::from_u128(0x201),
            NOW,
        );
        let Err(AnswerRefused::Invalid(e)) = got else {
            panic!("{got:?}")
        };
        assert_eq!(e.errors[0].code, "unknown");
    }

    #[test]
    fn corrections_follow_the_chain_of_versions() {
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let parent = |d: Uuid| match d {
            x if x == c => Some(b),
            x if x == b => Some(a),
            _ => None,
        };
        assert!(corrects(c, a, parent));
        assert!(corrects(b, a, parent));
        assert!(!corrects(a, c, parent));
        assert!(
            !corrects(a, a, parent),
            "a document does not correct itself"
        );
        // A cycle in stored data ends.
        assert!(!corrects(a, c, |d| Some(if d == a { b } else { a })));
    }

    #[test]
    fn the_hospital_answers_for_what_its_physician_signed() {
        assert_eq!(
            Responder::for_document(Party::AttendingPhysician),
            Responder::Hospital
        );
        assert_eq!(Responder::for_document(Party::Worker), Responder::Employer);
        assert_eq!(
            Responder::for_document(Party::Employer),
            Responder::Employer
        );
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

    fn context(consents: Vec<Consent>) -> CaseContext {
        CaseContext {
            case: CASE,
            worker: WORKER,
            employer: E,
            closed: false,
            line_managers: Vec::new(),
            hospitals: vec![H],
            coordinators: vec![crate::policy::CaseCoordinator {
                user: Uuid::from_u128(0x302),
                organisation: H,
            }],
            consents,
            rules: HandlingRules::defaults(E),
        }
    }

    fn medical_consent_to_hr() -> Consent {
        Consent {
            id: Uuid::from_u128(0xC1),
            worker: WORKER,
            case: CASE,
            recipient: Recipient {
                organisation: E,
                role: Role::HrOfficer,
                person: None,
            },
            categories: [InformationCategory::Medical].into_iter().collect(),
            purpose: "両立支援のため".into(),
            granted_at: NOW - Duration::days(1),
            expires_at: None,
            withdrawn_at: None,
            explanation_version: EXPLANATION_VERSION,
        }
    }

    #[test]
    fn only_the_worker_files() {
        use OrganisationKind::*;
        let ctx = context(Vec::new());
        let table = [
            (person(0x100, &[(E, Employer, Role::Worker)]), Ok(())),
            (
                person(0x201, &[(E, Employer, Role::HrOfficer)]),
                Err(Denial::Forbidden),
            ),
            (
                person(0x302, &[(H, MedicalInstitution, Role::HospitalCoordinator)]),
                Err(Denial::Forbidden),
            ),
            (
                person(0x301, &[(H, MedicalInstitution, Role::AttendingPhysician)]),
                Err(Denial::Forbidden),
            ),
            (
                person(0x101, &[(E, Employer, Role::Worker)]),
                Err(Denial::NotFound),
            ),
            (
                person(0x501, &[(E2, Employer, Role::HrOfficer)]),
                Err(Denial::NotFound),
            ),
        ];
        for (p, want) in table {
            assert_eq!(may_file(&p, &ctx, NOW), want, "{p:?}");
        }
    }

    #[test]
    fn who_answers_and_sees_what_the_request_is_about() {
        use InformationCategory as C;
        use OrganisationKind::*;
        let hr = person(0x201, &[(E, Employer, Role::HrOfficer)]);
        let sangyoi = person(0x204, &[(E, Employer, Role::OccupationalPhysician)]);
        let doctor = person(0x301, &[(H, MedicalInstitution, Role::AttendingPhysician)]);
        let msw = person(0x302, &[(H, MedicalInstitution, Role::HospitalCoordinator)]);
        let other_hr = person(0x501, &[(E2, Employer, Role::HrOfficer)]);
        let worker = person(0x100, &[(E, Employer, Role::Worker)]);
        let employer_req = on_document();
        let mut hospital_req = on_document();
        hospital_req.responder = Responder::Hospital;
        hospital_req.responder_organisation = H;
        let plain = context(Vec::new());
        let consented = context(vec![medical_consent_to_hr()]);
        let nf = Err(Denial::NotFound);
        type Row<'a> = (
            &'a Principal,
            &'a CorrectionRequest,
            Option<C>,
            &'a CaseContext,
            Result<(), Denial>,
        );
        let table: Vec<Row<'_>> = vec![
            (&hr, &employer_req, Some(C::WorkInformation), &plain, Ok(())),
            (&hr, &employer_req, None, &plain, Ok(())),
            // HR sees no medical document without the worker's consent.
            (&hr, &employer_req, Some(C::Medical), &plain, nf),
            (&hr, &employer_req, Some(C::Medical), &consented, Ok(())),
            (
                &sangyoi,
                &employer_req,
                Some(C::WorkInformation),
                &plain,
                nf,
            ),
            (
                &other_hr,
                &employer_req,
                Some(C::WorkInformation),
                &plain,
                nf,
            ),
            (&worker, &employer_req, None, &plain, nf),
            (&hr, &hospital_req, Some(C::Medical), &consented, nf),
            // The 主治医 may write the opinion, so may answer for it even without a consent.
            (&doctor, &hospital_req, Some(C::Medical), &plain, Ok(())),
            (&doctor, &employer_req, Some(C::WorkInformation), &plain, nf),
            (&msw, &hospital_req, Some(C::Medical), &plain, nf),
        ];
        for (p, r, cat, ctx, want) in table {
            assert_eq!(may_answer(p, ctx, r, cat, NOW), want, "{} {cat:?}", p.user);
        }
        let mut closed = plain.clone();
        closed.closed = true;
        assert_eq!(
            may_answer(&doctor, &closed, &hospital_req, Some(C::Medical), NOW),
            nf,
            "a closed case's opinion is no longer written by the hospital"
        );
        assert_eq!(
            may_answer(&hr, &closed, &employer_req, Some(C::WorkInformation), NOW),
            Ok(()),
            "the employer still holds the data of a closed case"
        );
    }

    fn text_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("　".repeat(10)),
            Just("あ".repeat(1024 * 1024)),
            Just("Ａ".repeat(TEXT_MAX)),
            ".*",
            "[\\x00-\\x1F\\x7F\\u{202A}-\\u{202E}あ-んＡ-Ｚ０-９ a-z]{0,50}",
            "\\PC{0,300}",
        ]
    }

    fn known_field(f: &str) -> bool {
        [
            field::DOCUMENT,
            field::TARGET_DESCRIPTION,
            field::KIND,
            field::WHAT_IS_WRONG,
            field::SHOULD_SAY,
            field::DECISION,
            field::REASON,
            field::CORRECTED_DOCUMENT,
        ]
        .contains(&f)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn any_input_is_accepted_clean_or_refused_with_messages_naming_their_field(
            what in text_strategy(),
            should in text_strategy(),
            target in proptest::option::of(text_strategy()),
            kind in prop_oneof![Just("correct".to_owned()), Just("delete".to_owned()), ".{0,10}"],
            document in proptest::bool::ANY,
        ) {
            let got = CorrectionDraft::parse(CorrectionInput {
                document: document.then_some(DOC),
                target_description: target.as_deref(),
                kind: &kind,
                what_is_wrong: &what,
                should_say: &should,
            });
            match got {
                Ok(d) => {
                    for s in [&d.what_is_wrong, &d.should_say] {
                        prop_assert!(!s.is_empty() && s.chars().count() <= TEXT_MAX);
                        prop_assert!(!s.chars().any(unusable));
                        prop_assert_eq!(s.trim(), s.as_str());
                    }
                }
                Err(e) => {
                    prop_assert!(!e.errors.is_empty());
                    for f in &e.errors {
                        prop_assert!(known_field(&f.field), "{}", f.field);
                        let label = field::label(&f.field);
                        prop_assert!(f.message.contains(&format!("「{label}」")), "{}", f.message);
                    }
                }
            }
        }

        #[test]
        fn any_answer_is_accepted_or_refused_with_messages_naming_their_field(
            reason in proptest::option::of(text_strategy()),
            decision in prop_oneof![
                Just("corrected".to_owned()),
                Just("not_corrected".to_owned()),
                Just("partly_corrected".to_owned()),
                ".{0,12}",
            ],
            doc in proptest::option::of((proptest::bool::ANY, proptest::bool::ANY)),
        ) {
            let named_doc = doc.map(|(f, c)| named(f, c));
            let got = on_document().answer(
                AnswerInput {
                    decision: &decision,
                    reason: reason.as_deref(),
                    corrected_document: named_doc.map(|d| d.id),
                },
                named_doc,
                Uuid::from_u128(0x201),
                NOW,
            );
            match got {
                Ok(next) => {
                    let a = next.answer.clone().unwrap();
                    if let Some(r) = &a.reason {
                        prop_assert!(r.chars().count() <= TEXT_MAX && !r.chars().any(unusable));
                    }
                    prop_assert!(a.decision == Decision::NotCorrected || a.corrected_document.is_some());
                }
                Err(AnswerRefused::Invalid(e)) => {
                    prop_assert!(!e.errors.is_empty());
                    for f in &e.errors {
                        prop_assert!(known_field(&f.field), "{}", f.field);
                        let label = field::label(&f.field);
                        prop_assert!(f.message.contains(&format!("「{label}」")), "{}", f.message);
                    }
                }
                Err(AnswerRefused::AlreadyAnswered) => prop_assert!(false, "not answered yet"),
            }
        }
    }
}
