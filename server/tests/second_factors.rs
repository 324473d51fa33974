//! Second factors: an authenticator app set up from the profile (with a fresh sign-in),
//! asked for at the next sign-in, its codes accepted once; recovery codes, single use; the
//! mailed code as the weaker fallback; remembered devices; administrators made to enrol; and
//! the attacks on each (replays, guessing, a reset around it, secrets left readable).

use crate::support::{
    error_of,
    mfa::{self, Authenticator},
    Browser, TestApp, GOOD_PASSWORD,
};
use sqlx::PgPool;

const EMAIL: &str = "ada@example.com";

/// A customer with an authenticator app; returns the app and its recovery codes.
async fn customer_with_app(app: &TestApp) -> (Authenticator, Vec<String>) {
    let browser = app.signed_in_customer(EMAIL).await;
    mfa::enrol_from_profile(&browser).await
}

/// A new browser that proved the password: the second step waits.
async fn password_only(app: &TestApp) -> Browser {
    let browser = app.browser();
    let res = browser
        .call("sign-in", &[("email", EMAIL), ("password", GOOD_PASSWORD)])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    browser
}

/// Half a minute and more passes: the app's codes so far are of steps long gone (the steps used
/// are forgotten, as if the clock had moved on).
async fn time_passes(app: &TestApp) {
    sqlx::query("UPDATE totp_factors SET last_step = 0")
        .execute(&app.db)
        .await
        .unwrap();
}

/// The current 30-second step counts as used.
async fn spend_current_step(app: &TestApp) {
    sqlx::query("UPDATE totp_factors SET last_step = $1")
        .bind((mfa::now() / 30) as i64)
        .execute(&app.db)
        .await
        .unwrap();
}

async fn totp(browser: &Browser, code: &str, remember: bool) -> reqwest::Response {
    let mut form = vec![("code", code)];
    if remember {
        form.push(("remember", "on"));
    }
    browser.call("second-factor/totp", &form).await
}

#[sqlx::test(migrations = "../migrations")]
async fn a_password_alone_no_longer_signs_in_once_an_app_is_set_up(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (authenticator, codes) = customer_with_app(&app).await;
    assert_eq!(
        codes.len(),
        10,
        "a first set of recovery codes comes with the app"
    );
    let notice = app.mail.wait_for(EMAIL, "How you sign in").await;
    assert!(notice.body.contains("authenticator app was added"));

    let browser = password_only(&app).await;
    assert_eq!(
        browser.me().await,
        None,
        "not signed in before the second factor"
    );
    let offer = mfa::offer(&browser).await.expect("the second step waits");
    assert_eq!(offer["totp"], true);
    assert_eq!(offer["recovery_codes"], true);
    assert_eq!(offer["email"], true, "the mailed code is the fallback");

    let res = totp(&browser, "000000", false).await;
    assert_eq!(res.status(), 422);
    assert_eq!(error_of(res).await["Field"]["field"], "code");
    assert_eq!(browser.me().await, None);

    let res = totp(&browser, &authenticator.next_code(), false).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert!(browser.me().await.is_some());
    assert_eq!(app.signed_in_by(&["pwd", "otp", "mfa"]).await, 1);
    assert_eq!(mfa::offer(&browser).await, None, "the step is over");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_code_is_accepted_once(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (authenticator, _) = customer_with_app(&app).await;
    spend_current_step(&app).await;
    let step = mfa::now() / 30;
    let browser = password_only(&app).await;
    let res = totp(&browser, &authenticator.code_at(step * 30), false).await;
    assert_eq!(res.status(), 422);
    assert!(error_of(res).await["Field"]["message"]
        .as_str()
        .unwrap()
        .contains("already used"));
    // The next step's code works once; a second browser replaying it is refused.
    let next = authenticator.code_at((step + 1) * 30);
    assert_eq!(totp(&browser, &next, false).await.status(), 200);
    let other = password_only(&app).await;
    let res = totp(&other, &next, false).await;
    assert_eq!(res.status(), 422);
    assert_eq!(other.me().await, None);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_account_locked_while_its_second_step_waits_is_not_signed_in(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (authenticator, _) = customer_with_app(&app).await;
    // Someone with the password waits at the second step; the owner or an administrator
    // locks the account meanwhile; the right code then signs nobody in.
    let intruder = password_only(&app).await;
    sqlx::query("UPDATE users SET locked_at = now()")
        .execute(&app.db)
        .await
        .unwrap();
    let res = totp(&intruder, &authenticator.next_code(), false).await;
    assert_eq!(res.status(), 403, "{}", res.text().await.unwrap());
    assert_eq!(intruder.me().await, None);
    assert_eq!(mfa::offer(&intruder).await, None);
    let signed_in: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'signin.succeeded'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        signed_in, 1,
        "only the owner's own sign-in when setting up the app"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn two_browsers_racing_with_one_code_get_one_sign_in(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (authenticator, _) = customer_with_app(&app).await;
    let first = password_only(&app).await;
    let second = password_only(&app).await;
    let code = authenticator.next_code();
    let (a, b) = tokio::join!(totp(&first, &code, false), totp(&second, &code, false));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 422]);
}

#[sqlx::test(migrations = "../migrations")]
async fn five_wrong_codes_end_the_step_and_the_account_is_slowed(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (authenticator, _) = customer_with_app(&app).await;
    let browser = password_only(&app).await;
    for _ in 0..4 {
        assert_eq!(totp(&browser, "000000", false).await.status(), 422);
    }
    let res = totp(&browser, "000000", false).await;
    assert_eq!(res.status(), 400);
    assert!(error_of(res).await["Refused"]
        .as_str()
        .unwrap()
        .contains("Sign in again"));
    assert_eq!(mfa::offer(&browser).await, None);
    // Starting over with the password gives five more tries, but the account counts them all:
    // at ten in 15 minutes even the right code waits.
    let again = password_only(&app).await;
    for _ in 0..5 {
        totp(&again, "000000", false).await;
    }
    let last = password_only(&app).await;
    let res = totp(&last, &authenticator.next_code(), false).await;
    assert_eq!(res.status(), 429);
    assert_eq!(last.me().await, None);
}

#[sqlx::test(migrations = "../migrations")]
async fn recovery_codes_work_once_and_run_out(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (_, codes) = customer_with_app(&app).await;
    let browser = password_only(&app).await;
    let res = browser
        .call(
            "second-factor/recovery-code",
            &[("code", &codes[0].to_uppercase())],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert!(browser.me().await.is_some());
    let summary: serde_json::Value = browser.call("security", &[]).await.json().await.unwrap();
    assert_eq!(summary["recovery_codes_left"], 9);

    let other = password_only(&app).await;
    let res = other
        .call("second-factor/recovery-code", &[("code", &codes[0])])
        .await;
    assert_eq!(res.status(), 422, "a used code is refused");
    assert_eq!(other.me().await, None);

    // Nothing of the codes is stored in a form that reads back.
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT code_hash FROM recovery_codes")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 10);
    for code in &codes {
        let plain = code.replace('-', "");
        assert!(stored
            .iter()
            .all(|h| !h.windows(plain.len()).any(|w| w == plain.as_bytes())));
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn the_mailed_code_is_a_weaker_fallback_that_still_completes_the_step(db: PgPool) {
    let app = TestApp::spawn(db).await;
    customer_with_app(&app).await;
    let browser = password_only(&app).await;
    let code = mfa::mailed_code(&app, &browser, EMAIL).await;
    // The code works only in the browser that asked.
    let other = password_only(&app).await;
    assert_eq!(
        other
            .call("second-factor/email", &[("code", &code)])
            .await
            .status(),
        400
    );
    let res = browser
        .call("second-factor/email", &[("code", &code)])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert!(browser.me().await.is_some());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_remembered_device_skips_the_step_until_it_is_forgotten(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (authenticator, _) = customer_with_app(&app).await;
    let browser = password_only(&app).await;
    // The site gave this browser its device cookie on its first answer.
    let res = totp(&browser, &authenticator.next_code(), true).await;
    time_passes(&app).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(browser.call("sign-out", &[]).await.status(), 200);

    let res = browser
        .call("sign-in", &[("email", EMAIL), ("password", GOOD_PASSWORD)])
        .await;
    assert_eq!(res.status(), 200);
    assert!(browser.me().await.is_some(), "remembered: no second step");
    assert!(mfa::offer(&password_only(&app).await).await.is_some());

    let summary: serde_json::Value = browser.call("security", &[]).await.json().await.unwrap();
    let id = summary["devices"][0]["id"].as_str().unwrap().to_owned();
    // Forgetting only takes away, so it needs no fresh proof.
    let res = browser
        .call("security/devices/forget", &[("id", &id)])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    browser.call("sign-out", &[]).await;
    browser
        .call("sign-in", &[("email", EMAIL), ("password", GOOD_PASSWORD)])
        .await;
    assert_eq!(browser.me().await, None, "forgotten: asked again");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_password_reset_does_not_skip_the_second_factor(db: PgPool) {
    let app = TestApp::spawn(db).await;
    customer_with_app(&app).await;
    let browser = app
        .reset_password(EMAIL, crate::support::NEW_PASSWORD)
        .await;
    assert_eq!(browser.me().await, None);
    let offer = mfa::offer(&browser).await.expect("the second step waits");
    assert_eq!(offer["email"], false, "the mailbox was the first factor");
}

#[sqlx::test(migrations = "../migrations")]
async fn changing_factors_needs_a_recent_second_factor(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (authenticator, _) = customer_with_app(&app).await;
    let browser = password_only(&app).await;
    assert_eq!(
        totp(&browser, &authenticator.next_code(), false)
            .await
            .status(),
        200
    );
    // Eleven minutes later, the second factor is no longer recent.
    sqlx::query(
        "UPDATE sessions SET data = jsonb_set(data, '{mfa_at}',
           to_jsonb((data ->> 'mfa_at')::bigint - 660))",
    )
    .execute(&app.db)
    .await
    .unwrap();
    for endpoint in [
        "security/authenticator/remove",
        "security/recovery-codes/new",
        "security/authenticator/start",
    ] {
        let res = browser.call(endpoint, &[]).await;
        assert_eq!(res.status(), 403, "{endpoint}");
        assert_eq!(
            error_of(res).await,
            serde_json::json!("StepUp"),
            "{endpoint}"
        );
    }
    // The step-up page asks for the second factor and comes back.
    time_passes(&app).await;
    let res = browser.get("/signin/step-up?return_to=/profile").await;
    assert_eq!(res.headers()["location"], "/signin/second-factor");
    let res = totp(&browser, &authenticator.code(), false).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let res = browser.call("security/authenticator/remove", &[]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let removed = app.mail.wait_for(EMAIL, "How you sign in").await;
    assert!(removed.body.contains("was removed") || removed.body.contains("was added"));
    let actions = app.audit_actions().await;
    assert!(actions.contains(&("mfa.totp_enrolled".into(), "success".into())));
    assert!(actions.contains(&("mfa.totp_removed".into(), "success".into())));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_step_up_never_returns_to_another_site(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (authenticator, _) = customer_with_app(&app).await;
    let browser = password_only(&app).await;
    totp(&browser, &authenticator.next_code(), false).await;
    time_passes(&app).await;
    let res = browser
        .get("/signin/step-up?return_to=//evil.example/steal")
        .await;
    assert_eq!(res.headers()["location"], "/signin/second-factor");
    let res = totp(&browser, &authenticator.code(), false).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/profile");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_administrator_must_enrol_before_reaching_anything(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.admin_at_second_step("root@example.com").await;
    assert_eq!(browser.me().await, None, "nothing before a second factor");
    let offer = mfa::offer(&browser).await.unwrap();
    assert_eq!(offer["must_enrol"], true);
    let (_, codes) = mfa::enrol_on_second_step(&browser).await;
    assert_eq!(codes.len(), 10);
    assert_eq!(
        mfa::recovery_codes(&browser).await,
        Vec::<String>::new(),
        "shown once"
    );
    let me = browser.me().await.unwrap();
    assert_eq!(me["is_admin"], true);
    assert_eq!(app.signed_in_by(&["otp", "mfa"]).await, 1);

    // Their one strong factor cannot go while the policy requires it.
    let res = browser.call("security/authenticator/remove", &[]).await;
    assert_eq!(res.status(), 400);
    assert!(error_of(res).await["Refused"]
        .as_str()
        .unwrap()
        .contains("last strong second factor"));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_authenticator_secret_is_never_readable_at_rest(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer(EMAIL).await;
    let res = browser.call("security/authenticator/start", &[]).await;
    let setup: serde_json::Value = res.json().await.unwrap();
    let key: String = setup["key"].as_str().unwrap().split_whitespace().collect();
    let sessions: Vec<String> = sqlx::query_scalar("SELECT data::text FROM sessions")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert!(sessions.iter().all(|s| !s.contains(&key)));
    let authenticator = Authenticator::from_key(&key);
    let res = browser
        .call(
            "security/authenticator/confirm",
            &[("code", &authenticator.code())],
        )
        .await;
    assert_eq!(res.status(), 200);
    let (sealed,): (Vec<u8>,) = sqlx::query_as("SELECT secret_sealed FROM totp_factors")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(!sealed.windows(key.len()).any(|w| w == key.as_bytes()));
    // Recovery codes were held for showing: never in the clear in the session either.
    let sessions: Vec<String> = sqlx::query_scalar("SELECT data::text FROM sessions")
        .fetch_all(&app.db)
        .await
        .unwrap();
    let codes = mfa::recovery_codes(&browser).await;
    assert!(sessions
        .iter()
        .all(|s| codes.iter().all(|c| !s.contains(c.as_str()))));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_policy_decides_who_is_asked(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (authenticator, _) = customer_with_app(&app).await;
    let state = server::startup::app_state(app.db.clone(), &app.config).unwrap();
    let set = |policy| {
        app::domain::settings::set_mfa_policy(&state.db, policy, app::domain::audit::Actor::Cli)
    };
    use app::domain::mfa::policy::MfaPolicy;
    set(MfaPolicy::Off).await.unwrap();
    app.policy_changed();
    assert!(
        password_only(&app).await.me().await.is_some(),
        "off: never asked"
    );
    set(MfaPolicy::Optional).await.unwrap();
    app.policy_changed();
    let browser = password_only(&app).await;
    assert_eq!(
        browser.me().await,
        None,
        "optional: asked of those who enrolled"
    );
    assert_eq!(
        totp(&browser, &authenticator.next_code(), false)
            .await
            .status(),
        200
    );

    // Required for everyone: a customer without a factor must set one up.
    set(MfaPolicy::Required).await.unwrap();
    app.policy_changed();
    let other = app.browser();
    let res = other
        .call(
            "register",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", "bo@example.com"),
                ("display_name", "Bo"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let mail = app
        .mail
        .wait_for("bo@example.com", "Confirm your email")
        .await;
    let token = TestApp::token_in(&mail.body, "/verify-email");
    other.call("verify-email", &[("token", &token)]).await;
    other
        .call(
            "sign-in",
            &[("email", "bo@example.com"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(other.me().await, None);
    assert_eq!(mfa::offer(&other).await.unwrap()["must_enrol"], true);
    let changed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'settings.changed'
           AND detail ->> 'setting' = 'mfa_policy' AND actor = 'cli'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(changed, 3);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_setup_started_twice_at_once_shows_one_key_that_works(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer(EMAIL).await;
    let start = || browser.call("security/authenticator/start", &[]);
    let (a, b) = tokio::join!(start(), start());
    let a: serde_json::Value = a.json().await.unwrap();
    let b: serde_json::Value = b.json().await.unwrap();
    assert_eq!(a["key"], b["key"], "both requests show the same secret");
    let authenticator = Authenticator::from_key(a["key"].as_str().unwrap());
    let res = browser
        .call(
            "security/authenticator/confirm",
            &[("code", &authenticator.code())],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}
