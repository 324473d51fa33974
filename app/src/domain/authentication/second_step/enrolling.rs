//! Enrolling an authenticator app inside the second step, for a person an administrator made
//! enrol before going on: the app's first code proves the new factor, which then counts as the
//! second one.

use tower_sessions::Session;

use super::{account, admitted, prove, wrong, Finished};
use crate::{
    domain::{
        assurance::Factor,
        client::ClientInfo,
        error::AccountError,
        mfa::{enrolment, totp},
    },
    state::AppState,
};

/// Starts enrolling an authenticator app for a person who must enrol before going on.
pub async fn start(state: &AppState, session: &Session) -> Result<totp::Enrolment, AccountError> {
    let step = admitted(state, session).await?;
    let user = account(state, step.user_id).await?;
    enrolment::begin(state, &user).await
}

/// Confirms that enrolment with the app's first code, and goes on: the new factor is the
/// second one. New recovery codes are held for showing once.
pub async fn confirm(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    code: &str,
    remember: bool,
) -> Result<Finished, AccountError> {
    let step = admitted(state, session).await?;
    let user = account(state, step.user_id).await?;
    let codes = match enrolment::finish(state, client, &user, code).await {
        Ok(codes) => codes,
        Err(AccountError::Factor(enrolment::FactorRejection::WrongCode)) => {
            let factor = Factor::Totp;
            return Err(wrong(state, client, session, step, factor, "wrong_enrolment_code").await);
        }
        Err(e) => return Err(e),
    };
    let user_id = step.user_id;
    prove(state, client, session, step, Factor::Totp, remember).await?;
    enrolment::hold(state, session, user_id, &codes).await?;
    Ok(Finished {
        recovery_codes_left: None,
        recovery_codes_to_show: !codes.is_empty(),
    })
}
