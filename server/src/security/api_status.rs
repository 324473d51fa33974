//! Gives API errors their proper HTTP status. Server functions answer every error with 500;
//! this reads the error they carry and answers 4xx for the caller's mistakes, and 503 with
//! `Retry-After` when an overload is being shed.

use app::api::error::AppError;
use axum::{body::Body, extract::Request, middleware::Next, response::Response};
use http::StatusCode;

/// When a caller refused as busy may come back, in seconds: a hash takes tens of milliseconds,
/// so a second later the queue has turned over many times.
pub const RETRY_AFTER_SECS: &str = "1";

/// Errors are small JSON documents; anything bigger is left alone.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn api_error_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key("serverfnerror")
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(error.status_code()) {
            parts.status = status;
        }
        if matches!(error, AppError::Busy | AppError::Unavailable) {
            parts.headers.insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
