//! The dashboard page: the gauges, and the charts over 7, 30 or 90 days (links, so no script
//! is needed; the SVG comes drawn from the server).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::Refused;
use crate::api::console::reports::dashboard;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let params = use_query_map();
    let days = move || {
        params
            .with(|p| p.get("days").and_then(|d| d.parse::<i64>().ok()))
            .unwrap_or(30)
    };
    let view_data = Resource::new(days, dashboard);
    view! {
        <Title text="Dashboard" />
        <section class="card card-wide console">
            <nav class="console-nav" aria-label="Console">
                <a href="/admin">"Console"</a>
                <a href="/admin/dashboard?days=7">"7 days"</a>
                <a href="/admin/dashboard?days=30">"30 days"</a>
                <a href="/admin/dashboard?days=90">"90 days"</a>
            </nav>
            <h1>"Dashboard"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match view_data.await {
                        Ok(d) => view! {
                            <p class="aside">{format!("The last {} days.", d.days)}
                                {d.measured_at.map(|at| format!(" Totals measured {at}."))}</p>
                            <dl class="gauges" id="gauges">
                                <div><dt>"Customers"</dt><dd>{d.customers}</dd></div>
                                <div><dt>"With a second factor"</dt><dd>{d.mfa_adoption}</dd></div>
                                <div><dt>"Live sessions"</dt><dd>{d.live_sessions}</dd></div>
                                <div><dt>"Failed sign-ins"</dt><dd>{d.failure_rate}</dd></div>
                                <div><dt>"Blocked sign-ins"</dt><dd>{d.block_rate}</dd></div>
                            </dl>
                            {d.charts.into_iter().map(|c| view! {
                                <figure class="chart-figure">
                                    <figcaption>{c.title}</figcaption>
                                    <div inner_html=c.svg></div>
                                </figure>
                            }).collect_view()}
                        }.into_any(),
                        Err(error) => view! { <Refused error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
