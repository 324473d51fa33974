//! The portal's look: product name, colours and logo, from the `branding` row.

use sqlx::PgExecutor;

use crate::model::branding::Branding;

/// Reads the branding row.
pub async fn load(db: impl PgExecutor<'_>) -> sqlx::Result<Branding> {
    sqlx::query_as(
        "SELECT product_name, primary_color, accent_color, logo_path FROM branding WHERE id",
    )
    .fetch_one(db)
    .await
}
