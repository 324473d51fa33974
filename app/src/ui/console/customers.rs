//! Customer search: a form that works without JavaScript (GET, so a search is a link), the
//! results a page at a time, and the next page's link.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::Refused;
use crate::api::console::customers::{search_customers, CustomerQuery, CustomerRow};
use crate::ui::form::query_value;

fn options(
    name: &'static str,
    label: &'static str,
    choices: &'static [(&'static str, &'static str)],
    current: String,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=name>{label}</label>
            <select id=name name=name>
                {choices.iter().map(|(value, text)| {
                    let selected = current == *value;
                    view! { <option value=*value selected=selected>{*text}</option> }
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
        <Title text="Customers" />
        <section class="card card-wide console">
            <nav class="console-nav" aria-label="Console"><a href="/admin">"Console"</a></nav>
            <h1>"Customers"</h1>
            <Show when=deleted>
                <p class="notice" role="status">"The account is deleted."</p>
            </Show>
            {move || {
                let q = query();
                view! {
                    <form method="get" action="/admin/customers" class="console-search" role="search">
                        <div class="field">
                            <label for="q">"Email, name, phone (+…) or id"</label>
                            <input id="q" name="q" type="search" value=q.q.clone() maxlength="200" />
                        </div>
                        {options("status", "Status", &[("", "Any"), ("active", "Active"), ("locked", "Locked"), ("password_locked", "Password locked")], q.status.clone())}
                        {options("verified", "Verified", &[("", "Any"), ("yes", "Yes"), ("no", "No")], q.verified.clone())}
                        {options("mfa", "Second factor", &[("", "Any"), ("yes", "Yes"), ("no", "No")], q.mfa.clone())}
                        {options("way_in", "Signs in with", &[("", "Any"), ("password", "Password"), ("passkey", "Passkey"), ("social", "Social"), ("phone", "Phone")], q.way_in.clone())}
                        {date("created_from", "Created from", q.created_from.clone())}
                        {date("created_to", "Created to", q.created_to.clone())}
                        {date("signed_in_from", "Last sign-in from", q.signed_in_from.clone())}
                        {date("signed_in_to", "Last sign-in to", q.signed_in_to.clone())}
                        {options("sort", "Order", &[("newest", "Newest first"), ("oldest", "Oldest first"), ("email", "By address")], q.sort.clone())}
                        <button type="submit">"Search"</button>
                    </form>
                }
            }}
            <Suspense fallback=|| view! { <p>"Searching…"</p> }>
                {move || Suspend::new(async move {
                    match results.await {
                        Ok(page) if page.rows.is_empty() => view! { <p id="no-results">"No customers match."</p> }.into_any(),
                        Ok(page) => {
                            let next = page.next.map(|cursor| next_link(&query(), &cursor));
                            view! {
                                <table class="console-table" id="customers">
                                    <thead><tr><th>"Customer"</th><th>"Created"</th><th>"Last sign-in"</th><th>"State"</th></tr></thead>
                                    <tbody>{page.rows.into_iter().map(row).collect_view()}</tbody>
                                </table>
                                {next.map(|href| view! { <p><a href=href rel="next">"Next page"</a></p> })}
                            }.into_any()
                        }
                        Err(error) => view! { <Refused error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn row(c: CustomerRow) -> impl IntoView {
    let mut state = Vec::new();
    if c.locked {
        state.push("locked");
    }
    if c.password_locked {
        state.push("password locked");
    }
    if !c.verified {
        state.push("unverified");
    }
    if c.mfa {
        state.push("second factor");
    }
    view! {
        <tr>
            <td>
                <a href=format!("/admin/customers/{}", c.id)>{c.email}</a>
                <br /><span class="aside">{c.display_name} {c.phone.map(|p| format!(" · {p}"))}</span>
            </td>
            <td>{c.created}</td>
            <td>{c.last_sign_in.unwrap_or_else(|| "never".into())}</td>
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
