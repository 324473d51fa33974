//! "Delete my account": asking for it from the profile, and the sign-in step that offers to
//! cancel it while its grace period runs.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// How many days a deletion waits before it is carried out (the business's setting).
#[server(prefix = "/api", endpoint = "account/deletion/grace")]
pub async fn deletion_grace_days() -> Result<i32, AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    context::signed_in_user(&session).await?;
    let settings = crate::domain::settings::current(&state)
        .await
        .map_err(crate::domain::error::AccountError::from)?;
    Ok(settings.limits.deletion_grace_days)
}

/// Schedules the deletion of the signed-in person's account (a recent sign-in first); every
/// sign-in ends, this one too, and the browser goes to the sign-in page that says so.
#[server(prefix = "/api", endpoint = "account/deletion/request")]
pub async fn request_account_deletion(
    /// "yes" from the ticked confirmation.
    #[server(default)]
    confirm: Option<String>,
) -> Result<(), AppError> {
    use super::context;
    if confirm.as_deref() != Some("yes") {
        return Err(AppError::field(
            "confirm",
            "Tick the box to confirm that you want your account deleted.",
        ));
    }
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    crate::domain::privacy::deletion::request(&state, &context::client(), &session, user_id)
        .await?;
    leptos_axum::redirect("/signin?deletion=scheduled");
    Ok(())
}

/// What the deletion step's page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionOffer {
    /// The held sign-in's name, sent back with the answer.
    pub step: String,
    /// When the account is to be deleted.
    pub due: String,
}

/// The waiting sign-in's pending deletion, or `None` when no sign-in waits for this answer.
#[server(prefix = "/api", endpoint = "signin/deletion/question")]
pub async fn deletion_question() -> Result<Option<DeletionOffer>, AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let asked = crate::domain::authentication::deletion_step::question(&state, &session).await?;
    Ok(asked.map(|(due, step)| DeletionOffer {
        step,
        due: context::moment(due),
    }))
}

/// Keeps the account (the deletion is cancelled) and goes on with the sign-in named `step`.
#[server(prefix = "/api", endpoint = "signin/deletion/cancel")]
pub async fn cancel_deletion(#[server(default)] step: String) -> Result<(), AppError> {
    use super::context;
    use crate::domain::authentication;
    let state = context::state()?;
    let session = context::session().await?;
    authentication::deletion_step::cancel(&state, &context::client(), &session, &step).await?;
    let next = authentication::landing(&session).await;
    leptos_axum::redirect(&if next == "/profile" {
        "/profile?deletion_cancelled=1".to_owned()
    } else {
        next
    });
    Ok(())
}

/// Leaves the deletion as it is: the waiting sign-in ends with nothing signed in.
#[server(prefix = "/api", endpoint = "signin/deletion/keep")]
pub async fn keep_deletion() -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    crate::domain::authentication::deletion_step::keep(&state, &context::client(), &session)
        .await?;
    leptos_axum::redirect("/signin?deletion=kept");
    Ok(())
}
