//! Signed webhooks (Standard Webhooks 1.0): the reference signature vector, a local receiver
//! hearing of a registration with valid headers, retries with backoff and giving up, the
//! address checked again at delivery, erasure leaving only `person.deleted`; `commands`: the
//! operator's commands; `receiver`: the partner's endpoint.

mod changes;
mod commands;
mod receiver;

use std::time::Duration;

use app::domain::{
    privacy::erasure,
    webhooks::{signing::WebhookSecret, EventType},
};
use serde_json::Value;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::support::TestApp;
use receiver::{subscribe, webhook, Received, Receiver};

async fn user_id(db: &PgPool, email: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(db)
        .await
        .unwrap()
}

/// The delivery row of the newest message: attempts, seconds to the next attempt, last error,
/// delivered, failed, whether the body is still kept.
async fn newest_delivery(db: &PgPool) -> (i32, f64, Option<String>, bool, bool, bool) {
    sqlx::query_as(
        "SELECT attempts, extract(epoch FROM next_attempt_at - now())::float8, last_error,
                delivered_at IS NOT NULL, failed_at IS NOT NULL, body IS NOT NULL
         FROM webhook_deliveries ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(db)
    .await
    .unwrap()
}

/// Makes the waiting messages due now and wakes the workers, as the notice of a commit does.
async fn retry_now(db: &PgPool) {
    sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = now() WHERE delivered_at IS NULL")
        .execute(db)
        .await
        .unwrap();
    sqlx::query("SELECT pg_notify('webhook_queued', '')")
        .execute(db)
        .await
        .unwrap();
}

#[test]
fn signatures_match_the_reference_vector() {
    // Standard Webhooks' reference libraries' `test_sign_function`.
    let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let body = br#"{"test": 2432232314}"#;
    let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    assert_eq!(
        secret.sign(id, 1614265330, body),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
    let header = format!("v1,bm90IGl0 {}", secret.sign(id, 1614265330, body));
    assert!(secret.verify(id, 1614265330, body, &header));
    assert!(!secret.verify(id, 1614265330, br#"{"test": 2432232315}"#, &header));
    assert!(!secret.verify("msg_other", 1614265330, body, &header));
    assert!(!WebhookSecret::generate().verify(id, 1614265330, body, &header));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_registration_reaches_the_subscriber_signed(db: PgPool) {
    let receiver = Receiver::start(204).await;
    let app = TestApp::spawn(db).await;
    let events = [
        "person.created",
        "consent.changed",
        "person.signed_in",
        "session.ended",
    ];
    let (id, secret) = subscribe(&app.db, &receiver.url, &events).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let ada = user_id(&app.db, "ada@example.com").await;

    let created = receiver.next_of(EventType::PersonCreated).await;
    assert!(created.signed_by(&secret));
    assert!(created.header("webhook-id").starts_with("msg_"));
    let sent_at: i64 = created.header("webhook-timestamp").parse().unwrap();
    assert!((OffsetDateTime::now_utc().unix_timestamp() - sent_at).abs() < 60);
    assert_eq!(created.header("content-type"), "application/json");
    let body = created.json();
    assert_eq!(body["data"], serde_json::json!({ "person_id": ada }));
    assert!(OffsetDateTime::parse(
        body["timestamp"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339
    )
    .is_ok());
    assert!(!created.body.contains("ada@example.com"), "only the id");
    assert!(!created.body.contains("Ada"), "only the id");
    // A body changed on the way no longer verifies.
    let tampered = Received {
        headers: created.headers.clone(),
        body: created
            .body
            .replace(&ada.to_string(), &Uuid::new_v4().to_string()),
    };
    assert!(!tampered.signed_by(&secret));

    let consent = receiver.next_of(EventType::ConsentChanged).await;
    assert_eq!(consent.json()["data"]["granted"], true);
    assert!(consent.signed_by(&secret));
    receiver.next_of(EventType::PersonSignedIn).await;
    browser.call("sign-out", &[]).await;
    let ended = receiver.next_of(EventType::SessionEnded).await;
    assert_eq!(
        ended.json()["data"],
        serde_json::json!({ "person_id": ada, "reason": "signed_out" })
    );

    // Delivered: the body is forgotten, the log has the attempts.
    assert!(
        crate::support::eventually(|| async {
            let (_, _, _, delivered, _, kept) = newest_delivery(&app.db).await;
            delivered && !kept
        })
        .await
    );
    let log = webhook(&app.db, &["log", &id.to_string()]).await.unwrap();
    assert!(log.contains("person.created"), "{log}");
    assert!(log.contains("204 delivered"), "{log}");
    assert!(log.contains(created.header("webhook-id")), "{log}");
    let list = webhook(&app.db, &["list"]).await.unwrap();
    assert!(
        list.contains(&id.to_string()) && list.contains("enabled"),
        "{list}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_failing_receiver_is_retried_with_backoff_then_given_up(db: PgPool) {
    let receiver = Receiver::start(500).await;
    let app = TestApp::spawn(db).await;
    let (id, secret) = subscribe(&app.db, &receiver.url, &["person.created"]).await;
    app.browser().register("bo@example.com", "Bo").await;

    let first = receiver.next().await;
    assert!(first.signed_by(&secret));
    assert!(crate::support::eventually(|| async { newest_delivery(&app.db).await.0 == 1 }).await);
    let (attempts, wait, error, delivered, failed, kept) = newest_delivery(&app.db).await;
    assert_eq!((attempts, delivered, failed, kept), (1, false, false, true));
    assert!(
        (2.0..=6.0).contains(&wait),
        "first retry after 5 s, not {wait}"
    );
    assert_eq!(
        error.as_deref(),
        Some("the target answered 500 Internal Server Error")
    );

    retry_now(&app.db).await;
    let second = receiver.next().await;
    assert_eq!(
        second.header("webhook-id"),
        first.header("webhook-id"),
        "the same message id on every attempt"
    );
    assert_eq!(second.body, first.body);
    assert!(second.signed_by(&secret));
    assert!(crate::support::eventually(|| async { newest_delivery(&app.db).await.0 == 2 }).await);
    let (_, wait, ..) = newest_delivery(&app.db).await;
    assert!(
        (55.0..=61.0).contains(&wait),
        "then after a minute, not {wait}"
    );

    // A day after the event, the last attempt that fails ends it.
    sqlx::query("UPDATE webhook_deliveries SET created_at = now() - interval '24 hours 1 minute'")
        .execute(&app.db)
        .await
        .unwrap();
    retry_now(&app.db).await;
    receiver.next().await;
    assert!(crate::support::eventually(|| async { newest_delivery(&app.db).await.4 }).await);
    let (attempts, _, _, delivered, failed, kept) = newest_delivery(&app.db).await;
    assert_eq!((attempts, delivered, failed, kept), (3, false, true, false));
    retry_now(&app.db).await;
    assert!(receiver.quiet_for(Duration::from_secs(2)).await, "given up");

    let log = webhook(&app.db, &["log", &id.to_string(), "--limit", "2"])
        .await
        .unwrap();
    assert_eq!(log.lines().count(), 2, "{log}");
    assert!(
        log.contains("attempt 3") && log.contains("attempt 2"),
        "{log}"
    );
    assert!(log.contains("500 failed: the target answered 500"), "{log}");
    let all = webhook(&app.db, &["log", &id.to_string()]).await.unwrap();
    assert_eq!(all.lines().count(), 3, "{all}");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_address_is_checked_again_at_delivery(db: PgPool) {
    let receiver = Receiver::start(200).await;
    let app = TestApp::spawn(db).await;
    let (id, _) = subscribe(&app.db, &receiver.url, &["person.created"]).await;
    // As if the name now pointed somewhere private: the delivery refuses to connect.
    sqlx::query(
        "UPDATE webhook_subscriptions
         SET allow_private_targets = false, url = replace(url, 'http://', 'https://')",
    )
    .execute(&app.db)
    .await
    .unwrap();
    app.browser().register("cy@example.com", "Cy").await;
    assert!(crate::support::eventually(|| async { newest_delivery(&app.db).await.0 == 1 }).await);
    let (_, _, error, delivered, ..) = newest_delivery(&app.db).await;
    assert!(!delivered);
    let error = error.unwrap();
    assert!(
        error.contains("127.0.0.1 is at 127.0.0.1, a loopback, private"),
        "{error}"
    );
    assert!(receiver.quiet_for(Duration::from_millis(500)).await);
    let log = webhook(&app.db, &["log", &id.to_string()]).await.unwrap();
    assert!(
        log.contains("failed: the webhook URL's host 127.0.0.1"),
        "{log}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn erasure_leaves_only_the_persons_deletion_to_send(db: PgPool) {
    let receiver = Receiver::start(503).await;
    let app = TestApp::spawn(db).await;
    let events = EventType::ALL.map(EventType::as_str);
    subscribe(&app.db, &receiver.url, &events).await;
    let browser = app.signed_in_customer("hu@example.com").await;
    browser.call("sign-out", &[]).await;
    let hu = user_id(&app.db, "hu@example.com").await;
    let about_hu: i64 =
        sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries WHERE person_id = $1")
            .bind(hu)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(
        about_hu >= 4,
        "created, consents, signed in, signed out: {about_hu}"
    );

    let mut tx = app.state.db.begin().await.unwrap();
    let erased = erasure::erase(&mut tx, &app.state, hu).await.unwrap();
    tx.commit().await.unwrap();
    erased.after_commit(&app.state);

    let rows: Vec<(String, Option<Uuid>, Option<String>)> =
        sqlx::query_as("SELECT event_type, person_id, body FROM webhook_deliveries ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let (kind, person, body) = &rows[0];
    assert_eq!(kind, "person.deleted");
    assert_eq!(*person, None);
    let body: Value = serde_json::from_str(body.as_deref().unwrap()).unwrap();
    assert_eq!(body["data"], serde_json::json!({ "person_id": hu }));
    let deleted = receiver.next_of(EventType::PersonDeleted).await;
    assert_eq!(deleted.json()["data"]["person_id"], hu.to_string());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_password_lockout_is_told_once(db: PgPool) {
    let receiver = Receiver::start(200).await;
    let app = TestApp::spawn(db).await;
    subscribe(&app.db, &receiver.url, &["person.locked"]).await;
    app.browser().register("iv@example.com", "Iv").await;
    let iv = user_id(&app.db, "iv@example.com").await;
    sqlx::query("UPDATE users SET failed_sign_ins = 99 WHERE id = $1")
        .bind(iv)
        .execute(&app.db)
        .await
        .unwrap();
    let wrong = [
        ("email", "iv@example.com"),
        ("password", "not the password at all"),
    ];
    app.browser().call("sign-in", &wrong).await;
    let locked = receiver.next().await;
    assert_eq!(
        locked.json(),
        serde_json::json!({
            "type": "person.locked",
            "timestamp": locked.json()["timestamp"],
            "data": { "person_id": iv },
        })
    );
    app.browser().call("sign-in", &wrong).await;
    assert!(
        receiver.quiet_for(Duration::from_secs(2)).await,
        "only once"
    );
}
