//! Pushed authorization requests (RFC 9126): the app posts its request, the browser brings only
//! the single-use request_uri; bad pushes get the RFC's error JSON and store nothing.

use crate::support::{oidc::*, TestApp};
use app::domain::audit::Actor;
use app::domain::oidc::clients::{ClientSecretKey, ClientType};
use app::domain::oidc::registration::{self, NewClient};
use serde_json::Value;
use sqlx::PgPool;

type Form<'a> = Vec<(&'a str, &'a str)>;
type Basic<'a> = Option<(&'a str, &'a str)>;

fn pushed_form<'a>(challenge: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid email"),
        ("state", "pushed-1"),
        ("nonce", "n-9"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        form.retain(|(p, _)| p != k);
        form.push((k, v));
    }
    form
}

async fn stored(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM pushed_requests")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_pushed_request_is_used_once_by_the_browser(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Confidential, true).await;
    let secret = client.client_secret.clone().unwrap();
    let basic = Some((client.client_id.as_str(), secret.as_str()));
    let challenge = challenge(VERIFIER);
    let browser = app.signed_in_customer("ada@example.com").await;

    let res = post(&app, "par", &pushed_form(&challenge, &[]), basic).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["expires_in"], 60);
    let request_uri = body["request_uri"].as_str().unwrap().to_owned();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));

    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", client.client_id.as_str()),
            ("request_uri", &request_uri),
        ])
        .finish();
    let res = browser.get(&format!("/oauth2/authorize?{query}")).await;
    let q = answer(&location(&res));
    assert_eq!(q["state"], "pushed-1");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", q["code"].as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let res = token(&app, &form, basic).await;
    assert_eq!(res.status(), 200);

    // Single use; and another client cannot use it.
    let res = browser.get(&format!("/oauth2/authorize?{query}")).await;
    assert_eq!(location(&res), "/oauth2/error?reason=bad_pushed_request");
    assert_eq!(stored(&app).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_pushes_get_the_rfc_errors_and_store_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Confidential, true).await;
    let secret = client.client_secret.clone().unwrap();
    let basic = Some((client.client_id.as_str(), secret.as_str()));
    let challenge = challenge(VERIFIER);

    let cases: Vec<(Form, Basic, u16, &str)> = vec![
        (
            pushed_form(&challenge, &[("redirect_uri", "https://evil.example/cb")]),
            basic,
            400,
            "invalid_request",
        ),
        (
            pushed_form(&challenge, &[("code_challenge_method", "plain")]),
            basic,
            400,
            "invalid_request",
        ),
        (
            pushed_form(&challenge, &[("response_type", "token")]),
            basic,
            400,
            "unsupported_response_type",
        ),
        (
            pushed_form(&challenge, &[("request_uri", "urn:x")]),
            basic,
            400,
            "invalid_request",
        ),
        (
            pushed_form(&challenge, &[("client_id", "someone-else")]),
            basic,
            400,
            "invalid_request",
        ),
        (
            pushed_form(&challenge, &[]),
            Some((client.client_id.as_str(), "wrong-secret")),
            401,
            "invalid_client",
        ),
    ];
    for (form, auth, status, error) in cases {
        let res = post(&app, "par", &form, auth).await;
        assert_eq!(res.status(), status, "{form:?}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], error, "{form:?}");
    }
    assert_eq!(stored(&app).await, 0);

    // A request_uri that was never issued stops at our page.
    let res = app
        .browser()
        .get(&format!(
            "/oauth2/authorize?client_id={}&request_uri=urn:ietf:params:oauth:request_uri:nope",
            client.client_id
        ))
        .await;
    assert_eq!(location(&res), "/oauth2/error?reason=bad_pushed_request");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_app_that_requires_par_cannot_send_its_request_through_the_browser(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = registration::create(
        &app.db,
        &ClientSecretKey::derive(&[7; 32]),
        &NewClient {
            name: "Bank".into(),
            client_type: ClientType::Confidential,
            redirect_uris: vec![REDIRECT.into()],
            first_party: true,
            require_par: true,
            ..Default::default()
        },
        Actor::Cli,
    )
    .await
    .unwrap();
    let browser = app.signed_in_customer("ada@example.com").await;
    let res = browser.get(&authorize_url(&client, &[])).await;
    let q = answer(&location(&res));
    assert_eq!(q["error"], "invalid_request");
    assert!(q["error_description"].contains("RFC 9126"));
}
