//! The management API (`/api/v1`) as a partner back end uses it: people created, read,
//! updated under `If-Match` (a stale version loses nothing), deactivated and deleted; creates
//! retried under an `Idempotency-Key` (once, even racing); every change audited with the app as
//! actor. Who may call it and how often is driven in `management/gate.rs`, groups, apps and the
//! audit trail in `management/resources.rs`, bad input in `management/refusals.rs`, and the
//! OpenAPI document against the routes in `management/document.rs`.

mod document;
mod gate;
mod refusals;
mod resources;

use crate::support::{oidc::register_service, oidc::token, TestApp};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};
use sqlx::PgPool;

/// Every scope the API knows.
pub(crate) const ALL_SCOPES: [&str; 7] = [
    "users:read",
    "users:write",
    "groups:read",
    "groups:write",
    "clients:read",
    "clients:write",
    "audit:read",
];

/// A service app calling the API.
pub(crate) struct Caller {
    pub addr: std::net::SocketAddr,
    pub client_id: String,
    pub secret: String,
    pub token: String,
}

impl Caller {
    /// A new service app with `scopes`, and a token of the client_credentials grant.
    pub async fn new(app: &TestApp, scopes: &[&str]) -> Self {
        let (client_id, secret) = register_service(app, scopes).await;
        let res = token(
            app,
            &[("grant_type", "client_credentials")],
            Some((&client_id, &secret)),
        )
        .await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        Self {
            addr: app.addr,
            client_id,
            secret,
            token: body["access_token"].as_str().unwrap().to_owned(),
        }
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        reqwest::Client::new()
            .request(method, format!("http://{}{path}", self.addr))
            .bearer_auth(&self.token)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    pub async fn send(&self, method: Method, path: &str, body: &Value) -> Response {
        self.request(method, path).json(body).send().await.unwrap()
    }
}

/// The body of a problem answer, checked to be one.
pub(crate) async fn problem(res: Response, status: u16) -> Value {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(body["type"]
        .as_str()
        .unwrap()
        .starts_with("urn:keyhaven:problem:"));
    body
}

pub(crate) fn etag(res: &Response) -> String {
    res.headers()["etag"].to_str().unwrap().to_owned()
}

async fn people_count(db: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'customer'")
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_person_is_created_read_updated_under_if_match_deactivated_and_deleted(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let api = Caller::new(&app, &ALL_SCOPES).await;

    let res = api
        .send(
            Method::POST,
            "/api/v1/people",
            &json!({ "email": "ada@example.com", "display_name": "Ada" }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let created_tag = etag(&res);
    let person: Value = res.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/v1/people/{}", person["id"].as_str().unwrap())
    );
    assert_eq!(person["email"], "ada@example.com");
    assert_eq!(person["email_verified"], false);
    assert_eq!(person["active"], true);
    assert_eq!(person["has_password"], false);

    // Read: the same version.
    let res = api.get(&location).await;
    assert_eq!(res.status(), 200);
    assert_eq!(etag(&res), created_tag);

    // An update needs the version read.
    let res = api
        .send(
            Method::PATCH,
            &location,
            &json!({ "display_name": "Ada L" }),
        )
        .await;
    problem(res, 428).await;

    // Two back ends read the same version; the first update wins, the second is told.
    let res = api
        .request(Method::PATCH, &location)
        .header("if-match", &created_tag)
        .json(&json!({ "display_name": "Ada Lovelace" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let renamed_tag = etag(&res);
    assert_ne!(renamed_tag, created_tag);
    assert_eq!(
        res.json::<Value>().await.unwrap()["display_name"],
        "Ada Lovelace"
    );
    let res = api
        .request(Method::PATCH, &location)
        .header("if-match", &created_tag)
        .json(&json!({ "display_name": "Ada Byron" }))
        .send()
        .await
        .unwrap();
    assert_eq!(etag(&res), renamed_tag);
    let stale = problem(res, 412).await;
    assert_eq!(stale["current"]["display_name"], "Ada Lovelace");
    assert_eq!(
        api.get(&location).await.json::<Value>().await.unwrap()["display_name"],
        "Ada Lovelace"
    );

    // A new address the app checked: the person moves, the old address is told.
    let res = api
        .request(Method::PATCH, &location)
        .header("if-match", &renamed_tag)
        .json(&json!({ "email": "ada@example.org" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap()["email"],
        "ada@example.org"
    );
    app.mail.wait_for("ada@example.com", "email address").await;

    // Deactivated: no sign-in; reactivated.
    let res = api
        .send(Method::POST, &format!("{location}/deactivate"), &json!({}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["active"], false);
    let res = api
        .send(Method::POST, &format!("{location}/reactivate"), &json!({}))
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["active"], true);

    // Deleted: gone.
    let res = api.request(Method::DELETE, &location).send().await.unwrap();
    assert_eq!(res.status(), 204);
    problem(api.get(&location).await, 404).await;
    assert_eq!(people_count(&app.db).await, 0);

    // Every change is audited with the app as actor.
    let actor = format!("app:{}", api.client_id);
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_events WHERE actor = $1 AND outcome = 'success'
           AND action NOT LIKE 'api.%' ORDER BY id",
    )
    .bind(&actor)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "account.created",
            "profile.updated",
            "email.changed_by_staff",
            "account.locked",
            "account.unlocked",
            "account.deleted",
        ]
    );
    // Reads are audited too, and refusals.
    let reads: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE actor = $1 AND action = 'api.read'",
    )
    .bind(&actor)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(reads >= 3, "{reads}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_create_retried_under_its_key_creates_once_and_a_reused_key_is_refused(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let api = Caller::new(&app, &["users:read", "users:write"]).await;
    let body = json!({ "email": "grace@example.com", "display_name": "Grace" });
    let create = |key: &'static str, body: Value| {
        api.request(Method::POST, "/api/v1/people")
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };

    // Two racing requests under one key, then a retry: one person, the same answer thrice.
    let (a, b) = tokio::join!(create("k-1", body.clone()), create("k-1", body.clone()));
    let (a, b) = (a.unwrap(), b.unwrap());
    let c = create("k-1", body.clone()).await.unwrap();
    let locations: Vec<String> = [&a, &b, &c]
        .iter()
        .map(|r| {
            assert_eq!(r.status(), 201);
            r.headers()["location"].to_str().unwrap().to_owned()
        })
        .collect();
    assert!(
        locations.iter().all(|l| *l == locations[0]),
        "{locations:?}"
    );
    assert_eq!(people_count(&app.db).await, 1);

    // The same key for a different person: refused, nothing created.
    let other = json!({ "email": "linus@example.com", "display_name": "Linus" });
    problem(create("k-1", other.clone()).await.unwrap(), 422).await;
    assert_eq!(people_count(&app.db).await, 1);

    // Without a key, a second create of the same address is a conflict.
    problem(api.send(Method::POST, "/api/v1/people", &body).await, 409).await;
    // A fresh key creates.
    assert_eq!(create("k-2", other).await.unwrap().status(), 201);
    assert_eq!(people_count(&app.db).await, 2);

    // Another app's key space is its own.
    let other_app = Caller::new(&app, &["users:write"]).await;
    let res = other_app
        .request(Method::POST, "/api/v1/people")
        .header("idempotency-key", "k-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    problem(res, 409).await;
}
