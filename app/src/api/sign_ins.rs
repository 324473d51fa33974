//! The signed-in person's live sign-ins: list them, end one, end all the others.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// One live sign-in as the profile lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInView {
    /// What ending it names.
    pub id: String,
    /// "Firefox on Linux".
    pub device: String,
    /// The country, when GeoIP is configured and knows the address.
    pub place: Option<String>,
    /// The address it signed in from.
    pub network: Option<String>,
    /// How it signed in, in the reader's language ("password", "passkey", ...).
    pub method: String,
    /// UTC, e.g. "2026-11-29 05:40 UTC".
    pub signed_in: String,
    pub last_seen: String,
    /// The browser looking at the list.
    pub this_device: bool,
}

/// The signed-in person's live sign-ins, most recently seen first.
#[server(prefix = "/api", endpoint = "sign-ins")]
pub async fn sign_ins() -> Result<Vec<SignInView>, AppError> {
    use super::context;
    use crate::domain::{active_sessions, error::AccountError, sessions};

    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    let locale = context::client().reading.language();
    let current = sessions::existing_sid(&session)
        .await
        .map_err(AccountError::from)?;
    let live = active_sessions::list(&state.db, user_id, current.as_deref())
        .await
        .map_err(AccountError::from)?;
    Ok(live
        .into_iter()
        .map(|s| SignInView {
            id: s.sid,
            device: s.device,
            place: s.country,
            network: s.ip,
            method: crate::domain::timeline::method_name(&s.method, locale),
            signed_in: context::moment(s.signed_in_at),
            last_seen: context::moment(s.last_seen_at),
            this_device: s.current,
        })
        .collect())
}

/// Ends one other sign-in: its next request is refused and its apps are told.
#[server(prefix = "/api", endpoint = "sign-ins/end")]
pub async fn end_sign_in(id: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    crate::domain::active_sessions::end_one(&state, &context::client(), &session, user_id, &id)
        .await?;
    leptos_axum::redirect("/profile?sign_in_ended=1");
    Ok(())
}

/// Ends every sign-in but this browser's.
#[server(prefix = "/api", endpoint = "sign-ins/end-others")]
pub async fn end_other_sign_ins() -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    crate::domain::active_sessions::end_others(&state, &context::client(), &session, user_id)
        .await?;
    leptos_axum::redirect("/profile?others_ended=1");
    Ok(())
}
