//! The OpenID provider's signing keys: made at first start, sealed at rest, published as a JWKS
//! with the next and previous keys, and rotated without breaking tokens in flight.

use crate::support::TestApp;
use app::domain::oidc::keys::{self, Alg};
use jsonwebtoken::{jwk::JwkSet, DecodingKey, Validation};
use serde_json::{json, Value};
use sqlx::PgPool;

async fn published(app: &TestApp) -> JwkSet {
    let res = app.browser().get("/.well-known/jwks.json").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    res.json().await.unwrap()
}

fn verifies(token: &str, set: &JwkSet) -> bool {
    let header = jsonwebtoken::decode_header(token).unwrap();
    let Some(jwk) = set.find(header.kid.as_deref().unwrap()) else {
        return false;
    };
    let mut validation = Validation::new(header.alg);
    validation.set_required_spec_claims(&["sub"]);
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation).is_ok()
}

#[sqlx::test(migrations = "../migrations")]
async fn first_start_publishes_a_current_and_a_next_key_per_algorithm(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let set = published(&app).await;
    assert_eq!(set.keys.len(), 6);
    for alg in ["RS256", "ES256", "EdDSA"] {
        let count = set
            .keys
            .iter()
            .filter(|k| k.common.key_algorithm.map(|a| a.to_string()) == Some(alg.into()))
            .count();
        assert_eq!(count, 2, "{alg}");
    }
    // Private keys are sealed: no DER of theirs appears in the table in the clear.
    let sealed: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT kid, private_key_enc FROM signing_keys")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let state = server::startup::app_state(app.db.clone(), &app.config).unwrap();
    for (kid, enc) in sealed {
        assert!(state.key_secrets.open(&kid, &enc).is_some());
        assert!(
            state.secrets.open(&kid, &enc).is_none(),
            "keys have their own box"
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn rotation_keeps_tokens_in_flight_verifiable(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let state = server::startup::app_state(app.db.clone(), &app.config).unwrap();
    state
        .keys
        .reload(&app.db, &state.key_secrets)
        .await
        .unwrap();
    let before: Vec<String> = Alg::ALL
        .iter()
        .map(|alg| state.keys.sign(*alg, &json!({ "sub": "u1" })).unwrap())
        .collect();
    for token in &before {
        assert!(verifies(token, &published(&app).await));
    }

    // Rotate; the running server picks the keys up on its next reload.
    keys::rotate(&app.db, &state.key_secrets, app::domain::audit::Actor::Cli)
        .await
        .unwrap();
    state
        .keys
        .reload(&app.db, &state.key_secrets)
        .await
        .unwrap();
    let after: Vec<String> = Alg::ALL
        .iter()
        .map(|alg| state.keys.sign(*alg, &json!({ "sub": "u1" })).unwrap())
        .collect();
    let fresh = JwkSet {
        keys: serde_json::from_slice::<JwkSet>(&state.keys.jwks())
            .unwrap()
            .keys,
    };
    assert_eq!(fresh.keys.len(), 9, "previous, current and next of each");
    for (old, new) in before.iter().zip(&after) {
        assert!(verifies(old, &fresh), "the previous key is still published");
        assert!(verifies(new, &fresh));
        let kid = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
        assert_ne!(kid(old), kid(new));
    }

    // A second rotation retires the first keys: tokens they signed no longer verify.
    keys::rotate(&app.db, &state.key_secrets, app::domain::audit::Actor::Cli)
        .await
        .unwrap();
    state
        .keys
        .reload(&app.db, &state.key_secrets)
        .await
        .unwrap();
    let later: JwkSet = serde_json::from_slice(&state.keys.jwks()).unwrap();
    assert_eq!(later.keys.len(), 9);
    for (old, new) in before.iter().zip(&after) {
        assert!(!verifies(old, &later));
        assert!(verifies(new, &later));
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn scheduled_rotation_waits_for_the_keys_to_age(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let state = server::startup::app_state(app.db.clone(), &app.config).unwrap();
    let age = time::Duration::days(90);
    assert!(
        !keys::rotate_if_older_than(&app.db, &state.key_secrets, age)
            .await
            .unwrap()
    );
    sqlx::query(
        "UPDATE signing_keys SET activated_at = now() - interval '91 days' WHERE state = 'current'",
    )
    .execute(&app.db)
    .await
    .unwrap();
    assert!(keys::rotate_if_older_than(&app.db, &state.key_secrets, age)
        .await
        .unwrap());
    let previous: i64 =
        sqlx::query_scalar("SELECT count(*) FROM signing_keys WHERE state = 'previous'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(previous, 3);
}
