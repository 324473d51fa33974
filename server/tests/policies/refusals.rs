//! What is refused, and how: policies that do not parse or do not validate against the
//! schema (Cedar's own message, nothing changed), requests that do not fit (problem JSON,
//! never a 500), and the audit row of a save, here and from the command line.

use super::{ask, desk, person, ticket, Desk, POLICIES, SCHEMA};
use crate::support::{cli::server_command, oidc::register, TestApp};
use app::domain::{
    audit::Actor,
    directory::{
        policies::{self, PolicyError},
        roles::{self, Holder},
    },
    oidc::clients::ClientType,
};
use reqwest::Response;
use serde_json::{json, Value};

/// The problem JSON of `res`, which must have `status`.
async fn problem(res: Response, status: u16) -> Value {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status, "{body}");
    assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string());
    body
}

#[sqlx::test(migrations = "../migrations")]
async fn policies_that_do_not_validate_or_parse_are_refused_and_nothing_changes(db: sqlx::PgPool) {
    let app = TestApp::spawn(db).await;
    let desk = desk(&app).await;
    let before = policies::show(&app.db, &desk.client_id)
        .await
        .unwrap()
        .unwrap();
    let refused = [
        // A String compared with a Long.
        POLICIES.replace(
            "principal.region == resource.region",
            "principal.region == context.hour",
        ),
        // An attribute the schema does not declare.
        POLICIES.replace(
            "resource.owner == principal",
            "resource.author == principal",
        ),
        // Not Cedar.
        POLICIES.replace(
            "permit (principal, action == Action::\"read\", resource is Ticket)",
            "permit (principal, action",
        ),
    ];
    let mut messages = vec![];
    for text in &refused {
        let err = policies::set(&app.db, &desk.client_id, SCHEMA, text, Actor::Cli)
            .await
            .unwrap_err();
        assert!(matches!(err, PolicyError::Policies(_)), "{err}");
        messages.push(err.to_string());
    }
    assert!(
        messages[0].contains("support-reads-own-region"),
        "{}",
        messages[0]
    );
    assert!(
        messages[0].to_lowercase().contains("type"),
        "{}",
        messages[0]
    );
    assert!(messages[1].contains("author"), "{}", messages[1]);
    assert!(messages[2].contains("unexpected"), "{}", messages[2]);
    let bad_schema = policies::set(
        &app.db,
        &desk.client_id,
        "entity Person {",
        POLICIES,
        Actor::Cli,
    );
    assert!(matches!(
        bad_schema.await.unwrap_err(),
        PolicyError::Schema(_)
    ));

    assert_eq!(
        policies::show(&app.db, &desk.client_id)
            .await
            .unwrap()
            .unwrap(),
        before
    );
    let saves: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'policy.updated'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(saves, 1, "only the first save");
}

#[sqlx::test(migrations = "../migrations")]
async fn requests_that_do_not_fit_are_refused_as_problems(db: sqlx::PgPool) {
    let app = TestApp::spawn(db).await;
    let desk = desk(&app).await;
    let ada = person(&app, "ada@example.org", true, Some("Bavaria")).await;
    let good = ticket(ada, "Bavaria", 10);

    let wrong = Desk {
        client_id: desk.client_id.clone(),
        secret: "not-the-secret".into(),
    };
    let res = ask(&app, &wrong, &good).await;
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    problem(res, 401).await;
    // The secret as a member of the body works as at the token endpoint.
    let mut posted = good.clone();
    posted["client_id"] = json!(desk.client_id);
    posted["client_secret"] = json!(desk.secret);
    let res = reqwest::Client::new()
        .post(format!("http://{}/api/v1/decisions", app.addr))
        .json(&posted)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let unknown = ticket(uuid::Uuid::new_v4(), "Bavaria", 10);
    problem(ask(&app, &desk, &unknown).await, 404).await;
    let mut not_a_sub = good.clone();
    not_a_sub["subject"] = json!("ada@example.org");
    problem(ask(&app, &desk, &not_a_sub).await, 404).await;

    let malformed = reqwest::Client::new()
        .post(format!("http://{}/api/v1/decisions", app.addr))
        .basic_auth(&desk.client_id, Some(&desk.secret))
        .header("content-type", "application/json")
        .body("{\"subject\": ")
        .send()
        .await
        .unwrap();
    problem(malformed, 400).await;
    let mut misfits = vec![];
    let mut wrong_type = good.clone();
    wrong_type["resource"]["attributes"]["region"] = json!(5);
    misfits.push(wrong_type);
    let mut unknown_action = good.clone();
    unknown_action["action"] = json!("delete");
    misfits.push(unknown_action);
    let mut wrong_context = good.clone();
    wrong_context["context"] = json!({ "hour": "ten" });
    misfits.push(wrong_context);
    let mut as_person = good.clone();
    as_person["resource"]["type"] = json!("Person");
    misfits.push(as_person);
    let mut nul = good.clone();
    nul["subject"] = json!("a\u{0}b");
    misfits.push(nul);
    let mut no_resource = good.clone();
    no_resource.as_object_mut().unwrap().remove("resource");
    misfits.push(no_resource);
    let mut crowded = good.clone();
    crowded["resource"]["parents"] = json!(vec![json!({"type": "Group", "id": "g"}); 40]);
    misfits.push(crowded);
    for misfit in &misfits {
        let body = problem(ask(&app, &desk, misfit).await, 400).await;
        assert!(!body["detail"].as_str().unwrap().is_empty());
    }
    let mut huge = good.clone();
    huge["context"]["padding"] = json!("x".repeat(70 * 1024));
    let res = ask(&app, &desk, &huge).await;
    assert_eq!(res.status(), 413);

    // An app without policies is told so, not denied.
    let bare = register(&app, ClientType::Confidential, true).await;
    let bare = Desk {
        client_id: bare.client_id,
        secret: bare.client_secret.unwrap(),
    };
    let body = problem(ask(&app, &bare, &good).await, 409).await;
    assert!(body["title"].as_str().unwrap().contains("No policies"));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_save_is_audited_with_its_actor_and_digests_from_the_command_line_too(db: sqlx::PgPool) {
    let app = TestApp::spawn(db).await;
    let desk = desk(&app).await;
    let dir = std::env::temp_dir().join(format!("policies-{}", desk.client_id));
    std::fs::create_dir_all(&dir).unwrap();
    let schema = dir.join("schema.cedarschema");
    let text = dir.join("policies.cedar");
    std::fs::write(&schema, SCHEMA).unwrap();
    std::fs::write(&text, POLICIES.replace("< 17", "< 18")).unwrap();
    let args = |more: &[&str]| {
        let mut all = vec!["policy"];
        all.extend_from_slice(more);
        all.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let set = args(&[
        "set",
        "--client",
        &desk.client_id,
        "--schema",
        schema.to_str().unwrap(),
        "--policies",
        text.to_str().unwrap(),
    ]);
    let out = server_command(&app.db, &set.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("version 2"));
    let show = args(&["show", "--client", &desk.client_id]);
    let out = server_command(
        &app.db,
        &show.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("< 18"));
    // The decision the app would get, asked by the person's address.
    let ada = person(&app, "ada@example.org", true, Some("Bavaria")).await;
    roles::assign(
        &app.db,
        &desk.client_id,
        "support-agent",
        Holder::Person(ada),
        Actor::Cli,
    )
    .await
    .unwrap();
    let question = ticket(ada, "Bavaria", 17);
    let (resource, context) = (dir.join("resource.json"), dir.join("context.json"));
    std::fs::write(&resource, question["resource"].to_string()).unwrap();
    std::fs::write(&context, question["context"].to_string()).unwrap();
    let check = args(&[
        "check",
        "--client",
        &desk.client_id,
        "--subject-email",
        "ada@example.org",
        "--action",
        "read",
        "--resource-json",
        resource.to_str().unwrap(),
        "--context-json",
        context.to_str().unwrap(),
    ]);
    let out = server_command(
        &app.db,
        &check.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.starts_with("allow by [support-reads-own-region]"),
        "{said}"
    );

    std::fs::write(&text, "permit (principal, action").unwrap();
    let out = server_command(&app.db, &set.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(!out.status.success());
    std::fs::remove_dir_all(&dir).unwrap();

    type Row = (Option<String>, Value);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT actor, detail FROM audit_events WHERE action = 'policy.updated' ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    let (actor, detail) = &rows[1];
    assert_eq!(actor.as_deref(), Some("cli"));
    assert_eq!(detail["client_id"], json!(desk.client_id));
    assert_eq!(detail["version"], 2);
    assert_eq!(detail["before"]["version"], 1);
    assert_eq!(detail["policies_sha256"].as_str().unwrap().len(), 64);
    assert_ne!(
        detail["policies_sha256"],
        detail["before"]["policies_sha256"]
    );
    assert_eq!(detail["schema_sha256"], detail["before"]["schema_sha256"]);
    assert!(detail["policy_ids"]
        .as_array()
        .unwrap()
        .contains(&json!("shared-with-group")));
    assert!(!detail.to_string().contains("permit"), "never the texts");
}
