//! `/profile/activity`: the security timeline, a page at a time, with "this wasn't me".

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::form::{last_error, FormError};
use crate::api::timeline::{timeline, ReportUnrecognised, TimelineEntry};

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
    view! {
        <Title text="Your account activity" />
        <section class="card">
            <h1>"Your account activity"</h1>
            <p><a href="/profile">"Back to your profile"</a></p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! {
                            <ol class="timeline">
                                {page.entries.into_iter().map(|e| view! { <Line e /> }).collect_view()}
                            </ol>
                            {page.next.map(|next| view! {
                                <p><a href=format!("/profile/activity?before={next}")>"Older activity"</a></p>
                            })}
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <section class="subsection" aria-labelledby="not-me-heading">
                <h2 id="not-me-heading">"Something you don't recognise?"</h2>
                <p>
                    "Sign every device out, this one included, and get a link by mail to choose a \
                     new password. Your old password stops working."
                </p>
                <ActionForm action=report>
                    <FormError error=last_error(report.value()) />
                    <button type="submit" class="button-secondary">"This wasn't me"</button>
                </ActionForm>
            </section>
        </section>
    }
}

#[component]
fn Line(e: TimelineEntry) -> impl IntoView {
    let mut from = vec![e.device];
    if let Some(place) = e.place {
        from.push(format!("in {place}"));
    }
    if let Some(network) = e.network {
        from.push(format!("from {network}"));
    }
    view! {
        <li data-event class:failed=e.failed>
            <time>{e.at}</time> " · " <strong>{e.what}</strong>
            <br />
            <span class="aside">{from.join(" · ")}</span>
        </li>
    }
}
