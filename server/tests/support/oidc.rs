//! Helpers for the OpenID provider's tests: registering clients, authorization requests,
//! reading the answers, calling the token endpoint, and DPoP (RFC 9449) keys, proofs and the
//! server's nonces.

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

/// What the consent screen at `screen` shows: the app, the request and the permissions asked
/// for, as its page reads them.
pub async fn consent_details(browser: &Browser, screen: &str) -> serde_json::Value {
    let request = consent_request(screen);
    browser
        .call("oauth/consent", &[("request", &request)])
        .await
        .json()
        .await
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

/// A client's DPoP key (RFC 9449): a P-256 key pair and its public JWK.
pub struct DpopKey {
    signing: jsonwebtoken::EncodingKey,
    pub jwk: serde_json::Value,
}

impl DpopKey {
    /// A fresh key.
    pub fn generate() -> Self {
        use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let point = pair.public_key().as_ref();
        Self {
            signing: jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk: serde_json::json!({
                "kty": "EC", "crv": "P-256",
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..]),
            }),
        }
    }

    /// The key's RFC 7638 thumbprint (what tokens are bound to).
    pub fn thumbprint(&self) -> String {
        app::domain::oidc::dpop::thumbprint(&self.jwk).unwrap()
    }

    /// A proof naming this key in its header, with `claims`, signed by `signer`.
    fn signed_by(&self, signer: &DpopKey, claims: &serde_json::Value) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(serde_json::from_value(self.jwk.clone()).unwrap());
        jsonwebtoken::encode(&header, claims, &signer.signing).unwrap()
    }

    /// A proof for `method url`, issued `age` seconds ago, for `access_token` and with the
    /// server's `nonce`, each if given.
    pub fn proof(
        &self,
        method: &str,
        url: &str,
        age: i64,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> String {
        let mut claims = serde_json::json!({
            "jti": uuid::Uuid::new_v4().to_string(),
            "htm": method,
            "htu": url,
            "iat": time::OffsetDateTime::now_utc().unix_timestamp() - age,
        });
        if let Some(token) = access_token {
            claims["ath"] = serde_json::json!(app::domain::oidc::dpop::token_hash(token));
        }
        if let Some(nonce) = nonce {
            claims["nonce"] = serde_json::json!(nonce);
        }
        self.signed_by(self, &claims)
    }

    /// A fresh proof for a token request to `app`, with the server's current nonce.
    pub fn token_proof(&self, app: &TestApp) -> String {
        let url = format!("{}/oauth2/token", app.public_url);
        self.proof("POST", &url, 0, None, Some(&dpop_nonce()))
    }

    /// A proof (with a current nonce) whose header names this key but that `other` signed.
    pub fn forged_by(&self, other: &DpopKey, method: &str, url: &str) -> String {
        let claims = serde_json::json!({
            "jti": uuid::Uuid::new_v4().to_string(), "htm": method, "htu": url,
            "iat": time::OffsetDateTime::now_utc().unix_timestamp(),
            "nonce": dpop_nonce(),
        });
        self.signed_by(other, &claims)
    }
}

/// The DPoP nonce the test app makes at `unix_time` (its master key is `[7; 32]`).
pub fn dpop_nonce_at(unix_time: i64) -> String {
    use app::domain::oidc::dpop;
    dpop::nonce_at(&dpop::NonceKey::derive(&[7; 32]), unix_time)
}

/// The test app's current DPoP nonce.
pub fn dpop_nonce() -> String {
    dpop_nonce_at(time::OffsetDateTime::now_utc().unix_timestamp())
}

/// The `DPoP-Nonce` header of `res`, if any.
pub fn dpop_nonce_of(res: &Response) -> Option<String> {
    res.headers()
        .get("dpop-nonce")
        .map(|v| v.to_str().unwrap().to_owned())
}

/// A token request with `form`, client authentication `basic` and DPoP `proof`, each if
/// given: the status, the `DPoP-Nonce` header and the JSON body.
pub async fn dpop_token_call(
    app: &TestApp,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
    proof: Option<&str>,
) -> (u16, Option<String>, serde_json::Value) {
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
    let nonce = dpop_nonce_of(&res);
    (res.status().as_u16(), nonce, res.json().await.unwrap())
}

/// The nonce dance at the token endpoint (RFC 9449 §8): a proof of `key` without a nonce is
/// refused with `use_dpop_nonce` and a fresh nonce in `DPoP-Nonce`; the same request again
/// with a proof carrying that nonce is answered (a success with a fresh nonce of its own).
/// Returns the second answer's status and body.
pub async fn token_with_dpop(
    app: &TestApp,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
    key: &DpopKey,
) -> (u16, serde_json::Value) {
    let url = format!("{}/oauth2/token", app.public_url);
    let first = key.proof("POST", &url, 0, None, None);
    let (status, nonce, body) = dpop_token_call(app, form, basic, Some(&first)).await;
    assert_eq!(
        body,
        serde_json::json!({
            "error": "use_dpop_nonce",
            "error_description": "The DPoP proof must carry the server's nonce.",
        })
    );
    assert_eq!(status, 400);
    let nonce = nonce.expect("use_dpop_nonce comes with a DPoP-Nonce header");
    let retry = key.proof("POST", &url, 0, None, Some(&nonce));
    let (status, fresh, body) = dpop_token_call(app, form, basic, Some(&retry)).await;
    if status == 200 {
        assert!(fresh.is_some(), "a success carries a fresh DPoP-Nonce");
    }
    (status, body)
}

/// A userinfo request with `Authorization: DPoP <access>` and `proof`, if given.
pub async fn dpop_userinfo(app: &TestApp, access: &str, proof: Option<&str>) -> Response {
    let mut request = reqwest::Client::new()
        .get(format!("http://{}/oauth2/userinfo", app.addr))
        .header("Authorization", format!("DPoP {access}"));
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    request.send().await.unwrap()
}
