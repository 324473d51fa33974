//! "Delete my account": asking for it (after a recent sign-in), the grace period the business
//! sets (`deletion_grace_days`, 7 unless changed) and cancelling it. Asking ends every sign-in
//! at once (browsers and apps) and mails the date; a sign-in before then offers to cancel
//! (`authentication::deletion_step`); after it the `erasure` worker deletes the person. Owns
//! `account_deletions`.

use serde_json::json;
use sqlx::PgExecutor;
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use super::{Erasure, Export, Table};
use crate::{
    domain::{
        audit::{self, AuditEvent, Outcome},
        branding,
        client::ClientInfo,
        email::Email,
        error::AccountError,
        mail, mfa, sessions, settings, sign_out,
        users::{self, Role},
    },
    state::AppState,
};

/// Why a deletion was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeletionRefusal {
    #[error(
        "A staff account, or a former one, is removed by an owner in the console, not from here."
    )]
    Staff,
}

/// Schedules the deletion of `user_id`'s account, after a recent sign-in, at the end of the
/// business's grace period; answers when it will happen. Every sign-in of the person ends,
/// this browser's too, and they are mailed the date. Asking again (two tabs) keeps the first
/// date.
pub async fn request(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
) -> Result<OffsetDateTime, AccountError> {
    mfa::freshness::ensure(&state.db, session, user_id).await?;
    let grace = settings::current(state).await?.limits.deletion_grace();
    let mut tx = state.db.begin().await?;
    let (email, name, role): (String, String, Role) =
        sqlx::query_as("SELECT email, display_name, role FROM users WHERE id = $1 FOR UPDATE")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(AccountError::NoSuchAccount)?;
    // Staff accounts answer for what they did in the console: an owner removes them there,
    // and the audit trail keeps their name. So do former staff, back to a customer's role.
    let former_staff: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM audit_events
                        WHERE subject_id = $1 AND action = 'staff.removed')",
    )
    .bind(user_id)
    .fetch_one(&mut *tx)
    .await?;
    if role != Role::Customer || former_staff {
        return Err(DeletionRefusal::Staff.into());
    }
    let due: Option<OffsetDateTime> = sqlx::query_scalar(
        "INSERT INTO account_deletions (user_id, due_at) VALUES ($1, now() + $2)
         ON CONFLICT (user_id) DO NOTHING RETURNING due_at",
    )
    .bind(user_id)
    .bind(grace)
    .fetch_optional(&mut *tx)
    .await?;
    let due = match due {
        Some(due) => due,
        None => {
            let due = pending(&mut *tx, user_id).await?;
            tx.commit().await?;
            sessions::sign_out(session).await?;
            return due.ok_or(AccountError::NoSuchAccount);
        }
    };
    let ended = sign_out::end_everywhere(&mut tx, &state.settings.public_url, user_id).await?;
    let mut detail = ended.detail();
    detail["due"] = json!(due.unix_timestamp());
    let event = AuditEvent::new("account.deletion_requested", Outcome::Success)
        .by(user_id)
        .detail(detail);
    audit::record(&mut *tx, client, event).await?;
    let brand = branding::for_client(&mut *tx, client).await?;
    // The date in the person's own zone, the words in their language.
    let reader = users::find_by_id(&mut *tx, user_id)
        .await?
        .ok_or(AccountError::NoSuchAccount)?;
    let when = crate::domain::moments::in_zone(due, reader.zone());
    let to = Email::parse(&email).map_err(|_| AccountError::NoSuchAccount)?;
    let notice = mail::Templates::new(&state.settings.public_url, &brand, reader.language())
        .deletion_scheduled(&to, &name, &when);
    mail::enqueue(&mut *tx, &notice).await?;
    tx.commit().await?;
    ended.after_commit(state);
    state.mail_queued.notify_one();
    sessions::sign_out(session).await?;
    Ok(due)
}

/// When `user_id`'s account is set to be deleted, if it is.
pub async fn pending(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> sqlx::Result<Option<OffsetDateTime>> {
    sqlx::query_scalar("SELECT due_at FROM account_deletions WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(db)
        .await
}

/// Cancels the pending deletion of `user_id`'s account (audited), in the caller's
/// transaction; false when none was pending (already cancelled in another tab, or carried out).
pub async fn cancel(
    conn: &mut sqlx::PgConnection,
    client: &ClientInfo,
    user_id: Uuid,
) -> sqlx::Result<bool> {
    let gone = sqlx::query("DELETE FROM account_deletions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if gone == 0 {
        return Ok(false);
    }
    let event = AuditEvent::new("account.deletion_cancelled", Outcome::Success).by(user_id);
    audit::record(&mut *conn, client, event).await?;
    Ok(true)
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[Table {
    name: "account_deletions",
    person: Some("user_id"),
    personal: &["user_id"],
    other: &["requested_at", "due_at"],
    export: Export::Rows,
    erasure: Erasure::Delete,
}];
