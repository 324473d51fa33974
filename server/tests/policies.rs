//! Partner apps' Cedar policies and the decision endpoint (`POST /api/v1/decisions`): the
//! issue's two examples (support agents reading tickets of their own region in working hours;
//! documents read by their owner or a group they are shared with), allowed and denied with
//! the deciding policies named, over HTTP with the app's client credentials. Changes to roles,
//! groups and policies reaching the next decision are in `policies/changes.rs`; refused
//! policies, refused requests and the audit trail in `policies/refusals.rs`.

mod changes;
mod refusals;

use crate::support::{oidc::register, TestApp};
use app::domain::{
    audit::Actor,
    client::ClientInfo,
    directory::{
        groups,
        policies::{self, Saved},
        roles::{self, Holder},
    },
    oidc::clients::ClientType,
    postal_address::{self, PostalAddress},
};
use reqwest::Response;
use serde_json::{json, Value};
use uuid::Uuid;

pub(crate) const SCHEMA: &str = r#"
entity Group;
entity Person in [Group] {
  roles: Set<String>, permissions: Set<String>, email_verified: Bool,
  country?: String, region?: String,
};
entity Ticket { region: String };
entity Document { owner: Person, shared_with: Set<Group> };
action read appliesTo { principal: Person, resource: [Ticket, Document], context: { hour?: Long } };
"#;

pub(crate) const POLICIES: &str = r#"
@id("support-reads-own-region")
permit (principal, action == Action::"read", resource is Ticket)
when {
  principal.roles.contains("support-agent") &&
  principal has region && principal.region == resource.region &&
  context has hour && context.hour >= 9 && context.hour < 17
};

@id("owner-reads-document")
permit (principal, action == Action::"read", resource is Document)
when { resource.owner == principal };

@id("shared-with-group")
permit (principal, action == Action::"read", resource is Document)
when { principal in resource.shared_with };

@id("unverified-read-nothing")
forbid (principal, action, resource) unless { principal.email_verified };
"#;

/// A partner app (confidential, first party) with the schema and policies above.
pub(crate) struct Desk {
    pub client_id: String,
    pub secret: String,
}

pub(crate) async fn desk(app: &TestApp) -> Desk {
    let client = register(app, ClientType::Confidential, true).await;
    let saved = policies::set(&app.db, &client.client_id, SCHEMA, POLICIES, Actor::Cli).await;
    assert_eq!(saved.unwrap(), Saved::Version(1));
    roles::define(
        &app.db,
        &client.client_id,
        "support-agent",
        None,
        &[],
        Actor::Cli,
    )
    .await
    .unwrap();
    Desk {
        client_id: client.client_id,
        secret: client.client_secret.unwrap(),
    }
}

/// A new account for `email` (verified or not), with a postal address in `region` if given.
pub(crate) async fn person(
    app: &TestApp,
    email: &str,
    verified: bool,
    region: Option<&str>,
) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO users (id, email, display_name, email_verified_at)
         VALUES ($1, $2, 'Someone', CASE WHEN $3 THEN now() END)",
    )
    .bind(id)
    .bind(email)
    .bind(verified)
    .execute(&app.db)
    .await
    .unwrap();
    if let Some(region) = region {
        let address = PostalAddress {
            locality: Some("Town".into()),
            region: Some(region.into()),
            country: Some("DE".into()),
            ..Default::default()
        };
        postal_address::update(&app.state, &ClientInfo::default(), id, &address)
            .await
            .unwrap();
    }
    id
}

/// POSTs `body` (as JSON) to the decision endpoint as `desk`.
pub(crate) async fn ask(app: &TestApp, desk: &Desk, body: &Value) -> Response {
    reqwest::Client::new()
        .post(format!("http://{}/api/v1/decisions", app.addr))
        .basic_auth(&desk.client_id, Some(&desk.secret))
        .json(body)
        .send()
        .await
        .unwrap()
}

/// The answer to `body`, which must be a 200: (decision, the deciding policies).
pub(crate) async fn decided(app: &TestApp, desk: &Desk, body: &Value) -> (String, Vec<String>) {
    let res = ask(app, desk, body).await;
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["errors"], json!([]), "{answer}");
    let policies = answer["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect();
    (answer["decision"].as_str().unwrap().to_owned(), policies)
}

pub(crate) fn ticket(sub: Uuid, region: &str, hour: i64) -> Value {
    json!({
        "subject": sub.to_string(),
        "action": "read",
        "resource": { "type": "Ticket", "id": "t-1", "attributes": { "region": region } },
        "context": { "hour": hour },
    })
}

pub(crate) fn document(sub: Uuid, owner: Uuid, shared_with: &[&str]) -> Value {
    let groups: Vec<Value> = shared_with
        .iter()
        .map(|g| json!({ "__entity": { "type": "Group", "id": g } }))
        .collect();
    json!({
        "subject": sub.to_string(),
        "action": "read",
        "resource": {
            "type": "Document",
            "id": "d-1",
            "attributes": {
                "owner": { "__entity": { "type": "Person", "id": owner.to_string() } },
                "shared_with": groups,
            },
        },
    })
}

fn allowed_by(ids: &[&str]) -> (String, Vec<String>) {
    ("allow".into(), ids.iter().map(|s| s.to_string()).collect())
}

fn denied_by(ids: &[&str]) -> (String, Vec<String>) {
    ("deny".into(), ids.iter().map(|s| s.to_string()).collect())
}

#[sqlx::test(migrations = "../migrations")]
async fn support_agents_read_tickets_of_their_own_region_in_working_hours(db: sqlx::PgPool) {
    let app = TestApp::spawn(db).await;
    let desk = desk(&app).await;
    let ada = person(&app, "ada@example.org", true, Some("Bavaria")).await;
    let bob = person(&app, "bob@example.org", true, Some("Bavaria")).await;
    let eve = person(&app, "eve@example.org", false, Some("Bavaria")).await;
    let nomad = person(&app, "nomad@example.org", true, None).await;
    for who in [ada, eve, nomad] {
        roles::assign(
            &app.db,
            &desk.client_id,
            "support-agent",
            Holder::Person(who),
            Actor::Cli,
        )
        .await
        .unwrap();
    }

    let own = decided(&app, &desk, &ticket(ada, "Bavaria", 10)).await;
    assert_eq!(own, allowed_by(&["support-reads-own-region"]));
    assert_eq!(decided(&app, &desk, &ticket(ada, "Bavaria", 9)).await, own);
    // Out of hours, another region, no role, no region: nothing permits.
    assert_eq!(
        decided(&app, &desk, &ticket(ada, "Bavaria", 17)).await,
        denied_by(&[])
    );
    assert_eq!(
        decided(&app, &desk, &ticket(ada, "Bavaria", 8)).await,
        denied_by(&[])
    );
    assert_eq!(
        decided(&app, &desk, &ticket(ada, "Saxony", 10)).await,
        denied_by(&[])
    );
    assert_eq!(
        decided(&app, &desk, &ticket(bob, "Bavaria", 10)).await,
        denied_by(&[])
    );
    assert_eq!(
        decided(&app, &desk, &ticket(nomad, "Bavaria", 10)).await,
        denied_by(&[])
    );
    // An unverified address: the forbid decides over the permit.
    assert_eq!(
        decided(&app, &desk, &ticket(eve, "Bavaria", 10)).await,
        denied_by(&["unverified-read-nothing"])
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn documents_are_read_by_their_owner_or_a_group_they_are_shared_with(db: sqlx::PgPool) {
    let app = TestApp::spawn(db).await;
    let desk = desk(&app).await;
    let owner = person(&app, "owner@example.org", true, None).await;
    let carol = person(&app, "carol@example.org", true, None).await;
    let dave = person(&app, "dave@example.org", true, None).await;
    groups::create(&app.db, "Support", None, Actor::Cli)
        .await
        .unwrap();
    groups::create(&app.db, "Sales", None, Actor::Cli)
        .await
        .unwrap();
    groups::add_member(&app.db, "Support", carol, Actor::Cli)
        .await
        .unwrap();
    groups::add_member(&app.db, "Sales", dave, Actor::Cli)
        .await
        .unwrap();

    assert_eq!(
        decided(&app, &desk, &document(owner, owner, &[])).await,
        allowed_by(&["owner-reads-document"])
    );
    assert_eq!(
        decided(&app, &desk, &document(carol, owner, &["Support"])).await,
        allowed_by(&["shared-with-group"])
    );
    assert_eq!(
        decided(&app, &desk, &document(dave, owner, &["Support"])).await,
        denied_by(&[])
    );
    assert_eq!(
        decided(&app, &desk, &document(carol, owner, &[])).await,
        denied_by(&[])
    );
    // Both ways at once: both are named.
    assert_eq!(
        decided(&app, &desk, &document(owner, owner, &["Support"]))
            .await
            .0,
        "allow"
    );
    let res = ask(&app, &desk, &document(carol, carol, &["Support"])).await;
    let answer: Value = res.json().await.unwrap();
    assert_eq!(
        answer["policies"],
        json!(["owner-reads-document", "shared-with-group"])
    );
}
