//! A minimal SMTP server for tests: accepts every message lettre sends and keeps it.

use std::{sync::Arc, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::{Mutex, Notify},
    task::JoinHandle,
};

/// A received message, headers and body decoded enough to read links.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The sink; messages land in `inbox`.
pub struct MailSink {
    pub port: u16,
    inbox: Arc<Mutex<Vec<Received>>>,
    arrived: Arc<Notify>,
    task: Option<JoinHandle<()>>,
}

impl MailSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut sink = Self {
            port,
            inbox: Arc::default(),
            arrived: Arc::new(Notify::new()),
            task: None,
        };
        sink.serve(listener);
        sink
    }

    /// Stops accepting connections (the mail server is "down").
    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn restart(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }

    fn serve(&mut self, listener: TcpListener) {
        let inbox = self.inbox.clone();
        let arrived = self.arrived.clone();
        self.task = Some(tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let inbox = inbox.clone();
                let arrived = arrived.clone();
                tokio::spawn(session(stream, inbox, arrived));
            }
        }));
    }

    /// Every message received so far.
    pub async fn all(&self) -> Vec<Received> {
        self.inbox.lock().await.clone()
    }

    /// Waits (up to 15 s) for a message to `to` whose subject contains `subject`.
    pub async fn wait_for(&self, to: &str, subject: &str) -> Received {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let notified = self.arrived.notified();
            if let Some(m) = self
                .inbox
                .lock()
                .await
                .iter()
                .rev()
                .find(|m| m.to.contains(to) && m.subject.contains(subject))
            {
                return m.clone();
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("no mail to {to} with subject containing {subject:?} arrived");
            }
        }
    }

    /// How many messages went to `to` with `subject` in the subject.
    pub async fn count(&self, to: &str, subject: &str) -> usize {
        self.inbox
            .lock()
            .await
            .iter()
            .filter(|m| m.to.contains(to) && m.subject.contains(subject))
            .count()
    }
}

impl Drop for MailSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One SMTP connection; each message is kept as soon as its DATA ends (lettre keeps
/// connections open in a pool).
async fn session(
    stream: TcpStream,
    inbox: Arc<Mutex<Vec<Received>>>,
    arrived: Arc<Notify>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.trim_end().to_ascii_uppercase();
        if verb.starts_with("EHLO") {
            write.write_all(b"250-sink\r\n250 8BITMIME\r\n").await?;
        } else if verb.starts_with("DATA") {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut raw = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                raw.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            inbox.lock().await.push(parse(&raw));
            arrived.notify_waiters();
            write.write_all(b"250 queued\r\n").await?;
        } else if verb.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            write.write_all(b"250 ok\r\n").await?;
        }
    }
}

fn parse(raw: &str) -> Received {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    // Folded header lines continue with white space (RFC 5322 §2.2.3).
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let header = |name: &str| {
        unfolded
            .lines()
            .find_map(|l| {
                l.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix(':'))
                    .map(|v| decode_words(v.trim()))
            })
            .unwrap_or_default()
    };
    let encoding = header("Content-Transfer-Encoding");
    let body = if encoding.eq_ignore_ascii_case("quoted-printable") {
        decode_quoted_printable(body)
    } else if encoding.eq_ignore_ascii_case("base64") {
        use base64::Engine;
        let packed: String = body.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(packed)
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        body.to_owned()
    };
    Received {
        from: header("From"),
        to: header("To"),
        subject: header("Subject"),
        body: body.replace("\r\n", "\n"),
    }
}

/// A header value with its RFC 2047 encoded words (`=?utf-8?b?...?=`, `=?utf-8?q?...?=`)
/// decoded; white space between two encoded words goes.
fn decode_words(value: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, word) = rest.split_at(start);
        let parts: Vec<&str> = word[2..].splitn(3, '?').collect();
        let Some(end) = parts.get(2).and_then(|p| p.find("?=")) else {
            break;
        };
        if !(after_word && before.trim().is_empty()) {
            out.push_str(before);
        }
        let text = &parts[2][..end];
        let bytes = if parts[1].eq_ignore_ascii_case("b") {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .unwrap_or_default()
        } else {
            decode_quoted_printable(&text.replace('_', " ")).into_bytes()
        };
        out.push_str(&String::from_utf8_lossy(&bytes));
        rest = &parts[2][end + 2..];
        after_word = true;
    }
    out.push_str(rest);
    out
}

fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
