//! What ends a grant: a replayed authorization code revokes everything the code led to (every
//! rotated refresh token and every access token of the grant), a refresh token family ends at
//! its absolute lifetime, and a password reset ends the person's grants at every app.

use crate::support::{oidc::*, Browser, TestApp, NEW_PASSWORD};
use app::domain::oidc::clients::ClientType;
use app::domain::oidc::registration::Registered;
use serde_json::Value;
use sqlx::PgPool;

const OFFLINE: &[(&str, &str)] = &[("scope", "openid email offline_access")];

/// A confidential app, a signed-in browser, and the code it got.
async fn app_and_code(app: &TestApp) -> (Registered, String, Browser, String) {
    let client = register(app, ClientType::Confidential, true).await;
    let secret = client.client_secret.clone().unwrap();
    let browser = app.signed_in_customer("ada@example.com").await;
    let code = code_for(&browser, &client, OFFLINE).await;
    (client, secret, browser, code)
}

async fn exchange(app: &TestApp, client: &Registered, secret: &str, code: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let res = token(app, &form, Some((&client.client_id, secret))).await;
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn refresh(app: &TestApp, client: &Registered, secret: &str, refresh: &str) -> (u16, Value) {
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let res = token(app, &form, Some((&client.client_id, secret))).await;
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn introspected(app: &TestApp, client: &Registered, secret: &str, token: &str) -> Value {
    let res = post(
        app,
        "introspect",
        &[("token", token)],
        Some((&client.client_id, secret)),
    )
    .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_replayed_code_revokes_every_token_of_its_grant(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (client, secret, _, code) = app_and_code(&app).await;
    let (status, first) = exchange(&app, &client, &secret, &code).await;
    assert_eq!(status, 200);
    let access1 = first["access_token"].as_str().unwrap().to_owned();
    let (status, second) = refresh(
        &app,
        &client,
        &secret,
        first["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let access2 = second["access_token"].as_str().unwrap().to_owned();
    let refresh2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(userinfo(&app, &access2).await.status(), 200);

    // The code comes back: someone else has it. Everything it led to ends.
    let (status, replay) = exchange(&app, &client, &secret, &code).await;
    assert_eq!(status, 400);
    assert_eq!(replay["error"], "invalid_grant");

    let (status, body) = refresh(&app, &client, &secret, &refresh2).await;
    assert_eq!(status, 400, "the rotated successor is revoked too: {body}");
    assert_eq!(body["error"], "invalid_grant");
    for access in [&access1, &access2] {
        assert_eq!(userinfo(&app, access).await.status(), 401);
        assert_eq!(
            introspected(&app, &client, &secret, access).await["active"],
            false
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_replayed_code_without_offline_access_still_revokes_its_access_token(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Confidential, true).await;
    let secret = client.client_secret.clone().unwrap();
    let browser = app.signed_in_customer("ada@example.com").await;
    let code = code_for(&browser, &client, &[]).await;
    let (status, first) = exchange(&app, &client, &secret, &code).await;
    assert_eq!(status, 200);
    assert!(first.get("refresh_token").is_none());
    let access = first["access_token"].as_str().unwrap();
    exchange(&app, &client, &secret, &code).await;
    assert_eq!(userinfo(&app, access).await.status(), 401);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_refresh_token_family_ends_at_its_absolute_lifetime(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (client, secret, _, code) = app_and_code(&app).await;
    let (_, first) = exchange(&app, &client, &secret, &code).await;
    let (status, second) = refresh(
        &app,
        &client,
        &secret,
        first["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 200);

    // Every token of the family carries the family's end, and none outlives it.
    let (outliving, deadlines): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE expires_at > family_expires_at),
                count(DISTINCT family_expires_at)
         FROM refresh_tokens",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((outliving, deadlines), (0, 1));
    let days: f64 = sqlx::query_scalar(
        "SELECT (extract(epoch FROM max(family_expires_at) - now()) / 86400)::float8 FROM refresh_tokens",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!((29.9..=30.0).contains(&days), "30 days by default, {days}");

    // Once the family's time is up, rotation stops, even for an unused, unexpired token.
    sqlx::query("UPDATE refresh_tokens SET family_expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    let (status, body) = refresh(
        &app,
        &client,
        &secret,
        second["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_password_reset_ends_the_persons_grants_at_every_app(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (client, secret, browser, code) = app_and_code(&app).await;
    let (_, issued) = exchange(&app, &client, &secret, &code).await;
    let access = issued["access_token"].as_str().unwrap().to_owned();
    let offline = issued["refresh_token"].as_str().unwrap().to_owned();
    // The browser signs out: the app keeps its offline access.
    browser.call("sign-out", &[]).await;
    assert_eq!(userinfo(&app, &access).await.status(), 200);
    sqlx::query("UPDATE oauth_clients SET backchannel_logout_uri = 'https://app.example/bc'")
        .execute(&app.db)
        .await
        .unwrap();

    // Someone took the password; its owner resets it.
    app.reset_password("ada@example.com", NEW_PASSWORD).await;

    let (status, body) = refresh(&app, &client, &secret, &offline).await;
    assert_eq!(status, 400, "offline access ends too: {body}");
    assert_eq!(userinfo(&app, &access).await.status(), 401);
    assert_eq!(
        introspected(&app, &client, &secret, &access).await["active"],
        false
    );
    let notices: i64 =
        sqlx::query_scalar("SELECT count(*) FROM logout_outbox WHERE client_id = $1")
            .bind(&client.client_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(notices, 1, "the app is told its offline access ended");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_absolute_lifetime_is_configurable(db: PgPool) {
    let app = TestApp::spawn_with(db, |config| {
        config.refresh_family_lifetime = time::Duration::days(2);
    })
    .await;
    let (client, secret, _, code) = app_and_code(&app).await;
    let (status, _) = exchange(&app, &client, &secret, &code).await;
    assert_eq!(status, 200);
    let days: f64 = sqlx::query_scalar(
        "SELECT (extract(epoch FROM max(family_expires_at) - now()) / 86400)::float8
         FROM refresh_tokens",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!((1.9..=2.0).contains(&days), "{days}");
}

/// Ending one sign-in from the portal's list ends the grants made through it (its refresh
/// tokens and access tokens); the grants of the sign-in that ended it stay.
#[sqlx::test(migrations = "../migrations")]
async fn a_sign_in_ended_from_the_portal_ends_the_grants_made_through_it(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (client, secret, laptop, code) = app_and_code(&app).await;
    let (_, kept) = exchange(&app, &client, &secret, &code).await;
    let phone = app.browser();
    phone
        .call(
            "sign-in",
            &[
                ("email", "ada@example.com"),
                ("password", crate::support::GOOD_PASSWORD),
            ],
        )
        .await;
    let code = code_for(&phone, &client, OFFLINE).await;
    let (status, lost) = exchange(&app, &client, &secret, &code).await;
    assert_eq!(status, 200);

    let listed: Vec<Value> = laptop.call("sign-ins", &[]).await.json().await.unwrap();
    let other = listed.iter().find(|s| s["this_device"] == false).unwrap();
    let res = laptop
        .call("sign-ins/end", &[("id", other["id"].as_str().unwrap())])
        .await;
    assert_eq!(res.status(), 200);

    let (status, body) = refresh(
        &app,
        &client,
        &secret,
        lost["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(
        userinfo(&app, lost["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );
    let (status, _) = refresh(
        &app,
        &client,
        &secret,
        kept["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 200, "the laptop's grant stays");
}
