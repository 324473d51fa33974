//! How sure a sign-in is travels into the apps' tokens: `amr`, `acr` and `auth_time` in ID
//! tokens (also after a refresh); `acr_values` asking for multi-factor, or an app registered to
//! require it, sends a one-factor sign-in through the second step first (and `prompt=none`
//! hears `interaction_required`).

use crate::support::{
    mfa,
    oidc::{answer, authorize_url, code_form, location, register, token, REDIRECT},
    Browser, TestApp,
};
use app::domain::{
    assurance::{ACR_MULTI_FACTOR, ACR_SINGLE_FACTOR},
    audit::Actor,
    oidc::{
        clients::{ClientSecretKey, ClientType},
        registration::{self, NewClient, Registered},
    },
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde_json::Value;
use sqlx::PgPool;

const EMAIL: &str = "ada@example.com";

/// The claims of a compact JWS (its signature is checked in `oidc_flow.rs`).
fn claims(jws: &str) -> Value {
    let payload = jws.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The ID token's claims for the code in the app's redirect `location`.
async fn id_token_claims(app: &TestApp, client: &Registered, location: &str) -> Value {
    let code = answer(location)["code"].clone();
    let res = token(app, &code_form(&client.client_id, &code), None).await;
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.unwrap();
    claims(tokens["id_token"].as_str().unwrap())
}

/// Completes a waiting second step with a mailed code (the person has no other factor);
/// returns where the browser goes next.
async fn second_step_by_mail(app: &TestApp, browser: &Browser) -> String {
    let offer = mfa::offer(browser).await.expect("the second step waits");
    assert_eq!(offer["email"], true);
    let code = mfa::mailed_code(app, browser, EMAIL).await;
    let res = browser
        .call("second-factor/email", &[("code", &code)])
        .await;
    let next = location(&res);
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    next
}

#[sqlx::test(migrations = "../migrations")]
async fn id_tokens_say_how_the_person_signed_in(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer(EMAIL).await;
    let res = browser.get(&authorize_url(&client, &[])).await;
    let claims = id_token_claims(&app, &client, &location(&res)).await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
    assert_eq!(claims["acr"], ACR_SINGLE_FACTOR);
    assert!(claims["auth_time"].as_i64().unwrap() > 0);

    let discovery: Value = browser
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        discovery["acr_values_supported"],
        serde_json::json!([ACR_SINGLE_FACTOR, ACR_MULTI_FACTOR])
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn asking_for_multi_factor_steps_a_one_factor_sign_in_up(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer(EMAIL).await;

    // prompt=none cannot step up: the app hears why.
    let silent = authorize_url(
        &client,
        &[("acr_values", ACR_MULTI_FACTOR), ("prompt", "none")],
    );
    let res = browser.get(&silent).await;
    assert_eq!(answer(&location(&res))["error"], "interaction_required");

    let res = browser
        .get(&authorize_url(&client, &[("acr_values", ACR_MULTI_FACTOR)]))
        .await;
    assert_eq!(location(&res), "/signin/second-factor");
    // Back through the continuation to the same request.
    let next = second_step_by_mail(&app, &browser).await;
    assert!(next.starts_with("/oauth2/continue?request="), "{next}");
    let res = browser
        .get(&next.replace("/oauth2/continue", "/oauth2/authorize/continue"))
        .await;
    let back = location(&res);
    assert!(back.starts_with(REDIRECT), "{back}");
    let claims = id_token_claims(&app, &client, &back).await;
    assert_eq!(claims["acr"], ACR_MULTI_FACTOR);
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]));

    // Multi-factor now: the next request for it goes straight through, same sign-in.
    let res = browser
        .get(&authorize_url(&client, &[("acr_values", ACR_MULTI_FACTOR)]))
        .await;
    let again = id_token_claims(&app, &client, &location(&res)).await;
    assert_eq!(again["acr"], ACR_MULTI_FACTOR);
    assert_eq!(again["sid"], claims["sid"], "a step-up keeps the sign-in");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_app_registered_to_require_multi_factor_always_gets_it(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = registration::create(
        &app.db,
        &ClientSecretKey::derive(&[7; 32]),
        &NewClient {
            name: "Bank".into(),
            client_type: ClientType::Public,
            redirect_uris: vec![REDIRECT.into()],
            first_party: true,
            require_mfa: true,
            ..Default::default()
        },
        Actor::Cli,
    )
    .await
    .unwrap();
    let browser = app.signed_in_customer(EMAIL).await;
    // Even asking for a single factor.
    let res = browser
        .get(&authorize_url(
            &client,
            &[("acr_values", ACR_SINGLE_FACTOR)],
        ))
        .await;
    assert_eq!(location(&res), "/signin/second-factor");
    let next = second_step_by_mail(&app, &browser).await;
    let res = browser
        .get(&next.replace("/oauth2/continue", "/oauth2/authorize/continue"))
        .await;
    let claims = id_token_claims(&app, &client, &location(&res)).await;
    assert_eq!(claims["acr"], ACR_MULTI_FACTOR);
}
