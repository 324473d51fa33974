//! Managing an account's passkeys: listing, renaming, removing (never the last way in).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{parse_name, PasskeyRejection};
use crate::{
    domain::{
        audit::{self, AuditEvent, Outcome},
        client::ClientInfo,
        error::AccountError,
    },
    state::AppState,
};

/// A passkey as the portal lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PasskeyRecord {
    pub credential_id: Vec<u8>,
    pub name: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

impl PasskeyRecord {
    /// The id the API uses: base64url of the credential id.
    pub fn public_id(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.credential_id)
    }
}
/// The passkeys of an account, newest first.
pub async fn list(state: &AppState, user_id: Uuid) -> Result<Vec<PasskeyRecord>, AccountError> {
    Ok(sqlx::query_as(
        "SELECT credential_id, name, created_at, last_used_at FROM passkeys
         WHERE user_id = $1 ORDER BY created_at DESC",
    )
    .bind(user_id)
    .fetch_all(&state.db)
    .await?)
}

fn credential_id(public_id: &str) -> Result<Vec<u8>, AccountError> {
    URL_SAFE_NO_PAD
        .decode(public_id.trim())
        .map_err(|_| PasskeyRejection::NotFound.into())
}

/// Renames one of the account's passkeys.
pub async fn rename(
    state: &AppState,
    client: &ClientInfo,
    user_id: Uuid,
    public_id: &str,
    name: &str,
) -> Result<(), AccountError> {
    let name = parse_name(name)?;
    let id = credential_id(public_id)?;
    let mut tx = state.db.begin().await?;
    let done =
        sqlx::query("UPDATE passkeys SET name = $3 WHERE credential_id = $1 AND user_id = $2")
            .bind(&id)
            .bind(user_id)
            .bind(&name)
            .execute(&mut *tx)
            .await?;
    finish_change(tx, client, user_id, done.rows_affected(), "passkey.rename").await
}

/// Removes one of the account's passkeys, unless the account would have no way to sign in.
pub async fn remove(
    state: &AppState,
    client: &ClientInfo,
    user_id: Uuid,
    public_id: &str,
) -> Result<(), AccountError> {
    let id = credential_id(public_id)?;
    let mut tx = state.db.begin().await?;
    let (other_way, passkeys): (bool, i64) = sqlx::query_as(
        "SELECT u.password_hash IS NOT NULL
                  OR EXISTS (SELECT 1 FROM user_identities i WHERE i.user_id = u.id),
                (SELECT count(*) FROM passkeys p WHERE p.user_id = u.id)
         FROM users u WHERE u.id = $1 FOR UPDATE",
    )
    .bind(user_id)
    .fetch_one(&mut *tx)
    .await?;
    if !other_way && passkeys <= 1 {
        return Err(PasskeyRejection::LastMethod.into());
    }
    let done = sqlx::query("DELETE FROM passkeys WHERE credential_id = $1 AND user_id = $2")
        .bind(&id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    finish_change(tx, client, user_id, done.rows_affected(), "passkey.remove").await
}

/// Commits a change to one passkey with its audit row, or refuses when no passkey of the
/// account was touched.
async fn finish_change(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    client: &ClientInfo,
    user_id: Uuid,
    rows: u64,
    action: &'static str,
) -> Result<(), AccountError> {
    if rows == 0 {
        return Err(PasskeyRejection::NotFound.into());
    }
    let event = AuditEvent::new(action, Outcome::Success).by(user_id);
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    Ok(())
}
