//! The audit viewer: a filter form that works without JavaScript (GET), the trail a page at a
//! time, and the same view exported as CSV or JSON.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::Refused;
use crate::{
    api::console::audit::{read_audit, AuditQuery},
    i18n::{tu_string, use_i18n},
    ui::form::query_value,
};

fn text(
    name: &'static str,
    label: &'static str,
    current: String,
    kind: &'static str,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=name>{label}</label>
            <input id=name name=name type=kind value=current />
        </div>
    }
}

/// The filter as a query string (without the page cursor).
fn filter_query(q: &AuditQuery) -> String {
    [
        ("actor", &q.actor),
        ("customer", &q.customer),
        ("action", &q.action),
        ("outcome", &q.outcome),
        ("network", &q.network),
        ("from", &q.from),
        ("to", &q.to),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}={}", query_value(v)))
    .collect::<Vec<_>>()
    .join("&")
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_query_map();
    let query = move || {
        params.with(|p| {
            let get = |k: &str| p.get(k).unwrap_or_default();
            AuditQuery {
                actor: get("actor"),
                customer: get("customer"),
                action: get("action"),
                outcome: get("outcome"),
                network: get("network"),
                from: get("from"),
                to: get("to"),
                before: get("before"),
            }
        })
    };
    let page = Resource::new(query, read_audit);
    view! {
        <Title text=tu_string!(i18n, console_audit.title) />
        <section class="card card-wide console">
            <nav class="console-nav" aria-label=tu_string!(i18n, console.nav_label)><a href="/admin">{tu_string!(i18n, console.nav_console)}</a></nav>
            <h1>{tu_string!(i18n, console_audit.heading)}</h1>
            {move || {
                let q = query();
                let filter = filter_query(&q);
                view! {
                    <form method="get" action="/admin/audit" class="console-search" role="search">
                        {text("actor", tu_string!(i18n, console_audit.actor_label), q.actor.clone(), "text")}
                        {text("customer", tu_string!(i18n, console_audit.customer_label), q.customer.clone(), "text")}
                        {text("action", tu_string!(i18n, console_audit.action_label), q.action.clone(), "text")}
                        <div class="field">
                            <label for="outcome">{tu_string!(i18n, console_audit.outcome_label)}</label>
                            <select id="outcome" name="outcome">
                                {[
                                    ("", tu_string!(i18n, console_audit.outcome_any)),
                                    ("success", tu_string!(i18n, console_audit.outcome_success)),
                                    ("failure", tu_string!(i18n, console_audit.outcome_failure)),
                                ].into_iter().map(|(v, t)| {
                                    view! { <option value=v selected={q.outcome == v}>{t}</option> }
                                }).collect_view()}
                            </select>
                        </div>
                        {text("network", tu_string!(i18n, console_audit.network_label), q.network.clone(), "text")}
                        {text("from", tu_string!(i18n, console_audit.from_label), q.from.clone(), "date")}
                        {text("to", tu_string!(i18n, console_audit.to_label), q.to.clone(), "date")}
                        <button type="submit">{tu_string!(i18n, console_audit.filter)}</button>
                    </form>
                    <p>
                        <a id="export-csv" href=format!("/admin/audit/export?format=csv&{filter}") download="audit.csv">{tu_string!(i18n, console_audit.export_csv)}</a>
                        " · "
                        <a id="export-json" href=format!("/admin/audit/export?format=json&{filter}") download="audit.json">{tu_string!(i18n, console_audit.export_json)}</a>
                    </p>
                }
            }}
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, console.loading)}</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) if page.rows.is_empty() => view! { <p id="no-results">{tu_string!(i18n, console_audit.no_results)}</p> }.into_any(),
                        Ok(page) => {
                            let next = page.next.map(|id| format!("/admin/audit?{}&before={id}", filter_query(&query())));
                            view! {
                                <table class="console-table" id="audit">
                                    <thead><tr>
                                        <th>{tu_string!(i18n, console_audit.col_when)}</th>
                                        <th>{tu_string!(i18n, console_audit.col_action)}</th>
                                        <th>{tu_string!(i18n, console_audit.col_actor)}</th>
                                        <th>{tu_string!(i18n, console_audit.col_customer)}</th>
                                        <th>{tu_string!(i18n, console_audit.col_network)}</th>
                                        <th>{tu_string!(i18n, console_audit.col_detail)}</th>
                                    </tr></thead>
                                    <tbody>
                                        {page.rows.into_iter().map(|r| view! {
                                            <tr>
                                                <td>{r.at}</td>
                                                <td>{r.action} " (" {r.outcome} ")"</td>
                                                <td>{r.actor}</td>
                                                <td>{r.subject}</td>
                                                <td>{r.ip}</td>
                                                <td class="aside">{r.detail}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                {next.map(|href| view! { <p><a href=href rel="next">{tu_string!(i18n, console_audit.older)}</a></p> })}
                            }.into_any()
                        }
                        Err(error) => view! { <Refused error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
