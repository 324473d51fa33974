//! Passkey ceremonies: each start call keeps its state in `webauthn_ceremonies` (any node may
//! serve the finish call) bound to the browser session; the finish call takes it out, once.

use sqlx::PgExecutor;
use time::Duration;
use tower_sessions::Session;
use uuid::Uuid;
use webauthn_rs::prelude::*;
use webauthn_rs_proto::{
    AuthenticatorSelectionCriteria, ResidentKeyRequirement, UserVerificationPolicy,
};

use super::{parse_name, PasskeyRejection};
use crate::{
    domain::{
        accounts::create_or_warn_owner,
        address_proof,
        audit::{self, AuditEvent, Outcome},
        authentication::{self, Method},
        client::ClientInfo,
        consents::asked::{self, Answer},
        email::Email,
        error::AccountError,
        mfa,
        names::DisplayName,
        proof_of_work, settings, throttle,
        users::{self, NewUser, Role},
    },
    state::AppState,
};

/// How long a started ceremony may take.
const CEREMONY_LIFETIME: Duration = Duration::minutes(5);
const SESSION_KEY: &str = "webauthn_ceremony";
/// The purposes accepted with a passkey sign-up's start, until its finish creates the account.
const SIGN_UP_CONSENT_KEY: &str = "sign_up_consent";

fn unverified(e: WebauthnError) -> AccountError {
    tracing::info!(error = %e, "passkey ceremony refused");
    PasskeyRejection::NotVerified.into()
}
/// Requires a discoverable credential with user verification (webauthn-rs asks for a
/// non-resident key by default; usernameless sign-in needs a resident one).
fn require_resident_key(mut challenge: CreationChallengeResponse) -> CreationChallengeResponse {
    challenge.public_key.authenticator_selection = Some(AuthenticatorSelectionCriteria {
        authenticator_attachment: None,
        resident_key: Some(ResidentKeyRequirement::Required),
        require_resident_key: true,
        user_verification: UserVerificationPolicy::Required,
    });
    challenge
}

struct Ceremony<'a> {
    kind: &'static str,
    user_id: Option<Uuid>,
    email: Option<&'a str>,
    display_name: Option<&'a str>,
    passkey_name: Option<&'a str>,
}

/// Counts one ceremony start against the client's network, or refuses when it is over its
/// limit (each start stores a row until it expires).
async fn admit(state: &AppState, client: &ClientInfo) -> Result<(), AccountError> {
    let keys = throttle::ceremony_keys(client.network().as_deref());
    match throttle::admit(&state.db, &keys).await? {
        Some(minutes) => Err(AccountError::Throttled { minutes }),
        None => Ok(()),
    }
}

async fn save_ceremony(
    state: &AppState,
    session: &Session,
    ceremony: Ceremony<'_>,
    ceremony_state: serde_json::Value,
) -> Result<(), AccountError> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO webauthn_ceremonies
           (id, kind, user_id, email, display_name, passkey_name, state, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))",
    )
    .bind(id)
    .bind(ceremony.kind)
    .bind(ceremony.user_id)
    .bind(ceremony.email)
    .bind(ceremony.display_name)
    .bind(ceremony.passkey_name)
    .bind(ceremony_state)
    .bind(CEREMONY_LIFETIME.whole_seconds() as f64)
    .execute(&state.db)
    .await?;
    session.insert(SESSION_KEY, id).await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct TakenCeremony {
    user_id: Option<Uuid>,
    email: Option<String>,
    display_name: Option<String>,
    passkey_name: Option<String>,
    state: serde_json::Value,
}

/// Takes this browser's ceremony of `kind` out of the table: it can be finished only once.
async fn take_ceremony(
    state: &AppState,
    session: &Session,
    kind: &str,
) -> Result<TakenCeremony, AccountError> {
    let id = session
        .remove::<Uuid>(SESSION_KEY)
        .await?
        .ok_or(PasskeyRejection::NoCeremony)?;
    sqlx::query_as(
        "DELETE FROM webauthn_ceremonies WHERE id = $1 AND kind = $2 AND expires_at > now()
         RETURNING user_id, email, display_name, passkey_name, state",
    )
    .bind(id)
    .bind(kind)
    .fetch_optional(&state.db)
    .await?
    .ok_or_else(|| PasskeyRejection::NoCeremony.into())
}

fn state_json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, AccountError> {
    serde_json::to_value(value).map_err(|e| AccountError::Unexpected(e.into()))
}

fn state_from<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, AccountError> {
    serde_json::from_value(value).map_err(|e| AccountError::Unexpected(e.into()))
}

async fn ensure_enabled(state: &AppState) -> Result<(), AccountError> {
    if settings::current(state).await?.passkeys_enabled {
        Ok(())
    } else {
        Err(AccountError::MethodDisabled)
    }
}

/// Starts a usernameless sign-in: the browser offers whichever passkey the user picks.
pub async fn start_sign_in(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
) -> Result<RequestChallengeResponse, AccountError> {
    ensure_enabled(state).await?;
    admit(state, client).await?;
    let (challenge, auth) = state
        .webauthn
        .start_discoverable_authentication()
        .map_err(unverified)?;
    let ceremony = Ceremony {
        kind: "sign_in",
        user_id: None,
        email: None,
        display_name: None,
        passkey_name: None,
    };
    save_ceremony(state, session, ceremony, state_json(&auth)?).await?;
    Ok(challenge)
}

/// Finishes a sign-in with the browser's assertion.
#[tracing::instrument(skip_all)]
pub async fn finish_sign_in(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    credential: &PublicKeyCredential,
) -> Result<Uuid, AccountError> {
    let ceremony = take_ceremony(state, session, "sign_in").await?;
    let auth: DiscoverableAuthentication = state_from(ceremony.state)?;
    let (user_id, credential_id) = state
        .webauthn
        .identify_discoverable_authentication(credential)
        .map_err(unverified)?;
    let stored: Option<sqlx::types::Json<Passkey>> = sqlx::query_scalar(
        "SELECT passkey FROM passkeys WHERE user_id = $1 AND credential_id = $2",
    )
    .bind(user_id)
    .bind(credential_id)
    .fetch_optional(&state.db)
    .await?;
    let Some(sqlx::types::Json(mut passkey)) = stored else {
        authentication::failed(&state.db, client, Method::Passkey, None, "unknown_passkey").await?;
        return Err(PasskeyRejection::UnknownPasskey.into());
    };
    let result = match state.webauthn.finish_discoverable_authentication(
        credential,
        auth,
        &[DiscoverableKey::from(&passkey)],
    ) {
        Ok(result) => result,
        Err(e) => {
            let reason = e.to_string();
            authentication::failed(&state.db, client, Method::Passkey, Some(user_id), &reason)
                .await?;
            return Err(unverified(e));
        }
    };
    passkey.update_credential(&result);
    sqlx::query("UPDATE passkeys SET passkey = $2, last_used_at = now() WHERE credential_id = $1")
        .bind(credential_id)
        .bind(sqlx::types::Json(&passkey))
        .execute(&state.db)
        .await?;

    authentication::sign_in(state, client, session, user_id, Method::Passkey).await?;
    Ok(user_id)
}

/// Starts adding a passkey to the signed-in account. Needs a recent sign-in.
pub async fn start_registration(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
    name: &str,
) -> Result<CreationChallengeResponse, AccountError> {
    ensure_enabled(state).await?;
    admit(state, client).await?;
    let name = parse_name(name)?;
    mfa::freshness::ensure(&state.db, session, user_id).await?;
    let user = users::find_by_id(&state.db, user_id)
        .await?
        .ok_or(AccountError::NoSuchAccount)?;
    let existing: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT credential_id FROM passkeys WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(&state.db)
            .await?;
    let exclude = existing.into_iter().map(CredentialID::from).collect();
    let (challenge, registration) = state
        .webauthn
        .start_passkey_registration(user.id, &user.email, &user.display_name, Some(exclude))
        .map_err(unverified)?;
    let ceremony = Ceremony {
        kind: "register",
        user_id: Some(user.id),
        email: None,
        display_name: None,
        passkey_name: Some(&name),
    };
    save_ceremony(state, session, ceremony, state_json(&registration)?).await?;
    Ok(require_resident_key(challenge))
}

/// Finishes adding a passkey to the signed-in account.
#[tracing::instrument(skip_all)]
pub async fn finish_registration(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
    credential: &RegisterPublicKeyCredential,
) -> Result<(), AccountError> {
    let ceremony = take_ceremony(state, session, "register").await?;
    if ceremony.user_id != Some(user_id) {
        return Err(PasskeyRejection::NoCeremony.into());
    }
    let passkey = verify_registration(state, ceremony.state, credential)?;
    let mut tx = state.db.begin().await?;
    insert_passkey(
        &mut *tx,
        user_id,
        ceremony.passkey_name.as_deref().unwrap_or("Passkey"),
        &passkey,
    )
    .await?;
    let event = AuditEvent::new("passkey.added", Outcome::Success).by(user_id);
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Starts a sign-up with a passkey only: no password, ever. Limited per address, per client
/// network and overall, like registrations (and more tightly without a `proof` of work).
pub async fn start_sign_up(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    email: &Email,
    display_name: &DisplayName,
    proof: &str,
    consent: &Answer,
) -> Result<CreationChallengeResponse, AccountError> {
    ensure_enabled(state).await?;
    email.for_new_account()?;
    asked::check(&asked::at_registration(&state.db).await?, consent)?;
    let proven = proof_of_work::registration_proven(state, client, proof).await?;
    let keys = throttle::passkey_sign_up_keys(email.as_str(), client.network().as_deref(), proven);
    if let Some(minutes) = throttle::admit(&state.db, &keys).await? {
        return Err(AccountError::Throttled { minutes });
    }
    admit(state, client).await?;
    let user_id = Uuid::new_v4();
    let (challenge, registration) = state
        .webauthn
        .start_passkey_registration(user_id, email.as_str(), display_name.as_str(), None)
        .map_err(unverified)?;
    let ceremony = Ceremony {
        kind: "sign_up",
        user_id: Some(user_id),
        email: Some(email.as_str()),
        display_name: Some(display_name.as_str()),
        passkey_name: None,
    };
    save_ceremony(state, session, ceremony, state_json(&registration)?).await?;
    session.insert(SIGN_UP_CONSENT_KEY, consent).await?;
    Ok(require_resident_key(challenge))
}

/// Finishes a passkey sign-up: creates the account with its passkey and mails the
/// verification link. An address that already has an account gets the owner's warning mail
/// instead, and the caller sees the same answer. This browser keeps a claim on the account: the
/// passkey survives the address's proof only from here.
#[tracing::instrument(skip_all)]
pub async fn finish_sign_up(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    credential: &RegisterPublicKeyCredential,
) -> Result<(), AccountError> {
    let ceremony = take_ceremony(state, session, "sign_up").await?;
    let (Some(user_id), Some(email), Some(name)) =
        (ceremony.user_id, ceremony.email, ceremony.display_name)
    else {
        return Err(PasskeyRejection::NoCeremony.into());
    };
    let email = Email::parse(&email)?;
    let name = DisplayName::parse(&name)?;
    let passkey = verify_registration(state, ceremony.state, credential)?;
    let claim = address_proof::claim(session).await?;

    let mut tx = state.db.begin().await?;
    let new = NewUser {
        id: user_id,
        email: &email,
        display_name: &name,
        password_hash: None,
        role: Role::Customer,
        verified: false,
        claim_hash: Some(&claim),
        locale: Some(&client.reading.locale),
    };
    let consent = session
        .remove::<Answer>(SIGN_UP_CONSENT_KEY)
        .await?
        .unwrap_or_default();
    if let Some(user_id) = create_or_warn_owner(state, &mut tx, client, new, "passkey").await? {
        insert_passkey(&mut *tx, user_id, "Passkey", &passkey).await?;
        // The purposes accepted with the start; a policy that changed in between is asked
        // about at the first sign-in instead.
        let question = asked::at_registration(&mut *tx).await?;
        if let Ok(granted) = asked::check(&question, &consent) {
            asked::record(&mut tx, client, user_id, &granted, question.collection()).await?;
        }
    }
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(())
}

/// Checks the browser's new credential against the stored registration state.
fn verify_registration(
    state: &AppState,
    registration: serde_json::Value,
    credential: &RegisterPublicKeyCredential,
) -> Result<Passkey, AccountError> {
    let registration: PasskeyRegistration = state_from(registration)?;
    state
        .webauthn
        .finish_passkey_registration(credential, &registration)
        .map_err(unverified)
}

async fn insert_passkey(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    name: &str,
    passkey: &Passkey,
) -> Result<(), AccountError> {
    sqlx::query(
        "INSERT INTO passkeys (credential_id, user_id, name, passkey) VALUES ($1, $2, $3, $4)",
    )
    .bind(passkey.cred_id().as_ref())
    .bind(user_id)
    .bind(name)
    .bind(sqlx::types::Json(passkey))
    .execute(db)
    .await?;
    Ok(())
}
