//! "Delete my account": a recent sign-in and a ticked confirmation first; every sign-in ends at
//! once and the date is mailed; during the grace period (the business's setting) a sign-in
//! offers to cancel, and keeping the deletion signs nobody in; when it comes due, one worker
//! erases the person in one transaction: their export named every table that held them, and
//! afterwards no text or JSON column of any table holds their address, name, phone number or
//! network address, their app's tokens are dead, its back-channel logout is queued, the audit
//! chain still holds and the consent ledger keeps its proof.

use crate::support::{
    cli::server_command, erasure::erase_now, error_of, eventually, mfa, oidc::*, sms::prove_phone,
    social::add_provider, Browser, TestApp, GOOD_PASSWORD,
};
use app::domain::client_address::TrustedProxies;
use app::domain::{
    audit::{
        chain::{self, ChainKey},
        Actor,
    },
    oidc::{
        clients::{ClientSecretKey, ClientType},
        registration::{self, NewClient, Registered},
    },
    privacy::{self, erasure, Export},
    staff::{members, StaffRole},
    throttle::{self, ThrottlePolicy},
};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

const EMAIL: &str = "erin.quill@example.com";
const NAME: &str = "Erin Quintessa-Vale";
const PHONE: &str = "+447911123987";
const IP: &str = "198.51.100.77";
const AGENT: &str = "ErinsBrowser/7.3 (Quokka OS)";

/// The app, trusting the test's proxy header so the person's network address is theirs.
async fn spawn(db: PgPool) -> TestApp {
    TestApp::spawn_with(db, |c| {
        c.trusted_proxies = TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await
}

/// A browser of the person: their network address and their browser's name.
fn erins_browser(app: &TestApp) -> Browser {
    app.browser_with_headers(&[("x-forwarded-for", IP), ("user-agent", AGENT)])
}

async fn user_id(app: &TestApp) -> Uuid {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(EMAIL)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// Registers, confirms and signs in the person, ticking the optional marketing mail too.
async fn registered(app: &TestApp) -> Browser {
    let browser = erins_browser(app);
    let res = browser
        .call(
            "register",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("consent[marketing_email]", "1"),
                ("email", EMAIL),
                ("display_name", NAME),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let mail = app.mail.wait_for(EMAIL, "Confirm your email").await;
    let token = TestApp::token_in(&mail.body, "/verify-email");
    assert_eq!(
        browser
            .call("verify-email", &[("token", &token)])
            .await
            .status(),
        200
    );
    sign_in(&browser).await;
    assert!(browser.me().await.is_some());
    browser
}

async fn sign_in(browser: &Browser) -> reqwest::Response {
    let res = browser
        .call("sign-in", &[("email", EMAIL), ("password", GOOD_PASSWORD)])
        .await;
    assert_eq!(res.status(), 200);
    res
}

async fn ask_for_deletion(browser: &Browser) -> reqwest::Response {
    browser
        .call("account/deletion/request", &[("confirm", "yes")])
        .await
}

async fn deletions(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM account_deletions")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// Every text and JSON column of every table where one of `needles` appears (ignoring case).
async fn hits(db: &PgPool, needles: &[&str]) -> Vec<String> {
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = 'public'
           AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'inet',
                             'cidr', 'ARRAY')
           AND table_name NOT LIKE '\\_sqlx%'
         ORDER BY 1, 2",
    )
    .fetch_all(db)
    .await
    .unwrap();
    assert!(columns.len() > 50, "{columns:?}");
    let mut found = Vec::new();
    for (table, column) in columns {
        for needle in needles {
            let n: i64 = sqlx::query_scalar(&format!(
                "SELECT count(*) FROM \"{table}\"
                 WHERE position(lower($1) in lower(\"{column}\"::text)) > 0"
            ))
            .bind(needle)
            .fetch_one(db)
            .await
            .unwrap();
            if n > 0 {
                found.push(format!("{table}.{column} holds {needle} ({n} rows)"));
            }
        }
    }
    found
}

/// How many of `table`'s rows are about `user` by its person column (none without one).
async fn rows_naming(db: &PgPool, table: &privacy::Table, user: Uuid) -> i64 {
    let Some(person) = table.person else { return 0 };
    sqlx::query_scalar(&format!(
        "SELECT count(*) FROM \"{}\" WHERE \"{person}\" = $1",
        table.name
    ))
    .bind(user)
    .fetch_one(db)
    .await
    .unwrap()
}

/// The tables holding something of the person: a row naming them, or a column that holds
/// one of `needles`.
async fn tables_holding(db: &PgPool, user: Uuid, needles: &[&str]) -> Vec<String> {
    let mut tables: Vec<String> = hits(db, needles)
        .await
        .iter()
        .map(|hit| hit.split('.').next().unwrap().to_owned())
        .collect();
    for (_, table) in privacy::tables() {
        if rows_naming(db, table, user).await > 0 {
            tables.push(table.name.to_owned());
        }
    }
    tables.sort();
    tables.dedup();
    tables
}

/// A third-party app with a back-channel logout address, which the person connects with
/// offline access; returns the app and its refresh and access tokens.
async fn connected_app(app: &TestApp, browser: &Browser) -> (Registered, String, String) {
    let client = registration::create(
        &app.db,
        &ClientSecretKey::derive(&[7; 32]),
        &NewClient {
            name: "Partner Shop".into(),
            client_type: ClientType::Public,
            redirect_uris: vec![REDIRECT.into()],
            first_party: false,
            post_logout_redirect_uris: vec![LOGOUT_REDIRECT.into()],
            backchannel_logout_uri: Some("http://127.0.0.1:9/backchannel".into()),
            ..Default::default()
        },
        Actor::Cli,
    )
    .await
    .unwrap();
    let url = authorize_url(
        &client,
        &[
            ("scope", "openid email profile offline_access"),
            ("prompt", "consent"),
        ],
    );
    let res = browser.get(&url).await;
    assert_eq!(res.status(), 303);
    let back = answer_consent(browser, &location(&res), "approve").await;
    let code = answer(&back)["code"].clone();
    let res = token(app, &code_form(&client.client_id, &code), None).await;
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.unwrap();
    let refresh = tokens["refresh_token"].as_str().expect("offline access");
    let access = tokens["access_token"].as_str().unwrap();
    (client, refresh.to_owned(), access.to_owned())
}

async fn refresh(app: &TestApp, client: &Registered, refresh_token: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", client.client_id.as_str()),
    ];
    let res = token(app, &form, None).await;
    (res.status().as_u16(), res.json().await.unwrap())
}

#[sqlx::test(migrations = "../migrations")]
async fn an_erased_person_leaves_nothing_personal_behind(db: PgPool) {
    let app = spawn(db).await;
    app.set_policy("sms_enabled = true").await;
    // A person who uses everything: a password, an authenticator app and recovery codes, a
    // phone, an app connected with offline access, choices changed, two devices, an export.
    let browser = registered(&app).await;
    let phone_browser = erins_browser(&app);
    sign_in(&phone_browser).await;
    mfa::enrol_from_profile(&browser).await;
    prove_phone(&app, &browser, PHONE).await;
    let (client, refresh_token, access_token) = connected_app(&app, &browser).await;
    for (purpose, granted) in [("analytics", "true"), ("marketing_email", "false")] {
        let res = browser
            .call(
                "consents/choose",
                &[("purpose", purpose), ("granted", granted)],
            )
            .await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }
    // A wrong password from the person's network: a throttle counter keyed by it.
    let res = erins_browser(&app)
        .call("sign-in", &[("email", EMAIL), ("password", "not the one")])
        .await;
    assert_ne!(res.status(), 200);
    let erin = user_id(&app).await;
    // An account at a social provider, linked to hers (the linking journey itself runs against
    // a real provider in end2end; here only what erasure must find matters).
    add_provider(&app, "https://idp.example.com").await;
    sqlx::query(
        "INSERT INTO user_identities (id, user_id, provider_id, subject, email)
         VALUES ($1, $2, 'upstream', 'upstream-subject-7731', $3)",
    )
    .bind(Uuid::new_v4())
    .bind(erin)
    .bind(EMAIL)
    .execute(&app.db)
    .await
    .unwrap();
    let needles = [EMAIL, NAME, PHONE, IP, "upstream-subject-7731"];

    // The export names every table that holds something of hers: her rows in it, or the
    // reason it is left out.
    let res = browser.call("my-data/export/request", &[]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let built = eventually(|| async {
        let res = browser.call("my-data/export", &[]).await;
        res.json::<Value>().await.unwrap()["state"] == "ready"
    })
    .await;
    assert!(built);
    let file: Value = browser
        .get("/profile/data/download?format=json")
        .await
        .json()
        .await
        .unwrap();
    let holding = tables_holding(&app.db, erin, &needles).await;
    for expected in [
        "users",
        "totp_factors",
        "recovery_codes",
        "sessions",
        "consent_ledger",
        "oauth_grants",
        "refresh_tokens",
        "audit_events",
        "mail_outbox",
        "sms_outbox",
        "auth_throttle",
        "user_identities",
    ] {
        assert!(
            holding.contains(&expected.to_owned()),
            "{expected} in {holding:?}"
        );
    }
    for table in &holding {
        let exported = file["tables"][table]["rows"]
            .as_array()
            .is_some_and(|rows| !rows.is_empty());
        let left_out = file["not_exported"][table].as_str().is_some();
        assert!(
            exported || left_out,
            "{table} holds her data and the export neither has it nor says why"
        );
    }
    let (_, outbox) = privacy::tables()
        .find(|(_, t)| t.name == "mail_outbox")
        .unwrap();
    assert!(matches!(outbox.export, Export::Not(_)));

    // An app holds a code issued a moment before she asks.
    let res = browser
        .get(&authorize_url(&client, &[("scope", "openid")]))
        .await;
    let waiting_code = answer(&location(&res))["code"].clone();

    // She asks; the period passes; the worker erases her.
    let res = ask_for_deletion(&browser).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    app.mail.wait_for(EMAIL, "will be deleted").await;
    // The code starts no new grant for the grace period.
    let res = token(&app, &code_form(&client.client_id, &waiting_code), None).await;
    assert_eq!(res.status(), 400);
    // Someone hammers her address until it is throttled: failures that name her by address
    // only, never reaching the account.
    for _ in 0..ThrottlePolicy::ACCOUNT.max_failures {
        throttle::record_failure(
            &app.db,
            &throttle::account_key(EMAIL),
            ThrottlePolicy::ACCOUNT,
        )
        .await
        .unwrap();
    }
    let res = app
        .browser()
        .call("sign-in", &[("email", EMAIL), ("password", "a guess")])
        .await;
    assert_eq!(res.status(), 429, "{}", res.text().await.unwrap());
    let named: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE subject_id IS NULL AND detail->>'email' = $1",
    )
    .bind(EMAIL)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(named >= 1);
    erase_now(&app, EMAIL).await;
    let last = app.mail.wait_for(EMAIL, "was deleted").await;
    assert!(last.body.contains("last message"), "{}", last.body);
    // The last mail leaves no copy once delivered.
    let forgotten = eventually(|| async { hits(&app.db, &[EMAIL]).await.is_empty() }).await;
    assert!(forgotten, "{:?}", hits(&app.db, &[EMAIL]).await);

    // Zero hits, in every text and JSON column of every table.
    assert_eq!(hits(&app.db, &needles).await, Vec::<String>::new());
    // Nothing names her id but the consent ledger's proof and the apps' logout notices.
    for (_, table) in privacy::tables() {
        if table.person.is_none() {
            continue;
        }
        let n = rows_naming(&app.db, table, erin).await;
        let kept = table.name == "consent_ledger";
        assert_eq!(n > 0, kept, "{}: {n} rows still name her", table.name);
    }
    let ledger: i64 = sqlx::query_scalar("SELECT count(*) FROM consent_ledger WHERE user_id = $1")
        .bind(erin)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(
        ledger >= 4,
        "registration, two choices and the app: {ledger}"
    );
    let context: i64 = sqlx::query_scalar("SELECT count(*) FROM consent_ledger_context")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(context, 0);

    // The audit trail keeps its rows under a pseudonym, and its chain still holds.
    let (pseudonym, detail): (Uuid, Value) = sqlx::query_as(
        "SELECT subject_id, detail FROM audit_events WHERE action = 'account.erased'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(detail["rows_deleted"]["users"] == 1, "{detail}");
    let kept: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE subject_id = $1 AND erased_as = $1",
    )
    .bind(pseudonym)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(kept > 10, "{kept}");
    let key = ChainKey::derive(&[7; 32]);
    chain::seal_all(&app.db, &key).await.unwrap();
    let verdict = chain::verify(&app.db, &key).await.unwrap();
    assert_eq!(verdict.broken, None);
    assert_eq!(verdict.unsealed, 0);

    // Her app's tokens are dead, and the app is told by back-channel.
    let (status, body) = refresh(&app, &client, &refresh_token).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(userinfo(&app, &access_token).await.status(), 401);
    let notices: i64 =
        sqlx::query_scalar("SELECT count(*) FROM logout_outbox WHERE client_id = $1")
            .bind(&client.client_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(notices >= 1);
    // Her browsers hold nothing any more.
    assert!(browser.me().await.is_none());
    assert!(phone_browser.me().await.is_none());
    let res = browser
        .call("sign-in", &[("email", EMAIL), ("password", GOOD_PASSWORD)])
        .await;
    assert_eq!(res.status(), 401);
}

#[sqlx::test(migrations = "../migrations")]
async fn asking_needs_a_recent_sign_in_and_a_confirmation_and_ends_every_sign_in(db: PgPool) {
    let app = spawn(db).await;
    let browser = registered(&app).await;
    let other = erins_browser(&app);
    sign_in(&other).await;
    let audit_before = app.audit_actions().await.len();

    // Without the ticked confirmation, or from a stale sign-in: refused, nothing written.
    let res = browser.call("account/deletion/request", &[]).await;
    assert_eq!(res.status(), 422);
    assert_eq!(error_of(res).await["Field"]["field"], "confirm");
    app.age_sign_ins().await;
    let res = ask_for_deletion(&browser).await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        (deletions(&app).await, app.audit_actions().await.len()),
        (0, audit_before)
    );

    // A fresh sign-in, then two tabs at once: one deletion, one audit row, one mail.
    sign_in(&browser).await;
    let (one, two) = tokio::join!(ask_for_deletion(&browser), ask_for_deletion(&browser));
    assert_eq!((one.status().as_u16(), two.status().as_u16()), (200, 200));
    assert_eq!(one.headers()["location"], "/signin?deletion=scheduled");
    assert_eq!(deletions(&app).await, 1);
    let requested: Vec<_> = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|(a, _)| a == "account.deletion_requested")
        .collect();
    assert_eq!(requested.len(), 1);
    // Seven days, unless the business chose otherwise.
    let days: f64 = sqlx::query_scalar(
        "SELECT (extract(epoch FROM due_at - requested_at) / 86400)::float8 FROM account_deletions",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!((days - 7.0).abs() < 0.01, "{days}");
    let mail = app.mail.wait_for(EMAIL, "will be deleted").await;
    assert!(mail
        .body
        .contains("sign in and choose to keep your account"));
    // Every sign-in ended, this browser's and the other's.
    assert!(browser.me().await.is_none());
    assert!(other.me().await.is_none());
    // Nothing is erased before its time.
    assert!(!erasure::run_due(&app.state).await.unwrap());
    assert_eq!(deletions(&app).await, 1);

    // A staff account is not deleted from the portal: the audit trail keeps who did what.
    let admin = app.signed_in_admin("owner@example.com").await;
    let res = ask_for_deletion(&admin).await;
    assert_eq!(res.status(), 400);
    assert!(error_of(res)
        .await
        .to_string()
        .contains("removed by an owner"));
    assert_eq!(deletions(&app).await, 1);
    assert!(admin.me().await.is_some());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_sign_in_in_the_grace_period_offers_to_cancel(db: PgPool) {
    let app = spawn(db).await;
    let browser = registered(&app).await;
    assert_eq!(ask_for_deletion(&browser).await.status(), 200);

    // Her password still proves who she is, but she is not signed in: she is asked first.
    let res = sign_in(&browser).await;
    assert_eq!(res.headers()["location"], "/signin/deletion");
    assert!(browser.me().await.is_none());
    assert_eq!(browser.get("/profile").await.status(), 302);
    let question: Value = browser
        .call("signin/deletion/question", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(question["due"].as_str().unwrap().ends_with(" UTC"));
    let step = question["step"].as_str().unwrap().to_owned();

    // Going on with the deletion: nothing signed in, the deletion stays.
    let res = browser.call("signin/deletion/keep", &[]).await;
    assert_eq!(res.headers()["location"], "/signin?deletion=kept");
    assert!(browser.me().await.is_none());
    assert_eq!(deletions(&app).await, 1);
    // The answer to that sign-in's question is no good for it any more.
    let res = browser
        .call("signin/deletion/cancel", &[("step", &step)])
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(deletions(&app).await, 1);

    // Another sign-in; an answer naming another question is refused.
    sign_in(&browser).await;
    let res = browser
        .call("signin/deletion/cancel", &[("step", &step)])
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(deletions(&app).await, 1);
    let question: Value = browser
        .call("signin/deletion/question", &[])
        .await
        .json()
        .await
        .unwrap();
    let step = question["step"].as_str().unwrap().to_owned();
    let res = browser
        .call("signin/deletion/cancel", &[("step", &step)])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(res.headers()["location"], "/profile?deletion_cancelled=1");
    assert!(browser.me().await.is_some());
    assert_eq!(deletions(&app).await, 0);
    let actions: Vec<String> = app
        .audit_actions()
        .await
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert!(actions.contains(&"account.deletion_cancelled".to_owned()));
    // A replay of the answer finds no sign-in waiting, and changes nothing.
    let res = browser
        .call("signin/deletion/cancel", &[("step", &step)])
        .await;
    assert_eq!(res.status(), 400);
    // The account stays when its date comes.
    assert!(!erasure::run_due(&app.state).await.unwrap());
    assert_eq!(user_id(&app).await, user_id(&app).await);
    // The timeline tells both.
    let timeline = browser.get("/profile/activity").await.text().await.unwrap();
    assert!(timeline.contains("You asked for your account to be deleted"));
    assert!(timeline.contains("You cancelled the deletion of your account"));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_grace_period_is_the_businesss_and_an_erasure_runs_once(db: PgPool) {
    let app = spawn(db).await;
    let out = server_command(
        &app.db,
        &["settings", "limits", "--deletion-grace-days", "0"],
    )
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 to 90 days"));
    let out = server_command(
        &app.db,
        &["settings", "limits", "--deletion-grace-days", "30"],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let changed: Value = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE action = 'settings.changed' AND actor = 'cli'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        changed["changes"]["deletion_grace_days"],
        serde_json::json!({ "from": 7, "to": 30 })
    );

    let browser = registered(&app).await;
    assert_eq!(ask_for_deletion(&browser).await.status(), 200);
    let days: f64 = sqlx::query_scalar(
        "SELECT (extract(epoch FROM due_at - requested_at) / 86400)::float8 FROM account_deletions",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!((days - 30.0).abs() < 0.01, "{days}");

    // Three workers at once: one erasure.
    sqlx::query("UPDATE account_deletions SET due_at = now()")
        .execute(&app.db)
        .await
        .unwrap();
    let (a, b, c) = tokio::join!(
        erasure::run_due(&app.state),
        erasure::run_due(&app.state),
        erasure::run_due(&app.state)
    );
    let done = [a.unwrap(), b.unwrap(), c.unwrap()];
    assert!(done.iter().filter(|d| **d).count() <= 1, "{done:?}");
    let gone = eventually(|| async { deletions(&app).await == 0 }).await;
    assert!(gone);
    let erased: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'account.erased'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(erased, 1);
    app.mail.wait_for(EMAIL, "was deleted").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(app.mail.count(EMAIL, "was deleted").await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_answer_that_comes_after_the_erasure_signs_nobody_in(db: PgPool) {
    let app = spawn(db).await;
    let browser = registered(&app).await;
    let erin = user_id(&app).await;
    assert_eq!(ask_for_deletion(&browser).await.status(), 200);
    sign_in(&browser).await;
    let question: Value = browser
        .call("signin/deletion/question", &[])
        .await
        .json()
        .await
        .unwrap();
    let step = question["step"].as_str().unwrap().to_owned();

    // The worker gets there while she reads the question.
    erase_now(&app, EMAIL).await;
    let res = browser
        .call("signin/deletion/cancel", &[("step", &step)])
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert!(browser.me().await.is_none());
    // Nothing names her again: no sign-in audited under her id, no session, no deletion.
    let naming: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE actor_id = $1 OR subject_id = $1",
    )
    .bind(erin)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(naming, 0);
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id = $1")
        .bind(erin)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!((sessions, deletions(&app).await), (0, 0));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_former_staff_member_is_not_erased_from_the_portal(db: PgPool) {
    let app = spawn(db).await;
    let owner = app.signed_in_admin("owner@example.com").await;
    drop(owner);
    let browser = registered(&app).await;
    let erin = user_id(&app).await;
    let client = app::domain::client::ClientInfo::default();
    let reason = app::domain::customers::Reason::parse("seasonal help ended").unwrap();
    let mut tx = app.db.begin().await.unwrap();
    members::grant(&mut tx, erin, StaffRole::Support)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    members::remove(&app.db, &client, Actor::Cli, erin, &reason)
        .await
        .unwrap();
    // A customer again, but what she did in the console stays hers in the audit trail.
    sign_in(&browser).await;
    let res = ask_for_deletion(&browser).await;
    assert_eq!(res.status(), 400);
    assert!(error_of(res)
        .await
        .to_string()
        .contains("removed by an owner"));
    assert_eq!(deletions(&app).await, 0);
}
