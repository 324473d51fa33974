//! The OpenID provider's pages: the consent screen for third-party apps, the page that explains
//! why an app's request was stopped, and the profile's connected apps.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::{components::Redirect, hooks::use_query_map};

use super::{
    form::{last_error, FormError},
    layout::brand_paragraph,
};
use crate::api::{
    error::AppError,
    oauth::{connected_apps, consent_details, AuthorizeProblem, DisconnectApp},
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
    view! {
        <Title text="Allow access" />
        <section class="card">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match details.await {
                        Ok(Some(d)) => view! {
                            <h1>{format!("Allow {} to use your account?", d.client_name)}</h1>
                            {brand_paragraph(|b| &b.consent_intro)}
                            <p>{format!("{} will be able to:", d.client_name)}</p>
                            <ul class="permissions">
                                {d.permissions.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                            </ul>
                            <p class="aside">"You can withdraw this later from your profile."</p>
                            <form method="post" action="/oauth2/consent" class="consent">
                                <input type="hidden" name="request" value=d.request />
                                <button type="submit" name="decision" value="approve">"Allow"</button>
                                " "
                                <button type="submit" name="decision" value="deny" class="button-secondary">
                                    "Deny"
                                </button>
                            </form>
                        }.into_any(),
                        Ok(None) => view! {
                            <h1>"Nothing to approve"</h1>
                            <p>"No app is waiting for your approval in this browser."</p>
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
    view! {
        <Title text="Returning to the app" />
        <Meta http_equiv="refresh" content=move || format!("0;url={}", target()) />
        <section class="card">
            <h1>"Signed in"</h1>
            <p><a href=target rel="external">"Continue to the app"</a></p>
        </section>
    }
}

/// An app asked to sign the person out without proof that it is theirs: they confirm here.
#[component]
pub fn ConfirmSignOutPage() -> impl IntoView {
    view! {
        <Title text="Sign out" />
        <section class="card">
            <h1>"Sign out?"</h1>
            <p>"An app asked to sign you out of your account on this device."</p>
            <form method="post" action="/oauth2/logout/confirm">
                <button type="submit">"Sign out"</button>
                " "
                <a href="/profile" class="button button-secondary">"Stay signed in"</a>
            </form>
        </section>
    }
}

/// Why an app's request stopped here (only known reasons are shown).
#[component]
pub fn AuthorizeErrorPage() -> impl IntoView {
    let query = use_query_map();
    let message = move || {
        query
            .read()
            .get("reason")
            .and_then(|r| AuthorizeProblem::from_code(&r))
            .map(|p| p.to_string())
            .unwrap_or_else(|| "The app's sign-in request could not be completed.".into())
    };
    view! {
        <Title text="Sign-in stopped" />
        <section class="card">
            <h1>"We could not sign you in to the app"</h1>
            <p class="form-error" role="alert">{message}</p>
            <p><a href="/">"Go to the home page"</a></p>
        </section>
    }
}

/// The profile's connected apps, each with what it may see and a button to disconnect it.
#[component]
pub fn ConnectedApps() -> impl IntoView {
    let disconnect = ServerAction::<DisconnectApp>::new();
    let error = last_error(disconnect.value());
    let apps = Resource::new(move || disconnect.version().get(), |_| connected_apps());
    view! {
        <section class="subsection" aria-labelledby="apps-heading">
            <h2 id="apps-heading">"Connected apps"</h2>
            <FormError error />
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let apps = apps.await.unwrap_or_default();
                    if apps.is_empty() {
                        return view! { <p>"No apps are connected to your account."</p> }.into_any();
                    }
                    view! {
                        <ul class="identities">
                            {apps.into_iter().map(|a| view! {
                                <li>
                                    <strong>{a.name.clone()}</strong>
                                    " · since " {a.since}
                                    " · " {a.permissions.join(", ")}
                                    <ActionForm action=disconnect attr:class="inline-form">
                                        <input type="hidden" name="client_id" value=a.client_id />
                                        <button type="submit" class="link-button">
                                            {format!("Disconnect {}", a.name)}
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
