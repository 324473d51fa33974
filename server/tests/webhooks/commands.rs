//! The `server webhook` commands: targets refused (nothing stored), a rotated secret signing
//! beside the new one for a day, and every change audited with the actor `cli`, wrong ids
//! refused by name.

use app::domain::webhooks::signing::WebhookSecret;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    receiver::{subscribe, webhook, Receiver},
    user_id,
};
use crate::support::TestApp;

#[sqlx::test(migrations = "../migrations")]
async fn private_and_bad_targets_are_refused_and_nothing_is_stored(db: PgPool) {
    let add = |url: &'static str| {
        let db = db.clone();
        async move {
            webhook(
                &db,
                &[
                    "add",
                    "--name",
                    "x",
                    "--url",
                    url,
                    "--event",
                    "person.created",
                ],
            )
            .await
            .unwrap_err()
        }
    };
    assert!(add("https://127.0.0.1/hook")
        .await
        .contains("127.0.0.1 is at 127.0.0.1, a loopback, private"));
    assert!(add("https://localhost:8443/hook")
        .await
        .contains("allowed only with --allow-private"));
    assert!(add("https://10.1.2.3/")
        .await
        .contains("non-public address"));
    assert!(add("https://[fd00::1]/")
        .await
        .contains("non-public address"));
    assert!(add("https://100.64.0.9/")
        .await
        .contains("non-public address"));
    assert!(add("https://169.254.169.254/latest")
        .await
        .contains("non-public address"));
    assert!(add("http://203.0.113.9/hook")
        .await
        .contains("must use https"));
    assert!(add("https://user:pw@203.0.113.9/")
        .await
        .contains("user name or password"));
    assert!(add("not a url").await.contains("not a valid absolute URL"));
    assert!(add("https://no-such-host.invalid/")
        .await
        .contains("does not resolve"));
    let unknown = webhook(
        &db,
        &[
            "add",
            "--name",
            "x",
            "--url",
            "https://203.0.113.9/",
            "--event",
            "person.exploded",
        ],
    )
    .await
    .unwrap_err();
    assert!(
        unknown.contains("unknown event \"person.exploded\""),
        "{unknown}"
    );
    let none = webhook(
        &db,
        &["add", "--name", "x", "--url", "https://203.0.113.9/"],
    )
    .await
    .unwrap_err();
    assert!(none.contains("name at least one event"), "{none}");
    let unnamed = webhook(
        &db,
        &[
            "add",
            "--name",
            " ",
            "--url",
            "https://203.0.113.9/",
            "--event",
            "person.created",
        ],
    )
    .await
    .unwrap_err();
    assert!(unnamed.contains("1 to 80 characters"), "{unnamed}");
    let stored: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM webhook_subscriptions)
              + (SELECT count(*) FROM webhook_secrets)
              + (SELECT count(*) FROM audit_events WHERE action LIKE 'webhook.%')",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(stored, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_rotated_secret_signs_beside_the_new_one_for_a_day(db: PgPool) {
    let receiver = Receiver::start(200).await;
    let app = TestApp::spawn(db).await;
    let (id, old) = subscribe(&app.db, &receiver.url, &["person.created"]).await;
    let out = webhook(&app.db, &["rotate-secret", &id.to_string()])
        .await
        .unwrap();
    let new = out
        .lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .map(|s| WebhookSecret::parse(s).unwrap())
        .unwrap();
    assert_ne!(new, old);
    let until: OffsetDateTime =
        sqlx::query_scalar("SELECT expires_at FROM webhook_secrets WHERE expires_at IS NOT NULL")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let hours = (until - OffsetDateTime::now_utc()).whole_minutes() as f64 / 60.0;
    assert!((23.9..=24.0).contains(&hours), "{hours}");

    app.browser().register("di@example.com", "Di").await;
    let both = receiver.next().await;
    assert_eq!(both.header("webhook-signature").matches("v1,").count(), 2);
    assert!(both.signed_by(&new) && both.signed_by(&old));

    // A day later the old one signs no more.
    sqlx::query("UPDATE webhook_secrets SET expires_at = now() WHERE expires_at IS NOT NULL")
        .execute(&app.db)
        .await
        .unwrap();
    app.browser().register("ed@example.com", "Ed").await;
    let one = receiver.next().await;
    assert_eq!(one.header("webhook-signature").matches("v1,").count(), 1);
    assert!(one.signed_by(&new) && !one.signed_by(&old));

    // The audit trail names the rotation, never a secret; the secrets are sealed at rest.
    let details: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT action, actor, detail::text FROM audit_events
         WHERE action LIKE 'webhook.%' ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let actions: Vec<&str> = details.iter().map(|(a, ..)| a.as_str()).collect();
    assert_eq!(actions, ["webhook.added", "webhook.secret_rotated"]);
    for (_, actor, detail) in &details {
        assert_eq!(actor.as_deref(), Some("cli"));
        assert!(!detail.contains("whsec_"), "{detail}");
    }
    let sealed: Vec<Vec<u8>> = sqlx::query_scalar("SELECT secret_enc FROM webhook_secrets")
        .fetch_all(&app.db)
        .await
        .unwrap();
    for secret in [&old, &new] {
        assert!(!sealed
            .iter()
            .any(|s| s.windows(24).any(|w| w == &secret.bytes()[..24])));
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn operator_commands_are_audited_and_wrong_ids_refused(db: PgPool) {
    let receiver = Receiver::start(200).await;
    let app = TestApp::spawn(db).await;
    let (id, _) = subscribe(&app.db, &receiver.url, &["person.created"]).await;
    let id = id.to_string();

    assert_eq!(
        webhook(&app.db, &["disable", &id]).await.unwrap().trim(),
        format!("Disabled {id}.")
    );
    assert!(webhook(&app.db, &["disable", &id])
        .await
        .unwrap()
        .contains("already"));
    app.browser().register("fa@example.com", "Fa").await;
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(queued, 0, "a disabled subscription is sent nothing");
    webhook(&app.db, &["enable", &id]).await.unwrap();
    app.browser().register("gu@example.com", "Gu").await;
    let got = receiver.next().await;
    assert_eq!(
        got.json()["data"]["person_id"],
        user_id(&app.db, "gu@example.com").await.to_string()
    );

    let missing = Uuid::new_v4().to_string();
    for args in [vec!["disable", "not-an-id"], vec!["rotate-secret", "42"]] {
        let error = webhook(&app.db, &args).await.unwrap_err();
        assert!(
            error.contains("is not a webhook subscription id"),
            "{error}"
        );
    }
    for args in [
        vec!["enable", missing.as_str()],
        vec!["remove", missing.as_str()],
        vec!["rotate-secret", missing.as_str()],
        vec!["log", missing.as_str()],
    ] {
        let error = webhook(&app.db, &args).await.unwrap_err();
        assert!(
            error.contains(&format!("no webhook subscription {missing}")),
            "{error}"
        );
    }
    let error = webhook(&app.db, &["log", &id, "--limit", "0"])
        .await
        .unwrap_err();
    assert!(error.contains("1 to 1000"), "{error}");

    webhook(&app.db, &["remove", &id]).await.unwrap();
    let left: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM webhook_subscriptions)
              + (SELECT count(*) FROM webhook_secrets)
              + (SELECT count(*) FROM webhook_deliveries)
              + (SELECT count(*) FROM webhook_attempts)",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(left, 0);
    let audited: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT action, actor FROM audit_events WHERE action LIKE 'webhook.%' ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let expected = [
        "webhook.added",
        "webhook.disabled",
        "webhook.enabled",
        "webhook.removed",
    ];
    assert_eq!(
        audited,
        expected.map(|a| (a.to_owned(), Some("cli".to_owned())))
    );
}
