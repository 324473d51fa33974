//! Consent captured where it must be: the registration form (required purposes accepted,
//! optional ones unticked), the first sign-in of a sign-up that had no form, and the next
//! sign-in after a required policy's new version, before anything goes on, an app's
//! authorization included. The attacks: skipping the question, answering for a version not
//! shown, two tabs answering at once, an answer to another sign-in's question, an answer after
//! the account was locked.

use crate::support::{error_of, oidc::*, Browser, TestApp, ACCEPTED_TERMS, GOOD_PASSWORD};
use app::domain::{audit::Actor, consents::purposes, oidc::clients::ClientType};
use sqlx::PgPool;

/// The person's ledger rows about purposes: (purpose, granted, version, collected via), oldest
/// first.
async fn ledger(app: &TestApp, email: &str) -> Vec<(String, bool, i32, String)> {
    sqlx::query_as(
        "SELECT l.purpose, l.granted, l.policy_version, l.collected_via FROM consent_ledger l
         JOIN users u ON u.id = l.user_id
         WHERE u.email = $1 AND l.purpose IS NOT NULL ORDER BY l.id",
    )
    .bind(email)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

fn row(purpose: &str, granted: bool, version: i32, via: &str) -> (String, bool, i32, String) {
    (purpose.into(), granted, version, via.into())
}

async fn accounts(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn sign_in(browser: &Browser, email: &str) -> reqwest::Response {
    let res = browser
        .call("sign-in", &[("email", email), ("password", GOOD_PASSWORD)])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    res
}

/// What the consent step's page asks `browser`.
async fn question(browser: &Browser) -> serde_json::Value {
    let res = browser.call("signin/consent/question", &[]).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn new_terms(app: &TestApp) -> i32 {
    purposes::publish(
        &app.db,
        "terms",
        "These are the new terms of service, version two.",
        Actor::Cli,
    )
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn registration_needs_the_required_purposes_and_records_what_was_ticked(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();
    let purposes: serde_json::Value = browser
        .call("registration/purposes", &[])
        .await
        .json()
        .await
        .unwrap();
    let keys: Vec<&str> = purposes
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "terms",
            "privacy",
            "marketing_email",
            "analytics",
            "partner_sharing"
        ]
    );
    assert_eq!(purposes[0]["required"], true);
    assert_eq!(purposes[2]["required"], false);

    let form = |extra: &[(&'static str, &'static str)]| {
        let mut form = vec![
            ("email", "ada@example.com"),
            ("display_name", "Ada Lovelace"),
            ("password", GOOD_PASSWORD),
        ];
        form.extend_from_slice(extra);
        form
    };
    // A required purpose unticked, a version not shown, a purpose that does not exist: refused
    // with the reason, and nothing is written.
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("consent[terms]", "1")], "Accept the Privacy policy to go on."),
        (
            &[("consent[terms]", "7"), ("consent[privacy]", "1")],
            "The Terms of service changed while you were reading it. Read the new version and accept it again.",
        ),
        (
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("consent[lottery]", "1"),
            ],
            "There is no such purpose.",
        ),
        (&[("consent[terms]", "yes"), ("consent[privacy]", "1")], "There is no such purpose."),
    ];
    for (extra, message) in cases {
        let res = browser.call("register", &form(extra)).await;
        assert_eq!(res.status(), 422, "{extra:?}");
        let error = error_of(res).await;
        assert_eq!(error["Field"]["field"], "consent");
        assert_eq!(error["Field"]["message"], message);
    }
    assert_eq!(accounts(&app).await, 0);

    let mut accepted = ACCEPTED_TERMS.to_vec();
    accepted.push(("consent[analytics]", "1"));
    let res = browser.call("register", &form(&accepted)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        ledger(&app, "ada@example.com").await,
        [
            row("terms", true, 1, "registration"),
            row("privacy", true, 1, "registration"),
            row("analytics", true, 1, "registration"),
        ]
    );
    // Registered with the terms accepted, the first sign-in is not asked again.
    let mail = app
        .mail
        .wait_for("ada@example.com", "Confirm your email")
        .await;
    let token = TestApp::token_in(&mail.body, "/verify-email");
    browser.call("verify-email", &[("token", &token)]).await;
    let res = sign_in(&browser, "ada@example.com").await;
    assert_eq!(res.headers()["location"], "/profile");
    assert!(browser.me().await.is_some());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_sign_up_without_a_form_is_asked_at_its_first_sign_in(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (browser, res) = app.signs_up_by_email_link("new.comer@example.com").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/signin/consent");
    // Not signed in until the question is answered.
    assert!(browser.me().await.is_none());
    let res = browser.get("/profile").await;
    assert!(res.status().is_redirection());
    assert_eq!(res.headers()["location"], "/signin");
    let question = question(&browser).await;
    assert_eq!(question["first_time"], true);
    assert_eq!(question["purposes"].as_array().unwrap().len(), 5);
    // The optional ones may stay unticked; the required ones may not.
    let res = browser.answer_consent(&[("consent[terms]", "1")]).await;
    assert_eq!(res.status(), 422);
    assert!(browser.me().await.is_none());
    assert!(ledger(&app, "new.comer@example.com").await.is_empty());

    let res = browser.accept_terms().await;
    assert_eq!(res.headers()["location"], "/profile");
    assert_eq!(
        browser.me().await.unwrap()["email"],
        "new.comer@example.com"
    );
    assert_eq!(
        ledger(&app, "new.comer@example.com").await,
        [
            row("terms", true, 1, "registration"),
            row("privacy", true, 1, "registration"),
        ]
    );
    // The answer is not taken twice: a replay changes nothing.
    browser.accept_terms().await;
    assert_eq!(ledger(&app, "new.comer@example.com").await.len(), 2);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_new_required_version_is_asked_at_the_next_sign_in(db: PgPool) {
    let app = TestApp::spawn(db).await;
    drop(app.signed_in_customer("ada@example.com").await);
    let version = new_terms(&app).await;
    assert_eq!(version, 2);

    let browser = app.browser();
    let res = sign_in(&browser, "ada@example.com").await;
    assert_eq!(res.headers()["location"], "/signin/consent");
    assert!(browser.me().await.is_none());
    let question = question(&browser).await;
    assert_eq!(question["first_time"], false);
    assert_eq!(question["purposes"].as_array().unwrap().len(), 1);
    assert_eq!(question["purposes"][0]["key"], "terms");
    assert_eq!(question["purposes"][0]["version"], 2);
    // Accepting the version the person saw before is not accepting this one.
    let res = browser.answer_consent(&[("consent[terms]", "1")]).await;
    assert_eq!(res.status(), 422);
    assert!(browser.me().await.is_none());
    let res = browser.answer_consent(&[("consent[terms]", "2")]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/profile");
    assert!(browser.me().await.is_some());
    let rows = ledger(&app, "ada@example.com").await;
    assert_eq!(rows.last().unwrap(), &row("terms", true, 2, "re-consent"));
    let asked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'signin.consent_asked'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(asked, 1);

    // Declining leaves nobody signed in, and says why.
    new_terms_again(&app).await;
    let other = app.browser();
    sign_in(&other, "ada@example.com").await;
    let res = other.call("signin/consent/decline", &[]).await;
    assert_eq!(res.headers()["location"], "/signin?declined=1");
    assert!(other.me().await.is_none());
    let res = other.answer_consent(&[("consent[terms]", "3")]).await;
    assert_eq!(res.status(), 400, "no sign-in waits any more");
    assert!(other.me().await.is_none());
    let declined: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events
         WHERE action = 'signin.failed' AND detail ->> 'reason' = 'consent_declined'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(declined, 1);
}

async fn new_terms_again(app: &TestApp) {
    purposes::publish(&app.db, "terms", "Terms, version three.", Actor::Cli)
        .await
        .unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn two_tabs_answering_at_once_write_one_row(db: PgPool) {
    let app = TestApp::spawn(db).await;
    drop(app.signed_in_customer("ada@example.com").await);
    new_terms(&app).await;
    let browser = app.browser();
    sign_in(&browser, "ada@example.com").await;
    let answer = [("consent[terms]", "2")];
    let (a, b) = tokio::join!(
        browser.answer_consent(&answer),
        browser.answer_consent(&answer),
    );
    assert!(a.status() == 200 || b.status() == 200);
    let twos = ledger(&app, "ada@example.com")
        .await
        .into_iter()
        .filter(|r| r.2 == 2)
        .count();
    assert_eq!(twos, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_app_waits_for_the_new_terms_inside_its_authorization(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    new_terms(&app).await;

    // Already signed in: the app's request stops at the question, and a silent one is told.
    let res = browser
        .get(&authorize_url(&client, &[("prompt", "none")]))
        .await;
    assert_eq!(answer(&location(&res))["error"], "consent_required");
    let res = browser.get(&authorize_url(&client, &[])).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/signin/consent");
    let res = browser.answer_consent(&[("consent[terms]", "2")]).await;
    assert_eq!(res.status(), 200);
    let next = location(&res);
    assert!(next.starts_with("/oauth2/continue?request="), "{next}");
    // The continuation page's script goes on through the authorization endpoint.
    let res = browser
        .get(&next.replace("/oauth2/continue", "/oauth2/authorize/continue"))
        .await;
    assert_eq!(res.status(), 303);
    assert!(answer(&location(&res)).contains_key("code"));

    // Signing in inside an app's flow: the question comes before the app.
    new_terms_again(&app).await;
    let fresh = app.browser();
    let res = fresh.get(&authorize_url(&client, &[])).await;
    assert_eq!(location(&res), "/signin");
    let res = sign_in(&fresh, "ada@example.com").await;
    assert_eq!(res.headers()["location"], "/signin/consent");
    let res = fresh.answer_consent(&[("consent[terms]", "3")]).await;
    assert_eq!(res.headers()["location"], "/oauth2/continue");
}

#[sqlx::test(migrations = "../migrations")]
async fn staff_are_not_asked_the_customers_question(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let admin = app.signed_in_admin("owner@example.com").await;
    assert!(admin.me().await.is_some());
    assert!(ledger(&app, "owner@example.com").await.is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn an_answer_counts_only_for_the_sign_in_that_asked_and_not_after_a_lock(db: PgPool) {
    let app = TestApp::spawn(db).await;
    drop(app.signed_in_customer("ada@example.com").await);
    drop(app.signed_in_customer("bob@example.com").await);
    new_terms(&app).await;

    // A question shown for Ada, then Bob signs in in the same browser: Ada's page cannot
    // answer for Bob's sign-in.
    let browser = app.browser();
    sign_in(&browser, "ada@example.com").await;
    let shown_to_ada = question(&browser).await["step"]
        .as_str()
        .unwrap()
        .to_owned();
    sign_in(&browser, "bob@example.com").await;
    let res = browser
        .call(
            "signin/consent/accept",
            &[("step", shown_to_ada.as_str()), ("consent[terms]", "2")],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(browser.me().await.is_none());
    assert_eq!(
        ledger(&app, "bob@example.com").await.len(),
        2,
        "nothing new for Bob"
    );

    // Locked while the question waited: the answer signs nobody in and records nothing.
    let browser = app.browser();
    sign_in(&browser, "ada@example.com").await;
    sqlx::query("UPDATE users SET locked_at = now() WHERE email = 'ada@example.com'")
        .execute(&app.db)
        .await
        .unwrap();
    let res = browser.answer_consent(&[("consent[terms]", "2")]).await;
    assert_ne!(res.status(), 200);
    assert!(browser.me().await.is_none());
    assert_eq!(ledger(&app, "ada@example.com").await.len(), 2);
}
