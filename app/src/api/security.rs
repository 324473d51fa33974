//! The profile's second factors: the authenticator app (set up, remove), recovery codes (new
//! set, shown once), and remembered devices (forget).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{error::AppError, second_factor::AuthenticatorSetup};

/// A remembered device as the profile lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RememberedDeviceView {
    pub id: String,
    pub device: String,
    /// UTC, e.g. "2026-11-29 05:40 UTC".
    pub last_used: String,
    pub expires: String,
}

/// The signed-in person's second factors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityOverview {
    pub totp: bool,
    pub passkeys: i64,
    pub recovery_codes_left: i64,
    /// The policy requires this person to sign in with a second factor.
    pub second_factor_required: bool,
    pub devices: Vec<RememberedDeviceView>,
}

/// The signed-in person's second factors and remembered devices.
#[server(prefix = "/api", endpoint = "security")]
pub async fn security_summary() -> Result<SecurityOverview, AppError> {
    use super::context;
    use crate::domain::{
        error::AccountError,
        mfa::{factors, remembered},
        settings,
    };
    let state = context::state()?;
    let session = context::session().await?;
    let user = context::signed_in_account(&state, &session).await?;
    let enrolled = factors::of(&state.db, user.id)
        .await
        .map_err(AccountError::from)?;
    let policy = settings::current(&state)
        .await
        .map_err(AccountError::from)?
        .mfa_policy;
    let devices = remembered::list(&state.db, user.id)
        .await
        .map_err(AccountError::from)?
        .into_iter()
        .map(|d| RememberedDeviceView {
            id: d.id.to_string(),
            device: d.device,
            last_used: context::moment(d.last_used_at),
            expires: context::moment(d.expires_at),
        })
        .collect();
    Ok(SecurityOverview {
        totp: enrolled.totp,
        passkeys: enrolled.passkeys,
        recovery_codes_left: enrolled.recovery_codes_left,
        second_factor_required: policy.requires(&user),
        devices,
    })
}

/// Starts setting up an authenticator app (after a recent proof).
#[server(prefix = "/api", endpoint = "security/authenticator/start")]
pub async fn start_authenticator() -> Result<AuthenticatorSetup, AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    let setup = crate::domain::mfa::enrolment::start(&state, &session, user_id).await?;
    Ok(setup.into())
}

/// Confirms the authenticator app with its first code.
#[server(prefix = "/api", endpoint = "security/authenticator/confirm")]
pub async fn confirm_authenticator(code: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    let codes_made = crate::domain::mfa::enrolment::confirm(
        &state,
        &context::client(),
        &session,
        user_id,
        &code,
    )
    .await?;
    leptos_axum::redirect(if codes_made {
        "/profile/recovery-codes"
    } else {
        "/profile?authenticator_added=1"
    });
    Ok(())
}

/// Removes the authenticator app (after a recent proof).
#[server(prefix = "/api", endpoint = "security/authenticator/remove")]
pub async fn remove_authenticator() -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    crate::domain::mfa::enrolment::remove_totp(&state, &context::client(), &session, user_id)
        .await?;
    leptos_axum::redirect("/profile?authenticator_removed=1");
    Ok(())
}

/// Makes a new set of recovery codes (the old ones stop working), shown once.
#[server(prefix = "/api", endpoint = "security/recovery-codes/new")]
pub async fn new_recovery_codes() -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    crate::domain::mfa::enrolment::new_recovery_codes(
        &state,
        &context::client(),
        &session,
        user_id,
    )
    .await?;
    leptos_axum::redirect("/profile/recovery-codes");
    Ok(())
}

/// The recovery codes just made, once; empty when they were shown already.
#[server(prefix = "/api", endpoint = "security/recovery-codes/take")]
pub async fn take_recovery_codes() -> Result<Vec<String>, AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    Ok(crate::domain::mfa::enrolment::take_held(&state, &session, user_id).await?)
}

/// Where to go on after the recovery codes were shown: an app's sign-in in progress, or the
/// profile.
#[server(prefix = "/api", endpoint = "security/next")]
pub async fn next_page() -> Result<String, AppError> {
    use super::context;
    let session = context::session().await?;
    Ok(crate::domain::authentication::landing(&session).await)
}

/// Forgets a remembered device: it is asked for the second factor again.
#[server(prefix = "/api", endpoint = "security/devices/forget")]
pub async fn forget_device(id: String) -> Result<(), AppError> {
    use super::context;
    let id = uuid::Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)?;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    crate::domain::mfa::remembered::forget(&state.db, &context::client(), user_id, id).await?;
    leptos_axum::redirect("/profile?device_forgotten=1");
    Ok(())
}
