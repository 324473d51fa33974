//! Account pre-hijacking: whatever an attacker attaches to an address they never proved (a
//! password, a passkey, an authenticator app, a session) does not survive the address's owner proving it from
//! another browser, whichever way they prove it: the verification link, an email sign-in link
//! or code, or a password reset.

use crate::support::{mfa, Browser, TestApp, GOOD_PASSWORD};
use app::domain::tokens::{self, TokenPurpose};
use sqlx::PgPool;
use uuid::Uuid;

const VICTIM: &str = "victim@example.com";
const ATTACKER_PASSWORD: &str = "crimson lantern drifts at midnight";

/// The attacker registers the victim's address with their own password, in their own browser,
/// and never opens the verification mail.
async fn attacker_registers_with_a_password(app: &TestApp) -> Browser {
    let attacker = app.browser();
    let res = attacker
        .call(
            "register",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", VICTIM),
                ("display_name", "Mallory"),
                ("password", ATTACKER_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    app.mail.wait_for(VICTIM, "Confirm your email").await;
    attacker
}

/// What a finished passkey sign-up by the attacker leaves behind: an unverified account with
/// the attacker's passkey (the ceremony itself needs an authenticator and runs in the browser
/// suite). Returns the account.
async fn attacker_registers_with_a_passkey(app: &TestApp) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO users (id, email, display_name) VALUES ($1, $2, 'Mallory')")
        .bind(id)
        .bind(VICTIM)
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO passkeys (credential_id, user_id, name, passkey)
         VALUES ('\\x0102030405'::bytea, $1, 'Passkey', '{}'::jsonb)",
    )
    .bind(id)
    .execute(&app.db)
    .await
    .unwrap();
    id
}

async fn passkeys_of(app: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM passkeys p JOIN users u ON u.id = p.user_id
         WHERE lower(u.email) = lower($1)",
    )
    .bind(email)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// Whether the attacker's password opens the account.
async fn attacker_password_works(app: &TestApp) -> bool {
    let res = app
        .browser()
        .call(
            "sign-in",
            &[("email", VICTIM), ("password", ATTACKER_PASSWORD)],
        )
        .await;
    res.status() == 200
}

/// The token in the mailed link starting with `path?token=`.
async fn mailed_token(app: &TestApp, subject: &str, path: &str) -> String {
    let mail = app.mail.wait_for(VICTIM, subject).await;
    TestApp::token_in(&mail.body, path)
}

/// The owner proves the address by opening the verification link in their own browser.
async fn owner_opens_the_verification_link(app: &TestApp, token: &str) {
    let owner = app.browser();
    let res = owner.call("verify-email", &[("token", token)]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

/// The owner signs in with an email sign-in link; returns their browser.
async fn owner_signs_in_by_email_link(app: &TestApp) -> Browser {
    let owner = app.browser();
    let res = owner.call("email-sign-in", &[("email", VICTIM)]).await;
    assert_eq!(res.status(), 200);
    let token = mailed_token(app, "sign-in code", "/signin/email").await;
    let res = owner
        .call("email-sign-in/link", &[("token", token.as_str())])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    // Whatever the registrant accepted does not bind the owner: they are asked.
    assert_eq!(res.headers()["location"], "/signin/consent");
    owner.accept_terms().await;
    assert!(owner.me().await.is_some());
    owner
}

/// The owner signs in with the mailed code; returns their browser.
async fn owner_signs_in_by_email_code(app: &TestApp) -> Browser {
    let owner = app.browser();
    let res = owner.call("email-sign-in", &[("email", VICTIM)]).await;
    assert_eq!(res.status(), 200);
    let mail = app.mail.wait_for(VICTIM, "sign-in code").await;
    let code = mail
        .body
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.chars().all(|c| c.is_ascii_digit()))
        .expect("a code in the mail")
        .to_owned();
    let res = owner
        .call("email-sign-in/code", &[("code", code.as_str())])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    // Whatever the registrant accepted does not bind the owner: they are asked.
    assert_eq!(res.headers()["location"], "/signin/consent");
    owner.accept_terms().await;
    assert!(owner.me().await.is_some());
    owner
}

#[sqlx::test(migrations = "../migrations")]
async fn an_authenticator_app_the_attacker_set_up_is_dropped_too(db: PgPool) {
    let app = TestApp::spawn(db).await;
    // A business that lets people sign in before they confirm their address.
    app.set_policy("require_verified_email = false").await;
    let attacker = attacker_registers_with_a_password(&app).await;
    let res = attacker
        .call(
            "sign-in",
            &[("email", VICTIM), ("password", ATTACKER_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200);
    // Set up, the app would lock the owner out behind the attacker's second factor.
    mfa::enrol_from_profile(&attacker).await;

    let token = mailed_token(&app, "Confirm your email", "/verify-email").await;
    owner_opens_the_verification_link(&app, &token).await;
    let left: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM totp_factors), (SELECT count(*) FROM recovery_codes)",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(left, (0, 0));
    // The owner signs in by mailed code, asked for no factor of the attacker's.
    owner_signs_in_by_email_code(&app).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_verification_link_from_another_browser_drops_the_attackers_password(db: PgPool) {
    let app = TestApp::spawn(db).await;
    attacker_registers_with_a_password(&app).await;
    let token = mailed_token(&app, "Confirm your email", "/verify-email").await;
    owner_opens_the_verification_link(&app, &token).await;
    assert!(!attacker_password_works(&app).await);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_email_sign_in_link_drops_the_attackers_password(db: PgPool) {
    let app = TestApp::spawn(db).await;
    attacker_registers_with_a_password(&app).await;
    owner_signs_in_by_email_link(&app).await;
    assert!(!attacker_password_works(&app).await);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_email_sign_in_code_drops_the_attackers_password(db: PgPool) {
    let app = TestApp::spawn(db).await;
    attacker_registers_with_a_password(&app).await;
    owner_signs_in_by_email_code(&app).await;
    assert!(!attacker_password_works(&app).await);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_password_reset_replaces_the_attackers_password(db: PgPool) {
    let app = TestApp::spawn(db).await;
    attacker_registers_with_a_password(&app).await;
    app.reset_password(VICTIM, GOOD_PASSWORD).await;
    assert!(!attacker_password_works(&app).await);
    let res = app
        .browser()
        .call("sign-in", &[("email", VICTIM), ("password", GOOD_PASSWORD)])
        .await;
    assert_eq!(res.status(), 200, "the owner's own password works");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_verification_link_from_another_browser_drops_the_attackers_passkey(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let account = attacker_registers_with_a_passkey(&app).await;
    let mut conn = app.db.acquire().await.unwrap();
    let token = tokens::issue(&mut conn, account, TokenPurpose::VerifyEmail)
        .await
        .unwrap();
    drop(conn);
    owner_opens_the_verification_link(&app, token.expose()).await;
    assert_eq!(passkeys_of(&app, VICTIM).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_email_sign_in_link_drops_the_attackers_passkey(db: PgPool) {
    let app = TestApp::spawn(db).await;
    attacker_registers_with_a_passkey(&app).await;
    owner_signs_in_by_email_link(&app).await;
    assert_eq!(passkeys_of(&app, VICTIM).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_email_sign_in_code_drops_the_attackers_passkey(db: PgPool) {
    let app = TestApp::spawn(db).await;
    attacker_registers_with_a_passkey(&app).await;
    owner_signs_in_by_email_code(&app).await;
    assert_eq!(passkeys_of(&app, VICTIM).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_password_reset_drops_the_attackers_passkey(db: PgPool) {
    let app = TestApp::spawn(db).await;
    attacker_registers_with_a_passkey(&app).await;
    app.reset_password(VICTIM, GOOD_PASSWORD).await;
    assert_eq!(passkeys_of(&app, VICTIM).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_attackers_session_ends_when_the_owner_proves_the_address(db: PgPool) {
    let app = TestApp::spawn(db).await;
    // A business that lets unverified accounts sign in: the attacker stays signed in, waiting.
    app.set_policy("require_verified_email = false").await;
    let attacker = attacker_registers_with_a_password(&app).await;
    let res = attacker
        .call(
            "sign-in",
            &[("email", VICTIM), ("password", ATTACKER_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(attacker.me().await.is_some());

    owner_signs_in_by_email_link(&app).await;
    assert!(attacker.me().await.is_none(), "the attacker is signed out");
    assert!(!attacker_password_works(&app).await);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_browser_that_registered_keeps_its_password_when_it_proves_the_address(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let owner = app.browser();
    let res = owner
        .call(
            "register",
            &[
                ("consent[terms]", "1"),
                ("consent[privacy]", "1"),
                ("email", VICTIM),
                ("display_name", "Ada"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let token = mailed_token(&app, "Confirm your email", "/verify-email").await;
    let res = owner
        .call("verify-email", &[("token", token.as_str())])
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .browser()
        .call("sign-in", &[("email", VICTIM), ("password", GOOD_PASSWORD)])
        .await;
    assert_eq!(res.status(), 200);
}

/// What the attacker agreed to in the victim's name (a partner app, a purpose) is withdrawn in
/// the consent ledger when the owner proves the address; the rows that said so stay.
#[sqlx::test(migrations = "../migrations")]
async fn the_attackers_consents_and_app_approvals_are_withdrawn(db: PgPool) {
    use app::domain::{
        client::ClientInfo,
        consents::{ledger, purposes, Collection},
    };

    let app = TestApp::spawn(db).await;
    attacker_registers_with_a_password(&app).await;
    let victim: Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(VICTIM)
        .fetch_one(&app.db)
        .await
        .unwrap();
    let client =
        crate::support::oidc::register(&app, app::domain::oidc::clients::ClientType::Public, false)
            .await;
    let scopes = vec!["openid".to_owned(), "email".to_owned()];
    sqlx::query("INSERT INTO oauth_grants (user_id, client_id, scopes) VALUES ($1, $2, $3)")
        .bind(victim)
        .bind(&client.client_id)
        .bind(&scopes)
        .execute(&app.db)
        .await
        .unwrap();
    let partners = purposes::get(&app.db, "partner_sharing")
        .await
        .unwrap()
        .unwrap();
    let mut conn = app.db.acquire().await.unwrap();
    let attacker = ClientInfo::default();
    ledger::record(
        &mut conn,
        &attacker,
        victim,
        &partners,
        true,
        Collection::Registration,
    )
    .await
    .unwrap();
    drop(conn);

    let token = mailed_token(&app, "Confirm your email", "/verify-email").await;
    owner_opens_the_verification_link(&app, &token).await;

    let rows: Vec<(bool, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT granted, collected_via, purpose, client_id FROM consent_ledger ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let purpose =
        |granted: bool, via: &str, key: &str| (granted, via.to_owned(), Some(key.to_owned()), None);
    // The registrant's acceptance of the terms at registration is withdrawn too: the owner is
    // asked for their own at their first sign-in.
    assert_eq!(
        rows,
        [
            purpose(true, "registration", "terms"),
            purpose(true, "registration", "privacy"),
            purpose(true, "registration", "partner_sharing"),
            (
                false,
                "service".into(),
                None,
                Some(client.client_id.clone())
            ),
            purpose(false, "service", "partner_sharing"),
            purpose(false, "service", "privacy"),
            purpose(false, "service", "terms"),
        ]
    );
    let grants: i64 = sqlx::query_scalar("SELECT count(*) FROM oauth_grants")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(grants, 0);
    let current = ledger::current(&app.db, victim).await.unwrap();
    assert!(current.iter().all(|c| !c.granted), "{current:?}");
}
