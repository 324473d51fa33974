//! Carries out the account deletions whose grace period is over (`privacy::erasure`), one
//! person per transaction, looking every ten seconds; nodes share the work without doing any
//! twice.

use std::sync::Arc;

use app::{domain::privacy::erasure, state::AppState};
use tokio::sync::{watch, Notify};

pub async fn run(state: AppState, shutdown: watch::Receiver<bool>) {
    // Deletions come due with time, not with a request: nothing wakes this one early.
    let wake = Arc::new(Notify::new());
    super::drain_queue("an account erasure", wake, shutdown, move || {
        let state = state.clone();
        async move { erasure::run_due(&state).await }
    })
    .await
}
