//! What else subscribers hear: a person ending their other sign-ins, an operator's lock, staff
//! moving an account to another address, and a deletion by staff, after which nothing earlier
//! about the person is left to send.

use app::domain::{
    audit::Actor,
    client::ClientInfo,
    customers::{
        actions::{self, Request},
        Reason,
    },
    email::Email,
    webhooks::EventType,
};
use serde_json::json;

use super::{receiver::subscribe, user_id, Receiver};
use crate::support::{cli::server_command, TestApp, GOOD_PASSWORD};

#[sqlx::test(migrations = "../migrations")]
async fn sign_ins_ended_by_their_owner_are_told(db: sqlx::PgPool) {
    let receiver = Receiver::start(204).await;
    let app = TestApp::spawn(db).await;
    subscribe(&app.db, &receiver.url, &["session.ended"]).await;
    let laptop = app.signed_in_customer("jo@example.com").await;
    let phone = app.browser();
    let res = phone
        .call(
            "sign-in",
            &[("email", "jo@example.com"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200);
    let jo = user_id(&app.db, "jo@example.com").await;
    let res = laptop.call("sign-ins/end-others", &[]).await;
    assert_eq!(res.status(), 200);
    assert!(phone.me().await.is_none());
    let ended = receiver.next_of(EventType::SessionEnded).await;
    assert_eq!(
        ended.json()["data"],
        json!({ "person_id": jo, "reason": "ended_by_owner" })
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn operators_locks_moves_and_deletions_are_told(db: sqlx::PgPool) {
    let receiver = Receiver::start(204).await;
    let app = TestApp::spawn(db).await;
    app.browser().register("kim@example.com", "Kim").await;
    let kim = user_id(&app.db, "kim@example.com").await;
    subscribe(
        &app.db,
        &receiver.url,
        &["person.locked", "person.updated", "person.deleted"],
    )
    .await;

    let out = server_command(
        &app.db,
        &[
            "user",
            "lock",
            "--email",
            "kim@example.com",
            "--reason",
            "fraud",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let locked = receiver.next_of(EventType::PersonLocked).await;
    assert_eq!(locked.json()["data"], json!({ "person_id": kim }));

    let reason = Reason::parse("asked by phone, identity checked").unwrap();
    let client = ClientInfo::default();
    let request = Request {
        actor: Actor::Cli,
        client: &client,
        user_id: kim,
        reason: &reason,
    };
    let new = Email::parse("kim@elsewhere.example").unwrap();
    assert!(actions::change_email(&app.state, &request, &new)
        .await
        .unwrap());
    let moved = receiver.next_of(EventType::PersonUpdated).await;
    assert_eq!(moved.json()["data"], json!({ "person_id": kim }));

    // The messages about Kim sent so far go with the account; subscribers hear of the deletion.
    actions::delete(&app.state, &request).await.unwrap();
    let deleted = receiver.next_of(EventType::PersonDeleted).await;
    assert_eq!(deleted.json()["data"], json!({ "person_id": kim }));
    let about_kim: i64 =
        sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries WHERE person_id = $1")
            .bind(kim)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(about_kim, 0, "nothing kept under the deleted person");
}
