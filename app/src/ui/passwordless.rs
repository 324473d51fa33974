//! Passwordless sign-in pages: type the mailed code, or confirm the mailed link.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::form::{field_error, form_message, last_error, CodeFields, Field, FormError};
use crate::api::passwordless::{
    describe_email_link, RequestEmailSignIn, SignInWithEmailCode, SignInWithEmailLink,
};
use crate::i18n::{tu_string, use_i18n};

/// The "email me a link and a code" form, shown on the sign-in page.
#[component]
pub fn EmailSignInForm() -> impl IntoView {
    let action = ServerAction::<RequestEmailSignIn>::new();
    let error = last_error(action.value());
    let i18n = use_i18n();
    view! {
        <section class="alternative" aria-labelledby="passwordless-heading">
            <h2 id="passwordless-heading">{tu_string!(i18n, passwordless.form_heading)}</h2>
            <p>{tu_string!(i18n, passwordless.form_intro)}</p>
            <ActionForm action>
                <FormError error />
                <Field
                    label=tu_string!(i18n, passwordless.email_label)
                    name="email"
                    id="link-email"
                    kind="email"
                    autocomplete="email"
                    error=field_error(error, "email")
                />
                <button type="submit" class="button-secondary" disabled=move || action.pending().get()>
                    {tu_string!(i18n, passwordless.form_submit)}
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn EmailCodePage() -> impl IntoView {
    let action = ServerAction::<SignInWithEmailCode>::new();
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, passwordless.code_title) />
        <section class="card">
            <h1>{tu_string!(i18n, passwordless.code_heading)}</h1>
            <p>
                {tu_string!(i18n, passwordless.code_intro)}
            </p>
            <ActionForm action>
                <CodeFields error=last_error(action.value()) />
                <button type="submit" disabled=move || action.pending().get()>
                    {tu_string!(i18n, passwordless.submit)}
                </button>
            </ActionForm>
            <p class="aside">
                <a href="/signin">{tu_string!(i18n, passwordless.new_code)}</a>
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
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, passwordless.link_title) />
        <section class="card">
            <h1>{tu_string!(i18n, passwordless.link_heading)}</h1>
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, passwordless.checking_link)}</p> }>
                {move || Suspend::new(async move {
                    match details.await {
                        Ok(d) => view! {
                            <p>
                                {tu_string!(i18n, passwordless.sign_in_as_before)}
                                <strong>{d.email}</strong>
                                {tu_string!(i18n, passwordless.sign_in_as_after)}
                            </p>
                            <p class="aside">
                                {tu_string!(
                                    i18n,
                                    passwordless.requested,
                                    time = d.requested_at,
                                    device = d.device,
                                    ip = d.ip.map(|ip| format!(" ({ip})")).unwrap_or_default()
                                )}
                            </p>
                            {(!d.same_browser).then(|| view! {
                                <p class="warning" role="note">
                                    {tu_string!(i18n, passwordless.other_device)}
                                </p>
                            })}
                            <ActionForm action>
                                <FormError error />
                                <input type="hidden" name="token" value=token />
                                <button type="submit" disabled=move || action.pending().get()>
                                    {tu_string!(i18n, passwordless.submit)}
                                </button>
                            </ActionForm>
                        }.into_any(),
                        Err(e) => view! {
                            <p class="form-error" role="alert">
                                {form_message(i18n, &e).unwrap_or_else(|| e.to_string())}
                            </p>
                            <p><a href="/signin">{tu_string!(i18n, passwordless.back_to_sign_in)}</a></p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
