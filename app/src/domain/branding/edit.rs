//! Changing a brand: the console's form checked field by field ([`check`]), then saved with
//! one audit row naming each changed field's before and after ([`save`]); an app's own brand
//! dropped so that it wears the default again ([`reset`]).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use sqlx::PgPool;

use super::{
    css::{self, Look},
    Brand,
};
use crate::{
    domain::{
        audit::{self, Actor, AuditEvent, Outcome},
        client::ClientInfo,
    },
    model::branding::BrandSettings,
};

/// Why a form was refused: the field and what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrandError {
    pub field: &'static str,
    pub message: String,
}

fn refuse(field: &'static str, message: impl Into<String>) -> BrandError {
    BrandError {
        field,
        message: message.into(),
    }
}

/// A checked form: every value is safe to store, to show and to put in the stylesheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub product_name: String,
    pub primary_color: String,
    pub accent_color: String,
    pub background_color: String,
    pub text_color: String,
    pub font: String,
    pub css_vars: BTreeMap<String, String>,
    pub signin_heading: String,
    pub signin_intro: String,
    pub register_heading: String,
    pub register_intro: String,
    pub consent_intro: String,
    pub footer_text: String,
    pub mail_sender_name: String,
    pub mail_footer: String,
}

impl Draft {
    /// What its stylesheet is made of.
    pub fn look(&self) -> Look<'_> {
        Look {
            primary: &self.primary_color,
            accent: &self.accent_color,
            background: &self.background_color,
            text: &self.text_color,
            font: &self.font,
            vars: &self.css_vars,
        }
    }

    /// The fields as name and value, in the form's order, for comparing and auditing.
    fn fields(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("product_name", json!(self.product_name)),
            ("primary_color", json!(self.primary_color)),
            ("accent_color", json!(self.accent_color)),
            ("background_color", json!(self.background_color)),
            ("text_color", json!(self.text_color)),
            ("font", json!(self.font)),
            ("css_vars", json!(self.css_vars)),
            ("signin_heading", json!(self.signin_heading)),
            ("signin_intro", json!(self.signin_intro)),
            ("register_heading", json!(self.register_heading)),
            ("register_intro", json!(self.register_intro)),
            ("consent_intro", json!(self.consent_intro)),
            ("footer_text", json!(self.footer_text)),
            ("mail_sender_name", json!(self.mail_sender_name)),
            ("mail_footer", json!(self.mail_footer)),
        ]
    }
}

/// Plain text of at most `max` characters (line breaks only where `lines`), trimmed.
fn text(
    field: &'static str,
    raw: &str,
    max: usize,
    lines: bool,
    required: bool,
) -> Result<String, BrandError> {
    let value = raw.trim().replace("\r\n", "\n");
    if required && value.is_empty() {
        return Err(refuse(field, "Fill this in."));
    }
    if value.chars().count() > max {
        return Err(refuse(field, format!("At most {max} characters.")));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !(lines && c == '\n'))
    {
        return Err(refuse(
            field,
            "Plain text only, without control characters.",
        ));
    }
    Ok(value)
}

/// The cards' colour, behind most text.
const WHITE: &str = "#ffffff";

/// The least contrast text may have with what is behind it (WCAG 2.2 AA, 1.4.3).
const MIN_CONTRAST: f64 = 4.5;

/// Refuses `colour` for `field` when text in it, or on it, would be hard to read `against`.
fn readable(
    field: &'static str,
    colour: &str,
    against: &str,
    what: &str,
) -> Result<(), BrandError> {
    let ratio = css::contrast(colour, against);
    if ratio < MIN_CONTRAST {
        return Err(refuse(
            field,
            format!(
                "Too little contrast {what} ({ratio:.1}:1; text needs at least \
                 {MIN_CONTRAST}:1). Choose a darker or lighter colour."
            ),
        ));
    }
    Ok(())
}

/// Checks the console's form.
pub fn check(form: &BrandSettings) -> Result<Draft, BrandError> {
    let color = |field: &'static str, raw: &str| {
        css::parse_color(raw).map_err(|message| refuse(field, message))
    };
    let font = form.font.trim().to_owned();
    if css::font_stack(&font).is_none() {
        return Err(refuse("font", "Choose one of the fonts offered."));
    }
    let primary_color = color("primary_color", &form.primary_color)?;
    let background_color = color("background_color", &form.background_color)?;
    let text_color = color("text_color", &form.text_color)?;
    // Buttons carry white text on the primary colour, and links are primary on white cards;
    // text sits on the background and on the cards.
    readable("primary_color", &primary_color, WHITE, "with white")?;
    readable(
        "text_color",
        &text_color,
        &background_color,
        "with the background",
    )?;
    readable("text_color", &text_color, WHITE, "with white")?;
    let mail_sender_name = text("mail_sender_name", &form.mail_sender_name, 60, false, true)?;
    if mail_sender_name.contains(['<', '>', '"', '@', ',', ';', ':', '\\']) {
        return Err(refuse(
            "mail_sender_name",
            "A name without < > \" @ , ; : or backslashes.",
        ));
    }
    Ok(Draft {
        product_name: text("product_name", &form.product_name, 60, false, true)?,
        primary_color,
        accent_color: color("accent_color", &form.accent_color)?,
        background_color,
        text_color,
        font,
        css_vars: css::parse_vars(&form.css_vars).map_err(|m| refuse("css_vars", m))?,
        signin_heading: text("signin_heading", &form.signin_heading, 120, false, false)?,
        signin_intro: text("signin_intro", &form.signin_intro, 400, true, false)?,
        register_heading: text(
            "register_heading",
            &form.register_heading,
            120,
            false,
            false,
        )?,
        register_intro: text("register_intro", &form.register_intro, 400, true, false)?,
        consent_intro: text("consent_intro", &form.consent_intro, 400, true, false)?,
        footer_text: text("footer_text", &form.footer_text, 400, true, false)?,
        mail_sender_name,
        mail_footer: text("mail_footer", &form.mail_footer, 1000, true, false)?,
    })
}

/// `brand`'s fields as a draft, to compare a new one with.
fn as_draft(brand: &Brand) -> Draft {
    Draft {
        product_name: brand.product_name.clone(),
        primary_color: brand.primary_color.clone(),
        accent_color: brand.accent_color.clone(),
        background_color: brand.background_color.clone(),
        text_color: brand.text_color.clone(),
        font: brand.font.clone(),
        css_vars: brand.css_vars.0.clone(),
        signin_heading: brand.signin_heading.clone(),
        signin_intro: brand.signin_intro.clone(),
        register_heading: brand.register_heading.clone(),
        register_intro: brand.register_intro.clone(),
        consent_intro: brand.consent_intro.clone(),
        footer_text: brand.footer_text.clone(),
        mail_sender_name: brand.mail_sender_name.clone(),
        mail_footer: brand.mail_footer.clone(),
    }
}

/// The brand `app` (or the default) is to be written to, locked; for an app without its own,
/// the default it wore until now, and `false`.
async fn locked(
    tx: &mut sqlx::PgConnection,
    app: Option<&str>,
) -> sqlx::Result<Option<(Brand, bool)>> {
    let columns = super::COLUMNS;
    let own: Option<Brand> = sqlx::query_as(&format!(
        "SELECT {columns} FROM brands WHERE client_id IS NOT DISTINCT FROM $1 FOR UPDATE"
    ))
    .bind(app)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(own) = own {
        return Ok(Some((own, true)));
    }
    let Some(app) = app else { return Ok(None) };
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM oauth_clients WHERE id = $1)")
            .bind(app)
            .fetch_one(&mut *tx)
            .await?;
    if !exists {
        return Ok(None);
    }
    Ok(Some((super::default_brand(&mut *tx).await?, false)))
}

/// Writes an app's own brand, creating it when the app had none.
const UPSERT: &str = "INSERT INTO brands (client_id, product_name, primary_color, accent_color,
         background_color, text_color, font, css_vars, signin_heading, signin_intro,
         register_heading, register_intro, consent_intro, footer_text, mail_sender_name,
         mail_footer)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
     ON CONFLICT (client_id) DO UPDATE SET
         product_name = EXCLUDED.product_name, primary_color = EXCLUDED.primary_color,
         accent_color = EXCLUDED.accent_color, background_color = EXCLUDED.background_color,
         text_color = EXCLUDED.text_color, font = EXCLUDED.font,
         css_vars = EXCLUDED.css_vars, signin_heading = EXCLUDED.signin_heading,
         signin_intro = EXCLUDED.signin_intro, register_heading = EXCLUDED.register_heading,
         register_intro = EXCLUDED.register_intro, consent_intro = EXCLUDED.consent_intro,
         footer_text = EXCLUDED.footer_text, mail_sender_name = EXCLUDED.mail_sender_name,
         mail_footer = EXCLUDED.mail_footer, version = brands.version + 1,
         updated_at = now()";

/// Writes the default brand.
const UPDATE_DEFAULT: &str =
    "UPDATE brands SET product_name = $2, primary_color = $3, accent_color = $4,
     background_color = $5, text_color = $6, font = $7, css_vars = $8,
     signin_heading = $9, signin_intro = $10, register_heading = $11,
     register_intro = $12, consent_intro = $13, footer_text = $14,
     mail_sender_name = $15, mail_footer = $16, version = version + 1,
     updated_at = now()
     WHERE client_id IS NULL AND $1::text IS NULL";

/// Saves `draft` as the brand of `app` (the default when `None`), giving the app a brand of
/// its own when it had none. Answers the names of the changed fields (none: nothing written).
pub async fn save(
    db: &PgPool,
    app: Option<&str>,
    draft: &Draft,
    actor: Actor,
) -> sqlx::Result<Result<Vec<&'static str>, BrandError>> {
    let mut tx = db.begin().await?;
    let Some((current, own)) = locked(&mut tx, app).await? else {
        return Ok(Err(refuse("app", "There is no such app.")));
    };
    let before = as_draft(&current).fields();
    let mut changes = Map::new();
    let mut changed = Vec::new();
    for ((name, from), (_, to)) in before.into_iter().zip(draft.fields()) {
        if from != to {
            changes.insert(name.into(), json!({ "from": from, "to": to }));
            changed.push(name);
        }
    }
    if own && changed.is_empty() {
        return Ok(Ok(changed));
    }
    // The default row has no app to conflict on: it is updated in place.
    let sql = if app.is_some() {
        UPSERT
    } else {
        UPDATE_DEFAULT
    };
    sqlx::query(sql)
        .bind(app)
        .bind(&draft.product_name)
        .bind(&draft.primary_color)
        .bind(&draft.accent_color)
        .bind(&draft.background_color)
        .bind(&draft.text_color)
        .bind(&draft.font)
        .bind(sqlx::types::Json(&draft.css_vars))
        .bind(&draft.signin_heading)
        .bind(&draft.signin_intro)
        .bind(&draft.register_heading)
        .bind(&draft.register_intro)
        .bind(&draft.consent_intro)
        .bind(&draft.footer_text)
        .bind(&draft.mail_sender_name)
        .bind(&draft.mail_footer)
        .execute(&mut *tx)
        .await?;
    let event = AuditEvent::new("brand.changed", Outcome::Success)
        .by_actor(actor)
        .detail(json!({
            "brand": app.unwrap_or("default"),
            "own_brand_created": !own,
            "changes": changes,
        }));
    audit::record(&mut *tx, &ClientInfo::default(), event).await?;
    tx.commit().await?;
    Ok(Ok(changed))
}

/// Drops `app`'s own brand (its logo with it), so it wears the default again; `false` when it
/// had none.
pub async fn reset(db: &PgPool, app: &str, actor: Actor) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    let removed = sqlx::query("DELETE FROM brands WHERE client_id = $1")
        .bind(app)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        > 0;
    if removed {
        let event = AuditEvent::new("brand.reset", Outcome::Success)
            .by_actor(actor)
            .detail(json!({ "brand": app }));
        audit::record(&mut *tx, &ClientInfo::default(), event).await?;
    }
    tx.commit().await?;
    Ok(removed)
}
