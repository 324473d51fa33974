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
    ui::form::{last_error, FormError},
};

#[component]
pub fn AppsPage() -> impl IntoView {
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
        <Title text="Apps" />
        <section class="card card-wide console">
            <ConsoleFrame data=apps page={move |view: ConsoleView, list: Vec<AppRow>| {
                let write = view.permissions.iter().any(|p| p == "apps.write");
                view! {
                    <h1>"Partner apps"</h1>
                    <FormError error=enable_error />
                    <FormError error=rotate_error />
                    {move || rotate.value().get().and_then(Result::ok).map(|secret| view! {
                        <p class="notice" role="status">"The new secret, shown this once: " <code id="new-secret">{secret}</code></p>
                    })}
                    <table class="console-table" id="apps">
                        <thead><tr><th>"App"</th><th>"Activity"</th><th></th></tr></thead>
                        <tbody>{list.into_iter().map(|a| row(a, write, enable, rotate)).collect_view()}</tbody>
                    </table>
                    {write.then(|| view! {
                        <h2>"Register an app"</h2>
                        <ActionForm action=create attr:id="create-app">
                            <FormError error=create_error />
                            <div class="field"><label for="app-name">"Name"</label><input id="app-name" name="app[name]" required maxlength="80" /></div>
                            <div class="field">
                                <label for="app-type">"Kind"</label>
                                <select id="app-type" name="app[client_type]">
                                    <option value="confidential">"Web app with a server (secret)"</option>
                                    <option value="public">"Browser or native app (no secret)"</option>
                                    <option value="service">"Service (client credentials)"</option>
                                </select>
                            </div>
                            <div class="field"><label for="app-redirects">"Redirect URIs (one per line)"</label><textarea id="app-redirects" name="app[redirect_uris]" rows="2"></textarea></div>
                            <div class="field"><label for="app-logout">"After sign-out URIs (one per line)"</label><textarea id="app-logout" name="app[post_logout_redirect_uris]" rows="2"></textarea></div>
                            <div class="field"><label for="app-bc">"Back-channel logout URI"</label><input id="app-bc" name="app[backchannel_logout_uri]" /></div>
                            {[("first_party", "First-party (no consent screen)"), ("pairwise", "Pairwise subject"), ("require_par", "Require pushed requests (PAR)"), ("require_dpop", "Require DPoP"), ("require_mfa", "Require a second factor")].into_iter().map(|(name, label)| view! {
                                <div class="field field-check">
                                    <input type="checkbox" id=format!("app-{name}") name=format!("app[{name}]") value="on" />
                                    <label for=format!("app-{name}")>{label}</label>
                                </div>
                            }).collect_view()}
                            {confirm_box("create-confirm".into())}
                            <button type="submit">"Register"</button>
                        </ActionForm>
                        {move || create.value().get().and_then(Result::ok).map(|app| view! {
                            <p class="notice" role="status" id="new-app">
                                "Registered: client id " <code id="new-client-id">{app.client_id}</code>
                                {app.client_secret.map(|s| view! { ", secret (shown this once) " <code id="new-client-secret">{s}</code> })}
                            </p>
                        })}
                    })}
                }
            }} />
        </section>
    }
}

fn row(
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
                <strong>{a.name}</strong> {(!a.enabled).then_some(" (disabled)")}
                <br /><span class="aside">{a.client_type} " · " {a.client_id.clone()}
                {a.first_party.then_some(" · first-party")}</span>
                <br /><span class="aside">{a.redirect_uris.join(" ")}</span>
            </td>
            <td class="aside">{a.activity}</td>
            <td>
                {a.try_sign_in.map(|href| view! { <a href=href>"Try sign-in"</a> " " })}
                <a href=format!("/admin/apps/edit?app={}", a.client_id)>{if write { "Edit" } else { "Settings" }}</a>
                {write.then(|| view! {
                    <ActionForm action=enable attr:class="console-action">
                        {confirm_box(format!("enable-{enable_id}"))}
                        <input type="hidden" name="client_id" value=enable_id />
                        <input type="hidden" name="enabled" value={(!a.enabled).to_string()} />
                        <button type="submit">{if a.enabled { "Disable" } else { "Enable" }}</button>
                    </ActionForm>
                    {a.has_secret.then(|| view! {
                        <ActionForm action=rotate attr:class="console-action">
                            {confirm_box(format!("rotate-{rotate_id}"))}
                            <input type="hidden" name="client_id" value=rotate_id />
                            <button type="submit">"Rotate the secret"</button>
                        </ActionForm>
                    })}
                })}
            </td>
        </tr>
    }
}
