//! Cross-cutting HTTP protections: the client's real address behind trusted proxies, the
//! browser's device cookie, control characters refused at the boundary, security headers with a CSP nonce, the same-origin check
//! on state changes, API error statuses, and form errors only from the site's own forms.

pub mod api_status;
pub mod client_address;
pub mod device;
pub mod form_errors;
pub mod headers;
pub mod input;
pub mod origin;

/// Largest request body accepted (forms are small).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
