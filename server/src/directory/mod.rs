//! The directory's endpoints for partner apps: the policy decision endpoint
//! (`POST /api/v1/decisions`, `decisions`). The logic is in `app::domain::directory`.

mod decisions;

use app::state::AppState;
use axum::{routing::post, Router};

pub use decisions::{DECISIONS_PATH, MAX_REQUEST_BYTES};

/// Endpoints called by apps with their client credentials: no session, no cookies.
pub fn api_routes(state: AppState) -> Router {
    Router::new()
        .route(DECISIONS_PATH, post(decisions::decide))
        .with_state(state)
}
