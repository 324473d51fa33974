//! SMS pages: sign in with a texted code, and the profile's phone number (add, prove, remove).

use leptos::prelude::*;
use leptos_meta::Title;

use super::form::{field_error, last_error, CodeFields, Field, FormError};
use crate::api::error::AppError;
use crate::api::sms::{AddPhone, ConfirmPhone, RemovePhone, RequestSmsSignIn, SignInWithSmsCode};

/// The phone number field, with the hint on the format.
#[component]
fn PhoneField(error: Signal<Option<AppError>>) -> impl IntoView {
    view! {
        <Field
            label="Phone number"
            name="phone"
            kind="tel"
            autocomplete="tel"
            hint="With your country code, e.g. +44 7911 123456."
            error=field_error(error, "phone")
        />
    }
}

#[component]
pub fn SmsSignInPage() -> impl IntoView {
    let action = ServerAction::<RequestSmsSignIn>::new();
    let error = last_error(action.value());
    view! {
        <Title text="Sign in with a text message" />
        <section class="card">
            <h1>"Sign in with a text message"</h1>
            <p>"We will text a 6-digit code to the phone number on your account."</p>
            <ActionForm action>
                <FormError error />
                <PhoneField error />
                <button type="submit" disabled=move || action.pending().get()>
                    "Text me a code"
                </button>
            </ActionForm>
            <p class="aside"><a href="/signin">"Other ways to sign in"</a></p>
        </section>
    }
}

#[component]
pub fn SmsCodePage() -> impl IntoView {
    let action = ServerAction::<SignInWithSmsCode>::new();
    view! {
        <Title text="Enter your code" />
        <section class="card">
            <h1>"Check your phone"</h1>
            <p>
                "If an account uses that number, we texted it a 6-digit code. It expires in 10 minutes."
            </p>
            <ActionForm action>
                <CodeFields error=last_error(action.value()) />
                <button type="submit" disabled=move || action.pending().get()>"Sign in"</button>
            </ActionForm>
            <p class="aside"><a href="/signin/sms">"Ask for a new code"</a></p>
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
    view! {
        <section class="subsection" aria-labelledby="phone-heading">
            <h2 id="phone-heading">"Phone number"</h2>
            {match phone {
                Some(phone) => view! {
                    <p>
                        <span class="phone">{phone}</span>
                        " "
                        <span class="badge badge-ok">"verified"</span>
                    </p>
                    <ActionForm action=remove attr:class="inline-form">
                        <FormError error=remove_error />
                        <button type="submit" class="button-secondary">"Remove phone number"</button>
                    </ActionForm>
                }.into_any(),
                None => view! {
                    <p>"Add a number to sign in with a texted code."</p>
                    <ActionForm action=add>
                        <FormError error=add_error />
                        <PhoneField error=add_error />
                        <button type="submit" class="button-secondary" disabled=move || add.pending().get()>
                            "Text me a code"
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
    view! {
        <Title text="Confirm your phone number" />
        <section class="card">
            <h1>"Confirm your phone number"</h1>
            <p>"We texted a 6-digit code to the number you gave. It expires in 10 minutes."</p>
            <ActionForm action>
                <CodeFields error=last_error(action.value()) />
                <button type="submit" disabled=move || action.pending().get()>"Confirm"</button>
            </ActionForm>
            <p class="aside"><a href="/profile">"Back to your profile"</a></p>
        </section>
    }
}
