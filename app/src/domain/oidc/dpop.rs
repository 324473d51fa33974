//! DPoP (RFC 9449): checking a proof (a JWT signed with the key in its own header, naming the
//! request's method and URL, fresh, used once, and for a protected resource carrying the hash
//! of the access token), and the key's RFC 7638 thumbprint that tokens are bound to.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;

/// The algorithms a proof may use (asymmetric only).
pub const ALGORITHMS: [&str; 4] = ["ES256", "RS256", "PS256", "EdDSA"];
/// How far in the past a proof's `iat` may lie.
const MAX_AGE_SECS: i64 = 300;
/// How far in the future a proof's `iat` may lie (clock skew).
const MAX_SKEW_SECS: i64 = 60;

fn allowed(alg: Algorithm) -> bool {
    matches!(
        alg,
        Algorithm::ES256 | Algorithm::RS256 | Algorithm::PS256 | Algorithm::EdDSA
    )
}

/// The RFC 7638 thumbprint of a public JWK: SHA-256 over its required members in order.
pub fn thumbprint(jwk: &Value) -> Option<String> {
    let text = |k: &str| jwk[k].as_str().map(str::to_owned);
    let canonical = match jwk["kty"].as_str()? {
        "EC" => json!({ "crv": text("crv")?, "kty": "EC", "x": text("x")?, "y": text("y")? }),
        "RSA" => json!({ "e": text("e")?, "kty": "RSA", "n": text("n")? }),
        "OKP" => json!({ "crv": text("crv")?, "kty": "OKP", "x": text("x")? }),
        _ => return None,
    };
    // serde_json writes object members in key order without whitespace, as RFC 7638 asks.
    let bytes = serde_json::to_vec(&canonical).ok()?;
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(bytes)))
}

/// base64url of the SHA-256 of an access token (a proof's `ath`).
pub fn token_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

/// `url` without its query and fragment, as `htu` is compared (RFC 9449 §4.3).
fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// Checks `proof` for a `method` request to `url` (with `access_token` at a protected
/// resource) and records its `jti`; returns the key's thumbprint, or why it is refused.
pub async fn check(
    db: &PgPool,
    proof: &str,
    method: &str,
    url: &str,
    access_token: Option<&str>,
) -> sqlx::Result<Result<String, &'static str>> {
    let refused = |why| Ok(Err(why));
    let Some(header) = proof
        .split('.')
        .next()
        .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
        .and_then(|h| serde_json::from_slice::<Value>(&h).ok())
    else {
        return refused("The DPoP proof is not a JWT.");
    };
    if header["typ"] != "dpop+jwt" {
        return refused("The DPoP proof must have typ dpop+jwt.");
    }
    let jwk = &header["jwk"];
    if !jwk.is_object() || jwk.get("d").is_some() {
        return refused("The DPoP proof must carry its public key (jwk).");
    }
    let Ok(parsed) = jsonwebtoken::decode_header(proof) else {
        return refused("The DPoP proof header is malformed.");
    };
    if !allowed(parsed.alg) {
        return refused("The DPoP proof uses an algorithm that is not accepted.");
    }
    let (Some(key), Some(jkt)) = (
        parsed
            .jwk
            .as_ref()
            .and_then(|k| DecodingKey::from_jwk(k).ok()),
        thumbprint(jwk),
    ) else {
        return refused("The DPoP proof key is not usable.");
    };
    let mut validation = Validation::new(parsed.alg);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let Ok(data) = jsonwebtoken::decode::<Value>(proof, &key, &validation) else {
        return refused("The DPoP proof signature does not verify.");
    };
    let claims = data.claims;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let iat = claims["iat"].as_i64().unwrap_or(0);
    if iat < now - MAX_AGE_SECS || iat > now + MAX_SKEW_SECS {
        return refused("The DPoP proof is not fresh.");
    }
    if claims["htm"].as_str() != Some(method)
        || claims["htu"].as_str().map(without_query) != Some(without_query(url))
    {
        return refused("The DPoP proof is for another request.");
    }
    if let Some(token) = access_token {
        if claims["ath"].as_str() != Some(token_hash(token).as_str()) {
            return refused("The DPoP proof is for another access token.");
        }
    }
    let Some(jti) = claims["jti"]
        .as_str()
        .filter(|j| !j.is_empty() && j.len() <= 255)
    else {
        return refused("The DPoP proof has no jti.");
    };
    let fresh = sqlx::query(
        "INSERT INTO dpop_proofs (jkt, jti, expires_at)
         VALUES ($1, $2, to_timestamp($3)) ON CONFLICT DO NOTHING",
    )
    .bind(&jkt)
    .bind(jti)
    .bind((iat + MAX_AGE_SECS + MAX_SKEW_SECS) as f64)
    .execute(db)
    .await?;
    if fresh.rows_affected() == 0 {
        return refused("The DPoP proof was already used.");
    }
    Ok(Ok(jkt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7638_example_thumbprint() {
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(
            thumbprint(&jwk).as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
        assert_eq!(thumbprint(&json!({ "kty": "oct", "k": "x" })), None);
    }

    #[test]
    fn htu_is_compared_without_query_or_fragment() {
        assert_eq!(
            without_query("https://a.example/t?x=1#f"),
            "https://a.example/t"
        );
    }
}
