//! The application: the Leptos UI, the server functions both sides share and, under `ssr`, the
//! domain services and persistence.
#![forbid(unsafe_code)]
#![recursion_limit = "256"]

pub mod api;
pub mod model;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod domain;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use ui::{
    account::{RegisterPage, RegisterSentPage, VerifyEmailPage},
    admin::OutboxPage,
    consents::ConsentsPage,
    console::{
        app_edit::AppEditPage, apps::AppsPage, audit::AuditPage, branding::BrandingPage,
        breach::BreachPage, customer::CustomerPage, customers::CustomersPage,
        dashboard::DashboardPage, import::ImportPage, settings::SettingsPage, social::SocialPage,
        staff::StaffPage, ConsoleHomePage,
    },
    delete_account::{DeleteAccountPage, DeletionStepPage},
    email_change::{ConfirmEmailChangePage, UndoEmailChangePage},
    home::HomePage,
    layout::Layout,
    my_data::MyDataPage,
    not_found::NotFoundPage,
    oauth::{AuthorizeErrorPage, ConfirmSignOutPage, ConsentPage, ContinueToAppPage},
    passwordless::{EmailCodePage, EmailLinkPage},
    profile::ProfilePage,
    recovery::{ForgotPasswordPage, ForgotSentPage, ResetPasswordPage},
    second_factor::SecondFactorPage,
    security::{AuthenticatorPage, RecoveryCodesPage},
    signin::SignInPage,
    signin_consent::ConsentStepPage,
    sms::{PhoneConfirmPage, SmsCodePage, SmsSignInPage},
    timeline::TimelinePage,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <script type="module" src="/passkey.js"></script>
                <script type="module" src="/brand-preview.js"></script>
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: layout and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="main" href="/pkg/ciam.css" />
        <Title text="Keyhaven" />
        <Router>
            <Layout>
                <Routes fallback=NotFoundPage>
                    <Route path=path!("") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("register") view=RegisterPage ssr=SsrMode::Async />
                    <Route path=path!("register/sent") view=RegisterSentPage ssr=SsrMode::Async />
                    <Route path=path!("verify-email") view=VerifyEmailPage ssr=SsrMode::Async />
                    <Route path=path!("confirm-email-change") view=ConfirmEmailChangePage ssr=SsrMode::Async />
                    <Route path=path!("undo-email-change") view=UndoEmailChangePage ssr=SsrMode::Async />
                    <Route path=path!("signin") view=SignInPage ssr=SsrMode::Async />
                    <Route path=path!("signin/code") view=EmailCodePage ssr=SsrMode::Async />
                    <Route path=path!("signin/email") view=EmailLinkPage ssr=SsrMode::Async />
                    <Route path=path!("signin/sms") view=SmsSignInPage ssr=SsrMode::Async />
                    <Route path=path!("signin/second-factor") view=SecondFactorPage ssr=SsrMode::Async />
                    <Route path=path!("signin/consent") view=ConsentStepPage ssr=SsrMode::Async />
                    <Route path=path!("signin/deletion") view=DeletionStepPage ssr=SsrMode::Async />
                    <Route path=path!("signin/sms/code") view=SmsCodePage ssr=SsrMode::Async />
                    <Route path=path!("forgot-password") view=ForgotPasswordPage ssr=SsrMode::Async />
                    <Route path=path!("forgot-password/sent") view=ForgotSentPage ssr=SsrMode::Async />
                    <Route path=path!("reset-password") view=ResetPasswordPage ssr=SsrMode::Async />
                    <Route path=path!("profile") view=ProfilePage ssr=SsrMode::Async />
                    <Route path=path!("profile/phone") view=PhoneConfirmPage ssr=SsrMode::Async />
                    <Route path=path!("profile/authenticator") view=AuthenticatorPage ssr=SsrMode::Async />
                    <Route path=path!("profile/recovery-codes") view=RecoveryCodesPage ssr=SsrMode::Async />
                    <Route path=path!("profile/activity") view=TimelinePage ssr=SsrMode::Async />
                    <Route path=path!("profile/consents") view=ConsentsPage ssr=SsrMode::Async />
                    <Route path=path!("profile/data") view=MyDataPage ssr=SsrMode::Async />
                    <Route path=path!("profile/delete") view=DeleteAccountPage ssr=SsrMode::Async />
                    <Route path=path!("admin") view=ConsoleHomePage ssr=SsrMode::Async />
                    <Route path=path!("admin/customers") view=CustomersPage ssr=SsrMode::Async />
                    <Route path=path!("admin/customers/:id") view=CustomerPage ssr=SsrMode::Async />
                    <Route path=path!("admin/staff") view=StaffPage ssr=SsrMode::Async />
                    <Route path=path!("admin/audit") view=AuditPage ssr=SsrMode::Async />
                    <Route path=path!("admin/apps") view=AppsPage ssr=SsrMode::Async />
                    <Route path=path!("admin/settings") view=SettingsPage ssr=SsrMode::Async />
                    <Route path=path!("admin/branding") view=BrandingPage ssr=SsrMode::Async />
                    <Route path=path!("admin/social") view=SocialPage ssr=SsrMode::Async />
                    <Route path=path!("admin/apps/edit") view=AppEditPage ssr=SsrMode::Async />
                    <Route path=path!("admin/breach") view=BreachPage ssr=SsrMode::Async />
                    <Route path=path!("admin/import") view=ImportPage ssr=SsrMode::Async />
                    <Route path=path!("admin/dashboard") view=DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("admin/outbox") view=OutboxPage ssr=SsrMode::Async />
                    <Route path=path!("oauth2/consent") view=ConsentPage ssr=SsrMode::Async />
                    <Route path=path!("oauth2/continue") view=ContinueToAppPage ssr=SsrMode::Async />
                    <Route path=path!("oauth2/error") view=AuthorizeErrorPage ssr=SsrMode::Async />
                    <Route path=path!("oauth2/signout") view=ConfirmSignOutPage ssr=SsrMode::Async />
                </Routes>
            </Layout>
        </Router>
    }
}

/// Browser entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
