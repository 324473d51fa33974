//! Partner app registration for the OpenID provider: `server client create` (the command
//! itself, run on the test database), secrets stored as a keyed hash, client authentication.

use crate::support::{cli::server_command, oidc::post, TestApp};
use app::domain::audit::Actor;
use app::domain::oidc::clients::ClientType;
use app::domain::oidc::registration::{self, NewClient};
use serde_json::Value;
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn the_create_command_prints_the_secret_once_and_stores_only_its_hash(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let out = server_command(
        &app.db,
        &[
            "client",
            "create",
            "--name",
            "Shop",
            "--redirect-uri",
            "https://shop.example/callback",
            "--json",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = printed["client_id"].as_str().unwrap();
    let secret = printed["client_secret"].as_str().unwrap();
    assert_eq!(printed["client_type"], "confidential");
    assert!(secret.len() >= 43);

    let (hash, uris): (Vec<u8>, Vec<String>) =
        sqlx::query_as("SELECT secret_hash, redirect_uris FROM oauth_clients WHERE id = $1")
            .bind(id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(hash.len(), 32);
    assert!(!hash
        .windows(8)
        .any(|w| secret.as_bytes().windows(8).any(|s| s == w)));
    assert_eq!(uris, ["https://shop.example/callback"]);

    // The command and the server share the key (both derive it from the master key): the
    // secret authenticates the app where apps use it, and nothing else does.
    let introspect = |id: &str, secret: &str| {
        let (id, secret) = (id.to_owned(), secret.to_owned());
        let app = &app;
        async move {
            post(app, "introspect", &[("token", "x")], Some((&id, &secret)))
                .await
                .status()
                .as_u16()
        }
    };
    assert_eq!(introspect(id, secret).await, 200);
    assert_eq!(introspect(id, "wrong").await, 401);
    assert_eq!(introspect("nobody", secret).await, 401);
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events
         WHERE action = 'client.created' AND actor = 'cli' AND detail ->> 'client_id' = $1",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        audited, 1,
        "the registration is audited with the command line as actor"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_registrations_are_refused_and_write_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    for (args, message) in [
        (
            vec!["--name", "Shop", "--redirect-uri", "http://shop.example/cb"],
            "is not allowed",
        ),
        (vec!["--name", "Shop"], "needs at least one redirect URI"),
        (
            vec![
                "--name",
                "Batch",
                "--service",
                "--redirect-uri",
                "https://x.example/cb",
            ],
            "a service client has no redirect URIs",
        ),
        (
            vec!["--name", "", "--redirect-uri", "https://x.example/cb"],
            "the name must be 1-80 characters",
        ),
    ] {
        let mut all = vec!["client", "create"];
        all.extend(args);
        let out = server_command(&app.db, &all).await;
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{stderr}");
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM oauth_clients")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn public_clients_have_no_secret_and_service_clients_only_client_credentials(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let key = app::domain::oidc::clients::ClientSecretKey::derive(&[7; 32]);
    let public = registration::create(
        &app.db,
        &key,
        &NewClient {
            name: "Mobile".into(),
            client_type: ClientType::Public,
            redirect_uris: vec!["com.example.shop:/callback".into()],
            first_party: true,
            scopes: vec![],
            post_logout_redirect_uris: vec![],
            ..Default::default()
        },
        Actor::Cli,
    )
    .await
    .unwrap();
    assert_eq!(public.client_secret, None);
    let res = post(
        &app,
        "introspect",
        &[("token", "x")],
        Some((&public.client_id, "")),
    )
    .await;
    assert_eq!(
        res.status(),
        401,
        "a public app has no secret to authenticate with"
    );
    let service = registration::create(
        &app.db,
        &key,
        &NewClient {
            name: "Batch".into(),
            client_type: ClientType::Service,
            redirect_uris: vec![],
            first_party: false,
            scopes: vec!["orders.read".into()],
            post_logout_redirect_uris: vec![],
            ..Default::default()
        },
        Actor::Cli,
    )
    .await
    .unwrap();
    let grants: Vec<String> =
        sqlx::query_scalar("SELECT grant_types FROM oauth_clients WHERE id = $1")
            .bind(&service.client_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(grants, ["client_credentials"]);
}
