//! Prometheus metrics: requests and their latency per route, the database pools in use, failed
//! sign-ins and imports. Recorded with the `metrics` crate, rendered by
//! `metrics-exporter-prometheus`, and served only on the separate `--metrics-addr` — never on the
//! public address.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;

pub const REQUESTS: &str = "giupdo_http_requests_total";
pub const LATENCY: &str = "giupdo_http_request_duration_seconds";
pub const POOL: &str = "giupdo_db_pool_connections";
pub const LOGIN_FAILURES: &str = "giupdo_login_failures_total";
pub const IMPORTS: &str = "giupdo_imports_total";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Install the process's recorder (once; later calls return the same handle).
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let buckets = [
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        ];
        // Only an empty bucket list is refused; should it ever be, the exporter's summaries do.
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(LATENCY.to_string()), &buckets)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder already installed (a test binary running several apps) keeps its own;
        // this handle then renders nothing, which the metrics test would show.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Middleware: count every request and time it, by method, route pattern (never the raw path: ids
/// would make a series per household) and status.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| {
            if req.uri().path().starts_with("/static/") {
                "/static".to_string()
            } else {
                "khác".to_string()
            }
        });
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(LATENCY, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// A failed sign-in (`reason`: "sai mật khẩu", "bị chặn" …).
pub fn login_failed(reason: &'static str) {
    metrics::counter!(LOGIN_FAILURES, "reason" => reason).increment(1);
}

/// An import that was written (`imported`) or refused (`refused`).
pub fn import(outcome: &'static str) {
    metrics::counter!(IMPORTS, "outcome" => outcome).increment(1);
}

/// The router of the metrics address: `GET /metrics` only.
pub fn router(pools: Vec<(&'static str, PgPool)>) -> Router {
    install();
    Router::new()
        .route("/metrics", get(render))
        .with_state(std::sync::Arc::new(pools))
}

async fn render(State(pools): State<std::sync::Arc<Vec<(&'static str, PgPool)>>>) -> Response {
    for (name, pool) in pools.iter() {
        let size = pool.size() as f64;
        let idle = pool.num_idle() as f64;
        metrics::gauge!(POOL, "pool" => *name, "state" => "in_use").set(size - idle);
        metrics::gauge!(POOL, "pool" => *name, "state" => "idle").set(idle);
        metrics::gauge!(POOL, "pool" => *name, "state" => "max")
            .set(pool.options().get_max_connections() as f64);
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        install().render(),
    )
        .into_response()
}
