//! Drops the form-error parameters (`__path`, `__err`) from a page address unless the browser
//! got there from one of this site's own forms, so a crafted link cannot put words of its
//! choosing into the site's error messages.

use axum::{
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use http::Method;

fn is_form_error_param(pair: &str) -> bool {
    pair.starts_with("__err=") || pair.starts_with("__path=")
}

/// The address without the form-error parameters, when it has any.
pub fn without_form_errors(path: &str, query: Option<&str>) -> Option<String> {
    let query = query?;
    if !query.split('&').any(is_form_error_param) {
        return None;
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && !is_form_error_param(pair))
        .collect();
    Some(if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    })
}

pub async fn strip_foreign_form_errors(request: Request, next: Next) -> Response {
    if request.method() == Method::GET {
        let same_origin = request
            .headers()
            .get("sec-fetch-site")
            .is_some_and(|v| v == "same-origin");
        if !same_origin {
            if let Some(clean) = without_form_errors(request.uri().path(), request.uri().query()) {
                return Redirect::to(&clean).into_response();
            }
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_error_parameters_are_removed_and_others_kept() {
        assert_eq!(
            without_form_errors(
                "/signin",
                Some("verified=1&__path=%2Fapi%2Fsign-in&__err=eyJ9")
            ),
            Some("/signin?verified=1".into())
        );
        assert_eq!(
            without_form_errors("/signin", Some("__path=x&__err=y")),
            Some("/signin".into())
        );
        assert_eq!(without_form_errors("/signin", Some("verified=1")), None);
        assert_eq!(without_form_errors("/signin", None), None);
    }
}
