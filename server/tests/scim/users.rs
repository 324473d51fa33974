//! Users: create, read, replace and delete customers; the address is `userName` and unique;
//! `active` false locks the account as staff do and true unlocks it; webhooks and the audit
//! trail hear of each change with the provisioning client as the actor; staff are invisible.

use app::domain::{
    audit::Actor,
    webhooks::{self, NewSubscription},
};
use reqwest::header;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{assert_error, audits, Scim, USER};
use crate::support::TestApp;

/// Subscribes a local address to every event, so that `webhook_deliveries` shows them.
async fn subscribe(app: &TestApp) {
    let new = NewSubscription {
        name: "recorder".into(),
        url: "http://127.0.0.1:9/hooks".into(),
        events: webhooks::EventType::ALL
            .map(|e| e.as_str().to_owned())
            .to_vec(),
        allow_private_targets: true,
    };
    webhooks::add(&app.db, webhooks::secret_box(&app.state), &new, Actor::Cli)
        .await
        .unwrap();
}

async fn events(db: &PgPool, person: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT event_type FROM webhook_deliveries WHERE person_id = $1 ORDER BY id")
        .bind(Uuid::parse_str(person).unwrap())
        .fetch_all(db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_user_is_created_read_replaced_and_deleted(db: PgPool) {
    let app = TestApp::spawn(db).await;
    subscribe(&app).await;
    let scim = Scim::new(&app, "Entra ID").await;
    let actor = Some(format!("scim:{}", scim.id));

    let created = scim
        .post(
            "/Users",
            json!({
                "schemas": [USER],
                "userName": "Ada.Lovelace@Example.ORG",
                "externalId": "e-1",
                "name": { "givenName": "Ada", "familyName": "Lovelace", "formatted": "Ada Lovelace" },
                "displayName": "Ada L.",
                "emails": [{ "value": "ignored@example.org", "primary": true }],
                "active": true,
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": "R&D" },
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let u = &created.body;
    let id = u["id"].as_str().unwrap().to_owned();
    assert_eq!(u["userName"], "Ada.Lovelace@example.org");
    assert_eq!(
        u["emails"],
        json!([{ "value": "Ada.Lovelace@example.org", "type": "work", "primary": true }])
    );
    assert_eq!(u["name"]["givenName"], "Ada");
    assert_eq!(u["displayName"], "Ada L.");
    assert_eq!(u["externalId"], "e-1");
    assert_eq!(u["active"], true);
    assert_eq!(u["meta"]["resourceType"], "User");
    let location = format!("{}/scim/v2/Users/{id}", app.public_url);
    assert_eq!(u["meta"]["location"], location);
    assert_eq!(created.headers[header::LOCATION], location.as_str());
    assert_eq!(
        created.headers[header::ETAG],
        u["meta"]["version"].as_str().unwrap()
    );

    // The account is a proven customer without a password.
    let (role, verified, password): (String, bool, bool) = sqlx::query_as(
        "SELECT role, email_verified_at IS NOT NULL, password_hash IS NOT NULL FROM users
         WHERE id = $1",
    )
    .bind(Uuid::parse_str(&id).unwrap())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        (role.as_str(), verified, password),
        ("customer", true, false)
    );

    let read = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body, created.body);
    // A client that knows the version is told nothing changed.
    let etag = read.headers[header::ETAG].to_str().unwrap().to_owned();
    let unchanged = scim
        .send(
            reqwest::Method::GET,
            &format!("/Users/{id}"),
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(unchanged.status, 304);
    let partial = scim
        .get(&format!("/Users/{id}?attributes=userName,name.givenName"))
        .await;
    assert_eq!(
        partial.body,
        json!({ "schemas": [USER], "id": id, "userName": "Ada.Lovelace@example.org",
                "name": { "givenName": "Ada" } })
    );
    let less = scim
        .get(&format!("/Users/{id}?excludedAttributes=name,emails"))
        .await;
    assert!(less.body.get("name").is_none() && less.body.get("emails").is_none());
    assert_eq!(less.body["id"], id.as_str());

    // PUT replaces: what is left out is cleared; active left out stays as it is.
    let replaced = scim
        .put(
            &format!("/Users/{id}"),
            json!({ "schemas": [USER], "userName": "ada@example.org", "displayName": "Ada King" }),
        )
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    let r = &replaced.body;
    assert_eq!(r["userName"], "ada@example.org");
    assert_eq!(r["displayName"], "Ada King");
    assert!(
        r.get("name").is_none() && r.get("externalId").is_none(),
        "{r}"
    );
    assert_eq!(r["active"], true);
    assert_ne!(r["meta"]["version"], u["meta"]["version"]);
    // The old address is told of the move, as when staff move an account.
    app.mail
        .wait_for("Ada.Lovelace@example.org", "email address")
        .await;

    // A stale version is refused and changes nothing.
    let stale = scim
        .send(
            reqwest::Method::PUT,
            &format!("/Users/{id}"),
            Some(&json!({ "schemas": [USER], "userName": "x@example.org" })),
            &[("if-match", &etag)],
        )
        .await;
    assert_error(&stale, 412, None);
    assert_eq!(
        scim.get(&format!("/Users/{id}")).await.body["userName"],
        "ada@example.org"
    );

    // The address, the display name and the name's parts: each an update.
    assert_eq!(
        events(&app.db, &id).await,
        [
            "person.created",
            "person.updated",
            "person.updated",
            "person.updated"
        ]
    );
    let deleted = scim.delete(&format!("/Users/{id}")).await;
    assert_eq!(deleted.status, 204);
    assert_error(&scim.get(&format!("/Users/{id}")).await, 404, None);
    assert_error(&scim.delete(&format!("/Users/{id}")).await, 404, None);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0);

    // Webhooks heard what the console's changes make them hear; the erasure left only its own.
    let left: Vec<String> = sqlx::query_scalar("SELECT event_type FROM webhook_deliveries")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(left, ["person.deleted"]);
    assert_eq!(audits(&app.db, "account.provisioned").await.len(), 1);
    assert_eq!(audits(&app.db, "account.provisioned").await[0].0, actor);
    assert_eq!(audits(&app.db, "email.changed_by_staff").await[0].0, actor);
    assert_eq!(audits(&app.db, "profile.updated").await[0].0, actor);
    assert_eq!(audits(&app.db, "account.deprovisioned").await[0].0, actor);
    assert_eq!(audits(&app.db, "account.erased").await.len(), 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn webhooks_hear_of_creation_changes_and_locking(db: PgPool) {
    let app = TestApp::spawn(db).await;
    subscribe(&app).await;
    let scim = Scim::new(&app, "Okta").await;
    let id = scim
        .user("grace@example.org", json!({ "displayName": "Grace" }))
        .await;
    let res = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{ "op": "replace", "value": { "displayName": "Grace Hopper", "active": false } }]),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        events(&app.db, &id).await,
        ["person.created", "person.updated", "person.locked"]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn deactivating_locks_the_account_and_ends_its_sign_ins(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let scim = Scim::new(&app, "Okta").await;
    let browser = app.signed_in_customer("ada@example.org").await;
    assert!(browser.me().await.is_some());
    let listed = scim
        .get("/Users?filter=userName%20eq%20%22ADA@example.org%22")
        .await;
    assert_eq!(listed.body["totalResults"], 1);
    let id = listed.body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let off = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{ "op": "replace", "path": "active", "value": false }]),
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(off.body["active"], false);
    assert!(
        browser.me().await.is_none(),
        "the session outlived the lock"
    );
    let locked: bool = sqlx::query_scalar("SELECT locked_at IS NOT NULL FROM users WHERE id = $1")
        .bind(Uuid::parse_str(&id).unwrap())
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(locked);
    let actor = Some(format!("scim:{}", scim.id));
    let subject = Some(Uuid::parse_str(&id).unwrap());
    assert_eq!(
        audits(&app.db, "account.locked").await,
        [(actor.clone(), subject)]
    );
    let filtered = scim.get("/Users?filter=active%20eq%20false").await;
    assert_eq!(filtered.body["totalResults"], 1);

    // Entra ID writes the operation and the boolean as words.
    let on = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{ "op": "Replace", "path": "active", "value": "True" }]),
        )
        .await;
    assert_eq!(on.status, 200, "{}", on.body);
    assert_eq!(on.body["active"], true);
    assert_eq!(
        audits(&app.db, "account.unlocked").await,
        [(actor, subject)]
    );
    let res = browser
        .call(
            "sign-in",
            &[
                ("email", "ada@example.org"),
                ("password", crate::support::GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);

    // Created inactive, an account starts locked.
    let off = scim
        .user("bob@example.org", json!({ "active": false }))
        .await;
    assert_eq!(
        scim.get(&format!("/Users/{off}")).await.body["active"],
        false
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn addresses_are_unique_whatever_the_case(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let scim = Scim::new(&app, "Okta").await;
    let ada = scim.user("ada@example.org", json!({})).await;
    let res = scim
        .post(
            "/Users",
            json!({ "schemas": [USER], "userName": "ADA@example.org" }),
        )
        .await;
    assert_error(&res, 409, Some("uniqueness"));
    let bob = scim.user("bob@example.org", json!({})).await;
    let res = scim
        .put(
            &format!("/Users/{bob}"),
            json!({ "schemas": [USER], "userName": "Ada@Example.org" }),
        )
        .await;
    assert_error(&res, 409, Some("uniqueness"));
    let res = scim
        .patch(
            &format!("/Users/{bob}"),
            json!([{ "op": "replace", "path": "userName", "value": "ada@example.org" }]),
        )
        .await;
    assert_error(&res, 409, Some("uniqueness"));
    assert_eq!(
        scim.get(&format!("/Users/{bob}")).await.body["userName"],
        "bob@example.org"
    );
    assert_eq!(
        scim.get(&format!("/Users/{ada}")).await.body["userName"],
        "ada@example.org"
    );
    // An address registered through the portal is taken too.
    app.signed_in_customer("carol@example.org").await;
    let res = scim
        .post(
            "/Users",
            json!({ "schemas": [USER], "userName": "carol@example.org" }),
        )
        .await;
    assert_error(&res, 409, Some("uniqueness"));
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_input_is_refused_with_nothing_written(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let scim = Scim::new(&app, "Okta").await;
    for (body, scim_type) in [
        (json!({ "schemas": [USER] }), "invalidValue"),
        (
            json!({ "schemas": [USER], "userName": "not an address" }),
            "invalidValue",
        ),
        (json!({ "schemas": [USER], "userName": 7 }), "invalidValue"),
        (
            json!({ "schemas": [USER], "userName": "a@example.org", "displayName": "<script>" }),
            "invalidValue",
        ),
        (
            json!({ "schemas": [USER], "userName": "a@example.org", "active": "maybe" }),
            "invalidValue",
        ),
        (
            json!({ "schemas": [USER], "userName": "a@example.org", "name": "Ada" }),
            "invalidValue",
        ),
        (
            json!({ "schemas": [USER], "userName": "a@example.org", "externalId": "x".repeat(300) }),
            "invalidValue",
        ),
        (json!(["not", "an", "object"]), "invalidSyntax"),
        (
            json!({ "schemas": [USER], "userName": "a\u{0}b@example.org" }),
            "invalidValue",
        ),
        (
            json!({ "schemas": [USER], "userName": "a@example.org", "externalId": "x\u{0}" }),
            "invalidValue",
        ),
        (
            json!({ "schemas": [USER], "userName": "a@example.org", "name": { "givenName": "\u{0}" } }),
            "invalidValue",
        ),
    ] {
        assert_error(&scim.post("/Users", body).await, 400, Some(scim_type));
    }
    let res = scim
        .send(
            reqwest::Method::POST,
            "/Users",
            None,
            &[("content-type", "application/scim+json")],
        )
        .await;
    assert_error(&res, 400, Some("invalidSyntax"));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 0);
    assert_error(&scim.get("/Users/not-a-uuid").await, 404, None);
    assert_error(
        &scim.get(&format!("/Users/{}", Uuid::new_v4())).await,
        404,
        None,
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn staff_accounts_are_not_provisioned(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let scim = Scim::new(&app, "Okta").await;
    app.signed_in_admin("admin@example.org").await;
    let admin: Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = 'admin@example.org'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(scim.get("/Users").await.body["totalResults"], 0);
    assert_error(&scim.get(&format!("/Users/{admin}")).await, 404, None);
    assert_error(&scim.delete(&format!("/Users/{admin}")).await, 404, None);
    let res = scim
        .patch(
            &format!("/Users/{admin}"),
            json!([{ "op": "replace", "path": "active", "value": false }]),
        )
        .await;
    assert_error(&res, 404, None);
    let res = scim
        .post(
            "/Users",
            json!({ "schemas": [USER], "userName": "admin@example.org" }),
        )
        .await;
    assert_error(&res, 409, Some("uniqueness"));
}
