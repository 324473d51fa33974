//! DPoP (RFC 9449): checking a proof (a JWT signed with the key in its own header, naming the
//! request's method and URL, fresh, used once, for a protected resource carrying the hash of
//! the access token, and — unless the business turned it off — the server's current nonce),
//! the key's RFC 7638 thumbprint that tokens are bound to, and the server's nonces (§8, §9).
//!
//! Nonces are stateless and the same on every node: `base64url(window || HMAC-SHA-256(key,
//! window))`, `window` being the Unix time divided by five minutes, under a key derived from
//! the master key. A nonce is accepted in its own window and the next, so it lives five to ten
//! minutes. The nonce is checked after the signature, method, URL, age and token hash, and
//! before the `jti` is recorded: a proof refused for its nonce grants nothing and leaves no
//! trace, so the client's retry with a fresh proof is not mistaken for a replay, and the
//! refused proof itself never becomes acceptable (its nonce only grows older).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
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

/// The error of a proof that is refused (RFC 9449 §5, §7.1).
pub const INVALID_PROOF: &str = "invalid_dpop_proof";
/// The error of a proof without the server's current nonce (RFC 9449 §8, §9): the answer
/// carries a fresh one in `DPoP-Nonce`, and the client retries with it.
pub const USE_NONCE: &str = "use_dpop_nonce";

/// Why a proof is refused: [`INVALID_PROOF`] or [`USE_NONCE`], and what was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub error: &'static str,
    pub description: &'static str,
}

impl Refusal {
    /// Whether only the nonce was missing or not current (the client retries with a fresh one).
    pub fn wants_nonce(&self) -> bool {
        self.error == USE_NONCE
    }
}

/// How long one nonce window lasts, in seconds.
pub const NONCE_WINDOW_SECS: i64 = 300;

/// Makes and checks the server's nonces (derived from the master key).
#[derive(Clone)]
pub struct NonceKey([u8; 32]);

impl std::fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NonceKey([redacted])")
    }
}

impl NonceKey {
    /// The key of `master`, under a label of its own.
    pub fn derive(master: &[u8; 32]) -> Self {
        Self(crate::domain::master_key::derive(
            master,
            crate::domain::master_key::DPOP_NONCES,
        ))
    }

    fn mac(&self, window: u64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key size");
        mac.update(&window.to_be_bytes());
        mac
    }
}

/// The nonce window holding `unix_time`.
fn window_of(unix_time: i64) -> u64 {
    u64::try_from(unix_time.div_euclid(NONCE_WINDOW_SECS)).unwrap_or(0)
}

/// The nonce of the window holding `unix_time` (seconds since the epoch):
/// `base64url(window || HMAC-SHA-256(key, window))`, the window as 8 big-endian bytes.
pub fn nonce_at(key: &NonceKey, unix_time: i64) -> String {
    let window = window_of(unix_time);
    let mut bytes = window.to_be_bytes().to_vec();
    bytes.extend_from_slice(&key.mac(window).finalize().into_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The nonce to send now in `DPoP-Nonce` (RFC 9449 §8.1).
pub fn fresh_nonce(key: &NonceKey) -> String {
    nonce_at(key, OffsetDateTime::now_utc().unix_timestamp())
}

/// Whether `nonce` was made with `key` in the window of `now` or the one before, or by a node
/// whose clock is up to `MAX_SKEW_SECS` ahead (the tag compared in constant time).
pub fn nonce_is_current(key: &NonceKey, nonce: &str, now: i64) -> bool {
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(nonce) else {
        return false;
    };
    if bytes.len() != 40 {
        return false;
    }
    let (window, tag) = bytes.split_at(8);
    let Ok(window) = <[u8; 8]>::try_from(window).map(u64::from_be_bytes) else {
        return false;
    };
    let current = window_of(now);
    // Another node's clock may run ahead by as much skew as proofs are allowed: its nonce may
    // already be of the next window.
    let ahead = window_of(now + MAX_SKEW_SECS);
    if window != current && window.checked_add(1) != Some(current) && window != ahead {
        return false;
    }
    key.mac(window).verify_slice(tag).is_ok()
}

/// Checks `proof` for a `method` request to `url` (with `access_token` at a protected
/// resource), with the server's current nonce when `nonces` is given (nonces required), and
/// records its `jti`; returns the key's thumbprint, or why it is refused.
pub async fn check(
    db: &PgPool,
    proof: &str,
    method: &str,
    url: &str,
    access_token: Option<&str>,
    nonces: Option<&NonceKey>,
) -> sqlx::Result<Result<String, Refusal>> {
    let refused = |description| {
        Ok(Err(Refusal {
            error: INVALID_PROOF,
            description,
        }))
    };
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
    // The nonce last, before anything is recorded (RFC 9449 §8, §9).
    if let Some(nonce_key) = nonces {
        let description = match claims["nonce"].as_str() {
            None => Some("The DPoP proof must carry the server's nonce."),
            Some(nonce) if !nonce_is_current(nonce_key, nonce, now) => {
                Some("The DPoP proof's nonce is not current.")
            }
            Some(_) => None,
        };
        if let Some(description) = description {
            return Ok(Err(Refusal {
                error: USE_NONCE,
                description,
            }));
        }
    }
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
    fn a_nonce_is_accepted_in_its_window_and_the_next_only() {
        let key = NonceKey::derive(&[3; 32]);
        let now = 1_800_000_123;
        let nonce = nonce_at(&key, now);
        assert_eq!(nonce.len(), 54);
        assert!(nonce_is_current(&key, &nonce, now));
        assert!(nonce_is_current(&key, &nonce, now + NONCE_WINDOW_SECS));
        assert!(!nonce_is_current(&key, &nonce, now + 2 * NONCE_WINDOW_SECS));
        assert!(
            !nonce_is_current(&key, &nonce, now - NONCE_WINDOW_SECS),
            "not before its window"
        );
        assert_eq!(nonce_at(&key, now), nonce, "the same on every node");
    }

    #[test]
    fn a_nonce_from_a_node_a_little_ahead_is_accepted_across_the_window_boundary() {
        let key = NonceKey::derive(&[3; 32]);
        let boundary = 1_800_000_000;
        assert_eq!(boundary % NONCE_WINDOW_SECS, 0);
        // A node 5 seconds ahead has crossed into the next window; this one has not.
        let nonce = nonce_at(&key, boundary + 2);
        assert!(nonce_is_current(&key, &nonce, boundary - 3));
        assert!(
            !nonce_is_current(&key, &nonce, boundary - MAX_SKEW_SECS - 1),
            "not from further ahead than the skew allowed"
        );
    }

    #[test]
    fn a_forged_or_tampered_nonce_is_refused() {
        let key = NonceKey::derive(&[3; 32]);
        let now = 1_800_000_123;
        let other = nonce_at(&NonceKey::derive(&[4; 32]), now);
        assert!(!nonce_is_current(&key, &other, now), "another key");
        let mut bytes = URL_SAFE_NO_PAD.decode(nonce_at(&key, now)).unwrap();
        bytes[39] ^= 1;
        assert!(!nonce_is_current(
            &key,
            &URL_SAFE_NO_PAD.encode(&bytes),
            now
        ));
        // A window moved forward with the old tag.
        let mut bytes = URL_SAFE_NO_PAD
            .decode(nonce_at(&key, now - 3 * NONCE_WINDOW_SECS))
            .unwrap();
        bytes[..8].copy_from_slice(&window_of(now).to_be_bytes());
        assert!(!nonce_is_current(
            &key,
            &URL_SAFE_NO_PAD.encode(&bytes),
            now
        ));
        let zeros = URL_SAFE_NO_PAD.encode([0u8; 40]);
        for junk in ["", "nonce", "!!!", zeros.as_str()] {
            assert!(!nonce_is_current(&key, junk, now), "{junk:?}");
        }
    }

    #[test]
    fn htu_is_compared_without_query_or_fragment() {
        assert_eq!(
            without_query("https://a.example/t?x=1#f"),
            "https://a.example/t"
        );
    }
}
