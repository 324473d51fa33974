//! `server client show` and `server client update`: an app's settings, printed without any
//! secret, and changed through the console's edit (`client_edit::patch`): checked as a
//! registration is, one `client.updated` audit row with `cli` as the actor and each changed
//! field's before and after. Running servers learn of a change from the table's change notice;
//! tokens issued afterwards carry the new lifetimes and ID token algorithm.

use std::ops::RangeInclusive;

use anyhow::anyhow;
use app::{
    domain::{
        audit::Actor,
        client::ClientInfo,
        error::AccountError,
        oidc::{
            client_admin::{self, Details},
            client_edit::{self, ClientPatch, EditError, ACCESS_TTL, REFRESH_TTL},
            clients::SubjectType,
            key_pairs::Alg,
            registration::ClientConfigError,
        },
    },
    state::AppState,
};
use clap::builder::BoolishValueParser;
use serde_json::{json, Value};

/// What `client update` changes; a flag left out keeps the app's setting.
#[derive(clap::Args)]
pub struct UpdateArgs {
    /// The app's client id (apps registered earlier may have one starting with `-`).
    #[arg(allow_hyphen_values = true)]
    client_id: String,
    /// How long the app's access tokens live, in seconds (60 to 86400).
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    access_token_ttl: Option<i64>,
    /// How long each of the app's refresh tokens lives, in seconds (300 to 31536000); a
    /// refresh family still ends after CIAM_REFRESH_TOKEN_MAX_DAYS, however often it rotates.
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    refresh_token_ttl: Option<i64>,
    /// The algorithm the app's ID tokens are signed with: RS256, ES256 or EdDSA.
    #[arg(long, value_name = "ALG")]
    id_token_alg: Option<String>,
    #[arg(long)]
    name: Option<String>,
    /// Replaces the redirect URIs (repeat for several); matched exactly.
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Replaces the post-logout redirect URIs (repeat for several; "" for none).
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// Where logout tokens are posted (back-channel logout); "" removes it.
    #[arg(long)]
    backchannel_logout_uri: Option<String>,
    /// The page the end-session page loads in a hidden frame (front-channel logout); ""
    /// removes it.
    #[arg(long)]
    frontchannel_logout_uri: Option<String>,
    /// Skip the consent screen (the business's own app): on or off.
    #[arg(long, value_name = "on|off", value_parser = BoolishValueParser::new())]
    first_party: Option<bool>,
    /// Accept only pushed authorization requests (RFC 9126): on or off.
    #[arg(long, value_name = "on|off", value_parser = BoolishValueParser::new())]
    require_par: Option<bool>,
    /// Every token request must carry a DPoP proof (RFC 9449): on or off.
    #[arg(long, value_name = "on|off", value_parser = BoolishValueParser::new())]
    require_dpop: Option<bool>,
    /// Every sign-in into the app must be multi-factor: on or off.
    #[arg(long, value_name = "on|off", value_parser = BoolishValueParser::new())]
    require_mfa: Option<bool>,
    /// Whether the app gets refresh tokens (the refresh_token grant): on or off.
    #[arg(long, value_name = "on|off", value_parser = BoolishValueParser::new())]
    refresh_tokens: Option<bool>,
}

/// `value` seconds, if given, within `range`; refused as `refused` under `flag` otherwise.
fn seconds(
    value: Option<i64>,
    range: &RangeInclusive<i32>,
    flag: &str,
    refused: EditError,
) -> anyhow::Result<Option<i32>> {
    match value.map(i32::try_from) {
        None => Ok(None),
        Some(Ok(secs)) if range.contains(&secs) => Ok(Some(secs)),
        Some(_) => Err(anyhow!("{flag}: {refused}")),
    }
}

/// The flag a registration check refers to, when it is one flag.
fn flag_of(e: &ClientConfigError) -> Option<&'static str> {
    match e {
        ClientConfigError::BadName => Some("--name"),
        ClientConfigError::NoRedirectUri
        | ClientConfigError::ServiceWithRedirect
        | ClientConfigError::BadRedirectUri(_) => Some("--redirect-uri"),
        _ => None,
    }
}

/// The ID token algorithm `raw` names: one of those discovery lists
/// (`id_token_signing_alg_values_supported`).
fn alg(raw: &str) -> anyhow::Result<Alg> {
    Alg::ALL
        .iter()
        .copied()
        .find(|alg| alg.as_str().eq_ignore_ascii_case(raw.trim()))
        .ok_or_else(|| anyhow!("--id-token-alg: {raw:?} is not offered; use RS256, ES256 or EdDSA"))
}

/// The app `client_id` names, or a clear refusal.
fn unknown(client_id: &str) -> impl Fn(AccountError) -> anyhow::Error + '_ {
    move |e| match e {
        AccountError::NotFound => anyhow!("no app has the client id {client_id:?}"),
        other => anyhow!("{other}"),
    }
}

/// Runs `client update`: the flags given, applied to the app as it is and saved as the
/// console's edit saves them.
pub async fn update(state: &AppState, args: UpdateArgs) -> anyhow::Result<()> {
    let UpdateArgs {
        client_id,
        access_token_ttl,
        refresh_token_ttl,
        id_token_alg,
        name,
        redirect_uris,
        post_logout_redirect_uris,
        backchannel_logout_uri,
        frontchannel_logout_uri,
        first_party,
        require_par,
        require_dpop,
        require_mfa,
        refresh_tokens,
    } = args;
    let client_id = client_id.trim();
    let id_token_alg = id_token_alg.as_deref().map(alg).transpose()?;
    let uris = |given: Vec<String>| {
        (!given.is_empty()).then(|| {
            given
                .iter()
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty())
                .collect::<Vec<_>>()
        })
    };
    let optional_uri =
        |given: Option<String>| given.map(|u| Some(u.trim().to_owned()).filter(|u| !u.is_empty()));
    let patch = ClientPatch {
        name: name.map(|n| n.trim().to_owned()),
        redirect_uris: uris(redirect_uris),
        post_logout_redirect_uris: uris(post_logout_redirect_uris),
        backchannel_logout_uri: optional_uri(backchannel_logout_uri),
        frontchannel_logout_uri: optional_uri(frontchannel_logout_uri),
        first_party,
        require_par,
        require_dpop,
        require_mfa,
        refresh_tokens,
        id_token_alg,
        access_token_ttl_secs: seconds(
            access_token_ttl,
            &ACCESS_TTL,
            "--access-token-ttl",
            EditError::AccessLifetime,
        )?,
        refresh_token_ttl_secs: seconds(
            refresh_token_ttl,
            &REFRESH_TTL,
            "--refresh-token-ttl",
            EditError::RefreshLifetime,
        )?,
    };
    if patch.is_empty() {
        anyhow::bail!(
            "nothing to change: give at least one of --access-token-ttl, --refresh-token-ttl, \
             --id-token-alg, --name, --redirect-uri, --post-logout-redirect-uri, \
             --backchannel-logout-uri, --frontchannel-logout-uri, --first-party, --require-par, \
             --require-dpop, --require-mfa, --refresh-tokens"
        );
    }
    let changed = client_edit::patch(state, &ClientInfo::default(), Actor::Cli, client_id, &patch)
        .await
        .map_err(unknown(client_id))?
        .map_err(|e| match &e {
            EditError::AccessLifetime => anyhow!("--access-token-ttl: {e}"),
            EditError::RefreshLifetime => anyhow!("--refresh-token-ttl: {e}"),
            EditError::Config(config) => match flag_of(config) {
                Some(flag) => anyhow!("{flag}: {e}"),
                None => anyhow!("{e}"),
            },
        })?;
    if changed.is_empty() {
        println!("{client_id}: nothing changed (the app has these settings already).");
    } else {
        println!(
            "{client_id}: changed {}; tokens issued from now on carry them.",
            changed.join(", ")
        );
    }
    Ok(())
}

/// A setting as `client show` prints it in text.
fn text(value: &Value) -> String {
    match value {
        Value::Null => "-".into(),
        Value::Bool(true) => "on".into(),
        Value::Bool(false) => "off".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "-".into(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

/// Runs `client show`: the app's settings, without any secret.
pub async fn show(state: &AppState, client_id: &str, json: bool) -> anyhow::Result<()> {
    let client_id = client_id.trim();
    let Details {
        settings,
        enabled,
        has_secret,
        has_jwks,
        scopes,
        created_at,
    } = client_admin::details(&state.db, client_id)
        .await
        .map_err(unknown(client_id))?;
    let authentication = match (has_secret, has_jwks) {
        (true, _) => "client secret (kept only as a keyed hash)",
        (_, true) => "private_key_jwt (its registered keys)",
        _ => "none (a public app: PKCE)",
    };
    let subjects = match (settings.subject_type, &settings.sector_identifier) {
        (SubjectType::Pairwise, Some(sector)) => format!("pairwise (sector {sector})"),
        _ => "public (the account id)".to_owned(),
    };
    let created_at = created_at.format(&time::format_description::well_known::Rfc3339)?;
    let rows: Vec<(&str, Value)> = vec![
        ("client_id", json!(settings.id)),
        ("name", json!(settings.name)),
        ("client_type", json!(settings.client_type.as_str())),
        ("enabled", json!(enabled)),
        ("authentication", json!(authentication)),
        ("subjects", json!(subjects)),
        ("redirect_uris", json!(settings.redirect_uris)),
        (
            "post_logout_redirect_uris",
            json!(settings.post_logout_redirect_uris),
        ),
        (
            "backchannel_logout_uri",
            json!(settings.backchannel_logout_uri),
        ),
        (
            "frontchannel_logout_uri",
            json!(settings.frontchannel_logout_uri),
        ),
        ("grant_types", json!(settings.grant_types)),
        ("scopes", json!(scopes)),
        ("first_party", json!(settings.first_party)),
        ("require_par", json!(settings.require_par)),
        ("require_dpop", json!(settings.require_dpop)),
        ("require_mfa", json!(settings.require_mfa)),
        ("pkce_required", json!(settings.pkce_required)),
        ("id_token_alg", json!(settings.id_token_alg.as_str())),
        (
            "access_token_ttl_secs",
            json!(settings.access_token_ttl_secs),
        ),
        (
            "refresh_token_ttl_secs",
            json!(settings.refresh_token_ttl_secs),
        ),
        ("created_at", json!(created_at)),
    ];
    if json {
        let object: serde_json::Map<String, Value> = rows
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        println!("{}", Value::Object(object));
    } else {
        for (name, value) in &rows {
            println!("{name:26} {}", text(value));
        }
    }
    Ok(())
}
