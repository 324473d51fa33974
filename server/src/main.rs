//! The `server` command: serve the site, migrate the database, and the operator's commands (see
//! `cli`). Every command refuses a master key other than the database's.
#![forbid(unsafe_code)]

mod cli;

use anyhow::Context;
use clap::{Parser, Subcommand};
use server::{
    config::{Config, LogFormat},
    startup, telemetry,
};

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
        command: cli::admin::AdminCommand,
    },
    /// Show or change the sign-in policy (which methods are on).
    Settings {
        #[command(subcommand)]
        command: cli::settings::SettingsCommand,
    },
    /// Manage the upstream providers of social sign-in.
    Social {
        #[command(subcommand)]
        command: cli::social::SocialCommand,
    },
    /// Manage the token signing keys.
    Keys {
        #[command(subcommand)]
        command: cli::keys::KeysCommand,
    },
    /// Manage the partner apps (OAuth clients) of the OpenID provider.
    Client {
        #[command(subcommand)]
        command: cli::client::ClientCommand,
    },
    /// Manage the consent purposes and their policy texts.
    Consent {
        #[command(subcommand)]
        command: cli::consent::ConsentCommand,
    },
    /// What the service holds about people, table by table.
    Privacy {
        #[command(subcommand)]
        command: cli::privacy::PrivacyCommand,
    },
    /// Act on one customer's account: end its sign-ins, lock, unlock, require a reset.
    User {
        #[command(subcommand)]
        command: cli::user::UserCommand,
    },
    /// How fast this machine verifies passwords: the ceiling of the password sign-in.
    Hashing {
        #[command(subcommand)]
        command: cli::hashing::HashingCommand,
    },
    /// Add realistic demo customers (for demos and the benchmarks).
    Seed {
        /// How many.
        #[arg(long)]
        customers: u64,
        /// The password they all share (a random one when left out).
        #[arg(long)]
        password: Option<String>,
    },
    /// Import existing customers from a CSV or JSON Lines file.
    Import {
        /// The file (`.jsonl` or `.ndjson` is read as JSON Lines, anything else as CSV).
        #[arg(long)]
        file: std::path::PathBuf,
        /// csv or jsonl, when the file's name does not say.
        #[arg(long)]
        format: Option<String>,
        /// Check every row and report, without writing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Check the audit trail's hash chain.
    Audit {
        #[command(subcommand)]
        command: cli::audit::AuditCommand,
    },
    /// Manage the directory's groups of people.
    Group {
        #[command(subcommand)]
        command: cli::group::GroupCommand,
    },
    /// Manage partner apps' Cedar schemas and policies, and try a decision.
    Policy {
        #[command(subcommand)]
        command: cli::policy::PolicyCommand,
    },
    /// Manage partner apps' roles and permissions, and who holds them.
    Role {
        #[command(subcommand)]
        command: cli::role::RoleCommand,
    },
    /// Manage the webhook subscriptions of partner systems (signed, Standard Webhooks).
    Webhook {
        #[command(subcommand)]
        command: cli::webhook::WebhookCommand,
    },
    /// Manage the SCIM provisioning clients (identity providers) and their tokens.
    ScimClient {
        #[command(subcommand)]
        command: cli::scim_client::ScimClientCommand,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let format = match std::env::var("CIAM_LOG_FORMAT").as_deref() {
        Ok("json") => LogFormat::Json,
        _ => LogFormat::Pretty,
    };
    // Held to the end: dropping it sends the traces still queued.
    let _telemetry = telemetry::init(format)?;
    let command = match cli.command.unwrap_or(Command::Serve) {
        // The ceiling needs neither the configuration nor the database.
        Command::Hashing { command } if !command.needs_database() => {
            return cli::hashing::run(command)
        }
        command => command,
    };
    let config = Config::from_env()?;
    let db = startup::connect(&config.database_url).await?;
    startup::migrate(&db).await?;
    startup::check_master_key(&db, &config).await?;
    let state = startup::app_state(db.clone(), &config)?;
    match command {
        Command::Migrate => println!("database is up to date"),
        Command::Admin { command } => cli::admin::run(&state, command).await?,
        Command::Settings { command } => cli::settings::run(&db, command).await?,
        Command::Social { command } => {
            cli::social::run(&state, command, &config.public_url).await?
        }
        Command::Keys { command } => cli::keys::run(&state, command).await?,
        Command::Client { command } => cli::client::run(&state, command).await?,
        Command::Consent { command } => cli::consent::run(&db, command).await?,
        Command::Privacy { command } => cli::privacy::run(command),
        Command::User { command } => cli::user::run(&state, command).await?,
        Command::Audit { command } => cli::audit::run(&state, command).await?,
        Command::Group { command } => cli::group::run(&db, command).await?,
        Command::Role { command } => cli::role::run(&db, command).await?,
        Command::Policy { command } => cli::policy::run(&state, command).await?,
        Command::Webhook { command } => cli::webhook::run(&state, command).await?,
        Command::ScimClient { command } => {
            cli::scim_client::run(&db, &config.public_url, command).await?
        }
        Command::Import {
            file,
            format,
            dry_run,
        } => cli::import::run(&state, file, format, dry_run).await?,
        Command::Hashing { command } => cli::hashing::floor(&state, command).await?,
        Command::Seed {
            customers,
            password,
        } => cli::seed::run(&state, customers, password).await?,
        Command::Serve => {
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("binding {}", config.listen))?;
            let running = startup::start(listener, state, &config).await?;
            tracing::info!(addr = %running.addr, public_url = %config.public_url, "serving");
            if let Some(addr) = running.metrics_addr {
                tracing::info!(%addr, "serving /metrics on its own listener");
            }
            shutdown_signal().await;
            tracing::info!("shutting down: finishing in-flight requests");
            let _ = running.shutdown.send(true);
            running.handle.await??;
        }
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
