//! SMS endpoints: signing in with a texted code, and proving a phone number for the profile.

use leptos::prelude::*;

use super::error::AppError;

/// Texts a sign-in code; answers the same whether or not an account uses the number.
#[server(prefix = "/api", endpoint = "sms-sign-in")]
pub async fn request_sms_sign_in(phone: String) -> Result<(), AppError> {
    use super::context;
    use crate::domain::phone::Phone;

    let phone = Phone::parse(&phone).map_err(|e| AppError::field("phone", e.to_string()))?;
    let state = context::state()?;
    let session = context::session().await?;
    crate::domain::sms::request_sign_in(&state, &context::client(), &session, &phone).await?;
    leptos_axum::redirect("/signin/sms/code");
    Ok(())
}

/// Signs in with the texted code, in the browser that asked for it.
#[server(prefix = "/api", endpoint = "sms-sign-in/code")]
pub async fn sign_in_with_sms_code(code: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    crate::domain::sms::sign_in_with_code(&state, &context::client(), &session, &code).await?;
    leptos_axum::redirect(&crate::domain::authentication::landing(&session).await);
    Ok(())
}

/// Texts a code to prove `phone` belongs to the signed-in account.
#[server(prefix = "/api", endpoint = "phone")]
pub async fn add_phone(phone: String) -> Result<(), AppError> {
    use super::context;
    use crate::domain::phone::Phone;

    let phone = Phone::parse(&phone).map_err(|e| AppError::field("phone", e.to_string()))?;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    crate::domain::sms::request_phone_verification(
        &state,
        &context::client(),
        &session,
        user_id,
        &phone,
    )
    .await?;
    leptos_axum::redirect("/profile/phone");
    Ok(())
}

/// Whether this browser is waiting for a phone verification code.
#[server(prefix = "/api", endpoint = "phone/pending")]
pub async fn phone_verification_pending() -> Result<bool, AppError> {
    use super::context;
    let session = context::session().await?;
    context::signed_in_user(&session).await?;
    Ok(crate::domain::sms::verification_pending(&session).await?)
}

/// Saves the phone number once the texted code proves it.
#[server(prefix = "/api", endpoint = "phone/confirm")]
pub async fn confirm_phone(code: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    crate::domain::sms::confirm_phone(&state, &context::client(), &session, user_id, &code).await?;
    leptos_axum::redirect("/profile?phone_added=1");
    Ok(())
}

/// Removes the signed-in account's phone number.
#[server(prefix = "/api", endpoint = "phone/remove")]
pub async fn remove_phone() -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    crate::domain::sms::remove_phone(&state, &context::client(), user_id).await?;
    leptos_axum::redirect("/profile");
    Ok(())
}
