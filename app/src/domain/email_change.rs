//! A person moving their account to another address (owns `email_changes`): asked for after a
//! recent sign-in, proven by a link mailed to the new address, and undoable for 7 days by a link
//! mailed to the old one, which puts the old address back, ends every sign-in, removes the other
//! ways in and asks for a new password. While that link lives the old address stays reserved for
//! its owner.

use serde_json::json;
use sqlx::PgConnection;
use time::{Duration, OffsetDateTime};
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    audit::{self, AuditEvent, Outcome},
    branding,
    client::ClientInfo,
    email::{Email, EmailError},
    error::AccountError,
    mail::{self, Templates},
    mfa, recovery, throttle,
    throttle::ThrottlePolicy,
    tokens::{self, TokenRejection},
    users::{self, User},
    webhooks,
};
use crate::domain::privacy::{Erasure, Export, Table};
use crate::state::AppState;

/// How long the link to the new address works.
pub const CONFIRM_WITHIN: Duration = Duration::hours(24);
/// How long the old address can undo the change.
pub const UNDO_WITHIN: Duration = Duration::days(7);

/// Why a change cannot go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailChangeError {
    #[error("That is already the address of your account.")]
    Same,
    /// The account's address changed since the request (another change, or staff).
    #[error("Your account's address changed since this link was sent. Ask for a new one.")]
    Superseded,
    /// The old address was taken meanwhile by another account, so it cannot come back.
    #[error("That address now belongs to another account. Contact support to get yours back.")]
    OldAddressTaken,
}

/// Asks to move the signed-in account to `new`: mails a link to `new` that makes the change.
/// A taken address gets the same answer, and its owner is told instead. Needs a recent sign-in.
#[tracing::instrument(skip_all)]
pub async fn request(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
    new: &Email,
) -> Result<(), AccountError> {
    mfa::freshness::ensure(&state.db, session, user_id).await?;
    new.for_new_account()?;
    let keys = [
        (
            format!("email-change:{user_id}"),
            ThrottlePolicy::MAIL_PER_ADDRESS,
        ),
        (
            format!("email-change-to:{}", new.as_str().to_lowercase()),
            ThrottlePolicy::MAIL_PER_ADDRESS,
        ),
    ];
    if let Some(minutes) = throttle::admit(&state.db, &keys).await? {
        return Err(AccountError::Throttled { minutes });
    }
    let mut tx = state.db.begin().await?;
    let user = locked_user(&mut tx, user_id).await?;
    if same_address(&user.email, new.as_str()) {
        return Err(EmailChangeError::Same.into());
    }
    let brand = branding::for_client(&mut *tx, client).await?;
    let event = AuditEvent::new("email.change_requested", Outcome::Success).by(user_id);
    match holder(&mut tx, new, user_id).await? {
        Some(owner) => {
            // Told in the language of the address's owner, not the asker's.
            let message = Templates::new(&state.settings.public_url, &brand, owner.language)
                .email_change_to_taken(&owner.email, &owner.display_name);
            mail::enqueue(&mut *tx, &message).await?;
            let event = event.detail(json!({ "to": new.masked(), "refused": "email_taken" }));
            audit::record(&mut *tx, client, event).await?;
        }
        None => {
            end_requests(&mut tx, user_id).await?;
            let token = tokens::random_token();
            sqlx::query(
                "INSERT INTO email_changes
                     (id, user_id, old_email, new_email, confirm_hash, confirm_expires_at)
                 VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))",
            )
            .bind(Uuid::new_v4())
            .bind(user_id)
            .bind(&user.email)
            .bind(new.as_str())
            .bind(tokens::token_hash(&token))
            .bind(CONFIRM_WITHIN.whole_seconds() as f64)
            .execute(&mut *tx)
            .await?;
            let message = Templates::new(&state.settings.public_url, &brand, user.language())
                .confirm_new_email(new, &user.display_name, &token);
            mail::enqueue(&mut *tx, &message).await?;
            let event = event.detail(json!({ "to": new.masked() }));
            audit::record(&mut *tx, client, event).await?;
        }
    }
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(())
}

/// A change as stored, found by one of its links.
#[derive(sqlx::FromRow)]
struct Change {
    id: Uuid,
    user_id: Uuid,
    old_email: String,
    new_email: String,
    confirmed_at: Option<OffsetDateTime>,
    undone_at: Option<OffsetDateTime>,
    ended_at: Option<OffsetDateTime>,
    /// The link's expiry has passed.
    expired: bool,
}

/// Makes the change the link mailed to the new address stands for, and mails the old address
/// the link that undoes it. The link works once.
#[tracing::instrument(skip_all)]
pub async fn confirm(
    state: &AppState,
    client: &ClientInfo,
    token: &str,
) -> Result<(), AccountError> {
    let mut tx = state.db.begin().await?;
    let change = locked_change(&mut tx, "confirm_hash", "confirm_expires_at", token).await?;
    let change = match usable(change, |c| c.confirmed_at.is_some()) {
        Ok(change) => change,
        Err(rejection) => return refused(tx, client, "email.change_failed", rejection).await,
    };
    let user = locked_user(&mut tx, change.user_id).await?;
    if !same_address(&user.email, &change.old_email) {
        return Err(EmailChangeError::Superseded.into());
    }
    let new = Email::from_stored(change.new_email.clone());
    if holder(&mut tx, &new, user.id).await?.is_some() {
        return Err(EmailError::InUse.into());
    }
    move_address(&mut tx, user.id, &new, false).await?;
    let undo = tokens::random_token();
    sqlx::query(
        "UPDATE email_changes
         SET confirmed_at = now(), undo_hash = $2,
             undo_expires_at = now() + make_interval(secs => $3)
         WHERE id = $1",
    )
    .bind(change.id)
    .bind(tokens::token_hash(&undo))
    .bind(UNDO_WITHIN.whole_seconds() as f64)
    .execute(&mut *tx)
    .await?;
    let brand = branding::default_brand(&mut *tx).await?;
    let old = user.email();
    let notice = Templates::new(&state.settings.public_url, &brand, user.language())
        .email_changed_by_owner(&old, &user.display_name, &new.masked(), &undo);
    mail::enqueue(&mut *tx, &notice).await?;
    let event = AuditEvent::new("email.changed", Outcome::Success)
        .by(user.id)
        .detail(json!({ "email": { "before": old.as_str(), "after": new.as_str() } }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(())
}

/// "This wasn't me", from the link mailed to the old address: puts that address back, ends
/// every sign-in (apps told by back-channel), removes every other way in the account has (an
/// intruder's passkey or phone would outlive the undo), and makes the password one that must be
/// reset, mailing the reset link to the restored address. Every other change link of the
/// account dies.
#[tracing::instrument(skip_all)]
pub async fn undo(state: &AppState, client: &ClientInfo, token: &str) -> Result<(), AccountError> {
    let mut tx = state.db.begin().await?;
    let change = locked_change(&mut tx, "undo_hash", "undo_expires_at", token).await?;
    let change = match usable(change, |c| c.undone_at.is_some()) {
        Ok(change) => change,
        Err(rejection) => return refused(tx, client, "email.change_undo_failed", rejection).await,
    };
    let user = locked_user(&mut tx, change.user_id).await?;
    let old = Email::from_stored(change.old_email.clone());
    if holder(&mut tx, &old, user.id).await?.is_some() {
        return Err(EmailChangeError::OldAddressTaken.into());
    }
    move_address(&mut tx, user.id, &old, true).await?;
    sqlx::query("UPDATE email_changes SET undone_at = now() WHERE id = $1")
        .bind(change.id)
        .execute(&mut *tx)
        .await?;
    end_all(&mut tx, user.id).await?;
    let ended =
        recovery::lock_out_intruder(&mut tx, state, user.id, &old, &user.display_name).await?;
    let mut detail = ended.detail();
    detail["email"] = json!({ "before": user.email, "after": old.as_str() });
    let event = AuditEvent::new("email.change_undone", Outcome::Success)
        .about(Some(user.id))
        .detail(detail);
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    ended.after_commit(state);
    state.mail_queued.notify_one();
    Ok(())
}

/// Ends the account's requests that wait for their new address's proof (a newer request
/// replaces them).
async fn end_requests(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE email_changes SET ended_at = now()
         WHERE user_id = $1 AND ended_at IS NULL AND confirmed_at IS NULL",
    )
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends every change link of the account that still works, undo links included: its address
/// was settled another way (an undo, or staff moving it).
pub async fn end_all(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE email_changes SET ended_at = now()
         WHERE user_id = $1 AND ended_at IS NULL AND undone_at IS NULL",
    )
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whoever an address belongs to: its account, or the person whose change away from it can
/// still be undone.
pub struct Holder {
    pub id: Uuid,
    /// The address itself, where its holder is told.
    pub email: Email,
    pub display_name: String,
    /// The language mail to the holder is written in.
    pub language: crate::i18n::Locale,
}

/// Who holds `email`, other than the account `except`: the account with that address, or one
/// that reserves it (an undo link of its owner's change away from it still works).
pub async fn holder(
    conn: &mut PgConnection,
    email: &Email,
    except: Uuid,
) -> sqlx::Result<Option<Holder>> {
    if let Some(owner) = users::find_by_email(&mut *conn, email).await? {
        return Ok((owner.id != except).then(|| Holder {
            id: owner.id,
            email: owner.email(),
            language: owner.language(),
            display_name: owner.display_name,
        }));
    }
    reserver(conn, email, except).await
}

/// The account, other than `except`, for which `email` is reserved, if any.
pub async fn reserver(
    conn: &mut PgConnection,
    email: &Email,
    except: Uuid,
) -> sqlx::Result<Option<Holder>> {
    let reserver: Option<(Uuid, String, Option<String>)> = sqlx::query_as(
        "SELECT u.id, u.display_name, u.locale
         FROM email_changes c JOIN users u ON u.id = c.user_id
         WHERE lower(c.old_email) = lower($1) AND c.undo_hash IS NOT NULL AND c.user_id <> $2
           AND c.undone_at IS NULL AND c.ended_at IS NULL AND c.undo_expires_at > now()
         LIMIT 1",
    )
    .bind(email.as_str())
    .bind(except)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(reserver.map(|(id, display_name, locale)| Holder {
        id,
        email: email.clone(),
        display_name,
        language: crate::domain::preferences::language_of(locale.as_deref()),
    }))
}

fn same_address(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

async fn locked_user(conn: &mut PgConnection, user_id: Uuid) -> Result<User, AccountError> {
    users::lock(&mut *conn, user_id).await?;
    users::find_by_id(&mut *conn, user_id)
        .await?
        .ok_or(AccountError::NoSuchAccount)
}

/// The change one of whose links is `token`, read under its account's row lock: every change
/// to an account's `email_changes` rows happens under that lock, so what this reads stands
/// until the transaction ends.
async fn locked_change(
    conn: &mut PgConnection,
    hash: &str,
    expiry: &str,
    token: &str,
) -> sqlx::Result<Option<Change>> {
    let Some(found) = by_link(&mut *conn, hash, expiry, token).await? else {
        return Ok(None);
    };
    users::lock(&mut *conn, found.user_id).await?;
    by_link(conn, hash, expiry, token).await
}

/// The change one of whose links hashes to `token`'s hash; `hash` and `expiry` name the
/// link's columns (constants of this module, never input).
async fn by_link(
    conn: &mut PgConnection,
    hash: &str,
    expiry: &str,
    token: &str,
) -> sqlx::Result<Option<Change>> {
    sqlx::query_as(&format!(
        "SELECT id, user_id, old_email, new_email, confirmed_at, undone_at, ended_at,
                coalesce({expiry} < now(), true) AS expired
         FROM email_changes WHERE {hash} = $1"
    ))
    .bind(tokens::token_hash(token.trim()))
    .fetch_optional(conn)
    .await
}

/// Audits a link that did not work, as `action`, and refuses with why.
async fn refused(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    client: &ClientInfo,
    action: &'static str,
    rejection: TokenRejection,
) -> Result<(), AccountError> {
    let event = AuditEvent::new(action, Outcome::Failure)
        .detail(json!({ "reason": rejection.to_string() }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    Err(rejection.into())
}

/// The change, when its link still works; `used` says whether this link was used already.
fn usable(
    change: Option<Change>,
    used: impl Fn(&Change) -> bool,
) -> Result<Change, TokenRejection> {
    match change {
        None => Err(TokenRejection::Unknown),
        Some(c) if used(&c) || c.ended_at.is_some() => Err(TokenRejection::Used),
        Some(c) if c.expired => Err(TokenRejection::Expired),
        Some(c) => Ok(c),
    }
}

/// Sets the account's address, proven; links and codes sent to the address it had open
/// nothing any more. With `reset`, the password must be reset before it is used again. Staff
/// moving an account use it too.
pub(crate) async fn move_address(
    conn: &mut PgConnection,
    user_id: Uuid,
    to: &Email,
    reset: bool,
) -> Result<(), AccountError> {
    let moved = sqlx::query(
        "UPDATE users SET email = $2, email_verified_at = now(), unproven_claim_hash = NULL,
                          password_reset_required = password_reset_required
                              OR ($3 AND password_hash IS NOT NULL),
                          updated_at = now()
         WHERE id = $1",
    )
    .bind(user_id)
    .bind(to.as_str())
    .bind(reset)
    .execute(&mut *conn)
    .await;
    match moved {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(EmailError::InUse.into())
        }
        other => other?,
    };
    sqlx::query("DELETE FROM one_time_tokens WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    webhooks::emit(&mut *conn, &webhooks::Event::PersonUpdated(user_id)).await?;
    sqlx::query("DELETE FROM email_sign_in_requests WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[Table {
    name: "email_changes",
    person: Some("user_id"),
    personal: &[
        "user_id",
        "old_email",
        "new_email",
        "confirm_hash",
        "undo_hash",
    ],
    other: &[
        "id",
        "confirm_expires_at",
        "confirmed_at",
        "undo_expires_at",
        "undone_at",
        "ended_at",
        "created_at",
    ],
    export: Export::RowsWithout(&["confirm_hash", "undo_hash"]),
    erasure: Erasure::Delete,
}];
