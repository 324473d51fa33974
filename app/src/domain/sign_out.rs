//! Ending sign-ins: one browser's (sign-out), or every one of a person's, everywhere: each
//! browser session, each app's grant (refresh tokens, offline access included, and the access
//! tokens issued under them), with a back-channel logout notice to every app that asked for one.
//! The apps' front-channel logout pages of a portal sign-out wait, once, for the signed-out page.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    audit::{self, AuditEvent, Outcome},
    client::ClientInfo,
    error::AccountError,
    mfa::remembered,
    oidc::{
        grant_revocation::{self, Grants, RevokedGrants},
        session_apps,
    },
    preferences::Reading,
    sessions,
    webhooks::{self, Event, SessionEnd},
};
use crate::{i18n::td_string, state::AppState};

/// The page that loads the apps' front-channel logout pages after the portal's own sign-out.
pub const SIGNED_OUT_PAGE: &str = "/signed-out";

/// Where the front-channel logout URLs wait for [`SIGNED_OUT_PAGE`], in the browser's new
/// anonymous session.
const FRONT_CHANNEL_KEY: &str = "front_channel_logout";

/// How long they wait, in seconds: the browser goes there at once.
const FRONT_CHANNEL_WAIT: i64 = 120;

/// Front-channel logout URLs waiting for the signed-out page, and until when (Unix seconds).
#[derive(Debug, Serialize, Deserialize)]
struct HeldFrontChannel {
    uris: Vec<String>,
    until: i64,
}

/// Ends the session of a signed-in user. The apps the sign-in was used for are told (by
/// back-channel notices queued here); the front-channel logout URLs are returned for the
/// browser to load.
#[tracing::instrument(skip_all)]
pub async fn sign_out(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
) -> Result<Vec<String>, AccountError> {
    let user = sessions::current_user(session).await?;
    let sid = sessions::existing_sid(session).await?;
    sessions::sign_out(session).await?;
    let Some(user_id) = user else {
        return Ok(Vec::new());
    };
    let mut tx = state.db.begin().await?;
    let apps = session_apps::ended(&mut tx, &state.settings.public_url, sid.as_slice()).await?;
    let event = AuditEvent::new("session.ended", Outcome::Success)
        .by(user_id)
        .detail(json!({ "reason": "signed_out" }));
    audit::record(&mut *tx, client, event).await?;
    let ended = Event::SessionEnded {
        person: user_id,
        reason: SessionEnd::SignedOut,
    };
    webhooks::emit(&mut *tx, &ended).await?;
    tx.commit().await?;
    if apps.queued > 0 {
        state.logout_queued.notify_one();
    }
    Ok(apps.front_channel)
}

/// Keeps the front-channel logout URLs [`sign_out`] returned for [`SIGNED_OUT_PAGE`] to load
/// once (OpenID Connect Front-Channel Logout 1.0 §2): in the ended session's place, a new
/// anonymous one with a fresh id, for two minutes. They name the sign-in (`sid`), so they never
/// travel in an address the browser keeps. Whether there were any: with none, nothing is kept
/// and the browser has no session, as after any sign-out.
pub async fn hold_front_channel(
    session: &Session,
    uris: Vec<String>,
) -> Result<bool, AccountError> {
    if uris.is_empty() {
        return Ok(false);
    }
    let until = OffsetDateTime::now_utc().unix_timestamp() + FRONT_CHANNEL_WAIT;
    session
        .insert(FRONT_CHANNEL_KEY, HeldFrontChannel { uris, until })
        .await?;
    // The flushed record keeps the ended session's id; the new session must not reuse it.
    session.cycle_id().await?;
    Ok(true)
}

/// The front-channel logout URLs waiting for this browser's signed-out page, removed as they
/// are read: a second load, or one after two minutes, finds none.
pub async fn take_front_channel(session: &Session) -> Result<Vec<String>, AccountError> {
    if session
        .get::<HeldFrontChannel>(FRONT_CHANNEL_KEY)
        .await?
        .is_none()
    {
        return Ok(Vec::new());
    }
    let held = session
        .remove::<HeldFrontChannel>(FRONT_CHANNEL_KEY)
        .await?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    Ok(held
        .filter(|held| held.until >= now)
        .map(|held| held.uris)
        .unwrap_or_default())
}

/// The signed-out page's title and message, in the reader's language.
pub fn signed_out_words(reading: &Reading) -> (&'static str, &'static str) {
    let locale = reading.language();
    (
        td_string!(locale, signed_out.title),
        td_string!(locale, signed_out.message),
    )
}

/// What ending sign-ins (all of one person's, or some) did; [`EndedSignIns::after_commit`]
/// must be called once the transaction it ran in has committed.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct EndedSignIns {
    /// Browser sessions ended.
    pub sessions: u64,
    /// Grants ended at apps.
    pub grants: RevokedGrants,
    /// Back-channel logout notices queued.
    pub notices: u64,
}

impl EndedSignIns {
    /// Wakes the logout worker and tells this node's revocation copy at once.
    pub fn after_commit(&self, state: &AppState) {
        self.grants.remember(&state.revoked);
        if self.notices > 0 {
            state.logout_queued.notify_one();
        }
    }

    /// The audit detail.
    pub fn detail(&self) -> serde_json::Value {
        json!({
            "sessions_ended": self.sessions,
            "grants_ended": self.grants.ids.len(),
            "refresh_tokens_revoked": self.grants.refresh_tokens,
        })
    }
}

/// Ends every sign-in of `user_id` in the caller's transaction: browser sessions, the apps'
/// sign-ins through them, every grant at every app, offline access included, and the codes
/// not exchanged yet. Each app with
/// a back-channel logout URI is told once per sign-in or grant.
pub async fn end_everywhere(
    conn: &mut PgConnection,
    issuer: &str,
    user_id: Uuid,
) -> sqlx::Result<EndedSignIns> {
    let sessions = sessions::end_all_for_user(&mut *conn, user_id).await?;
    // A remembered device would skip the second factor of whoever signs in next on it.
    remembered::forget_all(&mut *conn, user_id).await?;
    let apps = session_apps::ended_for_user(&mut *conn, issuer, user_id).await?;
    let grants = grant_revocation::revoke(&mut *conn, Grants::OfPerson(user_id)).await?;
    // A code issued a moment ago and not yet exchanged would start a new grant afterwards.
    sqlx::query(
        "UPDATE authorization_codes SET expires_at = now()
         WHERE user_id = $1 AND used_at IS NULL AND expires_at > now()",
    )
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    // Grants that outlived their browser sign-in (offline access): their apps are told too,
    // unless a notice for the same sign-in was queued just above (same transaction, same now()).
    let offline = sqlx::query(
        "INSERT INTO logout_outbox (client_id, uri, sub, sid)
         SELECT DISTINCT r.client_id, c.backchannel_logout_uri, r.user_id::text, r.sid
         FROM refresh_tokens r JOIN oauth_clients c ON c.id = r.client_id
         WHERE r.user_id = $1 AND r.revoked_at = now()
           AND c.backchannel_logout_uri IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM logout_outbox o
                           WHERE o.client_id = r.client_id AND o.sid IS NOT DISTINCT FROM r.sid
                             AND o.created_at = now())",
    )
    .bind(user_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if sessions > 0 || !grants.ids.is_empty() {
        let ended = Event::SessionEnded {
            person: user_id,
            reason: SessionEnd::EndedEverywhere,
        };
        webhooks::emit(&mut *conn, &ended).await?;
    }
    Ok(EndedSignIns {
        sessions,
        grants,
        notices: apps.queued as u64 + offline,
    })
}
