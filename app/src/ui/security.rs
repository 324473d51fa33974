//! The profile's second factors: the authenticator app, recovery codes and remembered devices;
//! the page that sets up an authenticator app, and the page that shows new recovery codes once.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::form::{last_error, CodeFields, FormError};
use crate::api::{
    second_factor::AuthenticatorSetup,
    security::{
        next_page, security_summary, start_authenticator, take_recovery_codes,
        ConfirmAuthenticator, ForgetDevice, NewRecoveryCodes, RemoveAuthenticator,
    },
};

/// The QR code and the key to type by hand.
#[component]
pub fn AuthenticatorSetupView(setup: AuthenticatorSetup) -> impl IntoView {
    view! {
        <figure class="qr">
            // Drawn by the server from the otpauth URL: no script, no outside request.
            <div class="qr-code" role="img" aria-label="QR code of your authenticator key" inner_html=setup.qr_svg></div>
            <figcaption>"Scan this with your authenticator app, or type the key:"</figcaption>
        </figure>
        <p class="key"><code data-totp-key>{setup.key}</code></p>
    }
}

/// The profile's "Second step" section.
#[component]
pub fn SecuritySection() -> impl IntoView {
    let remove = ServerAction::<RemoveAuthenticator>::new();
    let renew = ServerAction::<NewRecoveryCodes>::new();
    let forget = ServerAction::<ForgetDevice>::new();
    let summary = Resource::new(
        move || (remove.version().get(), forget.version().get()),
        |_| security_summary(),
    );
    let query = use_query_map();
    let used_up = move || query.read().get("recovery_codes_left").as_deref() == Some("0");
    view! {
        <section class="security" aria-labelledby="security-heading">
            <h2 id="security-heading">"Second step"</h2>
            <FormError error=last_error(remove.value()) />
            <FormError error=last_error(renew.value()) />
            <FormError error=last_error(forget.value()) />
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let s = summary.await.unwrap_or_default();
                    let strong = s.totp || s.passkeys > 0;
                    view! {
                        {s.second_factor_required.then(|| view! {
                            <p class="notice">"Your account must sign in with a second step."</p>
                        })}
                        {if s.totp {
                            view! {
                                <p>"Authenticator app: " <span class="badge badge-ok">"on"</span></p>
                                <ActionForm action=remove>
                                    <button type="submit" class="button-secondary">"Remove authenticator app"</button>
                                </ActionForm>
                            }.into_any()
                        } else {
                            view! {
                                <p>"Authenticator app: " <span class="badge">"off"</span></p>
                                <p><a href="/profile/authenticator" class="button">"Set up an authenticator app"</a></p>
                            }.into_any()
                        }}
                        {strong.then(|| view! {
                            <p data-recovery-left>
                                {format!("Recovery codes left: {}", s.recovery_codes_left)}
                            </p>
                            {(s.recovery_codes_left == 0 || used_up()).then(|| view! {
                                <p class="notice" role="status">
                                    "You have no recovery codes left. Make new ones, so a lost phone cannot lock you out."
                                </p>
                            })}
                            <ActionForm action=renew>
                                <button type="submit" class="button-secondary">"Make new recovery codes"</button>
                            </ActionForm>
                        })}
                        {(!s.devices.is_empty()).then(|| view! {
                            <h3>"Remembered devices"</h3>
                            <ul class="devices">
                                {s.devices.into_iter().map(|d| view! {
                                    <li>
                                        {d.device} " · last used " {d.last_used} " · until " {d.expires}
                                        <ActionForm action=forget attr:class="inline">
                                            <input type="hidden" name="id" value=d.id />
                                            <button type="submit" class="button-secondary">"Forget"</button>
                                        </ActionForm>
                                    </li>
                                }).collect_view()}
                            </ul>
                        })}
                    }
                })}
            </Suspense>
        </section>
    }
}

/// Setting up an authenticator app from the profile.
#[component]
pub fn AuthenticatorPage() -> impl IntoView {
    let setup = Resource::new(|| (), |_| start_authenticator());
    let confirm = ServerAction::<ConfirmAuthenticator>::new();
    view! {
        <Title text="Set up an authenticator app" />
        <section class="card">
            <h1>"Set up an authenticator app"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match setup.await {
                        Ok(setup) => view! {
                            <AuthenticatorSetupView setup />
                            <ActionForm action=confirm>
                                <CodeFields error=last_error(confirm.value()) />
                                <button type="submit" disabled=move || confirm.pending().get()>"Turn on"</button>
                            </ActionForm>
                        }.into_any(),
                        Err(e) => view! { <FormError error=Signal::derive(move || Some(e.clone())) /> }.into_any(),
                    }
                })}
            </Suspense>
            <p class="aside"><a href="/profile">"Back to your profile"</a></p>
        </section>
    }
}

/// New recovery codes, shown once.
#[component]
pub fn RecoveryCodesPage() -> impl IntoView {
    let codes = Resource::new(|| (), |_| take_recovery_codes());
    let next = Resource::new(|| (), |_| next_page());
    view! {
        <Title text="Your recovery codes" />
        <section class="card">
            <h1>"Your recovery codes"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let codes = codes.await.unwrap_or_default();
                    let next = next.await.unwrap_or_else(|_| "/profile".into());
                    if codes.is_empty() {
                        view! {
                            <p>"These codes were shown once already. Make a new set from your profile if you did not save them."</p>
                            <p><a href=next class="button">"Continue"</a></p>
                        }.into_any()
                    } else {
                        view! {
                            <p>
                                "Each code works once, instead of your authenticator app. Keep them somewhere safe: this is the only time they are shown."
                            </p>
                            <ul class="recovery-codes" data-recovery-codes>
                                {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
                            </ul>
                            <p><a href=next class="button">"I saved them, continue"</a></p>
                        }.into_any()
                    }
                })}
            </Suspense>
        </section>
    }
}
