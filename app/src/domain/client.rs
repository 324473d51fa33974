//! `ClientInfo`: who is on the other end of a request (address, network, user agent and the
//! browser's device cookie), for audit, throttling and recognising devices. The address is the
//! one the server resolved through the trusted proxies (see `client_address`), else the TCP
//! peer.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use http::{header::USER_AGENT, request::Parts};

use super::{
    client_address::{network_of, ClientAddress},
    preferences::Reading,
};

/// The browser's device cookie: a random value the server gives every browser once (see the
/// server's `security::device`), so a sign-in can tell a device it has seen from a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCookie(pub String);

/// The partner app whose sign-in flow the browser is in (the app of the newest authorization
/// request waiting in its session), as the server's middleware found it: the pages and mail
/// of that flow wear the app's brand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowApp(pub String);

/// The calling client as the server sees it.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The browser's device cookie, when the request came through the site.
    pub device: Option<String>,
    /// The partner app whose sign-in flow the browser is in, if any.
    pub app: Option<String>,
    /// The language and time zone the server chose for this request (see `preferences`).
    pub reading: Reading,
}

impl ClientInfo {
    const MAX_USER_AGENT: usize = 512;

    /// Reads the client address (as resolved through the trusted proxies, else the peer the
    /// listener saw) and the User-Agent header.
    pub fn from_parts(parts: &Parts) -> Self {
        let ip = match parts.extensions.get::<ClientAddress>() {
            Some(resolved) => Some(resolved.ip.to_string()),
            None => parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip().to_string()),
        };
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(Self::MAX_USER_AGENT).collect());
        let device = parts
            .extensions
            .get::<DeviceCookie>()
            .map(|DeviceCookie(value)| value.clone());
        let app = parts
            .extensions
            .get::<FlowApp>()
            .map(|FlowApp(client_id)| client_id.clone());
        let reading = parts
            .extensions
            .get::<Reading>()
            .cloned()
            .unwrap_or_default();
        Self {
            ip,
            user_agent,
            device,
            app,
            reading,
        }
    }

    /// The client's network (its /24 or /64), which throttles count per.
    pub fn network(&self) -> Option<String> {
        self.ip.as_deref().and_then(network_of)
    }
}

/// A person-readable name for the device behind `user_agent`: "Firefox on Linux", read with
/// the woothee parser (browser and system, with the system's version when it names one).
pub fn device_summary(user_agent: Option<&str>) -> String {
    const UNKNOWN: &str = "UNKNOWN";
    let Some(parsed) = user_agent.and_then(|ua| woothee::parser::Parser::new().parse(ua)) else {
        return "an unknown device".into();
    };
    let browser = match parsed.name {
        UNKNOWN | "" => "a browser",
        name => name,
    };
    // woothee's own spelling of Apple's desktop system.
    let os = if parsed.os == "Mac OSX" {
        "macOS"
    } else {
        parsed.os
    };
    let system = match (os, parsed.os_version.as_ref()) {
        (UNKNOWN | "", _) => "an unknown system".to_owned(),
        (os, UNKNOWN | "") => os.to_owned(),
        // woothee names Windows by release ("Windows 10") and reports the NT version beside it.
        (os, _) if os.starts_with("Windows") => os.to_owned(),
        (os, version) => format!("{os} {version}"),
    };
    format!("{browser} on {system}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_named_by_browser_and_system() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(device_summary(Some(firefox)), "Firefox on Linux");
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
        assert_eq!(device_summary(Some(chrome)), "Chrome on Windows 10");
        let mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";
        assert_eq!(device_summary(Some(mac)), "Safari on macOS 10.15.7");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(device_summary(Some(iphone)), "Safari on iPhone 17.5");
        assert_eq!(device_summary(None), "an unknown device");
    }
}
