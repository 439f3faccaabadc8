//! An employer's settings pages: the 健康情報等取扱規程.
//!
//! The page shows the rules as the policy applies them (stored, or the safe defaults) as a
//! table of the employer's roles × the case information categories. Those the use case
//! lets change them (the organisation admin) get a form; every other member of the
//! employer reads the same table, since the 指針 asks that the rules be made known.
//! Saving goes through `App::set_handling_rules`, whose own check refuses anything wider
//! than the defaults; its message is shown next to the field it is about.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use ryoritsu_app::AppError;
use ryoritsu_app::accounts::Authenticated;
use ryoritsu_app::cases::ports::HandlingRulesRecord;
use ryoritsu_app::ports::Store;
use ryoritsu_domain::FieldError;
use ryoritsu_domain::info::InformationCategory;
use ryoritsu_domain::org::Role;
use ryoritsu_domain::policy::{Access as RuleAccess, Action, HandlingRules};
use serde::Deserialize;
use uuid::Uuid;

use crate::http::extract::{PageForm, PathParam, QueryParams};
use crate::http::failure::Failure;
use crate::http::page::{Layout, jp_datetime};
use crate::http::session::{Csrf, Ctx, User};
use crate::{Access, AppState, RouteTable};

const TITLE: &str = "健康情報等取扱規程";
const CONFLICT_MESSAGE: &str = "ほかの人が先に取扱規程を更新しました。最新の内容を表示していますので、確認してからもう一度保存してください。";

/// The three answers a cell can take, in the words of the page.
const LEVELS: [(RuleAccess, &str, &str); 3] = [
    (RuleAccess::Never, "never", "見られない"),
    (
        RuleAccess::WithConsent,
        "with_consent",
        "本人の同意があれば見られる",
    ),
    (RuleAccess::Always, "always", "常に見られる"),
];

fn level_label(a: RuleAccess) -> &'static str {
    LEVELS
        .iter()
        .find(|(l, _, _)| *l == a)
        .map_or("見られない", |(_, _, label)| label)
}

fn level_from_code(code: &str) -> Option<RuleAccess> {
    LEVELS
        .iter()
        .find(|(_, c, _)| *c == code)
        .map(|(l, _, _)| *l)
}

/// The form field of one role and category; the same name the use case gives its messages.
fn field_name(role: Role, category: InformationCategory) -> String {
    format!("grants.{}.{}", role.code(), category.code())
}

pub struct LevelOption {
    pub code: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub struct Cell {
    pub field: String,
    /// 「人事労務担当者：勤務に関する情報」, for screen readers.
    pub name: String,
    pub options: Vec<LevelOption>,
    pub current: &'static str,
    pub default: &'static str,
    /// The setting is narrower than the default.
    pub narrowed: bool,
    pub error: Option<String>,
}

pub struct Row {
    pub role: &'static str,
    pub cells: Vec<Cell>,
}

#[derive(Template)]
#[template(path = "cases/settings_handling_rules.html")]
struct RulesPage {
    layout: Layout,
    org_id: Uuid,
    org_name: String,
    notice: Option<String>,
    message: Option<String>,
    editable: bool,
    version: i64,
    updated: Option<String>,
    columns: Vec<&'static str>,
    rows: Vec<Row>,
}

fn render<T: Template>(t: &T, status: StatusCode) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => Failure::internal(format!("template: {e}")).into_response(),
    }
}

/// What the page shows in each cell: the stored rules, or what was posted when the post is
/// shown again.
type Shown = BTreeMap<(Role, InformationCategory), RuleAccess>;

fn shown_from(record: &HandlingRulesRecord) -> Shown {
    let mut out = BTreeMap::new();
    for role in HandlingRules::ROLES {
        for category in InformationCategory::CASE {
            out.insert((*role, *category), record.rules.stated(*role, *category));
        }
    }
    out
}

struct View<'a> {
    record: &'a HandlingRulesRecord,
    shown: Shown,
    notice: Option<String>,
    message: Option<String>,
    errors: &'a [FieldError],
}

async fn rules_render<S: Store>(
    st: &AppState<S>,
    csrf: &str,
    auth: &Authenticated,
    id: Uuid,
    v: View<'_>,
    status: StatusCode,
) -> Response {
    let org = match st.app.get_organisation(auth, id).await {
        Ok(o) => o,
        Err(e) => return Failure::from(e).into_response(),
    };
    // The use case's own check: whoever may manage the organisation may change its rules.
    let editable = auth.permit(Action::ManageOrganisation(id)).is_ok();
    let rows = HandlingRules::ROLES
        .iter()
        .map(|role| Row {
            role: role.label(),
            cells: InformationCategory::CASE
                .iter()
                .map(|category| {
                    let field = field_name(*role, *category);
                    let current = v
                        .shown
                        .get(&(*role, *category))
                        .copied()
                        .unwrap_or(RuleAccess::Never);
                    let default = HandlingRules::default_access(*role, *category);
                    Cell {
                        name: format!("{}：{}", role.label(), category.label()),
                        options: LEVELS
                            .iter()
                            .map(|(l, code, label)| LevelOption {
                                code,
                                label,
                                selected: *l == current,
                            })
                            .collect(),
                        current: level_label(current),
                        default: level_label(default),
                        narrowed: current < default,
                        error: v
                            .errors
                            .iter()
                            .find(|e| e.field == field)
                            .map(|e| e.message.clone()),
                        field,
                    }
                })
                .collect(),
        })
        .collect();
    // Messages about no one cell (a role the rules may not name at all) go on top.
    let loose: Vec<&str> = v
        .errors
        .iter()
        .filter(|e| {
            !HandlingRules::ROLES.iter().any(|r| {
                InformationCategory::CASE
                    .iter()
                    .any(|c| field_name(*r, *c) == e.field)
            })
        })
        .map(|e| e.message.as_str())
        .collect();
    let message = match (v.message, v.errors.is_empty(), loose.is_empty()) {
        (Some(m), _, _) => Some(m),
        (None, false, true) => {
            Some("保存できませんでした。表の中のメッセージを確認してください。".to_owned())
        }
        (None, false, false) => Some(format!("保存できませんでした。{}", loose.join(" "))),
        (None, true, _) => None,
    };
    let page = RulesPage {
        layout: Layout::new(st, TITLE, csrf, Some(auth), "/organisations"),
        org_id: id,
        org_name: org.name.to_string(),
        notice: v.notice,
        message,
        editable,
        version: v.record.version,
        updated: (v.record.version > 0).then(|| jp_datetime(v.record.updated_at)),
        columns: InformationCategory::CASE
            .iter()
            .map(|c| c.label())
            .collect(),
        rows,
    };
    render(&page, status)
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    done: Option<String>,
}

async fn rules_page<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    QueryParams(q): QueryParams<NoticeQuery>,
) -> Response {
    let record = match st.app.handling_rules(&auth, id).await {
        Ok(r) => r,
        Err(e) => return Failure::from(e).into_response(),
    };
    let notice = (q.done.as_deref() == Some("saved")).then(|| {
        "取扱規程を保存しました。この内容は、この会社のすべての事例にすぐに適用されます。"
            .to_owned()
    });
    let view = View {
        shown: shown_from(&record),
        record: &record,
        notice,
        message: None,
        errors: &[],
    };
    rules_render(&st, &csrf, &auth, id, view, StatusCode::OK).await
}

async fn save_rules<S: Store>(
    State(st): State<AppState<S>>,
    Csrf(csrf): Csrf,
    Ctx(ctx): Ctx,
    User(auth): User,
    PathParam(id): PathParam<Uuid>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Response {
    // The organisation must be the viewer's before anything about the post is answered.
    let record = match st.app.handling_rules(&auth, id).await {
        Ok(r) => r,
        Err(e) => return Failure::from(e).into_response(),
    };
    // Those who may only read the rules are refused before their post is looked at (the use
    // case checks the same again).
    if let Err(e) = auth.permit(Action::ManageOrganisation(id)) {
        return Failure::from(e).into_response();
    }
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim());
    let mut errors = Vec::new();
    let mut shown = shown_from(&record);
    let mut grants: BTreeMap<Role, BTreeMap<InformationCategory, RuleAccess>> = BTreeMap::new();
    for role in HandlingRules::ROLES {
        let per = grants.entry(*role).or_default();
        for category in InformationCategory::CASE {
            let field = field_name(*role, *category);
            match get(&field).and_then(level_from_code) {
                Some(level) => {
                    shown.insert((*role, *category), level);
                    // Not stored: a missing entry already means 見られない.
                    if level != RuleAccess::Never {
                        per.insert(*category, level);
                    }
                }
                None => errors.push(FieldError::new(
                    &field,
                    "invalid_option",
                    "「見られない」「本人の同意があれば見られる」「常に見られる」から選んでください。",
                )),
            }
        }
    }
    let version = get("version").and_then(|v| v.parse::<i64>().ok());
    let again = |errors: Vec<FieldError>, shown: Shown, message: Option<String>, status| {
        let (st, csrf, auth, record) = (&st, &csrf, &auth, &record);
        async move {
            let view = View {
                record,
                shown,
                notice: None,
                message,
                errors: &errors,
            };
            rules_render(st, csrf, auth, id, view, status).await
        }
    };
    let Some(version) = version else {
        return again(
            errors,
            shown,
            Some(
                "画面の情報が足りません。画面を読み込み直してから、もう一度保存してください。"
                    .to_owned(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    if !errors.is_empty() {
        return again(errors, shown, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    match st
        .app
        .set_handling_rules(&ctx, &auth, id, grants, version)
        .await
    {
        Ok(_) => {
            Redirect::to(&format!("/organisations/{id}/handling-rules?done=saved")).into_response()
        }
        Err(AppError::Invalid(v)) => {
            again(v.errors, shown, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        // The latest rules, not what was posted: the other change must be seen first.
        Err(AppError::PreconditionFailed) => {
            again(
                Vec::new(),
                shown_from(&record),
                Some(CONFLICT_MESSAGE.to_owned()),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

pub(super) fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    t.add(
        Method::GET,
        "/organisations/{id}/handling-rules",
        Access::SignedIn,
        "ViewOrganisation (any member of the employer reads the rules; ManageOrganisation gets the form)",
        rules_page::<S>,
    )
    .add(
        Method::POST,
        "/organisations/{id}/handling-rules",
        Access::SignedIn,
        "ManageOrganisation (set_handling_rules: narrower than the safe defaults only)",
        save_rules::<S>,
    )
}
