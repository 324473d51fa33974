//! Provisioning writes to customers: create (POST), replace (PUT), modify (PATCH, read through
//! `patch` into the same checked input as a PUT) and delete. The whole input is checked before
//! anything is written; then each change goes through the domain function that makes it from
//! the console (`customers::actions`: the address, the name, lock and unlock, each in its own
//! transaction and audited with the client as actor; `users::insert` for a new account;
//! `privacy::erasure::erase` for a deletion), so webhooks fire exactly as they do there.

use serde_json::{json, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    clients::ProvisioningClient,
    patch, text,
    users::{self, ScimUser, ATTRIBUTES, READ_ONLY},
    ScimError,
};
use crate::{
    domain::{
        audit::{self, AuditEvent, Outcome},
        client::ClientInfo,
        customers::{actions, Reason},
        email::Email,
        email_change,
        names::DisplayName,
        privacy::erasure,
        users::{self as accounts, NewUser, Role},
        webhooks,
    },
    state::AppState,
};

/// A User's writable attributes, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInput {
    pub email: Email,
    pub display_name: Option<DisplayName>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub formatted_name: Option<String>,
    pub external_id: Option<String>,
    /// `None`: not said (a new account is active; an existing one stays as it is).
    pub active: Option<bool>,
}

/// The member `name` of `object`, whatever its case (attribute names ignore case).
pub fn field<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    object
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// A boolean, or the strings `"true"` and `"false"` (Entra ID sends those).
pub fn boolean(name: &str, raw: Option<&Value>) -> Result<Option<bool>, ScimError> {
    match raw {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(ScimError::value(format!("{name} must be true or false"))),
    }
}

/// Reads a User's body (POST, PUT, or a PATCHed representation).
pub fn parse_input(body: &Value) -> Result<UserInput, ScimError> {
    if !body.is_object() {
        return Err(ScimError::invalid(
            "invalidSyntax",
            "a User is a JSON object",
        ));
    }
    let user_name = text("userName", field(body, "userName"))?
        .ok_or_else(|| ScimError::value("userName is required: the person's email address"))?;
    let email = Email::parse(&user_name)
        .map_err(|e| ScimError::value(format!("userName must be an email address: {e}")))?;
    let display_name = text("displayName", field(body, "displayName"))?
        .map(|n| DisplayName::parse(&n))
        .transpose()
        .map_err(|e| ScimError::value(format!("displayName: {e}")))?;
    let name = field(body, "name");
    if name.is_some_and(|n| !n.is_null() && !n.is_object()) {
        return Err(ScimError::value("name is an object"));
    }
    let part = |sub: &str| text(&format!("name.{sub}"), name.and_then(|n| field(n, sub)));
    Ok(UserInput {
        email,
        display_name,
        given_name: part("givenName")?,
        family_name: part("familyName")?,
        formatted_name: part("formatted")?,
        external_id: text("externalId", field(body, "externalId"))?,
        active: boolean("active", field(body, "active"))?,
    })
}

impl UserInput {
    /// The account's name when provisioning gives no displayName: the formatted name, the
    /// given and family names, or the mailbox.
    fn fallback_name(&self) -> DisplayName {
        let joined = [&self.given_name, &self.family_name]
            .iter()
            .filter_map(|p| p.as_deref())
            .collect::<Vec<_>>()
            .join(" ");
        let candidates = [self.formatted_name.as_deref(), Some(joined.as_str())];
        let parsed = candidates
            .into_iter()
            .flatten()
            .find_map(|n| DisplayName::parse(n).ok());
        parsed.unwrap_or_else(|| DisplayName::from_email(&self.email))
    }

    /// The account's name, and the made-up one to hide (when provisioning gave none).
    fn names(&self) -> (DisplayName, Option<String>) {
        match &self.display_name {
            Some(name) => (name.clone(), None),
            None => {
                let made_up = self.fallback_name();
                let hidden = made_up.as_str().to_owned();
                (made_up, Some(hidden))
            }
        }
    }
}

fn staff_request<'a>(
    client: &ProvisioningClient,
    user_id: Uuid,
    reason: &'a Reason,
    info: &'a ClientInfo,
) -> actions::Request<'a> {
    actions::Request {
        actor: client.actor(),
        client: info,
        user_id,
        reason,
    }
}

fn reason(client: &ProvisioningClient) -> Result<Reason, ScimError> {
    Ok(Reason::parse(&format!(
        "SCIM provisioning by {}",
        client.name
    ))?)
}

async fn audit_done(
    conn: &mut PgConnection,
    client: &ProvisioningClient,
    action: &'static str,
    user_id: Uuid,
    detail: Value,
) -> Result<(), ScimError> {
    let mut detail = detail;
    detail["scim_client"] = json!(client.id);
    let event = AuditEvent::new(action, Outcome::Success)
        .by_actor(client.actor())
        .about(Some(user_id))
        .detail(detail);
    audit::record(&mut *conn, &ClientInfo::default(), event).await?;
    Ok(())
}

/// Writes the name parts, the hidden made-up name and the client's externalId; whether the
/// name parts changed.
async fn write_extras(
    conn: &mut PgConnection,
    client: &ProvisioningClient,
    user_id: Uuid,
    input: &UserInput,
    hidden: Option<&str>,
) -> Result<bool, ScimError> {
    let before: Option<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT given_name, family_name, formatted_name FROM scim_users WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    let after = (
        input.given_name.clone(),
        input.family_name.clone(),
        input.formatted_name.clone(),
    );
    sqlx::query(
        "INSERT INTO scim_users (user_id, given_name, family_name, formatted_name,
                                 placeholder_name)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_id) DO UPDATE SET given_name = $2, family_name = $3,
             formatted_name = $4, placeholder_name = $5",
    )
    .bind(user_id)
    .bind(&after.0)
    .bind(&after.1)
    .bind(&after.2)
    .bind(hidden)
    .execute(&mut *conn)
    .await?;
    match &input.external_id {
        Some(external) => {
            sqlx::query(
                "INSERT INTO scim_user_ids (client_id, user_id, external_id) VALUES ($1, $2, $3)
                 ON CONFLICT (client_id, user_id) DO UPDATE SET external_id = $3",
            )
            .bind(client.id)
            .bind(user_id)
            .bind(external)
            .execute(&mut *conn)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM scim_user_ids WHERE client_id = $1 AND user_id = $2")
                .bind(client.id)
                .bind(user_id)
                .execute(&mut *conn)
                .await?;
        }
    }
    let empty = (None, None, None);
    Ok(before.unwrap_or(empty.clone()) != after)
}

/// Creates a customer with a proven address (the identity provider vouches for it) and no
/// password: they sign in by email, passkey or a linked provider.
pub async fn create(
    state: &AppState,
    client: &ProvisioningClient,
    body: &Value,
) -> Result<ScimUser, ScimError> {
    let input = parse_input(body)?;
    let (name, hidden) = input.names();
    let mut tx = state.db.begin().await?;
    let taken = || ScimError::Conflict("another account uses this userName".into());
    if email_change::holder(&mut tx, &input.email, Uuid::nil())
        .await?
        .is_some()
    {
        return Err(taken());
    }
    let new = NewUser {
        id: Uuid::new_v4(),
        email: &input.email,
        display_name: &name,
        password_hash: None,
        role: Role::Customer,
        verified: true,
        claim_hash: None,
        locale: None,
    };
    let id = accounts::insert(&mut tx, new).await?.ok_or_else(taken)?;
    write_extras(&mut tx, client, id, &input, hidden.as_deref()).await?;
    audit_done(&mut tx, client, "account.provisioned", id, json!({})).await?;
    tx.commit().await?;
    if input.active == Some(false) {
        let (why, info) = (reason(client)?, ClientInfo::default());
        actions::lock(state, &staff_request(client, id, &why, &info)).await?;
    }
    users::get(&state.db, client.id, &id.to_string())
        .await?
        .ok_or_else(|| ScimError::NotFound("no such user".into()))
}

/// Makes `current` what `input` says.
pub async fn apply(
    state: &AppState,
    client: &ProvisioningClient,
    current: &ScimUser,
    input: &UserInput,
) -> Result<ScimUser, ScimError> {
    let id = current.id;
    let (why, info) = (reason(client)?, ClientInfo::default());
    let request = staff_request(client, id, &why, &info);
    let (name, hidden) = input.names();
    if !input.email.as_str().eq_ignore_ascii_case(&current.email) {
        let mut conn = state.db.acquire().await?;
        if email_change::holder(&mut conn, &input.email, id)
            .await?
            .is_some()
        {
            return Err(ScimError::Conflict(
                "another account uses this userName".into(),
            ));
        }
        drop(conn);
        actions::change_email(state, &request, &input.email).await?;
    }
    if name.as_str() != current.display_name {
        actions::rename(state, &request, &name).await?;
    }
    let mut tx = state.db.begin().await?;
    accounts::lock(&mut tx, id).await?;
    let names_changed = write_extras(&mut tx, client, id, input, hidden.as_deref()).await?;
    let external_changed = input.external_id != current.external_id;
    if names_changed || external_changed {
        sqlx::query("UPDATE users SET updated_at = now() WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let detail = json!({ "name_parts": names_changed, "external_id": external_changed });
        audit_done(&mut tx, client, "account.provisioning_updated", id, detail).await?;
    }
    if names_changed {
        webhooks::emit(&mut *tx, &webhooks::Event::PersonUpdated(id)).await?;
    }
    tx.commit().await?;
    match input.active {
        Some(false) if current.active => {
            actions::lock(state, &request).await?;
        }
        Some(true) if !current.active => {
            actions::unlock(state, &request).await?;
        }
        _ => {}
    }
    users::get(&state.db, client.id, &id.to_string())
        .await?
        .ok_or_else(|| ScimError::NotFound("no such user".into()))
}

/// Refuses a change to a version other than `if_match` (`*` or none: any). The tags are
/// compared without their weakness mark: clients echo them either way.
pub fn check_version(if_match: Option<&str>, current: &str) -> Result<(), ScimError> {
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    match if_match.map(str::trim) {
        None | Some("*") => Ok(()),
        Some(tags) if tags.split(',').any(|t| bare(t) == bare(current)) => Ok(()),
        Some(_) => Err(ScimError::Changed),
    }
}

/// PATCH: the operations applied to the representation, checked like a PUT's body.
pub async fn modify(
    state: &AppState,
    client: &ProvisioningClient,
    current: &ScimUser,
    base: &str,
    body: &Value,
) -> Result<ScimUser, ScimError> {
    let operations = patch::parse_request(body, ATTRIBUTES)?;
    let before = current.to_json(base);
    let mut doc = before.as_object().cloned().unwrap_or_default();
    patch::apply(&mut doc, &operations, ATTRIBUTES)?;
    for name in READ_ONLY {
        if doc.get(*name) != before.get(*name) {
            return Err(ScimError::mutability(format!("{name} is read-only")));
        }
    }
    let mut input = parse_input(&Value::Object(doc))?;
    if input.active == Some(current.active) {
        input.active = None;
    }
    apply(state, client, current, &input).await
}

/// Erases the customer (`privacy::erasure`, as a due "Delete my account" is), audited
/// `account.deprovisioned` with the client as actor before the erasure pseudonymises it.
pub async fn delete(
    state: &AppState,
    client: &ProvisioningClient,
    current: &ScimUser,
) -> Result<(), ScimError> {
    let mut tx = state.db.begin().await?;
    accounts::lock(&mut tx, current.id).await?;
    let role: Option<Role> = sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
        .bind(current.id)
        .fetch_optional(&mut *tx)
        .await?;
    if role != Some(Role::Customer) {
        return Err(ScimError::NotFound("no such user".into()));
    }
    audit_done(
        &mut tx,
        client,
        "account.deprovisioned",
        current.id,
        json!({}),
    )
    .await?;
    let erased = erasure::erase(&mut tx, state, current.id).await?;
    tx.commit().await?;
    erased.after_commit(state);
    Ok(())
}
