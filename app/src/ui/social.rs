//! Social sign-in in the portal: the provider buttons, the message when a social sign-in did
//! not go through, the prompt to link a waiting identity, and the linked identities list.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::form::{last_error, FormError};
use crate::api::social::{
    linked_identities, pending_link, ConfirmLink, DiscardLink, SocialButton, SocialError,
    UnlinkIdentity,
};
use crate::{
    i18n::{tu_string, use_i18n},
    I18n,
};

/// One button per enabled provider. They are plain links (the browser leaves the site), so
/// they work the same with and without JavaScript.
#[component]
pub fn SocialButtons(providers: Vec<SocialButton>) -> impl IntoView {
    let i18n = use_i18n();
    (!providers.is_empty()).then(|| {
        view! {
            <section class="alternative" aria-labelledby="social-heading">
                <h2 id="social-heading">{tu_string!(i18n, social.heading)}</h2>
                <ul class="social-buttons">
                    {providers
                        .into_iter()
                        .map(|p| {
                            view! {
                                <li>
                                    <a
                                        class="button button-secondary"
                                        rel="external"
                                        href=format!("/signin/social/{}", p.id)
                                    >
                                        {tu_string!(i18n, social.continue_with, provider = p.name)}
                                    </a>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </section>
        }
    })
}

/// The reason in `?social_error=`, when it is one we know (nothing else is ever shown).
#[component]
pub fn SocialErrorNotice() -> impl IntoView {
    let query = use_query_map();
    let i18n = use_i18n();
    let message = move || {
        let code = query.read().get("social_error")?;
        if code == "sign_in_again" {
            return Some(tu_string!(i18n, social.error_sign_in_again).to_string());
        }
        SocialError::from_code(&code).map(|e| error_message(i18n, e).to_string())
    };
    move || {
        message().map(|m| {
            view! {
                <div class="form-error" role="alert">
                    <p>{m}</p>
                </div>
            }
        })
    }
}

/// The message of a social sign-in error, in the page's language.
fn error_message(i18n: I18n, error: SocialError) -> &'static str {
    match error {
        SocialError::Unavailable => tu_string!(i18n, social.error_unavailable),
        SocialError::Expired => tu_string!(i18n, social.error_expired),
        SocialError::Cancelled => tu_string!(i18n, social.error_cancelled),
        SocialError::Unreachable => tu_string!(i18n, social.error_unreachable),
        SocialError::Unverified => tu_string!(i18n, social.error_unverified),
        SocialError::EmailUnverified => tu_string!(i18n, social.error_email_unverified),
        SocialError::InUse => tu_string!(i18n, social.error_in_use),
        SocialError::NoPendingLink => tu_string!(i18n, social.error_no_pending_link),
        SocialError::WrongAccount => tu_string!(i18n, social.error_wrong_account),
        SocialError::LastMethod => tu_string!(i18n, social.error_last_method),
        SocialError::NotLinked => tu_string!(i18n, social.error_not_linked),
        SocialError::RiskBlocked => tu_string!(i18n, social.error_risk_blocked),
    }
}

/// On the sign-in page: an identity is waiting for its account's owner to sign in.
#[component]
pub fn PendingLinkNotice() -> impl IntoView {
    let pending = Resource::new(|| (), |_| pending_link());
    let i18n = use_i18n();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                pending.await.ok().flatten().map(|p| view! {
                    <p class="notice" role="status">
                        {tu_string!(
                            i18n,
                            social.pending_notice,
                            email = p.email,
                            provider = p.provider_name
                        )}
                    </p>
                })
            })}
        </Suspense>
    }
}

/// The profile's linked accounts: a prompt for a waiting identity, the linked ones with an
/// unlink button, and buttons to link the others.
#[component]
pub fn LinkedAccounts() -> impl IntoView {
    let confirm = ServerAction::<ConfirmLink>::new();
    let discard = ServerAction::<DiscardLink>::new();
    let unlink = ServerAction::<UnlinkIdentity>::new();
    let confirm_error = last_error(confirm.value());
    let unlink_error = last_error(unlink.value());
    let pending = Resource::new(move || confirm.version().get(), |_| pending_link());
    let identities = Resource::new(
        move || (confirm.version().get(), unlink.version().get()),
        |_| linked_identities(),
    );
    let i18n = use_i18n();
    view! {
        <section class="subsection" aria-labelledby="linked-heading">
            <h2 id="linked-heading">{tu_string!(i18n, social.linked_heading)}</h2>
            <SocialErrorNotice />
            <FormError error=confirm_error />
            <FormError error=unlink_error />
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    pending.await.ok().flatten().map(|p| {
                        let provider = p.provider_name.clone();
                        view! {
                            <div class="notice" role="status">
                                <p>
                                    {tu_string!(
                                        i18n,
                                        social.link_prompt,
                                        provider = p.provider_name,
                                        email = p.email
                                    )}
                                </p>
                                <ActionForm action=confirm attr:class="inline-form">
                                    <button type="submit">
                                        {tu_string!(i18n, social.link_submit, provider = provider)}
                                    </button>
                                </ActionForm>
                                " "
                                <ActionForm action=discard attr:class="inline-form">
                                    <button type="submit" class="button-secondary">
                                        {tu_string!(i18n, social.dont_link)}
                                    </button>
                                </ActionForm>
                            </div>
                        }
                    })
                })}
            </Suspense>
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, social.loading)}</p> }>
                {move || Suspend::new(async move {
                    let overview = identities.await.unwrap_or_default();
                    view! {
                        {overview.linked.is_empty().then(|| view! { <p>{tu_string!(i18n, social.none_linked)}</p> })}
                        <ul class="identities">
                            {overview.linked.into_iter().map(|l| view! {
                                <li>
                                    <strong>{l.provider_name.clone()}</strong>
                                    {l.email.map(|e| format!(" · {e}"))}
                                    {tu_string!(i18n, social.linked_at, date = l.linked_at)}
                                    <ActionForm action=unlink attr:class="inline-form">
                                        <input type="hidden" name="provider" value=l.provider_id />
                                        <button type="submit" class="link-button">
                                            {tu_string!(i18n, social.unlink, provider = l.provider_name)}
                                        </button>
                                    </ActionForm>
                                </li>
                            }).collect_view()}
                        </ul>
                        <ul class="social-buttons">
                            {overview.available.into_iter().map(|p| view! {
                                <li>
                                    // A plain form: linking starts only with a POST from here.
                                    <form method="post" action=format!("/signin/social/{}/link", p.id)
                                        class="inline-form">
                                        <button type="submit" class="button button-secondary">
                                            {tu_string!(i18n, social.connect, provider = p.name)}
                                        </button>
                                    </form>
                                </li>
                            }).collect_view()}
                        </ul>
                    }
                })}
            </Suspense>
        </section>
    }
}
