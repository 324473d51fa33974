//! The OpenID provider's pages: the consent screen for third-party apps, the page that explains
//! why an app's request was stopped, and the profile's connected apps.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::{components::Redirect, hooks::use_query_map};

use super::{
    form::{last_error, FormError},
    layout::brand_paragraph,
};
use crate::{
    api::{
        error::AppError,
        oauth::{connected_apps, consent_details, AuthorizeProblem, DisconnectApp},
    },
    i18n::{tu_string, use_i18n},
};

/// Asks the signed-in person to approve an app. A plain form, so the answer is a navigation
/// that can go on to the app's own site.
#[component]
pub fn ConsentPage() -> impl IntoView {
    let query = use_query_map();
    let details = Resource::new(
        move || query.read().get("request").unwrap_or_default(),
        consent_details,
    );
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, oauth.consent_title) />
        <section class="card">
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, oauth.loading)}</p> }>
                {move || Suspend::new(async move {
                    match details.await {
                        Ok(Some(d)) => view! {
                            <h1>{tu_string!(i18n, oauth.consent_heading, app = &d.client_name)}</h1>
                            {brand_paragraph(|b| &b.consent_intro)}
                            <p>{tu_string!(i18n, oauth.will_be_able_to, app = &d.client_name)}</p>
                            <ul class="permissions">
                                {d.permissions.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                            </ul>
                            <p class="aside">{tu_string!(i18n, oauth.withdraw_later)}</p>
                            <form method="post" action="/oauth2/consent" class="consent">
                                <input type="hidden" name="request" value=d.request />
                                <button type="submit" name="decision" value="approve">{tu_string!(i18n, oauth.allow)}</button>
                                " "
                                <button type="submit" name="decision" value="deny" class="button-secondary">
                                    {tu_string!(i18n, oauth.deny)}
                                </button>
                            </form>
                        }.into_any(),
                        Ok(None) => view! {
                            <h1>{tu_string!(i18n, oauth.nothing_heading)}</h1>
                            <p>{tu_string!(i18n, oauth.nothing_text)}</p>
                        }.into_any(),
                        Err(AppError::Unauthorized) => view! { <Redirect path="/signin" /> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// After signing in or answering the consent screen: back to the app's request. A page of the
/// site (so a hydrated sign-in form can come here client-side) that leaves for the authorization
/// endpoint at once through a refresh, which browsers process also when the page is rendered
/// client-side. Being a new navigation, it also ends a form's redirect chain, which the CSP's
/// `form-action 'self'` would otherwise stop at the app's address.
#[component]
pub fn ContinueToAppPage() -> impl IntoView {
    let query = use_query_map();
    // Only the id's own characters go into the address (it is ours: base64url).
    let target = move || match query.read().get("request") {
        Some(id)
            if !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            format!("/oauth2/authorize/continue?request={id}")
        }
        _ => "/oauth2/authorize/continue".to_owned(),
    };
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, oauth.continue_title) />
        <Meta http_equiv="refresh" content=move || format!("0;url={}", target()) />
        <section class="card">
            <h1>{tu_string!(i18n, oauth.continue_heading)}</h1>
            <p><a href=target rel="external">{tu_string!(i18n, oauth.continue_link)}</a></p>
        </section>
    }
}

/// An app asked to sign the person out without proof that it is theirs: they confirm here.
#[component]
pub fn ConfirmSignOutPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, oauth.sign_out) />
        <section class="card">
            <h1>{tu_string!(i18n, oauth.sign_out_heading)}</h1>
            <p>{tu_string!(i18n, oauth.sign_out_text)}</p>
            <form method="post" action="/oauth2/logout/confirm">
                <button type="submit">{tu_string!(i18n, oauth.sign_out)}</button>
                " "
                <a href="/profile" class="button button-secondary">{tu_string!(i18n, oauth.stay_signed_in)}</a>
            </form>
        </section>
    }
}

/// Why an app's request stopped here (only known reasons are shown).
#[component]
pub fn AuthorizeErrorPage() -> impl IntoView {
    let query = use_query_map();
    let i18n = use_i18n();
    let message = move || {
        query
            .read()
            .get("reason")
            .and_then(|r| AuthorizeProblem::from_code(&r))
            .map(|p| p.to_string())
            .unwrap_or_else(|| tu_string!(i18n, oauth.error_fallback).into())
    };
    view! {
        <Title text=tu_string!(i18n, oauth.error_title) />
        <section class="card">
            <h1>{tu_string!(i18n, oauth.error_heading)}</h1>
            <p class="form-error" role="alert">{message}</p>
            <p><a href="/">{tu_string!(i18n, oauth.home_link)}</a></p>
        </section>
    }
}

/// The profile's connected apps, each with what it may see and a button to disconnect it.
#[component]
pub fn ConnectedApps() -> impl IntoView {
    let disconnect = ServerAction::<DisconnectApp>::new();
    let error = last_error(disconnect.value());
    let apps = Resource::new(move || disconnect.version().get(), |_| connected_apps());
    let i18n = use_i18n();
    view! {
        <section class="subsection" aria-labelledby="apps-heading">
            <h2 id="apps-heading">{tu_string!(i18n, oauth.apps_heading)}</h2>
            <FormError error />
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, oauth.loading)}</p> }>
                {move || Suspend::new(async move {
                    let apps = apps.await.unwrap_or_default();
                    if apps.is_empty() {
                        return view! { <p>{tu_string!(i18n, oauth.no_apps)}</p> }.into_any();
                    }
                    view! {
                        <ul class="identities">
                            {apps.into_iter().map(|a| view! {
                                <li>
                                    <strong>{a.name.clone()}</strong>
                                    {tu_string!(i18n, oauth.since, since = a.since)}
                                    " · " {a.permissions.join(", ")}
                                    <ActionForm action=disconnect attr:class="inline-form">
                                        <input type="hidden" name="client_id" value=a.client_id />
                                        <button type="submit" class="link-button">
                                            {tu_string!(i18n, oauth.disconnect, name = &a.name)}
                                        </button>
                                    </ActionForm>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                })}
            </Suspense>
        </section>
    }
}
