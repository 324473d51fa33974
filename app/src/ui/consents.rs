//! `/profile/consents`: the person's privacy choices, one click to grant or withdraw each
//! optional purpose, the policy texts, and the history of every choice and app approval.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::form::{last_error, FormError};
use crate::{
    api::consents::{consents, ChooseConsent, ConsentRecord, PurposeView},
    i18n::{tu_string, use_i18n},
};

#[component]
pub fn ConsentsPage() -> impl IntoView {
    let choose = ServerAction::<ChooseConsent>::new();
    let page = Resource::new(move || choose.version().get(), |_| consents());
    let query = use_query_map();
    let saved = move || query.read().get("saved").is_some();
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, consents.heading) />
        <section class="card">
            <h1>{tu_string!(i18n, consents.heading)}</h1>
            <p><a href="/profile">{tu_string!(i18n, consents.back_to_profile)}</a></p>
            <Show when=saved>
                <p class="notice" role="status">{tu_string!(i18n, consents.notice_saved)}</p>
            </Show>
            <FormError error=last_error(choose.value()) />
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, consents.loading)}</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! {
                            <ul class="purposes">
                                {page.purposes.into_iter().map(|p| view! { <PurposeItem p choose /> }).collect_view()}
                            </ul>
                            <section class="subsection" aria-labelledby="consent-history-heading">
                                <h2 id="consent-history-heading">{tu_string!(i18n, consents.history_heading)}</h2>
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
    let i18n = use_i18n();
    let mut facts = vec![
        if p.required {
            tu_string!(i18n, consents.required)
        } else {
            tu_string!(i18n, consents.optional)
        }
        .to_owned(),
        tu_string!(i18n, consents.based_on, basis = &p.basis),
        tu_string!(i18n, consents.version, version = p.version),
    ];
    if let Some(region) = &p.region {
        facts.push(tu_string!(i18n, consents.applies_in, region = region));
    }
    let status = p
        .choice
        .clone()
        .unwrap_or_else(|| tu_string!(i18n, consents.not_chosen_yet).into());
    // A required purpose is not withdrawn here; an outdated acceptance can be renewed.
    let button = match (p.granted && !p.outdated, p.required) {
        (true, true) => None,
        (true, false) => Some(("false", tu_string!(i18n, consents.withdraw, name = &p.name))),
        (false, _) => Some(("true", tu_string!(i18n, consents.accept, name = &p.name))),
    };
    let key = p.key.clone();
    view! {
        <li data-purpose=key>
            <strong>{p.name.clone()}</strong>
            {p.granted.then(|| view! { " " <span class="badge badge-ok">{tu_string!(i18n, consents.badge_on)}</span> })}
            <br />
            <span class="aside">{facts.join(" · ")}</span>
            <br />
            <span data-choice>{status}</span>
            {p.outdated.then(|| view! { <span>{tu_string!(i18n, consents.text_changed)}</span> })}
            <details>
                <summary>{tu_string!(i18n, consents.read_text)}</summary>
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
    let i18n = use_i18n();
    let mut facts = vec![r.how, r.device];
    if let Some(hash) = r.text_hash {
        facts.push(tu_string!(i18n, consents.text_hash, hash = hash));
    }
    view! {
        <li data-consent-record>
            <time>{r.at}</time> " · " <strong>{r.what}</strong>
            <br />
            <span class="aside">{facts.join(" · ")}</span>
        </li>
    }
}
