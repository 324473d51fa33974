//! SCIM Groups onto the directory's groups (`directory::groups`): `displayName` is the group's
//! name, `members` its customers (by their SCIM id, the account id), `externalId` the one the
//! asking client gave (`scim_group_ids`). Every change goes through `directory::groups`
//! (create, rename, delete, add and remove a member), audited with the client as actor.
//! Nested groups are not kept: a member is a User.

use serde_json::{json, Map, Value};
use sqlx::{PgExecutor, PgPool, Postgres, QueryBuilder};
use time::{format_description::well_known::Rfc3339, OffsetDateTime};
use uuid::Uuid;

use super::{
    clients::ProvisioningClient,
    patch::{self, Attribute},
    query::{Column, Kind, ListRequest},
    text,
    user_writes::field,
    users::version_of,
    ScimError, GROUP_SCHEMA,
};
use crate::domain::{
    audit::{self, AuditEvent, Outcome},
    client::ClientInfo,
    directory::groups,
};

/// A group as SCIM shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScimGroup {
    pub id: Uuid,
    pub name: String,
    pub external_id: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub members: Vec<Uuid>,
}

const UPDATED: &str = "GREATEST(g.created_at, sg.updated_at,
        (SELECT max(m.added_at) FROM group_members m WHERE m.group_id = g.id))";

const FROM: &str = " FROM groups g LEFT JOIN scim_groups sg ON sg.group_id = g.id
     LEFT JOIN scim_group_ids x ON x.group_id = g.id AND x.client_id = ";

/// What a filter or sort can name.
pub const COLUMNS: &[Column] = &[
    Column {
        key: "id",
        sql: "g.id::text",
        kind: Kind::Text { exact: true },
    },
    Column {
        key: "displayname",
        sql: "g.name",
        kind: Kind::Text { exact: false },
    },
    Column {
        key: "externalid",
        sql: "x.external_id",
        kind: Kind::Text { exact: true },
    },
    Column {
        key: "members",
        sql: "EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = g.id AND {})",
        kind: Kind::Exists {
            column: "m.user_id::text",
        },
    },
    Column {
        key: "members.value",
        sql: "EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = g.id AND {})",
        kind: Kind::Exists {
            column: "m.user_id::text",
        },
    },
    Column {
        key: "meta.created",
        sql: "g.created_at",
        kind: Kind::Time,
    },
    Column {
        key: "meta.lastmodified",
        sql: UPDATED,
        kind: Kind::Time,
    },
];

/// What PATCH can name.
pub static ATTRIBUTES: &[Attribute] = &[
    Attribute {
        name: "displayName",
        multi: false,
        subs: &[],
    },
    Attribute {
        name: "externalId",
        multi: false,
        subs: &[],
    },
    Attribute {
        name: "members",
        multi: true,
        subs: &["value", "$ref", "type", "display"],
    },
    Attribute {
        name: "id",
        multi: false,
        subs: &[],
    },
    Attribute {
        name: "meta",
        multi: false,
        subs: &[
            "resourceType",
            "created",
            "lastModified",
            "location",
            "version",
        ],
    },
];

fn select() -> String {
    format!(
        "SELECT g.id, g.name, x.external_id, g.created_at, {UPDATED} AS updated_at,
            ARRAY(SELECT m.user_id FROM group_members m
                  JOIN users u ON u.id = m.user_id AND u.role = 'customer'
                  WHERE m.group_id = g.id ORDER BY m.added_at, m.user_id) AS members
         {FROM}"
    )
}

impl ScimGroup {
    /// The resource (RFC 7643 §4.2), `base` the service's `/scim/v2` URL.
    pub fn to_json(&self, base: &str) -> Value {
        let mut doc = Map::new();
        doc.insert("schemas".into(), json!([GROUP_SCHEMA]));
        doc.insert("id".into(), json!(self.id));
        if let Some(external) = &self.external_id {
            doc.insert("externalId".into(), json!(external));
        }
        doc.insert("displayName".into(), json!(self.name));
        if !self.members.is_empty() {
            let members: Vec<Value> = self
                .members
                .iter()
                .map(|m| json!({ "value": m, "$ref": format!("{base}/Users/{m}"), "type": "User" }))
                .collect();
            doc.insert("members".into(), Value::Array(members));
        }
        let at = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
        doc.insert(
            "meta".into(),
            json!({
                "resourceType": "Group",
                "created": at(self.created_at),
                "lastModified": at(self.updated_at),
                "location": format!("{base}/Groups/{}", self.id),
            }),
        );
        let mut doc = Value::Object(doc);
        let version = version_of(&doc);
        doc["meta"]["version"] = json!(version);
        doc
    }

    pub fn version(&self, base: &str) -> String {
        self.to_json(base)["meta"]["version"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// The group `id`, if any.
pub async fn get(
    db: impl PgExecutor<'_>,
    client: Uuid,
    id: &str,
) -> Result<Option<ScimGroup>, ScimError> {
    let Ok(id) = Uuid::parse_str(id.trim()) else {
        return Ok(None);
    };
    let mut q = QueryBuilder::<Postgres>::new(select());
    q.push_bind(client).push(" WHERE g.id = ").push_bind(id);
    Ok(q.build_query_as().fetch_optional(db).await?)
}

/// One page of the groups matching `request`, and how many match in all.
pub async fn list(
    db: &PgPool,
    client: Uuid,
    request: &ListRequest,
) -> Result<(i64, Vec<ScimGroup>), ScimError> {
    let mut count = QueryBuilder::<Postgres>::new(format!("SELECT count(*) {FROM}"));
    count.push_bind(client).push(" WHERE true");
    request.push_where(&mut count, COLUMNS)?;
    let total: i64 = count.build_query_scalar().fetch_one(db).await?;
    let mut q = QueryBuilder::<Postgres>::new(select());
    q.push_bind(client).push(" WHERE true");
    request.push_where(&mut q, COLUMNS)?;
    request.push_page(&mut q, "g.created_at, g.id");
    let found = if request.count == 0 {
        Vec::new()
    } else {
        q.build_query_as().fetch_all(db).await?
    };
    Ok((total, found))
}

/// A Group's writable attributes, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInput {
    pub name: String,
    pub external_id: Option<String>,
    pub members: Vec<Uuid>,
}

/// Reads a Group's body; every member must be a customer.
pub async fn parse_input(db: &PgPool, body: &Value) -> Result<GroupInput, ScimError> {
    if !body.is_object() {
        return Err(ScimError::invalid(
            "invalidSyntax",
            "a Group is a JSON object",
        ));
    }
    let name = text("displayName", field(body, "displayName"))?
        .ok_or_else(|| ScimError::value("displayName is required"))?;
    let name = groups::group_name(&name)?;
    let mut members: Vec<Uuid> = Vec::new();
    match field(body, "members") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                if let Some(kind) = field(item, "type").and_then(Value::as_str) {
                    if !kind.eq_ignore_ascii_case("User") {
                        return Err(ScimError::value("a member is a User: groups do not nest"));
                    }
                }
                let id = field(item, "value")
                    .and_then(Value::as_str)
                    .and_then(|v| Uuid::parse_str(v.trim()).ok())
                    .ok_or_else(|| ScimError::value("a member's value is a User's id"))?;
                if !members.contains(&id) {
                    members.push(id);
                }
            }
        }
        Some(_) => return Err(ScimError::value("members is an array")),
    }
    let known: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM users WHERE id = ANY($1) AND role = 'customer'")
            .bind(&members)
            .fetch_all(db)
            .await?;
    if let Some(unknown) = members.iter().find(|m| !known.contains(m)) {
        return Err(ScimError::value(format!("no User has the id {unknown}")));
    }
    Ok(GroupInput {
        name,
        external_id: text("externalId", field(body, "externalId"))?,
        members,
    })
}

/// Keeps the client's externalId and notes the change; audited when the externalId changed.
async fn note(
    db: &PgPool,
    client: &ProvisioningClient,
    id: Uuid,
    external: Option<&str>,
    before: Option<&str>,
    action: &'static str,
) -> Result<(), ScimError> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO scim_groups (group_id) VALUES ($1)
         ON CONFLICT (group_id) DO UPDATE SET updated_at = now()",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM scim_group_ids WHERE client_id = $1 AND group_id = $2")
        .bind(client.id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if let Some(external) = external {
        sqlx::query(
            "INSERT INTO scim_group_ids (client_id, group_id, external_id) VALUES ($1, $2, $3)",
        )
        .bind(client.id)
        .bind(id)
        .bind(external)
        .execute(&mut *tx)
        .await?;
    }
    if external != before {
        let event = AuditEvent::new(action, Outcome::Success)
            .by_actor(client.actor())
            .detail(json!({ "group_id": id, "scim_client": client.id }));
        audit::record(&mut *tx, &ClientInfo::default(), event).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Creates a group with its members.
pub async fn create(
    db: &PgPool,
    client: &ProvisioningClient,
    body: &Value,
) -> Result<ScimGroup, ScimError> {
    let input = parse_input(db, body).await?;
    let id = groups::create(db, &input.name, None, client.actor()).await?;
    for member in &input.members {
        groups::add_member(db, &input.name, *member, client.actor()).await?;
    }
    let external = input.external_id.as_deref();
    note(db, client, id, external, None, "group.provisioned").await?;
    get(db, client.id, &id.to_string())
        .await?
        .ok_or_else(|| ScimError::NotFound("no such group".into()))
}

/// Makes `current` what `input` says.
pub async fn apply(
    db: &PgPool,
    client: &ProvisioningClient,
    current: &ScimGroup,
    input: &GroupInput,
) -> Result<ScimGroup, ScimError> {
    if input.name != current.name {
        groups::rename(db, &current.name, &input.name, client.actor()).await?;
    }
    for gone in current
        .members
        .iter()
        .filter(|m| !input.members.contains(m))
    {
        groups::remove_member(db, &input.name, *gone, client.actor()).await?;
    }
    for new in input
        .members
        .iter()
        .filter(|m| !current.members.contains(m))
    {
        groups::add_member(db, &input.name, *new, client.actor()).await?;
    }
    let (external, before) = (input.external_id.as_deref(), current.external_id.as_deref());
    note(
        db,
        client,
        current.id,
        external,
        before,
        "group.provisioning_updated",
    )
    .await?;
    get(db, client.id, &current.id.to_string())
        .await?
        .ok_or_else(|| ScimError::NotFound("no such group".into()))
}

/// PATCH: the operations applied to the representation, checked like a PUT's body.
pub async fn modify(
    db: &PgPool,
    client: &ProvisioningClient,
    current: &ScimGroup,
    base: &str,
    body: &Value,
) -> Result<ScimGroup, ScimError> {
    let operations = patch::parse_request(body, ATTRIBUTES)?;
    let before = current.to_json(base);
    let mut doc = before.as_object().cloned().unwrap_or_default();
    patch::apply(&mut doc, &operations, ATTRIBUTES)?;
    for name in ["id", "meta"] {
        if doc.get(name) != before.get(name) {
            return Err(ScimError::mutability(format!("{name} is read-only")));
        }
    }
    let input = parse_input(db, &Value::Object(doc)).await?;
    apply(db, client, current, &input).await
}

/// Deletes the group, its memberships and the roles assigned to it.
pub async fn delete(
    db: &PgPool,
    client: &ProvisioningClient,
    current: &ScimGroup,
) -> Result<(), ScimError> {
    groups::delete(db, &current.name, client.actor()).await?;
    Ok(())
}
