//! The admin console's pages: the home (role, what it allows, staff signed in now), customer
//! search, the customer page, customer import, breach response, partner apps, sign-in settings, branding, the
//! audit trail, the dashboard and the staff list. Every page asks the server, which decides what the staff member may
//! see; the links only follow what the role allows.

pub mod app_edit;
pub mod apps;
pub mod audit;
pub mod branding;
pub mod breach;
pub mod customer;
pub mod customers;
pub mod dashboard;
pub mod import;
pub mod settings;
pub mod social;
pub mod staff;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::api::{
    console::staff::{console_me, ConsoleView},
    error::AppError,
};

/// What a console page shows when the server refused it.
#[component]
pub fn Refused(error: AppError) -> impl IntoView {
    match error {
        AppError::Unauthorized => view! { <Redirect path="/signin" /> }.into_any(),
        AppError::Forbidden => view! {
            <p class="form-error" role="alert">"Your staff role does not allow this page."</p>
        }
        .into_any(),
        other => view! { <p class="form-error" role="alert">{other.to_string()}</p> }.into_any(),
    }
}

/// The console's navigation, by what the role allows.
#[component]
pub fn ConsoleNav(view: ConsoleView) -> impl IntoView {
    let may = |p: &str| view.permissions.iter().any(|x| x == p);
    view! {
        <nav class="console-nav" aria-label="Console">
            <a href="/admin">"Console"</a>
            {may("reports.read").then(|| view! { <a href="/admin/dashboard">"Dashboard"</a> })}
            {may("customers.read").then(|| view! { <a href="/admin/customers">"Customers"</a> })}
            {may("customers.import").then(|| view! { <a href="/admin/import">"Import"</a> })}
            {may("customers.breach").then(|| view! { <a href="/admin/breach">"Breach response"</a> })}
            {may("apps.read").then(|| view! { <a href="/admin/apps">"Apps"</a> })}
            {may("settings.read").then(|| view! { <a href="/admin/settings">"Settings"</a> })}
            {may("settings.read").then(|| view! { <a href="/admin/social">"Social sign-in"</a> })}
            {may("settings.read").then(|| view! { <a href="/admin/branding">"Branding"</a> })}
            {may("audit.read").then(|| view! { <a href="/admin/audit">"Audit trail"</a> })}
            {may("staff.read").then(|| view! { <a href="/admin/staff">"Staff"</a> })}
            <span class="aside">"Signed in as " {view.role.clone()}</span>
        </nav>
    }
}

#[component]
pub fn ConsoleHomePage() -> impl IntoView {
    let me = Resource::new(|| (), |_| console_me());
    view! {
        <Title text="Console" />
        <section class="card card-wide console">
            <h1>"Console"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(view) => view! { <ConsoleHome view /> }.into_any(),
                        Err(error) => view! { <Refused error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn ConsoleHome(view: ConsoleView) -> impl IntoView {
    let present = view.present.clone();
    let permissions = view.permissions.join(", ");
    view! {
        <ConsoleNav view=view.clone() />
        <p>"Your role allows: " {permissions}</p>
        {(!present.is_empty()).then(|| view! {
            <h2>"Staff signed in now"</h2>
            <table class="console-table" id="staff-present">
                <thead><tr><th>"Who"</th><th>"Role"</th><th>"Signed in"</th><th>"Last seen"</th></tr></thead>
                <tbody>
                    {present.into_iter().map(|p| view! {
                        <tr><td>{p.email}</td><td>{p.role}</td><td>{p.signed_in_at}</td><td>{p.last_seen_at}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        })}
    }
}

/// The confirmation box of a console form whose inputs are in a row (`id` unique on the page).
pub fn confirm_box(id: String) -> impl IntoView {
    view! {
        <span class="field-check">
            <input type="checkbox" id=id.clone() name="confirm" value="yes" required />
            <label for=id>"I confirm"</label>
        </span>
    }
}

/// A reason and the confirmation box, the fields every console change asks for.
#[component]
pub fn ReasonFields(
    /// Unique within the page.
    id: String,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let reason_id = format!("{id}-reason");
    let confirm_id = format!("{id}-confirm");
    view! {
        <div class="field">
            <label for=reason_id.clone()>"Reason"</label>
            <input id=reason_id name="reason" required maxlength="500" />
            <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("reason"))}</p>
        </div>
        <div class="field field-check">
            <input type="checkbox" id=confirm_id.clone() name="confirm" value="yes" required />
            <label for=confirm_id>"I confirm"</label>
            <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("confirm"))}</p>
        </div>
    }
}

/// A console page's frame: once the server has said who the staff member is and answered
/// `data`, the navigation and `page`'s view of both; a refusal of either is shown instead.
#[component]
pub fn ConsoleFrame<T, F, V>(data: Resource<Result<T, AppError>>, page: F) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    F: Fn(ConsoleView, T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let me = Resource::new(|| (), |_| console_me());
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let page = page.clone();
                Suspend::new(async move {
                    let view = match me.await {
                        Ok(view) => view,
                        Err(error) => return view! { <Refused error /> }.into_any(),
                    };
                    match data.await {
                        Ok(data) => view! {
                            <ConsoleNav view=view.clone() />
                            {page(view, data)}
                        }
                        .into_any(),
                        Err(error) => view! { <Refused error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
