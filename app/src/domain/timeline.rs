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
use crate::{
    i18n::{td_string, Locale},
    state::AppState,
};

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

/// The newest events about `user_id` older than event `before` (from the start when `None`),
/// in words of `locale`.
pub async fn page(
    state: &AppState,
    user_id: Uuid,
    before: Option<i64>,
    locale: Locale,
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
                what: describe(&row.action, failed, &row.detail, by_staff, locale),
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

/// The plain words for one event, in the reader's language.
fn describe(action: &str, failed: bool, detail: &Value, by_staff: bool, locale: Locale) -> String {
    let text = match action {
        "consent.granted" => {
            let purpose = purpose_words(detail, locale);
            td_string!(locale, timeline_words.consent_granted, purpose = &purpose)
        }
        "consent.withdrawn" => {
            let purpose = purpose_words(detail, locale);
            td_string!(locale, timeline_words.consent_withdrawn, purpose = &purpose)
        }
        _ => fixed_words(action, failed, detail, locale).to_owned(),
    };
    if by_staff && KNOWN.contains(&action) {
        td_string!(locale, timeline_words.by_our_team, text = &text)
    } else {
        text
    }
}

/// The words for an event that names nothing of the person's own.
fn fixed_words(action: &str, failed: bool, detail: &Value, locale: Locale) -> &'static str {
    match action {
        "account.registered" if failed => td_string!(locale, timeline_words.registered_again),
        "account.registered" => td_string!(locale, timeline_words.registered),
        "account.reported_unrecognised" => {
            td_string!(locale, timeline_words.reported_unrecognised)
        }
        "signin.succeeded" => signed_in_words(detail["method"].as_str(), locale),
        "signin.failed" => match detail["reason"].as_str() {
            Some("invalid_credentials") => {
                td_string!(locale, timeline_words.signin_failed_password)
            }
            Some("risk_blocked") => td_string!(locale, timeline_words.signin_risk_blocked),
            Some("account_locked") => td_string!(locale, timeline_words.signin_account_locked),
            _ => td_string!(locale, timeline_words.signin_failed),
        },
        "signin.owner_told" => td_string!(locale, timeline_words.signin_owner_told),
        "session.ended" => match detail["reason"].as_str() {
            Some("signed_out") => td_string!(locale, timeline_words.signed_out),
            Some("ended_by_owner") => td_string!(locale, timeline_words.session_ended_by_owner),
            _ => td_string!(locale, timeline_words.session_ended),
        },
        "session.others_ended" => td_string!(locale, timeline_words.others_ended),
        "password.changed" => td_string!(locale, timeline_words.password_changed),
        "password.change_failed" => td_string!(locale, timeline_words.password_change_failed),
        "password.reset" => td_string!(locale, timeline_words.password_reset),
        "password.reset_requested" => td_string!(locale, timeline_words.password_reset_requested),
        "password.set" => td_string!(locale, timeline_words.password_set),
        "password.removed" => td_string!(locale, timeline_words.password_removed),
        "email.verified" => td_string!(locale, timeline_words.email_verified),
        "email.change_requested" => td_string!(locale, timeline_words.email_change_requested),
        "email.changed" => td_string!(locale, timeline_words.email_changed),
        "email.change_undone" => td_string!(locale, timeline_words.email_change_undone),
        "passkey.added" => td_string!(locale, timeline_words.passkey_added),
        "passkey.removed" => td_string!(locale, timeline_words.passkey_removed),
        "passkey.renamed" => td_string!(locale, timeline_words.passkey_renamed),
        "mfa.totp_enrolled" => td_string!(locale, timeline_words.totp_enrolled),
        "mfa.totp_removed" => td_string!(locale, timeline_words.totp_removed),
        "mfa.recovery_codes_replaced" => td_string!(locale, timeline_words.recovery_codes_replaced),
        "device.forgotten" => td_string!(locale, timeline_words.device_forgotten),
        "phone.verified" => td_string!(locale, timeline_words.phone_verified),
        "phone.removed" => td_string!(locale, timeline_words.phone_removed),
        "identity.linked" => td_string!(locale, timeline_words.identity_linked),
        "identity.unlinked" => td_string!(locale, timeline_words.identity_unlinked),
        "oauth.consented" => td_string!(locale, timeline_words.app_connected),
        "oauth.disconnected" => td_string!(locale, timeline_words.app_disconnected),
        "data_export.requested" => td_string!(locale, timeline_words.data_export_requested),
        "data_export.downloaded" => match detail["format"].as_str() {
            Some("html") => td_string!(locale, timeline_words.data_export_downloaded_html),
            _ => td_string!(locale, timeline_words.data_export_downloaded),
        },
        "account.deletion_requested" => td_string!(locale, timeline_words.deletion_requested),
        "account.deletion_cancelled" => td_string!(locale, timeline_words.deletion_cancelled),
        "profile.updated" => td_string!(locale, timeline_words.profile_updated),
        _ => td_string!(locale, timeline_words.changed_by_our_team),
    }
}

/// A purpose's key in words ("marketing email" for `marketing_email`).
/// A consent row's purpose: its name and policy version as recorded ("Terms of service
/// (version 2)"), or, for rows written before names were, its key in words.
fn purpose_words(detail: &serde_json::Value, locale: Locale) -> String {
    let name = match (detail["name"].as_str(), detail["purpose"].as_str()) {
        (Some(name), _) => name.to_owned(),
        (None, Some(key)) => key.replace('_', " "),
        (None, None) => td_string!(locale, timeline_words.a_policy).to_owned(),
    };
    match detail["version"].as_i64() {
        Some(v) => td_string!(
            locale,
            timeline_words.purpose_version,
            name = &name,
            version = v
        ),
        None => name,
    }
}

/// "Signed in with a password": one whole sentence per method, so that each language can
/// word it its own way.
fn signed_in_words(method: Option<&str>, locale: Locale) -> &'static str {
    match method {
        Some("password") => td_string!(locale, timeline_words.signed_in_password),
        Some("passkey") => td_string!(locale, timeline_words.signed_in_passkey),
        Some("email_link") => td_string!(locale, timeline_words.signed_in_email_link),
        Some("email_code") => td_string!(locale, timeline_words.signed_in_email_code),
        Some("sms_code") => td_string!(locale, timeline_words.signed_in_sms_code),
        Some("social") => td_string!(locale, timeline_words.signed_in_social),
        Some("password_reset") => td_string!(locale, timeline_words.signed_in_password_reset),
        _ => td_string!(locale, timeline_words.signed_in),
    }
}

/// A sign-in method as the list of live sign-ins names it ("signed in … by password"), in
/// `locale`; a method this does not know keeps its name.
pub fn method_name(method: &str, locale: Locale) -> String {
    let words = match method {
        "password" => td_string!(locale, timeline_words.method_password),
        "passkey" => td_string!(locale, timeline_words.method_passkey),
        "email_link" => td_string!(locale, timeline_words.method_email_link),
        "email_code" => td_string!(locale, timeline_words.method_email_code),
        "sms_code" => td_string!(locale, timeline_words.method_sms_code),
        "social" => td_string!(locale, timeline_words.method_social),
        "password_reset" => td_string!(locale, timeline_words.method_password_reset),
        other => other,
    };
    words.to_owned()
}

/// "This wasn't me": every sign-in ends (this one too), the ways in besides the address and the
/// password are removed, a password must be reset before it is used again, and the reset link is
/// mailed to the account's address.
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
