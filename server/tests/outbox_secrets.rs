//! No live secret stays readable after delivery: once a mail or a text has gone out, its outbox
//! row no longer holds the link or code it carried; delivered rows are purged after a week; and
//! the development outbox pages do not exist while a real sender is configured.

use crate::support::{eventually, SmsSink, TestApp};
use sqlx::PgPool;

/// Rows of `table` whose `columns` (concatenated) contain `secret`.
async fn rows_holding(app: &TestApp, table: &str, columns: &str, secret: &str) -> i64 {
    sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {table} WHERE concat_ws(' ', {columns}) LIKE '%' || $1 || '%'"
    ))
    .bind(secret)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_delivered_mail_no_longer_holds_its_link_or_code(db: PgPool) {
    let app = TestApp::spawn(db).await;
    drop(app.signed_in_customer("ada@example.com").await);
    let browser = app.browser();
    browser
        .call("email-sign-in", &[("email", "ada@example.com")])
        .await;
    let mail = app.mail.wait_for("ada@example.com", "sign-in code").await;
    let link = TestApp::token_in(&mail.body, "/signin/email");
    let code: String = mail
        .body
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.chars().all(|c| c.is_ascii_digit()))
        .unwrap()
        .to_owned();
    let verify = app
        .mail
        .wait_for("ada@example.com", "Confirm your email")
        .await;
    let verify_token = TestApp::token_in(&verify.body, "/verify-email");

    for secret in [&link, &code, &verify_token] {
        let gone = eventually(|| async {
            rows_holding(&app, "mail_outbox", "subject, body_text", secret).await == 0
        })
        .await;
        assert!(gone, "a delivered mail still holds {secret}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_delivered_text_no_longer_holds_its_code(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let res = browser.call("phone", &[("phone", "+14155550123")]).await;
    assert_eq!(res.status(), 200);
    let text = app.sms.wait_for_nth("+14155550123", 1).await;
    let code = SmsSink::code_in(&text);
    let gone =
        eventually(|| async { rows_holding(&app, "sms_outbox", "body", &code).await == 0 }).await;
    assert!(gone, "a delivered text still holds its code");
}

#[sqlx::test(migrations = "../migrations")]
async fn delivered_mail_is_purged_after_a_week(db: PgPool) {
    let app = TestApp::spawn(db).await;
    sqlx::query(
        "INSERT INTO mail_outbox (recipient, subject, body_text, created_at, delivered_at)
         VALUES ('old@example.com', 'Old', 'old', now() - interval '8 days',
                 now() - interval '8 days'),
                ('new@example.com', 'New', 'new', now(), now())",
    )
    .execute(&app.db)
    .await
    .unwrap();
    server::workers::cleanup::sweep(&app.db, &app.public_url)
        .await
        .unwrap();
    let left: Vec<String> = sqlx::query_scalar(
        "SELECT recipient FROM mail_outbox WHERE recipient IN ('old@example.com', 'new@example.com')",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(left, ["new@example.com"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_development_outbox_pages_do_not_exist_with_a_real_sender(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let admin = app.signed_in_admin("root@example.com").await;
    for endpoint in ["admin/outbox", "admin/sms-outbox"] {
        let res = admin.call(endpoint, &[]).await;
        assert_eq!(res.status(), 404, "{endpoint}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn in_development_the_outbox_page_is_where_mail_is_read(db: PgPool) {
    let app = TestApp::spawn_with(db, |config| config.smtp_url = None).await;
    let admin = app.signed_in_admin("root@example.com").await;
    app.browser()
        .call(
            "register",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", "ada@example.com"),
                ("display_name", "Ada"),
                ("password", crate::support::GOOD_PASSWORD),
            ],
        )
        .await;
    let shown = eventually(|| async {
        let res = admin.call("admin/outbox", &[]).await;
        let mail: serde_json::Value = res.json().await.unwrap();
        mail.as_array().is_some_and(|all| {
            all.iter().any(|m| {
                m["recipient"] == "ada@example.com"
                    && m["delivered"] == true
                    && m["body_text"]
                        .as_str()
                        .unwrap_or("")
                        .contains("/verify-email?token=")
            })
        })
    })
    .await;
    assert!(
        shown,
        "the development outbox shows the delivered mail with its link"
    );
    assert_eq!(app.browser().call("admin/outbox", &[]).await.status(), 401);
}
