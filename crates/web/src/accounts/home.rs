//! The home page: the person's open tasks, gathered from every area that registered a
//! source (see [`crate::http::home`]), and a guide to each of their roles with its links.
//! The role guides are the only user-visible text not in a template, kept together at the
//! end of this file.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use ryoritsu_app::ports::Store;
use ryoritsu_domain::org::{OrganisationKind, Role};
use ryoritsu_domain::policy::{Action, decide};
use uuid::Uuid;

use crate::http::failure::Failure;
use crate::http::home::{HomeTask, HomeTasks};
use crate::http::page::{Layout, render};
use crate::http::session::{Csrf, User};
use crate::{Access, AppState, RouteTable};

pub struct HomeLink {
    pub href: String,
    pub label: &'static str,
}

pub struct HomeSection {
    pub organisation: String,
    pub role: String,
    pub intro: &'static str,
    pub steps: &'static [&'static str],
    pub links: Vec<HomeLink>,
}

#[derive(Template)]
#[template(path = "accounts/home.html")]
struct HomePage {
    layout: Layout,
    display_name: String,
    tasks: Vec<HomeTask>,
    sections: Vec<HomeSection>,
}

async fn home<S: Store>(
    axum::extract::State(st): axum::extract::State<AppState<S>>,
    Csrf(csrf): Csrf,
    User(auth): User,
    Extension(sources): Extension<Arc<HomeTasks<S>>>,
) -> Response {
    let orgs = match st.app.list_organisations(&auth).await {
        Ok(o) => o,
        Err(e) => return Failure::from(e).into_response(),
    };
    let org_name = |id: Uuid| {
        orgs.iter()
            .find(|o| o.id == id)
            .map_or_else(String::new, |o| o.name.to_string())
    };
    let mut sections = Vec::new();
    if auth.principal.operator {
        let (intro, steps) = role_guide(Role::SystemOperator);
        sections.push(HomeSection {
            organisation: "Ryoritsu".into(),
            role: Role::SystemOperator.label().into(),
            intro,
            steps,
            links: vec![HomeLink {
                href: "/organisations".into(),
                label: "組織の一覧と登録",
            }],
        });
    }
    // The 取扱規程 is made known to every member of an employer (once per employer).
    let mut rules_linked = std::collections::BTreeSet::new();
    for m in &auth.memberships {
        let (intro, steps) = role_guide(m.role);
        let mut links = Vec::new();
        if m.role == Role::OrgAdmin {
            links.push(HomeLink {
                href: format!("/organisations/{}", m.organisation_id),
                label: "メンバーの招待と管理",
            });
        }
        if m.organisation_kind == OrganisationKind::Employer
            && rules_linked.insert(m.organisation_id)
        {
            let may_set = decide(
                &auth.principal,
                Action::ManageOrganisation(m.organisation_id),
            )
            .is_ok();
            links.push(HomeLink {
                href: format!("/organisations/{}/handling-rules", m.organisation_id),
                label: if may_set {
                    "健康情報等取扱規程の設定"
                } else {
                    "健康情報等取扱規程（誰がどの情報を見られるか）"
                },
            });
        }
        let role = match m.detail.safety_health_role {
            Some(r) if m.role == Role::OccupationalHealthStaff => {
                format!("{}（{}）", m.role.label(), r.label())
            }
            _ => match m.detail.profession {
                Some(p) => format!("{}（{}）", m.role.label(), p.label()),
                None if m.detail.promotion_officer => "両立支援促進員".to_owned(),
                None => m.role.label().to_owned(),
            },
        };
        sections.push(HomeSection {
            organisation: org_name(m.organisation_id),
            role,
            intro,
            steps,
            links,
        });
    }
    let tasks = match sources.gather(&st, &auth).await {
        Ok(t) => t,
        Err(e) => return Failure::from(e).into_response(),
    };
    render(&HomePage {
        layout: Layout::new(&st, "ホーム", &csrf, Some(&auth), "/"),
        display_name: auth.user.display_name.to_string(),
        tasks,
        sections,
    })
}

pub(super) fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    t.add(
        Method::GET,
        "/",
        Access::SignedIn,
        "own memberships",
        home::<S>,
    )
}

/// What each role does in 両立支援, shown on its home page.
pub fn role_guide(role: Role) -> (&'static str, &'static [&'static str]) {
    match role {
        Role::Worker => (
            "治療を受けながら働き続けるための支援を、会社に申し出ることができます。あなたの健康に関する情報は、あなたが同意した相手にだけ、同意した範囲で共有されます。",
            &[
                "会社（人事労務担当者など）に両立支援を申し出ます。",
                "会社と一緒に、仕事の内容をまとめた「勤務情報提供書」を作り、主治医に渡します。",
                "主治医が、仕事を続けられるか、どんな配慮が必要かを「意見書」にまとめます。",
                "会社が産業医の意見を聴き、あなたと話し合って「両立支援プラン」を作ります。",
                "プランに沿って働きながら、定期的に見直します。",
            ],
        ),
        Role::HrOfficer => (
            "労働者からの申出を受けて、両立支援の手続きを進める窓口です。診断名などの医療情報は、本人が同意した場合に限り表示されます。",
            &[
                "労働者の申出を受け付けます。",
                "本人と一緒に勤務情報提供書を作成し、主治医に渡してもらいます。",
                "主治医意見書を受け取り、産業医の意見を聴きます。",
                "就業上の措置と治療への配慮を決め、両立支援プランを作成します。",
                "フォローアップの面談と見直しを行います。",
            ],
        ),
        Role::LineManager => (
            "部下の両立支援で、就業上の措置と配慮の内容を確認し、職場で実行する役割です。診断名や治療の詳細は表示されません。",
            &[
                "両立支援プランに書かれた就業上の措置（勤務時間・業務内容など）を確認します。",
                "職場での配慮を実行し、本人の様子に気を配ります。",
                "見直しの時期に、職場での状況を人事労務担当者に伝えます。",
            ],
        ),
        Role::OccupationalPhysician => (
            "主治医の意見書をもとに、就業上の措置について事業者に意見を述べる役割です。医療情報は本人の同意の範囲で閲覧できます。",
            &[
                "主治医意見書と勤務情報を確認します。",
                "必要に応じて本人と面談します。",
                "就業上の措置と配慮について、事業者に意見を述べます。",
                "プランの見直しに意見を述べます。",
            ],
        ),
        Role::OccupationalHealthStaff => (
            "産業医や人事労務担当者と連携して、本人の健康管理と職場での配慮を支える役割です。",
            &[
                "本人の相談に応じます。",
                "主治医意見書の内容を、必要な範囲に加工して関係者に伝えます。",
                "フォローアップの面談を行います。",
            ],
        ),
        Role::AttendingPhysician => (
            "患者の勤務情報をもとに、就業継続や職場復帰の可否、必要な配慮について意見書を作成する役割です。",
            &[
                "患者から勤務情報提供書を受け取ります。",
                "治療の状況と見通しを踏まえて、就業上の措置と配慮について意見書を作成します。",
                "意見書は患者を通じて事業者に渡ります。",
            ],
        ),
        Role::HospitalCoordinator => (
            "患者の治療と仕事の両立について相談に応じ、患者・主治医・会社の間の情報共有を支援します。本人に代わって会社と交渉することはありません。",
            &[
                "患者の仕事や生活の状況を聞き取ります。",
                "勤務情報提供書の作成や意見書の受け渡しを支援します。",
                "相談の内容を記録します（本人の同意の範囲で共有されます）。",
            ],
        ),
        Role::AgencyCoordinator => (
            "支援機関の立場から、労働者・事業者・医療機関の両立支援を支援します。本人に代わって会社と交渉することはありません。",
            &[
                "労働者や事業者からの相談に応じます。",
                "事業場を訪問し、制度づくりや個別の調整を支援します。",
                "支援の記録を残します。",
            ],
        ),
        Role::BureauStaff => (
            "地域両立支援推進チームの事務局として、地域の両立支援の取組を進める役割です。個人を特定できる情報は扱いません。",
            &[
                "地域の関係機関と連携して、両立支援の取組を計画します。",
                "地域の支援状況を統計で確認します。",
            ],
        ),
        Role::OrgAdmin => (
            "組織のメンバーを招待し、役割を管理します。組織管理者であっても、それだけで健康情報を見ることはできません。",
            &[],
        ),
        Role::SystemOperator => (
            "Ryoritsu全体の運用者として、組織の登録と監査ログの確認を行います。",
            &[],
        ),
    }
}
