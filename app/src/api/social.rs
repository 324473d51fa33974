//! Social sign-in endpoints and what both sides share about them: the linked identities the
//! portal lists, and the reasons a social sign-in fails.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;
pub use crate::model::social::SocialError;

/// One upstream identity linked to the signed-in account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedIdentity {
    pub provider_id: String,
    pub provider_name: String,
    pub email: Option<String>,
    /// When it was linked, e.g. "2026-11-29 05:40 UTC".
    pub linked_at: String,
}

/// A provider the signed-in account could still link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialButton {
    pub id: String,
    pub name: String,
}

/// The signed-in account's identities, and the enabled providers not linked yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityOverview {
    pub linked: Vec<LinkedIdentity>,
    pub available: Vec<SocialButton>,
}

/// An upstream identity waiting for its account's owner to sign in and link it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLinkView {
    pub provider_name: String,
    pub email: String,
}

/// The signed-in account's linked identities.
#[server(prefix = "/api", endpoint = "identities")]
pub async fn linked_identities() -> Result<IdentityOverview, AppError> {
    use super::context;
    use crate::domain::{error::AccountError, settings, social};
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    let linked = social::identities::list(&state.db, user_id).await?;
    let enabled = if settings::current(&state)
        .await
        .map_err(AccountError::from)?
        .social_enabled
    {
        social::providers::enabled(&state.db)
            .await
            .map_err(AccountError::from)?
    } else {
        Vec::new()
    };
    let available = enabled
        .into_iter()
        .filter(|(id, _)| !linked.iter().any(|l| &l.provider_id == id))
        .map(|(id, name)| SocialButton { id, name })
        .collect();
    Ok(IdentityOverview {
        linked: linked
            .into_iter()
            .map(|l| LinkedIdentity {
                linked_at: context::moment(l.created_at),
                provider_id: l.provider_id,
                provider_name: l.provider_name,
                email: l.email,
            })
            .collect(),
        available,
    })
}

/// Unlinks a provider from the signed-in account (never the last way in).
#[server(prefix = "/api", endpoint = "identities/unlink")]
pub async fn unlink_identity(provider: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    crate::domain::social::identities::unlink(&state, &context::client(), user_id, &provider)
        .await?;
    leptos_axum::redirect("/profile");
    Ok(())
}

/// The identity waiting to be linked in this browser, if any: shown while nobody is signed in,
/// and then only to the account it matched.
#[server(prefix = "/api", endpoint = "identities/pending")]
pub async fn pending_link() -> Result<Option<PendingLinkView>, AppError> {
    use super::context;
    let session = context::session().await?;
    let signed_in = crate::domain::sessions::current_user(&session)
        .await
        .map_err(|e| AppError::from(crate::domain::error::AccountError::from(e)))?;
    Ok(crate::domain::social::identities::pending_link(&session)
        .await?
        .filter(|p| signed_in.is_none_or(|user| user == p.user_id))
        .map(|p| PendingLinkView {
            provider_name: p.provider_name,
            email: p.email,
        }))
}

/// Links the waiting identity to the signed-in account, which must be the one it matched and
/// must have signed in after it arrived.
#[server(prefix = "/api", endpoint = "identities/confirm")]
pub async fn confirm_link() -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    crate::domain::social::identities::confirm_link(&state, &context::client(), &session, user_id)
        .await?;
    leptos_axum::redirect("/profile?linked=1");
    Ok(())
}

/// Forgets the waiting identity.
#[server(prefix = "/api", endpoint = "identities/discard")]
pub async fn discard_link() -> Result<(), AppError> {
    use super::context;
    let session = context::session().await?;
    crate::domain::social::identities::discard_link(&session).await?;
    leptos_axum::redirect("/profile");
    Ok(())
}
