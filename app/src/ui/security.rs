//! The profile's second factors: the authenticator app, recovery codes and remembered devices;
//! the page that sets up an authenticator app, and the page that shows new recovery codes once.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::form::{last_error, CodeFields, FormError};
use crate::{
    api::{
        second_factor::AuthenticatorSetup,
        security::{
            next_page, security_summary, start_authenticator, take_recovery_codes,
            ConfirmAuthenticator, ForgetDevice, NewRecoveryCodes, RemoveAuthenticator,
        },
    },
    i18n::{tu_string, use_i18n},
};

/// The QR code and the key to type by hand.
#[component]
pub fn AuthenticatorSetupView(setup: AuthenticatorSetup) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <figure class="qr">
            // Drawn by the server from the otpauth URL: no script, no outside request.
            <div class="qr-code" role="img" aria-label=tu_string!(i18n, security.qr_code_label) inner_html=setup.qr_svg></div>
            <figcaption>{tu_string!(i18n, security.qr_caption)}</figcaption>
        </figure>
        <p class="key"><code data-totp-key>{setup.key}</code></p>
    }
}

/// The profile's "Second step" section.
#[component]
pub fn SecuritySection() -> impl IntoView {
    let i18n = use_i18n();
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
            <h2 id="security-heading">{tu_string!(i18n, security.heading)}</h2>
            <FormError error=last_error(remove.value()) />
            <FormError error=last_error(renew.value()) />
            <FormError error=last_error(forget.value()) />
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let s = summary.await.unwrap_or_default();
                    let strong = s.totp || s.passkeys > 0;
                    view! {
                        {s.second_factor_required.then(|| view! {
                            <p class="notice">{tu_string!(i18n, security.notice_second_factor_required)}</p>
                        })}
                        {if s.totp {
                            view! {
                                <p>{tu_string!(i18n, security.authenticator_label)} <span class="badge badge-ok">{tu_string!(i18n, security.badge_on)}</span></p>
                                <ActionForm action=remove>
                                    <button type="submit" class="button-secondary">{tu_string!(i18n, security.remove_authenticator)}</button>
                                </ActionForm>
                            }.into_any()
                        } else {
                            view! {
                                <p>{tu_string!(i18n, security.authenticator_label)} <span class="badge">{tu_string!(i18n, security.badge_off)}</span></p>
                                <p><a href="/profile/authenticator" class="button">{tu_string!(i18n, security.set_up_authenticator)}</a></p>
                            }.into_any()
                        }}
                        {strong.then(|| view! {
                            <p data-recovery-left>
                                {tu_string!(i18n, security.recovery_codes_left, left = s.recovery_codes_left)}
                            </p>
                            {(s.recovery_codes_left == 0 || used_up()).then(|| view! {
                                <p class="notice" role="status">
                                    {tu_string!(i18n, security.notice_no_recovery_codes)}
                                </p>
                            })}
                            <ActionForm action=renew>
                                <button type="submit" class="button-secondary">{tu_string!(i18n, security.new_recovery_codes)}</button>
                            </ActionForm>
                        })}
                        {(!s.devices.is_empty()).then(|| view! {
                            <h3>{tu_string!(i18n, security.devices_heading)}</h3>
                            <ul class="devices">
                                {s.devices.into_iter().map(|d| view! {
                                    <li>
                                        {d.device} " · " {tu_string!(i18n, security.device_last_used, date = d.last_used)} " · " {tu_string!(i18n, security.device_until, date = d.expires)}
                                        <ActionForm action=forget attr:class="inline">
                                            <input type="hidden" name="id" value=d.id />
                                            <button type="submit" class="button-secondary">{tu_string!(i18n, security.forget_device)}</button>
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
    let i18n = use_i18n();
    let setup = Resource::new(|| (), |_| start_authenticator());
    let confirm = ServerAction::<ConfirmAuthenticator>::new();
    view! {
        <Title text=tu_string!(i18n, security.authenticator_title) />
        <section class="card">
            <h1>{tu_string!(i18n, security.authenticator_heading)}</h1>
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, security.loading)}</p> }>
                {move || Suspend::new(async move {
                    match setup.await {
                        Ok(setup) => view! {
                            <AuthenticatorSetupView setup />
                            <ActionForm action=confirm>
                                <CodeFields error=last_error(confirm.value()) />
                                <button type="submit" disabled=move || confirm.pending().get()>{tu_string!(i18n, security.turn_on)}</button>
                            </ActionForm>
                        }.into_any(),
                        Err(e) => view! { <FormError error=Signal::derive(move || Some(e.clone())) /> }.into_any(),
                    }
                })}
            </Suspense>
            <p class="aside"><a href="/profile">{tu_string!(i18n, security.back_to_profile)}</a></p>
        </section>
    }
}

/// New recovery codes, shown once.
#[component]
pub fn RecoveryCodesPage() -> impl IntoView {
    let i18n = use_i18n();
    let codes = Resource::new(|| (), |_| take_recovery_codes());
    let next = Resource::new(|| (), |_| next_page());
    view! {
        <Title text=tu_string!(i18n, security.recovery_codes_title) />
        <section class="card">
            <h1>{tu_string!(i18n, security.recovery_codes_heading)}</h1>
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, security.loading)}</p> }>
                {move || Suspend::new(async move {
                    let codes = codes.await.unwrap_or_default();
                    let next = next.await.unwrap_or_else(|_| "/profile".into());
                    if codes.is_empty() {
                        view! {
                            <p>{tu_string!(i18n, security.recovery_codes_already_shown)}</p>
                            <p><a href=next class="button">{tu_string!(i18n, security.continue_link)}</a></p>
                        }.into_any()
                    } else {
                        view! {
                            <p>
                                {tu_string!(i18n, security.recovery_codes_intro)}
                            </p>
                            <ul class="recovery-codes" data-recovery-codes>
                                {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
                            </ul>
                            <p><a href=next class="button">{tu_string!(i18n, security.recovery_codes_saved)}</a></p>
                        }.into_any()
                    }
                })}
            </Suspense>
        </section>
    }
}
