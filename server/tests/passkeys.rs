//! Passkey endpoints over HTTP: the options they hand the browser, ceremonies bound to the
//! session and used once, fresh sign-in for adding, and never removing the last way in.
//! (The full ceremonies with an authenticator run in the browser suite.)

use crate::support::{error_of, TestApp};
use serde_json::{json, Value};
use sqlx::PgPool;

async fn options(res: reqwest::Response) -> Value {
    assert_eq!(res.status(), 200);
    let text: String = res.json().await.unwrap();
    serde_json::from_str(&text).unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_up_asks_for_a_discoverable_user_verified_passkey(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();
    let opts = options(
        browser
            .call(
                "passkeys/sign-up/start",
                &[
                    ("consent[terms]", "1"),
                    ("consent[privacy]", "1"),
                    ("email", "ada@example.com"),
                    ("display_name", "Ada"),
                ],
            )
            .await,
    )
    .await;
    let pk = &opts["publicKey"];
    assert_eq!(pk["rp"]["id"], "localhost");
    assert_eq!(pk["user"]["name"], "ada@example.com");
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");
    assert_eq!(pk["attestation"], "none");

    let bad = browser
        .call(
            "passkeys/sign-up/start",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", "ada@"),
                ("display_name", "Ada"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 422);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_ceremony_belongs_to_its_browser_and_finishes_once(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();
    let opts = options(browser.call("passkeys/sign-in/start", &[]).await).await;
    assert_eq!(opts["publicKey"]["userVerification"], "required");
    let ceremonies: i64 = sqlx::query_scalar("SELECT count(*) FROM webauthn_ceremonies")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(ceremonies, 1);

    // A forged answer uses the ceremony up and is refused without a 500.
    let forged = json!({
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": { "authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA", "userHandle": null },
        "extensions": {}
    })
    .to_string();
    let res = browser
        .call("passkeys/sign-in/finish", &[("credential", &forged)])
        .await;
    assert_eq!(res.status(), 400);
    let again = browser
        .call("passkeys/sign-in/finish", &[("credential", &forged)])
        .await;
    assert_eq!(
        error_of(again).await,
        json!({ "Refused": "The passkey request expired or was already used. Try again." })
    );

    // Another browser has no ceremony to finish.
    let other = app
        .browser()
        .call("passkeys/sign-in/finish", &[("credential", &forged)])
        .await;
    assert_eq!(other.status(), 400);
    let garbage = browser
        .call("passkeys/sign-in/finish", &[("credential", "{not json")])
        .await;
    assert_eq!(garbage.status(), 400);
    assert!(browser.me().await.is_none());
}

#[sqlx::test(migrations = "../migrations")]
async fn adding_a_passkey_needs_a_fresh_sign_in(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let anonymous = app
        .browser()
        .call("passkeys/add/start", &[("name", "Laptop")])
        .await;
    assert_eq!(anonymous.status(), 401);

    let browser = app.signed_in_customer("grace@example.com").await;
    let opts = options(
        browser
            .call("passkeys/add/start", &[("name", "Laptop")])
            .await,
    )
    .await;
    assert_eq!(opts["publicKey"]["user"]["name"], "grace@example.com");

    // Eleven minutes later, the same session must sign in again first.
    app.age_sign_ins().await;
    let stale = browser
        .call("passkeys/add/start", &[("name", "Laptop")])
        .await;
    assert_eq!(stale.status(), 403);
    assert_eq!(error_of(stale).await, json!("StepUp"));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_last_way_to_sign_in_cannot_be_removed(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer("hedy@example.com").await;
    let user_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    sqlx::query("INSERT INTO passkeys (credential_id, user_id, name, passkey) VALUES ('\\x0102', $1, 'Phone', '{}')")
        .bind(user_id)
        .execute(&app.db)
        .await
        .unwrap();
    let list: Value = browser
        .call("passkeys/list", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["name"], "Phone");
    assert_eq!(list[0]["id"], "AQI");

    let bad_name = browser
        .call(
            "passkeys/rename",
            &[("id", "AQI"), ("name", &"x".repeat(61))],
        )
        .await;
    assert_eq!(bad_name.status(), 422);
    let renamed = browser
        .call("passkeys/rename", &[("id", "AQI"), ("name", "Work phone")])
        .await;
    assert_eq!(renamed.status(), 200);

    // Removing a passkey needs a recent proof as strong as the account has: a password
    // sign-in does not remove a passkey.
    let weak = browser.call("passkeys/remove", &[("id", "AQI")]).await;
    assert_eq!(weak.status(), 403);
    assert_eq!(error_of(weak).await, json!("StepUp"));
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM passkeys")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(kept, 1);
    // From here on, as if she had just signed in with the passkey (the row above is no real
    // credential; the ceremony itself is tested in end2end).
    sqlx::query(
        "UPDATE sessions SET data = jsonb_set(data, '{mfa_at}', to_jsonb(extract(epoch from now())::bigint))
         WHERE user_id = $1",
    )
    .bind(user_id)
    .execute(&app.db)
    .await
    .unwrap();

    // Without a password and with email sign-in off, the passkey is the only way in.
    sqlx::query("UPDATE users SET password_hash = NULL")
        .execute(&app.db)
        .await
        .unwrap();
    app.set_policy("email_sign_in_enabled = false").await;
    let refused = browser.call("passkeys/remove", &[("id", "AQI")]).await;
    assert_eq!(
        error_of(refused).await,
        json!({ "Refused": "You cannot remove your only way to sign in." })
    );
    // Someone else's browser cannot touch it.
    let stranger = app.signed_in_customer("eve@example.com").await;
    let res = stranger.call("passkeys/remove", &[("id", "AQI")]).await;
    assert_eq!(
        error_of(res).await,
        json!({ "Refused": "No such passkey." })
    );
    let name: String = sqlx::query_scalar("SELECT name FROM passkeys")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(name, "Work phone");

    // With email sign-in on, the verified address is a way in, so the passkey may go.
    app.set_policy("email_sign_in_enabled = true").await;
    let res = browser.call("passkeys/remove", &[("id", "AQI")]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}
