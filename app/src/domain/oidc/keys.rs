//! The OpenID provider's signing keys at rest: generated at first start (RS256, ES256, EdDSA),
//! sealed with their own secret box, rotated (next → current → previous → retired), and loaded
//! into the node's [`KeyRing`] (see `jws`) whenever what is published changes.

use aws_lc_rs::{
    rand::SystemRandom,
    rsa::PublicKeyComponents,
    signature::{
        EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
    },
};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};

pub use super::jws::KeyRing;
use super::jws::{b64, PublishedKey};
use crate::domain::{
    audit::{self, Actor, AuditEvent, Outcome},
    client::ClientInfo,
    secrets::SecretBox,
};

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

async fn insert(
    conn: &mut PgConnection,
    secrets: &SecretBox,
    alg: Alg,
    state: &str,
) -> Result<String, KeyError> {
    let key = generate(alg)?;
    sqlx::query(
        "INSERT INTO signing_keys (kid, alg, private_key_enc, public_jwk, state, activated_at)
         VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 = 'current' THEN now() END)",
    )
    .bind(&key.kid)
    .bind(alg.as_str())
    .bind(secrets.seal(&key.kid, &key.der))
    .bind(&key.jwk)
    .bind(state)
    .execute(&mut *conn)
    .await?;
    Ok(key.kid)
}

/// Makes sure every algorithm has a current and a next key (first start, or a new algorithm).
/// Safe on many nodes at once: the work is serialised by a transaction-scoped advisory lock.
pub async fn ensure(db: &PgPool, secrets: &SecretBox) -> Result<(), KeyError> {
    let mut tx = db.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('signing_keys'))")
        .execute(&mut *tx)
        .await?;
    for &alg in Alg::ALL {
        let states: Vec<String> = sqlx::query_scalar(
            "SELECT state FROM signing_keys WHERE alg = $1 AND state IN ('current', 'next')",
        )
        .bind(alg.as_str())
        .fetch_all(&mut *tx)
        .await?;
        for wanted in ["current", "next"] {
            if !states.iter().any(|s| s == wanted) {
                insert(&mut tx, secrets, alg, wanted).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Rotates every algorithm: the previous key retires, the current one becomes previous, the
/// next one signs from now on, and a new next key is made (audited, with `actor`). Returns the
/// new current kids.
pub async fn rotate(
    db: &PgPool,
    secrets: &SecretBox,
    actor: Actor,
) -> Result<Vec<String>, KeyError> {
    ensure(db, secrets).await?;
    let mut tx = db.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('signing_keys'))")
        .execute(&mut *tx)
        .await?;
    let mut current = Vec::new();
    for &alg in Alg::ALL {
        let alg_name = alg.as_str();
        sqlx::query(
            "UPDATE signing_keys SET state = 'retired', retired_at = now()
             WHERE alg = $1 AND state = 'previous'",
        )
        .bind(alg_name)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE signing_keys SET state = 'previous' WHERE alg = $1 AND state = 'current'",
        )
        .bind(alg_name)
        .execute(&mut *tx)
        .await?;
        let kid: String = sqlx::query_scalar(
            "UPDATE signing_keys SET state = 'current', activated_at = now()
             WHERE alg = $1 AND state = 'next' RETURNING kid",
        )
        .bind(alg_name)
        .fetch_one(&mut *tx)
        .await?;
        insert(&mut tx, secrets, alg, "next").await?;
        current.push(kid);
    }
    let event = AuditEvent::new("keys.rotated", Outcome::Success)
        .by_actor(actor)
        .detail(json!({ "current": current }));
    audit::record(&mut *tx, &ClientInfo::default(), event).await?;
    tx.commit().await?;
    Ok(current)
}

/// Rotates when the current keys are older than `max_age` (the scheduled rotation); returns
/// whether it did.
pub async fn rotate_if_older_than(
    db: &PgPool,
    secrets: &SecretBox,
    max_age: time::Duration,
) -> Result<bool, KeyError> {
    let due: bool = sqlx::query_scalar(
        "SELECT coalesce(min(activated_at) < now() - make_interval(secs => $1), false)
         FROM signing_keys WHERE state = 'current'",
    )
    .bind(max_age.whole_seconds() as f64)
    .fetch_one(db)
    .await?;
    if due {
        rotate(db, secrets, Actor::System).await?;
    }
    Ok(due)
}

/// One row of `server keys list`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeySummary {
    pub kid: String,
    pub alg: String,
    pub state: String,
    pub created_at: time::OffsetDateTime,
}

pub async fn list(db: &PgPool) -> sqlx::Result<Vec<KeySummary>> {
    sqlx::query_as(
        "SELECT kid, alg, state, created_at FROM signing_keys WHERE state <> 'retired'
         ORDER BY alg, created_at",
    )
    .fetch_all(db)
    .await
}

impl KeyRing {
    /// Reads which keys are published and, when that changed, loads and swaps them in.
    pub async fn reload(&self, db: &PgPool, secrets: &SecretBox) -> Result<(), KeyError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            kid: String,
            alg: String,
            private_key_enc: Vec<u8>,
            public_jwk: Value,
            state: String,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT kid, alg, private_key_enc, public_jwk, state FROM signing_keys
             WHERE state IN ('next', 'current', 'previous')
             ORDER BY alg, CASE state WHEN 'current' THEN 0 WHEN 'next' THEN 1 ELSE 2 END",
        )
        .fetch_all(db)
        .await?;
        let published: Vec<(String, String)> = rows
            .iter()
            .map(|r| (r.kid.clone(), r.state.clone()))
            .collect();
        if self.holds(&published) {
            return Ok(());
        }
        let mut keys = Vec::new();
        for row in rows {
            let Some(alg) = Alg::parse(&row.alg) else {
                continue;
            };
            let private_der = if row.state == "current" {
                let der = secrets
                    .open(&row.kid, &row.private_key_enc)
                    .ok_or_else(|| KeyError::Sealed(row.kid.clone()))?;
                Some(der)
            } else {
                None
            };
            keys.push(PublishedKey {
                alg,
                kid: row.kid,
                private_der,
                jwk: row.public_jwk,
            });
        }
        self.replace(keys, published)
    }
}
