//! Staff editing a customer's ways of being reached: moving the account to another address
//! (the old one told, its links dead, the new one working at once, a taken or malformed one
//! refused with nothing changed) and removing the phone number; each audited with the staff
//! member, the reason, and the before and after.

use crate::support::{error_of, Browser, TestApp, GOOD_PASSWORD, NEW_PASSWORD};
use sqlx::PgPool;

async fn user_id(app: &TestApp, email: &str) -> uuid::Uuid {
    sqlx::query_scalar("SELECT id FROM users WHERE lower(email) = lower($1)")
        .bind(email)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn move_to(admin: &Browser, id: &str, email: &str) -> reqwest::Response {
    admin
        .call(
            "console/customer/email",
            &[
                ("id", id),
                ("email", email),
                ("reason", "ticket 4711: identity checked by video call"),
                ("confirm", "yes"),
            ],
        )
        .await
}

#[sqlx::test(migrations = "../migrations")]
async fn staff_move_a_customer_to_a_new_address_and_the_old_one_is_told_and_its_links_die(
    db: PgPool,
) {
    let app = TestApp::spawn(db).await;
    app.signed_in_customer("grace@example.com").await;
    app.signed_in_customer("ada@example.com").await;
    let admin = app.signed_in_admin("owner@staff.example.com").await;
    let grace = user_id(&app, "grace@example.com").await.to_string();

    // A reset link mailed to the old address before the move.
    let res = app
        .browser()
        .call("forgot-password", &[("email", "grace@example.com")])
        .await;
    assert_eq!(res.status(), 200);
    let mail = app.mail.wait_for("grace@example.com", "Reset your").await;
    let stale = TestApp::token_in(&mail.body, "/reset-password");

    // Taken (in any case), malformed: refused, and nothing changes.
    for (email, message) in [
        (
            "ADA@example.com",
            "Another account already uses this address.",
        ),
        (
            "not an address",
            "Enter an email address like name@example.com.",
        ),
    ] {
        let res = move_to(&admin, &grace, email).await;
        assert_eq!(res.status(), 422, "{email}");
        let error = error_of(res).await;
        assert_eq!(error["Field"]["field"], "email");
        assert_eq!(error["Field"]["message"], message);
    }
    assert_eq!(
        user_id(&app, "grace@example.com").await.to_string(),
        grace,
        "still at the old address"
    );

    let res = move_to(&admin, &grace, "Grace.Hopper@Example.org").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<String>().await.unwrap(),
        "The address is changed; the old one was told."
    );
    let told = app
        .mail
        .wait_for("grace@example.com", "email address of your")
        .await;
    assert!(told.body.contains("G•••@example.org"), "{}", told.body);
    assert!(
        !told.body.contains("Grace.Hopper"),
        "the new address is masked"
    );

    // The link mailed to the old address opens nothing now.
    let res = app
        .browser()
        .call(
            "reset-password",
            &[("token", &stale), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 400, "{}", res.text().await.unwrap());

    // The new address signs in at once; the old one no longer does.
    let res = app
        .browser()
        .call(
            "sign-in",
            &[
                ("email", "grace.hopper@example.org"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let res = app
        .browser()
        .call(
            "sign-in",
            &[("email", "grace@example.com"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 401);

    // The same address again changes nothing and audits nothing more.
    let res = move_to(&admin, &grace, "grace.hopper@example.org").await;
    assert_eq!(
        res.json::<String>().await.unwrap(),
        "That is the address already."
    );
    let audits: Vec<(Option<uuid::Uuid>, serde_json::Value)> = sqlx::query_as(
        "SELECT actor_id, detail FROM audit_events WHERE action = 'email.changed_by_staff'",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(audits.len(), 1);
    let staff = user_id(&app, "owner@staff.example.com").await;
    assert_eq!(audits[0].0, Some(staff));
    assert_eq!(audits[0].1["email"]["before"], "grace@example.com");
    assert_eq!(audits[0].1["email"]["after"], "Grace.Hopper@example.org");
    assert_eq!(
        audits[0].1["reason"],
        "ticket 4711: identity checked by video call"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn staff_remove_a_customers_phone_number_once_with_a_reason(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_in_customer("grace@example.com").await;
    let admin = app.signed_in_admin("owner@staff.example.com").await;
    let grace = user_id(&app, "grace@example.com").await;
    sqlx::query(
        "UPDATE users SET phone = '+442071838750', phone_verified_at = now() WHERE id = $1",
    )
    .bind(grace)
    .execute(&app.db)
    .await
    .unwrap();
    let remove = |reason: &'static str| {
        let admin = &admin;
        let id = grace.to_string();
        async move {
            admin
                .call(
                    "console/customer/act",
                    &[
                        ("id", id.as_str()),
                        ("action", "remove_phone"),
                        ("reason", reason),
                        ("confirm", "yes"),
                    ],
                )
                .await
        }
    };

    let res = remove("").await;
    assert_eq!(res.status(), 422, "a reason is needed");
    let res = remove("lost the phone").await;
    assert_eq!(
        res.json::<String>().await.unwrap(),
        "The phone number is removed."
    );
    let phone: Option<String> = sqlx::query_scalar("SELECT phone FROM users WHERE id = $1")
        .bind(grace)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(phone, None);
    let res = remove("lost the phone").await;
    assert_eq!(
        res.json::<String>().await.unwrap(),
        "There was no phone number."
    );
    let detail: serde_json::Value = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE action = 'phone.removed_by_staff'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(detail["phone"], "+442071838750");
    assert_eq!(detail["reason"], "lost the phone");
}
