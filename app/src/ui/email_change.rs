//! Moving the account to another address: the profile's form, and the pages the two mailed
//! links open (the new address confirms, the old one undoes).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::form::{field_error, last_error, Field, FormError};
use crate::{
    api::profile::{ChangeEmail, ConfirmEmailChange, UndoEmailChange},
    i18n::{tu_string, use_i18n},
};

/// The profile's "change email" form, with what happened last.
#[component]
pub fn EmailChangeForm() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let sent = move || query.read().get("email_change_sent").is_some();
    let changed = move || query.read().get("email_changed").is_some();
    let action = ServerAction::<ChangeEmail>::new();
    let error = last_error(action.value());
    view! {
        <Show when=changed>
            <p class="notice" role="status">{tu_string!(i18n, email_change.notice_changed)}</p>
        </Show>
        <Show when=sent>
            <p class="notice" role="status">
                {tu_string!(i18n, email_change.notice_sent)}
            </p>
        </Show>
        <section class="subsection" aria-labelledby="email-change-heading">
            <h2 id="email-change-heading">{tu_string!(i18n, email_change.heading)}</h2>
            <ActionForm action>
                <FormError error />
                <Field
                    label=tu_string!(i18n, email_change.new_email_label)
                    name="email"
                    id="new-email"
                    kind="email"
                    autocomplete="email"
                    error=field_error(error, "email")
                />
                <button type="submit" disabled=move || action.pending().get()>
                    {tu_string!(i18n, email_change.submit)}
                </button>
            </ActionForm>
        </section>
    }
}

/// `/confirm-email-change?token=…`: the link mailed to the new address.
#[component]
pub fn ConfirmEmailChangePage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let action = ServerAction::<ConfirmEmailChange>::new();
    let error = last_error(action.value());
    view! {
        <Title text=tu_string!(i18n, email_change.confirm_title) />
        <section class="card">
            <h1>{tu_string!(i18n, email_change.confirm_heading)}</h1>
            <p>{tu_string!(i18n, email_change.confirm_intro)}</p>
            <ActionForm action>
                <FormError error />
                <input type="hidden" name="token" value=token />
                <button type="submit" disabled=move || action.pending().get()>
                    {tu_string!(i18n, email_change.confirm_submit)}
                </button>
            </ActionForm>
        </section>
    }
}

/// `/undo-email-change?token=…`: the link mailed to the old address ("this wasn't me").
#[component]
pub fn UndoEmailChangePage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let action = ServerAction::<UndoEmailChange>::new();
    let error = last_error(action.value());
    view! {
        <Title text=tu_string!(i18n, email_change.undo_title) />
        <section class="card">
            <h1>{tu_string!(i18n, email_change.undo_heading)}</h1>
            <p>
                {tu_string!(i18n, email_change.undo_intro)}
            </p>
            <ActionForm action>
                <FormError error />
                <input type="hidden" name="token" value=token />
                <button type="submit" disabled=move || action.pending().get()>
                    {tu_string!(i18n, email_change.undo_submit)}
                </button>
            </ActionForm>
        </section>
    }
}
