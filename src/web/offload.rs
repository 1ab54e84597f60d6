//! CPU-heavy work a request needs (building a spreadsheet of 50.000 rows, reading an uploaded file
//! of up to 20 MB) runs on tokio's blocking pool: on an async worker it would stall every other
//! request that worker serves for as long as it takes (seconds for a large export).

use super::error::{AppError, AppResult};

/// Run `f` on the blocking pool and wait for it without holding up the async worker.
pub async fn offload<T, F>(f: F) -> AppResult<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Other(anyhow::anyhow!("blocking task failed: {e}")))
}
