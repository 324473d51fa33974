//! The admin console's server functions, by area: the staff member's own view and the staff
//! (`staff`), customers (`customers`), breach response (`breach`), customer imports (`imports`), partner apps (`apps`), the
//! audit trail (`audit`) and the dashboard (`reports`). Each checks one named permission on
//! the server ([`guard`]); each change also needs a recent second factor and leaves an audit
//! row with the staff member as actor.

pub mod app_edit;
pub mod apps;
pub mod audit;
pub mod branding;
pub mod breach;
pub mod customer_actions;
pub mod customers;
pub mod imports;
pub mod reports;
pub mod settings;
pub mod social;
pub mod staff;

#[cfg(feature = "ssr")]
use super::error::AppError;

/// What a console server function works with once its caller is allowed in.
#[cfg(feature = "ssr")]
pub(crate) struct Allowed {
    pub state: crate::state::AppState,
    pub session: tower_sessions::Session,
    pub client: crate::domain::client::ClientInfo,
    pub staff: crate::domain::staff::Staff,
}

#[cfg(feature = "ssr")]
impl Allowed {
    /// The staff member as the audit trail names them.
    pub fn actor(&self) -> crate::domain::audit::Actor {
        crate::domain::audit::Actor::Person(self.staff.user_id)
    }
}

/// Lets the signed-in staff member in when their role grants `permission`.
#[cfg(feature = "ssr")]
pub(crate) async fn guard(
    permission: crate::domain::staff::Permission,
) -> Result<Allowed, AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    let client = context::client();
    let staff = crate::domain::staff::authorize(&state.db, &client, user_id, permission).await?;
    Ok(Allowed {
        state,
        session,
        client,
        staff,
    })
}

/// As [`guard`], for a change: the staff member must also have proven a second factor
/// recently, and ticked the confirmation box.
#[cfg(feature = "ssr")]
pub(crate) async fn guard_change(
    permission: crate::domain::staff::Permission,
    confirm: Option<&str>,
) -> Result<Allowed, AppError> {
    let allowed = guard(permission).await?;
    crate::domain::mfa::freshness::ensure(
        &allowed.state.db,
        &allowed.session,
        allowed.staff.user_id,
    )
    .await?;
    if confirm != Some("yes") {
        return Err(AppError::field("confirm", "Tick the box to confirm."));
    }
    Ok(allowed)
}

/// The non-empty lines of a text area, trimmed (redirect URIs and the like, one per line).
#[cfg(feature = "ssr")]
pub(crate) fn lines(raw: &str) -> Vec<String> {
    raw.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(feature = "ssr")]
pub(crate) use super::context::moment;
