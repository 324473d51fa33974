//! The `server` command as an operator meets it: the first administrator's one-time link (15
//! minutes, and retrievable again from the command line), one master key per database (every
//! command refuses another one, with a clear message), and a development key that stays in one
//! place whatever directory a command runs from.

use crate::support::{
    cli::{server_command, server_command_with, tempdir, MASTER_KEY},
    TestApp,
};
use app::domain::oidc::clients::ClientType;
use sqlx::PgPool;

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_admin_link_lives_fifteen_minutes_and_the_cli_can_give_a_fresh_one(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let out = server_command(&app.db, &["admin", "create", "--email", "root@example.com"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let first = TestApp::token_in(&stdout(&out), "/reset-password");
    let lifetime: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM expires_at - created_at)::float8 FROM one_time_tokens
         WHERE used_at IS NULL",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!((899.0..=901.0).contains(&lifetime), "{lifetime} s");

    let out = server_command(&app.db, &["admin", "link", "--email", "root@example.com"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let second = TestApp::token_in(&stdout(&out), "/reset-password");
    assert_ne!(first, second);
    let browser = app.browser();
    let res = browser
        .call(
            "reset-password",
            &[
                ("token", first.as_str()),
                ("password", crate::support::GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 400, "the earlier link is retired");
    let res = browser
        .call(
            "reset-password",
            &[
                ("token", second.as_str()),
                ("password", crate::support::GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);

    // Once the password is set, there is no link to give.
    let out = server_command(&app.db, &["admin", "link", "--email", "root@example.com"]).await;
    assert!(!out.status.success());
    let out = server_command(&app.db, &["admin", "link", "--email", "nobody@example.com"]).await;
    assert!(!out.status.success());
}

#[sqlx::test(migrations = "../migrations")]
async fn every_command_refuses_a_master_key_other_than_the_databases(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let out = server_command(&app.db, &["client", "list"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let other = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    for args in [
        &["client", "list"][..],
        &["keys", "list"],
        &["social", "list"],
        &["admin", "link", "--email", "root@example.com"],
        &["migrate"],
    ] {
        let out = server_command_with(&app.db, args, &[("CIAM_MASTER_KEY", other)], None).await;
        assert!(!out.status.success(), "{args:?} ran with another key");
        let message = stderr(&out);
        assert!(message.contains("master key"), "{args:?}: {message}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn the_development_key_is_the_same_from_any_directory(db: PgPool) {
    // A database set up with the development key (no key configured).
    let home = tempdir();
    let home = home.to_str().unwrap();
    let (first, second) = (tempdir(), tempdir());
    let out = server_command_with(&db, &["client", "list"], &[("HOME", home)], Some(&first)).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let out = server_command_with(&db, &["client", "list"], &[("HOME", home)], Some(&second)).await;
    assert!(out.status.success(), "{}", stderr(&out));
    // And a configured key that is not the one the database was set up with is refused.
    let out = server_command_with(
        &db,
        &["client", "list"],
        &[("CIAM_MASTER_KEY", MASTER_KEY)],
        None,
    )
    .await;
    assert!(!out.status.success());
    for dir in [&first, &second] {
        assert!(
            !dir.join(".ciam").exists(),
            "no key left in the working directory"
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn an_https_site_without_a_mail_server_refuses_to_start(db: PgPool) {
    let https = [
        ("CIAM_MASTER_KEY", MASTER_KEY),
        ("CIAM_PUBLIC_URL", "https://id.example.com"),
    ];
    let out = server_command_with(&db, &["migrate"], &https, None).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("CIAM_SMTP_URL"), "{}", stderr(&out));
    let mut forced = https.to_vec();
    forced.push(("CIAM_DEV_DELIVERY", "on"));
    let out = server_command_with(&db, &["migrate"], &forced, None).await;
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The actions audited with the command line as actor, oldest first.
async fn cli_actions(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("SELECT action FROM audit_events WHERE actor = 'cli' ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn every_change_an_operator_makes_is_audited(db: PgPool) {
    let app = TestApp::spawn(db).await;
    for args in [
        &["admin", "create", "--email", "root@example.com"][..],
        &["settings", "set", "sms_enabled", "on"],
        &["keys", "rotate"],
        &[
            "social",
            "add",
            "--id",
            "corp",
            "--kind",
            "oidc",
            "--issuer",
            "https://id.corp.example",
            "--client-id",
            "c",
            // A generated secret may start with a dash.
            "--client-secret",
            "-s3cret",
        ],
        &["social", "disable", "corp"],
        &["social", "enable", "corp"],
        &["social", "remove", "corp"],
        &[
            "client",
            "create",
            "--name",
            "Shop",
            "--redirect-uri",
            "https://shop.example/cb",
        ],
    ] {
        let out = server_command(&app.db, args).await;
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(
        cli_actions(&app).await,
        [
            "admin.created",
            "settings.changed",
            "keys.rotated",
            "social_provider.added",
            "social_provider.disabled",
            "social_provider.enabled",
            "social_provider.removed",
            "client.created",
        ]
    );
    let change: serde_json::Value =
        sqlx::query_scalar("SELECT detail FROM audit_events WHERE action = 'settings.changed'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        change,
        serde_json::json!({ "setting": "sms_enabled", "from": false, "to": true })
    );
    // A secret never reaches the audit trail.
    let secrets: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE detail::text LIKE '%s3cret%'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(secrets, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_operator_ends_every_sign_in_of_an_account(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = crate::support::oidc::register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let code =
        crate::support::oidc::code_for(&browser, &client, &[("scope", "openid offline_access")])
            .await;
    let form = crate::support::oidc::code_form(&client.client_id, &code);
    let issued: serde_json::Value = crate::support::oidc::token(&app, &form, None)
        .await
        .json()
        .await
        .unwrap();
    let access = issued["access_token"].as_str().unwrap();

    let out = server_command(
        &app.db,
        &["user", "end-sessions", "--email", "ada@example.com"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(browser.me().await.is_none());
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", issued["refresh_token"].as_str().unwrap()),
        ("client_id", client.client_id.as_str()),
    ];
    assert_eq!(
        crate::support::oidc::token(&app, &refresh, None)
            .await
            .status(),
        400
    );
    // The access token is refused too, once the change notice reaches this node.
    let refused = crate::support::eventually(|| async {
        crate::support::oidc::userinfo(&app, access).await.status() == 401
    })
    .await;
    assert!(refused);
    assert!(cli_actions(&app)
        .await
        .contains(&"account.sessions_ended".to_owned()));

    let out = server_command(
        &app.db,
        &["user", "end-sessions", "--email", "nobody@example.com"],
    )
    .await;
    assert!(!out.status.success());
}

#[sqlx::test(migrations = "../migrations")]
async fn an_operator_unlocks_a_locked_password(db: PgPool) {
    let app = TestApp::spawn(db).await;
    drop(app.signed_in_customer("ada@example.com").await);
    sqlx::query("UPDATE users SET failed_sign_ins = 100, password_locked_at = now()")
        .execute(&app.db)
        .await
        .unwrap();
    let sign_in = || async {
        app.browser()
            .call(
                "sign-in",
                &[
                    ("email", "ada@example.com"),
                    ("password", crate::support::GOOD_PASSWORD),
                ],
            )
            .await
            .status()
            .as_u16()
    };
    assert_eq!(sign_in().await, 403);
    let out = server_command(&app.db, &["user", "unlock", "--email", "ada@example.com"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sign_in().await, 200);
    assert_eq!(cli_actions(&app).await, ["account.unlocked"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_operator_sets_the_risk_thresholds_within_sense(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let thresholds = || async {
        sqlx::query_as::<_, (Option<i32>, Option<i32>)>(
            "SELECT risk_step_up, risk_block FROM auth_settings",
        )
        .fetch_one(&app.db)
        .await
        .unwrap()
    };
    for (args, why) in [
        (
            &["--step-up", "60", "--block", "50"][..],
            "above the step-up",
        ),
        (&["--block", "30"], "above the step-up"),
        (&["--step-up", "0"], "from 1 to 1000"),
    ] {
        let out = server_command(&app.db, &[&["settings", "risk"][..], args].concat()).await;
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr(&out).contains(why), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(thresholds().await, (None, None), "nothing changed");
    assert!(cli_actions(&app).await.is_empty());

    let out = server_command(&app.db, &["settings", "risk", "--step-up", "30"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(
        shown.contains("risk_step_up                 30\n"),
        "{shown}"
    );
    assert!(
        shown.contains("risk_block                   90 (default)"),
        "{shown}"
    );
    assert_eq!(thresholds().await, (Some(30), None));
    let change: serde_json::Value =
        sqlx::query_scalar("SELECT detail FROM audit_events WHERE action = 'settings.changed'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        change,
        serde_json::json!({
            "setting": "risk_thresholds",
            "from": { "step_up": null, "block": null },
            "to": { "step_up": 30, "block": null },
        })
    );
}
