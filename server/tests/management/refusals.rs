//! Bad input to the management API: each refusal is a problem document that says what is
//! wrong, and nothing is written.

use super::{people_count, problem, Caller, ALL_SCOPES};
use crate::support::TestApp;
use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn bad_input_is_refused_with_a_problem_and_changes_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let api = Caller::new(&app, &ALL_SCOPES).await;
    let audit_before: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action NOT LIKE 'api.%'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let post = |body: &'static str, content_type: &'static str| {
        api.request(Method::POST, "/api/v1/people")
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let body = problem(post("{\"email\": ", "application/json").await.unwrap(), 400).await;
    assert!(
        body["detail"].as_str().unwrap().contains("not valid JSON"),
        "{body}"
    );
    problem(
        post("email=a@example.com", "application/x-www-form-urlencoded")
            .await
            .unwrap(),
        415,
    )
    .await;
    let body = problem(
        post(
            "{\"email\": \"a@example.com\", \"display_name\": \"A\", \"admin\": true}",
            "application/json",
        )
        .await
        .unwrap(),
        422,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("admin"), "{body}");
    let body = problem(
        post(
            "{\"email\": \"not an address\", \"display_name\": \"A\"}",
            "application/json",
        )
        .await
        .unwrap(),
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "email");
    let body = problem(
        post(
            "{\"email\": \"a@example.com\", \"display_name\": \"A\", \"locale\": \"xx\"}",
            "application/json",
        )
        .await
        .unwrap(),
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "locale");
    let res = api
        .request(Method::POST, "/api/v1/people")
        .header("idempotency-key", "has space")
        .json(&json!({ "email": "a@example.com", "display_name": "A" }))
        .send()
        .await
        .unwrap();
    problem(res, 400).await;
    let huge = "x".repeat(70 * 1024);
    let res = api
        .request(Method::POST, "/api/v1/people")
        .header("content-type", "application/json")
        .body(format!(
            "{{\"email\": \"a@example.com\", \"display_name\": \"{huge}\"}}"
        ))
        .send()
        .await
        .unwrap();
    assert!(matches!(res.status().as_u16(), 413), "{}", res.status());

    // Ids that name nothing, and odd queries.
    problem(api.get("/api/v1/people/not-a-uuid").await, 404).await;
    problem(
        api.get(&format!("/api/v1/people/{}", uuid::Uuid::new_v4()))
            .await,
        404,
    )
    .await;
    problem(api.get("/api/v1/people?limit=0").await, 400).await;
    problem(api.get("/api/v1/people?limit=ten").await, 400).await;
    problem(api.get("/api/v1/people?status=gone").await, 400).await;
    problem(api.get("/api/v1/people?cursor=%%%").await, 400).await;
    let res = api
        .get("/api/v1/people?q=%27%3B%20DROP%20TABLE%20users%3B--")
        .await;
    assert_eq!(res.status(), 200);
    problem(api.get("/api/v1/groups?cursor=nope").await, 400).await;
    let res = api
        .request(
            Method::PATCH,
            &format!("/api/v1/people/{}", uuid::Uuid::new_v4()),
        )
        .header("if-match", "\"abc\"")
        .json(&json!({ "display_name": "B" }))
        .send()
        .await
        .unwrap();
    problem(res, 404).await;

    assert_eq!(people_count(&app.db).await, 0);
    let audit_after: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action NOT LIKE 'api.%'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(audit_after, audit_before);
}
