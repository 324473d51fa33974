//! Breach response in the console: describe the target, see how many customers it touches
//! with a sample, then start it and follow its progress.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::error::AppError;

/// The breach form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreachForm {
    /// `customers`, `network` or `hash_prefix`.
    #[serde(default)]
    pub kind: String,
    /// Addresses or ids, separated by spaces, commas or lines.
    #[serde(default)]
    pub customers: String,
    #[serde(default)]
    pub network: String,
    /// `YYYY-MM-DDTHH:MM`, UTC.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub prefix: String,
    #[serde(default)]
    pub notice: String,
}

/// What a response would touch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreachPreview {
    pub count: usize,
    pub sample: Vec<String>,
}

/// A response's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreachProgress {
    pub id: i64,
    pub total: i32,
    pub done: i32,
    pub finished: bool,
}

#[cfg(feature = "ssr")]
async fn target(
    db: &sqlx::PgPool,
    form: &BreachForm,
) -> Result<crate::domain::customers::breach::Target, AppError> {
    use crate::domain::{audit::query, customers::breach::Target};
    let moment = |raw: &str, field: &str| -> Result<time::OffsetDateTime, AppError> {
        let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
        time::PrimitiveDateTime::parse(raw.trim(), &format)
            .map(time::PrimitiveDateTime::assume_utc)
            .map_err(|_| AppError::field(field, "Give a time as YYYY-MM-DDTHH:MM (UTC)."))
    };
    match form.kind.as_str() {
        "customers" => {
            let mut ids = Vec::new();
            for token in form
                .customers
                .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
                .filter(|t| !t.is_empty())
            {
                let id = query::person(db, token, "customers").await.map_err(|_| {
                    AppError::field("customers", format!("No account uses {token}."))
                })?;
                ids.extend(id);
            }
            if ids.is_empty() {
                return Err(AppError::field("customers", "Name at least one customer."));
            }
            Ok(Target::Customers { ids })
        }
        "network" => Ok(Target::SignedInFrom {
            network: query::network(&form.network)
                .map_err(|e| AppError::field("network", e.to_string()))?
                .ok_or_else(|| AppError::field("network", "Give a network like 203.0.113.0/24."))?,
            from: moment(&form.from, "from")?,
            to: moment(&form.to, "to")?,
        }),
        "hash_prefix" => Ok(Target::PasswordHashPrefix {
            prefix: form.prefix.trim().to_owned(),
        }),
        _ => Err(AppError::field("kind", "Choose whom the response targets.")),
    }
}

/// How many customers the response would touch, and a sample.
#[server(prefix = "/api", endpoint = "console/breach/preview")]
pub async fn preview_breach(form: BreachForm) -> Result<BreachPreview, AppError> {
    use crate::domain::{customers::breach, staff::Permission};
    let allowed = super::guard(Permission::CustomersBreach).await?;
    let target = target(&allowed.state.db, &form).await?;
    let preview = breach::preview(&allowed.state.db, &target).await?;
    Ok(BreachPreview {
        count: preview.count,
        sample: preview.sample,
    })
}

/// Starts the response (the same target and notice twice is one response); its id.
#[server(prefix = "/api", endpoint = "console/breach/start")]
pub async fn start_breach(form: BreachForm, confirm: Option<String>) -> Result<i64, AppError> {
    use crate::domain::{customers::breach, staff::Permission};
    let allowed = super::guard_change(Permission::CustomersBreach, confirm.as_deref()).await?;
    let target = target(&allowed.state.db, &form).await?;
    let id = breach::start(
        &allowed.state,
        &allowed.client,
        allowed.actor(),
        &target,
        &form.notice,
    )
    .await?;
    leptos_axum::redirect(&format!("/admin/breach?response={id}"));
    Ok(id)
}

/// The progress of response `id`.
#[server(prefix = "/api", endpoint = "console/breach/progress")]
pub async fn breach_status(id: i64) -> Result<BreachProgress, AppError> {
    use crate::domain::{customers::breach, staff::Permission};
    let allowed = super::guard(Permission::CustomersBreach).await?;
    let p = breach::progress(&allowed.state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(BreachProgress {
        id: p.id,
        total: p.total,
        done: p.done,
        finished: p.finished_at.is_some(),
    })
}
