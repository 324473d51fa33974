//! Cross-cutting HTTP protections: security headers with a CSP nonce, the same-origin check on
//! state changes, and API error statuses.

pub mod api_status;
pub mod headers;
pub mod origin;
