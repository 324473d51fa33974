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

use crate::{
    api::{
        console::staff::{console_me, ConsoleView},
        error::AppError,
    },
    i18n::{tu_string, use_i18n},
};

/// What a console page shows when the server refused it.
#[component]
pub fn Refused(error: AppError) -> impl IntoView {
    let i18n = use_i18n();
    match error {
        AppError::Unauthorized => view! { <Redirect path="/signin" /> }.into_any(),
        AppError::Forbidden => view! {
            <p class="form-error" role="alert">{tu_string!(i18n, console.forbidden)}</p>
        }
        .into_any(),
        other => view! { <p class="form-error" role="alert">{other.to_string()}</p> }.into_any(),
    }
}

/// The console's navigation, by what the role allows.
#[component]
pub fn ConsoleNav(view: ConsoleView) -> impl IntoView {
    let i18n = use_i18n();
    let may = |p: &str| view.permissions.iter().any(|x| x == p);
    let signed_in_as = tu_string!(i18n, console.signed_in_as, role = &view.role);
    view! {
        <nav class="console-nav" aria-label=tu_string!(i18n, console.nav_label)>
            <a href="/admin">{tu_string!(i18n, console.nav_console)}</a>
            {may("reports.read").then(|| view! { <a href="/admin/dashboard">{tu_string!(i18n, console.nav_dashboard)}</a> })}
            {may("customers.read").then(|| view! { <a href="/admin/customers">{tu_string!(i18n, console.nav_customers)}</a> })}
            {may("customers.import").then(|| view! { <a href="/admin/import">{tu_string!(i18n, console.nav_import)}</a> })}
            {may("customers.breach").then(|| view! { <a href="/admin/breach">{tu_string!(i18n, console.nav_breach)}</a> })}
            {may("apps.read").then(|| view! { <a href="/admin/apps">{tu_string!(i18n, console.nav_apps)}</a> })}
            {may("settings.read").then(|| view! { <a href="/admin/settings">{tu_string!(i18n, console.nav_settings)}</a> })}
            {may("settings.read").then(|| view! { <a href="/admin/social">{tu_string!(i18n, console.nav_social)}</a> })}
            {may("settings.read").then(|| view! { <a href="/admin/branding">{tu_string!(i18n, console.nav_branding)}</a> })}
            {may("audit.read").then(|| view! { <a href="/admin/audit">{tu_string!(i18n, console.nav_audit)}</a> })}
            {may("staff.read").then(|| view! { <a href="/admin/staff">{tu_string!(i18n, console.nav_staff)}</a> })}
            <span class="aside">{signed_in_as}</span>
        </nav>
    }
}

#[component]
pub fn ConsoleHomePage() -> impl IntoView {
    let i18n = use_i18n();
    let me = Resource::new(|| (), |_| console_me());
    view! {
        <Title text=tu_string!(i18n, console.title) />
        <section class="card card-wide console">
            <h1>{tu_string!(i18n, console.heading)}</h1>
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, console.loading)}</p> }>
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
    let i18n = use_i18n();
    let present = view.present.clone();
    let permissions = view.permissions.join(", ");
    view! {
        <ConsoleNav view=view.clone() />
        <p>{tu_string!(i18n, console.role_allows, permissions = permissions)}</p>
        {(!present.is_empty()).then(|| view! {
            <h2>{tu_string!(i18n, console.present_heading)}</h2>
            <table class="console-table" id="staff-present">
                <thead><tr>
                    <th>{tu_string!(i18n, console.col_who)}</th>
                    <th>{tu_string!(i18n, console.col_role)}</th>
                    <th>{tu_string!(i18n, console.col_signed_in)}</th>
                    <th>{tu_string!(i18n, console.col_last_seen)}</th>
                </tr></thead>
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
/// Only called while a view renders, so it may ask for the page's language itself.
pub fn confirm_box(id: String) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <span class="field-check">
            <input type="checkbox" id=id.clone() name="confirm" value="yes" required />
            <label for=id>{tu_string!(i18n, console.i_confirm)}</label>
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
    let i18n = use_i18n();
    let reason_id = format!("{id}-reason");
    let confirm_id = format!("{id}-confirm");
    view! {
        <div class="field">
            <label for=reason_id.clone()>{tu_string!(i18n, console.reason_label)}</label>
            <input id=reason_id name="reason" required maxlength="500" />
            <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("reason"))}</p>
        </div>
        <div class="field field-check">
            <input type="checkbox" id=confirm_id.clone() name="confirm" value="yes" required />
            <label for=confirm_id>{tu_string!(i18n, console.i_confirm)}</label>
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
    let i18n = use_i18n();
    let me = Resource::new(|| (), |_| console_me());
    view! {
        <Suspense fallback=move || view! { <p>{tu_string!(i18n, console.loading)}</p> }>
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
