//! The second step of a sign-in: what it offers, and each way through it (an authenticator
//! code, a recovery code, a mailed code, enrolling an authenticator app when one is required).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// What the second step's page offers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepOffer {
    pub totp: bool,
    pub recovery_codes: bool,
    pub passkey: bool,
    /// A mailed code: the weaker fallback.
    pub email: bool,
    pub email_sent: bool,
    /// The person must set up an authenticator app before going on.
    pub must_enrol: bool,
}

/// An authenticator app being set up: the key to type, its `otpauth://` URL, and the QR code
/// as an inline SVG drawn by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticatorSetup {
    pub key: String,
    pub url: String,
    pub qr_svg: String,
}

#[cfg(feature = "ssr")]
impl From<crate::domain::mfa::totp::Enrolment> for AuthenticatorSetup {
    fn from(e: crate::domain::mfa::totp::Enrolment) -> Self {
        Self {
            key: e.key,
            url: e.url,
            qr_svg: e.qr_svg,
        }
    }
}

/// What the waiting second step offers, or `None` when none waits.
#[server(prefix = "/api", endpoint = "second-factor/offer")]
pub async fn second_step_offer() -> Result<Option<StepOffer>, AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let offer = crate::domain::authentication::second_step::offer(&state, &session).await?;
    Ok(offer.map(|o| StepOffer {
        totp: o.totp,
        recovery_codes: o.recovery_codes,
        passkey: o.passkey,
        email: o.email,
        email_sent: o.email_sent,
        must_enrol: o.must_enrol,
    }))
}

/// Where a finished second step goes: back where the sign-in was going, or, when the last
/// recovery code was just used, the profile that says to make more.
#[cfg(feature = "ssr")]
async fn go_on(
    session: &tower_sessions::Session,
    finished: crate::domain::authentication::second_step::Finished,
) {
    let asked = crate::domain::authentication::question_waits(session).await;
    let next = if finished.recovery_codes_to_show && !asked {
        "/profile/recovery-codes".to_owned()
    } else {
        let next = crate::domain::authentication::landing(session).await;
        if finished.recovery_codes_left == Some(0) && next == "/profile" {
            "/profile?recovery_codes_left=0".to_owned()
        } else {
            next
        }
    };
    leptos_axum::redirect(&next);
}

/// `Some("on")` from a ticked checkbox.
#[cfg(feature = "ssr")]
fn ticked(value: &Option<String>) -> bool {
    value.as_deref().is_some_and(|v| !v.is_empty())
}

/// Goes on with a code from the authenticator app.
#[server(prefix = "/api", endpoint = "second-factor/totp")]
pub async fn second_step_totp(code: String, remember: Option<String>) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let finished = crate::domain::authentication::second_step::verify_totp(
        &state,
        &context::client(),
        &session,
        &code,
        ticked(&remember),
    )
    .await?;
    go_on(&session, finished).await;
    Ok(())
}

/// Goes on with a recovery code (used up).
#[server(prefix = "/api", endpoint = "second-factor/recovery-code")]
pub async fn second_step_recovery_code(
    code: String,
    remember: Option<String>,
) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let finished = crate::domain::authentication::second_step::use_recovery_code(
        &state,
        &context::client(),
        &session,
        &code,
        ticked(&remember),
    )
    .await?;
    go_on(&session, finished).await;
    Ok(())
}

/// Mails a code to the account's address (the weaker fallback).
#[server(prefix = "/api", endpoint = "second-factor/email/send")]
pub async fn second_step_send_email() -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    crate::domain::authentication::second_step::send_email_code(
        &state,
        &context::client(),
        &session,
    )
    .await?;
    leptos_axum::redirect("/signin/second-factor?email_sent=1");
    Ok(())
}

/// Goes on with the mailed code.
#[server(prefix = "/api", endpoint = "second-factor/email")]
pub async fn second_step_email(code: String, remember: Option<String>) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let finished = crate::domain::authentication::second_step::verify_email_code(
        &state,
        &context::client(),
        &session,
        &code,
        ticked(&remember),
    )
    .await?;
    go_on(&session, finished).await;
    Ok(())
}

/// Starts setting up an authenticator app, for a person who must have one before going on.
#[server(prefix = "/api", endpoint = "second-factor/enrol/start")]
pub async fn second_step_enrol_start() -> Result<AuthenticatorSetup, AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let enrolment =
        crate::domain::authentication::second_step::enrolling::start(&state, &session).await?;
    Ok(enrolment.into())
}

/// Confirms that setup with the app's first code, and goes on (by the recovery codes).
#[server(prefix = "/api", endpoint = "second-factor/enrol")]
pub async fn second_step_enrol(code: String, remember: Option<String>) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let finished = crate::domain::authentication::second_step::enrolling::confirm(
        &state,
        &context::client(),
        &session,
        &code,
        ticked(&remember),
    )
    .await?;
    go_on(&session, finished).await;
    Ok(())
}
