//! `GET /healthz`: is the app up, and does the database answer?

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::AppState;

#[derive(Serialize)]
pub struct Health {
    pub ok: bool,
    pub database: bool,
    pub version: &'static str,
}

pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let ping = crate::db::ping(&state.db);
    let database = matches!(
        tokio::time::timeout(Duration::from_secs(2), ping).await,
        Ok(Ok(()))
    );
    let status = if database {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Health {
        ok: database,
        database,
        version: env!("CARGO_PKG_VERSION"),
    };
    (status, Json(body))
}
