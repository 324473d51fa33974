//! The social sign-in page: each provider with its callback address, a test of its issuer, on
//! or off, a change form and removal; and the form that adds one.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{confirm_box, ConsoleFrame};
use crate::{
    api::console::{
        social::{
            list_providers, AddProvider, ChangeProvider, ProviderRow, RemoveProvider,
            SetProviderEnabled, TestProvider,
        },
        staff::ConsoleView,
    },
    ui::form::{last_error, FormError},
};

/// The actions of one page, shared by every row.
#[derive(Clone, Copy)]
struct Actions {
    enable: ServerAction<SetProviderEnabled>,
    change: ServerAction<ChangeProvider>,
    remove: ServerAction<RemoveProvider>,
    test: ServerAction<TestProvider>,
}

#[component]
pub fn SocialPage() -> impl IntoView {
    let add = ServerAction::<AddProvider>::new();
    let actions = Actions {
        enable: ServerAction::new(),
        change: ServerAction::new(),
        remove: ServerAction::new(),
        test: ServerAction::new(),
    };
    let providers = Resource::new(
        move || {
            (
                add.version().get(),
                actions.enable.version().get(),
                actions.change.version().get(),
                actions.remove.version().get(),
            )
        },
        |_| list_providers(),
    );
    let add_error = last_error(add.value());
    let errors = [
        last_error(actions.enable.value()),
        last_error(actions.change.value()),
        last_error(actions.remove.value()),
        last_error(actions.test.value()),
    ];
    view! {
        <Title text="Social sign-in" />
        <section class="card card-wide console">
            <ConsoleFrame data=providers page={move |view: ConsoleView, list: Vec<ProviderRow>| {
                let write = view.permissions.iter().any(|p| p == "settings.write");
                view! {
                    <h1>"Social sign-in"</h1>
                    {errors.into_iter().map(|error| view! { <FormError error /> }).collect_view()}
                    {move || actions.test.value().get().and_then(Result::ok).map(|result| view! {
                        <p class="notice" role="status" id="provider-test">{result}</p>
                    })}
                    <table class="console-table" id="providers">
                        <thead><tr><th>"Provider"</th><th></th></tr></thead>
                        <tbody>{list.into_iter().map(|p| row(p, write, actions)).collect_view()}</tbody>
                    </table>
                    {write.then(|| view! {
                        <h2>"Add a provider"</h2>
                        <ActionForm action=add attr:id="add-provider">
                            <FormError error=add_error />
                            <div class="field"><label for="provider-id">"Id (in the callback address)"</label><input id="provider-id" name="provider[id]" required maxlength="32" /></div>
                            <div class="field">
                                <label for="provider-kind">"Kind"</label>
                                <select id="provider-kind" name="provider[kind]">
                                    {[("google", "Google"), ("apple", "Apple"), ("microsoft", "Microsoft"), ("github", "GitHub"), ("oidc", "Any OpenID provider")].into_iter().map(|(v, t)| view! { <option value=v>{t}</option> }).collect_view()}
                                </select>
                            </div>
                            <div class="field"><label for="provider-name">"Button name (empty: the preset's)"</label><input id="provider-name" name="provider[display_name]" maxlength="60" /></div>
                            <div class="field"><label for="provider-issuer">"Issuer (OpenID providers)"</label><input id="provider-issuer" name="provider[issuer]" /></div>
                            <div class="field"><label for="provider-tenant">"Microsoft tenant (empty: common)"</label><input id="provider-tenant" name="provider[tenant]" /></div>
                            <div class="field"><label for="provider-client">"Client id"</label><input id="provider-client" name="provider[client_id]" required /></div>
                            <div class="field"><label for="provider-secret">"Client secret"</label><input id="provider-secret" name="provider[client_secret]" type="password" autocomplete="off" /></div>
                            <div class="field"><label for="provider-scopes">"Scopes (empty: the preset's)"</label><input id="provider-scopes" name="provider[scopes]" /></div>
                            {confirm_box("add-provider-confirm".into())}
                            <button type="submit">"Add"</button>
                        </ActionForm>
                    })}
                }
            }} />
        </section>
    }
}

fn row(p: ProviderRow, write: bool, actions: Actions) -> impl IntoView {
    let test_id = p.id.clone();
    let manage = write.then(|| manage(p.clone(), actions));
    view! {
        <tr data-provider=p.id.clone()>
            <td>
                <strong>{p.display_name.clone()}</strong> {(!p.enabled).then_some(" (off)")}
                <br /><span class="aside">{p.kind.clone()} " · " {p.id.clone()} " · client " {p.client_id.clone()}</span>
                {p.issuer.clone().map(|i| view! { <br /><span class="aside">{i}</span> })}
                <br /><span class="aside">"Callback: " <code>{p.callback.clone()}</code></span>
            </td>
            <td>
                <ActionForm action=actions.test attr:class="console-action">
                    <input type="hidden" name="id" value=test_id />
                    <button type="submit" class="button-secondary">"Test"</button>
                </ActionForm>
                {manage}
            </td>
        </tr>
    }
}

/// On or off, the change form and removal of provider `p`.
fn manage(p: ProviderRow, actions: Actions) -> impl IntoView {
    let id = p.id;
    let label = |what: &str| format!("{what}-{id}");
    let (enable_confirm, change_confirm, remove_confirm) =
        (label("enable"), label("change"), label("remove"));
    let (name_id, client_id, secret_id, scopes_id) = (
        label("name"),
        label("client"),
        label("secret"),
        label("scopes"),
    );
    let (enable_id, change_id, remove_id) = (id.clone(), id.clone(), id);
    let enabled = p.enabled;
    view! {
        <ActionForm action=actions.enable attr:class="console-action">
            {confirm_box(enable_confirm)}
            <input type="hidden" name="id" value=enable_id />
            <input type="hidden" name="enabled" value={(!enabled).to_string()} />
            <button type="submit">{if enabled { "Turn off" } else { "Turn on" }}</button>
        </ActionForm>
        <details>
            <summary>"Change"</summary>
            <ActionForm action=actions.change attr:class="console-action">
                <input type="hidden" name="provider[id]" value=change_id />
                <div class="field"><label for=name_id.clone()>"Button name"</label><input id=name_id name="provider[display_name]" value=p.display_name maxlength="60" /></div>
                <div class="field"><label for=client_id.clone()>"Client id"</label><input id=client_id name="provider[client_id]" value=p.client_id /></div>
                <div class="field"><label for=secret_id.clone()>"New client secret (empty: keep)"</label><input id=secret_id name="provider[client_secret]" type="password" autocomplete="off" /></div>
                <div class="field"><label for=scopes_id.clone()>"Scopes"</label><input id=scopes_id name="provider[scopes]" value=p.scopes /></div>
                {confirm_box(change_confirm)}
                <button type="submit">"Save"</button>
            </ActionForm>
        </details>
        <ActionForm action=actions.remove attr:class="console-action">
            {confirm_box(remove_confirm)}
            <input type="hidden" name="id" value=remove_id />
            <button type="submit" class="button-secondary">"Remove (unlinks every identity)"</button>
        </ActionForm>
    }
}
