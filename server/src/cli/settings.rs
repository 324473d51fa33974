//! `server settings`: the sign-in policy's switches (among them `dpop_nonce_required`: apps'
//! DPoP proofs must carry the server's nonce, RFC 9449 §8), who must use a second factor, the
//! risk engine's thresholds, the password policy, session lifetimes and the grace period of an
//! account deletion.

use app::domain::{audit::Actor, mfa::policy::MfaPolicy, settings};
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
    /// Set who must sign in with a second factor: `off` (nobody is asked, not even those who
    /// enrolled one), `optional` (those who enrolled one), `admins` (administrators must; the
    /// default) or `required` (everyone must).
    Mfa {
        /// `off`, `optional`, `admins` or `required`.
        policy: String,
    },
    /// Set the risk engine's thresholds: the score at which a second factor is asked, and the
    /// score at which a sign-in is refused. A threshold left out returns to its default.
    Risk {
        #[arg(long)]
        step_up: Option<i32>,
        #[arg(long)]
        block: Option<i32>,
    },
    /// Set the password policy and session lifetimes; a value left out stays as it is.
    Limits {
        /// The shortest password accepted (8 to 64 characters).
        #[arg(long)]
        password_min_length: Option<i32>,
        /// The zxcvbn score a new password needs: 3 (hard to guess) or 4.
        #[arg(long)]
        password_min_strength: Option<i32>,
        /// A sign-in ends after this many minutes without a request (5 to 1440).
        #[arg(long)]
        session_idle_minutes: Option<i32>,
        /// A sign-in ends this many hours after it began (1 to 720).
        #[arg(long)]
        session_max_hours: Option<i32>,
        /// A person's "Delete my account" is carried out after this many days (1 to 90).
        #[arg(long)]
        deletion_grace_days: Option<i32>,
    },
}

/// Runs a `settings` command, then prints every switch.
pub async fn run(db: &PgPool, command: SettingsCommand) -> anyhow::Result<()> {
    if let SettingsCommand::Mfa { policy } = &command {
        let Some(policy) = MfaPolicy::parse(policy) else {
            anyhow::bail!(
                "the MFA policy must be one of off, optional, admins, required; not {policy:?}"
            );
        };
        settings::set_mfa_policy(db, policy, Actor::Cli).await?;
    }
    if let SettingsCommand::Risk { step_up, block } = &command {
        if let Err(e) = settings::set_risk_thresholds(db, *step_up, *block, Actor::Cli).await? {
            anyhow::bail!("{e}");
        }
    }
    if let SettingsCommand::Limits {
        password_min_length,
        password_min_strength,
        session_idle_minutes,
        session_max_hours,
        deletion_grace_days,
    } = &command
    {
        let now = settings::load(db).await?.limits;
        let wanted = settings::Limits {
            password_min_length: password_min_length.unwrap_or(now.password_min_length),
            password_min_strength: password_min_strength.unwrap_or(now.password_min_strength),
            session_idle_minutes: session_idle_minutes.unwrap_or(now.session_idle_minutes),
            session_max_hours: session_max_hours.unwrap_or(now.session_max_hours),
            deletion_grace_days: deletion_grace_days.unwrap_or(now.deletion_grace_days),
        };
        if let Err(e) = settings::set_limits(db, wanted, Actor::Cli).await? {
            anyhow::bail!("{}: {e}", e.field());
        }
    }
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
        ("risk_engine_enabled", s.risk_engine_enabled),
        ("dpop_nonce_required", s.dpop_nonce_required),
    ] {
        println!("{name:28} {}", if on { "on" } else { "off" });
    }
    println!("{:28} {}", "mfa_policy", s.mfa_policy);
    let thresholds = s.risk_thresholds();
    let origin = |custom: Option<i32>| if custom.is_some() { "" } else { " (default)" };
    println!(
        "{:28} {}{}",
        "risk_step_up",
        thresholds.step_up,
        origin(s.risk_step_up)
    );
    println!(
        "{:28} {}{}",
        "risk_block",
        thresholds.block,
        origin(s.risk_block)
    );
    let l = s.limits;
    for (name, value) in [
        ("password_min_length", l.password_min_length),
        ("password_min_strength", l.password_min_strength),
        ("session_idle_minutes", l.session_idle_minutes),
        ("session_max_hours", l.session_max_hours),
        ("deletion_grace_days", l.deletion_grace_days),
    ] {
        println!("{name:28} {value}");
    }
    Ok(())
}
