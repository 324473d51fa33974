//! `server audit`: seal what waits and check the audit trail's hash chain.

use app::{domain::audit::chain, state::AppState};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Walk the audit trail's hash chain from its start and report the first broken link
    /// (a row changed or removed in the database); exits with an error when one is found.
    Verify,
    /// Seal every row written since the sealer last ran (the server does so every few
    /// seconds).
    Seal,
}

/// Runs an `audit` command.
pub async fn run(state: &AppState, command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Seal => {
            let sealed = chain::seal_all(&state.db, &state.audit_chain).await?;
            println!("{sealed} row(s) sealed.");
        }
        AuditCommand::Verify => {
            let verdict = chain::verify(&state.db, &state.audit_chain).await?;
            match verdict.broken {
                None => println!(
                    "The audit chain holds: {} row(s) checked; {} not sealed yet.",
                    verdict.checked, verdict.unsealed
                ),
                Some(broken) => anyhow::bail!(
                    "the audit chain is broken at row {} (link {}): {}. The {} row(s) before it hold.",
                    broken.id,
                    broken.seq,
                    broken.why,
                    verdict.checked
                ),
            }
        }
    }
    Ok(())
}
