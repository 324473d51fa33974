//! The one error type every server function returns, shared by server and browser.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// What a caller of the API may learn about a failure. Internals never cross this line: the
/// server logs them and the caller sees [`AppError::Internal`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// One form field is wrong; `field` is the input's name.
    #[error("{message}")]
    Field { field: String, message: String },
    /// The request as a whole is refused, with a message safe to show.
    #[error("{0}")]
    Refused(String),
    /// Sign-in failed; deliberately silent on which part was wrong.
    #[error("Incorrect email or password.")]
    InvalidCredentials,
    /// Too many failed attempts; the caller may retry after the given minutes.
    #[error("Too many failed attempts. Try again in {minutes} minute{}.", if *minutes == 1 { "" } else { "s" })]
    Throttled { minutes: i64 },
    /// The caller's network is trying many passwords: the browser must solve a proof of work
    /// first (the page does so by itself when JavaScript is on).
    #[error("Many failed sign-ins are coming from your network, so your browser must pass a quick check first. With JavaScript on it does so by itself: wait a moment, then sign in again.")]
    ProofOfWork,
    /// The account is locked until its owner resets the password; the message says so.
    #[error("{0}")]
    Locked(String),
    /// The email address must be verified first.
    #[error("Please verify your email address first. We can send you a new link.")]
    EmailNotVerified,
    /// A sensitive change needs a recent second factor (or a recent sign-in): the page offers
    /// a link that asks for it and comes back.
    #[error("For your security, confirm it's you first.")]
    StepUp,
    /// The caller must be signed in.
    #[error("Please sign in to continue.")]
    Unauthorized,
    /// The caller is signed in but not allowed to do this.
    #[error("You are not allowed to do that.")]
    Forbidden,
    /// There is no such thing here (a development page outside development).
    #[error("There is nothing here.")]
    NotFound,
    /// The request did not have the shape the endpoint expects.
    #[error("The request was incomplete or malformed: {0}")]
    BadRequest(String),
    /// Too many requests are being served right now; the caller may retry in a moment (the
    /// answer carries `Retry-After`).
    #[error("We are very busy right now. Please try again in a moment.")]
    Busy,
    /// The database cannot be reached right now (a restart, a failover); the caller may retry
    /// in a moment (the answer carries `Retry-After`).
    #[error("The service is briefly unavailable. Please try again in a moment.")]
    Unavailable,
    /// Something failed on our side; details are in the server log.
    #[error("An internal error occurred. Please try again.")]
    Internal,
}

impl AppError {
    /// Convenience constructor for a field error.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Field {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The message for `field`, when this error is about that field.
    pub fn for_field(&self, name: &str) -> Option<String> {
        match self {
            Self::Field { field, message } if field == name => Some(message.clone()),
            _ => None,
        }
    }

    /// The message for the form as a whole (everything that is not a field error).
    pub fn form_message(&self) -> Option<String> {
        match self {
            Self::Field { .. } => None,
            other => Some(other.to_string()),
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::Field { .. } => 422,
            Self::Refused(_) | Self::BadRequest(_) => 400,
            Self::InvalidCredentials | Self::Unauthorized => 401,
            Self::EmailNotVerified | Self::Forbidden | Self::Locked(_) | Self::StepUp => 403,
            Self::NotFound => 404,
            Self::Throttled { .. } | Self::ProofOfWork => 429,
            Self::Internal => 500,
            Self::Busy | Self::Unavailable => 503,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // What a malformed request gets from the framework on the server (arguments that do
            // not parse, missing, of another encoding or method): the caller's mistake, not ours.
            ServerFnErrorErr::Args(msg)
            | ServerFnErrorErr::MissingArg(msg)
            | ServerFnErrorErr::Deserialization(msg)
            | ServerFnErrorErr::UnsupportedRequestMethod(msg) => Self::BadRequest(msg),
            ServerFnErrorErr::Request(_) => {
                Self::Refused("The server could not be reached. Check your connection.".into())
            }
            _ => Self::Internal,
        }
    }
}
