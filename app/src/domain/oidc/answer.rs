//! How the authorization endpoint answers an app at its registered redirect URI: the code or an
//! error with `state` and `iss`, in the query or as a self-posting form (`response_mode`).

use serde::{Deserialize, Serialize};
use url::Url;

/// How an answer travels to the app: in the redirect URI's query (RFC 6749 §4.1.2), or as a
/// form the browser posts to it (OAuth 2.0 Form Post Response Mode §2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    #[default]
    Query,
    FormPost,
}

/// An answer for the app at its redirect URI: the code or an error (RFC 6749 §4.1.2 and
/// §4.1.2.1), `state`, and `iss` (RFC 9207), and how they travel. The server turns it into a
/// redirect or a self-posting form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The registered redirect URI, exactly as registered.
    pub redirect_uri: String,
    /// Every parameter, `state` and `iss` included, in order.
    pub params: Vec<(String, String)>,
    pub mode: ResponseMode,
}

impl Answer {
    /// `pairs`, then `state` and `iss`, for `redirect_uri`.
    pub fn new(
        issuer: &str,
        redirect_uri: &str,
        state: Option<&str>,
        mode: ResponseMode,
        pairs: &[(&str, &str)],
    ) -> Self {
        let mut params: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if let Some(state) = state {
            params.push(("state".to_owned(), state.to_owned()));
        }
        params.push(("iss".to_owned(), issuer.to_owned()));
        Self {
            redirect_uri: redirect_uri.to_owned(),
            params,
            mode,
        }
    }

    /// The redirect URI with the parameters added to its query (`response_mode=query`).
    pub fn query_url(&self) -> String {
        let mut url =
            Url::parse(&self.redirect_uri).expect("registered redirect URIs are valid URLs");
        {
            let mut query = url.query_pairs_mut();
            for (k, v) in &self.params {
                query.append_pair(k, v);
            }
        }
        url.to_string()
    }
}

/// The mode `response_mode` asks for, or why it cannot be had: only `query` and `form_post`,
/// and a form is posted only to a web address.
pub(super) fn response_mode(
    value: Option<&str>,
    redirect_uri: &str,
) -> Result<ResponseMode, &'static str> {
    let web = Url::parse(redirect_uri).is_ok_and(|u| matches!(u.scheme(), "https" | "http"));
    match value.unwrap_or_default() {
        "" | "query" => Ok(ResponseMode::Query),
        "form_post" if web => Ok(ResponseMode::FormPost),
        "form_post" => Err("response_mode=form_post needs an https or loopback http redirect URI."),
        _ => Err("response_mode must be query or form_post."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_keep_the_registered_query_and_add_state_and_issuer() {
        let answer = Answer::new(
            "https://id.example.com",
            "https://app.example/cb?tenant=7",
            Some("xyz"),
            ResponseMode::Query,
            &[("code", "abc")],
        );
        assert_eq!(
            answer.query_url(),
            "https://app.example/cb?tenant=7&code=abc&state=xyz&iss=https%3A%2F%2Fid.example.com"
        );
    }

    #[test]
    fn response_modes_are_query_or_a_form_posted_to_a_web_address() {
        let web = "https://app.example/cb";
        assert_eq!(response_mode(None, web), Ok(ResponseMode::Query));
        assert_eq!(response_mode(Some("query"), web), Ok(ResponseMode::Query));
        assert_eq!(
            response_mode(Some("form_post"), web),
            Ok(ResponseMode::FormPost)
        );
        assert!(response_mode(Some("fragment"), web).is_err());
        assert!(response_mode(Some("form_post"), "com.example.app:/cb").is_err());
    }
}
