//! The OpenID provider's token lifecycle: refresh with rotation and reuse detection, a reused
//! code revoking what it issued, revocation (RFC 7009), introspection (RFC 7662), and
//! client_credentials for service clients; and the in-memory copies (clients, people,
//! revocations) following changes made elsewhere.

use crate::support::{eventually, oidc::*, Browser, TestApp};
use app::domain::oidc::clients::ClientType;
use app::domain::oidc::registration::Registered;
use serde_json::Value;
use sqlx::PgPool;

const OFFLINE: &[(&str, &str)] = &[("scope", "openid email offline_access")];

/// Tokens from a fresh code of `client` (a public client unless `secret` is given).
async fn tokens(app: &TestApp, browser: &Browser, client: &Registered) -> (String, Value) {
    let code = code_for(browser, client, OFFLINE).await;
    let form = code_form(&client.client_id, &code);
    let res = match &client.client_secret {
        None => token(app, &form, None).await,
        Some(secret) => {
            let without_id = [form[0], form[1], form[2], form[4]];
            token(app, &without_id, Some((&client.client_id, secret))).await
        }
    };
    assert_eq!(res.status(), 200);
    (code, res.json().await.unwrap())
}

/// A confidential client (and its secret), a signed-in browser, and tokens it got from a code.
async fn confidential_tokens(app: &TestApp) -> (Registered, String, Browser, Value) {
    let client = register(app, ClientType::Confidential, true).await;
    let secret = client.client_secret.clone().unwrap();
    let browser = app.signed_in_customer("ada@example.com").await;
    let (_, issued) = tokens(app, &browser, &client).await;
    (client, secret, browser, issued)
}

async fn refresh(app: &TestApp, client: &Registered, refresh_token: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", client.client_id.as_str()),
    ];
    let res = token(app, &form, None).await;
    (res.status().as_u16(), res.json().await.unwrap())
}

#[sqlx::test(migrations = "../migrations")]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_family(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let (_, first) = tokens(&app, &browser, &client).await;
    let r1 = first["refresh_token"].as_str().unwrap().to_owned();

    let (status, second) = refresh(&app, &client, &r1).await;
    assert_eq!(status, 200);
    let r2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2);
    assert!(second["id_token"].is_string());
    assert_eq!(second["scope"], "email offline_access openid");

    // The old one again: refused, and the whole family with it.
    let (status, body) = refresh(&app, &client, &r1).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (_, body) = refresh(&app, &client, &r2).await;
    assert_eq!(body["error_description"], "The refresh token was revoked.");

    // Without offline_access there is no refresh token.
    let code = code_for(&browser, &client, &[]).await;
    let form = code_form(&client.client_id, &code);
    let body: Value = token(&app, &form, None).await.json().await.unwrap();
    assert!(body.get("refresh_token").is_none());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_refresh_token_works_only_for_its_client_and_a_narrower_scope(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let other = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let (_, first) = tokens(&app, &browser, &client).await;
    let r1 = first["refresh_token"].as_str().unwrap();

    let (status, body) = refresh(&app, &other, r1).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error_description"],
        "The refresh token was issued to another client."
    );
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", r1),
        ("client_id", client.client_id.as_str()),
        ("scope", "openid phone"),
    ];
    let body: Value = token(&app, &form, None).await.json().await.unwrap();
    assert_eq!(body["error"], "invalid_scope");
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", r1),
        ("client_id", client.client_id.as_str()),
        ("scope", "email"),
    ];
    let body: Value = token(&app, &form, None).await.json().await.unwrap();
    assert_eq!(body["scope"], "email");
    assert!(body.get("id_token").is_none(), "no openid, no ID token");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_reused_code_revokes_the_tokens_it_issued(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let (code, first) = tokens(&app, &browser, &client).await;
    let form = code_form(&client.client_id, &code);
    let body: Value = token(&app, &form, None).await.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    let (_, body) = refresh(&app, &client, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(body["error_description"], "The refresh token was revoked.");
}

#[sqlx::test(migrations = "../migrations")]
async fn revocation_and_introspection(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (client, secret, _, issued) = confidential_tokens(&app).await;
    let auth = Some((client.client_id.as_str(), secret.as_str()));
    let access = issued["access_token"].as_str().unwrap();
    let refresh_token = issued["refresh_token"].as_str().unwrap();

    let info: Value = post(&app, "introspect", &[("token", access)], auth)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["active"], true);
    assert_eq!(info["client_id"], client.client_id);
    assert_eq!(info["scope"], "email offline_access openid");
    let info: Value = post(&app, "introspect", &[("token", refresh_token)], auth)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["token_type"], "refresh_token");
    assert_eq!(info["active"], true);
    let info: Value = post(&app, "introspect", &[("token", "junk")], auth)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info, serde_json::json!({ "active": false }));

    // Unauthenticated callers and public clients may not introspect.
    let res = post(&app, "introspect", &[("token", access)], None).await;
    assert_eq!(res.status(), 401);
    let public = register(&app, ClientType::Public, true).await;
    let res = post(
        &app,
        "introspect",
        &[("token", access), ("client_id", &public.client_id)],
        None,
    )
    .await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );

    // Revoking: the access token stops working at once, the refresh token's family too.
    let res = post(&app, "revoke", &[("token", access)], auth).await;
    assert_eq!(res.status(), 200);
    let res = userinfo(&app, access).await;
    assert_eq!(res.status(), 401);
    let info: Value = post(&app, "introspect", &[("token", access)], auth)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["active"], false);
    let res = post(&app, "revoke", &[("token", refresh_token)], auth).await;
    assert_eq!(res.status(), 200);
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    let body: Value = token(&app, &form, auth).await.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");

    // Unknown tokens are fine; a missing one or a bad client is not.
    assert_eq!(
        post(&app, "revoke", &[("token", "junk")], auth)
            .await
            .status(),
        200
    );
    let res = post(&app, "revoke", &[], auth).await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
    let res = post(
        &app,
        "revoke",
        &[("token", "junk")],
        Some((&client.client_id, "x")),
    )
    .await;
    assert_eq!(res.status(), 401);
}

#[sqlx::test(migrations = "../migrations")]
async fn service_clients_get_tokens_for_their_own_scopes(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (id, secret) = register_service(&app, &["orders.read", "orders.write"]).await;
    let auth = Some((id.as_str(), secret.as_str()));

    let form = [
        ("grant_type", "client_credentials"),
        ("scope", "orders.read"),
    ];
    let res = token(&app, &form, auth).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["scope"], "orders.read");
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    let access = body["access_token"].as_str().unwrap();
    let info: Value = post(&app, "introspect", &[("token", access)], auth)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], id);
    let res = userinfo(&app, access).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer error=\"insufficient_scope\""
    );

    let all: Value = token(&app, &[("grant_type", "client_credentials")], auth)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["scope"], "orders.read orders.write");
    let form = [("grant_type", "client_credentials"), ("scope", "admin")];
    let body: Value = token(&app, &form, auth).await.json().await.unwrap();
    assert_eq!(body["error"], "invalid_scope");

    // The client is now cached; a change to it applies at once all the same.
    sqlx::query("UPDATE oauth_clients SET scopes = '{orders.read}' WHERE id = $1")
        .bind(&id)
        .execute(&app.db)
        .await
        .unwrap();
    let write = [
        ("grant_type", "client_credentials"),
        ("scope", "orders.write"),
    ];
    let refused = eventually(|| async {
        let body: Value = token(&app, &write, auth).await.json().await.unwrap();
        body["error"] == "invalid_scope"
    })
    .await;
    assert!(refused, "a scope taken away is refused within moments");
    sqlx::query("DELETE FROM oauth_clients WHERE id = $1")
        .bind(&id)
        .execute(&app.db)
        .await
        .unwrap();
    let gone = eventually(|| async { token(&app, &form, auth).await.status() == 401 }).await;
    assert!(gone, "a deleted client is refused within moments");

    // Apps that sign people in may not use it.
    let client = register(&app, ClientType::Confidential, true).await;
    let secret = client.client_secret.unwrap();
    let res = token(
        &app,
        &[("grant_type", "client_credentials")],
        Some((&client.client_id, &secret)),
    )
    .await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "unauthorized_client"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn disconnecting_an_app_forgets_its_consent_and_revokes_its_tokens(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, false).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let res = browser.get(&authorize_url(&client, OFFLINE)).await;
    let back = answer_consent(&browser, &location(&res), "approve").await;
    let code = answer(&back)["code"].clone();
    let form = code_form(&client.client_id, &code);
    let issued: Value = token(&app, &form, None).await.json().await.unwrap();

    let apps: Value = browser
        .call("connected-apps", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(apps[0]["name"], "Partner Shop");
    assert_eq!(
        apps[0]["permissions"],
        serde_json::json!([
            "See your email address",
            "Stay connected when you are not using it",
            "Know who you are when you sign in"
        ])
    );

    // Someone else cannot disconnect it for this account; the owner can.
    let other = app.signed_in_customer("bob@example.com").await;
    let res = other
        .call(
            "connected-apps/disconnect",
            &[("client_id", &client.client_id)],
        )
        .await;
    assert_eq!(res.status(), 400);
    let res = browser
        .call(
            "connected-apps/disconnect",
            &[("client_id", &client.client_id)],
        )
        .await;
    assert_eq!(res.status(), 200);
    let apps: Value = browser
        .call("connected-apps", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(apps, serde_json::json!([]));
    let (_, body) = refresh(&app, &client, issued["refresh_token"].as_str().unwrap()).await;
    assert_eq!(body["error_description"], "The refresh token was revoked.");
    let res = browser.get(&authorize_url(&client, OFFLINE)).await;
    assert!(
        location(&res).starts_with("/oauth2/consent?"),
        "consent is asked again"
    );

    // The approval and the disconnection stay in the consent ledger, newest first.
    let mine: Value = browser.call("consents", &[]).await.json().await.unwrap();
    let history: Vec<&str> = mine["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["what"].as_str().unwrap())
        .collect();
    assert_eq!(
        history,
        [
            "Disconnected Partner Shop",
            "Allowed Partner Shop to sign you in",
            "Accepted Privacy policy (version 1)",
            "Accepted Terms of service (version 1)"
        ]
    );
    let scopes: Vec<Vec<String>> = sqlx::query_scalar(
        "SELECT scopes FROM consent_ledger WHERE client_id IS NOT NULL ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(scopes[0], scopes[1], "the withdrawal names what was held");
}

/// The claims userinfo gives for `access`, or `None` when it refuses the token.
async fn claims_at_userinfo(app: &TestApp, access: &str) -> Option<Value> {
    let res = userinfo(app, access).await;
    match res.status().as_u16() {
        200 => Some(res.json().await.unwrap()),
        401 => None,
        other => panic!("userinfo answered {other}"),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn changes_made_elsewhere_reach_the_copies_in_memory(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (client, secret, browser, issued) = confidential_tokens(&app).await;
    let auth = Some((client.client_id.as_str(), secret.as_str()));
    let access = issued["access_token"].as_str().unwrap();
    let sub = claims_at_userinfo(&app, access).await.unwrap()["sub"].clone();

    // Another node (here: a direct write) changes the person: userinfo follows.
    sqlx::query("UPDATE users SET email = 'ada.new@example.com' WHERE id::text = $1")
        .bind(sub.as_str().unwrap())
        .execute(&app.db)
        .await
        .unwrap();
    let changed = eventually(|| async {
        claims_at_userinfo(&app, access).await.unwrap()["email"] == "ada.new@example.com"
    })
    .await;
    assert!(changed, "a changed email reaches userinfo within moments");

    // Another node revokes the access token: introspection and userinfo follow.
    let introspect = || async {
        let info: Value = post(&app, "introspect", &[("token", access)], auth)
            .await
            .json()
            .await
            .unwrap();
        info
    };
    let jti = introspect().await["jti"].as_str().unwrap().to_owned();
    sqlx::query(
        "INSERT INTO revoked_access_tokens (jti, expires_at)
         VALUES ($1::uuid, now() + interval '1 hour')",
    )
    .bind(&jti)
    .execute(&app.db)
    .await
    .unwrap();
    let revoked = eventually(|| async { introspect().await["active"] == false }).await;
    assert!(
        revoked,
        "a revocation made elsewhere is known within moments"
    );
    assert_eq!(claims_at_userinfo(&app, access).await, None);

    // A node that starts later loads the revocations already made, and answers from memory.
    let later = app::domain::oidc::revoked::RevokedTokens::default();
    later.load(&app.db).await.unwrap();
    assert!(later.is_complete());
    sqlx::query("DELETE FROM revoked_access_tokens")
        .execute(&app.db)
        .await
        .unwrap();
    let revoked = later.contains_any(&app.db, &[jti.parse().unwrap()]).await;
    assert!(revoked.unwrap());

    // The account is deleted: its other tokens stop working.
    let (_, second) = tokens(&app, &browser, &client).await;
    let access = second["access_token"].as_str().unwrap();
    assert!(claims_at_userinfo(&app, access).await.is_some());
    sqlx::query("DELETE FROM users WHERE id::text = $1")
        .bind(sub.as_str().unwrap())
        .execute(&app.db)
        .await
        .unwrap();
    let gone = eventually(|| async { claims_at_userinfo(&app, access).await.is_none() }).await;
    assert!(
        gone,
        "a deleted account's tokens stop working within moments"
    );
}
