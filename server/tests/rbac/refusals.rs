//! Bad names, unknown apps, roles, groups and people: each refused by a specific error with
//! nothing changed and nothing audited; and the audit trail of every change, with its actor.

use app::domain::{
    audit::Actor,
    directory::{
        self, groups,
        roles::{self, Holder},
        DirectoryError,
    },
    email::Email,
    oidc::clients::ClientType,
};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::{strings, support_desk, user_id};
use crate::support::{
    oidc::{register, register_service},
    TestApp,
};

/// Rows in each of the directory's tables, and the directory's audit rows.
async fn counts(app: &TestApp) -> [i64; 7] {
    let row: (i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM app_permissions), (SELECT count(*) FROM app_roles),
                (SELECT count(*) FROM app_role_permissions), (SELECT count(*) FROM groups),
                (SELECT count(*) FROM group_members), (SELECT count(*) FROM role_assignments),
                (SELECT count(*) FROM audit_events
                 WHERE action LIKE 'role.%' OR action LIKE 'group.%')",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    [row.0, row.1, row.2, row.3, row.4, row.5, row.6]
}

fn said<T: std::fmt::Debug>(result: Result<T, DirectoryError>) -> String {
    result.expect_err("refused").to_string()
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_names_are_refused_and_nothing_changes(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let c = client.client_id.as_str();
    let db = &app.db;
    let none: Vec<String> = vec![];
    let long = "r".repeat(101);
    for bad in [
        "support agent",
        "",
        "agent/1",
        "agënt",
        " agent",
        long.as_str(),
    ] {
        let refused = roles::define(db, c, bad, None, &none, Actor::Cli).await;
        assert_eq!(
            said(refused),
            format!(
                "a role's name must be 1 to 100 characters of letters, digits and : . _ - (got {bad:?})"
            )
        );
    }
    for bad in ["tickets read", "", "tickets\"read", long.as_str()] {
        let permissions = strings(&["tickets:read", bad]);
        let refused = roles::define(db, c, "agent", None, &permissions, Actor::Cli).await;
        assert_eq!(
            said(refused),
            format!(
                "a permission must be 1 to 100 characters of letters, digits and : . _ - (got {bad:?})"
            )
        );
    }
    let description = "d".repeat(501);
    for bad in ["two\nlines", description.as_str()] {
        let refused = roles::define(db, c, "agent", Some(bad), &none, Actor::Cli).await;
        assert_eq!(
            said(refused),
            "a description must be 1 to 500 characters, with no control characters"
        );
    }
    let long_group = "g".repeat(101);
    for bad in ["", "   ", "tab\there", long_group.as_str()] {
        assert_eq!(
            said(groups::create(db, bad, None, Actor::Cli).await),
            "a group's name must be 1 to 100 characters, with no control characters"
        );
    }
    assert_eq!(counts(&app).await, [0; 7]);

    // A group's name is unique whatever its case.
    groups::create(db, " Support ", Some("Front line"), Actor::Cli)
        .await
        .unwrap();
    groups::create(db, "Sales", None, Actor::Cli).await.unwrap();
    let before = counts(&app).await;
    assert_eq!(
        said(groups::create(db, "SUPPORT", None, Actor::Cli).await),
        "a group named \"SUPPORT\" already exists"
    );
    assert_eq!(
        said(groups::rename(db, "sales", "support", Actor::Cli).await),
        "a group named \"support\" already exists"
    );
    assert_eq!(
        said(groups::rename(db, "Sales", "", Actor::Cli).await),
        "a group's name must be 1 to 100 characters, with no control characters"
    );
    assert_eq!(counts(&app).await, before);
    let names: Vec<String> = groups::list(db)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(names, ["Sales", "Support"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_apps_roles_groups_and_people_are_refused(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let c = client.client_id.as_str();
    let (service, _) = register_service(&app, &["reports"]).await;
    let _browser = app.signed_in_customer("ada@example.org").await;
    let ada = user_id(&app, "ada@example.org").await;
    support_desk(&app, c, ada).await;
    let before = counts(&app).await;
    let db = &app.db;
    let granted = strings(&["tickets:read"]);
    let nobody = Uuid::new_v4();

    assert_eq!(
        said(roles::define(db, "nope", "agent", None, &granted, Actor::Cli).await),
        "no app has the client id \"nope\""
    );
    assert_eq!(
        said(roles::define(db, &service, "agent", None, &granted, Actor::Cli).await),
        format!("app {service:?} is a service: it signs no one in, so it has no roles")
    );
    assert_eq!(
        said(roles::list(db, "nope").await),
        "no app has the client id \"nope\""
    );
    assert_eq!(
        said(roles::delete(db, c, "admin", Actor::Cli).await),
        format!("app {c:?} has no role named \"admin\"")
    );
    // Role names are exact: `Agent` is not `agent`.
    assert_eq!(
        said(roles::assign(db, c, "Agent", Holder::Person(ada), Actor::Cli).await),
        format!("app {c:?} has no role named \"Agent\"")
    );
    assert_eq!(
        said(roles::assign(db, "nope", "agent", Holder::Person(ada), Actor::Cli).await),
        "no app has the client id \"nope\""
    );
    assert_eq!(
        said(roles::assign(db, c, "agent", Holder::Group("Nobody"), Actor::Cli).await),
        "no group is named \"Nobody\""
    );
    assert_eq!(
        said(roles::unassign(db, c, "agent", Holder::Person(nobody), Actor::Cli).await),
        format!("no account uses {nobody}")
    );
    assert_eq!(
        said(roles::of(db, c, nobody).await),
        format!("no account uses {nobody}")
    );
    assert_eq!(
        said(roles::of(db, "nope", ada).await),
        "no app has the client id \"nope\""
    );
    assert_eq!(
        said(groups::add_member(db, "Nobody", ada, Actor::Cli).await),
        "no group is named \"Nobody\""
    );
    assert_eq!(
        said(groups::add_member(db, "Support", nobody, Actor::Cli).await),
        format!("no account uses {nobody}")
    );
    assert_eq!(
        said(groups::remove_member(db, "Nobody", ada, Actor::Cli).await),
        "no group is named \"Nobody\""
    );
    assert_eq!(
        said(groups::delete(db, "Nobody", Actor::Cli).await),
        "no group is named \"Nobody\""
    );
    assert_eq!(
        said(groups::members(db, "Nobody").await),
        "no group is named \"Nobody\""
    );
    let stranger = Email::parse("nobody@example.org").unwrap();
    assert_eq!(
        said(directory::person(db, &stranger).await),
        "no account uses nobody@example.org"
    );
    // Giving what is held, or taking what is not, changes nothing either.
    assert!(
        !roles::assign(db, c, "agent", Holder::Person(ada), Actor::Cli)
            .await
            .unwrap()
    );
    assert!(
        !roles::unassign(db, c, "viewer", Holder::Person(ada), Actor::Cli)
            .await
            .unwrap()
    );
    assert!(!groups::add_member(db, "SUPPORT", ada, Actor::Cli)
        .await
        .unwrap());
    assert_eq!(counts(&app).await, before);
}

#[sqlx::test(migrations = "../migrations")]
async fn every_change_is_audited_with_its_actor(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let c = client.client_id.as_str();
    let _browser = app.signed_in_customer("ada@example.org").await;
    let ada = user_id(&app, "ada@example.org").await;
    support_desk(&app, c, ada).await;
    let db = &app.db;
    groups::rename(db, "support", "Helpdesk", Actor::Cli)
        .await
        .unwrap();
    roles::unassign(db, c, "agent", Holder::Person(ada), Actor::Cli)
        .await
        .unwrap();
    groups::remove_member(db, "Helpdesk", ada, Actor::Cli)
        .await
        .unwrap();
    assert_eq!(roles::delete(db, c, "viewer", Actor::Cli).await.unwrap(), 1);
    let deleted = groups::delete(db, "Helpdesk", Actor::Cli).await.unwrap();
    assert_eq!((deleted.members, deleted.role_assignments), (0, 0));

    type AuditRow = (String, Option<String>, Option<Uuid>, Option<Uuid>, Value);
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT action, actor, actor_id, subject_id, detail FROM audit_events
         WHERE action LIKE 'role.%' OR action LIKE 'group.%' ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        actions,
        [
            "role.defined",
            "role.defined",
            "group.created",
            "group.member_added",
            "role.assigned",
            "role.assigned",
            "group.renamed",
            "role.unassigned",
            "group.member_removed",
            "role.deleted",
            "group.deleted",
        ]
    );
    for (action, actor, actor_id, _, _) in &rows {
        assert_eq!(
            (actor.as_deref(), *actor_id),
            (Some("cli"), None),
            "{action}"
        );
    }
    let subjects: Vec<Option<Uuid>> = rows.iter().map(|r| r.3).collect();
    let a = Some(ada);
    assert_eq!(
        subjects,
        [None, None, None, a, a, None, None, a, a, None, None]
    );
    let detail = |i: usize| rows[i].4.clone();
    assert_eq!(detail(0)["client_id"], c);
    assert_eq!(detail(0)["role"], "agent");
    assert_eq!(
        detail(0)["permissions"],
        serde_json::json!(["tickets:read", "tickets:write"])
    );
    assert_eq!(detail(0)["before"], Value::Null);
    assert_eq!(detail(1)["description"], "Reads");
    assert_eq!(detail(2)["name"], "Support");
    assert_eq!(detail(3)["group"], "Support");
    assert_eq!(detail(4)["role"], "agent");
    assert!(detail(4).get("group").is_none());
    assert_eq!(detail(5)["group"], "Support");
    assert_eq!(detail(6)["from"], "Support");
    assert_eq!(detail(6)["to"], "Helpdesk");
    assert_eq!(detail(7)["role"], "agent");
    assert_eq!(detail(8)["group"], "Helpdesk");
    assert_eq!(detail(9)["role"], "viewer");
    assert_eq!(detail(9)["assignments"], 1);
    assert_eq!(detail(10)["name"], "Helpdesk");
    // Nothing names the person but the subject column.
    for row in &rows {
        assert!(!row.4.to_string().contains("ada@example.org"), "{}", row.0);
    }
}
