//! The consent question: on the registration form, and at a sign-in whose person has not
//! accepted the current required policies (the consent step's page), with its answer.

use std::collections::HashMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// One purpose as the question shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AskedPurpose {
    pub key: String,
    pub name: String,
    pub required: bool,
    /// "your consent", "our contract with you", ...
    pub basis: String,
    /// The policy version shown, sent back with the answer.
    pub version: i32,
    pub text: String,
}

/// What the consent step's page asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentQuestion {
    /// The question's name, sent back with the answer (empty for a person already signed in).
    pub step: String,
    pub purposes: Vec<AskedPurpose>,
    /// The person was never asked (a sign-up by social login, passkey or email): the optional
    /// purposes are offered too.
    pub first_time: bool,
}

#[cfg(feature = "ssr")]
fn shown(purposes: Vec<crate::domain::consents::purposes::Purpose>) -> Vec<AskedPurpose> {
    let locale = super::context::client().reading.language();
    purposes
        .into_iter()
        .map(|p| AskedPurpose {
            basis: super::consents::basis_words(p.lawful_basis, locale).to_owned(),
            key: p.key,
            name: p.name,
            required: p.required,
            version: p.version,
            text: p.body,
        })
        .collect()
}

/// The purposes the registration form asks about: the required ones to accept, the optional
/// ones unticked.
#[server(prefix = "/api", endpoint = "registration/purposes")]
pub async fn registration_purposes() -> Result<Vec<AskedPurpose>, AppError> {
    let state = super::context::state()?;
    let ask = crate::domain::consents::asked::at_registration(&state.db)
        .await
        .map_err(crate::domain::error::AccountError::from)?;
    Ok(shown(ask.purposes))
}

/// What the consent step asks, or `None` when nothing is outstanding.
#[server(prefix = "/api", endpoint = "signin/consent/question")]
pub async fn signin_consent_question() -> Result<Option<ConsentQuestion>, AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let ask = crate::domain::authentication::consent_step::question(&state, &session).await?;
    Ok(ask.map(|(ask, step)| ConsentQuestion {
        step,
        first_time: ask.first_time,
        purposes: shown(ask.purposes),
    }))
}

/// Records the answer (`consent[<purpose>]=<policy version shown>` for each one ticked) to the
/// question named `step` and goes on with the sign-in.
#[server(prefix = "/api", endpoint = "signin/consent/accept")]
pub async fn accept_consent(
    /// The question's name, as the page got it.
    #[server(default)]
    step: String,
    #[server(default)] consent: HashMap<String, String>,
) -> Result<(), AppError> {
    use super::context;
    use crate::domain::{authentication, consents::asked::Answer, mfa::enrolment};

    let answer = Answer::parse(&consent).map_err(|e| AppError::field("consent", e.to_string()))?;
    let state = context::state()?;
    let session = context::session().await?;
    let client = context::client();
    authentication::consent_step::accept(&state, &client, &session, &step, &answer).await?;
    let next = if enrolment::holds_codes(&session).await
        && context::signed_in_user(&session).await.is_ok()
    {
        "/profile/recovery-codes".to_owned()
    } else {
        authentication::landing(&session).await
    };
    leptos_axum::redirect(&next);
    Ok(())
}

/// Ends the waiting sign-in without consenting: nothing is signed in. A person already signed
/// in goes back to their profile, and the app that asked does not go on.
#[server(prefix = "/api", endpoint = "signin/consent/decline")]
pub async fn decline_consent() -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let client = context::client();
    let ended =
        crate::domain::authentication::consent_step::decline(&state, &client, &session).await?;
    leptos_axum::redirect(if ended {
        "/signin?declined=1"
    } else {
        "/profile"
    });
    Ok(())
}
