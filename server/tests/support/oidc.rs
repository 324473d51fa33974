//! Helpers for the OpenID provider's tests: registering clients, authorization requests,
//! reading the answers, and calling the token endpoint.

use std::collections::HashMap;

use app::domain::audit::Actor;
use app::domain::oidc::clients::{ClientSecretKey, ClientType};
use app::domain::oidc::registration::{self, NewClient, Registered};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use reqwest::Response;
use sha2::{Digest, Sha256};

use super::{Browser, TestApp};

pub const REDIRECT: &str = "https://app.example/callback";
pub const LOGOUT_REDIRECT: &str = "https://app.example/signed-out";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub async fn register(app: &TestApp, client_type: ClientType, first_party: bool) -> Registered {
    registration::create(
        &app.db,
        &ClientSecretKey::derive(&[7; 32]),
        &NewClient {
            name: "Partner Shop".into(),
            client_type,
            redirect_uris: vec![REDIRECT.into()],
            first_party,
            scopes: vec![],
            post_logout_redirect_uris: vec![LOGOUT_REDIRECT.into()],
            ..Default::default()
        },
        Actor::Cli,
    )
    .await
    .unwrap()
}

/// The standard authorization request of `client`, with `extra` parameters added or replaced.
pub fn authorize_url(client: &Registered, extra: &[(&str, &str)]) -> String {
    let challenge = challenge(VERIFIER);
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", &client.client_id),
        ("redirect_uri", REDIRECT),
        ("scope", "openid email profile"),
        ("state", "st-1"),
        ("nonce", "n-1"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        params.retain(|(p, _)| p != k);
        if !v.is_empty() {
            params.push((k, v));
        }
    }
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    format!("/oauth2/authorize?{query}")
}

pub fn location(res: &Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

/// The query of a redirect to the app.
pub fn answer(location: &str) -> HashMap<String, String> {
    assert!(location.starts_with(REDIRECT), "{location}");
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// The token request of public client `client_id` for `code` (PKCE with [`VERIFIER`]).
pub fn code_form<'a>(client_id: &'a str, code: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("client_id", client_id),
        ("code_verifier", VERIFIER),
    ]
}

pub async fn token(app: &TestApp, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> Response {
    let mut request = reqwest::Client::new()
        .post(format!("http://{}/oauth2/token", app.addr))
        .form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    request.send().await.unwrap()
}

pub async fn code_for(browser: &Browser, client: &Registered, extra: &[(&str, &str)]) -> String {
    let res = browser.get(&authorize_url(client, extra)).await;
    assert_eq!(res.status(), 303);
    answer(&location(&res))["code"].clone()
}

/// A service client (client_credentials) with `scopes`; returns its id and secret.
pub async fn register_service(app: &TestApp, scopes: &[&str]) -> (String, String) {
    let done = registration::create(
        &app.db,
        &ClientSecretKey::derive(&[7; 32]),
        &NewClient {
            name: "Batch".into(),
            client_type: ClientType::Service,
            redirect_uris: vec![],
            first_party: false,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            post_logout_redirect_uris: vec![],
            ..Default::default()
        },
        Actor::Cli,
    )
    .await
    .unwrap();
    (done.client_id, done.client_secret.unwrap())
}

/// POSTs `form` to one of the provider's endpoints (`revoke`, `introspect`).
pub async fn post(
    app: &TestApp,
    endpoint: &str,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> Response {
    let mut request = reqwest::Client::new()
        .post(format!("http://{}/oauth2/{endpoint}", app.addr))
        .form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    request.send().await.unwrap()
}

/// GET userinfo with `access` as bearer token.
pub async fn userinfo(app: &TestApp, access: &str) -> Response {
    reqwest::Client::new()
        .get(format!("http://{}/oauth2/userinfo", app.addr))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
}

/// The id of the waiting request a consent screen's address (`/oauth2/consent?request=…`)
/// names.
pub fn consent_request(screen: &str) -> String {
    assert!(screen.starts_with("/oauth2/consent?request="), "{screen}");
    url::Url::parse(&format!("http://localhost{screen}"))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "request")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

/// Answers the consent screen at `screen` with `decision` (`approve` or `deny`) as its form
/// does, follows the continuation, and returns where the browser is sent (the app's redirect).
pub async fn answer_consent(browser: &Browser, screen: &str, decision: &str) -> String {
    let request = consent_request(screen);
    let res = browser
        .post_form(
            "/oauth2/consent",
            &[("request", request.as_str()), ("decision", decision)],
        )
        .await;
    assert_eq!(
        location(&res),
        format!("/oauth2/continue?request={request}")
    );
    let res = browser
        .get(&format!("/oauth2/authorize/continue?request={request}"))
        .await;
    location(&res)
}
