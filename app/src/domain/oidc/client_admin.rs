//! An operator's work on registered apps beyond registering them: enable or disable (a
//! disabled app is refused everywhere, as if unregistered, and its grants end), rotate the
//! secret (shown once), the app's settings as `server client show` prints them (never a
//! secret: only its keyed hash is kept), and its recent token activity. Each change is audited
//! with the actor. This node forgets its copy of the app at once; the other nodes' copies learn
//! of the change from the table's change notice.

use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::{
    client_edit::{Current, CURRENT_COLUMNS},
    grant_revocation::{self, Grants},
};
use crate::{
    domain::{
        audit::{self, Actor, AuditEvent, Outcome},
        client::ClientInfo,
        error::AccountError,
        tokens::random_token,
    },
    state::AppState,
};

/// Enables or disables app `client_id`; false when it already was so. Disabling ends every
/// grant the app holds (refresh tokens, and access tokens by their grant).
pub async fn set_enabled(
    state: &AppState,
    client: &ClientInfo,
    actor: Actor,
    client_id: &str,
    enabled: bool,
) -> Result<bool, AccountError> {
    let mut tx = state.db.begin().await?;
    let before: Option<bool> = sqlx::query_scalar(
        "SELECT disabled_at IS NULL FROM oauth_clients WHERE id = $1 FOR UPDATE",
    )
    .bind(client_id)
    .fetch_optional(&mut *tx)
    .await?;
    match before {
        None => return Err(AccountError::NotFound),
        Some(was) if was == enabled => return Ok(false),
        Some(_) => {}
    }
    sqlx::query(
        "UPDATE oauth_clients SET disabled_at = CASE WHEN $2 THEN NULL ELSE now() END
         WHERE id = $1",
    )
    .bind(client_id)
    .bind(enabled)
    .execute(&mut *tx)
    .await?;
    let revoked = if enabled {
        None
    } else {
        Some(grant_revocation::revoke(&mut tx, Grants::OfClient(client_id)).await?)
    };
    let event = AuditEvent::new(
        if enabled {
            "client.enabled"
        } else {
            "client.disabled"
        },
        Outcome::Success,
    )
    .by_actor(actor)
    .detail(json!({
        "client_id": client_id,
        "grants_ended": revoked.as_ref().map_or(0, |r| r.ids.len()),
    }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    state.clients.forget(&client_id.to_owned());
    if let Some(revoked) = revoked {
        revoked.remember(&state.revoked);
    }
    Ok(true)
}

/// Gives app `client_id` a new secret and returns it (shown once; only its keyed hash is
/// kept). The old secret stops working at once. Refused for an app without a secret.
pub async fn rotate_secret(
    state: &AppState,
    client: &ClientInfo,
    actor: Actor,
    client_id: &str,
) -> Result<Option<String>, AccountError> {
    let secret = random_token();
    let mut tx = state.db.begin().await?;
    let done = sqlx::query(
        "UPDATE oauth_clients SET secret_hash = $2 WHERE id = $1 AND secret_hash IS NOT NULL",
    )
    .bind(client_id)
    .bind(state.client_key.hash(client_id, &secret))
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    let event = AuditEvent::new("client.secret_rotated", Outcome::Success)
        .by_actor(actor)
        .detail(json!({ "client_id": client_id }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    state.clients.forget(&client_id.to_owned());
    Ok(Some(secret))
}

/// An app's settings as the command line shows them: what may be edited, and what stays as
/// registered. It holds no secret, and nothing a secret could be learned from.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Details {
    #[sqlx(flatten)]
    pub settings: Current,
    pub enabled: bool,
    /// Whether it authenticates with a secret (client_secret_basic or _post).
    pub has_secret: bool,
    /// Whether it authenticates with its registered keys (private_key_jwt).
    pub has_jwks: bool,
    /// The scopes the app may ask for.
    pub scopes: Vec<String>,
    pub created_at: OffsetDateTime,
}

/// The settings of app `client_id`, enabled or not.
pub async fn details(db: &PgPool, client_id: &str) -> Result<Details, AccountError> {
    let sql = format!(
        "SELECT {CURRENT_COLUMNS}, disabled_at IS NULL AS enabled,
                secret_hash IS NOT NULL AS has_secret, jwks IS NOT NULL AS has_jwks, scopes,
                created_at
         FROM oauth_clients WHERE id = $1"
    );
    sqlx::query_as(&sql)
        .bind(client_id)
        .fetch_optional(db)
        .await?
        .ok_or(AccountError::NotFound)
}

/// An app's recent token activity.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Activity {
    pub codes_day: i64,
    pub codes_week: i64,
    pub refresh_tokens_day: i64,
    pub refresh_tokens_week: i64,
    pub live_refresh_tokens: i64,
    pub last_code_at: Option<OffsetDateTime>,
}

/// What app `client_id` issued lately.
pub async fn activity(db: &PgPool, client_id: &str) -> Result<Activity, AccountError> {
    Ok(sqlx::query_as(
        "SELECT
           (SELECT count(*) FROM authorization_codes
             WHERE client_id = $1 AND created_at > now() - interval '1 day') AS codes_day,
           (SELECT count(*) FROM authorization_codes
             WHERE client_id = $1 AND created_at > now() - interval '7 days') AS codes_week,
           (SELECT count(*) FROM refresh_tokens
             WHERE client_id = $1 AND created_at > now() - interval '1 day') AS refresh_tokens_day,
           (SELECT count(*) FROM refresh_tokens
             WHERE client_id = $1 AND created_at > now() - interval '7 days')
             AS refresh_tokens_week,
           (SELECT count(*) FROM refresh_tokens
             WHERE client_id = $1 AND used_at IS NULL AND revoked_at IS NULL
               AND expires_at > now()) AS live_refresh_tokens,
           (SELECT max(created_at) FROM authorization_codes WHERE client_id = $1)
             AS last_code_at",
    )
    .bind(client_id)
    .fetch_one(db)
    .await?)
}
