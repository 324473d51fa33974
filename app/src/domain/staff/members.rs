//! Who is staff: granting a role (the command line, or an owner in the console), changing it,
//! removing it, the list, and who of the staff is signed in now. Every change is audited with
//! its actor and the role before and after.

use serde_json::json;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use super::StaffRole;
use crate::domain::{
    audit::{self, Actor, AuditEvent, Outcome},
    client::ClientInfo,
    customers::Reason,
    error::AccountError,
    sessions,
};

/// A staff member as the console lists them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Member {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: StaffRole,
    pub granted_at: OffsetDateTime,
}

/// Makes `user_id` staff in `role` in the caller's transaction (the account becomes an
/// administrator's); returns the role it had before, if any.
pub async fn grant(
    conn: &mut PgConnection,
    user_id: Uuid,
    role: StaffRole,
) -> sqlx::Result<Option<StaffRole>> {
    let before: Option<StaffRole> =
        sqlx::query_scalar("SELECT role FROM staff_members WHERE user_id = $1 FOR UPDATE")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?;
    sqlx::query(
        "INSERT INTO staff_members (user_id, role) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET role = EXCLUDED.role",
    )
    .bind(user_id)
    .bind(role)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE users SET role = 'admin', updated_at = now() WHERE id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(before)
}

/// Makes the caller's transaction the only change of the staff until it ends, so two
/// demotions or removals at once cannot leave no owner.
async fn one_change_at_a_time(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("LOCK TABLE staff_members IN SHARE ROW EXCLUSIVE MODE")
        .execute(conn)
        .await?;
    Ok(())
}

/// How many owners there are (the last one cannot be demoted or removed).
async fn owners(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM staff_members WHERE role = 'owner'")
        .fetch_one(conn)
        .await
}

/// Gives the staff member `user_id` another role (audited with the role before and after).
/// The last owner keeps theirs.
pub async fn change_role(
    db: &sqlx::PgPool,
    client: &ClientInfo,
    actor: Actor,
    user_id: Uuid,
    role: StaffRole,
    reason: &Reason,
) -> Result<(), AccountError> {
    let mut tx = db.begin().await?;
    one_change_at_a_time(&mut tx).await?;
    let before: StaffRole = sqlx::query_scalar("SELECT role FROM staff_members WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AccountError::NotFound)?;
    if before == StaffRole::Owner && role != StaffRole::Owner && owners(&mut tx).await? <= 1 {
        return Err(AccountError::LastOwner);
    }
    grant(&mut tx, user_id, role).await?;
    let event = AuditEvent::new("staff.role_changed", Outcome::Success)
        .by_actor(actor)
        .about(Some(user_id))
        .detail(json!({
            "before": before.as_str(),
            "after": role.as_str(),
            "reason": reason.as_str(),
        }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes `user_id` from the staff: the account becomes a customer's again and every sign-in
/// of it ends. The last owner stays.
pub async fn remove(
    db: &sqlx::PgPool,
    client: &ClientInfo,
    actor: Actor,
    user_id: Uuid,
    reason: &Reason,
) -> Result<(), AccountError> {
    let mut tx = db.begin().await?;
    one_change_at_a_time(&mut tx).await?;
    let before: StaffRole =
        sqlx::query_scalar("DELETE FROM staff_members WHERE user_id = $1 RETURNING role")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(AccountError::NotFound)?;
    if before == StaffRole::Owner && owners(&mut tx).await? == 0 {
        return Err(AccountError::LastOwner);
    }
    sqlx::query("UPDATE users SET role = 'customer', updated_at = now() WHERE id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let ended = sessions::end_all_for_user(&mut *tx, user_id).await?;
    let event = AuditEvent::new("staff.removed", Outcome::Success)
        .by_actor(actor)
        .about(Some(user_id))
        .detail(json!({
            "before": before.as_str(),
            "sessions_ended": ended,
            "reason": reason.as_str(),
        }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Every staff member, owners first.
pub async fn list(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Member>> {
    sqlx::query_as(
        "SELECT m.user_id, u.email, u.display_name, m.role, m.granted_at
         FROM staff_members m JOIN users u ON u.id = m.user_id
         ORDER BY array_position(ARRAY['owner', 'admin', 'support', 'auditor'], m.role),
                  lower(u.email)",
    )
    .fetch_all(db)
    .await
}

/// A staff member's live session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Present {
    pub email: String,
    pub role: StaffRole,
    pub signed_in_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
}

/// The staff signed in now: each live session of a staff member, most recently seen first.
pub async fn signed_in(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Present>> {
    sqlx::query_as(
        "SELECT u.email, m.role,
                to_timestamp((s.data->>'auth_at')::bigint) AS signed_in_at,
                to_timestamp((s.data->>'seen_at')::bigint) AS last_seen_at
         FROM sessions s
         JOIN staff_members m ON m.user_id = s.user_id
         JOIN users u ON u.id = s.user_id
         WHERE s.expires_at > now()
           AND (s.data->>'seen_at')::bigint > extract(epoch FROM now())::bigint - $1
         ORDER BY last_seen_at DESC",
    )
    .bind(super::IDLE_TIMEOUT.whole_seconds())
    .fetch_all(db)
    .await
}
