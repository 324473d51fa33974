//! What changes a decision at once: a role taken away, a group left, new policies; and whose
//! subjects an app may ask about (its own pairwise ones, people who approved it).

use super::{ask, decided, desk, document, person, ticket, Desk, POLICIES, SCHEMA};
use crate::support::TestApp;
use app::domain::{
    audit::Actor,
    directory::{
        groups,
        policies::{self, Saved},
        roles::{self, Holder},
    },
    oidc::{
        clients::{self, ClientSecretKey, ClientType},
        registration::{self, NewClient},
        subjects,
    },
};
use serde_json::Value;

#[sqlx::test(migrations = "../migrations")]
async fn a_role_or_a_group_taken_away_changes_the_next_decision(db: sqlx::PgPool) {
    let app = TestApp::spawn(db).await;
    let desk = desk(&app).await;
    let ada = person(&app, "ada@example.org", true, Some("Bavaria")).await;
    let owner = person(&app, "owner@example.org", true, None).await;
    let assign = |how| roles::assign(&app.db, &desk.client_id, "support-agent", how, Actor::Cli);
    assign(Holder::Person(ada)).await.unwrap();
    let request = ticket(ada, "Bavaria", 11);
    assert_eq!(decided(&app, &desk, &request).await.0, "allow");
    assert_eq!(
        decided(&app, &desk, &request).await.0,
        "allow",
        "asked again"
    );

    roles::unassign(
        &app.db,
        &desk.client_id,
        "support-agent",
        Holder::Person(ada),
        Actor::Cli,
    )
    .await
    .unwrap();
    assert_eq!(decided(&app, &desk, &request).await.0, "deny");

    // Given back through a group, then the group left.
    groups::create(&app.db, "Support", None, Actor::Cli)
        .await
        .unwrap();
    groups::add_member(&app.db, "Support", ada, Actor::Cli)
        .await
        .unwrap();
    assign(Holder::Group("Support")).await.unwrap();
    assert_eq!(decided(&app, &desk, &request).await.0, "allow");
    let shared = document(ada, owner, &["Support"]);
    assert_eq!(decided(&app, &desk, &shared).await.0, "allow");
    groups::remove_member(&app.db, "Support", ada, Actor::Cli)
        .await
        .unwrap();
    assert_eq!(decided(&app, &desk, &request).await.0, "deny");
    assert_eq!(decided(&app, &desk, &shared).await.0, "deny");
}

#[sqlx::test(migrations = "../migrations")]
async fn new_policies_decide_the_next_request(db: sqlx::PgPool) {
    let app = TestApp::spawn(db).await;
    let desk = desk(&app).await;
    let ada = person(&app, "ada@example.org", true, Some("Bavaria")).await;
    let owner = person(&app, "owner@example.org", true, None).await;
    roles::assign(
        &app.db,
        &desk.client_id,
        "support-agent",
        Holder::Person(ada),
        Actor::Cli,
    )
    .await
    .unwrap();
    let request = ticket(ada, "Bavaria", 20);
    assert_eq!(decided(&app, &desk, &request).await.0, "deny");
    let shared = document(ada, owner, &[]);
    assert_eq!(decided(&app, &desk, &shared).await.0, "deny");

    // Around the clock now, and everyone reads every document.
    let changed = POLICIES
        .replace(
            "context.hour >= 9 && context.hour < 17",
            "context.hour >= 0",
        )
        .replace(
            "when { resource.owner == principal }",
            "when { resource.owner == principal || true }",
        );
    let saved = policies::set(&app.db, &desk.client_id, SCHEMA, &changed, Actor::Cli).await;
    assert_eq!(saved.unwrap(), Saved::Version(2));
    assert_eq!(decided(&app, &desk, &request).await.0, "allow");
    assert_eq!(
        decided(&app, &desk, &shared).await,
        ("allow".into(), vec!["owner-reads-document".into()])
    );

    // Saved again as they are: nothing changes.
    let again = policies::set(&app.db, &desk.client_id, SCHEMA, &changed, Actor::Cli).await;
    assert_eq!(again.unwrap(), Saved::Unchanged(2));
}

/// A confidential pairwise app of `sector` with the test policies.
async fn pairwise_app(app: &TestApp, sector: &str) -> Desk {
    let done = registration::create(
        &app.db,
        &ClientSecretKey::derive(&[7; 32]),
        &NewClient {
            name: "Partner".into(),
            client_type: ClientType::Confidential,
            redirect_uris: vec![format!("https://{sector}/callback")],
            first_party: false,
            pairwise: true,
            sector_identifier: Some(sector.into()),
            ..Default::default()
        },
        Actor::Cli,
    )
    .await
    .unwrap();
    policies::set(&app.db, &done.client_id, SCHEMA, POLICIES, Actor::Cli)
        .await
        .unwrap();
    Desk {
        client_id: done.client_id,
        secret: done.client_secret.unwrap(),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn an_app_asks_only_about_its_own_subjects(db: sqlx::PgPool) {
    let app = TestApp::spawn(db).await;
    let shop = pairwise_app(&app, "shop.example").await;
    let forum = pairwise_app(&app, "forum.example").await;
    let ada = person(&app, "ada@example.org", true, None).await;
    let shop_client = clients::find(&app.db, &shop.client_id)
        .await
        .unwrap()
        .unwrap();
    let sub = subjects::issue(&app.db, &app.state.subjects, &shop_client, ada)
        .await
        .unwrap();
    let mut request = document(ada, ada, &[]);
    request["subject"] = Value::String(sub.clone());
    request["resource"]["attributes"]["owner"]["__entity"]["id"] = Value::String(sub);

    assert_eq!(
        decided(&app, &shop, &request).await,
        ("allow".into(), vec!["owner-reads-document".into()])
    );
    // The shop's subject means nothing to the forum, and nor does the account id.
    let res = ask(&app, &forum, &request).await;
    assert_eq!(res.status(), 404);
    let by_account = document(ada, ada, &[]);
    assert_eq!(ask(&app, &forum, &by_account).await.status(), 404);
    assert_eq!(ask(&app, &shop, &by_account).await.status(), 404);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_third_party_app_with_public_subjects_knows_those_who_approved_it(db: sqlx::PgPool) {
    let app = TestApp::spawn(db).await;
    let client = crate::support::oidc::register(&app, ClientType::Confidential, false).await;
    policies::set(&app.db, &client.client_id, SCHEMA, POLICIES, Actor::Cli)
        .await
        .unwrap();
    let desk = Desk {
        client_id: client.client_id,
        secret: client.client_secret.unwrap(),
    };
    let ada = person(&app, "ada@example.org", true, None).await;
    let request = document(ada, ada, &[]);
    assert_eq!(ask(&app, &desk, &request).await.status(), 404);
    sqlx::query(
        "INSERT INTO oauth_grants (user_id, client_id, scopes) VALUES ($1, $2, '{openid}')",
    )
    .bind(ada)
    .bind(&desk.client_id)
    .execute(&app.db)
    .await
    .unwrap();
    assert_eq!(decided(&app, &desk, &request).await.0, "allow");
}
