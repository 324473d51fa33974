//! The OpenID provider's signing keys at rest: made at first start (RS256, ES256, EdDSA; see
//! `key_pairs`), sealed with their own secret box, rotated (next → current → previous →
//! retired), and loaded into the node's [`KeyRing`] (see `jws`) whenever what is published
//! changes: a trigger sends [`CHANNEL`] on every change, and each node also looks every minute.

use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};

pub use super::{
    jws::KeyRing,
    key_pairs::{Alg, KeyError},
};
use super::{jws::PublishedKey, key_pairs::generate};
use crate::domain::{
    audit::{self, Actor, AuditEvent, Outcome},
    client::ClientInfo,
    secrets::SecretBox,
};

/// The notice a change to `signing_keys` sends (migration `signing_key_changes`).
pub const CHANNEL: &str = "signing_keys_changed";

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
