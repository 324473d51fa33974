//! One customer's page: the profile, ways in and factors, sessions, linked identities,
//! connected apps, risk history and their audit trail, with the actions the staff member's
//! role allows (the server checks each again).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::{ConsoleFrame, ReasonFields};
use crate::{
    api::console::{
        customer_actions::{ActOnCustomer, ChangeCustomerEmail, RenameCustomer},
        customers::{customer_record, CustomerDetail, Line},
        staff::ConsoleView,
    },
    i18n::{tu_string, use_i18n},
    ui::form::{last_error, FormError},
    I18n,
};

#[component]
pub fn CustomerPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let act = ServerAction::<ActOnCustomer>::new();
    let rename = ServerAction::<RenameCustomer>::new();
    let move_email = ServerAction::<ChangeCustomerEmail>::new();
    let detail = Resource::new(
        move || {
            (
                id(),
                act.version().get(),
                rename.version().get(),
                move_email.version().get(),
            )
        },
        |(id, ..)| customer_record(id),
    );
    view! {
        <Title text=tu_string!(i18n, console_customer.title) />
        <section class="card card-wide console">
            <ConsoleFrame data=detail page={move |view: ConsoleView, customer: CustomerDetail| {
                view! {
                    <Customer customer permissions=view.permissions act rename move_email />
                }
            }} />
        </section>
    }
}

fn lines(i18n: I18n, id: &'static str, title: &'static str, list: Vec<Line>) -> impl IntoView {
    view! {
        <h2>{title}</h2>
        {if list.is_empty() {
            view! { <p class="aside">{tu_string!(i18n, console_customer.none)}</p> }.into_any()
        } else {
            view! {
                <ul class="console-list" id=id>
                    {list.into_iter().map(|l| view! {
                        <li><strong>{l.title}</strong> " " <span class="aside">{l.detail}</span></li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}

#[component]
fn Customer(
    customer: CustomerDetail,
    permissions: Vec<String>,
    act: ServerAction<ActOnCustomer>,
    rename: ServerAction<RenameCustomer>,
    move_email: ServerAction<ChangeCustomerEmail>,
) -> impl IntoView {
    let i18n = use_i18n();
    let may = move |p: &str| permissions.iter().any(|x| x == p);
    let c = customer;
    let mut flags = Vec::new();
    if c.locked {
        flags.push(tu_string!(i18n, console_customer.flag_locked));
    }
    if c.password_locked {
        flags.push(tu_string!(i18n, console_customer.flag_password_locked));
    }
    if c.reset_required {
        flags.push(tu_string!(i18n, console_customer.flag_reset_required));
    }
    if c.mfa_required {
        flags.push(tu_string!(i18n, console_customer.flag_mfa_required));
    }
    if !c.verified {
        flags.push(tu_string!(i18n, console_customer.flag_not_verified));
    }
    let act_error = last_error(act.value());
    let done = move || act.value().get().and_then(Result::ok);
    let id = c.id.clone();
    let button = move |action: &'static str, label: &'static str| {
        let id = id.clone();
        view! {
            <ActionForm action=act attr:class="console-action" attr:data-action=action>
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="action" value=action />
                <ReasonFields id=action.to_owned() error=act_error />
                <button type="submit">{label}</button>
            </ActionForm>
        }
    };
    let passkey_forms = may("customers.factors").then(|| {
        c.passkeys
            .iter()
            .filter_map(|p| p.id.clone().map(|pid| (pid, p.title.clone())))
            .map(|(pid, name)| {
                let id = c.id.clone();
                let form_id = format!("passkey-{pid}");
                view! {
                    <ActionForm action=act attr:class="console-action">
                        <input type="hidden" name="id" value=id />
                        <input type="hidden" name="action" value="remove_passkey" />
                        <input type="hidden" name="passkey" value=pid />
                        <ReasonFields id=form_id error=act_error />
                        <button type="submit">{tu_string!(i18n, console_customer.remove_passkey, name = name)}</button>
                    </ActionForm>
                }
            })
            .collect_view()
    });
    let rename_error = last_error(rename.value());
    let email_error = last_error(move_email.value());
    let has_phone = c.phone.is_some();
    let (rename_for, email_for) = (c.id.clone(), c.id.clone());
    let current_email = c.email.clone();
    view! {
        <h1 id="customer-email">{c.email.clone()}</h1>
        <p>{c.display_name.clone()} {c.phone.clone().map(|p| format!(" · {p}"))}</p>
        <p class="aside">{tu_string!(
            i18n,
            console_customer.created_line,
            created = c.created.clone(),
            last_sign_in = c.last_sign_in.clone().unwrap_or_else(|| tu_string!(i18n, console_customer.never).into()),
            id = c.id.clone()
        )}</p>
        <p id="customer-state">{if flags.is_empty() { tu_string!(i18n, console_customer.active).to_owned() } else { flags.join(" · ") }}</p>
        <h2>{tu_string!(i18n, console_customer.ways_in)}</h2>
        <ul class="console-list">
            <li>{if c.has_password { tu_string!(i18n, console_customer.password) } else { tu_string!(i18n, console_customer.no_password) }}</li>
            <li>{if c.totp { tu_string!(i18n, console_customer.authenticator) } else { tu_string!(i18n, console_customer.no_authenticator) }}</li>
            <li>{tu_string!(i18n, console_customer.recovery_codes_left, n = c.recovery_codes_left)}</li>
        </ul>
        {lines(i18n, "passkeys", tu_string!(i18n, console_customer.passkeys), c.passkeys.clone())}
        {lines(i18n, "identities", tu_string!(i18n, console_customer.identities), c.identities)}
        {lines(i18n, "sessions", tu_string!(i18n, console_customer.sessions), c.sessions)}
        {lines(i18n, "apps", tu_string!(i18n, console_customer.apps), c.apps)}
        {lines(i18n, "risk", tu_string!(i18n, console_customer.risk), c.risk)}
        {lines(i18n, "audit", tu_string!(i18n, console_customer.audit), c.audit)}
        <h2>{tu_string!(i18n, console_customer.actions)}</h2>
        <FormError error=act_error />
        {move || done().map(|said| view! { <p class="notice" role="status">{said}</p> })}
        <div class="console-actions">
            {may("customers.lock").then(|| button("lock", tu_string!(i18n, console_customer.lock)))}
            {may("customers.unlock").then(|| button("unlock", tu_string!(i18n, console_customer.unlock)))}
            {may("customers.sessions").then(|| button("end_sessions", tu_string!(i18n, console_customer.end_sessions)))}
            {may("customers.reset").then(|| button("require_reset", tu_string!(i18n, console_customer.require_reset)))}
            {(may("customers.edit") && !c.verified).then(|| button("verify_email", tu_string!(i18n, console_customer.verify_email)))}
            {(may("customers.edit") && has_phone).then(|| button("remove_phone", tu_string!(i18n, console_customer.remove_phone)))}
            {(may("customers.mail") && !c.verified).then(|| button("resend_verification", tu_string!(i18n, console_customer.resend_verification)))}
            {(may("customers.factors") && c.totp).then(|| button("remove_authenticator", tu_string!(i18n, console_customer.remove_authenticator)))}
            {passkey_forms}
            {may("customers.delete").then(|| button("delete", tu_string!(i18n, console_customer.delete)))}
        </div>
        {may("customers.edit").then(|| view! {
            <h2>{tu_string!(i18n, console_customer.profile)}</h2>
            <ActionForm action=rename attr:class="console-action">
                <FormError error=rename_error />
                <input type="hidden" name="id" value=rename_for />
                <div class="field">
                    <label for="display_name">{tu_string!(i18n, console_customer.display_name_label)}</label>
                    <input id="display_name" name="display_name" value=c.display_name.clone() required maxlength="100" />
                </div>
                <ReasonFields id="rename".to_owned() error=rename_error />
                <button type="submit">{tu_string!(i18n, console_customer.save)}</button>
            </ActionForm>
            <h3>{tu_string!(i18n, console_customer.email_heading)}</h3>
            <p class="aside">{tu_string!(i18n, console_customer.email_intro)}</p>
            <ActionForm action=move_email attr:class="console-action" attr:id="customer-email-form">
                <FormError error=email_error />
                {move || move_email.value().get().and_then(Result::ok).map(|said| view! { <p class="notice" role="status">{said}</p> })}
                <input type="hidden" name="id" value=email_for />
                <div class="field">
                    <label for="customer-new-email">{tu_string!(i18n, console_customer.new_email_label)}</label>
                    <input id="customer-new-email" name="email" type="email" value=current_email required maxlength="254" />
                    <p class="field-error" role="alert">{move || email_error.get().and_then(|e| e.for_field("email"))}</p>
                </div>
                <ReasonFields id="move-email".to_owned() error=email_error />
                <button type="submit">{tu_string!(i18n, console_customer.change_email)}</button>
            </ActionForm>
        })}
    }
}
