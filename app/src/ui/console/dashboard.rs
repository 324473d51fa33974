//! The dashboard page: the gauges, and the charts over 7, 30 or 90 days (links, so no script
//! is needed; the SVG comes drawn from the server).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::Refused;
use crate::{
    api::console::reports::dashboard,
    i18n::{tu_string, use_i18n},
};

#[component]
pub fn DashboardPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_query_map();
    let days = move || {
        params
            .with(|p| p.get("days").and_then(|d| d.parse::<i64>().ok()))
            .unwrap_or(30)
    };
    let view_data = Resource::new(days, dashboard);
    view! {
        <Title text=tu_string!(i18n, console_dashboard.title) />
        <section class="card card-wide console">
            <nav class="console-nav" aria-label=tu_string!(i18n, console_dashboard.console_nav)>
                <a href="/admin">{tu_string!(i18n, console_dashboard.console_link)}</a>
                <a href="/admin/dashboard?days=7">{tu_string!(i18n, console_dashboard.days_7)}</a>
                <a href="/admin/dashboard?days=30">{tu_string!(i18n, console_dashboard.days_30)}</a>
                <a href="/admin/dashboard?days=90">{tu_string!(i18n, console_dashboard.days_90)}</a>
            </nav>
            <h1>{tu_string!(i18n, console_dashboard.heading)}</h1>
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, console_dashboard.loading)}</p> }>
                {move || Suspend::new(async move {
                    match view_data.await {
                        Ok(d) => view! {
                            <p class="aside">{tu_string!(i18n, console_dashboard.last_days, days = d.days)}
                                {d.measured_at.map(|at| tu_string!(i18n, console_dashboard.totals_measured, at = at))}</p>
                            <dl class="gauges" id="gauges">
                                <div><dt>{tu_string!(i18n, console_dashboard.gauge_customers)}</dt><dd>{d.customers}</dd></div>
                                <div><dt>{tu_string!(i18n, console_dashboard.gauge_mfa)}</dt><dd>{d.mfa_adoption}</dd></div>
                                <div><dt>{tu_string!(i18n, console_dashboard.gauge_sessions)}</dt><dd>{d.live_sessions}</dd></div>
                                <div><dt>{tu_string!(i18n, console_dashboard.gauge_failed)}</dt><dd>{d.failure_rate}</dd></div>
                                <div><dt>{tu_string!(i18n, console_dashboard.gauge_blocked)}</dt><dd>{d.block_rate}</dd></div>
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
