//! Subject identifiers: public apps see the account id; pairwise apps see a `sub` of their own
//! sector, stable across sign-ins, shared by apps of one sector, different across sectors, and
//! accepted back at userinfo and as a logout hint.

use crate::support::{oidc::*, Browser, TestApp};
use app::domain::audit::Actor;
use app::domain::oidc::clients::{ClientSecretKey, ClientType};
use app::domain::oidc::registration::{self, NewClient, Registered};
use serde_json::Value;
use sqlx::PgPool;

async fn app_with(
    app: &TestApp,
    redirect: &str,
    pairwise: bool,
    sector: Option<&str>,
) -> Registered {
    registration::create(
        &app.db,
        &ClientSecretKey::derive(&[7; 32]),
        &NewClient {
            name: "Partner".into(),
            client_type: ClientType::Public,
            redirect_uris: vec![redirect.into()],
            first_party: true,
            post_logout_redirect_uris: vec![LOGOUT_REDIRECT.into()],
            pairwise,
            sector_identifier: sector.map(str::to_owned),
            ..Default::default()
        },
        Actor::Cli,
    )
    .await
    .unwrap()
}

/// Signs `browser` in to `client` (redirect URI `redirect`); returns the token response.
async fn tokens_for(
    app: &TestApp,
    browser: &Browser,
    client: &Registered,
    redirect: &str,
) -> Value {
    let res = browser
        .get(&authorize_url(client, &[("redirect_uri", redirect)]))
        .await;
    let location = location(&res);
    assert!(location.starts_with(redirect), "{location}");
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("client_id", client.client_id.as_str()),
        ("code_verifier", VERIFIER),
    ];
    token(app, &form, None).await.json().await.unwrap()
}

fn sub_of(id_token: &Value) -> String {
    let payload = id_token.as_str().unwrap().split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    claims["sub"].as_str().unwrap().to_owned()
}

#[sqlx::test(migrations = "../migrations")]
async fn pairwise_apps_see_a_subject_of_their_own_sector(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let shop_cb = "https://shop.example/cb";
    let shop2_cb = "https://shop.example/other-cb";
    let forum_cb = "https://forum.example/cb";
    let public = app_with(&app, REDIRECT, false, None).await;
    let shop = app_with(&app, shop_cb, true, None).await;
    let shop_too = app_with(&app, shop2_cb, true, None).await;
    let forum = app_with(&app, forum_cb, true, None).await;
    let browser = app.signed_in_customer("ada@example.com").await;

    let public_sub = sub_of(&tokens_for(&app, &browser, &public, REDIRECT).await["id_token"]);
    let user_id: uuid::Uuid = public_sub.parse().expect("public subjects are account ids");
    let shop_tokens = tokens_for(&app, &browser, &shop, shop_cb).await;
    let shop_sub = sub_of(&shop_tokens["id_token"]);
    let forum_sub = sub_of(&tokens_for(&app, &browser, &forum, forum_cb).await["id_token"]);
    assert_ne!(shop_sub, public_sub);
    assert_ne!(shop_sub, forum_sub, "sectors cannot match their users");
    assert!(!shop_sub.contains(&user_id.simple().to_string()));
    assert_eq!(
        sub_of(&tokens_for(&app, &browser, &shop_too, shop2_cb).await["id_token"]),
        shop_sub,
        "one sector, one subject"
    );
    assert_eq!(
        sub_of(&tokens_for(&app, &browser, &shop, shop_cb).await["id_token"]),
        shop_sub,
        "stable across sign-ins"
    );

    // Userinfo answers a pairwise access token with the same subject.
    let res = reqwest::Client::new()
        .get(format!("http://{}/oauth2/userinfo", app.addr))
        .bearer_auth(shop_tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let info: Value = res.json().await.unwrap();
    assert_eq!(info["sub"], shop_sub);
    assert_eq!(info["email"], "ada@example.com");

    // A pairwise ID token is a valid hint: it names the signed-in person.
    let res = browser
        .get(&authorize_url(
            &shop,
            &[
                ("redirect_uri", shop_cb),
                ("prompt", "none"),
                ("id_token_hint", shop_tokens["id_token"].as_str().unwrap()),
            ],
        ))
        .await;
    assert!(location(&res).contains("code="), "{}", location(&res));
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("id_token_hint", shop_tokens["id_token"].as_str().unwrap())
        .finish();
    let res = browser.get(&format!("/oauth2/logout?{query}")).await;
    assert_eq!(res.status(), 200, "signed out at once, no confirmation");
    assert!(browser.me().await.is_none());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_pairwise_registration_needs_one_sector(db: PgPool) {
    let key = ClientSecretKey::derive(&[7; 32]);
    let two_hosts = NewClient {
        name: "Two".into(),
        redirect_uris: vec!["https://a.example/cb".into(), "https://b.example/cb".into()],
        pairwise: true,
        ..Default::default()
    };
    let err = registration::create(&db, &key, &two_hosts, Actor::Cli)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("--sector-identifier"), "{err}");
    let bad = NewClient {
        sector_identifier: Some("https://a.example/path".into()),
        ..two_hosts.clone()
    };
    assert!(registration::create(&db, &key, &bad, Actor::Cli)
        .await
        .is_err());
    let service = NewClient {
        name: "Batch".into(),
        client_type: ClientType::Service,
        pairwise: true,
        ..Default::default()
    };
    assert!(registration::create(&db, &key, &service, Actor::Cli)
        .await
        .is_err());
    let ok = NewClient {
        sector_identifier: Some("Example.COM".into()),
        ..two_hosts
    };
    let done = registration::create(&db, &key, &ok, Actor::Cli)
        .await
        .unwrap();
    let sector: String =
        sqlx::query_scalar("SELECT sector_identifier FROM oauth_clients WHERE id = $1")
            .bind(&done.client_id)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(sector, "example.com");
}
