//! SMS pages: sign in with a texted code, and the profile's phone number (add, prove, remove).

use leptos::prelude::*;
use leptos_meta::Title;

use super::form::{field_error, last_error, CodeFields, Field, FormError};
use crate::api::error::AppError;
use crate::api::sms::{AddPhone, ConfirmPhone, RemovePhone, RequestSmsSignIn, SignInWithSmsCode};
use crate::i18n::{tu_string, use_i18n};

/// The phone number field, with the hint on the format.
#[component]
fn PhoneField(error: Signal<Option<AppError>>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Field
            label=tu_string!(i18n, sms.phone_label)
            name="phone"
            kind="tel"
            autocomplete="tel"
            hint=tu_string!(i18n, sms.phone_hint)
            error=field_error(error, "phone")
        />
    }
}

#[component]
pub fn SmsSignInPage() -> impl IntoView {
    let action = ServerAction::<RequestSmsSignIn>::new();
    let error = last_error(action.value());
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, sms.signin_title) />
        <section class="card">
            <h1>{tu_string!(i18n, sms.signin_heading)}</h1>
            <p>{tu_string!(i18n, sms.signin_intro)}</p>
            <ActionForm action>
                <FormError error />
                <PhoneField error />
                <button type="submit" disabled=move || action.pending().get()>
                    {tu_string!(i18n, sms.send_code)}
                </button>
            </ActionForm>
            <p class="aside"><a href="/signin">{tu_string!(i18n, sms.other_ways)}</a></p>
        </section>
    }
}

#[component]
pub fn SmsCodePage() -> impl IntoView {
    let action = ServerAction::<SignInWithSmsCode>::new();
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, sms.code_title) />
        <section class="card">
            <h1>{tu_string!(i18n, sms.code_heading)}</h1>
            <p>
                {tu_string!(i18n, sms.code_intro)}
            </p>
            <ActionForm action>
                <CodeFields error=last_error(action.value()) />
                <button type="submit" disabled=move || action.pending().get()>
                    {tu_string!(i18n, sms.submit)}
                </button>
            </ActionForm>
            <p class="aside"><a href="/signin/sms">{tu_string!(i18n, sms.new_code)}</a></p>
        </section>
    }
}

/// The profile's phone number: shown with a remove button, or a form to add one.
#[component]
pub fn PhoneSection(phone: Option<String>) -> impl IntoView {
    let add = ServerAction::<AddPhone>::new();
    let add_error = last_error(add.value());
    let remove = ServerAction::<RemovePhone>::new();
    let remove_error = last_error(remove.value());
    let i18n = use_i18n();
    view! {
        <section class="subsection" aria-labelledby="phone-heading">
            <h2 id="phone-heading">{tu_string!(i18n, sms.section_heading)}</h2>
            {match phone {
                Some(phone) => view! {
                    <p>
                        <span class="phone">{phone}</span>
                        " "
                        <span class="badge badge-ok">{tu_string!(i18n, sms.verified)}</span>
                    </p>
                    <ActionForm action=remove attr:class="inline-form">
                        <FormError error=remove_error />
                        <button type="submit" class="button-secondary">
                            {tu_string!(i18n, sms.remove)}
                        </button>
                    </ActionForm>
                }.into_any(),
                None => view! {
                    <p>{tu_string!(i18n, sms.add_intro)}</p>
                    <ActionForm action=add>
                        <FormError error=add_error />
                        <PhoneField error=add_error />
                        <button type="submit" class="button-secondary" disabled=move || add.pending().get()>
                            {tu_string!(i18n, sms.send_code)}
                        </button>
                    </ActionForm>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
pub fn PhoneConfirmPage() -> impl IntoView {
    let action = ServerAction::<ConfirmPhone>::new();
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, sms.confirm_title) />
        <section class="card">
            <h1>{tu_string!(i18n, sms.confirm_heading)}</h1>
            <p>{tu_string!(i18n, sms.confirm_intro)}</p>
            <ActionForm action>
                <CodeFields error=last_error(action.value()) />
                <button type="submit" disabled=move || action.pending().get()>
                    {tu_string!(i18n, sms.confirm_submit)}
                </button>
            </ActionForm>
            <p class="aside"><a href="/profile">{tu_string!(i18n, sms.back_to_profile)}</a></p>
        </section>
    }
}
