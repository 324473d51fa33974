//! The password policy and session lifetimes as settings: a stricter policy refuses what the
//! default accepts (registration, reset and the strength meter alike) and none goes below the
//! floor; a sign-in ends after the business's idle and absolute limits, staff's never later
//! than 15 idle minutes; bad values are refused whole and each change is audited.

use crate::support::{error_of, TestApp, GOOD_PASSWORD};
use app::domain::{
    audit::Actor,
    settings::{self, Limits},
    staff::StaffRole,
};
use sqlx::PgPool;

fn limits(min_len: i32, strength: i32, idle: i32, max: i32) -> Limits {
    Limits {
        password_min_length: min_len,
        password_min_strength: strength,
        session_idle_minutes: idle,
        session_max_hours: max,
        deletion_grace_days: 7,
    }
}

/// Moves the signed-in sessions' clocks back: `idle` seconds since their last request,
/// `age` seconds since their sign-in.
async fn age_sessions(app: &TestApp, idle: i64, age: i64) {
    sqlx::query(
        "UPDATE sessions SET data = jsonb_set(jsonb_set(data,
             '{seen_at}', to_jsonb((data->>'seen_at')::bigint - $1)),
             '{auth_at}', to_jsonb((data->>'auth_at')::bigint - $2))
         WHERE user_id IS NOT NULL",
    )
    .bind(idle)
    .bind(age)
    .execute(&app.db)
    .await
    .unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn a_stricter_password_policy_refuses_what_the_default_accepts(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let admin = app
        .signed_in_staff("admin@staff.example.com", StaffRole::Admin)
        .await;
    let before: serde_json::Value = admin
        .call("console/settings", &[])
        .await
        .json()
        .await
        .unwrap();
    let save = |min_len: &'static str, idle: &'static str, max: &'static str| {
        let admin = &admin;
        async move {
            admin
                .call(
                    "console/settings/save",
                    &[
                        ("settings[mfa_policy]", "admins"),
                        ("settings[risk_step_up]", "40"),
                        ("settings[risk_block]", "90"),
                        ("settings[require_verified_email]", "on"),
                        ("settings[email_sign_in_enabled]", "on"),
                        ("settings[passkeys_enabled]", "on"),
                        ("settings[social_enabled]", "on"),
                        ("settings[risk_engine_enabled]", "on"),
                        ("settings[password_min_length]", min_len),
                        ("settings[password_min_strength]", "4"),
                        ("settings[session_idle_minutes]", idle),
                        ("settings[session_max_hours]", max),
                        ("confirm", "yes"),
                    ],
                )
                .await
        }
    };
    // Refused whole: below the floor, an idle limit past the longest sign-in, out of range.
    for (min_len, idle, max, field) in [
        ("6", "30", "12", "password_min_length"),
        ("12", "600", "1", "session_idle_minutes"),
        ("12", "2", "12", "session_idle_minutes"),
        ("12", "30", "9000", "session_max_hours"),
        ("twelve", "30", "12", "password_min_length"),
    ] {
        let res = save(min_len, idle, max).await;
        assert_eq!(res.status(), 422, "{min_len} {idle} {max}");
        assert_eq!(error_of(res).await["Field"]["field"], field);
    }
    let unchanged: serde_json::Value = admin
        .call("console/settings", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged, before);

    let res = save("30", "60", "24").await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let detail: serde_json::Value = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE action = 'settings.changed'
           AND detail->>'setting' = 'limits'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(detail["changes"]["password_min_length"]["from"], 8);
    assert_eq!(detail["changes"]["password_min_length"]["to"], 30);
    assert_eq!(detail["changes"]["session_idle_minutes"]["to"], 60);

    // The 28-character password every other test uses is now too short.
    let browser = app.browser();
    let res = browser
        .call(
            "register",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", "grace@example.com"),
                ("display_name", "Grace Hopper"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let error = error_of(res).await;
    assert_eq!(error["Field"]["field"], "password");
    assert_eq!(error["Field"]["message"], "Use at least 30 characters.");
    let reading: serde_json::Value = browser
        .call("password-strength", &[("password", GOOD_PASSWORD)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(reading["acceptable"], false);
    let res = browser
        .call(
            "register",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", "grace@example.com"),
                ("display_name", "Grace Hopper"),
                ("password", "violet tractor sings at dawn over the bay"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_sign_in_ends_after_the_businesss_idle_and_absolute_limits(db: PgPool) {
    let app = TestApp::spawn(db).await;
    // A longer idle limit than the built-in 30 minutes, and a 2-hour sign-in.
    settings::set_limits(&app.db, limits(8, 3, 90, 2), Actor::Cli)
        .await
        .unwrap()
        .unwrap();
    app.policy_changed();
    let customer = app.signed_in_customer("ada@example.com").await;
    let admin = app
        .signed_in_staff("admin@staff.example.com", StaffRole::Admin)
        .await;
    age_sessions(&app, 45 * 60, 45 * 60).await;
    assert!(
        customer.me().await.is_some(),
        "45 idle minutes are within 90"
    );
    assert_eq!(
        admin.call("console/me", &[]).await.status(),
        401,
        "staff end after 15 idle minutes whatever the setting"
    );
    // Busy, but past the longest sign-in.
    age_sessions(&app, 0, 2 * 3600).await;
    assert!(customer.me().await.is_none(), "past 2 hours in all");

    // A shorter idle limit than the built-in one ends a sign-in sooner.
    settings::set_limits(&app.db, limits(8, 3, 10, 12), Actor::Cli)
        .await
        .unwrap()
        .unwrap();
    app.policy_changed();
    let customer = app.signed_in_customer("grace@example.com").await;
    age_sessions(&app, 11 * 60, 11 * 60).await;
    assert!(customer.me().await.is_none(), "11 idle minutes are past 10");
}
