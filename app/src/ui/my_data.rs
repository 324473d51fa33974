//! `/profile/data`: "Download my data": ask for an export, follow its progress, and download
//! the JSON file or the readable page while they last.

use leptos::prelude::*;
use leptos_meta::Title;

use super::form::{last_error, FormError};
use crate::api::my_data::{data_export, ExportView, RequestDataExport};

#[component]
pub fn MyDataPage() -> impl IntoView {
    let request = ServerAction::<RequestDataExport>::new();
    // Bumped while an export is being prepared, so the page looks again.
    let tick = RwSignal::new(0u32);
    let export = Resource::new(
        move || (request.version().get(), tick.get()),
        |_| data_export(),
    );
    view! {
        <Title text="Your data" />
        <section class="card">
            <h1>"Your data"</h1>
            <p><a href="/profile">"Back to your profile"</a></p>
            <p>
                "Download a copy of everything we hold about you: your profile, addresses and phone, "
                "sign-in methods (without their secrets), devices and sign-ins, privacy choices "
                "with their history, connected apps and your account's activity. We prepare it "
                "in the background; it stays ready to download for 24 hours."
            </p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match export.await {
                        Ok(view) => view! { <ExportStatus view tick /> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <ActionForm action=request>
                <FormError error=last_error(request.value()) />
                <button type="submit" disabled=move || request.pending().get()>"Download my data"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn ExportStatus(view: Option<ExportView>, tick: RwSignal<u32>) -> impl IntoView {
    let Some(view) = view else {
        return view! { <p data-export-state="none">"You have not asked for your data yet."</p> }
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
                <p>{format!("Preparing your data: {} of {} parts done.", view.tables_done, view.tables_total)}</p>
                <progress max=view.tables_total value=view.tables_done>
                    {format!("{} of {}", view.tables_done, view.tables_total)}
                </progress>
            </div>
        }
        .into_any(),
        "ready" => view! {
            <div data-export-state=state role="status">
                <p>{format!(
                    "Your data is ready (asked for on {}). You can download it until {}.",
                    view.requested_at,
                    view.expires_at.unwrap_or_default(),
                )}</p>
                <ul>
                    <li><a href="/profile/data/download?format=json" rel="external" download>"Download as JSON (for other programs)"</a></li>
                    <li><a href="/profile/data/download?format=html" rel="external" download>"Download as a readable page (HTML)"</a></li>
                </ul>
            </div>
        }
        .into_any(),
        "expired" => view! {
            <p data-export-state=state>"Your last export is no longer available. Ask for a new one."</p>
        }
        .into_any(),
        _ => view! {
            <p data-export-state=state class="form-error" role="alert">
                "We could not prepare your data. Please ask again."
            </p>
        }
        .into_any(),
    }
}
