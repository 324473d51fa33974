//! Passwordless sign-in pages: type the mailed code, or confirm the mailed link.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::form::{field_error, last_error, CodeFields, Field, FormError};
use crate::api::passwordless::{
    describe_email_link, RequestEmailSignIn, SignInWithEmailCode, SignInWithEmailLink,
};

/// The "email me a link and a code" form, shown on the sign-in page.
#[component]
pub fn EmailSignInForm() -> impl IntoView {
    let action = ServerAction::<RequestEmailSignIn>::new();
    let error = last_error(action.value());
    view! {
        <section class="alternative" aria-labelledby="passwordless-heading">
            <h2 id="passwordless-heading">"Sign in without a password"</h2>
            <p>"We will email you a link and a 6-digit code. Either one signs you in."</p>
            <ActionForm action>
                <FormError error />
                <Field
                    label="Email"
                    name="email"
                    id="link-email"
                    kind="email"
                    autocomplete="email"
                    error=field_error(error, "email")
                />
                <button type="submit" class="button-secondary" disabled=move || action.pending().get()>
                    "Email me a link and code"
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn EmailCodePage() -> impl IntoView {
    let action = ServerAction::<SignInWithEmailCode>::new();
    view! {
        <Title text="Enter your code" />
        <section class="card">
            <h1>"Check your inbox"</h1>
            <p>
                "If an account uses that address, we sent it a 6-digit code and a link. Type the code here, or open the link. Both expire in 15 minutes."
            </p>
            <ActionForm action>
                <CodeFields error=last_error(action.value()) />
                <button type="submit" disabled=move || action.pending().get()>
                    "Sign in"
                </button>
            </ActionForm>
            <p class="aside">
                <a href="/signin">"Ask for a new code"</a>
            </p>
        </section>
    }
}

#[component]
pub fn EmailLinkPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let details = Resource::new(token, describe_email_link);
    let action = ServerAction::<SignInWithEmailLink>::new();
    let error = last_error(action.value());
    view! {
        <Title text="Sign in with your link" />
        <section class="card">
            <h1>"Sign in with your link"</h1>
            <Suspense fallback=|| view! { <p>"Checking your link…"</p> }>
                {move || Suspend::new(async move {
                    match details.await {
                        Ok(d) => view! {
                            <p>"Sign in as " <strong>{d.email}</strong> "?"</p>
                            <p class="aside">
                                "Asked for at " {d.requested_at} " from " {d.device}
                                {d.ip.map(|ip| format!(" ({ip})"))} "."
                            </p>
                            {(!d.same_browser).then(|| view! {
                                <p class="warning" role="note">
                                    "This link was asked for from another browser or device. Continue only if that was you."
                                </p>
                            })}
                            <ActionForm action>
                                <FormError error />
                                <input type="hidden" name="token" value=token />
                                <button type="submit" disabled=move || action.pending().get()>
                                    "Sign in"
                                </button>
                            </ActionForm>
                        }.into_any(),
                        Err(e) => view! {
                            <p class="form-error" role="alert">{e.to_string()}</p>
                            <p><a href="/signin">"Back to sign in"</a></p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
