//! Runs breach responses (`customers::breach`) a batch at a time: woken when one starts, and
//! every ten seconds for work another node left (a batch claimed by a node that died is
//! claimed again once its transaction is gone).

use std::time::Duration;

use app::{domain::customers::breach, state::AppState};
use tokio::sync::watch;

pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        loop {
            match breach::run_batch(&state).await {
                Ok(0) => break,
                Ok(_) => {
                    if *shutdown.borrow() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::error!(error = ?e, "a breach response batch failed");
                    break;
                }
            }
        }
        tokio::select! {
            _ = state.breach_queued.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(10)) => {}
            _ = shutdown.changed() => return,
        }
    }
}
