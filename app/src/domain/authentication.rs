//! The one exit of every sign-in: where a first factor, proven by any of the sign-in paths
//! (password, email link or code, SMS code, passkey, social, password reset), becomes a
//! signed-in session. It applies the account policy that holds for every path (a verified
//! address when the business requires one), records how the person authenticated (method, time
//! and RFC 8176 `amr` values) and audits the sign-in. The MFA and risk decisions belong here.

use serde_json::json;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    audit::{self, AuditEvent, Outcome},
    client::ClientInfo,
    error::AccountError,
    sessions, settings, users,
};
use crate::state::AppState;

/// How a person proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Password,
    EmailLink,
    EmailCode,
    SmsCode,
    Passkey,
    /// An upstream identity provider (OpenID Connect or OAuth 2.0).
    Social,
    /// A mailed reset link, then a new password.
    PasswordReset,
}

impl Method {
    /// The name the session, the audit trail and the risk rules use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::EmailLink => "email_link",
            Self::EmailCode => "email_code",
            Self::SmsCode => "sms_code",
            Self::Passkey => "passkey",
            Self::Social => "social",
            Self::PasswordReset => "password_reset",
        }
    }

    /// The RFC 8176 authentication method references: `pwd` (a password), `otp` (a one-time
    /// secret: the mailed link and code), `sms` (a texted code), `hwk` and `user` (a
    /// proof-of-possession key with user verification: a passkey), `fed` (federated: an
    /// upstream provider vouched for the person).
    pub fn amr(self) -> &'static [&'static str] {
        match self {
            Self::Password => &["pwd"],
            Self::EmailLink | Self::EmailCode => &["otp"],
            Self::SmsCode => &["sms", "otp"],
            Self::Passkey => &["hwk", "user"],
            Self::Social => &["fed"],
            Self::PasswordReset => &["otp", "pwd"],
        }
    }
}

/// Signs `session` in as `user_id`, who has just proven a first factor by `method`. Refuses an
/// account whose address is not verified while the business requires that (the browser is
/// remembered for the "send a new link" button).
#[tracing::instrument(skip_all, fields(method = method.as_str()))]
pub async fn sign_in(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
    method: Method,
) -> Result<(), AccountError> {
    let user = users::find_by_id(&state.db, user_id)
        .await?
        .ok_or(AccountError::NoSuchAccount)?;
    if !user.is_verified() && settings::load(&state.db).await?.require_verified_email {
        sessions::set_pending_verification(session, user.id).await?;
        let event = AuditEvent::new("signin.failed", Outcome::Failure)
            .about(Some(user.id))
            .detail(json!({ "method": method.as_str(), "reason": "email_not_verified" }));
        audit::record(&state.db, client, event).await?;
        return Err(AccountError::EmailNotVerified);
    }
    sessions::sign_in(session, user.id, method.as_str(), method.amr()).await?;
    let event = AuditEvent::new("signin.succeeded", Outcome::Success)
        .by(user.id)
        .detail(json!({ "method": method.as_str(), "amr": method.amr() }));
    audit::record(&state.db, client, event).await?;
    Ok(())
}

/// Records a failed sign-in attempt by `method` (for `user`, when known) and `reason`.
pub async fn failed(
    db: impl sqlx::PgExecutor<'_>,
    client: &ClientInfo,
    method: Method,
    user: Option<Uuid>,
    reason: &str,
) -> sqlx::Result<()> {
    let event = AuditEvent::new("signin.failed", Outcome::Failure)
        .about(user)
        .detail(json!({ "method": method.as_str(), "reason": reason }));
    audit::record(db, client, event).await
}
