//! Keeping a person's postal address (`postal_addresses`): read, set from the profile and
//! removed, each change audited as `profile.updated` naming the parts that changed (never the
//! address), and subscribers told `person.updated`.

use serde_json::{json, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Part, PostalAddress};
use crate::{
    domain::{
        audit::{self, AuditEvent, Outcome},
        client::ClientInfo,
        error::AccountError,
        webhooks,
    },
    state::AppState,
};

/// `user_id`'s postal address, if they gave one.
pub async fn read(
    db: impl sqlx::PgExecutor<'_>,
    user_id: Uuid,
) -> sqlx::Result<Option<PostalAddress>> {
    sqlx::query_as(
        "SELECT street_address, locality, region, postal_code, country
         FROM postal_addresses WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// What the audit trail says of an address change: which parts changed and whether there was
/// an address before and after, never the address.
fn audit_detail(before: bool, after: bool, parts: &[Part]) -> Value {
    let presence = |set: bool| if set { "set" } else { "none" };
    json!({
        "changed": ["postal_address"],
        "postal_address": {
            "from": presence(before),
            "to": presence(after),
            "parts": parts.iter().map(|p| p.name()).collect::<Vec<_>>(),
        },
    })
}

/// Sets `user_id`'s postal address to `address` (checked by [`parse`]), audited with the
/// parts that changed; the parts changed (none when it was already so: nothing is written).
pub async fn update(
    state: &AppState,
    client: &ClientInfo,
    user_id: Uuid,
    address: &PostalAddress,
) -> Result<Vec<Part>, AccountError> {
    let mut tx = state.db.begin().await?;
    // One change at a time per person, so the parts audited are those this change made.
    sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AccountError::NoSuchAccount)?;
    let before = read(&mut *tx, user_id).await?;
    let parts = address.differences(&before.clone().unwrap_or_default());
    if parts.is_empty() {
        return Ok(parts);
    }
    sqlx::query(
        "INSERT INTO postal_addresses
           (user_id, street_address, locality, region, postal_code, country)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id) DO UPDATE SET
           street_address = excluded.street_address, locality = excluded.locality,
           region = excluded.region, postal_code = excluded.postal_code,
           country = excluded.country, updated_at = now()",
    )
    .bind(user_id)
    .bind(&address.street_address)
    .bind(&address.locality)
    .bind(&address.region)
    .bind(&address.postal_code)
    .bind(&address.country)
    .execute(&mut *tx)
    .await?;
    let event = AuditEvent::new("profile.updated", Outcome::Success)
        .by(user_id)
        .detail(audit_detail(before.is_some(), true, &parts));
    audit::record(&mut *tx, client, event).await?;
    webhooks::emit(&mut *tx, &webhooks::Event::PersonUpdated(user_id)).await?;
    tx.commit().await?;
    Ok(parts)
}

/// Removes `user_id`'s postal address, audited with the parts it had; whether there was one.
pub async fn clear(
    state: &AppState,
    client: &ClientInfo,
    user_id: Uuid,
) -> Result<bool, AccountError> {
    let mut tx = state.db.begin().await?;
    let Some(before) = delete(&mut tx, user_id).await? else {
        return Ok(false);
    };
    let parts = PostalAddress::default().differences(&before);
    let event = AuditEvent::new("profile.updated", Outcome::Success)
        .by(user_id)
        .detail(audit_detail(true, false, &parts));
    audit::record(&mut *tx, client, event).await?;
    webhooks::emit(&mut *tx, &webhooks::Event::PersonUpdated(user_id)).await?;
    tx.commit().await?;
    Ok(true)
}

/// Deletes `user_id`'s postal address in the caller's transaction (the address an unproven
/// registrant gave goes when the address is first proven elsewhere, see `address_proof`);
/// the address it had, if any.
pub async fn delete(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Option<PostalAddress>> {
    sqlx::query_as(
        "DELETE FROM postal_addresses WHERE user_id = $1
         RETURNING street_address, locality, region, postal_code, country",
    )
    .bind(user_id)
    .fetch_optional(conn)
    .await
}
