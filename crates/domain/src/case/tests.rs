use super::*;
use CaseStatus as St;
use Role as R;
use proptest::prelude::*;
use time::macros::date;

const TODAY: Date = date!(2026 - 05 - 01);
const REVIEW: Date = date!(2026 - 08 - 01);
const FOLLOW_UP: Date = date!(2026 - 05 - 15);
const LEAVE_END: Date = date!(2026 - 07 - 01);
const LEAVE_UNTIL: Date = date!(2026 - 08 - 01);
const RETURN_ON: Date = date!(2026 - 08 - 17);
const PAST: Date = date!(2026 - 04 - 30);

const OP: CaseFacts = CaseFacts {
    has_occupational_physician: true,
    paper: PaperOriginals::NONE,
};
const NO_OP: CaseFacts = CaseFacts {
    has_occupational_physician: false,
    paper: PaperOriginals::NONE,
};

fn plan(return_on: Option<Date>) -> Step {
    Step::DraftPlan {
        review_on: REVIEW,
        follow_up_on: FOLLOW_UP,
        return_on,
    }
}

fn opinion(fitness: FitnessForWork, leave_until: Option<Date>) -> Step {
    Step::RecordOpinion {
        fitness,
        leave_until,
    }
}

fn return_opinion(fitness: ReturnToWorkFitness, leave_until: Option<Date>) -> Step {
    Step::RecordReturnOpinion {
        fitness,
        leave_until,
    }
}

fn confirm(by: Confirmer) -> Step {
    Step::ConfirmWorkInformation { by }
}

fn close(outcome: Outcome) -> Step {
    Step::Close { outcome }
}

fn follow_up() -> Step {
    Step::RecordFollowUp {
        next_follow_up_on: Some(date!(2026 - 05 - 29)),
        next_review_on: None,
    }
}

/// The 就業継続 path end to end, with a revision; run with an employer that has a 産業医.
fn continuation() -> Vec<(Step, Role, St)> {
    vec![
        (Step::FileRequest, R::Worker, St::Requested),
        (
            Step::DraftWorkInformation,
            R::HrOfficer,
            St::WorkInformationDrafting,
        ),
        (
            confirm(Confirmer::Worker),
            R::Worker,
            St::WorkInformationConfirming,
        ),
        (
            confirm(Confirmer::Employer),
            R::HrOfficer,
            St::ReadyForPhysician,
        ),
        (Step::HandToPhysician, R::Worker, St::OpinionRequested),
        (
            opinion(FitnessForWork::FitWithConditions, None),
            R::AttendingPhysician,
            St::OccupationalPhysicianPending,
        ),
        (
            Step::RecordOccupationalPhysicianOpinion,
            R::OccupationalPhysician,
            St::PlanDrafting,
        ),
        (plan(None), R::HrOfficer, St::PlanConfirmation),
        (Step::ConfirmPlan, R::Worker, St::Active),
        (follow_up(), R::OccupationalHealthStaff, St::Active),
        (Step::RevisePlan, R::HrOfficer, St::PlanDrafting),
        (plan(None), R::HrOfficer, St::PlanConfirmation),
        (Step::ConfirmPlan, R::Worker, St::Active),
        (close(Outcome::Continuing), R::HrOfficer, St::Closed),
    ]
}

/// The 休業・復職 path end to end, with one extension of the leave.
fn leave() -> Vec<(Step, Role, St)> {
    vec![
        (Step::FileRequest, R::Worker, St::Requested),
        (
            Step::StartLeave {
                expected_end: LEAVE_END,
            },
            R::HrOfficer,
            St::OnLeave,
        ),
        (
            Step::RecordLeaveContact {
                next_contact_on: None,
            },
            R::HrOfficer,
            St::OnLeave,
        ),
        (
            return_opinion(ReturnToWorkFitness::NotYet, Some(LEAVE_UNTIL)),
            R::AttendingPhysician,
            St::OnLeave,
        ),
        (
            return_opinion(ReturnToWorkFitness::FitWithConditions, None),
            R::AttendingPhysician,
            St::ReturnAssessment,
        ),
        (
            Step::RecordOccupationalPhysicianOpinion,
            R::OccupationalPhysician,
            St::PlanDrafting,
        ),
        (plan(Some(RETURN_ON)), R::HrOfficer, St::PlanConfirmation),
        (Step::ConfirmPlan, R::Worker, St::Active),
        (follow_up(), R::HrOfficer, St::Active),
        (close(Outcome::Returned), R::HrOfficer, St::Closed),
    ]
}

/// The 両立支援カード path end to end; run with an employer that has no 産業医.
fn card() -> Vec<(Step, Role, St)> {
    vec![
        (Step::FileRequest, R::Worker, St::Requested),
        (Step::CardWorkerSection, R::Worker, St::CardAtPhysician),
        (
            Step::CardPhysicianSection {
                fitness: FitnessForWork::FitWithConditions,
                leave_until: None,
            },
            R::AttendingPhysician,
            St::CardWithWorker,
        ),
        (
            Step::CardHandedToEmployer,
            R::Worker,
            St::OccupationalPhysicianPending,
        ),
        (
            Step::SkipOccupationalPhysician,
            R::HrOfficer,
            St::PlanDrafting,
        ),
        (plan(None), R::HrOfficer, St::PlanConfirmation),
        (Step::ConfirmPlan, R::Worker, St::Active),
        (close(Outcome::Transferred), R::HrOfficer, St::Closed),
    ]
}

fn sequence(path: CasePath) -> (Vec<(Step, Role, St)>, CaseFacts) {
    match path {
        CasePath::Continuation => (continuation(), OP),
        CasePath::LeaveAndReturn => (leave(), OP),
        CasePath::SupportCard => (card(), NO_OP),
    }
}

/// The state after the first `n` steps of a path's sequence.
fn at(path: CasePath, n: usize) -> CaseState {
    let (steps, facts) = sequence(path);
    let mut state = CaseState::new(path);
    for (i, (step, actor, _)) in steps.iter().take(n).enumerate() {
        state = match apply(&state, step, *actor, &facts, TODAY) {
            Ok(t) => t.state,
            Err(e) => panic!("{path:?} step {i} {step:?}: {}", e.message()),
        };
    }
    state
}

#[test]
fn the_three_paths_run_end_to_end() {
    for path in CasePath::ALL {
        let (steps, facts) = sequence(*path);
        let mut state = CaseState::new(*path);
        for (i, (step, actor, expected)) in steps.iter().enumerate() {
            let t = apply(&state, step, *actor, &facts, TODAY)
                .unwrap_or_else(|e| panic!("{path:?} step {i} {step:?}: {}", e.message()));
            assert_eq!(t.state.status, *expected, "{path:?} step {i} {step:?}");
            state = t.state;
        }
        assert!(state.is_closed());
        assert!(state.outcome.is_some());
        assert_eq!(state.closed_on, Some(TODAY));
    }
}

#[test]
fn end_to_end_details() {
    let c = at(CasePath::Continuation, 13);
    assert_eq!(c.plan.map(|p| p.version), Some(2));
    assert_eq!(c.fitness, Some(FitnessForWork::FitWithConditions));

    let l = at(CasePath::LeaveAndReturn, 8);
    let leave = l.leave.unwrap();
    assert_eq!(leave.started_on, TODAY);
    assert_eq!(
        leave.expected_end, LEAVE_UNTIL,
        "extended by the NotNow opinion"
    );
    assert_eq!(leave.return_on, Some(RETURN_ON));
    assert!(!l.on_leave());
    assert_eq!(
        l.return_fitness,
        Some(ReturnToWorkFitness::FitWithConditions)
    );
}

enum Expect {
    To(CaseStatus),
    No(&'static str),
}
use Expect::{No, To};

type Row = (&'static str, CasePath, usize, CaseFacts, Step, Role, Expect);

/// (name, path, steps of the path's sequence already taken, facts, step, actor, expected).
#[rustfmt::skip]
fn table() -> Vec<Row> {
    use CasePath::{Continuation as C, LeaveAndReturn as L, SupportCard as K};
    let leave_start = || Step::StartLeave { expected_end: LEAVE_END };
    let contact = || Step::RecordLeaveContact { next_contact_on: None };
    let card_opinion = |fitness, leave_until| Step::CardPhysicianSection { fitness, leave_until };
    let unfit = FitnessForWork::UnfitForNow;
    vec![
        // Before the request.
        ("only the worker files", C, 0, OP, Step::FileRequest, R::HrOfficer, No("worker_only")),
        ("nothing before the request", C, 0, OP, Step::DraftWorkInformation, R::HrOfficer, No("not_requested")),
        ("filed once", C, 1, OP, Step::FileRequest, R::Worker, No("already_requested")),
        // 勤務情報提供書.
        ("the worker may draft", C, 1, OP, Step::DraftWorkInformation, R::Worker, To(St::WorkInformationDrafting)),
        ("health staff may draft", C, 1, OP, Step::DraftWorkInformation, R::OccupationalHealthStaff, To(St::WorkInformationDrafting)),
        ("a hospital coordinator does not draft", C, 1, OP, Step::DraftWorkInformation, R::HospitalCoordinator, No("role_not_allowed")),
        ("a line manager does not draft", C, 1, OP, Step::DraftWorkInformation, R::LineManager, No("role_not_allowed")),
        ("no work information on the card path", K, 1, NO_OP, Step::DraftWorkInformation, R::HrOfficer, No("wrong_path")),
        ("confirm needs a draft", C, 1, OP, confirm(Confirmer::Worker), R::Worker, No("work_information_not_drafted")),
        ("the employer may confirm first", C, 2, OP, confirm(Confirmer::Employer), R::HrOfficer, To(St::WorkInformationConfirming)),
        ("a coordinator never confirms for the worker", C, 2, OP, confirm(Confirmer::Worker), R::AgencyCoordinator, No("worker_only")),
        ("a hospital coordinator never confirms for the worker", C, 2, OP, confirm(Confirmer::Worker), R::HospitalCoordinator, No("worker_only")),
        ("HR cannot confirm for the worker", C, 2, OP, confirm(Confirmer::Worker), R::HrOfficer, No("worker_only")),
        ("the worker cannot confirm for the company", C, 2, OP, confirm(Confirmer::Employer), R::Worker, No("employer_confirmation_by_hr")),
        ("confirmed once", C, 3, OP, confirm(Confirmer::Worker), R::Worker, No("already_confirmed")),
        ("both confirmed already", C, 4, OP, confirm(Confirmer::Employer), R::HrOfficer, No("already_confirmed")),
        ("an edit clears confirmations", C, 3, OP, Step::DraftWorkInformation, R::HrOfficer, To(St::WorkInformationDrafting)),
        ("an edit after both confirmed", C, 4, OP, Step::DraftWorkInformation, R::Worker, To(St::WorkInformationDrafting)),
        ("not handed over unconfirmed", C, 2, OP, Step::HandToPhysician, R::Worker, No("work_information_not_confirmed")),
        ("not handed over half confirmed", C, 3, OP, Step::HandToPhysician, R::Worker, No("work_information_not_confirmed")),
        ("not handed over undrafted", C, 1, OP, Step::HandToPhysician, R::Worker, No("work_information_not_drafted")),
        ("the 産業医 may hand it over", C, 4, OP, Step::HandToPhysician, R::OccupationalPhysician, To(St::OpinionRequested)),
        ("HR does not hand it over", C, 4, OP, Step::HandToPhysician, R::HrOfficer, No("role_not_allowed")),
        ("no edits after handover", C, 5, OP, Step::DraftWorkInformation, R::HrOfficer, No("step_not_available")),
        // 主治医意見書.
        ("only the physician records the opinion", C, 5, OP, opinion(FitnessForWork::Fit, None), R::HrOfficer, No("attending_physician_only")),
        ("not the worker either", C, 5, OP, opinion(FitnessForWork::Fit, None), R::Worker, No("attending_physician_only")),
        ("fit", C, 5, OP, opinion(FitnessForWork::Fit, None), R::AttendingPhysician, To(St::OccupationalPhysicianPending)),
        ("unfit with a date", C, 5, OP, opinion(unfit, Some(LEAVE_UNTIL)), R::AttendingPhysician, To(St::OccupationalPhysicianPending)),
        ("unfit needs a date", C, 5, OP, opinion(unfit, None), R::AttendingPhysician, No("leave_until_required")),
        ("a date only when unfit", C, 5, OP, opinion(FitnessForWork::Fit, Some(LEAVE_UNTIL)), R::AttendingPhysician, No("leave_until_not_allowed")),
        ("no past leave date", C, 5, OP, opinion(unfit, Some(PAST)), R::AttendingPhysician, No("date_in_past")),
        ("no opinion before handover", C, 4, OP, opinion(FitnessForWork::Fit, None), R::AttendingPhysician, No("step_not_available")),
        ("the 1b opinion is not for the leave path", L, 2, OP, opinion(FitnessForWork::Fit, None), R::AttendingPhysician, No("wrong_path")),
        // 産業医.
        ("only the 産業医 records its opinion", C, 6, OP, Step::RecordOccupationalPhysicianOpinion, R::OccupationalHealthStaff, No("occupational_physician_only")),
        ("no skip with a 産業医", C, 6, OP, Step::SkipOccupationalPhysician, R::HrOfficer, No("occupational_physician_exists")),
        ("skip without a 産業医", C, 6, NO_OP, Step::SkipOccupationalPhysician, R::HrOfficer, To(St::PlanDrafting)),
        ("no 産業医 opinion without one", C, 6, NO_OP, Step::RecordOccupationalPhysicianOpinion, R::OccupationalPhysician, No("no_occupational_physician")),
        ("the worker cannot skip", C, 6, NO_OP, Step::SkipOccupationalPhysician, R::Worker, No("role_not_allowed")),
        ("no plan before the 産業医", C, 6, OP, plan(None), R::HrOfficer, No("step_not_available")),
        // Plan.
        ("only HR drafts the plan", C, 7, OP, plan(None), R::OccupationalPhysician, No("role_not_allowed")),
        ("no return date when continuing", C, 7, OP, plan(Some(RETURN_ON)), R::HrOfficer, No("return_date_not_applicable")),
        ("no past review date", C, 7, OP, Step::DraftPlan { review_on: PAST, follow_up_on: FOLLOW_UP, return_on: None }, R::HrOfficer, No("date_in_past")),
        ("no past follow-up date", C, 7, OP, Step::DraftPlan { review_on: REVIEW, follow_up_on: PAST, return_on: None }, R::HrOfficer, No("date_in_past")),
        ("nothing to confirm yet", C, 7, OP, Step::ConfirmPlan, R::Worker, No("plan_not_drafted")),
        ("a re-draft before confirmation", C, 8, OP, plan(None), R::HrOfficer, To(St::PlanConfirmation)),
        ("HR cannot confirm the plan for the worker", C, 8, OP, Step::ConfirmPlan, R::HrOfficer, No("worker_only")),
        ("a coordinator cannot confirm the plan", C, 8, OP, Step::ConfirmPlan, R::AgencyCoordinator, No("worker_only")),
        ("no follow-up without a plan", C, 8, OP, follow_up(), R::HrOfficer, No("no_active_plan")),
        ("no revision without a plan", C, 8, OP, Step::RevisePlan, R::HrOfficer, No("no_active_plan")),
        ("a line manager does not record follow-ups", C, 9, OP, follow_up(), R::LineManager, No("role_not_allowed")),
        ("the 産業医 records a follow-up", C, 9, OP, follow_up(), R::OccupationalPhysician, To(St::Active)),
        ("no past follow-up", C, 9, OP, Step::RecordFollowUp { next_follow_up_on: Some(PAST), next_review_on: None }, R::HrOfficer, No("date_in_past")),
        ("follow-ups go on during revision", C, 11, OP, follow_up(), R::HrOfficer, To(St::PlanDrafting)),
        ("no revision while revising", C, 11, OP, Step::RevisePlan, R::HrOfficer, No("step_not_available")),
        ("no confirmation while revising", C, 11, OP, Step::ConfirmPlan, R::Worker, No("plan_not_drafted")),
        // Leave from the continuation path, and closing.
        ("relapse during support", C, 9, OP, leave_start(), R::HrOfficer, To(St::OnLeave)),
        ("leave before any opinion", C, 2, OP, leave_start(), R::HrOfficer, To(St::OnLeave)),
        ("the worker does not start leave", C, 9, OP, leave_start(), R::Worker, No("role_not_allowed")),
        ("no past expected end", C, 9, OP, Step::StartLeave { expected_end: PAST }, R::HrOfficer, No("date_in_past")),
        ("no leave contact when not on leave", C, 9, OP, contact(), R::HrOfficer, No("not_on_leave")),
        ("closing while working", C, 9, OP, close(Outcome::Continuing), R::HrOfficer, To(St::Closed)),
        ("not 復職 without leave", C, 9, OP, close(Outcome::Returned), R::HrOfficer, No("outcome_needs_return")),
        ("not 休業継続 without leave", C, 9, OP, close(Outcome::LeaveContinues), R::HrOfficer, No("outcome_needs_leave")),
        ("the worker withdraws", C, 3, OP, close(Outcome::Other), R::Worker, To(St::Closed)),
        ("the worker only withdraws", C, 3, OP, close(Outcome::Resigned), R::Worker, No("worker_may_only_withdraw")),
        ("a coordinator does not close", C, 3, OP, close(Outcome::Other), R::HospitalCoordinator, No("role_not_allowed")),
        ("closed stays closed", C, 14, OP, Step::FileRequest, R::Worker, No("case_closed")),
        ("closed refuses HR too", C, 14, OP, Step::RevisePlan, R::HrOfficer, No("case_closed")),
        // 休業・復職.
        ("leave path has no work information", L, 1, OP, Step::DraftWorkInformation, R::HrOfficer, No("wrong_path")),
        ("no return opinion before leave", L, 1, OP, return_opinion(ReturnToWorkFitness::Fit, None), R::AttendingPhysician, No("not_on_leave")),
        ("not on leave twice", L, 2, OP, leave_start(), R::HrOfficer, No("already_on_leave")),
        ("health staff records a contact", L, 2, OP, contact(), R::OccupationalHealthStaff, To(St::OnLeave)),
        ("a coordinator does not record contacts", L, 2, OP, contact(), R::AgencyCoordinator, No("role_not_allowed")),
        ("an agreed contact date", L, 2, OP, Step::RecordLeaveContact { next_contact_on: Some(PAST) }, R::HrOfficer, No("date_in_past")),
        ("fit to return", L, 2, OP, return_opinion(ReturnToWorkFitness::Fit, None), R::AttendingPhysician, To(St::ReturnAssessment)),
        ("not yet, with a date", L, 2, OP, return_opinion(ReturnToWorkFitness::NotYet, Some(LEAVE_UNTIL)), R::AttendingPhysician, To(St::OnLeave)),
        ("not yet needs a date", L, 2, OP, return_opinion(ReturnToWorkFitness::NotYet, None), R::AttendingPhysician, No("leave_until_required")),
        ("a date only when not yet", L, 2, OP, return_opinion(ReturnToWorkFitness::Fit, Some(LEAVE_UNTIL)), R::AttendingPhysician, No("leave_until_not_allowed")),
        ("only the physician gives the return opinion", L, 2, OP, return_opinion(ReturnToWorkFitness::Fit, None), R::OccupationalPhysician, No("attending_physician_only")),
        ("close with leave going on", L, 2, OP, close(Outcome::LeaveContinues), R::HrOfficer, To(St::Closed)),
        ("not 就業継続 while on leave", L, 2, OP, close(Outcome::Continuing), R::HrOfficer, No("outcome_while_on_leave")),
        ("not 復職 before the return plan", L, 7, OP, close(Outcome::Returned), R::HrOfficer, No("outcome_needs_return")),
        ("a second return opinion waits", L, 5, OP, return_opinion(ReturnToWorkFitness::Fit, None), R::AttendingPhysician, No("step_not_available")),
        ("contact goes on during assessment", L, 5, OP, contact(), R::HrOfficer, To(St::ReturnAssessment)),
        ("skip without a 産業医 on return", L, 5, NO_OP, Step::SkipOccupationalPhysician, R::HrOfficer, To(St::PlanDrafting)),
        ("the return plan needs the date", L, 6, OP, plan(None), R::HrOfficer, No("return_date_required")),
        ("no past return date", L, 6, OP, plan(Some(PAST)), R::HrOfficer, No("date_in_past")),
        ("relapse after return", L, 8, OP, leave_start(), R::HrOfficer, To(St::OnLeave)),
        ("revision after return", L, 8, OP, Step::RevisePlan, R::HrOfficer, To(St::PlanDrafting)),
        ("no card steps on the leave path", L, 8, OP, Step::CardWorkerSection, R::Worker, No("wrong_path")),
        // 両立支援カード.
        ("the worker fills the 本人記載欄", K, 1, NO_OP, Step::CardWorkerSection, R::HospitalCoordinator, No("worker_only")),
        ("HR does not fill the 本人記載欄", K, 1, NO_OP, Step::CardWorkerSection, R::HrOfficer, No("worker_only")),
        ("本人記載欄 first", K, 1, NO_OP, card_opinion(FitnessForWork::Fit, None), R::AttendingPhysician, No("card_worker_section_missing")),
        ("only the physician fills the 医師記載欄", K, 2, NO_OP, card_opinion(FitnessForWork::Fit, None), R::Worker, No("attending_physician_only")),
        ("card unfit needs a date", K, 2, NO_OP, card_opinion(unfit, None), R::AttendingPhysician, No("leave_until_required")),
        ("card unfit with a date", K, 2, NO_OP, card_opinion(unfit, Some(LEAVE_UNTIL)), R::AttendingPhysician, To(St::CardWithWorker)),
        ("no handover before the 医師記載欄", K, 2, NO_OP, Step::CardHandedToEmployer, R::Worker, No("step_not_available")),
        ("HR records receiving the card", K, 3, NO_OP, Step::CardHandedToEmployer, R::HrOfficer, To(St::OccupationalPhysicianPending)),
        ("a coordinator does not hand the card over", K, 3, NO_OP, Step::CardHandedToEmployer, R::HospitalCoordinator, No("role_not_allowed")),
        ("the card path hears the 産業医 where there is one", K, 4, OP, Step::RecordOccupationalPhysicianOpinion, R::OccupationalPhysician, To(St::PlanDrafting)),
        ("no 1b handover on the card path", K, 4, NO_OP, Step::HandToPhysician, R::Worker, No("wrong_path")),
        ("card path leave", K, 4, NO_OP, leave_start(), R::HrOfficer, To(St::OnLeave)),
    ]
}

#[test]
fn transition_table() {
    for (name, path, n, facts, step, actor, expect) in table() {
        let state = at(path, n);
        let got = apply(&state, &step, actor, &facts, TODAY);
        match (expect, got) {
            (To(status), Ok(t)) => assert_eq!(t.state.status, status, "{name}"),
            (No(code), Err(e)) => assert_eq!(e.code(), code, "{name}: {}", e.message()),
            (To(status), Err(e)) => panic!("{name}: expected {status:?}, refused {}", e.code()),
            (No(code), Ok(t)) => panic!("{name}: expected {code}, got {:?}", t.state.status),
        }
    }
}

#[test]
fn unfit_opinion_blocks_the_plan_until_leave() {
    let facts = OP;
    let mut s = at(CasePath::Continuation, 5);
    for (step, actor) in [
        (
            opinion(FitnessForWork::UnfitForNow, Some(LEAVE_UNTIL)),
            R::AttendingPhysician,
        ),
        (
            Step::RecordOccupationalPhysicianOpinion,
            R::OccupationalPhysician,
        ),
    ] {
        s = apply(&s, &step, actor, &facts, TODAY).unwrap().state;
    }
    let refused = apply(&s, &plan(None), R::HrOfficer, &facts, TODAY).unwrap_err();
    assert_eq!(refused.code(), "unfit_for_work");
    let t = apply(
        &s,
        &Step::StartLeave {
            expected_end: LEAVE_UNTIL,
        },
        R::HrOfficer,
        &facts,
        TODAY,
    )
    .unwrap();
    assert_eq!(t.state.path, CasePath::LeaveAndReturn);
    assert_eq!(t.state.fitness, None);
    assert!(t.state.on_leave());
    assert_eq!(t.closed, TaskKind::ALL);
}

fn opened(t: &Transition) -> Vec<(TaskKind, Role, Date)> {
    t.opened
        .iter()
        .map(|k| (k.kind, k.assignee, k.due))
        .collect()
}

fn step_at(path: CasePath, n: usize, facts: &CaseFacts) -> Transition {
    let (steps, _) = sequence(path);
    let (step, actor, _) = &steps[n];
    apply(&at(path, n), step, *actor, facts, TODAY).unwrap()
}

#[test]
fn steps_open_and_close_dated_tasks() {
    use TaskKind as T;
    let c = CasePath::Continuation;
    assert_eq!(
        opened(&step_at(c, 0, &OP)),
        [(T::DraftWorkInformation, R::HrOfficer, date!(2026 - 05 - 08))]
    );
    let t = step_at(c, 1, &OP);
    assert_eq!(t.closed, [T::DraftWorkInformation]);
    assert_eq!(
        opened(&t),
        [
            (
                T::ConfirmWorkInformationWorker,
                R::Worker,
                date!(2026 - 05 - 08)
            ),
            (
                T::ConfirmWorkInformationEmployer,
                R::HrOfficer,
                date!(2026 - 05 - 08)
            ),
        ]
    );
    let t = step_at(c, 4, &OP);
    assert_eq!(t.closed, [T::HandToPhysician]);
    assert_eq!(
        opened(&t),
        [(
            T::OpinionPending,
            R::AttendingPhysician,
            date!(2026 - 05 - 15)
        )]
    );
    // The 産業医's task goes to HR where there is none, who then records its absence.
    assert_eq!(
        opened(&step_at(c, 5, &OP)),
        [(
            T::OccupationalPhysicianOpinion,
            R::OccupationalPhysician,
            date!(2026 - 05 - 15)
        )]
    );
    assert_eq!(
        opened(&step_at(c, 5, &NO_OP)),
        [(
            T::OccupationalPhysicianOpinion,
            R::HrOfficer,
            date!(2026 - 05 - 15)
        )]
    );
    assert_eq!(
        opened(&step_at(c, 7, &OP)),
        [(T::PlanConfirmation, R::Worker, date!(2026 - 05 - 08))]
    );
    let t = step_at(c, 8, &OP);
    assert_eq!(
        opened(&t),
        [
            (T::ReviewDue, R::HrOfficer, REVIEW),
            (T::FollowUpMeeting, R::HrOfficer, FOLLOW_UP),
        ]
    );
    assert_eq!(t.state.plan.map(|p| p.version), Some(1));
    let t = step_at(c, 13, &OP);
    assert_eq!(t.closed, TaskKind::ALL);
    assert!(t.opened.is_empty());

    let l = CasePath::LeaveAndReturn;
    assert_eq!(
        opened(&step_at(l, 1, &OP)),
        [
            (T::LeaveContact, R::HrOfficer, date!(2026 - 05 - 31)),
            // Two weeks before the expected end.
            (
                T::ReturnOpinion,
                R::AttendingPhysician,
                date!(2026 - 06 - 17)
            ),
        ]
    );
    assert_eq!(
        opened(&step_at(l, 3, &OP)),
        [(
            T::ReturnOpinion,
            R::AttendingPhysician,
            date!(2026 - 07 - 18)
        )]
    );
    let t = step_at(l, 7, &OP);
    assert!(t.closed.contains(&T::LeaveContact));
    assert!(t.closed.contains(&T::ReturnOpinion));

    let k = CasePath::SupportCard;
    assert_eq!(
        opened(&step_at(k, 0, &NO_OP)),
        [(T::CardWorkerSection, R::Worker, date!(2026 - 05 - 08))]
    );
    assert_eq!(
        opened(&step_at(k, 2, &NO_OP)),
        [(T::CardHandover, R::Worker, date!(2026 - 05 - 08))]
    );
}

#[test]
fn a_follow_up_may_move_the_review_date() {
    let s = at(CasePath::Continuation, 9);
    let next_review = date!(2026 - 11 - 01);
    let t = apply(
        &s,
        &Step::RecordFollowUp {
            next_follow_up_on: None,
            next_review_on: Some(next_review),
        },
        R::HrOfficer,
        &OP,
        TODAY,
    )
    .unwrap();
    assert_eq!(t.state.plan.map(|p| p.review_on), Some(next_review));
    assert_eq!(t.closed, [TaskKind::FollowUpMeeting, TaskKind::ReviewDue]);
    assert_eq!(
        opened(&t),
        [(TaskKind::ReviewDue, R::HrOfficer, next_review)]
    );
}

#[test]
fn coordinators_can_take_no_step() {
    let steps: Vec<Step> = CasePath::ALL
        .iter()
        .flat_map(|p| sequence(*p).0)
        .map(|(s, _, _)| s)
        .collect();
    for coordinator in [R::HospitalCoordinator, R::AgencyCoordinator] {
        for step in &steps {
            let all_paper = PaperOriginals {
                continuation_opinion: true,
                return_to_work_opinion: true,
                support_card: true,
            };
            assert!(
                check_actor(step, coordinator, all_paper).is_err(),
                "{step:?}"
            );
        }
    }
}

#[test]
fn dates_saturate_instead_of_panicking() {
    let s = at(CasePath::Continuation, 0);
    let t = apply(&s, &Step::FileRequest, R::Worker, &OP, Date::MAX).unwrap();
    assert_eq!(t.opened[0].due, Date::MAX);
    let s = at(CasePath::LeaveAndReturn, 1);
    let t = apply(
        &s,
        &Step::StartLeave {
            expected_end: Date::MIN,
        },
        R::HrOfficer,
        &OP,
        Date::MIN,
    )
    .unwrap();
    assert!(t.opened.iter().all(|k| k.due >= Date::MIN));
}

fn japanese(s: &str) -> bool {
    s.chars()
        .any(|c| ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c))
}

macro_rules! check_coded {
    ($($t:ty),+) => {$(
        let mut codes = std::collections::HashSet::new();
        for v in <$t>::ALL {
            assert!(japanese(v.label()), "{v:?}");
            assert!(codes.insert(v.code()), "{v:?}");
            assert_eq!(<$t>::from_code(v.code()), Some(*v));
            assert_eq!(serde_json::to_string(v).unwrap(), format!("\"{}\"", v.code()));
        }
    )+};
}

#[test]
fn every_code_has_a_japanese_label() {
    check_coded!(
        CasePath,
        CaseStatus,
        FitnessForWork,
        ReturnToWorkFitness,
        Outcome,
        Confirmer,
        TaskKind,
        StepKind,
        DateField
    );
}

fn all_refusals() -> Vec<StepRefused> {
    use StepRefused as F;
    vec![
        F::CaseClosed,
        F::NotRequested,
        F::AlreadyRequested,
        F::WorkerOnly {
            step: StepKind::ConfirmPlan,
        },
        F::EmployerConfirmationByHr,
        F::AttendingPhysicianOnly {
            step: StepKind::RecordOpinion,
        },
        F::OccupationalPhysicianOnly,
        F::RoleNotAllowed {
            step: StepKind::StartLeave,
            actor: R::LineManager,
        },
        F::WrongPath {
            step: StepKind::CardWorkerSection,
            path: CasePath::Continuation,
        },
        F::StepNotAvailable {
            step: StepKind::RevisePlan,
            status: St::OnLeave,
        },
        F::WorkInformationNotDrafted,
        F::WorkInformationNotConfirmed,
        F::AlreadyConfirmed {
            by: Confirmer::Worker,
        },
        F::CardWorkerSectionMissing,
        F::LeaveUntilRequired,
        F::LeaveUntilNotAllowed,
        F::DateInPast {
            field: DateField::ReturnOn,
        },
        F::OccupationalPhysicianExists,
        F::NoOccupationalPhysician,
        F::UnfitForWork,
        F::ReturnDateRequired,
        F::ReturnDateNotApplicable,
        F::PlanNotDrafted,
        F::NoActivePlan,
        F::AlreadyOnLeave,
        F::NotOnLeave,
        F::OutcomeNeedsReturn,
        F::OutcomeNeedsLeave,
        F::OutcomeWhileOnLeave,
        F::WorkerMayOnlyWithdraw,
    ]
}

#[test]
fn every_refusal_has_a_code_and_a_japanese_message() {
    let mut codes = std::collections::HashSet::new();
    for r in all_refusals() {
        assert!(japanese(&r.message()), "{r:?}");
        assert!(codes.insert(r.code()), "{r:?}");
        let json = serde_json::to_value(r).unwrap();
        assert_eq!(json["code"], r.code());
        assert_eq!(serde_json::from_value::<StepRefused>(json).unwrap(), r);
    }
    assert_eq!(
        StepRefused::WorkInformationNotConfirmed.message(),
        "勤務情報提供書が本人と会社の双方に確認されるまで、主治医に渡すことはできません。"
    );
    assert_eq!(
        StepRefused::StepNotAvailable {
            step: StepKind::RevisePlan,
            status: St::OnLeave
        }
        .message(),
        "現在の状況（休業中）では「プランの見直し」は行えません。"
    );
}

#[test]
fn states_and_steps_round_trip_as_json() {
    for path in CasePath::ALL {
        let (steps, _) = sequence(*path);
        for n in 0..=steps.len() {
            let s = at(*path, n);
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(serde_json::from_str::<CaseState>(&json).unwrap(), s);
        }
        for (step, _, _) in steps {
            let json = serde_json::to_value(&step).unwrap();
            assert_eq!(json["step"], step.kind().code());
            assert_eq!(serde_json::from_value::<Step>(json).unwrap(), step);
        }
    }
    let step: Step =
        serde_json::from_str(r#"{"step":"record_opinion","fitness":"fit_with_conditions"}"#)
            .unwrap();
    assert_eq!(step, opinion(FitnessForWork::FitWithConditions, None));
}

fn arb_date() -> impl Strategy<Value = Date> {
    prop_oneof![
        1 => Just(Date::MIN),
        1 => Just(Date::MAX),
        12 => (-20i64..200).prop_map(|n| days_after(TODAY, n)),
    ]
}

fn od() -> impl Strategy<Value = Option<Date>> {
    prop::option::of(arb_date())
}

fn arb_step() -> impl Strategy<Value = Step> {
    let fitness = prop::sample::select(FitnessForWork::ALL);
    let ret = prop::sample::select(ReturnToWorkFitness::ALL);
    prop_oneof![
        Just(Step::FileRequest),
        Just(Step::DraftWorkInformation),
        prop::sample::select(Confirmer::ALL).prop_map(|by| Step::ConfirmWorkInformation { by }),
        Just(Step::HandToPhysician),
        (fitness.clone(), od()).prop_map(|(fitness, leave_until)| Step::RecordOpinion {
            fitness,
            leave_until
        }),
        Just(Step::RecordOccupationalPhysicianOpinion),
        Just(Step::SkipOccupationalPhysician),
        (arb_date(), arb_date(), od()).prop_map(|(review_on, follow_up_on, return_on)| {
            Step::DraftPlan {
                review_on,
                follow_up_on,
                return_on,
            }
        }),
        Just(Step::ConfirmPlan),
        Just(Step::RevisePlan),
        (od(), od()).prop_map(|(next_follow_up_on, next_review_on)| {
            Step::RecordFollowUp {
                next_follow_up_on,
                next_review_on,
            }
        }),
        arb_date().prop_map(|expected_end| Step::StartLeave { expected_end }),
        od().prop_map(|next_contact_on| Step::RecordLeaveContact { next_contact_on }),
        (ret, od()).prop_map(|(fitness, leave_until)| Step::RecordReturnOpinion {
            fitness,
            leave_until
        }),
        Just(Step::CardWorkerSection),
        (fitness, od()).prop_map(|(fitness, leave_until)| Step::CardPhysicianSection {
            fitness,
            leave_until
        }),
        Just(Step::CardHandedToEmployer),
        prop::sample::select(Outcome::ALL).prop_map(|outcome| Step::Close { outcome }),
    ]
}

fn arb_move() -> impl Strategy<Value = (Step, Role, bool)> {
    (arb_step(), prop::sample::select(Role::ALL), any::<bool>())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random steps from random points of the three paths never panic, keep the state's
    /// invariants, and a closed case refuses everything.
    #[test]
    fn random_steps_never_panic_and_closed_stays_closed(
        path in prop::sample::select(CasePath::ALL),
        start in 0usize..15,
        today in arb_date(),
        moves in prop::collection::vec(arb_move(), 0..60),
    ) {
        let (steps, _) = sequence(path);
        let mut state = at(path, start.min(steps.len()));
        for (step, actor, has_op) in moves {
            let facts = CaseFacts {
                has_occupational_physician: has_op,
                paper: PaperOriginals::NONE,
            };
            let was_closed = state.is_closed();
            match apply(&state, &step, actor, &facts, today) {
                Ok(t) => {
                    prop_assert!(!was_closed);
                    prop_assert!(!t.state.invariants_broken());
                    state = t.state;
                }
                Err(e) => {
                    prop_assert!(japanese(&e.message()));
                    if was_closed {
                        prop_assert_eq!(e, StepRefused::CaseClosed);
                    }
                }
            }
            prop_assert_eq!(state.is_closed(), state.outcome.is_some());
        }
    }
}

impl CaseState {
    /// Invariants every reachable state keeps; true when one is broken.
    fn invariants_broken(&self) -> bool {
        let closed_consistent = self.is_closed() == self.outcome.is_some()
            && self.is_closed() == self.closed_on.is_some();
        let draft_consistent = self.draft_plan.is_some() == (self.status == St::PlanConfirmation);
        let leave_consistent = !self.on_leave() || self.path == CasePath::LeaveAndReturn;
        let active_has_plan = self.status != St::Active || self.plan.is_some();
        let requested = (self.status == St::NotRequested) == self.requested_on.is_none();
        !(closed_consistent && draft_consistent && leave_consistent && active_has_plan && requested)
    }
}

#[test]
fn a_confirmed_transcription_lets_the_employers_health_staff_record_the_physicians_step() {
    let opinion = Step::RecordReturnOpinion {
        fitness: ReturnToWorkFitness::Fit,
        leave_until: None,
    };
    let on_leave = at(CasePath::LeaveAndReturn, 3);
    let paper = CaseFacts {
        has_occupational_physician: true,
        paper: PaperOriginals {
            return_to_work_opinion: true,
            ..PaperOriginals::NONE
        },
    };
    // Without a transcription only the physician records it.
    let refused = apply(&on_leave, &opinion, R::HrOfficer, &OP, TODAY).unwrap_err();
    assert_eq!(refused.code(), "attending_physician_only");
    assert!(refused.message().contains("転記"));
    for actor in [
        R::HrOfficer,
        R::OccupationalPhysician,
        R::OccupationalHealthStaff,
    ] {
        assert!(
            apply(&on_leave, &opinion, actor, &paper, TODAY).is_ok(),
            "{actor:?}"
        );
    }
    // Never a line manager, a coordinator or the worker; and a transcription of another
    // form does not count.
    for actor in [
        R::LineManager,
        R::HospitalCoordinator,
        R::AgencyCoordinator,
        R::Worker,
    ] {
        assert!(
            apply(&on_leave, &opinion, actor, &paper, TODAY).is_err(),
            "{actor:?}"
        );
    }
    let other = CaseFacts {
        has_occupational_physician: true,
        paper: PaperOriginals {
            continuation_opinion: true,
            support_card: true,
            ..PaperOriginals::NONE
        },
    };
    assert!(apply(&on_leave, &opinion, R::HrOfficer, &other, TODAY).is_err());
}
