//! `/profile/data`: "Download my data": ask for an export, follow its progress, and download
//! the JSON file or the readable page while they last.

use leptos::prelude::*;
use leptos_meta::Title;

use super::form::{last_error, FormError};
use crate::{
    api::my_data::{data_export, ExportView, RequestDataExport},
    i18n::{tu_string, use_i18n},
};

#[component]
pub fn MyDataPage() -> impl IntoView {
    let request = ServerAction::<RequestDataExport>::new();
    // Bumped while an export is being prepared, so the page looks again.
    let tick = RwSignal::new(0u32);
    let export = Resource::new(
        move || (request.version().get(), tick.get()),
        |_| data_export(),
    );
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, my_data.heading) />
        <section class="card">
            <h1>{tu_string!(i18n, my_data.heading)}</h1>
            <p><a href="/profile">{tu_string!(i18n, my_data.back_to_profile)}</a></p>
            <p>{tu_string!(i18n, my_data.intro)}</p>
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, my_data.loading)}</p> }>
                {move || Suspend::new(async move {
                    match export.await {
                        Ok(view) => view! { <ExportStatus view tick /> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <ActionForm action=request>
                <FormError error=last_error(request.value()) />
                <button type="submit" disabled=move || request.pending().get()>{tu_string!(i18n, my_data.submit)}</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn ExportStatus(view: Option<ExportView>, tick: RwSignal<u32>) -> impl IntoView {
    let i18n = use_i18n();
    let Some(view) = view else {
        return view! { <p data-export-state="none">{tu_string!(i18n, my_data.state_none)}</p> }
            .into_any();
    };
    let state = view.state.clone();
    match view.state.as_str() {
        "queued" | "building" => view! {
            // Looks again in a moment: the script asks the server, a page without one reloads.
            {Effect::new(move |_| {
                set_timeout(move || tick.update(|t| *t += 1), std::time::Duration::from_millis(1500));
            });}
            <noscript><meta http-equiv="refresh" content="2" /></noscript>
            <div data-export-state=state role="status" aria-live="polite">
                <p>{tu_string!(
                    i18n,
                    my_data.state_preparing,
                    done = view.tables_done,
                    total = view.tables_total,
                )}</p>
                <progress max=view.tables_total value=view.tables_done>
                    {tu_string!(i18n, my_data.progress, done = view.tables_done, total = view.tables_total)}
                </progress>
            </div>
        }
        .into_any(),
        "ready" => view! {
            <div data-export-state=state role="status">
                <p>{tu_string!(
                    i18n,
                    my_data.state_ready,
                    requested = view.requested_at,
                    expires = view.expires_at.unwrap_or_default(),
                )}</p>
                <ul>
                    <li><a href="/profile/data/download?format=json" rel="external" download>{tu_string!(i18n, my_data.download_json)}</a></li>
                    <li><a href="/profile/data/download?format=html" rel="external" download>{tu_string!(i18n, my_data.download_html)}</a></li>
                </ul>
            </div>
        }
        .into_any(),
        "expired" => view! {
            <p data-export-state=state>{tu_string!(i18n, my_data.state_expired)}</p>
        }
        .into_any(),
        _ => view! {
            <p data-export-state=state class="form-error" role="alert">
                {tu_string!(i18n, my_data.state_failed)}
            </p>
        }
        .into_any(),
    }
}
