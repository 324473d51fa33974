//! The one place keys are derived from the master key: each purpose has its own label, and its
//! key is HMAC-SHA-256(master key, label), so no two purposes ever share a key. Also the
//! fingerprint a database keeps of the master key it was set up with, so that a process started
//! with another key refuses to run instead of failing in confusing ways later.

use crate::domain::privacy::{Erasure, Export, Table};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::PgPool;

/// Hashes short one-time codes (email and SMS).
pub const ONE_TIME_CODES: &str = "email sign-in code v1";
/// Hashes OAuth client secrets.
pub const CLIENT_SECRETS: &str = "oauth client secrets v1";
/// Derives pairwise subject identifiers.
pub const PAIRWISE_SUBJECTS: &str = "pairwise subjects";
/// Seals upstream providers' client secrets.
pub const UPSTREAM_SECRETS: &str = "secret box v1: upstream client secrets";
/// Seals the OpenID provider's private signing keys.
pub const SIGNING_KEYS: &str = "secret box v1: signing keys";
/// Seals the secrets of people's authenticator apps.
pub const FACTOR_SECRETS: &str = "secret box v1: authenticator secrets";
/// Seals the files of people's data exports while they wait to be downloaded.
pub const DATA_EXPORTS: &str = "secret box v1: data exports";
/// Hashes recovery codes.
pub const RECOVERY_CODES: &str = "recovery codes v1";
/// Signs proof-of-work challenges.
pub const PROOF_OF_WORK: &str = "proof of work challenges v1";
/// Makes the server's DPoP nonces (RFC 9449 §8).
pub const DPOP_NONCES: &str = "dpop nonces v1";
/// Seals the audit trail's hash chain.
pub const AUDIT_CHAIN: &str = "audit chain v1";
/// Digests the personal columns of audit rows (what the chain seals in their place).
pub const AUDIT_PERSONAL: &str = "audit personal digest v1";
/// The fingerprint kept in the database.
const FINGERPRINT: &str = "master key fingerprint v1";

/// The key of `label`, derived from `master`.
pub fn derive(master: &[u8; 32], label: &str) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(master).expect("HMAC takes any key size");
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Why a process may not use its master key with this database.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error(
        "this database was set up with another master key (fingerprint {stored}, this key's is \
         {ours}). Run with the master key the database was set up with: set CIAM_MASTER_KEY or \
         CIAM_MASTER_KEY_FILE to it. Secrets sealed under one key cannot be opened with another."
    )]
    Mismatch { stored: String, ours: String },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A short, printable form of a fingerprint.
fn short(fingerprint: &[u8]) -> String {
    fingerprint[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Records the fingerprint of `master` when the database has none yet, and refuses a key whose
/// fingerprint differs from the recorded one.
pub async fn check(db: &PgPool, master: &[u8; 32]) -> Result<(), MasterKeyError> {
    let ours = derive(master, FINGERPRINT);
    let stored: Vec<u8> = sqlx::query_scalar(
        "WITH first AS (
             INSERT INTO master_key_fingerprint (fingerprint) VALUES ($1)
             ON CONFLICT (id) DO NOTHING RETURNING fingerprint
         )
         SELECT fingerprint FROM first
         UNION ALL SELECT fingerprint FROM master_key_fingerprint
         LIMIT 1",
    )
    .bind(ours.as_slice())
    .fetch_one(db)
    .await?;
    if super::tokens::same_hash(&stored, &ours) {
        Ok(())
    } else {
        Err(MasterKeyError::Mismatch {
            stored: short(&stored),
            ours: short(&ours),
        })
    }
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[Table {
    name: "master_key_fingerprint",
    person: None,
    personal: &[],
    other: &["id", "fingerprint", "created_at"],
    export: Export::Not("holds nothing about people"),
    erasure: Erasure::Nothing,
}];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_purpose_gets_its_own_key() {
        let master = [9; 32];
        let keys = [
            ONE_TIME_CODES,
            CLIENT_SECRETS,
            PAIRWISE_SUBJECTS,
            UPSTREAM_SECRETS,
            DPOP_NONCES,
        ]
        .map(|label| derive(&master, label));
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(derive(&master, ONE_TIME_CODES), keys[0], "stable");
        assert_ne!(derive(&[8; 32], ONE_TIME_CODES), keys[0]);
    }
}
