//! The landing page: sign in or create an account; signed-in customers go to their profile.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use super::layout::CurrentUser;
use crate::i18n::{tu_string, use_i18n};

#[component]
pub fn HomePage() -> impl IntoView {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, home.title) />
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(_)) => view! { <Redirect path="/profile" /> }.into_any(),
                    _ => {
                        view! {
                            <section class="card hero">
                                <h1>{tu_string!(i18n, home.heading)}</h1>
                                <p>{tu_string!(i18n, home.intro)}</p>
                                <div class="actions">
                                    <a class="button" href="/signin">{tu_string!(i18n, home.sign_in)}</a>
                                    <a class="button button-secondary" href="/register">
                                        {tu_string!(i18n, home.create_account)}
                                    </a>
                                </div>
                            </section>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}
