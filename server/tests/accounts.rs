//! Email+password accounts over HTTP: registration, verification, sign-in, profile, sign-out,
//! throttling and password reset, against a real Postgres and a real SMTP exchange.

use crate::support::{error_of, TestApp, GOOD_PASSWORD, NEW_PASSWORD};
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn a_customer_registers_verifies_signs_in_edits_the_profile_and_signs_out(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();

    let res = browser
        .call(
            "register",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", " Ada@Example.ORG "),
                ("display_name", "Ada Lovelace"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/register/sent");

    let mail = app
        .mail
        .wait_for("Ada@example.org", "Confirm your email")
        .await;
    assert!(mail
        .body
        .contains(&format!("{}/verify-email?token=", app.public_url)));
    let token = TestApp::token_in(&mail.body, "/verify-email");

    // Not verified yet: sign-in is refused with the verification error.
    let res = browser
        .call(
            "sign-in",
            &[("email", "ada@example.org"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(error_of(res).await, json!("EmailNotVerified"));

    let res = browser.call("verify-email", &[("token", &token)]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/signin?verified=1");

    let res = browser
        .call(
            "sign-in",
            &[("email", "ADA@example.org"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/profile");

    let me = browser.me().await.expect("signed in");
    assert_eq!(me["email"], "Ada@example.org");
    assert_eq!(me["email_verified"], true);
    assert_eq!(me["display_name"], "Ada Lovelace");

    let page = browser.get("/profile").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Ada@example.org"));

    let res = browser
        .call("update-profile", &[("display_name", "Augusta Ada King")])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        browser.me().await.unwrap()["display_name"],
        "Augusta Ada King"
    );

    let res = browser.call("sign-out", &[]).await;
    assert_eq!(res.status(), 200);
    assert!(browser.me().await.is_none());
    let page = browser.get("/profile").await;
    assert_eq!(page.status(), 302);
    assert_eq!(page.headers()["location"], "/signin");

    let actions = app.audit_actions().await;
    for expected in [
        ("account.registered", "success"),
        ("signin.failed", "failure"),
        ("email.verified", "success"),
        ("signin.succeeded", "success"),
        ("profile.updated", "success"),
        ("session.ended", "success"),
    ] {
        assert!(
            actions.contains(&(expected.0.into(), expected.1.into())),
            "missing audit row {expected:?} in {actions:?}"
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_verification_link_works_once(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();
    browser
        .call(
            "register",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", "lin@example.com"),
                ("display_name", "Lin"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    let mail = app.mail.wait_for("lin@example.com", "Confirm").await;
    let token = TestApp::token_in(&mail.body, "/verify-email");
    assert_eq!(
        browser
            .call("verify-email", &[("token", &token)])
            .await
            .status(),
        200
    );

    let again = browser.call("verify-email", &[("token", &token)]).await;
    assert_eq!(again.status(), 400);
    assert_eq!(
        error_of(again).await,
        json!({ "Refused": "This link has already been used." })
    );

    let forged = browser
        .call("verify-email", &[("token", "not-a-real-token")])
        .await;
    assert_eq!(forged.status(), 400);
    assert!(error_of(forged).await["Refused"]
        .as_str()
        .unwrap()
        .contains("not valid"));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_wrong_password_and_an_unknown_address_get_the_same_answer(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let signed_in = app.signed_in_customer("grace@example.com").await;
    drop(signed_in);
    let browser = app.browser();

    let wrong = browser
        .call(
            "sign-in",
            &[
                ("email", "grace@example.com"),
                ("password", "not my password at all"),
            ],
        )
        .await;
    let unknown = browser
        .call(
            "sign-in",
            &[
                ("email", "nobody@example.com"),
                ("password", "not my password at all"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    assert_eq!(error_of(wrong).await, json!("InvalidCredentials"));
    assert_eq!(error_of(unknown).await, json!("InvalidCredentials"));
    assert!(browser.me().await.is_none());
}

#[sqlx::test(migrations = "../migrations")]
async fn repeated_failures_lock_the_account_and_say_for_how_long(db: PgPool) {
    let app = TestApp::spawn(db).await;
    drop(app.signed_in_customer("hedy@example.com").await);
    let browser = app.browser();

    for attempt in 1..=9 {
        let res = browser
            .call(
                "sign-in",
                &[
                    ("email", "hedy@example.com"),
                    ("password", "wrong guess number x"),
                ],
            )
            .await;
        assert_eq!(res.status(), 401, "attempt {attempt}");
    }
    let tenth = browser
        .call(
            "sign-in",
            &[
                ("email", "hedy@example.com"),
                ("password", "wrong guess number x"),
            ],
        )
        .await;
    assert_eq!(tenth.status(), 429);
    assert_eq!(
        error_of(tenth).await,
        json!({ "Throttled": { "minutes": 15 } })
    );

    // Even the right password waits out the lock, and the message says how long.
    let right = browser
        .call(
            "sign-in",
            &[("email", "hedy@example.com"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(right.status(), 429);
    assert!(browser.me().await.is_none());

    // The count lives in Postgres, shared by every node.
    let failures: i32 = sqlx::query_scalar(
        "SELECT failures FROM auth_throttle WHERE key = 'account:hedy@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(failures, 10);
}

#[sqlx::test(migrations = "../migrations")]
async fn resetting_the_password_ends_every_other_session(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let laptop = app.signed_in_customer("joan@example.com").await;
    let phone = app.browser();
    assert_eq!(
        phone
            .call(
                "sign-in",
                &[("email", "joan@example.com"), ("password", GOOD_PASSWORD)]
            )
            .await
            .status(),
        200
    );
    assert!(laptop.me().await.is_some() && phone.me().await.is_some());

    let stranger = app.browser();
    let res = stranger
        .call("forgot-password", &[("email", "joan@example.com")])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/forgot-password/sent");
    let mail = app.mail.wait_for("joan@example.com", "Reset your").await;
    let token = TestApp::token_in(&mail.body, "/reset-password");

    // A weak password is refused and does not use the link up.
    let weak = stranger
        .call(
            "reset-password",
            &[("token", &token), ("password", "password1")],
        )
        .await;
    assert_eq!(weak.status(), 422);
    assert_eq!(error_of(weak).await["Field"]["field"], "password");

    let res = stranger
        .call(
            "reset-password",
            &[("token", &token), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/profile?password_changed=1");

    assert!(
        stranger.me().await.is_some(),
        "the resetting browser is signed in"
    );
    assert!(laptop.me().await.is_none(), "the laptop was signed out");
    assert!(phone.me().await.is_none(), "the phone was signed out");
    app.mail
        .wait_for("joan@example.com", "password was changed")
        .await;

    let old = app
        .browser()
        .call(
            "sign-in",
            &[("email", "joan@example.com"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(old.status(), 401);
    let new = app
        .browser()
        .call(
            "sign-in",
            &[("email", "joan@example.com"), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(new.status(), 200);

    let reused = app
        .browser()
        .call(
            "reset-password",
            &[
                ("token", &token),
                ("password", "yet another long passphrase here"),
            ],
        )
        .await;
    assert_eq!(reused.status(), 400);
}

#[sqlx::test(migrations = "../migrations")]
async fn registering_a_taken_address_reveals_nothing_and_tells_the_owner(db: PgPool) {
    let app = TestApp::spawn(db).await;
    drop(app.signed_in_customer("mary@example.com").await);

    let attacker = app.browser();
    let res = attacker
        .call(
            "register",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", "MARY@example.com"),
                ("display_name", "Mallory"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/register/sent");
    assert_eq!(res.text().await.unwrap(), "null");

    app.mail
        .wait_for("mary@example.com", "Someone tried to register")
        .await;
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(users, 1);
    let name: String = sqlx::query_scalar("SELECT display_name FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(name, "Ada Lovelace");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unverified_customer_can_ask_for_a_new_link(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();
    browser
        .call(
            "register",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", "rosalind@example.com"),
                ("display_name", "Rosalind"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    app.mail.wait_for("rosalind@example.com", "Confirm").await;

    // Without proving the password first, there is nothing to resend.
    let early = browser.call("resend-verification", &[]).await;
    assert_eq!(early.status(), 400);

    let res = browser
        .call(
            "sign-in",
            &[
                ("email", "rosalind@example.com"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = browser.call("resend-verification", &[]).await;
    assert_eq!(res.status(), 200);
    tokio::time::timeout(std::time::Duration::from_secs(15), async {
        while app.mail.count("rosalind@example.com", "Confirm").await < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("a second verification mail");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_session_cookie_is_http_only_lax_and_renewed_at_sign_in(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();
    browser
        .call(
            "register",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", "ida@example.com"),
                ("display_name", "Ida"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    app.mail.wait_for("ida@example.com", "Confirm").await;
    // An anonymous session exists before sign-in (it remembers the pending verification).
    let before = browser
        .call(
            "sign-in",
            &[("email", "ida@example.com"), ("password", GOOD_PASSWORD)],
        )
        .await;
    let first = before.headers()["set-cookie"].to_str().unwrap().to_owned();
    sqlx::query("UPDATE users SET email_verified_at = now()")
        .execute(&app.db)
        .await
        .unwrap();
    let after = browser
        .call(
            "sign-in",
            &[("email", "ida@example.com"), ("password", GOOD_PASSWORD)],
        )
        .await;
    let second = after.headers()["set-cookie"].to_str().unwrap().to_owned();
    for cookie in [&first, &second] {
        assert!(cookie.starts_with("session="), "{cookie}");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    }
    let id = |c: &str| c.split(';').next().unwrap().to_owned();
    assert_ne!(id(&first), id(&second), "sign-in cycles the session id");
    let sessions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id IS NOT NULL")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(sessions, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn reset_mails_are_limited_per_address(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();
    for _ in 0..5 {
        let res = browser
            .call("forgot-password", &[("email", "victim@example.com")])
            .await;
        assert_eq!(res.status(), 200);
    }
    let sixth = browser
        .call("forgot-password", &[("email", "victim@example.com")])
        .await;
    assert_eq!(sixth.status(), 429);
    assert_eq!(
        error_of(sixth).await,
        json!({ "Throttled": { "minutes": 60 } })
    );
}

/// Building a router renders the app once with resource loading switched off for the whole
/// process. Routers built while a page renders (tests, or nodes in one process) must not leave
/// that page's data pending for ever.
#[sqlx::test(migrations = "../migrations")]
async fn pages_finish_while_another_router_is_built(db: PgPool) {
    use std::sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    };
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer("ada@example.org").await;

    let stop = Arc::new(AtomicBool::new(false));
    let builder = {
        let stop = stop.clone();
        let config = app.config.clone();
        let state = server::startup::app_state(app.db.clone(), &config).unwrap();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let _inside = runtime.enter();
            let mut built = 0;
            while !stop.load(Ordering::Relaxed) {
                drop(server::startup::router(state.clone(), &config));
                built += 1;
            }
            built
        })
    };
    for _ in 0..20 {
        let page = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            browser.get("/profile").await.text().await.unwrap()
        })
        .await
        .expect("the profile page finishes");
        assert!(page.contains("ada@example.org"));
    }
    stop.store(true, Ordering::Relaxed);
    assert!(builder.join().unwrap() > 0, "routers were built meanwhile");
}
