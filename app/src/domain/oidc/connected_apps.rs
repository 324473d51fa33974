//! Connected apps: what each person allowed which app (consent grants) and which apps hold a
//! live refresh token for them; disconnecting an app forgets the grant, revokes its tokens and
//! writes the withdrawal into the consent ledger.

use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::grant_revocation::{self, Grants};
use crate::{
    domain::{
        audit::{self, AuditEvent, Outcome},
        client::ClientInfo,
        consents::{ledger, Collection},
        error::AccountError,
    },
    state::AppState,
};

/// One connected app.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConnectedApp {
    pub client_id: String,
    pub client_name: String,
    pub scopes: Vec<String>,
    pub since: OffsetDateTime,
}

/// The apps `user_id` has approved, or that stay signed in for them (refresh tokens).
pub async fn list(
    db: impl sqlx::PgExecutor<'_>,
    user_id: Uuid,
) -> Result<Vec<ConnectedApp>, AccountError> {
    Ok(sqlx::query_as(
        "SELECT c.id AS client_id, c.name AS client_name, g.scopes, g.created_at AS since
         FROM oauth_grants g JOIN oauth_clients c ON c.id = g.client_id
         WHERE g.user_id = $1
         UNION ALL
         SELECT DISTINCT ON (c.id) c.id, c.name, r.scopes, r.auth_time
         FROM refresh_tokens r JOIN oauth_clients c ON c.id = r.client_id
         WHERE r.user_id = $1 AND r.used_at IS NULL AND r.revoked_at IS NULL
           AND r.expires_at > now()
           AND NOT EXISTS (SELECT 1 FROM oauth_grants g
                           WHERE g.user_id = $1 AND g.client_id = c.id)
         ORDER BY 2",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?)
}

/// Forgets the grant of `client_id` and ends every grant it holds for `user_id` (refresh
/// tokens and the access tokens issued under them); false when the app was not connected.
pub async fn disconnect(
    state: &AppState,
    client: &ClientInfo,
    user_id: Uuid,
    client_id: &str,
) -> Result<bool, AccountError> {
    let mut tx = state.db.begin().await?;
    let approved: Option<Vec<String>> = sqlx::query_scalar(
        "DELETE FROM oauth_grants WHERE user_id = $1 AND client_id = $2 RETURNING scopes",
    )
    .bind(user_id)
    .bind(client_id)
    .fetch_optional(&mut *tx)
    .await?;
    let ended = grant_revocation::revoke(&mut tx, Grants::OfApp { user_id, client_id }).await?;
    if approved.is_none() && ended.refresh_tokens == 0 {
        return Ok(false);
    }
    let scopes = approved.unwrap_or_default();
    let withdrawn = ledger::Subject::App {
        client_id,
        scopes: &scopes,
    };
    ledger::append(
        &mut tx,
        user_id,
        client,
        withdrawn,
        false,
        Collection::Portal,
    )
    .await?;
    let event = AuditEvent::new("oauth.disconnected", Outcome::Success)
        .by(user_id)
        .detail(json!({ "client": client_id }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    ended.remember(&state.revoked);
    Ok(true)
}

/// Forgets every app the person approved (their address was proven by someone else than the
/// browser that registered the account), each withdrawal in the consent ledger.
pub async fn forget_all(
    conn: &mut sqlx::PgConnection,
    client: &ClientInfo,
    user_id: Uuid,
) -> sqlx::Result<usize> {
    let forgotten: Vec<(String, Vec<String>)> =
        sqlx::query_as("DELETE FROM oauth_grants WHERE user_id = $1 RETURNING client_id, scopes")
            .bind(user_id)
            .fetch_all(&mut *conn)
            .await?;
    for (client_id, scopes) in &forgotten {
        let withdrawn = ledger::Subject::App { client_id, scopes };
        ledger::append(conn, user_id, client, withdrawn, false, Collection::Service).await?;
    }
    Ok(forgotten.len())
}
