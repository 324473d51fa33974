//! Behind a proxy: forwarding headers count only from `CIAM_TRUSTED_PROXIES`, so throttling
//! and the audit trail see the real client (one attacker behind a shared proxy locks out only
//! themselves), and the scheme those proxies report keeps an https site on https.

use crate::support::TestApp;
use app::domain::client_address::TrustedProxies;
use sqlx::PgPool;

async fn sign_in_from(app: &TestApp, forwarded_for: &str, password: &str) -> u16 {
    app.browser()
        .client
        .post(format!("http://{}/api/sign-in", app.addr))
        .header("accept", "application/json")
        .header("x-forwarded-for", forwarded_for)
        .form(&[("email", "ada@example.com"), ("password", password)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn last_audited_ip(app: &TestApp) -> Option<String> {
    sqlx::query_scalar("SELECT ip FROM audit_events ORDER BY id DESC LIMIT 1")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn lock_client(app: &TestApp, ip: &str) {
    sqlx::query(
        "INSERT INTO auth_throttle (key, failures, window_started_at, locked_until)
         VALUES ($1, 50, now(), now() + interval '15 minutes')
         ON CONFLICT (key) DO UPDATE SET locked_until = excluded.locked_until",
    )
    .bind(format!("ip:{ip}"))
    .execute(&app.db)
    .await
    .unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored(db: PgPool) {
    let app = TestApp::spawn(db).await;
    drop(app.signed_in_customer("ada@example.com").await);
    assert_eq!(
        sign_in_from(&app, "203.0.113.7", "wrong guess 1234").await,
        401
    );
    assert_eq!(last_audited_ip(&app).await.as_deref(), Some("127.0.0.1"));
    // Claiming to be someone else does not escape a lock on one's own address.
    lock_client(&app, "127.0.0.1").await;
    assert_eq!(
        sign_in_from(&app, "198.51.100.9", "wrong guess 1234").await,
        429
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn behind_a_trusted_proxy_each_client_counts_by_its_own_address(db: PgPool) {
    let app = TestApp::spawn_with(db, |config| {
        config.trusted_proxies = TrustedProxies::parse("127.0.0.1/32").unwrap();
    })
    .await;
    drop(app.signed_in_customer("ada@example.com").await);
    assert_eq!(
        sign_in_from(&app, "203.0.113.7", "wrong guess 1234").await,
        401
    );
    assert_eq!(last_audited_ip(&app).await.as_deref(), Some("203.0.113.7"));

    // The attacker's address is locked; everyone else behind the same proxy still gets in.
    lock_client(&app, "203.0.113.7").await;
    assert_eq!(
        sign_in_from(&app, "203.0.113.7", crate::support::GOOD_PASSWORD).await,
        429
    );
    assert_eq!(
        sign_in_from(&app, "198.51.100.9", crate::support::GOOD_PASSWORD).await,
        200
    );
    // A forged entry on the left of the list is the client's own invention.
    assert_eq!(
        sign_in_from(
            &app,
            "198.51.100.9, 203.0.113.7",
            crate::support::GOOD_PASSWORD
        )
        .await,
        429
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_https_site_reached_over_http_through_its_proxy_goes_to_https(db: PgPool) {
    let app = TestApp::spawn_with(db, |config| {
        config.public_url = "https://id.example.com".into();
        config.trusted_proxies = TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = http
        .get(format!("http://{}/signin?x=1", app.addr))
        .header("x-forwarded-proto", "http")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 308);
    assert_eq!(
        res.headers()["location"],
        "https://id.example.com/signin?x=1"
    );
    let res = http
        .post(format!("http://{}/api/sign-in", app.addr))
        .header("x-forwarded-proto", "http")
        .header("origin", "https://id.example.com")
        .form(&[("email", "ada@example.com"), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let res = http
        .get(format!("http://{}/healthz", app.addr))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}
