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
    ui::form::{last_error, FormError},
};

/// What the logo upload's answer (in the query) means.
fn logo_outcome(code: &str) -> Option<(&'static str, bool)> {
    Some(match code {
        "saved" => ("The logo is saved.", true),
        "confirm" => ("Tick the box to confirm the upload.", false),
        "empty" => ("Choose an image file to upload.", false),
        "too_large" => ("The logo may be at most 256 KiB.", false),
        "not_an_image" => (
            "The logo must be a PNG, JPEG, GIF or WebP image (SVG is not accepted).",
            false,
        ),
        "no_such_app" => ("There is no such app.", false),
        _ => return None,
    })
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
    let logo = move || query.read().get("logo").and_then(|c| logo_outcome(&c));
    view! {
        <Title text="Branding" />
        <section class="card card-wide console">
            <ConsoleFrame data=brand page={move |view: ConsoleView, b: BrandPage| {
                let write = view.permissions.iter().any(|p| p == "settings.write");
                view! {
                    <h1>"Branding"</h1>
                    <BrandChooser b=b.clone() />
                    <h2 id="brand-title">{b.title.clone()}</h2>
                    {(!b.own).then(|| view! {
                        <p class="aside">"This app wears the default brand. Saving gives it a brand of its own."</p>
                    })}
                    {move || save.value().get().and_then(Result::ok).map(|n| view! {
                        <p class="notice" role="status">{format!("{n} change(s) saved.")}</p>
                    })}
                    {move || logo().map(|(text, ok)| view! {
                        <p class=if ok { "notice" } else { "form-error" } role="status">{text}</p>
                    })}
                    <div class="brand-editor">
                        <BrandForm b=b.clone() write save error=save_error />
                        <div class="brand-preview-pane">
                            <h3>"Preview"</h3>
                            <iframe id="brand-preview" name="brand-preview" title="Preview of the sign-in page" src=preview_src(&b.app, &b.settings)></iframe>
                        </div>
                    </div>
                    {write.then(|| view! { <LogoForm b=b.clone() /> })}
                    {(write && !b.app.is_empty() && b.own).then(|| view! {
                        <h3>"Use the default brand"</h3>
                        <ActionForm action=reset attr:id="brand-reset">
                            <FormError error=reset_error />
                            <input type="hidden" name="app" value=b.app.clone() />
                            <div class="field field-check">
                                <input type="checkbox" id="reset-confirm" name="confirm" value="yes" required />
                                <label for="reset-confirm">"I confirm"</label>
                            </div>
                            <button type="submit" class="button-secondary">"Drop this app's brand"</button>
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
    view! {
        <form method="get" action="/admin/branding" class="inline-form" id="brand-choose">
            <label for="brand-app">"Brand of "</label>
            <select id="brand-app" name="app">
                <option value="" selected=b.app.is_empty()>"Every page (the default)"</option>
                {b.apps.into_iter().map(|a| {
                    let label = if a.own { format!("{} (own brand)", a.name) } else { a.name.clone() };
                    let selected = a.client_id == b.app;
                    view! { <option value=a.client_id selected=selected>{label}</option> }
                }).collect_view()}
            </select>
            " "
            <button type="submit" class="button-small">"Open"</button>
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
                <legend>"Look"</legend>
                {text("product_name", "Product name", s.product_name, "60")}
                {color("primary_color", "Primary colour", s.primary_color)}
                {color("accent_color", "Accent colour", s.accent_color)}
                {color("background_color", "Background colour", s.background_color)}
                {color("text_color", "Text colour", s.text_color)}
                <div class="field">
                    <label for="brand-font">"Font"</label>
                    <select id="brand-font" name="brand[font]">
                        {FONTS.into_iter().map(|(value, label)| view! {
                            <option value=value selected=font == value>{label}</option>
                        }).collect_view()}
                    </select>
                    {field_error("font")}
                </div>
                {area("css_vars", "Custom CSS variables (one --name: value per line, e.g. --radius: 4px)", s.css_vars)}
            </fieldset>
            <fieldset>
                <legend>"Page texts (empty: the built-in wording)"</legend>
                {text("signin_heading", "Sign-in heading", s.signin_heading, "120")}
                {area("signin_intro", "Sign-in introduction", s.signin_intro)}
                {text("register_heading", "Registration heading", s.register_heading, "120")}
                {area("register_intro", "Registration introduction", s.register_intro)}
                {area("consent_intro", "Consent introduction", s.consent_intro)}
                {area("footer_text", "Footer", s.footer_text)}
            </fieldset>
            <fieldset>
                <legend>"Mail"</legend>
                {text("mail_sender_name", "Sender name", s.mail_sender_name, "60")}
                {area("mail_footer", "Closing under every message", s.mail_footer)}
            </fieldset>
            {write.then(|| view! {
                <div class="field field-check">
                    <input type="checkbox" id="brand-confirm" name="confirm" value="yes" required />
                    <label for="brand-confirm">"I confirm"</label>
                    {field_error("confirm")}
                </div>
                <button type="submit">"Save"</button>
            })}
        </ActionForm>
    }
}

/// The logo upload: a multipart form to the server's upload route.
#[component]
fn LogoForm(b: BrandPage) -> impl IntoView {
    view! {
        <h3>"Logo"</h3>
        <p><img src=b.logo_path alt="The current logo" width="48" height="48" id="brand-logo" /></p>
        <form method="post" action="/admin/branding/logo" enctype="multipart/form-data" id="brand-logo-form">
            <input type="hidden" name="app" value=b.app />
            <div class="field">
                <label for="brand-logo-file">"PNG, JPEG, GIF or WebP, at most 256 KiB"</label>
                <input id="brand-logo-file" type="file" name="logo" accept="image/png,image/jpeg,image/gif,image/webp" required />
            </div>
            <div class="field field-check">
                <input type="checkbox" id="logo-confirm" name="confirm" value="yes" required />
                <label for="logo-confirm">"I confirm"</label>
            </div>
            <button type="submit">"Upload"</button>
        </form>
    }
}
