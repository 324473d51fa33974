//! The postal address on the profile and the `address` claim (OpenID Connect Core §5.1.1,
//! §5.4): set, changed and removed by the person (with and without JavaScript), every bad part
//! refused by name with nothing changed, audited without the address itself, released only to
//! an app allowed the scope and holding it, exported, and gone with the account.

use crate::support::{
    erasure::erase_now,
    error_of, eventually,
    oidc::{
        answer, answer_consent, authorize_url, code_for, code_form, consent_details, location,
        register, token, userinfo,
    },
    Browser, TestApp,
};
use app::domain::oidc::clients::ClientType;
use serde_json::{json, Value};
use sqlx::PgPool;

const STREET: &str = "Hauptstraße 5\r\nHinterhaus, 3. OG";
const FORMATTED: &str = "Hauptstraße 5\nHinterhaus, 3. OG\n10115 Berlin\nDE";

/// Ada's address as the form sends it.
fn ada_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("street_address", STREET),
        ("locality", "Berlin"),
        ("region", ""),
        ("postal_code", "10115"),
        ("country", "de"),
    ]
}

/// The form with `field` set to `value`.
fn with<'a>(field: &str, value: &'a str) -> Vec<(&'static str, &'a str)> {
    ada_form()
        .into_iter()
        .map(|(k, v)| (k, if k == field { value } else { v }))
        .collect()
}

async fn set(browser: &Browser, form: &[(&str, &str)]) -> reqwest::Response {
    browser.call("update-postal-address", form).await
}

/// What the profile's form reads.
async fn mine(browser: &Browser) -> Value {
    let res = browser.call("postal-address", &[]).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn stored(app: &TestApp) -> Vec<(Option<String>, Option<String>, Option<String>)> {
    sqlx::query_as("SELECT street_address, locality, country FROM postal_addresses")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

/// The `profile.updated` rows' details, oldest first.
async fn address_audits(app: &TestApp) -> Vec<Value> {
    sqlx::query_scalar(
        "SELECT detail FROM audit_events
         WHERE action = 'profile.updated' AND detail ? 'postal_address' ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
}

/// Audit rows (every column) that hold any of `needles`.
async fn audit_rows_naming(app: &TestApp, needles: &[&str]) -> i64 {
    let patterns: Vec<String> = needles.iter().map(|n| format!("%{n}%")).collect();
    sqlx::query_scalar("SELECT count(*) FROM audit_events a WHERE to_jsonb(a)::text ILIKE ANY ($1)")
        .bind(&patterns)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// An access token of `client` for `scope`, and the scope the token response granted.
async fn access_token(
    app: &TestApp,
    browser: &Browser,
    client: &app::domain::oidc::registration::Registered,
    scope: &str,
) -> (String, String) {
    let code = code_for(browser, client, &[("scope", scope)]).await;
    let res = token(app, &code_form(&client.client_id, &code), None).await;
    assert_eq!(res.status(), 200);
    let issued: Value = res.json().await.unwrap();
    (
        issued["access_token"].as_str().unwrap().to_owned(),
        issued["scope"].as_str().unwrap().to_owned(),
    )
}

async fn claims(app: &TestApp, access: &str) -> Value {
    let res = userinfo(app, access).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_person_sets_changes_and_removes_it_audited_without_the_address(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer("ada@example.org").await;
    assert_eq!(mine(&browser).await["given"], false);

    let res = set(&browser, &ada_form()).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(location(&res), "/profile?address_saved=1");
    let view = mine(&browser).await;
    assert_eq!(view["given"], true);
    assert_eq!(view["street_address"], "Hauptstraße 5\nHinterhaus, 3. OG");
    assert_eq!(view["region"], "");
    assert_eq!(view["country"], "DE");

    // The same again writes nothing; one part changed is audited as that part.
    assert_eq!(set(&browser, &ada_form()).await.status(), 200);
    assert_eq!(
        set(&browser, &with("locality", "Berlin-Mitte"))
            .await
            .status(),
        200
    );
    let res = browser.call("clear-postal-address", &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(location(&res), "/profile?address_removed=1");
    assert_eq!(mine(&browser).await["given"], false);
    assert!(stored(&app).await.is_empty());

    let audits = address_audits(&app).await;
    assert_eq!(
        audits,
        [
            json!({ "changed": ["postal_address"], "postal_address": {
                "from": "none", "to": "set",
                "parts": ["street_address", "locality", "postal_code", "country"] } }),
            json!({ "changed": ["postal_address"], "postal_address": {
                "from": "set", "to": "set", "parts": ["locality"] } }),
            json!({ "changed": ["postal_address"], "postal_address": {
                "from": "set", "to": "none",
                "parts": ["street_address", "locality", "postal_code", "country"] } }),
        ]
    );
    assert_eq!(
        audit_rows_naming(&app, &["Hauptstra", "Hinterhaus", "Berlin"]).await,
        0,
        "the audit trail never holds the address"
    );

    // Removing what is not there changes nothing.
    assert_eq!(
        browser.call("clear-postal-address", &[]).await.status(),
        200
    );
    assert_eq!(address_audits(&app).await.len(), 3);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_form_works_without_javascript(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer("ada@example.org").await;

    // A bad part sends the browser back to the profile, which shows the error beside it.
    let res = browser
        .submit("/profile", "update-postal-address", &with("country", "ZZ"))
        .await;
    let html = browser.page_after_refusal(res, "/profile").await;
    assert!(html.contains("Enter a two-letter country code such as DE"));
    assert!(html.contains(r#"aria-invalid="true""#));
    assert!(stored(&app).await.is_empty());

    let res = browser
        .submit("/profile", "update-postal-address", &ada_form())
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/profile?address_saved=1");
    let res = browser.get("/profile?address_saved=1").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("Your postal address is saved."));
    assert!(html.contains("10115"), "the form shows the kept address");
}

#[sqlx::test(migrations = "../migrations")]
async fn each_bad_part_is_refused_by_name_and_nothing_changes(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer("ada@example.org").await;
    assert_eq!(set(&browser, &ada_form()).await.status(), 200);
    let before = stored(&app).await;
    let audits = app.audit_actions().await.len();

    let long_street = "s".repeat(501);
    let long_part = "p".repeat(201);
    let long_country = "c".repeat(101);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (with("street_address", "Hauptstraße\t5"), "street_address"),
        (with("street_address", &long_street), "street_address"),
        (with("locality", "Ber\nlin"), "locality"),
        (with("locality", "Ber\rlin"), "locality"),
        (with("locality", &long_part), "locality"),
        (with("region", &long_part), "region"),
        (with("postal_code", "10\t115"), "postal_code"),
        (with("postal_code", &long_part), "postal_code"),
        (with("country", "ZZ"), "country"),
        (with("country", "D"), "country"),
        (with("country", &long_country), "country"),
        (
            vec![
                ("street_address", " \r\n "),
                ("locality", ""),
                ("region", " "),
                ("postal_code", ""),
                ("country", ""),
            ],
            "street_address",
        ),
    ];
    for (form, field) in &cases {
        let res = set(&browser, form).await;
        assert_eq!(res.status(), 422, "{form:?}");
        let error = error_of(res).await;
        assert_eq!(error["Field"]["field"], *field, "{form:?}: {error}");
    }
    let res = set(&browser, &with("street_address", &long_street)).await;
    assert_eq!(
        error_of(res).await["Field"]["message"],
        "Use at most 500 characters here."
    );
    // Other control characters never reach the form: the boundary refuses them.
    let res = set(&browser, &with("locality", "Ber\u{7}lin")).await;
    assert_eq!(res.status(), 400);
    // A form missing a part is malformed.
    let res = set(&browser, &[("street_address", "Elsewhere 1")]).await;
    assert_eq!(res.status(), 400);

    assert_eq!(stored(&app).await, before);
    assert_eq!(app.audit_actions().await.len(), audits);

    let stranger = app.browser();
    assert_eq!(set(&stranger, &ada_form()).await.status(), 401);
    assert_eq!(stranger.call("postal-address", &[]).await.status(), 401);
    assert_eq!(
        stranger.call("clear-postal-address", &[]).await.status(),
        401
    );
    assert_eq!(stored(&app).await, before);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_app_reads_the_address_claim_only_with_the_scope(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    let browser = app.signed_in_customer("ada@example.org").await;

    // No address given: the scope releases nothing.
    let (access, scope) = access_token(&app, &browser, &client, "openid address").await;
    assert!(scope.split(' ').any(|s| s == "address"), "{scope}");
    assert!(claims(&app, &access).await.get("address").is_none());

    assert_eq!(set(&browser, &ada_form()).await.status(), 200);
    let got = claims(&app, &access).await;
    assert_eq!(
        got["address"],
        json!({
            "formatted": FORMATTED,
            "street_address": "Hauptstraße 5\nHinterhaus, 3. OG",
            "locality": "Berlin",
            "postal_code": "10115",
            "country": "DE",
        })
    );

    // Without the scope, no address.
    let (access, _) = access_token(&app, &browser, &client, "openid profile email").await;
    let got = claims(&app, &access).await;
    assert_eq!(got["email"], "ada@example.org");
    assert!(got.get("address").is_none(), "{got}");

    // Removed from the profile, it is gone from the next answer.
    let (access, _) = access_token(&app, &browser, &client, "openid address").await;
    assert!(claims(&app, &access).await.get("address").is_some());
    assert_eq!(
        browser.call("clear-postal-address", &[]).await.status(),
        200
    );
    assert!(claims(&app, &access).await.get("address").is_none());
}

#[sqlx::test(migrations = "../migrations")]
async fn an_app_not_allowed_the_scope_does_not_get_it(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, true).await;
    // Before the app is first used (so no node holds it yet).
    sqlx::query("UPDATE oauth_clients SET scopes = array_remove(scopes, 'address') WHERE id = $1")
        .bind(&client.client_id)
        .execute(&app.db)
        .await
        .unwrap();
    let browser = app.signed_in_customer("ada@example.org").await;
    assert_eq!(set(&browser, &ada_form()).await.status(), 200);

    let (access, scope) = access_token(&app, &browser, &client, "openid address").await;
    assert_eq!(scope, "openid");
    let got = claims(&app, &access).await;
    assert!(got.get("address").is_none(), "{got}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_partner_app_asks_for_it_on_the_consent_screen(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = register(&app, ClientType::Public, false).await;
    let browser = app.signed_in_customer("ada@example.org").await;
    assert_eq!(set(&browser, &ada_form()).await.status(), 200);

    let res = browser
        .get(&authorize_url(&client, &[("scope", "openid address")]))
        .await;
    let screen = location(&res);
    let details = consent_details(&browser, &screen).await;
    assert_eq!(
        details["permissions"],
        json!([
            "See your postal address",
            "Know who you are when you sign in"
        ])
    );
    let back = answer_consent(&browser, &screen, "approve").await;
    let code = answer(&back)["code"].clone();
    let res = token(&app, &code_form(&client.client_id, &code), None).await;
    let issued: Value = res.json().await.unwrap();
    let got = claims(&app, issued["access_token"].as_str().unwrap()).await;
    assert_eq!(got["address"]["formatted"], FORMATTED);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_export_holds_it_and_the_erasure_removes_it(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer("ada@example.org").await;
    assert_eq!(set(&browser, &ada_form()).await.status(), 200);

    let res = browser.call("my-data/export/request", &[]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let person = &browser;
    let ready = eventually(|| async move {
        let res = person.call("my-data/export", &[]).await;
        res.json::<Value>().await.unwrap()["state"] == "ready"
    })
    .await;
    assert!(ready, "the export was not built");
    let res = browser.get("/profile/data/download?format=json").await;
    assert_eq!(res.status(), 200);
    let file: Value = res.json().await.unwrap();
    let rows = &file["tables"]["postal_addresses"]["rows"];
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{file}");
    assert_eq!(
        rows[0]["street_address"],
        "Hauptstraße 5\nHinterhaus, 3. OG"
    );
    assert_eq!(rows[0]["locality"], "Berlin");
    assert_eq!(rows[0]["country"], "DE");
    let res = browser.get("/profile/data/download?format=html").await;
    let html = res.text().await.unwrap();
    assert!(html.contains("postal_addresses") && html.contains("Berlin"));

    let res = browser
        .call("account/deletion/request", &[("confirm", "yes")])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    erase_now(&app, "ada@example.org").await;
    assert!(stored(&app).await.is_empty());
    let counted: Option<i64> = sqlx::query_scalar(
        "SELECT (detail -> 'rows_deleted' ->> 'postal_addresses')::bigint FROM audit_events
         WHERE action = 'account.erased'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(counted, Some(1));
    assert_eq!(
        audit_rows_naming(&app, &["Hauptstra", "Hinterhaus", "Berlin"]).await,
        0
    );
}
