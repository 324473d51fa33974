//! `server social`: the upstream providers of social sign-in.

use app::{
    domain::{audit::Actor, social::providers},
    state::AppState,
};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum SocialCommand {
    /// Add a provider: a preset (google, apple, microsoft, github) or any OpenID provider (oidc).
    Add {
        /// Short name used in URLs; the callback is <public URL>/signin/social/<id>/callback.
        #[arg(long)]
        id: String,
        /// oidc, google, apple, microsoft or github.
        #[arg(long)]
        kind: String,
        /// The button reads "Continue with <name>" (default: the preset's name).
        #[arg(long)]
        name: Option<String>,
        /// The OpenID issuer (required for oidc; presets know theirs).
        #[arg(long)]
        issuer: Option<String>,
        /// Microsoft tenant (default: common).
        #[arg(long)]
        tenant: Option<String>,
        /// Taken as given, even when it starts with a dash.
        #[arg(long, allow_hyphen_values = true)]
        client_id: String,
        /// Stored encrypted under the master key. Also read from CIAM_SOCIAL_CLIENT_SECRET.
        /// Taken as given, even when it starts with a dash (generated secrets may).
        #[arg(long, allow_hyphen_values = true)]
        client_secret: Option<String>,
        /// Space-separated scopes (default: the preset's).
        #[arg(long)]
        scopes: Option<String>,
    },
    /// List the providers.
    List,
    /// Hide a provider's button and refuse its sign-ins (linked identities are kept).
    Disable { id: String },
    /// Show a disabled provider again.
    Enable { id: String },
    /// Delete a provider and every identity linked through it.
    Remove { id: String },
}

/// Runs a `social` command.
pub async fn run(state: &AppState, command: SocialCommand, public_url: &str) -> anyhow::Result<()> {
    let db = &state.db;
    let found = |ok: bool, id: &str| {
        if ok {
            Ok(())
        } else {
            Err(anyhow::anyhow!("no provider named {id:?}"))
        }
    };
    match command {
        SocialCommand::Add {
            id,
            kind,
            name,
            issuer,
            tenant,
            client_id,
            client_secret,
            scopes,
        } => {
            let client_secret =
                client_secret.or_else(|| std::env::var("CIAM_SOCIAL_CLIENT_SECRET").ok());
            let new = providers::NewProvider {
                id,
                kind,
                display_name: name,
                issuer,
                tenant,
                client_id,
                client_secret,
                scopes,
            };
            providers::add(db, &state.secrets, &new, Actor::Cli).await?;
            println!(
                "Added {}. Register this redirect URI with the provider:\n\n    {public_url}/signin/social/{}/callback\n",
                new.id, new.id
            );
        }
        SocialCommand::List => {
            for p in providers::list(db).await? {
                println!(
                    "{:16} {:10} {:20} {:8} {}",
                    p.id,
                    p.kind,
                    p.display_name,
                    if p.enabled { "enabled" } else { "disabled" },
                    p.issuer.unwrap_or_default()
                );
            }
        }
        SocialCommand::Disable { id } => found(
            providers::set_enabled(db, &id, false, Actor::Cli).await?,
            &id,
        )?,
        SocialCommand::Enable { id } => found(
            providers::set_enabled(db, &id, true, Actor::Cli).await?,
            &id,
        )?,
        SocialCommand::Remove { id } => found(providers::remove(db, &id, Actor::Cli).await?, &id)?,
    }
    Ok(())
}
