//! The second step of a sign-in: an authenticator code, a recovery code, a passkey, or (the
//! weaker fallback) a mailed code; or, for someone who must have a second factor and has none,
//! setting up an authenticator app first.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map};

use super::{
    form::{last_error, CodeFields, FormError},
    passkeys::PasskeySignIn,
    security::AuthenticatorSetupView,
};
use crate::api::second_factor::{
    second_step_enrol_start, second_step_offer, SecondStepEmail, SecondStepEnrol,
    SecondStepRecoveryCode, SecondStepSendEmail, SecondStepTotp, StepOffer,
};

#[component]
pub fn SecondFactorPage() -> impl IntoView {
    let offer = Resource::new(|| (), |_| second_step_offer());
    view! {
        <Title text="Confirm it's you" />
        <section class="card">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match offer.await {
                        Ok(Some(offer)) if offer.must_enrol => view! { <Enrol offer /> }.into_any(),
                        Ok(Some(offer)) => view! { <Choices offer /> }.into_any(),
                        Ok(None) => view! { <Redirect path="/signin" /> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// "Remember this device for 30 days".
#[component]
fn RememberDevice() -> impl IntoView {
    view! {
        <div class="field field-check">
            <input id="remember" name="remember" type="checkbox" value="on" />
            <label for="remember">"Remember this device for 30 days"</label>
        </div>
    }
}

#[component]
fn Choices(offer: StepOffer) -> impl IntoView {
    let totp = ServerAction::<SecondStepTotp>::new();
    let recovery = ServerAction::<SecondStepRecoveryCode>::new();
    view! {
        <h1>"Confirm it's you"</h1>
        <p>"Your account is protected by a second step. Use one of these to go on."</p>
        {offer.totp.then(|| view! {
            <section aria-labelledby="totp-heading">
                <h2 id="totp-heading">"Code from your authenticator app"</h2>
                <ActionForm action=totp>
                    <CodeFields error=last_error(totp.value()) />
                    <RememberDevice />
                    <button type="submit" disabled=move || totp.pending().get()>"Confirm"</button>
                </ActionForm>
            </section>
        })}
        {offer.passkey.then(|| view! { <PasskeySignIn /> })}
        {offer.recovery_codes.then(|| view! {
            <details class="alternative">
                <summary>"Use a recovery code"</summary>
                <ActionForm action=recovery>
                    <FormError error=last_error(recovery.value()) />
                    <div class="field">
                        <label for="recovery-code">"Recovery code"</label>
                        <input id="recovery-code" name="code" autocomplete="off" required=true />
                    </div>
                    <RememberDevice />
                    <button type="submit" class="button-secondary">"Use this code"</button>
                </ActionForm>
            </details>
        })}
        {offer.email.then(|| view! {
            <section class="alternative" aria-labelledby="email-heading">
                <h2 id="email-heading">"Or a code by email"</h2>
                <p class="notice">
                    "A code by email is weaker than an authenticator app or a passkey: anyone who can read your mail can use it."
                </p>
                <EmailCode sent=offer.email_sent remember=true />
            </section>
        })}
        <p class="aside"><a href="/signin">"Start again"</a></p>
    }
}

/// The mailed code: the button that sends it, then (once sent, in this browser) its form.
#[component]
fn EmailCode(sent: bool, remember: bool) -> impl IntoView {
    let query = use_query_map();
    let send = ServerAction::<SecondStepSendEmail>::new();
    let email = ServerAction::<SecondStepEmail>::new();
    let sent = move || {
        sent || query.read().get("email_sent").is_some()
            || matches!(send.value().get(), Some(Ok(())))
    };
    view! {
        <Show
            when=sent
            fallback=move || view! {
                <ActionForm action=send>
                    <FormError error=last_error(send.value()) />
                    <button type="submit" class="button-secondary">"Email me a code"</button>
                </ActionForm>
            }
        >
            <ActionForm action=email>
                <CodeFields error=last_error(email.value()) id="email-code" />
                {remember.then(|| view! { <RememberDevice /> })}
                <button type="submit" class="button-secondary">"Confirm"</button>
            </ActionForm>
        </Show>
    }
}

/// Setting up an authenticator app before going on.
#[component]
fn Enrol(offer: StepOffer) -> impl IntoView {
    let setup = Resource::new(|| (), |_| second_step_enrol_start());
    let confirm = ServerAction::<SecondStepEnrol>::new();
    view! {
        <h1>"Set up a second step"</h1>
        <p>
            "This account must sign in with a second step. Set up an authenticator app (such as one on your phone) now; you will use it each time you sign in."
        </p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match setup.await {
                    Ok(setup) => view! { <AuthenticatorSetupView setup /> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
        <ActionForm action=confirm>
            <CodeFields error=last_error(confirm.value()) />
            <RememberDevice />
            <button type="submit" disabled=move || confirm.pending().get()>"Confirm and go on"</button>
        </ActionForm>
        {offer.email.then(|| view! {
            <section class="alternative" aria-labelledby="email-heading">
                <h2 id="email-heading">"Not now: a code by email"</h2>
                <p class="notice">"Weaker than an authenticator app: anyone who can read your mail can use it."</p>
                <EmailCode sent=offer.email_sent remember=false />
            </section>
        })}
    }
}
