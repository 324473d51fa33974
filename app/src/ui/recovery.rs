//! Password recovery pages: ask for a link, then choose a new password.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::form::{field_error, last_error, Field, FormError, StrengthMeter};
use crate::api::signin::{ForgotPassword, ResetPassword};

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<ForgotPassword>::new();
    let error = last_error(action.value());
    view! {
        <Title text="Forgot password" />
        <section class="card">
            <h1>"Reset your password"</h1>
            <p>"Enter your email address and we will send you a link to choose a new password."</p>
            <ActionForm action>
                <FormError error />
                <Field
                    label="Email"
                    name="email"
                    kind="email"
                    autocomplete="email"
                    error=field_error(error, "email")
                />
                <button type="submit" disabled=move || action.pending().get()>
                    "Send reset link"
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn ForgotSentPage() -> impl IntoView {
    view! {
        <Title text="Check your inbox" />
        <section class="card">
            <h1>"Check your inbox"</h1>
            <p>
                "If an account uses that address, we sent it a link to reset the password. The link works once and expires in 1 hour."
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
    view! {
        <Title text="Choose a new password" />
        <section class="card">
            <h1>"Choose a new password"</h1>
            <p>"Every other device signed in to your account will be signed out."</p>
            <ActionForm action>
                <FormError error />
                <input type="hidden" name="token" value=token />
                <Field
                    label="New password"
                    name="password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 8 characters. A few unrelated words make a strong password."
                    value=password
                    error=field_error(error, "password")
                >
                    <StrengthMeter password />
                </Field>
                <button type="submit" disabled=move || action.pending().get()>
                    "Set new password"
                </button>
            </ActionForm>
        </section>
    }
}
