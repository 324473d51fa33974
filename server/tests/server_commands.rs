//! The `server` command as an operator meets it: the first administrator's one-time link (15
//! minutes, and retrievable again from the command line), one master key per database (every
//! command refuses another one, with a clear message), and a development key that stays in one
//! place whatever directory a command runs from.

mod support;

use sqlx::PgPool;
use support::{
    cli::{server_command, server_command_with, tempdir, MASTER_KEY},
    TestApp,
};

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
                ("password", support::GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 400, "the earlier link is retired");
    let res = browser
        .call(
            "reset-password",
            &[
                ("token", second.as_str()),
                ("password", support::GOOD_PASSWORD),
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
