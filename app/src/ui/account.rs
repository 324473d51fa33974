//! Registration and email verification pages.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{
    form::{field_error, last_error, Field, FormError, StrengthMeter},
    layout::{brand_paragraph, brand_text},
    passkeys::PasskeySignUp,
    proof_of_work::BrowserCheck,
    signin_consent::PurposeChoices,
    social::SocialButtons,
};
use crate::api::{
    account::{Register, VerifyEmail},
    signin::sign_in_options,
    signin_consent::registration_purposes,
};

#[component]
pub fn RegisterPage() -> impl IntoView {
    let action = ServerAction::<Register>::new();
    let options = Resource::new(|| (), |_| sign_in_options());
    let purposes = Resource::new(|| (), |_| registration_purposes());
    let error = last_error(action.value());
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let checking = RwSignal::new(false);
    view! {
        <Title text="Create account" />
        <section class="card">
            <h1>{brand_text(|b| &b.register_heading, "Create your account")}</h1>
            {brand_paragraph(|b| &b.register_intro)}
            <ActionForm action>
                <FormError error />
                <Field
                    label="Email"
                    name="email"
                    kind="email"
                    autocomplete="email"
                    value=email
                    error=field_error(error, "email")
                />
                <Field
                    label="Your name"
                    name="display_name"
                    autocomplete="name"
                    value=name
                    error=field_error(error, "display_name")
                />
                <Field
                    label="Password"
                    name="password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 8 characters. A few unrelated words make a strong password."
                    value=password
                    error=field_error(error, "password")
                >
                    <StrengthMeter password email display_name=name />
                </Field>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let purposes = purposes.await.unwrap_or_default();
                        view! { <PurposeChoices purposes error=field_error(error, "consent") /> }
                    })}
                </Suspense>
                // A trap for bots that fill in every field; people never see it.
                <div class="trap" aria-hidden="true">
                    <label for="website">"Leave this empty"</label>
                    <input id="website" name="website" type="text" tabindex="-1" autocomplete="off" />
                </div>
                <BrowserCheck purpose="register" renew=action.version() working=checking />
                <button type="submit" disabled=move || action.pending().get() || checking.get()>
                    "Create account"
                </button>
            </ActionForm>
            <PasskeySignUp />
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    view! { <SocialButtons providers=options.await.unwrap_or_default().social /> }
                })}
            </Suspense>
            <p class="aside">"Already have an account? " <a href="/signin">"Sign in"</a></p>
        </section>
    }
}

#[component]
pub fn RegisterSentPage() -> impl IntoView {
    view! {
        <Title text="Check your inbox" />
        <section class="card">
            <h1>"Check your inbox"</h1>
            <p>
                "We sent a link to confirm your email address. It works once and expires in 24 hours."
            </p>
            <p class="aside">"No mail after a few minutes? Look in your spam folder."</p>
        </section>
    }
}

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let action = ServerAction::<VerifyEmail>::new();
    let error = last_error(action.value());
    view! {
        <Title text="Confirm your email" />
        <section class="card">
            <h1>"Confirm your email address"</h1>
            <ActionForm action>
                <FormError error />
                <input type="hidden" name="token" value=token />
                <button type="submit" disabled=move || action.pending().get()>
                    "Confirm my email address"
                </button>
            </ActionForm>
        </section>
    }
}
