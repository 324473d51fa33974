//! "Delete my account": `/profile/delete`, where the signed-in person asks for it, and
//! `/signin/deletion`, where a sign-in during the grace period offers to cancel it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use super::form::{last_error, FormError};
use crate::api::delete_account::{
    deletion_grace_days, deletion_question, CancelDeletion, DeletionOffer, KeepDeletion,
    RequestAccountDeletion,
};

#[component]
pub fn DeleteAccountPage() -> impl IntoView {
    let request = ServerAction::<RequestAccountDeletion>::new();
    let grace = Resource::new(|| (), |_| deletion_grace_days());
    view! {
        <Title text="Delete your account" />
        <section class="card">
            <h1>"Delete your account"</h1>
            <p><a href="/profile">"Back to your profile"</a></p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match grace.await {
                        Ok(days) => view! { <WhatHappens days /> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <p>
                "You may want to "<a href="/profile/data">"download your data"</a>" first."
            </p>
            <ActionForm action=request>
                <FormError error=last_error(request.value()) />
                <div class="field field-check">
                    <input type="checkbox" id="delete-confirm" name="confirm" value="yes" required />
                    <label for="delete-confirm">"I understand that my account and my data will be deleted"</label>
                </div>
                <button type="submit" class="button-danger" disabled=move || request.pending().get()>
                    "Delete my account"
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
fn WhatHappens(days: i32) -> impl IntoView {
    view! {
        <p>{format!(
            "We will sign you out everywhere and end the access of the apps you connected. \
             {days} days later, your account is deleted with everything we hold about you: \
             your profile, addresses and phone, sign-in methods, devices, sessions, privacy \
             choices and connected apps."
        )}</p>
        <p>
            "Until then you can change your mind: sign in, and you will be offered to keep your \
             account. What we must keep afterwards is only the record that you accepted our \
             terms and our security log, neither of which will name you."
        </p>
    }
}

#[component]
pub fn DeletionStepPage() -> impl IntoView {
    let question = Resource::new(|| (), |_| deletion_question());
    view! {
        <Title text="Your account is set to be deleted" />
        <section class="card">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
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
    let cancel = ServerAction::<CancelDeletion>::new();
    let keep = ServerAction::<KeepDeletion>::new();
    view! {
        <h1>"Your account is set to be deleted"</h1>
        <p>{format!(
            "You asked us to delete your account. It will be deleted on {}, with everything we \
             hold about you. Do you want to keep it?",
            question.due
        )}</p>
        <ActionForm action=cancel>
            <input type="hidden" name="step" value=question.step />
            <FormError error=last_error(cancel.value()) />
            <button type="submit" disabled=move || cancel.pending().get()>"Keep my account and sign in"</button>
        </ActionForm>
        <ActionForm action=keep>
            <button type="submit" class="button-secondary">"Go on with the deletion"</button>
        </ActionForm>
    }
}
