//! The tamper-evident audit trail: the table refuses UPDATE, DELETE and TRUNCATE; the running
//! server seals what is written into a keyed hash chain; a row changed or removed by hand (with
//! the triggers switched off, as only a database superuser can) is found by `server audit
//! verify`, which names the first broken link. A person's erasure keeps their rows under a
//! pseudonym, and the chain still holds.

use crate::support::{cli::server_command, TestApp};
use app::domain::{
    audit::{
        self,
        chain::{self, ChainKey},
        erasure, AuditEvent, Outcome,
    },
    client::ClientInfo,
};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

fn key() -> ChainKey {
    ChainKey::derive(&[7; 32])
}

async fn rows(app: &TestApp) -> Vec<i64> {
    sqlx::query_scalar("SELECT id FROM audit_events ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

/// Some audited events: a registration, a verification, sign-ins and a sign-out.
async fn some_history(app: &TestApp) {
    let browser = app.signed_in_customer("ada@example.com").await;
    browser.call("sign-out", &[]).await;
    app.signed_in_customer("grace@example.com").await;
}

/// The first broken link, which the test expects there to be.
async fn first_break(app: &TestApp) -> chain::Broken {
    chain::verify(&app.db, &key())
        .await
        .unwrap()
        .broken
        .expect("a broken link")
}

/// As the owner of the database, past the triggers: what only a superuser can do.
async fn by_hand(app: &TestApp, statement: &str) {
    let mut tx = app.db.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(statement).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn the_server_seals_what_it_audits_and_the_chain_holds(db: PgPool) {
    let app = TestApp::spawn(db).await;
    some_history(&app).await;
    let written = rows(&app).await.len() as i64;
    assert!(written >= 5, "{written}");
    // The server's sealer gets to them within seconds (it runs every five). A verdict counts
    // the rows waiting before it walks the chain, so the sealer may seal some of them during
    // the walk: wait for a verdict that saw them all sealed.
    let mut verdict = chain::verify(&app.db, &key()).await.unwrap();
    for _ in 0..100 {
        if verdict.checked == written && verdict.unsealed == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        verdict = chain::verify(&app.db, &key()).await.unwrap();
    }
    assert_eq!((verdict.checked, verdict.unsealed), (written, 0));
    assert_eq!(verdict.broken, None);

    let out = server_command(&app.db, &["audit", "verify"]).await;
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("The audit chain holds"));
    // Another key cannot check it: a chain sealed again by someone without the key fails too.
    let verdict = chain::verify(&app.db, &ChainKey::derive(&[8; 32]))
        .await
        .unwrap();
    assert_eq!(verdict.broken.map(|b| b.seq), Some(1));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_audit_trail_cannot_be_changed_or_emptied(db: PgPool) {
    let app = TestApp::spawn(db).await;
    some_history(&app).await;
    chain::seal_all(&app.db, &key()).await.unwrap();
    for statement in [
        "UPDATE audit_events SET detail = '{}'",
        "UPDATE audit_events SET chain_hash = NULL, chain_seq = NULL",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ] {
        let error = sqlx::query(statement).execute(&app.db).await.unwrap_err();
        assert!(
            error.to_string().contains("append-only"),
            "{statement}: {error}"
        );
    }
    // Sealing an unsealed row is the one change it takes, and only once.
    sqlx::query("INSERT INTO audit_events (action, outcome) VALUES ('test.written', 'success')")
        .execute(&app.db)
        .await
        .unwrap();
    chain::seal_all(&app.db, &key()).await.unwrap();
    let sealed: bool = sqlx::query_scalar(
        "SELECT chain_seq IS NOT NULL FROM audit_events WHERE action = 'test.written'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(sealed);
    let error = sqlx::query(
        "UPDATE audit_events SET chain_seq = chain_seq + 1000
         WHERE action = 'test.written'",
    )
    .execute(&app.db)
    .await
    .unwrap_err();
    assert!(error.to_string().contains("append-only"), "{error}");
    assert_eq!(chain::verify(&app.db, &key()).await.unwrap().broken, None);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_row_changed_by_hand_is_found(db: PgPool) {
    let app = TestApp::spawn(db).await;
    some_history(&app).await;
    chain::seal_all(&app.db, &key()).await.unwrap();
    let ids = rows(&app).await;
    let victim = ids[ids.len() / 2];
    by_hand(
        &app,
        &format!(
            "UPDATE audit_events SET detail = detail || '{{\"method\": \"passkey\"}}'
             WHERE id = {victim}"
        ),
    )
    .await;
    let broken = first_break(&app).await;
    assert_eq!(broken.id, victim);
    let out = server_command(&app.db, &["audit", "verify"]).await;
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains(&format!("broken at row {victim}")), "{said}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_row_removed_by_hand_is_found_at_the_next(db: PgPool) {
    let app = TestApp::spawn(db).await;
    some_history(&app).await;
    chain::seal_all(&app.db, &key()).await.unwrap();
    let in_chain: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM audit_events ORDER BY chain_seq LIMIT 3")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let (victim, next) = (in_chain[1], in_chain[2]);
    by_hand(
        &app,
        &format!("DELETE FROM audit_events WHERE id = {victim}"),
    )
    .await;
    let verdict = chain::verify(&app.db, &key()).await.unwrap();
    assert_eq!(verdict.checked, 1);
    let broken = verdict.broken.unwrap();
    assert_eq!(
        (broken.id, broken.why),
        (next, "a row before it is missing")
    );
    // Renumbering the chain to hide the gap breaks the seal instead.
    by_hand(
        &app,
        "UPDATE audit_events SET chain_seq = -chain_seq WHERE chain_seq > 1",
    )
    .await;
    by_hand(
        &app,
        "UPDATE audit_events SET chain_seq = -chain_seq - 1 WHERE chain_seq < 0",
    )
    .await;
    let broken = first_break(&app).await;
    assert_eq!(broken.id, next);
    assert!(broken.why.contains("changed"), "{}", broken.why);
}

/// A browser that names itself, so its rows carry a user agent.
const ADA_BROWSER: &str = "AuditErasureTest/1.0 (Ada's laptop)";

/// The id of the account at `email`.
async fn user_id(app: &TestApp, email: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// Ada's history (from a browser that names itself) and Grace's; Ada's id.
async fn two_people(app: &TestApp) -> Uuid {
    let ada = app
        .signed_in_customer_on(app.browser_as(ADA_BROWSER), "ada@example.com")
        .await;
    ada.call("sign-out", &[]).await;
    app.signed_in_customer("grace@example.com").await;
    user_id(app, "ada@example.com").await
}

/// The ids of every row but `person`'s.
async fn others_ids(app: &TestApp, person: Uuid) -> Vec<i64> {
    sqlx::query_scalar(
        "SELECT id FROM audit_events
         WHERE subject_id IS DISTINCT FROM $1 AND actor_id IS DISTINCT FROM $1 ORDER BY id",
    )
    .bind(person)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

/// Rows `ids`, whole.
async fn whole_rows(app: &TestApp, ids: &[i64]) -> Vec<Value> {
    sqlx::query_scalar("SELECT to_jsonb(e) FROM audit_events e WHERE id = ANY($1) ORDER BY id")
        .bind(ids)
        .fetch_all(&app.db)
        .await
        .unwrap()
}

/// Rows where `needle` appears in any column (the whole row as JSON), among `pseudonym`'s
/// erased rows, or among all rows when `pseudonym` is `None`.
async fn rows_naming(app: &TestApp, needle: &str, pseudonym: Option<Uuid>) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM audit_events e
         WHERE ($2::uuid IS NULL OR erased_as = $2) AND strpos(to_jsonb(e)::text, $1) > 0",
    )
    .bind(needle)
    .bind(pseudonym)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// An erased row: action, subject_id, ip, user_agent, detail.
type ErasedRow = (String, Option<Uuid>, Option<String>, Option<String>, Value);

/// Erases `person` from the audit trail in a transaction of its own, as the erasure does.
async fn erase(app: &TestApp, person: Uuid) -> (Uuid, u64) {
    let pseudonym = Uuid::new_v4();
    let mut tx = app.db.begin().await.unwrap();
    let changed = erasure::pseudonymise(&mut tx, person, &[], pseudonym)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (pseudonym, changed)
}

#[sqlx::test(migrations = "../migrations")]
async fn an_erased_persons_rows_stay_under_a_pseudonym_and_the_chain_holds(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ada = two_people(&app).await;
    chain::seal_all(&app.db, &key()).await.unwrap();
    let ip: String = sqlx::query_scalar(
        "SELECT ip FROM audit_events WHERE subject_id = $1 AND ip IS NOT NULL LIMIT 1",
    )
    .bind(ada)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(rows_naming(&app, ADA_BROWSER, None).await > 0);
    let others = others_ids(&app, ada).await;
    assert!(others.len() >= 3, "{others:?}");
    let before = whole_rows(&app, &others).await;

    // Her sealed rows and one not sealed yet (written in the same transaction, so the
    // server's sealer cannot get to it first) are erased together.
    let pseudonym = Uuid::new_v4();
    let mut tx = app.db.begin().await.unwrap();
    let client = ClientInfo {
        ip: Some(ip.clone()),
        user_agent: Some(ADA_BROWSER.into()),
        ..Default::default()
    };
    let event = AuditEvent::new("profile.updated", Outcome::Success)
        .by(ada)
        .detail(json!({ "fields": ["display_name"], "email": "ada@example.com" }));
    audit::record(&mut *tx, &client, event).await.unwrap();
    let (sealed, unsealed): (i64, i64) = sqlx::query_as(
        "SELECT count(chain_seq), count(*) - count(chain_seq) FROM audit_events
         WHERE subject_id = $1 OR actor_id = $1",
    )
    .bind(ada)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert!(
        sealed >= 3 && unsealed >= 1,
        "{sealed} sealed, {unsealed} not"
    );
    let changed = erasure::pseudonymise(&mut tx, ada, &[], pseudonym)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(changed as i64, sealed + unsealed);

    chain::seal_all(&app.db, &key()).await.unwrap();
    let total = rows(&app).await.len() as i64;
    let verdict = chain::verify(&app.db, &key()).await.unwrap();
    assert_eq!(verdict.broken, None);
    assert_eq!((verdict.checked, verdict.unsealed), (total, 0));
    let out = server_command(&app.db, &["audit", "verify"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Nothing in the trail names her any more; her rows keep what happened, under the
    // pseudonym, without her network or browser.
    for needle in [
        ada.to_string(),
        "ada@example.com".into(),
        ADA_BROWSER.into(),
    ] {
        assert_eq!(rows_naming(&app, &needle, None).await, 0, "{needle}");
    }
    assert_eq!(rows_naming(&app, &ip, Some(pseudonym)).await, 0);
    let hers: Vec<ErasedRow> = sqlx::query_as(
        "SELECT action, subject_id, ip, user_agent, detail FROM audit_events
         WHERE erased_as = $1 ORDER BY id",
    )
    .bind(pseudonym)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(hers.len() as u64, changed);
    assert!(hers.iter().any(|(action, ..)| action == "signin.succeeded"));
    for (action, subject, ip, user_agent, _) in &hers {
        assert_eq!(
            (*subject, ip, user_agent),
            (Some(pseudonym), &None, &None),
            "{action}"
        );
    }
    let (_, _, _, _, detail) = hers.last().unwrap();
    assert_eq!(detail, &json!({ "fields": ["display_name"] }));

    // Other people's rows are as they were; erasing her again changes nothing.
    assert_eq!(whole_rows(&app, &others).await, before);
    assert_eq!(erase(&app, ada).await.1, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_trigger_lets_a_row_be_erased_once_and_in_no_other_way(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ada = two_people(&app).await;
    chain::seal_all(&app.db, &key()).await.unwrap();
    let row: i64 = sqlx::query_scalar(
        "SELECT id FROM audit_events
         WHERE subject_id = $1 AND ip IS NOT NULL AND detail <> '{}' ORDER BY id LIMIT 1",
    )
    .bind(ada)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let pseudonym = Uuid::new_v4();
    let erasing = "erased_as = $1, subject_id = $1, actor_id = CASE WHEN actor_id IS NULL \
                   THEN NULL ELSE $1 END, ip = NULL, user_agent = NULL, detail = '{}'";
    let refused = [
        // Not an erasure: a plain change of a row that is not erased.
        "detail = '{}'".to_owned(),
        "ip = NULL, user_agent = NULL".to_owned(),
        // Erasures that change more than an erasure may.
        format!("{erasing}, action = 'signin.failed'"),
        format!("{erasing}, at = at - interval '1 day'"),
        format!("{erasing}, outcome = 'failure'"),
        format!("{erasing}, chain_hash = NULL, chain_seq = NULL, personal_digest = NULL"),
        format!("{erasing}, personal_digest = '\\x00'"),
        erasing.replace("ip = NULL", "ip = '192.0.2.1'"),
        erasing.replace("user_agent = NULL", "user_agent = 'x'"),
        erasing.replace("detail = '{}'", "detail = '{\"method\": \"passkey\"}'"),
        // The pseudonym must take the person's place.
        "erased_as = $1, ip = NULL, user_agent = NULL".to_owned(),
    ];
    for set in &refused {
        let statement = format!("UPDATE audit_events SET {set} WHERE id = $2");
        let error = sqlx::query(&statement)
            .bind(pseudonym)
            .bind(row)
            .execute(&app.db)
            .await
            .unwrap_err();
        assert!(error.to_string().contains("append-only"), "{set}: {error}");
    }
    // An erasure as the trigger allows it goes through, once.
    let statement = format!("UPDATE audit_events SET {erasing} WHERE id = $2");
    let done = sqlx::query(&statement)
        .bind(pseudonym)
        .bind(row)
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
    for set in [
        "erased_as = $1",
        "erased_as = $1, subject_id = $1",
        "detail = '{}'",
        "erased_as = NULL",
    ] {
        let statement = format!("UPDATE audit_events SET {set} WHERE id = $2");
        let error = sqlx::query(&statement)
            .bind(Uuid::new_v4())
            .bind(row)
            .execute(&app.db)
            .await
            .unwrap_err();
        assert!(error.to_string().contains("append-only"), "{set}: {error}");
    }
    // Erasing her through `pseudonymise` leaves that row as it is and the chain whole.
    let (_, changed) = erase(&app, ada).await;
    assert!(changed >= 2, "{changed}");
    let erased_as: Uuid = sqlx::query_scalar("SELECT erased_as FROM audit_events WHERE id = $1")
        .bind(row)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(erased_as, pseudonym);
    chain::seal_all(&app.db, &key()).await.unwrap();
    assert_eq!(chain::verify(&app.db, &key()).await.unwrap().broken, None);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_network_changed_by_hand_is_found_in_a_row_erased_or_not(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ada = two_people(&app).await;
    let grace = user_id(&app, "grace@example.com").await;
    chain::seal_all(&app.db, &key()).await.unwrap();

    // A row that is not erased: its personal columns must give the digest it was sealed with.
    let (row, ip): (i64, String) = sqlx::query_as(
        "SELECT id, ip FROM audit_events WHERE subject_id = $1 AND ip IS NOT NULL
         ORDER BY id LIMIT 1",
    )
    .bind(grace)
    .fetch_one(&app.db)
    .await
    .unwrap();
    by_hand(
        &app,
        &format!("UPDATE audit_events SET ip = '203.0.113.9' WHERE id = {row}"),
    )
    .await;
    let broken = first_break(&app).await;
    assert_eq!((broken.id, broken.why), (row, "its content was changed"));
    by_hand(
        &app,
        &format!("UPDATE audit_events SET ip = '{ip}' WHERE id = {row}"),
    )
    .await;
    assert_eq!(chain::verify(&app.db, &key()).await.unwrap().broken, None);

    // An erased row: it may not name a network again.
    let (pseudonym, _) = erase(&app, ada).await;
    chain::seal_all(&app.db, &key()).await.unwrap();
    assert_eq!(chain::verify(&app.db, &key()).await.unwrap().broken, None);
    let erased: i64 = sqlx::query_scalar(
        "SELECT id FROM audit_events WHERE erased_as = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(pseudonym)
    .fetch_one(&app.db)
    .await
    .unwrap();
    by_hand(
        &app,
        &format!("UPDATE audit_events SET ip = '{ip}' WHERE id = {erased}"),
    )
    .await;
    let broken = first_break(&app).await;
    assert_eq!(broken.id, erased);
    assert!(broken.why.contains("erased"), "{}", broken.why);
}
