//! One error type for handlers, and the Vietnamese error pages. Internal error text goes to the
//! log with the request id; the page shows only a plain message and that id.

use askama::Template;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use tracing::Span;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// Too many of something (429): the message says what and for how long.
    #[error("throttled: {message}")]
    Throttled {
        message: String,
        retry_after_secs: u64,
    },
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        if is_unavailable(&e) {
            AppError::Unavailable(e)
        } else {
            AppError::Database(e)
        }
    }
}

/// Errors that mean "the database is not there right now" rather than "this query is wrong".
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => db
            .code()
            // 08: connection failures; 57P: the server shutting down or restarting; 25006: a
            // write reaching a server that has just become a standby during a failover.
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c == "25006"),
        _ => false,
    }
}

/// Marks a response whose body the error-page middleware must render.
#[derive(Clone, Copy)]
struct ErrorPageWanted;

/// A message of the handler's own for the error page, in place of the status's general wording.
#[derive(Clone)]
struct ErrorMessage(String);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match &self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Unavailable(e) => {
                tracing::warn!(error = %e, "database unavailable");
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Database(e) => {
                tracing::error!(error = %e, "database error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            AppError::Other(e) => {
                tracing::error!(error = ?e, "internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            AppError::Throttled {
                message,
                retry_after_secs,
            } => {
                let mut resp = StatusCode::TOO_MANY_REQUESTS.into_response();
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
                resp.extensions_mut().insert(ErrorPageWanted);
                resp.extensions_mut().insert(ErrorMessage(message.clone()));
                return resp;
            }
        };
        let mut resp = status.into_response();
        resp.extensions_mut().insert(ErrorPageWanted);
        resp
    }
}

pub type AppResult<T> = Result<T, AppError>;

pub async fn not_found() -> AppError {
    AppError::NotFound
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    title: &'static str,
    message: String,
    request_id: String,
}

fn wording(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => (
            "Yêu cầu không hợp lệ",
            "Yêu cầu gửi lên không đúng định dạng. Vui lòng thử lại.",
        ),
        401 | 403 => (
            "Không có quyền truy cập",
            "Tài khoản của bạn không được phép xem hoặc thay đổi nội dung này.",
        ),
        404 => (
            "Không tìm thấy trang",
            "Trang hoặc hồ sơ bạn tìm không tồn tại, hoặc bạn không được phép xem.",
        ),
        405 => (
            "Thao tác không được hỗ trợ",
            "Địa chỉ này không nhận thao tác đó.",
        ),
        408 => (
            "Hết thời gian chờ",
            "Yêu cầu mất quá nhiều thời gian. Vui lòng thử lại.",
        ),
        413 => (
            "Dữ liệu gửi lên quá lớn",
            "Tệp hoặc biểu mẫu gửi lên vượt quá giới hạn cho phép (2 MB cho biểu mẫu).",
        ),
        415 | 422 => (
            "Dữ liệu không hợp lệ",
            "Dữ liệu gửi lên không đọc được. Vui lòng kiểm tra lại biểu mẫu.",
        ),
        429 => (
            "Quá nhiều yêu cầu",
            "Bạn đã thử quá nhiều lần. Vui lòng đợi một lúc rồi thử lại.",
        ),
        503 => (
            "Hệ thống tạm thời gián đoạn",
            "Cơ sở dữ liệu tạm thời không truy cập được. Dữ liệu của bạn không bị mất; vui lòng thử lại sau ít phút.",
        ),
        _ => (
            "Đã xảy ra lỗi",
            "Hệ thống gặp lỗi khi xử lý yêu cầu. Lỗi đã được ghi lại; vui lòng thử lại hoặc báo cho quản trị viên kèm mã yêu cầu.",
        ),
    }
}

/// Replaces the body of every error response that is not already a page of ours (axum's
/// rejections, the timeout, CSRF and body-limit layers, `AppError`) with a Vietnamese page.
pub async fn render_error_pages(req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string();
    let resp = next.run(req).await;
    let mut status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    // Our own 500s carry the marker. A bare one comes from the session layer, which answers 500
    // when it cannot save the session — the session store is the database, so this is the
    // database going away mid-request (seen under load when it was stopped): say so with a 503.
    if status == StatusCode::INTERNAL_SERVER_ERROR
        && resp.extensions().get::<ErrorPageWanted>().is_none()
        && !resp.headers().contains_key(header::CONTENT_TYPE)
    {
        tracing::warn!("session store unavailable while saving the session");
        status = StatusCode::SERVICE_UNAVAILABLE;
    }
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ours =
        content_type.starts_with("text/html") || content_type.starts_with("application/json");
    if ours && resp.extensions().get::<ErrorPageWanted>().is_none() {
        return resp;
    }
    let (title, general) = wording(status);
    let message = resp
        .extensions()
        .get::<ErrorMessage>()
        .map(|m| m.0.clone())
        .unwrap_or_else(|| general.to_string());
    let page = ErrorPage {
        status: status.as_u16(),
        title,
        message: message.clone(),
        request_id,
    };
    let body = page.render().unwrap_or_else(|_| {
        format!("<!doctype html><html lang=\"vi\"><title>{title}</title><p>{message}</p></html>")
    });
    let mut out = (status, Html(body)).into_response();
    for name in [header::RETRY_AFTER, header::ALLOW, header::LOCATION] {
        if let Some(v) = resp.headers().get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    if status == StatusCode::SERVICE_UNAVAILABLE && !out.headers().contains_key(header::RETRY_AFTER)
    {
        out.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
    }
    out
}

/// Text with a NUL character (`%00`) is refused before any handler sees it: no one types one, it
/// only comes from tools and attacks, and PostgreSQL cannot store it in a text column (it would
/// fail the statement half-way through a request). Forms and query strings are checked; uploads
/// are checked by the file reader, which says which file is at fault.
pub async fn refuse_nul(req: Request, next: Next) -> Response {
    let has_nul = |b: &[u8]| b.contains(&0) || b.windows(3).any(|w| w.eq_ignore_ascii_case(b"%00"));
    let query_nul = req.uri().query().is_some_and(|q| has_nul(q.as_bytes()));
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if !query_nul && !is_form {
        return next.run(req).await;
    }
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string();
    let (parts, body) = req.into_parts();
    let bytes = if is_form {
        match axum::body::to_bytes(body, super::BODY_LIMIT).await {
            Ok(b) => b,
            Err(_) => {
                let mut resp = StatusCode::PAYLOAD_TOO_LARGE.into_response();
                resp.extensions_mut().insert(ErrorPageWanted);
                return resp;
            }
        }
    } else {
        axum::body::Bytes::new()
    };
    if query_nul || has_nul(&bytes) {
        tracing::warn!("refused a request with a NUL character");
        let page = ErrorPage {
            status: 400,
            title: "Dữ liệu không hợp lệ",
            message: "Dữ liệu gửi lên có ký tự NUL (mã 0), ký tự không dùng được trong văn bản. \
                      Không có gì được ghi. Hãy gõ lại nội dung rồi gửi lại."
                .to_string(),
            request_id,
        };
        let body = page.render().unwrap_or_default();
        return (StatusCode::BAD_REQUEST, Html(body)).into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// A panicking handler becomes a 500 page, never a dropped connection.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    let mut resp = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    resp.extensions_mut().insert(ErrorPageWanted);
    resp
}

/// Request spans carry the request id and the route pattern (not the raw path, which may carry ids).
pub fn make_span(req: &axum::http::Request<axum::body::Body>) -> Span {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str())
        .unwrap_or_else(|| req.uri().path());
    tracing::info_span!("request", method = %req.method(), route, request_id)
}
