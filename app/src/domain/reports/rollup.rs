//! The rollup behind the dashboard. Sealed audit rows are counted once each, in the order of
//! their seal (`chain_seq` has no gaps and only grows, so a watermark on it is exact): sign-ups
//! and sign-ins by method, failures, blocks, second factors set up. Risk decisions are counted
//! by id once they are a minute old (an attempt's row is written in one short transaction).
//! Gauges (customers, with a second factor, live sessions) are measured every ten minutes.
//! Every node may run it: the watermark rows are locked while a batch is counted.

use sqlx::PgPool;

/// Rows counted per batch.
const BATCH: i64 = 50_000;

/// Counts what the trail and the risk decisions gained since the last run; returns how many
/// rows it counted.
pub async fn run(db: &PgPool) -> sqlx::Result<u64> {
    let mut counted = 0;
    loop {
        let audit = audit_batch(db).await?;
        let risk = risk_batch(db).await?;
        counted += audit + risk;
        if audit < BATCH as u64 && risk < BATCH as u64 {
            break;
        }
    }
    measure_gauges(db).await?;
    Ok(counted)
}

async fn audit_batch(db: &PgPool) -> sqlx::Result<u64> {
    let mut tx = db.begin().await?;
    let after: i64 = sqlx::query_scalar(
        "SELECT position FROM report_watermarks WHERE name = 'audit' FOR UPDATE",
    )
    .fetch_one(&mut *tx)
    .await?;
    let (rows, last): (i64, Option<i64>) = sqlx::query_as(
        "WITH batch AS (
             SELECT chain_seq, at, action, outcome, detail FROM audit_events
             WHERE chain_seq > $1 ORDER BY chain_seq LIMIT $2
         ), counted AS (
             SELECT (at AT TIME ZONE 'UTC')::date AS day,
                    CASE
                      WHEN action = 'account.registered' AND outcome = 'success' THEN 'signups'
                      WHEN action = 'signin.succeeded' THEN 'signins'
                      WHEN action = 'signin.failed'
                           AND detail->>'reason' IN ('risk_blocked', 'proof_of_work',
                                                     'account_locked') THEN 'blocks'
                      WHEN action = 'signin.failed' THEN 'failures'
                      WHEN action IN ('mfa.totp_enrolled', 'passkey.added') THEN 'mfa_set_up'
                    END AS metric,
                    COALESCE(detail->>'method', '') AS dimension
             FROM batch
         ), stored AS (
             INSERT INTO daily_counts (day, metric, dimension, count)
             SELECT day, metric, dimension, count(*) FROM counted
             WHERE metric IS NOT NULL GROUP BY 1, 2, 3
             ON CONFLICT (day, metric, dimension)
               DO UPDATE SET count = daily_counts.count + EXCLUDED.count
         )
         SELECT count(*), max(chain_seq) FROM batch",
    )
    .bind(after)
    .bind(BATCH)
    .fetch_one(&mut *tx)
    .await?;
    if let Some(last) = last {
        sqlx::query("UPDATE report_watermarks SET position = $1 WHERE name = 'audit'")
            .bind(last)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(rows as u64)
}

async fn risk_batch(db: &PgPool) -> sqlx::Result<u64> {
    let mut tx = db.begin().await?;
    let after: i64 =
        sqlx::query_scalar("SELECT position FROM report_watermarks WHERE name = 'risk' FOR UPDATE")
            .fetch_one(&mut *tx)
            .await?;
    let (rows, last): (i64, Option<i64>) = sqlx::query_as(
        "WITH batch AS (
             SELECT id, created_at, decision FROM risk_assessments
             WHERE id > $1 AND created_at < now() - interval '1 minute'
             ORDER BY id LIMIT $2
         ), stored AS (
             INSERT INTO daily_counts (day, metric, dimension, count)
             SELECT (created_at AT TIME ZONE 'UTC')::date, 'risk', decision, count(*)
             FROM batch GROUP BY 1, 3
             ON CONFLICT (day, metric, dimension)
               DO UPDATE SET count = daily_counts.count + EXCLUDED.count
         )
         SELECT count(*), max(id) FROM batch",
    )
    .bind(after)
    .bind(BATCH)
    .fetch_one(&mut *tx)
    .await?;
    if let Some(last) = last {
        sqlx::query("UPDATE report_watermarks SET position = $1 WHERE name = 'risk'")
            .bind(last)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(rows as u64)
}

/// Measures the gauges when the last measure is ten minutes old (or was never taken).
async fn measure_gauges(db: &PgPool) -> sqlx::Result<()> {
    let fresh: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM report_gauges
                        WHERE measured_at > now() - interval '10 minutes')",
    )
    .fetch_one(db)
    .await?;
    if fresh {
        return Ok(());
    }
    measure_now(db).await
}

/// Measures the gauges now.
pub async fn measure_now(db: &PgPool) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO report_gauges (name, value, measured_at)
         SELECT name, value, now() FROM (VALUES
           ('customers', (SELECT count(*) FROM users WHERE role = 'customer')),
           ('customers_with_second_factor',
              (SELECT count(*) FROM (SELECT user_id FROM totp_factors
                                     UNION SELECT user_id FROM passkeys) f
               JOIN users u ON u.id = f.user_id AND u.role = 'customer')),
           ('live_sessions',
              (SELECT count(*) FROM sessions WHERE user_id IS NOT NULL AND expires_at > now()))
         ) AS g (name, value)
         ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, measured_at = now()",
    )
    .execute(db)
    .await?;
    Ok(())
}
