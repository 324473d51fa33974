//! Passwordless sign-in by email: the mailed code and link, their limits, and first-use
//! registration.

use crate::support::{error_of, smtp::Received, Browser, TestApp};
use serde_json::json;
use sqlx::PgPool;

/// The 6-digit code in a sign-in mail.
fn code_in(body: &str) -> String {
    body.lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.chars().all(|c| c.is_ascii_digit()))
        .expect("a code in the mail")
        .to_owned()
}

fn wrong_code(code: &str) -> String {
    let first = code.as_bytes()[0] - b'0';
    format!("{}{}", (first + 1) % 10, &code[1..])
}

/// An account for `email` and a fresh browser that asked for its sign-in mail.
async fn sign_in_mail_requested(app: &TestApp, email: &str) -> (Browser, Received) {
    drop(app.signed_in_customer(email).await);
    let browser = app.browser();
    let res = browser.call("email-sign-in", &[("email", email)]).await;
    assert_eq!(res.status(), 200);
    let mail = app.mail.wait_for(email, "sign-in code").await;
    (browser, mail)
}

#[sqlx::test(migrations = "../migrations")]
async fn the_mailed_code_signs_in_the_browser_that_asked(db: PgPool) {
    let app = TestApp::spawn(db).await;
    drop(app.signed_in_customer("ada@example.com").await);
    let browser = app.browser();

    let res = browser
        .call("email-sign-in", &[("email", "ada@example.com")])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/signin/code");
    let mail = app
        .mail
        .wait_for("ada@example.com", "sign-in code is")
        .await;
    let code = code_in(&mail.body);
    assert!(mail.subject.ends_with(&code));
    assert!(mail
        .body
        .contains(&format!("{}/signin/email?token=", app.public_url)));

    // The code is no good in another browser.
    let other = app.browser();
    let res = other.call("email-sign-in/code", &[("code", &code)]).await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        error_of(res).await,
        json!({ "Field": { "field": "code", "message": "Ask for a code first." } })
    );

    let wrong = browser
        .call("email-sign-in/code", &[("code", &wrong_code(&code))])
        .await;
    assert_eq!(wrong.status(), 422);
    assert_eq!(
        error_of(wrong).await["Field"]["message"],
        "That code is not right. 4 attempts left."
    );

    let res = browser
        .call(
            "email-sign-in/code",
            &[("code", &format!(" {} {} ", &code[..3], &code[3..]))],
        )
        .await;
    assert_eq!(res.status(), 200, "spaces inside the code are ignored");
    assert_eq!(res.headers()["location"], "/profile");
    assert_eq!(browser.me().await.unwrap()["email"], "ada@example.com");

    let again = app
        .browser()
        .call(
            "email-sign-in/link",
            &[("token", &TestApp::token_in(&mail.body, "/signin/email"))],
        )
        .await;
    assert_eq!(
        again.status(),
        400,
        "the link of a used request is dead too"
    );
    let actions = app.audit_actions().await;
    assert!(actions.contains(&("signin.failed".into(), "failure".into())));
    assert!(actions.contains(&("signin.succeeded".into(), "success".into())));
    assert_eq!(
        app.signed_in_by(&["otp"]).await,
        1,
        "the code (the registration used a password)"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn five_wrong_codes_kill_the_request(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (browser, mail) = sign_in_mail_requested(&app, "grace@example.com").await;
    let code = code_in(&mail.body);
    for _ in 0..4 {
        browser
            .call("email-sign-in/code", &[("code", &wrong_code(&code))])
            .await;
    }
    let fifth = browser
        .call("email-sign-in/code", &[("code", &wrong_code(&code))])
        .await;
    assert_eq!(
        error_of(fifth).await["Field"]["message"],
        "Too many wrong codes. Ask for a new one."
    );
    let right = browser.call("email-sign-in/code", &[("code", &code)]).await;
    assert_eq!(right.status(), 422);
    assert!(browser.me().await.is_none());
    // The link of the killed request says why it is dead.
    let link = browser
        .call(
            "email-sign-in/link",
            &[("token", &TestApp::token_in(&mail.body, "/signin/email"))],
        )
        .await;
    assert_eq!(
        error_of(link).await["Field"]["message"],
        "Too many wrong codes. Ask for a new one."
    );
    assert!(browser.me().await.is_none());
}

#[sqlx::test(migrations = "../migrations")]
async fn the_link_works_in_another_browser_shows_who_asked_and_works_once(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (asking, mail) = sign_in_mail_requested(&app, "hedy@example.com").await;
    let token = TestApp::token_in(&mail.body, "/signin/email");

    let same = asking
        .call("email-sign-in/describe", &[("token", &token)])
        .await;
    assert_eq!(
        same.json::<serde_json::Value>().await.unwrap()["same_browser"],
        true
    );

    let phone = app.browser();
    let details: serde_json::Value = phone
        .call("email-sign-in/describe", &[("token", &token)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(details["email"], "hedy@example.com");
    assert_eq!(details["same_browser"], false);
    assert_eq!(details["ip"], "127.0.0.1");
    assert!(details["device"].is_string());

    let res = phone.call("email-sign-in/link", &[("token", &token)]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(phone.me().await.unwrap()["email"], "hedy@example.com");

    let reused = app
        .browser()
        .call("email-sign-in/link", &[("token", &token)])
        .await;
    assert_eq!(reused.status(), 400);
    assert_eq!(
        error_of(reused).await,
        json!({ "Refused": "This link has already been used." })
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_expired_link_and_code_are_refused(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (browser, mail) = sign_in_mail_requested(&app, "joan@example.com").await;
    sqlx::query("UPDATE email_sign_in_requests SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    let code = browser
        .call("email-sign-in/code", &[("code", &code_in(&mail.body))])
        .await;
    assert_eq!(
        error_of(code).await["Field"]["message"],
        "This code has expired. Ask for a new one."
    );
    let link = browser
        .call(
            "email-sign-in/link",
            &[("token", &TestApp::token_in(&mail.body, "/signin/email"))],
        )
        .await;
    assert_eq!(
        error_of(link).await,
        json!({ "Refused": "This link has expired. Ask for a new one." })
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unknown_address_gets_the_same_answer_and_no_mail(db: PgPool) {
    let app = TestApp::spawn(db).await;
    drop(app.signed_in_customer("mary@example.com").await);
    let browser = app.browser();
    let res = browser
        .call("email-sign-in", &[("email", "stranger@example.com")])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/signin/code");
    // Mail for a known address still flows, so a missing mail here is meaningful.
    browser
        .call("email-sign-in", &[("email", "mary@example.com")])
        .await;
    app.mail.wait_for("mary@example.com", "sign-in code").await;
    assert_eq!(app.mail.count("stranger@example.com", "").await, 0);
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(users, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_new_address_is_registered_on_first_use_when_the_business_allows_it(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (browser, res) = app.signs_up_by_email_link("new.comer@example.com").await;
    assert_eq!(res.status(), 200);
    // Registered without a form: the terms are asked before the first sign-in goes on.
    assert_eq!(res.headers()["location"], "/signin/consent");
    browser.accept_terms().await;
    let me = browser.me().await.unwrap();
    assert_eq!(me["email"], "new.comer@example.com");
    assert_eq!(me["email_verified"], true);
    assert_eq!(me["display_name"], "new comer");
}

#[sqlx::test(migrations = "../migrations")]
async fn mail_requests_are_limited_per_address(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();
    for _ in 0..5 {
        let res = browser
            .call("email-sign-in", &[("email", "flood@example.com")])
            .await;
        assert_eq!(res.status(), 200);
    }
    let sixth = browser
        .call("email-sign-in", &[("email", "flood@example.com")])
        .await;
    assert_eq!(sixth.status(), 429);
    assert_eq!(
        error_of(sixth).await,
        json!({ "Throttled": { "minutes": 60 } })
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_business_can_switch_email_sign_in_off(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.set_policy("email_sign_in_enabled = false").await;
    let res = app
        .browser()
        .call("email-sign-in", &[("email", "ada@example.com")])
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        error_of(res).await,
        json!({ "Refused": "This sign-in method is not available." })
    );
}
