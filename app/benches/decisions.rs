//! A partner app's policy decision as the endpoint makes it after its one query: the policies
//! already parsed and held (as the per-node cache holds them), the person and the resource
//! built in memory, the request checked against the schema and evaluated by Cedar. Parsing
//! and validating the policy set (what a cache miss costs) is measured beside it.
//!
//! The endpoint end to end (HTTP, client authentication, the query) is measured against a
//! running server with a load generator, e.g.
//! `oha -n 2000 -m POST -a 'client:secret' -T application/json -d @request.json
//! http://localhost:3000/api/v1/decisions` (oha prints the p50 and p99).

use app::domain::directory::policies::{
    compile, evaluate, DecisionRequest, EntityRef, Person, Resource,
};
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Map};
use std::hint::black_box;

const SCHEMA: &str = r#"
entity Group;
entity Person in [Group] {
  roles: Set<String>, permissions: Set<String>, email_verified: Bool,
  country?: String, region?: String,
};
entity Ticket in [Group] { region: String, priority: Long };
action read appliesTo { principal: Person, resource: Ticket, context: { hour: Long } };
"#;

const POLICIES: &str = r#"
@id("support-reads-own-region")
permit (principal, action == Action::"read", resource is Ticket)
when {
  principal.roles.contains("support-agent") &&
  principal has region && principal.region == resource.region &&
  context.hour >= 9 && context.hour < 17
};
@id("team-reads-its-tickets")
permit (principal, action == Action::"read", resource) when { principal in resource };
@id("unverified-read-nothing")
forbid (principal, action, resource) unless { principal.email_verified };
"#;

fn decisions(c: &mut Criterion) {
    let compiled = compile(SCHEMA, POLICIES).expect("the bench's policies compile");
    let person = Person {
        sub: "3f7e2d0c-5b1a-4c8e-9d2f-0a1b2c3d4e5f".into(),
        roles: vec!["support-agent".into(), "viewer".into()],
        permissions: vec!["tickets:read".into(), "tickets:write".into()],
        groups: vec!["Support".into(), "Bavaria".into()],
        email_verified: true,
        country: Some("DE".into()),
        region: Some("Bavaria".into()),
    };
    let mut attributes = Map::new();
    attributes.insert("region".into(), json!("Bavaria"));
    attributes.insert("priority".into(), json!(2));
    let mut context = Map::new();
    context.insert("hour".into(), json!(10));
    let request = DecisionRequest {
        subject: person.sub.clone(),
        action: "read".into(),
        resource: Resource {
            type_name: "Ticket".into(),
            id: "t-1".into(),
            attributes,
            parents: vec![EntityRef {
                type_name: "Group".into(),
                id: "Escalations".into(),
            }],
        },
        context,
    };
    let decided = evaluate(&compiled, &person, &request).expect("fits the schema");
    assert!(decided.allow);

    c.bench_function("decision, warm (policies parsed)", |b| {
        b.iter(|| {
            evaluate(
                black_box(&compiled),
                black_box(&person),
                black_box(&request),
            )
        })
    });
    c.bench_function("policies parsed and validated (a cache miss)", |b| {
        b.iter(|| compile(black_box(SCHEMA), black_box(POLICIES)))
    });
}

criterion_group!(benches, decisions);
criterion_main!(benches);
