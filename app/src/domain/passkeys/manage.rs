//! Managing an account's passkeys: listing, renaming, removing (never the last way in).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use super::{parse_name, PasskeyRejection};
use crate::{
    domain::{
        audit::{self, AuditEvent, Outcome},
        client::ClientInfo,
        error::AccountError,
        settings, users,
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
pub async fn list(
    db: impl sqlx::PgExecutor<'_>,
    user_id: Uuid,
) -> Result<Vec<PasskeyRecord>, AccountError> {
    Ok(sqlx::query_as(
        "SELECT credential_id, name, created_at, last_used_at FROM passkeys
         WHERE user_id = $1 ORDER BY created_at DESC",
    )
    .bind(user_id)
    .fetch_all(db)
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
    finish_change(tx, client, user_id, done.rows_affected(), "passkey.renamed").await
}

/// Removes one of the account's passkeys, after a recent sign-in, unless the account would
/// have no way to sign in.
pub async fn remove(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
    public_id: &str,
) -> Result<(), AccountError> {
    crate::domain::mfa::freshness::ensure(&state.db, session, user_id).await?;
    let mut tx = state.db.begin().await?;
    let removed = remove_in(&mut tx, user_id, public_id).await?;
    finish_change(tx, client, user_id, u64::from(removed), "passkey.removed").await
}

/// Removes one of the account's passkeys in the caller's transaction; false when it has no
/// such passkey. Refused when the account would have no way to sign in left.
pub async fn remove_in(
    tx: &mut sqlx::PgConnection,
    user_id: Uuid,
    public_id: &str,
) -> Result<bool, AccountError> {
    let id = credential_id(public_id)?;
    let email_sign_in = settings::load(&mut *tx).await?.email_sign_in_enabled;
    // Counted with the account locked, so two removals at once cannot both pass.
    let ways_in = users::ways_in_for_update(&mut *tx, user_id).await?;
    let done = sqlx::query("DELETE FROM passkeys WHERE credential_id = $1 AND user_id = $2")
        .bind(&id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 1 && ways_in.count(email_sign_in) <= 1 {
        return Err(PasskeyRejection::LastMethod.into());
    }
    Ok(done.rows_affected() == 1)
}

/// Removes every passkey of the account (their address was proven by someone else than the
/// browser that registered them); returns how many.
pub async fn remove_all(conn: &mut sqlx::PgConnection, user_id: Uuid) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM passkeys WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
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
