//! `server settings`: the sign-in policy's switches.

use app::domain::{audit::Actor, settings};
use clap::Subcommand;
use sqlx::PgPool;

#[derive(Subcommand)]
pub enum SettingsCommand {
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

/// Runs a `settings` command, then prints every switch.
pub async fn run(db: &PgPool, command: SettingsCommand) -> anyhow::Result<()> {
    if let SettingsCommand::Set { name, value } = command {
        let on = match value.as_str() {
            "on" | "true" => true,
            "off" | "false" => false,
            other => anyhow::bail!("the value must be 'on' or 'off', not {other:?}"),
        };
        if settings::set(db, &name, on, Actor::Cli).await?.is_none() {
            anyhow::bail!(
                "no switch named {name:?}; the switches are: {}",
                settings::SWITCHES.join(", ")
            );
        }
    }
    let s = settings::load(db).await?;
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
    Ok(())
}
