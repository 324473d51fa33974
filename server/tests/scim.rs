//! SCIM 2.0 provisioning over HTTP as an identity provider drives it: discovery, the bearer
//! token (unknown, missing and revoked ones refused), and `server scim-client`. Users are in
//! `scim/users.rs`, filters, sorting and pages in `scim/filters.rs`, PATCH in `scim/patch.rs`,
//! Groups in `scim/groups.rs`, hostile requests in `scim/attacks.rs`, and what an erasure and
//! the privacy inventory make of provisioned people in `scim/privacy.rs`.

mod attacks;
mod filters;
mod groups;
mod patch;
mod privacy;
mod users;

use app::domain::{audit::Actor, scim::clients};
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{cli::server_command, TestApp};

pub(crate) const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub(crate) const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub(crate) const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub(crate) const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A provisioning client talking to the app.
pub(crate) struct Scim {
    http: reqwest::Client,
    base: String,
    pub token: String,
    pub id: Uuid,
}

/// An answer: its status, headers and JSON body (`Null` when empty).
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: Value,
}

impl Scim {
    /// A new client named `name`, as `server scim-client add` makes one.
    pub async fn new(app: &TestApp, name: &str) -> Self {
        let (id, token) = clients::add(&app.db, name, Actor::Cli).await.unwrap();
        Self::with_token(app, id, token)
    }

    pub fn with_token(app: &TestApp, id: Uuid, token: String) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap(),
            base: format!("http://{}/scim/v2", app.addr),
            token,
            id,
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/scim+json")
                .body(body.to_string());
        }
        let res = request.send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(&body), &[]).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.send(Method::PUT, path, Some(&body), &[]).await
    }

    pub async fn patch(&self, path: &str, operations: Value) -> Answer {
        let body = json!({ "schemas": [PATCH], "Operations": operations });
        self.send(Method::PATCH, path, Some(&body), &[]).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(Method::DELETE, path, None, &[]).await
    }

    /// Creates the User `email` with `extra` attributes; its id.
    pub async fn user(&self, email: &str, extra: Value) -> String {
        let mut body = json!({ "schemas": [USER], "userName": email });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let res = self.post("/Users", body).await;
        assert_eq!(res.status, 201, "{}", res.body);
        res.body["id"].as_str().unwrap().to_owned()
    }
}

/// Checks that `answer` is a SCIM error with `status` and, if given, `scim_type`.
pub(crate) fn assert_error(answer: &Answer, status: u16, scim_type: Option<&str>) {
    assert_eq!(answer.status.as_u16(), status, "{}", answer.body);
    assert_eq!(
        answer.headers[header::CONTENT_TYPE],
        "application/scim+json",
        "{}",
        answer.body
    );
    assert_eq!(answer.body["schemas"], json!([ERROR]));
    assert_eq!(answer.body["status"], json!(status.to_string()));
    assert!(answer.body["detail"].is_string());
    if let Some(scim_type) = scim_type {
        assert_eq!(answer.body["scimType"], scim_type, "{}", answer.body);
    }
}

/// The audit rows of `action`, as (actor label, subject).
pub(crate) async fn audits(db: &PgPool, action: &str) -> Vec<(Option<String>, Option<Uuid>)> {
    sqlx::query_as("SELECT actor, subject_id FROM audit_events WHERE action = $1 ORDER BY id")
        .bind(action)
        .fetch_all(db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn discovery_says_what_is_supported(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let scim = Scim::new(&app, "Entra ID").await;

    let config = scim.get("/ServiceProviderConfig").await;
    assert_eq!(config.status, 200);
    assert_eq!(
        config.headers[header::CONTENT_TYPE],
        "application/scim+json"
    );
    let c = &config.body;
    assert_eq!(c["patch"]["supported"], true);
    assert_eq!(c["bulk"]["supported"], false);
    assert_eq!(c["filter"], json!({ "supported": true, "maxResults": 200 }));
    assert_eq!(c["changePassword"]["supported"], false);
    assert_eq!(c["sort"]["supported"], true);
    assert_eq!(c["etag"]["supported"], true);
    assert_eq!(c["authenticationSchemes"][0]["type"], "oauthbearertoken");

    let types = scim.get("/ResourceTypes").await;
    assert_eq!(types.body["totalResults"], 2);
    let user = scim.get("/ResourceTypes/User").await;
    assert_eq!(user.body["endpoint"], "/Users");
    assert_eq!(user.body["schema"], USER);
    assert_error(&scim.get("/ResourceTypes/Printer").await, 404, None);

    let schemas = scim.get("/Schemas").await;
    let ids: Vec<&str> = schemas.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&USER) && ids.contains(&GROUP), "{ids:?}");
    assert_eq!(ids.len(), 5);
    let user = scim.get(&format!("/Schemas/{USER}")).await;
    let names: Vec<&str> = user.body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "userName",
            "name",
            "displayName",
            "emails",
            "phoneNumbers",
            "active"
        ]
    );
    assert_error(&scim.get("/Schemas/urn:nothing").await, 404, None);

    // Discovery is read only; an unknown endpoint is a SCIM 404.
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        let res = scim.send(method, "/ServiceProviderConfig", None, &[]).await;
        assert_error(&res, 405, None);
    }
    assert_error(&scim.get("/Printers").await, 404, None);

    // A search over every resource type: Users first, then Groups.
    scim.user("ada@example.org", json!({ "displayName": "Support desk" }))
        .await;
    let group = json!({ "schemas": [GROUP], "displayName": "Support" });
    assert_eq!(scim.post("/Groups", group).await.status, 201);
    let both = scim
        .post(
            "/.search",
            json!({ "filter": "displayName sw \"support\"", "attributes": ["displayName"] }),
        )
        .await;
    assert_eq!(both.status, 200, "{}", both.body);
    assert_eq!(both.body["totalResults"], 2);
    let kinds: Vec<&Value> = both.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["schemas"][0])
        .collect();
    assert_eq!(kinds, [USER, GROUP]);
    let second = scim
        .post("/.search", json!({ "startIndex": 2, "count": 1 }))
        .await;
    assert_eq!(second.body["Resources"][0]["displayName"], "Support");
    // An attribute only Users have finds no Group; a filter that does not parse is refused.
    let users_only = scim
        .post("/.search", json!({ "filter": "userName pr" }))
        .await;
    assert_eq!(users_only.body["totalResults"], 1);
    let bad = scim
        .post("/.search", json!({ "filter": "userName eq" }))
        .await;
    assert_error(&bad, 400, Some("invalidFilter"));
}

#[sqlx::test(migrations = "../migrations")]
async fn only_a_live_clients_token_is_let_in(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let scim = Scim::new(&app, "Okta").await;
    assert_eq!(scim.get("/Users").await.status, 200);

    let no_token = reqwest::get(format!("http://{}/scim/v2/Users", app.addr))
        .await
        .unwrap();
    assert_eq!(no_token.status(), 401);
    assert!(no_token.headers()[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let body: Value = no_token.json().await.unwrap();
    assert_eq!(body["schemas"], json!([ERROR]));
    assert_eq!(body["status"], "401");

    for token in [
        "",
        "khscim_",
        "khscim_not-the-token",
        &scim.token[..scim.token.len() - 1],
        &format!("{}x", scim.token),
        "' OR 1=1 --",
    ] {
        let forged = Scim::with_token(&app, scim.id, token.to_owned());
        let res = forged.get("/Users").await;
        assert_error(&res, 401, None);
        assert!(res.headers.contains_key(header::WWW_AUTHENTICATE));
    }
    // Basic credentials are not a bearer token.
    let basic = reqwest::Client::new()
        .get(format!("http://{}/scim/v2/Users", app.addr))
        .basic_auth("okta", Some(&scim.token))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);

    // Revoked, the token opens nothing, not even discovery, and writes nothing.
    assert!(clients::revoke(&app.db, scim.id, Actor::Cli).await.unwrap());
    assert_error(&scim.get("/Users").await, 401, None);
    assert_error(&scim.get("/ServiceProviderConfig").await, 401, None);
    let res = scim
        .post(
            "/Users",
            json!({ "schemas": [USER], "userName": "eve@example.org" }),
        )
        .await;
    assert_error(&res, 401, None);
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(users, 0);
    // Another client's token still works.
    let other = Scim::new(&app, "Entra ID").await;
    assert_eq!(other.get("/Users").await.status, 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_operator_adds_lists_and_revokes_clients(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let out = server_command(&app.db, &["scim-client", "add", "Entra ID"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = |key: &str| -> String {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap()
            .trim()
            .to_owned()
    };
    let (id, token) = (line("id:"), line("token:"));
    assert!(token.starts_with("khscim_") && token.len() > 40, "{token}");
    assert!(stdout.contains("/scim/v2"), "{stdout}");

    // Only the token's SHA-256 is kept.
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM scim_clients")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, app::domain::tokens::token_hash(&token));
    let scim = Scim::with_token(&app, Uuid::parse_str(&id).unwrap(), token);
    assert_eq!(scim.get("/Users").await.status, 200);

    let out = server_command(&app.db, &["scim-client", "list"]).await;
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains(&id) && listed.contains("active") && listed.contains("Entra ID"));

    let out = server_command(&app.db, &["scim-client", "revoke", &id]).await;
    assert!(out.status.success());
    assert_error(&scim.get("/Users").await, 401, None);
    let out = server_command(&app.db, &["scim-client", "revoke", &id]).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("revoked already"));
    let out = server_command(&app.db, &["scim-client", "revoke", "nope"]).await;
    assert!(!out.status.success());
    let out = server_command(&app.db, &["scim-client", "add", " "]).await;
    assert!(!out.status.success());

    let cli = Some("cli".to_owned());
    assert_eq!(
        audits(&app.db, "scim_client.added").await,
        [(cli.clone(), None)]
    );
    assert_eq!(audits(&app.db, "scim_client.revoked").await, [(cli, None)]);
}
