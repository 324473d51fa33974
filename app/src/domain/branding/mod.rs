//! Brands (the `brands` table): the default look of every page and mail, and the look of each
//! partner app that has its own. A page or a mail wears the brand of the app whose flow the
//! browser is in (`ClientInfo::app`), else the default. Editing is `edit`, the uploaded logo
//! `logo`, the stylesheet `css`.

pub mod css;
pub mod edit;
pub mod logo;

use std::sync::Arc;

use sqlx::PgExecutor;
use uuid::Uuid;

use super::{client::ClientInfo, oidc::notice_cache::NoticeCache};
use crate::domain::privacy::{Erasure, Export, Table};
use crate::model::branding::{BrandSettings, Branding};
use crate::state::AppState;

/// One row of `brands`, without the logo's bytes.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Brand {
    pub id: Uuid,
    /// The app it belongs to; `None` for the default.
    pub client_id: Option<String>,
    pub product_name: String,
    pub primary_color: String,
    pub accent_color: String,
    pub background_color: String,
    pub text_color: String,
    pub font: String,
    pub css_vars: sqlx::types::Json<std::collections::BTreeMap<String, String>>,
    pub signin_heading: String,
    pub signin_intro: String,
    pub register_heading: String,
    pub register_intro: String,
    pub consent_intro: String,
    pub footer_text: String,
    pub mail_sender_name: String,
    pub mail_footer: String,
    pub has_logo: bool,
    pub version: i32,
}

const COLUMNS: &str = "id, client_id, product_name, primary_color, accent_color, \
    background_color, text_color, font, css_vars, signin_heading, signin_intro, \
    register_heading, register_intro, consent_intro, footer_text, mail_sender_name, \
    mail_footer, logo IS NOT NULL AS has_logo, version";

/// The default brand.
pub async fn default_brand(db: impl PgExecutor<'_>) -> sqlx::Result<Brand> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM brands WHERE client_id IS NULL"
    ))
    .fetch_one(db)
    .await
}

/// The brand of app `client_id`: its own when it has one, else the default.
pub async fn for_app(db: impl PgExecutor<'_>, client_id: &str) -> sqlx::Result<Brand> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM brands WHERE client_id = $1 OR client_id IS NULL
         ORDER BY client_id IS NULL LIMIT 1"
    ))
    .bind(client_id)
    .fetch_one(db)
    .await
}

/// The brand a request wears: that of the app whose sign-in flow the browser is in, else the
/// default.
pub async fn for_client(db: impl PgExecutor<'_>, client: &ClientInfo) -> sqlx::Result<Brand> {
    match client.app.as_deref() {
        Some(app) => for_app(db, app).await,
        None => default_brand(db).await,
    }
}

/// The channel a trigger notifies on any change to `brands`.
pub const CHANNEL: &str = "brands_changed";

/// The brands pages wear, by app (`None`: the default), held in memory per node while
/// `brands_changed` notices arrive (each empties it): every page reads one, and they change
/// rarely.
pub type BrandCache = NoticeCache<Option<String>, Brand>;

impl Default for BrandCache {
    fn default() -> Self {
        Self::new(1_000)
    }
}

/// The brand a page wears (as [`for_client`]), from this node's memory while change notices
/// arrive, otherwise read.
pub async fn worn(state: &AppState, client: &ClientInfo) -> sqlx::Result<Arc<Brand>> {
    state
        .brands
        .get_or_load(&client.app, || async {
            for_client(&state.db, client).await.map(Some)
        })
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// The brand with id `id`.
pub async fn by_id(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<Brand>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM brands WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The brand app `client_id` has of its own, if any.
pub async fn own_of_app(db: impl PgExecutor<'_>, client_id: &str) -> sqlx::Result<Option<Brand>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM brands WHERE client_id = $1"
    ))
    .bind(client_id)
    .fetch_optional(db)
    .await
}

impl Brand {
    /// Where this brand's logo is served (the product's own when none was uploaded).
    pub fn logo_path(&self) -> String {
        if self.has_logo {
            format!("/brand/{}/logo?v={}", self.id, self.version)
        } else {
            "/logo.svg".into()
        }
    }

    /// Where this brand's stylesheet is served.
    pub fn css_path(&self) -> String {
        format!("/brand/{}/style.css?v={}", self.id, self.version)
    }

    /// What a page wears.
    pub fn page(&self) -> Branding {
        Branding {
            product_name: self.product_name.clone(),
            logo_path: self.logo_path(),
            css_path: self.css_path(),
            signin_heading: self.signin_heading.clone(),
            signin_intro: self.signin_intro.clone(),
            register_heading: self.register_heading.clone(),
            register_intro: self.register_intro.clone(),
            consent_intro: self.consent_intro.clone(),
            footer_text: self.footer_text.clone(),
        }
    }

    /// The fields as the console's form shows them.
    pub fn settings(&self) -> BrandSettings {
        BrandSettings {
            product_name: self.product_name.clone(),
            primary_color: self.primary_color.clone(),
            accent_color: self.accent_color.clone(),
            background_color: self.background_color.clone(),
            text_color: self.text_color.clone(),
            font: self.font.clone(),
            css_vars: self
                .css_vars
                .0
                .iter()
                .map(|(name, value)| format!("{name}: {value}\n"))
                .collect(),
            signin_heading: self.signin_heading.clone(),
            signin_intro: self.signin_intro.clone(),
            register_heading: self.register_heading.clone(),
            register_intro: self.register_intro.clone(),
            consent_intro: self.consent_intro.clone(),
            footer_text: self.footer_text.clone(),
            mail_sender_name: self.mail_sender_name.clone(),
            mail_footer: self.mail_footer.clone(),
        }
    }
}

/// An app as the brand page lists it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AppBrand {
    pub client_id: String,
    pub name: String,
    /// Whether it has a brand of its own (else it wears the default).
    pub own: bool,
}

/// Every app and whether it has its own brand, by name.
pub async fn apps(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<AppBrand>> {
    sqlx::query_as(
        "SELECT c.id AS client_id, c.name, b.id IS NOT NULL AS own
         FROM oauth_clients c LEFT JOIN brands b ON b.client_id = c.id
         ORDER BY c.name, c.id",
    )
    .fetch_all(db)
    .await
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[Table {
    name: "brands",
    person: None,
    personal: &[],
    other: &[
        "id",
        "client_id",
        "product_name",
        "primary_color",
        "accent_color",
        "background_color",
        "text_color",
        "font",
        "css_vars",
        "signin_heading",
        "signin_intro",
        "register_heading",
        "register_intro",
        "consent_intro",
        "footer_text",
        "mail_sender_name",
        "mail_footer",
        "logo",
        "logo_type",
        "version",
        "updated_at",
    ],
    export: Export::Not("holds nothing about people"),
    erasure: Erasure::Nothing,
}];
