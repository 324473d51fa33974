//! The signed-in customer's profile: address, name, password, postal address, language and
//! time zone, sign-ins, second factors, passkeys, linked accounts and connected apps.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map};

use super::{
    email_change::EmailChangeForm,
    form::{field_error, last_error, Field, FormError},
    layout::CurrentUser,
    oauth::ConnectedApps,
    passkeys::PasskeyManager,
    password::PasswordSection,
    postal_address::PostalAddressSection,
    preferences::PreferencesSection,
    security::SecuritySection,
    sign_ins::SignInsSection,
    sms::PhoneSection,
    social::LinkedAccounts,
};
use crate::{
    api::profile::{AccountSummary, UpdateProfile},
    i18n::{tu_string, use_i18n},
};

/// The page's sections that load data of their own sit outside the account's `Suspense`:
/// resources created while a `Suspense` resolves would make the server's stream wait on
/// boundaries it re-walks.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let i18n = use_i18n();
    let CurrentUser(user) = expect_context::<CurrentUser>();
    let query = use_query_map();
    let password_changed = move || query.read().get("password_changed").is_some();
    let passkey_added = move || query.read().get("passkey_added").is_some();
    let linked = move || query.read().get("linked").is_some();
    let authenticator_added = move || query.read().get("authenticator_added").is_some();
    let deletion_cancelled = move || query.read().get("deletion_cancelled").is_some();
    view! {
        <Title text=tu_string!(i18n, profile.title) />
        <section class="card">
            <h1>{tu_string!(i18n, profile.heading)}</h1>
            <Show when=password_changed>
                <p class="notice" role="status">
                    {tu_string!(i18n, profile.notice_password_changed)}
                </p>
            </Show>
            <Show when=deletion_cancelled>
                <p class="notice" role="status">{tu_string!(i18n, profile.notice_deletion_cancelled)}</p>
            </Show>
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, profile.loading)}</p> }>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(me)) => view! { <ProfileFacts me /> }.into_any(),
                        Ok(None) => view! { <Redirect path="/signin" /> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <Show when=passkey_added>
                <p class="notice" role="status">{tu_string!(i18n, profile.notice_passkey_added)}</p>
            </Show>
            <Show when=authenticator_added>
                <p class="notice" role="status">{tu_string!(i18n, profile.notice_authenticator_added)}</p>
            </Show>
            <p><a href="/profile/activity">{tu_string!(i18n, profile.activity_link)}</a></p>
            <p><a href="/profile/consents">{tu_string!(i18n, profile.consents_link)}</a></p>
            <p><a href="/profile/data">{tu_string!(i18n, profile.data_link)}</a></p>
            <p><a href="/profile/delete">{tu_string!(i18n, profile.delete_link)}</a></p>
            <PostalAddressSection />
            <PreferencesSection />
            <SignInsSection />
            <SecuritySection />
            <PasskeyManager />
            <Show when=linked>
                <p class="notice" role="status">{tu_string!(i18n, profile.notice_linked)}</p>
            </Show>
            <LinkedAccounts />
            <ConnectedApps />
        </section>
    }
}

/// The account's address, name (editable) and phone number.
#[component]
fn ProfileFacts(me: AccountSummary) -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let phone_added = move || query.read().get("phone_added").is_some();
    let action = ServerAction::<UpdateProfile>::new();
    let error = last_error(action.value());
    let saved = move || matches!(action.value().get(), Some(Ok(())));
    let name = RwSignal::new(me.display_name.clone());
    view! {
        <dl class="facts">
            <dt>{tu_string!(i18n, profile.email_label)}</dt>
            <dd>
                {me.email.clone()}
                {if me.email_verified {
                    view! { <span class="badge badge-ok">{tu_string!(i18n, profile.badge_verified)}</span> }.into_any()
                } else {
                    view! { <span class="badge">{tu_string!(i18n, profile.badge_not_verified)}</span> }.into_any()
                }}
            </dd>
        </dl>
        <EmailChangeForm />
        <ActionForm action>
            <FormError error />
            <Field
                label=tu_string!(i18n, profile.display_name_label)
                name="display_name"
                autocomplete="name"
                value=name
                error=field_error(error, "display_name")
            />
            <button type="submit" disabled=move || action.pending().get()>
                {tu_string!(i18n, profile.save)}
            </button>
            <Show when=saved>
                <p class="notice" role="status">{tu_string!(i18n, profile.notice_saved)}</p>
            </Show>
        </ActionForm>
        <PasswordSection has_password=me.has_password />
        <Show when=phone_added>
            <p class="notice" role="status">{tu_string!(i18n, profile.notice_phone_added)}</p>
        </Show>
        <PhoneSection phone=me.phone.clone() />
        {me.is_admin.then(|| view! {
            <p class="aside"><a href="/admin">{tu_string!(i18n, profile.console_link)}</a> " · " <a href="/admin/outbox">{tu_string!(i18n, profile.outbox_link)}</a></p>
        })}
    }
}
