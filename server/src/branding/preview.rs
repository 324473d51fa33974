//! The console's live preview of a brand: a sign-in card as the brand's customers would see
//! it, drawn from the form's values as they stand (not yet saved), in a frame beside the form.
//! Staff with `settings.read` only; values the form would refuse are not drawn, and the page
//! says which field to fix.

use app::{
    domain::{
        branding::{self, css, edit},
        client::ClientInfo,
        staff::Permission,
    },
    model::branding::BrandSettings,
    state::AppState,
};
use axum::{
    extract::{Query, Request, State},
    http::{header, StatusCode},
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;
use tower_sessions::Session;

use crate::{pages::escape, security::headers::FramedBySelf, staff_gate::allow};

#[derive(Debug, Deserialize)]
pub struct PreviewQuery {
    /// The app whose brand is shown (its logo); none: the default.
    #[serde(default)]
    app: String,
    #[serde(flatten)]
    form: BrandSettings,
}

/// The query string the frame was asked with, for the stylesheet's address.
fn query_of(request: &Request) -> String {
    request.uri().query().unwrap_or_default().to_owned()
}

pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<PreviewQuery>,
    request: Request,
) -> Response {
    let raw_query = query_of(&request);
    let client = ClientInfo::from_parts(&request.into_parts().0);
    if let Err(refused) = allow(&state, &session, &client, Permission::SettingsRead, None).await {
        return refused;
    }
    let brand = if query.app.is_empty() {
        branding::default_brand(&state.db).await
    } else {
        branding::for_app(&state.db, &query.app).await
    };
    let logo = match brand {
        Ok(brand) => brand.logo_path(),
        Err(e) => {
            tracing::error!(error = %e, "loading a brand failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let body = match edit::check(&query.form) {
        Ok(draft) => {
            let or =
                |text: &str, fallback: &str| escape(if text.is_empty() { fallback } else { text });
            format!(
                "<header class=\"site-header\"><span class=\"brand\"><img src=\"{logo}\" alt=\"\" \
                 width=\"32\" height=\"32\"><span>{name}</span></span></header>\
                 <main class=\"site-main\"><section class=\"card\"><h1>{heading}</h1>\
                 <p class=\"lead\">{intro}</p>\
                 <div class=\"field\"><label>Email</label><input type=\"email\" disabled></div>\
                 <div class=\"field\"><label>Password</label><input type=\"password\" disabled></div>\
                 <button type=\"button\">Sign in</button>\
                 <p><a href=\"#\">Create account</a></p></section></main>\
                 <footer class=\"site-footer\"><p>{footer}</p></footer>",
                logo = escape(&logo),
                name = escape(&draft.product_name),
                heading = or(&draft.signin_heading, "Sign in"),
                intro = or(&draft.signin_intro, ""),
                footer = or(
                    &draft.footer_text,
                    "Your data stays yours: we use it only to sign you in."
                ),
            )
        }
        Err(e) => format!(
            "<main class=\"site-main\"><section class=\"card\"><p class=\"field-error\" \
             role=\"alert\">The preview waits for a valid form: {} ({})</p></section></main>",
            escape(&e.message),
            escape(e.field)
        ),
    };
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Brand preview\
         </title><link rel=\"stylesheet\" href=\"/pkg/ciam.css\"><link rel=\"stylesheet\" \
         href=\"/admin/branding/preview.css?{query}\"></head><body>{body}</body></html>",
        query = escape(&raw_query),
    );
    let mut response = Html(html).into_response();
    response.extensions_mut().insert(FramedBySelf);
    response
}

pub async fn stylesheet(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<PreviewQuery>,
    request: Request,
) -> Response {
    let client = ClientInfo::from_parts(&request.into_parts().0);
    if let Err(refused) = allow(&state, &session, &client, Permission::SettingsRead, None).await {
        return refused;
    }
    let css = match edit::check(&query.form) {
        Ok(draft) => css::stylesheet(&draft.look()),
        Err(_) => String::new(),
    };
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        css,
    )
        .into_response()
}
