//! The profile's "Language and time zone": the language pages and mail are written in and the
//! zone moments are shown in. A saved change reloads the page in the new language.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::form::{field_error, last_error, FormError};
use crate::{
    api::preferences::{my_preferences, UpdatePreferences, SAVED_PAGE},
    i18n::{tu_string, use_i18n},
};

#[component]
pub fn PreferencesSection() -> impl IntoView {
    let i18n = use_i18n();
    let save = ServerAction::<UpdatePreferences>::new();
    let error = last_error(save.value());
    let options = Resource::new(|| (), |_| my_preferences());
    let query = use_query_map();
    let saved = move || query.read().get("preferences_saved").is_some();
    // The whole page is read again, so that every text (and `<html lang>`) is in the new
    // language; without JavaScript the server's redirect does the same.
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(()))) {
            let _ = window().location().set_href(SAVED_PAGE);
        }
    });
    view! {
        <section class="subsection" aria-labelledby="preferences-heading">
            <h2 id="preferences-heading">{tu_string!(i18n, preferences.heading)}</h2>
            <Show when=saved>
                <p class="notice" role="status">{tu_string!(i18n, preferences.saved)}</p>
            </Show>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let Ok(options) = options.await else {
                        return ().into_any();
                    };
                    let locale = options.locale.clone();
                    let zone = options.time_zone.clone();
                    view! {
                        <ActionForm action=save>
                            <FormError error />
                            <div class="field">
                                <label for="locale">{tu_string!(i18n, preferences.language)}</label>
                                <select id="locale" name="locale">
                                    {options.languages.into_iter().map(|l| {
                                        let selected = l.tag == locale;
                                        view! { <option value=l.tag selected=selected>{l.name}</option> }
                                    }).collect_view()}
                                </select>
                                <p class="field-error" id="locale-error" role="alert">
                                    {move || field_error(error, "locale").get()}
                                </p>
                            </div>
                            <div class="field">
                                <label for="time_zone">{tu_string!(i18n, preferences.time_zone)}</label>
                                <select id="time_zone" name="time_zone">
                                    {options.time_zones.into_iter().map(|z| {
                                        let selected = z == zone;
                                        let value = z.clone();
                                        view! { <option value=value selected=selected>{z}</option> }
                                    }).collect_view()}
                                </select>
                                <p class="field-error" id="time_zone-error" role="alert">
                                    {move || field_error(error, "time_zone").get()}
                                </p>
                            </div>
                            <button type="submit">{tu_string!(i18n, preferences.save)}</button>
                        </ActionForm>
                    }
                    .into_any()
                })}
            </Suspense>
        </section>
    }
}
