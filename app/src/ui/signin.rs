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
use crate::i18n::{tu_string, use_i18n};

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let i18n = use_i18n();
    let notice = move || {
        let q = query.read();
        if q.get("credentials_removed").is_some() {
            Some(tu_string!(i18n, signin.notice_credentials_removed))
        } else if q.get("email_restored").is_some() {
            Some(tu_string!(i18n, signin.notice_email_restored))
        } else if q.get("reported").is_some() {
            Some(tu_string!(i18n, signin.notice_reported))
        } else if q.get("deletion").as_deref() == Some("scheduled") {
            Some(tu_string!(i18n, signin.notice_deletion_scheduled))
        } else if q.get("deletion").as_deref() == Some("kept") {
            Some(tu_string!(i18n, signin.notice_deletion_kept))
        } else if q.get("declined").is_some() {
            Some(tu_string!(i18n, signin.notice_declined))
        } else if q.get("verified").is_some() {
            Some(tu_string!(i18n, signin.notice_verified))
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
        <Title text=tu_string!(i18n, signin.title) />
        <section class="card">
            <h1>{brand_text(|b| &b.signin_heading, tu_string!(i18n, signin.heading))}</h1>
            {brand_paragraph(|b| &b.signin_intro)}
            {move || notice().map(|n| view! { <p class="notice" role="status">{n}</p> })}
            <SocialErrorNotice />
            <PendingLinkNotice />
            <ActionForm action>
                <FormError error />
                <Field
                    label=tu_string!(i18n, signin.email_label)
                    name="email"
                    kind="email"
                    autocomplete="username webauthn"
                    value=email
                    error=field_error(error, "email")
                />
                <Field
                    label=tu_string!(i18n, signin.password_label)
                    name="password"
                    kind="password"
                    autocomplete="current-password"
                    error=field_error(error, "password")
                />
                <BrowserCheck purpose="sign-in" renew=action.version() working=checking />
                <button type="submit" disabled=move || action.pending().get() || checking.get()>
                    {tu_string!(i18n, signin.submit)}
                </button>
            </ActionForm>
            <Show when=unverified>
                <ActionForm action=resend attr:class="resend">
                    <button type="submit" class="button-secondary">
                        {tu_string!(i18n, signin.resend_confirmation)}
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
                                <a href="/signin/sms" class="button button-secondary">
                                    {tu_string!(i18n, signin.sms_link)}
                                </a>
                            </p>
                        })}
                        <SocialButtons providers=options.social />
                    }
                })}
            </Suspense>
            <p class="aside">
                <a href="/forgot-password">{tu_string!(i18n, signin.forgot_password)}</a>
                " · "
                <a href="/register">{tu_string!(i18n, signin.create_account)}</a>
            </p>
        </section>
    }
}
