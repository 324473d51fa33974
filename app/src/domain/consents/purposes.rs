//! The consent purposes the business defines (`consent_purposes`) and their versioned policy
//! texts (`consent_policies`, append-only): listing them, adding one, publishing a new version
//! of its text, and retiring it. Every change is audited with the operator as actor. A new
//! version of a required purpose's text is asked for again at each person's next sign-in.

use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;

use super::LawfulBasis;
use crate::domain::audit::{self, Actor};
use crate::domain::privacy::{Erasure, Export, Table};

/// One purpose, with its current policy text.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Purpose {
    pub key: String,
    pub name: String,
    pub required: bool,
    pub lawful_basis: LawfulBasis,
    pub region: Option<String>,
    /// The current version of the policy text.
    pub version: i32,
    pub body: String,
    pub body_hash: Vec<u8>,
    pub retired_at: Option<OffsetDateTime>,
}

/// A purpose to add.
#[derive(Debug, Clone)]
pub struct NewPurpose {
    pub key: String,
    pub name: String,
    pub required: bool,
    pub lawful_basis: String,
    pub region: Option<String>,
    pub body: String,
}

/// Why a purpose change was refused.
#[derive(Debug, thiserror::Error)]
pub enum PurposeError {
    #[error(
        "the key must be 2 to 40 lowercase letters, digits or underscores, starting with a letter"
    )]
    Key,
    #[error("the name must be 1 to 100 characters")]
    Name,
    #[error("the lawful basis must be one of: consent, contract, legal_obligation, vital_interests, public_task, legitimate_interests")]
    Basis,
    #[error("the region must be a two-letter country code in capitals (or EU)")]
    Region,
    #[error("the policy text must be 1 to 100000 characters")]
    Body,
    #[error("the policy text is the same as the current version's")]
    Unchanged,
    #[error("a purpose with this key already exists")]
    Exists,
    #[error("there is no purpose with this key")]
    Unknown,
    #[error("the purpose is retired")]
    Retired,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A purpose's columns, read from [`FROM`].
pub(super) const COLUMNS: &str = "p.key, p.name, p.required, p.lawful_basis, p.region, p.version,
        t.body, t.body_hash, p.retired_at";
/// The purposes (`p`) with their current policy texts (`t`).
pub(super) const FROM: &str = "consent_purposes p
     JOIN consent_policies t ON t.purpose = p.key AND t.version = p.version";

/// The SHA-256 of a policy text, as the ledger records it.
pub fn hash_body(body: &str) -> Vec<u8> {
    Sha256::digest(body.as_bytes()).to_vec()
}

/// Every purpose still in use (`with_retired`: and the retired ones), oldest first.
pub async fn list(db: impl PgExecutor<'_>, with_retired: bool) -> sqlx::Result<Vec<Purpose>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM {FROM}
         WHERE $1 OR p.retired_at IS NULL ORDER BY p.ordinal"
    ))
    .bind(with_retired)
    .fetch_all(db)
    .await
}

/// One purpose, retired or not.
pub async fn get(db: impl PgExecutor<'_>, key: &str) -> sqlx::Result<Option<Purpose>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM {FROM} WHERE p.key = $1"))
        .bind(key)
        .fetch_optional(db)
        .await
}

fn check_key(key: &str) -> Result<(), PurposeError> {
    let mut chars = key.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if first_ok && rest_ok && (2..=40).contains(&key.len()) {
        Ok(())
    } else {
        Err(PurposeError::Key)
    }
}

fn check_body(body: &str) -> Result<(), PurposeError> {
    if body.trim().is_empty() || body.chars().count() > 100_000 {
        return Err(PurposeError::Body);
    }
    Ok(())
}

/// Adds a purpose with version 1 of its policy text (audited, with `actor`).
pub async fn add(db: &PgPool, new: &NewPurpose, actor: Actor) -> Result<(), PurposeError> {
    check_key(&new.key)?;
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(PurposeError::Name);
    }
    let basis = LawfulBasis::parse(new.lawful_basis.trim()).ok_or(PurposeError::Basis)?;
    let region = new
        .region
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if region.is_some_and(|r| r.len() != 2 || !r.chars().all(|c| c.is_ascii_uppercase())) {
        return Err(PurposeError::Region);
    }
    check_body(&new.body)?;
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "INSERT INTO consent_purposes (key, name, required, lawful_basis, region, version)
         VALUES ($1, $2, $3, $4, $5, 1) ON CONFLICT (key) DO NOTHING",
    )
    .bind(&new.key)
    .bind(name)
    .bind(new.required)
    .bind(basis)
    .bind(region)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(PurposeError::Exists);
    }
    insert_policy(&mut tx, &new.key, 1, &new.body).await?;
    let detail = json!({
        "purpose": new.key, "name": name, "required": new.required,
        "lawful_basis": basis.as_str(), "region": region, "version": 1,
    });
    audit::record_change(&mut *tx, "consent_purpose.added", actor, detail).await?;
    tx.commit().await?;
    Ok(())
}

/// Publishes `body` as the next version of `key`'s policy text and makes it current (audited);
/// returns the new version.
pub async fn publish(
    db: &PgPool,
    key: &str,
    body: &str,
    actor: Actor,
) -> Result<i32, PurposeError> {
    check_body(body)?;
    let mut tx = db.begin().await?;
    let current: Option<(i32, Vec<u8>, Option<OffsetDateTime>)> = sqlx::query_as(
        "SELECT p.version, t.body_hash, p.retired_at FROM consent_purposes p
         JOIN consent_policies t ON t.purpose = p.key AND t.version = p.version
         WHERE p.key = $1 FOR UPDATE OF p",
    )
    .bind(key)
    .fetch_optional(&mut *tx)
    .await?;
    let (version, hash, retired_at) = current.ok_or(PurposeError::Unknown)?;
    if retired_at.is_some() {
        return Err(PurposeError::Retired);
    }
    if hash == hash_body(body) {
        return Err(PurposeError::Unchanged);
    }
    let next = version + 1;
    insert_policy(&mut tx, key, next, body).await?;
    sqlx::query("UPDATE consent_purposes SET version = $2 WHERE key = $1")
        .bind(key)
        .bind(next)
        .execute(&mut *tx)
        .await?;
    let detail = json!({ "purpose": key, "version": next, "previous_version": version });
    audit::record_change(&mut *tx, "consent_policy.published", actor, detail).await?;
    tx.commit().await?;
    Ok(next)
}

/// Stops asking for `key` (its ledger and policy texts stay); audited.
pub async fn retire(db: &PgPool, key: &str, actor: Actor) -> Result<(), PurposeError> {
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE consent_purposes SET retired_at = now() WHERE key = $1 AND retired_at IS NULL",
    )
    .bind(key)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(match get(&mut *tx, key).await? {
            Some(_) => PurposeError::Retired,
            None => PurposeError::Unknown,
        });
    }
    audit::record_change(
        &mut *tx,
        "consent_purpose.retired",
        actor,
        json!({ "purpose": key }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The text of `key`'s policy `version`, when there is one.
pub async fn policy_text(
    db: impl PgExecutor<'_>,
    key: &str,
    version: i32,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT body FROM consent_policies WHERE purpose = $1 AND version = $2")
        .bind(key)
        .bind(version)
        .fetch_optional(db)
        .await
}

async fn insert_policy(
    tx: &mut sqlx::PgConnection,
    key: &str,
    version: i32,
    body: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO consent_policies (purpose, version, body, body_hash) VALUES ($1, $2, $3, $4)",
    )
    .bind(key)
    .bind(version)
    .bind(body)
    .bind(hash_body(body))
    .execute(tx)
    .await?;
    Ok(())
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[
    Table {
        name: "consent_policies",
        person: None,
        personal: &[],
        other: &["purpose", "version", "body", "body_hash", "published_at"],
        export: Export::Not("holds nothing about people"),
        erasure: Erasure::Nothing,
    },
    Table {
        name: "consent_purposes",
        person: None,
        personal: &[],
        other: &[
            "key",
            "name",
            "required",
            "lawful_basis",
            "region",
            "version",
            "retired_at",
            "created_at",
            "ordinal",
        ],
        export: Export::Not("holds nothing about people"),
        erasure: Erasure::Nothing,
    },
];
