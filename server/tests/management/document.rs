//! The OpenAPI document against the routes: every operation it lists is served (a request
//! reaches its handler, not a 404 or 405), every handler annotated in the source is in it,
//! and no route under `/api/` is added beside it; and the browsable page shows every path.

use crate::support::TestApp;
use reqwest::Method;
use serde_json::Value;
use sqlx::PgPool;

/// Every `#[utoipa::path(<method>, path = "<path>"` in the server's source.
fn annotated() -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                // A route added beside the document would be missing from it.
                let plain_route = line.contains(".route(\"/api/");
                assert!(
                    !plain_route,
                    "{}:{}: a route under /api/ outside the OpenAPI router",
                    path.display(),
                    n + 1
                );
                if let Some(rest) = line.split("#[utoipa::path(").nth(1) {
                    let method = rest.split(',').next().unwrap().trim().to_owned();
                    let route = rest
                        .split("path = \"")
                        .nth(1)
                        .unwrap()
                        .split('"')
                        .next()
                        .unwrap();
                    found.push((method, route.to_owned()));
                }
            }
        }
    }
    found.sort();
    found
}

#[sqlx::test(migrations = "../migrations")]
async fn every_route_is_in_the_document_and_every_documented_route_is_served(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let res = reqwest::get(format!("http://{}/api/v1/openapi.json", app.addr))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );

    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                documented.push((method.to_owned(), path.clone()));
            }
        }
    }
    documented.sort();
    assert_eq!(
        documented,
        annotated(),
        "the document and the annotated handlers differ"
    );
    assert!(documented.len() >= 25, "{documented:?}");

    // Each is served: without credentials it is refused by its gate, never unknown.
    let http = reqwest::Client::new();
    for (method, path) in &documented {
        let url = format!(
            "http://{}{}",
            app.addr,
            path.replace("{id}", &uuid::Uuid::new_v4().to_string())
                .replace("{person}", &uuid::Uuid::new_v4().to_string())
                .replace("{client_id}", "some-app")
        );
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let res = http
            .request(method.clone(), &url)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert!(
            matches!(res.status().as_u16(), 400 | 401),
            "{method} {path}: {}",
            res.status()
        );
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{method} {path}"
        );
    }

    // The browsable page names every path, and carries no script.
    let page = reqwest::get(format!("http://{}/api/v1/docs", app.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("<script"));
    for (method, path) in &documented {
        let shown = format!("{} {}", method.to_uppercase(), path);
        assert!(page.contains(&shown), "{shown} missing from the page");
    }
}
