//! What the OpenID provider's pages share with the server: why an app's request was stopped,
//! what the consent page shows, and the portal's connected apps.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// Why an authorization request ends on our own error page instead of going back to the app
/// (its redirect address cannot be trusted). Carried as a short code, so no request text is
/// ever shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AuthorizeProblem {
    #[error("The request names no app (client_id is missing).")]
    NoClient,
    #[error("The app that sent you here is not registered.")]
    UnknownClient,
    #[error(
        "The app asked to send you back to an address it has not registered, so we stopped here."
    )]
    BadRedirectUri,
    #[error("There is no sign-in for an app in progress in this browser.")]
    NoRequest,
    #[error("The app's sign-in request expired. Go back to the app and start again.")]
    Expired,
    #[error("The app's sign-out request could not be verified, so nothing was changed.")]
    BadLogoutHint,
    #[error(
        "The app's sign-in request has expired or was already used. Go back to the app and start again."
    )]
    BadPushedRequest,
}

impl AuthorizeProblem {
    pub const ALL: [AuthorizeProblem; 7] = [
        Self::NoClient,
        Self::UnknownClient,
        Self::BadRedirectUri,
        Self::NoRequest,
        Self::Expired,
        Self::BadLogoutHint,
        Self::BadPushedRequest,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::NoClient => "no_client",
            Self::UnknownClient => "unknown_client",
            Self::BadRedirectUri => "bad_redirect_uri",
            Self::NoRequest => "no_request",
            Self::Expired => "expired",
            Self::BadLogoutHint => "bad_logout_hint",
            Self::BadPushedRequest => "bad_pushed_request",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }
}

/// What the consent page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRequest {
    pub client_name: String,
    /// What each requested scope lets the app see or do, in plain words.
    pub permissions: Vec<String>,
}

/// Plain words for a scope.
pub fn describe_scope(scope: &str) -> Option<&'static str> {
    Some(match scope {
        "openid" => "Know who you are when you sign in",
        "profile" => "See your name",
        "email" => "See your email address",
        "phone" => "See your phone number",
        "address" => "See your postal address",
        "offline_access" => "Stay connected when you are not using it",
        _ => return None,
    })
}

/// The app waiting for the signed-in person's approval, if any.
#[server(prefix = "/api", endpoint = "oauth/consent")]
pub async fn consent_details() -> Result<Option<ConsentRequest>, AppError> {
    use super::context;
    let session = context::session().await?;
    context::signed_in_user(&session).await?;
    Ok(crate::domain::oidc::authorize::pending(&session)
        .await?
        .map(|req| ConsentRequest {
            client_name: req.client_name,
            permissions: req
                .scopes
                .iter()
                .filter_map(|s| describe_scope(s))
                .map(str::to_owned)
                .collect(),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_round_trips_through_its_code() {
        for p in AuthorizeProblem::ALL {
            assert_eq!(AuthorizeProblem::from_code(p.code()), Some(p));
        }
        assert_eq!(AuthorizeProblem::from_code("x"), None);
    }
}

/// One app connected to the signed-in account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedApp {
    pub client_id: String,
    pub name: String,
    pub permissions: Vec<String>,
    /// e.g. "2026-11-29 05:40 UTC".
    pub since: String,
}

/// The apps the signed-in account has approved or stays signed in to.
#[server(prefix = "/api", endpoint = "connected-apps")]
pub async fn connected_apps() -> Result<Vec<ConnectedApp>, AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    Ok(crate::domain::oidc::grants::list(&state, user_id)
        .await?
        .into_iter()
        .map(|a| ConnectedApp {
            permissions: a
                .scopes
                .iter()
                .filter_map(|s| describe_scope(s))
                .map(str::to_owned)
                .collect(),
            since: a.since.format(&format).unwrap_or_default(),
            client_id: a.client_id,
            name: a.client_name,
        })
        .collect())
}

/// Disconnects an app: its approval is forgotten and its tokens for this account revoked.
#[server(prefix = "/api", endpoint = "connected-apps/disconnect")]
pub async fn disconnect_app(client_id: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    let done =
        crate::domain::oidc::grants::disconnect(&state, &context::client(), user_id, &client_id)
            .await?;
    if !done {
        return Err(AppError::Refused("That app is not connected.".into()));
    }
    Ok(())
}
