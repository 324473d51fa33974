//! The consent question: the purposes to accept (required ones marked, optional ones
//! unticked), on the registration form and on the consent step's page of a sign-in.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use super::form::{field_error, last_error, FormError};
use crate::{
    api::signin_consent::{
        signin_consent_question, AcceptConsent, AskedPurpose, ConsentQuestion, DeclineConsent,
    },
    i18n::{tu_string, use_i18n},
};

/// The purposes as checkboxes, each sending `consent[<key>]=<version shown>` when ticked.
#[component]
pub fn PurposeChoices(
    purposes: Vec<AskedPurpose>,
    /// The answer's error, shown above the boxes.
    #[prop(into)]
    error: Signal<Option<String>>,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <fieldset class="purposes-asked" aria-describedby="consent-error">
            <legend>{tu_string!(i18n, signin_consent.legend)}</legend>
            <p id="consent-error" class="field-error" role="alert" aria-live="assertive">
                {move || error.get()}
            </p>
            {purposes.into_iter().map(|p| view! { <PurposeBox p /> }).collect_view()}
        </fieldset>
    }
}

#[component]
fn PurposeBox(p: AskedPurpose) -> impl IntoView {
    let id = format!("consent-{}", p.key);
    let text_id = format!("{id}-text");
    let i18n = use_i18n();
    let label = if p.required {
        tu_string!(i18n, signin_consent.accept_required, name = &p.name)
    } else {
        tu_string!(i18n, signin_consent.optional_label, name = &p.name)
    };
    view! {
        <div class="field field-check" data-purpose=p.key.clone()>
            <input
                id=id.clone()
                name=format!("consent[{}]", p.key)
                type="checkbox"
                value=p.version.to_string()
                required=p.required
                aria-describedby=text_id.clone()
            />
            <label for=id>{label}</label>
            <details id=text_id>
                <summary>{tu_string!(
                    i18n,
                    signin_consent.read_it,
                    version = p.version,
                    basis = &p.basis,
                )}</summary>
                <p class="policy-text">{p.text}</p>
            </details>
        </div>
    }
}

/// `/signin/consent`: what a sign-in waits for, or what an app's authorization found behind.
#[component]
pub fn ConsentStepPage() -> impl IntoView {
    let question = Resource::new(|| (), |_| signin_consent_question());
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, signin_consent.heading) />
        <section class="card">
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, signin_consent.loading)}</p> }>
                {move || Suspend::new(async move {
                    match question.await {
                        Ok(Some(question)) => view! { <Ask question /> }.into_any(),
                        Ok(None) => view! { <Redirect path="/signin" /> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Ask(question: ConsentQuestion) -> impl IntoView {
    let accept = ServerAction::<AcceptConsent>::new();
    let decline = ServerAction::<DeclineConsent>::new();
    let error = last_error(accept.value());
    let i18n = use_i18n();
    let intro = if question.first_time {
        tu_string!(i18n, signin_consent.intro_first_time)
    } else {
        tu_string!(i18n, signin_consent.intro_changed)
    };
    view! {
        <h1>{tu_string!(i18n, signin_consent.heading)}</h1>
        <p>{intro}</p>
        <ActionForm action=accept>
            <input type="hidden" name="step" value=question.step />
            <FormError error />
            <PurposeChoices purposes=question.purposes error=field_error(error, "consent") />
            <button type="submit" disabled=move || accept.pending().get()>{tu_string!(i18n, signin_consent.accept)}</button>
        </ActionForm>
        <ActionForm action=decline>
            <button type="submit" class="button-secondary">{tu_string!(i18n, signin_consent.decline)}</button>
        </ActionForm>
    }
}
