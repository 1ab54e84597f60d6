//! Working without signal (issue #27): the service worker, served at the root so that its scope
//! is the whole app, and the page listing what waits on the phone (filled by `static/offline.js`
//! from the account's IndexedDB; the server holds none of it until it is sent).

use askama::Template;
use askama_web::WebTemplate;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::error::AppResult;
use super::page::{Ctx, CurrentUser};

/// `static/sw.js`, compiled in: the worker must match the app that serves it.
const SERVICE_WORKER: &str = include_str!("../../static/sw.js");

pub async fn service_worker() -> Response {
    let mut resp = SERVICE_WORKER.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    // A new release's worker is picked up at the next page load.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("service-worker-allowed", HeaderValue::from_static("/"));
    resp
}

#[derive(Template, WebTemplate)]
#[template(path = "offline.html")]
pub struct QueuePage {
    pub ctx: Ctx,
}

pub async fn queue(CurrentUser(_actor): CurrentUser, ctx: Ctx) -> AppResult<QueuePage> {
    Ok(QueuePage { ctx })
}
