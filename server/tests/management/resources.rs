//! Groups (created once under a key, renamed under If-Match, members added and removed,
//! deleted), apps (listed without secrets, switched off, never by themselves), and the audit
//! trail (filtered by actor and action, paged behind a cursor).

use super::{etag, problem, Caller, ALL_SCOPES};
use crate::support::TestApp;
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn groups_are_kept_with_versions_and_members(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let api = Caller::new(&app, &ALL_SCOPES).await;
    let create = |key: &'static str, name: &str| {
        api.request(Method::POST, "/api/v1/groups")
            .header("idempotency-key", key)
            .json(&json!({ "name": name, "description": "Support staff" }))
            .send()
    };
    let first = create("g-1", "Support").await.unwrap();
    assert_eq!(first.status(), 201);
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    let again = create("g-1", "Support").await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["location"], location.as_str());
    problem(create("g-2", "support").await.unwrap(), 409).await;

    // A member added: the group's version moves on, so a rename against the old one fails.
    let read = api.get(&location).await;
    let before = etag(&read);
    let person: Value = api
        .send(
            Method::POST,
            "/api/v1/people",
            &json!({ "email": "ada@example.com", "display_name": "Ada" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let member = format!("{location}/members/{}", person["id"].as_str().unwrap());
    assert_eq!(
        api.request(Method::PUT, &member)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let members: Value = api
        .get(&format!("{location}/members"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members["items"][0]["email"], "ada@example.com");
    let res = api
        .request(Method::PATCH, &location)
        .header("if-match", &before)
        .json(&json!({ "name": "Helpdesk" }))
        .send()
        .await
        .unwrap();
    problem(res, 412).await;
    let now = etag(&api.get(&location).await);
    let res = api
        .request(Method::PATCH, &location)
        .header("if-match", &now)
        .json(&json!({ "name": "Helpdesk", "description": null }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let renamed: Value = res.json().await.unwrap();
    assert_eq!(renamed["name"], "Helpdesk");
    assert_eq!(renamed["description"], Value::Null);
    assert_eq!(renamed["members"], 1);

    // Listed a page at a time.
    for name in ["Billing", "Operations"] {
        api.send(Method::POST, "/api/v1/groups", &json!({ "name": name }))
            .await;
    }
    let page: Value = api
        .get("/api/v1/groups?limit=2")
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Billing", "Helpdesk"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value = api
        .get(&format!("/api/v1/groups?limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"][0]["name"], "Operations");
    assert!(rest.get("next_cursor").is_none());

    // A member removed, the group deleted.
    assert_eq!(
        api.request(Method::DELETE, &member)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        api.request(Method::DELETE, &location)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    problem(api.get(&location).await, 404).await;
    let audited: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_events WHERE actor = $1 AND action LIKE 'group.%' ORDER BY id",
    )
    .bind(format!("app:{}", api.client_id))
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        audited,
        [
            "group.created",
            "group.member_added",
            "group.renamed",
            "group.described",
            "group.created",
            "group.created",
            "group.member_removed",
            "group.deleted",
        ]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn apps_are_listed_without_secrets_and_switched_off_but_never_by_themselves(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let api = Caller::new(&app, &ALL_SCOPES).await;
    let other = Caller::new(&app, &["users:read"]).await;
    let res = api.get("/api/v1/apps").await;
    let text = res.text().await.unwrap();
    assert!(!text.contains("secret"), "{text}");
    let apps: Value = serde_json::from_str(&text).unwrap();
    let ids: Vec<&str> = apps["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["client_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&api.client_id.as_str()) && ids.contains(&other.client_id.as_str()));

    let own = format!("/api/v1/apps/{}", api.client_id);
    problem(
        api.send(Method::PATCH, &own, &json!({ "enabled": false }))
            .await,
        409,
    )
    .await;
    let theirs = format!("/api/v1/apps/{}", other.client_id);
    let res = api
        .send(Method::PATCH, &theirs, &json!({ "enabled": false }))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["enabled"], false);
    problem(api.get("/api/v1/apps/no-such-app").await, 404).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_audit_trail_is_filtered_and_paged(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let api = Caller::new(&app, &ALL_SCOPES).await;
    for n in 0..55 {
        let res = api
            .send(
                Method::POST,
                "/api/v1/groups",
                &json!({ "name": format!("Group {n}") }),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    let actor = format!("app:{}", api.client_id);
    let first: Value = api
        .get(&format!(
            "/api/v1/audit-events?action=group.created&actor={actor}"
        ))
        .await
        .json()
        .await
        .unwrap();
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 50);
    assert!(items
        .iter()
        .all(|e| e["actor"] == actor.as_str() && e["action"] == "group.created"));
    assert_eq!(items[0]["detail"]["name"], "Group 54");
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest: Value = api
        .get(&format!(
            "/api/v1/audit-events?action=group.created&actor={actor}&cursor={cursor}"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 5);
    assert_eq!(rest["items"][4]["detail"]["name"], "Group 0");
    problem(api.get("/api/v1/audit-events?from=yesterday").await, 400).await;
    problem(api.get("/api/v1/audit-events?outcome=maybe").await, 400).await;
}
