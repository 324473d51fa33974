//! The consent question: the purposes to accept (required ones marked, optional ones
//! unticked), on the registration form and on the consent step's page of a sign-in.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use super::form::{field_error, last_error, FormError};
use crate::api::signin_consent::{
    signin_consent_question, AcceptConsent, AskedPurpose, ConsentQuestion, DeclineConsent,
};

/// The purposes as checkboxes, each sending `consent[<key>]=<version shown>` when ticked.
#[component]
pub fn PurposeChoices(
    purposes: Vec<AskedPurpose>,
    /// The answer's error, shown above the boxes.
    #[prop(into)]
    error: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <fieldset class="purposes-asked" aria-describedby="consent-error">
            <legend>"Terms and your choices"</legend>
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
    let label = if p.required {
        format!("I accept the {} (required)", p.name)
    } else {
        format!("{} (optional)", p.name)
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
                <summary>{format!("Read it (version {}, based on {})", p.version, p.basis)}</summary>
                <p class="policy-text">{p.text}</p>
            </details>
        </div>
    }
}

/// `/signin/consent`: what a sign-in waits for, or what an app's authorization found behind.
#[component]
pub fn ConsentStepPage() -> impl IntoView {
    let question = Resource::new(|| (), |_| signin_consent_question());
    view! {
        <Title text="Before you go on" />
        <section class="card">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
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
    let intro = if question.first_time {
        "Welcome. Before your first sign-in, please read and accept our terms. The optional choices are yours to make, now or later in your account."
    } else {
        "Our terms have changed since you last accepted them. Please read the new version and accept it to go on."
    };
    view! {
        <h1>"Before you go on"</h1>
        <p>{intro}</p>
        <ActionForm action=accept>
            <input type="hidden" name="step" value=question.step />
            <FormError error />
            <PurposeChoices purposes=question.purposes error=field_error(error, "consent") />
            <button type="submit" disabled=move || accept.pending().get()>"Accept and continue"</button>
        </ActionForm>
        <ActionForm action=decline>
            <button type="submit" class="button-secondary">"Don't accept, and cancel"</button>
        </ActionForm>
    }
}
