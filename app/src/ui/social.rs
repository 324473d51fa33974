//! Social sign-in in the portal: the provider buttons, the message when a social sign-in did
//! not go through, the prompt to link a waiting identity, and the linked identities list.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::form::{last_error, FormError};
use crate::api::social::{
    linked_identities, pending_link, ConfirmLink, DiscardLink, SocialButton, SocialError,
    UnlinkIdentity,
};

/// One button per enabled provider. They are plain links (the browser leaves the site), so
/// they work the same with and without JavaScript.
#[component]
pub fn SocialButtons(providers: Vec<SocialButton>) -> impl IntoView {
    (!providers.is_empty()).then(|| {
        view! {
            <section class="alternative" aria-labelledby="social-heading">
                <h2 id="social-heading">"Or continue with"</h2>
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
                                        {format!("Continue with {}", p.name)}
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
    let message = move || {
        let code = query.read().get("social_error")?;
        if code == "sign_in_again" {
            return Some(
                "For your security, confirm it's you (a recent second step, or a sign-in within the last 10 minutes) to link an account."
                    .to_string(),
            );
        }
        SocialError::from_code(&code).map(|e| e.to_string())
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

/// On the sign-in page: an identity is waiting for its account's owner to sign in.
#[component]
pub fn PendingLinkNotice() -> impl IntoView {
    let pending = Resource::new(|| (), |_| pending_link());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                pending.await.ok().flatten().map(|p| view! {
                    <p class="notice" role="status">
                        {format!(
                            "An account with {} already exists. Sign in to it any other way to link your {} account.",
                            p.email, p.provider_name
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
    view! {
        <section class="subsection" aria-labelledby="linked-heading">
            <h2 id="linked-heading">"Linked accounts"</h2>
            <SocialErrorNotice />
            <FormError error=confirm_error />
            <FormError error=unlink_error />
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    pending.await.ok().flatten().map(|p| view! {
                        <div class="notice" role="status">
                            <p>{format!("Link your {} account ({}) to this account?", p.provider_name, p.email)}</p>
                            <ActionForm action=confirm attr:class="inline-form">
                                <button type="submit">{format!("Link {}", p.provider_name)}</button>
                            </ActionForm>
                            " "
                            <ActionForm action=discard attr:class="inline-form">
                                <button type="submit" class="button-secondary">"Don't link"</button>
                            </ActionForm>
                        </div>
                    })
                })}
            </Suspense>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let overview = identities.await.unwrap_or_default();
                    view! {
                        {overview.linked.is_empty().then(|| view! { <p>"No linked accounts."</p> })}
                        <ul class="identities">
                            {overview.linked.into_iter().map(|l| view! {
                                <li>
                                    <strong>{l.provider_name.clone()}</strong>
                                    {l.email.map(|e| format!(" · {e}"))}
                                    " · linked " {l.linked_at}
                                    <ActionForm action=unlink attr:class="inline-form">
                                        <input type="hidden" name="provider" value=l.provider_id />
                                        <button type="submit" class="link-button">
                                            {format!("Unlink {}", l.provider_name)}
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
                                            {format!("Connect {}", p.name)}
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
