//! The adaptive risk engine at the sign-in exit: a regular customer on their usual device signs
//! in without friction; a new device from a new country is asked for a second factor and the
//! owner is mailed; travel nobody makes is refused, with the reasons in plain words; a breached
//! password or a known-bad network counts; every attempt is stored with its signals and weights.

use crate::support::{
    error_of,
    geo::{self, BERLIN, GERMANY, TOKYO},
    mfa, Browser, TestApp, GOOD_PASSWORD,
};
use sqlx::PgPool;

const EMAIL: &str = "ada@example.com";

async fn spawn(db: PgPool, extra: impl FnOnce(&mut server::config::Config)) -> TestApp {
    let path = geo::write();
    TestApp::spawn_with(db, move |config| {
        config.trusted_proxies =
            app::domain::client_address::TrustedProxies::parse("127.0.0.1").unwrap();
        config.geoip_db = Some(path);
        extra(config);
    })
    .await
}

async fn password(browser: &Browser) -> reqwest::Response {
    browser
        .call("sign-in", &[("email", EMAIL), ("password", GOOD_PASSWORD)])
        .await
}

/// The account's sign-ins so far happened two days ago.
async fn days_pass(app: &TestApp) {
    sqlx::query("UPDATE risk_assessments SET created_at = now() - interval '2 days'")
        .execute(&app.db)
        .await
        .unwrap();
}

async fn last_assessment(app: &TestApp) -> (i32, String, serde_json::Value) {
    sqlx::query_as("SELECT score, decision, reasons FROM risk_assessments ORDER BY id DESC LIMIT 1")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// The browser journeys load a copy of the same database: it must not drift. Run with
/// `KEYHAVEN_WRITE_FIXTURES=1` to write it again after changing `support/geo.rs`.
#[test]
fn the_browser_journeys_use_the_same_geoip_database() {
    let path = geo::journeys_copy();
    if std::env::var_os("KEYHAVEN_WRITE_FIXTURES").is_some() {
        std::fs::write(&path, geo::bytes()).unwrap();
    }
    assert_eq!(
        std::fs::read(&path).expect("end2end/support/geo-test.mmdb"),
        geo::bytes(),
        "end2end/support/geo-test.mmdb is not what support/geo.rs writes"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_usual_device_and_network_sign_in_without_friction(db: PgPool) {
    let app = spawn(db, |_| {}).await;
    let browser = app
        .signed_in_customer_on(app.browser_at(BERLIN), EMAIL)
        .await;
    browser.call("sign-out", &[]).await;
    assert_eq!(password(&browser).await.status(), 200);
    assert!(browser.me().await.is_some());
    let (score, decision, reasons) = last_assessment(&app).await;
    assert_eq!((score, decision.as_str()), (0, "allow"));
    assert_eq!(reasons, serde_json::json!([]));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_new_device_from_a_new_country_steps_up_and_the_owner_is_told(db: PgPool) {
    let app = spawn(db, |_| {}).await;
    app.signed_in_customer_on(app.browser_at(BERLIN), EMAIL)
        .await;
    days_pass(&app).await;

    let abroad = app.browser_at(TOKYO);
    assert_eq!(password(&abroad).await.status(), 200);
    assert_eq!(abroad.me().await, None, "not without a second factor");
    let (score, decision, reasons) = last_assessment(&app).await;
    assert_eq!(decision, "step_up");
    assert_eq!(score, 15 + 10 + 35);
    let signals: Vec<&str> = reasons
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["signal"].as_str().unwrap())
        .collect();
    assert_eq!(signals, ["new_device", "new_network", "new_country"]);

    // The person has no factor of their own: a mailed code steps them up.
    let offer = mfa::offer(&abroad).await.unwrap();
    assert_eq!(offer["email"], true);
    let code = mfa::mailed_code(&app, &abroad, EMAIL).await;
    let res = abroad.call("second-factor/email", &[("code", &code)]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert!(abroad.me().await.is_some());

    let told = app.mail.wait_for(EMAIL, "was this you?").await;
    assert!(told.body.contains("JP"), "{}", told.body);
    assert!(told.body.contains(TOKYO));
    assert!(told.body.contains("/reset-password?token="));
    // Japan is history now: the next sign-in there from this device is usual.
    abroad.call("sign-out", &[]).await;
    password(&abroad).await;
    assert!(abroad.me().await.is_some());
}

#[sqlx::test(migrations = "../migrations")]
async fn travel_nobody_makes_is_refused_with_its_reasons(db: PgPool) {
    let app = spawn(db, |_| {}).await;
    let home = app
        .signed_in_customer_on(app.browser_at(BERLIN), EMAIL)
        .await;
    let res = password(&app.browser_at(TOKYO)).await;
    assert_eq!(res.status(), 400);
    let message = error_of(res).await["Refused"].as_str().unwrap().to_owned();
    assert!(message.contains("too far to travel"), "{message}");
    assert!(message.contains("(JP)"), "{message}");
    let (score, decision, _) = last_assessment(&app).await;
    assert_eq!(decision, "block");
    assert!(score >= 90);
    // The refusal is on the audit trail with the signals and their weights.
    let detail: serde_json::Value = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE action = 'signin.failed'
           AND detail ->> 'reason' = 'risk_blocked'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(detail["signals"][0]["weight"], 15);
    // Home is still home.
    home.call("sign-out", &[]).await;
    assert_eq!(password(&home).await.status(), 200);
    assert!(home.me().await.is_some());
}

#[sqlx::test(migrations = "../migrations")]
async fn without_coordinates_another_country_within_the_hour_is_impossible(db: PgPool) {
    let app = spawn(db, |_| {}).await;
    app.signed_in_customer_on(app.browser_at(GERMANY), EMAIL)
        .await;
    let res = password(&app.browser_at(TOKYO)).await;
    assert_eq!(res.status(), 400);
    let (_, decision, reasons) = last_assessment(&app).await;
    assert_eq!(decision, "block");
    assert!(reasons.to_string().contains("impossible_travel"));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_breached_password_on_a_new_device_steps_up(db: PgPool) {
    // A local range service in the style of Have I Been Pwned that knows the test password.
    let hex: String = ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        GOOD_PASSWORD.as_bytes(),
    )
    .as_ref()
    .iter()
    .map(|b| format!("{b:02X}"))
    .collect();
    let (prefix, suffix) = (hex[..5].to_owned(), hex[5..].to_owned());
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = asked.clone();
    let router = axum::Router::new().route(
        "/range/{prefix}",
        axum::routing::get(move |axum::extract::Path(p): axum::extract::Path<String>| {
            let seen = seen.clone();
            let suffix = suffix.clone();
            async move {
                seen.lock().unwrap().push(p);
                format!("0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n{suffix}:42\r\n")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let range = format!("http://{}/range", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let app = spawn(db, move |c| c.breached_passwords_url = Some(range)).await;
    app.signed_in_customer_on(app.browser_at(BERLIN), EMAIL)
        .await;
    days_pass(&app).await;
    let other = app.browser_at(BERLIN);
    password(&other).await;
    assert_eq!(other.me().await, None);
    let (score, decision, reasons) = last_assessment(&app).await;
    assert_eq!((score, decision.as_str()), (15 + 30, "step_up"));
    assert!(reasons.to_string().contains("breached_password"));
    // Only the five-character prefix of the hash was sent.
    assert!(asked.lock().unwrap().iter().all(|p| *p == prefix));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_known_bad_network_steps_up(db: PgPool) {
    let list = std::env::temp_dir().join(format!("bad-{}.txt", uuid::Uuid::new_v4()));
    std::fs::write(&list, "# abuse seen here\n203.0.113.0/24\n").unwrap();
    let app = spawn(db, move |c| c.bad_networks_file = Some(list)).await;
    app.signed_in_customer_on(app.browser_at(TOKYO), EMAIL)
        .await;
    let (_, decision, reasons) = last_assessment(&app).await;
    // The very first sign-in: no history, but the network alone weighs 50.
    assert_eq!(decision, "step_up");
    assert!(reasons.to_string().contains("bad_network"));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_business_thresholds_decide(db: PgPool) {
    let app = spawn(db, |_| {}).await;
    app.signed_in_customer_on(app.browser_at(BERLIN), EMAIL)
        .await;
    app::domain::settings::set_risk_thresholds(
        &app.db,
        Some(10),
        Some(15),
        app::domain::audit::Actor::Cli,
    )
    .await
    .unwrap()
    .unwrap();
    app.policy_changed();
    // A new browser in the same city: 15 points, allowed by default, refused now.
    let res = password(&app.browser_at(BERLIN)).await;
    assert_eq!(res.status(), 400);
    let (score, decision, _) = last_assessment(&app).await;
    assert_eq!((score, decision.as_str()), (15, "block"));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_business_that_turns_the_engine_off_weighs_nothing(db: PgPool) {
    let app = spawn(db, |_| {}).await;
    app.signed_in_customer_on(app.browser_at(BERLIN), EMAIL)
        .await;
    let weighed = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM risk_assessments")
            .fetch_one(&app.db)
            .await
            .unwrap()
    };
    assert_eq!(weighed().await, 1);
    app::domain::settings::set(
        &app.db,
        "risk_engine_enabled",
        false,
        app::domain::audit::Actor::Cli,
    )
    .await
    .unwrap()
    .unwrap();
    app.policy_changed();
    // Travel nobody makes goes through unweighed.
    let abroad = app.browser_at(TOKYO);
    assert_eq!(password(&abroad).await.status(), 200);
    assert!(abroad.me().await.is_some());
    assert_eq!(weighed().await, 1);
}
