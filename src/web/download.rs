//! File downloads: spreadsheets and CSV built off the async runtime and sent as attachments.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse as _, Response};

use super::error::{AppError, AppResult};
use super::offload::offload;
use crate::report::export::{self, Table};

/// `bytes` sent as an attachment named `filename`.
pub fn download(bytes: Vec<u8>, filename: &str, content_type: &'static str) -> Response {
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// An .xlsx download, its tables built and written on the blocking pool, under the organiser's
/// committee (`area`).
pub async fn xlsx_response<F>(
    name: String,
    area: &crate::domain::area::Area,
    tables: F,
) -> AppResult<Response>
where
    F: FnOnce() -> Vec<(&'static str, Table)> + Send + 'static,
{
    let issuer = format!("ỦY BAN NHÂN DÂN {}", area.issuer());
    let bytes = offload(move || export::xlsx(&tables(), &issuer))
        .await?
        .map_err(|e| AppError::Other(e.into()))?;
    Ok(download(
        bytes,
        &name,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ))
}

/// A CSV download, its table built and written on the blocking pool.
pub async fn csv_response<F>(name: String, table: F) -> AppResult<Response>
where
    F: FnOnce() -> Table + Send + 'static,
{
    let bytes = offload(move || export::csv(&table())).await?;
    Ok(download(bytes, &name, "text/csv; charset=utf-8"))
}
