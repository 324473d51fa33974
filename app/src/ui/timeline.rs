//! `/profile/activity`: the security timeline, a page at a time, with "this wasn't me".

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::form::{last_error, FormError};
use crate::{
    api::timeline::{timeline, ReportUnrecognised, TimelineEntry},
    i18n::{tu_string, use_i18n},
};

#[component]
pub fn TimelinePage() -> impl IntoView {
    let query = use_query_map();
    let before = move || {
        query
            .read()
            .get("before")
            .and_then(|b| b.parse::<i64>().ok())
    };
    let page = Resource::new(before, timeline);
    let report = ServerAction::<ReportUnrecognised>::new();
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, timeline.heading) />
        <section class="card">
            <h1>{tu_string!(i18n, timeline.heading)}</h1>
            <p><a href="/profile">{tu_string!(i18n, timeline.back_to_profile)}</a></p>
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, timeline.loading)}</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! {
                            <ol class="timeline">
                                {page.entries.into_iter().map(|e| view! { <Line e /> }).collect_view()}
                            </ol>
                            {page.next.map(|next| view! {
                                <p><a href=format!("/profile/activity?before={next}")>{tu_string!(i18n, timeline.older)}</a></p>
                            })}
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <section class="subsection" aria-labelledby="not-me-heading">
                <h2 id="not-me-heading">{tu_string!(i18n, timeline.not_me_heading)}</h2>
                <p>{tu_string!(i18n, timeline.not_me_text)}</p>
                <ActionForm action=report>
                    <FormError error=last_error(report.value()) />
                    <button type="submit" class="button-secondary">{tu_string!(i18n, timeline.not_me_submit)}</button>
                </ActionForm>
            </section>
        </section>
    }
}

#[component]
fn Line(e: TimelineEntry) -> impl IntoView {
    let i18n = use_i18n();
    let mut from = vec![e.device];
    if let Some(place) = e.place {
        from.push(tu_string!(i18n, timeline.in_place, place = place));
    }
    if let Some(network) = e.network {
        from.push(tu_string!(i18n, timeline.from_network, network = network));
    }
    view! {
        <li data-event class:failed=e.failed>
            <time>{e.at}</time> " · " <strong>{e.what}</strong>
            <br />
            <span class="aside">{from.join(" · ")}</span>
        </li>
    }
}
