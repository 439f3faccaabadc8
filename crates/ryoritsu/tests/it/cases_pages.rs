//! Support cases through the Japanese pages: the 就業継続 path run by form posts in the demo
//! world, stale step forms, the consent pages deciding what HR's pages show, and 404 for
//! everyone without a part in the case.

use serde_json::json;

use crate::harness::{Client, DEMO_PASSWORD, Resp, TestServer, has_japanese};

/// Signs in through the pages and keeps the session's token for API calls too.
pub(crate) async fn person(s: &TestServer, login: &str) -> Client {
    let mut c = s.client();
    let r = c.page_sign_in(login, DEMO_PASSWORD).await;
    assert_eq!(r.status, 303, "{login}: {}", r.body);
    let home = c.get("/").await;
    assert_eq!(home.status, 200, "{login}: {}", home.body);
    c.csrf = Some(home.csrf_field());
    c
}

/// A Japanese page with no inline script or style (the CSP forbids both).
pub(crate) fn check_page(what: &str, r: &Resp) {
    assert!(has_japanese(&r.body), "{what}: not Japanese");
    for (i, _) in r.body.match_indices("<script") {
        let tag = &r.body[i..i + r.body[i..].find('>').unwrap()];
        assert!(tag.contains(" src="), "{what}: inline script {tag}");
    }
    assert!(!r.body.contains(" style="), "{what}: inline style");
    assert!(!r.body.contains("<style"), "{what}: inline style element");
}

pub(crate) async fn page(c: &mut Client, path: &str) -> Resp {
    let r = c.get(path).await;
    assert_eq!(r.status, 200, "GET {path}: {}", r.body);
    check_page(path, &r);
    r
}

/// The value of the first `name="…" value="…"` input on a page.
pub(crate) fn input_value(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let i = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} input in {body}"))
        + marker.len();
    body[i..].split('"').next().unwrap().to_owned()
}

pub(crate) fn location(r: &Resp) -> String {
    assert_eq!(r.status, 303, "{}", r.body);
    r.header("location").unwrap().to_owned()
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_continuation_path_runs_through_the_pages() {
    let s = TestServer::demo().await;
    let mut worker = person(&s, "worker").await;
    let mut hr = person(&s, "jinji").await;
    let mut doctor = s.client();
    assert_eq!(
        doctor.api_sign_in("doctor", DEMO_PASSWORD).await.status,
        200
    );
    let employer = worker.get("/api/v1/me").await.json()["memberships"][0]["organisation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let hospital = doctor.get("/api/v1/me").await.json()["memberships"][0]["organisation_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The worker files the 申出 on the list page; the form says who sees what.
    let list = page(&mut worker, "/cases").await;
    assert!(list.body.contains("両立支援を申し出る"));
    assert!(
        list.body.contains("href=\"/cases\""),
        "the menu links the cases"
    );
    let token = list.csrf_field();
    let employer_field = input_value(&list.body, "employer");
    assert_eq!(employer_field, employer);
    let missing = worker
        .post_form(
            "/cases",
            &[("csrf_token", &token), ("employer", &employer_field)],
        )
        .await;
    assert_eq!(missing.status, 422);
    assert!(missing.body.contains("支援の種類を選んでください"));
    check_page("POST /cases (invalid)", &missing);
    let r = worker
        .post_form(
            "/cases",
            &[
                ("csrf_token", &token),
                ("employer", &employer_field),
                ("workplace", ""),
                ("path", "continuation"),
            ],
        )
        .await;
    let to = location(&r);
    let case = to
        .trim_start_matches("/cases/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let shown = page(&mut worker, &to).await;
    assert!(shown.body.contains("申出を受け付けました"));
    assert!(shown.body.contains("申出受付"));
    assert!(shown.body.contains("同意の管理"));

    // HR sees the task on the home page and drafts the 勤務情報提供書 on the document page.
    let home = page(&mut hr, "/").await;
    assert!(home.body.contains("勤務情報提供書の作成"), "{}", home.body);
    let hr_case = page(&mut hr, &format!("/cases/{case}")).await;
    let new_link = format!("/cases/{case}/documents/new?form=work_information");
    assert!(hr_case.body.contains(&new_link), "{}", hr_case.body);
    assert!(
        !hr_case.body.contains("同意の管理"),
        "consents are the worker's"
    );
    let form = page(&mut hr, &new_link).await;
    assert!(form.body.contains("name=\"occupation\""));
    assert!(
        !form.body.contains("name=\"employee_name\""),
        "the worker's part is not HR's to write"
    );
    let r = hr
        .post_form(
            &format!("/cases/{case}/documents"),
            &[
                ("csrf_token", &form.csrf_field()),
                ("form", "work_information"),
                ("form_version", "v2026"),
                ("occupation", "製造ライン作業"),
                ("job_description.details", "部品の組立と目視検査。"),
                ("work_pattern.pattern", "day_shift"),
                ("employee_name", "なりすまし"),
            ],
        )
        .await;
    let doc_page = location(&r);
    assert!(doc_page.ends_with("?done=saved"), "{doc_page}");
    let doc = doc_page
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let saved = page(&mut hr, &doc_page).await;
    assert!(saved.body.contains("下書きを保存しました"));
    assert!(saved.body.contains("製造ライン作業"));
    assert!(!saved.body.contains("なりすまし"));
    // A value out of range comes back with its message, nothing saved.
    let bad = hr
        .post_form(
            &format!("/cases/{case}/documents/{doc}"),
            &[
                ("csrf_token", &saved.csrf_field()),
                ("version", &input_value(&saved.body, "version")),
                ("occupation", "製造ライン作業"),
                ("work_hours.days_per_week", "9"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("field-error"));
    check_page("document with errors", &bad);

    // HR records the draft and confirms as the company; the worker confirms, once with a
    // stale form.
    let r = step(&mut hr, &case, &[("step", "draft_work_information")]).await;
    location(&r);
    let worker_view = page(&mut worker, &format!("/cases/{case}")).await;
    let stale_version = input_value(&worker_view.body, "version");
    let hr_view = page(&mut hr, &format!("/cases/{case}")).await;
    assert!(hr_view.body.contains("勤務情報提供書の確認（会社として）"));
    let r = step(
        &mut hr,
        &case,
        &[("step", "confirm_work_information"), ("by", "employer")],
    )
    .await;
    location(&r);
    let stale = worker
        .post_form(
            &format!("/cases/{case}/steps"),
            &[
                ("csrf_token", &worker_view.csrf_field()),
                ("version", &stale_version),
                ("step", "confirm_work_information"),
                ("by", "worker"),
            ],
        )
        .await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert!(stale.body.contains("ほかの人が先に"), "{}", stale.body);
    check_page("stale step", &stale);
    let r = step(
        &mut worker,
        &case,
        &[("step", "confirm_work_information"), ("by", "worker")],
    )
    .await;
    location(&r);
    let now = page(&mut worker, &format!("/cases/{case}")).await;
    assert!(now.body.contains("主治医への提出待ち"), "{}", now.body);

    // The worker fills in their part and finalises.
    let wdoc = page(&mut worker, &format!("/cases/{case}/documents/{doc}")).await;
    assert!(wdoc.body.contains("確定すると内容を変更できなくなります。"));
    assert!(wdoc.body.contains("name=\"employee_name\""));
    let r = worker
        .post_form(
            &format!("/cases/{case}/documents/{doc}/finalise"),
            &[
                ("csrf_token", &wdoc.csrf_field()),
                ("version", &input_value(&wdoc.body, "version")),
                ("employee_name", "田中 太郎"),
                ("worker_confirmation.date", "2026-04-01"),
                ("worker_confirmation.name", "田中 太郎"),
            ],
        )
        .await;
    let fin = location(&r);
    let done = page(&mut worker, &fin).await;
    assert!(done.body.contains("確定日時"), "{}", done.body);
    assert!(done.body.contains("製造ライン作業"));
    assert!(
        !done.body.contains("name=\"employee_name\"") && !done.body.contains("<textarea"),
        "a finalised document has no inputs"
    );

    // The worker attaches the hospital and shares the work information with the physician
    // (API), hands the form over (page), and the physician records the opinion (API).
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/parties"),
            Some(json!({"kind": "hospital", "organisation_id": hospital})),
            &[],
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/consents"),
            Some(json!({
                "organisation_id": hospital, "role": "attending_physician",
                "categories": ["work_information"], "purpose": "主治医意見書の作成のため"
            })),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    location(&step(&mut worker, &case, &[("step", "hand_to_physician")]).await);
    let o = doctor
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/documents"),
            Some(json!({"form": "continuation_opinion", "answers": {
                "patient_name": "田中 太郎",
                "diagnosis": "胃がん（術後）",
                "fitness_for_work": "fit_with_conditions",
                "work_measures": "重いものを持たない。",
                "physician_signature": {"date": "2026-04-02", "name": "伊藤 健一"}
            }})),
            &[],
        )
        .await;
    assert_eq!(o.status, 201, "{}", o.body);
    let op = o.json()["id"].as_str().unwrap().to_owned();
    let tag = o.header("etag").unwrap().to_owned();
    let r = doctor
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/documents/{op}/finalise"),
            Some(json!({"signature_field": "physician_signature", "party": "attending_physician"})),
            &[("if-match", &tag)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let current = doctor.get(&format!("/api/v1/cases/{case}")).await;
    let tag = current.header("etag").unwrap().to_owned();
    let r = doctor
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/steps"),
            Some(json!({"step": "record_opinion", "fitness": "fit_with_conditions"})),
            &[("if-match", &tag)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Before consent, HR's pages show neither the opinion nor the fitness.
    let opinion_path = format!("/cases/{case}/documents/{op}");
    let hr_case = page(&mut hr, &format!("/cases/{case}")).await;
    for hidden in ["胃がん", "条件付きで可", &op] {
        assert!(!hr_case.body.contains(hidden), "HR sees {hidden}");
    }
    // Hidden, not absent: HR learns that the opinion exists and why they cannot read it.
    assert!(
        hr_case
            .body
            .contains("主治医意見書（就業継続）があります。本人の同意がないため表示されません。")
    );
    assert_eq!(hr.get(&opinion_path).await.status, 404);
    let w_case = page(&mut worker, &format!("/cases/{case}")).await;
    assert!(w_case.body.contains("主治医意見書（就業継続）"));
    assert!(w_case.body.contains("条件付きで可"));

    // The worker consents through the two-step page.
    let consents = page(&mut worker, &format!("/cases/{case}/consents")).await;
    assert!(consents.body.contains("主治医意見書の作成のため"));
    let recipient = format!("{employer}:hr_officer");
    assert!(consents.body.contains(&recipient));
    let fields = |token: &str| {
        vec![
            ("csrf_token".to_owned(), token.to_owned()),
            ("recipient".to_owned(), recipient.clone()),
            ("categories".to_owned(), "medical".to_owned()),
            (
                "purpose".to_owned(),
                "就業上の措置を検討するため".to_owned(),
            ),
            ("expires".to_owned(), String::new()),
        ]
    };
    let token = consents.csrf_field();
    let invalid = worker
        .post_form(
            &format!("/cases/{case}/consents"),
            &[("csrf_token", &token), ("recipient", &recipient)],
        )
        .await;
    assert_eq!(invalid.status, 422);
    assert!(invalid.body.contains("共有の目的を入力してください"));
    let f = fields(&token);
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let confirm = worker
        .post_form(&format!("/cases/{case}/consents"), &pairs)
        .await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    check_page("consent confirmation", &confirm);
    assert!(
        confirm
            .body
            .contains("株式会社みどり精機の人事労務担当者に、診断名・症状・治療の状況を")
    );
    assert!(
        confirm
            .body
            .contains("同意しなければ、誰にも共有されません。")
    );
    assert_eq!(
        hr.get(&opinion_path).await.status,
        404,
        "nothing is shared before 「同意する」"
    );
    // Medical information for HR: the page asks the worker to think again, and granting
    // needs their explicit check.
    assert!(
        confirm
            .body
            .contains("通常、就業上の措置（どのような配慮が必要か）を伝えれば足りる"),
        "the caution of the 指針"
    );
    let mut pairs = pairs.clone();
    pairs.push(("confirm", "yes"));
    let unchecked = worker
        .post_form(&format!("/cases/{case}/consents"), &pairs)
        .await;
    assert_eq!(unchecked.status, 422, "{}", unchecked.body);
    assert!(unchecked.body.contains("確認欄にチェックを入れてください"));
    assert_eq!(hr.get(&opinion_path).await.status, 404, "still not shared");
    pairs.push(("understood", "yes"));
    let r = worker
        .post_form(&format!("/cases/{case}/consents"), &pairs)
        .await;
    let granted = page(&mut worker, &location(&r)).await;
    assert!(granted.body.contains("同意を登録しました"));
    assert!(granted.body.contains("就業上の措置を検討するため"));

    // With consent, HR's pages show the opinion.
    let hr_case = page(&mut hr, &format!("/cases/{case}")).await;
    assert!(hr_case.body.contains("主治医意見書（就業継続）"));
    assert!(hr_case.body.contains("条件付きで可"));
    let opinion = page(&mut hr, &opinion_path).await;
    assert!(opinion.body.contains("胃がん"));
    assert!(
        !opinion.body.contains("name=\"diagnosis\""),
        "HR reads the opinion, never edits it"
    );

    // Withdrawal takes effect at once (the form in HR's consent's row).
    let marker = format!("/cases/{case}/consents/");
    let row = granted
        .body
        .find("目的：就業上の措置を検討するため")
        .unwrap();
    let i = row + granted.body[row..].find(&marker).expect("a withdraw form");
    let action = granted.body[i..].split('"').next().unwrap().to_owned();
    // Withdrawing asks first, saying who will no longer see what.
    let ask = worker
        .post_form(&action, &[("csrf_token", &granted.csrf_field())])
        .await;
    assert_eq!(ask.status, 200, "{}", ask.body);
    check_page("withdrawal confirmation", &ask);
    assert!(ask.body.contains("この同意を撤回しますか"));
    assert!(
        ask.body.contains(
            "人事労務担当者は、これから先「診断名・症状・治療の状況」を見られなくなります"
        )
    );
    assert_eq!(hr.get(&opinion_path).await.status, 200, "not withdrawn yet");
    let r = worker
        .post_form(
            &action,
            &[("csrf_token", &ask.csrf_field()), ("confirm", "yes")],
        )
        .await;
    location(&r);
    assert_eq!(hr.get(&opinion_path).await.status, 404);

    // Nobody without a part in the case finds any of its pages.
    let mut worker2 = person(&s, "worker2").await;
    let mut bureau = person(&s, "bureau").await;
    let paths = [
        format!("/cases/{case}"),
        format!("/cases/{case}/documents/new?form=work_information"),
        format!("/cases/{case}/documents/{doc}"),
        format!("/cases/{case}/consents"),
    ];
    for (who, c) in [("worker2", &mut worker2), ("bureau", &mut bureau)] {
        for p in &paths {
            let r = c.get(p).await;
            assert_eq!(r.status, 404, "{who} GET {p}");
            assert!(has_japanese(&r.body));
        }
        let token = c.csrf.clone().unwrap();
        let r = c
            .post_form(
                &format!("/cases/{case}/steps"),
                &[
                    ("csrf_token", &token),
                    ("version", "1"),
                    ("step", "hand_to_physician"),
                ],
            )
            .await;
        assert_eq!(r.status, 404, "{who} POST steps");
        let list = page(c, "/cases").await;
        assert!(!list.body.contains(&case), "{who} lists the case");
    }
    assert_eq!(
        hr.get(&format!("/cases/{case}/consents")).await.status,
        404,
        "the consents page is the worker's only"
    );
}

/// The `XXXX-XXXX-XXXX` share code shown on the page.
fn shown_code(body: &str) -> String {
    let marker = "id=\"share-code\">";
    let i = body
        .find(marker)
        .unwrap_or_else(|| panic!("no share code in {body}"))
        + marker.len();
    body[i..].split('<').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hospital_joins_a_case_with_the_workers_share_code() {
    let s = TestServer::demo().await;
    let mut worker = person(&s, "worker").await;
    let mut hr = person(&s, "jinji").await;
    let mut doctor = person(&s, "doctor").await;

    // The worker files a case; HR drafts the work information (nothing shared yet).
    let list = page(&mut worker, "/cases").await;
    assert!(
        !list.body.contains("共有コードを入力する"),
        "entering codes is the hospital's"
    );
    let r = worker
        .post_form(
            "/cases",
            &[
                ("csrf_token", &list.csrf_field()),
                ("employer", &input_value(&list.body, "employer")),
                ("path", "continuation"),
            ],
        )
        .await;
    let case = location(&r)
        .trim_start_matches("/cases/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
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

    // Only the worker's case page has the sharing card.
    let w_case = page(&mut worker, &format!("/cases/{case}")).await;
    assert!(w_case.body.contains("医療機関との共有"));
    assert!(w_case.body.contains(
        "主治医の医療機関にこの事例を見てもらうには、共有コードを発行して受診の際にお渡しください。"
    ));
    assert!(w_case.body.contains("連携している医療機関はまだありません"));
    assert!(
        w_case
            .body
            .contains(&format!("action=\"/cases/{case}/share-code\""))
    );
    let hr_case = page(&mut hr, &format!("/cases/{case}")).await;
    assert!(!hr_case.body.contains("共有コードを発行する"));
    let r = hr
        .post_form(
            &format!("/cases/{case}/share-code"),
            &[("csrf_token", &hr_case.csrf_field())],
        )
        .await;
    assert!(
        r.status == 403 || r.status == 404,
        "HR issues no code: {}",
        r.status
    );

    // The worker issues a code: shown large, with its QR code and expiry.
    let issued = worker
        .post_form(
            &format!("/cases/{case}/share-code"),
            &[("csrf_token", &w_case.csrf_field())],
        )
        .await;
    assert_eq!(issued.status, 200, "{}", issued.body);
    check_page("share code issued", &issued);
    let code = shown_code(&issued.body);
    assert_eq!(code.len(), 14, "{code}");
    assert_eq!(code.matches('-').count(), 2, "{code}");
    assert!(issued.body.contains("<svg"), "an inline QR code");
    assert!(issued.body.contains(&format!("/share/{code}")));
    assert!(
        issued.body.contains("令和8年4月15日（2026年）"),
        "expires in 14 days"
    );
    assert!(issued.body.contains(
        "このコードは1回だけ使えます。有効期限までに医療機関で入力してもらってください。"
    ));
    assert!(
        issued
            .body
            .contains(&format!("href=\"/cases/{case}/consents\""))
    );
    assert!(issued.body.contains("同意の管理へ"));

    // HR cannot redeem, nor open the entry form.
    let r = hr.get("/share").await;
    assert!(r.status == 403 || r.status == 404, "{}", r.status);
    assert!(has_japanese(&r.body));
    let r = hr
        .post_form(
            "/share",
            &[("csrf_token", &hr_case.csrf_field()), ("code", &code)],
        )
        .await;
    assert!(r.status == 403 || r.status == 404, "{}", r.status);
    assert!(has_japanese(&r.body));

    // The doctor finds the entry form on the case list; the QR target only fills it in.
    let list = page(&mut doctor, "/cases").await;
    assert!(list.body.contains("href=\"/share\""));
    assert!(list.body.contains("共有コードを入力する"));
    let prefilled = page(&mut doctor, &format!("/share/{code}")).await;
    assert!(prefilled.body.contains("共有コードの入力"));
    assert_eq!(input_value(&prefilled.body, "code"), code);
    assert!(prefilled.body.contains("inputmode=\"latin\""));
    assert!(prefilled.body.contains("autocomplete=\"off\""));
    assert_eq!(
        doctor.get(&format!("/cases/{case}")).await.status,
        404,
        "a GET never redeems"
    );
    let junk = doctor.get("/share/nonsense").await;
    assert_eq!(junk.status, 404);
    assert!(has_japanese(&junk.body));

    // Typed in lower case with spaces, the code opens the case.
    let entry = page(&mut doctor, "/share").await;
    let token = entry.csrf_field();
    let empty = doctor
        .post_form("/share", &[("csrf_token", &token), ("code", " ")])
        .await;
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("共有コードを入力してください"));
    check_page("empty share code", &empty);
    let typed = code.to_lowercase().replace('-', " ");
    let r = doctor
        .post_form("/share", &[("csrf_token", &token), ("code", &typed)])
        .await;
    let to = location(&r);
    assert_eq!(to, format!("/cases/{case}?done=shared"));
    let d_case = page(&mut doctor, &to).await;
    assert!(d_case.body.contains("医療機関として参加しました"));
    for hidden in [
        "製造ライン作業",
        "勤務情報提供書（",
        &doc,
        "医療機関との共有",
    ] {
        assert!(
            !d_case.body.contains(hidden),
            "without consent the doctor sees {hidden}"
        );
    }

    // Once only.
    let again = doctor
        .post_form("/share", &[("csrf_token", &token), ("code", &code)])
        .await;
    assert_eq!(again.status, 422, "{}", again.body);
    assert!(
        again.body.contains("すでに使われています"),
        "{}",
        again.body
    );
    assert_eq!(input_value(&again.body, "code"), code);
    check_page("used share code", &again);

    // The worker's page lists the hospital; with consent the doctor sees the form.
    let w_case = page(&mut worker, &format!("/cases/{case}")).await;
    assert!(
        w_case.body.contains("都立さくら総合病院"),
        "the hospital is named"
    );
    assert!(!w_case.body.contains("連携している医療機関はまだありません"));
    let hospital = doctor.get("/api/v1/me").await.json()["memberships"][0]["organisation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = worker
        .api(
            "POST",
            &format!("/api/v1/cases/{case}/consents"),
            Some(json!({
                "organisation_id": hospital, "role": "attending_physician",
                "categories": ["work_information"], "purpose": "主治医意見書の作成のため"
            })),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let d_case = page(&mut doctor, &format!("/cases/{case}")).await;
    assert!(d_case.body.contains("勤務情報提供書（"), "{}", d_case.body);
    assert!(d_case.body.contains(&doc));

    // Guessing is throttled: the form comes back with a Japanese message and 429.
    let mut last = 0;
    for _ in 0..12 {
        let r = doctor
            .post_form(
                "/share",
                &[("csrf_token", &token), ("code", "ZZZZ-ZZZZ-ZZZZ")],
            )
            .await;
        last = r.status;
        if r.status == 429 {
            assert!(r.body.contains("試行回数が多すぎます"), "{}", r.body);
            assert!(r.header("retry-after").is_some());
            check_page("throttled share code", &r);
            break;
        }
        assert_eq!(r.status, 422, "{}", r.body);
    }
    assert_eq!(last, 429, "wrong codes are throttled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_reads_who_saw_their_information_on_a_page() {
    let s = crate::harness::TestServer::demo().await;
    // The 産業医 reads the opinion the worker consented to share with them.
    let mut sangyoi = s.client();
    sangyoi
        .api_sign_in("sangyoi", crate::harness::DEMO_PASSWORD)
        .await;
    let cases = sangyoi.get("/api/v1/cases").await.json()["items"].clone();
    for c in cases.as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        sangyoi.get(&format!("/api/v1/cases/{id}/documents")).await;
    }
    let mut worker = s.client();
    worker
        .page_sign_in("worker", crate::harness::DEMO_PASSWORD)
        .await;
    let home = worker.get("/").await;
    assert!(
        home.body.contains("href=\"/me/records\""),
        "the menu offers わたしの情報"
    );
    let page = worker.get("/me/records").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("閲覧・提供の記録"));
    assert!(page.body.contains("高橋 誠（産業医"), "{}", page.body);
    assert!(
        page.body
            .contains("「診断名・症状・治療の状況」を閲覧しました")
    );
    assert!(page.body.contains("/api/v1/me/export"));
}

/// No dead ends: reloading or going back to the address of a form post (a step, a 確定, a
/// withdrawal) leads to the page above it, never to a 405; the JSON API still says 405.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloading_the_address_of_a_form_post_leads_back_to_its_page() {
    let s = TestServer::demo().await;
    let mut worker = person(&s, "worker").await;
    let cases = worker.get("/api/v1/cases").await.json()["items"].clone();
    let case = cases[0]["id"].as_str().unwrap().to_owned();
    let docs = worker
        .get(&format!("/api/v1/cases/{case}/documents"))
        .await
        .json();
    let doc = docs[0]["id"].as_str().unwrap().to_owned();
    for (path, to) in [
        (format!("/cases/{case}/steps"), format!("/cases/{case}")),
        (
            format!("/cases/{case}/documents/{doc}/finalise"),
            format!("/cases/{case}/documents/{doc}"),
        ),
        (
            format!("/cases/{case}/consents/{doc}/withdraw"),
            format!("/cases/{case}/consents"),
        ),
        (
            format!("/cases/{case}/share-code"),
            format!("/cases/{case}"),
        ),
    ] {
        let r = worker.get(&path).await;
        assert_eq!(r.status, 303, "GET {path}: {}", r.body);
        assert_eq!(location(&r), to, "GET {path}");
        let page = worker.get(&to).await;
        assert_eq!(page.status, 200, "{to}");
    }
    let api = worker.get(&format!("/api/v1/cases/{case}/steps")).await;
    assert_eq!(api.status, 405);
}
