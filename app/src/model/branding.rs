//! The portal's look as both sides read it: product name, colours and logo.

use serde::{Deserialize, Serialize};

/// Product name, colours and logo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Branding {
    pub product_name: String,
    pub primary_color: String,
    pub accent_color: String,
    pub logo_path: String,
}

impl Default for Branding {
    fn default() -> Self {
        Self {
            product_name: "Keyhaven".into(),
            primary_color: "#3a4fd8".into(),
            accent_color: "#0f9d8a".into(),
            logo_path: "/logo.svg".into(),
        }
    }
}
