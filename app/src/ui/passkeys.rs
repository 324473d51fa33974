//! Passkey pieces of the pages: the sign-in button, passkey-only sign-up, and the profile's
//! passkey list. The ceremonies themselves run in `public/passkey.js`; these elements stay
//! hidden until that script finds WebAuthn in the browser.

use leptos::prelude::*;

use super::form::{field_error, last_error, FormError};
use crate::api::passkeys::{list_passkeys, PasskeySummary, RemovePasskey, RenamePasskey};

/// "Sign in with a passkey" (no email needed: the browser offers the passkeys it has).
#[component]
pub fn PasskeySignIn() -> impl IntoView {
    view! {
        <div class="alternative" data-passkey-root data-passkey-only hidden>
            <button type="button" class="button-secondary" data-passkey-sign-in>
                "Sign in with a passkey"
            </button>
            <p class="field-error" data-passkey-error role="alert"></p>
        </div>
    }
}

/// Sign-up with a passkey only.
#[component]
pub fn PasskeySignUp() -> impl IntoView {
    view! {
        <section class="alternative" data-passkey-root data-passkey-only hidden aria-labelledby="passkey-signup-heading">
            <h2 id="passkey-signup-heading">"Or use a passkey, no password needed"</h2>
            <p>"Your device keeps the key and unlocks it with your fingerprint, face or screen lock. The terms and choices you ticked above apply."</p>
            <form data-passkey-form="sign-up">
                <div class="field">
                    <label for="pk-email">"Email"</label>
                    <input id="pk-email" name="email" type="email" autocomplete="email" required />
                </div>
                <div class="field">
                    <label for="pk-name">"Your name"</label>
                    <input id="pk-name" name="display_name" autocomplete="name" required />
                </div>
                <button type="submit" class="button-secondary">"Create account with a passkey"</button>
                <p class="field-error" data-passkey-error role="alert"></p>
            </form>
        </section>
    }
}

/// The profile's passkeys: list, rename, remove, add.
#[component]
pub fn PasskeyManager() -> impl IntoView {
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
            <h2 id="passkeys-heading">"Passkeys"</h2>
            <FormError error=remove_error />
            <p class="field-error" role="alert">{move || field_error(rename_error, "name").get()}</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let list = passkeys.await.unwrap_or_default();
                    if list.is_empty() {
                        view! { <p class="aside">"No passkeys yet."</p> }.into_any()
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
                        <label for="passkey-name">"Name for the new passkey"</label>
                        <input id="passkey-name" name="name" placeholder="e.g. My laptop" maxlength="60" />
                    </div>
                    <button type="submit" class="button-secondary">"Add a passkey"</button>
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
    let field_id = format!("rename-{}", passkey.id);
    let PasskeySummary {
        id,
        name,
        created_at,
        last_used_at,
    } = passkey;
    let rename_id = id.clone();
    let used = last_used_at.map_or_else(|| "never used".to_string(), |t| format!("last used {t}"));
    view! {
        <li class="passkey">
            <p>
                <strong>{name.clone()}</strong>
                <span class="aside">" · added " {created_at} " · " {used}</span>
            </p>
            <ActionForm action=rename attr:class="inline-form">
                <input type="hidden" name="id" value=rename_id />
                <label for=field_id.clone() class="visually-hidden">"New name"</label>
                <input id=field_id name="name" value=name maxlength="60" required />
                <button type="submit" class="button-small button-secondary">"Rename"</button>
            </ActionForm>
            <ActionForm action=remove attr:class="inline-form">
                <input type="hidden" name="id" value=id />
                <button type="submit" class="button-small button-secondary">"Remove"</button>
            </ActionForm>
        </li>
    }
}
