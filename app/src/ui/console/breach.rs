//! The breach response page: describe the target and the notice, preview whom it touches,
//! start it, and follow its progress (the page refreshes itself until it is done).

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

use super::{ReasonFields, Refused};
use crate::{
    api::console::breach::{breach_status, PreviewBreach, StartBreach},
    i18n::{tu_string, use_i18n},
    ui::form::{last_error, FormError},
    I18n,
};

fn fields(i18n: I18n, prefix: &'static str) -> impl IntoView {
    let id = move |name: &str| format!("{prefix}-{name}");
    view! {
        <fieldset>
            <legend>{tu_string!(i18n, console_breach.targets_legend)}</legend>
            <div class="field field-check">
                <input type="radio" id=id("kind-customers") name="form[kind]" value="customers" checked=true />
                <label for=id("kind-customers")>{tu_string!(i18n, console_breach.kind_customers)}</label>
            </div>
            <textarea id=id("customers") name="form[customers]" rows="3" aria-label=tu_string!(i18n, console_breach.customers_label)></textarea>
            <div class="field field-check">
                <input type="radio" id=id("kind-network") name="form[kind]" value="network" />
                <label for=id("kind-network")>{tu_string!(i18n, console_breach.kind_network)}</label>
            </div>
            <input id=id("network") name="form[network]" placeholder="203.0.113.0/24" aria-label=tu_string!(i18n, console_breach.network_label) />
            <input id=id("from") name="form[from]" type="datetime-local" aria-label=tu_string!(i18n, console_breach.from_label) />
            <input id=id("to") name="form[to]" type="datetime-local" aria-label=tu_string!(i18n, console_breach.to_label) />
            <div class="field field-check">
                <input type="radio" id=id("kind-prefix") name="form[kind]" value="hash_prefix" />
                <label for=id("kind-prefix")>{tu_string!(i18n, console_breach.kind_prefix)}</label>
            </div>
            <input id=id("prefix") name="form[prefix]" placeholder="$2b$10$" aria-label=tu_string!(i18n, console_breach.prefix_label) />
        </fieldset>
        <div class="field">
            <label for=id("notice")>{tu_string!(i18n, console_breach.notice_label)}</label>
            <textarea id=id("notice") name="form[notice]" rows="5">
                {tu_string!(i18n, console_breach.notice_default)}
            </textarea>
        </div>
    }
}

#[component]
pub fn BreachPage() -> impl IntoView {
    let i18n = use_i18n();
    let preview = ServerAction::<PreviewBreach>::new();
    let start = ServerAction::<StartBreach>::new();
    let params = use_query_map();
    let started = move || {
        start
            .value()
            .get()
            .and_then(Result::ok)
            .or_else(|| params.with(|p| p.get("response").and_then(|r| r.parse().ok())))
    };
    let preview_error = last_error(preview.value());
    let start_error = last_error(start.value());
    view! {
        <Title text=tu_string!(i18n, console_breach.title) />
        <section class="card card-wide console">
            <nav class="console-nav" aria-label=tu_string!(i18n, console_breach.console_nav)><a href="/admin">{tu_string!(i18n, console_breach.console_link)}</a></nav>
            <h1>{tu_string!(i18n, console_breach.heading)}</h1>
            <p>{tu_string!(i18n, console_breach.intro)}</p>
            {move || match started() {
                Some(id) => view! { <Progress id /> }.into_any(),
                None => view! {
                    <ActionForm action=preview attr:id="breach-preview">
                        <FormError error=preview_error />
                        {fields(i18n, "preview")}
                        <button type="submit">{tu_string!(i18n, console_breach.preview)}</button>
                    </ActionForm>
                    {move || preview.value().get().and_then(Result::ok).map(|p| view! {
                        <div class="notice" role="status" id="breach-count">
                            <p>{tu_string!(i18n, console_breach.preview_count, n = p.count)}</p>
                            <ul>{p.sample.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
                        </div>
                    })}
                    <h2>{tu_string!(i18n, console_breach.start_heading)}</h2>
                    <ActionForm action=start attr:id="breach-start">
                        <FormError error=start_error />
                        {fields(i18n, "start")}
                        <ReasonFields id="breach".to_owned() error=start_error />
                        <button type="submit">{tu_string!(i18n, console_breach.start)}</button>
                    </ActionForm>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Progress(id: i64) -> impl IntoView {
    let i18n = use_i18n();
    let progress = Resource::new(|| (), move |_| breach_status(id));
    view! {
        <Suspense fallback=move || view! { <p>{tu_string!(i18n, console_breach.loading)}</p> }>
            {move || Suspend::new(async move {
                match progress.await {
                    Ok(p) => {
                        view! {
                            {(!p.finished).then(|| view! { <Meta http_equiv="refresh" content=format!("2;url=/admin/breach?response={}", p.id) /> })}
                            <p id="breach-progress" data-finished=p.finished.to_string()>
                                {if p.finished { tu_string!(i18n, console_breach.progress_finished) } else { tu_string!(i18n, console_breach.progress_running) }}
                                {tu_string!(i18n, console_breach.progress_count, done = p.done, total = p.total)}
                            </p>
                            <progress max=p.total value=p.done></progress>
                        }.into_any()
                    }
                    Err(error) => view! { <Refused error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
