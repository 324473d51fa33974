//! A brand's uploaded logo: checked by its bytes (PNG, JPEG, GIF or WebP, at most 256 KiB),
//! stored in the brand's row and served from this site under the type it was checked as.
//! SVG is refused: it can carry scripts, and a logo needs none.

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{
    audit::{self, Actor, AuditEvent, Outcome},
    client::ClientInfo,
};

/// The largest logo accepted.
pub const MAX_BYTES: usize = 256 * 1024;

/// Why a logo was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LogoError {
    #[error("Choose an image file to upload.")]
    Empty,
    #[error("The logo may be at most 256 KiB.")]
    TooLarge,
    #[error("The logo must be a PNG, JPEG, GIF or WebP image (SVG is not accepted).")]
    NotAnImage,
    #[error("There is no such app.")]
    NoSuchApp,
}

/// The image type `bytes` start as, if it is one accepted.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Checks `bytes` as a logo; answers its type.
pub fn check(bytes: &[u8]) -> Result<&'static str, LogoError> {
    if bytes.is_empty() {
        return Err(LogoError::Empty);
    }
    if bytes.len() > MAX_BYTES {
        return Err(LogoError::TooLarge);
    }
    sniff(bytes).ok_or(LogoError::NotAnImage)
}

/// Sets the logo of `app`'s brand (the default's when `None`), giving the app a brand of its
/// own (a copy of the default) when it had none. Audited with the type and size, not the bytes.
pub async fn set(
    db: &PgPool,
    app: Option<&str>,
    bytes: &[u8],
    actor: Actor,
) -> sqlx::Result<Result<(), LogoError>> {
    let content_type = match check(bytes) {
        Ok(t) => t,
        Err(e) => return Ok(Err(e)),
    };
    let mut tx = db.begin().await?;
    if let Some(app) = app {
        sqlx::query(
            "INSERT INTO brands (client_id, product_name, primary_color, accent_color,
                 background_color, text_color, font, css_vars, signin_heading, signin_intro,
                 register_heading, register_intro, consent_intro, footer_text,
                 mail_sender_name, mail_footer, logo, logo_type)
             SELECT c.id, b.product_name, b.primary_color, b.accent_color, b.background_color,
                    b.text_color, b.font, b.css_vars, b.signin_heading, b.signin_intro,
                    b.register_heading, b.register_intro, b.consent_intro, b.footer_text,
                    b.mail_sender_name, b.mail_footer, b.logo, b.logo_type
             FROM oauth_clients c, brands b
             WHERE c.id = $1 AND b.client_id IS NULL
             ON CONFLICT (client_id) DO NOTHING",
        )
        .bind(app)
        .execute(&mut *tx)
        .await?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM brands WHERE client_id = $1)")
                .bind(app)
                .fetch_one(&mut *tx)
                .await?;
        if !exists {
            return Ok(Err(LogoError::NoSuchApp));
        }
    }
    sqlx::query(
        "UPDATE brands SET logo = $2, logo_type = $3, version = version + 1, updated_at = now()
         WHERE client_id IS NOT DISTINCT FROM $1",
    )
    .bind(app)
    .bind(bytes)
    .bind(content_type)
    .execute(&mut *tx)
    .await?;
    let event = AuditEvent::new("brand.logo_changed", Outcome::Success)
        .by_actor(actor)
        .detail(json!({
            "brand": app.unwrap_or("default"),
            "type": content_type,
            "bytes": bytes.len(),
        }));
    audit::record(&mut *tx, &ClientInfo::default(), event).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// The logo of brand `id` and its type, if it has one.
pub async fn get(db: &PgPool, id: Uuid) -> sqlx::Result<Option<(Vec<u8>, String)>> {
    sqlx::query_as("SELECT logo, logo_type FROM brands WHERE id = $1 AND logo IS NOT NULL")
        .bind(id)
        .fetch_optional(db)
        .await
}
