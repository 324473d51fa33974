//! The partner apps page: each app with its token activity, enable or disable, rotate the
//! secret (shown once), try a sign-in; and the form that registers one.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{confirm_box, ConsoleFrame};
use crate::{
    api::console::{
        apps::{list_apps, AppRow, CreateApp, RotateAppSecret, SetAppEnabled},
        staff::ConsoleView,
    },
    i18n::{tu_string, use_i18n},
    ui::form::{last_error, FormError},
    I18n,
};

#[component]
pub fn AppsPage() -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<CreateApp>::new();
    let enable = ServerAction::<SetAppEnabled>::new();
    let rotate = ServerAction::<RotateAppSecret>::new();
    let apps = Resource::new(
        move || {
            (
                create.version().get(),
                enable.version().get(),
                rotate.version().get(),
            )
        },
        |_| list_apps(),
    );
    let create_error = last_error(create.value());
    let enable_error = last_error(enable.value());
    let rotate_error = last_error(rotate.value());
    view! {
        <Title text=tu_string!(i18n, console_apps.title) />
        <section class="card card-wide console">
            <ConsoleFrame data=apps page={move |view: ConsoleView, list: Vec<AppRow>| {
                let write = view.permissions.iter().any(|p| p == "apps.write");
                view! {
                    <h1>{tu_string!(i18n, console_apps.heading)}</h1>
                    <FormError error=enable_error />
                    <FormError error=rotate_error />
                    {move || rotate.value().get().and_then(Result::ok).map(|secret| view! {
                        <p class="notice" role="status">{tu_string!(i18n, console_apps.new_secret)} <code id="new-secret">{secret}</code></p>
                    })}
                    <table class="console-table" id="apps">
                        <thead><tr><th>{tu_string!(i18n, console_apps.col_app)}</th><th>{tu_string!(i18n, console_apps.col_activity)}</th><th></th></tr></thead>
                        <tbody>{list.into_iter().map(|a| row(i18n, a, write, enable, rotate)).collect_view()}</tbody>
                    </table>
                    {write.then(|| view! {
                        <h2>{tu_string!(i18n, console_apps.register_heading)}</h2>
                        <ActionForm action=create attr:id="create-app">
                            <FormError error=create_error />
                            <div class="field"><label for="app-name">{tu_string!(i18n, console_apps.name_label)}</label><input id="app-name" name="app[name]" required maxlength="80" /></div>
                            <div class="field">
                                <label for="app-type">{tu_string!(i18n, console_apps.kind_label)}</label>
                                <select id="app-type" name="app[client_type]">
                                    <option value="confidential">{tu_string!(i18n, console_apps.kind_confidential)}</option>
                                    <option value="public">{tu_string!(i18n, console_apps.kind_public)}</option>
                                    <option value="service">{tu_string!(i18n, console_apps.kind_service)}</option>
                                </select>
                            </div>
                            <div class="field"><label for="app-redirects">{tu_string!(i18n, console_apps.redirects_label)}</label><textarea id="app-redirects" name="app[redirect_uris]" rows="2"></textarea></div>
                            <div class="field"><label for="app-logout">{tu_string!(i18n, console_apps.logout_label)}</label><textarea id="app-logout" name="app[post_logout_redirect_uris]" rows="2"></textarea></div>
                            <div class="field"><label for="app-bc">{tu_string!(i18n, console_apps.backchannel_label)}</label><input id="app-bc" name="app[backchannel_logout_uri]" /></div>
                            {[
                                ("first_party", tu_string!(i18n, console_apps.first_party)),
                                ("pairwise", tu_string!(i18n, console_apps.pairwise)),
                                ("require_par", tu_string!(i18n, console_apps.require_par)),
                                ("require_dpop", tu_string!(i18n, console_apps.require_dpop)),
                                ("require_mfa", tu_string!(i18n, console_apps.require_mfa)),
                            ].into_iter().map(|(name, label)| view! {
                                <div class="field field-check">
                                    <input type="checkbox" id=format!("app-{name}") name=format!("app[{name}]") value="on" />
                                    <label for=format!("app-{name}")>{label}</label>
                                </div>
                            }).collect_view()}
                            {confirm_box("create-confirm".into())}
                            <button type="submit">{tu_string!(i18n, console_apps.register)}</button>
                        </ActionForm>
                        {move || create.value().get().and_then(Result::ok).map(|app| view! {
                            <p class="notice" role="status" id="new-app">
                                {tu_string!(i18n, console_apps.registered_client_id)} <code id="new-client-id">{app.client_id}</code>
                                {app.client_secret.map(|s| view! { {tu_string!(i18n, console_apps.registered_secret)} <code id="new-client-secret">{s}</code> })}
                            </p>
                        })}
                    })}
                }
            }} />
        </section>
    }
}

fn row(
    i18n: I18n,
    a: AppRow,
    write: bool,
    enable: ServerAction<SetAppEnabled>,
    rotate: ServerAction<RotateAppSecret>,
) -> impl IntoView {
    let enable_id = a.client_id.clone();
    let rotate_id = a.client_id.clone();
    view! {
        <tr data-client-id=a.client_id.clone()>
            <td>
                <strong>{a.name}</strong> {(!a.enabled).then_some(tu_string!(i18n, console_apps.disabled_suffix))}
                <br /><span class="aside">{a.client_type} " · " {a.client_id.clone()}
                {a.first_party.then_some(tu_string!(i18n, console_apps.first_party_suffix))}</span>
                <br /><span class="aside">{a.redirect_uris.join(" ")}</span>
            </td>
            <td class="aside">{a.activity}</td>
            <td>
                {a.try_sign_in.map(|href| view! { <a href=href>{tu_string!(i18n, console_apps.try_sign_in)}</a> " " })}
                <a href=format!("/admin/apps/edit?app={}", a.client_id)>{if write { tu_string!(i18n, console_apps.edit) } else { tu_string!(i18n, console_apps.settings) }}</a>
                {write.then(|| view! {
                    <ActionForm action=enable attr:class="console-action">
                        {confirm_box(format!("enable-{enable_id}"))}
                        <input type="hidden" name="client_id" value=enable_id />
                        <input type="hidden" name="enabled" value={(!a.enabled).to_string()} />
                        <button type="submit">{if a.enabled { tu_string!(i18n, console_apps.disable) } else { tu_string!(i18n, console_apps.enable) }}</button>
                    </ActionForm>
                    {a.has_secret.then(|| view! {
                        <ActionForm action=rotate attr:class="console-action">
                            {confirm_box(format!("rotate-{rotate_id}"))}
                            <input type="hidden" name="client_id" value=rotate_id />
                            <button type="submit">{tu_string!(i18n, console_apps.rotate_secret)}</button>
                        </ActionForm>
                    })}
                })}
            </td>
        </tr>
    }
}
