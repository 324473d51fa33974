//! The person's postal address (OpenID Connect Core §5.1.1): parsed once at the edge, part by
//! part, with a refusal naming the part; kept, changed and removed from the profile (each
//! change audited as `profile.updated` naming the parts that changed, never the address
//! itself: it is personal data and the audit trail outlives it); and released to an app as the
//! `address` claim when its token holds the `address` scope (§5.4).
//!
//! It lives in a table of its own, `postal_addresses`, one row per person who gave one, keyed
//! by the account and going with it (`ON DELETE CASCADE`): most people never give an address,
//! so `users` stays as it is (and so does the per-node copy of people, which userinfo reads
//! for the other claims); this module answers for the table in the privacy inventory, which
//! exports the row and deletes it at erasure; and the claim is read from the table on each
//! request, never from a copy.

mod store;

use serde_json::{json, Map, Value};

use super::privacy::{Erasure, Export, Table};
pub use store::{clear, delete, read, update};

/// The scope (and claim) that gives an app the person's postal address (§5.4).
pub const SCOPE: &str = "address";
/// The most characters of a part; the street address may have more, the country fewer.
pub const MAX_PART: usize = 200;
/// The most characters of the street address (all its lines).
pub const MAX_STREET: usize = 500;
/// The most characters of a country's name.
pub const MAX_COUNTRY: usize = 100;

/// The officially assigned ISO 3166-1 alpha-2 codes.
const ISO_3166_ALPHA_2: &str = "
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
    GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
    KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
    MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
    TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
    ZW";

/// One part of an address; its name is both the form field's and the claim member's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    StreetAddress,
    Locality,
    Region,
    PostalCode,
    Country,
}

impl Part {
    /// Every part, in the order a form shows them.
    pub const ALL: [Part; 5] = [
        Part::StreetAddress,
        Part::Locality,
        Part::Region,
        Part::PostalCode,
        Part::Country,
    ];

    /// The part's name in the claim (§5.1.1), the form and the audit trail.
    pub fn name(self) -> &'static str {
        match self {
            Self::StreetAddress => "street_address",
            Self::Locality => "locality",
            Self::Region => "region",
            Self::PostalCode => "postal_code",
            Self::Country => "country",
        }
    }

    /// The most characters the part may have.
    pub fn max(self) -> usize {
        match self {
            Self::StreetAddress => MAX_STREET,
            Self::Country => MAX_COUNTRY,
            _ => MAX_PART,
        }
    }
}

/// A postal address whose parts were checked; `None` where the person gave nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct PostalAddress {
    /// One or more lines, separated by `\n`.
    pub street_address: Option<String>,
    pub locality: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// An ISO 3166-1 alpha-2 code (upper case) or the country's name as written.
    pub country: Option<String>,
}

impl PostalAddress {
    /// The value of `part`, if given.
    pub fn part(&self, part: Part) -> Option<&str> {
        match part {
            Part::StreetAddress => self.street_address.as_deref(),
            Part::Locality => self.locality.as_deref(),
            Part::Region => self.region.as_deref(),
            Part::PostalCode => self.postal_code.as_deref(),
            Part::Country => self.country.as_deref(),
        }
    }

    /// The full address as a mailing label reads (§5.1.1 `formatted`), one line each: the
    /// street address's lines, the postal code and locality, the region, the country; a part
    /// not given is left out.
    pub fn formatted(&self) -> String {
        let town = [self.postal_code.as_deref(), self.locality.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let mut lines: Vec<&str> = self
            .street_address
            .as_deref()
            .map(|s| s.lines().collect())
            .unwrap_or_default();
        lines.push(&town);
        lines.extend(self.region.as_deref());
        lines.extend(self.country.as_deref());
        lines.retain(|l| !l.is_empty());
        lines.join("\n")
    }

    /// The parts whose values differ between `self` and `other`.
    pub fn differences(&self, other: &PostalAddress) -> Vec<Part> {
        Part::ALL
            .into_iter()
            .filter(|p| self.part(*p) != other.part(*p))
            .collect()
    }
}

/// The address form as it arrived, every part as typed (empty when left blank).
#[derive(Debug, Clone, Copy, Default)]
pub struct AddressForm<'a> {
    pub street_address: &'a str,
    pub locality: &'a str,
    pub region: &'a str,
    pub postal_code: &'a str,
    pub country: &'a str,
}

/// Why an address was refused; nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AddressRefusal {
    #[error("Fill in at least one part of the address.")]
    Empty,
    #[error("Use at most {max} characters here.")]
    TooLong { part: Part, max: usize },
    #[error("Keep this on one line.")]
    LineBreak(Part),
    #[error("Remove the tab or other control character.")]
    ControlCharacter(Part),
    #[error("Enter a two-letter country code such as DE, or the country's name.")]
    UnknownCountry,
}

impl AddressRefusal {
    /// The form field the refusal is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Empty => Part::StreetAddress.name(),
            Self::TooLong { part, .. } | Self::LineBreak(part) | Self::ControlCharacter(part) => {
                part.name()
            }
            Self::UnknownCountry => Part::Country.name(),
        }
    }
}

/// Checks an address form part by part: each part trimmed, a blank part left out; the street
/// address may have several lines (each trimmed, blank ones dropped, `\r\n` read as `\n`), the
/// other parts one; no part holds another control character; at most [`Part::max`] characters
/// each; a two-letter country must be an ISO 3166-1 alpha-2 code (kept in upper case), a
/// longer one is the country's name. At least one part must be given.
pub fn parse(form: &AddressForm<'_>) -> Result<PostalAddress, AddressRefusal> {
    let street = street_lines(form.street_address);
    let address = PostalAddress {
        street_address: checked(Part::StreetAddress, &street)?,
        locality: checked(Part::Locality, form.locality)?,
        region: checked(Part::Region, form.region)?,
        postal_code: checked(Part::PostalCode, form.postal_code)?,
        country: checked(Part::Country, form.country)?
            .map(country)
            .transpose()?,
    };
    if address == PostalAddress::default() {
        return Err(AddressRefusal::Empty);
    }
    Ok(address)
}

/// The street address's lines, each trimmed, blank ones dropped, joined by `\n`.
fn street_lines(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .split('\n')
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// One part, trimmed; `None` when blank.
fn checked(part: Part, value: &str) -> Result<Option<String>, AddressRefusal> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if part != Part::StreetAddress && value.contains(['\n', '\r']) {
        return Err(AddressRefusal::LineBreak(part));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(AddressRefusal::ControlCharacter(part));
    }
    let max = part.max();
    if value.chars().count() > max {
        return Err(AddressRefusal::TooLong { part, max });
    }
    Ok(Some(value.to_owned()))
}

/// A country: an ISO 3166-1 alpha-2 code in upper case, or a name of two characters or more.
fn country(value: String) -> Result<String, AddressRefusal> {
    let count = value.chars().count();
    if count == 2 && value.chars().all(|c| c.is_ascii_alphabetic()) {
        let code = value.to_ascii_uppercase();
        return ISO_3166_ALPHA_2
            .split_ascii_whitespace()
            .any(|known| known == code)
            .then_some(code)
            .ok_or(AddressRefusal::UnknownCountry);
    }
    if count < 2 {
        return Err(AddressRefusal::UnknownCountry);
    }
    Ok(value)
}

/// The `address` claim (§5.1.1): `formatted` and every part given.
pub fn claim(address: &PostalAddress) -> Value {
    let mut claim = Map::new();
    claim.insert("formatted".into(), json!(address.formatted()));
    for part in Part::ALL {
        if let Some(value) = address.part(part) {
            claim.insert(part.name().into(), json!(value));
        }
    }
    Value::Object(claim)
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[Table {
    name: "postal_addresses",
    person: Some("user_id"),
    personal: &[
        "user_id",
        "street_address",
        "locality",
        "region",
        "postal_code",
        "country",
    ],
    other: &["updated_at"],
    export: Export::Rows,
    erasure: Erasure::Delete,
}];

#[cfg(test)]
mod tests {
    use super::*;

    fn form<'a>(street: &'a str, locality: &'a str, country: &'a str) -> AddressForm<'a> {
        AddressForm {
            street_address: street,
            locality,
            postal_code: "10115",
            country,
            ..Default::default()
        }
    }

    #[test]
    fn parts_are_trimmed_and_the_street_keeps_its_lines() {
        let address = parse(&form(
            " Hauptstraße 5 \r\n\r\n Hinterhaus \n",
            " Berlin ",
            "de",
        ))
        .unwrap();
        assert_eq!(
            address.street_address.as_deref(),
            Some("Hauptstraße 5\nHinterhaus")
        );
        assert_eq!(address.locality.as_deref(), Some("Berlin"));
        assert_eq!(address.region, None);
        assert_eq!(address.country.as_deref(), Some("DE"));
        assert_eq!(
            address.formatted(),
            "Hauptstraße 5\nHinterhaus\n10115 Berlin\nDE"
        );
        let claim = claim(&address);
        assert_eq!(claim["street_address"], "Hauptstraße 5\nHinterhaus");
        assert_eq!(claim["postal_code"], "10115");
        assert!(claim.get("region").is_none());
        let named = parse(&form("", "", "Deutschland")).unwrap();
        assert_eq!(named.country.as_deref(), Some("Deutschland"));
    }

    #[test]
    fn each_bad_part_is_named() {
        let refused = |f: AddressForm<'_>| parse(&f).unwrap_err();
        assert_eq!(refused(AddressForm::default()), AddressRefusal::Empty);
        assert_eq!(refused(AddressForm::default()).field(), "street_address");
        assert_eq!(
            refused(form("a\tb", "Berlin", "DE")).field(),
            "street_address"
        );
        assert_eq!(
            refused(form("", "Ber\nlin", "DE")),
            AddressRefusal::LineBreak(Part::Locality)
        );
        assert_eq!(
            refused(form("", "Ber\u{7}lin", "DE")),
            AddressRefusal::ControlCharacter(Part::Locality)
        );
        let long = "x".repeat(MAX_STREET + 1);
        assert_eq!(
            refused(form(&long, "", "")),
            AddressRefusal::TooLong {
                part: Part::StreetAddress,
                max: MAX_STREET
            }
        );
        assert!(parse(&form(&"ß".repeat(MAX_STREET), "", "")).is_ok());
        assert_eq!(refused(form("", "", "ZZ")), AddressRefusal::UnknownCountry);
        assert_eq!(refused(form("", "", "D")), AddressRefusal::UnknownCountry);
        let region = "r".repeat(MAX_PART + 1);
        let f = AddressForm {
            region: &region,
            ..form("", "Berlin", "")
        };
        assert_eq!(refused(f).field(), "region");
    }

    #[test]
    fn the_code_list_holds_every_assigned_code() {
        let codes: Vec<&str> = ISO_3166_ALPHA_2.split_ascii_whitespace().collect();
        assert_eq!(codes.len(), 249);
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
    }
}
