//! The authorization code flow with an upstream provider: the redirect out (PKCE S256, `state`,
//! `nonce`, remembered in this browser's session for 10 minutes, single use) and the callback
//! (state checked, code exchanged, ID token or GitHub user verified).

use oauth2::{
    basic::{
        BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
        BasicTokenType,
    },
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    providers::{self, Kind, Provider},
    upstream::UpstreamUser,
    SocialError,
};
use crate::{
    domain::{error::AccountError, settings, tokens::same_secret},
    state::AppState,
};

/// How long the provider may take to send the person back.
const FLOW_LIFETIME_SECS: i64 = 600;
const SESSION_KEY: &str = "social_flow";

/// What the flow is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purpose {
    /// Sign in or sign up.
    SignIn,
    /// Link the provider to the signed-in account.
    Link(Uuid),
}

/// The flow in progress, kept in the (server-side) session of the browser that started it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct InFlight {
    provider: String,
    state: String,
    nonce: String,
    verifier: String,
    purpose: Purpose,
    started_at: i64,
}

/// The token response, with OpenID Connect's `id_token`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}
impl ExtraTokenFields for IdTokenField {}

type Tokens = StandardTokenResponse<IdTokenField, BasicTokenType>;
type Client = oauth2::Client<
    BasicErrorResponse,
    Tokens,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The two endpoints of the code flow.
struct Endpoints {
    authorize: String,
    token: String,
    discovery: Option<super::upstream::Discovery>,
}

async fn endpoints(state: &AppState, provider: &Provider) -> Result<Endpoints, SocialError> {
    match (&provider.issuer, provider.kind) {
        (Some(issuer), kind) if kind.is_oidc() => {
            let doc = state.upstream.discover(issuer).await?;
            Ok(Endpoints {
                authorize: doc.authorization_endpoint.clone(),
                token: doc.token_endpoint.clone(),
                discovery: Some(doc),
            })
        }
        (_, Kind::Github) => Ok(Endpoints {
            authorize: "https://github.com/login/oauth/authorize".into(),
            token: "https://github.com/login/oauth/access_token".into(),
            discovery: None,
        }),
        _ => Err(SocialError::Unavailable),
    }
}

/// Where the provider sends the person back to.
pub fn callback_url(state: &AppState, provider_id: &str) -> String {
    format!(
        "{}/signin/social/{provider_id}/callback",
        state.settings.public_url
    )
}

fn client(
    state: &AppState,
    provider: &Provider,
    endpoints: &Endpoints,
) -> Result<Client, SocialError> {
    let bad = |e: url::ParseError| {
        tracing::error!(provider = %provider.id, error = %e, "provider endpoint is not a URL");
        SocialError::Unavailable
    };
    let mut client = oauth2::Client::new(ClientId::new(provider.client_id.clone()))
        .set_auth_uri(AuthUrl::new(endpoints.authorize.clone()).map_err(bad)?)
        .set_token_uri(TokenUrl::new(endpoints.token.clone()).map_err(bad)?)
        .set_redirect_uri(RedirectUrl::new(callback_url(state, &provider.id)).map_err(bad)?);
    if let Some(secret) = &provider.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.clone()));
    }
    Ok(client)
}

async fn enabled_provider(state: &AppState, provider_id: &str) -> Result<Provider, AccountError> {
    if !settings::current(state).await?.social_enabled {
        return Err(SocialError::Unavailable.into());
    }
    providers::load_enabled(&state.db, &state.secrets, provider_id)
        .await?
        .ok_or_else(|| SocialError::Unavailable.into())
}

/// Starts a flow: remembers it in the session and returns the provider URL to send the
/// browser to.
pub async fn start(
    state: &AppState,
    session: &Session,
    provider_id: &str,
    purpose: Purpose,
) -> Result<String, AccountError> {
    let provider = enabled_provider(state, provider_id).await?;
    let endpoints = endpoints(state, &provider).await?;
    let client = client(state, &provider, &endpoints)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let nonce = CsrfToken::new_random();
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(provider.scopes.iter().cloned().map(Scope::new))
        .set_pkce_challenge(challenge);
    if provider.kind.is_oidc() {
        request = request.add_extra_param("nonce", nonce.secret().clone());
    }
    if provider.kind == Kind::Apple {
        // Apple sends the email scope's answer only as a form post.
        request = request.add_extra_param("response_mode", "form_post");
    }
    let (url, csrf) = request.url();
    let flight = InFlight {
        provider: provider.id,
        state: csrf.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
        purpose,
        started_at: OffsetDateTime::now_utc().unix_timestamp(),
    };
    session.insert(SESSION_KEY, flight).await?;
    Ok(url.to_string())
}

/// What the provider sent back to the callback.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// Ends the flow of this browser: checks `state`, exchanges the code and verifies who signed
/// in. The flow is used up whatever the outcome.
pub async fn finish(
    state: &AppState,
    session: &Session,
    provider_id: &str,
    params: &CallbackParams,
) -> Result<(Provider, Purpose, UpstreamUser), AccountError> {
    let flight: Option<InFlight> = session.remove(SESSION_KEY).await?;
    let Some(flight) = flight else {
        return Err(SocialError::Expired.into());
    };
    let age = OffsetDateTime::now_utc().unix_timestamp() - flight.started_at;
    let state_ok = params
        .state
        .as_deref()
        .is_some_and(|s| same_secret(s, &flight.state));
    if flight.provider != provider_id || !state_ok || !(0..=FLOW_LIFETIME_SECS).contains(&age) {
        return Err(SocialError::Expired.into());
    }
    if let Some(error) = &params.error {
        tracing::info!(provider = %provider_id, %error, "the provider refused the sign-in");
        return Err(SocialError::Cancelled.into());
    }
    let Some(code) = params.code.as_deref().filter(|c| !c.is_empty()) else {
        return Err(SocialError::Cancelled.into());
    };
    let provider = enabled_provider(state, provider_id).await?;
    let endpoints = endpoints(state, &provider).await?;
    let client = client(state, &provider, &endpoints)?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(flight.verifier.clone()))
        .request_async(&state.upstream.http)
        .await
        .map_err(|e| {
            tracing::warn!(provider = %provider.id, error = ?e, "code exchange failed");
            match e {
                RequestTokenError::ServerResponse(_) | RequestTokenError::Parse(..) => {
                    SocialError::Unverified
                }
                _ => SocialError::Unreachable,
            }
        })?;
    let user = match &endpoints.discovery {
        Some(discovery) => {
            let id_token = tokens.extra_fields().id_token.as_deref().ok_or_else(|| {
                tracing::warn!(provider = %provider.id, "no ID token in the token response");
                SocialError::Unverified
            })?;
            let issuer = provider.issuer.as_deref().unwrap_or_default();
            // Microsoft's multi-tenant issuers name the tenant as a template.
            let expected = if discovery.issuer.contains("{tenantid}") {
                discovery.issuer.as_str()
            } else {
                issuer
            };
            let person = state
                .upstream
                .validate_id_token(
                    id_token,
                    discovery,
                    expected,
                    &provider.client_id,
                    &flight.nonce,
                )
                .await?;
            state
                .upstream
                .complete_from_userinfo(discovery, tokens.access_token().secret(), person)
                .await?
        }
        None => {
            state
                .upstream
                .github_user(tokens.access_token().secret())
                .await?
        }
    };
    Ok((provider, flight.purpose, user))
}
