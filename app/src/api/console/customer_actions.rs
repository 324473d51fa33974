//! The actions on one customer's account in the console: each needs its own permission, a
//! recent second factor, a ticked confirmation and a reason, which the audit row keeps.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::customers::customer_id;
use crate::api::error::AppError;

/// The action of `allowed` on customer `id`, for `reason`.
#[cfg(feature = "ssr")]
fn on_customer<'a>(
    allowed: &'a super::Allowed,
    id: &str,
    reason: &'a crate::domain::customers::Reason,
) -> Result<crate::domain::customers::actions::Request<'a>, AppError> {
    Ok(crate::domain::customers::actions::Request {
        actor: allowed.actor(),
        client: &allowed.client,
        user_id: customer_id(id)?,
        reason,
    })
}

/// An action on one customer, by its name on the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg(feature = "ssr")]
enum Act {
    Lock,
    Unlock,
    EndSessions,
    RequireReset,
    VerifyEmail,
    RemovePhone,
    ResendVerification,
    RemoveAuthenticator,
    RemovePasskey,
    Delete,
}

#[cfg(feature = "ssr")]
impl Act {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "lock" => Self::Lock,
            "unlock" => Self::Unlock,
            "end_sessions" => Self::EndSessions,
            "require_reset" => Self::RequireReset,
            "verify_email" => Self::VerifyEmail,
            "remove_phone" => Self::RemovePhone,
            "resend_verification" => Self::ResendVerification,
            "remove_authenticator" => Self::RemoveAuthenticator,
            "remove_passkey" => Self::RemovePasskey,
            "delete" => Self::Delete,
            _ => return None,
        })
    }

    fn permission(self) -> crate::domain::staff::Permission {
        use crate::domain::staff::Permission;
        match self {
            Self::Lock => Permission::CustomersLock,
            Self::Unlock => Permission::CustomersUnlock,
            Self::EndSessions => Permission::CustomersSessions,
            Self::RequireReset => Permission::CustomersReset,
            Self::VerifyEmail | Self::RemovePhone => Permission::CustomersEdit,
            Self::ResendVerification => Permission::CustomersMail,
            Self::RemoveAuthenticator | Self::RemovePasskey => Permission::CustomersFactors,
            Self::Delete => Permission::CustomersDelete,
        }
    }
}

/// Acts on one customer: `action` is one of lock, unlock, end_sessions, require_reset,
/// verify_email, remove_phone, resend_verification, remove_authenticator, remove_passkey (with `passkey`)
/// or delete. Answers what happened, in words.
#[server(prefix = "/api", endpoint = "console/customer/act")]
pub async fn act_on_customer(
    id: String,
    action: String,
    reason: String,
    confirm: Option<String>,
    passkey: Option<String>,
) -> Result<String, AppError> {
    use crate::domain::customers::{
        actions::{self, FactorToRemove},
        Reason,
    };
    let act = Act::parse(action.trim()).ok_or_else(|| AppError::BadRequest("action".into()))?;
    let allowed = super::guard_change(act.permission(), confirm.as_deref()).await?;
    let reason = Reason::parse(&reason)?;
    let request = on_customer(&allowed, &id, &reason)?;
    let state = &allowed.state;
    let done = |yes: bool, did: &str, already: &str| {
        if yes {
            did.to_owned()
        } else {
            already.to_owned()
        }
    };
    let said = match act {
        Act::Lock => done(
            actions::lock(state, &request).await?,
            "Locked; every sign-in ended.",
            "It was locked already.",
        ),
        Act::Unlock => done(
            actions::unlock(state, &request).await?,
            "Unlocked.",
            "It was not locked.",
        ),
        Act::EndSessions => {
            let ended = actions::end_sessions(state, &request).await?;
            format!(
                "{} session(s) and {} app grant(s) ended.",
                ended.sessions,
                ended.grants.ids.len()
            )
        }
        Act::RequireReset => done(
            actions::require_reset(state, &request).await?,
            "The password must be reset at the next sign-in; every sign-in ended.",
            "The account has no password.",
        ),
        Act::VerifyEmail => done(
            actions::verify_email(state, &request).await?,
            "The address is marked verified.",
            "The address was verified already.",
        ),
        Act::RemovePhone => done(
            actions::remove_phone(state, &request).await?,
            "The phone number is removed.",
            "There was no phone number.",
        ),
        Act::ResendVerification => done(
            actions::resend_verification(state, &request).await?,
            "A new verification link is on its way.",
            "The address is verified already.",
        ),
        Act::RemoveAuthenticator => done(
            actions::remove_factor(state, &request, &FactorToRemove::Authenticator).await?,
            "The authenticator app is removed; the customer was told by mail.",
            "There was no authenticator app.",
        ),
        Act::RemovePasskey => {
            let passkey = passkey.unwrap_or_default();
            done(
                actions::remove_factor(state, &request, &FactorToRemove::Passkey(passkey)).await?,
                "The passkey is removed; the customer was told by mail.",
                "There was no such passkey.",
            )
        }
        Act::Delete => {
            actions::delete(state, &request).await?;
            leptos_axum::redirect("/admin/customers?deleted=1");
            "The account is deleted.".to_owned()
        }
    };
    Ok(said)
}

/// Changes a customer's display name.
#[server(prefix = "/api", endpoint = "console/customer/rename")]
pub async fn rename_customer(
    id: String,
    display_name: String,
    reason: String,
    confirm: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::{
        customers::{actions, Reason},
        names::DisplayName,
        staff::Permission,
    };
    let allowed = super::guard_change(Permission::CustomersEdit, confirm.as_deref()).await?;
    let name = DisplayName::parse(&display_name)
        .map_err(|e| AppError::field("display_name", e.to_string()))?;
    let reason = Reason::parse(&reason)?;
    let request = on_customer(&allowed, &id, &reason)?;
    actions::rename(&allowed.state, &request, &name).await?;
    Ok(())
}

/// Moves a customer's account to another address (taken as proven by staff, who say how in
/// the reason); the old address is told.
#[server(prefix = "/api", endpoint = "console/customer/email")]
pub async fn change_customer_email(
    id: String,
    email: String,
    reason: String,
    confirm: Option<String>,
) -> Result<String, AppError> {
    use crate::domain::{
        customers::{actions, Reason},
        email::Email,
        staff::Permission,
    };
    let allowed = super::guard_change(Permission::CustomersEdit, confirm.as_deref()).await?;
    let email = Email::parse(&email).map_err(|e| AppError::field("email", e.to_string()))?;
    let reason = Reason::parse(&reason)?;
    let request = on_customer(&allowed, &id, &reason)?;
    Ok(
        if actions::change_email(&allowed.state, &request, &email).await? {
            "The address is changed; the old one was told.".into()
        } else {
            "That is the address already.".into()
        },
    )
}
