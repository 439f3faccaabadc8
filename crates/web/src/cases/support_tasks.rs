//! Coordinators' own tasks on a case (支援タスク): the JSON API, the case page's section, the
//! page forms and the home page's entries.
//!
//! A coordinator (or the employer's 産業保健スタッフ) adds what they have to do for the
//! worker with a due date and marks it done over the version they saw (`If-Match` in the
//! API, a hidden field on the page). The worker and those the worker lets read the
//! consultation notes see the tasks.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use ryoritsu_app::accounts::Authenticated;
use ryoritsu_app::cases::support_tasks::SupportTaskView;
use ryoritsu_app::ports::Store;
use ryoritsu_app::{App, AppError, RequestContext};
use ryoritsu_domain::FieldError;
use ryoritsu_domain::policy::Denial;
use ryoritsu_domain::support_task::{NOTE_MAX, SupportTaskInput, TITLE_MAX, japan_date};
use ryoritsu_domain::time_format::format_micros;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::api::{body_json, if_match, parse_body, post_once, with_etag};
use crate::http::extract::{PageForm, PathParam};
use crate::http::failure::{ErrorBody, Failure};
use crate::http::page::{Layout, jp_date, jp_datetime};
use crate::http::session::{Csrf, Ctx, User};
use crate::{Access, AppState, RouteTable};

const CLOSED_MESSAGE: &str =
    "この事例は終了しているため、支援タスクの追加や完了の記録はできません。";
const DONE_MESSAGE: &str = "この支援タスクはすでに完了になっています。";
const STALE_MESSAGE: &str = "ほかの方が先にこの支援タスクを更新しました。最新の内容を表示していますので、確認してからもう一度操作してください。";
const MAY_NOT_ADD: &str = "支援タスクを追加できるのは、この事例の両立支援コーディネーターと産業保健スタッフのうち、相談記録についてご本人の同意を得ている方です。";
const MAY_NOT_VIEW: &str =
    "支援タスクを見られるのは、ご本人と、相談記録についてご本人の同意を得ている方です。";
const MAY_NOT_COMPLETE: &str =
    "支援タスクを完了にできるのは、そのタスクを追加した方か、同じ組織の担当者です。";

/// What the caller was doing, for the words of a refusal.
#[derive(Clone, Copy)]
enum Doing {
    Adding,
    Viewing,
    Completing,
}

/// A failure in this feature's own words; a refusal stays a refusal (and is recorded).
fn failure(e: AppError, doing: Doing) -> Failure {
    let message = match (&e, doing) {
        (AppError::Conflict("case_closed"), _) => CLOSED_MESSAGE,
        (AppError::Conflict("support_task_done"), _) => DONE_MESSAGE,
        (AppError::Denied(Denial::Forbidden), Doing::Adding) => MAY_NOT_ADD,
        (AppError::Denied(Denial::Forbidden), Doing::Viewing) => MAY_NOT_VIEW,
        (AppError::Denied(Denial::Forbidden), Doing::Completing) => MAY_NOT_COMPLETE,
        _ => return Failure::from(e),
    };
    let mut f = Failure::from(e);
    f.message = message.to_owned();
    f
}

fn today<S: Store>(app: &App<S>) -> Date {
    japan_date(app.now())
}

// ---- API ------------------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
pub struct NewSupportTask {
    /// What to do (up to 200 characters, one line), e.g. 「次回面談の日程を本人と調整する」.
    pub title: String,
    /// Due date, `YYYY-MM-DD`; today or later.
    pub due: String,
    /// A note (up to 1,000 characters).
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SupportTaskOut {
    pub id: Uuid,
    pub case_id: Uuid,
    pub title: String,
    /// Due date (YYYY-MM-DD).
    pub due: String,
    pub note: Option<String>,
    /// Open past its due date (dates in Japan).
    pub overdue: bool,
    pub done: bool,
    pub done_at: Option<String>,
    pub done_by: Option<Uuid>,
    /// The organisation the task belongs to: its people keep it.
    pub organisation_id: Uuid,
    pub organisation_name: String,
    pub created_by: Uuid,
    pub created_by_name: String,
    /// The role the writer acted in (stable code) and its label.
    pub created_role: String,
    pub created_role_label: String,
    pub created_at: String,
    /// Whether the caller may mark it done now.
    pub may_complete: bool,
    /// Also the ETag; marking done needs it in `If-Match`.
    pub version: i64,
}

fn task_out(v: &SupportTaskView, today: Date) -> SupportTaskOut {
    let t = v.task();
    SupportTaskOut {
        id: t.id,
        case_id: t.case_id,
        title: t.title.clone(),
        due: t.due.to_string(),
        note: t.note.clone(),
        overdue: t.overdue(today),
        done: t.is_done(),
        done_at: t.done_at.map(format_micros),
        done_by: t.done_by,
        organisation_id: t.organisation,
        organisation_name: v.organisation_name.clone(),
        created_by: t.created_by,
        created_by_name: v.created_by_name.clone(),
        created_role: t.created_role.code().into(),
        created_role_label: t.created_role.label().into(),
        created_at: format_micros(t.created_at),
        may_complete: v.may_complete,
        version: v.version(),
    }
}

/// The case's support tasks, open ones first by due date: for the worker, and for those
/// who may read the case's consultation notes (their read is recorded). 403 for others
/// taking part in the case, 404 outside it.
#[utoipa::path(get, path = "/api/v1/cases/{id}/support-tasks", tag = "support_tasks",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<SupportTaskOut>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
) -> Response {
    let today = today(&st.app);
    match st.app.case_support_tasks(&ctx, &auth, id).await {
        Ok(c) => (
            StatusCode::OK,
            axum::Json(
                c.tasks
                    .iter()
                    .map(|v| task_out(v, today))
                    .collect::<Vec<_>>(),
            ),
        )
            .into_response(),
        Err(e) => failure(e, Doing::Viewing).into_response(),
    }
}

/// A coordinator of the case (or the employer's 産業保健スタッフ) adds a task with a due
/// date. Needs the worker's consent to consultation notes, like writing a note; 409 on a
/// closed case. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/cases/{id}/support-tasks", tag = "support_tasks",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    request_body = NewSupportTask,
    responses((status = 201, body = SupportTaskOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let path = format!("/api/v1/cases/{id}/support-tasks");
    let today = today(&st.app);
    post_once(
        &st,
        format!("user:{}", auth.user.id),
        &headers,
        &path,
        &body,
        || async {
            let b: NewSupportTask = parse_body(&body)?;
            let input = SupportTaskInput {
                title: &b.title,
                due: &b.due,
                note: b.note.as_deref(),
            };
            st.app
                .plan_add_support_task(&ctx, &auth, id, input)
                .await
                .map_err(|e| failure(e, Doing::Adding))
        },
        |v| body_json(201, &task_out(v, today)),
    )
    .await
}

/// Marks a task done: its writer, or someone of its organisation who keeps tasks on the
/// case. Needs `If-Match` (412 stale, 428 missing); 409 once done or on a closed case.
#[utoipa::path(post, path = "/api/v1/support-tasks/{id}/done", tag = "support_tasks",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = SupportTaskOut, headers(("ETag" = String))), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 428, body = ErrorBody)))]
pub async fn done<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    headers: HeaderMap,
) -> Response {
    let version = match if_match(&headers) {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    let today = today(&st.app);
    match st.app.complete_support_task(&ctx, &auth, id, version).await {
        Ok(v) => with_etag(
            (StatusCode::OK, axum::Json(task_out(&v, today))).into_response(),
            v.version(),
        ),
        Err(e) => failure(e, Doing::Completing).into_response(),
    }
}

// ---- the case page's section --------------------------------------------------------

/// One task on the case page.
pub struct SupportTaskRow {
    pub id: Uuid,
    pub title: String,
    pub due: String,
    pub overdue: bool,
    /// The note as escaped HTML with its line breaks kept.
    pub note: Option<String>,
    /// 「渡辺 由美（都立さくら総合病院）」
    pub writer: String,
    pub done: bool,
    pub done_on: String,
    pub may_complete: bool,
    pub version: i64,
}

/// The case page's section on support tasks; hidden from those who may not see them.
pub struct SupportTaskSection {
    pub visible: bool,
    pub rows: Vec<SupportTaskRow>,
    pub may_add: bool,
    pub title_max: usize,
    pub note_max: usize,
    /// The earliest due date a form accepts (YYYY-MM-DD).
    pub min_due: String,
}

fn lines_html(s: &str) -> String {
    crate::http::page::escape(s).replace('\n', "<br>")
}

fn row(v: &SupportTaskView, today: Date) -> SupportTaskRow {
    let t = v.task();
    let writer = match (v.created_by_name.is_empty(), v.organisation_name.is_empty()) {
        (false, false) => format!("{}（{}）", v.created_by_name, v.organisation_name),
        (false, true) => v.created_by_name.clone(),
        (true, _) => v.organisation_name.clone(),
    };
    SupportTaskRow {
        id: t.id,
        title: t.title.clone(),
        due: jp_date(t.due),
        overdue: t.overdue(today),
        note: t.note.as_deref().map(lines_html),
        writer,
        done: t.is_done(),
        done_on: t.done_at.map(jp_datetime).unwrap_or_default(),
        may_complete: v.may_complete,
        version: v.version(),
    }
}

/// The section for the case page: the tasks the viewer may see, the add form for those who
/// may add. Nothing at all for those who may not see them.
pub async fn section<S: Store>(
    st: &AppState<S>,
    ctx: &RequestContext,
    auth: &Authenticated,
    case_id: Uuid,
) -> SupportTaskSection {
    let today = today(&st.app);
    let (visible, rows, may_add) = match st.app.case_support_tasks(ctx, auth, case_id).await {
        Ok(c) => (
            true,
            c.tasks.iter().map(|v| row(v, today)).collect(),
            c.may_add,
        ),
        Err(_) => (false, Vec::new(), false),
    };
    SupportTaskSection {
        visible,
        rows,
        may_add,
        title_max: TITLE_MAX,
        note_max: NOTE_MAX,
        min_due: today.to_string(),
    }
}

// ---- page forms ---------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct AddForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    note: String,
}

/// The add form again, with its messages, when what was sent was refused.
#[derive(Template)]
#[template(path = "cases/support_task_new.html")]
struct AddPage {
    layout: Layout,
    case_id: Uuid,
    title: String,
    due: String,
    note: String,
    errors: Vec<FieldError>,
    title_max: usize,
    note_max: usize,
    min_due: String,
}

impl AddPage {
    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }
}

async fn add_page<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    Csrf(csrf): Csrf,
    User(auth): User,
    PathParam(case_id): PathParam<Uuid>,
    PageForm(form): PageForm<AddForm>,
) -> Response {
    let input = SupportTaskInput {
        title: &form.title,
        due: &form.due,
        note: Some(form.note.as_str()),
    };
    match st.app.add_support_task(&ctx, &auth, case_id, input).await {
        Ok(v) => Redirect::to(&format!(
            "/cases/{case_id}?done=support_task#support-task-{}",
            v.task().id
        ))
        .into_response(),
        Err(AppError::Invalid(e)) => {
            let page = AddPage {
                layout: Layout::new(&st, "支援タスクの追加", &csrf, Some(&auth), "/cases"),
                case_id,
                title: form.title,
                due: form.due,
                note: form.note,
                errors: e.errors,
                title_max: TITLE_MAX,
                note_max: NOTE_MAX,
                min_due: today(&st.app).to_string(),
            };
            match page.render() {
                Ok(html) => (StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response(),
                Err(e) => Failure::internal(format!("template: {e}")).into_response(),
            }
        }
        Err(e) => failure(e, Doing::Adding).into_response(),
    }
}

#[derive(Deserialize, Default)]
struct DoneForm {
    /// The case the page showed, to show it again.
    #[serde(default)]
    case: Option<Uuid>,
    #[serde(default)]
    version: i64,
}

async fn done_page<S: Store>(
    State(st): State<AppState<S>>,
    Ctx(ctx): Ctx,
    Csrf(csrf): Csrf,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    PageForm(form): PageForm<DoneForm>,
) -> Response {
    let message = match st
        .app
        .complete_support_task(&ctx, &auth, id, form.version)
        .await
    {
        Ok(v) => {
            return Redirect::to(&format!(
                "/cases/{}?done=support_task_done#support-task-{id}",
                v.task().case_id
            ))
            .into_response();
        }
        Err(AppError::PreconditionFailed) => STALE_MESSAGE,
        Err(AppError::Conflict("support_task_done")) => DONE_MESSAGE,
        Err(e) => return failure(e, Doing::Completing).into_response(),
    };
    match form.case {
        Some(case) => {
            super::pages::case_render(
                &st,
                &csrf,
                &ctx,
                &auth,
                case,
                None,
                Some(message.to_owned()),
                StatusCode::CONFLICT,
            )
            .await
        }
        None => Failure::new(StatusCode::CONFLICT, "precondition_failed", message).into_response(),
    }
}

// ---- the home page --------------------------------------------------------------------

/// The open tasks the signed-in person keeps, for the home page's task list. Their content
/// stays on the case page, where reading it is recorded.
pub async fn home_tasks<S: Store>(
    app: &App<S>,
    auth: &Authenticated,
) -> Result<Vec<crate::http::home::HomeTask>, AppError> {
    let today = today(app);
    Ok(app
        .my_open_support_tasks(auth)
        .await?
        .iter()
        .map(|(r, c)| crate::http::home::HomeTask {
            label: "支援タスク（コーディネーター）",
            href: format!("/cases/{}#support-task-{}", c.id, r.task.id),
            due: jp_date(r.task.due),
            overdue: r.task.overdue(today),
        })
        .collect())
}

pub(super) fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    use Method as M;
    t.add(
        M::GET,
        "/api/v1/cases/{id}/support-tasks",
        Access::SignedIn,
        "ViewCaseCategory (consultation notes); the worker always",
        list::<S>,
    )
    .add(
        M::POST,
        "/api/v1/cases/{id}/support-tasks",
        Access::SignedIn,
        "EditCaseDocument (consultation notes), coordinators and health staff",
        add::<S>,
    )
    .add(
        M::POST,
        "/api/v1/support-tasks/{id}/done",
        Access::SignedIn,
        "EditCaseDocument (consultation notes), the writer or their organisation",
        done::<S>,
    )
    .add(
        M::POST,
        "/cases/{id}/support-tasks",
        Access::SignedIn,
        "EditCaseDocument (consultation notes), coordinators and health staff",
        add_page::<S>,
    )
    .add(
        M::POST,
        "/support-tasks/{id}/done",
        Access::SignedIn,
        "EditCaseDocument (consultation notes), the writer or their organisation",
        done_page::<S>,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_their_status_and_use_this_features_words() {
        let f = failure(AppError::Denied(Denial::Forbidden), Doing::Adding);
        assert_eq!(f.status, StatusCode::FORBIDDEN);
        assert!(f.denied);
        assert_eq!(f.message, MAY_NOT_ADD);
        let f = failure(AppError::Denied(Denial::NotFound), Doing::Adding);
        assert_eq!(f.status, StatusCode::NOT_FOUND);
        assert_ne!(f.message, MAY_NOT_ADD, "outsiders learn nothing");
        let f = failure(AppError::Conflict("case_closed"), Doing::Completing);
        assert_eq!(
            (f.status, f.message.as_str()),
            (StatusCode::CONFLICT, CLOSED_MESSAGE)
        );
        assert!(lines_html("<b>\n").contains("&lt;b&gt;<br>"));
    }
}
