//! Traces over OTLP: the `server` binary itself, started with `OTEL_EXPORTER_OTLP_ENDPOINT`
//! pointing at a collector this test runs, sends its request spans there as OTLP/HTTP protobuf,
//! named by route template and continuing the caller's W3C trace; an unsupported protocol is
//! refused at start.

use std::{
    net::{SocketAddr, TcpListener as StdListener},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use axum::{body::Bytes, extract::State, routing::post, Router};
use opentelemetry_proto::tonic::{
    collector::trace::v1::ExportTraceServiceRequest,
    common::v1::{any_value, KeyValue},
    trace::v1::Span,
};
use prost::Message;
use sqlx::PgPool;
use tokio::sync::mpsc;

use crate::support::cli::{database_url, server_command_with, tempdir, MASTER_KEY};

/// A collector: every export it receives, decoded, goes to the channel.
async fn collector() -> (
    SocketAddr,
    mpsc::UnboundedReceiver<ExportTraceServiceRequest>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new()
        .route(
            "/v1/traces",
            post(
                |State(tx): State<mpsc::UnboundedSender<ExportTraceServiceRequest>>,
                 body: Bytes| async move {
                    let _ = tx.send(ExportTraceServiceRequest::decode(body).unwrap());
                    (
                        [("content-type", "application/x-protobuf")],
                        Vec::<u8>::new(),
                    )
                },
            ),
        )
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, rx)
}

/// The server process, killed when the test ends however it ends.
/// A running server and the directory it runs in, both gone when dropped.
struct Served(Child, PathBuf);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

async fn serve(db: &PgPool, env: &[(&str, &str)]) -> (Served, SocketAddr) {
    let addr = StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = tempdir();
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .arg("serve")
        .env_remove("CIAM_MASTER_KEY_FILE")
        .env_remove("OTEL_SERVICE_NAME")
        .env("CIAM_MASTER_KEY", MASTER_KEY)
        .env("DATABASE_URL", database_url(db).await)
        .env("CIAM_LISTEN", addr.to_string())
        .env("RUST_LOG", "info")
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let served = Served(command.spawn().unwrap(), dir);
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(res) = client.get(format!("http://{addr}/healthz")).send().await {
            if res.status() == 200 {
                return (served, addr);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not start on {addr}");
}

fn text<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
        .and_then(|v| match v {
            any_value::Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        })
}

fn number(attributes: &[KeyValue], key: &str) -> Option<i64> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
        .and_then(|v| match v {
            any_value::Value::IntValue(n) => Some(*n),
            _ => None,
        })
}

/// Waits for the span of `trace_id`, with the service name its batch carried.
async fn span_of(
    exports: &mut mpsc::UnboundedReceiver<ExportTraceServiceRequest>,
    trace_id: &[u8],
) -> (Span, String) {
    let wait = async {
        while let Some(export) = exports.recv().await {
            for batch in export.resource_spans {
                let service = batch
                    .resource
                    .as_ref()
                    .and_then(|r| text(&r.attributes, "service.name"))
                    .unwrap_or_default()
                    .to_owned();
                for scope in batch.scope_spans {
                    if let Some(span) = scope.spans.into_iter().find(|s| s.trace_id == trace_id) {
                        return (span, service);
                    }
                }
            }
        }
        panic!("the collector stopped");
    };
    tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .expect("no span of the caller's trace reached the collector")
}

#[sqlx::test(migrations = "../migrations")]
async fn request_spans_reach_the_collector_in_the_callers_trace(db: PgPool) {
    let (collector, mut exports) = collector().await;
    let endpoint = format!("http://{collector}");
    let (_served, addr) = serve(
        &db,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    )
    .await;

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent_id = "00f067aa0ba902b7";
    let res = reqwest::Client::new()
        .get(format!("http://{addr}/readyz"))
        .header("traceparent", format!("00-{trace_id}-{parent_id}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let bytes = |hex: &str| {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect::<Vec<u8>>()
    };
    let (span, service) = span_of(&mut exports, &bytes(trace_id)).await;
    assert_eq!(service, "keyhaven");
    assert_eq!(span.name, "GET /readyz");
    assert_eq!(span.parent_span_id, bytes(parent_id));
    assert_eq!(text(&span.attributes, "http.route"), Some("/readyz"));
    assert_eq!(
        number(&span.attributes, "http.response.status_code"),
        Some(200),
        "{:?}",
        span.attributes
    );
    // Server spans, timed.
    assert_eq!(span.kind, 2);
    assert!(span.end_time_unix_nano > span.start_time_unix_nano);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_protocol_other_than_http_protobuf_is_refused_at_start(db: PgPool) {
    let out = server_command_with(
        &db,
        &["migrate"],
        &[
            ("CIAM_MASTER_KEY", MASTER_KEY),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ],
        None,
    )
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported"),
        "{stderr}"
    );
}
