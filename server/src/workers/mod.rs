//! Background work every node runs: mail, SMS and back-channel logout delivery from their
//! outboxes, sealing the audit trail's hash chain, breach responses, the dashboard's rollup, signing key rotation and reloading, the
//! change notices that keep the in-memory clients, people and revocations true, and cleanup of
//! expired rows.

pub mod audit_seal;
pub mod breach;
pub mod cleanup;
pub mod keys;
pub mod logout;
pub mod mail;
pub mod notices;
pub mod outbox;
pub mod reports;
pub mod sms;

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
