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
    ui::form::{last_error, FormError},
};

fn label(name: &str) -> &'static str {
    match name {
        "require_verified_email" => "Require a verified address to sign in",
        "email_sign_in_enabled" => "Sign-in by emailed link or code",
        "register_on_email_sign_in" => "Register new people on email sign-in",
        "passkeys_enabled" => "Passkeys",
        "social_enabled" => "Social sign-in",
        "sms_enabled" => "Sign-in by text message",
        "risk_engine_enabled" => "The risk engine",
        _ => "Unknown setting",
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let save = ServerAction::<SaveSettings>::new();
    let current = Resource::new(move || save.version().get(), |_| sign_in_settings());
    let error = last_error(save.value());
    view! {
        <Title text="Sign-in settings" />
        <section class="card card-wide console">
            <ConsoleFrame data=current page={move |_view: ConsoleView, s: SettingsView| {
                view! {
                    <h1>"Sign-in settings"</h1>
                    {move || save.value().get().and_then(Result::ok).map(|n| view! {
                        <p class="notice" role="status">{format!("{n} change(s) saved.")}</p>
                    })}
                    <ActionForm action=save attr:id="settings">
                        <FormError error />
                        <fieldset>
                            <legend>"Methods and checks"</legend>
                            {s.switches.into_iter().map(|sw| {
                                let id = format!("switch-{}", sw.name);
                                view! {
                                    <div class="field field-check">
                                        <input type="checkbox" id=id.clone() name=format!("settings[{}]", sw.name) value="on" checked=sw.on />
                                        <label for=id>{label(&sw.name)}</label>
                                    </div>
                                }
                            }).collect_view()}
                        </fieldset>
                        <div class="field">
                            <label for="mfa_policy">"Who must use a second factor"</label>
                            <select id="mfa_policy" name="settings[mfa_policy]">
                                {[("off", "Nobody (not even those who set one up)"), ("optional", "Those who set one up"), ("admins", "Staff"), ("required", "Everyone")].into_iter().map(|(v, t)| {
                                    view! { <option value=v selected={s.mfa_policy == v}>{t}</option> }
                                }).collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <label for="risk_step_up">"Risk score that asks for a second factor"</label>
                            <input id="risk_step_up" name="settings[risk_step_up]" type="number" min="1" max="1000" value=s.risk_step_up />
                        </div>
                        <div class="field">
                            <label for="risk_block">"Risk score that refuses a sign-in"</label>
                            <input id="risk_block" name="settings[risk_block]" type="number" min="1" max="1000" value=s.risk_block />
                            <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("risk_block"))}</p>
                        </div>
                        <fieldset>
                            <legend>"Passwords and sessions"</legend>
                            <div class="field">
                                <label for="password_min_length">"Shortest password (characters, 8 to 64)"</label>
                                <input id="password_min_length" name="settings[password_min_length]" type="number" min="8" max="64" value=s.password_min_length />
                                <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("password_min_length"))}</p>
                            </div>
                            <div class="field">
                                <label for="password_min_strength">"Password strength needed"</label>
                                <select id="password_min_strength" name="settings[password_min_strength]">
                                    {[(3, "Hard to guess (recommended)"), (4, "Very hard to guess")].into_iter().map(|(v, t)| {
                                        view! { <option value=v.to_string() selected={s.password_min_strength == v}>{t}</option> }
                                    }).collect_view()}
                                </select>
                            </div>
                            <div class="field">
                                <label for="session_idle_minutes">"A sign-in ends after this many idle minutes (5 to 1440)"</label>
                                <input id="session_idle_minutes" name="settings[session_idle_minutes]" type="number" min="5" max="1440" value=s.session_idle_minutes />
                                <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("session_idle_minutes"))}</p>
                            </div>
                            <div class="field">
                                <label for="session_max_hours">"A sign-in ends after this many hours in all (1 to 720)"</label>
                                <input id="session_max_hours" name="settings[session_max_hours]" type="number" min="1" max="720" value=s.session_max_hours />
                                <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("session_max_hours"))}</p>
                            </div>
                            <p class="aside">"Staff sessions end after 15 idle minutes at most, whatever is set here."</p>
                        </fieldset>
                        <fieldset>
                            <legend>"Account deletion"</legend>
                            <div class="field">
                                <label for="deletion_grace_days">"A person's \"Delete my account\" is carried out after this many days (1 to 90); signing in before then offers to cancel it"</label>
                                <input id="deletion_grace_days" name="settings[deletion_grace_days]" type="number" min="1" max="90" value=s.deletion_grace_days />
                                <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("deletion_grace_days"))}</p>
                            </div>
                        </fieldset>
                        <div class="field field-check">
                            <input type="checkbox" id="settings-confirm" name="confirm" value="yes" required />
                            <label for="settings-confirm">"I confirm"</label>
                        </div>
                        <button type="submit">"Save"</button>
                    </ActionForm>
                }
            }} />
        </section>
    }
}
