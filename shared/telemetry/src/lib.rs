//! Logs, metrics and the health endpoints, the same for every service.
//!
//! Every crate registers its metrics in the one default registry through the `prometheus`
//! re-exported here, so `/metrics` shows all of them (in standalone mode, every stage's).
//!
//! Log levels: `error` — a record or a service is failing and someone must act; `warn` — bad
//! input or a transient failure that was handled (a feed that did not parse, a retried
//! transaction); `info` — lifecycle (start, ready, rebalance, shutdown); `debug` — per batch;
//! `trace` — per record.

mod metrics;

pub use metrics::{KafkaMetrics, StageMetrics, end_to_end_seconds, register, register_build_info, revision};
pub use prometheus;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line: what services write, for log pipelines.
    Json,
    /// Human-readable lines, for a person at a terminal.
    Text,
}

/// Installs the global logger, writing to stderr. The filter comes from `NEWSWIRE_LOG` (or
/// `RUST_LOG`), in `tracing`'s env-filter syntax; the default is `info`.
pub fn init_logging(format: LogFormat) {
    let filter = std::env::var("NEWSWIRE_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("info,rdkafka=warn"));
    // Colours only for people at a terminal, never in files or log pipelines.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    // A second call (tests that start several services in one process) keeps the first logger.
    let _ = match format {
        // The current span (e.g. a record's `trace_id`) goes into each line, so that one
        // article can be followed across services with a log query.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Liveness and readiness, shared between a service's loop and its HTTP endpoints.
#[derive(Debug, Clone, Default)]
pub struct Health {
    ready: Arc<AtomicBool>,
    /// Why the service can make no progress, once it cannot.
    failed: Arc<std::sync::Mutex<Option<String>>>,
}

impl Health {
    /// Ready: the service has restored its state and is processing.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    /// Failed: the service's loop hit an error it cannot recover from (`why`); `/healthz`
    /// fails and says why, so that the orchestrator restarts it. The first reason is kept.
    pub fn set_failed(&self, why: impl Into<String>) {
        let mut failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
        failed.get_or_insert_with(|| why.into());
        self.ready.store(false, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst) && self.is_alive()
    }

    pub fn is_alive(&self) -> bool {
        self.failure().is_none()
    }

    /// Why the service failed, if it did.
    pub fn failure(&self) -> Option<String> {
        self.failed.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `addr` until `shutdown` is cancelled.
/// Returns the bound address (useful with port 0).
pub async fn serve(addr: &str, health: Health, shutdown: CancellationToken) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|err| anyhow::anyhow!("cannot listen on {addr}: {err}"))?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(health);
    tokio::spawn(async move {
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await;
        if let Err(err) = result {
            tracing::error!(error = %err, "HTTP endpoint failed.");
        }
    });
    tracing::info!(addr = %bound, "Serving /metrics, /healthz and /readyz.");
    Ok(bound)
}

async fn metrics_handler() -> impl IntoResponse {
    match render_metrics() {
        Ok(body) => (StatusCode::OK, [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], body).into_response(),
        Err(err) => (StatusCode::INTERNAL_SERVER_ERROR, err.to_string()).into_response(),
    }
}

/// The default registry in the Prometheus text format.
pub fn render_metrics() -> anyhow::Result<String> {
    use prometheus::Encoder;
    let mut buffer = Vec::new();
    prometheus::TextEncoder::new().encode(&prometheus::gather(), &mut buffer)?;
    Ok(String::from_utf8(buffer)?)
}

async fn healthz(State(health): State<Health>) -> impl IntoResponse {
    match health.failure() {
        None => (StatusCode::OK, "ok\n".to_string()),
        Some(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("failed: {why}\n")),
    }
}

async fn readyz(State(health): State<Health>) -> impl IntoResponse {
    if health.is_ready() {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}

/// Cancels `token` on SIGTERM or SIGINT. A second signal exits at once.
pub fn cancel_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
            tracing::error!("Cannot install signal handlers.");
            return;
        };
        tokio::select! {
            _ = term.recv() => tracing::info!(signal = "SIGTERM", "Shutting down: finishing the work in flight."),
            _ = int.recv() => tracing::info!(signal = "SIGINT", "Shutting down: finishing the work in flight."),
        }
        token.cancel();
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::warn!("Second signal: exiting without draining.");
        std::process::exit(130);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn endpoints_report_health_and_metrics() {
        let health = Health::default();
        let shutdown = CancellationToken::new();
        let addr = serve("127.0.0.1:0", health.clone(), shutdown.clone()).await.unwrap();
        StageMetrics::get("telemetry_test").records_in.inc();

        let get = |path: &'static str| async move {
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            stream
                .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
                .await
                .unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).await.unwrap();
            response
        };
        assert!(get("/healthz").await.starts_with("HTTP/1.1 200"));
        assert!(get("/readyz").await.starts_with("HTTP/1.1 503"));
        health.set_ready(true);
        assert!(get("/readyz").await.starts_with("HTTP/1.1 200"));
        let metrics = get("/metrics").await;
        assert!(
            metrics.contains("newswire_telemetry_test_records_in_total 1"),
            "{metrics}"
        );
        health.set_failed("the consumer was fenced");
        health.set_failed("a later error");
        let healthz = get("/healthz").await;
        assert!(healthz.starts_with("HTTP/1.1 503"), "{healthz}");
        assert!(healthz.ends_with("failed: the consumer was fenced\n"), "{healthz}");
        assert!(
            get("/readyz").await.starts_with("HTTP/1.1 503"),
            "a failed service is not ready"
        );
        shutdown.cancel();
    }
}
