//! Client authentication by signed assertion (`private_key_jwt`: RFC 7523 §2.2, OpenID Connect
//! Core §9): the keys a client registers, and the check of each assertion it sends (signed by
//! one of those keys with an asymmetric algorithm, `iss` = `sub` = the client, addressed to this
//! provider's issuer or token endpoint and nothing else, short-lived, and its `jti` never seen
//! before). The key lookup and signature check (`verified_claims`) also serve signed request
//! objects (RFC 9101, `request_object`).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{
    jwk::{AlgorithmParameters, JwkSet},
    Algorithm, DecodingKey, Header, Validation,
};
use serde_json::Value;
use sqlx::PgPool;
use time::OffsetDateTime;

/// The `client_assertion_type` of a JWT client assertion.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The algorithms an assertion may use (never `none` or a shared-secret HMAC).
pub const ALGORITHMS: [&str; 7] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "ES256", "EdDSA",
];
/// An assertion may not be valid for longer than this from now.
const MAX_LIFETIME_SECS: i64 = 300;
/// Clock skew allowed on `exp`, `nbf` and `iat`.
const LEEWAY_SECS: u64 = 30;

/// Checks a key set a client registers: public asymmetric keys only, each one usable.
pub fn check_jwks(jwks: &Value) -> Result<(), String> {
    let set: JwkSet =
        serde_json::from_value(jwks.clone()).map_err(|e| format!("not a JWKS document ({e})"))?;
    if set.keys.is_empty() {
        return Err("it holds no keys".into());
    }
    let private = jwks["keys"]
        .as_array()
        .is_some_and(|keys| keys.iter().any(|k| k.get("d").is_some()));
    if private {
        return Err("it holds a private key; register the public keys only".into());
    }
    for key in &set.keys {
        if matches!(key.algorithm, AlgorithmParameters::OctetKey(_)) {
            return Err("shared-secret (oct) keys are not accepted".into());
        }
        DecodingKey::from_jwk(key).map_err(|e| format!("a key cannot be used ({e})"))?;
    }
    Ok(())
}

/// The client an assertion says it comes from (its `sub`), read before anything is verified,
/// to know whose keys to verify it with.
pub fn claimed_client(assertion: &str) -> Option<String> {
    let payload = assertion.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims["sub"].as_str().map(str::to_owned)
}

/// Whether `alg` is one of [`ALGORITHMS`].
pub fn allowed(alg: Algorithm) -> bool {
    use Algorithm::*;
    matches!(alg, RS256 | RS384 | RS512 | PS256 | PS384 | ES256 | EdDSA)
}

/// The header and claims of `jwt`, a JWT a client signed, when one of its registered keys
/// `jwks` (the one its `kid` names, or each in turn when it names none) verifies it with one of
/// [`ALGORITHMS`] and its claims pass `validation` (whose algorithm is taken from the header).
/// Client assertions and request objects (`request_object`) are both checked this way.
pub fn verified_claims(
    jwt: &str,
    jwks: &Value,
    mut validation: Validation,
) -> Option<(Header, Value)> {
    let header = jsonwebtoken::decode_header(jwt).ok()?;
    if !allowed(header.alg) {
        return None;
    }
    let set = serde_json::from_value::<JwkSet>(jwks.clone()).ok()?;
    validation.algorithms = vec![header.alg];
    let kid = header.kid.clone();
    let keys = set.keys.iter().filter(|k| match &kid {
        Some(kid) => k.common.key_id.as_deref() == Some(kid.as_str()),
        None => true,
    });
    for key in keys {
        let Ok(decoding) = DecodingKey::from_jwk(key) else {
            continue;
        };
        if let Ok(data) = jsonwebtoken::decode::<Value>(jwt, &decoding, &validation) {
            return Some((header, data.claims));
        }
    }
    None
}

/// Whether `assertion` authenticates `client_id`, whose registered keys are `jwks`. A good
/// assertion's `jti` is recorded, so the same assertion is refused the next time.
pub async fn verify(
    db: &PgPool,
    issuer: &str,
    client_id: &str,
    jwks: &Value,
    assertion: &str,
) -> sqlx::Result<bool> {
    // The provider itself (the token endpoint is tolerated, RFC 7523 §3): an assertion made
    // for any other endpoint could have been captured there and is refused.
    let audiences = [issuer.to_owned(), format!("{issuer}/oauth2/token")];
    let mut validation = Validation::default();
    validation.set_issuer(&[client_id]);
    validation.set_audience(&audiences);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    validation.leeway = LEEWAY_SECS;
    let Some((_, claims)) = verified_claims(assertion, jwks, validation) else {
        return Ok(false);
    };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let exp = claims["exp"].as_i64().unwrap_or(i64::MAX);
    let jti = claims["jti"]
        .as_str()
        .filter(|j| !j.is_empty() && j.len() <= 255);
    let (true, Some(jti), true) = (
        claims["sub"].as_str() == Some(client_id),
        jti,
        exp <= now + MAX_LIFETIME_SECS,
    ) else {
        return Ok(false);
    };
    let fresh = sqlx::query(
        "INSERT INTO client_assertions (client_id, jti, expires_at)
         VALUES ($1, $2, to_timestamp($3)) ON CONFLICT DO NOTHING",
    )
    .bind(client_id)
    .bind(jti)
    .bind((exp + LEEWAY_SECS as i64) as f64)
    .execute(db)
    .await?;
    Ok(fresh.rows_affected() == 1)
}
