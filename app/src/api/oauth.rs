//! What the OpenID provider's pages share with the server: why an app's request was stopped,
//! what the consent page shows, and the portal's connected apps.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;
pub use crate::model::oauth::AuthorizeProblem;

/// What the consent page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRequest {
    /// The waiting request this screen is about; the answer names it.
    pub request: String,
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
        "consents" => "See your privacy choices",
        "roles" => "See your roles and permissions in this app",
        "offline_access" => "Stay connected when you are not using it",
        _ => return None,
    })
}

/// The app of the waiting request `request` that asks for the signed-in person's approval, if
/// there is such a request.
#[server(prefix = "/api", endpoint = "oauth/consent")]
pub async fn consent_details(
    #[server(default)] request: String,
) -> Result<Option<ConsentRequest>, AppError> {
    use super::context;
    let session = context::session().await?;
    context::signed_in_user(&session).await?;
    Ok(
        crate::domain::oidc::pending_requests::pending(&session, Some(&request))
            .await?
            .map(|req| ConsentRequest {
                client_name: req.client_name,
                permissions: req
                    .scopes
                    .iter()
                    .filter_map(|s| describe_scope(s))
                    .map(str::to_owned)
                    .collect(),
                request: req.id,
            }),
    )
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
    Ok(
        crate::domain::oidc::connected_apps::list(&state.db, user_id)
            .await?
            .into_iter()
            .map(|a| ConnectedApp {
                permissions: a
                    .scopes
                    .iter()
                    .filter_map(|s| describe_scope(s))
                    .map(str::to_owned)
                    .collect(),
                since: context::moment(a.since),
                client_id: a.client_id,
                name: a.client_name,
            })
            .collect(),
    )
}

/// Disconnects an app: its approval is forgotten and its tokens for this account revoked.
#[server(prefix = "/api", endpoint = "connected-apps/disconnect")]
pub async fn disconnect_app(client_id: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    let done = crate::domain::oidc::connected_apps::disconnect(
        &state,
        &context::client(),
        user_id,
        &client_id,
    )
    .await?;
    if !done {
        return Err(AppError::Refused("That app is not connected.".into()));
    }
    Ok(())
}
