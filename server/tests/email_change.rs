//! A person moving their account to another address over HTTP: the link to the new address,
//! the undo link to the old one, and what an attacker would try against both.

use crate::support::{
    error_of, mfa::enrol_from_profile, sms::prove_phone, social::add_provider, Browser, TestApp,
    GOOD_PASSWORD,
};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

const CHANGED: &str = "The email address of your Keyhaven account changed";

async fn ask(browser: &Browser, to: &str) {
    let res = browser.call("change-email", &[("email", to)]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(res.headers()["location"], "/profile?email_change_sent=1");
}

/// Asks for the change and opens the link mailed to `to`; returns the undo link's token that
/// went to `from`.
async fn move_account(app: &TestApp, browser: &Browser, from: &str, to: &str) -> String {
    ask(browser, to).await;
    let mail = app.mail.wait_for(to, "Confirm the new email address").await;
    let token = TestApp::token_in(&mail.body, "/confirm-email-change");
    let res = browser
        .call("confirm-email-change", &[("token", &token)])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(res.headers()["location"], "/profile?email_changed=1");
    let notice = app.mail.wait_for(from, CHANGED).await;
    TestApp::token_in(&notice.body, "/undo-email-change")
}

#[sqlx::test(migrations = "../migrations")]
async fn the_owner_moves_to_a_new_address_and_the_old_one_can_undo_it(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer("ada@example.org").await;

    ask(&browser, "ada@new.example").await;
    // Nothing changes until the new address proves itself.
    assert_eq!(browser.me().await.unwrap()["email"], "ada@example.org");
    let mail = app
        .mail
        .wait_for("ada@new.example", "Confirm the new email address")
        .await;
    let token = TestApp::token_in(&mail.body, "/confirm-email-change");
    let res = browser
        .call("confirm-email-change", &[("token", &token)])
        .await;
    assert_eq!(res.headers()["location"], "/profile?email_changed=1");
    let me = browser.me().await.unwrap();
    assert_eq!(me["email"], "ada@new.example");
    assert_eq!(me["email_verified"], true);

    // The old address is told, with the new one masked, and gets the undo link.
    let notice = app.mail.wait_for("ada@example.org", CHANGED).await;
    assert!(!notice.body.contains("ada@new.example"), "{}", notice.body);
    let undo = TestApp::token_in(&notice.body, "/undo-email-change");

    // The link works once.
    let again = browser
        .call("confirm-email-change", &[("token", &token)])
        .await;
    assert_eq!(again.status(), 400);
    assert_eq!(
        error_of(again).await,
        json!({ "Refused": "This link has already been used." })
    );
    // The old address no longer signs in.
    let old = app
        .browser()
        .call(
            "sign-in",
            &[("email", "ada@example.org"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(old.status(), 401);

    // "This wasn't me": the address comes back, every session ends, the password must be reset.
    let res = app
        .browser()
        .call("undo-email-change", &[("token", &undo)])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(res.headers()["location"], "/signin?email_restored=1");
    assert!(browser.me().await.is_none(), "the session ended");
    let email: String = sqlx::query_scalar("SELECT email FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(email, "ada@example.org");
    app.mail
        .wait_for("ada@example.org", "Reset your Keyhaven password")
        .await;
    let stale = app
        .browser()
        .call(
            "sign-in",
            &[("email", "ada@example.org"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(stale.status(), 403, "the password must be reset first");
    let twice = app
        .browser()
        .call("undo-email-change", &[("token", &undo)])
        .await;
    assert_eq!(twice.status(), 400);

    let actions: Vec<String> = app
        .audit_actions()
        .await
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    for action in [
        "email.change_requested",
        "email.changed",
        "email.change_undone",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_taken_address_gets_the_same_answer_and_its_owner_is_told(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_in_customer("bob@example.org").await;
    let ada = app.signed_in_customer("ada@example.org").await;

    ask(&ada, "BOB@example.org").await;
    app.mail
        .wait_for("bob@example.org", "Someone tried to use your address")
        .await;
    assert_eq!(
        app.mail
            .count("bob@example.org", "Confirm the new email address")
            .await,
        0
    );
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM email_changes")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(pending, 0);
    assert_eq!(ada.me().await.unwrap()["email"], "ada@example.org");

    // Its own address is not a change.
    let same = ada
        .call("change-email", &[("email", "ADA@example.org")])
        .await;
    assert_eq!(same.status(), 422);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_change_needs_a_recent_sign_in(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer("ada@example.org").await;
    app.age_sign_ins().await;
    let stale = browser
        .call("change-email", &[("email", "ada@new.example")])
        .await;
    assert_eq!(stale.status(), 403);
    assert_eq!(error_of(stale).await, json!("StepUp"));
    let anonymous = app
        .browser()
        .call("change-email", &[("email", "ada@new.example")])
        .await;
    assert_eq!(anonymous.status(), 401);
}

/// Someone who took over the account moves it away and registers a fresh account at the old
/// address, to make the undo fail; then moves it again, to undo the owner's undo.
#[sqlx::test(migrations = "../migrations")]
async fn a_thief_can_neither_take_the_old_address_nor_undo_the_owners_undo(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let thief = app.signed_in_customer("ada@example.org").await;
    let owners_undo = move_account(&app, &thief, "ada@example.org", "thief@evil.example").await;

    // The old address is reserved while the change can be undone: the same answer as a
    // registration, no account, and its owner is told.
    let res = app
        .browser()
        .call(
            "register",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", "ada@example.org"),
                ("display_name", "Not Ada"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    app.mail
        .wait_for("ada@example.org", "Someone tried to register")
        .await;
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(accounts, 1);

    // A second move: its undo link goes to the thief's address.
    let thiefs_undo = move_account(&app, &thief, "thief@evil.example", "thief2@evil.example").await;
    ask(&thief, "thief3@evil.example").await;
    let pending = app
        .mail
        .wait_for("thief3@evil.example", "Confirm the new email address")
        .await;
    let pending = TestApp::token_in(&pending.body, "/confirm-email-change");

    let res = app
        .browser()
        .call("undo-email-change", &[("token", &owners_undo)])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    for (endpoint, token) in [
        ("undo-email-change", &thiefs_undo),
        ("confirm-email-change", &pending),
    ] {
        let res = app.browser().call(endpoint, &[("token", token)]).await;
        assert_eq!(res.status(), 400, "{endpoint}");
    }
    let email: String = sqlx::query_scalar("SELECT email FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(email, "ada@example.org");
}

/// Someone who took over the account adds ways in of their own before moving it away: an
/// authenticator app, a phone, a passkey, a linked social account. The owner's undo removes
/// every one, so none of them lets the thief back in.
#[sqlx::test(migrations = "../migrations")]
async fn the_undo_removes_the_ways_in_a_thief_added(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.set_policy("sms_enabled = true").await;
    let thief = app.signed_in_customer("ada@example.org").await;
    let ada: Uuid = sqlx::query_scalar("SELECT id FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    enrol_from_profile(&thief).await;
    let phone = "+447911123456";
    prove_phone(&app, &thief, phone).await;
    // A passkey and a linked account (their ceremonies run in end2end; here what the undo must
    // find is what matters).
    sqlx::query(
        "INSERT INTO passkeys (credential_id, user_id, name, passkey)
         VALUES ('\\x0102'::bytea, $1, 'Thief phone', '{}'::jsonb)",
    )
    .bind(ada)
    .execute(&app.db)
    .await
    .unwrap();
    add_provider(&app, "https://idp.example.com").await;
    sqlx::query(
        "INSERT INTO user_identities (id, user_id, provider_id, subject)
         VALUES ($1, $2, 'upstream', 'thief-at-upstream')",
    )
    .bind(Uuid::new_v4())
    .bind(ada)
    .execute(&app.db)
    .await
    .unwrap();
    let undo = move_account(&app, &thief, "ada@example.org", "thief@evil.example").await;

    let res = app
        .browser()
        .call("undo-email-change", &[("token", &undo)])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let left: (i64, i64, i64, i64, i64, Option<String>) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM passkeys), (SELECT count(*) FROM user_identities),
                (SELECT count(*) FROM totp_factors), (SELECT count(*) FROM recovery_codes),
                (SELECT count(*) FROM remembered_devices), (SELECT phone FROM users)",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(left, (0, 0, 0, 0, 0, None));
    // The phone no longer signs anyone in: asking gets the usual answer and texts nothing.
    let texts = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM sms_outbox")
            .fetch_one(&app.db)
            .await
            .unwrap()
    };
    let before = texts().await;
    let res = app.browser().call("sms-sign-in", &[("phone", phone)]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(texts().await, before);
    let detail: serde_json::Value =
        sqlx::query_scalar("SELECT detail FROM audit_events WHERE action = 'email.change_undone'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(detail["passkeys_removed"], 1, "{detail}");
    assert_eq!(detail["identities_removed"], 1, "{detail}");
    assert_eq!(detail["phone_removed"], true, "{detail}");
    assert!(
        detail["second_factors_removed"].as_u64().unwrap() >= 2,
        "{detail}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn expired_and_unknown_links_change_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer("ada@example.org").await;
    ask(&browser, "ada@new.example").await;
    let mail = app
        .mail
        .wait_for("ada@new.example", "Confirm the new email address")
        .await;
    let token = TestApp::token_in(&mail.body, "/confirm-email-change");
    sqlx::query("UPDATE email_changes SET confirm_expires_at = now() - interval '1 minute'")
        .execute(&app.db)
        .await
        .unwrap();
    let late = browser
        .call("confirm-email-change", &[("token", &token)])
        .await;
    assert_eq!(late.status(), 400);
    assert_eq!(
        error_of(late).await,
        json!({ "Refused": "This link has expired. Ask for a new one." })
    );
    let unknown = browser
        .call("undo-email-change", &[("token", "not-a-real-token")])
        .await;
    assert_eq!(unknown.status(), 400);
    assert_eq!(browser.me().await.unwrap()["email"], "ada@example.org");
    // Only hashes of the links are stored.
    let stored: Vec<u8> = sqlx::query_scalar("SELECT confirm_hash FROM email_changes")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_ne!(stored, token.as_bytes());
    assert_eq!(stored.len(), 32);
}
