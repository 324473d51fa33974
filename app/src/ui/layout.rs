//! The branded frame around every page: header with logo and navigation, main, footer.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::i18n::{tu_string, use_i18n};

use crate::api::{
    branding::{get_branding, Branding},
    error::AppError,
    profile::me,
    signin::SignOut,
};

/// Who is signed in, refreshed on every navigation; pages read it from context.
#[derive(Clone, Copy)]
pub struct CurrentUser(
    pub Resource<Result<Option<crate::api::profile::AccountSummary>, crate::api::error::AppError>>,
);

/// The brand this page wears (a partner app's during its sign-in flow, else the default);
/// pages read their texts from it.
#[derive(Clone, Copy)]
pub struct CurrentBrand(pub Resource<Result<Branding, AppError>>);

/// The brand's text picked by `pick`, or `fallback` when the brand leaves it empty.
pub fn brand_text(pick: fn(&Branding) -> &str, fallback: &'static str) -> impl IntoView {
    let brand = use_context::<CurrentBrand>();
    view! {
        <Suspense fallback=move || fallback>
            {move || Suspend::new(async move {
                let brand = match brand {
                    Some(CurrentBrand(brand)) => brand.await.ok(),
                    None => None,
                };
                brand
                    .map(|b| Branding::or(pick(&b), fallback).to_owned())
                    .unwrap_or_else(|| fallback.to_owned())
            })}
        </Suspense>
    }
}

/// The brand's paragraph picked by `pick`, when it has one.
pub fn brand_paragraph(pick: fn(&Branding) -> &str) -> impl IntoView {
    let brand = use_context::<CurrentBrand>();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let brand = match brand {
                    Some(CurrentBrand(brand)) => brand.await.ok(),
                    None => None,
                };
                brand
                    .map(|b| pick(&b).trim().to_owned())
                    .filter(|text| !text.is_empty())
                    .map(|text| view! { <p class="brand-intro">{text}</p> })
            })}
        </Suspense>
    }
}

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let location = use_location();
    let sign_out = ServerAction::<SignOut>::new();
    let user = Resource::new(
        move || (location.pathname.get(), sign_out.version().get()),
        |_| me(),
    );
    provide_context(CurrentUser(user));
    provide_context(sign_out);
    // A sign-out whose apps have front-channel logout pages answers with the page that loads
    // them: a full load, which allows their origins as frame sources (without JavaScript the
    // server's redirect does the same).
    Effect::new(move |_| {
        if let Some(Ok(Some(page))) = sign_out.value().get() {
            if page.starts_with('/') && !page.starts_with("//") {
                let _ = window().location().set_href(&page);
            }
        }
    });
    let branding = Resource::new(|| (), |_| get_branding());
    provide_context(CurrentBrand(branding));
    let i18n = use_i18n();

    view! {
        <a class="skip-link" href="#main">{tu_string!(i18n, common.skip_to_content)}</a>
        <header class="site-header">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let brand = branding.await.unwrap_or_default();
                    view! {
                        {(!brand.css_path.is_empty()).then(|| view! {
                            <link rel="stylesheet" href=brand.css_path.clone() />
                        })}
                        <a class="brand" href="/">
                            <img src=brand.logo_path alt="" width="32" height="32" />
                            <span>{brand.product_name}</span>
                        </a>
                    }
                })}
            </Suspense>
            <nav aria-label=tu_string!(i18n, common.account_nav)>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(Some(me)) => {
                                view! {
                                    <a href="/profile">{me.display_name}</a>
                                    <ActionForm action=sign_out attr:class="inline-form">
                                        <button type="submit" class="link-button">
                                            {tu_string!(i18n, common.sign_out)}
                                        </button>
                                    </ActionForm>
                                }
                                    .into_any()
                            }
                            _ => {
                                view! {
                                    <a href="/signin">{tu_string!(i18n, common.sign_in)}</a>
                                    <a href="/register" class="button button-small">
                                        {tu_string!(i18n, common.create_account)}
                                    </a>
                                }
                                    .into_any()
                            }
                        }
                    })}
                </Suspense>
            </nav>
        </header>
        <main id="main" class="site-main">
            {children()}
        </main>
        <footer class="site-footer">
            <p>{brand_text(|b| &b.footer_text, tu_string!(i18n, common.footer))}</p>
        </footer>
    }
}
