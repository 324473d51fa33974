//! Runs the customer imports the console queued (`customers::import_jobs`), one at a time:
//! woken when one is queued, and every ten seconds for one queued on another node.

use app::{domain::customers::import_jobs, state::AppState};
use tokio::sync::watch;

pub async fn run(state: AppState, shutdown: watch::Receiver<bool>) {
    let wake = state.import_queued.clone();
    super::drain_queue("a customer import", wake, shutdown, move || {
        let state = state.clone();
        async move { import_jobs::run_next(&state).await }
    })
    .await
}
