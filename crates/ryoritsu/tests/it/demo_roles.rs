//! Every demo role signs in and sees its own home page in Japanese.

use crate::harness::{DEMO_PASSWORD, TestServer, has_japanese};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_demo_role_sees_its_home_page_in_japanese() {
    let s = TestServer::demo().await;
    let cases = [
        ("worker", "労働者（本人）", "勤務情報提供書"),
        ("jinji", "人事労務担当者", "申出を受け付けます"),
        ("manager", "管理監督者（所属長）", "就業上の措置"),
        ("sangyoi", "産業医", "意見を述べます"),
        ("eisei", "産業保健スタッフ（衛生管理者）", "相談に応じます"),
        ("doctor", "主治医", "意見書を作成"),
        (
            "msw",
            "医療機関の両立支援コーディネーター",
            "本人に代わって会社と交渉することはありません",
        ),
        ("promoter", "両立支援促進員", "支援機関"),
        ("bureau", "労働局職員", "地域両立支援推進チーム"),
        ("admin", "組織管理者", "メンバーの招待と管理"),
        ("operator", "システム運用者", "組織の一覧と登録"),
    ];
    for (login, role, text) in cases {
        let mut c = s.client();
        let r = c.page_sign_in(login, DEMO_PASSWORD).await;
        assert_eq!(r.status, 303, "{login}: {}", r.body);
        assert_eq!(
            r.header("location"),
            Some("/"),
            "{login} goes straight home in demo mode"
        );
        let home = c.get("/").await;
        assert_eq!(home.status, 200, "{login}");
        assert!(
            home.body.contains(role),
            "{login}: role label {role} missing"
        );
        assert!(home.body.contains(text), "{login}: {text} missing");
        assert!(
            home.body.contains("これはデモ環境です"),
            "{login}: every page says it is a demo"
        );
        assert!(has_japanese(&home.body));
        assert!(home.body.contains("lang=\"ja\""));
        assert!(home.body.contains("name=\"viewport\""), "usable on a phone");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_sign_in_page_lists_the_accounts_and_says_it_is_a_demo() {
    let s = TestServer::demo().await;
    let mut c = s.client();
    let page = c.get("/login").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("これはデモ環境です"));
    assert!(page.body.contains("デモ用のアカウント"));
    assert!(page.body.contains(DEMO_PASSWORD));
    for login in [
        "worker", "jinji", "sangyoi", "doctor", "msw", "promoter", "bureau", "operator",
    ] {
        assert!(page.body.contains(&format!(">{login}<")), "{login} listed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_normal_server_shows_no_demo_notice() {
    let s = TestServer::start().await;
    let page = s.client().get("/login").await;
    assert!(!page.body.contains("デモ環境"));
    assert!(!page.body.contains(DEMO_PASSWORD));
}
