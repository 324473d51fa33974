//! The PATCH engine over a resource's JSON, without a database.

use serde_json::{json, Map, Value};

use super::*;

static ATTRS: &[Attribute] = &[
    Attribute {
        name: "displayName",
        multi: false,
        subs: &[],
    },
    Attribute {
        name: "name",
        multi: false,
        subs: &["givenName", "familyName"],
    },
    Attribute {
        name: "members",
        multi: true,
        subs: &["value", "type"],
    },
];

fn run(doc: Value, operations: Value) -> Result<Value, ScimError> {
    let body = json!({ "schemas": [PATCH_SCHEMA], "Operations": operations });
    let ops = parse_request(&body, ATTRS)?;
    let mut doc: Map<String, Value> = doc.as_object().cloned().unwrap();
    apply(&mut doc, &ops, ATTRS)?;
    Ok(Value::Object(doc))
}

fn kind(result: Result<Value, ScimError>) -> &'static str {
    match result {
        Err(ScimError::Invalid { scim_type, .. }) => scim_type,
        other => panic!("{other:?}"),
    }
}

#[test]
fn add_appends_to_multi_valued_and_merges_complex() {
    let doc = json!({ "members": [{ "value": "a" }], "name": { "givenName": "Ada" } });
    let out = run(
        doc,
        json!([
            { "op": "add", "path": "members", "value": [{ "value": "b" }, { "value": "a" }] },
            { "op": "ADD", "path": "NAME", "value": { "FAMILYNAME": "Lovelace" } },
            { "op": "add", "value": { "displayname": "Ada L" } },
        ]),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({
            "members": [{ "value": "a" }, { "value": "b" }],
            "name": { "givenName": "Ada", "familyName": "Lovelace" },
            "displayName": "Ada L",
        })
    );
}

#[test]
fn filters_pick_the_values_an_operation_touches() {
    let doc =
        json!({ "members": [{ "value": "a", "type": "User" }, { "value": "b", "type": "User" }] });
    let out = run(
        doc.clone(),
        json!([{ "op": "remove", "path": "members[value eq \"A\"]" }]),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({ "members": [{ "value": "b", "type": "User" }] })
    );
    let out = run(
        doc.clone(),
        json!([{ "op": "replace", "path": "members[value eq \"b\"].type", "value": "Group" }]),
    )
    .unwrap();
    assert_eq!(out["members"][1]["type"], "Group");
    // Entra ID's remove by value; the last value gone, the attribute goes.
    let out = run(
        doc.clone(),
        json!([{ "op": "remove", "path": "members", "value": [{ "value": "a" }, { "value": "b" }] }]),
    )
    .unwrap();
    assert_eq!(out, json!({}));
    // Removing what is not there is no error; replacing it is.
    assert!(run(
        doc.clone(),
        json!([{ "op": "remove", "path": "members[value eq \"z\"]" }])
    )
    .is_ok());
    let missing = json!([{ "op": "replace", "path": "members[value eq \"z\"]", "value": {} }]);
    assert_eq!(kind(run(doc, missing)), "noTarget");
}

#[test]
fn replace_sets_and_remove_clears() {
    let doc = json!({ "displayName": "A", "name": { "givenName": "Ada" }, "members": [{ "value": "a" }] });
    let out = run(
        doc,
        json!([
            { "op": "replace", "path": "members", "value": [{ "value": "c" }] },
            { "op": "remove", "path": "name.givenName" },
            { "op": "replace", "path": "displayName", "value": null },
        ]),
    )
    .unwrap();
    assert_eq!(out, json!({ "members": [{ "value": "c" }] }));
}

#[test]
fn malformed_requests_are_refused() {
    let doc = json!({});
    for (ops, expected) in [
        (json!([{ "op": "remove" }]), "noTarget"),
        (
            json!([{ "op": "copy", "path": "displayName" }]),
            "invalidSyntax",
        ),
        (
            json!([{ "op": "add", "path": "displayName" }]),
            "invalidSyntax",
        ),
        (
            json!([{ "op": "add", "path": "nickName", "value": "x" }]),
            "invalidPath",
        ),
        (
            json!([{ "op": "add", "path": "name.middleName", "value": "x" }]),
            "invalidPath",
        ),
        (
            json!([{ "op": "add", "path": "displayName[value eq \"x\"]", "value": "x" }]),
            "invalidPath",
        ),
        (
            json!([{ "op": "add", "path": "members[value eq", "value": "x" }]),
            "invalidPath",
        ),
        (json!([{ "op": "add", "value": ["x"] }]), "invalidSyntax"),
        (json!("add"), "invalidSyntax"),
    ] {
        assert_eq!(kind(run(doc.clone(), ops.clone())), expected, "{ops}");
    }
    let wrong_schema = json!({ "schemas": ["urn:x"], "Operations": [] });
    assert!(parse_request(&wrong_schema, ATTRS).is_err());
}
