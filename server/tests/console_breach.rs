//! Breach response from the console: a preview first, then a background job that ends the
//! targeted customers' sessions and app refresh tokens at once, requires a new password and a
//! second factor, mails the notice, writes one audit row naming everyone, and does nothing
//! more when started again. The network-and-window target finds who signed in from there.

use crate::support::{
    error_of,
    oidc::{code_for, code_form, register, token},
    Browser, TestApp, GOOD_PASSWORD,
};
use app::domain::{client_address::TrustedProxies, oidc::clients::ClientType, staff::StaffRole};
use sqlx::PgPool;

const ADA: &str = "ada@example.com";
const GRACE: &str = "grace@example.com";
const ALAN: &str = "alan@example.com";

fn form<'a>(pairs: &[(&'a str, &'a str)]) -> Vec<(String, &'a str)> {
    pairs
        .iter()
        .map(|(k, v)| (format!("form[{k}]"), *v))
        .collect()
}

async fn call(
    browser: &Browser,
    endpoint: &str,
    pairs: &[(&str, &str)],
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let form = form(pairs);
    let mut all: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    all.extend_from_slice(extra);
    browser.call(endpoint, &all).await
}

async fn finished(app: &TestApp, id: i64) {
    for _ in 0..100 {
        let done: bool = sqlx::query_scalar(
            "SELECT finished_at IS NOT NULL FROM breach_responses WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap();
        if done {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the breach response did not finish");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_breach_response_ends_everything_and_demands_a_reset_and_a_second_factor(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let admin = app
        .signed_in_staff("admin@staff.example.com", StaffRole::Admin)
        .await;
    let client = register(&app, ClientType::Public, true).await;
    let ada = app.signed_in_customer(ADA).await;
    let grace = app.signed_in_customer(GRACE).await;
    let alan = app.signed_in_customer(ALAN).await;
    // Ada's app holds a refresh token.
    let code = code_for(&ada, &client, &[("scope", "openid email offline_access")]).await;
    let res = token(&app, &code_form(&client.client_id, &code), None).await;
    let tokens: serde_json::Value = res.json().await.unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    let target = [
        ("kind", "customers"),
        ("customers", "ada@example.com, grace@example.com"),
        ("notice", "Our old forum was breached."),
    ];
    let res = call(&admin, "console/breach/preview", &target, &[]).await;
    assert_eq!(res.status(), 200);
    let preview: serde_json::Value = res.json().await.unwrap();
    assert_eq!(preview["count"], 2);
    assert_eq!(preview["sample"], serde_json::json!([ADA, GRACE]));
    assert!(ada.me().await.is_some(), "a preview changes nothing");

    let res = call(
        &admin,
        "console/breach/start",
        &target,
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let id: i64 = res.json().await.unwrap();
    finished(&app, id).await;

    assert!(ada.me().await.is_none());
    assert!(grace.me().await.is_none());
    assert!(alan.me().await.is_some(), "Alan was not targeted");
    let res = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &client.client_id),
        ],
        None,
    )
    .await;
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    let res = app
        .browser()
        .call("sign-in", &[("email", ADA), ("password", GOOD_PASSWORD)])
        .await;
    assert_eq!(res.status(), 403);
    assert!(error_of(res).await.to_string().contains("Forgot"));
    let notice = app.mail.wait_for(GRACE, "Important: secure your").await;
    assert!(notice.body.contains("Our old forum was breached."));

    // The same response again: the same id, and nobody is mailed twice.
    let res = call(
        &admin,
        "console/breach/start",
        &target,
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(res.json::<i64>().await.unwrap(), id);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let notices = app
        .mail
        .all()
        .await
        .into_iter()
        .filter(|m| m.subject.starts_with("Important"))
        .count();
    assert_eq!(notices, 2);

    // One audit row names everyone touched.
    let detail: serde_json::Value =
        sqlx::query_scalar("SELECT detail FROM audit_events WHERE action = 'breach.responded'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let emails: Vec<&str> = detail["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, [ADA, GRACE]);

    // After the reset, the next sign-in makes Grace set up a second factor.
    let owner = app
        .reset_password(GRACE, "a fresh horse battery staple")
        .await;
    let step = crate::support::mfa::offer(&owner)
        .await
        .expect("a second step waits");
    assert_eq!(step["must_enrol"], true, "{step}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_breach_response_can_target_who_signed_in_from_a_network(db: PgPool) {
    let app = TestApp::spawn_with(db, |config| {
        config.trusted_proxies = TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let admin = app
        .signed_in_staff("admin@staff.example.com", StaffRole::Admin)
        .await;
    app.signed_in_customer_on(app.browser_at("203.0.113.9"), ADA)
        .await;
    app.signed_in_customer_on(app.browser_at("198.51.100.4"), GRACE)
        .await;
    let now = time::OffsetDateTime::now_utc();
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let from = (now - time::Duration::hours(1)).format(&format).unwrap();
    let to = (now + time::Duration::hours(1)).format(&format).unwrap();
    let target = [
        ("kind", "network"),
        ("network", "203.0.113.0/24"),
        ("from", &from),
        ("to", &to),
        ("notice", "x"),
    ];
    let res = call(&admin, "console/breach/preview", &target, &[]).await;
    let preview: serde_json::Value = res.json().await.unwrap();
    assert_eq!(preview["sample"], serde_json::json!([ADA]), "{preview}");

    // Bad targets: a clear error, nothing started.
    for bad in [
        vec![
            ("kind", "network"),
            ("network", "203.0.113.0/99"),
            ("from", from.as_str()),
            ("to", to.as_str()),
        ],
        vec![
            ("kind", "network"),
            ("network", "203.0.113.0/24"),
            ("from", to.as_str()),
            ("to", from.as_str()),
        ],
        vec![("kind", "hash_prefix"), ("prefix", "$a")],
        vec![("kind", "customers"), ("customers", "nobody@example.com")],
    ] {
        let res = call(&admin, "console/breach/start", &bad, &[("confirm", "yes")]).await;
        assert!(
            matches!(res.status().as_u16(), 400 | 422),
            "{bad:?}: {}",
            res.status()
        );
    }
    let started: i64 = sqlx::query_scalar("SELECT count(*) FROM breach_responses")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(started, 0);
}
