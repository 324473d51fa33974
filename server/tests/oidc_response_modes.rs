//! How answers reach the app and what a code is bound to at the authorization endpoint:
//! `response_mode=form_post` (OAuth 2.0 Form Post Response Mode) answers with a page that posts
//! the code or error to the redirect URI, allowed by the CSP to post there and nowhere else;
//! `dpop_jkt` (RFC 9449 §10) binds a code to a DPoP key that the token request must prove.

use std::collections::HashMap;

use app::domain::oidc::{clients::ClientType, dpop};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Response;
use ring::{
    rand::SystemRandom,
    signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING},
};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::support::{oidc::*, TestApp};

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

    /// A fresh proof for a token request to `app`.
    fn token_proof(&self, app: &TestApp) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(serde_json::from_value(self.jwk.clone()).unwrap());
        let claims = json!({
            "jti": uuid::Uuid::new_v4().to_string(),
            "htm": "POST",
            "htu": format!("{}/oauth2/token", app.public_url),
            "iat": time::OffsetDateTime::now_utc().unix_timestamp(),
            "nonce": dpop_nonce(),
        });
        jsonwebtoken::encode(&header, &claims, &self.signing).unwrap()
    }
}

/// A token request with `form`, client authentication `basic` and DPoP `proof`, if given.
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

/// The value of attribute `name` in the start tag `tag`, unescaped.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = start + tag[start..].find('"')?;
    Some(
        tag[start..end]
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// A form_post answer: a stored-nowhere page whose one form posts its hidden fields to the
/// redirect URI, submitted by a script with the CSP's nonce, and allowed by the CSP to post to
/// the redirect URI's origin and no other. Returns the fields.
async fn posted(res: Response) -> HashMap<String, String> {
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(res.headers()["cache-control"], "no-store");
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    assert!(
        directives.contains(&"form-action 'self' https://app.example"),
        "{csp}"
    );
    assert_eq!(csp.matches("app.example").count(), 1, "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();

    let page = res.text().await.unwrap();
    assert!(!page.contains("style="), "{page}");
    assert!(
        page.contains(&format!("<script nonce=\"{nonce}\">")),
        "{page}"
    );
    assert!(page.contains("<button type=\"submit\">"), "{page}");
    assert_eq!(page.matches("<form").count(), 1, "{page}");
    let form = page
        .split("<form")
        .nth(1)
        .unwrap()
        .split('>')
        .next()
        .unwrap();
    assert_eq!(attribute(form, "method").as_deref(), Some("post"));
    assert_eq!(attribute(form, "action").as_deref(), Some(REDIRECT));
    page.split("<input")
        .skip(1)
        .map(|tag| {
            let tag = tag.split('>').next().unwrap();
            assert_eq!(attribute(tag, "type").as_deref(), Some("hidden"));
            (
                attribute(tag, "name").unwrap(),
                attribute(tag, "value").unwrap(),
            )
        })
        .collect()
}

async fn codes(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM authorization_codes")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn refresh_tokens(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM refresh_tokens")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_form_post_answer_posts_the_code_to_the_redirect_uri_only(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.com").await;

    let res = browser
        .get(&authorize_url(
            &client,
            &[("response_mode", "form_post"), ("state", "a\"<b>&c")],
        ))
        .await;
    let fields = posted(res).await;
    assert_eq!(fields.len(), 3, "{fields:?}");
    assert_eq!(fields["state"], "a\"<b>&c");
    assert_eq!(fields["iss"], app.public_url);
    let form = code_form(&client.client_id, &fields["code"]);
    let (status, tokens) = token_call(&app, &form, None, None).await;
    assert_eq!(status, 200, "{tokens}");

    // The query mode is the default, and then nothing widens where forms may post.
    let res = browser
        .get(&authorize_url(&client, &[("response_mode", "query")]))
        .await;
    assert_eq!(res.status(), 303);
    assert!(answer(&location(&res)).contains_key("code"));
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("form-action 'self';"), "{csp}");
    assert!(!csp.contains("app.example"), "{csp}");

    let doc: Value = browser
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["response_modes_supported"],
        json!(["query", "form_post"])
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn errors_travel_by_form_post_too_and_unknown_modes_are_refused_in_the_query(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let first_party = register(&app, ClientType::Public, true).await;
    let third_party = register(&app, ClientType::Confidential, false).await;
    let form_post = ("response_mode", "form_post");

    // Not signed in, prompt=none: login_required.
    let res = app
        .browser()
        .get(&authorize_url(
            &first_party,
            &[form_post, ("prompt", "none")],
        ))
        .await;
    let fields = posted(res).await;
    assert_eq!(fields["error"], "login_required");
    assert_eq!(fields["state"], "st-1");
    assert_eq!(fields["iss"], app.public_url);
    assert!(!fields.contains_key("code"));

    // A refusal of the request itself.
    let browser = app.signed_in_customer("ada@example.com").await;
    let res = browser
        .get(&authorize_url(
            &first_party,
            &[form_post, ("code_challenge_method", "plain")],
        ))
        .await;
    let fields = posted(res).await;
    assert_eq!(fields["error"], "invalid_request");
    assert_eq!(
        fields["error_description"],
        "PKCE must use code_challenge_method=S256."
    );

    // The person refuses on the consent screen: the continuation posts access_denied.
    let res = browser
        .get(&authorize_url(&third_party, &[form_post]))
        .await;
    let request = consent_request(&location(&res));
    let res = browser
        .post_form(
            "/oauth2/consent",
            &[("request", request.as_str()), ("decision", "deny")],
        )
        .await;
    assert_eq!(
        location(&res),
        format!("/oauth2/continue?request={request}")
    );
    let res = browser
        .get(&format!("/oauth2/authorize/continue?request={request}"))
        .await;
    let fields = posted(res).await;
    assert_eq!(fields["error"], "access_denied");
    assert_eq!(fields["state"], "st-1");

    // A mode this provider does not know: invalid_request, in the query every app understands.
    for mode in ["fragment", "form_post.jwt", "FORM_POST"] {
        let res = browser
            .get(&authorize_url(&first_party, &[("response_mode", mode)]))
            .await;
        assert_eq!(res.status(), 303, "{mode}");
        let q = answer(&location(&res));
        assert_eq!(q["error"], "invalid_request", "{mode}");
        assert_eq!(
            q["error_description"], "response_mode must be query or form_post.",
            "{mode}"
        );
        assert_eq!(q["state"], "st-1");
        assert_eq!(q["iss"], app.public_url);
    }
    assert_eq!(codes(&app).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_code_bound_to_a_dpop_key_is_exchanged_only_with_a_proof_of_that_key(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let key = ProofKey::new();
    let other = ProofKey::new();
    let jkt = key.thumbprint();
    let bound = [
        ("dpop_jkt", jkt.as_str()),
        ("scope", "openid email offline_access"),
    ];
    let mismatch = json!({
        "error": "invalid_grant",
        "error_description":
            "The DPoP key does not match the one the authorization request was bound to.",
    });

    // Without a proof, and with a proof of another key: refused, and nothing is issued.
    for proof in [None, Some(other.token_proof(&app))] {
        let code = code_for(&browser, &client, &bound).await;
        let form = code_form(&client.client_id, &code);
        let (status, body) = token_call(&app, &form, None, proof.as_deref()).await;
        assert_eq!(
            (status, &body),
            (400, &mismatch),
            "proof: {}",
            proof.is_some()
        );
        assert_eq!(refresh_tokens(&app).await, 0);
        // The refused code is used up: the right key cannot take it over afterwards.
        let proof = key.token_proof(&app);
        let (status, body) = token_call(&app, &form, None, Some(&proof)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant"))
        );
    }

    // With a proof of the bound key: DPoP-bound tokens.
    let code = code_for(&browser, &client, &bound).await;
    let form = code_form(&client.client_id, &code);
    let proof = key.token_proof(&app);
    let (status, tokens) = token_call(&app, &form, None, Some(&proof)).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "DPoP");
    assert!(tokens["refresh_token"].is_string());
    let access = tokens["access_token"].as_str().unwrap();
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(access.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["cnf"]["jkt"], jkt);

    // An unbound code still works with no proof at all.
    let code = code_for(&browser, &client, &[]).await;
    let form = code_form(&client.client_id, &code);
    let (status, _) = token_call(&app, &form, None, None).await;
    assert_eq!(status, 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_malformed_dpop_jkt_is_refused(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Confidential, true).await;
    let secret = client.client_secret.clone().unwrap();
    let basic = Some((client.client_id.as_str(), secret.as_str()));
    let browser = app.signed_in_customer("ada@example.com").await;
    let jkt = ProofKey::new().thumbprint();
    let padded = format!("{jkt}=");
    let standard_alphabet = format!("+{}", &jkt[1..]);
    let description = "dpop_jkt must be the base64url SHA-256 thumbprint of a JWK (RFC 9449 §10).";

    for bad in [
        "short",
        &jkt[..42],
        padded.as_str(),
        standard_alphabet.as_str(),
        "x y",
    ] {
        let res = browser
            .get(&authorize_url(&client, &[("dpop_jkt", bad)]))
            .await;
        let q = answer(&location(&res));
        assert_eq!(q["error"], "invalid_request", "{bad}");
        assert_eq!(q["error_description"], description, "{bad}");
        assert_eq!(q["state"], "st-1");

        // Pushed, it is refused with the endpoint's error JSON.
        let challenge = challenge(VERIFIER);
        let form = [
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("dpop_jkt", bad),
        ];
        let res = post(&app, "par", &form, basic).await;
        assert_eq!(res.status(), 400, "{bad}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            body,
            json!({ "error": "invalid_request", "error_description": description }),
            "{bad}"
        );
    }
    assert_eq!(codes(&app).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_pushed_request_carries_its_response_mode_and_key_binding(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Confidential, true).await;
    let secret = client.client_secret.clone().unwrap();
    let basic = Some((client.client_id.as_str(), secret.as_str()));
    let browser = app.signed_in_customer("ada@example.com").await;
    let key = ProofKey::new();
    let jkt = key.thumbprint();
    let challenge = challenge(VERIFIER);
    let push = [
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("state", "pushed-1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("response_mode", "form_post"),
        ("dpop_jkt", jkt.as_str()),
    ];

    for proof in [None, Some(key.token_proof(&app))] {
        let res = post(&app, "par", &push, basic).await;
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await.unwrap();
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("client_id", client.client_id.as_str()),
                ("request_uri", body["request_uri"].as_str().unwrap()),
            ])
            .finish();
        let res = browser.get(&format!("/oauth2/authorize?{query}")).await;
        let fields = posted(res).await;
        assert_eq!(fields["state"], "pushed-1");
        let form = [
            ("grant_type", "authorization_code"),
            ("code", fields["code"].as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ];
        let (status, tokens) = token_call(&app, &form, basic, proof.as_deref()).await;
        match proof {
            None => assert_eq!(
                (status, tokens["error"].as_str()),
                (400, Some("invalid_grant")),
                "{tokens}"
            ),
            Some(_) => assert_eq!(
                (status, tokens["token_type"].as_str()),
                (200, Some("DPoP")),
                "{tokens}"
            ),
        }
    }
}
