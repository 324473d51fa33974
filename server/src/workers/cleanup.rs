//! Deletes what has expired: sessions, remembered devices, risk assessments after 180 days,
//! spent tokens and codes (sign-in and OAuth), spent proofs of work, passkey ceremonies, email
//! sign-in requests, delivered mail and texts after a week, old throttle counters, the reports of customer
//! imports after 30 days, data exports after their 24 hours; and queues
//! logout notices for sign-ins whose session went that way.

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;

/// One cleanup pass.
pub async fn sweep(db: &PgPool, issuer: &str) -> sqlx::Result<()> {
    app::domain::sessions::delete_expired(db).await?;
    app::domain::mfa::remembered::delete_expired(db).await?;
    app::domain::privacy::export::delete_expired(db).await?;
    app::domain::oidc::session_apps::end_orphans(db, issuer).await?;
    for statement in [
        "DELETE FROM one_time_tokens WHERE expires_at < now() - interval '7 days'
            OR used_at < now() - interval '7 days'",
        "DELETE FROM sms_codes WHERE expires_at < now() - interval '7 days'",
        "DELETE FROM authorization_codes WHERE expires_at < now() - interval '1 day'",
        "DELETE FROM refresh_tokens WHERE expires_at < now() - interval '1 day'",
        "DELETE FROM revoked_access_tokens WHERE expires_at < now()",
        "DELETE FROM pushed_requests WHERE expires_at < now()",
        "DELETE FROM client_assertions WHERE expires_at < now()",
        "DELETE FROM dpop_proofs WHERE expires_at < now()",
        "DELETE FROM spent_proofs WHERE expires_at < now()",
        "DELETE FROM totp_pending WHERE created_at < now() - interval '15 minutes'",
        "DELETE FROM risk_assessments WHERE created_at < now() - interval '180 days'",
        "DELETE FROM sms_outbox WHERE created_at < now() - interval '7 days'
            AND (delivered_at IS NOT NULL OR abandoned_at IS NOT NULL)",
        "DELETE FROM customer_imports WHERE finished_at < now() - interval '30 days'",
        "DELETE FROM mail_outbox WHERE delivered_at < now() - interval '7 days'",
        "DELETE FROM webauthn_ceremonies WHERE expires_at < now()",
        "DELETE FROM api_idempotency_keys WHERE created_at < now() - interval '1 day'",
        "DELETE FROM email_sign_in_requests WHERE expires_at < now() - interval '1 day'",
        // An address change whose links are all dead (its history stays in the audit trail).
        "DELETE FROM email_changes
         WHERE confirm_expires_at < now() - interval '1 day'
           AND (undo_expires_at IS NULL OR undo_expires_at < now())",
        "DELETE FROM logout_outbox WHERE created_at < now() - interval '7 days'
            AND (delivered_at IS NOT NULL OR abandoned_at IS NOT NULL)",
        "DELETE FROM auth_throttle
         WHERE window_started_at < now() - interval '1 day'
           AND (locked_until IS NULL OR locked_until < now())",
    ] {
        sqlx::query(statement).execute(db).await?;
    }
    Ok(())
}

/// Runs [`sweep`] every ten minutes until `shutdown` turns true.
pub async fn run(db: PgPool, issuer: String, mut shutdown: watch::Receiver<bool>) {
    loop {
        if let Err(e) = sweep(&db, &issuer).await {
            tracing::error!(error = %e, "cleanup failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(600)) => {}
            _ = shutdown.changed() => return,
        }
    }
}
