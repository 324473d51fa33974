//! What binds an authorization to the request it answers: PKCE for every app that signs people
//! in (RFC 9700 §2.1.1), and a consent answer that names the request whose screen was shown, so
//! a request opened in another tab can never ride on it.

use crate::support::{oidc::*, Browser, TestApp};
use app::domain::{
    audit::Actor,
    oidc::{
        clients::{ClientSecretKey, ClientType},
        registration::{self, NewClient},
    },
};
use sqlx::PgPool;

/// The value of `name` in the query of a relative `location`.
fn query_param(location: &str, name: &str) -> Option<String> {
    url::Url::parse(&format!("http://localhost{location}"))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Where the consent page's answer leads: the continuation of that one request.
async fn continue_after(browser: &Browser, consent_answer: &str) -> String {
    let request = query_param(consent_answer, "request").expect("the request's id");
    let res = browser
        .get(&format!("/oauth2/authorize/continue?request={request}"))
        .await;
    location(&res)
}

async fn grants_for(app: &TestApp, client_id: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM oauth_grants WHERE client_id = $1")
        .bind(client_id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_confidential_app_must_use_pkce_too(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Confidential, true).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let res = browser
        .get(&authorize_url(
            &client,
            &[("code_challenge", ""), ("code_challenge_method", "")],
        ))
        .await;
    let q = answer(&location(&res));
    assert_eq!(q["error"], "invalid_request");
    assert!(!q.contains_key("code"));
}

#[sqlx::test(migrations = "../migrations")]
async fn approving_one_apps_screen_never_grants_another(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let shop = register(&app, ClientType::Confidential, false).await;
    let evil = register(&app, ClientType::Confidential, false).await;
    let browser = app.signed_in_customer("ada@example.com").await;

    // The person opens the shop's sign-in in one tab; another tab opens the other app's.
    let shop_screen = location(
        &browser
            .get(&authorize_url(&shop, &[("state", "for-shop")]))
            .await,
    );
    assert!(shop_screen.starts_with("/oauth2/consent?"), "{shop_screen}");
    let evil_screen = location(
        &browser
            .get(&authorize_url(&evil, &[("state", "for-evil")]))
            .await,
    );
    let shop_request = query_param(&shop_screen, "request").expect("the shop's request id");
    assert_ne!(
        Some(&shop_request),
        query_param(&evil_screen, "request").as_ref()
    );

    // An answer that names no request grants nothing.
    let res = browser
        .post_form("/oauth2/consent", &[("decision", "approve")])
        .await;
    assert!(
        location(&res).starts_with("/oauth2/error"),
        "{}",
        location(&res)
    );
    assert_eq!(grants_for(&app, &evil.client_id).await, 0);

    // Approving the shop's screen grants the shop, and only the shop.
    let res = browser
        .post_form(
            "/oauth2/consent",
            &[("request", &shop_request), ("decision", "approve")],
        )
        .await;
    let back = continue_after(&browser, &location(&res)).await;
    let q = answer(&back);
    assert_eq!(q["state"], "for-shop");
    assert!(q.contains_key("code"));
    assert_eq!(grants_for(&app, &shop.client_id).await, 1);
    assert_eq!(grants_for(&app, &evil.client_id).await, 0);

    // Each request is answered once.
    let res = browser
        .post_form(
            "/oauth2/consent",
            &[("request", &shop_request), ("decision", "approve")],
        )
        .await;
    assert!(location(&res).starts_with("/oauth2/error"));

    // The other tab's request is still there, for its own screen.
    let evil_request = query_param(&evil_screen, "request").unwrap();
    let res = browser
        .post_form(
            "/oauth2/consent",
            &[("request", &evil_request), ("decision", "deny")],
        )
        .await;
    let q = answer(&continue_after(&browser, &location(&res)).await);
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "for-evil");
    assert_eq!(grants_for(&app, &evil.client_id).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn only_a_legacy_confidential_app_sending_a_nonce_may_go_without_pkce(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let key = ClientSecretKey::derive(&[7; 32]);
    let legacy = NewClient {
        name: "Legacy portal".into(),
        client_type: ClientType::Confidential,
        redirect_uris: vec![REDIRECT.into()],
        first_party: true,
        allow_no_pkce: true,
        ..Default::default()
    };
    let client = registration::create(&app.db, &key, &legacy, Actor::Cli)
        .await
        .unwrap();
    let secret = client.client_secret.clone().unwrap();
    let browser = app.signed_in_customer("ada@example.com").await;
    let without_pkce = [("code_challenge", ""), ("code_challenge_method", "")];

    // Without a nonce: refused like any other app.
    let mut no_nonce = without_pkce.to_vec();
    no_nonce.push(("nonce", ""));
    let q = answer(&location(
        &browser.get(&authorize_url(&client, &no_nonce)).await,
    ));
    assert_eq!(q["error"], "invalid_request");

    // With one: a code, exchanged without a verifier.
    let q = answer(&location(
        &browser.get(&authorize_url(&client, &without_pkce)).await,
    ));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", q["code"].as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let res = token(&app, &form, Some((&client.client_id, &secret))).await;
    assert_eq!(res.status(), 200);

    // When it does send a challenge, the verifier is required as for everyone.
    let code = code_for(&browser, &client, &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let res = token(&app, &form, Some((&client.client_id, &secret))).await;
    assert_eq!(res.status(), 400);

    // No other kind of app can be registered without PKCE.
    for client_type in [ClientType::Public, ClientType::Service] {
        let new = NewClient {
            client_type,
            redirect_uris: if client_type == ClientType::Service {
                vec![]
            } else {
                vec![REDIRECT.into()]
            },
            ..legacy.clone()
        };
        assert!(registration::create(&app.db, &key, &new, Actor::Cli)
            .await
            .is_err());
    }
}
