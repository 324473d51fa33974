//! DPoP (RFC 9449): tokens bound to a key the client proves it holds. Proofs are checked for
//! signature, method, URL, freshness, the server's nonce, single use and (at userinfo) the
//! access token hash; bound refresh tokens need a proof with the same key; a bound access token
//! is refused as a bearer token. Every exchange starts with the nonce dance (§8, §9): a proof
//! without the nonce is refused with `use_dpop_nonce` and a fresh one in `DPoP-Nonce`.

use app::domain::{
    audit::Actor,
    oidc::{
        clients::{ClientSecretKey, ClientType},
        registration::{self, NewClient},
    },
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::support::{oidc::*, TestApp};

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
    let key = DpopKey::generate();
    let form = [("grant_type", "client_credentials")];

    // The first proof has no nonce: refused, with one to use (and nothing cached).
    let res = {
        let proof = key.proof("POST", &url, 0, None, None);
        reqwest::Client::new()
            .post(format!("http://{}/oauth2/token", app.addr))
            .basic_auth(&id, Some(&secret))
            .header("DPoP", proof)
            .form(&form)
            .send()
            .await
            .unwrap()
    };
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let nonce = dpop_nonce_of(&res).expect("a DPoP-Nonce header");
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({
            "error": "use_dpop_nonce",
            "error_description": "The DPoP proof must carry the server's nonce.",
        })
    );

    // With the nonce: a DPoP-bound token, and the next nonce.
    let proof = key.proof("POST", &url, 0, None, Some(&nonce));
    let (status, next, body) = dpop_token_call(&app, &form, auth, Some(&proof)).await;
    assert_eq!(status, 200, "{body}");
    assert!(next.is_some(), "a success carries a fresh DPoP-Nonce");
    assert_eq!(body["token_type"], "DPoP");
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(claims_of(access)["cnf"]["jkt"], key.thumbprint());
    let info: Value = post(&app, "introspect", &[("token", access)], auth)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["cnf"]["jkt"], key.thumbprint());

    // Everything else wrong with a proof that carries a good nonce: invalid_dpop_proof.
    let other = DpopKey::generate();
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD
            .encode(json!({ "typ": "dpop+jwt", "alg": "none", "jwk": key.jwk }).to_string()),
        URL_SAFE_NO_PAD.encode(
            json!({ "jti": "x", "htm": "POST", "htu": url, "iat": 0, "nonce": nonce }).to_string()
        )
    );
    let bad = [
        ("replayed", proof.clone()),
        (
            "another URL",
            key.proof(
                "POST",
                "https://elsewhere.example/token",
                0,
                None,
                Some(&nonce),
            ),
        ),
        (
            "another method",
            key.proof("GET", &url, 0, None, Some(&nonce)),
        ),
        ("stale", key.proof("POST", &url, 3600, None, Some(&nonce))),
        ("signed by another key", key.forged_by(&other, "POST", &url)),
        ("unsigned", unsigned),
        ("not a JWT", "nonsense".into()),
    ];
    for (why, proof) in bad {
        let (status, _, body) = dpop_token_call(&app, &form, auth, Some(&proof)).await;
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
    let key = DpopKey::generate();
    let other = DpopKey::generate();

    let code = code_for(
        &browser,
        &client,
        &[("scope", "openid email offline_access")],
    )
    .await;
    let form = code_form(&client.client_id, &code);
    // The proof refused for its nonce leaves the code unused: the retry exchanges it.
    let (status, tokens) = token_with_dpop(&app, &form, None, &key).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "DPoP");
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    // Userinfo: the DPoP scheme with a proof for this token, and nothing less.
    let res = userinfo(&app, access).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    assert_eq!(dpop_userinfo(&app, access, None).await.status(), 401);
    let nonce = dpop_nonce();
    for proof in [
        other.proof("GET", &userinfo_url, 0, Some(access), Some(&nonce)),
        key.proof("GET", &userinfo_url, 0, Some("another-token"), Some(&nonce)),
    ] {
        let res = dpop_userinfo(&app, access, Some(&proof)).await;
        assert_eq!(res.status(), 401);
        assert_eq!(
            res.headers()["www-authenticate"],
            "DPoP error=\"invalid_dpop_proof\""
        );
    }
    // Without the nonce: asked for it (RFC 9449 §9), then answered with it.
    let res = dpop_userinfo(
        &app,
        access,
        Some(&key.proof("GET", &userinfo_url, 0, Some(access), None)),
    )
    .await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"],
        "DPoP error=\"use_dpop_nonce\", \
         error_description=\"The DPoP proof must carry the server's nonce.\""
    );
    let nonce = dpop_nonce_of(&res).expect("a DPoP-Nonce header");
    let res = dpop_userinfo(
        &app,
        access,
        Some(&key.proof("GET", &userinfo_url, 0, Some(access), Some(&nonce))),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert!(dpop_nonce_of(&res).is_some(), "a fresh DPoP-Nonce");
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
    let (status, _, body) = dpop_token_call(&app, &form, None, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let (status, _, body) =
        dpop_token_call(&app, &form, None, Some(&other.token_proof(&app))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let proof = key.proof("POST", &token_url, 0, None, Some(&nonce));
    let (status, _, body) = dpop_token_call(&app, &form, None, Some(&proof)).await;
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
    let (status, _, body) = dpop_token_call(
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
