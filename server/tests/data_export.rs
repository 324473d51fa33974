//! "Download my data": a recent sign-in first, built in the background with its progress, a
//! JSON file holding every row the inventory says is about the person (counted against the
//! database, table by table) without the secrets it names, a readable page that escapes what
//! people wrote, downloads by the person only and for 24 hours, all of it audited.

use crate::support::{error_of, eventually, mfa, Browser, TestApp, GOOD_PASSWORD};
use app::domain::privacy::{self, Export};
use reqwest::Response;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// The browser of a staff member who acted on the account.
const STAFF_BROWSER: &str = "StaffBrowser/1.0";

/// A user agent a page would run if it were not escaped.
const MARKUP: &str = "<script>alert(1)</script>";

async fn status(browser: &Browser) -> Value {
    let res = browser.call("my-data/export", &[]).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn ready(browser: &Browser) -> Value {
    let done = eventually(|| async { status(browser).await["state"] == "ready" }).await;
    let last = status(browser).await;
    assert!(done, "the export was not built: {last}");
    last
}

async fn download(browser: &Browser, format: &str) -> Response {
    browser
        .get(&format!("/profile/data/download?format={format}"))
        .await
}

async fn user_id(app: &TestApp, email: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_export_holds_every_row_about_the_person_and_no_secret(db: PgPool) {
    let app = TestApp::spawn(db).await;
    // A browser whose user agent, kept with the sign-ins and the audit trail, is markup.
    let browser = app
        .signed_in_customer_on(app.browser_as(MARKUP), "ada@example.com")
        .await;
    // Something in most tables: an authenticator app and its recovery codes, a consent, a
    // changed name.
    mfa::enrol_from_profile(&browser).await;
    browser
        .call(
            "consents/choose",
            &[("purpose", "analytics"), ("granted", "true")],
        )
        .await;
    let res = browser
        .call("update-profile", &[("display_name", "Ada O'Lovelace")])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    drop(app.signed_in_customer("bob@example.com").await);
    // A staff member (Bob, for the test) acted on Ada's account from their own browser.
    sqlx::query(
        "INSERT INTO audit_events (actor_id, subject_id, action, outcome, ip, user_agent)
         SELECT b.id, a.id, 'customer.locked', 'success', '203.0.113.9', $1
         FROM users a, users b WHERE a.email = 'ada@example.com' AND b.email = 'bob@example.com'",
    )
    .bind(STAFF_BROWSER)
    .execute(&app.db)
    .await
    .unwrap();

    assert_eq!(status(&browser).await, Value::Null);
    let res = browser.call("my-data/export/request", &[]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let view = ready(&browser).await;
    assert_eq!(view["tables_done"], view["tables_total"]);
    assert!(view["expires_at"].is_string());

    let res = download(&browser, "json").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    let file: Value = res.json().await.unwrap();
    let ada = user_id(&app, "ada@example.com").await;
    assert_eq!(file["account"], ada.to_string());

    // Every table the inventory exports is there, with exactly the person's rows, and without
    // the columns it names as secrets.
    for (_, table) in privacy::tables() {
        let Some(person) = table.person else { continue };
        let section = &file["tables"][table.name];
        if let Export::Not(why) = table.export {
            assert!(section.is_null(), "{} is not exported", table.name);
            assert_eq!(file["not_exported"][table.name], why);
            continue;
        }
        let held: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM \"{}\" WHERE \"{person}\" = $1",
            table.name
        ))
        .bind(ada)
        .fetch_one(&app.db)
        .await
        .unwrap();
        // The download just made is audited after the file was built.
        let held = held - i64::from(table.name == "audit_events");
        let rows = section["rows"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", table.name));
        assert_eq!(rows.len() as i64, held, "{}", table.name);
        if let Export::RowsWithout(secrets) = table.export {
            for row in rows {
                for secret in secrets {
                    assert!(
                        row.get(*secret).is_none(),
                        "{}.{secret} exported",
                        table.name
                    );
                }
            }
        }
    }
    // What a staff member did to the account is there, but not who they are or where from.
    let staff_row = file["tables"]["audit_events"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "customer.locked")
        .expect("the staff member's change");
    assert!(staff_row.get("actor_id").is_none() && staff_row.get("ip").is_none());
    assert!(!file.to_string().contains(STAFF_BROWSER));
    let users = &file["tables"]["users"]["rows"][0];
    assert_eq!(users["email"], "ada@example.com");
    assert!(users.get("password_hash").is_none());
    assert_eq!(
        file["tables"]["totp_factors"]["rows"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(!file["tables"]["consent_ledger"]["rows"]
        .as_array()
        .unwrap()
        .is_empty());
    let text = file.to_string();
    assert!(!text.contains("bob@example.com"), "another person's data");
    assert!(text.contains("data_export.requested"));

    // The readable page: the same, with what people wrote escaped.
    let res = download(&browser, "html").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
    let page = res.text().await.unwrap();
    assert!(page.contains("Ada O&#39;Lovelace"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("<script>"));
    assert!(page.contains("ada@example.com"));

    // Asked for and downloaded twice: each is in the audit trail and the timeline.
    let actions = app.audit_actions().await;
    let count = |a: &str| actions.iter().filter(|(action, _)| action == a).count();
    assert_eq!(count("data_export.requested"), 1);
    assert_eq!(count("data_export.downloaded"), 2);
    let timeline: Value = browser.call("timeline", &[]).await.json().await.unwrap();
    assert!(timeline.to_string().contains("You downloaded your data"));
}

#[sqlx::test(migrations = "../migrations")]
async fn only_the_person_downloads_and_only_for_a_day(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ada = app.signed_in_customer("ada@example.com").await;
    let bob = app.signed_in_customer("bob@example.com").await;
    ada.call("my-data/export/request", &[]).await;
    ready(&ada).await;

    // Someone else, or nobody, gets nothing.
    let res = download(&bob, "json").await;
    assert_eq!(res.status(), 404);
    let res = download(&app.browser(), "json").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/signin");
    assert_eq!(download(&ada, "pdf").await.status(), 400);

    // The file is sealed at rest: the table holds no readable copy.
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT json_sealed FROM data_exports")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("ada@example.com"));

    // Only from a recent sign-in: a stale one is sent to confirm it is the person.
    app.age_sign_ins().await;
    let res = download(&ada, "json").await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/signin/step-up?return_to=%2Fprofile%2Fdata"
    );
    let res = ada
        .call(
            "sign-in",
            &[("email", "ada@example.com"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(download(&ada, "json").await.status(), 200);

    // After its 24 hours it is gone.
    sqlx::query("UPDATE data_exports SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(status(&ada).await["state"], "expired");
    assert_eq!(download(&ada, "json").await.status(), 404);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_stale_sign_in_two_tabs_and_too_many_requests(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.signed_in_customer("ada@example.com").await;
    app.age_sign_ins().await;
    let res = browser.call("my-data/export/request", &[]).await;
    assert_eq!(res.status(), 403);
    let exports = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM data_exports")
            .fetch_one(&app.db)
            .await
            .unwrap()
    };
    assert_eq!(exports().await, 0);

    let browser = app.signed_in_customer("bob@example.com").await;
    // Two tabs, or a double click, make one export.
    let (a, b) = tokio::join!(
        browser.call("my-data/export/request", &[]),
        browser.call("my-data/export/request", &[]),
    );
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    ready(&browser).await;
    assert_eq!(exports().await, 1);
    browser.call("my-data/export/request", &[]).await;
    assert_eq!(exports().await, 1, "asked again within the minute");

    // Five a day.
    sqlx::query(
        "INSERT INTO data_exports (id, user_id, state, requested_at)
         SELECT gen_random_uuid(), u.id, 'failed', now() - interval '2 hours'
         FROM users u, generate_series(1, 4) WHERE u.email = 'bob@example.com'",
    )
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE data_exports SET requested_at = now() - interval '1 hour' WHERE state = 'ready'",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let res = browser.call("my-data/export/request", &[]).await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        error_of(res).await["Refused"],
        "You asked for your data five times today. Try again tomorrow."
    );
    assert_eq!(exports().await, 5);
}
