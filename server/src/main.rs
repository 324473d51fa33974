//! The `server` command: serve the site, migrate the database, manage administrators, the
//! sign-in policy, social providers and signing keys.
#![forbid(unsafe_code)]

use anyhow::Context;
use clap::{Parser, Subcommand};
use server::{
    config::{Config, LogFormat},
    startup,
};
use tracing_subscriber::{fmt, EnvFilter};

#[derive(Parser)]
#[command(name = "server", about = "Customer identity platform")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the site (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Show or change the sign-in policy (which methods are on).
    Settings {
        #[command(subcommand)]
        command: SettingsCommand,
    },
    /// Manage the upstream providers of social sign-in.
    Social {
        #[command(subcommand)]
        command: SocialCommand,
    },
    /// Manage the token signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage the partner apps (OAuth clients) of the OpenID provider.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Register an app; prints its id and, once, its secret.
    Create {
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
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List the registered apps.
    List,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// List the published keys (next, current, previous) of each algorithm.
    List,
    /// Rotate now: next becomes current, current becomes previous, a new next key is made.
    /// Running servers pick it up within a minute.
    Rotate,
}

#[derive(Subcommand)]
enum SocialCommand {
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
        #[arg(long)]
        client_id: String,
        /// Stored encrypted under the master key. Also read from CIAM_SOCIAL_CLIENT_SECRET.
        #[arg(long)]
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

#[derive(Subcommand)]
enum SettingsCommand {
    /// Print every switch and its state.
    Show,
    /// Turn one switch on or off, e.g. `settings set sms_enabled on`.
    Set {
        /// One of the names `settings show` prints.
        name: String,
        /// `on` or `off`.
        value: String,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Make EMAIL an administrator and print a one-time link to set its password.
    Create {
        #[arg(long)]
        email: String,
    },
    /// Like `create`, but only when no administrator exists yet (safe to repeat).
    Bootstrap {
        #[arg(long)]
        email: String,
    },
}

fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    match format {
        LogFormat::Pretty => fmt().with_env_filter(filter).init(),
        LogFormat::Json => fmt().json().with_env_filter(filter).init(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let format = match std::env::var("CIAM_LOG_FORMAT").as_deref() {
        Ok("json") => LogFormat::Json,
        _ => LogFormat::Pretty,
    };
    init_tracing(format);
    let config = Config::from_env()?;
    let db = startup::connect(&config.database_url).await?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Migrate => {
            startup::migrate(&db).await?;
            println!("database is up to date");
        }
        Command::Admin { command } => {
            startup::migrate(&db).await?;
            let (email, only_if_none) = match command {
                AdminCommand::Create { email } => (email, false),
                AdminCommand::Bootstrap { email } => (email, true),
            };
            let email = app::domain::email::Email::parse(&email)
                .map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            let state = startup::app_state(db, &config)?;
            match app::domain::accounts::ensure_admin(&state, &email, only_if_none)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                Some(link) => println!(
                    "Administrator {email}: open this one-time link (valid 1 hour) to set the password and sign in:\n\n    {link}\n"
                ),
                None => println!("An administrator is already set up; sign in at {}/signin", config.public_url),
            }
        }
        Command::Settings { command } => {
            startup::migrate(&db).await?;
            if let SettingsCommand::Set { name, value } = command {
                let on = match value.as_str() {
                    "on" | "true" => true,
                    "off" | "false" => false,
                    other => anyhow::bail!("the value must be 'on' or 'off', not {other:?}"),
                };
                if app::domain::settings::set(&db, &name, on).await?.is_none() {
                    anyhow::bail!(
                        "no switch named {name:?}; the switches are: {}",
                        app::domain::settings::SWITCHES.join(", ")
                    );
                }
            }
            let s = app::domain::settings::load(&db).await?;
            for (name, on) in [
                ("require_verified_email", s.require_verified_email),
                ("email_sign_in_enabled", s.email_sign_in_enabled),
                ("register_on_email_sign_in", s.register_on_email_sign_in),
                ("passkeys_enabled", s.passkeys_enabled),
                ("social_enabled", s.social_enabled),
                ("sms_enabled", s.sms_enabled),
            ] {
                println!("{name:28} {}", if on { "on" } else { "off" });
            }
        }
        Command::Social { command } => {
            startup::migrate(&db).await?;
            let state = startup::app_state(db.clone(), &config)?;
            social_command(&state, command, &config.public_url).await?;
        }
        Command::Keys { command } => {
            startup::migrate(&db).await?;
            let state = startup::app_state(db.clone(), &config)?;
            use app::domain::oidc::keys;
            if let KeysCommand::Rotate = command {
                let current = keys::rotate(&db, &state.key_secrets).await?;
                println!("rotated; now signing with {}", current.join(", "));
            } else {
                keys::ensure(&db, &state.key_secrets).await?;
            }
            for k in keys::list(&db).await? {
                println!(
                    "{:8} {:9} {}  created {}",
                    k.alg, k.state, k.kid, k.created_at
                );
            }
        }
        Command::Client { command } => {
            startup::migrate(&db).await?;
            let state = startup::app_state(db.clone(), &config)?;
            client_command(&state, command).await?;
        }
        Command::Serve => {
            startup::migrate(&db).await?;
            let state = startup::app_state(db, &config)?;
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("binding {}", config.listen))?;
            let running = startup::start(listener, state, &config).await?;
            tracing::info!(addr = %running.addr, public_url = %config.public_url, "serving");
            shutdown_signal().await;
            tracing::info!("shutting down: finishing in-flight requests");
            let _ = running.shutdown.send(true);
            running.handle.await??;
        }
    }
    Ok(())
}

async fn client_command(
    state: &app::state::AppState,
    command: ClientCommand,
) -> anyhow::Result<()> {
    use app::domain::oidc::clients::{self, ClientType, NewClient};
    match command {
        ClientCommand::Create {
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
            json,
        } => {
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
            };
            let done = clients::create(&state.db, &state.client_key, &new).await?;
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

async fn social_command(
    state: &app::state::AppState,
    command: SocialCommand,
    public_url: &str,
) -> anyhow::Result<()> {
    use app::domain::social::providers;
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
            providers::add(db, &state.secrets, &new).await?;
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
        SocialCommand::Disable { id } => found(providers::set_enabled(db, &id, false).await?, &id)?,
        SocialCommand::Enable { id } => found(providers::set_enabled(db, &id, true).await?, &id)?,
        SocialCommand::Remove { id } => found(providers::remove(db, &id).await?, &id)?,
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
