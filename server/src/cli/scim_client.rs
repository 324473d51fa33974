//! `server scim-client`: the SCIM provisioning clients (an identity provider such as Entra ID
//! or Okta): add one (its bearer token shown once), list them, revoke one. Every change is
//! audited with `cli` as the actor.

use app::domain::{audit::Actor, scim::clients};
use clap::Subcommand;
use sqlx::PgPool;
use time::{format_description::well_known::Rfc3339, OffsetDateTime};
use uuid::Uuid;

#[derive(Subcommand)]
pub enum ScimClientCommand {
    /// Add a provisioning client; prints its id and, once, its bearer token.
    Add {
        /// What the client is called (1 to 80 characters), e.g. "Entra ID".
        name: String,
    },
    /// List the provisioning clients.
    List,
    /// Revoke a client: its token is refused from now on.
    Revoke { id: String },
}

fn moment(at: Option<OffsetDateTime>) -> String {
    at.map_or_else(
        || "-".to_owned(),
        |at| at.format(&Rfc3339).unwrap_or_else(|_| at.to_string()),
    )
}

/// Runs a `scim-client` command.
pub async fn run(db: &PgPool, public_url: &str, command: ScimClientCommand) -> anyhow::Result<()> {
    match command {
        ScimClientCommand::Add { name } => {
            let (id, token) = clients::add(db, &name, Actor::Cli).await?;
            println!("id: {id}");
            println!("token: {token}");
            println!(
                "The token is shown this once. Give the identity provider the tenant URL {}{} \
                 and this token (Authorization: Bearer).",
                public_url.trim_end_matches('/'),
                server::scim::PREFIX
            );
        }
        ScimClientCommand::List => {
            let all = clients::list(db).await?;
            if all.is_empty() {
                println!("No provisioning clients.");
            }
            for c in all {
                let state = match c.revoked_at {
                    Some(at) => format!("revoked {}", moment(Some(at))),
                    None => "active".to_owned(),
                };
                println!(
                    "{}  {}  {}  added {}  last used {}",
                    c.id,
                    state,
                    c.name,
                    moment(Some(c.created_at)),
                    moment(c.last_used_at)
                );
            }
        }
        ScimClientCommand::Revoke { id } => {
            let id = Uuid::parse_str(id.trim()).map_err(|_| {
                anyhow::anyhow!("{id:?} is not a provisioning client id (see `scim-client list`)")
            })?;
            if clients::revoke(db, id, Actor::Cli).await? {
                println!("Revoked {id}: its token is refused from now on.");
            } else {
                println!("{id} was revoked already.");
            }
        }
    }
    Ok(())
}
