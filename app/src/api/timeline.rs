//! The signed-in person's security timeline, and "this wasn't me".

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// One event as the timeline shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// UTC, e.g. "2026-11-29 05:40 UTC".
    pub at: String,
    /// What happened, in plain words of the reader's language.
    pub what: String,
    pub failed: bool,
    pub device: String,
    pub place: Option<String>,
    pub network: Option<String>,
}

/// A page of the timeline; `next` asks for the older page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelinePage {
    pub entries: Vec<TimelineEntry>,
    pub next: Option<i64>,
}

/// The newest events of the signed-in person older than `before` (the newest when empty).
#[server(prefix = "/api", endpoint = "timeline")]
pub async fn timeline(before: Option<i64>) -> Result<TimelinePage, AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    let locale = context::client().reading.language();
    let page = crate::domain::timeline::page(&state, user_id, before, locale).await?;
    Ok(TimelinePage {
        entries: page
            .entries
            .into_iter()
            .map(|e| TimelineEntry {
                at: context::moment(e.at),
                what: e.what,
                failed: e.failed,
                device: e.device,
                place: e.country,
                network: e.ip,
            })
            .collect(),
        next: page.next,
    })
}

/// "This wasn't me": every device is signed out (this one too) and a reset link is mailed.
#[server(prefix = "/api", endpoint = "timeline/not-me")]
pub async fn report_unrecognised() -> Result<(), AppError> {
    use super::context;
    use crate::domain::{error::AccountError, sessions};
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    crate::domain::timeline::report(&state, &context::client(), user_id).await?;
    sessions::sign_out(&session)
        .await
        .map_err(AccountError::from)?;
    leptos_axum::redirect("/signin?reported=1");
    Ok(())
}
