//! Social sign-in in tests: an upstream provider configured as an operator would.

use app::domain::{
    audit::Actor,
    social::providers::{self, NewProvider},
};

use super::TestApp;

/// Adds the OpenID provider at `issuer` as `upstream` ("Upstream ID", client `keyhaven`).
pub async fn add_provider(app: &TestApp, issuer: &str) {
    let state = server::startup::app_state(app.db.clone(), &app.config).unwrap();
    providers::add(
        &app.db,
        &state.secrets,
        &NewProvider {
            id: "upstream".into(),
            kind: "oidc".into(),
            display_name: Some("Upstream ID".into()),
            issuer: Some(issuer.into()),
            client_id: "keyhaven".into(),
            client_secret: Some("very-secret".into()),
            ..Default::default()
        },
        Actor::Cli,
    )
    .await
    .unwrap();
}
