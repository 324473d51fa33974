//! Resolves who the client is for every request: the TCP peer, or, when the peer is one of
//! `CIAM_TRUSTED_PROXIES`, the address its forwarding headers name (see
//! `app::domain::client_address`). Throttling, the audit trail and the risk rules all read the
//! result, so one attacker behind a shared proxy locks out only themselves. The scheme comes
//! from the same trusted headers: a site served over https that a trusted proxy says was
//! reached over plain http sends reads to https and refuses anything else.

use std::{net::SocketAddr, sync::Arc};

use app::domain::client_address::TrustedProxies;
use axum::{
    extract::{ConnectInfo, Request, State},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use http::{Method, StatusCode};

/// What the middleware needs: the trusted proxies, and the https origin when the site has one.
#[derive(Debug, Clone)]
pub struct ClientAddressPolicy {
    pub proxies: Arc<TrustedProxies>,
    pub https_origin: Option<Arc<str>>,
}

pub async fn resolve_client_address(
    State(policy): State<ClientAddressPolicy>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let Some(peer) = peer else {
        return next.run(request).await;
    };
    let resolved = policy.proxies.resolve(peer, request.headers());
    if let (Some(origin), Some("http")) =
        (&policy.https_origin, resolved.forwarded_scheme.as_deref())
    {
        if matches!(*request.method(), Method::GET | Method::HEAD) {
            let path = request
                .uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned();
            return Redirect::permanent(&format!("{origin}{path}")).into_response();
        }
        return (
            StatusCode::BAD_REQUEST,
            "This site only accepts requests over https.",
        )
            .into_response();
    }
    request.extensions_mut().insert(resolved);
    next.run(request).await
}
