//! Passkey pieces of the pages: the sign-in button, passkey-only sign-up, and the profile's
//! passkey list. The ceremonies themselves run in `public/passkey.js`; these elements stay
//! hidden until that script finds WebAuthn in the browser.

use leptos::prelude::*;

use super::form::{field_error, last_error, FormError};
use crate::{
    api::passkeys::{list_passkeys, PasskeySummary, RemovePasskey, RenamePasskey},
    i18n::{tu_string, use_i18n},
};

/// "Sign in with a passkey" (no email needed: the browser offers the passkeys it has).
#[component]
pub fn PasskeySignIn() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="alternative" data-passkey-root data-passkey-only hidden>
            <button type="button" class="button-secondary" data-passkey-sign-in>
                {tu_string!(i18n, passkeys.sign_in)}
            </button>
            <p class="field-error" data-passkey-error role="alert"></p>
        </div>
    }
}

/// Sign-up with a passkey only.
#[component]
pub fn PasskeySignUp() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="alternative" data-passkey-root data-passkey-only hidden aria-labelledby="passkey-signup-heading">
            <h2 id="passkey-signup-heading">{tu_string!(i18n, passkeys.sign_up_heading)}</h2>
            <p>{tu_string!(i18n, passkeys.sign_up_intro)}</p>
            <form data-passkey-form="sign-up">
                <div class="field">
                    <label for="pk-email">{tu_string!(i18n, passkeys.email_label)}</label>
                    <input id="pk-email" name="email" type="email" autocomplete="email" required />
                </div>
                <div class="field">
                    <label for="pk-name">{tu_string!(i18n, passkeys.name_label)}</label>
                    <input id="pk-name" name="display_name" autocomplete="name" required />
                </div>
                <button type="submit" class="button-secondary">{tu_string!(i18n, passkeys.sign_up_submit)}</button>
                <p class="field-error" data-passkey-error role="alert"></p>
            </form>
        </section>
    }
}

/// The profile's passkeys: list, rename, remove, add.
#[component]
pub fn PasskeyManager() -> impl IntoView {
    let i18n = use_i18n();
    let rename = ServerAction::<RenamePasskey>::new();
    let remove = ServerAction::<RemovePasskey>::new();
    let passkeys = Resource::new(
        move || (rename.version().get(), remove.version().get()),
        |_| list_passkeys(),
    );
    let remove_error = last_error(remove.value());
    let rename_error = last_error(rename.value());
    view! {
        <section class="passkeys" aria-labelledby="passkeys-heading">
            <h2 id="passkeys-heading">{tu_string!(i18n, passkeys.heading)}</h2>
            <FormError error=remove_error />
            <p class="field-error" role="alert">{move || field_error(rename_error, "name").get()}</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let list = passkeys.await.unwrap_or_default();
                    if list.is_empty() {
                        view! { <p class="aside">{tu_string!(i18n, passkeys.none_yet)}</p> }.into_any()
                    } else {
                        view! {
                            <ul class="passkey-list">
                                {list.into_iter().map(|p| view! { <PasskeyItem passkey=p rename remove /> }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                })}
            </Suspense>
            <div data-passkey-root data-passkey-only hidden>
                <form data-passkey-form="add" class="add-passkey">
                    <div class="field">
                        <label for="passkey-name">{tu_string!(i18n, passkeys.new_name_label)}</label>
                        <input id="passkey-name" name="name" placeholder=tu_string!(i18n, passkeys.new_name_placeholder) maxlength="60" />
                    </div>
                    <button type="submit" class="button-secondary">{tu_string!(i18n, passkeys.add)}</button>
                    <p class="field-error" data-passkey-error role="alert"></p>
                </form>
            </div>
        </section>
    }
}

#[component]
fn PasskeyItem(
    passkey: PasskeySummary,
    rename: ServerAction<RenamePasskey>,
    remove: ServerAction<RemovePasskey>,
) -> impl IntoView {
    let i18n = use_i18n();
    let field_id = format!("rename-{}", passkey.id);
    let PasskeySummary {
        id,
        name,
        created_at,
        last_used_at,
    } = passkey;
    let rename_id = id.clone();
    let used = last_used_at.map_or_else(
        || tu_string!(i18n, passkeys.never_used).to_string(),
        |t| tu_string!(i18n, passkeys.last_used, date = t),
    );
    view! {
        <li class="passkey">
            <p>
                <strong>{name.clone()}</strong>
                <span class="aside">" · " {tu_string!(i18n, passkeys.added, date = created_at)} " · " {used}</span>
            </p>
            <ActionForm action=rename attr:class="inline-form">
                <input type="hidden" name="id" value=rename_id />
                <label for=field_id.clone() class="visually-hidden">{tu_string!(i18n, passkeys.rename_label)}</label>
                <input id=field_id name="name" value=name maxlength="60" required />
                <button type="submit" class="button-small button-secondary">{tu_string!(i18n, passkeys.rename)}</button>
            </ActionForm>
            <ActionForm action=remove attr:class="inline-form">
                <input type="hidden" name="id" value=id />
                <button type="submit" class="button-small button-secondary">{tu_string!(i18n, passkeys.remove)}</button>
            </ActionForm>
        </li>
    }
}
