//! The algorithms the provider signs with and the key pairs for them: RSA from OpenSSL (already
//! linked for WebAuthn), ECDSA P-256 and Ed25519 from aws-lc-rs, each with its public JWK.

use aws_lc_rs::{
    rand::SystemRandom,
    rsa::PublicKeyComponents,
    signature::{
        EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
    },
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde_json::{json, Value};

/// base64url without padding.
pub(super) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A signing algorithm the provider offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    /// RSA PKCS#1 v1.5 with SHA-256: the ID token default (OpenID Connect's mandatory algorithm).
    Rs256,
    /// ECDSA P-256 with SHA-256: access tokens, and ID tokens for clients that ask.
    Es256,
    /// Ed25519, for clients that ask.
    EdDsa,
}

crate::text_enum!(Alg {
    Rs256 => "RS256",
    Es256 => "ES256",
    EdDsa => "EdDSA",
});

impl Alg {
    /// The same algorithm as the JWT library names it.
    pub fn jwt_algorithm(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::Rs256 => jsonwebtoken::Algorithm::RS256,
            Self::Es256 => jsonwebtoken::Algorithm::ES256,
            Self::EdDsa => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

/// Why a key could not be made, opened or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the private key of {0} does not open with this master key")]
    Sealed(String),
    #[error("the private key of {0} is not a valid key")]
    Malformed(String),
    #[error("no current {0} key")]
    NoCurrentKey(&'static str),
    #[error("generating a key failed: {0}")]
    Generate(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A freshly made key pair: the private key as stored, and its public JWK.
pub(super) struct NewKey {
    pub kid: String,
    pub der: Vec<u8>,
    pub jwk: Value,
}

fn new_kid(alg: Alg) -> String {
    let mut bytes = [0u8; 12];
    aws_lc_rs::rand::SecureRandom::fill(&SystemRandom::new(), &mut bytes)
        .expect("system randomness");
    format!("{}-{}", alg.as_str().to_lowercase(), b64(&bytes))
}

pub(super) fn generate(alg: Alg) -> Result<NewKey, KeyError> {
    let kid = new_kid(alg);
    let rng = SystemRandom::new();
    let generate_failed = |e: &dyn std::fmt::Display| KeyError::Generate(e.to_string());
    let (der, jwk) = match alg {
        Alg::Rs256 => {
            // RSA keys come from OpenSSL (already linked for WebAuthn).
            let rsa = openssl::rsa::Rsa::generate(2048).map_err(|e| generate_failed(&e))?;
            let der = rsa.private_key_to_der().map_err(|e| generate_failed(&e))?;
            let pair = RsaKeyPair::from_der(&der).map_err(|e| generate_failed(&e))?;
            let public = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
            let jwk = json!({ "kty": "RSA", "n": b64(&public.n), "e": b64(&public.e) });
            (der, jwk)
        }
        Alg::Es256 => {
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|e| generate_failed(&e))?;
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
                .map_err(|e| generate_failed(&e))?;
            // Uncompressed point: 0x04 || x || y.
            let point = pair.public_key().as_ref();
            let jwk = json!({
                "kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])
            });
            (pkcs8.as_ref().to_vec(), jwk)
        }
        Alg::EdDsa => {
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|e| generate_failed(&e))?;
            let pair =
                Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|e| generate_failed(&e))?;
            let jwk =
                json!({ "kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref()) });
            (pkcs8.as_ref().to_vec(), jwk)
        }
    };
    let mut jwk = jwk;
    jwk["kid"] = json!(kid);
    jwk["alg"] = json!(alg.as_str());
    jwk["use"] = json!("sig");
    Ok(NewKey { kid, der, jwk })
}
