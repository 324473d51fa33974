//! Bot defences that cost the attacker: a registration without a proof of work (no JavaScript,
//! or a bot) meets tighter limits, and an answer counts once, for its purpose and network only;
//! a network trying many passwords must solve a puzzle and wait before each further password
//! is even checked, while a customer on another network signs in as usual; a surge across
//! the site asks everyone for a small puzzle.

use std::time::{Duration, Instant};

use crate::support::{error_of, Browser, TestApp, GOOD_PASSWORD};
use sqlx::PgPool;

async fn spawn(db: PgPool) -> TestApp {
    TestApp::spawn_with(db, |c| {
        c.trusted_proxies =
            app::domain::client_address::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await
}

async fn register(browser: &Browser, email: &str, proof: &str) -> u16 {
    browser
        .call(
            "register",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", email),
                ("display_name", "Ada"),
                ("password", GOOD_PASSWORD),
                ("proof", proof),
            ],
        )
        .await
        .status()
        .as_u16()
}

async fn accounts(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn registrations_without_a_proof_of_work_meet_a_tighter_limit(db: PgPool) {
    let app = spawn(db).await;
    let browser = app.browser_at("203.0.113.5");
    for n in 0..5 {
        let status = register(&browser, &format!("plain{n}@example.com"), "").await;
        assert_eq!(status, 200, "registration {n} without JavaScript");
    }
    assert_eq!(register(&browser, "plain5@example.com", "").await, 429);
    assert_eq!(accounts(&app).await, 5);
    // A browser that solved the puzzle still registers from the same network.
    let proof = browser.solved_proof("register").await.unwrap();
    assert_eq!(register(&browser, "solved@example.com", &proof).await, 200);
    assert_eq!(accounts(&app).await, 6);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_proof_of_work_counts_once_for_its_purpose_and_network_only(db: PgPool) {
    let app = spawn(db).await;
    let browser = app.browser_at("203.0.113.5");
    for n in 0..5 {
        assert_eq!(
            register(&browser, &format!("p{n}@example.com"), "").await,
            200
        );
    }
    let proof = browser.solved_proof("register").await.unwrap();
    assert_eq!(register(&browser, "first@example.com", &proof).await, 200);
    // The same answer again counts as none: the tighter limit is already reached.
    assert_eq!(register(&browser, "again@example.com", &proof).await, 429);
    // An answer solved on another network, for another purpose, or made up: none either.
    let elsewhere = app.browser_at("198.51.100.9");
    let foreign = elsewhere.solved_proof("register").await.unwrap();
    assert_eq!(
        register(&browser, "foreign@example.com", &foreign).await,
        429
    );
    // (A sign-in puzzle exists only under pressure; make the site look surging.)
    surge(&app).await;
    let sign_in = browser.solved_proof("sign-in").await.unwrap();
    assert_eq!(
        register(&browser, "purpose@example.com", &sign_in).await,
        429
    );
    let made_up = "register.18.9999999999.c2FsdA.bWFj.1";
    assert_eq!(
        register(&browser, "made-up@example.com", made_up).await,
        429
    );
    assert_eq!(accounts(&app).await, 6);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_puzzle_is_asked_for_a_purpose_the_site_knows(db: PgPool) {
    let app = spawn(db).await;
    let browser = app.browser_at("203.0.113.5");
    let res = browser
        .call("proof-of-work", &[("purpose", "mining")])
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(error_of(res).await["Field"]["field"], "purpose");
    // A calm site asks nothing of a sign-in.
    assert_eq!(browser.solved_proof("sign-in").await, None);
}

/// 1000 failed passwords across the site in the last 15 minutes.
async fn surge(app: &TestApp) {
    sqlx::query(
        "INSERT INTO auth_throttle (key, failures, window_started_at) VALUES ('global', 1000, now())
         ON CONFLICT (key) DO UPDATE SET failures = 1000, window_started_at = now()",
    )
    .execute(&app.db)
    .await
    .unwrap();
}

async fn sign_in(browser: &Browser, email: &str, password: &str, proof: &str) -> reqwest::Response {
    browser
        .call(
            "sign-in",
            &[("email", email), ("password", password), ("proof", proof)],
        )
        .await
}

#[sqlx::test(migrations = "../migrations")]
async fn a_stuffing_network_pays_for_every_further_password_while_others_sign_in_freely(
    db: PgPool,
) {
    let app = spawn(db).await;
    app.signed_in_customer_on(app.browser_at("198.51.100.20"), "ada@example.com")
        .await;
    app.signed_in_customer_on(app.browser_at("192.0.2.30"), "grace@example.com")
        .await;
    // A stuffing run: 20 accounts' leaked passwords tried from one /24, each from an address
    // of its own (so no per-address lock), each wrong.
    for n in 0..20 {
        let bot = app.browser_at(&format!("203.0.113.{}", n + 1));
        let res = sign_in(&bot, &format!("victim{n}@example.com"), "leaked-pass-1", "").await;
        assert_eq!(res.status(), 401, "attempt {n}: checked as usual");
    }
    // Now every password from that network needs a solved puzzle first: without one, even
    // the right password is not checked.
    let bot = app.browser_at("203.0.113.99");
    let res = sign_in(&bot, "ada@example.com", GOOD_PASSWORD, "").await;
    assert_eq!(res.status(), 429);
    assert_eq!(error_of(res).await, serde_json::json!("ProofOfWork"));
    assert!(bot.me().await.is_none());
    let refused: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events
         WHERE action = 'signin.failed' AND detail->>'reason' = 'proof_of_work'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(refused, 1);
    // With a solved puzzle the attempt is checked, after a wait.
    let proof = bot
        .solved_proof("sign-in")
        .await
        .expect("a puzzle for this network");
    let started = Instant::now();
    let res = sign_in(&bot, "ada@example.com", GOOD_PASSWORD, &proof).await;
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "slowed down"
    );
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    // The right password from a stuffing network is still asked for a second factor.
    assert_eq!(res.headers()["location"], "/signin/second-factor");
    // The answer is spent.
    let again = app.browser_at("203.0.113.98");
    let res = sign_in(&again, "ada@example.com", GOOD_PASSWORD, &proof).await;
    assert_eq!(res.status(), 429);
    // A customer on another network is asked nothing, and signs in.
    let customer = app.browser_at("192.0.2.30");
    assert_eq!(customer.solved_proof("sign-in").await, None);
    let res = sign_in(&customer, "grace@example.com", GOOD_PASSWORD, "").await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

#[sqlx::test(migrations = "../migrations")]
async fn the_price_of_stuffing_grows_as_the_run_goes_on(db: PgPool) {
    let app = spawn(db).await;
    let network_failures = |n: i32| {
        sqlx::query(
            "INSERT INTO auth_throttle (key, failures, window_started_at)
             VALUES ('net:203.0.113.0/24', $1, now())
             ON CONFLICT (key) DO UPDATE SET failures = $1",
        )
        .bind(n)
        .execute(&app.db)
    };
    let bot = app.browser_at("203.0.113.7");
    let bits = |proof: Option<String>| -> u8 {
        proof.unwrap().split('.').nth(1).unwrap().parse().unwrap()
    };
    network_failures(20).await.unwrap();
    assert_eq!(bits(bot.solved_proof("sign-in").await), 18);
    network_failures(40).await.unwrap();
    assert_eq!(bits(bot.solved_proof("sign-in").await), 20);
    // An answer to the easier puzzle no longer does.
    network_failures(20).await.unwrap();
    let easy = bot.solved_proof("sign-in").await.unwrap();
    network_failures(30).await.unwrap();
    let res = sign_in(&bot, "ada@example.com", GOOD_PASSWORD, &easy).await;
    assert_eq!(res.status(), 429);
    let reason: String = sqlx::query_scalar(
        "SELECT detail->>'proof' FROM audit_events
         WHERE action = 'signin.failed' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(reason.contains("easier"), "{reason}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_surge_across_the_site_asks_everyone_for_a_small_puzzle_without_a_wait(db: PgPool) {
    let app = spawn(db).await;
    let customer = app
        .signed_in_customer_on(app.browser_at("198.51.100.20"), "ada@example.com")
        .await;
    customer.call("sign-out", &[]).await;
    surge(&app).await;
    let res = sign_in(&customer, "ada@example.com", GOOD_PASSWORD, "").await;
    assert_eq!(res.status(), 429);
    let proof = customer.solved_proof("sign-in").await.unwrap();
    assert!(proof.starts_with("sign-in.16."), "{proof}");
    let res = sign_in(&customer, "ada@example.com", GOOD_PASSWORD, &proof).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}
