//! `SecretBox`: encrypts small secrets stored in the database (such as upstream client secrets)
//! with AES-256-GCM under a key derived from the master key, so a copy of the database alone
//! does not reveal them.

use ring::{
    aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN},
    rand::{SecureRandom, SystemRandom},
};

/// Seals and opens secrets; each kind of secret has a box of its own (its own derived key).
#[derive(Clone)]
pub struct SecretBox {
    key: std::sync::Arc<LessSafeKey>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox([redacted])")
    }
}

impl SecretBox {
    /// The box of `label` (one of `master_key`'s labels), its key derived from `master_key`.
    pub fn derive(master_key: &[u8; 32], label: &str) -> Self {
        let bytes = super::master_key::derive(master_key, label);
        let key = UnboundKey::new(&AES_256_GCM, &bytes).expect("32-byte key");
        Self {
            key: std::sync::Arc::new(LessSafeKey::new(key)),
        }
    }

    /// `nonce || ciphertext+tag`; `context` (e.g. the row's id) is bound as associated data, so
    /// a sealed value cannot be moved to another row.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the system random source works");
        let mut buffer = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut buffer,
            )
            .expect("sealing cannot fail for small inputs");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buffer);
        out
    }

    /// The plaintext, or `None` when the value was not sealed by this key for `context`.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buffer = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buffer)
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::master_key::{SIGNING_KEYS, UPSTREAM_SECRETS};

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_context() {
        let sealed_box = SecretBox::derive(&[1; 32], UPSTREAM_SECRETS);
        let sealed = sealed_box.seal("google", b"s3cret");
        assert_ne!(&sealed[NONCE_LEN..], b"s3cret");
        assert_eq!(
            sealed_box.open("google", &sealed).as_deref(),
            Some(&b"s3cret"[..])
        );
        assert_eq!(sealed_box.open("github", &sealed), None);
        let other_key = SecretBox::derive(&[2; 32], UPSTREAM_SECRETS);
        assert_eq!(other_key.open("google", &sealed), None);
        let other_purpose = SecretBox::derive(&[1; 32], SIGNING_KEYS);
        assert_eq!(other_purpose.open("google", &sealed), None);
        assert_eq!(sealed_box.open("google", &sealed[..5]), None);
        assert_ne!(
            sealed,
            sealed_box.seal("google", b"s3cret"),
            "fresh nonce each time"
        );
    }
}
