//! `ClientInfo`: who is on the other end of a request (address and user agent), for audit and
//! throttling.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use http::{header::USER_AGENT, request::Parts};

/// The calling client as the server sees it.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl ClientInfo {
    const MAX_USER_AGENT: usize = 512;

    /// Reads the peer address (set by the listener) and the User-Agent header.
    pub fn from_parts(parts: &Parts) -> Self {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(Self::MAX_USER_AGENT).collect());
        Self { ip, user_agent }
    }
}
