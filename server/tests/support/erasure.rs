//! Carrying out a person's own "Delete my account" at once in tests: the grace period cut
//! short, the erasure run, and its end awaited.

use app::domain::privacy::erasure;

use super::{eventually, TestApp};

/// Makes the pending deletion of `email`'s account due and carries it out (the test's own
/// call, or the server's worker if it got there first); fails unless the account is gone.
pub async fn erase_now(app: &TestApp, email: &str) {
    sqlx::query("UPDATE account_deletions SET due_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    erasure::run_due(&app.state).await.unwrap();
    let gone = eventually(|| async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(&app.db)
            .await
            .unwrap()
            == 0
    })
    .await;
    assert!(gone, "the account was not erased");
}
