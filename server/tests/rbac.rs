//! Partner apps' roles and permissions and the directory's groups: roles held directly or
//! through a group reach the ID token, the access token and userinfo with the `roles` scope
//! (and nothing without it), a change reaches the next token issue, an app sees its own roles
//! only, bad names and unknown apps, roles, groups and people are refused with nothing
//! changed, each change is audited, and an erased person's memberships and assignments go.
//! The operator's commands are driven in `rbac/cli.rs`, the refusals and the audit trail in
//! `rbac/refusals.rs`, the consent screen and the erasure in `rbac/people.rs`.

mod cli;
mod people;
mod refusals;

use crate::support::{
    oidc::{code_for, code_form, register, token, userinfo},
    Browser, TestApp,
};
use app::domain::{
    audit::Actor,
    directory::{
        groups,
        roles::{self, Defined, Holder},
    },
    oidc::{clients::ClientType, registration::Registered},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

/// The payload of a JWT.
fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// The account id of `email`.
pub(crate) async fn user_id(app: &TestApp, email: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// The token response for a fresh code of public `client` with `scope`.
async fn tokens(app: &TestApp, browser: &Browser, client: &Registered, scope: &str) -> Value {
    let code = code_for(browser, client, &[("scope", scope)]).await;
    let res = token(app, &code_form(&client.client_id, &code), None).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn refreshed(app: &TestApp, client: &Registered, issued: &Value) -> Value {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", issued["refresh_token"].as_str().unwrap()),
        ("client_id", client.client_id.as_str()),
    ];
    let res = token(app, &form, None).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn userinfo_of(app: &TestApp, issued: &Value) -> Value {
    let res = userinfo(app, issued["access_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// The `roles` and `permissions` of the ID token, the access token and userinfo, each as
/// `{ "roles": …, "permissions": … }` (members missing stay missing).
async fn everywhere(app: &TestApp, issued: &Value) -> [Value; 3] {
    let pick = |claims: &Value| {
        let mut got = serde_json::Map::new();
        for name in ["roles", "permissions"] {
            if let Some(value) = claims.get(name) {
                got.insert(name.into(), value.clone());
            }
        }
        Value::Object(got)
    };
    [
        pick(&payload(issued["id_token"].as_str().unwrap())),
        pick(&payload(issued["access_token"].as_str().unwrap())),
        pick(&userinfo_of(app, issued).await),
    ]
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A support desk in `client`: `agent` (tickets:write, tickets:read) given to `person`,
/// `viewer` (tickets:read, reports:read) to the group `Support`, which `person` is in.
async fn support_desk(app: &TestApp, client: &str, person: Uuid) {
    let db = &app.db;
    let agent = strings(&["tickets:write", "tickets:read", "tickets:write"]);
    let done = roles::define(db, client, "agent", None, &agent, Actor::Cli);
    assert_eq!(done.await.unwrap(), Defined::Created);
    let viewer = strings(&["tickets:read", "reports:read"]);
    let done = roles::define(db, client, "viewer", Some("Reads"), &viewer, Actor::Cli);
    assert_eq!(done.await.unwrap(), Defined::Created);
    groups::create(db, "Support", None, Actor::Cli)
        .await
        .unwrap();
    assert!(groups::add_member(db, "support", person, Actor::Cli)
        .await
        .unwrap());
    let to_person = roles::assign(db, client, "agent", Holder::Person(person), Actor::Cli);
    assert!(to_person.await.unwrap());
    let to_group = roles::assign(db, client, "viewer", Holder::Group("Support"), Actor::Cli);
    assert!(to_group.await.unwrap());
}

fn desk_claims() -> Value {
    json!({
        "roles": ["agent", "viewer"],
        "permissions": ["reports:read", "tickets:read", "tickets:write"],
    })
}

#[sqlx::test(migrations = "../migrations")]
async fn roles_held_directly_and_through_a_group_reach_every_token(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.org").await;
    support_desk(
        &app,
        &client.client_id,
        user_id(&app, "ada@example.org").await,
    )
    .await;

    let issued = tokens(&app, &browser, &client, "openid roles").await;
    assert_eq!(issued["scope"], "openid roles");
    for got in everywhere(&app, &issued).await {
        assert_eq!(got, desk_claims());
    }

    // Held both ways, a role counts once.
    let db = &app.db;
    let direct = roles::assign(
        db,
        &client.client_id,
        "viewer",
        Holder::Person(user_id(&app, "ada@example.org").await),
        Actor::Cli,
    );
    assert!(direct.await.unwrap());
    let issued = tokens(&app, &browser, &client, "openid roles").await;
    for got in everywhere(&app, &issued).await {
        assert_eq!(got, desk_claims());
    }

    // With the scope and no roles: empty arrays.
    let other = app.signed_in_customer("bob@example.org").await;
    let issued = tokens(&app, &other, &client, "openid roles").await;
    for got in everywhere(&app, &issued).await {
        assert_eq!(got, json!({ "roles": [], "permissions": [] }));
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn without_the_scope_no_token_holds_them(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.org").await;
    support_desk(
        &app,
        &client.client_id,
        user_id(&app, "ada@example.org").await,
    )
    .await;

    let issued = tokens(&app, &browser, &client, "openid profile email").await;
    for got in everywhere(&app, &issued).await {
        assert_eq!(got, json!({}));
    }

    // An app not allowed the scope does not get it when it asks.
    let narrow = register(&app, ClientType::Public, true).await;
    sqlx::query("UPDATE oauth_clients SET scopes = array_remove(scopes, 'roles') WHERE id = $1")
        .bind(&narrow.client_id)
        .execute(&app.db)
        .await
        .unwrap();
    support_desk_again(&app, &narrow.client_id).await;
    let issued = tokens(&app, &browser, &narrow, "openid roles").await;
    assert_eq!(issued["scope"], "openid");
    for got in everywhere(&app, &issued).await {
        assert_eq!(got, json!({}));
    }
}

/// `agent` of `client`, given to the group `Support` (which exists).
async fn support_desk_again(app: &TestApp, client: &str) {
    let granted = strings(&["tickets:read"]);
    roles::define(&app.db, client, "agent", None, &granted, Actor::Cli)
        .await
        .unwrap();
    let to_group = roles::assign(
        &app.db,
        client,
        "agent",
        Holder::Group("Support"),
        Actor::Cli,
    );
    assert!(to_group.await.unwrap());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_change_reaches_the_next_refresh_and_userinfo_at_once(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.org").await;
    let ada = user_id(&app, "ada@example.org").await;
    support_desk(&app, &client.client_id, ada).await;
    let first = tokens(&app, &browser, &client, "openid roles offline_access").await;
    assert_eq!(everywhere(&app, &first).await[0], desk_claims());

    // The role given to Ada herself is taken away.
    let db = &app.db;
    let taken = roles::unassign(
        db,
        &client.client_id,
        "agent",
        Holder::Person(ada),
        Actor::Cli,
    );
    assert!(taken.await.unwrap());
    let viewer_only = json!({
        "roles": ["viewer"],
        "permissions": ["reports:read", "tickets:read"],
    });
    // Userinfo reads afresh; the tokens already issued keep what they said.
    assert_eq!(everywhere(&app, &first).await[2], viewer_only);
    assert_eq!(everywhere(&app, &first).await[0], desk_claims());
    let second = refreshed(&app, &client, &first).await;
    for got in everywhere(&app, &second).await {
        assert_eq!(got, viewer_only);
    }

    // Leaving the group takes its role; a second unassign changes nothing.
    let taken = roles::unassign(
        db,
        &client.client_id,
        "agent",
        Holder::Person(ada),
        Actor::Cli,
    );
    assert!(!taken.await.unwrap());
    assert!(groups::remove_member(db, "Support", ada, Actor::Cli)
        .await
        .unwrap());
    let third = refreshed(&app, &client, &second).await;
    for got in everywhere(&app, &third).await {
        assert_eq!(got, json!({ "roles": [], "permissions": [] }));
    }

    // A role redefined grants what it grants now.
    assert!(groups::add_member(db, "Support", ada, Actor::Cli)
        .await
        .unwrap());
    let granted = strings(&["reports:read"]);
    let done = roles::define(
        db,
        &client.client_id,
        "viewer",
        Some("Reads"),
        &granted,
        Actor::Cli,
    );
    assert_eq!(done.await.unwrap(), Defined::Changed);
    let done = roles::define(
        db,
        &client.client_id,
        "viewer",
        Some("Reads"),
        &granted,
        Actor::Cli,
    );
    assert_eq!(done.await.unwrap(), Defined::Unchanged);
    let fourth = refreshed(&app, &client, &third).await;
    let expected = json!({ "roles": ["viewer"], "permissions": ["reports:read"] });
    for got in everywhere(&app, &fourth).await {
        assert_eq!(got, expected);
    }
    // A deleted role is gone at the next refresh, and so is every assignment of it.
    assert_eq!(
        roles::delete(db, &client.client_id, "viewer", Actor::Cli)
            .await
            .unwrap(),
        1
    );
    let fifth = refreshed(&app, &client, &fourth).await;
    assert_eq!(
        everywhere(&app, &fifth).await[1],
        json!({ "roles": [], "permissions": [] })
    );
    // The permissions only `viewer` granted are gone; `agent`'s stay until it goes too.
    let catalogue = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT name FROM app_permissions WHERE client_id = $1 ORDER BY name",
        )
        .bind(&client.client_id)
        .fetch_all(&app.db)
        .await
        .unwrap()
    };
    assert_eq!(catalogue().await, ["tickets:read", "tickets:write"]);
    assert_eq!(
        roles::delete(db, &client.client_id, "agent", Actor::Cli)
            .await
            .unwrap(),
        0
    );
    assert!(catalogue().await.is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn an_app_never_sees_another_apps_roles(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let desk = register(&app, ClientType::Public, true).await;
    let shop = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.org").await;
    let ada = user_id(&app, "ada@example.org").await;
    support_desk(&app, &desk.client_id, ada).await;
    // The shop has a role of the same name, which Ada does not hold.
    let granted = strings(&["orders:refund"]);
    roles::define(
        &app.db,
        &shop.client_id,
        "agent",
        None,
        &granted,
        Actor::Cli,
    )
    .await
    .unwrap();

    let issued = tokens(&app, &browser, &shop, "openid roles").await;
    for got in everywhere(&app, &issued).await {
        assert_eq!(got, json!({ "roles": [], "permissions": [] }));
    }
    let issued = tokens(&app, &browser, &desk, "openid roles").await;
    for got in everywhere(&app, &issued).await {
        assert_eq!(got, desk_claims());
    }
    let listed = roles::list(&app.db, &shop.client_id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].permissions, ["orders:refund"]);
    assert_eq!((listed[0].people, listed[0].groups), (0, 0));

    // Deleting an app deletes its roles, permissions and their assignments.
    sqlx::query("DELETE FROM oauth_clients WHERE id = $1")
        .bind(&shop.client_id)
        .execute(&app.db)
        .await
        .unwrap();
    let left: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM app_roles WHERE client_id = $1),
                (SELECT count(*) FROM app_permissions WHERE client_id = $1)",
    )
    .bind(&shop.client_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(left, (0, 0));
}
