//! "Delete my account": `/profile/delete`, where the signed-in person asks for it, and
//! `/signin/deletion`, where a sign-in during the grace period offers to cancel it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use super::form::{last_error, FormError};
use crate::{
    api::delete_account::{
        deletion_grace_days, deletion_question, CancelDeletion, DeletionOffer, KeepDeletion,
        RequestAccountDeletion,
    },
    i18n::{tu_string, use_i18n},
};

#[component]
pub fn DeleteAccountPage() -> impl IntoView {
    let i18n = use_i18n();
    let request = ServerAction::<RequestAccountDeletion>::new();
    let grace = Resource::new(|| (), |_| deletion_grace_days());
    view! {
        <Title text=tu_string!(i18n, delete_account.title) />
        <section class="card">
            <h1>{tu_string!(i18n, delete_account.heading)}</h1>
            <p><a href="/profile">{tu_string!(i18n, delete_account.back_to_profile)}</a></p>
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, delete_account.loading)}</p> }>
                {move || Suspend::new(async move {
                    match grace.await {
                        Ok(days) => view! { <WhatHappens days /> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <p>
                {tu_string!(i18n, delete_account.data_before_link)}<a href="/profile/data">{tu_string!(i18n, delete_account.data_link)}</a>{tu_string!(i18n, delete_account.data_after_link)}
            </p>
            <ActionForm action=request>
                <FormError error=last_error(request.value()) />
                <div class="field field-check">
                    <input type="checkbox" id="delete-confirm" name="confirm" value="yes" required />
                    <label for="delete-confirm">{tu_string!(i18n, delete_account.confirm_label)}</label>
                </div>
                <button type="submit" class="button-danger" disabled=move || request.pending().get()>
                    {tu_string!(i18n, delete_account.submit)}
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
fn WhatHappens(days: i32) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p>{tu_string!(i18n, delete_account.what_happens, days = days)}</p>
        <p>
            {tu_string!(i18n, delete_account.change_your_mind)}
        </p>
    }
}

#[component]
pub fn DeletionStepPage() -> impl IntoView {
    let i18n = use_i18n();
    let question = Resource::new(|| (), |_| deletion_question());
    view! {
        <Title text=tu_string!(i18n, delete_account.offer_title) />
        <section class="card">
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, delete_account.loading)}</p> }>
                {move || Suspend::new(async move {
                    match question.await {
                        Ok(Some(question)) => view! { <Offer question /> }.into_any(),
                        Ok(None) => view! { <Redirect path="/signin" /> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Offer(question: DeletionOffer) -> impl IntoView {
    let i18n = use_i18n();
    let cancel = ServerAction::<CancelDeletion>::new();
    let keep = ServerAction::<KeepDeletion>::new();
    view! {
        <h1>{tu_string!(i18n, delete_account.offer_heading)}</h1>
        <p>{tu_string!(i18n, delete_account.offer_question, date = question.due)}</p>
        <ActionForm action=cancel>
            <input type="hidden" name="step" value=question.step />
            <FormError error=last_error(cancel.value()) />
            <button type="submit" disabled=move || cancel.pending().get()>{tu_string!(i18n, delete_account.offer_keep_account)}</button>
        </ActionForm>
        <ActionForm action=keep>
            <button type="submit" class="button-secondary">{tu_string!(i18n, delete_account.offer_go_on)}</button>
        </ActionForm>
    }
}
