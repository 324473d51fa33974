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
use crate::{
    api::second_factor::{
        second_step_enrol_start, second_step_offer, SecondStepEmail, SecondStepEnrol,
        SecondStepRecoveryCode, SecondStepSendEmail, SecondStepTotp, StepOffer,
    },
    i18n::{tu_string, use_i18n},
};

#[component]
pub fn SecondFactorPage() -> impl IntoView {
    let i18n = use_i18n();
    let offer = Resource::new(|| (), |_| second_step_offer());
    view! {
        <Title text=tu_string!(i18n, second_factor.title) />
        <section class="card">
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, second_factor.loading)}</p> }>
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
    let i18n = use_i18n();
    view! {
        <div class="field field-check">
            <input id="remember" name="remember" type="checkbox" value="on" />
            <label for="remember">{tu_string!(i18n, second_factor.remember_device)}</label>
        </div>
    }
}

#[component]
fn Choices(offer: StepOffer) -> impl IntoView {
    let i18n = use_i18n();
    let totp = ServerAction::<SecondStepTotp>::new();
    let recovery = ServerAction::<SecondStepRecoveryCode>::new();
    view! {
        <h1>{tu_string!(i18n, second_factor.heading)}</h1>
        <p>{tu_string!(i18n, second_factor.intro)}</p>
        {offer.totp.then(|| view! {
            <section aria-labelledby="totp-heading">
                <h2 id="totp-heading">{tu_string!(i18n, second_factor.totp_heading)}</h2>
                <ActionForm action=totp>
                    <CodeFields error=last_error(totp.value()) />
                    <RememberDevice />
                    <button type="submit" disabled=move || totp.pending().get()>{tu_string!(i18n, second_factor.confirm)}</button>
                </ActionForm>
            </section>
        })}
        {offer.passkey.then(|| view! { <PasskeySignIn /> })}
        {offer.recovery_codes.then(|| view! {
            <details class="alternative">
                <summary>{tu_string!(i18n, second_factor.recovery_summary)}</summary>
                <ActionForm action=recovery>
                    <FormError error=last_error(recovery.value()) />
                    <div class="field">
                        <label for="recovery-code">{tu_string!(i18n, second_factor.recovery_code_label)}</label>
                        <input id="recovery-code" name="code" autocomplete="off" required=true />
                    </div>
                    <RememberDevice />
                    <button type="submit" class="button-secondary">{tu_string!(i18n, second_factor.recovery_submit)}</button>
                </ActionForm>
            </details>
        })}
        {offer.email.then(|| view! {
            <section class="alternative" aria-labelledby="email-heading">
                <h2 id="email-heading">{tu_string!(i18n, second_factor.email_heading)}</h2>
                <p class="notice">
                    {tu_string!(i18n, second_factor.email_warning)}
                </p>
                <EmailCode sent=offer.email_sent remember=true />
            </section>
        })}
        <p class="aside"><a href="/signin">{tu_string!(i18n, second_factor.start_again)}</a></p>
    }
}

/// The mailed code: the button that sends it, then (once sent, in this browser) its form.
#[component]
fn EmailCode(sent: bool, remember: bool) -> impl IntoView {
    let i18n = use_i18n();
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
                    <button type="submit" class="button-secondary">{tu_string!(i18n, second_factor.email_send)}</button>
                </ActionForm>
            }
        >
            <ActionForm action=email>
                <CodeFields error=last_error(email.value()) id="email-code" />
                {remember.then(|| view! { <RememberDevice /> })}
                <button type="submit" class="button-secondary">{tu_string!(i18n, second_factor.confirm)}</button>
            </ActionForm>
        </Show>
    }
}

/// Setting up an authenticator app before going on.
#[component]
fn Enrol(offer: StepOffer) -> impl IntoView {
    let i18n = use_i18n();
    let setup = Resource::new(|| (), |_| second_step_enrol_start());
    let confirm = ServerAction::<SecondStepEnrol>::new();
    view! {
        <h1>{tu_string!(i18n, second_factor.enrol_heading)}</h1>
        <p>
            {tu_string!(i18n, second_factor.enrol_intro)}
        </p>
        <Suspense fallback=move || view! { <p>{tu_string!(i18n, second_factor.loading)}</p> }>
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
            <button type="submit" disabled=move || confirm.pending().get()>{tu_string!(i18n, second_factor.enrol_submit)}</button>
        </ActionForm>
        {offer.email.then(|| view! {
            <section class="alternative" aria-labelledby="email-heading">
                <h2 id="email-heading">{tu_string!(i18n, second_factor.enrol_email_heading)}</h2>
                <p class="notice">{tu_string!(i18n, second_factor.enrol_email_warning)}</p>
                <EmailCode sent=offer.email_sent remember=false />
            </section>
        })}
    }
}
