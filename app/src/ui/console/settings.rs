//! The sign-in settings page: methods on or off, who must use a second factor, the risk
//! engine's thresholds, the password policy and session lifetimes. One form; only what changed is saved (and audited).

use leptos::prelude::*;
use leptos_meta::Title;

use super::ConsoleFrame;
use crate::{
    api::console::{
        settings::{sign_in_settings, SaveSettings, SettingsView},
        staff::ConsoleView,
    },
    i18n::{tu_string, use_i18n},
    ui::form::{last_error, FormError},
    I18n,
};

fn label(i18n: I18n, name: &str) -> &'static str {
    match name {
        "require_verified_email" => {
            tu_string!(i18n, console_settings.switch_require_verified_email)
        }
        "email_sign_in_enabled" => tu_string!(i18n, console_settings.switch_email_sign_in),
        "register_on_email_sign_in" => {
            tu_string!(i18n, console_settings.switch_register_on_email_sign_in)
        }
        "passkeys_enabled" => tu_string!(i18n, console_settings.switch_passkeys),
        "social_enabled" => tu_string!(i18n, console_settings.switch_social),
        "sms_enabled" => tu_string!(i18n, console_settings.switch_sms),
        "risk_engine_enabled" => tu_string!(i18n, console_settings.switch_risk_engine),
        "dpop_nonce_required" => tu_string!(i18n, console_settings.switch_dpop_nonce),
        _ => tu_string!(i18n, console_settings.switch_unknown),
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let i18n = use_i18n();
    let save = ServerAction::<SaveSettings>::new();
    let current = Resource::new(move || save.version().get(), |_| sign_in_settings());
    let error = last_error(save.value());
    view! {
        <Title text=tu_string!(i18n, console_settings.title) />
        <section class="card card-wide console">
            <ConsoleFrame data=current page={move |_view: ConsoleView, s: SettingsView| {
                view! {
                    <h1>{tu_string!(i18n, console_settings.heading)}</h1>
                    {move || save.value().get().and_then(Result::ok).map(|n| view! {
                        <p class="notice" role="status">{tu_string!(i18n, console_settings.saved, n = n)}</p>
                    })}
                    <ActionForm action=save attr:id="settings">
                        <FormError error />
                        <fieldset>
                            <legend>{tu_string!(i18n, console_settings.methods_legend)}</legend>
                            {s.switches.into_iter().map(|sw| {
                                let id = format!("switch-{}", sw.name);
                                view! {
                                    <div class="field field-check">
                                        <input type="checkbox" id=id.clone() name=format!("settings[{}]", sw.name) value="on" checked=sw.on />
                                        <label for=id>{label(i18n, &sw.name)}</label>
                                    </div>
                                }
                            }).collect_view()}
                        </fieldset>
                        <div class="field">
                            <label for="mfa_policy">{tu_string!(i18n, console_settings.mfa_policy_label)}</label>
                            <select id="mfa_policy" name="settings[mfa_policy]">
                                {[("off", tu_string!(i18n, console_settings.mfa_off)), ("optional", tu_string!(i18n, console_settings.mfa_optional)), ("admins", tu_string!(i18n, console_settings.mfa_admins)), ("required", tu_string!(i18n, console_settings.mfa_required))].into_iter().map(|(v, t)| {
                                    view! { <option value=v selected={s.mfa_policy == v}>{t}</option> }
                                }).collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <label for="risk_step_up">{tu_string!(i18n, console_settings.risk_step_up_label)}</label>
                            <input id="risk_step_up" name="settings[risk_step_up]" type="number" min="1" max="1000" value=s.risk_step_up />
                        </div>
                        <div class="field">
                            <label for="risk_block">{tu_string!(i18n, console_settings.risk_block_label)}</label>
                            <input id="risk_block" name="settings[risk_block]" type="number" min="1" max="1000" value=s.risk_block />
                            <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("risk_block"))}</p>
                        </div>
                        <fieldset>
                            <legend>{tu_string!(i18n, console_settings.passwords_legend)}</legend>
                            <div class="field">
                                <label for="password_min_length">{tu_string!(i18n, console_settings.password_min_length_label)}</label>
                                <input id="password_min_length" name="settings[password_min_length]" type="number" min="8" max="64" value=s.password_min_length />
                                <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("password_min_length"))}</p>
                            </div>
                            <div class="field">
                                <label for="password_min_strength">{tu_string!(i18n, console_settings.password_min_strength_label)}</label>
                                <select id="password_min_strength" name="settings[password_min_strength]">
                                    {[(3, tu_string!(i18n, console_settings.strength_3)), (4, tu_string!(i18n, console_settings.strength_4))].into_iter().map(|(v, t)| {
                                        view! { <option value=v.to_string() selected={s.password_min_strength == v}>{t}</option> }
                                    }).collect_view()}
                                </select>
                            </div>
                            <div class="field">
                                <label for="session_idle_minutes">{tu_string!(i18n, console_settings.session_idle_label)}</label>
                                <input id="session_idle_minutes" name="settings[session_idle_minutes]" type="number" min="5" max="1440" value=s.session_idle_minutes />
                                <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("session_idle_minutes"))}</p>
                            </div>
                            <div class="field">
                                <label for="session_max_hours">{tu_string!(i18n, console_settings.session_max_label)}</label>
                                <input id="session_max_hours" name="settings[session_max_hours]" type="number" min="1" max="720" value=s.session_max_hours />
                                <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("session_max_hours"))}</p>
                            </div>
                            <p class="aside">{tu_string!(i18n, console_settings.staff_sessions_note)}</p>
                        </fieldset>
                        <fieldset>
                            <legend>{tu_string!(i18n, console_settings.deletion_legend)}</legend>
                            <div class="field">
                                <label for="deletion_grace_days">{tu_string!(i18n, console_settings.deletion_grace_label)}</label>
                                <input id="deletion_grace_days" name="settings[deletion_grace_days]" type="number" min="1" max="90" value=s.deletion_grace_days />
                                <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("deletion_grace_days"))}</p>
                            </div>
                        </fieldset>
                        <div class="field field-check">
                            <input type="checkbox" id="settings-confirm" name="confirm" value="yes" required />
                            <label for="settings-confirm">{tu_string!(i18n, console_settings.confirm)}</label>
                        </div>
                        <button type="submit">{tu_string!(i18n, console_settings.save)}</button>
                    </ActionForm>
                }
            }} />
        </section>
    }
}
