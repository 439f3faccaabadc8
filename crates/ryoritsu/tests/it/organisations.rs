//! An organisation's members, a page at a time, in the API and on the organisation page.

use std::collections::BTreeSet;

use crate::harness::{DEMO_PASSWORD, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_come_a_page_at_a_time_without_gaps_or_repeats() {
    let s = TestServer::demo().await;
    let mut op = s.operator_client().await;
    let orgs = op
        .api("GET", "/api/v1/organisations", None, &[])
        .await
        .json();
    let employer = orgs
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "employer")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut admin = s.client();
    admin.api_sign_in("admin", DEMO_PASSWORD).await;
    let base = format!("/api/v1/organisations/{employer}/members");
    let all = admin.api("GET", &base, None, &[]).await;
    assert_eq!(all.status, 200, "{}", all.body);
    let all = all.json();
    assert!(
        all.get("next").is_none(),
        "the demo employer fits on one page"
    );
    let everyone: Vec<String> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["membership_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(everyone.len() >= 4, "{everyone:?}");

    let mut seen = Vec::new();
    let mut url = format!("{base}?limit=2");
    let mut pages = 0;
    loop {
        let r = admin.api("GET", &url, None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let page = r.json();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|m| m["membership_id"].as_str().unwrap().to_owned()),
        );
        pages += 1;
        match page.get("next").and_then(|n| n.as_str()) {
            Some(next) => url = format!("{base}?limit=2&after={next}"),
            None => break,
        }
        assert!(pages < 50, "paging never ends");
    }
    assert_eq!(
        seen, everyone,
        "the pages together are the whole list, in order"
    );
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), seen.len());

    let bad = admin
        .api("GET", &format!("{base}?after=nonsense"), None, &[])
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["code"], "bad_cursor");

    // The page shows the same members and offers the next page when there is one.
    let mut page_admin = s.client();
    let r = page_admin.page_sign_in("admin", DEMO_PASSWORD).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = page_admin.get(&format!("/organisations/{employer}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("参加した順に100人ずつ表示しています。"));
    assert!(!page.body.contains("次の100人を表示"));
    let bad = page_admin
        .get(&format!("/organisations/{employer}?after=x"))
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("ページの指定が正しくありません"));
}
