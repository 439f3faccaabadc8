//! The 休業→復職 and 両立支援カード paths end to end through the pages in the demo world,
//! adding coordinators and naming the 所属長 from the case page, and the employer's
//! 健康情報等取扱規程 page.

use serde_json::json;

use crate::cases_pages::{check_page, input_value, location, page, person};
use crate::harness::{Client, Resp, TestServer, has_japanese};

/// A form post of owned pairs.
async fn post_pairs(c: &mut Client, path: &str, fields: &[(String, String)]) -> Resp {
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    c.post_form(path, &pairs).await
}

/// Whether the page offers a step form for `step`.
fn offers(body: &str, step: &str) -> bool {
    body.contains(&format!("name=\"step\" value=\"{step}\""))
}

/// Takes a step through the case page's step form; the response of the post.
async fn step(c: &mut Client, case: &str, fields: &[(&str, &str)]) -> Resp {
    let p = page(c, &format!("/cases/{case}")).await;
    let token = p.csrf_field();
    let version = input_value(&p.body, "version");
    let mut all = vec![
        ("csrf_token", token.as_str()),
        ("version", version.as_str()),
    ];
    all.extend_from_slice(fields);
    c.post_form(&format!("/cases/{case}/steps"), &all).await
}

/// Takes a step the page offers and returns the case page that follows.
async fn step_ok(c: &mut Client, case: &str, fields: &[(&str, &str)]) -> Resp {
    let before = page(c, &format!("/cases/{case}")).await;
    let kind = fields.iter().find(|(k, _)| *k == "step").unwrap().1;
    assert!(offers(&before.body, kind), "{kind} is not offered");
    let r = step(c, case, fields).await;
    assert_eq!(location(&r), format!("/cases/{case}?done=step"), "{kind}");
    let after = page(c, &location(&r)).await;
    assert!(after.body.contains("手続きを記録しました"));
    after
}

/// The worker files a 申出 on the list page; the new case's id.
async fn file_case(worker: &mut Client, path: &str) -> String {
    let list = page(worker, "/cases").await;
    let r = worker
        .post_form(
            "/cases",
            &[
                ("csrf_token", &list.csrf_field()),
                ("employer", &input_value(&list.body, "employer")),
                ("path", path),
            ],
        )
        .await;
    location(&r)
        .trim_start_matches("/cases/")
        .split('?')
        .next()
        .unwrap()
        .to_owned()
}

/// The worker issues a share code on the case page and the doctor enters it on theirs.
async fn attach_hospital(worker: &mut Client, doctor: &mut Client, case: &str) {
    let w = page(worker, &format!("/cases/{case}")).await;
    let issued = worker
        .post_form(
            &format!("/cases/{case}/share-code"),
            &[("csrf_token", &w.csrf_field())],
        )
        .await;
    assert_eq!(issued.status, 200, "{}", issued.body);
    let marker = "id=\"share-code\">";
    let i = issued.body.find(marker).unwrap() + marker.len();
    let code = issued.body[i..].split('<').next().unwrap().to_owned();
    let entry = page(doctor, "/share").await;
    let r = doctor
        .post_form(
            "/share",
            &[("csrf_token", &entry.csrf_field()), ("code", &code)],
        )
        .await;
    assert_eq!(location(&r), format!("/cases/{case}?done=shared"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leave_and_return_path_runs_through_the_pages_to_a_return() {
    let s = TestServer::demo().await;
    let mut worker = person(&s, "worker2").await;
    let mut hr = person(&s, "jinji").await;
    let mut doctor = person(&s, "doctor").await;
    let mut sangyoi = person(&s, "sangyoi").await;
    let case = file_case(&mut worker, "leave_and_return").await;
    let url = format!("/cases/{case}");
    let filed = page(&mut worker, &url).await;
    assert!(filed.body.contains("休業・復職の支援"), "{}", filed.body);
    attach_hospital(&mut worker, &mut doctor, &case).await;

    // The employer starts the leave; the worker's page does not offer it.
    assert!(!offers(&page(&mut worker, &url).await.body, "start_leave"));
    let home = page(&mut hr, "/").await;
    assert!(home.body.contains("休業開始の手続"), "HR's task");
    let missing = step(&mut hr, &case, &[("step", "start_leave")]).await;
    assert_eq!(missing.status, 422, "{}", missing.body);
    assert!(
        missing
            .body
            .contains("休業終了の見込み日を入力してください")
    );
    check_page("start_leave without a date", &missing);
    let p = step_ok(
        &mut hr,
        &case,
        &[("step", "start_leave"), ("expected_end", "2026-06-30")],
    )
    .await;
    assert!(p.body.contains("休業中"));
    assert!(
        p.body.contains("令和8年6月30日（2026年）"),
        "the expected end"
    );
    let p = step_ok(
        &mut hr,
        &case,
        &[
            ("step", "record_leave_contact"),
            ("next_contact_on", "2026-05-01"),
        ],
    )
    .await;
    assert!(p.body.contains("休業中"));

    // The physician: not yet (the leave goes on), then fit to return.
    assert!(!offers(&p.body, "record_return_opinion"), "HR never does");
    let p = step_ok(
        &mut doctor,
        &case,
        &[
            ("step", "record_return_opinion"),
            ("fitness", "not_yet"),
            ("leave_until", "2026-07-31"),
        ],
    )
    .await;
    assert!(p.body.contains("休業中"));
    let p = step_ok(
        &mut doctor,
        &case,
        &[("step", "record_return_opinion"), ("fitness", "fit")],
    )
    .await;
    assert!(p.body.contains("復職判定待ち"));
    let p = step_ok(
        &mut sangyoi,
        &case,
        &[("step", "record_occupational_physician_opinion")],
    )
    .await;
    assert!(p.body.contains("プラン作成中"));

    // The 職場復帰支援プラン needs its 職場復帰日.
    let hr_page = page(&mut hr, &url).await;
    assert!(hr_page.body.contains("name=\"return_on\""));
    let no_date = step(
        &mut hr,
        &case,
        &[
            ("step", "draft_plan"),
            ("follow_up_on", "2026-08-15"),
            ("review_on", "2026-09-01"),
        ],
    )
    .await;
    assert_eq!(no_date.status, 422, "{}", no_date.body);
    assert!(
        no_date
            .body
            .contains("職場復帰支援プランには職場復帰日を入力してください")
    );
    let p = step_ok(
        &mut hr,
        &case,
        &[
            ("step", "draft_plan"),
            ("return_on", "2026-08-01"),
            ("follow_up_on", "2026-08-15"),
            ("review_on", "2026-09-01"),
        ],
    )
    .await;
    assert!(p.body.contains("本人のプラン確認待ち"));
    assert!(!offers(&p.body, "confirm_plan"), "only the worker confirms");
    let w = step_ok(&mut worker, &case, &[("step", "confirm_plan")]).await;
    assert!(w.body.contains("支援中（プラン実施中）"));
    assert!(w.body.contains("職場復帰日"));
    assert!(w.body.contains("令和8年8月1日（2026年）"));

    // HR closes the case with its outcome; nothing can be done on it any more.
    let closed = step_ok(
        &mut hr,
        &case,
        &[("step", "close"), ("outcome", "returned")],
    )
    .await;
    assert!(closed.body.contains("終了理由"));
    assert!(closed.body.contains("復職"));
    assert!(closed.body.contains("この事例は終了しています。"));
    assert!(!closed.body.contains("name=\"step\""), "no step forms");
    let w = page(&mut worker, &url).await;
    assert!(w.body.contains("終了"));
    assert!(!w.body.contains("name=\"step\""));
    assert!(!w.body.contains("共有コードを発行する"));
    assert!(!w.body.contains("name=\"coordinator_login\""));
    // The history names who did what, with their role.
    for who in [
        "佐藤 美咲",
        "山田 花子",
        "人事労務担当者",
        "伊藤 健一",
        "主治医",
        "高橋 誠",
        "産業医",
    ] {
        assert!(w.body.contains(who), "history without {who}");
    }
    // A form kept from before the closure is refused with the reason.
    let version = hr.get(&format!("/api/v1/cases/{case}")).await.json()["version"].to_string();
    let late = hr
        .post_form(
            &format!("/cases/{case}/steps"),
            &[
                ("csrf_token", &closed.csrf_field()),
                ("version", &version),
                ("step", "revise_plan"),
            ],
        )
        .await;
    assert_eq!(late.status, 422, "{}", late.body);
    assert!(late.body.contains("終了"), "{}", late.body);
    check_page("step on a closed case", &late);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_support_card_path_runs_through_the_pages_to_continued_work() {
    let s = TestServer::demo().await;
    let mut worker = person(&s, "worker").await;
    let mut hr = person(&s, "jinji").await;
    let mut doctor = person(&s, "doctor").await;
    let mut sangyoi = person(&s, "sangyoi").await;
    let case = file_case(&mut worker, "support_card").await;
    let url = format!("/cases/{case}");
    attach_hospital(&mut worker, &mut doctor, &case).await;

    // The 本人記載欄 is the worker's: offered to them, refused to HR.
    let w = page(&mut worker, &url).await;
    assert!(offers(&w.body, "card_worker_section"));
    assert!(
        w.body
            .contains(&format!("/cases/{case}/documents/new?form=support_card"))
    );
    let h = page(&mut hr, &url).await;
    assert!(!offers(&h.body, "card_worker_section"));
    let r = step(&mut hr, &case, &[("step", "card_worker_section")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    check_page("card_worker_section by HR", &r);
    let p = step_ok(&mut worker, &case, &[("step", "card_worker_section")]).await;
    assert!(p.body.contains("両立支援カードの医師記載待ち"));
    let p = step_ok(
        &mut doctor,
        &case,
        &[
            ("step", "card_physician_section"),
            ("fitness", "fit_with_conditions"),
        ],
    )
    .await;
    assert!(p.body.contains("両立支援カードの事業者への提出待ち"));
    let p = step_ok(&mut worker, &case, &[("step", "card_handed_to_employer")]).await;
    assert!(p.body.contains("産業医の意見待ち"));
    assert!(
        p.body.contains("条件付きで可"),
        "the worker sees the physician's answer"
    );
    let h = page(&mut hr, &url).await;
    assert!(
        !h.body.contains("条件付きで可"),
        "HR does not without the worker's consent"
    );
    let p = step_ok(
        &mut sangyoi,
        &case,
        &[("step", "record_occupational_physician_opinion")],
    )
    .await;
    assert!(p.body.contains("プラン作成中"));
    let h = page(&mut hr, &url).await;
    assert!(
        !h.body.contains("name=\"return_on\""),
        "no 職場復帰日 while working"
    );
    let p = step_ok(
        &mut hr,
        &case,
        &[
            ("step", "draft_plan"),
            ("follow_up_on", "2026-05-15"),
            ("review_on", "2026-07-01"),
        ],
    )
    .await;
    assert!(p.body.contains("本人のプラン確認待ち"));
    let p = step_ok(&mut worker, &case, &[("step", "confirm_plan")]).await;
    assert!(p.body.contains("支援中（プラン実施中）"));
    assert!(p.body.contains("第1版"));
    let p = step_ok(
        &mut hr,
        &case,
        &[
            ("step", "record_follow_up"),
            ("next_follow_up_on", "2026-06-15"),
        ],
    )
    .await;
    assert!(p.body.contains("支援中（プラン実施中）"));
    let done = step_ok(
        &mut hr,
        &case,
        &[("step", "close"), ("outcome", "continuing")],
    )
    .await;
    assert!(done.body.contains("終了理由"));
    assert!(done.body.contains("就業継続"));
    assert!(!done.body.contains("name=\"step\""));
    let w = page(&mut worker, &url).await;
    assert!(w.body.contains("就業継続"));
    assert!(
        w.body.contains("田中 太郎"),
        "the worker's own steps by name"
    );
}

/// Whether a list on the page offers this person as a radio choice.
fn choice_for(body: &str, name: &str) -> Option<String> {
    let i = body.find(&format!("> {name}（"))?;
    let start = body[..i].rfind("value=\"")? + "value=\"".len();
    Some(body[start..].split('"').next()?.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_added_by_the_worker_helps_but_never_confirms_for_the_worker() {
    let s = TestServer::demo().await;
    let mut worker = person(&s, "worker").await;
    let mut hr = person(&s, "jinji").await;
    let mut doctor = person(&s, "doctor").await;
    let mut promoter = person(&s, "promoter").await;
    let mut manager = person(&s, "manager").await;
    let case = file_case(&mut worker, "continuation").await;
    let url = format!("/cases/{case}");

    // The worker's page explains what a coordinator does and does not, and offers only
    // people of the organisations the case involves.
    let w = page(&mut worker, &url).await;
    for text in [
        "両立支援コーディネーターを加える",
        "あなたに代わって書類を確認したり、署名したり、同意したりすることはできません。",
        "あなたが「同意の管理」で同意した情報だけです。",
        "名前の一覧は表示していません",
    ] {
        assert!(w.body.contains(text), "missing {text}");
    }
    assert!(w.body.contains("name=\"coordinator_login\""));
    assert!(
        choice_for(&w.body, "中村 恵").is_some(),
        "the company's health staff"
    );
    assert!(choice_for(&w.body, "鈴木 一郎").is_some(), "the 所属長");
    assert!(
        !w.body.contains("渡辺 由美"),
        "no hospital coordinator before a hospital is attached"
    );
    assert!(
        !w.body.contains("小林 直子"),
        "agency staff are never listed"
    );
    let h = page(&mut hr, &url).await;
    assert!(
        !h.body.contains("name=\"coordinator_login\""),
        "coordinators are the worker's choice"
    );
    assert!(!h.body.contains("両立支援コーディネーターを加える"));
    assert!(
        choice_for(&h.body, "鈴木 一郎").is_some(),
        "HR names the 所属長"
    );

    // Once the hospital is attached, its coordinator is offered.
    attach_hospital(&mut worker, &mut doctor, &case).await;
    let w = page(&mut worker, &url).await;
    let msw = choice_for(&w.body, "渡辺 由美").expect("the hospital's MSW");
    assert!(msw.starts_with("coordinator:"), "{msw}");
    assert!(
        w.body
            .contains("渡辺 由美（都立さくら総合病院・医療機関の両立支援コーディネーター）")
    );

    // The agency's coordinator by the login name they gave the worker.
    let token = w.csrf_field();
    let wrong = worker
        .post_form(
            &format!("/cases/{case}/parties"),
            &[
                ("csrf_token", &token),
                ("form", "coordinator_login"),
                ("coordinator_login", "jinji"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422, "HR is no agency coordinator");
    assert!(
        wrong.body.contains("見つかりませんでした"),
        "{}",
        wrong.body
    );
    check_page("unknown coordinator", &wrong);
    let r = worker
        .post_form(
            &format!("/cases/{case}/parties"),
            &[
                ("csrf_token", &token),
                ("form", "coordinator_login"),
                ("coordinator_login", "promoter"),
            ],
        )
        .await;
    let added = page(&mut worker, &location(&r)).await;
    assert!(added.body.contains("両立支援コーディネーターを加えました"));
    assert!(added.body.contains("小林 直子"), "named in the parties");
    assert!(added.body.contains("東京産業保健総合支援センター"));
    let again = worker
        .post_form(
            &format!("/cases/{case}/parties"),
            &[
                ("csrf_token", &token),
                ("form", "coordinator_login"),
                ("coordinator_login", "promoter"),
            ],
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body.contains("すでにこの事例に加わっています"));
    let by_hr = hr
        .post_form(
            &format!("/cases/{case}/parties"),
            &[
                ("csrf_token", &h.csrf_field()),
                ("form", "coordinator"),
                ("party", &msw),
            ],
        )
        .await;
    assert!(
        by_hr.status == 403 || by_hr.status == 404,
        "HR adds no coordinator: {}",
        by_hr.status
    );
    let empty = worker
        .post_form(
            &format!("/cases/{case}/parties"),
            &[("csrf_token", &token), ("form", "line_manager")],
        )
        .await;
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("加える方を一覧から選んでください"));

    // HR names the 所属長, who then finds the case.
    assert_eq!(manager.get(&url).await.status, 404, "not yet the 所属長");
    let h = page(&mut hr, &url).await;
    let boss = choice_for(&h.body, "鈴木 一郎").unwrap();
    let r = hr
        .post_form(
            &format!("/cases/{case}/parties"),
            &[
                ("csrf_token", &h.csrf_field()),
                ("form", "line_manager"),
                ("party", &boss),
            ],
        )
        .await;
    let named = page(&mut hr, &location(&r)).await;
    assert!(named.body.contains("所属長を指定しました"));
    assert!(named.body.contains("鈴木 一郎"));
    assert!(
        choice_for(&named.body, "鈴木 一郎").is_none(),
        "not offered twice"
    );
    assert!(named.body.contains("所属長は指定済みです"));
    page(&mut manager, &url).await;

    // HR drafts the 勤務情報提供書; the worker is asked to confirm it, the coordinator is not.
    let form = page(
        &mut hr,
        &format!("/cases/{case}/documents/new?form=work_information"),
    )
    .await;
    let r = hr
        .post_form(
            &format!("/cases/{case}/documents"),
            &[
                ("csrf_token", &form.csrf_field()),
                ("form", "work_information"),
                ("form_version", "v2026"),
                ("occupation", "製造ライン作業"),
            ],
        )
        .await;
    let doc = location(&r)
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    step_ok(&mut hr, &case, &[("step", "draft_work_information")]).await;
    let w = page(&mut worker, &url).await;
    assert!(w.body.contains("勤務情報提供書の確認（本人として）"));

    // The worker shares the work information with the coordinator on the consent page.
    let consents = page(&mut worker, &format!("/cases/{case}/consents")).await;
    assert!(
        consents
            .body
            .contains("東京産業保健総合支援センターの支援機関の両立支援コーディネーター")
    );
    let recipient = {
        let label = "東京産業保健総合支援センターの支援機関の両立支援コーディネーター";
        let i = consents.body.find(label).unwrap();
        let start = consents.body[..i].rfind("value=\"").unwrap() + "value=\"".len();
        consents.body[start..].split('"').next().unwrap().to_owned()
    };
    let r = worker
        .post_form(
            &format!("/cases/{case}/consents"),
            &[
                ("csrf_token", &consents.csrf_field()),
                ("recipient", &recipient),
                ("categories", "work_information"),
                ("purpose", "会社との調整の相談のため"),
                ("confirm", "yes"),
            ],
        )
        .await;
    location(&r);

    // The coordinator sees the case and the shared form, and no page lets them confirm or
    // sign for the worker.
    let pc = page(&mut promoter, &url).await;
    assert!(pc.body.contains("小林 直子"));
    assert!(pc.body.contains("勤務情報提供書（"), "shared by consent");
    assert!(!offers(&pc.body, "confirm_work_information"));
    assert!(!pc.body.contains("本人として"));
    assert!(!pc.body.contains("name=\"step\""), "no steps at all");
    for worker_only in [
        "同意の管理",
        "共有コードを発行する",
        "name=\"coordinator_login\"",
        "所属長を指定する",
    ] {
        assert!(
            !pc.body.contains(worker_only),
            "coordinator sees {worker_only}"
        );
    }
    let d = page(&mut promoter, &format!("/cases/{case}/documents/{doc}")).await;
    assert!(d.body.contains("製造ライン作業"));
    assert!(!d.body.contains("/finalise"), "no confirmation form");
    assert!(!d.body.contains("<input type=\"text\""), "read only");
    let token = pc.csrf_field();
    let r = promoter
        .post_form(
            &format!("/cases/{case}/steps"),
            &[
                ("csrf_token", &token),
                ("version", &input_value(&w.body, "version")),
                ("step", "confirm_work_information"),
                ("by", "worker"),
            ],
        )
        .await;
    assert!(r.status == 403 || r.status == 422, "{}", r.status);
    let r = promoter
        .post_form(
            &format!("/cases/{case}/documents/{doc}/finalise"),
            &[
                ("csrf_token", &token),
                ("version", "1"),
                ("worker_confirmation.date", "2026-04-01"),
                ("worker_confirmation.name", "田中 太郎"),
            ],
        )
        .await;
    assert!(r.status == 403 || r.status == 404, "{}", r.status);
    for path in [
        format!("/cases/{case}/consents"),
        format!("/cases/{case}/documents/new?form=work_information"),
    ] {
        let r = promoter.get(&path).await;
        assert_eq!(r.status, 404, "{path}");
    }
    let r = promoter
        .post_form(
            &format!("/cases/{case}/parties"),
            &[
                ("csrf_token", &token),
                ("form", "coordinator_login"),
                ("coordinator_login", "promoter"),
            ],
        )
        .await;
    assert!(r.status == 403 || r.status == 404, "{}", r.status);
    let still = page(&mut worker, &url).await;
    assert!(
        still.body.contains("本人・会社の確認待ち")
            || still.body.contains("勤務情報提供書の作成中")
    );
    assert!(still.body.contains("勤務情報提供書の確認（本人として）"));

    // The history names the person who took each step.
    assert!(still.body.contains("山田 花子"));
    assert!(still.body.contains("人事労務担当者"));

    // Guessing login names is throttled: a Japanese message next to the field, and 429.
    let token = still.csrf_field();
    let mut last = 0;
    for i in 0..12 {
        let r = worker
            .post_form(
                &format!("/cases/{case}/parties"),
                &[
                    ("csrf_token", &token),
                    ("form", "coordinator_login"),
                    ("coordinator_login", &format!("guess{i}")),
                ],
            )
            .await;
        last = r.status;
        if r.status == 429 {
            assert!(r.body.contains("試行回数が多すぎます"), "{}", r.body);
            assert!(r.header("retry-after").is_some());
            check_page("throttled coordinator look-up", &r);
            break;
        }
        assert_eq!(r.status, 422, "{}", r.body);
    }
    assert_eq!(last, 429, "wrong login names are throttled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_employer_sets_its_handling_rules_on_a_page_and_hr_only_reads_them() {
    let s = TestServer::demo().await;
    let mut admin = person(&s, "admin").await;
    let mut hr = person(&s, "jinji").await;
    let mut worker = person(&s, "worker").await;
    let mut doctor = person(&s, "doctor").await;
    let employer = admin.get("/api/v1/me").await.json()["memberships"][0]["organisation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = format!("/organisations/{employer}/handling-rules");

    // The admin finds the settings from the home page; the safe defaults are shown.
    let home = page(&mut admin, "/").await;
    assert!(home.body.contains(&format!("href=\"{url}\"")));
    assert!(home.body.contains("健康情報等取扱規程の設定"));
    let p = page(&mut admin, &url).await;
    assert!(p.body.contains("初期設定のまま使われています"));
    assert!(p.body.contains("見られない"));
    assert!(p.body.contains("本人の同意があれば見られる"));
    assert!(p.body.contains("常に見られる"));
    assert!(
        p.body
            .contains("どの設定でも本人の同意がなければ見られません")
    );
    let selected = |body: &str, field: &str| -> String {
        let i = body
            .find(&format!("name=\"{field}\""))
            .unwrap_or_else(|| panic!("no {field}"));
        let end = i + body[i..].find("</select>").unwrap();
        let sel = body[i..end].find(" selected").expect("one option selected") + i;
        let start = body[..sel].rfind("value=\"").unwrap() + "value=\"".len();
        body[start..].split('"').next().unwrap().to_owned()
    };
    assert_eq!(
        selected(&p.body, "grants.hr_officer.medical"),
        "with_consent"
    );
    assert_eq!(
        selected(&p.body, "grants.hr_officer.work_measures"),
        "always"
    );
    assert_eq!(
        selected(&p.body, "grants.line_manager.work_information"),
        "with_consent"
    );

    // Every cell as shown, with one change, and the sender's token.
    let form = |body: &str, token: &str, change: (&str, &str)| -> Vec<(String, String)> {
        let mut out = vec![
            ("csrf_token".to_owned(), token.to_owned()),
            ("version".to_owned(), input_value(body, "version")),
        ];
        for role in [
            "hr_officer",
            "line_manager",
            "occupational_physician",
            "occupational_health_staff",
        ] {
            for cat in [
                "work_information",
                "medical",
                "work_measures",
                "consultation_notes",
            ] {
                let field = format!("grants.{role}.{cat}");
                let v = if field == change.0 {
                    change.1.to_owned()
                } else {
                    selected(body, &field)
                };
                out.push((field, v));
            }
        }
        out
    };

    // Widening is refused with the use case's message next to the field.
    let wide = post_pairs(
        &mut admin,
        &url,
        &form(
            &p.body,
            &p.csrf_field(),
            ("grants.hr_officer.medical", "always"),
        ),
    )
    .await;
    assert_eq!(wide.status, 422, "{}", wide.body);
    check_page("refused rules", &wide);
    let message = "「人事労務担当者」が「診断名・症状・治療の状況」を取り扱えるのは「本人の同意がある場合のみ」までです。";
    let field_at = wide
        .body
        .find("name=\"grants.hr_officer.medical\"")
        .unwrap();
    let next_field = field_at + 1 + wide.body[field_at + 1..].find("<select").unwrap();
    let msg_at = wide.body.find(message).expect("the use case's message");
    assert!(
        field_at < msg_at && msg_at < next_field,
        "the message is next to its field"
    );
    assert_eq!(
        selected(&wide.body, "grants.hr_officer.medical"),
        "always",
        "what was chosen is shown again"
    );
    let api = admin
        .get(&format!("/api/v1/organisations/{employer}/handling-rules"))
        .await;
    assert_eq!(api.header("etag"), Some("\"0\""), "nothing saved");

    // Narrowing is saved and applies at once.
    let ok = post_pairs(
        &mut admin,
        &url,
        &form(
            &p.body,
            &p.csrf_field(),
            ("grants.line_manager.work_measures", "with_consent"),
        ),
    )
    .await;
    assert_eq!(location(&ok), format!("{url}?done=saved"));
    let saved = page(&mut admin, &format!("{url}?done=saved")).await;
    assert!(saved.body.contains("取扱規程を保存しました"));
    assert!(saved.body.contains("第1版"));
    assert_eq!(
        selected(&saved.body, "grants.line_manager.work_measures"),
        "with_consent"
    );
    let rules = admin
        .get(&format!("/api/v1/organisations/{employer}/handling-rules"))
        .await
        .json();
    assert_eq!(
        rules["grants"]["line_manager"]["work_measures"],
        "with_consent"
    );
    assert_eq!(rules["grants"]["hr_officer"]["work_information"], "always");
    // A form from before the change does not overwrite it.
    let stale = post_pairs(
        &mut admin,
        &url,
        &form(
            &p.body,
            &p.csrf_field(),
            ("grants.hr_officer.work_information", "never"),
        ),
    )
    .await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert!(stale.body.contains("ほかの人が先に取扱規程を更新しました"));
    assert_eq!(
        selected(&stale.body, "grants.line_manager.work_measures"),
        "with_consent",
        "the latest rules are shown"
    );

    // HR reads the rules (from the home page) but has no form, and cannot save.
    let home = page(&mut hr, "/").await;
    assert!(home.body.contains(&format!("href=\"{url}\"")));
    assert!(!home.body.contains("健康情報等取扱規程の設定"));
    let r = page(&mut hr, &url).await;
    assert!(!r.body.contains("<select"), "read only");
    assert!(r.body.contains("初期設定より狭めています"));
    assert!(r.body.contains("変更できるのは、会社の組織管理者です"));
    let by_hr = post_pairs(
        &mut hr,
        &url,
        &form(
            &saved.body,
            &r.csrf_field(),
            ("grants.hr_officer.medical", "never"),
        ),
    )
    .await;
    assert_eq!(by_hr.status, 403, "{}", by_hr.body);
    assert!(has_japanese(&by_hr.body));
    page(&mut worker, &url).await;

    // Another employer's rules, or a hospital's, are not found.
    let mut op = s.operator_client().await;
    let other = op
        .api(
            "POST",
            "/api/v1/organisations",
            Some(json!({"kind": "employer", "name": "株式会社あおば商事", "prefecture": "13"})),
            &[],
        )
        .await;
    assert_eq!(other.status, 201, "{}", other.body);
    let other = other.json()["id"].as_str().unwrap().to_owned();
    let hospital = doctor.get("/api/v1/me").await.json()["memberships"][0]["organisation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    for org in [&other, &hospital] {
        let path = format!("/organisations/{org}/handling-rules");
        let r = hr.get(&path).await;
        assert_eq!(r.status, 404, "HR GET {path}");
        assert!(has_japanese(&r.body));
        let r = admin.get(&path).await;
        assert_eq!(r.status, 404, "admin GET {path}");
    }
    let r = post_pairs(
        &mut admin,
        &format!("/organisations/{other}/handling-rules"),
        &form(&saved.body, &saved.csrf_field(), ("", "")),
    )
    .await;
    assert_eq!(r.status, 404, "no saving another employer's rules");
    assert_eq!(
        doctor.get(&url).await.status,
        404,
        "the hospital does not read the employer's rules"
    );
}
