//! Runs breach responses (`customers::breach`) a batch at a time: woken when one starts, and
//! every ten seconds for work another node left (a batch claimed by a node that died is
//! claimed again once its transaction is gone).

use app::{domain::customers::breach, state::AppState};
use tokio::sync::watch;

pub async fn run(state: AppState, shutdown: watch::Receiver<bool>) {
    let wake = state.breach_queued.clone();
    super::drain_queue("a breach response batch", wake, shutdown, move || {
        let state = state.clone();
        async move { breach::run_batch(&state).await.map(|handled| handled > 0) }
    })
    .await
}
