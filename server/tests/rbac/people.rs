//! What the person sees and what goes with them: the consent screen names the `roles` scope,
//! and an erased person's memberships and assignments are deleted (the groups and roles stay).

use serde_json::Value;
use sqlx::PgPool;

use super::{desk_claims, everywhere, support_desk, user_id};
use crate::support::{
    erasure::erase_now,
    oidc::{
        answer, answer_consent, authorize_url, code_form, consent_details, location, register,
        token,
    },
    TestApp,
};
use app::domain::oidc::clients::ClientType;

#[sqlx::test(migrations = "../migrations")]
async fn the_consent_screen_names_the_scope(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, false).await;
    let browser = app.signed_in_customer("ada@example.org").await;
    support_desk(
        &app,
        &client.client_id,
        user_id(&app, "ada@example.org").await,
    )
    .await;

    let res = browser
        .get(&authorize_url(&client, &[("scope", "openid roles")]))
        .await;
    let screen = location(&res);
    let details = consent_details(&browser, &screen).await;
    let mut said: Vec<String> = serde_json::from_value(details["permissions"].clone()).unwrap();
    said.sort();
    assert_eq!(
        said,
        [
            "Know who you are when you sign in",
            "See your roles and permissions in this app"
        ]
    );
    let back = answer_consent(&browser, &screen, "approve").await;
    let code = answer(&back)["code"].clone();
    let res = token(&app, &code_form(&client.client_id, &code), None).await;
    let issued: Value = res.json().await.unwrap();
    assert_eq!(everywhere(&app, &issued).await[2], desk_claims());
}

#[sqlx::test(migrations = "../migrations")]
async fn erasure_removes_memberships_and_assignments(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.org").await;
    support_desk(
        &app,
        &client.client_id,
        user_id(&app, "ada@example.org").await,
    )
    .await;

    let res = browser
        .call("account/deletion/request", &[("confirm", "yes")])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    erase_now(&app, "ada@example.org").await;
    let left: (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM group_members), (SELECT count(*) FROM role_assignments),
                (SELECT count(*) FROM groups), (SELECT count(*) FROM app_roles)",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    // The group's own assignment and the group and roles stay; Ada's rows are gone.
    assert_eq!(left, (0, 1, 1, 2));
    let counted: Value = sqlx::query_scalar(
        "SELECT detail -> 'rows_deleted' FROM audit_events WHERE action = 'account.erased'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(counted["group_members"], 1, "{counted}");
    assert_eq!(counted["role_assignments"], 1, "{counted}");
}
