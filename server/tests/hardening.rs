//! Bad input, forged requests, forms without JavaScript, security headers and mail that must
//! survive a mail server outage.

use std::time::Duration;

use crate::support::{error_of, TestApp, GOOD_PASSWORD};
use serde_json::json;
use sqlx::PgPool;

async fn count(db: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(db)
        .await
        .unwrap()
}

/// Asserts that nothing was written by the requests so far.
async fn assert_nothing_written(app: &TestApp) {
    for table in ["users", "one_time_tokens", "mail_outbox", "sessions"] {
        assert_eq!(count(&app.db, table).await, 0, "{table} was written");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_registrations_get_a_specific_field_error_and_write_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();
    type Form<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(Form, &str, &str)] = &[
        (
            &[
                ("email", ""),
                ("display_name", "Ada"),
                ("password", GOOD_PASSWORD),
            ],
            "email",
            "Enter your email address.",
        ),
        (
            &[
                ("email", "ada@"),
                ("display_name", "Ada"),
                ("password", GOOD_PASSWORD),
            ],
            "email",
            "Enter an email address like name@example.com.",
        ),
        (
            &[
                ("email", "ada@example.com"),
                ("display_name", "  "),
                ("password", GOOD_PASSWORD),
            ],
            "display_name",
            "Enter your name.",
        ),
        (
            &[
                ("email", "ada@example.com"),
                ("display_name", "<script>alert(1)</script>"),
                ("password", GOOD_PASSWORD),
            ],
            "display_name",
            "Use letters, digits, spaces and ' - . , only.",
        ),
        (
            &[
                ("email", "ada@example.com"),
                ("display_name", "x'); DROP TABLE users;--"),
                ("password", GOOD_PASSWORD),
            ],
            "display_name",
            "Use letters, digits, spaces and ' - . , only.",
        ),
        (
            &[
                ("email", "ada@example.com"),
                ("display_name", "Ada"),
                ("password", ""),
            ],
            "password",
            "Choose a password.",
        ),
        (
            &[
                ("email", "ada@example.com"),
                ("display_name", "Ada"),
                ("password", "short"),
            ],
            "password",
            "Use at least 8 characters.",
        ),
        (
            &[
                ("email", "ada@example.com"),
                ("display_name", "Ada"),
                ("password", "password"),
            ],
            "password",
            "This password is on the list of commonly used passwords. Choose another.",
        ),
    ];
    for (form, field, message) in cases {
        let res = browser.call("register", form).await;
        assert_eq!(res.status(), 422, "{form:?}");
        assert_eq!(
            error_of(res).await,
            json!({ "Field": { "field": field, "message": message } }),
            "{form:?}"
        );
    }
    assert_nothing_written(&app).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_form_missing_its_fields_is_a_bad_request(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let res = app
        .browser()
        .call("register", &[("email", "ada@example.com")])
        .await;
    assert_eq!(res.status(), 400);
    assert!(error_of(res).await["BadRequest"].is_string());
    assert_nothing_written(&app).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_ten_megabyte_body_is_refused_before_it_is_read(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();
    let huge = "a".repeat(10 * 1024 * 1024);
    let res = browser
        .client
        .post(format!("{}/api/register", browser.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "email=ada%40example.com&display_name={huge}&password=x"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert_nothing_written(&app).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_pages_and_endpoints_are_not_found(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();
    let page = browser.get("/no/such/page").await;
    assert_eq!(page.status(), 404);
    assert!(page.text().await.unwrap().contains("Page not found"));
    let api = browser.call("no-such-endpoint", &[]).await;
    assert!(api.status().is_client_error(), "{}", api.status());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_state_change_from_another_site_is_refused(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let form = [
        ("email", "ada@example.com"),
        ("display_name", "Ada"),
        ("password", GOOD_PASSWORD),
    ];
    let client = reqwest::Client::new();
    let url = format!("http://{}/api/register", app.addr);

    let forged = client
        .post(&url)
        .header("origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let cross_site = client
        .post(&url)
        .header("sec-fetch-site", "cross-site")
        .header("origin", app.public_url.as_str())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    let anonymous = client.post(&url).form(&form).send().await.unwrap();
    assert_eq!(anonymous.status(), 403);
    assert_nothing_written(&app).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn forms_work_without_javascript(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();

    // An error sends the browser back to its page, with the error for the page to show.
    let res = browser
        .submit(
            "/register",
            "register",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", "not an email"),
                ("display_name", "Ada"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    let html = browser.page_after_refusal(res, "/register").await;
    assert!(
        html.contains("Enter an email address like name@example.com."),
        "the page shows the error"
    );
    assert!(html.contains(r#"aria-invalid="true""#));

    // Success follows the server's redirect.
    let res = browser
        .submit(
            "/register",
            "register",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", "ada@example.com"),
                ("display_name", "Ada"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/register/sent");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_crafted_link_cannot_put_words_in_the_error_box(db: PgPool) {
    let app = TestApp::spawn(db).await;
    // base64 of {"Refused":"Call +1 555 0100 to unlock your account."}
    let link = "/signin?verified=1&__path=%2Fapi%2Fsign-in\
                &__err=eyJSZWZ1c2VkIjoiQ2FsbCArMSA1NTUgMDEwMCB0byB1bmxvY2sgeW91ciBhY2NvdW50LiJ9";
    let res = app
        .browser()
        .client
        .get(format!("http://{}{link}", app.addr))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/signin?verified=1");
}

#[sqlx::test(migrations = "../migrations")]
async fn pages_carry_the_security_headers_and_a_fresh_script_nonce(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();
    let first = browser.get("/signin").await;
    let headers = first.headers().clone();
    let csp = headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(csp.contains("'wasm-unsafe-eval'"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(headers.get("x-request-id").is_some());
    assert!(
        headers.get("strict-transport-security").is_none(),
        "no HSTS over http"
    );

    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_owned();
    let html = first.text().await.unwrap();
    assert!(html.contains(&format!(r#"<script type="module" nonce="{nonce}">"#)));
    let second = browser.get("/signin").await;
    assert!(!second.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains(&nonce));
}

#[sqlx::test(migrations = "../migrations")]
async fn mail_queued_while_the_mail_server_is_down_is_delivered_when_it_returns(db: PgPool) {
    let mut app = TestApp::spawn(db).await;
    app.mail.stop();
    let res = app
        .browser()
        .call(
            "register",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", "outage@example.com"),
                ("display_name", "Ada"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);

    // The worker tries, fails and keeps the message for later.
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM mail_outbox")
                .fetch_one(&app.db)
                .await
                .unwrap();
            if attempts > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("a failed delivery attempt");
    let pending: bool = sqlx::query_scalar(
        "SELECT delivered_at IS NULL AND last_error IS NOT NULL FROM mail_outbox",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(pending);

    app.mail.restart().await;
    let mail = app.mail.wait_for("outage@example.com", "Confirm").await;
    assert!(mail.body.contains("/verify-email?token="));
}

#[sqlx::test(migrations = "../migrations")]
async fn health_and_readiness_probes_answer(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();
    assert_eq!(browser.get("/healthz").await.status(), 200);
    assert_eq!(browser.get("/readyz").await.status(), 200);
    let brand: uuid::Uuid = sqlx::query_scalar("SELECT id FROM brands WHERE client_id IS NULL")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let css = browser.get(&format!("/brand/{brand}/style.css")).await;
    assert_eq!(css.status(), 200);
    assert!(css
        .text()
        .await
        .unwrap()
        .contains("--brand-primary: #3a4fd8"));
}
