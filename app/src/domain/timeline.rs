//! The person's security timeline: their own audit events in plain words, newest first, a page
//! at a time, each with the device and place it came from; and "this wasn't me", which ends
//! every sign-in and starts a password reset.

use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    audit::{self, AuditEvent, Outcome},
    client::{device_summary, ClientInfo},
    error::AccountError,
    recovery, users,
};
use crate::state::AppState;

/// Events on one page.
pub const PAGE: i64 = 20;

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    pub at: OffsetDateTime,
    /// What happened, in plain words.
    pub what: String,
    /// It failed or was refused (a wrong password, a refused sign-in).
    pub failed: bool,
    /// "Firefox on Linux".
    pub device: String,
    /// The country of the address, when GeoIP is configured and knows it.
    pub country: Option<String>,
    pub ip: Option<String>,
}

/// A page of the timeline, and where the next one starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub entries: Vec<Entry>,
    /// Pass as `before` for the next (older) page; `None` on the last one.
    pub next: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    at: OffsetDateTime,
    actor_id: Option<Uuid>,
    /// "cli" for an operator at the command line.
    actor: Option<String>,
    action: String,
    outcome: String,
    ip: Option<String>,
    user_agent: Option<String>,
    detail: Value,
}

/// The newest events about `user_id` older than event `before` (from the start when `None`).
pub async fn page(
    state: &AppState,
    user_id: Uuid,
    before: Option<i64>,
) -> Result<Page, AccountError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, at, actor_id, actor, action, outcome, ip, user_agent, detail
         FROM audit_events
         WHERE subject_id = $1 AND ($2::bigint IS NULL OR id < $2)
           AND (action = ANY($3) OR actor_id <> subject_id OR actor = 'cli')
         ORDER BY id DESC LIMIT $4",
    )
    .bind(user_id)
    .bind(before)
    .bind(KNOWN)
    .bind(PAGE + 1)
    .fetch_all(&state.db)
    .await?;
    let more = rows.len() as i64 > PAGE;
    let entries: Vec<Entry> = rows
        .into_iter()
        .take(PAGE as usize)
        .map(|row| {
            let by_staff =
                row.actor_id.is_some_and(|a| a != user_id) || row.actor.as_deref() == Some("cli");
            let failed = row.outcome == "failure";
            Entry {
                id: row.id,
                at: row.at,
                what: describe(&row.action, failed, &row.detail, by_staff),
                failed,
                device: device_summary(row.user_agent.as_deref()),
                country: country_of(state, row.ip.as_deref()),
                ip: row.ip,
            }
        })
        .collect();
    let next = if more {
        entries.last().map(|e| e.id)
    } else {
        None
    };
    Ok(Page { entries, next })
}

fn country_of(state: &AppState, ip: Option<&str>) -> Option<String> {
    let geo = state.risk.geo.as_ref()?;
    geo.locate(ip?.parse().ok()?)?.country
}

/// The actions the timeline puts in words (others by the person themselves stay out).
const KNOWN: &[&str] = &[
    "account.registered",
    "account.reported_unrecognised",
    "signin.succeeded",
    "signin.failed",
    "signin.owner_told",
    "session.ended",
    "session.others_ended",
    "password.changed",
    "password.change_failed",
    "password.reset",
    "password.reset_requested",
    "password.set",
    "password.removed",
    "email.verified",
    "email.change_requested",
    "email.changed",
    "email.change_undone",
    "passkey.added",
    "passkey.removed",
    "passkey.renamed",
    "mfa.totp_enrolled",
    "mfa.totp_removed",
    "mfa.recovery_codes_replaced",
    "device.forgotten",
    "phone.verified",
    "phone.removed",
    "identity.linked",
    "identity.unlinked",
    "oauth.consented",
    "oauth.disconnected",
    "consent.granted",
    "consent.withdrawn",
    "profile.updated",
    "data_export.requested",
    "data_export.downloaded",
    "account.deletion_requested",
    "account.deletion_cancelled",
];

/// The plain words for one event.
fn describe(action: &str, failed: bool, detail: &Value, by_staff: bool) -> String {
    let method = detail["method"].as_str().and_then(method_words);
    let text = match action {
        "account.registered" if failed => {
            "Someone tried to register again with your address".to_owned()
        }
        "account.registered" => "Your account was created".to_owned(),
        "account.reported_unrecognised" => {
            "You reported activity you did not recognise: every device was signed out".to_owned()
        }
        "signin.succeeded" => match method {
            Some(m) => format!("Signed in {m}"),
            None => "Signed in".to_owned(),
        },
        "signin.failed" => match detail["reason"].as_str() {
            Some("invalid_credentials") => "A sign-in failed: wrong password".to_owned(),
            Some("risk_blocked") => "A sign-in was stopped as too risky".to_owned(),
            Some("account_locked") => "A sign-in was refused: the account is locked".to_owned(),
            _ => "A sign-in failed".to_owned(),
        },
        "signin.owner_told" => "A sign-in from a new device: we mailed you about it".to_owned(),
        "session.ended" => match detail["reason"].as_str() {
            Some("signed_out") => "Signed out".to_owned(),
            Some("ended_by_owner") => "You signed out another device".to_owned(),
            _ => "A sign-in ended".to_owned(),
        },
        "session.others_ended" => "You signed out every other device".to_owned(),
        "password.changed" => "Your password was changed".to_owned(),
        "password.change_failed" => "A password change failed: wrong current password".to_owned(),
        "password.reset" => "Your password was reset with a mailed link".to_owned(),
        "password.reset_requested" => "A password reset link was asked for".to_owned(),
        "password.set" => "A password was added".to_owned(),
        "password.removed" => "Your password was removed".to_owned(),
        "email.verified" => "Your email address was confirmed".to_owned(),
        "email.change_requested" => "A move to another email address was asked for".to_owned(),
        "email.changed" => "Your email address was changed".to_owned(),
        "email.change_undone" => "An email address change was undone".to_owned(),
        "passkey.added" => "A passkey was added".to_owned(),
        "passkey.removed" => "A passkey was removed".to_owned(),
        "passkey.renamed" => "A passkey was renamed".to_owned(),
        "mfa.totp_enrolled" => "An authenticator app was set up".to_owned(),
        "mfa.totp_removed" => "The authenticator app was removed".to_owned(),
        "mfa.recovery_codes_replaced" => "New recovery codes were made".to_owned(),
        "device.forgotten" => "A remembered device was forgotten".to_owned(),
        "phone.verified" => "A phone number was confirmed".to_owned(),
        "phone.removed" => "The phone number was removed".to_owned(),
        "identity.linked" => "Another account was linked for signing in".to_owned(),
        "identity.unlinked" => "A linked account was removed".to_owned(),
        "oauth.consented" => "An app was connected".to_owned(),
        "oauth.disconnected" => "An app was disconnected".to_owned(),
        "consent.granted" => format!("You accepted {}", purpose_words(detail)),
        "data_export.requested" => "You asked for a copy of your data".to_owned(),
        "data_export.downloaded" => match detail["format"].as_str() {
            Some("html") => "You downloaded your data as a readable page".to_owned(),
            _ => "You downloaded your data".to_owned(),
        },
        "consent.withdrawn" => format!("You withdrew {}", purpose_words(detail)),
        "account.deletion_requested" => "You asked for your account to be deleted".to_owned(),
        "account.deletion_cancelled" => "You cancelled the deletion of your account".to_owned(),
        "profile.updated" => "Your name was changed".to_owned(),
        _ => "Our team made a change to your account".to_owned(),
    };
    if by_staff && KNOWN.contains(&action) {
        format!("{text} (by our team)")
    } else {
        text
    }
}

/// A purpose's key in words ("marketing email" for `marketing_email`).
/// A consent row's purpose: its name and policy version as recorded ("Terms of service
/// (version 2)"), or, for rows written before names were, its key in words.
fn purpose_words(detail: &serde_json::Value) -> String {
    let name = match (detail["name"].as_str(), detail["purpose"].as_str()) {
        (Some(name), _) => name.to_owned(),
        (None, Some(key)) => key.replace('_', " "),
        (None, None) => "a policy".to_owned(),
    };
    match detail["version"].as_i64() {
        Some(v) => format!("{name} (version {v})"),
        None => name,
    }
}

fn method_words(method: &str) -> Option<&'static str> {
    Some(match method {
        "password" => "with a password",
        "passkey" => "with a passkey",
        "email_link" => "with a mailed link",
        "email_code" => "with a mailed code",
        "sms_code" => "with a text message code",
        "social" => "with a linked account",
        "password_reset" => "with a password reset",
        _ => return None,
    })
}

/// "This wasn't me": every sign-in ends (this one too), a password must be reset before it
/// is used again, and the reset link is mailed to the account's address.
#[tracing::instrument(skip_all)]
pub async fn report(
    state: &AppState,
    client: &ClientInfo,
    user_id: Uuid,
) -> Result<(), AccountError> {
    let mut tx = state.db.begin().await?;
    users::lock(&mut tx, user_id).await?;
    let user = users::find_by_id(&mut *tx, user_id)
        .await?
        .ok_or(AccountError::NoSuchAccount)?;
    let ended =
        recovery::lock_out_intruder(&mut tx, state, user_id, &user.email(), &user.display_name)
            .await?;
    let event = AuditEvent::new("account.reported_unrecognised", Outcome::Success)
        .by(user_id)
        .detail(json!({ "ended": ended.detail() }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    ended.after_commit(state);
    state.mail_queued.notify_one();
    Ok(())
}
