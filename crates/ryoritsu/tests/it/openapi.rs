//! The OpenAPI document served equals the one committed, and lists every API route.

use crate::harness::TestServer;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api/openapi.json");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_is_the_committed_one() {
    let s = TestServer::start().await;
    let served = s.client().get("/api/v1/openapi.json").await;
    assert_eq!(served.status, 200);
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        served.body == committed,
        "docs/api/openapi.json is out of date: regenerate it with \
         `cargo run -p ryoritsu -- openapi > docs/api/openapi.json`"
    );
}

#[test]
fn every_api_route_is_documented() {
    let doc: serde_json::Value =
        serde_json::from_str(&ryoritsu_web::http::openapi::openapi_json()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for e in ryoritsu_web::routes::<ryoritsu_store_sqlite::SqliteStore>().entries() {
        if !e.path.starts_with("/api/v1/") || e.path == "/api/v1/openapi.json" {
            continue;
        }
        let item = paths
            .get(e.path)
            .unwrap_or_else(|| panic!("{} is not in the OpenAPI document", e.path));
        let m = e.method.as_str().to_lowercase();
        assert!(
            item.get(&m).is_some(),
            "{} {} is not in the OpenAPI document",
            e.method,
            e.path
        );
    }
}

#[test]
fn every_documented_path_has_a_route() {
    let doc: serde_json::Value =
        serde_json::from_str(&ryoritsu_web::http::openapi::openapi_json()).unwrap();
    let entries = ryoritsu_web::routes::<ryoritsu_store_sqlite::SqliteStore>();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let found = entries
                .entries()
                .iter()
                .any(|e| e.path == path && e.method.as_str().eq_ignore_ascii_case(method));
            assert!(found, "{method} {path} is documented but not routed");
        }
    }
}
