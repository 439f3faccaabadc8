//! What the pages of every area share: the layout around them (title, CSRF token, demo
//! notice, navigation), field messages, rendering, the error page, and the small helpers
//! for Japanese dates, HTML escaping, QR codes and this server's own address.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use ryoritsu_app::accounts::Authenticated;
use ryoritsu_app::ports::Store;
use ryoritsu_domain::FieldError;
use ryoritsu_domain::org::{OrganisationKind, Role};
use time::{Date, OffsetDateTime};

use crate::AppState;
use crate::http::failure::Failure;

pub const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");

pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

pub struct NavUser {
    pub display_name: String,
}

/// What every page shares: title, CSRF token, demo notice, navigation.
pub struct Layout {
    pub title: String,
    pub csrf: String,
    pub demo: bool,
    pub user: Option<NavUser>,
    pub nav: Vec<NavLink>,
    pub asset_version: &'static str,
}

impl Layout {
    pub(crate) fn new<S: Store>(
        st: &AppState<S>,
        title: &str,
        csrf: &str,
        auth: Option<&Authenticated>,
        here: &str,
    ) -> Layout {
        let signed_in = auth.filter(|a| a.principal.second_factor_ok);
        let mut nav = Vec::new();
        if let Some(a) = signed_in {
            nav.push(NavLink {
                href: "/",
                label: "ホーム",
                current: here == "/",
            });
            if !a.memberships.is_empty() {
                nav.push(NavLink {
                    href: "/cases",
                    label: "両立支援",
                    current: here == "/cases",
                });
            }
            // The hospital workspace: billing of the 両立支援指導 the hospital records.
            if a.memberships.iter().any(|m| {
                m.organisation_kind == OrganisationKind::MedicalInstitution
                    && matches!(
                        m.role,
                        Role::AttendingPhysician | Role::HospitalCoordinator | Role::OrgAdmin
                    )
            }) {
                nav.push(NavLink {
                    href: "/hospital",
                    label: "医療機関の業務",
                    current: here == "/hospital",
                });
            }
            if ryoritsu_app::search::may_search(a) {
                nav.push(NavLink {
                    href: "/search",
                    label: "検索",
                    current: here == "/search",
                });
            }
            if a.memberships.iter().any(|m| m.role == Role::Worker) {
                nav.push(NavLink {
                    href: "/me/records",
                    label: "わたしの情報",
                    current: here == "/me/records",
                });
            }
            let admin =
                a.principal.operator || a.memberships.iter().any(|m| m.role == Role::OrgAdmin);
            if admin {
                nav.push(NavLink {
                    href: "/organisations",
                    label: "組織の管理",
                    current: here == "/organisations",
                });
            }
            nav.push(NavLink {
                href: "/account",
                label: "アカウント",
                current: here == "/account",
            });
        }
        Layout {
            title: title.to_owned(),
            csrf: csrf.to_owned(),
            demo: st.app.config().demo,
            user: auth.map(|a| NavUser {
                display_name: a.user.display_name.to_string(),
            }),
            nav,
            asset_version: ASSET_VERSION,
        }
    }
}

/// Field messages for re-shown forms.
#[derive(Default)]
pub struct Errors(Vec<FieldError>);

impl From<Vec<FieldError>> for Errors {
    fn from(v: Vec<FieldError>) -> Errors {
        Errors(v)
    }
}

impl Errors {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

pub(crate) fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => Failure::internal(format!("template: {e}")).into_response(),
    }
}

/// Moments as people read them here, in Japan time: 令和8年4月1日（2026年） 9:05.
pub fn jp_datetime(t: OffsetDateTime) -> String {
    let jst = t.to_offset(ryoritsu_domain::time_format::JST);
    format!("{} {}:{:02}", jp_date(jst.date()), jst.hour(), jst.minute())
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    heading: String,
    message: String,
    operation_id: Option<String>,
}

/// The page shown for a failure; it has no session context, so no menu.
pub fn error_page(f: &Failure) -> Html<String> {
    let heading = match f.status {
        StatusCode::NOT_FOUND => "ページが見つかりません",
        StatusCode::FORBIDDEN => "この操作は行えません",
        StatusCode::UNAUTHORIZED => "ログインが必要です",
        StatusCode::TOO_MANY_REQUESTS => "しばらくお待ちください",
        s if s.is_server_error() => "問題が発生しました",
        _ => "入力内容を確認してください",
    };
    let page = ErrorPage {
        layout: Layout {
            title: heading.to_owned(),
            csrf: String::new(),
            demo: crate::http::context::demo(),
            user: None,
            nav: Vec::new(),
            asset_version: ASSET_VERSION,
        },
        heading: heading.to_owned(),
        message: f.message.clone(),
        operation_id: f.operation_id.clone(),
    };
    Html(page.render().unwrap_or_else(|_| f.message.clone()))
}

/// Dates in 和暦 with the 西暦 year beside them: 令和8年4月8日（2026年）.
pub fn jp_date(d: Date) -> String {
    format!("{}（{}年）", ryoritsu_domain::wareki::format(d), d.year())
}

/// HTML-escapes text for element content and double- or single-quoted attributes.
///
/// Hand-written rather than taken from askama: the fragment is built outside a template, the
/// rule is five replacements, and it must not change with askama's escaper API.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A QR code as inline SVG (empty when the data is too long for one).
pub fn qr_svg(data: &str) -> String {
    match qrcode::QrCode::new(data.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build();
            svg.find("<svg")
                .map_or(svg.clone(), |i| svg[i..].to_owned())
        }
        Err(_) => String::new(),
    }
}

/// This server's public origin as people reach it (`https://ryoritsu.example.jp`, no final
/// `/`): the configured one, or the request's Host.
pub fn public_origin<S: Store>(st: &AppState<S>, headers: &axum::http::HeaderMap) -> String {
    let base = st.web.public_origin.clone().unwrap_or_else(|| {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("localhost");
        let scheme = if st.web.secure_cookies {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{host}")
    });
    base.trim_end_matches('/').to_owned()
}
