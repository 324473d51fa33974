//! The landing page: sign in or create an account; signed-in customers go to their profile.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use super::layout::CurrentUser;

#[component]
pub fn HomePage() -> impl IntoView {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    view! {
        <Title text="Welcome" />
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(_)) => view! { <Redirect path="/profile" /> }.into_any(),
                    _ => {
                        view! {
                            <section class="card hero">
                                <h1>"Welcome"</h1>
                                <p>"One account for everything you use with us."</p>
                                <div class="actions">
                                    <a class="button" href="/signin">"Sign in"</a>
                                    <a class="button button-secondary" href="/register">
                                        "Create account"
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
