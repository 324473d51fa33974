//! `server policy`: a partner app's Cedar schema and policies (set together, each save checked
//! and audited with `cli` as the actor; shown), and a decision tried as the app would ask it
//! at `POST /api/v1/decisions`.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use app::{
    domain::{
        audit::Actor,
        directory::policies::{self, DecisionRequest, Resource, Saved},
        oidc::{clients, subjects},
    },
    state::AppState,
};
use clap::Subcommand;
use serde_json::{Map, Value};

use super::group::person;

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Set an app's Cedar schema and policies (checked together; refused as a whole).
    Set {
        /// The app's client id.
        #[arg(long, allow_hyphen_values = true)]
        client: String,
        /// The schema, in Cedar's human-readable syntax.
        #[arg(long)]
        schema: PathBuf,
        /// The policies, in Cedar.
        #[arg(long)]
        policies: PathBuf,
    },
    /// Show an app's schema and policies.
    Show {
        #[arg(long, allow_hyphen_values = true)]
        client: String,
    },
    /// Ask for a decision as the app would, about a person by their address.
    Check {
        #[arg(long, allow_hyphen_values = true)]
        client: String,
        /// The person's account address.
        #[arg(long)]
        subject_email: String,
        /// The action, e.g. read.
        #[arg(long)]
        action: String,
        /// The resource: {"type", "id", "attributes", "parents"}.
        #[arg(long)]
        resource_json: PathBuf,
        /// The context: a JSON object.
        #[arg(long)]
        context_json: Option<PathBuf>,
    },
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    serde_json::from_str(&read(path)?).with_context(|| format!("{}", path.display()))
}

/// Runs a `policy` command.
pub async fn run(state: &AppState, command: PolicyCommand) -> anyhow::Result<()> {
    let db = &state.db;
    match command {
        PolicyCommand::Set {
            client,
            schema,
            policies: policy_file,
        } => {
            let (schema, policy_text) = (read(&schema)?, read(&policy_file)?);
            match policies::set(db, &client, &schema, &policy_text, Actor::Cli).await? {
                Saved::Version(v) => println!("Saved the policies of {client} as version {v}."),
                Saved::Unchanged(v) => {
                    println!("The policies of {client} are already so (version {v}).")
                }
            }
        }
        PolicyCommand::Show { client } => match policies::show(db, &client).await? {
            None => println!("{client} has no policies."),
            Some(stored) => {
                println!("// version {}, saved {}", stored.version, stored.updated_at);
                println!(
                    "// schema\n{}\n// policies\n{}",
                    stored.schema, stored.policies
                );
            }
        },
        PolicyCommand::Check {
            client,
            subject_email,
            action,
            resource_json,
            context_json,
        } => {
            let user_id = person(db, &subject_email).await?;
            let app = clients::find(db, &client)
                .await?
                .ok_or_else(|| anyhow!("no app has the client id {client:?}"))?;
            let resource: Resource = read_json(&resource_json)?;
            let context: Map<String, Value> = match &context_json {
                Some(path) => read_json(path)?,
                None => Map::new(),
            };
            let request = DecisionRequest {
                subject: subjects::subject(&state.subjects, &app, user_id),
                action,
                resource,
                context,
            };
            let decision = policies::decide(state, &app, &request).await?;
            println!(
                "{} by [{}]",
                if decision.allow { "allow" } else { "deny" },
                decision.policies.join(", ")
            );
            for error in decision.errors {
                println!("error: {error}");
            }
        }
    }
    Ok(())
}
