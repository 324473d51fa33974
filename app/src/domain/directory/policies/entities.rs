//! What Cedar evaluates: the person as the directory knows them (`Person::"<sub>"` with the
//! app's roles and permissions, whether their address is verified, their country and region,
//! their groups as parents) and the resource the app describes, each checked against the
//! app's schema.

use std::{
    collections::{HashMap, HashSet},
    str::FromStr,
};

use cedar_policy::{
    Entities, Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression, Schema,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{described, MAX_ATTRIBUTES, MAX_NAME, MAX_PARENTS};

/// The entity type of the principal.
pub const PERSON: &str = "Person";
/// The entity type of the person's groups.
pub const GROUP: &str = "Group";

/// A person as an app's policies see them: read from the directory at each request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Person {
    /// The `sub` the app knows the person by.
    pub sub: String,
    /// The app's roles the person holds (directly or through a group), sorted.
    pub roles: Vec<String>,
    /// What those roles grant, sorted.
    pub permissions: Vec<String>,
    /// The names of the person's groups, sorted.
    pub groups: Vec<String>,
    pub email_verified: bool,
    /// From the person's postal address, if they gave one.
    pub country: Option<String>,
    pub region: Option<String>,
}

/// `Type::"id"`.
pub(super) fn uid(type_name: &str, id: &str) -> Result<EntityUid, String> {
    let type_name = EntityTypeName::from_str(type_name).map_err(|e| {
        format!(
            "{type_name:?} is not an entity type name: {}",
            described(&e)
        )
    })?;
    Ok(EntityUid::from_type_name_and_id(
        type_name,
        EntityId::new(id),
    ))
}

impl Person {
    /// `Person::"<sub>"`.
    pub fn uid(&self) -> EntityUid {
        uid(PERSON, &self.sub).expect("Person is a type name")
    }

    /// The person's entity and their groups'.
    pub(super) fn entities(&self) -> Vec<Entity> {
        let strings = |values: &[String]| {
            RestrictedExpression::new_set(
                values.iter().cloned().map(RestrictedExpression::new_string),
            )
        };
        let mut attrs = HashMap::from([
            ("roles".to_owned(), strings(&self.roles)),
            ("permissions".to_owned(), strings(&self.permissions)),
            (
                "email_verified".to_owned(),
                RestrictedExpression::new_bool(self.email_verified),
            ),
        ]);
        for (name, value) in [("country", &self.country), ("region", &self.region)] {
            if let Some(value) = value {
                attrs.insert(
                    name.to_owned(),
                    RestrictedExpression::new_string(value.clone()),
                );
            }
        }
        let groups: Vec<EntityUid> = self
            .groups
            .iter()
            .map(|g| uid(GROUP, g).expect("Group is a type name"))
            .collect();
        let person = Entity::new(self.uid(), attrs, groups.iter().cloned().collect())
            .expect("strings, sets and booleans always evaluate");
        std::iter::once(person)
            .chain(
                groups
                    .into_iter()
                    .map(|g| Entity::new_no_attrs(g, HashSet::new())),
            )
            .collect()
    }

    /// Whether `schema` declares `Person` and `Group` as the service supplies them: a person
    /// with an address and one without must both conform.
    pub(super) fn check_schema(schema: &Schema) -> Result<(), String> {
        let with_address = Person {
            sub: "sample".into(),
            roles: vec!["r".into()],
            permissions: vec!["p".into()],
            groups: vec!["g".into()],
            email_verified: true,
            country: Some("DE".into()),
            region: Some("Berlin".into()),
        };
        let without = Person {
            country: None,
            region: None,
            ..with_address.clone()
        };
        for sample in [with_address, without] {
            Entities::from_entities(sample.entities(), Some(schema)).map_err(|e| {
                format!(
                    "it must declare `entity Group;` and `entity Person in [Group] {{ roles: \
                     Set<String>, permissions: Set<String>, email_verified: Bool, country?: \
                     String, region?: String }}`: {}",
                    described(&e)
                )
            })?;
        }
        Ok(())
    }
}

/// An entity named by the app: `{"type": "Group", "id": "Support"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityRef {
    #[serde(rename = "type")]
    pub type_name: String,
    pub id: String,
}

/// The resource an app asks about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    #[serde(rename = "type")]
    pub type_name: String,
    pub id: String,
    /// Its attributes, in Cedar's entity JSON (`{"__entity": …}`, or as the schema says).
    #[serde(default)]
    pub attributes: Map<String, Value>,
    /// The entities it is in.
    #[serde(default)]
    pub parents: Vec<EntityRef>,
}

/// Whether `name` is a usable name or id: 1 to [`MAX_NAME`] characters, no control characters
/// (NUL could not even be looked up).
pub(super) fn bounded(what: &str, name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(format!(
            "{what} must be 1 to {MAX_NAME} characters, with no control characters"
        ));
    }
    Ok(())
}

impl Resource {
    /// Checks the limits and that the resource is none of the entities the service supplies.
    pub(super) fn check(&self) -> Result<(), String> {
        bounded("resource.type", &self.type_name)?;
        bounded("resource.id", &self.id)?;
        let base = self.type_name.rsplit("::").next().unwrap_or_default();
        if [PERSON, GROUP, "Action"].contains(&base) {
            return Err(format!(
                "the resource may not be a {base}: the service supplies people and groups"
            ));
        }
        if self.attributes.len() > MAX_ATTRIBUTES {
            return Err(format!(
                "a resource may have at most {MAX_ATTRIBUTES} attributes"
            ));
        }
        if self.parents.len() > MAX_PARENTS {
            return Err(format!("a resource may have at most {MAX_PARENTS} parents"));
        }
        for parent in &self.parents {
            bounded("a parent's type", &parent.type_name)?;
            bounded("a parent's id", &parent.id)?;
        }
        Ok(())
    }

    /// `Type::"id"`.
    pub(super) fn uid(&self) -> Result<EntityUid, String> {
        uid(&self.type_name, &self.id)
    }

    /// The resource as a Cedar entity, checked against `schema`.
    fn entity(&self, schema: &Schema) -> Result<Entity, String> {
        let value = json!({
            "uid": { "type": self.type_name, "id": self.id },
            "attrs": self.attributes,
            "parents": self.parents,
        });
        Entity::from_json_value(value, Some(schema))
            .map_err(|e| format!("the resource does not fit the schema: {}", described(&e)))
    }
}

/// Everything a request is evaluated over: the person, their groups, the resource and the
/// schema's actions, checked against `schema`.
pub(super) fn entities(
    schema: &Schema,
    person: &Person,
    resource: &Resource,
) -> Result<Entities, String> {
    let mut all = person.entities();
    all.push(resource.entity(schema)?);
    Entities::from_entities(all, Some(schema))
        .map_err(|e| format!("the entities do not fit the schema: {}", described(&e)))
}
