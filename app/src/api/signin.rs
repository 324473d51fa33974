//! Sign-in, sign-out and password recovery endpoints.

use leptos::prelude::*;

use serde::{Deserialize, Serialize};

use super::error::AppError;

/// Which optional sign-in methods the sign-in page offers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferedMethods {
    pub sms: bool,
    /// The enabled upstream providers, one button each.
    pub social: Vec<super::social::SocialButton>,
}

/// The sign-in methods the business has switched on.
#[server(prefix = "/api", endpoint = "sign-in-options")]
pub async fn sign_in_options() -> Result<OfferedMethods, AppError> {
    use super::context;
    let state = context::state()?;
    let policy = crate::domain::settings::current(&state)
        .await
        .map_err(|e| AppError::from(crate::domain::error::AccountError::from(e)))?;
    let social = if policy.social_enabled {
        crate::domain::social::providers::enabled(&state.db)
            .await
            .map_err(|e| AppError::from(crate::domain::error::AccountError::from(e)))?
            .into_iter()
            .map(|(id, name)| super::social::SocialButton { id, name })
            .collect()
    } else {
        Vec::new()
    };
    Ok(OfferedMethods {
        sms: policy.sms_enabled,
        social,
    })
}

/// Signs in with email and password (and, from a network trying many passwords, the answer to
/// a proof-of-work puzzle).
#[server(prefix = "/api", endpoint = "sign-in")]
pub async fn sign_in(
    email: String,
    password: String,
    #[server(default)] proof: String,
) -> Result<(), AppError> {
    use super::context;
    use crate::domain::{email::Email, password::Password, password_sign_in};

    let email = Email::parse(&email).map_err(|e| AppError::field("email", e.to_string()))?;
    if password.is_empty() {
        return Err(AppError::field("password", "Enter your password."));
    }
    let state = context::state()?;
    let session = context::session().await?;
    let password = Password::new(password);
    password_sign_in::sign_in(
        &state,
        &context::client(),
        &session,
        &email,
        &password,
        &proof,
    )
    .await?;
    leptos_axum::redirect(&crate::domain::authentication::landing(&session).await);
    Ok(())
}

/// Ends the caller's session and goes home. When apps the sign-in was used for registered a
/// front-channel logout page (OpenID Connect Front-Channel Logout 1.0 §2), the answer is the
/// signed-out page that loads them instead: a form posted without JavaScript is redirected
/// there; the hydrated page loads it in full (a client-side navigation would keep this page's
/// frame sources, which allow none).
#[server(prefix = "/api", endpoint = "sign-out")]
pub async fn sign_out() -> Result<Option<String>, AppError> {
    use super::context;
    use crate::domain::sign_out::{hold_front_channel, SIGNED_OUT_PAGE};

    let state = context::state()?;
    let session = context::session().await?;
    // Apps with a back-channel logout URI were told already.
    let front_channel =
        crate::domain::sign_out::sign_out(&state, &context::client(), &session).await?;
    if !hold_front_channel(&session, front_channel).await? {
        leptos_axum::redirect("/");
        return Ok(None);
    }
    let plain_form = use_context::<http::request::Parts>()
        .and_then(|parts| parts.headers.get(http::header::ACCEPT).cloned())
        .is_some_and(|accept| accept.to_str().is_ok_and(|v| v.contains("text/html")));
    if plain_form {
        leptos_axum::redirect(SIGNED_OUT_PAGE);
    }
    Ok(Some(SIGNED_OUT_PAGE.to_owned()))
}

/// Mails a password reset link when the address has an account; answers the same either way.
#[server(prefix = "/api", endpoint = "forgot-password")]
pub async fn forgot_password(email: String) -> Result<(), AppError> {
    use super::context;
    use crate::domain::email::Email;

    let email = Email::parse(&email).map_err(|e| AppError::field("email", e.to_string()))?;
    let state = context::state()?;
    crate::domain::recovery::request_reset(&state, &context::client(), &email).await?;
    leptos_axum::redirect("/forgot-password/sent");
    Ok(())
}

/// Sets a new password with the token from the reset mail and signs in.
#[server(prefix = "/api", endpoint = "reset-password")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    use super::context;
    use crate::domain::password::Password;

    let state = context::state()?;
    let session = context::session().await?;
    crate::domain::recovery::reset_password(
        &state,
        &context::client(),
        &session,
        &token,
        Password::new(password),
    )
    .await?;
    // A reset proves the mailbox only: whoever enrolled a second factor still gives it.
    let next = crate::domain::authentication::landing(&session).await;
    if crate::domain::authentication::is_step_page(&next) {
        leptos_axum::redirect(&next);
    } else {
        leptos_axum::redirect("/profile?password_changed=1");
    }
    Ok(())
}

/// A proof-of-work puzzle for `purpose` ("register" or "sign-in"): always one for a
/// registration; for a sign-in only while the caller's network (or the whole site) is trying
/// many passwords, else none.
#[server(prefix = "/api", endpoint = "proof-of-work")]
pub async fn proof_challenge(
    purpose: String,
) -> Result<Option<crate::model::proof_of_work::Challenge>, AppError> {
    use super::context;
    use crate::domain::{
        proof_of_work::{self, bits, Purpose},
        stuffing,
    };
    let state = context::state()?;
    let network = context::client().network();
    let Some(purpose) = Purpose::parse(&purpose) else {
        return Err(AppError::field(
            "purpose",
            "The purpose must be \"register\" or \"sign-in\".",
        ));
    };
    let bits = match purpose {
        Purpose::Register => Some(bits::REGISTER),
        Purpose::SignIn => {
            stuffing::demand_on(&state.db, network.as_deref())
                .await
                .map_err(|e| AppError::from(crate::domain::error::AccountError::from(e)))?
                .bits
        }
    };
    Ok(bits.map(|bits| proof_of_work::issue(&state.proof_key, purpose, bits, network.as_deref())))
}
