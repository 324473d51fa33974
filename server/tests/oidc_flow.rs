//! The OpenID provider's authorization code flow over HTTP: discovery, authorize (sign-in,
//! consent, prompt, max_age), the token endpoint with PKCE and client authentication, userinfo,
//! and the RFC's errors for each bad request.

use crate::support::{oidc::*, TestApp, GOOD_PASSWORD};
use app::domain::oidc::clients::ClientType;
use app::domain::oidc::registration::Registered;
use jsonwebtoken::{jwk::JwkSet, DecodingKey, Validation};
use serde_json::{json, Value};
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn a_signed_in_person_gets_a_code_then_tokens_then_their_claims(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.com").await;

    let res = browser.get(&authorize_url(&client, &[])).await;
    assert_eq!(res.status(), 303);
    let q = answer(&location(&res));
    assert_eq!(q["state"], "st-1");
    assert_eq!(q["iss"], app.public_url);
    let code = &q["code"];

    let form = code_form(&client.client_id, code);
    let res = token(&app, &form, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let tokens: Value = res.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "email openid profile");

    // The ID token verifies against the published keys and names the person.
    let jwks: JwkSet = app
        .browser()
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[&client.client_id]);
    validation.set_issuer(&[&app.public_url]);
    let key = DecodingKey::from_jwk(jwks.find(header.kid.as_deref().unwrap()).unwrap()).unwrap();
    let claims = jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], "Ada Lovelace");
    assert!(claims["auth_time"].as_i64().unwrap() > 0);

    // Userinfo, by header and by body.
    let access = tokens["access_token"].as_str().unwrap();
    let at_header = jsonwebtoken::decode_header(access).unwrap();
    assert_eq!(at_header.typ.as_deref(), Some("at+jwt"));
    let res = userinfo(&app, access).await;
    assert_eq!(res.status(), 200);
    let info: Value = res.json().await.unwrap();
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(info["email"], "ada@example.com");
    let res = reqwest::Client::new()
        .post(format!("http://{}/oauth2/userinfo", app.addr))
        .form(&[("access_token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // The code works once.
    let res = token(&app, &form, None).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
}

#[sqlx::test(migrations = "../migrations")]
async fn signing_in_resumes_the_request_and_prompts_are_honoured(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    drop(app.signed_in_customer("ada@example.com").await);
    let browser = app.browser();

    // prompt=none without a session: the app hears login_required.
    let res = browser
        .get(&authorize_url(&client, &[("prompt", "none")]))
        .await;
    assert_eq!(answer(&location(&res))["error"], "login_required");

    let res = browser.get(&authorize_url(&client, &[])).await;
    assert_eq!(location(&res), "/signin");
    let res = browser
        .call(
            "sign-in",
            &[("email", "ada@example.com"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(location(&res), "/oauth2/continue");
    let res = browser.get("/oauth2/authorize/continue").await;
    assert!(answer(&location(&res)).contains_key("code"));

    // prompt=login asks for a new sign-in even with a session, once.
    let res = browser
        .get(&authorize_url(&client, &[("prompt", "login")]))
        .await;
    assert_eq!(location(&res), "/signin");
    let res = browser.get("/oauth2/authorize/continue").await;
    assert_eq!(
        location(&res),
        "/signin",
        "the old sign-in still does not count"
    );
    let res = browser
        .call(
            "sign-in",
            &[("email", "ada@example.com"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(location(&res), "/oauth2/continue");
    let res = browser.get("/oauth2/authorize/continue").await;
    assert!(answer(&location(&res)).contains_key("code"));
    // max_age: a sign-in older than it asks again.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let res = browser
        .get(&authorize_url(&client, &[("max_age", "0")]))
        .await;
    assert_eq!(location(&res), "/signin");
    let res = browser
        .get(&authorize_url(&client, &[("max_age", "3600")]))
        .await;
    assert!(answer(&location(&res)).contains_key("code"));
}

#[sqlx::test(migrations = "../migrations")]
async fn third_party_apps_need_consent_which_is_remembered(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Confidential, false).await;
    let secret = client.client_secret.clone().unwrap();
    let browser = app.signed_in_customer("ada@example.com").await;

    let res = browser.get(&authorize_url(&client, &[])).await;
    let screen = location(&res);
    let request = consent_request(&screen);
    let details = consent_details(&browser, &screen).await;
    assert_eq!(details["request"], request.as_str());
    assert_eq!(details["client_name"], "Partner Shop");
    assert_eq!(
        details["permissions"],
        json!([
            "See your email address",
            "Know who you are when you sign in",
            "See your name"
        ])
    );
    let back = answer_consent(&browser, &screen, "approve").await;
    let code = answer(&back)["code"].clone();

    // The confidential client authenticates with its secret; a wrong one is refused.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let res = token(&app, &form, Some((&client.client_id, "wrong"))).await;
    assert_eq!(res.status(), 401);
    assert!(res.headers().contains_key("www-authenticate"));
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let code = code_for(&browser, &client, &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let res = token(&app, &form, Some((&client.client_id, &secret))).await;
    assert_eq!(res.status(), 200, "consent remembered, secret accepted");

    // prompt=consent asks again; denying tells the app access_denied.
    let res = browser
        .get(&authorize_url(&client, &[("prompt", "consent")]))
        .await;
    let q = answer(&answer_consent(&browser, &location(&res), "deny").await);
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "st-1");
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_authorization_requests_never_redirect_to_untrusted_addresses(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let public = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.com").await;

    for (extra, reason) in [
        (vec![("client_id", "nobody")], "unknown_client"),
        (vec![("client_id", "")], "no_client"),
        (
            vec![("redirect_uri", "https://evil.example/cb")],
            "bad_redirect_uri",
        ),
        (
            vec![("redirect_uri", "https://app.example/callback/")],
            "bad_redirect_uri",
        ),
    ] {
        let res = browser.get(&authorize_url(&public, &extra)).await;
        assert_eq!(location(&res), format!("/oauth2/error?reason={reason}"));
    }
    let page = browser.get("/oauth2/error?reason=bad_redirect_uri").await;
    assert!(page.text().await.unwrap().contains("has not registered"));

    for (extra, error) in [
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (
            vec![("code_challenge", ""), ("code_challenge_method", "")],
            "invalid_request",
        ),
        (vec![("code_challenge", "too-short")], "invalid_request"),
        (vec![("max_age", "soon")], "invalid_request"),
        (vec![("prompt", "none login")], "invalid_request"),
    ] {
        let res = browser.get(&authorize_url(&public, &extra)).await;
        let q = answer(&location(&res));
        assert_eq!(q["error"], error, "{extra:?}");
        assert_eq!(q["state"], "st-1");
        assert_eq!(q["iss"], app.public_url);
    }
    let codes: i64 = sqlx::query_scalar("SELECT count(*) FROM authorization_codes")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(codes, 0);
}

/// How many refresh tokens are stored.
async fn refresh_tokens(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM refresh_tokens")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_token_requests_get_the_rfc_errors(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let public = register(&app, ClientType::Public, true).await;
    let other = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let id = public.client_id.as_str();

    /// Changes to a good token request, and the error they must get.
    type Case<'a> = (Vec<(&'a str, String)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![("code_verifier", "x".repeat(43))],
            "invalid_grant",
            "The PKCE code_verifier does not match.",
        ),
        (
            vec![("code_verifier", String::new())],
            "invalid_grant",
            "code_verifier is missing.",
        ),
        (
            vec![("code_verifier", challenge(VERIFIER))],
            "invalid_grant",
            "The PKCE code_verifier does not match.",
        ),
        (
            vec![("redirect_uri", "https://app.example/other".into())],
            "invalid_grant",
            "redirect_uri does not match the authorization request.",
        ),
        (
            vec![("client_id", other.client_id.clone())],
            "invalid_grant",
            "The code was issued to another client.",
        ),
    ];
    // Each code asks for offline_access: a refused exchange must store no refresh token.
    let offline = [("scope", "openid offline_access")];
    for (changes, error, description) in cases {
        let code = code_for(&browser, &public, &offline).await;
        let mut form: Vec<(&str, String)> = vec![
            ("grant_type", "authorization_code".into()),
            ("code", code),
            ("redirect_uri", REDIRECT.into()),
            ("client_id", id.into()),
            ("code_verifier", VERIFIER.into()),
        ];
        for (k, v) in changes {
            form.retain(|(p, _)| *p != k);
            if !v.is_empty() {
                form.push((k, v));
            }
        }
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = token(&app, &form, None).await;
        assert_eq!(res.status(), 400);
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            (body["error"].as_str(), body["error_description"].as_str()),
            (Some(error), Some(description))
        );
        assert_eq!(refresh_tokens(&app).await, 0, "{description}");
    }

    // An expired code.
    let code = code_for(&browser, &public, &offline).await;
    sqlx::query("UPDATE authorization_codes SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", id),
        ("code_verifier", VERIFIER),
    ];
    let body: Value = token(&app, &form, None).await.json().await.unwrap();
    assert_eq!(body["error_description"], "The code has expired.");
    assert_eq!(refresh_tokens(&app).await, 0, "an expired code stores none");

    for (form, status, error) in [
        (
            vec![("code", "x"), ("client_id", id)],
            400,
            "invalid_request",
        ),
        (
            vec![("grant_type", "password"), ("client_id", id)],
            400,
            "unsupported_grant_type",
        ),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("client_id", "nobody"),
            ],
            401,
            "invalid_client",
        ),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("client_id", id),
                ("client_secret", "s"),
            ],
            401,
            "invalid_client",
        ),
        (
            vec![("grant_type", "authorization_code")],
            401,
            "invalid_client",
        ),
    ] {
        let res = token(&app, &form, None).await;
        assert_eq!(res.status(), status, "{form:?}");
        assert_eq!(
            res.json::<Value>().await.unwrap()["error"],
            error,
            "{form:?}"
        );
    }
    let res = reqwest::Client::new()
        .post(format!("http://{}/oauth2/token", app.addr))
        .body("not a form")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn discovery_lists_the_endpoints_and_userinfo_wants_a_valid_token(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let doc: Value = app
        .browser()
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], app.public_url);
    assert_eq!(
        doc["token_endpoint"],
        format!("{}/oauth2/token", app.public_url)
    );
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    let same: Value = app
        .browser()
        .get("/.well-known/oauth-authorization-server")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(same, doc);

    let userinfo = format!("http://{}/oauth2/userinfo", app.addr);
    let res = reqwest::get(&userinfo).await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    let res = reqwest::Client::new()
        .get(&userinfo)
        .bearer_auth("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
}

/// Signs `browser` in through `client` and returns the ID token it got.
async fn id_token_for(
    app: &TestApp,
    browser: &crate::support::Browser,
    client: &Registered,
) -> String {
    let code = code_for(browser, client, &[]).await;
    let form = code_form(&client.client_id, &code);
    let tokens: Value = token(app, &form, None).await.json().await.unwrap();
    tokens["id_token"].as_str().unwrap().to_owned()
}

fn logout_url(params: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    format!("/oauth2/logout?{query}")
}

#[sqlx::test(migrations = "../migrations")]
async fn rp_initiated_logout_with_a_hint_signs_out_and_returns_to_the_app(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let hint = id_token_for(&app, &browser, &client).await;

    // An unregistered address, or a forged hint, changes nothing.
    let res = browser
        .get(&logout_url(&[
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", "https://evil.example/bye"),
        ]))
        .await;
    assert_eq!(location(&res), "/oauth2/error?reason=bad_redirect_uri");
    let forged = format!("{}x", &hint[..hint.len() - 1]);
    let res = browser
        .get(&logout_url(&[("id_token_hint", &forged)]))
        .await;
    assert_eq!(location(&res), "/oauth2/error?reason=bad_logout_hint");
    assert!(browser.me().await.is_some());

    let res = browser
        .get(&logout_url(&[
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", LOGOUT_REDIRECT),
            ("state", "bye-1"),
        ]))
        .await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("content=\"0;url=https://app.example/signed-out?state=bye-1\""));
    assert!(browser.me().await.is_none());
}

#[sqlx::test(migrations = "../migrations")]
async fn logout_without_a_hint_asks_the_person_first(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let res = browser
        .get(&logout_url(&[
            ("client_id", &client.client_id),
            ("post_logout_redirect_uri", LOGOUT_REDIRECT),
        ]))
        .await;
    assert_eq!(location(&res), "/oauth2/signout");
    assert!(
        browser.me().await.is_some(),
        "nothing happens before the answer"
    );
    let res = browser.post_form("/oauth2/logout/confirm", &[]).await;
    assert_eq!(res.status(), 200);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("url=https://app.example/signed-out"));
    assert!(browser.me().await.is_none());

    // A hint for another person does not sign this one out without asking.
    let other = app.signed_in_customer("bob@example.com").await;
    let ada = app.browser();
    let res = ada
        .call(
            "sign-in",
            &[
                ("email", "ada@example.com"),
                ("password", crate::support::GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let bobs_hint = id_token_for(&app, &other, &client).await;
    let res = ada.get(&logout_url(&[("id_token_hint", &bobs_hint)])).await;
    assert_eq!(location(&res), "/oauth2/signout");
    assert!(ada.me().await.is_some());
}

/// An unsigned (`alg: none`) ID token with the claims of `real`.
fn unsigned_copy(real: &str) -> String {
    let b64 =
        |v: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, v);
    let payload = real.split('.').nth(1).unwrap();
    format!("{}.{payload}.", b64(br#"{"alg":"none","typ":"JWT"}"#))
}

#[sqlx::test(migrations = "../migrations")]
async fn hints_name_the_person_the_app_expects(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let ada = app.signed_in_customer("ada@example.com").await;
    let ada_hint = id_token_for(&app, &ada, &client).await;
    let bob = app.signed_in_customer("bob@example.com").await;

    // Ada's hint while Bob is signed in: not silently, and with a page, Bob signs in again.
    let res = bob
        .get(&authorize_url(
            &client,
            &[("id_token_hint", &ada_hint), ("prompt", "none")],
        ))
        .await;
    assert_eq!(answer(&location(&res))["error"], "login_required");
    let res = bob
        .get(&authorize_url(&client, &[("id_token_hint", &ada_hint)]))
        .await;
    assert_eq!(location(&res), "/signin");
    // Ada's own hint goes straight through.
    let res = ada
        .get(&authorize_url(
            &client,
            &[("id_token_hint", &ada_hint), ("prompt", "none")],
        ))
        .await;
    assert!(answer(&location(&res)).contains_key("code"));

    // Unsigned or forged hints are refused, at authorize and at logout.
    for bad in [unsigned_copy(&ada_hint), format!("{ada_hint}x")] {
        let res = ada
            .get(&authorize_url(&client, &[("id_token_hint", &bad)]))
            .await;
        let q = answer(&location(&res));
        assert_eq!(q["error"], "invalid_request");
        assert_eq!(
            q["error_description"],
            "id_token_hint is not an ID token this provider issued."
        );
        let res = ada.get(&logout_url(&[("id_token_hint", &bad)])).await;
        assert_eq!(location(&res), "/oauth2/error?reason=bad_logout_hint");
    }
    assert!(ada.me().await.is_some(), "a refused hint changes nothing");

    // login_hint fills in the sign-in form; select_account asks for a sign-in.
    let res = app
        .browser()
        .get(&authorize_url(
            &client,
            &[("login_hint", "ada@example.com")],
        ))
        .await;
    assert_eq!(location(&res), "/signin?login_hint=ada%40example.com");
    let res = ada
        .get(&authorize_url(&client, &[("prompt", "select_account")]))
        .await;
    assert_eq!(location(&res), "/signin");
}
