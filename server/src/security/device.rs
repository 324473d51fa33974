//! The browser's device cookie: a random value given to every browser once and kept for 400
//! days (the longest browsers allow), so a sign-in can tell a device it has seen from a new one
//! and a remembered device can skip the second step. It names no one; the rows that bind it to
//! an account live with the account.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use http::{header, HeaderValue};

use app::domain::{client::DeviceCookie, tokens::random_token};

/// How the cookie is set: `__Host-` prefixed and `Secure` on an https site.
#[derive(Debug, Clone, Copy)]
pub struct DevicePolicy {
    pub https: bool,
}

impl DevicePolicy {
    fn name(self) -> &'static str {
        if self.https {
            "__Host-device"
        } else {
            "device"
        }
    }
}

/// 400 days, in seconds.
const MAX_AGE_SECS: u64 = 400 * 24 * 3600;

/// A value this server could have given: 43 base64url characters.
fn well_formed(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The device cookie named `name` in the request's `Cookie` headers.
fn read(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| well_formed(v))
}

/// Puts the browser's device cookie on the request (a new one when it has none), and sets a
/// new one on the response.
pub async fn device_cookie(
    State(policy): State<DevicePolicy>,
    mut request: Request,
    next: Next,
) -> Response {
    let existing = read(&request, policy.name());
    let value = existing.clone().unwrap_or_else(random_token);
    request.extensions_mut().insert(DeviceCookie(value.clone()));
    let mut response = next.run(request).await;
    if existing.is_none() {
        let secure = if policy.https { "; Secure" } else { "" };
        let cookie = format!(
            "{}={value}; Max-Age={MAX_AGE_SECS}; Path=/; HttpOnly; SameSite=Lax{secure}",
            policy.name()
        );
        if let Ok(cookie) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(cookie: &str) -> Request {
        Request::builder()
            .header(header::COOKIE, cookie)
            .body(axum::body::Body::empty())
            .unwrap()
    }

    #[test]
    fn reads_only_a_well_formed_cookie_of_its_name() {
        let good = random_token();
        let r = request(&format!("session=abc; device={good}"));
        assert_eq!(read(&r, "device"), Some(good.clone()));
        assert_eq!(read(&r, "__Host-device"), None);
        assert_eq!(read(&request("device=short"), "device"), None);
        assert_eq!(
            read(
                &request(&format!("device={}", "a".repeat(42) + "!")),
                "device"
            ),
            None
        );
    }
}
