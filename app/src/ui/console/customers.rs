//! Customer search: a form that works without JavaScript (GET, so a search is a link), the
//! results a page at a time, and the next page's link.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::Refused;
use crate::api::console::customers::{search_customers, CustomerQuery, CustomerRow};
use crate::ui::form::query_value;
use crate::{
    i18n::{tu_string, use_i18n},
    I18n,
};

fn options(
    name: &'static str,
    label: &'static str,
    choices: Vec<(&'static str, &'static str)>,
    current: String,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=name>{label}</label>
            <select id=name name=name>
                {choices.into_iter().map(|(value, text)| {
                    let selected = current == value;
                    view! { <option value=value selected=selected>{text}</option> }
                }).collect_view()}
            </select>
        </div>
    }
}

fn date(name: &'static str, label: &'static str, current: String) -> impl IntoView {
    view! {
        <div class="field">
            <label for=name>{label}</label>
            <input id=name name=name type="date" value=current />
        </div>
    }
}

#[component]
pub fn CustomersPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_query_map();
    let query = move || {
        params.with(|p| {
            let get = |k: &str| p.get(k).unwrap_or_default();
            CustomerQuery {
                q: get("q"),
                status: get("status"),
                verified: get("verified"),
                mfa: get("mfa"),
                way_in: get("way_in"),
                created_from: get("created_from"),
                created_to: get("created_to"),
                signed_in_from: get("signed_in_from"),
                signed_in_to: get("signed_in_to"),
                sort: get("sort"),
                cursor: get("cursor"),
            }
        })
    };
    let results = Resource::new(query, search_customers);
    let deleted = move || params.with(|p| p.get("deleted").is_some());
    view! {
        <Title text=tu_string!(i18n, console_customers.title) />
        <section class="card card-wide console">
            <nav class="console-nav" aria-label=tu_string!(i18n, console_customers.console_nav)><a href="/admin">{tu_string!(i18n, console_customers.console_link)}</a></nav>
            <h1>{tu_string!(i18n, console_customers.heading)}</h1>
            <Show when=deleted>
                <p class="notice" role="status">{tu_string!(i18n, console_customers.notice_deleted)}</p>
            </Show>
            {move || {
                let q = query();
                view! {
                    <form method="get" action="/admin/customers" class="console-search" role="search">
                        <div class="field">
                            <label for="q">{tu_string!(i18n, console_customers.q_label)}</label>
                            <input id="q" name="q" type="search" value=q.q.clone() maxlength="200" />
                        </div>
                        {options("status", tu_string!(i18n, console_customers.status_label), vec![("", tu_string!(i18n, console_customers.any)), ("active", tu_string!(i18n, console_customers.status_active)), ("locked", tu_string!(i18n, console_customers.status_locked)), ("password_locked", tu_string!(i18n, console_customers.status_password_locked))], q.status.clone())}
                        {options("verified", tu_string!(i18n, console_customers.verified_label), vec![("", tu_string!(i18n, console_customers.any)), ("yes", tu_string!(i18n, console_customers.yes)), ("no", tu_string!(i18n, console_customers.no))], q.verified.clone())}
                        {options("mfa", tu_string!(i18n, console_customers.mfa_label), vec![("", tu_string!(i18n, console_customers.any)), ("yes", tu_string!(i18n, console_customers.yes)), ("no", tu_string!(i18n, console_customers.no))], q.mfa.clone())}
                        {options("way_in", tu_string!(i18n, console_customers.way_in_label), vec![("", tu_string!(i18n, console_customers.any)), ("password", tu_string!(i18n, console_customers.way_in_password)), ("passkey", tu_string!(i18n, console_customers.way_in_passkey)), ("social", tu_string!(i18n, console_customers.way_in_social)), ("phone", tu_string!(i18n, console_customers.way_in_phone))], q.way_in.clone())}
                        {date("created_from", tu_string!(i18n, console_customers.created_from_label), q.created_from.clone())}
                        {date("created_to", tu_string!(i18n, console_customers.created_to_label), q.created_to.clone())}
                        {date("signed_in_from", tu_string!(i18n, console_customers.signed_in_from_label), q.signed_in_from.clone())}
                        {date("signed_in_to", tu_string!(i18n, console_customers.signed_in_to_label), q.signed_in_to.clone())}
                        {options("sort", tu_string!(i18n, console_customers.sort_label), vec![("newest", tu_string!(i18n, console_customers.sort_newest)), ("oldest", tu_string!(i18n, console_customers.sort_oldest)), ("email", tu_string!(i18n, console_customers.sort_email))], q.sort.clone())}
                        <button type="submit">{tu_string!(i18n, console_customers.search)}</button>
                    </form>
                }
            }}
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, console_customers.searching)}</p> }>
                {move || Suspend::new(async move {
                    match results.await {
                        Ok(page) if page.rows.is_empty() => view! { <p id="no-results">{tu_string!(i18n, console_customers.no_results)}</p> }.into_any(),
                        Ok(page) => {
                            let next = page.next.map(|cursor| next_link(&query(), &cursor));
                            view! {
                                <table class="console-table" id="customers">
                                    <thead><tr><th>{tu_string!(i18n, console_customers.col_customer)}</th><th>{tu_string!(i18n, console_customers.col_created)}</th><th>{tu_string!(i18n, console_customers.col_last_sign_in)}</th><th>{tu_string!(i18n, console_customers.col_state)}</th></tr></thead>
                                    <tbody>{page.rows.into_iter().map(|c| row(i18n, c)).collect_view()}</tbody>
                                </table>
                                {next.map(|href| view! { <p><a href=href rel="next">{tu_string!(i18n, console_customers.next_page)}</a></p> })}
                            }.into_any()
                        }
                        Err(error) => view! { <Refused error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn row(i18n: I18n, c: CustomerRow) -> impl IntoView {
    let mut state = Vec::new();
    if c.locked {
        state.push(tu_string!(i18n, console_customers.state_locked));
    }
    if c.password_locked {
        state.push(tu_string!(i18n, console_customers.state_password_locked));
    }
    if !c.verified {
        state.push(tu_string!(i18n, console_customers.state_unverified));
    }
    if c.mfa {
        state.push(tu_string!(i18n, console_customers.state_second_factor));
    }
    view! {
        <tr>
            <td>
                <a href=format!("/admin/customers/{}", c.id)>{c.email}</a>
                <br /><span class="aside">{c.display_name} {c.phone.map(|p| format!(" · {p}"))}</span>
            </td>
            <td>{c.created}</td>
            <td>{c.last_sign_in.unwrap_or_else(|| tu_string!(i18n, console_customers.never).into())}</td>
            <td>{state.join(", ")}</td>
        </tr>
    }
}

/// The address of the next page: the same search, after `cursor`.
fn next_link(q: &CustomerQuery, cursor: &str) -> String {
    let pairs = [
        ("q", &q.q),
        ("status", &q.status),
        ("verified", &q.verified),
        ("mfa", &q.mfa),
        ("way_in", &q.way_in),
        ("created_from", &q.created_from),
        ("created_to", &q.created_to),
        ("signed_in_from", &q.signed_in_from),
        ("signed_in_to", &q.signed_in_to),
        ("sort", &q.sort),
    ];
    let mut query: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", query_value(v)))
        .collect();
    query.push(format!("cursor={}", query_value(cursor)));
    format!("/admin/customers?{}", query.join("&"))
}
