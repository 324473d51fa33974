//! What provisioning keeps about a person is answered for in the privacy inventory: their
//! "Download my data" holds it, and a SCIM DELETE erases them as a due "Delete my account"
//! does: no row names them and no column holds their address, names or external id.

use app::domain::privacy::{self, Erasure, Export};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{Scim, GROUP};
use crate::support::{eventually, TestApp};

/// Where any of `needles` appears in a text or JSON column, as `table.column`.
async fn hits(db: &PgPool, needles: &[&str]) -> Vec<String> {
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%'
           AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'ARRAY')",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let mut found = Vec::new();
    for (table, column) in columns {
        for needle in needles {
            let n: i64 = sqlx::query_scalar(&format!(
                "SELECT count(*) FROM \"{table}\"
                 WHERE position(lower($1) in lower(\"{column}\"::text)) > 0"
            ))
            .bind(needle)
            .fetch_one(db)
            .await
            .unwrap();
            if n > 0 {
                found.push(format!("{table}.{column} holds {needle}"));
            }
        }
    }
    found
}

#[test]
fn the_inventory_exports_and_erases_what_provisioning_keeps() {
    let scim: Vec<&privacy::Table> = privacy::tables()
        .filter(|(module, _)| *module == "domain::scim")
        .map(|(_, t)| t)
        .collect();
    for name in ["scim_users", "scim_user_ids"] {
        let table = scim.iter().find(|t| t.name == name).unwrap();
        assert_eq!(table.export, Export::Rows, "{name}");
        assert_eq!(table.erasure, Erasure::Delete, "{name}");
        assert_eq!(table.person, Some("user_id"));
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_deleted_user_leaves_nothing_behind(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let scim = Scim::new(&app, "Entra ID").await;
    let id = scim
        .user(
            "Zelda.Quux@example.org",
            json!({ "externalId": "ext-zq-77", "displayName": "Zelda Quux",
                    "name": { "givenName": "Zeldina", "familyName": "Quuxley" } }),
        )
        .await;
    let group = scim
        .post(
            "/Groups",
            json!({ "schemas": [GROUP], "displayName": "Pilots", "members": [{ "value": id }] }),
        )
        .await;
    assert_eq!(group.status, 201);
    let user = Uuid::parse_str(&id).unwrap();
    let needles = [
        "zelda.quux@example.org",
        "Zeldina",
        "Quuxley",
        "ext-zq-77",
        "Zelda Quux",
    ];
    // Before: the inventory's tables hold them.
    for table in ["scim_users", "scim_user_ids", "group_members"] {
        let n: i64 =
            sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE user_id = $1"))
                .bind(user)
                .fetch_one(&app.db)
                .await
                .unwrap();
        assert_eq!(n, 1, "{table}");
    }
    assert!(!hits(&app.db, &needles).await.is_empty());

    assert_eq!(scim.delete(&format!("/Users/{id}")).await.status, 204);
    app.mail
        .wait_for("Zelda.Quux@example.org", "account was deleted")
        .await;
    let clean = eventually(|| async { hits(&app.db, &needles).await.is_empty() }).await;
    assert!(clean, "{:?}", hits(&app.db, &needles).await);
    let named: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM audit_events WHERE subject_id = $1)
              + (SELECT count(*) FROM scim_users WHERE user_id = $1)
              + (SELECT count(*) FROM scim_user_ids WHERE user_id = $1)",
    )
    .bind(user)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(named, 0);
    // The group stays, without them.
    let pilots = scim
        .get(&format!("/Groups/{}", group.body["id"].as_str().unwrap()))
        .await;
    assert!(pilots.body.get("members").is_none());
}

#[sqlx::test(migrations = "../migrations")]
async fn the_persons_export_holds_what_provisioning_said(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer("ada@example.org").await;
    let scim = Scim::new(&app, "Entra ID").await;
    let found = scim
        .get("/Users?filter=userName%20eq%20%22ada@example.org%22")
        .await;
    let id = found.body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{ "op": "add", "value": { "externalId": "ext-ada", "name": { "givenName": "Ada" } } }]),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);

    let res = browser.call("my-data/export/request", &[]).await;
    assert_eq!(res.status(), 200);
    let built = eventually(|| async {
        let res = browser.call("my-data/export", &[]).await;
        res.json::<serde_json::Value>().await.unwrap()["state"] == "ready"
    })
    .await;
    assert!(built, "the export was not built");
    let file: serde_json::Value = browser
        .get("/profile/data/download?format=json")
        .await
        .json()
        .await
        .unwrap();
    let names = &file["tables"]["scim_users"]["rows"];
    assert_eq!(names.as_array().unwrap().len(), 1, "{file}");
    assert_eq!(names[0]["given_name"], "Ada");
    let ids = &file["tables"]["scim_user_ids"]["rows"];
    assert_eq!(ids[0]["external_id"], "ext-ada");
    assert_eq!(ids[0]["client_id"], scim.id.to_string());
}
