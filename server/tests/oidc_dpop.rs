//! DPoP (RFC 9449): tokens bound to a key the client proves it holds. Proofs are checked for
//! signature, method, URL, freshness, single use and (at userinfo) the access token hash;
//! bound refresh tokens need a proof with the same key; a bound access token is refused as a
//! bearer token.

mod support;

use app::domain::{
    audit::Actor,
    oidc::{
        clients::{ClientSecretKey, ClientType},
        dpop,
        registration::{self, NewClient},
    },
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::{
    rand::SystemRandom,
    signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING},
};
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{oidc::*, TestApp};

/// A client's DPoP key.
struct ProofKey {
    signing: EncodingKey,
    jwk: Value,
}

impl ProofKey {
    fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let point = pair.public_key().as_ref();
        Self {
            signing: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk: json!({
                "kty": "EC", "crv": "P-256",
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..]),
            }),
        }
    }

    fn thumbprint(&self) -> String {
        dpop::thumbprint(&self.jwk).unwrap()
    }

    /// A proof for `method url`, issued `age` seconds ago, for `access_token` if given.
    fn proof(&self, method: &str, url: &str, age: i64, access_token: Option<&str>) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(serde_json::from_value(self.jwk.clone()).unwrap());
        let mut claims = json!({
            "jti": uuid::Uuid::new_v4().to_string(),
            "htm": method,
            "htu": url,
            "iat": time::OffsetDateTime::now_utc().unix_timestamp() - age,
        });
        if let Some(token) = access_token {
            claims["ath"] = json!(dpop::token_hash(token));
        }
        jsonwebtoken::encode(&header, &claims, &self.signing).unwrap()
    }

    /// A proof whose header names this key but that `other` signed.
    fn forged_by(&self, other: &ProofKey, method: &str, url: &str) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(serde_json::from_value(self.jwk.clone()).unwrap());
        let claims = json!({
            "jti": uuid::Uuid::new_v4().to_string(), "htm": method, "htu": url,
            "iat": time::OffsetDateTime::now_utc().unix_timestamp(),
        });
        jsonwebtoken::encode(&header, &claims, &other.signing).unwrap()
    }
}

async fn token_call(
    app: &TestApp,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
    proof: Option<&str>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("http://{}/oauth2/token", app.addr))
        .form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    let res = request.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

fn claims_of(jwt: &str) -> Value {
    serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn service_tokens_bind_to_the_proven_key_and_bad_proofs_are_refused(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (id, secret) = register_service(&app, &["orders.read"]).await;
    let auth = Some((id.as_str(), secret.as_str()));
    let url = format!("{}/oauth2/token", app.public_url);
    let key = ProofKey::new();
    let form = [("grant_type", "client_credentials")];

    let proof = key.proof("POST", &url, 0, None);
    let (status, body) = token_call(&app, &form, auth, Some(&proof)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(claims_of(access)["cnf"]["jkt"], key.thumbprint());
    let info: Value = post(&app, "introspect", &[("token", access)], auth)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["cnf"]["jkt"], key.thumbprint());

    let other = ProofKey::new();
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD
            .encode(json!({ "typ": "dpop+jwt", "alg": "none", "jwk": key.jwk }).to_string()),
        URL_SAFE_NO_PAD
            .encode(json!({ "jti": "x", "htm": "POST", "htu": url, "iat": 0 }).to_string())
    );
    let bad = [
        ("replayed", proof.clone()),
        (
            "another URL",
            key.proof("POST", "https://elsewhere.example/token", 0, None),
        ),
        ("another method", key.proof("GET", &url, 0, None)),
        ("stale", key.proof("POST", &url, 3600, None)),
        ("signed by another key", key.forged_by(&other, "POST", &url)),
        ("unsigned", unsigned),
        ("not a JWT", "nonsense".into()),
    ];
    for (why, proof) in bad {
        let (status, body) = token_call(&app, &form, auth, Some(&proof)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_dpop_proof")),
            "{why}: {body}"
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_bound_refresh_token_and_access_token_need_the_same_key(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let token_url = format!("{}/oauth2/token", app.public_url);
    let userinfo_url = format!("{}/oauth2/userinfo", app.public_url);
    let key = ProofKey::new();
    let other = ProofKey::new();

    let code = code_for(
        &browser,
        &client,
        &[("scope", "openid email offline_access")],
    )
    .await;
    let form = code_form(&client.client_id, &code);
    let (status, tokens) = token_call(
        &app,
        &form,
        None,
        Some(&key.proof("POST", &token_url, 0, None)),
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "DPoP");
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    // Userinfo: the DPoP scheme with a proof for this token, and nothing less.
    let call = |scheme: &'static str, proof: Option<String>| {
        let mut request = reqwest::Client::new()
            .get(format!("http://{}/oauth2/userinfo", app.addr))
            .header("Authorization", format!("{scheme} {access}"));
        if let Some(proof) = proof {
            request = request.header("DPoP", proof);
        }
        async move { request.send().await.unwrap() }
    };
    let res = call("Bearer", None).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    assert_eq!(call("DPoP", None).await.status(), 401);
    assert_eq!(
        call(
            "DPoP",
            Some(other.proof("GET", &userinfo_url, 0, Some(access)))
        )
        .await
        .status(),
        401
    );
    assert_eq!(
        call(
            "DPoP",
            Some(key.proof("GET", &userinfo_url, 0, Some("another-token")))
        )
        .await
        .status(),
        401
    );
    let res = call(
        "DPoP",
        Some(key.proof("GET", &userinfo_url, 0, Some(access))),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap()["email"],
        "ada@example.com"
    );

    // Refresh: without a proof, or with another key, refused (and the token not used up).
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("client_id", client.client_id.as_str()),
    ];
    let (status, body) = token_call(&app, &form, None, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let (status, body) = token_call(
        &app,
        &form,
        None,
        Some(&other.proof("POST", &token_url, 0, None)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let (status, body) = token_call(
        &app,
        &form,
        None,
        Some(&key.proof("POST", &token_url, 0, None)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        claims_of(body["access_token"].as_str().unwrap())["cnf"]["jkt"],
        key.thumbprint()
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_app_that_requires_dpop_gets_no_bearer_tokens(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let done = registration::create(
        &app.db,
        &ClientSecretKey::derive(&[7; 32]),
        &NewClient {
            name: "Bank API".into(),
            client_type: ClientType::Service,
            scopes: vec!["payments".into()],
            require_dpop: true,
            ..Default::default()
        },
        Actor::Cli,
    )
    .await
    .unwrap();
    let secret = done.client_secret.unwrap();
    let (status, body) = token_call(
        &app,
        &[("grant_type", "client_credentials")],
        Some((&done.client_id, &secret)),
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
}
