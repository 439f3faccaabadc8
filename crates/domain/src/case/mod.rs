//! The life of one case (事例) as a pure state machine.
//!
//! A case follows one of three paths (forms-and-rules.md §1, §3.2; the 指針's flow ⓪–➎):
//!
//! - 就業継続: 申出 → 勤務情報提供書 (drafted, confirmed by 本人 and 会社) → 主治医 →
//!   主治医意見書 → 産業医の意見 (or its documented absence) → 両立支援プラン (HR drafts, the
//!   worker confirms) → 支援中 with follow-up 面談 and reviews → revised versions → 終了.
//! - 休業・復職: 申出 → 休業 (with its expected end) → contact through the 相談窓口 →
//!   職場復帰の可否等の意見 → 産業医 → 職場復帰支援プラン with the 職場復帰日 → follow-up.
//! - 両立支援カード: 申出 → 本人記載欄 → 医師記載欄 → handed to the employer → 産業医 → プラン.
//!
//! [`apply`] takes the current state, a [`Step`], who takes it and the facts it depends on,
//! and returns the new state with the tasks the step opens and closes, or a [`StepRefused`]
//! with a stable code and a Japanese reason. Nothing here reads a clock or a store.
//!
//! Decided rules (not spelled out by the sources):
//! - A closed case is terminal; there is no reopen. Support starts from the worker's own
//!   申出, so a relapse or a mistaken closure starts a new case from a new 申出, and the
//!   recorded outcome stays stable for statistics.
//! - Leave can start from any open, not-on-leave status of any path; the case then moves to
//!   the 休業・復職 path (a 現時点で不可 opinion, or a relapse during support).
//! - While the latest 主治医 opinion is 現時点で不可, no 両立支援プラン for continued work may be
//!   drafted; the employer starts leave or closes the case (安衛法68条: hear the doctors
//!   before banning work, but do not plan work against the opinion).
//! - Editing the 勤務情報提供書 after a confirmation clears both confirmations, because each
//!   party confirmed a text that no longer exists.
//! - The worker may close (withdraw) their own case, always with the outcome その他.

// The physician's answers are the form's own options: one enum each, shared with the forms.
pub use crate::forms::{FitnessForWork, ReturnToWorkFitness};
use crate::org::{Role, coded_enum};
use serde::{Deserialize, Serialize};
use time::{Date, Duration};

/// Days allowed for a document or a confirmation that waits on someone.
pub const DRAFT_DAYS: i64 = 7;
pub const CONFIRM_DAYS: i64 = 7;
pub const HANDOVER_DAYS: i64 = 7;
pub const OPINION_DAYS: i64 = 14;
pub const PLAN_DRAFT_DAYS: i64 = 14;
/// Contact with a worker on leave, unless a date was agreed (指針 p.24: keep in touch).
pub const LEAVE_CONTACT_DAYS: i64 = 30;
/// The return opinion is due this long before leave is expected to end, so that the
/// 産業医 and the plan can follow before the return.
pub const RETURN_OPINION_LEAD_DAYS: i64 = 14;

coded_enum! {
    /// Which of the guideline's flows the case follows.
    CasePath {
        Continuation = "continuation" => "就業継続",
        LeaveAndReturn = "leave_and_return" => "休業・復職",
        SupportCard = "support_card" => "両立支援カード",
    }
}

coded_enum! {
    /// Every status of every path.
    CaseStatus {
        NotRequested = "not_requested" => "申出前",
        Requested = "requested" => "申出受付",
        WorkInformationDrafting = "work_information_drafting" => "勤務情報提供書の作成中",
        WorkInformationConfirming = "work_information_confirming" => "本人・会社の確認待ち",
        ReadyForPhysician = "ready_for_physician" => "主治医への提出待ち",
        OpinionRequested = "opinion_requested" => "主治医意見書の依頼中",
        CardAtPhysician = "card_at_physician" => "両立支援カードの医師記載待ち",
        CardWithWorker = "card_with_worker" => "両立支援カードの事業者への提出待ち",
        OccupationalPhysicianPending = "occupational_physician_pending" => "産業医の意見待ち",
        OnLeave = "on_leave" => "休業中",
        ReturnAssessment = "return_assessment" => "復職判定待ち",
        PlanDrafting = "plan_drafting" => "プラン作成中",
        PlanConfirmation = "plan_confirmation" => "本人のプラン確認待ち",
        Active = "active" => "支援中（プラン実施中）",
        Closed = "closed" => "終了",
    }
}

coded_enum! {
    /// How a case ended; kept for statistics.
    Outcome {
        Continuing = "continuing" => "就業継続",
        Returned = "returned" => "復職",
        Transferred = "transferred" => "配置転換",
        LeaveContinues = "leave_continues" => "休業継続",
        Resigned = "resigned" => "退職",
        Other = "other" => "その他",
    }
}

coded_enum! {
    /// Which party confirms the 勤務情報提供書 (the form's two signature lines).
    Confirmer {
        Worker = "worker" => "本人",
        Employer = "employer" => "会社",
    }
}

coded_enum! {
    /// What a task waits for. At most one task of each kind is open per case, so a step
    /// closes tasks by kind.
    TaskKind {
        DraftWorkInformation = "draft_work_information" => "勤務情報提供書の作成",
        ConfirmWorkInformationWorker = "confirm_work_information_worker" => "勤務情報提供書の確認（本人）",
        ConfirmWorkInformationEmployer = "confirm_work_information_employer" => "勤務情報提供書の確認（会社）",
        HandToPhysician = "hand_to_physician" => "勤務情報提供書の主治医への提出",
        OpinionPending = "opinion_pending" => "主治医意見書の作成",
        CardWorkerSection = "card_worker_section" => "両立支援カード本人記載欄の記入",
        CardPhysicianSection = "card_physician_section" => "両立支援カード医師記載欄の記入",
        CardHandover = "card_handover" => "両立支援カードの事業者への提出",
        OccupationalPhysicianOpinion = "occupational_physician_opinion" => "産業医の意見",
        StartLeave = "start_leave" => "休業開始の手続",
        LeaveContact = "leave_contact" => "休業中の連絡",
        ReturnOpinion = "return_opinion" => "職場復帰に関する主治医意見書",
        DraftPlan = "draft_plan" => "プランの作成",
        PlanConfirmation = "plan_confirmation" => "プランの確認（本人）",
        ReviewDue = "review_due" => "プランの見直し",
        FollowUpMeeting = "follow_up_meeting" => "フォローアップ面談",
        TranscribeScan = "transcribe_scan" => "紙の書類の転記",
    }
}

coded_enum! {
    /// The kind of a [`Step`], for labels and refusal messages.
    StepKind {
        FileRequest = "file_request" => "両立支援の申出",
        DraftWorkInformation = "draft_work_information" => "勤務情報提供書の作成",
        ConfirmWorkInformation = "confirm_work_information" => "勤務情報提供書の確認",
        HandToPhysician = "hand_to_physician" => "勤務情報提供書の主治医への提出",
        RecordOpinion = "record_opinion" => "主治医意見書の記録",
        RecordOccupationalPhysicianOpinion = "record_occupational_physician_opinion" => "産業医の意見の記録",
        SkipOccupationalPhysician = "skip_occupational_physician" => "産業医の意見の省略（産業医不在）",
        DraftPlan = "draft_plan" => "プランの作成",
        ConfirmPlan = "confirm_plan" => "プランの確認",
        RevisePlan = "revise_plan" => "プランの見直し",
        RecordFollowUp = "record_follow_up" => "フォローアップ面談の記録",
        StartLeave = "start_leave" => "休業の開始",
        RecordLeaveContact = "record_leave_contact" => "休業中の連絡の記録",
        RecordReturnOpinion = "record_return_opinion" => "職場復帰に関する主治医意見書の記録",
        CardWorkerSection = "card_worker_section" => "両立支援カード（本人記載欄）の記入",
        CardPhysicianSection = "card_physician_section" => "両立支援カード（医師記載欄）の記入",
        CardHandedToEmployer = "card_handed_to_employer" => "両立支援カードの事業者への提出",
        Close = "close" => "事例の終了",
    }
}

impl StepKind {
    /// The physician's steps: their record says what the physician concluded about the
    /// worker's health.
    pub fn is_clinical(self) -> bool {
        matches!(
            self,
            StepKind::RecordOpinion
                | StepKind::RecordReturnOpinion
                | StepKind::CardPhysicianSection
        )
    }

    /// What the button that takes the step says: what the person does, in their words
    /// (「主治医の意見を記録する」, not 「主治医意見書の記録を記録する」).
    pub fn action(self) -> &'static str {
        match self {
            StepKind::FileRequest => "両立支援を申し出る",
            StepKind::DraftWorkInformation => "勤務情報提供書を作成済みにする",
            StepKind::ConfirmWorkInformation => "勤務情報提供書の内容を確認した",
            StepKind::HandToPhysician => "勤務情報提供書を主治医に渡した",
            StepKind::RecordOpinion => "主治医の意見を記録する",
            StepKind::RecordOccupationalPhysicianOpinion => "産業医の意見を記録する",
            StepKind::SkipOccupationalPhysician => "産業医の意見を省略する（産業医がいない）",
            StepKind::DraftPlan => "プランを本人に示す",
            StepKind::ConfirmPlan => "プランの内容を確認した",
            StepKind::RevisePlan => "プランを見直す",
            StepKind::RecordFollowUp => "フォローアップ面談を記録する",
            StepKind::StartLeave => "休業を開始する",
            StepKind::RecordLeaveContact => "休業中の連絡を記録する",
            StepKind::RecordReturnOpinion => "職場復帰についての主治医の意見を記録する",
            StepKind::CardWorkerSection => "両立支援カードの本人記載欄を記入した",
            StepKind::CardPhysicianSection => "両立支援カードの医師記載欄を記入した",
            StepKind::CardHandedToEmployer => "両立支援カードを会社に提出した",
            StepKind::Close => "この事例を終了する",
        }
    }

    /// The step as the case history shows it: to those who may not see medical
    /// information a clinical step is only 「主治医の意見が届きました」.
    pub fn history_label(self, sees_medical: bool) -> &'static str {
        if self.is_clinical() && !sees_medical {
            "主治医の意見が届きました"
        } else {
            self.label()
        }
    }
}

coded_enum! {
    /// Date inputs that must not lie in the past.
    DateField {
        ExpectedEnd = "expected_end" => "休業終了の見込み日",
        LeaveUntil = "leave_until" => "休業が必要な期間（いつまで）",
        ReviewOn = "review_on" => "プランの見直し日",
        FollowUpOn = "follow_up_on" => "フォローアップ面談の日",
        ReturnOn = "return_on" => "職場復帰日",
        NextContactOn = "next_contact_on" => "次回の連絡日",
    }
}

/// A command on a case. Stored in the case's history as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// The worker's own 申出; support always starts here.
    FileRequest,
    /// Saves the 勤務情報提供書 (new or edited).
    DraftWorkInformation,
    ConfirmWorkInformation {
        by: Confirmer,
    },
    HandToPhysician,
    /// The 主治医意見書（治療の状況や就業継続の可否等）.
    RecordOpinion {
        fitness: FitnessForWork,
        /// Required with 現時点で不可: until when the worker should rest.
        #[serde(default)]
        leave_until: Option<Date>,
    },
    RecordOccupationalPhysicianOpinion,
    /// Only for an employer without a 産業医 (指針 p.25: then rely on the 主治医's information).
    SkipOccupationalPhysician,
    DraftPlan {
        review_on: Date,
        follow_up_on: Date,
        /// The 職場復帰日; required for a 職場復帰支援プラン, absent otherwise.
        #[serde(default)]
        return_on: Option<Date>,
    },
    ConfirmPlan,
    RevisePlan,
    /// A follow-up 面談 took place; it may also have reviewed the plan without changing it.
    RecordFollowUp {
        #[serde(default)]
        next_follow_up_on: Option<Date>,
        #[serde(default)]
        next_review_on: Option<Date>,
    },
    StartLeave {
        expected_end: Date,
    },
    RecordLeaveContact {
        #[serde(default)]
        next_contact_on: Option<Date>,
    },
    /// The 主治医意見書（職場復帰の可否等）.
    RecordReturnOpinion {
        fitness: ReturnToWorkFitness,
        #[serde(default)]
        leave_until: Option<Date>,
    },
    CardWorkerSection,
    CardPhysicianSection {
        fitness: FitnessForWork,
        #[serde(default)]
        leave_until: Option<Date>,
    },
    CardHandedToEmployer,
    Close {
        outcome: Outcome,
    },
}

impl Step {
    pub fn kind(&self) -> StepKind {
        match self {
            Step::FileRequest => StepKind::FileRequest,
            Step::DraftWorkInformation => StepKind::DraftWorkInformation,
            Step::ConfirmWorkInformation { .. } => StepKind::ConfirmWorkInformation,
            Step::HandToPhysician => StepKind::HandToPhysician,
            Step::RecordOpinion { .. } => StepKind::RecordOpinion,
            Step::RecordOccupationalPhysicianOpinion => {
                StepKind::RecordOccupationalPhysicianOpinion
            }
            Step::SkipOccupationalPhysician => StepKind::SkipOccupationalPhysician,
            Step::DraftPlan { .. } => StepKind::DraftPlan,
            Step::ConfirmPlan => StepKind::ConfirmPlan,
            Step::RevisePlan => StepKind::RevisePlan,
            Step::RecordFollowUp { .. } => StepKind::RecordFollowUp,
            Step::StartLeave { .. } => StepKind::StartLeave,
            Step::RecordLeaveContact { .. } => StepKind::RecordLeaveContact,
            Step::RecordReturnOpinion { .. } => StepKind::RecordReturnOpinion,
            Step::CardWorkerSection => StepKind::CardWorkerSection,
            Step::CardPhysicianSection { .. } => StepKind::CardPhysicianSection,
            Step::CardHandedToEmployer => StepKind::CardHandedToEmployer,
            Step::Close { .. } => StepKind::Close,
        }
    }
}

/// Facts outside the case that a step depends on, looked up by the caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFacts {
    /// Whether the employer has appointed a 産業医.
    pub has_occupational_physician: bool,
    /// Physician's documents the case holds as confirmed transcriptions of a paper original.
    #[serde(default)]
    pub paper: PaperOriginals,
}

/// Which physician's documents were written on paper and transcribed: the physician is not
/// on the platform, so the employer's staff record the opinion step from the transcription.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaperOriginals {
    pub continuation_opinion: bool,
    pub return_to_work_opinion: bool,
    pub support_card: bool,
}

impl PaperOriginals {
    pub const NONE: PaperOriginals = PaperOriginals {
        continuation_opinion: false,
        return_to_work_opinion: false,
        support_card: false,
    };

    /// Notes a confirmed transcription of `form`.
    pub fn note(&mut self, form: crate::forms::FormKind) {
        use crate::forms::FormKind as F;
        match form {
            F::ContinuationOpinion => self.continuation_opinion = true,
            F::ReturnToWorkOpinion => self.return_to_work_opinion = true,
            F::SupportCard => self.support_card = true,
            F::WorkInformation | F::SupportPlan | F::ReturnToWorkPlan => {}
        }
    }
}

/// A leave of absence within the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leave {
    pub started_on: Date,
    pub expected_end: Date,
    /// Set when a 職場復帰支援プラン with this 職場復帰日 is confirmed.
    #[serde(default)]
    pub return_on: Option<Date>,
}

/// The dated terms of one plan version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTerms {
    pub version: u32,
    pub review_on: Date,
    pub follow_up_on: Date,
    #[serde(default)]
    pub return_on: Option<Date>,
}

/// Who has confirmed the current 勤務情報提供書.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkInformationConfirmations {
    pub worker: bool,
    pub employer: bool,
}

impl WorkInformationConfirmations {
    fn get(self, by: Confirmer) -> bool {
        match by {
            Confirmer::Worker => self.worker,
            Confirmer::Employer => self.employer,
        }
    }
}

/// Everything the rules need to know about a case. Stored as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseState {
    /// The current path; starting leave moves any case to 休業・復職.
    pub path: CasePath,
    pub status: CaseStatus,
    #[serde(default)]
    pub requested_on: Option<Date>,
    #[serde(default)]
    pub work_information: WorkInformationConfirmations,
    /// The latest 主治医 opinion on continuing work (form 1b or the card).
    #[serde(default)]
    pub fitness: Option<FitnessForWork>,
    /// The latest 主治医 opinion on returning from leave (form 1c).
    #[serde(default)]
    pub return_fitness: Option<ReturnToWorkFitness>,
    #[serde(default)]
    pub leave: Option<Leave>,
    /// The plan version drafted and awaiting the worker's confirmation.
    #[serde(default)]
    pub draft_plan: Option<PlanTerms>,
    /// The confirmed plan in force.
    #[serde(default)]
    pub plan: Option<PlanTerms>,
    #[serde(default)]
    pub outcome: Option<Outcome>,
    #[serde(default)]
    pub closed_on: Option<Date>,
}

impl CaseState {
    /// A case before the worker's 申出; the only step it accepts is [`Step::FileRequest`].
    pub fn new(path: CasePath) -> CaseState {
        CaseState {
            path,
            status: CaseStatus::NotRequested,
            requested_on: None,
            work_information: WorkInformationConfirmations::default(),
            fitness: None,
            return_fitness: None,
            leave: None,
            draft_plan: None,
            plan: None,
            outcome: None,
            closed_on: None,
        }
    }

    /// On leave and no 職場復帰支援プラン confirmed yet.
    pub fn on_leave(&self) -> bool {
        self.leave.is_some_and(|l| l.return_on.is_none())
    }

    pub fn is_closed(&self) -> bool {
        self.status == CaseStatus::Closed
    }
}

/// Something a step waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub kind: TaskKind,
    pub assignee: Role,
    pub due: Date,
}

/// The result of an accepted step. The caller closes the open tasks of the kinds in
/// `closed` first (a kind with no open task is ignored), then opens `opened`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub state: CaseState,
    pub opened: Vec<Task>,
    pub closed: Vec<TaskKind>,
}

/// Why a step was refused: a stable code for programs and a Japanese message for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum StepRefused {
    CaseClosed,
    NotRequested,
    AlreadyRequested,
    /// A step only the worker may take, attempted by someone else.
    WorkerOnly {
        step: StepKind,
    },
    /// The 会社's confirmation, attempted by someone other than HR.
    EmployerConfirmationByHr,
    AttendingPhysicianOnly {
        step: StepKind,
    },
    OccupationalPhysicianOnly,
    RoleNotAllowed {
        step: StepKind,
        actor: Role,
    },
    WrongPath {
        step: StepKind,
        path: CasePath,
    },
    StepNotAvailable {
        step: StepKind,
        status: CaseStatus,
    },
    WorkInformationNotDrafted,
    WorkInformationNotConfirmed,
    AlreadyConfirmed {
        by: Confirmer,
    },
    CardWorkerSectionMissing,
    LeaveUntilRequired,
    LeaveUntilNotAllowed,
    DateInPast {
        field: DateField,
    },
    OccupationalPhysicianExists,
    NoOccupationalPhysician,
    UnfitForWork,
    ReturnDateRequired,
    ReturnDateNotApplicable,
    PlanNotDrafted,
    NoActivePlan,
    AlreadyOnLeave,
    NotOnLeave,
    OutcomeNeedsReturn,
    OutcomeNeedsLeave,
    OutcomeWhileOnLeave,
    WorkerMayOnlyWithdraw,
}

impl StepRefused {
    /// The stable code used in the API.
    pub fn code(self) -> &'static str {
        match self {
            StepRefused::CaseClosed => "case_closed",
            StepRefused::NotRequested => "not_requested",
            StepRefused::AlreadyRequested => "already_requested",
            StepRefused::WorkerOnly { .. } => "worker_only",
            StepRefused::EmployerConfirmationByHr => "employer_confirmation_by_hr",
            StepRefused::AttendingPhysicianOnly { .. } => "attending_physician_only",
            StepRefused::OccupationalPhysicianOnly => "occupational_physician_only",
            StepRefused::RoleNotAllowed { .. } => "role_not_allowed",
            StepRefused::WrongPath { .. } => "wrong_path",
            StepRefused::StepNotAvailable { .. } => "step_not_available",
            StepRefused::WorkInformationNotDrafted => "work_information_not_drafted",
            StepRefused::WorkInformationNotConfirmed => "work_information_not_confirmed",
            StepRefused::AlreadyConfirmed { .. } => "already_confirmed",
            StepRefused::CardWorkerSectionMissing => "card_worker_section_missing",
            StepRefused::LeaveUntilRequired => "leave_until_required",
            StepRefused::LeaveUntilNotAllowed => "leave_until_not_allowed",
            StepRefused::DateInPast { .. } => "date_in_past",
            StepRefused::OccupationalPhysicianExists => "occupational_physician_exists",
            StepRefused::NoOccupationalPhysician => "no_occupational_physician",
            StepRefused::UnfitForWork => "unfit_for_work",
            StepRefused::ReturnDateRequired => "return_date_required",
            StepRefused::ReturnDateNotApplicable => "return_date_not_applicable",
            StepRefused::PlanNotDrafted => "plan_not_drafted",
            StepRefused::NoActivePlan => "no_active_plan",
            StepRefused::AlreadyOnLeave => "already_on_leave",
            StepRefused::NotOnLeave => "not_on_leave",
            StepRefused::OutcomeNeedsReturn => "outcome_needs_return",
            StepRefused::OutcomeNeedsLeave => "outcome_needs_leave",
            StepRefused::OutcomeWhileOnLeave => "outcome_while_on_leave",
            StepRefused::WorkerMayOnlyWithdraw => "worker_may_only_withdraw",
        }
    }

    /// The reason shown to people.
    pub fn message(self) -> String {
        match self {
            StepRefused::CaseClosed => "この事例は終了しています。終了した事例は変更できません。\
                 支援が再び必要な場合は、本人の申出により新しい事例を始めてください。"
                .into(),
            StepRefused::NotRequested => {
                "本人の申出がまだありません。両立支援は本人の申出から始まります。".into()
            }
            StepRefused::AlreadyRequested => "この事例の申出はすでに受け付けています。".into(),
            StepRefused::WorkerOnly { step } => format!(
                "「{step}」は本人だけが行えます。人事労務担当者や両立支援コーディネーターが\
                 本人に代わって行うことはできません。"
            ),
            StepRefused::EmployerConfirmationByHr => {
                "勤務情報提供書の会社としての確認は、人事労務担当者が行います。".into()
            }
            StepRefused::AttendingPhysicianOnly { step } => format!(
                "「{step}」は主治医だけが行えます。主治医が紙の書類に記入した場合は、\
                 本人がその写しをアップロードし、転記した内容を確定すると、\
                 人事労務担当者または産業保健スタッフが記録できます。"
            ),
            StepRefused::OccupationalPhysicianOnly => {
                "産業医の意見は産業医だけが記録できます。".into()
            }
            StepRefused::RoleNotAllowed { step, actor } => {
                format!("{actor}は「{step}」を行えません。")
            }
            StepRefused::WrongPath { step, path } => {
                format!("「{step}」は「{path}」の事例では行えません。")
            }
            StepRefused::StepNotAvailable { step, status } => {
                format!("現在の状況（{status}）では「{step}」は行えません。")
            }
            StepRefused::WorkInformationNotDrafted => {
                "勤務情報提供書がまだ作成されていません。".into()
            }
            StepRefused::WorkInformationNotConfirmed => {
                "勤務情報提供書が本人と会社の双方に確認されるまで、主治医に渡すことはできません。"
                    .into()
            }
            StepRefused::AlreadyConfirmed { by } => {
                format!("{by}はすでにこの勤務情報提供書を確認しています。")
            }
            StepRefused::CardWorkerSectionMissing => {
                "両立支援カードは、先に本人記載欄を記入してから医師に渡します。".into()
            }
            StepRefused::LeaveUntilRequired => {
                "「現時点で不可」の場合は、休業が必要な期間（いつまで）を入力してください。".into()
            }
            StepRefused::LeaveUntilNotAllowed => {
                "休業が必要な期間は「現時点で不可」の場合にだけ入力します。".into()
            }
            StepRefused::DateInPast { field } => {
                format!("{field}には今日以降の日付を入力してください。")
            }
            StepRefused::OccupationalPhysicianExists => {
                "この事業場には産業医がいるため、産業医の意見を省略することはできません。".into()
            }
            StepRefused::NoOccupationalPhysician => "この事業場には産業医がいません。\
                 主治医の意見をもとに進める場合は、産業医の意見の省略を記録してください。"
                .into(),
            StepRefused::UnfitForWork => "主治医の意見が「現時点で不可」のため、\
                 就業を続けるための両立支援プランは作成できません。休業を開始してください。"
                .into(),
            StepRefused::ReturnDateRequired => {
                "職場復帰支援プランには職場復帰日を入力してください。".into()
            }
            StepRefused::ReturnDateNotApplicable => {
                "職場復帰日は、休業からの復職のプランにだけ入力します。".into()
            }
            StepRefused::PlanNotDrafted => "確認するプランがまだ作成されていません。".into(),
            StepRefused::NoActivePlan => "実施中のプランがありません。".into(),
            StepRefused::AlreadyOnLeave => "すでに休業中です。".into(),
            StepRefused::NotOnLeave => "この事例の本人は休業中ではありません。".into(),
            StepRefused::OutcomeNeedsReturn => {
                "「復職」で終了するには、職場復帰支援プランが確認されている必要があります。".into()
            }
            StepRefused::OutcomeNeedsLeave => {
                "「休業継続」で終了できるのは、休業中の事例だけです。".into()
            }
            StepRefused::OutcomeWhileOnLeave => {
                "休業中の事例は「就業継続」で終了できません。".into()
            }
            StepRefused::WorkerMayOnlyWithdraw => {
                "本人が事例を終了する場合（申出の取り下げ）、終了理由は「その他」になります。"
                    .into()
            }
        }
    }
}

impl std::fmt::Display for StepRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for StepRefused {}

/// A date `days` after `d`, saturating so that no input can make the rules panic.
fn days_after(d: Date, days: i64) -> Date {
    d.checked_add(Duration::days(days)).unwrap_or(Date::MAX)
}

fn days_before(d: Date, days: i64) -> Date {
    d.checked_sub(Duration::days(days)).unwrap_or(Date::MIN)
}

fn task(kind: TaskKind, assignee: Role, due: Date) -> Task {
    Task {
        kind,
        assignee,
        due,
    }
}

fn not_past(date: Date, field: DateField, today: Date) -> Result<(), StepRefused> {
    if date < today {
        Err(StepRefused::DateInPast { field })
    } else {
        Ok(())
    }
}

/// Checks who may take a step. The 両立支援コーディネーター supports the worker but never acts
/// for them, so no coordinator role appears here at all.
fn check_actor(step: &Step, actor: Role, paper: PaperOriginals) -> Result<(), StepRefused> {
    use Role as R;
    let kind = step.kind();
    // A confirmed transcription stands in for the physician, who wrote on paper; it is
    // recorded by those who handle the worker's health information at the employer.
    let transcribed = match step {
        Step::RecordOpinion { .. } => paper.continuation_opinion,
        Step::RecordReturnOpinion { .. } => paper.return_to_work_opinion,
        Step::CardPhysicianSection { .. } => paper.support_card,
        _ => false,
    };
    let worker_only = || {
        if actor == R::Worker {
            Ok(())
        } else {
            Err(StepRefused::WorkerOnly { step: kind })
        }
    };
    let physician_only = || {
        let transcriber = matches!(
            actor,
            R::HrOfficer | R::OccupationalPhysician | R::OccupationalHealthStaff
        );
        if actor == R::AttendingPhysician || (transcribed && transcriber) {
            Ok(())
        } else {
            Err(StepRefused::AttendingPhysicianOnly { step: kind })
        }
    };
    let one_of = |roles: &[Role]| {
        if roles.contains(&actor) {
            Ok(())
        } else {
            Err(StepRefused::RoleNotAllowed { step: kind, actor })
        }
    };
    match step {
        // The platform records the worker's own 申出 (指針 p.8), never one made for them.
        Step::FileRequest
        | Step::ConfirmWorkInformation {
            by: Confirmer::Worker,
        }
        | Step::ConfirmPlan
        | Step::CardWorkerSection => worker_only(),
        Step::ConfirmWorkInformation {
            by: Confirmer::Employer,
        } => {
            if actor == R::HrOfficer {
                Ok(())
            } else {
                Err(StepRefused::EmployerConfirmationByHr)
            }
        }
        // Written by the worker and the employer together; HR and 産業保健スタッフ help
        // (指針 p.19).
        Step::DraftWorkInformation => one_of(&[
            R::Worker,
            R::HrOfficer,
            R::OccupationalHealthStaff,
            R::OccupationalPhysician,
        ]),
        // The worker hands it over, or the 産業医等 where there are some (指針 p.19); the
        // physician may record receiving it.
        Step::HandToPhysician => one_of(&[
            R::Worker,
            R::OccupationalPhysician,
            R::OccupationalHealthStaff,
            R::AttendingPhysician,
        ]),
        Step::RecordOpinion { .. }
        | Step::RecordReturnOpinion { .. }
        | Step::CardPhysicianSection { .. } => physician_only(),
        Step::RecordOccupationalPhysicianOpinion => {
            if actor == R::OccupationalPhysician {
                Ok(())
            } else {
                Err(StepRefused::OccupationalPhysicianOnly)
            }
        }
        // The employer decides measures, leave and closure (指針 p.21, p.25).
        Step::SkipOccupationalPhysician
        | Step::DraftPlan { .. }
        | Step::RevisePlan
        | Step::StartLeave { .. } => one_of(&[R::HrOfficer]),
        Step::RecordFollowUp { .. } | Step::RecordLeaveContact { .. } => one_of(&[
            R::HrOfficer,
            R::OccupationalPhysician,
            R::OccupationalHealthStaff,
        ]),
        // The worker carries the card; HR may record receiving it.
        Step::CardHandedToEmployer => one_of(&[R::Worker, R::HrOfficer]),
        Step::Close { outcome } => match actor {
            R::HrOfficer => Ok(()),
            R::Worker if *outcome == Outcome::Other => Ok(()),
            R::Worker => Err(StepRefused::WorkerMayOnlyWithdraw),
            _ => Err(StepRefused::RoleNotAllowed { step: kind, actor }),
        },
    }
}

fn need_path(state: &CaseState, step: &Step, path: CasePath) -> Result<(), StepRefused> {
    if state.path == path {
        Ok(())
    } else {
        Err(StepRefused::WrongPath {
            step: step.kind(),
            path: state.path,
        })
    }
}

fn check_leave_until(
    unfit: bool,
    leave_until: Option<Date>,
    today: Date,
) -> Result<(), StepRefused> {
    match (unfit, leave_until) {
        (true, None) => Err(StepRefused::LeaveUntilRequired),
        (true, Some(d)) => not_past(d, DateField::LeaveUntil, today),
        (false, Some(_)) => Err(StepRefused::LeaveUntilNotAllowed),
        (false, None) => Ok(()),
    }
}

/// Applies one step to a case. Pure: `today` is the caller's date in Japan.
pub fn apply(
    state: &CaseState,
    step: &Step,
    actor: Role,
    facts: &CaseFacts,
    today: Date,
) -> Result<Transition, StepRefused> {
    use CaseStatus as St;
    if state.is_closed() {
        return Err(StepRefused::CaseClosed);
    }
    match (state.status, step) {
        (St::NotRequested, Step::FileRequest) => {}
        (St::NotRequested, _) => return Err(StepRefused::NotRequested),
        (_, Step::FileRequest) => return Err(StepRefused::AlreadyRequested),
        _ => {}
    }
    check_actor(step, actor, facts.paper)?;

    let kind = step.kind();
    let not_available = || StepRefused::StepNotAvailable {
        step: kind,
        status: state.status,
    };
    let mut next = state.clone();
    let mut opened = Vec::new();
    let mut closed = Vec::new();
    // Who hears the 産業医's opinion task: the 産業医, or HR who records its absence.
    let op_assignee = if facts.has_occupational_physician {
        Role::OccupationalPhysician
    } else {
        Role::HrOfficer
    };

    match step {
        Step::FileRequest => {
            next.status = St::Requested;
            next.requested_on = Some(today);
            opened.push(match state.path {
                CasePath::Continuation => task(
                    TaskKind::DraftWorkInformation,
                    Role::HrOfficer,
                    days_after(today, DRAFT_DAYS),
                ),
                CasePath::LeaveAndReturn => task(
                    TaskKind::StartLeave,
                    Role::HrOfficer,
                    days_after(today, DRAFT_DAYS),
                ),
                CasePath::SupportCard => task(
                    TaskKind::CardWorkerSection,
                    Role::Worker,
                    days_after(today, DRAFT_DAYS),
                ),
            });
        }

        Step::DraftWorkInformation => {
            need_path(state, step, CasePath::Continuation)?;
            match state.status {
                St::Requested => closed.push(TaskKind::DraftWorkInformation),
                St::WorkInformationDrafting => {}
                St::WorkInformationConfirming | St::ReadyForPhysician => closed.extend([
                    TaskKind::ConfirmWorkInformationWorker,
                    TaskKind::ConfirmWorkInformationEmployer,
                    TaskKind::HandToPhysician,
                ]),
                _ => return Err(not_available()),
            }
            if state.status != St::WorkInformationDrafting {
                let due = days_after(today, CONFIRM_DAYS);
                opened.push(task(
                    TaskKind::ConfirmWorkInformationWorker,
                    Role::Worker,
                    due,
                ));
                opened.push(task(
                    TaskKind::ConfirmWorkInformationEmployer,
                    Role::HrOfficer,
                    due,
                ));
            }
            next.status = St::WorkInformationDrafting;
            next.work_information = WorkInformationConfirmations::default();
        }

        Step::ConfirmWorkInformation { by } => {
            need_path(state, step, CasePath::Continuation)?;
            match state.status {
                St::Requested => return Err(StepRefused::WorkInformationNotDrafted),
                St::WorkInformationDrafting | St::WorkInformationConfirming => {}
                St::ReadyForPhysician => return Err(StepRefused::AlreadyConfirmed { by: *by }),
                _ => return Err(not_available()),
            }
            if state.work_information.get(*by) {
                return Err(StepRefused::AlreadyConfirmed { by: *by });
            }
            match by {
                Confirmer::Worker => {
                    next.work_information.worker = true;
                    closed.push(TaskKind::ConfirmWorkInformationWorker);
                }
                Confirmer::Employer => {
                    next.work_information.employer = true;
                    closed.push(TaskKind::ConfirmWorkInformationEmployer);
                }
            }
            if next.work_information.worker && next.work_information.employer {
                next.status = St::ReadyForPhysician;
                opened.push(task(
                    TaskKind::HandToPhysician,
                    Role::Worker,
                    days_after(today, HANDOVER_DAYS),
                ));
            } else {
                next.status = St::WorkInformationConfirming;
            }
        }

        Step::HandToPhysician => {
            need_path(state, step, CasePath::Continuation)?;
            match state.status {
                St::Requested => return Err(StepRefused::WorkInformationNotDrafted),
                St::WorkInformationDrafting | St::WorkInformationConfirming => {
                    return Err(StepRefused::WorkInformationNotConfirmed);
                }
                St::ReadyForPhysician => {}
                _ => return Err(not_available()),
            }
            next.status = St::OpinionRequested;
            closed.push(TaskKind::HandToPhysician);
            opened.push(task(
                TaskKind::OpinionPending,
                Role::AttendingPhysician,
                days_after(today, OPINION_DAYS),
            ));
        }

        Step::RecordOpinion {
            fitness,
            leave_until,
        } => {
            need_path(state, step, CasePath::Continuation)?;
            if state.status != St::OpinionRequested {
                return Err(not_available());
            }
            check_leave_until(*fitness == FitnessForWork::UnfitForNow, *leave_until, today)?;
            next.fitness = Some(*fitness);
            next.status = St::OccupationalPhysicianPending;
            closed.push(TaskKind::OpinionPending);
            opened.push(task(
                TaskKind::OccupationalPhysicianOpinion,
                op_assignee,
                days_after(today, OPINION_DAYS),
            ));
        }

        Step::CardWorkerSection => {
            need_path(state, step, CasePath::SupportCard)?;
            if state.status != St::Requested {
                return Err(not_available());
            }
            next.status = St::CardAtPhysician;
            closed.push(TaskKind::CardWorkerSection);
            opened.push(task(
                TaskKind::CardPhysicianSection,
                Role::AttendingPhysician,
                days_after(today, OPINION_DAYS),
            ));
        }

        Step::CardPhysicianSection {
            fitness,
            leave_until,
        } => {
            need_path(state, step, CasePath::SupportCard)?;
            match state.status {
                St::Requested => return Err(StepRefused::CardWorkerSectionMissing),
                St::CardAtPhysician => {}
                _ => return Err(not_available()),
            }
            check_leave_until(*fitness == FitnessForWork::UnfitForNow, *leave_until, today)?;
            next.fitness = Some(*fitness);
            next.status = St::CardWithWorker;
            closed.push(TaskKind::CardPhysicianSection);
            opened.push(task(
                TaskKind::CardHandover,
                Role::Worker,
                days_after(today, HANDOVER_DAYS),
            ));
        }

        Step::CardHandedToEmployer => {
            need_path(state, step, CasePath::SupportCard)?;
            if state.status != St::CardWithWorker {
                return Err(not_available());
            }
            // Where 産業医等 are appointed, their opinion is heard on the card too.
            next.status = St::OccupationalPhysicianPending;
            closed.push(TaskKind::CardHandover);
            opened.push(task(
                TaskKind::OccupationalPhysicianOpinion,
                op_assignee,
                days_after(today, OPINION_DAYS),
            ));
        }

        Step::RecordOccupationalPhysicianOpinion | Step::SkipOccupationalPhysician => {
            if !matches!(
                state.status,
                St::OccupationalPhysicianPending | St::ReturnAssessment
            ) {
                return Err(not_available());
            }
            let skip = matches!(step, Step::SkipOccupationalPhysician);
            match (skip, facts.has_occupational_physician) {
                (true, true) => return Err(StepRefused::OccupationalPhysicianExists),
                (false, false) => return Err(StepRefused::NoOccupationalPhysician),
                _ => {}
            }
            next.status = St::PlanDrafting;
            closed.push(TaskKind::OccupationalPhysicianOpinion);
            opened.push(task(
                TaskKind::DraftPlan,
                Role::HrOfficer,
                days_after(today, PLAN_DRAFT_DAYS),
            ));
        }

        Step::DraftPlan {
            review_on,
            follow_up_on,
            return_on,
        } => {
            if !matches!(state.status, St::PlanDrafting | St::PlanConfirmation) {
                return Err(not_available());
            }
            // A plan drafted during leave is a 職場復帰支援プラン; revisions after the return
            // are ordinary plans.
            let returning = state.on_leave();
            if !returning && state.fitness == Some(FitnessForWork::UnfitForNow) {
                return Err(StepRefused::UnfitForWork);
            }
            match (returning, return_on) {
                (true, None) => return Err(StepRefused::ReturnDateRequired),
                (true, Some(d)) => not_past(*d, DateField::ReturnOn, today)?,
                (false, Some(_)) => return Err(StepRefused::ReturnDateNotApplicable),
                (false, None) => {}
            }
            not_past(*review_on, DateField::ReviewOn, today)?;
            not_past(*follow_up_on, DateField::FollowUpOn, today)?;
            // A re-draft before confirmation replaces the pending version, not adds one.
            let version = state.plan.map_or(0, |p| p.version).saturating_add(1);
            next.draft_plan = Some(PlanTerms {
                version,
                review_on: *review_on,
                follow_up_on: *follow_up_on,
                return_on: *return_on,
            });
            next.status = St::PlanConfirmation;
            closed.extend([TaskKind::DraftPlan, TaskKind::PlanConfirmation]);
            opened.push(task(
                TaskKind::PlanConfirmation,
                Role::Worker,
                days_after(today, CONFIRM_DAYS),
            ));
        }

        Step::ConfirmPlan => {
            let draft = match (state.status, state.draft_plan) {
                (St::PlanConfirmation, Some(d)) => d,
                (St::PlanDrafting, _) => return Err(StepRefused::PlanNotDrafted),
                _ => return Err(not_available()),
            };
            next.plan = Some(draft);
            next.draft_plan = None;
            next.status = St::Active;
            if let (Some(leave), Some(return_on)) = (next.leave.as_mut(), draft.return_on) {
                leave.return_on = Some(return_on);
                closed.extend([TaskKind::LeaveContact, TaskKind::ReturnOpinion]);
            }
            closed.extend([
                TaskKind::PlanConfirmation,
                TaskKind::ReviewDue,
                TaskKind::FollowUpMeeting,
            ]);
            opened.push(task(TaskKind::ReviewDue, Role::HrOfficer, draft.review_on));
            opened.push(task(
                TaskKind::FollowUpMeeting,
                Role::HrOfficer,
                draft.follow_up_on,
            ));
        }

        Step::RevisePlan => {
            if state.plan.is_none() {
                return Err(StepRefused::NoActivePlan);
            }
            if state.status != St::Active {
                return Err(not_available());
            }
            // The confirmed plan stays in force, with its follow-ups, until the new version
            // is confirmed.
            next.status = St::PlanDrafting;
            closed.push(TaskKind::ReviewDue);
            opened.push(task(
                TaskKind::DraftPlan,
                Role::HrOfficer,
                days_after(today, PLAN_DRAFT_DAYS),
            ));
        }

        Step::RecordFollowUp {
            next_follow_up_on,
            next_review_on,
        } => {
            let Some(plan) = state.plan else {
                return Err(StepRefused::NoActivePlan);
            };
            if !matches!(
                state.status,
                St::Active | St::PlanDrafting | St::PlanConfirmation
            ) {
                return Err(not_available());
            }
            if let Some(d) = next_follow_up_on {
                not_past(*d, DateField::FollowUpOn, today)?;
            }
            if let Some(d) = next_review_on {
                not_past(*d, DateField::ReviewOn, today)?;
            }
            closed.push(TaskKind::FollowUpMeeting);
            if let Some(d) = next_follow_up_on {
                opened.push(task(TaskKind::FollowUpMeeting, Role::HrOfficer, *d));
            }
            // A 面談 that reviewed the plan without changing it moves the review date.
            if let Some(d) = next_review_on {
                next.plan = Some(PlanTerms {
                    review_on: *d,
                    ..plan
                });
                closed.push(TaskKind::ReviewDue);
                opened.push(task(TaskKind::ReviewDue, Role::HrOfficer, *d));
            }
        }

        Step::StartLeave { expected_end } => {
            if state.on_leave() {
                return Err(StepRefused::AlreadyOnLeave);
            }
            not_past(*expected_end, DateField::ExpectedEnd, today)?;
            next.path = CasePath::LeaveAndReturn;
            next.status = St::OnLeave;
            next.leave = Some(Leave {
                started_on: today,
                expected_end: *expected_end,
                return_on: None,
            });
            next.draft_plan = None;
            // The return opinion supersedes whatever opinion led to the leave.
            next.fitness = None;
            next.return_fitness = None;
            // Whatever the case waited for on its former path no longer applies.
            closed.extend_from_slice(TaskKind::ALL);
            opened.push(task(
                TaskKind::LeaveContact,
                Role::HrOfficer,
                days_after(today, LEAVE_CONTACT_DAYS),
            ));
            opened.push(return_opinion_task(*expected_end, today));
        }

        Step::RecordLeaveContact { next_contact_on } => {
            if !state.on_leave() {
                return Err(StepRefused::NotOnLeave);
            }
            let due = match next_contact_on {
                Some(d) => {
                    not_past(*d, DateField::NextContactOn, today)?;
                    *d
                }
                None => days_after(today, LEAVE_CONTACT_DAYS),
            };
            closed.push(TaskKind::LeaveContact);
            opened.push(task(TaskKind::LeaveContact, Role::HrOfficer, due));
        }

        Step::RecordReturnOpinion {
            fitness,
            leave_until,
        } => {
            if !state.on_leave() {
                return Err(StepRefused::NotOnLeave);
            }
            if state.status != St::OnLeave {
                return Err(not_available());
            }
            let unfit = *fitness == ReturnToWorkFitness::NotYet;
            check_leave_until(unfit, *leave_until, today)?;
            next.return_fitness = Some(*fitness);
            closed.push(TaskKind::ReturnOpinion);
            match (unfit, leave_until, next.leave.as_mut()) {
                (true, Some(until), Some(leave)) => {
                    // Leave goes on; ask again before the new end.
                    leave.expected_end = *until;
                    opened.push(return_opinion_task(*until, today));
                }
                _ => {
                    next.status = St::ReturnAssessment;
                    opened.push(task(
                        TaskKind::OccupationalPhysicianOpinion,
                        op_assignee,
                        days_after(today, OPINION_DAYS),
                    ));
                }
            }
        }

        Step::Close { outcome } => {
            match outcome {
                Outcome::Returned if state.leave.is_none_or(|l| l.return_on.is_none()) => {
                    return Err(StepRefused::OutcomeNeedsReturn);
                }
                Outcome::LeaveContinues if !state.on_leave() => {
                    return Err(StepRefused::OutcomeNeedsLeave);
                }
                Outcome::Continuing if state.on_leave() => {
                    return Err(StepRefused::OutcomeWhileOnLeave);
                }
                _ => {}
            }
            next.status = St::Closed;
            next.outcome = Some(*outcome);
            next.closed_on = Some(today);
            next.draft_plan = None;
            closed.extend_from_slice(TaskKind::ALL);
        }
    }

    Ok(Transition {
        state: next,
        opened,
        closed,
    })
}

fn return_opinion_task(expected_end: Date, today: Date) -> Task {
    let due = days_before(expected_end, RETURN_OPINION_LEAD_DAYS).max(today);
    task(TaskKind::ReturnOpinion, Role::AttendingPhysician, due)
}

#[cfg(test)]
mod tests;
