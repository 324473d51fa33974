//! `server group` and `server role`, run as an operator would: what they change reaches the
//! next token, what they print, their refusals (nothing changed), and their audit rows
//! (actor `cli`).

use serde_json::json;
use sqlx::PgPool;

use super::{everywhere, tokens};
use crate::support::{cli::server_command, oidc::register, TestApp};
use app::domain::oidc::clients::ClientType;

/// Runs `server` with `args`; its standard output, after checking it succeeded.
async fn ok(app: &TestApp, args: &[&str]) -> String {
    let out = server_command(&app.db, args).await;
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `server` with `args`; its standard error, after checking it failed.
async fn refused(app: &TestApp, args: &[&str]) -> String {
    let out = server_command(&app.db, args).await;
    assert!(!out.status.success(), "{args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn directory_audits(app: &TestApp) -> Vec<(String, Option<String>)> {
    sqlx::query_as(
        "SELECT action, actor FROM audit_events
         WHERE action LIKE 'role.%' OR action LIKE 'group.%' ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_commands_set_up_what_the_next_token_carries(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let c = client.client_id.as_str();
    let browser = app.signed_in_customer("ada@example.org").await;

    let out = ok(
        &app,
        &["group", "add", "Support", "--description", "Front line"],
    )
    .await;
    assert_eq!(out, "Added the group Support.\n");
    let out = ok(
        &app,
        &[
            "group",
            "add-member",
            "support",
            "--email",
            "ada@example.org",
        ],
    )
    .await;
    assert_eq!(out, "Added ada@example.org to support.\n");
    let out = ok(&app, &["group", "list"]).await;
    assert!(
        out.starts_with("Support ") && out.contains("1 member(s)"),
        "{out}"
    );
    assert!(out.contains("Front line"), "{out}");
    let out = ok(&app, &["group", "members", "Support"]).await;
    assert_eq!(out, "ada@example.org\n");

    let out = ok(
        &app,
        &[
            "role",
            "define",
            "--client",
            c,
            "--name",
            "agent",
            "--permission",
            "tickets:write",
            "--permission",
            "tickets:read",
            "--description",
            "Answers tickets",
        ],
    )
    .await;
    assert_eq!(out, format!("Defined the role agent of {c}.\n"));
    let define_viewer = [
        "role",
        "define",
        "--client",
        c,
        "--name",
        "viewer",
        "--permission",
        "reports:read",
    ];
    ok(&app, &define_viewer).await;
    let out = ok(&app, &define_viewer).await;
    assert_eq!(
        out,
        format!("Nothing to change in the role viewer of {c}.\n")
    );
    let out = ok(
        &app,
        &[
            "role",
            "assign",
            "--client",
            c,
            "--role",
            "agent",
            "--email",
            "ada@example.org",
        ],
    )
    .await;
    assert_eq!(out, format!("Gave agent of {c} to ada@example.org.\n"));
    let out = ok(
        &app,
        &[
            "role", "assign", "--client", c, "--role", "viewer", "--group", "Support",
        ],
    )
    .await;
    assert_eq!(out, format!("Gave viewer of {c} to the group Support.\n"));
    let out = ok(&app, &["role", "list", "--client", c]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("agent ") && lines[0].contains("tickets:read tickets:write"));
    assert!(lines[0].contains("(Answers tickets)"), "{out}");
    assert!(lines[1].starts_with("viewer ") && lines[1].contains("reports:read"));
    let of = ["role", "of", "--client", c, "--email", "ada@example.org"];
    assert_eq!(
        ok(&app, &of).await,
        "roles: agent viewer\npermissions: reports:read tickets:read tickets:write\n"
    );

    let issued = tokens(&app, &browser, &client, "openid roles").await;
    for got in everywhere(&app, &issued).await {
        assert_eq!(
            got,
            json!({
                "roles": ["agent", "viewer"],
                "permissions": ["reports:read", "tickets:read", "tickets:write"],
            })
        );
    }

    let out = ok(
        &app,
        &[
            "role",
            "unassign",
            "--client",
            c,
            "--role",
            "agent",
            "--email",
            "ada@example.org",
        ],
    )
    .await;
    assert_eq!(out, format!("Took agent of {c} from ada@example.org.\n"));
    ok(
        &app,
        &[
            "group",
            "remove-member",
            "Support",
            "--email",
            "ada@example.org",
        ],
    )
    .await;
    assert_eq!(ok(&app, &of).await, "roles: \npermissions: \n");
    let issued = tokens(&app, &browser, &client, "openid roles").await;
    assert_eq!(
        everywhere(&app, &issued).await[0],
        json!({ "roles": [], "permissions": [] })
    );

    ok(&app, &["group", "rename", "Support", "Helpdesk"]).await;
    let out = ok(&app, &["group", "remove", "Helpdesk"]).await;
    assert_eq!(
        out,
        "Removed the group Helpdesk: 0 member(s) left it, 1 role assignment(s) ended.\n"
    );
    let out = ok(&app, &["role", "remove", "--client", c, "--name", "agent"]).await;
    assert_eq!(
        out,
        format!("Removed the role agent of {c}: 0 assignment(s) ended.\n")
    );
    assert_eq!(
        ok(&app, &["role", "list", "--client", c])
            .await
            .lines()
            .count(),
        1
    );

    let audits = directory_audits(&app).await;
    assert_eq!(audits.len(), 11, "{audits:?}");
    assert!(audits
        .iter()
        .all(|(_, actor)| actor.as_deref() == Some("cli")));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_commands_refuse_bad_input_and_change_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let c = client.client_id.as_str();
    let _browser = app.signed_in_customer("ada@example.org").await;
    ok(&app, &["group", "add", "Support"]).await;
    ok(&app, &["role", "define", "--client", c, "--name", "agent"]).await;
    let before = directory_audits(&app).await;

    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["role", "define", "--client", "nope", "--name", "agent"],
            "no app has the client id \"nope\"".into(),
        ),
        (
            vec!["role", "define", "--client", c, "--name", "support agent"],
            "a role's name must be 1 to 100 characters".into(),
        ),
        (
            vec![
                "role",
                "define",
                "--client",
                c,
                "--name",
                "a",
                "--permission",
                "x y",
            ],
            "a permission must be 1 to 100 characters".into(),
        ),
        (
            vec![
                "role",
                "assign",
                "--client",
                c,
                "--role",
                "agent",
                "--email",
                "nobody@example.org",
            ],
            "no account uses nobody@example.org".into(),
        ),
        (
            vec![
                "role", "assign", "--client", c, "--role", "agent", "--group", "Nobody",
            ],
            "no group is named \"Nobody\"".into(),
        ),
        (
            vec![
                "role", "assign", "--client", c, "--role", "admin", "--group", "Support",
            ],
            format!("app {c:?} has no role named \"admin\""),
        ),
        (
            vec![
                "role",
                "assign",
                "--client",
                c,
                "--role",
                "agent",
                "--group",
                "Support",
                "--email",
                "ada@example.org",
            ],
            "cannot be used with".into(),
        ),
        (
            vec!["role", "assign", "--client", c, "--role", "agent"],
            "the following required arguments were not provided".into(),
        ),
        (
            vec![
                "role",
                "of",
                "--client",
                "nope",
                "--email",
                "ada@example.org",
            ],
            "no app has the client id \"nope\"".into(),
        ),
        (
            vec![
                "group",
                "add-member",
                "Support",
                "--email",
                "not-an-address",
            ],
            "--email: Enter an email address like name@example.com.".into(),
        ),
        (
            vec!["group", "add", "Support"],
            "a group named \"Support\" already exists".into(),
        ),
        (
            vec!["group", "remove", "Nobody"],
            "no group is named \"Nobody\"".into(),
        ),
        (
            vec!["group", "members", "Nobody"],
            "no group is named \"Nobody\"".into(),
        ),
    ];
    for (args, message) in cases {
        let said = refused(&app, &args).await;
        assert!(said.contains(&message), "{args:?}: {said}");
    }
    assert_eq!(directory_audits(&app).await, before);
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM role_assignments")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(held, 0);
}
