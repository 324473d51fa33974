//! Sessions as stored: the table keeps a digest of each cookie's session id, never the id, so
//! someone who reads the table (a backup, a replica) cannot sign in with what they read; and many
//! sign-ins of one account at once (tabs, devices, a script) each end with a session of its own.

use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::support::{at_once, TestApp, GOOD_PASSWORD};

#[sqlx::test(migrations = "../migrations")]
async fn the_table_holds_digests_of_the_cookies_and_a_digest_signs_nobody_in(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_in_customer("ada@example.org").await;
    let browser = app.browser();
    let res = browser
        .call(
            "sign-in",
            &[("email", "ada@example.org"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    let pair = cookie.split(';').next().unwrap().to_owned();
    let value = pair.strip_prefix("session=").unwrap();

    let stored: Vec<String> = sqlx::query_scalar("SELECT id FROM sessions")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert!(
        !stored.iter().any(|id| id == value),
        "the cookie is stored as it is"
    );
    let digest = format!("{:x}", Sha256::digest(value.as_bytes()));
    assert!(stored.contains(&digest), "{stored:?}");

    // The cookie signs its owner in; the row's key, sent as a cookie, signs nobody in.
    let owner = app.browser_with_headers(&[("cookie", &pair)]);
    assert_eq!(owner.me().await.unwrap()["email"], "ada@example.org");
    let reader = app.browser_with_headers(&[("cookie", &format!("session={digest}"))]);
    assert!(reader.me().await.is_none());
}

#[sqlx::test(migrations = "../migrations")]
async fn many_sign_ins_of_one_account_at_once_all_succeed(db: PgPool) {
    // Room for all eight to wait for a hashing slot: shedding is `overload`'s to test.
    let app = TestApp::spawn_with(db, |config| config.hashing_queue = Some(16)).await;
    app.signed_in_customer("ada@example.org").await;
    for answer in at_once::sign_ins(&app, "ada@example.org", 8).await {
        assert_eq!(answer.status, 200, "{}", answer.body);
        let me = answer.browser.me().await.unwrap();
        assert_eq!(me["email"], "ada@example.org");
    }
}
