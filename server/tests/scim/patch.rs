//! PATCH on Users: with and without a path, sub-attributes, value filters, remove, Entra ID's
//! spellings; read-only attributes (`id`, `meta`, `emails`) refused as `mutability` with
//! nothing changed; malformed requests refused as `invalidSyntax` or `invalidPath`.

use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;

use super::{assert_error, Scim, PATCH};
use crate::support::TestApp;

#[sqlx::test(migrations = "../migrations")]
async fn every_form_of_patch_lands(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let scim = Scim::new(&app, "Entra ID").await;
    let id = scim
        .user("ada@example.org", json!({ "displayName": "Ada" }))
        .await;
    let at = format!("/Users/{id}");

    let res = scim
        .patch(&at, json!([
            { "op": "add", "path": "name.givenName", "value": "Ada" },
            { "op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName", "value": "Lovelace" },
            { "op": "add", "path": "externalId", "value": "x-1" },
        ]))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        res.body["name"],
        json!({ "givenName": "Ada", "familyName": "Lovelace" })
    );
    assert_eq!(res.body["externalId"], "x-1");

    // Without a path: the value's attributes, complex ones merged.
    let res = scim
        .patch(&at, json!([{ "op": "replace", "value": {
            "displayName": "Countess", "name": { "formatted": "Ada King" }, "userName": "ada.king@example.org"
        } }]))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["displayName"], "Countess");
    assert_eq!(
        res.body["name"],
        json!({ "givenName": "Ada", "familyName": "Lovelace", "formatted": "Ada King" })
    );
    assert_eq!(res.body["userName"], "ada.king@example.org");

    // Okta repeats the id in a replace without a path: the same id is no change.
    let res = scim
        .patch(
            &at,
            json!([{ "op": "replace", "value": { "id": id, "displayName": "Countess A" } }]),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["displayName"], "Countess A");

    // Entra ID sets the work address with a value filter: the same address is no change.
    let res = scim
        .patch(&at, json!([{ "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "ada.king@example.org" }]))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);

    // Remove: the attribute goes; the account keeps a name of its own, not shown as displayName.
    let res = scim
        .patch(
            &at,
            json!([
                { "op": "remove", "path": "displayName" },
                { "op": "remove", "path": "name.formatted" },
                { "op": "remove", "path": "externalId" },
            ]),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body.get("displayName").is_none(), "{}", res.body);
    assert!(res.body.get("externalId").is_none());
    assert_eq!(
        res.body["name"],
        json!({ "givenName": "Ada", "familyName": "Lovelace" })
    );
    let stored: String = sqlx::query_scalar("SELECT display_name FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, "Ada Lovelace");
    let res = scim
        .patch(&at, json!([{ "op": "remove", "path": "name" }]))
        .await;
    assert!(res.body.get("name").is_none());

    // Replacing with the same values changes nothing and needs no version.
    let before = scim.get(&at).await.body;
    let res = scim
        .patch(
            &at,
            json!([{ "op": "replace", "path": "active", "value": true }]),
        )
        .await;
    assert_eq!(res.body["meta"]["version"], before["meta"]["version"]);
    // A matching If-Match is accepted, with or without the weakness mark.
    let version = before["meta"]["version"].as_str().unwrap();
    let body = json!({ "schemas": [PATCH], "Operations": [{ "op": "add", "path": "displayName", "value": "Ada" }] });
    let res = scim
        .send(
            Method::PATCH,
            &at,
            Some(&body),
            &[("if-match", version.trim_start_matches("W/"))],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let res = scim
        .send(Method::PATCH, &at, Some(&body), &[("if-match", version)])
        .await;
    assert_error(&res, 412, None);
}

#[sqlx::test(migrations = "../migrations")]
async fn read_only_and_malformed_patches_change_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let scim = Scim::new(&app, "Okta").await;
    let id = scim
        .user("ada@example.org", json!({ "displayName": "Ada" }))
        .await;
    let at = format!("/Users/{id}");
    let before = scim.get(&at).await.body;

    for ops in [
        json!([{ "op": "replace", "path": "id", "value": "00000000-0000-0000-0000-000000000000" }]),
        json!([{ "op": "replace", "path": "meta.created", "value": "2000-01-01T00:00:00Z" }]),
        json!([{ "op": "add", "path": "meta", "value": { "resourceType": "Group" } }]),
        json!([{ "op": "remove", "path": "meta" }]),
        json!([{ "op": "replace", "value": { "id": "x", "displayName": "Mallory" } }]),
        json!([{ "op": "replace", "path": "emails[type eq \"work\"].value", "value": "eve@example.org" }]),
        json!([{ "op": "add", "path": "phoneNumbers", "value": [{ "value": "+15551234567" }] }]),
        // The first operation alone would pass: the request is all or nothing.
        json!([{ "op": "replace", "path": "displayName", "value": "Mallory" }, { "op": "remove", "path": "id" }]),
    ] {
        assert_error(&scim.patch(&at, ops).await, 400, Some("mutability"));
    }
    for (ops, scim_type) in [
        (
            json!([{ "op": "replace", "path": "password", "value": "x" }]),
            "invalidPath",
        ),
        (
            json!([{ "op": "replace", "path": "name.middleName", "value": "x" }]),
            "invalidPath",
        ),
        (
            json!([{ "op": "replace", "path": "name[givenName eq \"a\"]", "value": "x" }]),
            "invalidPath",
        ),
        (
            json!([{ "op": "replace", "path": "emails[value eq ", "value": "x" }]),
            "invalidPath",
        ),
        (json!([{ "op": "remove" }]), "noTarget"),
        (
            json!([{ "op": "replace", "path": "emails[type eq \"home\"].value", "value": "x@example.org" }]),
            "noTarget",
        ),
        (
            json!([{ "op": "move", "path": "displayName", "value": "x" }]),
            "invalidSyntax",
        ),
        (
            json!([{ "op": "add", "path": "displayName" }]),
            "invalidSyntax",
        ),
        (
            json!([{ "op": "replace", "value": "Mallory" }]),
            "invalidSyntax",
        ),
        (json!([]), "invalidSyntax"),
        (
            json!([{ "op": "remove", "path": "userName" }]),
            "invalidValue",
        ),
        (
            json!([{ "op": "replace", "path": "active", "value": 3 }]),
            "invalidValue",
        ),
        (
            json!([{ "op": "replace", "path": "displayName", "value": "Robert'); DROP TABLE users;--" }]),
            "invalidValue",
        ),
    ] {
        assert_error(&scim.patch(&at, ops).await, 400, Some(scim_type));
    }
    // Not a PatchOp message at all.
    let res = scim
        .send(Method::PATCH, &at, Some(&json!({ "Operations": [] })), &[])
        .await;
    assert_error(&res, 400, Some("invalidSyntax"));
    assert_eq!(scim.get(&at).await.body, before);
}
