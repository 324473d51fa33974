//! Languages and time zones over HTTP: how a page's language is chosen (setting, then the
//! app's `ui_locales`, then `Accept-Language`), mail in the recipient's language, and the
//! profile setting that changes both, with the input an attacker would send.

use crate::support::{
    error_of,
    oidc::{self, authorize_url, location},
    Browser, TestApp, GOOD_PASSWORD,
};
use serde_json::{json, Value};
use sqlx::PgPool;

const GERMAN: (&str, &str) = ("accept-language", "de-DE,de;q=0.9,en;q=0.5");
const ENGLISH: (&str, &str) = ("accept-language", "en-GB,en;q=0.9");

/// The `lang` of the page's `<html>` element.
async fn page_language(browser: &Browser, path: &str) -> String {
    let res = browser.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    let html = res.text().await.unwrap();
    let start = html.find("<html").expect("an html element");
    let tag = &html[start..start + html[start..].find('>').unwrap()];
    let lang = tag.find("lang=\"").map(|i| {
        let rest = &tag[i + 6..];
        rest[..rest.find('"').unwrap()].to_owned()
    });
    lang.unwrap_or_else(|| panic!("no lang on {tag}"))
}

async fn stored_setting(app: &TestApp, email: &str) -> (Option<String>, Option<String>) {
    sqlx::query_as("SELECT locale, time_zone FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn pages_follow_the_browser_and_speak_english_otherwise(db: PgPool) {
    let app = TestApp::spawn(db).await;
    assert_eq!(
        page_language(&app.browser_with_headers(&[GERMAN]), "/signin").await,
        "de"
    );
    let german = app.browser_with_headers(&[GERMAN]).get("/signin").await;
    let html = german.text().await.unwrap();
    assert!(html.contains("Konto erstellen"), "the German header");
    assert!(!html.contains(">Create account<"));
    // Weights decide, not order; a language nobody speaks here is passed over; q=0 refuses.
    let weighed = app.browser_with_headers(&[("accept-language", "en;q=0.2, fr, de;q=0.8")]);
    assert_eq!(page_language(&weighed, "/signin").await, "de");
    let refused = app.browser_with_headers(&[("accept-language", "de;q=0, en;q=0.1")]);
    assert_eq!(page_language(&refused, "/signin").await, "en");
    assert_eq!(page_language(&app.browser(), "/signin").await, "en");
    let odd = app.browser_with_headers(&[("accept-language", ";;;q=,de-;q=abc")]);
    assert_eq!(page_language(&odd, "/signin").await, "en");
    // Discovery names the languages an app may ask for.
    let discovery: Value = app
        .browser()
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["ui_locales_supported"], json!(["en", "de"]));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_german_registration_is_mailed_in_german_and_stays_german(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser_with_headers(&[GERMAN]);
    browser.register("grete@example.de", "Grete Weiss").await;
    let mail = app
        .mail
        .wait_for("grete@example.de", "Bestätigen Sie Ihre E-Mail-Adresse")
        .await;
    assert!(mail.body.starts_with("Hallo Grete Weiss,"), "{}", mail.body);
    assert_eq!(
        stored_setting(&app, "grete@example.de").await,
        (Some("de".into()), None)
    );

    // Later, from an English browser, the reset mail still goes out in German: it is the
    // recipient's language, not the asker's.
    let english = app.browser_with_headers(&[ENGLISH]);
    let res = english
        .call("forgot-password", &[("email", "grete@example.de")])
        .await;
    assert_eq!(res.status(), 200);
    let reset = app
        .mail
        .wait_for("grete@example.de", "Setzen Sie Ihr Passwort")
        .await;
    assert!(
        reset.body.starts_with("Hallo Grete Weiss,"),
        "{}",
        reset.body
    );

    // Someone registering the same address from an English browser: the owner is told, in
    // the owner's language.
    english.register("grete@example.de", "Grete Weiss").await;
    let notice = app
        .mail
        .wait_for("grete@example.de", "Jemand wollte sich bei Keyhaven")
        .await;
    assert!(
        notice.body.starts_with("Hallo Grete Weiss,"),
        "{}",
        notice.body
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_apps_ui_locales_beat_the_browser_and_the_setting_beats_both(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let client = oidc::register(&app, app::domain::oidc::clients::ClientType::Public, true).await;
    let browser = app.browser_with_headers(&[ENGLISH]);
    let res = browser
        .get(&authorize_url(&client, &[("ui_locales", "fr-CA de")]))
        .await;
    assert_eq!(location(&res), "/signin");
    assert_eq!(page_language(&browser, "/signin").await, "de");

    // An English account signing in inside that flow reads English from then on: its own
    // setting wins over the app's wish.
    let ada = app.signed_in_customer("ada@example.com").await;
    let res = ada
        .call(
            "update-preferences",
            &[("locale", "en"), ("time_zone", "Europe/London")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = browser
        .call(
            "sign-in",
            &[("email", "ada@example.com"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = browser
        .get(&authorize_url(
            &client,
            &[("ui_locales", "de"), ("prompt", "consent")],
        ))
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(page_language(&browser, "/profile").await, "en");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_new_setting_reaches_every_device_and_moments_follow_the_zone(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let laptop = app.signed_in_customer("ada@example.com").await;
    let phone = app.browser_with_headers(&[ENGLISH]);
    let res = phone
        .call(
            "sign-in",
            &[("email", "ada@example.com"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(page_language(&phone, "/profile").await, "en");
    let before: Value = phone.call("preferences", &[]).await.json().await.unwrap();
    assert_eq!(before["locale"], "en");
    assert_eq!(before["time_zone"], "UTC");

    let res = laptop
        .call(
            "update-preferences",
            &[("locale", "de"), ("time_zone", "Asia/Tokyo")],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(location(&res), "/profile?preferences_saved=1");
    assert_eq!(
        stored_setting(&app, "ada@example.com").await,
        (Some("de".into()), Some("Asia/Tokyo".into()))
    );

    // The phone, an English browser, now reads German, with moments in Tokyo's time.
    assert_eq!(page_language(&phone, "/profile").await, "de");
    let sign_ins: Vec<Value> = phone.call("sign-ins", &[]).await.json().await.unwrap();
    assert!(!sign_ins.is_empty());
    for s in &sign_ins {
        assert!(s["signed_in"].as_str().unwrap().ends_with(" JST"), "{s}");
    }
    // Signing in again on a new device keeps the setting.
    let tablet = app.browser_with_headers(&[ENGLISH]);
    tablet
        .call(
            "sign-in",
            &[("email", "ada@example.com"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(page_language(&tablet, "/profile").await, "de");

    let audited: Value = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE action = 'profile.updated' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        audited["time_zone"],
        json!({ "from": null, "to": "Asia/Tokyo" })
    );
    assert_eq!(audited["locale"]["to"], "de");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_language_or_zone_not_offered_is_refused_and_nothing_changes(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ada = app.signed_in_customer("ada@example.com").await;
    let before = stored_setting(&app, "ada@example.com").await;
    let audits = app.audit_actions().await.len();
    for (locale, zone, field) in [
        ("fr", "Europe/Paris", "locale"),
        ("de'; DROP TABLE users; --", "UTC", "locale"),
        ("", "UTC", "locale"),
        ("de", "Mars/Olympus_Mons", "time_zone"),
        ("de", "../../etc/passwd", "time_zone"),
        ("de", &"Europe/".repeat(100), "time_zone"),
    ] {
        let res = ada
            .call(
                "update-preferences",
                &[("locale", locale), ("time_zone", zone)],
            )
            .await;
        assert_eq!(res.status(), 422, "{locale} {zone}");
        assert_eq!(error_of(res).await["Field"]["field"], field);
    }
    assert_eq!(stored_setting(&app, "ada@example.com").await, before);
    assert_eq!(app.audit_actions().await.len(), audits);

    let stranger = app.browser();
    let res = stranger
        .call(
            "update-preferences",
            &[("locale", "de"), ("time_zone", "UTC")],
        )
        .await;
    assert_eq!(res.status(), 401);
    assert_eq!(stranger.call("preferences", &[]).await.status(), 401);
}
