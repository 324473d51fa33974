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
use crate::i18n::{tu_string, use_i18n};

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
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, account.title) />
        <section class="card">
            <h1>{brand_text(|b| &b.register_heading, tu_string!(i18n, account.heading))}</h1>
            {brand_paragraph(|b| &b.register_intro)}
            <ActionForm action>
                <FormError error />
                <Field
                    label=tu_string!(i18n, account.email_label)
                    name="email"
                    kind="email"
                    autocomplete="email"
                    value=email
                    error=field_error(error, "email")
                />
                <Field
                    label=tu_string!(i18n, account.name_label)
                    name="display_name"
                    autocomplete="name"
                    value=name
                    error=field_error(error, "display_name")
                />
                <Field
                    label=tu_string!(i18n, account.password_label)
                    name="password"
                    kind="password"
                    autocomplete="new-password"
                    hint=tu_string!(i18n, account.password_hint)
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
                    <label for="website">{tu_string!(i18n, account.trap_label)}</label>
                    <input id="website" name="website" type="text" tabindex="-1" autocomplete="off" />
                </div>
                <BrowserCheck purpose="register" renew=action.version() working=checking />
                <button type="submit" disabled=move || action.pending().get() || checking.get()>
                    {tu_string!(i18n, account.submit)}
                </button>
            </ActionForm>
            <PasskeySignUp />
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    view! { <SocialButtons providers=options.await.unwrap_or_default().social /> }
                })}
            </Suspense>
            <p class="aside">
                {tu_string!(i18n, account.have_account)}
                <a href="/signin">{tu_string!(i18n, account.sign_in_link)}</a>
            </p>
        </section>
    }
}

#[component]
pub fn RegisterSentPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, account.sent_title) />
        <section class="card">
            <h1>{tu_string!(i18n, account.sent_heading)}</h1>
            <p>
                {tu_string!(i18n, account.sent_body)}
            </p>
            <p class="aside">{tu_string!(i18n, account.sent_spam)}</p>
        </section>
    }
}

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let action = ServerAction::<VerifyEmail>::new();
    let error = last_error(action.value());
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, account.verify_title) />
        <section class="card">
            <h1>{tu_string!(i18n, account.verify_heading)}</h1>
            <ActionForm action>
                <FormError error />
                <input type="hidden" name="token" value=token />
                <button type="submit" disabled=move || action.pending().get()>
                    {tu_string!(i18n, account.verify_submit)}
                </button>
            </ActionForm>
        </section>
    }
}
