//! The profile's password section: change it (with the current one, or after confirming it's
//! you), set one on a passwordless account, or remove it.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::form::{field_error, last_error, Field, FormError, StrengthMeter};
use crate::api::{
    error::AppError,
    password::{ChangePassword, RemovePassword, SetPassword},
};

/// "Password": what the account has, and the forms that change it.
#[component]
pub fn PasswordSection(has_password: bool) -> impl IntoView {
    let query = use_query_map();
    let set = move || query.read().get("password_set").is_some();
    let removed = move || query.read().get("password_removed").is_some();
    view! {
        <section class="subsection" aria-labelledby="password-heading">
            <h2 id="password-heading">"Password"</h2>
            <Show when=set>
                <p class="notice" role="status">"Your account has a password now."</p>
            </Show>
            <Show when=removed>
                <p class="notice" role="status">
                    "Your password is removed and every other device was signed out."
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
    view! {
        <ActionForm action>
            <FormError error />
            <Field
                label="Current password"
                name="current_password"
                kind="password"
                autocomplete="current-password"
                hint="Forgot it? Leave it empty and confirm it's you another way."
                error=field_error(error, "current_password")
            />
            <NewPasswordField error />
            <button type="submit" disabled=move || action.pending().get()>
                "Change password"
            </button>
        </ActionForm>
    }
}

#[component]
fn SetForm() -> impl IntoView {
    let action = ServerAction::<SetPassword>::new();
    let error = last_error(action.value());
    view! {
        <p>"You sign in without a password. You can add one as another way in."</p>
        <ActionForm action>
            <FormError error />
            <NewPasswordField error />
            <button type="submit" disabled=move || action.pending().get()>
                "Set password"
            </button>
        </ActionForm>
    }
}

#[component]
fn RemoveForm() -> impl IntoView {
    let action = ServerAction::<RemovePassword>::new();
    let error = last_error(action.value());
    view! {
        <ActionForm action>
            <FormError error />
            <button type="submit" class="button-secondary" disabled=move || action.pending().get()>
                "Remove password"
            </button>
        </ActionForm>
    }
}

/// The new password, with the strength meter reading it as it is typed.
#[component]
fn NewPasswordField(error: Signal<Option<AppError>>) -> impl IntoView {
    let password = RwSignal::new(String::new());
    view! {
        <Field
            label="New password"
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
