//! The schemas `/Schemas` publishes (RFC 7643 §7, §8.7): User and Group as this service keeps
//! them (only what it stores, with the mutability it honours), and the three that describe
//! discovery itself (ServiceProviderConfig, ResourceType, Schema).

use app::domain::scim::{GROUP_SCHEMA, USER_SCHEMA};
use serde_json::{json, Value};

pub const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// One attribute: `kind` (string, boolean, complex, reference, dateTime, integer), then
/// `flags`: `multi`, `required`, `exact`, the mutability (`readOnly`, `immutable`, default
/// `readWrite`), `unique` (uniqueness `server`).
fn attr(name: &str, kind: &str, flags: &[&str], description: &str) -> Value {
    let has = |f: &str| flags.contains(&f);
    let mutability = ["readOnly", "immutable", "writeOnly"]
        .into_iter()
        .find(|m| has(m))
        .unwrap_or("readWrite");
    let mut a = json!({
        "name": name,
        "type": kind,
        "multiValued": has("multi"),
        "description": description,
        "required": has("required"),
        "caseExact": has("exact"),
        "mutability": mutability,
        "returned": if has("always") { "always" } else { "default" },
        "uniqueness": if has("unique") { "server" } else { "none" },
    });
    if kind == "reference" {
        a["referenceTypes"] = json!(["User"]);
    }
    a
}

fn complex(name: &str, flags: &[&str], description: &str, subs: Vec<Value>) -> Value {
    let mut a = attr(name, "complex", flags, description);
    a["subAttributes"] = Value::Array(subs);
    a
}

fn schema(id: &str, name: &str, description: &str, attributes: Vec<Value>, base: &str) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": id,
        "name": name,
        "description": description,
        "attributes": attributes,
        "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{id}") },
    })
}

fn user(base: &str) -> Value {
    let mut work = attr("type", "string", &["readOnly"], "Always work.");
    work["canonicalValues"] = json!(["work"]);
    let attributes = vec![
        attr(
            "userName",
            "string",
            &["required", "unique"],
            "The person's email address: their account's address, unique whatever the case.",
        ),
        complex(
            "name",
            &[],
            "The parts of the person's name.",
            vec![
                attr("formatted", "string", &[], "The whole name, as displayed."),
                attr("familyName", "string", &[], "The family name."),
                attr("givenName", "string", &[], "The given name."),
            ],
        ),
        attr(
            "displayName",
            "string",
            &[],
            "The name shown for the person (letters, digits, spaces and ' - . , only).",
        ),
        complex(
            "emails",
            &["multi", "readOnly"],
            "The account's address: the same as userName, changed through userName.",
            vec![
                attr("value", "string", &["readOnly"], "The address."),
                work,
                attr("primary", "boolean", &["readOnly"], "Always true."),
            ],
        ),
        complex(
            "phoneNumbers",
            &["multi", "readOnly"],
            "The phone number the person proved themselves, if any.",
            vec![
                attr("value", "string", &["readOnly"], "The number (E.164)."),
                attr("type", "string", &["readOnly"], "Always mobile."),
            ],
        ),
        attr(
            "active",
            "boolean",
            &[],
            "Whether the person may sign in: false locks the account and ends every sign-in.",
        ),
    ];
    schema(USER_SCHEMA, "User", "A customer account.", attributes, base)
}

fn group(base: &str) -> Value {
    let mut kind = attr(
        "type",
        "string",
        &["immutable"],
        "Always User: groups do not nest.",
    );
    kind["canonicalValues"] = json!(["User"]);
    let attributes = vec![
        attr(
            "displayName",
            "string",
            &["required", "unique"],
            "The group's name, unique whatever the case.",
        ),
        complex(
            "members",
            &["multi"],
            "The people in the group.",
            vec![
                attr("value", "string", &["immutable"], "The member's User id."),
                attr("$ref", "reference", &["immutable"], "The member's User."),
                kind,
            ],
        ),
    ];
    schema(
        GROUP_SCHEMA,
        "Group",
        "A group of people in the directory.",
        attributes,
        base,
    )
}

fn service_provider_config(base: &str) -> Value {
    let supported = |name: &str| {
        complex(
            name,
            &["required", "readOnly"],
            "Whether it is supported.",
            vec![attr(
                "supported",
                "boolean",
                &["required", "readOnly"],
                "Whether it is supported.",
            )],
        )
    };
    let attributes = vec![
        attr(
            "documentationUri",
            "reference",
            &["readOnly"],
            "Help about the service.",
        ),
        supported("patch"),
        supported("bulk"),
        supported("filter"),
        supported("changePassword"),
        supported("sort"),
        supported("etag"),
        complex(
            "authenticationSchemes",
            &["multi", "required", "readOnly"],
            "How clients authenticate.",
            vec![
                attr("type", "string", &["required", "readOnly"], "The scheme."),
                attr("name", "string", &["required", "readOnly"], "Its name."),
                attr(
                    "description",
                    "string",
                    &["required", "readOnly"],
                    "What it is.",
                ),
            ],
        ),
    ];
    let description = "The service provider's configuration.";
    schema(
        SPC_SCHEMA,
        "ServiceProviderConfig",
        description,
        attributes,
        base,
    )
}

fn resource_type(base: &str) -> Value {
    let attributes = vec![
        attr("id", "string", &["readOnly"], "The resource type's id."),
        attr("name", "string", &["required", "readOnly"], "Its name."),
        attr("description", "string", &["readOnly"], "What it is."),
        attr(
            "endpoint",
            "reference",
            &["required", "readOnly"],
            "Its endpoint.",
        ),
        attr(
            "schema",
            "reference",
            &["required", "readOnly", "exact"],
            "Its schema.",
        ),
    ];
    schema(
        RESOURCE_TYPE_SCHEMA,
        "ResourceType",
        "A type of resource.",
        attributes,
        base,
    )
}

fn schema_schema(base: &str) -> Value {
    let attributes = vec![
        attr(
            "id",
            "string",
            &["required", "readOnly"],
            "The schema's URI.",
        ),
        attr("name", "string", &["readOnly"], "Its name."),
        attr("description", "string", &["readOnly"], "What it describes."),
        complex(
            "attributes",
            &["multi", "required", "readOnly"],
            "Its attributes.",
            vec![
                attr(
                    "name",
                    "string",
                    &["required", "readOnly", "exact"],
                    "The name.",
                ),
                attr("type", "string", &["required", "readOnly"], "The type."),
                attr(
                    "multiValued",
                    "boolean",
                    &["required", "readOnly"],
                    "Multi-valued.",
                ),
                attr("required", "boolean", &["readOnly"], "Required."),
                attr("mutability", "string", &["readOnly"], "Mutability."),
                attr("returned", "string", &["readOnly"], "When returned."),
                attr("uniqueness", "string", &["readOnly"], "Uniqueness."),
            ],
        ),
    ];
    schema(SCHEMA_SCHEMA, "Schema", "A schema.", attributes, base)
}

/// Every schema, `base` the service's `/scim/v2` URL.
pub fn all(base: &str) -> Vec<Value> {
    vec![
        user(base),
        group(base),
        service_provider_config(base),
        resource_type(base),
        schema_schema(base),
    ]
}
