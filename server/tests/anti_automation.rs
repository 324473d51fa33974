//! Anti-automation: registrations and passkey ceremonies are limited per address and per client
//! network, expired ceremonies and sign-in requests are purged, an account that keeps failing
//! across lockout windows stays locked until a reset (NIST 800-63B §5.2.2), throwaway
//! addresses cannot register, and a bot filling the hidden trap field registers nothing.

use crate::support::{error_of, TestApp, GOOD_PASSWORD, NEW_PASSWORD};
use sqlx::PgPool;

/// A registration as the page sends it, with its proof of work solved.
async fn register(app: &TestApp, email: &str) -> u16 {
    let browser = app.browser();
    let proof = browser.solved_proof("register").await.unwrap();
    browser
        .call(
            "register",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", email),
                ("display_name", "Ada"),
                ("password", GOOD_PASSWORD),
                ("proof", &proof),
            ],
        )
        .await
        .status()
        .as_u16()
}

#[sqlx::test(migrations = "../migrations")]
async fn registrations_are_limited_per_address(db: PgPool) {
    let app = TestApp::spawn(db).await;
    for _ in 0..5 {
        assert_eq!(register(&app, "ada@example.com").await, 200);
    }
    assert_eq!(register(&app, "ada@example.com").await, 429);
    assert_eq!(register(&app, "bob@example.com").await, 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn registrations_are_limited_per_client_network(db: PgPool) {
    let app = TestApp::spawn(db).await;
    for n in 0..50 {
        let status = register(&app, &format!("user{n}@example.com")).await;
        assert_eq!(status, 200, "registration {n}");
    }
    assert_eq!(register(&app, "one-more@example.com").await, 429);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_sign_up_surge_across_the_site_stops_registrations_everywhere(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| {
        c.trusted_proxies =
            app::domain::client_address::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    // Each from a network of its own, 9,999 registrations this hour so far.
    sqlx::query(
        "INSERT INTO auth_throttle (key, failures, window_started_at)
         VALUES ('register-global', 9999, now())",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let attempt = |n: u32| {
        let browser = app.browser_at(&format!("198.51.{n}.7"));
        async move {
            browser
                .call(
                    "register",
                    &[
                        ("consent[terms]", "1"),
                        ("consent[privacy]", "1"),
                        ("email", format!("user{n}@example.com").as_str()),
                        ("display_name", "Ada"),
                        ("password", GOOD_PASSWORD),
                    ],
                )
                .await
                .status()
                .as_u16()
        }
    };
    assert_eq!(attempt(1).await, 200, "the 10,000th");
    assert_eq!(attempt(2).await, 429, "then nobody, from anywhere");
    let start = app
        .browser_at("198.51.3.7")
        .call(
            "passkeys/sign-up/start",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", "bo@example.com"),
                ("display_name", "Bo"),
            ],
        )
        .await;
    assert_eq!(start.status(), 429, "passkey sign-ups count too");
}

#[sqlx::test(migrations = "../migrations")]
async fn passkey_sign_ups_are_limited_per_address(db: PgPool) {
    let app = TestApp::spawn(db).await;
    // As the page sends it: with the registration form's proof of work.
    let start = || async {
        let browser = app.browser();
        let proof = browser.solved_proof("register").await.unwrap();
        browser
            .call(
                "passkeys/sign-up/start",
                &[
                    ("consent[terms]", "1"),
                    ("consent[privacy]", "1"),
                    ("email", "ada@example.com"),
                    ("display_name", "Ada"),
                    ("proof", &proof),
                ],
            )
            .await
            .status()
            .as_u16()
    };
    for _ in 0..10 {
        assert_eq!(start().await, 200);
    }
    assert_eq!(start().await, 429);
}

#[sqlx::test(migrations = "../migrations")]
async fn passkey_ceremony_starts_are_limited_per_client_network(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();
    for n in 0..300 {
        let res = browser.call("passkeys/sign-in/start", &[]).await;
        assert_eq!(res.status(), 200, "start {n}");
    }
    let res = browser.call("passkeys/sign-in/start", &[]).await;
    assert_eq!(res.status(), 429);
}

#[sqlx::test(migrations = "../migrations")]
async fn expired_ceremonies_and_sign_in_requests_are_purged(db: PgPool) {
    let app = TestApp::spawn(db).await;
    sqlx::query(
        "INSERT INTO webauthn_ceremonies (id, kind, state, expires_at)
         VALUES (gen_random_uuid(), 'sign_in', '{}', now() - interval '1 hour'),
                (gen_random_uuid(), 'sign_in', '{}', now() + interval '5 minutes')",
    )
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO email_sign_in_requests (id, email, link_hash, code_hash, expires_at)
         VALUES (gen_random_uuid(), 'a@example.com', '\\x01', '\\x01', now() - interval '2 days'),
                (gen_random_uuid(), 'b@example.com', '\\x02', '\\x02', now() + interval '5 minutes')",
    )
    .execute(&app.db)
    .await
    .unwrap();
    server::workers::cleanup::sweep(&app.db, &app.public_url)
        .await
        .unwrap();
    for table in ["webauthn_ceremonies", "email_sign_in_requests"] {
        let left: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&app.db)
            .await
            .unwrap();
        assert_eq!(left, 1, "{table}: only the live row is left");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_hundred_failures_across_windows_lock_the_account_until_a_reset(db: PgPool) {
    let app = TestApp::spawn(db).await;
    drop(app.signed_in_customer("ada@example.com").await);
    let attacker = app.browser();
    for window in 0..10 {
        for _ in 0..10 {
            let res = attacker
                .call(
                    "sign-in",
                    &[
                        ("email", "ada@example.com"),
                        ("password", "wrong guess 1234"),
                    ],
                )
                .await;
            assert!(matches!(res.status().as_u16(), 401 | 429), "{window}");
        }
        // The next window: the short lockout is over, for the account and the client.
        sqlx::query("DELETE FROM auth_throttle")
            .execute(&app.db)
            .await
            .unwrap();
    }

    // The right password no longer opens the account; a reset is needed.
    let owner = app.browser();
    let res = owner
        .call(
            "sign-in",
            &[("email", "ada@example.com"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 403);
    let message = error_of(res).await.to_string();
    assert!(message.contains("reset your password"), "{message}");

    app.reset_password("ada@example.com", NEW_PASSWORD).await;
    let res = app
        .browser()
        .call(
            "sign-in",
            &[("email", "ada@example.com"), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_throwaway_address_cannot_register(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let res = app
        .browser()
        .call(
            "register",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", "ada@mailinator.com"),
                ("display_name", "Ada"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let body = error_of(res).await;
    assert_eq!(body["Field"]["field"], "email");
    assert!(body["Field"]["message"]
        .as_str()
        .unwrap()
        .contains("throwaway"));
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(accounts, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_bot_filling_the_trap_field_gets_the_usual_answer_and_nothing_else(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let res = app
        .browser()
        .call(
            "register",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", "bot@example.com"),
                ("display_name", "Bot"),
                ("password", GOOD_PASSWORD),
                ("website", "https://spam.example"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/register/sent");
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(accounts, 0, "nothing stored");
    let trapped: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'account.registration_trapped'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(trapped, 1);
    // Give the mail worker a moment: nothing arrives.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        app.mail
            .all()
            .await
            .iter()
            .all(|m| !m.to.contains("bot@example.com")),
        "nothing mailed"
    );
}
