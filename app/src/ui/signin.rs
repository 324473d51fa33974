//! The sign-in page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{
    form::{field_error, last_error, Field, FormError},
    layout::{brand_paragraph, brand_text},
    passkeys::PasskeySignIn,
    passwordless::EmailSignInForm,
    proof_of_work::BrowserCheck,
    social::{PendingLinkNotice, SocialButtons, SocialErrorNotice},
};
use crate::api::{
    account::ResendVerification,
    error::AppError,
    signin::{sign_in_options, SignIn},
};

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let notice = move || {
        let q = query.read();
        if q.get("credentials_removed").is_some() {
            Some(
                "Your email address is confirmed. The account was registered from another \
                 browser, so to keep anyone else out, the password and passkeys set there were \
                 removed: sign in with a code by email, or choose a new password with \
                 \"Forgot your password?\".",
            )
        } else if q.get("email_restored").is_some() {
            Some(
                "Your email address is back, and every device was signed out. We mailed you a \
                 link to choose a new password: check your passkeys and authenticator app too \
                 once you are in.",
            )
        } else if q.get("reported").is_some() {
            Some(
                "Every device was signed out of your account. We mailed you a link to choose a \
                 new password; your old one no longer works.",
            )
        } else if q.get("deletion").as_deref() == Some("scheduled") {
            Some(
                "Your account will be deleted, and you were signed out everywhere. We mailed you \
                 the date; until then, signing in offers to keep your account.",
            )
        } else if q.get("deletion").as_deref() == Some("kept") {
            Some("You were not signed in, and your account will be deleted as you asked.")
        } else if q.get("declined").is_some() {
            Some(
                "You were not signed in. Accepting the required terms is needed to use your \
                 account; sign in again whenever you are ready.",
            )
        } else if q.get("verified").is_some() {
            Some("Your email address is confirmed. You can sign in now.")
        } else {
            None
        }
    };
    // An app's `login_hint` fills in the address.
    let email = RwSignal::new(query.read_untracked().get("login_hint").unwrap_or_default());
    let options = Resource::new(|| (), |_| sign_in_options());
    let action = ServerAction::<SignIn>::new();
    let error = last_error(action.value());
    let resend = ServerAction::<ResendVerification>::new();
    let resend_error = last_error(resend.value());
    let unverified = move || error.get() == Some(AppError::EmailNotVerified);
    let checking = RwSignal::new(false);
    view! {
        <Title text="Sign in" />
        <section class="card">
            <h1>{brand_text(|b| &b.signin_heading, "Sign in")}</h1>
            {brand_paragraph(|b| &b.signin_intro)}
            {move || notice().map(|n| view! { <p class="notice" role="status">{n}</p> })}
            <SocialErrorNotice />
            <PendingLinkNotice />
            <ActionForm action>
                <FormError error />
                <Field
                    label="Email"
                    name="email"
                    kind="email"
                    autocomplete="username webauthn"
                    value=email
                    error=field_error(error, "email")
                />
                <Field
                    label="Password"
                    name="password"
                    kind="password"
                    autocomplete="current-password"
                    error=field_error(error, "password")
                />
                <BrowserCheck purpose="sign-in" renew=action.version() working=checking />
                <button type="submit" disabled=move || action.pending().get() || checking.get()>
                    "Sign in"
                </button>
            </ActionForm>
            <Show when=unverified>
                <ActionForm action=resend attr:class="resend">
                    <button type="submit" class="button-secondary">
                        "Resend confirmation link"
                    </button>
                </ActionForm>
            </Show>
            <FormError error=resend_error />
            <PasskeySignIn />
            <EmailSignInForm />
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let options = options.await.unwrap_or_default();
                    view! {
                        {options.sms.then(|| view! {
                            <p class="alternative">
                                <a href="/signin/sms" class="button button-secondary">"Sign in with a text message"</a>
                            </p>
                        })}
                        <SocialButtons providers=options.social />
                    }
                })}
            </Suspense>
            <p class="aside">
                <a href="/forgot-password">"Forgot your password?"</a>
                " · "
                <a href="/register">"Create an account"</a>
            </p>
        </section>
    }
}
