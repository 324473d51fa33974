//! Signed request objects (RFC 9101): an app with registered keys sends its authorization
//! request as a JWT in `request`, pushed to /oauth2/par or at /oauth2/authorize, and its claims
//! are the whole request. Unsigned, HMAC-signed, foreign-key, misaddressed, expired,
//! too long-lived, mismatched and nested objects are refused with `invalid_request_object`; a
//! request_uri this provider did not hand out with `request_uri_not_supported`.

use app::domain::audit::Actor;
use app::domain::oidc::clients::{ClientSecretKey, ClientType};
use app::domain::oidc::registration::{self, NewClient, Registered};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::{
    rand::SystemRandom,
    signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING},
};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::support::{oidc::*, TestApp};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const TYP: &str = "oauth-authz-req+jwt";
const ERROR_PAGE: &str = "/oauth2/error?reason=bad_request_object";

/// A P-256 key: its signing key and its public JWK.
fn p256(kid: &str) -> (EncodingKey, Value) {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref();
    let jwk = json!({
        "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&point[33..]),
    });
    (EncodingKey::from_ec_der(pkcs8.as_ref()), jwk)
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A bank app that authenticates with the key `jwk` (private_key_jwt) and signs its requests
/// with it.
async fn bank(app: &TestApp, jwk: Value) -> Registered {
    registration::create(
        &app.db,
        &ClientSecretKey::derive(&[7; 32]),
        &NewClient {
            name: "Bank".into(),
            client_type: ClientType::Confidential,
            redirect_uris: vec![REDIRECT.into()],
            first_party: true,
            jwks: Some(json!({ "keys": [jwk] })),
            ..Default::default()
        },
        Actor::Cli,
    )
    .await
    .unwrap()
}

/// The claims of a good request object of `client_id` whose `state` is `state`.
fn request_claims(app: &TestApp, client_id: &str, state: &str) -> Value {
    json!({
        "iss": client_id, "aud": app.public_url, "client_id": client_id,
        "iat": now(), "nbf": now(), "exp": now() + 300, "jti": state,
        "response_type": "code", "redirect_uri": REDIRECT, "scope": "openid email",
        "state": state, "nonce": "n-signed", "code_challenge": challenge(VERIFIER),
        "code_challenge_method": "S256", "max_age": 3600,
    })
}

fn sign_as(key: &EncodingKey, alg: Algorithm, typ: &str, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.typ = Some(typ.into());
    header.kid = Some("k1".into());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

/// A request object signed with `key` (ES256, kid `k1`).
fn signed(key: &EncodingKey, claims: &Value) -> String {
    sign_as(key, Algorithm::ES256, TYP, claims)
}

/// A client assertion of `client_id` for `aud`.
fn assertion(key: &EncodingKey, client_id: &str, aud: &str, jti: &str) -> String {
    let claims = json!({
        "iss": client_id, "sub": client_id, "aud": aud, "iat": now(), "exp": now() + 60,
        "jti": jti,
    });
    sign_as(key, Algorithm::ES256, "JWT", &claims)
}

/// Pushes `request` for the bank, which authenticates with an assertion of `jti`.
async fn push(
    app: &TestApp,
    key: &EncodingKey,
    id: &str,
    request: &str,
    jti: &str,
) -> (u16, Value) {
    let client_assertion = assertion(key, id, &app.public_url, jti);
    let form = [
        ("client_id", id),
        ("request", request),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", client_assertion.as_str()),
    ];
    let res = post(app, "par", &form, None).await;
    (res.status().as_u16(), res.json().await.unwrap())
}

/// The authorization endpoint's address with `pairs` as its query.
fn authorize(pairs: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("/oauth2/authorize?{query}")
}

async fn stored(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM pushed_requests")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_signed_request_pushed_to_par_signs_the_person_in(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (key, jwk) = p256("k1");
    let bank = bank(&app, jwk).await;
    let id = bank.client_id.as_str();
    let browser = app.signed_in_customer("ada@example.com").await;

    // Parameters beside the object are ignored (RFC 9101 §6.3): only its claims count.
    let request = signed(&key, &request_claims(&app, id, "signed-1"));
    let client_assertion = assertion(&key, id, &app.public_url, "a-1");
    let form = [
        ("client_id", id),
        ("request", request.as_str()),
        ("state", "outer"),
        ("redirect_uri", "https://evil.example/cb"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", client_assertion.as_str()),
    ];
    let res = post(&app, "par", &form, None).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    let request_uri = body["request_uri"].as_str().unwrap();

    let res = browser
        .get(&authorize(&[
            ("client_id", id),
            ("request_uri", request_uri),
        ]))
        .await;
    let q = answer(&location(&res));
    assert_eq!(q["state"], "signed-1");

    let token_url = format!("{}/oauth2/token", app.public_url);
    let client_assertion = assertion(&key, id, &token_url, "a-2");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", q["code"].as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", client_assertion.as_str()),
    ];
    let res = token(&app, &form, None).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let id_token = body["id_token"].as_str().unwrap();
    let payload = URL_SAFE_NO_PAD
        .decode(id_token.split('.').nth(1).unwrap())
        .unwrap();
    let claims: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(claims["nonce"], "n-signed");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_request_object_at_the_authorization_endpoint_is_the_whole_request(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (key, jwk) = p256("k1");
    let bank = bank(&app, jwk).await;
    let id = bank.client_id.as_str();
    let browser = app.signed_in_customer("ada@example.com").await;

    // `aud` may be an array holding the issuer; max_age may be a string.
    let mut claims = request_claims(&app, id, "signed-2");
    claims["aud"] = json!([app.public_url, "https://other.example"]);
    claims["max_age"] = json!("600");
    let request = signed(&key, &claims);
    let res = browser
        .get(&authorize(&[
            ("client_id", id),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "outer"),
            ("request", request.as_str()),
        ]))
        .await;
    let q = answer(&location(&res));
    assert_eq!(q["state"], "signed-2");
    assert!(!q["code"].is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_request_objects_are_refused_at_par_and_store_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (key, jwk) = p256("k1");
    let (other_key, _) = p256("k1");
    let bank = bank(&app, jwk).await;
    let id = bank.client_id.as_str();
    let good = request_claims(&app, id, "s");
    let with = |changes: Value| {
        let mut claims = good.clone();
        for (k, v) in changes.as_object().unwrap() {
            claims[k] = v.clone();
        }
        claims
    };
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({ "alg": "none", "typ": TYP }).to_string()),
        URL_SAFE_NO_PAD.encode(good.to_string())
    );
    let cases: Vec<(&str, String)> = vec![
        ("alg none", unsigned),
        (
            "HS256 keyed with the kid",
            sign_as(
                &EncodingKey::from_secret(b"k1"),
                Algorithm::HS256,
                TYP,
                &good,
            ),
        ),
        ("a key not registered", signed(&other_key, &good)),
        ("typ JWT", sign_as(&key, Algorithm::ES256, "JWT", &good)),
        (
            "another issuer",
            signed(&key, &with(json!({ "iss": "someone-else" }))),
        ),
        (
            "another audience",
            signed(&key, &with(json!({ "aud": "https://elsewhere.example" }))),
        ),
        (
            "the token endpoint as audience",
            signed(
                &key,
                &with(json!({ "aud": format!("{}/oauth2/token", app.public_url) })),
            ),
        ),
        (
            "expired",
            signed(
                &key,
                &with(json!({ "exp": now() - 120, "nbf": now() - 600, "iat": now() - 600 })),
            ),
        ),
        (
            "valid for two hours",
            signed(&key, &with(json!({ "exp": now() + 7200 }))),
        ),
        (
            "not valid yet",
            signed(
                &key,
                &with(json!({ "nbf": now() + 600, "exp": now() + 900 })),
            ),
        ),
        ("no exp", {
            let mut claims = good.clone();
            claims.as_object_mut().unwrap().remove("exp");
            signed(&key, &claims)
        }),
        (
            "inner client_id differs",
            signed(&key, &with(json!({ "client_id": "someone-else" }))),
        ),
        (
            "nested request_uri",
            signed(
                &key,
                &with(json!({ "request_uri": "urn:ietf:params:oauth:request_uri:abc" })),
            ),
        ),
        (
            "nested request",
            signed(
                &key,
                &with(json!({ "request": "eyJhbGciOiJub25lIn0.e30." })),
            ),
        ),
        (
            "a parameter that is not a string",
            signed(&key, &with(json!({ "state": 5 }))),
        ),
        ("not a JWT", "not-a-jwt".into()),
    ];
    for (n, (case, request)) in cases.iter().enumerate() {
        let (status, body) = push(&app, &key, id, request, &format!("a-{n}")).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_request_object")),
            "{case}: {body}"
        );
    }
    assert_eq!(stored(&app).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_hmac_object_keyed_with_the_client_secret_is_refused(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let shop = register(&app, ClientType::Confidential, true).await;
    let id = shop.client_id.as_str();
    let secret = shop.client_secret.clone().unwrap();
    let request = sign_as(
        &EncodingKey::from_secret(secret.as_bytes()),
        Algorithm::HS256,
        TYP,
        &request_claims(&app, id, "s"),
    );
    let res = post(
        &app,
        "par",
        &[("request", request.as_str())],
        Some((id, secret.as_str())),
    )
    .await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request_object");
    assert_eq!(stored(&app).await, 0);

    // At the authorization endpoint nothing names a redirect URI to trust: our own page.
    let res = app
        .browser()
        .get(&authorize(&[
            ("client_id", id),
            ("request", request.as_str()),
        ]))
        .await;
    assert_eq!(location(&res), ERROR_PAGE);
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_request_objects_at_the_authorization_endpoint(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (key, jwk) = p256("k1");
    let (other_key, _) = p256("k1");
    let bank = bank(&app, jwk).await;
    let id = bank.client_id.as_str();
    let shop = register(&app, ClientType::Confidential, true).await;
    let browser = app.browser();
    let forged = signed(&other_key, &request_claims(&app, id, "inner"));

    // Signed by a key the app never registered, and no redirect URI outside: our own page.
    let res = browser
        .get(&authorize(&[
            ("client_id", id),
            ("request", forged.as_str()),
        ]))
        .await;
    assert_eq!(location(&res), ERROR_PAGE);
    // With a registered redirect URI outside, the app is told (with the outer state).
    let res = browser
        .get(&authorize(&[
            ("client_id", id),
            ("redirect_uri", REDIRECT),
            ("state", "outer"),
            ("request", forged.as_str()),
        ]))
        .await;
    let q = answer(&location(&res));
    assert_eq!(q["error"], "invalid_request_object");
    assert_eq!(q["state"], "outer");
    assert!(!q.contains_key("code"));

    // Signed by the app but expired: the app is told at the redirect URI it signed.
    let mut expired = request_claims(&app, id, "inner");
    expired["exp"] = json!(now() - 120);
    expired["nbf"] = json!(now() - 600);
    let expired = signed(&key, &expired);
    let res = browser
        .get(&authorize(&[
            ("client_id", id),
            ("request", expired.as_str()),
        ]))
        .await;
    let q = answer(&location(&res));
    assert_eq!(q["error"], "invalid_request_object");
    assert_eq!(q["state"], "inner");

    // Outer and inner client_id differ, either way round.
    let mut other_inner = request_claims(&app, id, "inner");
    other_inner["client_id"] = json!(shop.client_id);
    let other_inner = signed(&key, &other_inner);
    let res = browser
        .get(&authorize(&[
            ("client_id", id),
            ("request", other_inner.as_str()),
        ]))
        .await;
    assert_eq!(answer(&location(&res))["error"], "invalid_request_object");
    let bank_object = signed(&key, &request_claims(&app, id, "inner"));
    let res = browser
        .get(&authorize(&[
            ("client_id", shop.client_id.as_str()),
            ("request", bank_object.as_str()),
        ]))
        .await;
    assert_eq!(location(&res), ERROR_PAGE);

    // A nested request_uri.
    let mut nested = request_claims(&app, id, "inner");
    nested["request_uri"] = json!("https://app.example/request.jwt");
    let nested = signed(&key, &nested);
    let res = browser
        .get(&authorize(&[
            ("client_id", id),
            ("request", nested.as_str()),
        ]))
        .await;
    assert_eq!(answer(&location(&res))["error"], "invalid_request_object");

    // A request_uri by reference is never fetched.
    let by_reference = [
        ("client_id", id),
        ("request_uri", "https://app.example/request.jwt"),
    ];
    let res = browser.get(&authorize(&by_reference)).await;
    assert_eq!(location(&res), ERROR_PAGE);
    let res = browser
        .get(&authorize(&[
            ("client_id", id),
            ("redirect_uri", REDIRECT),
            ("state", "outer"),
            ("request_uri", "https://app.example/request.jwt"),
        ]))
        .await;
    let q = answer(&location(&res));
    assert_eq!(q["error"], "request_uri_not_supported");
    assert_eq!(q["state"], "outer");
}
