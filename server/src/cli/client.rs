//! `server client`: registering partner apps (OAuth clients), listing them, and (in
//! `client_update`) showing one's settings and changing them.

use anyhow::Context;
use app::{
    domain::{
        audit::Actor,
        oidc::{
            clients::{self, ClientType},
            registration::{self, NewClient},
        },
    },
    state::AppState,
};
use clap::Subcommand;

use super::client_update::{self, UpdateArgs};

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register an app; prints its id and, once, its secret.
    Create(Box<CreateArgs>),
    /// List the registered apps.
    List,
    /// Print an app's settings (its secret is never shown: only a keyed hash of it is kept).
    Show {
        /// The app's client id (apps registered earlier may have one starting with `-`).
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Change an app's settings: only the flags given change; the rest stay as they are.
    Update(Box<UpdateArgs>),
}

/// What `client create` registers.
#[derive(clap::Args)]
pub struct CreateArgs {
    #[arg(long)]
    name: String,
    /// Where the app may receive sign-in answers (repeat for several); matched exactly.
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// A browser or native app: no secret, PKCE required.
    #[arg(long, conflicts_with = "service")]
    public: bool,
    /// A machine-to-machine client (client_credentials only, no redirect URIs).
    #[arg(long)]
    service: bool,
    /// Skip the consent screen (the business's own app).
    #[arg(long)]
    first_party: bool,
    /// A scope a service client may ask for (repeat for several).
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// Where the app may send people after signing them out (repeat for several).
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// Where logout tokens are posted when a sign-in the app had ends (back-channel logout).
    #[arg(long)]
    backchannel_logout_uri: Option<String>,
    /// The app's page the end-session page loads in a hidden frame (front-channel logout).
    #[arg(long)]
    frontchannel_logout_uri: Option<String>,
    /// Accept only pushed authorization requests (RFC 9126) from this app.
    #[arg(long)]
    require_par: bool,
    /// A JWKS file of the app's public keys: it authenticates with private_key_jwt and gets
    /// no secret.
    #[arg(long, conflicts_with = "public")]
    jwks_file: Option<std::path::PathBuf>,
    /// Give the app pairwise subjects (a `sub` of its own sector) instead of account ids.
    #[arg(long)]
    pairwise: bool,
    /// The pairwise sector (a host name); by default the one host of the redirect URIs.
    #[arg(long, requires = "pairwise")]
    sector_identifier: Option<String>,
    /// Every token request of this app must carry a DPoP proof (RFC 9449).
    #[arg(long)]
    require_dpop: bool,
    /// For a legacy confidential app only: accept its authorization requests without PKCE
    /// when they carry a nonce. PKCE is required of every other app (RFC 9700 §2.1.1), and
    /// of this one too whenever it sends a code_challenge.
    #[arg(long, conflicts_with_all = ["public", "service"])]
    allow_no_pkce: bool,
    /// Every sign-in into this app must be multi-factor: a one-factor session is asked for
    /// its second factor first.
    #[arg(long)]
    require_mfa: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs a `client` command.
pub async fn run(state: &AppState, command: ClientCommand) -> anyhow::Result<()> {
    match command {
        ClientCommand::Create(args) => {
            let CreateArgs {
                name,
                redirect_uris,
                public,
                service,
                first_party,
                scopes,
                post_logout_redirect_uris,
                backchannel_logout_uri,
                frontchannel_logout_uri,
                require_par,
                jwks_file,
                pairwise,
                sector_identifier,
                require_dpop,
                allow_no_pkce,
                require_mfa,
                json,
            } = *args;
            let jwks = match jwks_file {
                None => None,
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    Some(
                        serde_json::from_str(&text)
                            .with_context(|| format!("{} is not JSON", path.display()))?,
                    )
                }
            };
            let client_type = match (public, service) {
                (true, _) => ClientType::Public,
                (_, true) => ClientType::Service,
                _ => ClientType::Confidential,
            };
            let new = NewClient {
                name,
                client_type,
                redirect_uris,
                first_party,
                scopes,
                post_logout_redirect_uris,
                backchannel_logout_uri,
                frontchannel_logout_uri,
                require_par,
                jwks,
                pairwise,
                sector_identifier,
                require_dpop,
                allow_no_pkce,
                require_mfa,
            };
            let done = registration::create(&state.db, &state.client_key, &new, Actor::Cli).await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "client_id": done.client_id,
                        "client_secret": done.client_secret,
                        "client_type": client_type.as_str(),
                    })
                );
            } else {
                println!("client_id:     {}", done.client_id);
                if let Some(secret) = done.client_secret {
                    println!("client_secret: {secret}\n(shown once: store it now)");
                }
            }
        }
        ClientCommand::Show { client_id, json } => {
            client_update::show(state, &client_id, json).await?
        }
        ClientCommand::Update(args) => client_update::update(state, *args).await?,
        ClientCommand::List => {
            for c in clients::list(&state.db).await? {
                println!(
                    "{:24} {:12} {:30} {}{}",
                    c.id,
                    c.client_type,
                    c.name,
                    c.redirect_uris.join(" "),
                    if c.first_party { " (first party)" } else { "" }
                );
            }
        }
    }
    Ok(())
}
