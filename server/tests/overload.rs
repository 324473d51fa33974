//! An overload is shed early: when every password-hashing slot is busy and the queue is full, a
//! sign-in is refused at once with 503 and `Retry-After`, counts as no failed attempt, and the
//! sign-ins that were admitted go through.

use sqlx::PgPool;

use crate::support::{at_once, TestApp, GOOD_PASSWORD};

#[sqlx::test(migrations = "../migrations")]
async fn beyond_the_hashing_queue_a_sign_in_gets_503_with_retry_after(db: PgPool) {
    // No queue at all: only as many sign-ins as there are slots (cores) hash at once.
    let app = TestApp::spawn_with(db, |config| config.hashing_queue = Some(0)).await;
    app.signed_in_customer("ada@example.org").await;
    let counters = || async {
        sqlx::query_scalar::<_, i64>("SELECT coalesce(sum(failures), 0)::int8 FROM auth_throttle")
            .fetch_one(&app.db)
            .await
            .unwrap()
    };
    let before = counters().await;
    let (mut admitted, mut shed) = (0, 0);
    for answer in at_once::sign_ins(&app, "ada@example.org", 16).await {
        match answer.status {
            200 => {
                admitted += 1;
                assert!(answer.browser.me().await.is_some());
            }
            503 => {
                shed += 1;
                assert_eq!(answer.retry_after.as_deref(), Some("1"));
                let error: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
                assert_eq!(error, serde_json::json!("Busy"));
                assert!(answer.browser.me().await.is_none());
            }
            other => panic!("{other}: {}", answer.body),
        }
    }
    assert!(admitted >= 1, "the admitted sign-ins go through");
    assert!(
        shed >= 1,
        "sixteen at once on a queue of none: some are shed"
    );
    // A shed sign-in is no failed attempt: nothing counts against the account or the network.
    assert_eq!(counters().await, before);
    // Once the burst is over, the next one is admitted.
    let later = app.browser();
    let res = later
        .call(
            "sign-in",
            &[("email", "ada@example.org"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200);
}
