//! RP-initiated logout skips the confirmation only for a hint from this very sign-in: an ID
//! token of this provider whose `sid` is the session's. A hint from another sign-in of the same
//! person (another device, an old token) asks first.

use crate::support::{oidc::*, Browser, TestApp, GOOD_PASSWORD};
use app::domain::oidc::{clients::ClientType, registration::Registered};
use serde_json::Value;
use sqlx::PgPool;

async fn id_token_for(app: &TestApp, browser: &Browser, client: &Registered) -> String {
    let code = code_for(browser, client, &[]).await;
    let form = code_form(&client.client_id, &code);
    let tokens: Value = token(app, &form, None).await.json().await.unwrap();
    tokens["id_token"].as_str().unwrap().to_owned()
}

fn logout_url(hint: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("id_token_hint", hint)
        .finish();
    format!("/oauth2/logout?{query}")
}

#[sqlx::test(migrations = "../migrations")]
async fn a_hint_from_another_sign_in_of_the_same_person_asks_first(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let phone = app.signed_in_customer("ada@example.com").await;
    let laptop = app.browser();
    let res = laptop
        .call(
            "sign-in",
            &[("email", "ada@example.com"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200);

    // The phone's ID token names the same person, but another sign-in.
    let phones_hint = id_token_for(&app, &phone, &client).await;
    let res = laptop.get(&logout_url(&phones_hint)).await;
    assert_eq!(location(&res), "/oauth2/signout");
    assert!(
        laptop.me().await.is_some(),
        "nothing happens before the answer"
    );

    // The laptop's own hint signs it out at once.
    let own_hint = id_token_for(&app, &laptop, &client).await;
    let res = laptop.get(&logout_url(&own_hint)).await;
    assert_eq!(res.status(), 200);
    assert!(laptop.me().await.is_none());
    assert!(phone.me().await.is_some(), "the phone stays signed in");
}
