//! A person managing their own way in over HTTP: changing, setting and removing the password,
//! and seeing and ending their sign-ins; with what a thief holding one session would try.

use crate::support::{error_of, Browser, TestApp, GOOD_PASSWORD, NEW_PASSWORD};
use serde_json::{json, Value};
use sqlx::PgPool;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

async fn sign_in(browser: &Browser, email: &str, password: &str) -> reqwest::Response {
    browser
        .call("sign-in", &[("email", email), ("password", password)])
        .await
}

async fn sign_ins(browser: &Browser) -> Vec<Value> {
    let res = browser.call("sign-ins", &[]).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_password_change_with_the_current_one_signs_every_other_device_out(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let laptop = app.signed_in_customer("ada@example.org").await;
    let phone = app.browser();
    assert_eq!(
        sign_in(&phone, "ada@example.org", GOOD_PASSWORD)
            .await
            .status(),
        200
    );

    // A wrong current password is a field error, counted like a failed sign-in.
    let wrong = laptop
        .call(
            "password/change",
            &[
                ("current_password", "not my password at all"),
                ("password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    assert_eq!(
        error_of(wrong).await,
        json!({ "Field": { "field": "current_password",
                           "message": "That is not your current password." } })
    );
    let failures: i32 = sqlx::query_scalar("SELECT failed_sign_ins FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(failures, 1);
    // A weak new password is refused before the current one is even checked.
    let weak = laptop
        .call(
            "password/change",
            &[
                ("current_password", GOOD_PASSWORD),
                ("password", "password"),
            ],
        )
        .await;
    assert_eq!(weak.status(), 422);

    let res = laptop
        .call(
            "password/change",
            &[
                ("current_password", GOOD_PASSWORD),
                ("password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(res.headers()["location"], "/profile?password_changed=1");
    assert!(laptop.me().await.is_some(), "this device stays signed in");
    assert!(phone.me().await.is_none(), "the other device is signed out");
    app.mail
        .wait_for("ada@example.org", "Your Keyhaven password was changed")
        .await;

    assert_eq!(
        sign_in(&app.browser(), "ada@example.org", GOOD_PASSWORD)
            .await
            .status(),
        401
    );
    assert_eq!(
        sign_in(&app.browser(), "ada@example.org", NEW_PASSWORD)
            .await
            .status(),
        200
    );
    let actions: Vec<String> = app.audit_actions().await.into_iter().map(|a| a.0).collect();
    assert!(actions.contains(&"password.change_failed".to_owned()));
    assert!(actions.contains(&"password.changed".to_owned()));
}

/// A thief holding a stolen session cannot change the password without knowing it, unless the
/// sign-in is recent; guessing the current one runs into the account's throttle.
#[sqlx::test(migrations = "../migrations")]
async fn without_the_current_password_a_change_needs_a_recent_sign_in(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer("ada@example.org").await;
    // Fresh: the current password may be left out.
    let res = browser
        .call(
            "password/change",
            &[("current_password", ""), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    app.age_sign_ins().await;
    let stale = browser
        .call(
            "password/change",
            &[("current_password", ""), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(stale.status(), 403);
    assert_eq!(error_of(stale).await, json!("StepUp"));

    let mut last = 0;
    for _ in 0..12 {
        let guess = browser
            .call(
                "password/change",
                &[
                    ("current_password", "a wrong guess"),
                    ("password", GOOD_PASSWORD),
                ],
            )
            .await;
        last = guess.status().as_u16();
        if last == 429 {
            break;
        }
        assert_eq!(last, 422);
    }
    assert_eq!(last, 429, "guesses are throttled like sign-ins");
    // Even the right one waits now.
    let right = browser
        .call(
            "password/change",
            &[
                ("current_password", NEW_PASSWORD),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(right.status(), 429);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_password_can_be_removed_while_another_way_in_remains_and_set_again(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let laptop = app.signed_in_customer("ada@example.org").await;
    let phone = app.browser();
    sign_in(&phone, "ada@example.org", GOOD_PASSWORD).await;

    // With email sign-in off, the password is the only way in.
    app.set_policy("email_sign_in_enabled = false").await;
    let only = laptop.call("password/remove", &[]).await;
    assert_eq!(only.status(), 400);
    assert_eq!(
        error_of(only).await,
        json!({ "Refused": "Your password is your only way to sign in. Add a passkey or link \
                            another account first." })
    );
    assert!(phone.me().await.is_some(), "a refusal changes nothing");

    // With it on, the verified address is another way in.
    app.set_policy("email_sign_in_enabled = true").await;
    let res = laptop.call("password/remove", &[]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(res.headers()["location"], "/profile?password_removed=1");
    assert_eq!(laptop.me().await.unwrap()["has_password"], false);
    assert!(phone.me().await.is_none(), "other devices are signed out");
    assert_eq!(
        sign_in(&app.browser(), "ada@example.org", GOOD_PASSWORD)
            .await
            .status(),
        401
    );
    let twice = laptop.call("password/remove", &[]).await;
    assert_eq!(twice.status(), 400);
    let change = laptop
        .call(
            "password/change",
            &[("current_password", ""), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(change.status(), 400, "nothing to change");

    // Setting one needs a recent sign-in too.
    app.age_sign_ins().await;
    let stale = laptop
        .call("password/set", &[("password", NEW_PASSWORD)])
        .await;
    assert_eq!(stale.status(), 403);
    sqlx::query(
        "UPDATE sessions SET data = jsonb_set(data, '{auth_at}', to_jsonb(extract(epoch from now())::bigint))",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let weak = laptop
        .call("password/set", &[("password", "password")])
        .await;
    assert_eq!(weak.status(), 422);
    let res = laptop
        .call("password/set", &[("password", NEW_PASSWORD)])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(laptop.me().await.unwrap()["has_password"], true);
    let again = laptop
        .call("password/set", &[("password", GOOD_PASSWORD)])
        .await;
    assert_eq!(
        again.status(),
        400,
        "a password is never overwritten by set"
    );
    assert_eq!(
        sign_in(&app.browser(), "ada@example.org", NEW_PASSWORD)
            .await
            .status(),
        200
    );
    app.mail
        .wait_for("ada@example.org", "How you sign in to Keyhaven changed")
        .await;
    let actions: Vec<String> = app.audit_actions().await.into_iter().map(|a| a.0).collect();
    assert!(actions.contains(&"password.removed".to_owned()));
    assert!(actions.contains(&"password.set".to_owned()));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_person_sees_their_sign_ins_and_ends_one_or_all_the_others(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let laptop = app
        .signed_in_customer_on(app.browser_as(FIREFOX), "ada@example.org")
        .await;
    let phone = app.browser_as(IPHONE);
    sign_in(&phone, "ada@example.org", GOOD_PASSWORD).await;
    let tablet = app.browser();
    sign_in(&tablet, "ada@example.org", GOOD_PASSWORD).await;
    // Someone else's sign-in is never listed nor ended.
    let other = app.signed_in_customer("bob@example.org").await;

    let listed = sign_ins(&laptop).await;
    assert_eq!(listed.len(), 3, "{listed:#?}");
    let this: Vec<&Value> = listed.iter().filter(|s| s["this_device"] == true).collect();
    assert_eq!(this.len(), 1);
    assert_eq!(this[0]["device"], "Firefox on Linux");
    assert_eq!(this[0]["method"], "password");
    assert_eq!(this[0]["network"], "127.0.0.1");
    let iphone = listed
        .iter()
        .find(|s| s["device"].as_str().unwrap().contains("iPhone"))
        .expect("the phone is listed by its device");
    let sids: Vec<&str> = listed.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM sessions WHERE id = ANY($1)")
            .bind(&sids)
            .fetch_one(&app.db)
            .await
            .unwrap()
            == 0,
        "the list never shows the session cookies"
    );

    // This device is signed out by signing out, not from the list.
    let own = laptop
        .call("sign-ins/end", &[("id", this[0]["id"].as_str().unwrap())])
        .await;
    assert_eq!(own.status(), 400);
    let bobs = sign_ins(&other).await[0]["id"].as_str().unwrap().to_owned();
    let foreign = laptop.call("sign-ins/end", &[("id", &bobs)]).await;
    assert_eq!(foreign.status(), 400);
    assert!(
        other.me().await.is_some(),
        "another person's sign-in is out of reach"
    );

    let res = laptop
        .call("sign-ins/end", &[("id", iphone["id"].as_str().unwrap())])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert!(phone.me().await.is_none(), "the ended sign-in is refused");
    assert!(tablet.me().await.is_some());
    let gone = laptop
        .call("sign-ins/end", &[("id", iphone["id"].as_str().unwrap())])
        .await;
    assert_eq!(gone.status(), 400);
    assert_eq!(
        error_of(gone).await,
        json!({ "Refused": "That sign-in has already ended." })
    );

    let res = laptop.call("sign-ins/end-others", &[]).await;
    assert_eq!(res.status(), 200);
    assert!(tablet.me().await.is_none());
    assert!(laptop.me().await.is_some());
    assert_eq!(sign_ins(&laptop).await.len(), 1);
    let anonymous = app.browser().call("sign-ins", &[]).await;
    assert_eq!(anonymous.status(), 401);
    let actions: Vec<String> = app.audit_actions().await.into_iter().map(|a| a.0).collect();
    assert!(actions.contains(&"session.others_ended".to_owned()));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_timeline_tells_the_persons_own_story_and_this_wasnt_me_locks_the_intruder_out(
    db: PgPool,
) {
    let app = TestApp::spawn(db).await;
    let laptop = app
        .signed_in_customer_on(app.browser_as(FIREFOX), "ada@example.org")
        .await;
    // The risk engine would ask the new device for a second step; this story is about the
    // timeline, so it is off.
    app.set_policy("risk_engine_enabled = false").await;
    let thief = app.browser_as(IPHONE);
    sign_in(&thief, "ada@example.org", "a wrong guess").await;
    sign_in(&thief, "ada@example.org", GOOD_PASSWORD).await;
    // Someone else's events never show.
    app.signed_in_customer("bob@example.org").await;

    let res = laptop.call("timeline", &[]).await;
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    let lines: Vec<(String, String, bool)> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["what"].as_str().unwrap().to_owned(),
                e["device"].as_str().unwrap().to_owned(),
                e["failed"].as_bool().unwrap(),
            )
        })
        .collect();
    let whats: Vec<&str> = lines.iter().map(|l| l.0.as_str()).collect();
    assert_eq!(
        whats,
        [
            "Signed in with a password",
            "A sign-in failed: wrong password",
            "Signed in with a password",
            "Your email address was confirmed",
            "You accepted Privacy policy (version 1)",
            "You accepted Terms of service (version 1)",
            "Your account was created",
        ],
        "newest first, in plain words: {lines:#?}"
    );
    assert!(
        lines[0].1.contains("iPhone"),
        "the thief's device: {lines:#?}"
    );
    assert!(lines[1].2, "the failure is marked");
    assert_eq!(lines[2].1, "Firefox on Linux");
    assert_eq!(page["next"], Value::Null);

    // Paged: more than a page of events gives a cursor to the older ones.
    for _ in 0..25 {
        laptop
            .call("update-profile", &[("display_name", "Ada L")])
            .await;
    }
    let first: Value = laptop.call("timeline", &[]).await.json().await.unwrap();
    assert_eq!(first["entries"].as_array().unwrap().len(), 20);
    let next = first["next"].as_i64().expect("an older page");
    let second: Value = laptop
        .call("timeline", &[("before", &next.to_string())])
        .await
        .json()
        .await
        .unwrap();
    // 7 events above, 2 of them the terms accepted at registration, and 25 changes.
    assert_eq!(second["entries"].as_array().unwrap().len(), 12);
    assert_eq!(second["next"], Value::Null);

    // "This wasn't me": everyone is out, the password must be reset, the link is mailed.
    let res = laptop.call("timeline/not-me", &[]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(res.headers()["location"], "/signin?reported=1");
    assert!(thief.me().await.is_none());
    assert!(laptop.me().await.is_none());
    assert_eq!(
        sign_in(&app.browser(), "ada@example.org", GOOD_PASSWORD)
            .await
            .status(),
        403,
        "the known password opens nothing until it is reset"
    );
    let mail = app
        .mail
        .wait_for("ada@example.org", "Reset your Keyhaven password")
        .await;
    let token = TestApp::token_in(&mail.body, "/reset-password");
    let res = app
        .browser()
        .call(
            "reset-password",
            &[("token", &token), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200);
    let anonymous = app.browser().call("timeline", &[]).await;
    assert_eq!(anonymous.status(), 401);
}
