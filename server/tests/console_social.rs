//! Social sign-in providers from the console: added with the secret sealed (never listed, never
//! audited), tested against the issuer's discovery document and keys, changed (a new secret
//! named in the audit trail, not shown), turned off and removed; bad configurations refused
//! with nothing stored.

use crate::support::{Browser, TestApp};
use app::domain::{social::providers, staff::StaffRole};
use axum::{routing::get, Json, Router};
use serde_json::json;
use sqlx::PgPool;

/// An issuer serving its discovery document and a key set of one key.
async fn issuer() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    let doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
    });
    let keys = json!({ "keys": [{
        "kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig", "alg": "ES256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
    }]});
    let app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || {
                let doc = doc.clone();
                async move { Json(doc) }
            }),
        )
        .route(
            "/jwks",
            get(move || {
                let keys = keys.clone();
                async move { Json(keys) }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    issuer
}

async fn call(admin: &Browser, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
    let mut form = form.to_vec();
    form.push(("confirm", "yes"));
    admin.call(endpoint, &form).await
}

#[sqlx::test(migrations = "../migrations")]
async fn a_provider_is_added_tested_changed_turned_off_and_removed_from_the_console(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let admin = app
        .signed_in_staff("admin@staff.example.com", StaffRole::Admin)
        .await;
    let issuer = issuer().await;

    // Refused, nothing stored: an issuer that is not https, scopes without openid.
    for (field, value) in [
        ("provider[issuer]", "http://idp.example.com"),
        ("provider[scopes]", "email profile"),
        ("provider[id]", "Not An Id"),
    ] {
        let mut form = vec![
            ("provider[id]", "corp"),
            ("provider[kind]", "oidc"),
            ("provider[issuer]", issuer.as_str()),
            ("provider[client_id]", "keyhaven"),
        ];
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let res = call(&admin, "console/social/add", &form).await;
        assert_eq!(res.status(), 400, "{field}={value}");
    }
    assert!(providers::list(&app.db).await.unwrap().is_empty());

    let res = call(
        &admin,
        "console/social/add",
        &[
            ("provider[id]", "corp"),
            ("provider[kind]", "oidc"),
            ("provider[display_name]", "Corp login"),
            ("provider[issuer]", issuer.as_str()),
            ("provider[client_id]", "keyhaven"),
            ("provider[client_secret]", "first-s3cret"),
        ],
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let listed = admin
        .call("console/social", &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(listed.contains("/signin/social/corp/callback"), "{listed}");
    assert!(!listed.contains("first-s3cret"));

    let res = admin.call("console/social/test", &[("id", "corp")]).await;
    let result: String = res.json().await.unwrap();
    assert!(result.contains("Reached"), "{result}");
    assert!(result.contains("1 signing key(s)"), "{result}");

    let res = call(
        &admin,
        "console/social/change",
        &[
            ("provider[id]", "corp"),
            ("provider[display_name]", "Corp SSO"),
            ("provider[client_id]", "keyhaven"),
            ("provider[client_secret]", "second-s3cret"),
            ("provider[scopes]", "openid email"),
        ],
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let state = server::startup::app_state(app.db.clone(), &app.config).unwrap();
    let loaded = providers::load_enabled(&app.db, &state.secrets, "corp")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(loaded.client_secret.as_deref(), Some("second-s3cret"));
    assert_eq!(loaded.display_name, "Corp SSO");
    let detail: serde_json::Value = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE action = 'social_provider.changed'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(detail["changes"]["display_name"]["to"], "Corp SSO");
    assert_eq!(detail["changes"]["client_secret"], "replaced");
    let trail: String =
        sqlx::query_scalar("SELECT string_agg(detail::text, ' ') FROM audit_events")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(!trail.contains("s3cret"), "no secret in the audit trail");

    // A change the rules refuse changes nothing.
    let res = call(
        &admin,
        "console/social/change",
        &[
            ("provider[id]", "corp"),
            ("provider[display_name]", "Corp SSO"),
            ("provider[client_id]", ""),
            ("provider[scopes]", "openid email"),
        ],
    )
    .await;
    assert_eq!(res.status(), 400);

    let res = call(
        &admin,
        "console/social/enabled",
        &[("id", "corp"), ("enabled", "false")],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert!(providers::enabled(&app.db).await.unwrap().is_empty());
    let res = call(&admin, "console/social/remove", &[("id", "corp")]).await;
    assert_eq!(res.status(), 200);
    assert!(providers::list(&app.db).await.unwrap().is_empty());
    let res = call(&admin, "console/social/remove", &[("id", "corp")]).await;
    assert_eq!(res.status(), 404);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_test_of_an_unreachable_issuer_says_so(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let admin = app
        .signed_in_staff("admin@staff.example.com", StaffRole::Admin)
        .await;
    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    drop(listener);
    let res = call(
        &admin,
        "console/social/add",
        &[
            ("provider[id]", "gone"),
            ("provider[kind]", "oidc"),
            ("provider[issuer]", dead.as_str()),
            ("provider[client_id]", "keyhaven"),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);
    let result: String = admin
        .call("console/social/test", &[("id", "gone")])
        .await
        .json()
        .await
        .unwrap();
    assert!(result.contains("failed the test"), "{result}");
}
