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
    i18n::{tu_string, use_i18n},
    ui::form::{last_error, FormError},
    I18n,
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
    let i18n = use_i18n();
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
        <Title text=tu_string!(i18n, console_social.title) />
        <section class="card card-wide console">
            <ConsoleFrame data=providers page={move |view: ConsoleView, list: Vec<ProviderRow>| {
                let write = view.permissions.iter().any(|p| p == "settings.write");
                view! {
                    <h1>{tu_string!(i18n, console_social.heading)}</h1>
                    {errors.into_iter().map(|error| view! { <FormError error /> }).collect_view()}
                    {move || actions.test.value().get().and_then(Result::ok).map(|result| view! {
                        <p class="notice" role="status" id="provider-test">{result}</p>
                    })}
                    <table class="console-table" id="providers">
                        <thead><tr><th>{tu_string!(i18n, console_social.col_provider)}</th><th></th></tr></thead>
                        <tbody>{list.into_iter().map(|p| row(i18n, p, write, actions)).collect_view()}</tbody>
                    </table>
                    {write.then(|| view! {
                        <h2>{tu_string!(i18n, console_social.add_heading)}</h2>
                        <ActionForm action=add attr:id="add-provider">
                            <FormError error=add_error />
                            <div class="field"><label for="provider-id">{tu_string!(i18n, console_social.id_label)}</label><input id="provider-id" name="provider[id]" required maxlength="32" /></div>
                            <div class="field">
                                <label for="provider-kind">{tu_string!(i18n, console_social.kind_label)}</label>
                                <select id="provider-kind" name="provider[kind]">
                                    {[("google", "Google"), ("apple", "Apple"), ("microsoft", "Microsoft"), ("github", "GitHub"), ("oidc", tu_string!(i18n, console_social.kind_oidc))].into_iter().map(|(v, t)| view! { <option value=v>{t}</option> }).collect_view()}
                                </select>
                            </div>
                            <div class="field"><label for="provider-name">{tu_string!(i18n, console_social.name_label_new)}</label><input id="provider-name" name="provider[display_name]" maxlength="60" /></div>
                            <div class="field"><label for="provider-issuer">{tu_string!(i18n, console_social.issuer_label)}</label><input id="provider-issuer" name="provider[issuer]" /></div>
                            <div class="field"><label for="provider-tenant">{tu_string!(i18n, console_social.tenant_label)}</label><input id="provider-tenant" name="provider[tenant]" /></div>
                            <div class="field"><label for="provider-client">{tu_string!(i18n, console_social.client_id_label)}</label><input id="provider-client" name="provider[client_id]" required /></div>
                            <div class="field"><label for="provider-secret">{tu_string!(i18n, console_social.client_secret_label)}</label><input id="provider-secret" name="provider[client_secret]" type="password" autocomplete="off" /></div>
                            <div class="field"><label for="provider-scopes">{tu_string!(i18n, console_social.scopes_label_new)}</label><input id="provider-scopes" name="provider[scopes]" /></div>
                            {confirm_box("add-provider-confirm".into())}
                            <button type="submit">{tu_string!(i18n, console_social.add)}</button>
                        </ActionForm>
                    })}
                }
            }} />
        </section>
    }
}

fn row(i18n: I18n, p: ProviderRow, write: bool, actions: Actions) -> impl IntoView {
    let test_id = p.id.clone();
    let manage = write.then(|| manage(i18n, p.clone(), actions));
    view! {
        <tr data-provider=p.id.clone()>
            <td>
                <strong>{p.display_name.clone()}</strong> {(!p.enabled).then_some(tu_string!(i18n, console_social.off_suffix))}
                <br /><span class="aside">{tu_string!(
                    i18n,
                    console_social.provider_line,
                    kind = p.kind.clone(),
                    id = p.id.clone(),
                    client = p.client_id.clone()
                )}</span>
                {p.issuer.clone().map(|i| view! { <br /><span class="aside">{i}</span> })}
                <br /><span class="aside">{tu_string!(i18n, console_social.callback)} <code>{p.callback.clone()}</code></span>
            </td>
            <td>
                <ActionForm action=actions.test attr:class="console-action">
                    <input type="hidden" name="id" value=test_id />
                    <button type="submit" class="button-secondary">{tu_string!(i18n, console_social.test)}</button>
                </ActionForm>
                {manage}
            </td>
        </tr>
    }
}

/// On or off, the change form and removal of provider `p`.
fn manage(i18n: I18n, p: ProviderRow, actions: Actions) -> impl IntoView {
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
            <button type="submit">{if enabled { tu_string!(i18n, console_social.turn_off) } else { tu_string!(i18n, console_social.turn_on) }}</button>
        </ActionForm>
        <details>
            <summary>{tu_string!(i18n, console_social.change)}</summary>
            <ActionForm action=actions.change attr:class="console-action">
                <input type="hidden" name="provider[id]" value=change_id />
                <div class="field"><label for=name_id.clone()>{tu_string!(i18n, console_social.name_label)}</label><input id=name_id name="provider[display_name]" value=p.display_name maxlength="60" /></div>
                <div class="field"><label for=client_id.clone()>{tu_string!(i18n, console_social.client_id_label)}</label><input id=client_id name="provider[client_id]" value=p.client_id /></div>
                <div class="field"><label for=secret_id.clone()>{tu_string!(i18n, console_social.new_secret_label)}</label><input id=secret_id name="provider[client_secret]" type="password" autocomplete="off" /></div>
                <div class="field"><label for=scopes_id.clone()>{tu_string!(i18n, console_social.scopes_label)}</label><input id=scopes_id name="provider[scopes]" value=p.scopes /></div>
                {confirm_box(change_confirm)}
                <button type="submit">{tu_string!(i18n, console_social.save)}</button>
            </ActionForm>
        </details>
        <ActionForm action=actions.remove attr:class="console-action">
            {confirm_box(remove_confirm)}
            <input type="hidden" name="id" value=remove_id />
            <button type="submit" class="button-secondary">{tu_string!(i18n, console_social.remove)}</button>
        </ActionForm>
    }
}
