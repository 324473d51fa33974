//! Compact JWS for the provider's tokens, built directly over aws-lc-rs: the node's
//! [`KeyRing`] holds the current key of each algorithm parsed, with its JWS headers encoded and
//! the JWKS serialised once per change, so signing an ID, access or logout token never re-parses
//! a key; and it checks the tokens this provider signed (access tokens on every userinfo and
//! introspection, ID token hints).

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
// aws-lc-rs rather than ring: its RSA signing is several times faster on current CPUs, and
// RS256 ID tokens are the most expensive thing the token endpoint does.
use aws_lc_rs::{
    rand::SystemRandom,
    signature::{
        EcdsaKeyPair, Ed25519KeyPair, ParsedPublicKey, RsaKeyPair, ECDSA_P256_SHA256_FIXED,
        ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
    },
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::key_pairs::{b64, generate, Alg, KeyError};

/// A parsed private key.
enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// The key that signs with one algorithm now, with its JWS headers already encoded.
struct ActiveKey {
    signer: Signer,
    /// base64url of `{"alg":…,"kid":…,"typ":"JWT"}`.
    header_jwt: String,
    /// The same with `"typ":"at+jwt"` (RFC 9068 access tokens).
    header_at_jwt: String,
    /// The same with `"typ":"logout+jwt"` (back-channel logout tokens).
    header_logout_jwt: String,
}

/// Which kind of token is signed (its JWS `typ`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    Id,
    Access,
    Logout,
}

impl ActiveKey {
    fn new(alg: Alg, kid: &str, signer: Signer) -> Self {
        let header = |typ: &str| {
            b64(json!({ "alg": alg.as_str(), "kid": kid, "typ": typ })
                .to_string()
                .as_bytes())
        };
        Self {
            signer,
            header_jwt: header("JWT"),
            header_at_jwt: header("at+jwt"),
            header_logout_jwt: header("logout+jwt"),
        }
    }
}

fn parse(alg: Alg, kid: &str, der: &[u8]) -> Result<Signer, KeyError> {
    let malformed = |_| KeyError::Malformed(kid.to_owned());
    Ok(match alg {
        Alg::Rs256 => Signer::Rsa(RsaKeyPair::from_der(der).map_err(malformed)?),
        Alg::Es256 => Signer::Ec(
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).map_err(malformed)?,
        ),
        Alg::EdDsa => Signer::Ed(Ed25519KeyPair::from_pkcs8(der).map_err(malformed)?),
    })
}

/// The P-256 public key of an ES256 JWK (`0x04 || x || y`), parsed.
fn p256_public_key(jwk: &Value) -> Option<ParsedPublicKey> {
    let x = URL_SAFE_NO_PAD.decode(jwk["x"].as_str()?).ok()?;
    let y = URL_SAFE_NO_PAD.decode(jwk["y"].as_str()?).ok()?;
    if jwk["crv"] != "P-256" || x.len() != 32 || y.len() != 32 {
        return None;
    }
    let point: Vec<u8> = [&[4u8][..], &x, &y].concat();
    ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).ok()
}

/// A published key as stored: its private key (opened) when it is the current one.
pub(super) struct PublishedKey {
    pub alg: Alg,
    pub kid: String,
    pub private_der: Option<Vec<u8>>,
    pub jwk: Value,
}

/// What the ring holds at one moment.
struct Loaded {
    jwks: Arc<[u8]>,
    active: HashMap<Alg, ActiveKey>,
    /// The published public keys by kid, for checking tokens this provider signed.
    public_keys: HashMap<String, (Alg, jsonwebtoken::DecodingKey)>,
    /// The published ES256 keys by kid, parsed for checking access tokens.
    access_keys: HashMap<String, ParsedPublicKey>,
    /// The (kid, state) pairs this was loaded from: a reload that finds the same ones keeps it.
    published: Vec<(String, String)>,
}

impl Loaded {
    /// The ring's contents for published `keys` (algorithm, kid, the private key if current,
    /// the public JWK), in JWKS order.
    fn new(
        keys: Vec<(Alg, String, Option<Signer>, Value)>,
        published: Vec<(String, String)>,
    ) -> Self {
        let mut active = HashMap::new();
        let mut public_keys = HashMap::new();
        let mut access_keys = HashMap::new();
        let mut public = Vec::new();
        for (alg, kid, signer, jwk) in keys {
            if let Some(signer) = signer {
                active.insert(alg, ActiveKey::new(alg, &kid, signer));
            }
            if let Ok(parsed) = serde_json::from_value::<jsonwebtoken::jwk::Jwk>(jwk.clone()) {
                if let Ok(key) = jsonwebtoken::DecodingKey::from_jwk(&parsed) {
                    public_keys.insert(kid.clone(), (alg, key));
                }
            }
            if alg == Alg::Es256 {
                if let Some(key) = p256_public_key(&jwk) {
                    access_keys.insert(kid.clone(), key);
                }
            }
            public.push(jwk);
        }
        let jwks = serde_json::to_vec(&json!({ "keys": public })).expect("JSON values serialise");
        Self {
            jwks: Arc::from(jwks),
            active,
            public_keys,
            access_keys,
            published,
        }
    }
}

/// The keys in memory: the current key of each algorithm, parsed, and the JWKS document (next,
/// current and previous public keys) serialised once per load.
pub struct KeyRing {
    loaded: RwLock<Arc<Loaded>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyRing")
    }
}

impl Default for KeyRing {
    fn default() -> Self {
        Self {
            loaded: RwLock::new(Arc::new(Loaded {
                jwks: Arc::from(&br#"{"keys":[]}"#[..]),
                active: HashMap::new(),
                public_keys: HashMap::new(),
                access_keys: HashMap::new(),
                published: Vec::new(),
            })),
        }
    }
}

impl KeyRing {
    /// Whether the ring holds exactly the keys `published` ((kid, state) pairs) names.
    pub(super) fn holds(&self, published: &[(String, String)]) -> bool {
        self.loaded.read().expect("key ring lock").published == published
    }

    /// Parses `keys` and swaps them in.
    pub(super) fn replace(
        &self,
        keys: Vec<PublishedKey>,
        published: Vec<(String, String)>,
    ) -> Result<(), KeyError> {
        let mut parsed = Vec::new();
        for key in keys {
            let signer = match &key.private_der {
                Some(der) => Some(parse(key.alg, &key.kid, der)?),
                None => None,
            };
            parsed.push((key.alg, key.kid, signer, key.jwk));
        }
        *self.loaded.write().expect("key ring lock") = Arc::new(Loaded::new(parsed, published));
        Ok(())
    }

    /// A ring of fresh keys (one current key per algorithm) that lives only in memory, for
    /// benchmarks and tests.
    pub fn ephemeral() -> Result<Self, KeyError> {
        let mut keys = Vec::new();
        for &alg in Alg::ALL {
            let key = generate(alg)?;
            let signer = parse(alg, &key.kid, &key.der)?;
            keys.push((alg, key.kid, Some(signer), key.jwk));
        }
        Ok(Self {
            loaded: RwLock::new(Arc::new(Loaded::new(keys, Vec::new()))),
        })
    }

    /// The JWKS document, ready to send.
    pub fn jwks(&self) -> Arc<[u8]> {
        self.loaded.read().expect("key ring lock").jwks.clone()
    }

    /// Signs `claims` as a compact JWS (`typ` JWT) with the current key of `alg`.
    pub fn sign<T: Serialize>(&self, alg: Alg, claims: &T) -> Result<String, KeyError> {
        self.sign_with(alg, TokenKind::Id, claims)
    }

    /// Signs a back-channel logout token (`typ` logout+jwt) with the current key of `alg`.
    pub fn sign_logout_token<T: Serialize>(
        &self,
        alg: Alg,
        claims: &T,
    ) -> Result<String, KeyError> {
        self.sign_with(alg, TokenKind::Logout, claims)
    }

    /// Signs an RFC 9068 access token (`typ` at+jwt, ES256).
    pub fn sign_access_token<T: Serialize>(&self, claims: &T) -> Result<String, KeyError> {
        self.sign_with(Alg::Es256, TokenKind::Access, claims)
    }

    /// The claims of an access token this provider signed (with a published ES256 key) for
    /// `issuer`, if it is one and has not expired. Checked directly with the parsed keys: this
    /// runs on every userinfo and introspection request.
    pub fn verify_access_token(&self, token: &str, issuer: &str) -> Option<Value> {
        #[derive(Deserialize)]
        struct Header {
            alg: String,
            typ: Option<String>,
            kid: String,
        }
        let mut parts = token.split('.');
        let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let head: Header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
        if head.alg != "ES256" || head.typ.as_deref() != Some("at+jwt") {
            return None;
        }
        let loaded = self.loaded.read().expect("key ring lock").clone();
        let key = loaded.access_keys.get(&head.kid)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let signed = &token.as_bytes()[..header.len() + 1 + payload.len()];
        key.verify_sig(signed, &signature).ok()?;
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let valid = claims["iss"].as_str() == Some(issuer)
            && claims["sub"].is_string()
            && claims["exp"].as_i64().is_some_and(|exp| exp > now);
        valid.then_some(claims)
    }

    /// The claims of an ID token this provider signed for `issuer`, expired or not (an
    /// `id_token_hint` may be old), if its signature is good.
    pub fn verify_id_token_hint(&self, token: &str, issuer: &str) -> Option<Value> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let loaded = self.loaded.read().expect("key ring lock").clone();
        let (alg, key) = loaded.public_keys.get(header.kid.as_deref()?)?;
        if alg.jwt_algorithm() != header.alg {
            return None;
        }
        let mut validation = jsonwebtoken::Validation::new(header.alg);
        validation.set_issuer(&[issuer]);
        validation.validate_aud = false;
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["iss", "sub", "aud"]);
        jsonwebtoken::decode::<Value>(token, key, &validation)
            .ok()
            .map(|d| d.claims)
    }

    fn sign_with<T: Serialize>(
        &self,
        alg: Alg,
        kind: TokenKind,
        claims: &T,
    ) -> Result<String, KeyError> {
        let loaded = self.loaded.read().expect("key ring lock").clone();
        let key = loaded
            .active
            .get(&alg)
            .ok_or(KeyError::NoCurrentKey(alg.as_str()))?;
        let header = match kind {
            TokenKind::Id => &key.header_jwt,
            TokenKind::Access => &key.header_at_jwt,
            TokenKind::Logout => &key.header_logout_jwt,
        };
        let payload = serde_json::to_vec(claims).map_err(|e| KeyError::Generate(e.to_string()))?;
        let mut token = String::with_capacity(header.len() + payload.len() * 4 / 3 + 400);
        token.push_str(header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let rng = SystemRandom::new();
        let failed = |_| KeyError::Generate("signing failed".into());
        let signature = match &key.signer {
            Signer::Rsa(pair) => {
                let mut sig = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, token.as_bytes(), &mut sig)
                    .map_err(failed)?;
                sig
            }
            Signer::Ec(pair) => pair
                .sign(&rng, token.as_bytes())
                .map_err(failed)?
                .as_ref()
                .to_vec(),
            Signer::Ed(pair) => pair.sign(token.as_bytes()).as_ref().to_vec(),
        };
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{jwk::Jwk, DecodingKey, Validation};

    /// A ring with one fresh key per algorithm, and the public JWKs.
    fn ring_of_fresh_keys() -> (KeyRing, Vec<Value>) {
        let ring = KeyRing::ephemeral().unwrap();
        let jwks: Value = serde_json::from_slice(&ring.jwks()).unwrap();
        let public = jwks["keys"].as_array().unwrap().clone();
        (ring, public)
    }

    #[test]
    fn access_tokens_verify_only_when_signed_typed_unexpired_and_ours() {
        const ISSUER: &str = "https://id.example.com";
        let (ring, _) = ring_of_fresh_keys();
        let claims = json!({ "iss": ISSUER, "sub": "u1", "exp": 4_000_000_000u64, "jti": "j" });
        let token = ring.sign_access_token(&claims).unwrap();
        assert_eq!(
            ring.verify_access_token(&token, ISSUER),
            Some(claims.clone())
        );
        assert_eq!(
            ring.verify_access_token(&token, "https://other.example"),
            None
        );

        // Another payload under the same signature.
        let parts: Vec<&str> = token.split('.').collect();
        let forged = b64(
            json!({ "iss": ISSUER, "sub": "u2", "exp": 4_000_000_000u64 })
                .to_string()
                .as_bytes(),
        );
        let tampered = format!("{}.{forged}.{}", parts[0], parts[2]);
        assert_eq!(ring.verify_access_token(&tampered, ISSUER), None);
        // Unsigned, or with an extra segment.
        let none = b64(br#"{"alg":"none","typ":"at+jwt"}"#);
        assert_eq!(
            ring.verify_access_token(&format!("{none}.{}.", parts[1]), ISSUER),
            None
        );
        assert_eq!(
            ring.verify_access_token(&format!("{token}.x"), ISSUER),
            None
        );
        // An ES256 ID token (typ JWT) is not an access token.
        let id_token = ring.sign(Alg::Es256, &claims).unwrap();
        assert_eq!(ring.verify_access_token(&id_token, ISSUER), None);
        // Expired, and without a subject.
        let expired = ring
            .sign_access_token(&json!({ "iss": ISSUER, "sub": "u1", "exp": 1 }))
            .unwrap();
        assert_eq!(ring.verify_access_token(&expired, ISSUER), None);
        let anonymous = ring
            .sign_access_token(&json!({ "iss": ISSUER, "exp": 4_000_000_000u64 }))
            .unwrap();
        assert_eq!(ring.verify_access_token(&anonymous, ISSUER), None);
    }

    #[test]
    fn tokens_signed_with_each_algorithm_verify_against_the_published_key() {
        let (ring, public) = ring_of_fresh_keys();
        let claims = json!({ "sub": "u1", "aud": "client", "exp": 4_000_000_000u64 });
        for (&alg, jwk) in Alg::ALL.iter().zip(&public) {
            let token = ring.sign(alg, &claims).unwrap();
            let header = jsonwebtoken::decode_header(&token).unwrap();
            assert_eq!(header.kid.as_deref(), jwk["kid"].as_str());
            let jwk: Jwk = serde_json::from_value(jwk.clone()).unwrap();
            let mut validation = Validation::new(header.alg);
            validation.set_audience(&["client"]);
            let decoded = jsonwebtoken::decode::<Value>(
                &token,
                &DecodingKey::from_jwk(&jwk).unwrap(),
                &validation,
            )
            .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
            assert_eq!(decoded.claims["sub"], "u1");
        }
        // A token does not verify under another algorithm's key.
        let token = ring.sign(Alg::Es256, &claims).unwrap();
        let other: Jwk = serde_json::from_value(public[2].clone()).unwrap();
        assert!(jsonwebtoken::decode::<Value>(
            &token,
            &DecodingKey::from_jwk(&other).unwrap(),
            &Validation::new(jsonwebtoken::Algorithm::EdDSA)
        )
        .is_err());
    }

    #[test]
    fn published_keys_carry_no_private_part() {
        let (_, public) = ring_of_fresh_keys();
        for jwk in public {
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(jwk.get(private).is_none(), "{jwk}");
            }
            assert_eq!(jwk["use"], "sig");
        }
    }

    #[test]
    fn an_empty_ring_signs_nothing() {
        let ring = KeyRing::default();
        assert!(matches!(
            ring.sign(Alg::Rs256, &json!({})),
            Err(KeyError::NoCurrentKey("RS256"))
        ));
        assert_eq!(&*ring.jwks(), br#"{"keys":[]}"#);
    }
}
