//! Builds the data exports people ask for (`privacy::export`), one at a time: woken when one is
//! asked for, and every ten seconds for one asked for on another node.

use app::{domain::privacy::export, state::AppState};
use tokio::sync::watch;

pub async fn run(state: AppState, shutdown: watch::Receiver<bool>) {
    let wake = state.export_queued.clone();
    super::drain_queue("a data export", wake, shutdown, move || {
        let state = state.clone();
        async move { export::run_next(&state).await }
    })
    .await
}
