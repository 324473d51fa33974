//! Password sign-in: throttling per account and client, the price a stuffing network pays (a
//! proof of work and a wait), a constant-time credential check, the lockout after 100
//! consecutive failures across windows, rehashing, then the sign-in exit.

use serde_json::json;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    audit::{self, AuditEvent, Outcome},
    authentication::{self, Method},
    client::ClientInfo,
    email::Email,
    error::AccountError,
    hashing::{HashingError, Verification},
    measures::{self, SignInOutcome},
    password::Password,
    proof_of_work::{self, Purpose},
    stuffing,
    throttle::{self, ThrottlePolicy},
    users,
};
use crate::state::AppState;

/// Signs `session` in as the owner of `email` when `password` is theirs.
///
/// Unknown addresses cost the same password check as known ones and get the same error.
/// Failures count against the account and the client address; when either is locked the
/// password is not even checked. From a network trying many passwords (or during a site-wide
/// surge) the attempt must bring a solved `proof` of work and waits before its password is
/// checked (`stuffing`). A password locked after 100 consecutive failures opens nothing until
/// a reset.
#[tracing::instrument(skip_all)]
pub async fn sign_in(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    email: &Email,
    password: &Password,
    proof: &str,
) -> Result<Uuid, AccountError> {
    // An overload is shed, and counted, before any database work when the hashing is
    // saturated, or when the hash itself is refused.
    let shed = || {
        measures::sign_in(Method::Password, SignInOutcome::Shed);
        AccountError::Busy
    };
    if state.passwords.saturated() {
        return Err(shed());
    }
    let account_key = throttle::account_key(email.as_str());
    let mut keys = vec![account_key.clone()];
    if let Some(ip) = &client.ip {
        keys.push(throttle::client_key(ip));
    }
    // One read for the locks, the price of stuffing and the risk engine's failure counts.
    let network = client.network();
    let mut watched = keys.clone();
    watched.extend(network.as_deref().map(throttle::network_key));
    watched.push(throttle::GLOBAL_KEY.to_owned());
    let counters = throttle::Counters::read(&state.db, &watched).await?;
    if let Some(minutes) = counters.locked_minutes(&keys) {
        let event = AuditEvent::new("signin.failed", Outcome::Failure).detail(
            json!({ "method": "password", "reason": "throttled", "email": email.as_str() }),
        );
        audit::record(&state.db, client, event).await?;
        measures::sign_in(Method::Password, SignInOutcome::Throttled);
        return Err(AccountError::Throttled { minutes });
    }
    let pressure = stuffing::pressure_from(&counters, network.as_deref());
    pay_for_pressure(state, client, email, proof, stuffing::demand(pressure)).await?;

    let user = users::find_by_email(&state.db, email).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let verification = state
        .passwords
        .verify(password, stored)
        .await
        .map_err(|e| match e {
            HashingError::Busy => shed(),
            failed => failed.into(),
        })?;
    let user = match (user, verification) {
        (Some(user), Verification::Match | Verification::MatchNeedsRehash) => user,
        (user, _) => {
            throttle::record_failure(&state.db, &account_key, ThrottlePolicy::ACCOUNT).await?;
            if let Some(ip) = &client.ip {
                let key = throttle::client_key(ip);
                throttle::record_failure(&state.db, &key, ThrottlePolicy::CLIENT).await?;
            }
            // What the risk engine watches: many accounts from one network, a global surge.
            if let Some(network) = client.network() {
                let key = throttle::network_key(&network);
                throttle::record_failure(&state.db, &key, ThrottlePolicy::WATCH).await?;
            }
            throttle::record_failure(&state.db, throttle::GLOBAL_KEY, ThrottlePolicy::WATCH)
                .await?;
            let mut locked = false;
            if let Some(user) = &user {
                locked = users::count_failed_sign_in(&state.db, user.id).await?;
            }
            let event = AuditEvent::new("signin.failed", Outcome::Failure)
                .about(user.map(|u| u.id))
                .detail(json!({
                    "method": "password",
                    "reason": "invalid_credentials",
                    "email": email.as_str(),
                    "password_locked": locked,
                }));
            audit::record(&state.db, client, event).await?;
            measures::sign_in(Method::Password, SignInOutcome::Failure);
            return match throttle::locked_minutes(&state.db, &keys).await? {
                Some(minutes) => Err(AccountError::Throttled { minutes }),
                None => Err(AccountError::InvalidCredentials),
            };
        }
    };
    if user.password_locked_at.is_some() {
        // The right password, but too many wrong ones came before it: only a reset (proving
        // the address) or an administrator lifts this.
        authentication::failed(&state.db, client, Method::Password, Some(user.id), "locked")
            .await?;
        return Err(AccountError::PasswordLocked);
    }

    if verification == Verification::MatchNeedsRehash {
        let rehashed = super::password::NewPassword::parse(
            password.expose().to_owned(),
            &[],
            &super::password::PasswordPolicy::default(),
        );
        // A password that predates today's policy keeps working; it is only re-hashed.
        if let Ok(new) = rehashed {
            let hash = state.passwords.hash(&new).await?;
            users::rehash_password(&state.db, user.id, &hash).await?;
        }
    }
    authentication::sign_in_user(
        state,
        client,
        session,
        &user,
        Method::Password,
        Some(authentication::PasswordProof {
            password,
            counters: &counters,
        }),
    )
    .await?;
    if counters.counts(&account_key) {
        throttle::clear(&state.db, &account_key).await?;
    }
    if user.failed_sign_ins > 0 {
        users::clear_failed_sign_ins(&state.db, user.id).await?;
    }
    Ok(user.id)
}

/// Asks an attempt from a network under pressure (its `demand`) for its proof of work, then
/// makes it wait.
async fn pay_for_pressure(
    state: &AppState,
    client: &ClientInfo,
    email: &Email,
    proof: &str,
    demand: stuffing::Demand,
) -> Result<(), AccountError> {
    let network = client.network();
    if let Some(bits) = demand.bits {
        let verdict = proof_of_work::accept(
            &state.db,
            &state.proof_key,
            proof,
            Purpose::SignIn,
            bits,
            network.as_deref(),
        )
        .await?;
        if let Err(rejection) = verdict {
            let event = AuditEvent::new("signin.failed", Outcome::Failure).detail(json!({
                "method": "password",
                "reason": "proof_of_work",
                "proof": rejection.to_string(),
                "bits": bits,
                "email": email.as_str(),
            }));
            audit::record(&state.db, client, event).await?;
            measures::sign_in(Method::Password, SignInOutcome::Failure);
            return Err(AccountError::ProofOfWork);
        }
    }
    if !demand.delay.is_zero() {
        tokio::time::sleep(demand.delay).await;
    }
    Ok(())
}
