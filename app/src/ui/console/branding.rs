//! The brand page: the default brand or one app's, its fields in one form with a live preview
//! in a frame beside it, the logo upload (a plain multipart form, so it works without
//! JavaScript), and for an app with its own brand, going back to the default.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::ConsoleFrame;
use crate::{
    api::{
        console::{
            branding::{brand_view, BrandPage, BrandSettings, ResetBrand, SaveBrand, FONTS},
            staff::ConsoleView,
        },
        error::AppError,
    },
    i18n::{tu_string, use_i18n},
    ui::form::{last_error, FormError},
    I18n,
};

/// What the logo upload's answer (in the query) means.
fn logo_outcome(i18n: I18n, code: &str) -> Option<(&'static str, bool)> {
    Some(match code {
        "saved" => (tu_string!(i18n, console_branding.logo_saved), true),
        "confirm" => (tu_string!(i18n, console_branding.logo_confirm), false),
        "empty" => (tu_string!(i18n, console_branding.logo_empty), false),
        "too_large" => (tu_string!(i18n, console_branding.logo_too_large), false),
        "not_an_image" => (tu_string!(i18n, console_branding.logo_not_an_image), false),
        "no_such_app" => (tu_string!(i18n, console_branding.logo_no_such_app), false),
        _ => return None,
    })
}

/// A font's name on the page, by its value; `label` for a font this page does not know.
fn font_label(i18n: I18n, value: &str, label: &'static str) -> &'static str {
    match value {
        "system" => tu_string!(i18n, console_branding.font_system),
        "humanist" => tu_string!(i18n, console_branding.font_humanist),
        "serif" => tu_string!(i18n, console_branding.font_serif),
        "rounded" => tu_string!(i18n, console_branding.font_rounded),
        "mono" => tu_string!(i18n, console_branding.font_mono),
        _ => label,
    }
}

/// The preview frame's address for the saved `settings` of `app`.
fn preview_src(app: &str, s: &BrandSettings) -> String {
    let pairs = [
        ("app", app),
        ("product_name", &s.product_name),
        ("primary_color", &s.primary_color),
        ("accent_color", &s.accent_color),
        ("background_color", &s.background_color),
        ("text_color", &s.text_color),
        ("font", &s.font),
        ("css_vars", &s.css_vars),
        ("signin_heading", &s.signin_heading),
        ("signin_intro", &s.signin_intro),
        ("footer_text", &s.footer_text),
        ("mail_sender_name", &s.mail_sender_name),
    ];
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    format!("/admin/branding/preview?{}", query.join("&"))
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
pub fn BrandingPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let save = ServerAction::<SaveBrand>::new();
    let reset = ServerAction::<ResetBrand>::new();
    let app = move || query.read().get("app").unwrap_or_default();
    let brand = Resource::new(
        move || (app(), save.version().get(), reset.version().get()),
        |(app, _, _)| brand_view(app),
    );
    let save_error = last_error(save.value());
    let reset_error = last_error(reset.value());
    let logo = move || {
        query
            .read()
            .get("logo")
            .and_then(|c| logo_outcome(i18n, &c))
    };
    view! {
        <Title text=tu_string!(i18n, console_branding.title) />
        <section class="card card-wide console">
            <ConsoleFrame data=brand page={move |view: ConsoleView, b: BrandPage| {
                let write = view.permissions.iter().any(|p| p == "settings.write");
                view! {
                    <h1>{tu_string!(i18n, console_branding.heading)}</h1>
                    <BrandChooser b=b.clone() />
                    <h2 id="brand-title">{b.title.clone()}</h2>
                    {(!b.own).then(|| view! {
                        <p class="aside">{tu_string!(i18n, console_branding.default_brand_note)}</p>
                    })}
                    {move || save.value().get().and_then(Result::ok).map(|n| view! {
                        <p class="notice" role="status">{tu_string!(i18n, console.changes_saved, changes = n)}</p>
                    })}
                    {move || logo().map(|(text, ok)| view! {
                        <p class=if ok { "notice" } else { "form-error" } role="status">{text}</p>
                    })}
                    <div class="brand-editor">
                        <BrandForm b=b.clone() write save error=save_error />
                        <div class="brand-preview-pane">
                            <h3>{tu_string!(i18n, console_branding.preview_heading)}</h3>
                            <iframe id="brand-preview" name="brand-preview" title=tu_string!(i18n, console_branding.preview_frame_title) src=preview_src(&b.app, &b.settings)></iframe>
                        </div>
                    </div>
                    {write.then(|| view! { <LogoForm b=b.clone() /> })}
                    {(write && !b.app.is_empty() && b.own).then(|| view! {
                        <h3>{tu_string!(i18n, console_branding.reset_heading)}</h3>
                        <ActionForm action=reset attr:id="brand-reset">
                            <FormError error=reset_error />
                            <input type="hidden" name="app" value=b.app.clone() />
                            <div class="field field-check">
                                <input type="checkbox" id="reset-confirm" name="confirm" value="yes" required />
                                <label for="reset-confirm">{tu_string!(i18n, console.i_confirm)}</label>
                            </div>
                            <button type="submit" class="button-secondary">{tu_string!(i18n, console_branding.reset_submit)}</button>
                        </ActionForm>
                    })}
                }
            }} />
        </section>
    }
}

/// Which brand to edit: the default or an app's (a plain GET form).
#[component]
fn BrandChooser(b: BrandPage) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <form method="get" action="/admin/branding" class="inline-form" id="brand-choose">
            <label for="brand-app">{tu_string!(i18n, console_branding.chooser_label)}</label>
            <select id="brand-app" name="app">
                <option value="" selected=b.app.is_empty()>{tu_string!(i18n, console_branding.chooser_default)}</option>
                {b.apps.into_iter().map(|a| {
                    let label = if a.own {
                        tu_string!(i18n, console_branding.own_brand, name = &a.name)
                    } else {
                        a.name.clone()
                    };
                    let selected = a.client_id == b.app;
                    view! { <option value=a.client_id selected=selected>{label}</option> }
                }).collect_view()}
            </select>
            " "
            <button type="submit" class="button-small">{tu_string!(i18n, console_branding.open)}</button>
        </form>
    }
}

#[component]
fn BrandForm(
    b: BrandPage,
    write: bool,
    save: ServerAction<SaveBrand>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let s = b.settings;
    let field_error = move |name: &'static str| {
        view! { <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field(name))}</p> }
    };
    let text = move |name: &'static str, label: &'static str, value: String, max: &'static str| {
        let id = format!("brand-{name}");
        view! {
            <div class="field">
                <label for=id.clone()>{label}</label>
                <input id=id name=format!("brand[{name}]") value=value maxlength=max />
                {field_error(name)}
            </div>
        }
    };
    let area = move |name: &'static str, label: &'static str, value: String| {
        let id = format!("brand-{name}");
        view! {
            <div class="field">
                <label for=id.clone()>{label}</label>
                <textarea id=id name=format!("brand[{name}]") rows="3">{value}</textarea>
                {field_error(name)}
            </div>
        }
    };
    let color = move |name: &'static str, label: &'static str, value: String| {
        let id = format!("brand-{name}");
        view! {
            <div class="field field-color">
                <label for=id.clone()>{label}</label>
                <input id=id type="color" name=format!("brand[{name}]") value=value />
                {field_error(name)}
            </div>
        }
    };
    let font = s.font.clone();
    view! {
        <ActionForm action=save attr:id="brand-form" attr:class="brand-form">
            <FormError error />
            <input type="hidden" name="app" value=b.app />
            <fieldset>
                <legend>{tu_string!(i18n, console_branding.look_legend)}</legend>
                {text("product_name", tu_string!(i18n, console_branding.product_name_label), s.product_name, "60")}
                {color("primary_color", tu_string!(i18n, console_branding.primary_color_label), s.primary_color)}
                {color("accent_color", tu_string!(i18n, console_branding.accent_color_label), s.accent_color)}
                {color("background_color", tu_string!(i18n, console_branding.background_color_label), s.background_color)}
                {color("text_color", tu_string!(i18n, console_branding.text_color_label), s.text_color)}
                <div class="field">
                    <label for="brand-font">{tu_string!(i18n, console_branding.font_label)}</label>
                    <select id="brand-font" name="brand[font]">
                        {FONTS.into_iter().map(|(value, label)| view! {
                            <option value=value selected=font == value>{font_label(i18n, value, label)}</option>
                        }).collect_view()}
                    </select>
                    {field_error("font")}
                </div>
                {area("css_vars", tu_string!(i18n, console_branding.css_vars_label), s.css_vars)}
            </fieldset>
            <fieldset>
                <legend>{tu_string!(i18n, console_branding.texts_legend)}</legend>
                {text("signin_heading", tu_string!(i18n, console_branding.signin_heading_label), s.signin_heading, "120")}
                {area("signin_intro", tu_string!(i18n, console_branding.signin_intro_label), s.signin_intro)}
                {text("register_heading", tu_string!(i18n, console_branding.register_heading_label), s.register_heading, "120")}
                {area("register_intro", tu_string!(i18n, console_branding.register_intro_label), s.register_intro)}
                {area("consent_intro", tu_string!(i18n, console_branding.consent_intro_label), s.consent_intro)}
                {area("footer_text", tu_string!(i18n, console_branding.footer_text_label), s.footer_text)}
            </fieldset>
            <fieldset>
                <legend>{tu_string!(i18n, console_branding.mail_legend)}</legend>
                {text("mail_sender_name", tu_string!(i18n, console_branding.mail_sender_name_label), s.mail_sender_name, "60")}
                {area("mail_footer", tu_string!(i18n, console_branding.mail_footer_label), s.mail_footer)}
            </fieldset>
            {write.then(|| view! {
                <div class="field field-check">
                    <input type="checkbox" id="brand-confirm" name="confirm" value="yes" required />
                    <label for="brand-confirm">{tu_string!(i18n, console.i_confirm)}</label>
                    {field_error("confirm")}
                </div>
                <button type="submit">{tu_string!(i18n, console.save)}</button>
            })}
        </ActionForm>
    }
}

/// The logo upload: a multipart form to the server's upload route.
#[component]
fn LogoForm(b: BrandPage) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <h3>{tu_string!(i18n, console_branding.logo_heading)}</h3>
        <p><img src=b.logo_path alt=tu_string!(i18n, console_branding.logo_alt) width="48" height="48" id="brand-logo" /></p>
        <form method="post" action="/admin/branding/logo" enctype="multipart/form-data" id="brand-logo-form">
            <input type="hidden" name="app" value=b.app />
            <div class="field">
                <label for="brand-logo-file">{tu_string!(i18n, console_branding.logo_file_label)}</label>
                <input id="brand-logo-file" type="file" name="logo" accept="image/png,image/jpeg,image/gif,image/webp" required />
            </div>
            <div class="field field-check">
                <input type="checkbox" id="logo-confirm" name="confirm" value="yes" required />
                <label for="logo-confirm">{tu_string!(i18n, console.i_confirm)}</label>
            </div>
            <button type="submit">{tu_string!(i18n, console_branding.upload)}</button>
        </form>
    }
}
