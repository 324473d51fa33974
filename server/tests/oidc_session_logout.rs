//! Session-aware logout of the OpenID provider: ID tokens name the sign-in (`sid`); when it
//! ends (sign-out, password reset, an expired session) every app it signed in to gets a signed
//! logout token by back-channel, retried when the app fails; the end-session page loads
//! front-channel logout pages.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use crate::support::{oidc::*, Browser, TestApp, GOOD_PASSWORD};
use app::domain::audit::Actor;
use app::domain::oidc::clients::{ClientSecretKey, ClientType};
use app::domain::oidc::registration::{self, NewClient, Registered};
use axum::{extract::Path, http::StatusCode, routing::post, Form, Router};
use jsonwebtoken::{jwk::JwkSet, DecodingKey, Validation};
use serde_json::Value;
use sqlx::PgPool;

/// A stand-in for the apps' back-channel endpoints: records each logout token by app, and
/// answers 500 to the first `fail_first` posts of an app named `flaky`.
#[derive(Clone, Default)]
struct Receiver {
    tokens: Arc<Mutex<Vec<(String, String)>>>,
    flaky_failures: Arc<Mutex<u32>>,
}

impl Receiver {
    async fn start(fail_first: u32) -> (Self, String) {
        let receiver = Self::default();
        *receiver.flaky_failures.lock().unwrap() = fail_first;
        let state = receiver.clone();
        let router = Router::new().route(
            "/bc/{app}",
            post(
                move |Path(app): Path<String>, Form(form): Form<HashMap<String, String>>| {
                    let state = state.clone();
                    async move {
                        if app == "flaky" {
                            let mut left = state.flaky_failures.lock().unwrap();
                            if *left > 0 {
                                *left -= 1;
                                return StatusCode::INTERNAL_SERVER_ERROR;
                            }
                        }
                        let token = form.get("logout_token").cloned().unwrap_or_default();
                        state.tokens.lock().unwrap().push((app, token));
                        StatusCode::OK
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!(
            "http://127.0.0.1:{}/bc",
            listener.local_addr().unwrap().port()
        );
        tokio::spawn(async move { axum::serve(listener, router).await });
        (receiver, base)
    }

    /// Waits (up to 15 s) until tokens for every app in `apps` arrived; returns them by app.
    async fn wait_for(&self, apps: &[&str]) -> HashMap<String, String> {
        for _ in 0..150 {
            let got: HashMap<String, String> =
                self.tokens.lock().unwrap().iter().cloned().collect();
            if apps.iter().all(|a| got.contains_key(*a)) {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no logout token for all of {apps:?}");
    }

    fn count(&self) -> usize {
        self.tokens.lock().unwrap().len()
    }
}

async fn register_app(
    app: &TestApp,
    name: &str,
    backchannel: Option<String>,
    frontchannel: Option<&str>,
) -> Registered {
    registration::create(
        &app.db,
        &ClientSecretKey::derive(&[7; 32]),
        &NewClient {
            name: name.into(),
            client_type: ClientType::Public,
            redirect_uris: vec![REDIRECT.into()],
            first_party: true,
            post_logout_redirect_uris: vec![LOGOUT_REDIRECT.into()],
            backchannel_logout_uri: backchannel,
            frontchannel_logout_uri: frontchannel.map(str::to_owned),
            ..Default::default()
        },
        Actor::Cli,
    )
    .await
    .unwrap()
}

/// Signs in to `client` with `browser`'s session; returns the ID token's claims (unchecked).
async fn id_token_for(app: &TestApp, browser: &Browser, client: &Registered) -> (String, Value) {
    let code = code_for(browser, client, &[]).await;
    let form = code_form(&client.client_id, &code);
    let tokens: Value = token(app, &form, None).await.json().await.unwrap();
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    let payload = id_token.split('.').nth(1).unwrap();
    let claims = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    (id_token, claims)
}

async fn verify_logout_token(app: &TestApp, token: &str, client_id: &str) -> Value {
    let jwks: JwkSet = app
        .browser()
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[client_id]);
    validation.set_issuer(&[&app.public_url]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    let key = DecodingKey::from_jwk(jwks.find(header.kid.as_deref().unwrap()).unwrap()).unwrap();
    let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap()
        .claims;
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(claims.get("nonce").is_none(), "a logout token has no nonce");
    assert!(claims["jti"].is_string());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
    claims
}

#[sqlx::test(migrations = "../migrations")]
async fn signing_out_sends_every_app_of_the_sign_in_a_logout_token(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (receiver, base) = Receiver::start(1).await;
    let shop = register_app(&app, "Shop", Some(format!("{base}/shop")), None).await;
    let forum = register_app(&app, "Forum", Some(format!("{base}/flaky")), None).await;
    let quiet = register_app(&app, "Quiet", None, None).await;
    let browser = app.signed_in_customer("ada@example.com").await;

    let (_, shop_claims) = id_token_for(&app, &browser, &shop).await;
    let (_, forum_claims) = id_token_for(&app, &browser, &forum).await;
    let (_, quiet_claims) = id_token_for(&app, &browser, &quiet).await;
    let sid = shop_claims["sid"].as_str().unwrap().to_owned();
    assert_eq!(forum_claims["sid"], sid, "one sign-in, one sid");
    assert_eq!(quiet_claims["sid"], sid);

    // Signing in again as the same person (prompt=login) is the same sign-in.
    let res = browser
        .get(&authorize_url(&shop, &[("prompt", "login")]))
        .await;
    assert_eq!(location(&res), "/signin");
    let res = browser
        .call(
            "sign-in",
            &[("email", "ada@example.com"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(location(&res), "/oauth2/continue");
    let res = browser.get("/oauth2/authorize/continue").await;
    let code = answer(&location(&res))["code"].clone();
    let tokens: Value = token(&app, &code_form(&shop.client_id, &code), None)
        .await
        .json()
        .await
        .unwrap();
    assert!(tokens["id_token"].is_string());
    app::domain::oidc::session_apps::end_orphans(&app.db, &app.public_url)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.count(),
        0,
        "re-authenticating told no app anything"
    );

    assert_eq!(browser.call("sign-out", &[]).await.status(), 200);
    let got = receiver.wait_for(&["shop", "flaky"]).await;
    let claims = verify_logout_token(&app, &got["shop"], &shop.client_id).await;
    assert_eq!(claims["sid"], sid);
    assert_eq!(claims["sub"], shop_claims["sub"]);
    let claims = verify_logout_token(&app, &got["flaky"], &forum.client_id).await;
    assert_eq!(claims["sid"], sid);

    // The app that failed once was retried; each notice was delivered once.
    let rows: Vec<(String, i32, bool)> = sqlx::query_as(
        "SELECT client_id, attempts, delivered_at IS NOT NULL FROM logout_outbox ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let by_client: HashMap<String, (i32, bool)> =
        rows.into_iter().map(|(c, a, d)| (c, (a, d))).collect();
    assert_eq!(by_client.len(), 2, "no notice for an app without a URI");
    assert_eq!(by_client[&shop.client_id], (1, true));
    assert_eq!(by_client[&forum.client_id], (2, true));
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM session_apps")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_password_reset_or_an_expired_session_ends_the_apps_sign_ins_too(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (receiver, base) = Receiver::start(0).await;
    let shop = register_app(&app, "Shop", Some(format!("{base}/shop")), None).await;

    // A session that expires: the cleanup pass finds its sign-in gone and tells the app.
    let laptop = app.signed_in_customer("ada@example.com").await;
    let (_, first) = id_token_for(&app, &laptop, &shop).await;
    sqlx::query("UPDATE sessions SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    server::workers::cleanup::sweep(&app.db, &app.public_url)
        .await
        .unwrap();
    let got = receiver.wait_for(&["shop"]).await;
    let claims = verify_logout_token(&app, &got["shop"], &shop.client_id).await;
    assert_eq!(claims["sid"], first["sid"]);
    receiver.tokens.lock().unwrap().clear();

    // A password reset ends every session, so every sign-in's apps hear of it.
    let phone = app.browser();
    phone
        .call(
            "sign-in",
            &[("email", "ada@example.com"), ("password", GOOD_PASSWORD)],
        )
        .await;
    let (_, second) = id_token_for(&app, &phone, &shop).await;
    assert_ne!(second["sid"], first["sid"], "a new sign-in has a new sid");
    let stranger = app.browser();
    stranger
        .call("forgot-password", &[("email", "ada@example.com")])
        .await;
    let mail = app.mail.wait_for("ada@example.com", "Reset your").await;
    let reset = TestApp::token_in(&mail.body, "/reset-password");
    let res = stranger
        .call(
            "reset-password",
            &[
                ("token", &reset),
                ("password", crate::support::NEW_PASSWORD),
            ],
        )
        .await;
    assert!(res.status().is_redirection() || res.status() == 200);
    let got = receiver.wait_for(&["shop"]).await;
    let claims = verify_logout_token(&app, &got["shop"], &shop.client_id).await;
    assert_eq!(claims["sid"], second["sid"]);
}

/// A sign-in ended from another device's list of sign-ins: its apps get a logout token for it.
#[sqlx::test(migrations = "../migrations")]
async fn a_sign_in_ended_from_the_portal_tells_its_apps(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (receiver, base) = Receiver::start(0).await;
    let shop = register_app(&app, "Shop", Some(format!("{base}/shop")), None).await;
    let laptop = app.signed_in_customer("ada@example.com").await;
    let phone = app.browser();
    phone
        .call(
            "sign-in",
            &[("email", "ada@example.com"), ("password", GOOD_PASSWORD)],
        )
        .await;
    let (_, claims) = id_token_for(&app, &phone, &shop).await;
    let res = laptop
        .call("sign-ins/end", &[("id", claims["sid"].as_str().unwrap())])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let got = receiver.wait_for(&["shop"]).await;
    let logout = verify_logout_token(&app, &got["shop"], &shop.client_id).await;
    assert_eq!(logout["sid"], claims["sid"]);
    assert_eq!(
        receiver.count(),
        1,
        "only the ended sign-in's apps are told"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_end_session_page_loads_the_apps_front_channel_logout_pages(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let front = "https://forum.example/frontchannel-logout";
    let forum = register_app(&app, "Forum", None, Some(front)).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let (hint, claims) = id_token_for(&app, &browser, &forum).await;
    let sid = claims["sid"].as_str().unwrap();

    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("id_token_hint", hint.as_str()),
            ("post_logout_redirect_uri", LOGOUT_REDIRECT),
        ])
        .finish();
    let res = browser.get(&format!("/oauth2/logout?{query}")).await;
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.ends_with("; frame-src https://forum.example"), "{csp}");
    let page = res.text().await.unwrap();
    let issuer: String = url::form_urlencoded::byte_serialize(app.public_url.as_bytes()).collect();
    assert!(
        page.contains(&format!(
            "<iframe src=\"{front}?iss={issuer}&amp;sid={sid}\" hidden"
        )),
        "{page}"
    );
    assert!(page.contains("content=\"2;url=https://app.example/signed-out\""));
    assert!(browser.me().await.is_none());

    // Other pages allow no frames from elsewhere.
    let res = browser.get("/").await;
    assert!(!res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-src"));
}

#[sqlx::test(migrations = "../migrations")]
async fn logout_uris_must_be_web_addresses_of_apps_that_sign_people_in(db: PgPool) {
    let key = ClientSecretKey::derive(&[7; 32]);
    let base = NewClient {
        name: "Forum".into(),
        redirect_uris: vec![REDIRECT.into()],
        ..Default::default()
    };
    for (uri, service) in [
        ("http://forum.example/bc", false),
        ("com.example.app:/logout", false),
        ("https://forum.example/bc#x", false),
        ("https://forum.example/bc", true),
    ] {
        let mut new = base.clone();
        new.backchannel_logout_uri = Some(uri.into());
        if service {
            new.client_type = ClientType::Service;
            new.redirect_uris.clear();
        }
        let err = registration::create(&db, &key, &new, Actor::Cli)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("logout"), "{uri}: {err}");
        let mut new = base.clone();
        new.frontchannel_logout_uri = Some(uri.into());
        if service {
            new.client_type = ClientType::Service;
            new.redirect_uris.clear();
        }
        assert!(
            registration::create(&db, &key, &new, Actor::Cli)
                .await
                .is_err(),
            "{uri}"
        );
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM oauth_clients")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing was registered");
}
