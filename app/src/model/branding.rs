//! A brand as both sides read it: what a page wears (`Branding`) and what the console edits
//! (`BrandSettings`).

use serde::{Deserialize, Serialize};

/// What a page wears: name, logo, stylesheet and the page texts (empty: the built-in wording).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branding {
    pub product_name: String,
    /// The logo's address on this site.
    pub logo_path: String,
    /// The brand's stylesheet (colours, font, custom variables), versioned for caching.
    pub css_path: String,
    pub signin_heading: String,
    pub signin_intro: String,
    pub register_heading: String,
    pub register_intro: String,
    pub consent_intro: String,
    pub footer_text: String,
}

impl Branding {
    /// `text`, or `fallback` when the brand leaves it empty.
    pub fn or<'a>(text: &'a str, fallback: &'a str) -> &'a str {
        if text.trim().is_empty() {
            fallback
        } else {
            text
        }
    }
}

impl Default for Branding {
    fn default() -> Self {
        Self {
            product_name: "Keyhaven".into(),
            logo_path: "/logo.svg".into(),
            css_path: String::new(),
            signin_heading: String::new(),
            signin_intro: String::new(),
            register_heading: String::new(),
            register_intro: String::new(),
            consent_intro: String::new(),
            footer_text: String::new(),
        }
    }
}

/// Every editable field of a brand, as the console's form shows and sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BrandSettings {
    pub product_name: String,
    pub primary_color: String,
    pub accent_color: String,
    pub background_color: String,
    pub text_color: String,
    pub font: String,
    /// Custom CSS variables, one `--name: value` per line.
    pub css_vars: String,
    pub signin_heading: String,
    pub signin_intro: String,
    pub register_heading: String,
    pub register_intro: String,
    pub consent_intro: String,
    pub footer_text: String,
    pub mail_sender_name: String,
    pub mail_footer: String,
}

/// The fonts a brand may choose: stacks of fonts the reader's system has (the site loads no
/// font from elsewhere).
pub const FONTS: [(&str, &str); 5] = [
    ("system", "The system's interface font"),
    ("humanist", "Humanist sans-serif"),
    ("serif", "Serif"),
    ("rounded", "Rounded sans-serif"),
    ("mono", "Monospace"),
];
