//! `server consent`: the consent purposes customers are asked to agree to, and their versioned
//! policy texts.

use std::path::PathBuf;

use anyhow::Context;
use app::domain::{
    audit::Actor,
    consents::purposes::{self, NewPurpose},
};
use clap::{Args, Subcommand};
use sqlx::PgPool;

/// A policy text, given inline or read from a file.
#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct PolicyText {
    /// The policy text.
    #[arg(long)]
    text: Option<String>,
    /// A file holding the policy text (UTF-8).
    #[arg(long)]
    text_file: Option<PathBuf>,
}

impl PolicyText {
    fn read(self) -> anyhow::Result<String> {
        match (self.text, self.text_file) {
            (Some(text), _) => Ok(text),
            (None, Some(path)) => std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display())),
            (None, None) => anyhow::bail!("give --text or --text-file"),
        }
    }
}

#[derive(Subcommand)]
pub enum ConsentCommand {
    /// List the purposes with their current policy version.
    List {
        /// Show retired purposes too.
        #[arg(long)]
        all: bool,
    },
    /// Print a purpose's policy text (the current version, or the one given).
    Show {
        key: String,
        #[arg(long)]
        version: Option<i32>,
    },
    /// Add a purpose, with version 1 of its policy text.
    Add {
        /// Short name, e.g. loyalty_program (lowercase letters, digits, underscores).
        #[arg(long)]
        key: String,
        /// What people see, e.g. "Loyalty program".
        #[arg(long)]
        name: String,
        /// People must accept it to register and to go on signing in.
        #[arg(long)]
        required: bool,
        /// consent, contract, legal_obligation, vital_interests, public_task or
        /// legitimate_interests.
        #[arg(long)]
        basis: String,
        /// Only asked where this applies: a two-letter country code, or EU.
        #[arg(long)]
        region: Option<String>,
        #[command(flatten)]
        text: PolicyText,
    },
    /// Publish a new version of a purpose's policy text. A required purpose is asked for again
    /// at each person's next sign-in.
    Publish {
        key: String,
        #[command(flatten)]
        text: PolicyText,
    },
    /// Stop asking for a purpose (its history stays).
    Retire { key: String },
}

/// Runs a `consent` command.
pub async fn run(db: &PgPool, command: ConsentCommand) -> anyhow::Result<()> {
    match command {
        ConsentCommand::List { all } => {
            for p in purposes::list(db, all).await? {
                println!(
                    "{:20} v{:<4} {:9} {:21} {:6} {}{}",
                    p.key,
                    p.version,
                    if p.required { "required" } else { "optional" },
                    p.lawful_basis.as_str(),
                    p.region.as_deref().unwrap_or("-"),
                    p.name,
                    if p.retired_at.is_some() {
                        " (retired)"
                    } else {
                        ""
                    },
                );
            }
        }
        ConsentCommand::Show { key, version } => {
            let purpose = purposes::get(db, &key)
                .await?
                .with_context(|| format!("no purpose named {key:?}"))?;
            let version = version.unwrap_or(purpose.version);
            let text = purposes::policy_text(db, &key, version)
                .await?
                .with_context(|| format!("{key} has no version {version}"))?;
            println!("{text}");
        }
        ConsentCommand::Add {
            key,
            name,
            required,
            basis,
            region,
            text,
        } => {
            let new = NewPurpose {
                key,
                name,
                required,
                lawful_basis: basis,
                region,
                body: text.read()?,
            };
            purposes::add(db, &new, Actor::Cli).await?;
            println!("Added {} (version 1).", new.key);
        }
        ConsentCommand::Publish { key, text } => {
            let version = purposes::publish(db, &key, &text.read()?, Actor::Cli).await?;
            println!("Published version {version} of {key}.");
        }
        ConsentCommand::Retire { key } => {
            purposes::retire(db, &key, Actor::Cli).await?;
            println!("Retired {key}.");
        }
    }
    Ok(())
}
