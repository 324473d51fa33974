//! What an upstream ID token must be to be believed: signed by the issuer's key with an
//! asymmetric algorithm, for us, unexpired, issued in the past, with our nonce (OpenID Connect
//! Core §3.1.3.7); and the claims read from it and from the userinfo endpoint.

use jsonwebtoken::{jwk::JwkSet, Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Deserializer};

use super::SocialError;

/// What an ID token (or GitHub's API) says about the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamUser {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
}

/// The ID token claims read; the standard ones are checked by the JWT library.
#[derive(Debug, Deserialize)]
struct IdClaims {
    sub: String,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    aud: serde_json::Value,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default, deserialize_with = "flexible_bool")]
    email_verified: bool,
    #[serde(default)]
    name: Option<String>,
    /// Microsoft's tenant id (its multi-tenant issuers are templates).
    #[serde(default)]
    tid: Option<String>,
    iss: String,
    /// Required (the library does not check it): when the token was issued.
    iat: i64,
}

/// How many audiences the token names (`aud` is a string or an array).
fn audience_count(aud: &serde_json::Value) -> usize {
    match aud {
        serde_json::Value::Array(list) => list.len(),
        serde_json::Value::Null => 0,
        _ => 1,
    }
}

/// Some providers send `email_verified` as the string "true".
fn flexible_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<B>::deserialize(d)? {
        Some(B::Bool(b)) => b,
        Some(B::Text(s)) => s.eq_ignore_ascii_case("true"),
        None => false,
    })
}

/// The claims read from an upstream userinfo endpoint.
#[derive(Debug, Deserialize)]
pub(super) struct UserinfoClaims {
    pub sub: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "flexible_bool")]
    pub email_verified: bool,
    #[serde(default)]
    pub name: Option<String>,
}

fn refused(reason: &str) -> SocialError {
    tracing::warn!(reason, "upstream ID token refused");
    SocialError::Unverified
}

/// Checks an ID token: signature by one of `keys` with an asymmetric algorithm, issuer,
/// audience (and `azp` when there are several), expiry, issue time and nonce. Returns who it
/// names.
pub fn check_id_token(
    token: &str,
    keys: &JwkSet,
    expected_issuer: &str,
    client_id: &str,
    nonce: &str,
) -> Result<UpstreamUser, SocialError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| refused("malformed"))?;
    // Only asymmetric algorithms: a shared-secret (HS*) token could be forged by anyone who
    // knows the client secret, and `none` does not parse at all.
    if !matches!(
        header.alg,
        Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512
            | Algorithm::ES256
            | Algorithm::ES384
            | Algorithm::EdDSA
    ) {
        return Err(refused("algorithm not allowed"));
    }
    let jwk = match &header.kid {
        Some(kid) => keys.find(kid),
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
    .ok_or_else(|| refused("unknown signing key"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| refused("unusable key"))?;
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[client_id]);
    // `iat` is required by `IdClaims` itself: the library checks only these.
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 60;
    // The issuer is compared below, after Microsoft's tenant template is filled in.
    let claims = jsonwebtoken::decode::<IdClaims>(token, &key, &validation)
        .map_err(|e| {
            tracing::warn!(error = %e, "upstream ID token refused");
            SocialError::Unverified
        })?
        .claims;
    let issuer = match &claims.tid {
        Some(tid) if expected_issuer.contains("{tenantid}") => {
            expected_issuer.replace("{tenantid}", tid)
        }
        _ => expected_issuer.to_owned(),
    };
    if claims.iss != issuer {
        return Err(refused("issuer"));
    }
    if claims.iat > time::OffsetDateTime::now_utc().unix_timestamp() + 60 {
        return Err(refused("issued in the future"));
    }
    if audience_count(&claims.aud) > 1 && claims.azp.as_deref() != Some(client_id) {
        return Err(refused("authorized party"));
    }
    let nonce_ok = claims
        .nonce
        .as_deref()
        .is_some_and(|n| crate::domain::tokens::same_secret(n, nonce));
    if !nonce_ok {
        return Err(refused("nonce"));
    }
    Ok(UpstreamUser {
        subject: claims.sub,
        email: claims.email,
        email_verified: claims.email_verified,
        name: claims.name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::{json, Value};

    const ISSUER: &str = "https://idp.example.com";
    const CLIENT: &str = "keyhaven";
    const NONCE: &str = "n-0S6_WzA2Mj";

    /// The public half of `testdata/id_token_key.der`, an RSA key made for these tests only.
    fn keys() -> JwkSet {
        serde_json::from_value(json!({ "keys": [{
            "kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
            "n": include_str!("testdata/id_token_key.n").trim(), "e": "AQAB"
        }]}))
        .unwrap()
    }

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    fn claims() -> Value {
        json!({
            "iss": ISSUER, "aud": CLIENT, "sub": "248289761001", "nonce": NONCE,
            "iat": now(), "exp": now() + 300,
            "email": "jane@example.com", "email_verified": true, "name": "Jane Doe"
        })
    }

    fn signed(claims: &Value, kid: Option<&str>) -> String {
        let key = EncodingKey::from_rsa_der(include_bytes!("testdata/id_token_key.der"));
        let mut header = Header::new(Algorithm::RS256);
        header.kid = kid.map(str::to_owned);
        encode(&header, claims, &key).unwrap()
    }

    fn check(token: &str) -> Result<UpstreamUser, SocialError> {
        check_id_token(token, &keys(), ISSUER, CLIENT, NONCE)
    }

    fn with(change: &[(&str, Value)]) -> Value {
        let mut c = claims();
        for (k, v) in change {
            c[*k] = v.clone();
        }
        c
    }

    #[test]
    fn a_valid_id_token_names_its_person() {
        let person = check(&signed(&claims(), Some("k1"))).unwrap();
        assert_eq!(
            person,
            UpstreamUser {
                subject: "248289761001".into(),
                email: Some("jane@example.com".into()),
                email_verified: true,
                name: Some("Jane Doe".into()),
            }
        );
        // Several audiences are fine when we are the authorized party.
        let token = signed(
            &with(&[("aud", json!([CLIENT, "other"])), ("azp", json!(CLIENT))]),
            Some("k1"),
        );
        assert!(check(&token).is_ok());
    }

    #[test]
    fn every_wrong_claim_is_refused() {
        for (what, claims) in [
            ("nonce", with(&[("nonce", json!("tampered"))])),
            ("missing nonce", {
                let mut c = claims();
                c.as_object_mut().unwrap().remove("nonce");
                c
            }),
            ("audience", with(&[("aud", json!("someone-else"))])),
            (
                "azp",
                with(&[("aud", json!([CLIENT, "other"])), ("azp", json!("other"))]),
            ),
            (
                "issuer",
                with(&[("iss", json!("https://evil.example.com"))]),
            ),
            ("expired", with(&[("exp", json!(now() - 120))])),
            ("issued in the future", with(&[("iat", json!(now() + 600))])),
            ("no issue time", {
                let mut c = claims();
                c.as_object_mut().unwrap().remove("iat");
                c
            }),
            ("no subject", {
                let mut c = claims();
                c.as_object_mut().unwrap().remove("sub");
                c
            }),
        ] {
            assert_eq!(
                check(&signed(&claims, Some("k1"))),
                Err(SocialError::Unverified),
                "{what}"
            );
        }
    }

    #[test]
    fn forged_signatures_and_algorithms_are_refused() {
        // Unknown key id.
        assert_eq!(
            check(&signed(&claims(), Some("k2"))),
            Err(SocialError::Unverified)
        );
        // Signed with the client secret (HS256): algorithm confusion.
        let hs = encode(
            &Header {
                kid: Some("k1".into()),
                ..Header::new(Algorithm::HS256)
            },
            &claims(),
            &EncodingKey::from_secret(b"client-secret"),
        )
        .unwrap();
        assert_eq!(check(&hs), Err(SocialError::Unverified));
        // alg "none", and a tampered payload under a real signature.
        let real = signed(&claims(), Some("k1"));
        let parts: Vec<&str> = real.split('.').collect();
        let b64 = |v: &Value| {
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                v.to_string(),
            )
        };
        let none = format!(
            "{}.{}.",
            b64(&json!({ "alg": "none", "kid": "k1" })),
            parts[1]
        );
        assert_eq!(check(&none), Err(SocialError::Unverified));
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            b64(&with(&[("sub", json!("admin"))])),
            parts[2]
        );
        assert_eq!(check(&tampered), Err(SocialError::Unverified));
        assert_eq!(check("not a token"), Err(SocialError::Unverified));
    }

    #[test]
    fn a_microsoft_tenant_template_is_filled_from_the_token() {
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        let token = signed(
            &with(&[
                ("iss", json!("https://login.microsoftonline.com/t-1/v2.0")),
                ("tid", json!("t-1")),
            ]),
            Some("k1"),
        );
        assert!(check_id_token(&token, &keys(), template, CLIENT, NONCE).is_ok());
        let token = signed(
            &with(&[
                ("iss", json!("https://login.microsoftonline.com/t-2/v2.0")),
                ("tid", json!("t-1")),
            ]),
            Some("k1"),
        );
        assert!(check_id_token(&token, &keys(), template, CLIENT, NONCE).is_err());
    }

    #[test]
    fn email_verified_may_be_a_boolean_or_a_string() {
        let claims: IdClaims = serde_json::from_str(
            r#"{"sub":"1","iss":"i","iat":1,"aud":"a","email_verified":"true"}"#,
        )
        .unwrap();
        assert!(claims.email_verified);
        let claims: IdClaims = serde_json::from_str(
            r#"{"sub":"1","iss":"i","iat":1,"aud":["a","b"],"email_verified":false}"#,
        )
        .unwrap();
        assert!(!claims.email_verified);
        assert_eq!(audience_count(&claims.aud), 2);
        let claims: IdClaims = serde_json::from_str(r#"{"sub":"1","iss":"i","iat":1}"#).unwrap();
        assert!(!claims.email_verified);
    }
}
