//! Hostile requests: SQL in filters and values is only ever a bound value, a revoked client's
//! token and another client's data, oversized and deeply nested input, and a PATCH that tries
//! to take another account's id; none answers 5xx, and none changes anything.

use serde_json::json;
use sqlx::PgPool;

use super::{assert_error, Scim, USER};
use crate::support::TestApp;

fn encoded(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn table_counts(db: &PgPool) -> (i64, i64) {
    sqlx::query_as("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM scim_clients)")
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn sql_in_a_filter_is_a_value_or_a_refusal(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let scim = Scim::new(&app, "Okta").await;
    scim.user("ada@example.org", json!({})).await;
    let counts = table_counts(&app.db).await;
    for filter in [
        r#"userName eq "x' OR '1'='1""#,
        r#"userName eq "\"; DROP TABLE users; --""#,
        r#"userName co "%""#,
        r#"userName sw "_""#,
        r#"displayName eq "x') OR 1=1 --""#,
        r#"externalId eq "1; DELETE FROM scim_clients""#,
        r#"id eq "00000000-0000-0000-0000-000000000000' OR 'a'='a""#,
    ] {
        let res = scim
            .get(&format!("/Users?filter={}", encoded(filter)))
            .await;
        assert_eq!(res.status, 200, "{filter}: {}", res.body);
        assert_eq!(res.body["totalResults"], 0, "{filter}");
    }
    for filter in [
        "userName eq 'a' or 1=1",
        "userName eq \"a\" or 1 eq 1",
        "userName eq \"a\" UNION SELECT password_hash FROM users",
        "u.email eq \"a\"",
        "userName) or (1=1",
        "(((((((((((((((((((((userName pr)))))))))))))))))))))",
        "sortBy eq \"x\"; --",
        r#"userName eq "\u0000""#,
    ] {
        let res = scim
            .get(&format!("/Users?filter={}", encoded(filter)))
            .await;
        assert_error(&res, 400, Some("invalidFilter"));
    }
    let res = scim
        .get(&format!(
            "/Users?sortBy={}",
            encoded("u.email; DROP TABLE users")
        ))
        .await;
    assert_error(&res, 400, Some("invalidValue"));
    let long = format!("userName eq \"{}\"", "a".repeat(5000));
    assert_error(
        &scim.get(&format!("/Users?filter={}", encoded(&long))).await,
        400,
        Some("invalidFilter"),
    );
    assert_eq!(table_counts(&app.db).await, counts);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_patch_cannot_take_over_another_account(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let scim = Scim::new(&app, "Okta").await;
    let ada = scim.user("ada@example.org", json!({})).await;
    let eve = scim.user("eve@example.org", json!({})).await;
    let before = scim.get(&format!("/Users/{ada}")).await.body;
    let ops = json!([{ "op": "replace", "path": "id", "value": ada }]);
    assert_error(
        &scim.patch(&format!("/Users/{eve}"), ops).await,
        400,
        Some("mutability"),
    );
    let ops =
        json!([{ "op": "replace", "value": { "meta": { "location": "https://evil.example/" } } }]);
    assert_error(
        &scim.patch(&format!("/Users/{eve}"), ops).await,
        400,
        Some("mutability"),
    );
    let res = scim
        .put(
            &format!("/Users/{eve}"),
            json!({ "schemas": [USER], "id": ada, "userName": "eve@example.org",
              "meta": { "created": "2000-01-01T00:00:00Z" } }),
        )
        .await;
    // PUT ignores read-only attributes: eve stays eve.
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["id"], eve.as_str());
    assert_ne!(res.body["meta"]["created"], "2000-01-01T00:00:00Z");
    assert_eq!(scim.get(&format!("/Users/{ada}")).await.body, before);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_revoked_client_can_do_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let scim = Scim::new(&app, "Okta").await;
    let ada = scim.user("ada@example.org", json!({})).await;
    app::domain::scim::clients::revoke(&app.db, scim.id, app::domain::audit::Actor::Cli)
        .await
        .unwrap();
    let at = format!("/Users/{ada}");
    assert_error(&scim.get(&at).await, 401, None);
    assert_error(&scim.delete(&at).await, 401, None);
    let ops = json!([{ "op": "replace", "path": "active", "value": false }]);
    assert_error(&scim.patch(&at, ops).await, 401, None);
    let locked: bool = sqlx::query_scalar("SELECT locked_at IS NOT NULL FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(!locked);
    assert_eq!(table_counts(&app.db).await.0, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn oversized_and_malformed_bodies_are_refused(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let scim = Scim::new(&app, "Okta").await;
    let big =
        json!({ "schemas": [USER], "userName": "a@example.org", "x": "y".repeat(600 * 1024) });
    assert_error(&scim.post("/Users", big).await, 413, None);
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let res = scim
        .send(
            reqwest::Method::POST,
            "/Users",
            None,
            &[("content-type", "application/scim+json")],
        )
        .await;
    assert_error(&res, 400, Some("invalidSyntax"));
    let raw = reqwest::Client::new()
        .post(format!("http://{}/scim/v2/Users", app.addr))
        .bearer_auth(&scim.token)
        .header("content-type", "application/scim+json")
        .body(nested)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let raw = reqwest::Client::new()
        .post(format!("http://{}/scim/v2/Users", app.addr))
        .bearer_auth(&scim.token)
        .header("content-type", "text/plain")
        .body(json!({ "userName": "a@example.org" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert_eq!(table_counts(&app.db).await.0, 0);
}
