//! Password recovery pages: ask for a link, then choose a new password.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::form::{field_error, last_error, Field, FormError, StrengthMeter};
use crate::api::signin::{ForgotPassword, ResetPassword};
use crate::i18n::{tu_string, use_i18n};

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<ForgotPassword>::new();
    let error = last_error(action.value());
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, recovery.forgot_title) />
        <section class="card">
            <h1>{tu_string!(i18n, recovery.forgot_heading)}</h1>
            <p>{tu_string!(i18n, recovery.forgot_intro)}</p>
            <ActionForm action>
                <FormError error />
                <Field
                    label=tu_string!(i18n, recovery.email_label)
                    name="email"
                    kind="email"
                    autocomplete="email"
                    error=field_error(error, "email")
                />
                <button type="submit" disabled=move || action.pending().get()>
                    {tu_string!(i18n, recovery.forgot_submit)}
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn ForgotSentPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, recovery.sent_title) />
        <section class="card">
            <h1>{tu_string!(i18n, recovery.sent_heading)}</h1>
            <p>
                {tu_string!(i18n, recovery.sent_body)}
            </p>
        </section>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let action = ServerAction::<ResetPassword>::new();
    let error = last_error(action.value());
    let password = RwSignal::new(String::new());
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, recovery.reset_title) />
        <section class="card">
            <h1>{tu_string!(i18n, recovery.reset_heading)}</h1>
            <p>{tu_string!(i18n, recovery.reset_intro)}</p>
            <ActionForm action>
                <FormError error />
                <input type="hidden" name="token" value=token />
                <Field
                    label=tu_string!(i18n, recovery.new_password_label)
                    name="password"
                    kind="password"
                    autocomplete="new-password"
                    hint=tu_string!(i18n, recovery.password_hint)
                    value=password
                    error=field_error(error, "password")
                >
                    <StrengthMeter password />
                </Field>
                <button type="submit" disabled=move || action.pending().get()>
                    {tu_string!(i18n, recovery.reset_submit)}
                </button>
            </ActionForm>
        </section>
    }
}
