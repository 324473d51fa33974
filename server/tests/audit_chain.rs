//! The tamper-evident audit trail: the table refuses UPDATE, DELETE and TRUNCATE; the running
//! server seals what is written into a keyed hash chain; a row changed or removed by hand (with
//! the triggers switched off, as only a database superuser can) is found by `server audit
//! verify`, which names the first broken link.

mod support;

use app::domain::audit::chain::{self, ChainKey};
use sqlx::PgPool;
use support::{cli::server_command, TestApp};

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
    // The server's sealer gets to them within seconds (it runs every five).
    let mut verdict = chain::verify(&app.db, &key()).await.unwrap();
    for _ in 0..100 {
        if verdict.checked == written {
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
