//! The portal's own sign-out and the apps' front-channel logout pages (OpenID Connect
//! Front-Channel Logout 1.0): the signed-out page loads each page once, with `iss` and `sid`,
//! framing exactly their origins, whether the form was posted by the hydrated page or without
//! JavaScript; without such apps the sign-out goes home as it always did.

use app::domain::audit::Actor;
use app::domain::oidc::clients::{ClientSecretKey, ClientType};
use app::domain::oidc::registration::{self, NewClient, Registered};
use reqwest::Response;
use serde_json::Value;
use sqlx::PgPool;

use crate::support::{oidc::*, Browser, TestApp, GOOD_PASSWORD};

const FRONT: &str = "https://forum.example/frontchannel-logout";

async fn register_app(app: &TestApp, name: &str, frontchannel: Option<&str>) -> Registered {
    registration::create(
        &app.db,
        &ClientSecretKey::derive(&[7; 32]),
        &NewClient {
            name: name.into(),
            client_type: ClientType::Public,
            redirect_uris: vec![REDIRECT.into()],
            first_party: true,
            post_logout_redirect_uris: vec![LOGOUT_REDIRECT.into()],
            frontchannel_logout_uri: frontchannel.map(str::to_owned),
            ..Default::default()
        },
        Actor::Cli,
    )
    .await
    .unwrap()
}

/// Signs in to `client` with `browser`'s session; returns the ID token's `sid`.
async fn sid_for(app: &TestApp, browser: &Browser, client: &Registered) -> String {
    let code = code_for(browser, client, &[]).await;
    let tokens: Value = token(app, &code_form(&client.client_id, &code), None)
        .await
        .json()
        .await
        .unwrap();
    let payload = tokens["id_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    claims["sid"].as_str().unwrap().to_owned()
}

/// The front-channel logout URL of [`FRONT`] for `sid`, as an attribute in the page.
fn frame_of(app: &TestApp, sid: &str) -> String {
    let issuer: String = url::form_urlencoded::byte_serialize(app.public_url.as_bytes()).collect();
    format!("<iframe src=\"{FRONT}?iss={issuer}&amp;sid={sid}\" hidden")
}

fn csp(res: &Response) -> String {
    res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned()
}

async fn signed_in_sessions(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id IS NOT NULL")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// The signed-out page, loaded once more: nothing left to load, it goes home at once.
async fn assert_nothing_left(browser: &Browser) {
    let res = browser.get("/signed-out").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/");
    assert!(!csp(&res).contains("frame-src"));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_hydrated_sign_out_goes_to_a_page_that_loads_the_apps_front_channel_pages_once(
    db: PgPool,
) {
    let app = TestApp::spawn(db).await;
    let forum = register_app(&app, "Forum", Some(FRONT)).await;
    let quiet = register_app(&app, "Quiet", None).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let sid = sid_for(&app, &browser, &forum).await;
    assert_eq!(sid_for(&app, &browser, &quiet).await, sid);
    let before: String = sqlx::query_scalar("SELECT id FROM sessions WHERE user_id IS NOT NULL")
        .fetch_one(&app.db)
        .await
        .unwrap();

    let res = browser.call("sign-out", &[]).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers().get("serverfnredirect").is_none(),
        "no client-side navigation: the page is loaded in full"
    );
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer, "/signed-out", "the answer names no sign-in");

    // The sign-in has ended; what waits is in a new anonymous session, not the ended one.
    assert!(browser.me().await.is_none());
    assert_eq!(signed_in_sessions(&app).await, 0);
    let held: Vec<(String, Option<uuid::Uuid>)> = sqlx::query_as(
        "SELECT id, user_id FROM sessions WHERE data -> 'front_channel_logout' IS NOT NULL",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(held.len(), 1);
    assert_ne!(
        held[0].0, before,
        "the ended session's id is not used again"
    );
    assert_eq!(held[0].1, None);
    let ended: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events
         WHERE action = 'session.ended' AND detail ->> 'reason' = 'signed_out'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(ended, 1);

    let res = browser.get("/signed-out").await;
    assert_eq!(res.status(), 200);
    assert!(
        csp(&res).ends_with("; frame-src https://forum.example"),
        "{}",
        csp(&res)
    );
    let page = res.text().await.unwrap();
    assert!(page.contains(&frame_of(&app, &sid)), "{page}");
    assert_eq!(
        page.matches("<iframe").count(),
        1,
        "only the app that asked"
    );
    assert!(page.contains("content=\"2;url=/\""), "{page}");
    assert!(page.contains("You are signed out."));

    assert_nothing_left(&browser).await;
    let res = browser.get("/").await;
    assert!(!csp(&res).contains("frame-src"));
}

#[sqlx::test(migrations = "../migrations")]
async fn without_javascript_the_sign_out_form_is_redirected_to_the_signed_out_page(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let forum = register_app(&app, "Forum", Some(FRONT)).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    let sid = sid_for(&app, &browser, &forum).await;

    let res = browser.submit("/profile", "sign-out", &[]).await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "/signed-out");
    assert!(browser.me().await.is_none());
    assert_eq!(signed_in_sessions(&app).await, 0);

    // Read in the browser's language (German here).
    let res = browser
        .client
        .get(format!("{}/signed-out", browser.base))
        .header("accept", "text/html")
        .header("accept-language", "de-DE,de;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(csp(&res).ends_with("; frame-src https://forum.example"));
    let page = res.text().await.unwrap();
    assert!(page.contains(&frame_of(&app, &sid)), "{page}");
    assert!(page.contains("Sie sind abgemeldet."), "{page}");

    assert_nothing_left(&browser).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_waiting_pages_are_this_browsers_for_two_minutes_only(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let forum = register_app(&app, "Forum", Some(FRONT)).await;

    // Another browser finds nothing, even while they wait; they still wait for their own.
    let browser = app.signed_in_customer("ada@example.com").await;
    sid_for(&app, &browser, &forum).await;
    assert_eq!(browser.call("sign-out", &[]).await.status(), 200);
    let stranger = app.browser();
    assert_nothing_left(&stranger).await;
    let res = browser.get("/signed-out").await;
    assert_eq!(res.status(), 200);

    // Not loaded in time: gone.
    let late = app.browser();
    late.call(
        "sign-in",
        &[("email", "ada@example.com"), ("password", GOOD_PASSWORD)],
    )
    .await;
    sid_for(&app, &late, &forum).await;
    assert_eq!(late.call("sign-out", &[]).await.status(), 200);
    sqlx::query(
        "UPDATE sessions SET data = jsonb_set(data, '{front_channel_logout,until}', '0')
         WHERE data -> 'front_channel_logout' IS NOT NULL",
    )
    .execute(&app.db)
    .await
    .unwrap();
    assert_nothing_left(&late).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn without_front_channel_apps_the_sign_out_goes_home_as_before(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let quiet = register_app(&app, "Quiet", None).await;

    let hydrated = app.signed_in_customer("ada@example.com").await;
    sid_for(&app, &hydrated, &quiet).await;
    let res = hydrated.call("sign-out", &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(location(&res), "/");
    assert!(res.headers().get("serverfnredirect").is_some());
    assert_eq!(res.json::<Value>().await.unwrap(), Value::Null);
    assert_eq!(signed_in_sessions(&app).await, 0);
    let held: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sessions WHERE data -> 'front_channel_logout' IS NOT NULL",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(held, 0, "nothing is kept after a plain sign-out");

    let plain = app.browser();
    plain
        .call(
            "sign-in",
            &[("email", "ada@example.com"), ("password", GOOD_PASSWORD)],
        )
        .await;
    let res = plain.submit("/profile", "sign-out", &[]).await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "/");
    assert!(plain.me().await.is_none());
    assert_nothing_left(&plain).await;
}
