//! Standard Webhooks signatures (Standard Webhooks 1.0, "Signature scheme"): a subscriber's
//! secret is `whsec_` followed by the base64 of 24 to 64 random bytes, and each message carries
//! `webhook-signature: v1,<base64 HMAC-SHA256(secret bytes, "{id}.{timestamp}.{body}")>`, one
//! such signature per valid secret, separated by spaces (so a rotation overlaps).

use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use rand::{rngs::OsRng, RngCore};
use sha2::Sha256;

/// The prefix a secret is shown with.
pub const SECRET_PREFIX: &str = "whsec_";

/// How many random bytes a new secret has (the scheme allows 24 to 64).
const NEW_SECRET_BYTES: usize = 32;

/// The header naming the message (the same on every attempt: the subscriber's idempotency key).
pub const ID_HEADER: &str = "webhook-id";
/// The header with the attempt's time, in Unix seconds.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The header with the signatures.
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// A subscriber's signing secret (the HMAC key: the bytes behind `whsec_`).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

/// Why a secret could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a webhook secret is base64 after \"whsec_\"")]
    NotBase64,
    #[error("a webhook secret has 24 to 64 bytes, this one has {0}")]
    Length(usize),
}

impl WebhookSecret {
    /// A new random secret.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; NEW_SECRET_BYTES];
        OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Reads `whsec_<base64>` (or the base64 alone).
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let encoded = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::NotBase64)?;
        Self::from_bytes(bytes)
    }

    /// The secret of these bytes (as stored, unsealed).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, SecretError> {
        if (24..=64).contains(&bytes.len()) {
            Ok(Self(bytes))
        } else {
            Err(SecretError::Length(bytes.len()))
        }
    }

    /// The key's bytes (to seal at rest).
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// As the subscriber is shown it, once: `whsec_<base64>`.
    pub fn reveal(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    fn mac(&self, message_id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key size");
        mac.update(message_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// `v1,<signature>` of the message `message_id` sent at `timestamp` with `body`.
    pub fn sign(&self, message_id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = self
            .mac(message_id, timestamp, body)
            .finalize()
            .into_bytes();
        format!("v1,{}", STANDARD.encode(tag))
    }

    /// Whether one of the space-separated signatures in `header` is this secret's `v1`
    /// signature of the message (compared in constant time). What a receiver checks.
    pub fn verify(&self, message_id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
        header.split(' ').any(|signature| {
            let Some(encoded) = signature.strip_prefix("v1,") else {
                return false;
            };
            let Ok(tag) = STANDARD.decode(encoded) else {
                return false;
            };
            self.mac(message_id, timestamp, body)
                .verify_slice(&tag)
                .is_ok()
        })
    }
}

/// The `webhook-signature` header: one `v1` signature per secret, the current one first.
pub fn signature_header(
    secrets: &[WebhookSecret],
    message_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|secret| secret.sign(message_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector of the reference libraries' tests (`test_sign_function`).
    #[test]
    fn signs_the_reference_vector() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let signature = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(secret.verify("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, &signature));
        assert!(!secret.verify("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, &signature));
    }

    #[test]
    fn secrets_are_24_to_64_bytes_of_base64() {
        assert_eq!(
            WebhookSecret::parse("whsec_c2hvcnQ="),
            Err(SecretError::Length(5))
        );
        assert_eq!(
            WebhookSecret::parse("whsec_not base64!"),
            Err(SecretError::NotBase64)
        );
        let new = WebhookSecret::generate();
        assert_eq!(new.bytes().len(), 32);
        assert_eq!(WebhookSecret::parse(&new.reveal()), Ok(new.clone()));
        assert_ne!(WebhookSecret::generate(), new);
        assert_eq!(format!("{new:?}"), "WebhookSecret([redacted])");
    }
}
