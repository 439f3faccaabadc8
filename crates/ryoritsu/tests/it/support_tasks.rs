//! Coordinators' own tasks on a case (支援タスク), through the API and the pages in the demo
//! world: a support agency's coordinator the worker adds keeps tasks once the worker consents
//! to consultation notes; HR, the worker and other coordinators cannot add or close them;
//! stale and missing `If-Match`; the home page's list; the audit chain; nothing for another
//! employer's HR.

use serde_json::{Value, json};

use crate::harness::{Client, DEMO_PASSWORD, Resp, TestServer};
use ryoritsu_domain::audit::{AuditAction, ChainVerifier};
use ryoritsu_domain::info::InformationCategory;

const TITLE: &str = "次回面談の日程を本人と調整する";

async fn signed_in(s: &TestServer, login: &str) -> Client {
    let mut c = s.client();
    let r = c.api_sign_in(login, DEMO_PASSWORD).await;
    assert_eq!(r.status, 200, "{login}: {}", r.body);
    c
}

/// Signs in through the pages, keeping the token for the forms.
async fn person(s: &TestServer, login: &str) -> Client {
    let mut c = s.client();
    let r = c.page_sign_in(login, DEMO_PASSWORD).await;
    assert_eq!(r.status, 303, "{login}: {}", r.body);
    c
}

async fn me(c: &mut Client) -> (String, String) {
    let me = c.get("/api/v1/me").await.json();
    (
        me["id"].as_str().unwrap().to_owned(),
        me["memberships"][0]["organisation_id"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

/// 田中さん's demo case (the 就業継続 one).
async fn demo_case(worker: &mut Client) -> String {
    let cases = worker.get("/api/v1/cases").await.json()["items"].clone();
    cases
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == "continuation")
        .expect("the demo case")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn add(c: &mut Client, case: &str, body: Value) -> Resp {
    c.api(
        "POST",
        &format!("/api/v1/cases/{case}/support-tasks"),
        Some(body),
        &[],
    )
    .await
}

async fn done(c: &mut Client, id: &str, if_match: Option<&str>) -> Resp {
    let headers: Vec<(&str, &str)> = if_match.map(|v| ("if-match", v)).into_iter().collect();
    c.api(
        "POST",
        &format!("/api/v1/support-tasks/{id}/done"),
        None,
        &headers,
    )
    .await
}

fn location(r: &Resp) -> String {
    assert_eq!(r.status, 303, "{}", r.body);
    r.header("location").unwrap().to_owned()
}

/// The worker adds the demo support agency's coordinator (by the login name they were
/// given) to their case; with `consent`, also lets them keep consultation notes (the
/// consent's id).
async fn add_promoter(
    worker: &mut Client,
    promoter: &mut Client,
    case: &str,
    consent: bool,
) -> Option<String> {
    let (promoter_id, center) = me(promoter).await;
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/parties"),
            Some(json!({"kind": "coordinator", "organisation_id": center, "user_id": promoter_id})),
            &[],
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    if consent {
        let r = worker
            .api(
                "POST",
                &format!("/api/v1/cases/{case}/consents"),
                Some(json!({
                    "organisation_id": center, "role": "agency_coordinator", "person_id": promoter_id,
                    "categories": ["consultation_notes"], "purpose": "両立支援の相談と調整のため"
                })),
                &[],
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        return Some(r.json()["id"].as_str().unwrap().to_owned());
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agency_coordinator_keeps_tasks_once_the_worker_consents() {
    let s = TestServer::demo().await;
    let mut worker = signed_in(&s, "worker").await;
    let mut promoter = signed_in(&s, "promoter").await;
    let mut hr = signed_in(&s, "jinji").await;
    let mut msw = signed_in(&s, "msw").await;
    let case = demo_case(&mut worker).await;
    let list = format!("/api/v1/cases/{case}/support-tasks");
    let task = json!({"title": TITLE, "due": "2026-05-10", "note": "本人の希望は平日の午後。\n主治医の外来日を避ける。"});

    // Not on the case yet: it does not exist for them.
    assert_eq!(add(&mut promoter, &case, task.clone()).await.status, 404);
    add_promoter(&mut worker, &mut promoter, &case, false).await;
    // On the case, but a task is consultation-record information: it needs the consent.
    let r = add(&mut promoter, &case, task.clone()).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap().contains("同意"));
    assert_eq!(promoter.get(&list).await.status, 403);
    let (promoter_id, center) = me(&mut promoter).await;
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/consents"),
            Some(json!({
                "organisation_id": center, "role": "agency_coordinator", "person_id": promoter_id,
                "categories": ["consultation_notes"], "purpose": "両立支援の相談と調整のため"
            })),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    let r = add(
        &mut promoter,
        &case,
        json!({"title": "  ", "due": "2026-03-31", "note": "a\u{0007}"}),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let fields: Vec<(String, String)> = r.json()["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(fields.len(), 3, "{fields:?}");
    for (field, label) in [
        ("title", "「内容」"),
        ("due", "「期限」"),
        ("note", "「メモ」"),
    ] {
        assert!(
            fields.iter().any(|(f, m)| f == field && m.contains(label)),
            "{field}: {fields:?}"
        );
    }

    let r = add(&mut promoter, &case, task.clone()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let added = r.json();
    let id = added["id"].as_str().unwrap().to_owned();
    assert_eq!(added["title"], TITLE);
    assert_eq!(added["due"], "2026-05-10");
    assert_eq!(added["version"], 1);
    assert_eq!(added["done"], false);
    assert_eq!(added["may_complete"], true);
    assert_eq!(added["created_role"], "agency_coordinator");
    assert_eq!(added["organisation_id"], center.as_str());
    assert_eq!(added["organisation_name"], "東京産業保健総合支援センター");

    // HR neither adds nor reads tasks (consultation records need the worker's consent).
    let r = add(&mut hr, &case, task.clone()).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = hr.get(&list).await;
    assert_eq!(r.status, 403);
    assert!(!r.body.contains(TITLE));
    assert_eq!(done(&mut hr, &id, Some("\"1\"")).await.status, 404);

    // The worker sees the tasks of their case but neither adds nor closes them: a
    // coordinator's task is the coordinator's own work.
    let seen = worker.get(&list).await;
    assert_eq!(seen.status, 200);
    let seen = seen.json();
    assert_eq!(seen[0]["title"], TITLE);
    assert_eq!(seen[0]["may_complete"], false);
    assert_eq!(add(&mut worker, &case, task.clone()).await.status, 403);
    assert_eq!(done(&mut worker, &id, Some("\"1\"")).await.status, 403);

    // The hospital's MSW, whom the worker also lets read the notes, sees it; it is not hers
    // to close.
    let seen = msw.get(&list).await.json();
    assert_eq!(seen[0]["id"], id.as_str());
    assert_eq!(seen[0]["may_complete"], false);
    let r = done(&mut msw, &id, Some("\"1\"")).await;
    assert_eq!(r.status, 403, "{}", r.body);

    // The coordinator's home page lists it with its due date, and marks it once overdue.
    let home = promoter.get("/").await;
    assert!(
        home.body.contains("支援タスク（コーディネーター）"),
        "{}",
        home.body
    );
    assert!(home.body.contains("令和8年5月10日（2026年）"));
    assert!(
        home.body
            .contains(&format!("/cases/{case}#support-task-{id}"))
    );
    assert!(!home.body.contains("期限超過"));
    s.clock.advance(time::Duration::days(45));
    // Sessions end while idle: everyone signs in again.
    let mut promoter = signed_in(&s, "promoter").await;
    let mut worker = signed_in(&s, "worker").await;
    let mut msw = signed_in(&s, "msw").await;
    let home = promoter.get("/").await;
    assert!(home.body.contains("期限超過"), "{}", home.body);
    assert!(
        !msw.get("/")
            .await
            .body
            .contains(&format!("support-task-{id}")),
        "not another organisation's task"
    );

    // Marking done needs the version last seen.
    let r = done(&mut promoter, &id, None).await;
    assert_eq!(r.status, 428, "{}", r.body);
    let r = done(&mut promoter, &id, Some("\"7\"")).await;
    assert_eq!(r.status, 412, "{}", r.body);
    assert_eq!(r.json()["code"], "precondition_failed");
    let r = done(&mut promoter, &id, Some("\"1\"")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("etag"), Some("\"2\""));
    assert_eq!(r.json()["done"], true);
    assert_eq!(r.json()["done_by"], promoter_id.as_str());
    assert_eq!(done(&mut promoter, &id, Some("\"1\"")).await.status, 412);
    let again = done(&mut promoter, &id, Some("\"2\"")).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(again.json()["code"], "support_task_done");
    assert!(
        !promoter
            .get("/")
            .await
            .body
            .contains(&format!("support-task-{id}")),
        "done tasks leave the home page"
    );
    assert_eq!(worker.get(&list).await.json()[0]["done"], true);

    // The worker's access log and 開示 show the task; the audit chain holds both changes.
    let log = worker.get("/api/v1/me/access-log?limit=500").await.json()["items"].clone();
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "support_task_changed"),
        "{log}"
    );
    let export = worker.get("/api/v1/me/export").await.json();
    let tasks: Vec<&Value> = export["cases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["support_tasks"].as_array().unwrap())
        .collect();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["title"], TITLE);
    let records = crate::harness::audit_records(&s.db.url).await;
    let mut v = ChainVerifier::default();
    for r in &records {
        v.feed(r).unwrap();
    }
    v.finish(None).unwrap();
    let target = format!("support_task:{id}");
    let changes: Vec<_> = records
        .iter()
        .filter(|r| r.event.target.as_deref() == Some(target.as_str()))
        .collect();
    assert_eq!(changes.len(), 2, "added and done");
    for r in &changes {
        assert_eq!(r.event.action, AuditAction::SupportTaskChanged);
        assert_eq!(r.event.case_id.map(|c| c.to_string()), Some(case.clone()));
        assert_eq!(
            r.event.category,
            Some(InformationCategory::ConsultationNotes)
        );
    }
    assert_eq!(changes[0].event.purpose.as_deref(), Some("added"));
    assert_eq!(changes[1].event.purpose.as_deref(), Some("done"));
    assert!(
        records.iter().any(|r| r.event.action == AuditAction::Read
            && r.event.purpose.as_deref() == Some("support_tasks")),
        "reads of tasks are recorded"
    );
    // A refused attempt is recorded as such, and nothing was added for it.
    assert!(
        records
            .iter()
            .any(|r| r.event.action == AuditAction::AccessDenied)
    );
    assert_eq!(
        records
            .iter()
            .filter(|r| r.event.action == AuditAction::SupportTaskChanged)
            .count(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consent_withdrawn_the_coordinator_no_longer_sees_or_closes_tasks() {
    let s = TestServer::demo().await;
    let mut worker = signed_in(&s, "worker").await;
    let mut promoter = signed_in(&s, "promoter").await;
    let case = demo_case(&mut worker).await;
    let consent = add_promoter(&mut worker, &mut promoter, &case, true)
        .await
        .unwrap();
    let r = add(
        &mut promoter,
        &case,
        json!({"title": "産業保健総合支援センターの相談日を案内する", "due": "2026-04-15"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/consents/{consent}/withdraw"),
            None,
            &[],
        )
        .await;
    assert!(
        r.status == 200 || r.status == 204,
        "{} {}",
        r.status,
        r.body
    );
    assert_eq!(
        promoter
            .get(&format!("/api/v1/cases/{case}/support-tasks"))
            .await
            .status,
        403
    );
    assert_eq!(done(&mut promoter, &id, Some("\"1\"")).await.status, 404);
    assert!(
        !promoter
            .get("/")
            .await
            .body
            .contains(&format!("support-task-{id}")),
        "no longer on the home page"
    );
    assert_eq!(
        worker
            .get(&format!("/api/v1/cases/{case}/support-tasks"))
            .await
            .json()[0]["id"],
        id.as_str(),
        "the worker still sees what was kept about them"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hospital_coordinator_keeps_tasks_through_the_case_page() {
    let s = TestServer::demo().await;
    // In the demo the MSW takes part as a coordinator, and 田中さん lets her keep notes.
    let mut msw = person(&s, "msw").await;
    let mut worker = person(&s, "worker").await;
    let mut hr = person(&s, "jinji").await;
    let mut api_worker = signed_in(&s, "worker").await;
    let case = demo_case(&mut api_worker).await;
    let page = msw.get(&format!("/cases/{case}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("支援タスク（コーディネーター）"));
    assert!(page.body.contains("支援タスクはまだありません。"));
    assert!(
        page.body
            .contains(&format!("action=\"/cases/{case}/support-tasks\""))
    );
    let token = page.csrf_field();
    let action = format!("/cases/{case}/support-tasks");

    let refused = msw
        .post_form(
            &action,
            &[
                ("csrf_token", &token),
                ("title", TITLE),
                ("due", "2026-03-01"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("「期限」には今日以降の日付を入力してください。")
    );
    assert!(refused.body.contains(TITLE), "input kept");
    let r = msw
        .post_form(
            &action,
            &[
                ("csrf_token", &token),
                ("title", TITLE),
                ("due", "2026-04-20"),
                ("note", "外来の日（火曜）を避ける"),
            ],
        )
        .await;
    let to = location(&r);
    assert!(
        to.starts_with(&format!("/cases/{case}?done=support_task#support-task-")),
        "{to}"
    );
    let id = to.rsplit("support-task-").next().unwrap().to_owned();
    let page = msw.get(&to).await;
    assert!(page.body.contains("支援タスクを追加しました。"));
    assert!(page.body.contains(TITLE));
    assert!(page.body.contains("外来の日（火曜）を避ける"));
    assert!(page.body.contains("令和8年4月20日（2026年）"));
    assert!(page.body.contains("渡辺 由美（都立さくら総合病院）"));
    assert!(
        page.body
            .contains(&format!("action=\"/support-tasks/{id}/done\""))
    );
    assert!(
        msw.get("/")
            .await
            .body
            .contains(&format!("support-task-{id}"))
    );

    // The worker reads it on their case page, without the coordinator's buttons.
    let theirs = worker.get(&format!("/cases/{case}")).await;
    assert!(theirs.body.contains(TITLE));
    assert!(!theirs.body.contains(&format!("/support-tasks/{id}/done")));
    assert!(
        !theirs
            .body
            .contains(&format!("action=\"/cases/{case}/support-tasks\""))
    );
    // HR, without the worker's consent to notes, does not get the section at all.
    let hr_page = hr.get(&format!("/cases/{case}")).await;
    assert_eq!(hr_page.status, 200);
    assert!(!hr_page.body.contains("支援タスク（コーディネーター）"));
    assert!(!hr_page.body.contains(TITLE));
    let hr_token = hr_page.csrf_field();
    let r = hr
        .post_form(
            &action,
            &[
                ("csrf_token", &hr_token),
                ("title", "x"),
                ("due", "2026-05-01"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);

    // A stale form shows the case again with the reason; the current one closes the task.
    let done_action = format!("/support-tasks/{id}/done");
    let stale = msw
        .post_form(
            &done_action,
            &[("csrf_token", &token), ("case", &case), ("version", "9")],
        )
        .await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert!(
        stale
            .body
            .contains("ほかの方が先にこの支援タスクを更新しました。")
    );
    let r = msw
        .post_form(
            &done_action,
            &[("csrf_token", &token), ("case", &case), ("version", "1")],
        )
        .await;
    let to = location(&r);
    assert!(to.contains("done=support_task_done"), "{to}");
    let page = msw.get(&to).await;
    assert!(page.body.contains("支援タスクを完了にしました。"));
    assert!(!page.body.contains(&format!("action=\"{done_action}\"")));
    assert!(
        !msw.get("/")
            .await
            .body
            .contains(&format!("support-task-{id}"))
    );
    let again = msw
        .post_form(
            &done_action,
            &[("csrf_token", &token), ("case", &case), ("version", "2")],
        )
        .await;
    assert_eq!(again.status, 409);
    assert!(again.body.contains("すでに完了"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_employers_hr_finds_nothing() {
    let s = TestServer::start_with(true, |c| {
        c.demo = true;
        // The new HR account has no authenticator in this test.
        c.require_second_factor = false;
    })
    .await;
    let mut worker = signed_in(&s, "worker").await;
    let mut msw = signed_in(&s, "msw").await;
    let case = demo_case(&mut worker).await;
    let r = add(
        &mut msw,
        &case,
        json!({"title": TITLE, "due": "2026-05-10"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_owned();

    let mut other = s
        .newcomer(
            ("employer", "株式会社あおば物産"),
            "hr_officer",
            ("aoba.jinji", "青葉 人事", "aoba-jinji-2026-password"),
        )
        .await;
    let r = other
        .get(&format!("/api/v1/cases/{case}/support-tasks"))
        .await;
    assert_eq!(r.status, 404);
    assert!(!r.body.contains(TITLE));
    let r = add(
        &mut other,
        &case,
        json!({"title": "x", "due": "2026-05-10"}),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = done(&mut other, &id, Some("\"1\"")).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = done(&mut msw, &id, Some("\"1\"")).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

struct Export;

impl ryoritsu::server::WithStore for Export {
    type Output = serde_json::Value;
    async fn run<S: ryoritsu_app::ports::Store + ryoritsu_app::conformance::Tamper>(
        self,
        store: S,
    ) -> Result<serde_json::Value, String> {
        let app = ryoritsu_app::App::new(
            store,
            ryoritsu_app::conformance::test_config(),
            std::sync::Arc::new(ryoritsu_app::SystemClock),
            std::sync::Arc::new(ryoritsu_app::RandomIds),
        )
        .map_err(|e| e.to_string())?;
        Ok(app
            .export_dataset()
            .await
            .map_err(|e| e.to_string())?
            .canonical())
    }
}

async fn export(url: &str) -> Value {
    ryoritsu::server::with_store(&ryoritsu::config::DatabaseUrl::new(url.to_owned()), Export)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_are_in_the_backup_and_come_back_with_a_restore() {
    let s = TestServer::demo().await;
    let mut worker = signed_in(&s, "worker").await;
    let mut msw = signed_in(&s, "msw").await;
    let case = demo_case(&mut worker).await;
    let open = add(
        &mut msw,
        &case,
        json!({"title": TITLE, "due": "2026-05-10"}),
    )
    .await;
    assert_eq!(open.status, 201, "{}", open.body);
    let closed = add(
        &mut msw,
        &case,
        json!({"title": "会社との面談に同席するか本人に確認する", "due": "2026-04-03", "note": "本人の希望を優先"}),
    )
    .await;
    let closed = closed.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(done(&mut msw, &closed, Some("\"1\"")).await.status, 200);

    let file = s.db.dir.path().join("backup.jsonl");
    let (code, out, err) = crate::harness::cli(
        &s.db.url,
        s.db.dir.path(),
        &["backup", file.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let target = crate::harness::TestDb::new().await;
    let (code, out, err) = crate::harness::cli(
        &target.url,
        target.dir.path(),
        &["restore", file.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let a = export(&s.db.url).await;
    let b = export(&target.url).await;
    let tasks = a["support_tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2, "{a}");
    assert!(tasks.iter().any(|t| t["task"]["id"] == closed.as_str()
        && t["version"] == 2
        && t["task"]["done_at"].is_string()));
    assert_eq!(a["support_tasks"], b["support_tasks"]);
    assert_eq!(a, b, "identical canonical export");
}
