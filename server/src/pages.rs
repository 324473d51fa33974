//! The few pages the server writes itself: a page that sends the browser on to another site by
//! a refresh, and one that posts a form to another site. After a form post, a redirect to
//! another origin would be stopped by the CSP's `form-action 'self'`; a refresh is a new
//! navigation, which it does not govern. A page that posts elsewhere needs its response to
//! widen `form-action` to exactly that origin (`security::headers::FormTargets`).

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

/// A page titled `title` saying `message` that posts `fields` to `action` at once: a script
/// carrying the request's CSP `nonce` submits the form, and without JavaScript its button does.
pub fn post_to(
    action: &str,
    fields: &[(String, String)],
    nonce: Option<&str>,
    title: &str,
    message: &str,
) -> Html<String> {
    let inputs: String = fields
        .iter()
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(name),
                escape(value)
            )
        })
        .collect();
    let script = nonce.map_or_else(String::new, |nonce| {
        format!(
            "<script nonce=\"{}\">document.forms[0].submit();</script>",
            escape(nonce)
        )
    });
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         </head><body><form method=\"post\" action=\"{action}\">{inputs}<p>{message} \
         <button type=\"submit\">Continue</button></p></form>{script}</body></html>",
        action = escape(action),
        title = escape(title),
        message = escape(message),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posted_values_are_escaped() {
        let page = post_to(
            "https://app.example/cb?a=1&b=2",
            &[("state".into(), "\"><script>alert(1)</script>".into())],
            Some("n0nce"),
            "Back to the app",
            "Returning you to the app.",
        )
        .0;
        assert!(page.contains("action=\"https://app.example/cb?a=1&amp;b=2\""));
        assert!(page.contains("value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""));
        assert!(page.contains("<script nonce=\"n0nce\">"));
        assert!(!page.contains("style="));
    }
}
