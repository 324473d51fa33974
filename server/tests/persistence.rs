//! The domain's SQL against a real Postgres: single-use tokens, throttle counters, sessions.

use app::domain::{
    email::Email,
    names::DisplayName,
    sessions::{self, PgSessionStore},
    throttle::{self, ThrottlePolicy},
    tokens::{self, TokenPurpose, TokenRejection},
    users::{self, NewUser, Role},
};
use sqlx::PgPool;

use crate::support::{TestApp, GOOD_PASSWORD};
use time::{Duration, OffsetDateTime};
use tower_sessions::{session::Record, SessionStore};
use uuid::Uuid;

async fn a_user(db: &PgPool, email: &str) -> Uuid {
    let mut conn = db.acquire().await.unwrap();
    users::insert(
        &mut conn,
        NewUser {
            id: Uuid::new_v4(),
            email: &Email::parse(email).unwrap(),
            display_name: &DisplayName::parse("Ada").unwrap(),
            password_hash: None,
            role: Role::Customer,
            verified: false,
            claim_hash: None,
            locale: None,
        },
    )
    .await
    .unwrap()
    .expect("inserted")
}

#[sqlx::test(migrations = "../migrations")]
async fn addresses_are_unique_whatever_their_case(db: PgPool) {
    a_user(&db, "ada@example.com").await;
    let mut conn = db.acquire().await.unwrap();
    let again = users::insert(
        &mut conn,
        NewUser {
            id: Uuid::new_v4(),
            email: &Email::parse("ADA@example.com").unwrap(),
            display_name: &DisplayName::parse("Eve").unwrap(),
            password_hash: None,
            role: Role::Customer,
            verified: false,
            claim_hash: None,
            locale: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(again, None);
    let found = users::find_by_email(&db, &Email::parse("Ada@Example.com").unwrap())
        .await
        .unwrap();
    assert_eq!(found.unwrap().display_name, "Ada");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_token_is_stored_only_as_its_hash_and_works_once(db: PgPool) {
    let user = a_user(&db, "ada@example.com").await;
    let mut conn = db.acquire().await.unwrap();
    let token = tokens::issue(&mut conn, user, TokenPurpose::VerifyEmail)
        .await
        .unwrap();

    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM one_time_tokens")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(stored, tokens::token_hash(token.expose()));
    assert_ne!(stored, token.expose().as_bytes());

    // A token for one purpose is no good for another.
    let wrong_purpose = tokens::consume(&mut conn, token.expose(), TokenPurpose::ResetPassword)
        .await
        .unwrap();
    assert_eq!(wrong_purpose, Err(TokenRejection::Unknown));

    assert_eq!(
        tokens::peek(&mut conn, token.expose(), TokenPurpose::VerifyEmail)
            .await
            .unwrap(),
        Ok(user)
    );
    assert_eq!(
        tokens::consume(&mut conn, token.expose(), TokenPurpose::VerifyEmail)
            .await
            .unwrap(),
        Ok(user)
    );
    assert_eq!(
        tokens::consume(&mut conn, token.expose(), TokenPurpose::VerifyEmail)
            .await
            .unwrap(),
        Err(TokenRejection::Used)
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_expired_token_says_so_and_a_new_one_retires_the_old(db: PgPool) {
    let user = a_user(&db, "ada@example.com").await;
    let mut conn = db.acquire().await.unwrap();
    let old = tokens::issue(&mut conn, user, TokenPurpose::ResetPassword)
        .await
        .unwrap();
    let new = tokens::issue(&mut conn, user, TokenPurpose::ResetPassword)
        .await
        .unwrap();
    assert_eq!(
        tokens::consume(&mut conn, old.expose(), TokenPurpose::ResetPassword)
            .await
            .unwrap(),
        Err(TokenRejection::Unknown)
    );
    sqlx::query("UPDATE one_time_tokens SET expires_at = now() - interval '1 second'")
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(
        tokens::consume(&mut conn, new.expose(), TokenPurpose::ResetPassword)
            .await
            .unwrap(),
        Err(TokenRejection::Expired)
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn failures_lock_a_key_at_the_limit_and_a_new_window_starts_afresh(db: PgPool) {
    let policy = ThrottlePolicy {
        max_failures: 3,
        window: Duration::minutes(15),
        lockout: Duration::minutes(10),
    };
    let key = throttle::account_key("Ada@Example.com");
    assert_eq!(key, "account:ada@example.com");
    for _ in 0..2 {
        throttle::record_failure(&db, &key, policy).await.unwrap();
    }
    assert_eq!(
        throttle::locked_minutes(&db, std::slice::from_ref(&key))
            .await
            .unwrap(),
        None
    );
    throttle::record_failure(&db, &key, policy).await.unwrap();
    assert_eq!(
        throttle::locked_minutes(&db, std::slice::from_ref(&key))
            .await
            .unwrap(),
        Some(10)
    );

    // An old window is forgotten: the next failure counts as the first.
    sqlx::query("UPDATE auth_throttle SET window_started_at = now() - interval '1 hour', locked_until = NULL")
        .execute(&db)
        .await
        .unwrap();
    throttle::record_failure(&db, &key, policy).await.unwrap();
    let failures: i32 = sqlx::query_scalar("SELECT failures FROM auth_throttle")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(failures, 1);

    throttle::clear(&db, &key).await.unwrap();
    assert_eq!(throttle::locked_minutes(&db, &[key]).await.unwrap(), None);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_session_store_mirrors_the_user_and_never_resurrects_a_deleted_session(db: PgPool) {
    let user = a_user(&db, "ada@example.com").await;
    let store = PgSessionStore::new(db.clone());
    let mut record = Record {
        id: Default::default(),
        data: [("user_id".to_string(), serde_json::json!(user))].into(),
        expiry_date: OffsetDateTime::now_utc() + Duration::minutes(30),
    };
    store.create(&mut record).await.unwrap();
    let loaded = store.load(&record.id).await.unwrap().expect("stored");
    assert_eq!(loaded.data.get("user_id"), record.data.get("user_id"));
    let owner: Option<Uuid> = sqlx::query_scalar("SELECT user_id FROM sessions")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(owner, Some(user));

    assert_eq!(sessions::end_all_for_user(&db, user).await.unwrap(), 1);
    // A request still in flight saves its copy: the ended session stays ended.
    store.save(&record).await.unwrap();
    assert!(store.load(&record.id).await.unwrap().is_none());

    // Expired sessions do not load, and cleanup removes them.
    let mut stale = Record {
        id: Default::default(),
        data: Default::default(),
        expiry_date: OffsetDateTime::now_utc() - Duration::seconds(1),
    };
    store.create(&mut stale).await.unwrap();
    assert!(store.load(&stale.id).await.unwrap().is_none());
    assert_eq!(sessions::delete_expired(&db).await.unwrap(), 1);
}

/// Two requests of one session load it, change different keys and save, the slower last: each
/// keeps its change, and a key one removed stays removed.
#[sqlx::test(migrations = "../migrations")]
async fn two_requests_of_one_session_each_keep_their_change(db: PgPool) {
    use serde_json::json;
    let user = a_user(&db, "ada@example.com").await;
    let store = PgSessionStore::new(db.clone());
    let mut record = Record {
        id: Default::default(),
        data: [
            ("pending".to_string(), json!("app request")),
            ("ceremony".to_string(), json!("old")),
        ]
        .into(),
        expiry_date: OffsetDateTime::now_utc() + Duration::minutes(30),
    };
    store.create(&mut record).await.unwrap();

    let mut first = store.load(&record.id).await.unwrap().unwrap();
    let mut second = store.load(&record.id).await.unwrap().unwrap();
    first.data.insert("user_id".into(), json!(user));
    first.data.remove("pending");
    second.data.insert("ceremony".into(), json!("new"));
    store.save(&first).await.unwrap();
    store.save(&second).await.unwrap();

    let now = store.load(&record.id).await.unwrap().unwrap();
    assert_eq!(now.data.get("user_id"), Some(&json!(user)));
    assert_eq!(now.data.get("ceremony"), Some(&json!("new")));
    assert_eq!(now.data.get("pending"), None, "the removal stands");
    let (data, owner): (serde_json::Value, Option<Uuid>) =
        sqlx::query_as("SELECT data, user_id FROM sessions")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(owner, Some(user));
    assert_eq!(
        data,
        json!({ "user_id": user, "ceremony": "new" }),
        "no copy is stored"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_sign_in_tells_no_node_to_forget_the_person_but_a_new_name_does(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_in_customer("ada@example.org").await;
    let mut listener = sqlx::postgres::PgListener::connect_with(&app.db)
        .await
        .unwrap();
    listener.listen("user_changed").await.unwrap();
    // A failed password, then a sign-in: bookkeeping on the row, no claim changed.
    let app = &app;
    let sign_in = move |password: &'static str| async move {
        app.browser()
            .call(
                "sign-in",
                &[("email", "ada@example.org"), ("password", password)],
            )
            .await
            .status()
    };
    assert_eq!(sign_in("not the password").await, 401);
    assert_eq!(sign_in(GOOD_PASSWORD).await, 200);
    sqlx::query("SELECT pg_notify('user_changed', 'marker')")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(listener.recv().await.unwrap().payload(), "marker");

    let id: Uuid = sqlx::query_scalar("UPDATE users SET display_name = 'Ada L.' RETURNING id")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(listener.recv().await.unwrap().payload(), id.to_string());
}
