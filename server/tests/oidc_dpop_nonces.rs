//! DPoP server nonces (RFC 9449 §8, §9) as an attacker meets them: a forged, tampered, old or
//! future nonce is refused with `use_dpop_nonce` at the token endpoint and at userinfo, and the
//! refusal uses up nothing (not the code, not the proof's `jti`); with nonces turned off by the
//! operator (audited), proofs without one are accepted again.

use app::domain::oidc::{
    clients::ClientType,
    dpop::{self, NONCE_WINDOW_SECS},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::support::{cli::server_command, oidc::*, TestApp};

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Nonces the server never made, or made too long ago (or not yet), each with what it is.
fn bad_nonces() -> Vec<(&'static str, String)> {
    let forged = dpop::nonce_at(&dpop::NonceKey::derive(&[8; 32]), now());
    let mut tampered = URL_SAFE_NO_PAD.decode(dpop_nonce()).unwrap();
    tampered[39] ^= 1;
    vec![
        ("made with another key", forged),
        ("tampered", URL_SAFE_NO_PAD.encode(tampered)),
        (
            "two windows ago",
            dpop_nonce_at(now() - 2 * NONCE_WINDOW_SECS),
        ),
        ("an hour ago", dpop_nonce_at(now() - 3600)),
        (
            "two windows ahead",
            dpop_nonce_at(now() + 2 * NONCE_WINDOW_SECS),
        ),
        ("not a nonce", "nonce".into()),
        ("empty", String::new()),
    ]
}

async fn recorded_proofs(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM dpop_proofs")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_bad_nonce_at_the_token_endpoint_is_refused_and_uses_nothing_up(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let url = format!("{}/oauth2/token", app.public_url);
    let key = DpopKey::generate();
    let code = code_for(&browser, &client, &[]).await;
    let form = code_form(&client.client_id, &code);
    let not_current = json!({
        "error": "use_dpop_nonce",
        "error_description": "The DPoP proof's nonce is not current.",
    });

    let mut refused = Vec::new();
    for (why, nonce) in bad_nonces() {
        let proof = key.proof("POST", &url, 0, None, Some(&nonce));
        let (status, fresh, body) = dpop_token_call(&app, &form, None, Some(&proof)).await;
        assert_eq!((status, &body), (400, &not_current), "{why}");
        let fresh = fresh.unwrap_or_else(|| panic!("{why}: no DPoP-Nonce"));
        assert_ne!(fresh, nonce, "{why}");
        refused.push(proof);
    }
    // Nothing was recorded: a refused proof sent again is refused for its nonce again, not
    // taken for a replay, and never becomes acceptable.
    assert_eq!(recorded_proofs(&app).await, 0);
    let (status, _, body) = dpop_token_call(&app, &form, None, Some(&refused[0])).await;
    assert_eq!((status, &body), (400, &not_current));

    // The code was not used up: the retry with the server's nonce exchanges it.
    let proof = key.token_proof(&app);
    let (status, fresh, tokens) = dpop_token_call(&app, &form, None, Some(&proof)).await;
    assert_eq!(status, 200, "{tokens}");
    assert!(fresh.is_some());
    assert_eq!(tokens["token_type"], "DPoP");
    assert_eq!(recorded_proofs(&app).await, 1);
    // A good nonce does not make a proof reusable.
    let (status, _, body) = dpop_token_call(&app, &form, None, Some(&proof)).await;
    assert_eq!(
        body,
        json!({
            "error": "invalid_dpop_proof",
            "error_description": "The DPoP proof was already used.",
        })
    );
    assert_eq!(status, 400);
}

#[sqlx::test(migrations = "../migrations")]
async fn userinfo_asks_for_the_nonce_and_refuses_a_bad_one(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let url = format!("{}/oauth2/userinfo", app.public_url);
    let key = DpopKey::generate();
    let code = code_for(&browser, &client, &[]).await;
    let (status, tokens) =
        token_with_dpop(&app, &code_form(&client.client_id, &code), None, &key).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let proofs_before = recorded_proofs(&app).await;

    let challenge = |description: &str| {
        format!("DPoP error=\"use_dpop_nonce\", error_description=\"{description}\"")
    };
    let res = dpop_userinfo(
        &app,
        access,
        Some(&key.proof("GET", &url, 0, Some(access), None)),
    )
    .await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"].to_str().unwrap(),
        challenge("The DPoP proof must carry the server's nonce.")
    );
    let nonce = dpop_nonce_of(&res).expect("a DPoP-Nonce header");
    for (why, bad) in bad_nonces() {
        let proof = key.proof("GET", &url, 0, Some(access), Some(&bad));
        let res = dpop_userinfo(&app, access, Some(&proof)).await;
        assert_eq!(res.status(), 401, "{why}");
        assert_eq!(
            res.headers()["www-authenticate"].to_str().unwrap(),
            challenge("The DPoP proof's nonce is not current."),
            "{why}"
        );
        assert!(dpop_nonce_of(&res).is_some(), "{why}");
    }
    assert_eq!(recorded_proofs(&app).await, proofs_before);

    let res = dpop_userinfo(
        &app,
        access,
        Some(&key.proof("GET", &url, 0, Some(access), Some(&nonce))),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert!(dpop_nonce_of(&res).is_some());
    assert_eq!(
        res.json::<Value>().await.unwrap()["email"],
        "ada@example.com"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn with_nonces_turned_off_proofs_without_one_are_accepted(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let out = server_command(&app.db, &["settings", "set", "dpop_nonce_required", "off"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown
            .lines()
            .any(|l| l.split_whitespace().eq(["dpop_nonce_required", "off"])),
        "{shown}"
    );
    let detail: Value = sqlx::query_scalar(
        "SELECT detail FROM audit_events
         WHERE action = 'settings.changed' AND actor = 'cli'
           AND detail->>'setting' = 'dpop_nonce_required'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        (&detail["from"], &detail["to"]),
        (&json!(true), &json!(false))
    );

    // A legacy client: proofs without a nonce, at the token endpoint and at userinfo.
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let key = DpopKey::generate();
    let token_url = format!("{}/oauth2/token", app.public_url);
    let userinfo_url = format!("{}/oauth2/userinfo", app.public_url);
    let code = code_for(&browser, &client, &[]).await;
    let form = code_form(&client.client_id, &code);
    let proof = key.proof("POST", &token_url, 0, None, None);
    let (status, _, tokens) = dpop_token_call(&app, &form, None, Some(&proof)).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "DPoP");
    let access = tokens["access_token"].as_str().unwrap();
    let proof = key.proof("GET", &userinfo_url, 0, Some(access), None);
    let res = dpop_userinfo(&app, access, Some(&proof)).await;
    assert_eq!(res.status(), 200);
    // Each proof is still accepted once.
    let res = dpop_userinfo(&app, access, Some(&proof)).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"],
        "DPoP error=\"invalid_dpop_proof\""
    );

    // Turned on again: the nonce is asked for.
    let out = server_command(&app.db, &["settings", "set", "dpop_nonce_required", "on"]).await;
    assert!(out.status.success());
    let proof = key.proof("GET", &userinfo_url, 0, Some(access), None);
    let res = dpop_userinfo(&app, access, Some(&proof)).await;
    assert_eq!(res.status(), 401);
    assert!(dpop_nonce_of(&res).is_some());
}
