//! The Japanese pages for support cases (両立支援の事例): the list and the worker's 申出, one
//! case with the steps its viewer may take now, the documents (official forms), and the
//! worker's consents.
//!
//! Every page is built from the use cases and the viewer's `CaseAccess`, like the JSON API:
//! a category the policy hides is never put into a page. Forms work without JavaScript: a
//! plain POST answered by a 303 to the page that shows the result.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use ryoritsu_app::AppError;
use ryoritsu_app::accounts::Authenticated;
use ryoritsu_app::cases::ports::{DocumentBody, DocumentRecord, PartyKind};
use ryoritsu_app::cases::{LoadedCase, PartyCandidate};
use ryoritsu_app::ports::Store;
use ryoritsu_app::{App, RequestContext};
use ryoritsu_domain::FieldError;
use ryoritsu_domain::case::{
    CasePath, CaseStatus, Confirmer, FitnessForWork, Outcome, ReturnToWorkFitness, Step, StepKind,
};
use ryoritsu_domain::consent::{Consent, ConsentDraft, Recipient, RecipientNames, explain};
use ryoritsu_domain::forms::{
    AnswerValue, Answers, Attestation, FieldKind, FieldSpec, FormKind, FormSchema, FormVersion,
    Party, schema,
};
use ryoritsu_domain::info::InformationCategory;
use ryoritsu_domain::org::{OrganisationKind, Role};
use ryoritsu_domain::policy::{CaseAccess, CaseRelation};
use serde::Deserialize;
use time::Date;
use uuid::Uuid;

use super::api::ListQuery;
use super::forms::{parse_fields_for, render_fields};
use crate::http::extract::{PageForm, PathParam, QueryParams};
use crate::http::failure::Failure;
use crate::http::home::HomeTask;
use crate::http::page::{Layout, escape, jp_date, jp_datetime, public_origin, qr_svg};
use crate::http::session::{Csrf, Ctx, User};
use crate::{Access, AppState, RouteTable};

const HERE: &str = "/cases";

/// Cases per page of the list.
const PAGE_SIZE: u32 = 50;

/// Case tasks on the home page at most (the soonest due; the rest are on the case list).
const HOME_TASKS: u32 = 50;
const CONFLICT_MESSAGE: &str = "ほかの人が先にこの事例を更新しました。最新の内容を表示していますので、確認してからもう一度操作してください。";
const DOCUMENT_CONFLICT_MESSAGE: &str = "ほかの人が先にこの書類を更新しました。最新の内容を表示していますので、確認してからもう一度入力してください。";

/// A form post as name/value pairs (repeated names kept, in order).
type Pairs = Vec<(String, String)>;

fn value<'a>(pairs: &'a Pairs, name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, v)| k == name && !v.trim().is_empty())
        .map(|(_, v)| v.trim())
}

fn values<'a>(pairs: &'a Pairs, name: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, v)| k == name && !v.trim().is_empty())
        .map(|(_, v)| v.trim())
        .collect()
}

/// Field messages for re-shown forms.
#[derive(Default)]
pub struct Messages(Vec<FieldError>);

impl Messages {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    pub fn all(&self) -> Vec<&str> {
        self.0.iter().map(|e| e.message.as_str()).collect()
    }
}

fn render<T: Template>(t: &T, status: StatusCode) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => Failure::internal(format!("template: {e}")).into_response(),
    }
}

fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

fn iso_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn today<S: Store>(app: &App<S>) -> Date {
    app.today()
}

fn is_worker(access: &CaseAccess) -> bool {
    access.relations().contains(&CaseRelation::Worker)
}

fn is_physician(access: &CaseAccess) -> bool {
    access.relations().iter().any(|r| {
        matches!(
            r,
            CaseRelation::Hospital {
                role: Role::AttendingPhysician,
                ..
            }
        )
    })
}

fn is_employer_staff(access: &CaseAccess) -> bool {
    access
        .relations()
        .iter()
        .any(|r| matches!(r, CaseRelation::Employer { .. }))
}

/// The part of a form the viewer fills in, if they write this form at all.
fn party_for(access: &CaseAccess, form: FormKind) -> Option<Party> {
    let medical = form.category() == InformationCategory::Medical;
    if is_worker(access) {
        // The worker writes their own part of the card and of the work information; the
        // opinions are the physician's (the worker only signs them).
        return match form {
            FormKind::WorkInformation | FormKind::SupportCard => Some(Party::Worker),
            _ => None,
        };
    }
    if medical {
        return is_physician(access).then_some(Party::AttendingPhysician);
    }
    is_employer_staff(access).then_some(Party::Employer)
}

/// Whether the viewer may write drafts of `form` now (the policy's edit right, or the
/// physician's right to write the opinion).
fn may_write(access: &CaseAccess, form: FormKind) -> bool {
    if access.closed() || party_for(access, form).is_none() {
        return false;
    }
    access.may_edit(form.category())
        || (form.category() == InformationCategory::Medical && is_physician(access))
}

/// Whether the viewer is copying `d` from its paper original (see `App::start_transcription`):
/// then every field is theirs to copy, and they confirm on the physician's line. The use case
/// decides; this only shapes the page.
fn transcribing(access: &CaseAccess, d: Option<&DocumentRecord>) -> bool {
    let Some(DocumentRecord {
        form,
        body: DocumentBody::Draft(draft),
        ..
    }) = d
    else {
        return false;
    };
    draft.transcribed_from.is_some() && may_transcribe(access, *form)
}

/// Whether the viewer is among those of the employer who handle health information (HR,
/// 産業医, 産業保健スタッフ): they transcribe paper originals.
pub(crate) fn handles_health_information(access: &CaseAccess) -> bool {
    access.relations().iter().any(|r| {
        matches!(
            r,
            CaseRelation::Employer {
                role: Role::HrOfficer | Role::OccupationalPhysician | Role::OccupationalHealthStaff
            }
        )
    })
}

/// Whether the viewer may transcribe a scan of `form` now (the use case decides again).
pub(crate) fn may_transcribe(access: &CaseAccess, form: FormKind) -> bool {
    !access.closed() && access.may_view(form.category()) && handles_health_information(access)
}

pub(crate) fn forms_of_path(path: CasePath) -> &'static [FormKind] {
    match path {
        CasePath::Continuation => &[
            FormKind::WorkInformation,
            FormKind::ContinuationOpinion,
            FormKind::SupportPlan,
        ],
        CasePath::LeaveAndReturn => &[
            FormKind::ReturnToWorkOpinion,
            FormKind::ReturnToWorkPlan,
            FormKind::SupportPlan,
        ],
        CasePath::SupportCard => &[FormKind::SupportCard, FormKind::SupportPlan],
    }
}

fn status_badge(s: CaseStatus) -> &'static str {
    match s {
        CaseStatus::Closed | CaseStatus::NotRequested => "badge-muted",
        CaseStatus::Active => "badge-ok",
        _ => "badge-warn",
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub hint: &'static str,
    pub selected: bool,
}

// ---- the list and the 申出 -------------------------------------------------------------

pub struct CaseRow {
    pub id: Uuid,
    /// Whose case it is (staff see it; the worker's own list leaves it out).
    pub worker: Option<String>,
    pub status: &'static str,
    pub badge: &'static str,
    pub path: &'static str,
    pub requested_on: String,
    pub next_task: Option<String>,
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "cases/case_list.html")]
struct CasesPage {
    layout: Layout,
    cases: Vec<CaseRow>,
    /// The status filter's choices (the first is "all").
    statuses: Vec<Choice>,
    /// The filter as a query string (`status=…`), kept on the links of the page.
    filter_query: String,
    /// The link to the next page, if there is one.
    next_page: Option<String>,
    /// This page is not the first.
    later_page: bool,
    can_file: bool,
    employers: Vec<Choice>,
    workplaces: Vec<Choice>,
    paths: Vec<Choice>,
    errors: Messages,
    /// Hospital staff enter the worker's share code here.
    can_redeem: bool,
}

fn path_hint(p: CasePath) -> &'static str {
    match p {
        CasePath::Continuation => {
            "治療を受けながら、今の仕事を続けるための配慮を会社と一緒に考えます。"
        }
        CasePath::LeaveAndReturn => {
            "しばらく休んで治療に専念し、その後の職場復帰を会社と一緒に準備します。"
        }
        CasePath::SupportCard => {
            "「両立支援カード」に自分で記入し、主治医に意見を書いてもらってから会社に渡します。"
        }
    }
}

/// The list of cases: a page at a time, newest first, optionally of one status.
#[derive(Debug, Default, Deserialize)]
struct ListParams {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

async fn cases_render<S: Store>(
    st: &AppState<S>,
    csrf: &str,
    auth: &Authenticated,
    list: &ListParams,
    posted: Option<&Pairs>,
    errors: Messages,
    status: StatusCode,
) -> Response {
    let query = ListQuery {
        status: list.status.clone(),
        after: list.after.clone(),
        limit: Some(PAGE_SIZE),
    };
    let (filter, after, limit) = match query.parse() {
        Ok(p) => p,
        Err(f) => return f.into_response(),
    };
    let page = match st.app.visible_cases(auth, filter, after, limit).await {
        Ok(p) => p,
        Err(e) => return Failure::from(e).into_response(),
    };
    let today = today(&st.app);
    let mut cases = Vec::new();
    for (loaded, access) in &page.items {
        let c = &loaded.case;
        let next = match st.app.case_details(auth, c.id).await {
            Ok(d) => d
                .tasks
                .into_iter()
                .filter(|t| t.closed_at.is_none())
                .min_by_key(|t| t.due),
            Err(_) => None,
        };
        // Staff see whose case it is (the worker's name is on every case they see).
        let worker = if access.relations().contains(&CaseRelation::Worker) {
            None
        } else {
            st.app
                .case_people_names(auth, c.id)
                .await
                .ok()
                .and_then(|names| names.get(&c.worker_id).cloned())
        };
        cases.push(CaseRow {
            id: c.id,
            worker,
            status: c.state.status.label(),
            badge: status_badge(c.state.status),
            path: c.state.path.label(),
            requested_on: c.state.requested_on.map(jp_date).unwrap_or_default(),
            overdue: next.as_ref().is_some_and(|t| t.due < today),
            next_task: next.map(|t| {
                format!(
                    "{}（{}・{}まで）",
                    t.kind.label(),
                    t.assignee_role.label(),
                    jp_date(t.due)
                )
            }),
        });
    }
    let chosen_status = filter.status.map(|s| s.code());
    let mut statuses = vec![Choice {
        value: String::new(),
        label: "すべて".into(),
        hint: "",
        selected: chosen_status.is_none(),
    }];
    statuses.extend(CaseStatus::ALL.iter().map(|s| Choice {
        value: s.code().to_owned(),
        label: s.label().to_owned(),
        hint: "",
        selected: chosen_status == Some(s.code()),
    }));
    let filter_query = chosen_status
        .map(|s| format!("status={s}"))
        .unwrap_or_default();
    let next_page = page.next.map(|n| {
        let mut q = filter_query.clone();
        if !q.is_empty() {
            q.push('&');
        }
        format!("{HERE}?{q}after={}", n.token())
    });
    let orgs = st.app.list_organisations(auth).await.unwrap_or_default();
    let worker_of: Vec<Uuid> = auth
        .memberships
        .iter()
        .filter(|m| m.role == Role::Worker && m.organisation_kind == OrganisationKind::Employer)
        .map(|m| m.organisation_id)
        .collect();
    let chosen = |name: &str| posted.and_then(|p| value(p, name)).map(str::to_owned);
    let employer_choice = chosen("employer");
    let workplace_choice = chosen("workplace");
    let path_choice = chosen("path");
    let org_name = |id: Uuid| {
        orgs.iter()
            .find(|o| o.id == id)
            .map_or_else(|| "勤務先".to_owned(), |o| o.name.to_string())
    };
    let employers: Vec<Choice> = worker_of
        .iter()
        .map(|id| Choice {
            value: id.to_string(),
            label: org_name(*id),
            hint: "",
            selected: employer_choice.as_deref() == Some(id.to_string().as_str()),
        })
        .collect();
    let mut workplaces = Vec::new();
    for id in &worker_of {
        for w in st.app.list_workplaces(auth, *id).await.unwrap_or_default() {
            let label = if worker_of.len() > 1 {
                format!("{}　{}", org_name(*id), w.name)
            } else {
                w.name.to_string()
            };
            workplaces.push(Choice {
                value: w.id.to_string(),
                label,
                hint: "",
                selected: workplace_choice.as_deref() == Some(w.id.to_string().as_str()),
            });
        }
    }
    let paths = CasePath::ALL
        .iter()
        .map(|p| Choice {
            value: p.code().to_owned(),
            label: p.label().to_owned(),
            hint: path_hint(*p),
            selected: path_choice.as_deref() == Some(p.code()),
        })
        .collect();
    let page = CasesPage {
        layout: Layout::new(st, "両立支援の事例", csrf, Some(auth), HERE),
        cases,
        statuses,
        filter_query,
        next_page,
        later_page: after.is_some(),
        can_file: !worker_of.is_empty(),
        employers,
        workplaces,
        paths,
        errors,
        can_redeem: may_redeem(auth),
    };
    render(&page, status)
}

async fn cases_index<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    User(auth): User,
    QueryParams(list): QueryParams<ListParams>,
) -> Response {
    cases_render(
        &st,
        &csrf,
        &auth,
        &list,
        None,
        Messages::default(),
        StatusCode::OK,
    )
    .await
}

async fn file_request<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    User(auth): User,
    PageForm(pairs): PageForm<Pairs>,
) -> Response {
    let mut errs = Vec::new();
    // With one employer the form carries it hidden; with several the worker picks one.
    let employer = value(&pairs, "employer").and_then(|s| Uuid::parse_str(s).ok());
    if employer.is_none() {
        errs.push(FieldError::new(
            "employer",
            "required",
            "申し出る勤務先を選んでください。",
        ));
    }
    let workplace = match value(&pairs, "workplace") {
        None => None,
        Some(s) => match Uuid::parse_str(s) {
            Ok(w) => Some(w),
            Err(_) => {
                errs.push(FieldError::new(
                    "workplace",
                    "unknown",
                    "事業場を一覧から選んでください。",
                ));
                None
            }
        },
    };
    let path = value(&pairs, "path").and_then(CasePath::from_code);
    if path.is_none() {
        errs.push(FieldError::new(
            "path",
            "required",
            "支援の種類を選んでください。",
        ));
    }
    let (Some(employer), Some(path), true) = (employer, path, errs.is_empty()) else {
        return cases_render(
            &st,
            &csrf,
            &auth,
            &ListParams::default(),
            Some(&pairs),
            Messages(errs),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match st
        .app
        .file_request(&ctx, &auth, employer, workplace, path)
        .await
    {
        Ok(c) => Redirect::to(&format!("/cases/{}?done=filed", c.id)).into_response(),
        Err(AppError::Invalid(v)) => {
            cases_render(
                &st,
                &csrf,
                &auth,
                &ListParams::default(),
                Some(&pairs),
                Messages(v.errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

// ---- one case ------------------------------------------------------------------------

pub struct StepForm {
    pub code: &'static str,
    pub label: String,
    /// What the button says (「主治医の意見を記録する」).
    pub action: String,
    pub explain: &'static str,
    /// The step's own inputs, built and escaped here.
    pub inputs: String,
    pub danger: bool,
}

pub struct DocRow {
    pub id: Uuid,
    pub label: String,
    pub finalised: bool,
    pub updated: String,
}

pub struct FormLink {
    pub code: &'static str,
    pub label: &'static str,
}

pub struct TaskRow {
    pub label: &'static str,
    pub assignee: &'static str,
    pub due: String,
    pub open: bool,
    pub overdue: bool,
}

pub struct PartyRow {
    pub kind: &'static str,
    /// The person, for a 所属長 or a coordinator; empty for a hospital as a whole.
    pub name: String,
    pub organisation: String,
    pub added: String,
}

pub struct EventRow {
    pub step: String,
    /// Who took the step, by name (empty when the account is gone).
    pub actor: String,
    pub role: &'static str,
    pub status: &'static str,
    pub at: String,
}

#[derive(Template)]
#[template(path = "cases/case_detail.html")]
struct CasePage {
    layout: Layout,
    id: Uuid,
    version: i64,
    notice: Option<String>,
    message: Option<String>,
    status: &'static str,
    badge: &'static str,
    path: &'static str,
    requested_on: String,
    outcome: Option<&'static str>,
    facts: Vec<(&'static str, String)>,
    steps: Vec<StepForm>,
    documents: Vec<DocRow>,
    new_forms: Vec<FormLink>,
    tasks: Vec<TaskRow>,
    parties: Vec<PartyRow>,
    events: Vec<EventRow>,
    /// Documents that exist but that the viewer may not read, and why, in words.
    hidden_documents: Vec<String>,
    worker: bool,
    closed: bool,
    /// The worker's view of the attached hospitals: (name, when it joined).
    hospitals: Vec<(String, String)>,
    /// The 所属長 the viewer may name (worker or HR, open case).
    line_managers: Vec<Choice>,
    may_name_line_manager: bool,
    has_line_manager: bool,
    /// Coordinators the worker may add from the organisations the case involves.
    coordinators: Vec<Choice>,
    may_add_coordinator: bool,
    party_errors: Messages,
    /// Scans of paper originals (the worker uploads; the employer transcribes).
    scans: super::scans::ScanSection,
    /// Blank forms for paper use.
    blank_forms: Vec<super::printing::BlankForm>,
    /// Coordinators' own tasks (支援タスク), for those who may see them.
    support_tasks: super::support_tasks::SupportTaskSection,
    /// Hospital staff of the case: the link to the 両立支援指導 records.
    guidance_link: bool,
}

fn date_input(
    prefix: &str,
    name: &str,
    label: &str,
    value: Option<Date>,
    required: bool,
    hint: &str,
) -> String {
    let id = format!("{prefix}-{name}");
    let badge = if required {
        " <span class=\"required\">必須</span>"
    } else {
        ""
    };
    let hint = if hint.is_empty() {
        String::new()
    } else {
        format!("<p class=\"hint\">{}</p>\n", escape(hint))
    };
    format!(
        "<div class=\"field\">\n<label for=\"{id}\">{}{badge}</label>\n{hint}<input type=\"date\" id=\"{id}\" name=\"{name}\" value=\"{}\"{}>\n</div>\n",
        escape(label),
        value.map(iso_date).unwrap_or_default(),
        if required { " required" } else { "" }
    )
}

fn radios(name: &str, legend: &str, options: &[(&str, &str)]) -> String {
    let mut out = format!(
        "<fieldset class=\"field\">\n<legend>{} <span class=\"required\">必須</span></legend>\n",
        escape(legend)
    );
    for (code, label) in options {
        out.push_str(&format!(
            "<label class=\"checkbox\"><input type=\"radio\" name=\"{name}\" value=\"{}\" required> {}</label>\n",
            escape(code),
            escape(label)
        ));
    }
    out.push_str("</fieldset>\n");
    out
}

const LEAVE_UNTIL_HINT: &str = "「現時点で不可」を選んだ場合だけ入力します。";

fn step_form(step: &Step, worker: bool) -> StepForm {
    let kind = step.kind();
    let prefix = format!("s-{}", kind.code());
    let mut label = kind.label().to_owned();
    let mut action = kind.action().to_owned();
    let mut danger = false;
    let (explain, inputs) = match step {
        Step::FileRequest => ("", String::new()),
        Step::DraftWorkInformation => (
            "勤務情報提供書の内容がまとまったことを記録し、本人と会社の確認に進みます。",
            String::new(),
        ),
        Step::ConfirmWorkInformation { by } => {
            label = format!("{}（{}として）", kind.label(), by.label());
            action = format!("{}（{}として）", kind.action(), by.label());
            (
                "勤務情報提供書の内容を確認したことを記録します。",
                format!(
                    "<input type=\"hidden\" name=\"by\" value=\"{}\">\n",
                    by.code()
                ),
            )
        }
        Step::HandToPhysician => (
            "本人と会社が確認した勤務情報提供書を、主治医に渡したことを記録します。",
            String::new(),
        ),
        Step::RecordOpinion { .. } | Step::CardPhysicianSection { .. } => {
            let options: Vec<(&str, &str)> = FitnessForWork::ALL
                .iter()
                .map(|f| (f.code(), f.label()))
                .collect();
            (
                "意見書に記載した就業継続の可否を記録します。",
                format!(
                    "{}{}",
                    radios("fitness", "就業継続の可否", &options),
                    date_input(
                        &prefix,
                        "leave_until",
                        "休業が必要な期間（いつまで）",
                        None,
                        false,
                        LEAVE_UNTIL_HINT
                    )
                ),
            )
        }
        Step::RecordReturnOpinion { .. } => {
            let options: Vec<(&str, &str)> = ReturnToWorkFitness::ALL
                .iter()
                .map(|f| (f.code(), f.label()))
                .collect();
            (
                "意見書に記載した職場復帰の可否を記録します。",
                format!(
                    "{}{}",
                    radios("fitness", "復職に関する意見", &options),
                    date_input(
                        &prefix,
                        "leave_until",
                        "休業が必要な期間（いつまで）",
                        None,
                        false,
                        "復職がまだ難しい場合だけ入力します。"
                    )
                ),
            )
        }
        Step::RecordOccupationalPhysicianOpinion => (
            "主治医の意見をもとに、就業上の措置について産業医の意見を述べたことを記録します。",
            String::new(),
        ),
        Step::SkipOccupationalPhysician => (
            "産業医がいないため、主治医の意見をもとにプランの作成に進むことを記録します。",
            String::new(),
        ),
        Step::DraftPlan {
            review_on,
            follow_up_on,
            return_on,
        } => {
            let mut s = String::new();
            if return_on.is_some() {
                s.push_str(&date_input(
                    &prefix,
                    "return_on",
                    "職場復帰日",
                    *return_on,
                    true,
                    "",
                ));
            }
            s.push_str(&date_input(
                &prefix,
                "follow_up_on",
                "フォローアップ面談の日",
                Some(*follow_up_on),
                true,
                "",
            ));
            s.push_str(&date_input(
                &prefix,
                "review_on",
                "プランの見直し日",
                Some(*review_on),
                true,
                "",
            ));
            (
                "作成したプランの面談日と見直し日を記録し、本人の確認に回します。",
                s,
            )
        }
        Step::ConfirmPlan => (
            "プランの内容を確認し、同意したことを記録します。",
            String::new(),
        ),
        Step::RevisePlan => (
            "実施中のプランを見直し、新しい版の作成に進みます（新しい版が確認されるまで、今のプランが続きます）。",
            String::new(),
        ),
        Step::RecordFollowUp {
            next_follow_up_on, ..
        } => (
            "フォローアップ面談を行ったことを記録し、次の予定を決めます。",
            format!(
                "{}{}",
                date_input(
                    &prefix,
                    "next_follow_up_on",
                    "次回の面談日",
                    *next_follow_up_on,
                    false,
                    ""
                ),
                date_input(
                    &prefix,
                    "next_review_on",
                    "プランの見直し日（変更する場合）",
                    None,
                    false,
                    ""
                )
            ),
        ),
        Step::StartLeave { expected_end } => (
            "休業を開始し、休業・復職の手続きに切り替えます。",
            date_input(
                &prefix,
                "expected_end",
                "休業終了の見込み日",
                Some(*expected_end),
                true,
                "",
            ),
        ),
        Step::RecordLeaveContact { next_contact_on } => (
            "休業中の本人と連絡をとったことを記録します。",
            date_input(
                &prefix,
                "next_contact_on",
                "次回の連絡日",
                *next_contact_on,
                false,
                "空欄の場合は30日後になります。",
            ),
        ),
        Step::CardWorkerSection => (
            "両立支援カードの本人記載欄を記入し、医師に渡したことを記録します。",
            String::new(),
        ),
        Step::CardHandedToEmployer => (
            "医師が記入した両立支援カードを会社に提出したことを記録します。",
            String::new(),
        ),
        Step::Close { .. } => {
            danger = true;
            if worker {
                label = "申出を取り下げる（事例の終了）".to_owned();
                (
                    "申出を取り下げて、この事例を終了します。終了した事例は再開できません。",
                    format!(
                        "<input type=\"hidden\" name=\"outcome\" value=\"{}\">\n",
                        Outcome::Other.code()
                    ),
                )
            } else {
                let mut s = String::from(
                    "<div class=\"field\">\n<label for=\"s-close-outcome\">終了理由 <span class=\"required\">必須</span></label>\n<select id=\"s-close-outcome\" name=\"outcome\" required>\n<option value=\"\">選んでください</option>\n",
                );
                for o in Outcome::ALL {
                    s.push_str(&format!(
                        "<option value=\"{}\">{}</option>\n",
                        o.code(),
                        escape(o.label())
                    ));
                }
                s.push_str("</select>\n</div>\n");
                ("事例を終了します。終了した事例は再開できません。", s)
            }
        }
    };
    StepForm {
        code: kind.code(),
        label,
        action,
        explain,
        inputs,
        danger,
    }
}

fn date_field(pairs: &Pairs, name: &str, label: &str) -> Result<Option<Date>, FieldError> {
    match value(pairs, name) {
        None => Ok(None),
        Some(s) => parse_date(s).map(Some).ok_or_else(|| {
            FieldError::new(
                name,
                "invalid_date",
                format!("{label}の日付の形式が正しくありません。"),
            )
        }),
    }
}

fn required_date(pairs: &Pairs, name: &str, label: &str) -> Result<Date, FieldError> {
    date_field(pairs, name, label)?
        .ok_or_else(|| FieldError::new(name, "required", format!("{label}を入力してください。")))
}

fn choice<T>(
    pairs: &Pairs,
    name: &str,
    parse: fn(&str) -> Option<T>,
    message: &str,
) -> Result<T, FieldError> {
    value(pairs, name)
        .and_then(parse)
        .ok_or_else(|| FieldError::new(name, "invalid_option", message))
}

/// The step a step form posted.
fn parse_step(pairs: &Pairs) -> Result<Step, FieldError> {
    let kind = value(pairs, "step")
        .and_then(StepKind::from_code)
        .ok_or_else(|| {
            FieldError::new(
                "step",
                "invalid_option",
                "手続きの種類が正しくありません。画面を読み込み直してください。",
            )
        })?;
    const FITNESS: &str = "就業継続の可否を選んでください。";
    Ok(match kind {
        StepKind::FileRequest => {
            return Err(FieldError::new(
                "step",
                "invalid_option",
                "両立支援の申出は「両立支援の事例」の画面から行います。",
            ));
        }
        StepKind::DraftWorkInformation => Step::DraftWorkInformation,
        StepKind::ConfirmWorkInformation => Step::ConfirmWorkInformation {
            by: choice(
                pairs,
                "by",
                Confirmer::from_code,
                "確認する立場を選んでください。",
            )?,
        },
        StepKind::HandToPhysician => Step::HandToPhysician,
        StepKind::RecordOpinion => Step::RecordOpinion {
            fitness: choice(pairs, "fitness", FitnessForWork::from_code, FITNESS)?,
            leave_until: date_field(pairs, "leave_until", "休業が必要な期間")?,
        },
        StepKind::CardPhysicianSection => Step::CardPhysicianSection {
            fitness: choice(pairs, "fitness", FitnessForWork::from_code, FITNESS)?,
            leave_until: date_field(pairs, "leave_until", "休業が必要な期間")?,
        },
        StepKind::RecordReturnOpinion => Step::RecordReturnOpinion {
            fitness: choice(
                pairs,
                "fitness",
                ReturnToWorkFitness::from_code,
                "復職に関する意見を選んでください。",
            )?,
            leave_until: date_field(pairs, "leave_until", "休業が必要な期間")?,
        },
        StepKind::RecordOccupationalPhysicianOpinion => Step::RecordOccupationalPhysicianOpinion,
        StepKind::SkipOccupationalPhysician => Step::SkipOccupationalPhysician,
        StepKind::DraftPlan => Step::DraftPlan {
            review_on: required_date(pairs, "review_on", "プランの見直し日")?,
            follow_up_on: required_date(pairs, "follow_up_on", "フォローアップ面談の日")?,
            return_on: date_field(pairs, "return_on", "職場復帰日")?,
        },
        StepKind::ConfirmPlan => Step::ConfirmPlan,
        StepKind::RevisePlan => Step::RevisePlan,
        StepKind::RecordFollowUp => Step::RecordFollowUp {
            next_follow_up_on: date_field(pairs, "next_follow_up_on", "次回の面談日")?,
            next_review_on: date_field(pairs, "next_review_on", "プランの見直し日")?,
        },
        StepKind::StartLeave => Step::StartLeave {
            expected_end: required_date(pairs, "expected_end", "休業終了の見込み日")?,
        },
        StepKind::RecordLeaveContact => Step::RecordLeaveContact {
            next_contact_on: date_field(pairs, "next_contact_on", "次回の連絡日")?,
        },
        StepKind::CardWorkerSection => Step::CardWorkerSection,
        StepKind::CardHandedToEmployer => Step::CardHandedToEmployer,
        StepKind::Close => Step::Close {
            outcome: choice(
                pairs,
                "outcome",
                Outcome::from_code,
                "終了理由を選んでください。",
            )?,
        },
    })
}

fn party_kind_label(k: PartyKind) -> &'static str {
    match k {
        PartyKind::LineManager => "管理監督者（所属長）",
        PartyKind::Hospital => "医療機関（主治医）",
        PartyKind::Coordinator => "両立支援コーディネーター",
    }
}

/// Facts of the case state, each revealed only through the viewer's access.
fn case_facts(loaded: &LoadedCase, access: &CaseAccess) -> Vec<(&'static str, String)> {
    let s = &loaded.case.state;
    let medical = InformationCategory::Medical;
    let measures = InformationCategory::WorkMeasures;
    let mut out = Vec::new();
    if let Some(f) = access.reveal(medical, s.fitness).flatten() {
        out.push(("主治医の意見（就業継続の可否）", f.label().to_owned()));
    }
    if let Some(f) = access.reveal(medical, s.return_fitness).flatten() {
        out.push(("主治医の意見（復職に関する意見）", f.label().to_owned()));
    }
    if let Some(l) = access.reveal(measures, s.leave).flatten() {
        out.push(("休業開始日", jp_date(l.started_on)));
        out.push(("休業終了の見込み日", jp_date(l.expected_end)));
        if let Some(r) = l.return_on {
            out.push(("職場復帰日", jp_date(r)));
        }
    }
    if let Some(p) = access.reveal(measures, s.plan.or(s.draft_plan)).flatten() {
        let which = if s.plan.is_some() {
            "実施中のプラン"
        } else {
            "確認待ちのプラン"
        };
        out.push((
            which,
            format!(
                "第{}版（面談 {}・見直し {}）",
                p.version,
                jp_date(p.follow_up_on),
                jp_date(p.review_on)
            ),
        ));
    }
    out
}

fn doc_form_version(d: &DocumentRecord) -> FormVersion {
    match &d.body {
        DocumentBody::Draft(x) => x.version,
        DocumentBody::Finalised(x) => x.version(),
    }
}

fn doc_answers(d: &DocumentRecord) -> &Answers {
    match &d.body {
        DocumentBody::Draft(x) => &x.answers,
        DocumentBody::Finalised(x) => x.answers(),
    }
}

#[allow(clippy::too_many_arguments)] // one page: each argument is part of what it shows
pub(crate) async fn case_render<S: Store>(
    st: &AppState<S>,
    csrf: &str,
    ctx: &RequestContext,
    auth: &Authenticated,
    id: Uuid,
    notice: Option<String>,
    message: Option<String>,
    status: StatusCode,
) -> Response {
    let page = CaseView {
        notice,
        message,
        party_errors: Messages::default(),
    };
    case_render_with(st, csrf, ctx, auth, id, page, status).await
}

/// What a case page shows beyond the case itself.
struct CaseView {
    notice: Option<String>,
    message: Option<String>,
    /// Messages for the forms that add people to the case.
    party_errors: Messages,
}

/// `value` of a person the viewer may add: `kind:organisation:user`.
fn candidate_choice(c: &PartyCandidate) -> Choice {
    Choice {
        value: format!("{}:{}:{}", c.kind.code(), c.organisation, c.user),
        label: format!("{}（{}・{}）", c.name, c.organisation_name, c.role.label()),
        hint: "",
        selected: false,
    }
}

async fn case_render_with<S: Store>(
    st: &AppState<S>,
    csrf: &str,
    ctx: &RequestContext,
    auth: &Authenticated,
    id: Uuid,
    view: CaseView,
    status: StatusCode,
) -> Response {
    let CaseView {
        notice,
        message,
        party_errors,
    } = view;
    let d = match st.app.case_details(auth, id).await {
        Ok(d) => d,
        Err(e) => return Failure::from(e).into_response(),
    };
    let (_, docs) = match st.app.read_documents(ctx, auth, id).await {
        Ok(v) => v,
        Err(e) => return Failure::from(e).into_response(),
    };
    let access = &d.access;
    let c = &d.loaded.case;
    let worker = is_worker(access);
    let today = today(&st.app);
    // Who takes part is case-level information: named for everyone who sees the case.
    let org_names = st
        .app
        .case_organisation_names(auth, id)
        .await
        .unwrap_or_default();
    let people = st.app.case_people_names(auth, id).await.unwrap_or_default();
    let hidden_documents: Vec<String> = st
        .app
        .hidden_documents(auth, id)
        .await
        .unwrap_or_default()
        .iter()
        .map(|f| {
            let why = if f.category().requires_consent() {
                "本人の同意がないため"
            } else {
                "閲覧の権限がないため"
            };
            format!("{}があります。{why}表示されません。", f.label())
        })
        .collect();
    let candidates = st.app.party_candidates(auth, id).await.unwrap_or_default();
    let steps = st
        .app
        .available_steps(&d.loaded, access)
        .iter()
        .map(|s| step_form(s, worker))
        .collect();
    let mut documents: Vec<DocRow> = docs
        .iter()
        .map(|doc| DocRow {
            id: doc.id,
            label: format!("{}（{}）", doc.form.label(), doc_form_version(doc).label()),
            finalised: doc.is_finalised(),
            updated: jp_datetime(doc.updated_at),
        })
        .collect();
    documents.sort_by(|a, b| a.label.cmp(&b.label));
    let new_forms: Vec<FormLink> = forms_of_path(c.state.path)
        .iter()
        .filter(|f| may_write(access, **f))
        .map(|f| FormLink {
            code: f.code(),
            label: f.label(),
        })
        .collect();
    let mut tasks: Vec<TaskRow> = d
        .tasks
        .iter()
        .map(|t| TaskRow {
            label: t.kind.label(),
            assignee: t.assignee_role.label(),
            due: jp_date(t.due),
            open: t.closed_at.is_none(),
            overdue: t.closed_at.is_none() && t.due < today,
        })
        .collect();
    tasks.sort_by_key(|t| !t.open);
    let hospital_parties: Vec<_> = d
        .parties
        .iter()
        .filter(|p| p.kind == PartyKind::Hospital)
        .collect();
    let hospitals = if worker {
        hospital_parties
            .iter()
            .map(|p| {
                let name = org_names
                    .get(&p.organisation_id)
                    .cloned()
                    .unwrap_or_else(|| "連携している医療機関".to_owned());
                (name, jp_datetime(p.added_at))
            })
            .collect()
    } else {
        Vec::new()
    };
    let parties = d
        .parties
        .iter()
        .map(|p| PartyRow {
            kind: party_kind_label(p.kind),
            name: p
                .user_id
                .and_then(|u| people.get(&u).cloned())
                .unwrap_or_default(),
            organisation: org_names
                .get(&p.organisation_id)
                .cloned()
                .unwrap_or_default(),
            added: jp_datetime(p.added_at),
        })
        .collect();
    let open = !access.closed();
    let is_hr = access.relations().contains(&CaseRelation::Employer {
        role: Role::HrOfficer,
    });
    let pick = |kind: PartyKind| -> Vec<Choice> {
        candidates
            .iter()
            .filter(|c| c.kind == kind)
            .map(candidate_choice)
            .collect()
    };
    let sees_medical = ryoritsu_app::cases::sees_who_treats(&d.loaded, access);
    let events = d
        .events
        .iter()
        .rev()
        .map(|e| EventRow {
            step: e
                .step
                .get("step")
                .and_then(|s| s.as_str())
                .and_then(StepKind::from_code)
                .map_or_else(
                    || "手続き".to_owned(),
                    |k| k.history_label(sees_medical).to_owned(),
                ),
            actor: people.get(&e.actor).cloned().unwrap_or_default(),
            role: e.actor_role.label(),
            status: e.to_status.label(),
            at: jp_datetime(e.at),
        })
        .collect();
    let scans = super::scans::scan_section(st, auth, access, &docs, id, c.state.path).await;
    let blank_forms = super::printing::blank_forms(c.state.path, worker, &new_forms);
    let support_tasks = super::support_tasks::section(st, ctx, auth, id).await;
    let page = CasePage {
        scans,
        blank_forms,
        support_tasks,
        guidance_link: access
            .relations()
            .iter()
            .any(|r| matches!(r, CaseRelation::Hospital { .. })),
        layout: Layout::new(st, "両立支援の事例", csrf, Some(auth), HERE),
        id,
        version: c.version,
        notice,
        message,
        status: c.state.status.label(),
        badge: status_badge(c.state.status),
        path: c.state.path.label(),
        requested_on: c.state.requested_on.map(jp_date).unwrap_or_default(),
        outcome: c.state.outcome.map(|o| o.label()),
        facts: case_facts(&d.loaded, access),
        steps,
        documents,
        new_forms,
        tasks,
        parties,
        events,
        hidden_documents,
        worker,
        closed: access.closed(),
        hospitals,
        line_managers: pick(PartyKind::LineManager),
        may_name_line_manager: open && (worker || is_hr),
        has_line_manager: d.parties.iter().any(|p| p.kind == PartyKind::LineManager),
        coordinators: pick(PartyKind::Coordinator),
        may_add_coordinator: open && worker,
        party_errors,
    };
    render(&page, status)
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    done: Option<String>,
}

async fn case_page<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    QueryParams(q): QueryParams<NoticeQuery>,
) -> Response {
    let notice = match q.done.as_deref() {
        Some("filed") => Some(
            "両立支援の申出を受け付けました。会社の担当者に手続きの依頼が届きます。".to_owned(),
        ),
        Some("step") => Some("手続きを記録しました。".to_owned()),
        Some("scan") => Some(
            "原本の写しを提出しました。会社の担当者が内容を書類に転記します。".to_owned(),
        ),
        Some("shared") => Some(SHARED_NOTICE.to_owned()),
        Some("support_task") => Some("支援タスクを追加しました。".to_owned()),
        Some("support_task_done") => Some("支援タスクを完了にしました。".to_owned()),
        Some("line_manager") => Some(
            "所属長を指定しました。所属長が見られるのは、会社の取扱規程で認められた情報と、本人が同意した情報だけです。"
                .to_owned(),
        ),
        Some("coordinator") => Some(
            "両立支援コーディネーターを加えました。コーディネーターが見られるのは、あなたが「同意の管理」で同意した情報だけです。"
                .to_owned(),
        ),
        _ => None,
    };
    case_render(&st, &csrf, &ctx, &auth, id, notice, None, StatusCode::OK).await
}

const PARTY_CHOICE_MESSAGE: &str = "加える方を一覧から選んでください。";

/// The worker adds a coordinator, or the worker or HR names the 所属長: from the people the
/// page offered, or (a support agency's coordinator) by the login name they gave the worker.
async fn add_party<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    PageForm(pairs): PageForm<Pairs>,
) -> Response {
    // The case must be the viewer's before anything about the post is answered.
    if let Err(e) = st.app.case_access(&auth, id).await {
        return Failure::from(e).into_response();
    }
    let again = |errors: Vec<FieldError>, status: StatusCode| {
        let (st, csrf, ctx, auth) = (&st, &csrf, &ctx, &auth);
        async move {
            let view = CaseView {
                notice: None,
                message: Some(
                    "関係者を加えられませんでした。「関係者」の欄のメッセージを確認してください。"
                        .to_owned(),
                ),
                party_errors: Messages(errors),
            };
            case_render_with(st, csrf, ctx, auth, id, view, status).await
        }
    };
    let (kind, organisation, user, field) = if let Some(login) = value(&pairs, "coordinator_login")
    {
        match st.app.find_agency_coordinator(&ctx, &auth, id, login).await {
            Ok(c) => (c.kind, c.organisation, c.user, "coordinator_login"),
            Err(AppError::Invalid(v)) => {
                return again(v.errors, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
            Err(e @ AppError::Throttled(_)) => {
                let f = Failure::from(e);
                let message = f.message.clone();
                let mut r = again(
                    vec![FieldError::new(
                        "coordinator_login",
                        "too_many_attempts",
                        message,
                    )],
                    StatusCode::TOO_MANY_REQUESTS,
                )
                .await;
                if let Some(s) = f.retry_after
                    && let Ok(v) = axum::http::HeaderValue::from_str(&s.to_string())
                {
                    r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
                }
                return r;
            }
            Err(e) => return Failure::from(e).into_response(),
        }
    } else {
        // Which of the page's forms was sent, for where its message goes.
        let field = match value(&pairs, "form") {
            Some("line_manager") => "line_manager",
            _ => "coordinator",
        };
        let parsed = value(&pairs, "party").and_then(|v| {
            let mut parts = v.split(':');
            let kind = parts.next().and_then(PartyKind::from_code)?;
            let org = Uuid::parse_str(parts.next()?).ok()?;
            let user = Uuid::parse_str(parts.next()?).ok()?;
            (parts.next().is_none() && kind != PartyKind::Hospital).then_some((kind, org, user))
        });
        match parsed {
            Some((kind, org, user)) => (kind, org, user, field),
            None => {
                return again(
                    vec![FieldError::new(field, "required", PARTY_CHOICE_MESSAGE)],
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        }
    };
    match st
        .app
        .add_party(&ctx, &auth, id, kind, organisation, Some(user))
        .await
    {
        Ok(()) => Redirect::to(&format!("/cases/{id}?done={}", kind.code())).into_response(),
        Err(AppError::Invalid(v)) => {
            let errors = v
                .errors
                .into_iter()
                .map(|mut e| {
                    e.field = field.to_owned();
                    e
                })
                .collect();
            again(errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(AppError::Conflict(_)) => {
            again(
                vec![FieldError::new(
                    field,
                    "already_party",
                    "この方はすでにこの事例に加わっています。",
                )],
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

async fn take_step<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    PageForm(pairs): PageForm<Pairs>,
) -> Response {
    // The case must be the viewer's before anything about the post is answered.
    if let Err(e) = st.app.case_access(&auth, id).await {
        return Failure::from(e).into_response();
    }
    let again = |message: String, status: StatusCode| {
        let (st, csrf, ctx, auth) = (&st, &csrf, &ctx, &auth);
        async move { case_render(st, csrf, ctx, auth, id, None, Some(message), status).await }
    };
    let Some(version) = value(&pairs, "version").and_then(|v| v.parse::<i64>().ok()) else {
        return again(
            "画面の情報が足りません。画面を読み込み直してから、もう一度操作してください。"
                .to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let step = match parse_step(&pairs) {
        Ok(s) => s,
        Err(e) => return again(e.message, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    match st.app.take_step(&ctx, &auth, id, Some(version), step).await {
        Ok(_) => Redirect::to(&format!("/cases/{id}?done=step")).into_response(),
        Err(AppError::PreconditionFailed) => {
            again(CONFLICT_MESSAGE.to_owned(), StatusCode::CONFLICT).await
        }
        Err(AppError::Invalid(v)) => {
            let text = v
                .errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            again(text, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

// ---- documents -----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "cases/case_document.html")]
struct DocumentPage {
    /// The uploaded scan this document is transcribed from.
    original: Option<Uuid>,
    layout: Layout,
    case_id: Uuid,
    title: String,
    form_code: &'static str,
    version_code: &'static str,
    doc_id: Option<Uuid>,
    doc_version: i64,
    notice: Option<String>,
    message: Option<String>,
    finalised: bool,
    editable: bool,
    fields: String,
    finalise_label: Option<String>,
    confirmed: Vec<(&'static str, String)>,
    /// For the worker, on a 確定 document: where to ask for its correction.
    correction_request: Option<String>,
    /// The answers left out for this reader, in words.
    withheld: Option<String>,
}

/// A read-only answer as escaped HTML.
fn answer_html(spec: &FieldSpec, v: Option<&AnswerValue>) -> String {
    const NONE: &str = "<span class=\"muted\">未記入</span>";
    let Some(v) = v else {
        return NONE.to_owned();
    };
    let scalar = |v: &AnswerValue| match v {
        AnswerValue::Text(s) => escape(s),
        AnswerValue::Number(n) => n.to_string(),
        AnswerValue::Bool(b) => if *b { "はい" } else { "いいえ" }.to_owned(),
        _ => String::new(),
    };
    let label_of = |options: &[ryoritsu_domain::forms::ChoiceOption], code: &str| {
        options
            .iter()
            .find(|o| o.code == code)
            .map_or_else(|| escape(code), |o| escape(o.label))
    };
    match (spec.kind, v) {
        (FieldKind::Multiline { .. }, AnswerValue::Text(s)) => escape(s).replace('\n', "<br>"),
        (FieldKind::Number { unit, .. }, v) => format!("{} {}", scalar(v), escape(unit)),
        (FieldKind::YesNo { yes, no }, AnswerValue::Bool(b)) => escape(if *b { yes } else { no }),
        (FieldKind::SingleChoice { options }, AnswerValue::Text(code)) => label_of(options, code),
        (FieldKind::MultipleChoice { options }, AnswerValue::List(codes)) => codes
            .iter()
            .map(|c| label_of(options, c))
            .collect::<Vec<_>>()
            .join("、"),
        (
            FieldKind::Group { .. } | FieldKind::DateRange | FieldKind::Signature { .. },
            AnswerValue::Group(parts),
        ) => {
            let mut out = String::from("<dl class=\"kv\">\n");
            for part in spec.kind.sub_fields().unwrap_or(&[]) {
                out.push_str(&format!(
                    "<dt>{}</dt><dd>{}</dd>\n",
                    escape(part.label),
                    answer_html(part, parts.get(part.id))
                ));
            }
            out.push_str("</dl>\n");
            out
        }
        (FieldKind::Table { columns, .. }, AnswerValue::Rows(rows)) => {
            let mut out =
                String::from("<div class=\"table-wrap\">\n<table class=\"table\">\n<thead><tr>");
            for c in columns {
                out.push_str(&format!("<th scope=\"col\">{}</th>", escape(c.label)));
            }
            out.push_str("</tr></thead>\n<tbody>\n");
            for row in rows {
                out.push_str("<tr>");
                for c in columns {
                    out.push_str(&format!("<td>{}</td>", answer_html(c, row.get(c.id))));
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</tbody>\n</table>\n</div>\n");
            out
        }
        (_, v) => {
            let s = scalar(v);
            if s.is_empty() { NONE.to_owned() } else { s }
        }
    }
}

/// The whole form as text, with no inputs (finalised documents, or documents the viewer
/// may read but not write).
fn read_only_html(schema: &FormSchema, answers: &Answers) -> String {
    let mut out = String::new();
    let mut open = false;
    for spec in schema.fields() {
        match spec.kind {
            FieldKind::Heading | FieldKind::FixedText { .. } => {
                if open {
                    out.push_str("</dl>\n");
                    open = false;
                }
                match spec.kind {
                    FieldKind::FixedText { text } => {
                        out.push_str(&format!("<p class=\"small muted\">{}</p>\n", escape(text)))
                    }
                    _ => out.push_str(&format!("<h3>{}</h3>\n", escape(spec.label))),
                }
            }
            _ => {
                if !open {
                    out.push_str("<dl class=\"kv\">\n");
                    open = true;
                }
                out.push_str(&format!(
                    "<dt>{}</dt><dd>{}</dd>\n",
                    escape(spec.label),
                    answer_html(spec, answers.get(spec.id))
                ));
            }
        }
    }
    if open {
        out.push_str("</dl>\n");
    }
    out
}

/// The signature line the viewer's party attests: the one they filled in, else their first.
fn signature_of(
    schema: &FormSchema,
    party: Party,
    answers: &Answers,
) -> Option<&'static FieldSpec> {
    let lines: Vec<&'static FieldSpec> = schema
        .fields()
        .filter(|f| matches!(f.kind, FieldKind::Signature { .. }) && f.filled_by == Some(party))
        .collect();
    lines
        .iter()
        .find(|f| answers.contains_key(f.id))
        .or(lines.first())
        .copied()
}

struct DocView<'a> {
    case_id: Uuid,
    form: FormKind,
    version: FormVersion,
    doc: Option<&'a DocumentRecord>,
    answers: &'a Answers,
    errors: &'a [FieldError],
    /// The account that confirmed the document (確定), by name, when the reader may know it.
    confirmer: Option<String>,
}

#[allow(clippy::too_many_arguments)] // one page: each argument is part of what it shows
fn document_render<S: Store>(
    st: &AppState<S>,
    csrf: &str,
    auth: &Authenticated,
    access: &CaseAccess,
    v: DocView<'_>,
    notice: Option<String>,
    message: Option<String>,
    status: StatusCode,
) -> Response {
    let schema = schema(v.form, v.version);
    let finalised = v.doc.is_some_and(DocumentRecord::is_finalised);
    let copying = transcribing(access, v.doc);
    let party = if copying {
        Some(Party::AttendingPhysician)
    } else {
        party_for(access, v.form)
    };
    let editable = !finalised && (copying || may_write(access, v.form));
    let fields = match (editable, party) {
        (true, Some(p)) => render_fields(schema, v.answers, v.errors, Some(p)),
        _ => read_only_html(schema, v.answers),
    };
    let finalise_label = match (editable, party, v.doc) {
        (true, Some(p), Some(_)) => signature_of(schema, p, v.answers).map(|s| s.label.to_owned()),
        _ => None,
    };
    let mut confirmed = Vec::new();
    if let Some(DocumentBody::Finalised(f)) = v.doc.map(|d| &d.body) {
        confirmed.push(("確定日時", jp_datetime(f.confirmed_at())));
        let line = schema.field(&f.attestation().signature_field);
        let name = f
            .answers()
            .get(&f.attestation().signature_field)
            .and_then(|a| match a {
                AnswerValue::Group(parts) => parts.get("name").and_then(|n| n.as_text()),
                _ => None,
            })
            .unwrap_or("");
        // Who confirmed is the account that did it; the name on the signature line is
        // what was written there, shown apart when it differs.
        let line_label = line.map_or("署名欄", |l| l.label);
        confirmed.push((
            "確定者",
            match &v.confirmer {
                Some(who) => format!(
                    "{who}（{}・{line_label}の欄）",
                    f.attestation().party.label()
                ),
                None => format!("{}（{line_label}の欄）", f.attestation().party.label()),
            },
        ));
        if !name.is_empty() && v.confirmer.as_deref() != Some(name) {
            confirmed.push(("署名欄の記入", name.to_owned()));
        }
        if f.transcribed_from().is_some() {
            confirmed.push((
                "転記",
                "主治医が紙に記入した原本の写しから転記し、転記した担当者が確定しました。"
                    .to_owned(),
            ));
        }
    }
    let original = match v.doc.map(|d| &d.body) {
        Some(DocumentBody::Draft(d)) => d.transcribed_from,
        Some(DocumentBody::Finalised(f)) => f.transcribed_from(),
        None => None,
    };
    let page = DocumentPage {
        original,
        layout: Layout::new(st, v.form.label(), csrf, Some(auth), HERE),
        case_id: v.case_id,
        title: format!("{}（{}）", schema.title, v.version.label()),
        form_code: v.form.code(),
        version_code: v.version.code(),
        doc_id: v.doc.map(|d| d.id),
        doc_version: v.doc.map_or(0, |d| d.version),
        notice,
        message: message.or_else(|| {
            (!v.errors.is_empty()).then(|| {
                "入力内容に確認が必要な項目があります。各項目のメッセージを確認してください。"
                    .to_owned()
            })
        }),
        finalised,
        editable,
        fields,
        finalise_label,
        confirmed,
        correction_request: v
            .doc
            .filter(|d| d.is_finalised() && is_worker(access))
            .map(|d| {
                format!(
                    "/cases/{}/correction-requests/new?document={}",
                    v.case_id, d.id
                )
            }),
        withheld: v.doc.and_then(DocumentRecord::withheld_notice),
    };
    render(&page, status)
}

#[derive(Deserialize, Default)]
struct NewDocQuery {
    form: Option<String>,
    version: Option<String>,
}

fn form_and_version(form: Option<&str>, version: Option<&str>) -> Option<(FormKind, FormVersion)> {
    let f = form.and_then(FormKind::from_code)?;
    let v = match version {
        None | Some("") => FormVersion::V2026,
        Some(v) => FormVersion::from_code(v)?,
    };
    Some((f, v))
}

async fn new_document<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    QueryParams(q): QueryParams<NewDocQuery>,
) -> Response {
    let (_, access) = match st.app.case_access(&auth, id).await {
        Ok(v) => v,
        Err(e) => return Failure::from(e).into_response(),
    };
    let Some((form, version)) = form_and_version(q.form.as_deref(), q.version.as_deref()) else {
        return Failure::not_found().into_response();
    };
    if !may_write(&access, form) {
        return Failure::not_found().into_response();
    }
    // A new document starts from what the case already holds (as the author may read it).
    let answers = match st.app.prefill(&ctx, &auth, id, form, version).await {
        Ok(a) => a,
        Err(e) => return Failure::from(e).into_response(),
    };
    document_render(
        &st,
        &csrf,
        &auth,
        &access,
        DocView {
            case_id: id,
            form,
            version,
            doc: None,
            answers: &answers,
            errors: &[],
            confirmer: None,
        },
        None,
        None,
        StatusCode::OK,
    )
}

async fn create_document<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    PageForm(pairs): PageForm<Pairs>,
) -> Response {
    let (_, access) = match st.app.case_access(&auth, id).await {
        Ok(v) => v,
        Err(e) => return Failure::from(e).into_response(),
    };
    let Some((form, version)) =
        form_and_version(value(&pairs, "form"), value(&pairs, "form_version"))
    else {
        return Failure::from(ryoritsu_domain::ValidationErrors::from(FieldError::new(
            "form",
            "invalid_option",
            "書類の様式が正しくありません。画面を読み込み直してください。",
        )))
        .into_response();
    };
    let (true, Some(party)) = (may_write(&access, form), party_for(&access, form)) else {
        return Failure::not_found().into_response();
    };
    let answers = parse_fields_for(schema(form, version), &pairs, Some(party));
    match st
        .app
        .save_draft(&ctx, &auth, id, form, version, None, answers.clone())
        .await
    {
        Ok(d) => {
            Redirect::to(&format!("/cases/{id}/documents/{}?done=saved", d.id)).into_response()
        }
        Err(AppError::Invalid(v)) => document_render(
            &st,
            &csrf,
            &auth,
            &access,
            DocView {
                case_id: id,
                form,
                version,
                doc: None,
                answers: &answers,
                errors: &v.errors,
                confirmer: None,
            },
            None,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Failure::from(e).into_response(),
    }
}

/// The document as the viewer may read it (through the audited read), or 404.
async fn visible_document<S: Store>(
    st: &AppState<S>,
    ctx: &RequestContext,
    auth: &Authenticated,
    id: Uuid,
    doc: Uuid,
) -> Result<(CaseAccess, DocumentRecord), Failure> {
    let (access, docs) = st
        .app
        .read_documents(ctx, auth, id)
        .await
        .map_err(Failure::from)?;
    let d = docs
        .into_iter()
        .find(|d| d.id == doc)
        .ok_or_else(Failure::not_found)?;
    Ok((access, d))
}

async fn document_page<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam((id, doc)): PathParam<(Uuid, Uuid)>,
    QueryParams(q): QueryParams<NoticeQuery>,
) -> Response {
    let (access, d) = match visible_document(&st, &ctx, &auth, id, doc).await {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    let notice = match q.done.as_deref() {
        Some("saved") => Some("下書きを保存しました。".to_owned()),
        Some("finalised") => Some("書類を確定しました。".to_owned()),
        _ => None,
    };
    let confirmer = st.app.confirmer_name(&auth, &d).await.unwrap_or_default();
    document_render(
        &st,
        &csrf,
        &auth,
        &access,
        DocView {
            case_id: id,
            form: d.form,
            version: doc_form_version(&d),
            doc: Some(&d),
            answers: doc_answers(&d),
            errors: &[],
            confirmer,
        },
        notice,
        None,
        StatusCode::OK,
    )
}

/// The stored answers with the viewer's part replaced by what they posted.
fn merged(schema: &FormSchema, stored: &Answers, posted: Answers, party: Party) -> Answers {
    let mut out = stored.clone();
    for f in schema.fields().filter(|f| f.filled_by == Some(party)) {
        out.remove(f.id);
    }
    out.extend(posted);
    out
}

/// Saves the viewer's part of a draft; on failure, the page to show instead.
#[allow(clippy::too_many_arguments)] // one step of two handlers
async fn save_part<S: Store>(
    st: &AppState<S>,
    csrf: &str,
    ctx: &RequestContext,
    auth: &Authenticated,
    access: &CaseAccess,
    d: &DocumentRecord,
    pairs: &Pairs,
) -> Result<DocumentRecord, Response> {
    let id = d.case_id;
    let version = doc_form_version(d);
    let sch = schema(d.form, version);
    let copying = transcribing(access, Some(d));
    let party = if copying {
        Some(Party::AttendingPhysician)
    } else {
        party_for(access, d.form)
    };
    let (true, Some(party), false) = (
        copying || may_write(access, d.form),
        party,
        d.is_finalised(),
    ) else {
        return Err(Failure::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "この書類を変更することはできません。",
        )
        .into_response());
    };
    let Some(seen) = value(pairs, "version").and_then(|v| v.parse::<i64>().ok()) else {
        return Err(
            Failure::from(ryoritsu_domain::ValidationErrors::from(FieldError::new(
                "version",
                "required",
                "画面の情報が足りません。画面を読み込み直してください。",
            )))
            .into_response(),
        );
    };
    // A transcription copies the physician's part of the paper; the worker's lines stay the
    // worker's own, so no one signs in the worker's name.
    let answers = merged(
        sch,
        doc_answers(d),
        parse_fields_for(sch, pairs, Some(party)),
        party,
    );
    let view = |answers: &Answers, errors: &[FieldError], message: Option<String>, status| {
        document_render(
            st,
            csrf,
            auth,
            access,
            DocView {
                case_id: id,
                form: d.form,
                version,
                doc: Some(d),
                answers,
                errors,
                confirmer: None,
            },
            None,
            message,
            status,
        )
    };
    match st
        .app
        .save_draft(
            ctx,
            auth,
            id,
            d.form,
            version,
            Some((d.id, seen)),
            answers.clone(),
        )
        .await
    {
        Ok(saved) => Ok(saved),
        Err(AppError::Invalid(v)) => Err(view(
            &answers,
            &v.errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(AppError::PreconditionFailed) => Err(view(
            doc_answers(d),
            &[],
            Some(DOCUMENT_CONFLICT_MESSAGE.to_owned()),
            StatusCode::CONFLICT,
        )),
        Err(e) => Err(Failure::from(e).into_response()),
    }
}

async fn save_document<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam((id, doc)): PathParam<(Uuid, Uuid)>,
    PageForm(pairs): PageForm<Pairs>,
) -> Response {
    let (access, d) = match visible_document(&st, &ctx, &auth, id, doc).await {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    match save_part(&st, &csrf, &ctx, &auth, &access, &d, &pairs).await {
        Ok(_) => Redirect::to(&format!("/cases/{id}/documents/{doc}?done=saved")).into_response(),
        Err(r) => r,
    }
}

async fn finalise_document<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam((id, doc)): PathParam<(Uuid, Uuid)>,
    PageForm(pairs): PageForm<Pairs>,
) -> Response {
    let (access, d) = match visible_document(&st, &ctx, &auth, id, doc).await {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    // 確定 saves what is on the screen first, so nothing typed is lost.
    let saved = match save_part(&st, &csrf, &ctx, &auth, &access, &d, &pairs).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let version = doc_form_version(&saved);
    let sch = schema(saved.form, version);
    let party = if transcribing(&access, Some(&saved)) {
        Some(Party::AttendingPhysician)
    } else {
        party_for(&access, saved.form)
    };
    let Some(party) = party else {
        return Failure::not_found().into_response();
    };
    let Some(line) = signature_of(sch, party, doc_answers(&saved)) else {
        return Failure::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "この書類には、あなたが署名して確定する欄がありません。",
        )
        .into_response();
    };
    let attestation = Attestation {
        signature_field: line.id.to_owned(),
        party,
    };
    match st
        .app
        .finalise_document(&ctx, &auth, doc, saved.version, attestation)
        .await
    {
        Ok(_) => {
            Redirect::to(&format!("/cases/{id}/documents/{doc}?done=finalised")).into_response()
        }
        Err(AppError::Invalid(v)) => document_render(
            &st,
            &csrf,
            &auth,
            &access,
            DocView {
                case_id: id,
                form: saved.form,
                version,
                doc: Some(&saved),
                answers: doc_answers(&saved),
                errors: &v.errors,
                confirmer: None,
            },
            None,
            Some(
                "確定できませんでした。内容は下書きとして保存してあります。各項目のメッセージを確認してください。"
                    .to_owned(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(AppError::PreconditionFailed) => document_render(
            &st,
            &csrf,
            &auth,
            &access,
            DocView {
                case_id: id,
                form: saved.form,
                version,
                doc: Some(&saved),
                answers: doc_answers(&saved),
                errors: &[],
                confirmer: None,
            },
            None,
            Some(DOCUMENT_CONFLICT_MESSAGE.to_owned()),
            StatusCode::CONFLICT,
        ),
        Err(e) => Failure::from(e).into_response(),
    }
}

// ---- consents ------------------------------------------------------------------------

pub struct ConsentRow {
    pub id: Uuid,
    pub recipient: String,
    pub categories: String,
    pub purpose: String,
    pub granted: String,
    pub expires: String,
    pub status: &'static str,
    pub badge: &'static str,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "cases/case_consents.html")]
struct ConsentsPage {
    layout: Layout,
    case_id: Uuid,
    notice: Option<String>,
    consents: Vec<ConsentRow>,
    recipients: Vec<Choice>,
    categories: Vec<Choice>,
    purpose: String,
    expires: String,
    closed: bool,
    errors: Messages,
}

#[derive(Template)]
#[template(path = "cases/case_consent_confirm.html")]
struct ConsentConfirmPage {
    layout: Layout,
    case_id: Uuid,
    sentences: Vec<String>,
    /// Health information for the 所属長 or HR: why to think again
    /// (`ryoritsu_domain::consent::caution`); granting then needs an explicit check.
    caution: Option<String>,
    /// The check was left out.
    unchecked: bool,
    recipient: String,
    categories: Vec<String>,
    purpose: String,
    expires: String,
}

/// Who the worker may share with in this case: the employer's roles, the attached
/// hospitals' physician and coordinator, and the coordinators the worker added from other
/// organisations (support agencies). (organisation, kind, role, organisation name)
fn recipients(
    loaded: &LoadedCase,
    names: &OrgNames,
) -> Vec<(Uuid, OrganisationKind, Role, String)> {
    let employer_name = names
        .get(&loaded.case.employer_id)
        .map_or("勤務先", String::as_str);
    let mut out: Vec<(Uuid, OrganisationKind, Role, String)> = [
        Role::HrOfficer,
        Role::LineManager,
        Role::OccupationalPhysician,
        Role::OccupationalHealthStaff,
    ]
    .iter()
    .map(|r| {
        (
            loaded.case.employer_id,
            OrganisationKind::Employer,
            *r,
            employer_name.to_owned(),
        )
    })
    .collect();
    for h in &loaded.context.hospitals {
        let name = names
            .get(h)
            .cloned()
            .unwrap_or_else(|| "連携している医療機関".to_owned());
        for r in [Role::AttendingPhysician, Role::HospitalCoordinator] {
            out.push((*h, OrganisationKind::MedicalInstitution, r, name.clone()));
        }
    }
    for c in &names.coordinators {
        let kind = match c.role {
            Role::AgencyCoordinator => OrganisationKind::SupportAgency,
            Role::HospitalCoordinator => OrganisationKind::MedicalInstitution,
            _ => OrganisationKind::Employer,
        };
        if !out
            .iter()
            .any(|(o, _, r, _)| *o == c.organisation && *r == c.role)
        {
            out.push((c.organisation, kind, c.role, c.organisation_name.clone()));
        }
    }
    out
}

fn recipient_value(org: Uuid, role: Role) -> String {
    format!("{org}:{}", role.code())
}

/// The organisations taking part in a case, by id, and the coordinators the worker added.
struct OrgNames {
    names: std::collections::BTreeMap<Uuid, String>,
    coordinators: Vec<PartyCandidate>,
}

impl OrgNames {
    fn get(&self, id: &Uuid) -> Option<&String> {
        self.names.get(id)
    }
}

/// The worker's own case, or 404 for anyone else (the policy's relation, not a role), with
/// the names of the organisations taking part.
async fn worker_case<S: Store>(
    st: &AppState<S>,
    auth: &Authenticated,
    id: Uuid,
) -> Result<(LoadedCase, OrgNames), Failure> {
    let (loaded, access) = st.app.case_access(auth, id).await.map_err(Failure::from)?;
    if !is_worker(&access) {
        return Err(Failure::not_found());
    }
    let names = st
        .app
        .case_organisation_names(auth, id)
        .await
        .map_err(Failure::from)?;
    let coordinators = st
        .app
        .case_coordinators(auth, id)
        .await
        .map_err(Failure::from)?;
    Ok((
        loaded,
        OrgNames {
            names,
            coordinators,
        },
    ))
}

#[allow(clippy::too_many_arguments)] // one page: each argument is part of what it shows
fn consents_render<S: Store>(
    st: &AppState<S>,
    csrf: &str,
    auth: &Authenticated,
    loaded: &LoadedCase,
    employer: &OrgNames,
    notice: Option<String>,
    posted: Option<&Pairs>,
    errors: Messages,
    status: StatusCode,
) -> Response {
    let now = st.app.now();
    let options = recipients(loaded, employer);
    let name_of = |org: Uuid, role: Role| {
        options
            .iter()
            .find(|(o, _, _, _)| *o == org)
            .map_or_else(|| "共有先".to_owned(), |(_, _, _, n)| n.clone())
            + "の"
            + role.label()
    };
    let mut list: Vec<&Consent> = loaded.context.consents.iter().collect();
    list.sort_by_key(|c| std::cmp::Reverse(c.granted_at));
    let consents = list
        .iter()
        .map(|c| {
            let (status, badge) = if c.withdrawn_at.is_some_and(|w| w <= now) {
                ("撤回済み", "badge-muted")
            } else if c.expires_at.is_some_and(|e| e <= now) {
                ("期限切れ", "badge-muted")
            } else {
                ("有効", "badge-ok")
            };
            ConsentRow {
                id: c.id,
                recipient: name_of(c.recipient.organisation, c.recipient.role),
                categories: c
                    .categories
                    .iter()
                    .map(|x| x.label())
                    .collect::<Vec<_>>()
                    .join("、"),
                purpose: c.purpose.clone(),
                granted: jp_datetime(c.granted_at),
                expires: c
                    .expires_at
                    .map_or_else(|| "取り消すまで".to_owned(), jp_datetime),
                status,
                badge,
                active: c.is_active(now),
            }
        })
        .collect();
    let chosen_recipient = posted.and_then(|p| value(p, "recipient"));
    let chosen_categories = posted.map(|p| values(p, "categories")).unwrap_or_default();
    let page = ConsentsPage {
        layout: Layout::new(st, "同意の管理", csrf, Some(auth), HERE),
        case_id: loaded.case.id,
        notice,
        consents,
        recipients: options
            .iter()
            .map(|(org, _, role, name)| {
                let v = recipient_value(*org, *role);
                Choice {
                    selected: chosen_recipient == Some(v.as_str()),
                    value: v,
                    label: format!("{name}の{}", role.label()),
                    hint: "",
                }
            })
            .collect(),
        categories: InformationCategory::CASE
            .iter()
            .map(|c| Choice {
                value: c.code().to_owned(),
                label: c.label().to_owned(),
                hint: "",
                selected: chosen_categories.contains(&c.code()),
            })
            .collect(),
        purpose: posted
            .and_then(|p| value(p, "purpose"))
            .unwrap_or_default()
            .to_owned(),
        expires: posted
            .and_then(|p| value(p, "expires"))
            .unwrap_or_default()
            .to_owned(),
        closed: loaded.context.closed,
        errors,
    };
    render(&page, status)
}

async fn consents_page<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    QueryParams(q): QueryParams<NoticeQuery>,
) -> Response {
    let (loaded, employer) = match worker_case(&st, &auth, id).await {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    let notice = match q.done.as_deref() {
        Some("granted") => Some("同意を登録しました。".to_owned()),
        Some("withdrawn") => {
            Some("同意を撤回しました。相手は今からこの情報を見られません。".to_owned())
        }
        _ => None,
    };
    consents_render(
        &st,
        &csrf,
        &auth,
        &loaded,
        &employer,
        notice,
        None,
        Messages::default(),
        StatusCode::OK,
    )
}

/// The draft a consent form describes, checked by the domain's own rules without saving.
fn consent_draft<S: Store>(
    app: &App<S>,
    loaded: &LoadedCase,
    employer: &OrgNames,
    pairs: &Pairs,
) -> Result<(ConsentDraft, String), Vec<FieldError>> {
    let mut errs = Vec::new();
    let options = recipients(loaded, employer);
    let chosen = value(pairs, "recipient").and_then(|v| {
        options
            .iter()
            .find(|(o, _, r, _)| recipient_value(*o, *r) == v)
    });
    if chosen.is_none() {
        errs.push(FieldError::new(
            "recipient",
            "required",
            "共有する相手を選んでください。",
        ));
    }
    let mut categories = BTreeSet::new();
    for c in values(pairs, "categories") {
        match InformationCategory::from_code(c) {
            Some(c) => {
                categories.insert(c);
            }
            None => errs.push(FieldError::new(
                "categories",
                "invalid_option",
                "共有する情報の種類を一覧から選んでください。",
            )),
        }
    }
    let expires_at =
        match value(pairs, "expires") {
            None => None,
            Some(s) => match parse_date(s).and_then(|d| d.next_day()) {
                // Until the end of the chosen day, Japan time.
                Some(d) => Some(d.midnight().assume_offset(
                    time::UtcOffset::from_hms(9, 0, 0).unwrap_or(time::UtcOffset::UTC),
                )),
                None => {
                    errs.push(FieldError::new(
                        "expires",
                        "invalid_date",
                        "共有の期限の日付の形式が正しくありません。",
                    ));
                    None
                }
            },
        };
    let Some((org, kind, role, name)) = chosen else {
        return Err(errs);
    };
    let draft = ConsentDraft {
        recipient: Recipient {
            organisation: *org,
            role: *role,
            person: None,
        },
        recipient_kind: *kind,
        categories,
        purpose: value(pairs, "purpose").unwrap_or_default().to_owned(),
        expires_at,
    };
    // The same checks the grant will make, so the confirmation never shows a draft that
    // the grant would refuse.
    if let Err(v) = Consent::grant(
        Uuid::nil(),
        loaded.case.worker_id,
        loaded.case.id,
        draft.clone(),
        app.now(),
        ryoritsu_domain::consent::EXPLANATION_VERSION,
    ) {
        errs.extend(v.errors.into_iter().map(|mut e| {
            if e.field == "expires_at" {
                e.field = "expires".into();
            }
            e
        }));
    }
    if errs.is_empty() {
        Ok((draft, name.clone()))
    } else {
        Err(errs)
    }
}

async fn grant_consent<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    PageForm(pairs): PageForm<Pairs>,
) -> Response {
    let (loaded, employer) = match worker_case(&st, &auth, id).await {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    let back = |errors: Vec<FieldError>, status| {
        consents_render(
            &st,
            &csrf,
            &auth,
            &loaded,
            &employer,
            None,
            Some(&pairs),
            Messages(errors),
            status,
        )
    };
    let (draft, org_name) = match consent_draft(&st.app, &loaded, &employer, &pairs) {
        Ok(v) => v,
        Err(errs) => return back(errs, StatusCode::UNPROCESSABLE_ENTITY),
    };
    let caution = ryoritsu_domain::consent::caution(&draft);
    let understood = value(&pairs, "understood") == Some("yes");
    let unchecked = caution.is_some() && !understood && value(&pairs, "confirm") == Some("yes");
    match value(&pairs, "confirm") {
        Some("yes") if !unchecked => match st.app.grant_consent(&ctx, &auth, id, draft).await {
            Ok(_) => Redirect::to(&format!("/cases/{id}/consents?done=granted")).into_response(),
            Err(AppError::Invalid(v)) => back(v.errors, StatusCode::UNPROCESSABLE_ENTITY),
            Err(e) => Failure::from(e).into_response(),
        },
        // 「修正する」: the form again, filled in.
        Some("no") => back(Vec::new(), StatusCode::OK),
        _ => {
            let explanation = explain(
                &draft,
                RecipientNames {
                    organisation: &org_name,
                    person: None,
                },
            );
            render(
                &ConsentConfirmPage {
                    layout: Layout::new(&st, "同意の内容の確認", &csrf, Some(&auth), HERE),
                    case_id: id,
                    sentences: explanation.sentences,
                    caution,
                    unchecked,
                    recipient: value(&pairs, "recipient").unwrap_or_default().to_owned(),
                    categories: draft
                        .categories
                        .iter()
                        .map(|c| c.code().to_owned())
                        .collect(),
                    purpose: draft.purpose.clone(),
                    expires: value(&pairs, "expires").unwrap_or_default().to_owned(),
                },
                if unchecked {
                    StatusCode::UNPROCESSABLE_ENTITY
                } else {
                    StatusCode::OK
                },
            )
        }
    }
}

#[derive(Template)]
#[template(path = "cases/case_consent_withdraw.html")]
struct ConsentWithdrawPage {
    layout: Layout,
    case_id: Uuid,
    consent: Uuid,
    /// Whom the consent shares with, and what.
    recipient: String,
    categories: String,
}

/// Withdrawing asks first, as granting does: the page says who will no longer see what.
async fn withdraw_consent<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam((id, consent)): PathParam<(Uuid, Uuid)>,
    PageForm(pairs): PageForm<Pairs>,
) -> Response {
    let (loaded, _) = match worker_case(&st, &auth, id).await {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    if value(&pairs, "confirm") != Some("yes") {
        let Some(c) = loaded.context.consents.iter().find(|c| c.id == consent) else {
            return Failure::not_found().into_response();
        };
        let names = st
            .app
            .case_organisation_names(&auth, id)
            .await
            .unwrap_or_default();
        let org = names
            .get(&c.recipient.organisation)
            .cloned()
            .unwrap_or_default();
        return render(
            &ConsentWithdrawPage {
                layout: Layout::new(&st, "同意の撤回の確認", &csrf, Some(&auth), HERE),
                case_id: id,
                consent,
                recipient: format!("{org}の{}", c.recipient.role.label()),
                categories: c
                    .categories
                    .iter()
                    .map(|c| c.label())
                    .collect::<Vec<_>>()
                    .join("、"),
            },
            StatusCode::OK,
        );
    }
    match st.app.withdraw_consent(&ctx, &auth, id, consent).await {
        Ok(()) => Redirect::to(&format!("/cases/{id}/consents?done=withdrawn")).into_response(),
        Err(e) => Failure::from(e).into_response(),
    }
}

// ---- share codes: the worker's hospital joins the case -------------------------------

const SHARED_NOTICE: &str = "共有コードを確認しました。この事例に医療機関として参加しました。表示されるのは、患者さんが同意した情報だけです。";

#[derive(Template)]
#[template(path = "cases/case_share_code.html")]
struct ShareCodeIssuedPage {
    layout: Layout,
    case_id: Uuid,
    code: String,
    link: String,
    qr_svg: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "cases/share_redeem.html")]
struct ShareRedeemPage {
    layout: Layout,
    code: String,
    errors: Messages,
}

/// Whether the principal may redeem a share code: an attending physician or a hospital
/// coordinator of a medical institution (the use case's own rule, asked before any form).
fn may_redeem(auth: &Authenticated) -> bool {
    auth.memberships.iter().any(|m| {
        m.organisation_kind == OrganisationKind::MedicalInstitution
            && matches!(m.role, Role::AttendingPhysician | Role::HospitalCoordinator)
    })
}

fn not_hospital_staff() -> Failure {
    Failure::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "共有コードを入力できるのは、医療機関の主治医と両立支援コーディネーターです。",
    )
}

/// A code as people write it, tidied for showing in the form: full-width to half-width,
/// upper case, grouped `XXXX-XXXX-XXXX`. `None` when it cannot be a share code.
fn tidy_code(input: &str) -> Option<String> {
    let chars: Vec<char> = input
        .chars()
        .map(|c| match u32::from(c) {
            0xFF01..=0xFF5E => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| !matches!(c, '-' | ' ' | '\u{3000}'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if chars.len() != 12 || !chars.iter().all(char::is_ascii_alphanumeric) {
        return None;
    }
    let s: String = chars.iter().collect();
    Some(format!("{}-{}-{}", &s[..4], &s[4..8], &s[8..]))
}

/// The address the QR code opens: this server's public origin (as for invitation links).
fn share_link<S: Store>(st: &AppState<S>, headers: &axum::http::HeaderMap, code: &str) -> String {
    format!("{}/share/{code}", public_origin(st, headers))
}

async fn issue_share_code<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    User(auth): User,
    headers: axum::http::HeaderMap,
    PathParam(id): PathParam<Uuid>,
) -> Response {
    if let Err(f) = worker_case(&st, &auth, id).await {
        return f.into_response();
    }
    match st.app.issue_share_code(&ctx, &auth, id).await {
        Ok((code, expires)) => {
            let link = share_link(&st, &headers, &code);
            render(
                &ShareCodeIssuedPage {
                    layout: Layout::new(&st, "共有コード", &csrf, Some(&auth), HERE),
                    case_id: id,
                    qr_svg: qr_svg(&link),
                    link,
                    code,
                    expires: jp_datetime(expires),
                },
                StatusCode::OK,
            )
        }
        Err(AppError::Invalid(v)) => {
            let text = v
                .errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            case_render(
                &st,
                &csrf,
                &ctx,
                &auth,
                id,
                None,
                Some(text),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

fn share_render<S: Store>(
    st: &AppState<S>,
    csrf: &str,
    auth: &Authenticated,
    code: String,
    errors: Messages,
    status: StatusCode,
) -> Response {
    render(
        &ShareRedeemPage {
            layout: Layout::new(st, "共有コードの入力", csrf, Some(auth), HERE),
            code,
            errors,
        },
        status,
    )
}

async fn share_page<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    User(auth): User,
) -> Response {
    if !may_redeem(&auth) {
        return not_hospital_staff().into_response();
    }
    share_render(
        &st,
        &csrf,
        &auth,
        String::new(),
        Messages::default(),
        StatusCode::OK,
    )
}

/// The QR code's target: the same form with the code filled in. A GET never redeems: the
/// person signed in at the hospital confirms with the button.
async fn share_code_page<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    User(auth): User,
    PathParam(code): PathParam<String>,
) -> Response {
    if !may_redeem(&auth) {
        return not_hospital_staff().into_response();
    }
    match tidy_code(&code) {
        Some(code) => share_render(&st, &csrf, &auth, code, Messages::default(), StatusCode::OK),
        None => share_render(
            &st,
            &csrf,
            &auth,
            String::new(),
            Messages(vec![FieldError::new(
                "code",
                "share_code_malformed",
                "このリンクの共有コードは正しい形ではありません。患者さんからお預かりしたコードを入力してください。",
            )]),
            StatusCode::NOT_FOUND,
        ),
    }
}

async fn redeem_share_code<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    User(auth): User,
    PageForm(pairs): PageForm<Pairs>,
) -> Response {
    if !may_redeem(&auth) {
        return not_hospital_staff().into_response();
    }
    let typed = value(&pairs, "code").unwrap_or_default();
    // What was typed comes back as typed (bounded), so a mistake can be corrected.
    let again = |message: FieldError, status: StatusCode| {
        share_render(
            &st,
            &csrf,
            &auth,
            typed.chars().take(40).collect(),
            Messages(vec![message]),
            status,
        )
    };
    if typed.is_empty() {
        return again(
            FieldError::new("code", "required", "共有コードを入力してください。"),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    match st.app.redeem_share_code(&ctx, &auth, typed).await {
        Ok(case_id) => Redirect::to(&format!("/cases/{case_id}?done=shared")).into_response(),
        Err(AppError::Invalid(v)) => {
            let first = v.errors.into_iter().next().unwrap_or_else(|| {
                FieldError::new("code", "invalid", "共有コードを確認してください。")
            });
            again(first, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e @ AppError::Throttled(_)) => {
            let f = Failure::from(e);
            let mut r = again(
                FieldError::new("code", "too_many_attempts", f.message.clone()),
                StatusCode::TOO_MANY_REQUESTS,
            );
            if let Some(s) = f.retry_after
                && let Ok(v) = axum::http::HeaderValue::from_str(&s.to_string())
            {
                r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
            r
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

/// The principal's open tasks, for the home page.
pub async fn home_tasks<S: Store>(
    app: &App<S>,
    auth: &Authenticated,
) -> Result<Vec<HomeTask>, AppError> {
    let today = today(app);
    Ok(app
        .open_tasks(auth, HOME_TASKS)
        .await?
        .into_iter()
        .map(|(t, c)| HomeTask {
            label: t.kind.label(),
            href: format!("/cases/{}", c.id),
            due: jp_date(t.due),
            overdue: t.due < today,
        })
        .collect())
}

pub(super) fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    use Method as M;
    t.add(
        M::GET,
        "/cases",
        Access::SignedIn,
        "ViewCase (each)",
        cases_index::<S>,
    )
    .add(
        M::POST,
        "/cases",
        Access::SignedIn,
        "worker of the employer",
        file_request::<S>,
    )
    .add(
        M::GET,
        "/cases/{id}",
        Access::SignedIn,
        "ViewCase + ViewCaseCategory (documents read audited)",
        case_page::<S>,
    )
    .add(
        M::POST,
        "/cases/{id}/parties",
        Access::SignedIn,
        "the case's worker (coordinators, 所属長) or HR (所属長): add_party's own rules",
        add_party::<S>,
    )
    .add(
        M::POST,
        "/cases/{id}/steps",
        Access::SignedIn,
        "ViewCase + the state machine's actor rules",
        take_step::<S>,
    )
    .add(
        M::GET,
        "/cases/{id}/documents/new",
        Access::SignedIn,
        "EditCaseDocument / WriteOpinion",
        new_document::<S>,
    )
    .add(
        M::POST,
        "/cases/{id}/documents",
        Access::SignedIn,
        "EditCaseDocument / WriteOpinion",
        create_document::<S>,
    )
    .add(
        M::GET,
        "/cases/{id}/documents/{document}",
        Access::SignedIn,
        "ViewCaseCategory (audited read)",
        document_page::<S>,
    )
    .add(
        M::POST,
        "/cases/{id}/documents/{document}",
        Access::SignedIn,
        "ViewCaseCategory + EditCaseDocument / WriteOpinion",
        save_document::<S>,
    )
    .add(
        M::POST,
        "/cases/{id}/documents/{document}/finalise",
        Access::SignedIn,
        "ConfirmAsWorker / WriteOpinion / EditCaseDocument",
        finalise_document::<S>,
    )
    .add(
        M::GET,
        "/cases/{id}/consents",
        Access::SignedIn,
        "the case's worker (GrantConsent / WithdrawConsent)",
        consents_page::<S>,
    )
    .add(
        M::POST,
        "/cases/{id}/consents",
        Access::SignedIn,
        "GrantConsent",
        grant_consent::<S>,
    )
    .add(
        M::POST,
        "/cases/{id}/consents/{consent}/withdraw",
        Access::SignedIn,
        "WithdrawConsent",
        withdraw_consent::<S>,
    )
    .add(
        M::POST,
        "/cases/{id}/share-code",
        Access::SignedIn,
        "the case's worker (GrantConsent): issues a one-time share code",
        issue_share_code::<S>,
    )
    .add(
        M::GET,
        "/share",
        Access::SignedIn,
        "attending physician / hospital coordinator of a medical institution (form only)",
        share_page::<S>,
    )
    .add(
        M::GET,
        "/share/{code}",
        Access::SignedIn,
        "attending physician / hospital coordinator (form prefilled; never redeems)",
        share_code_page::<S>,
    )
    .add(
        M::POST,
        "/share",
        Access::SignedIn,
        "attending physician / hospital coordinator: redeem a share code (throttled)",
        redeem_share_code::<S>,
    )
}
