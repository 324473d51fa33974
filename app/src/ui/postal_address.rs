//! The profile's "Postal address": the address apps the person allows may read, set part by
//! part (every part optional, the street address on several lines) and removed. Plain forms:
//! without JavaScript the browser posts and comes back to the profile, saying what was done.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::form::{field_error, last_error, FormError};
use crate::{
    api::{
        error::AppError,
        postal_address::{
            my_postal_address, ClearPostalAddress, PostalAddressView, UpdatePostalAddress,
        },
    },
    i18n::{tu_string, use_i18n},
};

#[component]
pub fn PostalAddressSection() -> impl IntoView {
    let i18n = use_i18n();
    let save = ServerAction::<UpdatePostalAddress>::new();
    let clear = ServerAction::<ClearPostalAddress>::new();
    // Read again after each change, so the form shows what is kept.
    let address = Resource::new(
        move || (save.version().get(), clear.version().get()),
        |_| my_postal_address(),
    );
    let query = use_query_map();
    let saved = move || query.read().get("address_saved").is_some();
    let removed = move || query.read().get("address_removed").is_some();
    view! {
        <section class="subsection" aria-labelledby="address-heading">
            <h2 id="address-heading">{tu_string!(i18n, postal_address.heading)}</h2>
            <p>{tu_string!(i18n, postal_address.intro)}</p>
            <Show when=saved>
                <p class="notice" role="status">{tu_string!(i18n, postal_address.saved)}</p>
            </Show>
            <Show when=removed>
                <p class="notice" role="status">{tu_string!(i18n, postal_address.removed)}</p>
            </Show>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let Ok(current) = address.await else {
                        return ().into_any();
                    };
                    view! { <AddressForms current save clear /> }.into_any()
                })}
            </Suspense>
        </section>
    }
}

/// The address form, filled with what is kept, and the button that removes it.
#[component]
fn AddressForms(
    current: PostalAddressView,
    save: ServerAction<UpdatePostalAddress>,
    clear: ServerAction<ClearPostalAddress>,
) -> impl IntoView {
    let i18n = use_i18n();
    let error = last_error(save.value());
    let clear_error = last_error(clear.value());
    let street_error = field_error(error, "street_address");
    let street_described = move || {
        if street_error.get().is_some() {
            "address-street_address-hint address-street_address-error"
        } else {
            "address-street_address-hint"
        }
    };
    view! {
        {(!current.given).then(|| view! { <p>{tu_string!(i18n, postal_address.none)}</p> })}
        <ActionForm action=save>
            <FormError error />
            <div class="field" class:field-invalid=move || street_error.get().is_some()>
                <label for="address-street_address">{tu_string!(i18n, postal_address.street_address)}</label>
                <p class="field-hint" id="address-street_address-hint">{tu_string!(i18n, postal_address.street_hint)}</p>
                <textarea
                    id="address-street_address"
                    name="street_address"
                    rows="3"
                    autocomplete="street-address"
                    aria-invalid=move || street_error.get().map(|_| "true")
                    aria-describedby=street_described
                >{current.street_address}</textarea>
                <p class="field-error" id="address-street_address-error" role="alert">
                    {move || street_error.get()}
                </p>
            </div>
            <AddressPart
                error
                name="locality"
                label=tu_string!(i18n, postal_address.locality)
                value=current.locality
                autocomplete="address-level2"
            />
            <AddressPart
                error
                name="region"
                label=tu_string!(i18n, postal_address.region)
                value=current.region
                autocomplete="address-level1"
            />
            <AddressPart
                error
                name="postal_code"
                label=tu_string!(i18n, postal_address.postal_code)
                value=current.postal_code
                autocomplete="postal-code"
            />
            <AddressPart
                error
                name="country"
                label=tu_string!(i18n, postal_address.country)
                value=current.country
                autocomplete="country"
                hint=tu_string!(i18n, postal_address.country_hint)
            />
            <button type="submit" disabled=move || save.pending().get()>
                {tu_string!(i18n, postal_address.save)}
            </button>
        </ActionForm>
        {current.given.then(|| view! {
            <ActionForm action=clear attr:class="inline-form">
                <FormError error=clear_error />
                <button type="submit" class="button-secondary" disabled=move || clear.pending().get()>
                    {tu_string!(i18n, postal_address.remove)}
                </button>
            </ActionForm>
        })}
    }
}

/// One optional, one-line part of the address, with its error beside it.
#[component]
fn AddressPart(
    error: Signal<Option<AppError>>,
    /// The form field's name (the server function's argument).
    name: &'static str,
    label: &'static str,
    value: String,
    autocomplete: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    let id = format!("address-{name}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let message = field_error(error, name);
    let described_by = {
        let error_id = error_id.clone();
        let hint_id = hint_id.clone();
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if message.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:field-invalid=move || message.get().is_some()>
            <label for=id.clone()>{label}</label>
            {hint.map(|h| view! { <p class="field-hint" id=hint_id.clone()>{h}</p> })}
            <input
                id=id
                name=name
                value=value
                autocomplete=autocomplete
                aria-invalid=move || message.get().map(|_| "true")
                aria-describedby=described_by
            />
            <p class="field-error" id=error_id role="alert">
                {move || message.get()}
            </p>
        </div>
    }
}
