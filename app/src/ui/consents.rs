//! `/profile/consents`: the person's privacy choices, one click to grant or withdraw each
//! optional purpose, the policy texts, and the history of every choice and app approval.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::form::{last_error, FormError};
use crate::api::consents::{consents, ChooseConsent, ConsentRecord, PurposeView};

#[component]
pub fn ConsentsPage() -> impl IntoView {
    let choose = ServerAction::<ChooseConsent>::new();
    let page = Resource::new(move || choose.version().get(), |_| consents());
    let query = use_query_map();
    let saved = move || query.read().get("saved").is_some();
    view! {
        <Title text="Your privacy choices" />
        <section class="card">
            <h1>"Your privacy choices"</h1>
            <p><a href="/profile">"Back to your profile"</a></p>
            <Show when=saved>
                <p class="notice" role="status">"Your choice is saved."</p>
            </Show>
            <FormError error=last_error(choose.value()) />
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! {
                            <ul class="purposes">
                                {page.purposes.into_iter().map(|p| view! { <PurposeItem p choose /> }).collect_view()}
                            </ul>
                            <section class="subsection" aria-labelledby="consent-history-heading">
                                <h2 id="consent-history-heading">"History"</h2>
                                <ol class="timeline">
                                    {page.history.into_iter().map(|r| view! { <Record r /> }).collect_view()}
                                </ol>
                            </section>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn PurposeItem(p: PurposeView, choose: ServerAction<ChooseConsent>) -> impl IntoView {
    let mut facts = vec![
        if p.required { "Required" } else { "Optional" }.to_owned(),
        format!("based on {}", p.basis),
        format!("version {}", p.version),
    ];
    if let Some(region) = &p.region {
        facts.push(format!("applies in {region}"));
    }
    let status = p.choice.clone().unwrap_or_else(|| "Not chosen yet".into());
    // A required purpose is not withdrawn here; an outdated acceptance can be renewed.
    let button = match (p.granted && !p.outdated, p.required) {
        (true, true) => None,
        (true, false) => Some(("false", format!("Withdraw {}", p.name))),
        (false, _) => Some(("true", format!("Accept {}", p.name))),
    };
    let key = p.key.clone();
    view! {
        <li data-purpose=key>
            <strong>{p.name.clone()}</strong>
            {p.granted.then(|| view! { " " <span class="badge badge-ok">"on"</span> })}
            <br />
            <span class="aside">{facts.join(" · ")}</span>
            <br />
            <span data-choice>{status}</span>
            {p.outdated.then(|| view! { <span>" (the text has changed since)"</span> })}
            <details>
                <summary>"Read the text"</summary>
                <p class="policy-text">{p.text}</p>
            </details>
            {button.map(|(granted, label)| view! {
                <ActionForm action=choose attr:class="inline">
                    <input type="hidden" name="purpose" value=p.key />
                    <input type="hidden" name="granted" value=granted />
                    <button type="submit" class="button-secondary">{label}</button>
                </ActionForm>
            })}
        </li>
    }
}

#[component]
fn Record(r: ConsentRecord) -> impl IntoView {
    let mut facts = vec![r.how, r.device];
    if let Some(hash) = r.text_hash {
        facts.push(format!("text {hash}"));
    }
    view! {
        <li data-consent-record>
            <time>{r.at}</time> " · " <strong>{r.what}</strong>
            <br />
            <span class="aside">{facts.join(" · ")}</span>
        </li>
    }
}
