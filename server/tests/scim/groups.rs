//! Groups onto the directory's groups: create with members, filter, replace, PATCH members in
//! every form identity providers send (add, remove by value filter, Entra ID's remove by value,
//! replace), rename, delete; each change audited with the client as actor; unknown members and
//! nested groups refused with nothing changed.

use app::domain::directory::groups as directory;
use serde_json::{json, Value};
use sqlx::PgPool;

use super::{assert_error, audits, Scim, GROUP};
use crate::support::TestApp;

fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|m| m["value"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

fn sorted(ids: &[&String]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    ids.sort();
    ids
}

#[sqlx::test(migrations = "../migrations")]
async fn groups_and_their_members_are_kept_in_step(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let scim = Scim::new(&app, "Entra ID").await;
    let actor = Some(format!("scim:{}", scim.id));
    let ada = scim.user("ada@example.org", json!({})).await;
    let bob = scim.user("bob@example.org", json!({})).await;
    let carol = scim.user("carol@example.org", json!({})).await;

    let created = scim
        .post(
            "/Groups",
            json!({ "schemas": [GROUP], "displayName": "Support", "externalId": "g-1",
                    "members": [{ "value": ada }, { "value": bob, "type": "User" }] }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let at = format!("/Groups/{id}");
    assert_eq!(created.body["displayName"], "Support");
    assert_eq!(created.body["externalId"], "g-1");
    assert_eq!(member_ids(&created.body), sorted(&[&ada, &bob]));
    let first = &created.body["members"][0];
    assert_eq!(first["type"], "User");
    assert_eq!(
        first["$ref"],
        format!(
            "{}/scim/v2/Users/{}",
            app.public_url,
            first["value"].as_str().unwrap()
        )
    );
    // The directory has it, as the command line would show it.
    let listed = directory::list(&app.db).await.unwrap();
    assert_eq!((listed[0].name.as_str(), listed[0].members), ("Support", 2));

    let res = scim
        .get("/Groups?filter=displayName%20eq%20%22support%22")
        .await;
    assert_eq!(res.body["totalResults"], 1);
    let res = scim
        .get(&format!(
            "/Groups?filter=members%5Bvalue%20eq%20%22{carol}%22%5D"
        ))
        .await;
    assert_eq!(res.body["totalResults"], 0);
    let res = scim.get("/Groups?filter=externalId%20eq%20%22g-1%22").await;
    assert_eq!(res.body["Resources"][0]["id"], id.as_str());
    let res = scim
        .get(&format!(
            "/Groups?filter=id%20eq%20%22{id}%22&attributes=displayName"
        ))
        .await;
    assert!(res.body["Resources"][0].get("members").is_none());

    // Add one, remove one by a value filter, in one request.
    let res = scim
        .patch(
            &at,
            json!([
                { "op": "add", "path": "members", "value": [{ "value": carol }] },
                { "op": "remove", "path": format!("members[value eq \"{ada}\"]") },
            ]),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(member_ids(&res.body), sorted(&[&bob, &carol]));
    // Entra ID removes by value, and renames without a path.
    let res = scim
        .patch(
            &at,
            json!([
                { "op": "Remove", "path": "members", "value": [{ "value": bob }] },
                { "op": "Replace", "value": { "displayName": "Front line" } },
            ]),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(member_ids(&res.body), sorted(&[&carol]));
    assert_eq!(res.body["displayName"], "Front line");
    // Replace every member.
    let res = scim
        .patch(&at, json!([{ "op": "replace", "path": "members", "value": [{ "value": ada }, { "value": bob }] }]))
        .await;
    assert_eq!(member_ids(&res.body), sorted(&[&ada, &bob]));
    // PUT: what is left out goes.
    let res = scim
        .put(
            &at,
            json!({ "schemas": [GROUP], "displayName": "Front line" }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body.get("members").is_none() && res.body.get("externalId").is_none());

    let actions: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT action, actor FROM audit_events WHERE action LIKE 'group.%' ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert!(actions.iter().all(|(_, a)| *a == actor), "{actions:?}");
    let names: Vec<&str> = actions.iter().map(|(a, _)| a.as_str()).collect();
    for expected in [
        "group.created",
        "group.member_added",
        "group.member_removed",
        "group.renamed",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }

    assert_eq!(scim.delete(&at).await.status, 204);
    assert_error(&scim.get(&at).await, 404, None);
    assert!(directory::list(&app.db).await.unwrap().is_empty());
    assert_eq!(audits(&app.db, "group.deleted").await[0].0, actor);
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_groups_are_refused_with_nothing_changed(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let scim = Scim::new(&app, "Okta").await;
    let ada = scim.user("ada@example.org", json!({})).await;
    let id = scim
        .post(
            "/Groups",
            json!({ "schemas": [GROUP], "displayName": "Support", "members": [{ "value": ada }] }),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let at = format!("/Groups/{id}");
    let before = scim.get(&at).await.body;

    let res = scim
        .post(
            "/Groups",
            json!({ "schemas": [GROUP], "displayName": "SUPPORT" }),
        )
        .await;
    assert_error(&res, 409, Some("uniqueness"));
    for body in [
        json!({ "schemas": [GROUP] }),
        json!({ "schemas": [GROUP], "displayName": "" }),
        json!({ "schemas": [GROUP], "displayName": "X", "members": [{ "value": "nobody" }] }),
        json!({ "schemas": [GROUP], "displayName": "X", "members": [{ "value": uuid::Uuid::new_v4() }] }),
        json!({ "schemas": [GROUP], "displayName": "X", "members": [{ "value": id, "type": "Group" }] }),
        json!({ "schemas": [GROUP], "displayName": "X", "members": "everyone" }),
    ] {
        assert_error(&scim.post("/Groups", body).await, 400, Some("invalidValue"));
    }
    let ops = json!([
        { "op": "add", "path": "members", "value": [{ "value": uuid::Uuid::new_v4() }] },
        { "op": "replace", "path": "displayName", "value": "Renamed" },
    ]);
    assert_error(&scim.patch(&at, ops).await, 400, Some("invalidValue"));
    let ops = json!([{ "op": "replace", "path": "id", "value": "x" }]);
    assert_error(&scim.patch(&at, ops).await, 400, Some("mutability"));
    let ops =
        json!([{ "op": "replace", "path": "members[value eq \"nobody\"].value", "value": "x" }]);
    assert_error(&scim.patch(&at, ops).await, 400, Some("noTarget"));
    assert_eq!(scim.get(&at).await.body, before);
    let groups: i64 = sqlx::query_scalar("SELECT count(*) FROM groups")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(groups, 1);
}
