//! The signed-in person's own password: change, set, remove.

use leptos::prelude::*;

use super::error::AppError;

/// Changes the password. With `current_password` filled in that proves it; left empty, a
/// recent sign-in must (the page then offers to confirm it's you).
#[server(prefix = "/api", endpoint = "password/change")]
pub async fn change_password(current_password: String, password: String) -> Result<(), AppError> {
    use super::context;
    use crate::domain::password::Password;

    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    let current = (!current_password.is_empty()).then(|| Password::new(current_password));
    crate::domain::password_change::change(
        &state,
        &context::client(),
        &session,
        user_id,
        current.as_ref(),
        Password::new(password),
    )
    .await?;
    leptos_axum::redirect("/profile?password_changed=1");
    Ok(())
}

/// Gives a passwordless account a password (after a recent sign-in).
#[server(prefix = "/api", endpoint = "password/set")]
pub async fn set_password(password: String) -> Result<(), AppError> {
    use super::context;
    use crate::domain::password::Password;

    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    crate::domain::password_change::set(
        &state,
        &context::client(),
        &session,
        user_id,
        Password::new(password),
    )
    .await?;
    leptos_axum::redirect("/profile?password_set=1");
    Ok(())
}

/// Removes the password while another way in remains (after a recent sign-in).
#[server(prefix = "/api", endpoint = "password/remove")]
pub async fn remove_password() -> Result<(), AppError> {
    use super::context;

    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    crate::domain::password_change::remove(&state, &context::client(), &session, user_id).await?;
    leptos_axum::redirect("/profile?password_removed=1");
    Ok(())
}
