//! Who may call the management API: only a service app's own client_credentials token, signed
//! here, unrevoked, of an app that is still on; each operation needs its scope; and each app
//! has its share of requests a minute, told in RateLimit headers and refused with 429 beyond.

use super::{problem, Caller, ALL_SCOPES};
use crate::support::{
    oidc::{code_for, code_form, post, register, token},
    TestApp,
};
use app::domain::{
    audit::Actor, client::ClientInfo, oidc::client_admin, oidc::clients::ClientType,
};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn only_an_apps_own_live_token_with_the_scope_opens_the_api(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let url = format!("http://{}/api/v1/people", app.addr);
    let http = reqwest::Client::new();

    // No token: challenged.
    let res = http.get(&url).send().await.unwrap();
    assert_eq!(res.headers()["www-authenticate"], "Bearer realm=\"api\"");
    problem(res, 401).await;
    // Another scheme, and a forged token.
    let res = http
        .get(&url)
        .basic_auth("a", Some("b"))
        .send()
        .await
        .unwrap();
    problem(res, 401).await;
    let res = http
        .get(&url)
        .bearer_auth("eyJhbGciOiJub25lIn0.e30.")
        .send()
        .await
        .unwrap();
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("error=\"invalid_token\""));
    problem(res, 401).await;

    // A token a person's sign-in gave an app opens nothing here, whatever its scopes.
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let code = code_for(&browser, &client, &[("scope", "openid")]).await;
    let issued: Value = token(&app, &code_form(&client.client_id, &code), None)
        .await
        .json()
        .await
        .unwrap();
    let res = http
        .get(&url)
        .bearer_auth(issued["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    problem(res, 401).await;

    // A token without the scope: refused with the scope it needs, and audited.
    let reader = Caller::new(&app, &["users:read"]).await;
    assert_eq!(reader.get("/api/v1/people").await.status(), 200);
    let res = reader
        .send(
            Method::POST,
            "/api/v1/people",
            &json!({ "email": "x@example.com", "display_name": "X" }),
        )
        .await;
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer error=\"insufficient_scope\", scope=\"users:write\""
    );
    problem(res, 403).await;
    let refused: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'api.refused' AND actor = $1",
    )
    .bind(format!("app:{}", reader.client_id))
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(refused, 1);
    problem(reader.get("/api/v1/groups").await, 403).await;
    problem(reader.get("/api/v1/audit-events").await, 403).await;

    // Revoked: refused at once.
    let api = Caller::new(&app, &ALL_SCOPES).await;
    assert_eq!(api.get("/api/v1/people").await.status(), 200);
    let res = post(
        &app,
        "revoke",
        &[("token", &api.token)],
        Some((&api.client_id, &api.secret)),
    )
    .await;
    assert_eq!(res.status(), 200);
    problem(api.get("/api/v1/people").await, 401).await;

    // An app switched off: its unexpired token opens nothing.
    let other = Caller::new(&app, &ALL_SCOPES).await;
    assert_eq!(other.get("/api/v1/apps").await.status(), 200);
    client_admin::set_enabled(
        &app.state,
        &ClientInfo::default(),
        Actor::Cli,
        &other.client_id,
        false,
    )
    .await
    .unwrap();
    assert!(
        crate::support::eventually(|| async { other.get("/api/v1/apps").await.status() == 401 })
            .await
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn each_app_has_its_share_of_requests_a_minute(db: PgPool) {
    let app = TestApp::spawn_with(db, |config| config.api_rate_limit = 3).await;
    let api = Caller::new(&app, &["users:read"]).await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let res = api.get("/api/v1/people").await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["ratelimit-policy"], "\"per-app\";q=3;w=60");
        remaining.push(res.headers()["ratelimit"].to_str().unwrap().to_owned());
    }
    assert!(
        remaining[0].starts_with("\"per-app\";r=2;t="),
        "{remaining:?}"
    );
    assert!(
        remaining[2].starts_with("\"per-app\";r=0;t="),
        "{remaining:?}"
    );
    let res = api.get("/api/v1/people").await;
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    problem(res, 429).await;
    // Another app is not held back by this one.
    let other = Caller::new(&app, &["users:read"]).await;
    assert_eq!(other.get("/api/v1/people").await.status(), 200);
}
