//! Cross-cutting HTTP protections: security headers with a CSP nonce, the same-origin check on
//! state changes, API error statuses, and form errors only from the site's own forms.

pub mod api_status;
pub mod form_errors;
pub mod headers;
pub mod origin;
