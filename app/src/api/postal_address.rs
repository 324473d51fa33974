//! The signed-in person's postal address: read, set and removed from the profile.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// The address as the form shows it: every part, empty where none was given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddressView {
    /// Whether the person gave an address at all.
    pub given: bool,
    /// One or more lines, separated by `\n`.
    pub street_address: String,
    pub locality: String,
    pub region: String,
    pub postal_code: String,
    pub country: String,
}

/// Where a saved address goes: the profile, saying so.
pub const SAVED_PAGE: &str = "/profile?address_saved=1";
/// Where a removed address goes: the profile, saying so.
pub const REMOVED_PAGE: &str = "/profile?address_removed=1";

/// The signed-in person's postal address.
#[server(prefix = "/api", endpoint = "postal-address")]
pub async fn my_postal_address() -> Result<PostalAddressView, AppError> {
    use super::context;
    use crate::domain::{error::AccountError, postal_address};

    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    let address = postal_address::read(&state.db, user_id)
        .await
        .map_err(AccountError::from)?;
    Ok(address
        .map(|a| PostalAddressView {
            given: true,
            street_address: a.street_address.unwrap_or_default(),
            locality: a.locality.unwrap_or_default(),
            region: a.region.unwrap_or_default(),
            postal_code: a.postal_code.unwrap_or_default(),
            country: a.country.unwrap_or_default(),
        })
        .unwrap_or_default())
}

/// Sets the signed-in person's postal address; a part refused is answered as that field's
/// error (422) and nothing changes.
#[server(prefix = "/api", endpoint = "update-postal-address")]
pub async fn update_postal_address(
    street_address: String,
    locality: String,
    region: String,
    postal_code: String,
    country: String,
) -> Result<(), AppError> {
    use super::context;
    use crate::domain::postal_address::{self, AddressForm};

    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    let form = AddressForm {
        street_address: &street_address,
        locality: &locality,
        region: &region,
        postal_code: &postal_code,
        country: &country,
    };
    let address = postal_address::parse(&form).map_err(|e| {
        let locale = context::client().reading.language();
        AppError::field(e.field(), refusal_words(&e, locale))
    })?;
    postal_address::update(&state, &context::client(), user_id, &address).await?;
    leptos_axum::redirect(SAVED_PAGE);
    Ok(())
}

/// Removes the signed-in person's postal address.
#[server(prefix = "/api", endpoint = "clear-postal-address")]
pub async fn clear_postal_address() -> Result<(), AppError> {
    use super::context;
    use crate::domain::postal_address;

    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    postal_address::clear(&state, &context::client(), user_id).await?;
    leptos_axum::redirect(REMOVED_PAGE);
    Ok(())
}

/// A refusal in the words of `locale`.
#[cfg(feature = "ssr")]
fn refusal_words(
    refusal: &crate::domain::postal_address::AddressRefusal,
    locale: crate::i18n::Locale,
) -> String {
    use crate::{domain::postal_address::AddressRefusal, i18n::td_string};
    match refusal {
        AddressRefusal::Empty => td_string!(locale, postal_address.error_empty).to_owned(),
        AddressRefusal::TooLong { max, .. } => {
            td_string!(locale, postal_address.error_too_long, max = *max)
        }
        AddressRefusal::LineBreak(_) => {
            td_string!(locale, postal_address.error_line_break).to_owned()
        }
        AddressRefusal::ControlCharacter(_) => {
            td_string!(locale, postal_address.error_control).to_owned()
        }
        AddressRefusal::UnknownCountry => {
            td_string!(locale, postal_address.error_country).to_owned()
        }
    }
}
