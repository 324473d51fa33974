//! `server seed`: realistic demo customers, for demos and the benchmarks.

use app::{
    domain::{
        audit::Actor,
        customers::seed,
        password::{NewPassword, PasswordPolicy},
    },
    state::AppState,
};

/// Adds `customers` customers, all with `password` (or a random one).
pub async fn run(state: &AppState, customers: u64, password: Option<String>) -> anyhow::Result<()> {
    let password = password
        .map(|p| {
            NewPassword::parse(p, &[], &PasswordPolicy::default())
                .map_err(|e| anyhow::anyhow!("--password: {e}"))
        })
        .transpose()?;
    let started = std::time::Instant::now();
    let added = seed::seed(state, customers, password.as_ref(), Actor::Cli).await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{added} customers added in {seconds:.1} s ({:.0} a second).",
        added as f64 / seconds.max(0.001)
    );
    Ok(())
}
