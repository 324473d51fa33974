//! Password sign-in: throttling, constant-time credential check, rehash, session start.

use serde_json::json;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    audit::{self, AuditEvent, Outcome},
    client::ClientInfo,
    email::Email,
    error::AccountError,
    oidc::session_apps,
    password::{Password, Verification},
    sessions, settings,
    throttle::{self, ThrottlePolicy},
    users,
};
use crate::state::AppState;

/// Signs `session` in as the owner of `email` when `password` is theirs.
///
/// Unknown addresses cost the same password check as known ones and get the same error.
/// Failures count against the account and the client address; when either is locked the
/// password is not even checked.
#[tracing::instrument(skip_all)]
pub async fn sign_in(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    email: &Email,
    password: &Password,
) -> Result<Uuid, AccountError> {
    let account_key = throttle::account_key(email.as_str());
    let mut keys = vec![account_key.clone()];
    if let Some(ip) = &client.ip {
        keys.push(throttle::client_key(ip));
    }
    if let Some(minutes) = throttle::locked_minutes(&state.db, &keys).await? {
        let event = AuditEvent::new("signin.password", Outcome::Failure)
            .detail(json!({ "reason": "throttled", "email": email.as_str() }));
        audit::record(&state.db, client, event).await?;
        return Err(AccountError::Throttled { minutes });
    }

    let user = users::find_by_email(&state.db, email).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let verification = state.passwords.verify(password, stored).await?;
    let user = match (user, verification) {
        (Some(user), Verification::Match | Verification::MatchNeedsRehash) => user,
        (user, _) => {
            throttle::record_failure(&state.db, &account_key, ThrottlePolicy::ACCOUNT).await?;
            if let Some(ip) = &client.ip {
                let key = throttle::client_key(ip);
                throttle::record_failure(&state.db, &key, ThrottlePolicy::CLIENT).await?;
            }
            let event = AuditEvent::new("signin.password", Outcome::Failure)
                .about(user.map(|u| u.id))
                .detail(json!({ "reason": "invalid_credentials", "email": email.as_str() }));
            audit::record(&state.db, client, event).await?;
            return match throttle::locked_minutes(&state.db, &keys).await? {
                Some(minutes) => Err(AccountError::Throttled { minutes }),
                None => Err(AccountError::InvalidCredentials),
            };
        }
    };

    if verification == Verification::MatchNeedsRehash {
        let rehashed = super::password::NewPassword::parse(password.expose().to_owned(), &[]);
        // A password that predates today's policy keeps working; it is only re-hashed.
        if let Ok(new) = rehashed {
            let hash = state.passwords.hash(&new).await?;
            users::set_password_hash(&state.db, user.id, &hash).await?;
        }
    }

    if !user.is_verified() && settings::load(&state.db).await?.require_verified_email {
        sessions::set_pending_verification(session, user.id).await?;
        let event = AuditEvent::new("signin.password", Outcome::Failure)
            .about(Some(user.id))
            .detail(json!({ "reason": "email_not_verified" }));
        audit::record(&state.db, client, event).await?;
        return Err(AccountError::EmailNotVerified);
    }

    throttle::clear(&state.db, &account_key).await?;
    sessions::sign_in(session, user.id).await?;
    let event = AuditEvent::new("signin.password", Outcome::Success).by(user.id);
    audit::record(&state.db, client, event).await?;
    Ok(user.id)
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
    let event = AuditEvent::new("signout", Outcome::Success).by(user_id);
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    if apps.queued > 0 {
        state.logout_queued.notify_one();
    }
    Ok(apps.front_channel)
}
