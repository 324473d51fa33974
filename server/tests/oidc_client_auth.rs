//! Client authentication with `private_key_jwt` (RFC 7523): a client registered with public
//! keys proves itself with a short-lived signed assertion, each accepted once; assertions
//! that are unsigned, HMAC-signed, addressed elsewhere, expired, too long-lived, replayed or
//! signed by another key are refused with `invalid_client`.

use crate::support::{oidc::*, TestApp};
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

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

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

fn claims(client_id: &str, aud: &str, exp_in: i64, jti: &str) -> Value {
    json!({ "iss": client_id, "sub": client_id, "aud": aud, "iat": now(), "exp": now() + exp_in, "jti": jti })
}

fn sign(key: &EncodingKey, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

async fn token_with(app: &TestApp, assertion: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion),
    ];
    for (k, v) in extra {
        form.retain(|(p, _)| p != k);
        form.push((k, v));
    }
    let res = token(app, &form, None).await;
    (res.status().as_u16(), res.json().await.unwrap())
}

/// Introspects `token` at the provider, the client authenticating with `assertion`.
async fn introspect_with(app: &TestApp, token: &str, assertion: &str) -> reqwest::Response {
    post(
        app,
        "introspect",
        &[
            ("token", token),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ],
        None,
    )
    .await
}

/// A service client that authenticates with the key `jwk`.
async fn ledger_sync(app: &TestApp, jwk: Value) -> Registered {
    registration::create(
        &app.db,
        &ClientSecretKey::derive(&[7; 32]),
        &NewClient {
            name: "Ledger sync".into(),
            client_type: ClientType::Service,
            scopes: vec!["ledger.read".into()],
            jwks: Some(json!({ "keys": [jwk] })),
            ..Default::default()
        },
        Actor::Cli,
    )
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_client_with_registered_keys_authenticates_with_signed_assertions(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (key, jwk) = p256("k1");
    let (other_key, _) = p256("k1");
    let registered = ledger_sync(&app, jwk).await;
    assert_eq!(
        registered.client_secret, None,
        "no secret for a key-holding client"
    );
    let id = registered.client_id.as_str();
    let token_url = format!("{}/oauth2/token", app.public_url);

    // A good assertion, addressed to the token endpoint or to the issuer.
    let good = sign(&key, "k1", &claims(id, &token_url, 60, "jti-1"));
    let (status, body) = token_with(&app, &good, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "ledger.read");
    let (status, _) = token_with(
        &app,
        &sign(&key, "k1", &claims(id, &app.public_url, 60, "jti-2")),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    // It also authenticates at introspection.
    let access = body["access_token"].as_str().unwrap();
    let assertion = sign(&key, "k1", &claims(id, &app.public_url, 60, "jti-3"));
    let res = introspect_with(&app, access, &assertion).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["active"], true);

    // Refused: a replay, another audience, expired, too long-lived, another key, a wrong sub,
    // HMAC-signed with the public key's bytes, and unsigned.
    let hmac = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(
            &header,
            &claims(id, &token_url, 60, "jti-h"),
            &EncodingKey::from_secret(b"k1"),
        )
        .unwrap()
    };
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"k1"}"#),
        URL_SAFE_NO_PAD.encode(claims(id, &token_url, 60, "jti-n").to_string())
    );
    let mut wrong_sub = claims(id, &token_url, 60, "jti-s");
    wrong_sub["iss"] = json!("someone-else");
    let refused = [
        good.clone(),
        sign(
            &key,
            "k1",
            &claims(id, "https://elsewhere.example/token", 60, "jti-4"),
        ),
        sign(&key, "k1", &claims(id, &token_url, -120, "jti-5")),
        sign(&key, "k1", &claims(id, &token_url, 3600, "jti-6")),
        sign(&other_key, "k1", &claims(id, &token_url, 60, "jti-7")),
        sign(&key, "k1", &wrong_sub),
        hmac,
        unsigned,
    ];
    for (i, assertion) in refused.iter().enumerate() {
        let (status, body) = token_with(&app, assertion, &[]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client")),
            "case {i}"
        );
    }

    // Two methods at once, or the wrong assertion type: invalid_request.
    let fresh = sign(&key, "k1", &claims(id, &token_url, 60, "jti-8"));
    let (status, body) = token_with(&app, &fresh, &[("client_secret", "x")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, body) = token_with(&app, &fresh, &[("client_assertion_type", "urn:other")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn only_public_asymmetric_keys_can_be_registered(db: PgPool) {
    let key = ClientSecretKey::derive(&[7; 32]);
    let (_, jwk) = p256("k1");
    let mut private = jwk.clone();
    private["d"] = json!("AAAA");
    let cases = [
        (
            ClientType::Service,
            json!({ "keys": [private] }),
            "private key",
        ),
        (
            ClientType::Service,
            json!({ "keys": [{ "kty": "oct", "k": "c2VjcmV0" }] }),
            "oct",
        ),
        (ClientType::Service, json!({ "keys": [] }), "no keys"),
        (ClientType::Service, json!({ "nope": 1 }), "not a JWKS"),
        (ClientType::Public, json!({ "keys": [jwk] }), "public app"),
    ];
    for (client_type, jwks, expected) in cases {
        let redirect_uris = if client_type == ClientType::Service {
            vec![]
        } else {
            vec![REDIRECT.into()]
        };
        let err = registration::create(
            &db,
            &key,
            &NewClient {
                name: "Keys".into(),
                client_type,
                redirect_uris,
                jwks: Some(jwks),
                ..Default::default()
            },
            Actor::Cli,
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains(expected), "{expected}: {err}");
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM oauth_clients")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_assertion_is_addressed_to_the_issuer_or_the_token_endpoint_only(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (key, jwk) = p256("k1");
    let registered = ledger_sync(&app, jwk).await;
    let id = registered.client_id.as_str();
    // An assertion made for another endpoint could have been captured there and replayed here
    // (or the other way round): only the issuer, and the token endpoint, are its audience.
    for (n, endpoint) in ["par", "introspect", "revoke", "userinfo"]
        .iter()
        .enumerate()
    {
        let aud = format!("{}/oauth2/{endpoint}", app.public_url);
        let assertion = sign(&key, "k1", &claims(id, &aud, 60, &format!("jti-{n}")));
        let (status, body) = token_with(&app, &assertion, &[]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client")),
            "{endpoint}"
        );
        let assertion = sign(&key, "k1", &claims(id, &aud, 60, &format!("jti-i{n}")));
        let res = introspect_with(&app, "x", &assertion).await;
        assert_eq!(res.status(), 401, "{endpoint} at introspection");
    }
    let token_url = format!("{}/oauth2/token", app.public_url);
    let assertion = sign(&key, "k1", &claims(id, &token_url, 60, "jti-t"));
    let res = introspect_with(&app, "x", &assertion).await;
    assert_eq!(res.status(), 200, "the token endpoint is tolerated");
}
