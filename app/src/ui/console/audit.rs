//! The audit viewer: a filter form that works without JavaScript (GET), the trail a page at a
//! time, and the same view exported as CSV or JSON.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::Refused;
use crate::{
    api::console::audit::{read_audit, AuditQuery},
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
        <Title text="Audit trail" />
        <section class="card card-wide console">
            <nav class="console-nav" aria-label="Console"><a href="/admin">"Console"</a></nav>
            <h1>"Audit trail"</h1>
            {move || {
                let q = query();
                let filter = filter_query(&q);
                view! {
                    <form method="get" action="/admin/audit" class="console-search" role="search">
                        {text("actor", "Actor (address, id, cli, system)", q.actor.clone(), "text")}
                        {text("customer", "Customer (address or id)", q.customer.clone(), "text")}
                        {text("action", "Action (signin.failed, or signin.)", q.action.clone(), "text")}
                        <div class="field">
                            <label for="outcome">"Outcome"</label>
                            <select id="outcome" name="outcome">
                                {[("", "Any"), ("success", "Success"), ("failure", "Failure")].into_iter().map(|(v, t)| {
                                    view! { <option value=v selected={q.outcome == v}>{t}</option> }
                                }).collect_view()}
                            </select>
                        </div>
                        {text("network", "Network (203.0.113.0/24)", q.network.clone(), "text")}
                        {text("from", "From", q.from.clone(), "date")}
                        {text("to", "To", q.to.clone(), "date")}
                        <button type="submit">"Filter"</button>
                    </form>
                    <p>
                        <a id="export-csv" href=format!("/admin/audit/export?format=csv&{filter}") download="audit.csv">"Export CSV"</a>
                        " · "
                        <a id="export-json" href=format!("/admin/audit/export?format=json&{filter}") download="audit.json">"Export JSON"</a>
                    </p>
                }
            }}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) if page.rows.is_empty() => view! { <p id="no-results">"Nothing matches."</p> }.into_any(),
                        Ok(page) => {
                            let next = page.next.map(|id| format!("/admin/audit?{}&before={id}", filter_query(&query())));
                            view! {
                                <table class="console-table" id="audit">
                                    <thead><tr><th>"When"</th><th>"Action"</th><th>"Actor"</th><th>"Customer"</th><th>"Network"</th><th>"Detail"</th></tr></thead>
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
                                {next.map(|href| view! { <p><a href=href rel="next">"Older"</a></p> })}
                            }.into_any()
                        }
                        Err(error) => view! { <Refused error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
