//! The `server` command: serve the site, migrate the database, manage administrators.
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
