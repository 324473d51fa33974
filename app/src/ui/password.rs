//! The profile's password section: change it (with the current one, or after confirming it's
//! you), set one on a passwordless account, or remove it.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::form::{field_error, last_error, Field, FormError, StrengthMeter};
use crate::api::{
    error::AppError,
    password::{ChangePassword, RemovePassword, SetPassword},
};
use crate::i18n::{tu_string, use_i18n};

/// "Password": what the account has, and the forms that change it.
#[component]
pub fn PasswordSection(has_password: bool) -> impl IntoView {
    let query = use_query_map();
    let set = move || query.read().get("password_set").is_some();
    let removed = move || query.read().get("password_removed").is_some();
    let i18n = use_i18n();
    view! {
        <section class="subsection" aria-labelledby="password-heading">
            <h2 id="password-heading">{tu_string!(i18n, password.heading)}</h2>
            <Show when=set>
                <p class="notice" role="status">{tu_string!(i18n, password.notice_set)}</p>
            </Show>
            <Show when=removed>
                <p class="notice" role="status">
                    {tu_string!(i18n, password.notice_removed)}
                </p>
            </Show>
            {if has_password {
                view! { <ChangeForm /> <RemoveForm /> }.into_any()
            } else {
                view! { <SetForm /> }.into_any()
            }}
        </section>
    }
}

#[component]
fn ChangeForm() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let error = last_error(action.value());
    let i18n = use_i18n();
    view! {
        <ActionForm action>
            <FormError error />
            <Field
                label=tu_string!(i18n, password.current_label)
                name="current_password"
                kind="password"
                autocomplete="current-password"
                hint=tu_string!(i18n, password.current_hint)
                error=field_error(error, "current_password")
            />
            <NewPasswordField error />
            <button type="submit" disabled=move || action.pending().get()>
                {tu_string!(i18n, password.change_submit)}
            </button>
        </ActionForm>
    }
}

#[component]
fn SetForm() -> impl IntoView {
    let action = ServerAction::<SetPassword>::new();
    let error = last_error(action.value());
    let i18n = use_i18n();
    view! {
        <p>{tu_string!(i18n, password.set_intro)}</p>
        <ActionForm action>
            <FormError error />
            <NewPasswordField error />
            <button type="submit" disabled=move || action.pending().get()>
                {tu_string!(i18n, password.set_submit)}
            </button>
        </ActionForm>
    }
}

#[component]
fn RemoveForm() -> impl IntoView {
    let action = ServerAction::<RemovePassword>::new();
    let error = last_error(action.value());
    let i18n = use_i18n();
    view! {
        <ActionForm action>
            <FormError error />
            <button type="submit" class="button-secondary" disabled=move || action.pending().get()>
                {tu_string!(i18n, password.remove_submit)}
            </button>
        </ActionForm>
    }
}

/// The new password, with the strength meter reading it as it is typed.
#[component]
fn NewPasswordField(error: Signal<Option<AppError>>) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let i18n = use_i18n();
    view! {
        <Field
            label=tu_string!(i18n, password.new_label)
            name="password"
            id="new-password"
            kind="password"
            autocomplete="new-password"
            value=password
            error=field_error(error, "password")
        >
            <StrengthMeter password />
        </Field>
    }
}
