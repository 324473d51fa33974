//! `POST /admin/branding/logo`: a brand's logo from the console's upload form (multipart, so it
//! works without JavaScript). Staff with `settings.write`, a recent second factor and the
//! confirmation ticked; the image is checked by its bytes before anything is stored. The
//! browser goes back to the brand page, which says what happened.

use app::{
    domain::{
        audit::Actor,
        branding::logo::{self, LogoError},
        staff::Permission,
    },
    state::AppState,
};
use axum::{
    extract::{Multipart, Request, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::post,
    Router,
};
use tower_sessions::Session;

use crate::staff_gate::{fresh, plain, upload_form};

/// The largest upload body: the largest logo and the form's other fields.
pub const MAX_UPLOAD_BYTES: usize = logo::MAX_BYTES + 16 * 1024;

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/admin/branding/logo", post(upload))
        .with_state(state)
}

/// The form's fields.
#[derive(Debug, Default)]
struct LogoForm {
    app: String,
    confirm: bool,
    logo: Vec<u8>,
}

async fn read_form(mut multipart: Multipart) -> Option<LogoForm> {
    let mut form = LogoForm::default();
    while let Ok(Some(field)) = multipart.next_field().await {
        match field.name().unwrap_or_default() {
            "app" => form.app = field.text().await.ok()?.trim().to_owned(),
            "confirm" => form.confirm = field.text().await.ok()? == "yes",
            "logo" => form.logo = field.bytes().await.ok()?.to_vec(),
            _ => {}
        }
    }
    Some(form)
}

/// The brand page of `app`, with `outcome` for it to show.
fn back(app: &str, outcome: &str) -> Response {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("app", app)
        .append_pair("logo", outcome)
        .finish();
    Redirect::to(&format!("/admin/branding?{query}")).into_response()
}

async fn upload(State(state): State<AppState>, session: Session, request: Request) -> Response {
    let (user_id, _, multipart) =
        match upload_form(&state, &session, request, Permission::SettingsWrite).await {
            Ok(allowed) => allowed,
            Err(refused) => return refused,
        };
    let Some(form) = read_form(multipart).await else {
        return plain(
            StatusCode::BAD_REQUEST,
            "The upload could not be read (a logo is at most 256 KiB).",
        );
    };
    if let Err(step_up) = fresh(
        &state,
        &session,
        user_id,
        &format!("/admin/branding?app={}", form.app),
    )
    .await
    {
        return step_up;
    }
    if !form.confirm {
        return back(&form.app, "confirm");
    }
    let app = (!form.app.is_empty()).then_some(form.app.as_str());
    match logo::set(&state.db, app, &form.logo, Actor::Person(user_id)).await {
        Ok(Ok(())) => {
            // This node's next page shows the logo; the others' as their notice arrives.
            state.brands.clear();
            back(&form.app, "saved")
        }
        Ok(Err(e)) => back(
            &form.app,
            match e {
                LogoError::Empty => "empty",
                LogoError::TooLarge => "too_large",
                LogoError::NotAnImage => "not_an_image",
                LogoError::NoSuchApp => "no_such_app",
            },
        ),
        Err(e) => {
            tracing::error!(error = %e, "storing a logo failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "try again")
        }
    }
}
