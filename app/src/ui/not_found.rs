//! The page for unknown addresses (answered with 404).

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <section class="card">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. Check the link, or start again from the home page."</p>
            <a class="button" href="/">"Go to the home page"</a>
        </section>
    }
}
