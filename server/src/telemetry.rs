//! Logs and traces: the log lines every command writes, and, only when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, the same spans
//! exported as OpenTelemetry traces over OTLP/HTTP with protobuf bodies.
//!
//! The exporter is the OpenTelemetry SDK's batch processor: spans queue in memory and a thread of
//! its own sends them, so a slow or absent collector never holds a request up (a full queue drops
//! spans). The standard variables tune it: `OTEL_SERVICE_NAME` (default `keyhaven`),
//! `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`, `OTEL_EXPORTER_OTLP_HEADERS`.

use opentelemetry::{propagation::TextMapPropagator, trace::TracerProvider as _};
use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::SdkTracerProvider, Resource};
use tracing_subscriber::{
    filter::{LevelFilter, Targets},
    fmt,
    layer::SubscriberExt,
    util::SubscriberInitExt,
    EnvFilter, Layer,
};

use crate::config::LogFormat;

/// The name traces carry when `OTEL_SERVICE_NAME` does not give one.
const SERVICE_NAME: &str = "keyhaven";

/// The crates the exporter itself sends with: their spans are never exported, or each export
/// would trace the next.
const EXPORTER_CRATES: [&str; 5] = ["hyper", "hyper_util", "reqwest", "h2", "opentelemetry"];

/// What `init` started; dropping it sends the spans still queued and stops the exporter.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            // The exporter's blocking HTTP client must not be touched from the async runtime's
            // threads: the last batch goes out from a thread of its own.
            let _ = std::thread::spawn(move || provider.shutdown()).join();
        }
    }
}

/// Why the traces could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("OTEL_EXPORTER_OTLP_PROTOCOL={0} is not supported: traces are sent as http/protobuf")]
    Protocol(String),
    #[error("the OTLP trace exporter could not be built: {0}")]
    Exporter(String),
}

/// Installs the log output (`RUST_LOG` filters it, default `info`) and, when an OTLP endpoint is
/// configured, the trace exporter.
pub fn init(format: LogFormat) -> Result<Telemetry, TelemetryError> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    let json = matches!(format, LogFormat::Json);
    let provider = if exporter_configured() {
        Some(tracer_provider()?)
    } else {
        None
    };
    let traces = provider.as_ref().map(|provider| {
        let not_the_exporter = EXPORTER_CRATES
            .iter()
            .fold(Targets::new().with_default(LevelFilter::TRACE), |t, c| {
                t.with_target(*c, LevelFilter::OFF)
            });
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer(SERVICE_NAME))
            .with_filter(not_the_exporter)
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(json.then(|| fmt::layer().json()))
        .with((!json).then(fmt::layer))
        .with(traces)
        .init();
    if provider.is_some() {
        tracing::info!("exporting traces over OTLP/HTTP");
    }
    Ok(Telemetry { provider })
}

/// Whether the standard variables name a collector.
fn exporter_configured() -> bool {
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty()))
}

fn tracer_provider() -> Result<SdkTracerProvider, TelemetryError> {
    for name in [
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    ] {
        if let Ok(protocol) = std::env::var(name) {
            if !protocol.is_empty() && protocol != "http/protobuf" {
                return Err(TelemetryError::Protocol(protocol));
            }
        }
    }
    // The endpoint, headers and timeout come from the standard variables.
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
    let mut resource = Resource::builder();
    if std::env::var("OTEL_SERVICE_NAME").map_or(true, |v| v.trim().is_empty()) {
        resource = resource.with_service_name(SERVICE_NAME);
    }
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build())
}

/// The trace a request continues: the W3C `traceparent` (and `tracestate`) it arrived with, so a
/// partner's back end sees its call and the server's work as one trace.
pub fn remote_parent(headers: &http::HeaderMap) -> opentelemetry::Context {
    TraceContextPropagator::new().extract(&HeaderText(headers))
}

/// Request headers, as the propagator reads them.
struct HeaderText<'a>(&'a http::HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderText<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}
