//! Social sign-in with a provider that follows OpenID Connect Core §5.4: the claims of the
//! `email` and `profile` scopes come from its userinfo endpoint when the ID token lacks them,
//! and userinfo must be about the same person as the ID token.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use crate::support::{social::add_provider, TestApp};
use axum::{
    extract::State,
    routing::{get, post},
    Json, Router,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use sqlx::PgPool;

/// What the provider will answer: the nonce of the flow in progress, and userinfo's claims.
#[derive(Default)]
struct Upstream {
    issuer: String,
    nonce: String,
    userinfo: Value,
}

type Shared = Arc<Mutex<Upstream>>;

/// An OpenID provider whose ID tokens carry only the standard claims (no email), with the
/// person's email and name at its userinfo endpoint.
async fn conformant_provider() -> Shared {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    let shared: Shared = Arc::new(Mutex::new(Upstream {
        issuer: issuer.clone(),
        ..Default::default()
    }));
    let discovery = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "userinfo_endpoint": format!("{issuer}/me"),
    });
    let jwks = json!({ "keys": [{
        "kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "e": "AQAB",
        "n": include_str!("../../app/src/domain/social/testdata/id_token_key.n").trim(),
    }]});
    let router = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || async move { Json(discovery) }),
        )
        .route("/jwks", get(move || async move { Json(jwks) }))
        .route("/token", post(token))
        .route("/me", get(userinfo))
        .with_state(shared.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    shared
}

async fn token(State(shared): State<Shared>) -> Json<Value> {
    let (issuer, nonce) = {
        let up = shared.lock().unwrap();
        (up.issuer.clone(), up.nonce.clone())
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({
        "iss": issuer, "aud": "keyhaven", "sub": "person-1", "nonce": nonce,
        "iat": now, "exp": now + 300,
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("k1".into());
    let key = EncodingKey::from_rsa_der(include_bytes!(
        "../../app/src/domain/social/testdata/id_token_key.der"
    ));
    let id_token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    Json(json!({
        "access_token": "upstream-access", "token_type": "Bearer", "expires_in": 300,
        "id_token": id_token,
    }))
}

async fn userinfo(
    State(shared): State<Shared>,
    headers: axum::http::HeaderMap,
) -> (axum::http::StatusCode, Json<Value>) {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer upstream-access")
    {
        return (axum::http::StatusCode::UNAUTHORIZED, Json(json!({})));
    }
    (
        axum::http::StatusCode::OK,
        Json(shared.lock().unwrap().userinfo.clone()),
    )
}

/// Runs a social sign-in in a fresh browser; returns where the callback sent it.
async fn sign_in(app: &TestApp, shared: &Shared) -> (crate::support::Browser, String) {
    let browser = app.browser();
    let res = browser.get("/signin/social/upstream").await;
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let q: HashMap<String, String> = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    shared.lock().unwrap().nonce = q["nonce"].clone();
    let res = browser
        .get(&format!(
            "/signin/social/upstream/callback?code=c-1&state={}",
            q["state"]
        ))
        .await;
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    (browser, location)
}

#[sqlx::test(migrations = "../migrations")]
async fn the_email_comes_from_userinfo_when_the_id_token_lacks_it(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let shared = conformant_provider().await;
    let issuer = shared.lock().unwrap().issuer.clone();
    add_provider(&app, &issuer).await;
    shared.lock().unwrap().userinfo = json!({
        "sub": "person-1", "email": "grace@example.com", "email_verified": true,
        "name": "Grace Hopper",
    });
    let (browser, location) = sign_in(&app, &shared).await;
    // A sign-up by social login accepts the terms before its first sign-in goes on.
    assert_eq!(location, "/signin/consent");
    let res = browser.accept_terms().await;
    assert_eq!(res.headers()["location"], "/profile");
    let me = browser.me().await.unwrap();
    assert_eq!(me["email"], "grace@example.com");
    assert_eq!(me["display_name"], "Grace Hopper");
    assert_eq!(me["email_verified"], true);
}

#[sqlx::test(migrations = "../migrations")]
async fn userinfo_about_someone_else_is_refused(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let shared = conformant_provider().await;
    let issuer = shared.lock().unwrap().issuer.clone();
    add_provider(&app, &issuer).await;
    shared.lock().unwrap().userinfo = json!({
        "sub": "person-2", "email": "grace@example.com", "email_verified": true,
    });
    let (browser, location) = sign_in(&app, &shared).await;
    assert_eq!(location, "/signin?social_error=unverified");
    assert!(browser.me().await.is_none());
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(accounts, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_address_userinfo_does_not_call_verified_creates_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let shared = conformant_provider().await;
    let issuer = shared.lock().unwrap().issuer.clone();
    add_provider(&app, &issuer).await;
    shared.lock().unwrap().userinfo = json!({
        "sub": "person-1", "email": "grace@example.com", "email_verified": false,
    });
    let (_, location) = sign_in(&app, &shared).await;
    assert_eq!(location, "/signin?social_error=email_unverified");
}
