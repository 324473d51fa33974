//! Social sign-in endpoints and what both sides share about them: the linked identities the
//! portal lists, and the reasons a social sign-in fails.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// Why a social sign-in did not go through. Each has a short code carried to the page that
/// shows the message (so no provider-controlled text is ever reflected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SocialError {
    #[error("This sign-in method is not available.")]
    Unavailable,
    #[error("The sign-in attempt expired or did not start in this browser. Please try again.")]
    Expired,
    #[error("The sign-in was cancelled or refused by the provider.")]
    Cancelled,
    #[error("We could not reach the sign-in provider. Please try again later.")]
    Unreachable,
    #[error("The sign-in provider's answer could not be verified, so you were not signed in.")]
    Unverified,
    #[error(
        "The sign-in provider did not confirm your email address, so no account was created. \
         Register with your email address instead."
    )]
    EmailUnverified,
    #[error("That account at the provider is already linked to another of our accounts.")]
    InUse,
    #[error("There is no sign-in to link waiting; start again from the sign-in page.")]
    NoPendingLink,
    #[error("Sign in to the account that uses the provider's email address to link it.")]
    WrongAccount,
    #[error("You cannot unlink your only way to sign in.")]
    LastMethod,
    #[error("No such linked account.")]
    NotLinked,
}

impl SocialError {
    pub const ALL: [SocialError; 11] = [
        Self::Unavailable,
        Self::Expired,
        Self::Cancelled,
        Self::Unreachable,
        Self::Unverified,
        Self::EmailUnverified,
        Self::InUse,
        Self::NoPendingLink,
        Self::WrongAccount,
        Self::LastMethod,
        Self::NotLinked,
    ];

    /// The short code carried in `?social_error=`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
            Self::Unreachable => "unreachable",
            Self::Unverified => "unverified",
            Self::EmailUnverified => "email_unverified",
            Self::InUse => "in_use",
            Self::NoPendingLink => "no_pending_link",
            Self::WrongAccount => "wrong_account",
            Self::LastMethod => "last_method",
            Self::NotLinked => "not_linked",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_round_trips_through_its_code() {
        for e in SocialError::ALL {
            assert_eq!(SocialError::from_code(e.code()), Some(e));
        }
        assert_eq!(SocialError::from_code("<script>"), None);
    }
}

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
    let linked = social::identities::list(&state, user_id).await?;
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    let enabled = if settings::load(&state.db)
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
                linked_at: l.created_at.format(&format).unwrap_or_default(),
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
