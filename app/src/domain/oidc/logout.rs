//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): an app sends the person here,
//! with an `id_token_hint` this provider signed and a `post_logout_redirect_uri` it registered
//! exactly. Only a hint from this very sign-in (an ID token of this provider whose `sid` is the
//! session's, naming its person) signs out at once; anything else asks the person first.

use serde::Deserialize;
use tower_sessions::Session;
use url::Url;

use super::{
    clients::{self, Client},
    subjects,
};
use crate::{
    domain::{client::ClientInfo, error::AccountError, sessions, sign_out},
    model::oauth::AuthorizeProblem,
    state::AppState,
};

/// Where a confirmed logout goes, kept in the session until the person answers.
const TARGET_KEY: &str = "oauth_logout_target";

/// The parameters of the end-session endpoint.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
}

/// Where the browser goes after signing out, and the apps' front-channel logout pages it loads
/// on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    pub to: String,
    pub front_channel: Vec<String>,
}

/// What happens next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutNext {
    /// Signed out (or nobody was signed in).
    Done(Exit),
    /// Ask the person first.
    Confirm,
    /// The request cannot be honoured; nothing was changed.
    ErrorPage(AuthorizeProblem),
}

/// Where the browser goes after signing out: the app's registered address (with `state`), or
/// our signed-out page.
/// `client` is the app the request names (`None` when it names one that is not registered).
fn target(
    params: &LogoutParams,
    client_id: Option<&str>,
    client: Option<&Client>,
) -> Result<Result<String, AuthorizeProblem>, AccountError> {
    let Some(uri) = params.post_logout_redirect_uri.as_deref() else {
        return Ok(Ok("/?signed_out=1".into()));
    };
    if client_id.is_none() {
        return Ok(Err(AuthorizeProblem::BadRedirectUri));
    }
    let Some(client) = client else {
        return Ok(Err(AuthorizeProblem::UnknownClient));
    };
    if !client.post_logout_redirect_uris.iter().any(|r| r == uri) {
        return Ok(Err(AuthorizeProblem::BadRedirectUri));
    }
    let mut url = Url::parse(uri).map_err(|e| anyhow::anyhow!(e))?;
    if let Some(s) = &params.state {
        url.query_pairs_mut().append_pair("state", s);
    }
    Ok(Ok(url.to_string()))
}

/// Handles a logout request.
pub async fn begin(
    state: &AppState,
    client_info: &ClientInfo,
    session: &Session,
    params: &LogoutParams,
) -> Result<LogoutNext, AccountError> {
    let issuer = state.settings.public_url.as_str();
    let hint = match params.id_token_hint.as_deref() {
        None => None,
        Some(token) => match state.keys.verify_id_token_hint(token, issuer) {
            Some(claims) => Some(claims),
            None => return Ok(LogoutNext::ErrorPage(AuthorizeProblem::BadLogoutHint)),
        },
    };
    let hinted_client = hint
        .as_ref()
        .and_then(|c| c["aud"].as_str().map(str::to_owned));
    if let (Some(hinted), Some(given)) = (&hinted_client, &params.client_id) {
        if hinted != given {
            return Ok(LogoutNext::ErrorPage(AuthorizeProblem::BadLogoutHint));
        }
    }
    let client_id = hinted_client.or_else(|| params.client_id.clone());
    let client = match client_id.as_deref() {
        Some(id) => clients::find(&state.db, id).await?,
        None => None,
    };
    let to = match target(params, client_id.as_deref(), client.as_ref())? {
        Ok(to) => to,
        Err(problem) => return Ok(LogoutNext::ErrorPage(problem)),
    };
    let Some(user_id) = sessions::current_user(session).await? else {
        return Ok(LogoutNext::Done(Exit {
            to,
            front_channel: Vec::new(),
        }));
    };
    // The hint's `sub` is as its app sees the person (pairwise or not).
    let hinted_user = match (&hint, &client) {
        (Some(claims), Some(client)) => {
            let sub = claims["sub"].as_str().unwrap_or_default();
            subjects::account(&state.db, client, sub).await?
        }
        _ => None,
    };
    let current_sid = sessions::existing_sid(session).await?;
    let same_sign_in = hint
        .as_ref()
        .and_then(|claims| claims["sid"].as_str())
        .is_some_and(|sid| current_sid.as_deref() == Some(sid));
    if same_sign_in && hinted_user == Some(user_id) {
        let front_channel = sign_out::sign_out(state, client_info, session).await?;
        return Ok(LogoutNext::Done(Exit { to, front_channel }));
    }
    session.insert(TARGET_KEY, &to).await?;
    Ok(LogoutNext::Confirm)
}

/// The person confirmed: signs out and returns where to go.
pub async fn confirm(
    state: &AppState,
    client_info: &ClientInfo,
    session: &Session,
) -> Result<Exit, AccountError> {
    let to = session
        .get::<String>(TARGET_KEY)
        .await?
        .unwrap_or_else(|| "/?signed_out=1".into());
    let front_channel = sign_out::sign_out(state, client_info, session).await?;
    Ok(Exit { to, front_channel })
}
