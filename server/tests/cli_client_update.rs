//! `server client update` and `server client show`: an app's token lifetimes and ID token
//! algorithm changed from the command line reach the tokens issued afterwards; only the flags
//! given change; values out of bounds, an unknown algorithm, an unknown app or no flag at all
//! are refused with nothing changed; each change is one `client.updated` audit row with `cli`
//! as actor; `show` never prints a secret.

use app::domain::oidc::{clients::ClientType, registration::Registered};
use sqlx::PgPool;

use crate::support::{
    cli::server_command,
    oidc::{code_for, code_form, register, token},
    Browser, TestApp,
};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The header of a JWT.
fn jwt_header(jwt: &str) -> serde_json::Value {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    let head = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(head).unwrap()).unwrap()
}

/// What `client show --json` prints of app `client_id`.
async fn shown(app: &TestApp, client_id: &str) -> serde_json::Value {
    let out = server_command(&app.db, &["client", "show", client_id, "--json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

/// `client update client_id args…`.
async fn update(app: &TestApp, client_id: &str, args: &[&str]) -> std::process::Output {
    server_command(
        &app.db,
        &[&["client", "update", client_id][..], args].concat(),
    )
    .await
}

/// The audit rows of edits: actor and detail.
async fn updates(app: &TestApp) -> Vec<(Option<String>, serde_json::Value)> {
    sqlx::query_as(
        "SELECT actor, detail FROM audit_events WHERE action = 'client.updated' ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
}

/// A token response for a fresh sign-in of `browser` into public app `client`.
async fn tokens(app: &TestApp, browser: &Browser, client: &Registered) -> serde_json::Value {
    let code = code_for(browser, client, &[("scope", "openid offline_access")]).await;
    let res = token(app, &code_form(&client.client_id, &code), None).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// `client create --json` with `args`: the new app's id and secret.
async fn create(app: &TestApp, args: &[&str]) -> (String, Option<String>) {
    let out = server_command(
        &app.db,
        &[&["client", "create", "--json"][..], args].concat(),
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let created: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    (
        created["client_id"].as_str().unwrap().to_owned(),
        created["client_secret"].as_str().map(str::to_owned),
    )
}

#[sqlx::test(migrations = "../migrations")]
async fn new_lifetimes_and_algorithm_reach_the_tokens_issued_afterwards(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let before = tokens(&app, &browser, &client).await;
    assert_eq!(before["expires_in"], 600);
    assert_eq!(
        jwt_header(before["id_token"].as_str().unwrap())["alg"],
        "RS256"
    );

    let out = update(
        &app,
        &client.client_id,
        &[
            "--access-token-ttl",
            "120",
            "--refresh-token-ttl",
            "3600",
            "--id-token-alg",
            "ES256",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("access_token_ttl_secs"),
        "{}",
        stdout(&out)
    );

    // The running server's copy learns of it from the change notice.
    let fresh = crate::support::eventually(|| async {
        let after = tokens(&app, &browser, &client).await;
        after["expires_in"] == 120
            && after["refresh_token"].is_string()
            && jwt_header(after["id_token"].as_str().unwrap())["alg"] == "ES256"
    })
    .await;
    assert!(fresh, "the change reached the token endpoint");
    let refresh_lifetime: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM expires_at - created_at)::float8 FROM refresh_tokens
         ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(
        (3599.0..=3601.0).contains(&refresh_lifetime),
        "{refresh_lifetime} s"
    );

    // One audit row, the operator as actor, each change's before and after.
    let rows = updates(&app).await;
    assert_eq!(rows.len(), 1);
    let (actor, detail) = &rows[0];
    assert_eq!(actor.as_deref(), Some("cli"));
    assert_eq!(detail["client_id"], client.client_id.as_str());
    assert_eq!(
        detail["changes"],
        serde_json::json!({
            "access_token_ttl_secs": { "from": 600, "to": 120 },
            "refresh_token_ttl_secs": { "from": 2592000, "to": 3600 },
            "id_token_alg": { "from": "RS256", "to": "ES256" },
        })
    );

    let settings = shown(&app, &client.client_id).await;
    assert_eq!(settings["access_token_ttl_secs"], 120);
    assert_eq!(settings["refresh_token_ttl_secs"], 3600);
    assert_eq!(settings["id_token_alg"], "ES256");
    assert_eq!(settings["name"], "Partner Shop", "the rest stays as it was");

    // The same again changes nothing and writes no second row.
    let out = update(&app, &client.client_id, &["--access-token-ttl", "120"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("nothing changed"), "{}", stdout(&out));
    assert_eq!(updates(&app).await.len(), 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn only_the_flags_given_change(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (client_id, _) = create(
        &app,
        &[
            "--name",
            "Shop",
            "--redirect-uri",
            "https://shop.example/cb",
            "--backchannel-logout-uri",
            "https://shop.example/bc-logout",
        ],
    )
    .await;
    let before = shown(&app, &client_id).await;
    let out = update(
        &app,
        &client_id,
        &["--require-mfa", "on", "--backchannel-logout-uri", ""],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let after = shown(&app, &client_id).await;
    let mut expected = before.clone();
    expected["require_mfa"] = serde_json::json!(true);
    expected["backchannel_logout_uri"] = serde_json::Value::Null;
    assert_eq!(after, expected);
    let rows = updates(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].1["changes"],
        serde_json::json!({
            "require_mfa": { "from": false, "to": true },
            "backchannel_logout_uri": { "from": "https://shop.example/bc-logout", "to": null },
        })
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_values_unknown_apps_and_empty_updates_change_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (client_id, _) = create(
        &app,
        &[
            "--name",
            "Shop",
            "--redirect-uri",
            "https://shop.example/cb",
        ],
    )
    .await;
    let before = shown(&app, &client_id).await;
    for (args, flag) in [
        (&["--access-token-ttl", "59"][..], "--access-token-ttl"),
        (&["--access-token-ttl", "86401"], "--access-token-ttl"),
        (&["--access-token-ttl", "-5"], "--access-token-ttl"),
        (&["--refresh-token-ttl", "299"], "--refresh-token-ttl"),
        (&["--refresh-token-ttl", "31536001"], "--refresh-token-ttl"),
        (
            &["--refresh-token-ttl", "99999999999"],
            "--refresh-token-ttl",
        ),
        (&["--id-token-alg", "HS256"], "--id-token-alg"),
        (&["--id-token-alg", "none"], "--id-token-alg"),
        // A good value beside a bad one is not saved either.
        (
            &["--access-token-ttl", "120", "--id-token-alg", "HS256"],
            "--id-token-alg",
        ),
        (
            &[
                "--access-token-ttl",
                "120",
                "--redirect-uri",
                "http://evil.example/cb",
            ],
            "--redirect-uri",
        ),
        (&["--name", ""], "--name"),
        (&[], "nothing to change"),
    ] {
        let out = update(&app, &client_id, args).await;
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(stderr(&out).contains(flag), "{args:?}: {}", stderr(&out));
    }
    let out = update(&app, "no-such-app", &["--access-token-ttl", "120"]).await;
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no app has the client id"),
        "{}",
        stderr(&out)
    );
    // An id that starts with `-` is an id, not a flag.
    for id in ["no-such-app", "-no-such-app", "-u-no-such-app"] {
        let out = server_command(&app.db, &["client", "show", id]).await;
        assert!(!out.status.success());
        assert!(
            stderr(&out).contains("no app has the client id"),
            "{id}: {}",
            stderr(&out)
        );
    }
    let out = update(&app, "-sno-such-app", &["--access-token-ttl", "120"]).await;
    assert!(
        stderr(&out).contains("no app has the client id"),
        "{}",
        stderr(&out)
    );

    assert_eq!(shown(&app, &client_id).await, before, "nothing changed");
    assert!(
        updates(&app).await.is_empty(),
        "nothing audited as a change"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn show_prints_the_settings_and_never_a_secret(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (client_id, secret) = create(
        &app,
        &[
            "--name",
            "Shop",
            "--redirect-uri",
            "https://shop.example/cb",
        ],
    )
    .await;
    let secret = secret.expect("a confidential app has a secret");

    let out = server_command(&app.db, &["client", "show", &client_id]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(&client_id), "{text}");
    assert!(text.contains("https://shop.example/cb"), "{text}");
    assert!(text.contains("RS256"), "{text}");
    assert!(!text.contains(&secret), "the secret was printed: {text}");

    let settings = shown(&app, &client_id).await;
    assert_eq!(settings["client_type"], "confidential");
    assert_eq!(settings["access_token_ttl_secs"], 600);
    assert!(!settings.to_string().contains(&secret));
    let names: Vec<&String> = settings.as_object().unwrap().keys().collect();
    assert!(
        names.iter().all(|name| !name.contains("secret")),
        "{names:?}"
    );
}
