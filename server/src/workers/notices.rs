//! Listens for the change notices that keep this node's in-memory copies true: registered
//! clients (`oauth_clients_changed`), people's claims (`user_changed`), revoked access tokens
//! (`access_token_revoked`), apps' policies with the decisions made by them
//! (`app_policies_changed`), the sign-in policy (`auth_settings_changed`), the brands pages wear
//! (`brands_changed`) and the published signing keys (`signing_keys_changed`). While the
//! connection is down none of them is used: the caches are off and empty, and the revocation
//! mirror is dropped until it is loaded again.

use std::time::Duration;

use app::{
    domain::{
        branding,
        directory::policies,
        oidc::{client_cache, keys, person_cache, revoked},
        settings,
    },
    state::AppState,
};
use sqlx::postgres::PgListener;
use tokio::sync::watch;

/// Runs until `shutdown` turns true, reconnecting after a second when the connection fails.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        let result = listen(&state, &mut shutdown).await;
        off(&state);
        match result {
            Ok(()) => return,
            Err(e) => tracing::warn!(error = %e, "change notices interrupted"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Nothing is answered from memory.
fn off(state: &AppState) {
    state.clients.set_listening(false);
    state.people.set_listening(false);
    state.policies.set_listening(false);
    state.decisions.set_listening(false);
    state.auth_settings.set_listening(false);
    state.brands.set_listening(false);
    state.revoked.drop_mirror();
}

/// Loads the published signing keys again; a failure leaves the ring as it was, and the
/// minutely reload in `workers::keys` tries again.
async fn reload_keys(state: &AppState) {
    if let Err(e) = state.keys.reload(&state.db, &state.key_secrets).await {
        tracing::error!(error = %e, "reloading the signing keys after a change failed");
    }
}

/// Listens until shutdown (`Ok`) or until the connection fails or was lost (`Err`).
async fn listen(state: &AppState, shutdown: &mut watch::Receiver<bool>) -> sqlx::Result<()> {
    let mut listener = PgListener::connect_with(&state.db).await?;
    listener
        .listen_all([
            client_cache::CHANNEL,
            person_cache::CHANNEL,
            revoked::CHANNEL,
            policies::CHANNEL,
            keys::CHANNEL,
            settings::CHANNEL,
            branding::CHANNEL,
        ])
        .await?;
    // Listening first, then loading: a revocation committed in between arrives as a notice.
    state.clients.set_listening(true);
    state.people.set_listening(true);
    state.policies.set_listening(true);
    state.decisions.set_listening(true);
    state.auth_settings.set_listening(true);
    state.brands.set_listening(true);
    state.revoked.load(&state.db).await?;
    // A rotation missed while the connection was down.
    reload_keys(state).await;
    loop {
        tokio::select! {
            notice = listener.try_recv() => {
                // `None`: the connection was lost, so notices may have been missed.
                let Some(notice) = notice? else {
                    return Err(sqlx::Error::Protocol("the notice connection was lost".into()));
                };
                match notice.channel() {
                    client_cache::CHANNEL => state.clients.clear(),
                    person_cache::CHANNEL => state.people.apply_notice(notice.payload()),
                    policies::CHANNEL => {
                        state.policies.clear();
                        state.decisions.clear();
                    }
                    keys::CHANNEL => reload_keys(state).await,
                    settings::CHANNEL => state.auth_settings.clear(),
                    branding::CHANNEL => state.brands.clear(),
                    // The guard records the revocation; only a malformed notice gets in.
                    revoked::CHANNEL if !state.revoked.add_notice(notice.payload()) => {
                        // The mirror would be incomplete: start over from the table.
                        return Err(sqlx::Error::Protocol(format!(
                            "malformed revocation notice {:?}",
                            notice.payload()
                        )));
                    }
                    _ => {}
                }
            }
            _ = shutdown.changed() => return Ok(()),
        }
    }
}
