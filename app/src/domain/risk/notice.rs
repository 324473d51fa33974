//! "New sign-in to your account — was this you?": mailed after a sign-in the risk engine found
//! risky went through, in plain words (device, approximate place, time), with a link that
//! starts a password reset, which ends every sign-in of the account.

use serde_json::json;
use uuid::Uuid;

use crate::{
    domain::{
        accounts::templates,
        audit::{self, AuditEvent, Outcome},
        branding,
        client::{device_summary, ClientInfo},
        error::AccountError,
        mail,
        tokens::{self, TokenPurpose},
        users,
    },
    state::AppState,
};

/// Mails `user_id` about the sign-in just made after risk assessment `risk`.
pub async fn new_sign_in(
    state: &AppState,
    client: &ClientInfo,
    user_id: Uuid,
    risk: i64,
) -> Result<(), AccountError> {
    let mut tx = state.db.begin().await?;
    let Some(user) = users::find_by_id(&mut *tx, user_id).await? else {
        return Ok(());
    };
    let country: Option<String> =
        sqlx::query_scalar("SELECT country FROM risk_assessments WHERE id = $1")
            .bind(risk)
            .fetch_one(&mut *tx)
            .await?;
    let brand = branding::for_client(&mut *tx, client).await?;
    let token = tokens::issue(&mut tx, user.id, TokenPurpose::ResetPassword).await?;
    let when = crate::domain::moments::in_zone(time::OffsetDateTime::now_utc(), user.zone());
    let templates = templates(state, &brand, user.language());
    let place = templates.sign_in_place(country.as_deref(), client.ip.as_deref());
    let message = templates.new_sign_in(
        &user.email(),
        &user.display_name,
        &device_summary(client.user_agent.as_deref()),
        &place,
        &when,
        token.expose(),
    );
    mail::enqueue(&mut *tx, &message).await?;
    let event = AuditEvent::new("signin.owner_told", Outcome::Success)
        .about(Some(user.id))
        .detail(json!({ "risk": risk }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(())
}
