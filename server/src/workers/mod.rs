//! Background work every node runs: mail, SMS, back-channel logout and webhook delivery from
//! their outboxes, sealing the audit trail's hash chain, breach responses, customer imports
//! queued by the console, people's data exports, account erasures come due, the dashboard's rollup,
//! signing key rotation and reloading, the change notices that keep the in-memory clients,
//! people and revocations true, the streaming replica's lag, and cleanup of expired rows.

pub mod audit_seal;
pub mod breach;
pub mod cleanup;
pub mod erasure;
pub mod exports;
pub mod imports;
pub mod keys;
pub mod logout;
pub mod mail;
pub mod notices;
pub mod outbox;
pub mod replica_lag;
pub mod reports;
pub mod sms;
pub mod webhooks;

/// Works a queue: `step` does one piece of work and says whether it found any; it runs until
/// the queue is empty (or a step fails, logged as `what`), then waits for `wake`, for ten
/// seconds (work another node queued) or for `shutdown`.
async fn drain_queue<F, Fut, E>(
    what: &str,
    wake: std::sync::Arc<tokio::sync::Notify>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    mut step: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, E>>,
    E: std::fmt::Debug,
{
    loop {
        loop {
            match step().await {
                Ok(false) => break,
                Ok(true) => {
                    if *shutdown.borrow() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::error!(error = ?e, "{what} failed");
                    break;
                }
            }
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(std::time::Duration::from_secs(10)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Everything logged, at every level, while `work` runs to completion.
#[cfg(test)]
fn logged_while<F: std::future::Future<Output = anyhow::Result<()>>>(work: F) -> String {
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log buffer").extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(work)
            .expect("the work succeeds");
    });
    let bytes = captured.0.lock().expect("log buffer").clone();
    String::from_utf8_lossy(&bytes).into_owned()
}
