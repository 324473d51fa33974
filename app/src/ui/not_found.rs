//! The page for unknown addresses (answered with 404).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::{tu_string, use_i18n};

#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, not_found.title) />
        <section class="card">
            <h1>{tu_string!(i18n, not_found.heading)}</h1>
            <p>{tu_string!(i18n, not_found.body)}</p>
            <a class="button" href="/">{tu_string!(i18n, not_found.home_link)}</a>
        </section>
    }
}
