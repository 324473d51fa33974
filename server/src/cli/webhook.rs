//! `server webhook`: partner systems' webhook subscriptions (Standard Webhooks 1.0): add one
//! (its signing secret shown once), list them, rotate a secret, disable, enable, remove, and
//! read a subscription's delivery log. Every change is audited with `cli` as the actor.

use app::{
    domain::{
        audit::Actor,
        webhooks::{self, deliveries, EventType, NewSubscription},
    },
    state::AppState,
};
use clap::Subcommand;
use time::{format_description::well_known::Rfc3339, OffsetDateTime};
use uuid::Uuid;

#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Subscribe a URL to events; prints the id and, once, the signing secret (`whsec_…`).
    Add {
        /// What the subscriber is called (1 to 80 characters).
        #[arg(long)]
        name: String,
        /// Where messages are POSTed: https, resolving to public addresses only.
        #[arg(long)]
        url: String,
        /// An event to send (repeat for more): person.created, person.updated, person.deleted,
        /// person.signed_in, person.locked, consent.changed, session.ended.
        #[arg(long = "event")]
        events: Vec<String>,
        /// Allow a target on a loopback, private or other non-public address, and plain http.
        #[arg(long)]
        allow_private: bool,
    },
    /// List the subscriptions.
    List,
    /// Make a new signing secret (shown once); the previous one keeps signing for 24 hours.
    RotateSecret { id: String },
    /// Send a subscription nothing more until it is enabled again.
    Disable { id: String },
    /// Send a disabled subscription its events again.
    Enable { id: String },
    /// Delete a subscription, its secrets, its undelivered messages and its log.
    Remove { id: String },
    /// Show a subscription's delivery attempts, newest first.
    Log {
        id: String,
        /// How many (1 to 1000).
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

fn subscription_id(id: &str) -> anyhow::Result<Uuid> {
    Uuid::parse_str(id.trim()).map_err(|_| {
        anyhow::anyhow!("{id:?} is not a webhook subscription id (see `webhook list`)")
    })
}

fn moment(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// Runs a `webhook` command.
pub async fn run(state: &AppState, command: WebhookCommand) -> anyhow::Result<()> {
    let db = &state.db;
    let secrets = webhooks::secret_box(state);
    match command {
        WebhookCommand::Add {
            name,
            url,
            events,
            allow_private,
        } => {
            let new = NewSubscription {
                name,
                url,
                events,
                allow_private_targets: allow_private,
            };
            let (id, secret) = webhooks::add(db, secrets, &new, Actor::Cli).await?;
            println!("id: {id}");
            println!("secret: {}", secret.reveal());
            println!(
                "The secret is shown this once: give it to the subscriber, who verifies each \
                 message's webhook-signature with it."
            );
        }
        WebhookCommand::List => {
            let all = webhooks::list(db).await?;
            if all.is_empty() {
                println!(
                    "No webhook subscriptions. Events: {}",
                    EventType::ALL.map(EventType::as_str).join(", ")
                );
            }
            for s in all {
                println!(
                    "{}  {:8}  {}  {}  events: {}  pending: {}  failed (24 h): {}{}",
                    s.id,
                    if s.enabled { "enabled" } else { "disabled" },
                    s.name,
                    s.url,
                    s.event_types.join(","),
                    s.pending,
                    s.failed_lately,
                    if s.allow_private_targets {
                        "  private targets allowed"
                    } else {
                        ""
                    }
                );
            }
        }
        WebhookCommand::RotateSecret { id } => {
            let id = subscription_id(&id)?;
            let (secret, until) = webhooks::rotate_secret(db, secrets, id, Actor::Cli).await?;
            println!("secret: {}", secret.reveal());
            println!(
                "The secret is shown this once. The previous one signs beside it until {}.",
                moment(until)
            );
        }
        WebhookCommand::Disable { id } => {
            let id = subscription_id(&id)?;
            if webhooks::set_enabled(db, id, false, Actor::Cli).await? {
                println!("Disabled {id}.");
            } else {
                println!("{id} was disabled already.");
            }
        }
        WebhookCommand::Enable { id } => {
            let id = subscription_id(&id)?;
            if webhooks::set_enabled(db, id, true, Actor::Cli).await? {
                println!("Enabled {id}.");
            } else {
                println!("{id} was enabled already.");
            }
        }
        WebhookCommand::Remove { id } => {
            let id = subscription_id(&id)?;
            webhooks::remove(db, id, Actor::Cli).await?;
            println!("Removed {id}.");
        }
        WebhookCommand::Log { id, limit } => {
            let id = subscription_id(&id)?;
            let attempts = deliveries::log(db, id, limit).await?;
            if attempts.is_empty() {
                println!("No delivery attempts yet.");
            }
            for a in attempts {
                let result = match (a.status, a.error) {
                    (Some(status), None) => format!("{status} delivered"),
                    (Some(status), Some(error)) => format!("{status} failed: {error}"),
                    (None, Some(error)) => format!("failed: {error}"),
                    (None, None) => "failed".to_owned(),
                };
                println!(
                    "{}  {}  message {}  attempt {}  {} ms  {}",
                    moment(a.at),
                    a.event_type,
                    a.message_id.as_deref().unwrap_or("(forgotten)"),
                    a.attempt,
                    a.duration_ms,
                    result
                );
            }
        }
    }
    Ok(())
}
