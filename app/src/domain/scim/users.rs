//! SCIM Users read from customer accounts: `userName` is the account's address (also its one
//! `emails` value), `displayName` the account's name (unless the service made it up because
//! provisioning gave none), `name` the parts provisioning gave (`scim_users`), `externalId`
//! the one the asking client gave (`scim_user_ids`), `active` whether the account is not
//! locked by an operator, `phoneNumbers` the proven phone number (read only: its owner proves
//! it). Staff accounts are not customers and are never seen here.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use sqlx::{PgExecutor, Postgres, QueryBuilder};
use time::{format_description::well_known::Rfc3339, OffsetDateTime};
use uuid::Uuid;

use super::{
    patch::Attribute,
    query::{Column, Kind, ListRequest},
    ScimError, USER_SCHEMA,
};

/// A customer as SCIM shows them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScimUser {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub placeholder_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub formatted_name: Option<String>,
    pub external_id: Option<String>,
    pub active: bool,
    pub phone: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

const DISPLAY: &str =
    "CASE WHEN s.placeholder_name = u.display_name THEN NULL ELSE u.display_name END";

const SELECT: &str = "SELECT u.id, u.email, u.display_name, s.placeholder_name, s.given_name,
        s.family_name, s.formatted_name, x.external_id, u.locked_at IS NULL AS active, u.phone,
        u.created_at, u.updated_at
     FROM users u LEFT JOIN scim_users s ON s.user_id = u.id
     LEFT JOIN scim_user_ids x ON x.user_id = u.id AND x.client_id = ";

/// What a filter or sort can name.
pub const COLUMNS: &[Column] = &[
    Column {
        key: "id",
        sql: "u.id::text",
        kind: Kind::Text { exact: true },
    },
    Column {
        key: "username",
        sql: "u.email",
        kind: Kind::Text { exact: false },
    },
    Column {
        key: "emails",
        sql: "u.email",
        kind: Kind::Text { exact: false },
    },
    Column {
        key: "emails.value",
        sql: "u.email",
        kind: Kind::Text { exact: false },
    },
    Column {
        key: "emails.type",
        sql: "'work'::text",
        kind: Kind::Text { exact: false },
    },
    Column {
        key: "emails.primary",
        sql: "true",
        kind: Kind::Bool,
    },
    Column {
        key: "externalid",
        sql: "x.external_id",
        kind: Kind::Text { exact: true },
    },
    Column {
        key: "active",
        sql: "(u.locked_at IS NULL)",
        kind: Kind::Bool,
    },
    Column {
        key: "displayname",
        sql: DISPLAY,
        kind: Kind::Text { exact: false },
    },
    Column {
        key: "name.givenname",
        sql: "s.given_name",
        kind: Kind::Text { exact: false },
    },
    Column {
        key: "name.familyname",
        sql: "s.family_name",
        kind: Kind::Text { exact: false },
    },
    Column {
        key: "name.formatted",
        sql: "s.formatted_name",
        kind: Kind::Text { exact: false },
    },
    Column {
        key: "phonenumbers",
        sql: "u.phone",
        kind: Kind::Text { exact: false },
    },
    Column {
        key: "phonenumbers.value",
        sql: "u.phone",
        kind: Kind::Text { exact: false },
    },
    Column {
        key: "meta.created",
        sql: "u.created_at",
        kind: Kind::Time,
    },
    Column {
        key: "meta.lastmodified",
        sql: "u.updated_at",
        kind: Kind::Time,
    },
];

/// What PATCH can name (read-only ones too, so that changing them is `mutability`, not
/// `invalidPath`).
pub static ATTRIBUTES: &[Attribute] = &[
    Attribute {
        name: "userName",
        multi: false,
        subs: &[],
    },
    Attribute {
        name: "name",
        multi: false,
        subs: &["givenName", "familyName", "formatted"],
    },
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
        name: "active",
        multi: false,
        subs: &[],
    },
    Attribute {
        name: "emails",
        multi: true,
        subs: &["value", "type", "primary", "display"],
    },
    Attribute {
        name: "phoneNumbers",
        multi: true,
        subs: &["value", "type", "primary", "display"],
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

/// Attributes a client cannot change.
pub const READ_ONLY: &[&str] = &["id", "meta", "emails", "phoneNumbers"];

fn moment(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// A weak entity tag of a representation without its `meta.version`.
pub fn version_of(representation: &Value) -> String {
    let digest = Sha256::digest(representation.to_string().as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}

impl ScimUser {
    /// The displayName provisioning sees: none while the account wears one the service made up.
    pub fn shown_display_name(&self) -> Option<&str> {
        (self.placeholder_name.as_deref() != Some(self.display_name.as_str()))
            .then_some(self.display_name.as_str())
    }

    /// The resource (RFC 7643 §4.1), `base` the service's `/scim/v2` URL.
    pub fn to_json(&self, base: &str) -> Value {
        let mut doc = Map::new();
        doc.insert("schemas".into(), json!([USER_SCHEMA]));
        doc.insert("id".into(), json!(self.id));
        if let Some(external) = &self.external_id {
            doc.insert("externalId".into(), json!(external));
        }
        doc.insert("userName".into(), json!(self.email));
        let mut name = Map::new();
        for (key, value) in [
            ("givenName", &self.given_name),
            ("familyName", &self.family_name),
            ("formatted", &self.formatted_name),
        ] {
            if let Some(v) = value {
                name.insert(key.into(), json!(v));
            }
        }
        if !name.is_empty() {
            doc.insert("name".into(), Value::Object(name));
        }
        if let Some(shown) = self.shown_display_name() {
            doc.insert("displayName".into(), json!(shown));
        }
        doc.insert(
            "emails".into(),
            json!([{ "value": self.email, "type": "work", "primary": true }]),
        );
        if let Some(phone) = &self.phone {
            doc.insert(
                "phoneNumbers".into(),
                json!([{ "value": phone, "type": "mobile" }]),
            );
        }
        doc.insert("active".into(), json!(self.active));
        doc.insert(
            "meta".into(),
            json!({
                "resourceType": "User",
                "created": moment(self.created_at),
                "lastModified": moment(self.updated_at),
                "location": format!("{base}/Users/{}", self.id),
            }),
        );
        let mut doc = Value::Object(doc);
        let version = version_of(&doc);
        doc["meta"]["version"] = json!(version);
        doc
    }

    /// The entity tag of the current representation.
    pub fn version(&self, base: &str) -> String {
        self.to_json(base)["meta"]["version"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// The customer `id` as `client` sees them; `None` for an id that is no customer's.
pub async fn get(
    db: impl PgExecutor<'_>,
    client: Uuid,
    id: &str,
) -> Result<Option<ScimUser>, ScimError> {
    let Ok(id) = Uuid::parse_str(id.trim()) else {
        return Ok(None);
    };
    let mut q = QueryBuilder::<Postgres>::new(SELECT);
    q.push_bind(client)
        .push(" WHERE u.role = 'customer' AND u.id = ")
        .push_bind(id);
    Ok(q.build_query_as().fetch_optional(db).await?)
}

/// One page of the customers matching `request`, and how many match in all.
pub async fn list(
    db: &sqlx::PgPool,
    client: Uuid,
    request: &ListRequest,
) -> Result<(i64, Vec<ScimUser>), ScimError> {
    let mut count = QueryBuilder::<Postgres>::new(
        "SELECT count(*) FROM users u LEFT JOIN scim_users s ON s.user_id = u.id
         LEFT JOIN scim_user_ids x ON x.user_id = u.id AND x.client_id = ",
    );
    count.push_bind(client).push(" WHERE u.role = 'customer'");
    request.push_where(&mut count, COLUMNS)?;
    let total: i64 = count.build_query_scalar().fetch_one(db).await?;
    let mut q = QueryBuilder::<Postgres>::new(SELECT);
    q.push_bind(client).push(" WHERE u.role = 'customer'");
    request.push_where(&mut q, COLUMNS)?;
    request.push_page(&mut q, "u.created_at, u.id");
    let users = if request.count == 0 {
        Vec::new()
    } else {
        q.build_query_as().fetch_all(db).await?
    };
    Ok((total, users))
}
