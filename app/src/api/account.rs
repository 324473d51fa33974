//! Registration and email verification endpoints.

use leptos::prelude::*;

use super::error::AppError;
pub use crate::model::password::StrengthReading;

/// Creates an account and mails a verification link. Answers the same whether or not the
/// address already had an account.
#[server(prefix = "/api", endpoint = "register")]
pub async fn register(
    email: String,
    display_name: String,
    password: String,
    /// The hidden trap field: people leave it empty.
    #[server(default)]
    website: String,
    /// The answer to the proof-of-work puzzle (empty without JavaScript).
    #[server(default)]
    proof: String,
    /// The purposes ticked, `consent[<purpose>]=<policy version shown>`.
    #[server(default)]
    consent: std::collections::HashMap<String, String>,
) -> Result<(), AppError> {
    use super::context;
    use crate::domain::{
        accounts::{self, Registration},
        consents::asked::Answer,
        email::Email,
        names::DisplayName,
        password::Password,
    };

    let registration = Registration {
        email: Email::parse(&email).map_err(|e| AppError::field("email", e.to_string()))?,
        display_name: DisplayName::parse(&display_name)
            .map_err(|e| AppError::field("display_name", e.to_string()))?,
        password: Password::new(password),
        trap_filled: !website.is_empty(),
        proof,
        consent: Answer::parse(&consent).map_err(|e| AppError::field("consent", e.to_string()))?,
    };
    let state = context::state()?;
    let session = context::session().await?;
    accounts::register(&state, &context::client(), &session, registration).await?;
    leptos_axum::redirect("/register/sent");
    Ok(())
}

/// Rates a password for the strength meter. The policy decides on submit.
#[server(prefix = "/api", endpoint = "password-strength")]
pub async fn password_strength(
    password: String,
    #[server(default)] email: String,
    #[server(default)] display_name: String,
) -> Result<StrengthReading, AppError> {
    if password.len() > 4 * crate::domain::password::MAX_LEN {
        return Err(AppError::field(
            "password",
            "That password is far too long.",
        ));
    }
    let state = super::context::state()?;
    let policy = crate::domain::settings::current(&state)
        .await
        .map_err(crate::domain::error::AccountError::from)?
        .limits
        .password_policy();
    Ok(crate::domain::password::strength(
        &password,
        &[email.as_str(), display_name.as_str()],
        &policy,
    ))
}

/// Confirms an email address with the token from the verification mail.
#[server(prefix = "/api", endpoint = "verify-email")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let proof =
        crate::domain::accounts::verify_email(&state, &context::client(), &session, &token).await?;
    // Proven from another browser than the one that registered: what was set at registration
    // is gone, and the page says so.
    leptos_axum::redirect(if proof.removed.is_some() {
        "/signin?verified=1&credentials_removed=1"
    } else {
        "/signin?verified=1"
    });
    Ok(())
}

/// Sends a new verification link to the account that just tried to sign in unverified.
#[server(prefix = "/api", endpoint = "resend-verification")]
pub async fn resend_verification() -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = crate::domain::sessions::take_pending_verification(&session)
        .await
        .map_err(|e| AppError::from(crate::domain::error::AccountError::from(e)))?
        .ok_or_else(|| AppError::Refused("Sign in again to get a new link.".into()))?;
    crate::domain::accounts::resend_verification(&state, &context::client(), user_id).await?;
    leptos_axum::redirect("/register/sent");
    Ok(())
}
