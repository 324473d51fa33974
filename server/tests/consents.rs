//! Consent purposes and the consent ledger: the seeded defaults, granting and withdrawing from
//! the portal with the history kept, new policy versions, the operator's changes audited, and a
//! ledger that no UPDATE, DELETE or TRUNCATE can rewrite.

use crate::support::{error_of, Browser, TestApp};
use app::domain::{
    audit::Actor,
    consents::purposes::{self, NewPurpose, PurposeError},
};
use serde_json::{json, Value};
use sqlx::PgPool;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

async fn mine(browser: &Browser) -> Value {
    let res = browser.call("consents", &[]).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn purpose<'a>(view: &'a Value, key: &str) -> &'a Value {
    view["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == key)
        .unwrap_or_else(|| panic!("no purpose {key} in {view}"))
}

fn history(view: &Value) -> Vec<String> {
    view["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["what"].as_str().unwrap().to_owned())
        .collect()
}

/// The ledger's rows, but for the terms accepted at registration.
async fn ledger_rows(db: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM consent_ledger WHERE collected_via <> 'registration'")
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn granting_and_withdrawing_is_one_click_each_and_every_choice_stays_in_the_history(
    db: PgPool,
) {
    let app = TestApp::spawn(db).await;
    let browser = app
        .signed_in_customer_on(app.browser_as(FIREFOX), "ada@example.org")
        .await;
    let view = mine(&browser).await;
    let keys: Vec<&str> = view["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "terms",
            "privacy",
            "marketing_email",
            "analytics",
            "partner_sharing"
        ]
    );
    assert_eq!(purpose(&view, "terms")["required"], true);
    assert_eq!(purpose(&view, "marketing_email")["required"], false);
    assert_eq!(purpose(&view, "marketing_email")["basis"], "your consent");
    assert_eq!(purpose(&view, "marketing_email")["granted"], false);

    let grant = [("purpose", "marketing_email"), ("granted", "true")];
    let res = browser.call("consents/choose", &grant).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(res.headers()["location"], "/profile/consents?saved=1");
    // A second click from another tab adds nothing: the choice already stands.
    assert_eq!(browser.call("consents/choose", &grant).await.status(), 200);
    assert_eq!(ledger_rows(&app.db).await, 1);
    let view = mine(&browser).await;
    assert_eq!(purpose(&view, "marketing_email")["granted"], true);

    let withdraw = [("purpose", "marketing_email"), ("granted", "false")];
    assert_eq!(
        browser.call("consents/choose", &withdraw).await.status(),
        200
    );
    let view = mine(&browser).await;
    assert_eq!(purpose(&view, "marketing_email")["granted"], false);
    assert!(purpose(&view, "marketing_email")["choice"]
        .as_str()
        .unwrap()
        .starts_with("Declined version 1 on "));
    assert_eq!(
        history(&view),
        [
            "Withdrew Marketing email (version 1)",
            "Accepted Marketing email (version 1)",
            "Accepted Privacy policy (version 1)",
            "Accepted Terms of service (version 1)",
        ]
    );
    assert_eq!(view["history"][3]["how"], "at registration");
    assert_eq!(view["history"][0]["how"], "in your account");

    // Each row proves which text was shown, and keeps where it came from beside it.
    let (hash, ip, agent): (Vec<u8>, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT l.policy_hash, x.ip, x.user_agent FROM consent_ledger l
         JOIN consent_ledger_context x ON x.entry_id = l.id ORDER BY l.id DESC LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let text = purpose(&view, "marketing_email")["text"].as_str().unwrap();
    assert_eq!(hash, purposes::hash_body(text));
    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(agent.as_deref(), Some(FIREFOX));
    assert_eq!(view["history"][0]["device"], "Firefox on Linux");
    // The security timeline tells it too.
    let timeline: Value = browser.call("timeline", &[]).await.json().await.unwrap();
    let told: Vec<&str> = timeline["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["what"].as_str().unwrap())
        .collect();
    assert_eq!(
        &told[..2],
        [
            "You withdrew Marketing email (version 1)",
            "You accepted Marketing email (version 1)"
        ]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_choices_are_refused_and_change_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer("ada@example.org").await;

    let res = browser
        .call(
            "consents/choose",
            &[("purpose", "terms"), ("granted", "false")],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        error_of(res).await,
        json!({ "Refused": "This one is required to keep the account; to withdraw it, delete the account." })
    );
    let res = browser
        .call(
            "consents/choose",
            &[("purpose", "nonsense"), ("granted", "true")],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        error_of(res).await,
        json!({ "Refused": "There is no such purpose." })
    );
    let res = browser
        .call(
            "consents/choose",
            &[("purpose", "analytics"), ("granted", "yes")],
        )
        .await;
    assert_eq!(res.status(), 422);
    // Signed out, nothing is chosen.
    let res = app
        .browser()
        .call(
            "consents/choose",
            &[("purpose", "analytics"), ("granted", "true")],
        )
        .await;
    assert_eq!(res.status(), 401);
    // A retired purpose is no longer offered.
    purposes::retire(&app.db, "analytics", Actor::Cli)
        .await
        .unwrap();
    let res = browser
        .call(
            "consents/choose",
            &[("purpose", "analytics"), ("granted", "true")],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(ledger_rows(&app.db).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_new_policy_version_shows_the_old_acceptance_as_outdated(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer("ada@example.org").await;
    let grant = [("purpose", "analytics"), ("granted", "true")];
    assert_eq!(browser.call("consents/choose", &grant).await.status(), 200);

    let v2 = "We measure how you use our services, with cookies that last a year.";
    assert_eq!(
        purposes::publish(&app.db, "analytics", v2, Actor::Cli)
            .await
            .unwrap(),
        2
    );
    let same = purposes::publish(&app.db, "analytics", v2, Actor::Cli).await;
    assert!(matches!(same, Err(PurposeError::Unchanged)), "{same:?}");
    let unknown = purposes::publish(&app.db, "nonsense", v2, Actor::Cli).await;
    assert!(matches!(unknown, Err(PurposeError::Unknown)), "{unknown:?}");
    let empty = purposes::publish(&app.db, "analytics", "  ", Actor::Cli).await;
    assert!(matches!(empty, Err(PurposeError::Body)), "{empty:?}");

    let view = mine(&browser).await;
    let analytics = purpose(&view, "analytics");
    assert_eq!(analytics["version"], 2);
    assert_eq!(analytics["text"], v2);
    assert_eq!(analytics["granted"], true);
    assert_eq!(analytics["outdated"], true);
    // Accepting again records the new version.
    assert_eq!(browser.call("consents/choose", &grant).await.status(), 200);
    let view = mine(&browser).await;
    assert_eq!(purpose(&view, "analytics")["outdated"], false);
    assert_eq!(history(&view)[0], "Accepted Analytics (version 2)");

    // The old text stays readable, and the operator's change is in the audit trail.
    assert!(purposes::policy_text(&app.db, "analytics", 1)
        .await
        .unwrap()
        .unwrap()
        .starts_with("We may measure"));
    let published: Option<String> = sqlx::query_scalar(
        "SELECT actor FROM audit_events WHERE action = 'consent_policy.published'",
    )
    .fetch_optional(&app.db)
    .await
    .unwrap();
    assert_eq!(published.as_deref(), Some("cli"));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_operator_adds_purposes_that_are_checked_first(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let new = |key: &str, basis: &str, region: Option<&str>| NewPurpose {
        key: key.into(),
        name: "Loyalty program".into(),
        required: false,
        lawful_basis: basis.into(),
        region: region.map(Into::into),
        body: "Points for every purchase.".into(),
    };
    let bad_key = purposes::add(&app.db, &new("Loyalty", "consent", None), Actor::Cli).await;
    assert!(matches!(bad_key, Err(PurposeError::Key)), "{bad_key:?}");
    let bad_basis = purposes::add(&app.db, &new("loyalty", "because", None), Actor::Cli).await;
    assert!(
        matches!(bad_basis, Err(PurposeError::Basis)),
        "{bad_basis:?}"
    );
    let bad_region = purposes::add(
        &app.db,
        &new("loyalty", "consent", Some("Europe")),
        Actor::Cli,
    )
    .await;
    assert!(
        matches!(bad_region, Err(PurposeError::Region)),
        "{bad_region:?}"
    );
    let taken = purposes::add(&app.db, &new("terms", "consent", None), Actor::Cli).await;
    assert!(matches!(taken, Err(PurposeError::Exists)), "{taken:?}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM consent_purposes")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 5, "nothing was written");

    purposes::add(&app.db, &new("loyalty", "consent", Some("DE")), Actor::Cli)
        .await
        .unwrap();
    let loyalty = purposes::get(&app.db, "loyalty").await.unwrap().unwrap();
    assert_eq!(
        (loyalty.version, loyalty.region.as_deref()),
        (1, Some("DE"))
    );
    let added: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'consent_purpose.added' AND actor = 'cli'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(added, 1);
}

/// Whoever holds the server's database connection cannot rewrite what a person agreed to, nor
/// the text they were shown.
#[sqlx::test(migrations = "../migrations")]
async fn the_ledger_and_the_policy_texts_are_append_only(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer("ada@example.org").await;
    let grant = [("purpose", "analytics"), ("granted", "true")];
    assert_eq!(browser.call("consents/choose", &grant).await.status(), 200);

    for attack in [
        "UPDATE consent_ledger SET granted = false",
        "DELETE FROM consent_ledger",
        "TRUNCATE consent_ledger CASCADE",
        "UPDATE consent_policies SET body = 'We may sell your data.'",
        "DELETE FROM consent_policies WHERE version = 1",
        "TRUNCATE consent_policies CASCADE",
    ] {
        let refused = sqlx::query(attack).execute(&app.db).await;
        let message = refused.expect_err(attack).to_string();
        assert!(message.contains("append-only"), "{attack}: {message}");
    }
    assert_eq!(ledger_rows(&app.db).await, 1);
}

/// A partner app asking for the `consents` scope reads the person's current choices, fresh on
/// every request.
#[sqlx::test(migrations = "../migrations")]
async fn an_app_with_the_consents_scope_reads_the_current_choices(db: PgPool) {
    use crate::support::oidc::{code_for, code_form, register, token, userinfo};
    use app::domain::oidc::clients::ClientType;

    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.org").await;
    let grant = [("purpose", "analytics"), ("granted", "true")];
    assert_eq!(browser.call("consents/choose", &grant).await.status(), 200);

    let code = code_for(&browser, &client, &[("scope", "openid consents")]).await;
    let res = token(&app, &code_form(&client.client_id, &code), None).await;
    assert_eq!(res.status(), 200);
    let issued: Value = res.json().await.unwrap();
    let access = issued["access_token"].as_str().unwrap();
    let claims: Value = userinfo(&app, access).await.json().await.unwrap();
    let consents = &claims["consents"];
    assert_eq!(consents["analytics"]["granted"], true);
    assert_eq!(consents["analytics"]["version"], 1);
    assert_eq!(consents["analytics"]["current_version"], 1);
    assert!(consents["analytics"]["at"].is_i64());
    assert_eq!(consents["marketing_email"]["granted"], false);
    assert_eq!(consents["marketing_email"]["at"], Value::Null);
    assert_eq!(consents.as_object().unwrap().len(), 5);

    // A withdrawal shows at once.
    let withdraw = [("purpose", "analytics"), ("granted", "false")];
    assert_eq!(
        browser.call("consents/choose", &withdraw).await.status(),
        200
    );
    let claims: Value = userinfo(&app, access).await.json().await.unwrap();
    assert_eq!(claims["consents"]["analytics"]["granted"], false);

    // Without the scope, no choices are released.
    let code = code_for(&browser, &client, &[("scope", "openid")]).await;
    let res = token(&app, &code_form(&client.client_id, &code), None).await;
    let issued: Value = res.json().await.unwrap();
    let access = issued["access_token"].as_str().unwrap();
    let claims: Value = userinfo(&app, access).await.json().await.unwrap();
    assert!(claims.get("consents").is_none(), "{claims}");
}
