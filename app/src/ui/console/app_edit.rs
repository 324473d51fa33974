//! An app's edit page: its settings in one form (URIs, switches, signing algorithm, token
//! lifetimes); the kind of app and its subjects are shown, not edited.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::ConsoleFrame;
use crate::{
    api::console::{
        app_edit::{app_settings, AppConfig, UpdateApp, ALGORITHMS},
        staff::ConsoleView,
    },
    i18n::{tu_string, use_i18n},
    ui::form::{last_error, FormError},
};

#[component]
pub fn AppEditPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let save = ServerAction::<UpdateApp>::new();
    let app = Resource::new(
        move || {
            (
                query.read().get("app").unwrap_or_default(),
                save.version().get(),
            )
        },
        |(id, _)| app_settings(id),
    );
    let error = last_error(save.value());
    view! {
        <Title text=tu_string!(i18n, console_app_edit.title) />
        <section class="card card-wide console">
            <ConsoleFrame data=app page={move |view: ConsoleView, a: AppConfig| {
                let write = view.permissions.iter().any(|p| p == "apps.write");
                let heading = tu_string!(i18n, console_app_edit.heading, name = &a.form.name);
                let about = tu_string!(
                    i18n,
                    console_app_edit.about,
                    client_type = &a.client_type,
                    client_id = &a.client_id,
                    subjects = &a.subjects
                );
                view! {
                    <h1>{heading}</h1>
                    <p class="aside">{about}</p>
                    {move || save.value().get().and_then(Result::ok).map(|n| view! {
                        <p class="notice" role="status">{tu_string!(i18n, console.changes_saved, changes = n)}</p>
                    })}
                    <EditForm a write save error />
                }
            }} />
        </section>
    }
}

#[component]
fn EditForm(
    a: AppConfig,
    write: bool,
    save: ServerAction<UpdateApp>,
    error: Signal<Option<crate::api::error::AppError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let f = a.form;
    let field_error = move |name: &'static str| {
        view! { <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field(name))}</p> }
    };
    let switches = [
        (
            "first_party",
            tu_string!(i18n, console_apps.first_party),
            f.first_party.is_some(),
        ),
        (
            "refresh_tokens",
            tu_string!(i18n, console_app_edit.refresh_tokens),
            f.refresh_tokens.is_some(),
        ),
        (
            "require_par",
            tu_string!(i18n, console_apps.require_par),
            f.require_par.is_some(),
        ),
        (
            "require_dpop",
            tu_string!(i18n, console_apps.require_dpop),
            f.require_dpop.is_some(),
        ),
        (
            "require_mfa",
            tu_string!(i18n, console_apps.require_mfa),
            f.require_mfa.is_some(),
        ),
    ];
    let alg = f.id_token_alg.clone();
    view! {
        <ActionForm action=save attr:id="edit-app">
            <FormError error />
            <input type="hidden" name="client_id" value=a.client_id />
            <div class="field"><label for="edit-name">{tu_string!(i18n, console_apps.name_label)}</label><input id="edit-name" name="app[name]" value=f.name required maxlength="80" /></div>
            <div class="field"><label for="edit-redirects">{tu_string!(i18n, console_apps.redirects_label)}</label><textarea id="edit-redirects" name="app[redirect_uris]" rows="3">{f.redirect_uris}</textarea></div>
            <div class="field"><label for="edit-logout">{tu_string!(i18n, console_apps.logout_label)}</label><textarea id="edit-logout" name="app[post_logout_redirect_uris]" rows="2">{f.post_logout_redirect_uris}</textarea></div>
            <div class="field"><label for="edit-bc">{tu_string!(i18n, console_apps.backchannel_label)}</label><input id="edit-bc" name="app[backchannel_logout_uri]" value=f.backchannel_logout_uri /></div>
            <div class="field"><label for="edit-fc">{tu_string!(i18n, console_app_edit.frontchannel_label)}</label><input id="edit-fc" name="app[frontchannel_logout_uri]" value=f.frontchannel_logout_uri /></div>
            {switches.into_iter().map(|(name, label, on)| view! {
                <div class="field field-check">
                    <input type="checkbox" id=format!("edit-{name}") name=format!("app[{name}]") value="on" checked=on />
                    <label for=format!("edit-{name}")>{label}</label>
                </div>
            }).collect_view()}
            <div class="field">
                <label for="edit-alg">{tu_string!(i18n, console_app_edit.alg_label)}</label>
                <select id="edit-alg" name="app[id_token_alg]">
                    {ALGORITHMS.into_iter().map(|value| view! { <option value=value selected=alg == value>{value}</option> }).collect_view()}
                </select>
                {field_error("id_token_alg")}
            </div>
            <div class="field">
                <label for="edit-access-ttl">{tu_string!(i18n, console_app_edit.access_ttl_label)}</label>
                <input id="edit-access-ttl" name="app[access_token_ttl_secs]" type="number" min="60" max="86400" value=f.access_token_ttl_secs />
                {field_error("access_token_ttl_secs")}
            </div>
            <div class="field">
                <label for="edit-refresh-ttl">{tu_string!(i18n, console_app_edit.refresh_ttl_label)}</label>
                <input id="edit-refresh-ttl" name="app[refresh_token_ttl_secs]" type="number" min="300" max="31536000" value=f.refresh_token_ttl_secs />
                {field_error("refresh_token_ttl_secs")}
            </div>
            {write.then(|| view! {
                <div class="field field-check">
                    <input type="checkbox" id="edit-confirm" name="confirm" value="yes" required />
                    <label for="edit-confirm">{tu_string!(i18n, console.i_confirm)}</label>
                </div>
                <button type="submit">{tu_string!(i18n, console.save)}</button>
            })}
        </ActionForm>
    }
}
