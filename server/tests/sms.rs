//! SMS one-time codes: proving a phone number, signing in with it, the HTTP gateway sender with
//! its retries, and the limits (attempts, expiry, sends per number and per client).

use crate::support::{error_of, sms::prove_phone, Browser, SmsSink, TestApp};
use serde_json::json;
use sqlx::PgPool;

const PHONE: &str = "+447911123456";

fn wrong_code(code: &str) -> String {
    let first = code.as_bytes()[0] - b'0';
    format!("{}{}", (first + 1) % 10, &code[1..])
}

async fn enable_sms(app: &TestApp) {
    app.set_policy("sms_enabled = true").await;
}

/// A signed-in customer whose phone number `phone` is proven.
async fn customer_with_phone(app: &TestApp, email: &str, phone: &str) -> Browser {
    let browser = app.signed_in_customer(email).await;
    prove_phone(app, &browser, phone).await;
    browser
}

#[sqlx::test(migrations = "../migrations")]
async fn a_phone_number_is_saved_only_once_a_texted_code_proves_it(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer("ada@example.com").await;

    let res = browser.call("phone", &[("phone", "+44 7911 123456")]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/profile/phone");
    let text = app.sms.wait_for(PHONE).await;
    assert!(text.body.contains("is your Keyhaven code"), "{}", text.body);
    assert!(text
        .body
        .ends_with(&format!("@localhost #{}", SmsSink::code_in(&text))));
    assert_eq!(browser.me().await.unwrap()["phone"], json!(null));

    let res = browser
        .call(
            "phone/confirm",
            &[("code", &wrong_code(&SmsSink::code_in(&text)))],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(browser.me().await.unwrap()["phone"], json!(null));

    let res = browser
        .call("phone/confirm", &[("code", &SmsSink::code_in(&text))])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/profile?phone_added=1");
    assert_eq!(browser.me().await.unwrap()["phone"], json!(PHONE));

    let res = browser.call("phone/remove", &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(browser.me().await.unwrap()["phone"], json!(null));
    let actions = app.audit_actions().await;
    for action in [
        "phone.verification_requested",
        "phone.verified",
        "phone.removed",
    ] {
        assert!(actions.iter().any(|(a, _)| a == action), "{action} audited");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_numbers_are_refused_with_a_specific_error_and_send_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    for (input, message) in [
        ("", "Enter your phone number."),
        (
            "07911 123456",
            "Start with + and your country code, e.g. +44 7911 123456.",
        ),
        ("+44 12", "That is not a valid phone number."),
        (
            "+44 7911 123456 <script>",
            "That is not a valid phone number.",
        ),
    ] {
        let res = browser.call("phone", &[("phone", input)]).await;
        assert_eq!(res.status(), 422, "{input}");
        assert_eq!(
            error_of(res).await,
            json!({ "Field": { "field": "phone", "message": message } })
        );
    }
    let res = app.browser().call("phone", &[("phone", PHONE)]).await;
    assert_eq!(res.status(), 401, "only a signed-in account adds a phone");
    assert_eq!(app.sms.posts(), 0);
    let codes: i64 = sqlx::query_scalar("SELECT count(*) FROM sms_codes")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(codes, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_number_proven_by_one_account_cannot_be_taken_by_another(db: PgPool) {
    let app = TestApp::spawn(db).await;
    drop(customer_with_phone(&app, "ada@example.com", PHONE).await);
    let other = app.signed_in_customer("bob@example.com").await;
    let res = other.call("phone", &[("phone", PHONE)]).await;
    assert_eq!(res.status(), 200);
    let text = app.sms.wait_for_nth(PHONE, 2).await;
    let res = other
        .call("phone/confirm", &[("code", &SmsSink::code_in(&text))])
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        error_of(res).await,
        json!({ "Refused": "Another account already uses this phone number." })
    );
    assert_eq!(other.me().await.unwrap()["phone"], json!(null));
}

#[sqlx::test(migrations = "../migrations")]
async fn sms_sign_in_is_off_until_the_business_turns_it_on(db: PgPool) {
    let app = TestApp::spawn(db).await;
    drop(customer_with_phone(&app, "ada@example.com", PHONE).await);
    let browser = app.browser();
    let res = browser.call("sign-in-options", &[]).await;
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["sms"], false);
    let res = browser.call("sms-sign-in", &[("phone", PHONE)]).await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        error_of(res).await,
        json!({ "Refused": "This sign-in method is not available." })
    );
    assert_eq!(app.sms.all().await.len(), 1, "only the verification text");

    enable_sms(&app).await;
    let res = browser.call("sign-in-options", &[]).await;
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["sms"], true);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_texted_code_signs_in_the_browser_that_asked_once(db: PgPool) {
    let app = TestApp::spawn(db).await;
    drop(customer_with_phone(&app, "ada@example.com", PHONE).await);
    enable_sms(&app).await;
    let browser = app.browser();

    let res = browser
        .call("sms-sign-in", &[("phone", "+44 7911 123 456")])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/signin/sms/code");
    let code = SmsSink::code_in(&app.sms.wait_for_nth(PHONE, 2).await);

    // Another browser cannot use it.
    let other = app.browser();
    let res = other.call("sms-sign-in/code", &[("code", &code)]).await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        error_of(res).await,
        json!({ "Field": { "field": "code", "message": "Ask for a code first." } })
    );

    let res = browser.call("sms-sign-in/code", &[("code", &code)]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/profile");
    assert_eq!(browser.me().await.unwrap()["email"], "ada@example.com");

    // Used up.
    let res = browser.call("sms-sign-in/code", &[("code", &code)]).await;
    assert_eq!(res.status(), 422);
    assert!(app
        .audit_actions()
        .await
        .contains(&("signin.succeeded".into(), "success".into())));
    assert_eq!(app.signed_in_by(&["sms", "otp"]).await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unknown_number_gets_the_same_answer_and_no_text(db: PgPool) {
    let app = TestApp::spawn(db).await;
    enable_sms(&app).await;
    let browser = app.browser();
    let res = browser.call("sms-sign-in", &[("phone", PHONE)]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/signin/sms/code");
    // Every code is wrong, and the attempts still count.
    let res = browser
        .call("sms-sign-in/code", &[("code", "123456")])
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        error_of(res).await,
        json!({ "Field": { "field": "code", "message": "That code is not right. 4 attempts left." } })
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.sms.posts(), 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn five_wrong_codes_kill_the_request_and_an_old_code_expires(db: PgPool) {
    let app = TestApp::spawn(db).await;
    drop(customer_with_phone(&app, "ada@example.com", PHONE).await);
    enable_sms(&app).await;

    let browser = app.browser();
    browser.call("sms-sign-in", &[("phone", PHONE)]).await;
    let code = SmsSink::code_in(&app.sms.wait_for_nth(PHONE, 2).await);
    for left in (1..5).rev() {
        let res = browser
            .call("sms-sign-in/code", &[("code", &wrong_code(&code))])
            .await;
        assert_eq!(
            error_of(res).await["Field"]["message"],
            format!(
                "That code is not right. {left} attempt{} left.",
                if left == 1 { "" } else { "s" }
            )
        );
    }
    let res = browser
        .call("sms-sign-in/code", &[("code", &wrong_code(&code))])
        .await;
    assert_eq!(
        error_of(res).await["Field"]["message"],
        "Too many wrong codes. Ask for a new one."
    );
    let res = browser.call("sms-sign-in/code", &[("code", &code)]).await;
    assert_eq!(res.status(), 422, "the right code no longer works");
    assert_eq!(browser.me().await, None);

    let browser = app.browser();
    browser.call("sms-sign-in", &[("phone", PHONE)]).await;
    let code = SmsSink::code_in(&app.sms.wait_for_nth(PHONE, 3).await);
    sqlx::query("UPDATE sms_codes SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    let res = browser.call("sms-sign-in/code", &[("code", &code)]).await;
    assert_eq!(
        error_of(res).await["Field"]["message"],
        "This code has expired. Ask for a new one."
    );
    assert_eq!(browser.me().await, None);
}

#[sqlx::test(migrations = "../migrations")]
async fn texts_are_limited_per_number(db: PgPool) {
    let app = TestApp::spawn(db).await;
    enable_sms(&app).await;
    let browser = app.browser();
    for _ in 0..5 {
        let res = browser.call("sms-sign-in", &[("phone", PHONE)]).await;
        assert_eq!(res.status(), 200);
    }
    let sixth = browser.call("sms-sign-in", &[("phone", PHONE)]).await;
    assert_eq!(sixth.status(), 429);
    assert_eq!(
        error_of(sixth).await,
        json!({ "Throttled": { "minutes": 60 } })
    );
    // Another number from the same client still works, up to the client's own limit.
    let res = browser
        .call("sms-sign-in", &[("phone", "+14155552671")])
        .await;
    assert_eq!(res.status(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_failed_gateway_post_is_retried_from_the_outbox(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    app.sms.fail_next(1);
    let res = browser.call("phone", &[("phone", PHONE)]).await;
    assert_eq!(res.status(), 200);
    let text = app.sms.wait_for(PHONE).await;
    assert_eq!(app.sms.posts(), 2, "one failure, then the retry");
    // The worker records the delivery right after the gateway answers.
    let mut row = (0, false);
    for _ in 0..50 {
        row = sqlx::query_as(
            "SELECT attempts, delivered_at IS NOT NULL FROM sms_outbox WHERE id::text = $1",
        )
        .bind(&text.id)
        .fetch_one(&app.db)
        .await
        .unwrap();
        if row.1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (attempts, delivered): (i32, bool) = row;
    assert_eq!((attempts, delivered), (2, true));
}

#[sqlx::test(migrations = "../migrations")]
async fn texts_go_only_to_allowed_countries_and_each_country_has_a_limit(db: PgPool) {
    // PHONE (+44 7911 1…) is in Guernsey's part of +44.
    let app = TestApp::spawn_with(db, |c| c.sms_countries = Some(vec!["GG".into()])).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let res = browser
        .call("phone", &[("phone", "+49 1512 3456789")])
        .await;
    assert_eq!(res.status(), 422);
    let body = error_of(res).await;
    assert_eq!(body["Field"]["field"], "phone");
    assert!(body["Field"]["message"]
        .as_str()
        .unwrap()
        .contains("this country"));

    // A pumping run has used up Guernsey's texts for the hour.
    sqlx::query(
        "INSERT INTO auth_throttle (key, failures, window_started_at, locked_until)
         VALUES ('sms-country:GG', 200, now(), now() + interval '1 hour')",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let res = browser.call("phone", &[("phone", PHONE)]).await;
    assert_eq!(res.status(), 429, "{}", res.text().await.unwrap());
    assert!(app.sms.all().await.is_empty(), "no text was sent");
}
