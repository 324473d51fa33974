//! Signed request objects (RFC 9101, JWT-Secured Authorization Request): an app that registered
//! public keys may send its authorization request as a JWT in `request`, at the authorization
//! endpoint or pushed to `/oauth2/par` (RFC 9126 §3). The object must be signed by one of the
//! app's keys (never `none`, never a shared-secret HMAC), be issued by the app, addressed to this
//! provider and live at most 60 minutes (FAPI 2.0); its claims are then the whole request
//! (RFC 9101 §6.3). A `request_uri` this provider did not hand out is never fetched.

use jsonwebtoken::Validation;
use serde_json::Value;
use time::OffsetDateTime;

use super::{
    answer::{Answer, ResponseMode},
    assertion,
    authorize::AuthorizeParams,
    clients::Client,
    error::TokenError,
    par,
};
use crate::{domain::error::AccountError, state::AppState};

/// The error of a request object that is not accepted (RFC 9101 §6.2).
const INVALID: &str = "invalid_request_object";
/// A request object may not be valid for longer than this after its `nbf` (or `iat`).
const MAX_LIFETIME_SECS: i64 = 3600;
/// Clock skew allowed on `exp`, `nbf` and `iat`.
const LEEWAY_SECS: i64 = 30;
/// The media types a request object's `typ` may name (RFC 9101 §4, §10.8).
const TYPES: [&str; 2] = ["oauth-authz-req+jwt", "application/oauth-authz-req+jwt"];

/// Why a request object (or a `request_uri`) was refused: the error (RFC 9101 §7:
/// `invalid_request_object`, `request_uri_not_supported`, or `invalid_request`), and where the
/// app may be told, if anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestObjectError {
    pub error: &'static str,
    pub description: &'static str,
    /// A redirect URI registered for the app and the `state` to echo there, when the request
    /// names one; otherwise the error is shown on our own page.
    reply_to: Option<(String, Option<String>)>,
}

impl RequestObjectError {
    /// The redirect that tells the app (RFC 6749 §4.1.2.1, with `iss` of RFC 9207), or `None`
    /// when the client or the redirect URI cannot be trusted: then our own error page says it.
    pub fn app_redirect(&self, issuer: &str) -> Option<Answer> {
        let (redirect_uri, state) = self.reply_to.as_ref()?;
        Some(Answer::new(
            issuer,
            redirect_uri,
            state.as_deref(),
            ResponseMode::Query,
            &[
                ("error", self.error),
                ("error_description", self.description),
            ],
        ))
    }
}

/// At the pushed authorization request endpoint the error is JSON (RFC 9126 §2.3).
impl From<RequestObjectError> for TokenError {
    fn from(e: RequestObjectError) -> Self {
        TokenError::Refused {
            error: e.error,
            description: e.description,
        }
    }
}

/// A refusal before the app is told: the claims, when the app's own key signed them.
struct Failure {
    error: &'static str,
    description: &'static str,
    signed: Option<Value>,
}

impl Failure {
    fn new(error: &'static str, description: &'static str) -> Self {
        Self {
            error,
            description,
            signed: None,
        }
    }
}

/// For an authorization request that carries a request object (`request`), the parameters its
/// claims hold, or why it is refused; the same refusal for a `request_uri` this provider did
/// not hand out. `None` when the request has neither (its parameters are its own, or a pushed
/// request's reference that `par::take` resolves).
pub async fn unpack(
    state: &AppState,
    outer: &AuthorizeParams,
) -> Result<Option<Result<AuthorizeParams, RequestObjectError>>, AccountError> {
    let by_reference = outer
        .request_uri
        .as_deref()
        .is_some_and(|uri| !par::is_ours(uri));
    if outer.request.is_none() && !by_reference {
        return Ok(None);
    }
    let client = match outer.client_id.as_deref().filter(|id| !id.is_empty()) {
        Some(id) => state.clients.get(&state.db, id).await?,
        None => None,
    };
    let issuer = state.settings.public_url.as_str();
    let failure = match outer.request.as_deref() {
        Some(_) if outer.request_uri.is_some() => Failure::new(
            "invalid_request",
            "Send either request or request_uri, not both (RFC 9101 §5).",
        ),
        None => Failure::new(
            "request_uri_not_supported",
            "Only a request_uri from this provider's /oauth2/par is accepted.",
        ),
        Some(jwt) => match open(issuer, client.as_deref(), jwt) {
            Ok(inner) => return Ok(Some(Ok(inner))),
            Err(failure) => failure,
        },
    };
    Ok(Some(Err(RequestObjectError {
        error: failure.error,
        description: failure.description,
        reply_to: reply_to(client.as_deref(), outer, failure.signed.as_ref()),
    })))
}

/// Where an error may go (RFC 6749 §4.1.2.1: only to a redirect URI registered for a known app):
/// the redirect URI the app's own key signed, else the one the request itself names.
fn reply_to(
    client: Option<&Client>,
    outer: &AuthorizeParams,
    signed: Option<&Value>,
) -> Option<(String, Option<String>)> {
    let client = client.filter(|c| c.allows_grant("authorization_code"))?;
    let registered = |uri: &&str| client.redirect_uris.iter().any(|r| r == uri);
    if let Some(claims) = signed {
        if let Some(uri) = claims["redirect_uri"].as_str().filter(registered) {
            let state = claims["state"].as_str().map(str::to_owned);
            return Some((uri.to_owned(), state));
        }
    }
    outer
        .redirect_uri
        .as_deref()
        .filter(registered)
        .map(|uri| (uri.to_owned(), outer.state.clone()))
}

/// A check of the signature alone: the claims are checked in [`open`], each with its own
/// error description.
fn signature_only() -> Validation {
    let mut validation = Validation::default();
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation
}

/// Verifies request object `jwt` of `client` (the request's `client_id`) and reads the
/// authorization parameters from its claims (RFC 9101 §6).
fn open(issuer: &str, client: Option<&Client>, jwt: &str) -> Result<AuthorizeParams, Failure> {
    let invalid = |description| Failure::new(INVALID, description);
    let Some(client) = client else {
        return Err(invalid(
            "A request object needs the client_id of a registered app.",
        ));
    };
    let Some(jwks) = &client.jwks else {
        return Err(invalid(
            "This app has registered no keys to sign request objects with.",
        ));
    };
    let Ok(header) = jsonwebtoken::decode_header(jwt) else {
        return Err(invalid(
            "The request object is not a signed JWT (RFC 9101 §4).",
        ));
    };
    if !assertion::allowed(header.alg) {
        return Err(invalid(
            "The request object's alg is not one of request_object_signing_alg_values_supported.",
        ));
    }
    if let Some(typ) = &header.typ {
        if !TYPES.iter().any(|t| t.eq_ignore_ascii_case(typ)) {
            return Err(invalid(
                "The request object's typ must be oauth-authz-req+jwt (RFC 9101 §10.8).",
            ));
        }
    }
    let Some((_, claims)) = assertion::verified_claims(jwt, jwks, signature_only()) else {
        return Err(invalid(
            "The request object's signature does not verify with the app's registered keys.",
        ));
    };
    let signed = |description| Failure {
        error: INVALID,
        description,
        signed: Some(claims.clone()),
    };
    if claims["iss"].as_str() != Some(client.id.as_str()) {
        return Err(signed(
            "The request object's iss must be the app's client_id.",
        ));
    }
    let addressed = match &claims["aud"] {
        Value::String(aud) => aud == issuer,
        Value::Array(auds) => auds.iter().any(|aud| aud.as_str() == Some(issuer)),
        _ => false,
    };
    if !addressed {
        return Err(signed(
            "The request object's aud must be this provider's issuer.",
        ));
    }
    check_times(&claims).map_err(signed)?;
    if claims
        .get("client_id")
        .is_some_and(|id| id.as_str() != Some(client.id.as_str()))
    {
        return Err(signed(
            "The request object's client_id differs from the request's (RFC 9101 §5).",
        ));
    }
    if claims.get("request").is_some() || claims.get("request_uri").is_some() {
        return Err(signed(
            "A request object cannot carry request or request_uri (RFC 9101 §4).",
        ));
    }
    let not_text = "Each authorization parameter in a request object must be a string.";
    let text = |name: &str| match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(signed(not_text)),
    };
    let max_age = match claims.get("max_age") {
        None | Some(Value::Null) => None,
        Some(Value::Number(seconds)) => Some(seconds.to_string()),
        Some(Value::String(seconds)) => Some(seconds.clone()),
        Some(_) => return Err(signed("max_age must be a number of seconds.")),
    };
    Ok(AuthorizeParams {
        response_type: text("response_type")?,
        client_id: Some(client.id.clone()),
        redirect_uri: text("redirect_uri")?,
        scope: text("scope")?,
        state: text("state")?,
        nonce: text("nonce")?,
        code_challenge: text("code_challenge")?,
        code_challenge_method: text("code_challenge_method")?,
        prompt: text("prompt")?,
        max_age,
        acr_values: text("acr_values")?,
        id_token_hint: text("id_token_hint")?,
        login_hint: text("login_hint")?,
        ui_locales: text("ui_locales")?,
        response_mode: text("response_mode")?,
        dpop_jkt: text("dpop_jkt")?,
        ..Default::default()
    })
}

/// `exp` present and not past, `nbf` and `iat` (when sent) not in the future, and at most
/// 60 minutes from `nbf` (or else `iat`, or else now) to `exp` (FAPI 2.0 Message Signing).
fn check_times(claims: &Value) -> Result<(), &'static str> {
    let time = |name: &str| match claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_f64()
            .filter(|t| t.is_finite())
            .map(|t| Some(t as i64))
            .ok_or("The request object's exp, nbf and iat must be numeric dates."),
    };
    let (exp, nbf, iat) = (time("exp")?, time("nbf")?, time("iat")?);
    let Some(exp) = exp else {
        return Err("The request object must carry exp.");
    };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    if exp < now - LEEWAY_SECS {
        return Err("The request object has expired.");
    }
    if [nbf, iat]
        .into_iter()
        .flatten()
        .any(|t| t > now + LEEWAY_SECS)
    {
        return Err("The request object is not valid yet.");
    }
    if exp - nbf.or(iat).unwrap_or(now) > MAX_LIFETIME_SECS {
        return Err("A request object may be valid for at most 60 minutes.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn now() -> i64 {
        OffsetDateTime::now_utc().unix_timestamp()
    }

    #[test]
    fn a_request_object_lives_at_most_an_hour_and_not_in_the_future() {
        let n = now();
        assert_eq!(check_times(&json!({ "exp": n + 300, "nbf": n })), Ok(()));
        assert_eq!(check_times(&json!({ "exp": n + 300 })), Ok(()));
        assert_eq!(
            check_times(&json!({ "exp": n as f64 + 3000.5, "iat": n - 60 })),
            Ok(())
        );
        for bad in [
            json!({ "nbf": n }),
            json!({ "exp": "soon" }),
            json!({ "exp": n - 120, "nbf": n - 600 }),
            json!({ "exp": n + 7200, "nbf": n }),
            json!({ "exp": n + 7200 }),
            json!({ "exp": n + 300, "iat": n + 3600 }),
            json!({ "exp": n + 300, "nbf": n, "iat": "now" }),
        ] {
            assert!(check_times(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_error_goes_to_the_app_only_with_a_redirect_uri() {
        let mut error = RequestObjectError {
            error: INVALID,
            description: "Bad.",
            reply_to: None,
        };
        assert_eq!(error.app_redirect("https://id.example.com"), None);
        error.reply_to = Some(("https://app.example/cb".into(), Some("s".into())));
        let url = error
            .app_redirect("https://id.example.com")
            .unwrap()
            .query_url();
        assert!(url.starts_with("https://app.example/cb?error=invalid_request_object"));
        assert!(url.contains("state=s"));
        assert_eq!(
            TokenError::from(error).body()["error"],
            "invalid_request_object"
        );
    }
}
