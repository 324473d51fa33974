//! Moving the account to another address: the profile's form, and the pages the two mailed
//! links open (the new address confirms, the old one undoes).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::form::{field_error, last_error, Field, FormError};
use crate::api::profile::{ChangeEmail, ConfirmEmailChange, UndoEmailChange};

/// The profile's "change email" form, with what happened last.
#[component]
pub fn EmailChangeForm() -> impl IntoView {
    let query = use_query_map();
    let sent = move || query.read().get("email_change_sent").is_some();
    let changed = move || query.read().get("email_changed").is_some();
    let action = ServerAction::<ChangeEmail>::new();
    let error = last_error(action.value());
    view! {
        <Show when=changed>
            <p class="notice" role="status">"Your email address is changed."</p>
        </Show>
        <Show when=sent>
            <p class="notice" role="status">
                "We sent a link to the new address. Open it within 24 hours to finish the change; \
                 until then your account keeps its current address."
            </p>
        </Show>
        <section class="subsection" aria-labelledby="email-change-heading">
            <h2 id="email-change-heading">"Change email address"</h2>
            <ActionForm action>
                <FormError error />
                <Field
                    label="New email address"
                    name="email"
                    id="new-email"
                    kind="email"
                    autocomplete="email"
                    error=field_error(error, "email")
                />
                <button type="submit" disabled=move || action.pending().get()>
                    "Send a confirmation link"
                </button>
            </ActionForm>
        </section>
    }
}

/// `/confirm-email-change?token=…`: the link mailed to the new address.
#[component]
pub fn ConfirmEmailChangePage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let action = ServerAction::<ConfirmEmailChange>::new();
    let error = last_error(action.value());
    view! {
        <Title text="Confirm your new email address" />
        <section class="card">
            <h1>"Confirm your new email address"</h1>
            <p>"Mail about your account will go to this address from now on."</p>
            <ActionForm action>
                <FormError error />
                <input type="hidden" name="token" value=token />
                <button type="submit" disabled=move || action.pending().get()>
                    "Use this address"
                </button>
            </ActionForm>
        </section>
    }
}

/// `/undo-email-change?token=…`: the link mailed to the old address ("this wasn't me").
#[component]
pub fn UndoEmailChangePage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let action = ServerAction::<UndoEmailChange>::new();
    let error = last_error(action.value());
    view! {
        <Title text="Undo the email change" />
        <section class="card">
            <h1>"This wasn't me"</h1>
            <p>
                "We will put this address back on your account, sign out every device, and mail \
                 you a link to choose a new password."
            </p>
            <ActionForm action>
                <FormError error />
                <input type="hidden" name="token" value=token />
                <button type="submit" disabled=move || action.pending().get()>
                    "Put my address back"
                </button>
            </ActionForm>
        </section>
    }
}
