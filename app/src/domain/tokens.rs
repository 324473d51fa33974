//! Single-use tokens sent by mail (email verification, password reset): random 256 bits,
//! stored only as their SHA-256.

use std::fmt;

use crate::domain::privacy::{Erasure, Export, Table};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::{rngs::OsRng, RngCore};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use time::Duration;
use uuid::Uuid;

/// What a token lets its bearer do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    VerifyEmail,
    ResetPassword,
}

impl TokenPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }

    /// How long a token of this purpose stays valid.
    pub fn lifetime(self) -> Duration {
        match self {
            Self::VerifyEmail => Duration::hours(24),
            Self::ResetPassword => Duration::hours(1),
        }
    }
}

/// The clear-text token, as it goes into a link. Never printed.
pub struct OneTimeToken(String);

impl OneTimeToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OneTimeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OneTimeToken([redacted])")
    }
}

/// Why a presented token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    #[error("This link is not valid. Check that you copied all of it.")]
    Unknown,
    #[error("This link has already been used.")]
    Used,
    #[error("This link has expired. Ask for a new one.")]
    Expired,
}

/// SHA-256 of the token text: what the database keeps.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Whether two secrets are equal, in time that does not depend on where they differ (their
/// digests are compared, so an attacker learns nothing from how long it takes).
pub fn same_secret(a: &str, b: &str) -> bool {
    token_hash(a) == token_hash(b)
}

/// Whether two stored hashes are equal, in time that does not depend on where they differ.
pub fn same_hash(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A fresh random token of 256 bits, base64url without padding.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Issues a token for `user_id`, retiring any unused one of the same purpose.
pub async fn issue(
    conn: &mut PgConnection,
    user_id: Uuid,
    purpose: TokenPurpose,
) -> sqlx::Result<OneTimeToken> {
    issue_for(conn, user_id, purpose, purpose.lifetime()).await
}

/// Issues a token for `user_id` that lives `lifetime` (shorter than the purpose's usual one),
/// retiring any unused one of the same purpose.
pub async fn issue_for(
    conn: &mut PgConnection,
    user_id: Uuid,
    purpose: TokenPurpose,
    lifetime: Duration,
) -> sqlx::Result<OneTimeToken> {
    sqlx::query(
        "DELETE FROM one_time_tokens WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .execute(&mut *conn)
    .await?;
    let token = random_token();
    sqlx::query(
        "INSERT INTO one_time_tokens (token_hash, purpose, user_id, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
    )
    .bind(token_hash(&token))
    .bind(purpose.as_str())
    .bind(user_id)
    .bind(lifetime.whole_seconds() as f64)
    .execute(&mut *conn)
    .await?;
    Ok(OneTimeToken(token))
}

/// The user a token belongs to, when it is known, unused and unexpired; uses nothing up.
pub async fn peek(
    conn: &mut PgConnection,
    token: &str,
    purpose: TokenPurpose,
) -> sqlx::Result<Result<Uuid, TokenRejection>> {
    let hash = token_hash(token.trim());
    let valid: Option<Uuid> = sqlx::query_scalar(
        "SELECT user_id FROM one_time_tokens
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()",
    )
    .bind(&hash)
    .bind(purpose.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    match valid {
        Some(user_id) => Ok(Ok(user_id)),
        None => Ok(Err(rejection(conn, &hash, purpose).await?)),
    }
}

/// Uses up a token: returns its user when it is known, unused and unexpired, and marks it used
/// in the same statement so two requests can never both succeed.
pub async fn consume(
    conn: &mut PgConnection,
    token: &str,
    purpose: TokenPurpose,
) -> sqlx::Result<Result<Uuid, TokenRejection>> {
    let hash = token_hash(token.trim());
    let used: Option<Uuid> = sqlx::query_scalar(
        "UPDATE one_time_tokens SET used_at = now()
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()
         RETURNING user_id",
    )
    .bind(&hash)
    .bind(purpose.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    match used {
        Some(user_id) => Ok(Ok(user_id)),
        None => Ok(Err(rejection(conn, &hash, purpose).await?)),
    }
}

/// Says why the token with `hash` cannot be used.
async fn rejection(
    conn: &mut PgConnection,
    hash: &[u8],
    purpose: TokenPurpose,
) -> sqlx::Result<TokenRejection> {
    let state: Option<bool> = sqlx::query_scalar(
        "SELECT used_at IS NOT NULL FROM one_time_tokens WHERE token_hash = $1 AND purpose = $2",
    )
    .bind(hash)
    .bind(purpose.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match state {
        None => TokenRejection::Unknown,
        Some(true) => TokenRejection::Used,
        Some(false) => TokenRejection::Expired,
    })
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[Table {
    name: "one_time_tokens",
    person: Some("user_id"),
    personal: &["token_hash", "user_id"],
    other: &["purpose", "expires_at", "used_at", "created_at"],
    export: Export::RowsWithout(&["token_hash"]),
    erasure: Erasure::Delete,
}];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn tokens_never_print() {
        let t = OneTimeToken(random_token());
        assert_eq!(format!("{t:?}"), "OneTimeToken([redacted])");
    }
}
