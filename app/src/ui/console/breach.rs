//! The breach response page: describe the target and the notice, preview whom it touches,
//! start it, and follow its progress (the page refreshes itself until it is done).

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

use super::{ReasonFields, Refused};
use crate::{
    api::console::breach::{breach_status, PreviewBreach, StartBreach},
    ui::form::{last_error, FormError},
};

fn fields(prefix: &'static str) -> impl IntoView {
    let id = move |name: &str| format!("{prefix}-{name}");
    view! {
        <fieldset>
            <legend>"Whom it targets"</legend>
            <div class="field field-check">
                <input type="radio" id=id("kind-customers") name="form[kind]" value="customers" checked=true />
                <label for=id("kind-customers")>"These customers (addresses or ids)"</label>
            </div>
            <textarea id=id("customers") name="form[customers]" rows="3" aria-label="Customers"></textarea>
            <div class="field field-check">
                <input type="radio" id=id("kind-network") name="form[kind]" value="network" />
                <label for=id("kind-network")>"Everyone who signed in from a network, in a window (UTC)"</label>
            </div>
            <input id=id("network") name="form[network]" placeholder="203.0.113.0/24" aria-label="Network" />
            <input id=id("from") name="form[from]" type="datetime-local" aria-label="From" />
            <input id=id("to") name="form[to]" type="datetime-local" aria-label="To" />
            <div class="field field-check">
                <input type="radio" id=id("kind-prefix") name="form[kind]" value="hash_prefix" />
                <label for=id("kind-prefix")>"Every account whose password hash starts with"</label>
            </div>
            <input id=id("prefix") name="form[prefix]" placeholder="$2b$10$" aria-label="Hash prefix" />
        </fieldset>
        <div class="field">
            <label for=id("notice")>"The notice mailed to each customer"</label>
            <textarea id=id("notice") name="form[notice]" rows="5">
                "We learned that the password of your account may be known to others."
            </textarea>
        </div>
    }
}

#[component]
pub fn BreachPage() -> impl IntoView {
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
        <Title text="Breach response" />
        <section class="card card-wide console">
            <nav class="console-nav" aria-label="Console"><a href="/admin">"Console"</a></nav>
            <h1>"Breach response"</h1>
            <p>"Ends every sign-in and app token of the customers it targets (apps are told), requires a new password and a second factor at their next sign-in, and mails them your notice."</p>
            {move || match started() {
                Some(id) => view! { <Progress id /> }.into_any(),
                None => view! {
                    <ActionForm action=preview attr:id="breach-preview">
                        <FormError error=preview_error />
                        {fields("preview")}
                        <button type="submit">"Preview"</button>
                    </ActionForm>
                    {move || preview.value().get().and_then(Result::ok).map(|p| view! {
                        <div class="notice" role="status" id="breach-count">
                            <p>{format!("This touches {} customer(s).", p.count)}</p>
                            <ul>{p.sample.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
                        </div>
                    })}
                    <h2>"Start"</h2>
                    <ActionForm action=start attr:id="breach-start">
                        <FormError error=start_error />
                        {fields("start")}
                        <ReasonFields id="breach".to_owned() error=start_error />
                        <button type="submit">"Start the breach response"</button>
                    </ActionForm>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Progress(id: i64) -> impl IntoView {
    let progress = Resource::new(|| (), move |_| breach_status(id));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match progress.await {
                    Ok(p) => {
                        view! {
                            {(!p.finished).then(|| view! { <Meta http_equiv="refresh" content=format!("2;url=/admin/breach?response={}", p.id) /> })}
                            <p id="breach-progress" data-finished=p.finished.to_string()>
                                {if p.finished { "Finished: " } else { "Running: " }}
                                {format!("{} of {} customers", p.done, p.total)}
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
