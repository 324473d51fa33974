//! What proving an address does to the account behind it: the account pre-hijacking defence.
//! Anyone can register any address, so until its owner proves it, what is attached to the
//! account (a password, passkeys, a phone number, a postal address, linked identities,
//! sessions, app grants) may be an attacker's, waiting. The first proof keeps them only when it
//! comes from the browser that registered the account (that browser holds a claim whose hash is
//! on the account); proven from anywhere else, they are all removed and every sign-in of the
//! account ends, so only the person who just proved the address gets in; what the registrant
//! agreed to (app approvals, consents) is withdrawn in the consent ledger.

use serde_json::json;
use sqlx::PgConnection;
use tower_sessions::{session, Session};
use uuid::Uuid;

use super::{
    audit::{self, AuditEvent, Outcome},
    client::ClientInfo,
    consents,
    error::AccountError,
    mfa, oidc, passkeys, postal_address,
    sessions::REGISTRATION_CLAIMS_KEY,
    sign_out::{self, EndedSignIns},
    social,
    tokens::{random_token, same_hash, token_hash},
    users,
};

/// Claims a browser keeps (registering more accounts than this from one browser is odd).
const MAX_CLAIMS: usize = 5;

/// Makes a claim for an account this browser is registering: the secret stays in the session,
/// its hash (returned) goes on the account.
pub async fn claim(session: &Session) -> Result<Vec<u8>, session::Error> {
    let secret = random_token();
    let mut claims: Vec<String> = session
        .get(REGISTRATION_CLAIMS_KEY)
        .await?
        .unwrap_or_default();
    claims.push(secret.clone());
    if claims.len() > MAX_CLAIMS {
        claims.remove(0);
    }
    session.insert(REGISTRATION_CLAIMS_KEY, claims).await?;
    Ok(token_hash(&secret))
}

/// Whether `session` holds the claim hashing to `hash`.
async fn holds_claim(session: Option<&Session>, hash: &[u8]) -> Result<bool, session::Error> {
    let Some(session) = session else {
        return Ok(false);
    };
    let claims: Vec<String> = session
        .get(REGISTRATION_CLAIMS_KEY)
        .await?
        .unwrap_or_default();
    Ok(claims.iter().any(|c| same_hash(&token_hash(c), hash)))
}

/// What a first proof from another browser removed.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Removed {
    pub password: bool,
    pub passkeys: u64,
    pub identities: u64,
    /// Authenticator app and recovery code rows.
    pub second_factors: u64,
    pub phone: bool,
    /// A postal address the registrant left (shops would otherwise deliver there).
    pub postal_address: bool,
    /// App approvals forgotten, and consents withdrawn (both written to the consent ledger).
    pub apps: usize,
    pub consents: usize,
    pub ended: EndedSignIns,
}

/// The outcome of proving an address; [`Proof::after_commit`] must be called once the
/// transaction has committed.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Proof {
    /// Set when the proof removed what was attached before it.
    pub removed: Option<Removed>,
}

impl Proof {
    pub fn after_commit(&self, state: &crate::state::AppState) {
        if let Some(removed) = &self.removed {
            removed.ended.after_commit(state);
        }
    }
}

/// Marks the address of `user_id` proven, in the caller's transaction (`session` is the browser
/// that brought the proof, when it came through one). On the first proof, removes what was
/// attached before unless `session` registered the account, and ends every sign-in of it.
pub async fn prove(
    tx: &mut PgConnection,
    client: &ClientInfo,
    session: Option<&Session>,
    issuer: &str,
    user_id: Uuid,
) -> Result<Proof, AccountError> {
    let Some((verified, claim)) = users::proof_state_for_update(tx, user_id).await? else {
        return Err(AccountError::NoSuchAccount);
    };
    if verified {
        return Ok(Proof::default());
    }
    let claimed = match &claim {
        Some(hash) => holds_claim(session, hash).await?,
        None => false,
    };
    let removed = if claimed {
        None
    } else {
        Some(remove_unproven(tx, client, issuer, user_id).await?)
    };
    users::mark_proven(&mut *tx, user_id).await?;
    if let Some(removed) = &removed {
        let mut detail = removed.ended.detail();
        detail["password"] = json!(removed.password);
        detail["passkeys"] = json!(removed.passkeys);
        detail["identities"] = json!(removed.identities);
        detail["second_factors"] = json!(removed.second_factors);
        detail["phone"] = json!(removed.phone);
        detail["postal_address"] = json!(removed.postal_address);
        detail["apps"] = json!(removed.apps);
        detail["consents_withdrawn"] = json!(removed.consents);
        let event = AuditEvent::new("account.unproven_credentials_removed", Outcome::Success)
            .about(Some(user_id))
            .detail(detail);
        audit::record(&mut *tx, client, event).await?;
    }
    Ok(Proof { removed })
}

/// Removes every way into `user_id` that was attached before its address was proven, and ends
/// its sign-ins everywhere.
async fn remove_unproven(
    tx: &mut PgConnection,
    client: &ClientInfo,
    issuer: &str,
    user_id: Uuid,
) -> Result<Removed, AccountError> {
    let (password, phone) = users::remove_unproven_ways_in(tx, user_id).await?;
    let postal_address = postal_address::delete(tx, user_id).await?.is_some();
    let passkeys = passkeys::remove_all(tx, user_id).await?;
    let identities = social::identities::remove_all(tx, user_id).await?;
    let second_factors = mfa::factors::remove_all(tx, user_id).await?;
    let apps = oidc::connected_apps::forget_all(tx, client, user_id).await?;
    let consents = consents::ledger::withdraw_all(tx, client, user_id).await?;
    let ended = sign_out::end_everywhere(tx, issuer, user_id).await?;
    Ok(Removed {
        password,
        passkeys,
        identities,
        second_factors,
        phone,
        postal_address,
        apps,
        consents,
        ended,
    })
}
