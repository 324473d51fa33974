//! Social sign-in, the parts that need no upstream sign-in: provider configuration (secrets
//! sealed at rest), the redirect out (PKCE S256, state, nonce), and a callback that does not
//! match this browser's flow. Whole journeys against a real OpenID provider are in end2end.

use std::collections::HashMap;

use crate::support::{social::add_provider, TestApp};
use app::domain::social::providers;
use axum::{routing::get, Json, Router};
use serde_json::json;
use sqlx::PgPool;

/// Serves an OpenID discovery document for its own address (nothing else).
async fn discovery_only_issuer() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    let doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
    });
    let app = Router::new().route(
        "/.well-known/openid-configuration",
        get(move || {
            let doc = doc.clone();
            async move { Json(doc) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    issuer
}

fn query_of(location: &str) -> HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_client_secret_is_sealed_at_rest(db: PgPool) {
    let app = TestApp::spawn(db).await;
    add_provider(&app, "https://idp.example.com").await;
    let sealed: Vec<u8> =
        sqlx::query_scalar("SELECT client_secret_enc FROM social_providers WHERE id = 'upstream'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(!sealed.windows(11).any(|w| w == b"very-secret"));
    let state = server::startup::app_state(app.db.clone(), &app.config).unwrap();
    let provider = providers::load_enabled(&app.db, &state.secrets, "upstream")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(provider.client_secret.as_deref(), Some("very-secret"));
    assert_eq!(provider.scopes, ["openid", "email", "profile"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_redirect_out_carries_pkce_state_and_nonce(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let issuer = discovery_only_issuer().await;
    add_provider(&app, &issuer).await;
    let browser = app.browser();

    let res = browser.call("sign-in-options", &[]).await;
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["social"],
        json!([{ "id": "upstream", "name": "Upstream ID" }])
    );

    let res = browser.get("/signin/social/upstream").await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{issuer}/auth?")),
        "{location}"
    );
    let q = query_of(&location);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], "keyhaven");
    assert_eq!(
        q["redirect_uri"],
        format!("{}/signin/social/upstream/callback", app.public_url)
    );
    assert_eq!(q["scope"], "openid email profile");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43);
    assert!(q["state"].len() >= 16);
    assert!(q["nonce"].len() >= 16);

    // A callback with another state is refused, and uses the flow up.
    let res = browser
        .get("/signin/social/upstream/callback?code=abc&state=forged")
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/signin?social_error=expired");
    let res = browser
        .get(&format!(
            "/signin/social/upstream/callback?code=abc&state={}",
            q["state"]
        ))
        .await;
    assert_eq!(
        res.headers()["location"],
        "/signin?social_error=expired",
        "the right state after a failure: the flow is gone"
    );
    assert_eq!(browser.me().await, None);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_flow_from_another_browser_or_a_refusal_signs_nobody_in(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let issuer = discovery_only_issuer().await;
    add_provider(&app, &issuer).await;
    let asking = app.browser();
    let res = asking.get("/signin/social/upstream").await;
    let q = query_of(res.headers()["location"].to_str().unwrap());

    // Another browser bringing the right state has no flow of its own.
    let other = app.browser();
    let res = other
        .get(&format!(
            "/signin/social/upstream/callback?code=abc&state={}",
            q["state"]
        ))
        .await;
    assert_eq!(res.headers()["location"], "/signin?social_error=expired");

    // The provider reports that the person said no.
    let res = asking
        .get(&format!(
            "/signin/social/upstream/callback?error=access_denied&state={}",
            q["state"]
        ))
        .await;
    assert_eq!(res.headers()["location"], "/signin?social_error=cancelled");
    assert_eq!(asking.me().await, None);
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_disabled_and_switched_off_providers_are_unavailable(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let issuer = discovery_only_issuer().await;
    add_provider(&app, &issuer).await;
    let browser = app.browser();
    let res = browser.get("/signin/social/nobody").await;
    assert_eq!(
        res.headers()["location"],
        "/signin?social_error=unavailable"
    );

    app.set_policy("social_enabled = false").await;
    let res = browser.get("/signin/social/upstream").await;
    assert_eq!(
        res.headers()["location"],
        "/signin?social_error=unavailable"
    );
    let res = browser.call("sign-in-options", &[]).await;
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["social"],
        json!([])
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_form_post_answer_becomes_a_get_of_the_callback(db: PgPool) {
    let app = TestApp::spawn(db).await;
    // Posted from the provider's site, as Apple's form_post does.
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("http://{}/signin/social/apple/callback", app.addr))
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://appleid.apple.com")
        .form(&[("code", "c o"), ("state", "s"), ("user", "{\"name\":1}")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/signin/social/apple/callback?code=c+o&state=s"
    );
    // Every other cross-site post is still refused.
    let res = reqwest::Client::new()
        .post(format!("http://{}/signin/social/apple", app.addr))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_link_needs_a_waiting_identity_of_ones_own(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let res = browser.call("identities/confirm", &[]).await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        crate::support::error_of(res).await,
        json!({ "Refused": "There is no sign-in to link waiting; start again from the sign-in page." })
    );
    let res = browser
        .call("identities/unlink", &[("provider", "upstream")])
        .await;
    assert_eq!(
        crate::support::error_of(res).await,
        json!({ "Refused": "No such linked account." })
    );
    let res = browser.call("identities", &[]).await;
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap(),
        json!({ "linked": [], "available": [] })
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn linking_a_provider_starts_only_with_a_post_from_the_profile(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let issuer = discovery_only_issuer().await;
    add_provider(&app, &issuer).await;
    let browser = app.signed_in_customer("ada@example.com").await;

    // A link (an image, a page elsewhere) cannot start linking someone else's identity.
    let res = browser.get("/signin/social/upstream?link=1").await;
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(!location.starts_with(&issuer), "{location}");

    // The profile's form posts; the answer goes on to the provider by a refresh (a new
    // navigation, which the CSP's form-action does not stop).
    let res = browser.post_form("/signin/social/upstream/link", &[]).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains(&format!("url={issuer}/auth?")), "{page}");
}
