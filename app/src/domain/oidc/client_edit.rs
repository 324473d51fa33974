//! Changing a registered app after the fact: its name, redirect and logout URIs, whether it is
//! first-party, requires PAR, DPoP or multi-factor, whether it gets refresh tokens, its ID
//! token's signing algorithm and its token lifetimes. Checked as a registration is, then saved
//! with one audit row naming each changed field's before and after; the per-node copies learn
//! of it from the table's change notice. The kind of app, its credentials and its subject type
//! (pairwise or not) stay as registered: changing them would change what the app proves or
//! every person's `sub` at it. The console sends the whole form (`update`); the command line
//! names only what changes (`patch`), applied to the row as it is when locked.

use serde_json::{json, Map, Value};

use super::{
    clients::{ClientType, SubjectType},
    key_pairs::Alg,
    registration::{validate, ClientConfigError, NewClient},
};
use crate::domain::{
    audit::{self, Actor, AuditEvent, Outcome},
    client::ClientInfo,
    error::AccountError,
};

/// Access tokens live between a minute and a day.
pub const ACCESS_TTL: std::ops::RangeInclusive<i32> = 60..=86_400;
/// Refresh tokens live between five minutes and a year.
pub const REFRESH_TTL: std::ops::RangeInclusive<i32> = 300..=31_536_000;

/// What may change, as the edit form sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientEdit {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub frontchannel_logout_uri: Option<String>,
    pub first_party: bool,
    pub require_par: bool,
    pub require_dpop: bool,
    pub require_mfa: bool,
    /// Whether the app gets refresh tokens (the refresh_token grant).
    pub refresh_tokens: bool,
    pub id_token_alg: Alg,
    pub access_token_ttl_secs: i32,
    pub refresh_token_ttl_secs: i32,
}

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error(transparent)]
    Config(#[from] ClientConfigError),
    #[error("An access token lives from 60 seconds to a day (86400 seconds).")]
    AccessLifetime,
    #[error("A refresh token lives from 300 seconds to a year (31536000 seconds).")]
    RefreshLifetime,
}

/// An app as the edit form starts from.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Current {
    pub id: String,
    pub name: String,
    pub client_type: ClientType,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub frontchannel_logout_uri: Option<String>,
    pub first_party: bool,
    pub require_par: bool,
    pub require_dpop: bool,
    pub require_mfa: bool,
    pub grant_types: Vec<String>,
    pub id_token_alg: Alg,
    pub access_token_ttl_secs: i32,
    pub refresh_token_ttl_secs: i32,
    pub subject_type: SubjectType,
    pub sector_identifier: Option<String>,
    pub pkce_required: bool,
}

impl Current {
    /// The form's values of this app.
    pub fn edit(&self) -> ClientEdit {
        ClientEdit {
            name: self.name.clone(),
            redirect_uris: self.redirect_uris.clone(),
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            backchannel_logout_uri: self.backchannel_logout_uri.clone(),
            frontchannel_logout_uri: self.frontchannel_logout_uri.clone(),
            first_party: self.first_party,
            require_par: self.require_par,
            require_dpop: self.require_dpop,
            require_mfa: self.require_mfa,
            refresh_tokens: self.grant_types.iter().any(|g| g == "refresh_token"),
            id_token_alg: self.id_token_alg,
            access_token_ttl_secs: self.access_token_ttl_secs,
            refresh_token_ttl_secs: self.refresh_token_ttl_secs,
        }
    }
}

/// The columns of [`Current`], for the queries that read one.
pub(super) const CURRENT_COLUMNS: &str = "id, name, client_type, redirect_uris,
        post_logout_redirect_uris, backchannel_logout_uri, frontchannel_logout_uri, first_party,
        require_par, require_dpop, require_mfa, grant_types, id_token_alg, access_token_ttl_secs,
        refresh_token_ttl_secs, subject_type, sector_identifier, pkce_required";

/// Some of an app's settings, as the command line changes them: a field left `None` stays as
/// it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientPatch {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// `Some(None)` removes the URI.
    pub backchannel_logout_uri: Option<Option<String>>,
    /// `Some(None)` removes the URI.
    pub frontchannel_logout_uri: Option<Option<String>>,
    pub first_party: Option<bool>,
    pub require_par: Option<bool>,
    pub require_dpop: Option<bool>,
    pub require_mfa: Option<bool>,
    pub refresh_tokens: Option<bool>,
    pub id_token_alg: Option<Alg>,
    pub access_token_ttl_secs: Option<i32>,
    pub refresh_token_ttl_secs: Option<i32>,
}

impl ClientPatch {
    /// Whether it names nothing to change.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `edit` with the fields this patch names replaced.
    pub fn apply(&self, edit: ClientEdit) -> ClientEdit {
        let Self {
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
            id_token_alg,
            access_token_ttl_secs,
            refresh_token_ttl_secs,
        } = self.clone();
        ClientEdit {
            name: name.unwrap_or(edit.name),
            redirect_uris: redirect_uris.unwrap_or(edit.redirect_uris),
            post_logout_redirect_uris: post_logout_redirect_uris
                .unwrap_or(edit.post_logout_redirect_uris),
            backchannel_logout_uri: backchannel_logout_uri.unwrap_or(edit.backchannel_logout_uri),
            frontchannel_logout_uri: frontchannel_logout_uri
                .unwrap_or(edit.frontchannel_logout_uri),
            first_party: first_party.unwrap_or(edit.first_party),
            require_par: require_par.unwrap_or(edit.require_par),
            require_dpop: require_dpop.unwrap_or(edit.require_dpop),
            require_mfa: require_mfa.unwrap_or(edit.require_mfa),
            refresh_tokens: refresh_tokens.unwrap_or(edit.refresh_tokens),
            id_token_alg: id_token_alg.unwrap_or(edit.id_token_alg),
            access_token_ttl_secs: access_token_ttl_secs.unwrap_or(edit.access_token_ttl_secs),
            refresh_token_ttl_secs: refresh_token_ttl_secs.unwrap_or(edit.refresh_token_ttl_secs),
        }
    }
}

/// App `client_id` as it is now.
pub async fn current(
    db: impl sqlx::PgExecutor<'_>,
    client_id: &str,
) -> Result<Current, AccountError> {
    let sql = format!("SELECT {CURRENT_COLUMNS} FROM oauth_clients WHERE id = $1");
    sqlx::query_as(&sql)
        .bind(client_id)
        .fetch_optional(db)
        .await?
        .ok_or(AccountError::NotFound)
}

/// The edit as a registration, so that it is checked by the same rules.
fn as_registration(current: &Current, edit: &ClientEdit) -> NewClient {
    NewClient {
        name: edit.name.clone(),
        client_type: current.client_type,
        redirect_uris: edit.redirect_uris.clone(),
        first_party: edit.first_party,
        post_logout_redirect_uris: edit.post_logout_redirect_uris.clone(),
        backchannel_logout_uri: edit.backchannel_logout_uri.clone(),
        frontchannel_logout_uri: edit.frontchannel_logout_uri.clone(),
        require_par: edit.require_par,
        pairwise: current.subject_type == SubjectType::Pairwise,
        sector_identifier: current.sector_identifier.clone(),
        require_dpop: edit.require_dpop,
        allow_no_pkce: !current.pkce_required,
        require_mfa: edit.require_mfa,
        ..Default::default()
    }
}

/// The fields as name and value, for comparing and auditing.
fn fields(edit: &ClientEdit) -> Vec<(&'static str, Value)> {
    vec![
        ("name", json!(edit.name.trim())),
        ("redirect_uris", json!(edit.redirect_uris)),
        (
            "post_logout_redirect_uris",
            json!(edit.post_logout_redirect_uris),
        ),
        ("backchannel_logout_uri", json!(edit.backchannel_logout_uri)),
        (
            "frontchannel_logout_uri",
            json!(edit.frontchannel_logout_uri),
        ),
        ("first_party", json!(edit.first_party)),
        ("require_par", json!(edit.require_par)),
        ("require_dpop", json!(edit.require_dpop)),
        ("require_mfa", json!(edit.require_mfa)),
        ("refresh_tokens", json!(edit.refresh_tokens)),
        ("id_token_alg", json!(edit.id_token_alg.as_str())),
        ("access_token_ttl_secs", json!(edit.access_token_ttl_secs)),
        ("refresh_token_ttl_secs", json!(edit.refresh_token_ttl_secs)),
    ]
}

/// Saves `edit` for app `client_id`; answers the names of the changed fields (none: nothing
/// written), or why the edit was refused (nothing changed).
pub async fn update(
    state: &crate::state::AppState,
    client: &ClientInfo,
    actor: Actor,
    client_id: &str,
    edit: &ClientEdit,
) -> Result<Result<Vec<&'static str>, EditError>, AccountError> {
    save(state, client, actor, client_id, |_| edit.clone()).await
}

/// Applies `patch` to app `client_id` as it is now (read under a lock, so a change made
/// meanwhile is kept), then saves it as [`update`] does: checked as a registration, the changed
/// fields answered and audited.
pub async fn patch(
    state: &crate::state::AppState,
    client: &ClientInfo,
    actor: Actor,
    client_id: &str,
    patch: &ClientPatch,
) -> Result<Result<Vec<&'static str>, EditError>, AccountError> {
    save(state, client, actor, client_id, |current| {
        patch.apply(current.edit())
    })
    .await
}

/// Locks app `client_id`, checks the edit `edit_of` makes of it, and saves what changed.
async fn save(
    state: &crate::state::AppState,
    client: &ClientInfo,
    actor: Actor,
    client_id: &str,
    edit_of: impl FnOnce(&Current) -> ClientEdit,
) -> Result<Result<Vec<&'static str>, EditError>, AccountError> {
    let mut tx = state.db.begin().await?;
    let sql = format!("SELECT {CURRENT_COLUMNS} FROM oauth_clients WHERE id = $1 FOR UPDATE");
    let current: Current = sqlx::query_as(&sql)
        .bind(client_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AccountError::NotFound)?;
    let edit = &edit_of(&current);
    if let Err(e) = validate(&as_registration(&current, edit)) {
        return Ok(Err(e.into()));
    }
    if !ACCESS_TTL.contains(&edit.access_token_ttl_secs) {
        return Ok(Err(EditError::AccessLifetime));
    }
    if !REFRESH_TTL.contains(&edit.refresh_token_ttl_secs) {
        return Ok(Err(EditError::RefreshLifetime));
    }
    let mut changes = Map::new();
    let mut changed = Vec::new();
    for ((name, from), (_, to)) in fields(&current.edit()).into_iter().zip(fields(edit)) {
        if from != to {
            changes.insert(name.into(), json!({ "from": from, "to": to }));
            changed.push(name);
        }
    }
    if changed.is_empty() {
        return Ok(Ok(changed));
    }
    // A service app keeps client_credentials alone; an app that signs people in always has
    // the code grant, and refresh tokens when asked.
    let grants: Vec<&str> = match current.client_type {
        ClientType::Service => vec!["client_credentials"],
        _ if edit.refresh_tokens => vec!["authorization_code", "refresh_token"],
        _ => vec!["authorization_code"],
    };
    sqlx::query(
        "UPDATE oauth_clients SET name = $2, redirect_uris = $3, post_logout_redirect_uris = $4,
             backchannel_logout_uri = $5, frontchannel_logout_uri = $6, first_party = $7,
             require_par = $8, require_dpop = $9, require_mfa = $10, grant_types = $11,
             id_token_alg = $12, access_token_ttl_secs = $13, refresh_token_ttl_secs = $14
         WHERE id = $1",
    )
    .bind(client_id)
    .bind(edit.name.trim())
    .bind(&edit.redirect_uris)
    .bind(&edit.post_logout_redirect_uris)
    .bind(&edit.backchannel_logout_uri)
    .bind(&edit.frontchannel_logout_uri)
    .bind(edit.first_party)
    .bind(edit.require_par)
    .bind(edit.require_dpop)
    .bind(edit.require_mfa)
    .bind(&grants)
    .bind(edit.id_token_alg)
    .bind(edit.access_token_ttl_secs)
    .bind(edit.refresh_token_ttl_secs)
    .execute(&mut *tx)
    .await?;
    let event = AuditEvent::new("client.updated", Outcome::Success)
        .by_actor(actor)
        .detail(json!({ "client_id": client_id, "changes": changes }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    // This node sees the change at once; the others by the table's change notice.
    state.clients.forget(&client_id.to_owned());
    Ok(Ok(changed))
}
