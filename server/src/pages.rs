//! The few pages the server writes itself: a page that sends the browser on to another site by
//! a refresh. After a form post, a redirect to another origin would be stopped by the CSP's
//! `form-action 'self'`; a refresh is a new navigation, which it does not govern.

use axum::response::Html;

/// `s` safe inside an HTML attribute or text.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A page titled `title` saying `message` that goes on to `to` after `delay` seconds, with
/// `extra` (already escaped HTML) in its body.
pub fn refresh_to(to: &str, delay: u32, title: &str, message: &str, extra: &str) -> Html<String> {
    let to = escape(to);
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{delay};url={to}\"><title>{title}</title></head>\
         <body><p>{message} <a href=\"{to}\">Continue</a></p>{extra}</body></html>",
        title = escape(title),
        message = escape(message),
    ))
}
