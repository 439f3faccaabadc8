//! The OpenAPI document of the JSON API under `/api/v1`, served at `/api/v1/openapi.json`
//! (also committed as `docs/api/openapi.json`). It lists the API paths of every area.
//!
//! Authentication is the same session cookie as the pages; state-changing calls carry the
//! session's CSRF token in `X-CSRF-Token` (given by sign-in and by `GET /api/v1/me`).

use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use ryoritsu_app::ports::Store;
use utoipa::OpenApi;

use crate::http::failure::ErrorBody;
use crate::{Access, RouteTable};

#[derive(OpenApi)]
#[openapi(
    info(title = "Ryoritsu API", version = "1",
        description = "治療と仕事の両立支援プラットフォーム Ryoritsu の API。エラーは `code`（安定したコード）と `message`（日本語）を返します。"),
    paths(crate::accounts::api::sign_in, crate::accounts::api::second_factor,
        crate::accounts::api::sign_out, crate::accounts::api::me, crate::accounts::api::my_sessions,
        crate::accounts::api::end_my_session, crate::accounts::api::change_password,
        crate::accounts::api::list_organisations, crate::accounts::api::create_organisation,
        crate::accounts::api::get_organisation, crate::accounts::api::list_workplaces,
        crate::accounts::api::add_workplace, crate::accounts::api::list_members,
        crate::accounts::api::create_invitation, crate::accounts::api::accept_invitation,
        crate::accounts::api::deactivate_user, crate::accounts::api::prefectures,
        crate::accounts::api::roles,
        crate::cases::api::file_request, crate::cases::api::list_cases, crate::cases::csv::api_cases_csv,
        crate::cases::api::get_case,
        crate::cases::api::take_step, crate::cases::api::list_documents, crate::cases::api::create_document,
        crate::cases::printing::get_document,
        crate::cases::api::update_document, crate::cases::api::finalise_document,
        crate::cases::api::grant_consent, crate::cases::api::withdraw_consent,
        crate::cases::api::add_party, crate::cases::api::issue_share_code, crate::cases::api::redeem_share_code,
        crate::cases::api::my_access_log, crate::cases::api::my_export,
        crate::cases::api::get_handling_rules, crate::cases::api::put_handling_rules,
        crate::cases::api::list_notes, crate::cases::api::add_note,
        crate::cases::api::form_schema, crate::cases::api::categories,
        crate::cases::scans::upload, crate::cases::scans::list, crate::cases::scans::content,
        crate::cases::scans::transcribe,
        crate::cases::corrections::file_request, crate::cases::corrections::list_case,
        crate::cases::corrections::list_mine, crate::cases::corrections::get_one, crate::cases::corrections::answer,
        crate::cases::corrections::correcting_document,
        crate::cases::support_tasks::list, crate::cases::support_tasks::add, crate::cases::support_tasks::done,
        crate::search::api_search,
        crate::hospital::guidance::list, crate::hospital::guidance::create, crate::hospital::guidance::preview,
        crate::hospital::guidance::correct, crate::hospital::guidance::cancel, crate::hospital::guidance::api_billing,
        crate::hospital::guidance::api_billing_csv, crate::hospital::guidance::api_standards, crate::hospital::guidance::api_set_standards),
    components(schemas(ErrorBody)),
    tags((name = "auth", description = "サインイン"), (name = "account", description = "自分のアカウント"),
        (name = "organisations", description = "組織・事業場・メンバー"), (name = "cases", description = "両立支援の事例・書類・同意"),
        (name = "scans", description = "紙の書類の写し（提出・閲覧・転記）"),
        (name = "corrections", description = "訂正の請求と回答"),
        (name = "support_tasks", description = "支援タスク（両立支援コーディネーターの対応と期限）"),
        (name = "search", description = "事例の検索（氏名・状況・期間・キーワード）"),
        (name = "guidance", description = "両立支援指導の記録と療養・就労両立支援指導料の算定（医療機関）"),
        (name = "reference", description = "参照データ"))
)]
pub struct ApiDoc;

/// The OpenAPI document as served and as committed (pretty JSON with a final newline).
pub fn openapi_json() -> String {
    let mut s = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

async fn openapi() -> Response {
    let mut r = openapi_json().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub(super) fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    t.add(
        Method::GET,
        "/api/v1/openapi.json",
        Access::Public,
        "none",
        openapi,
    )
}
