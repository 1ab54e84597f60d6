//! The web application: one module per area, the route table with each route's access rule, and
//! the middleware stack.

pub mod accounts;
pub mod admin;
pub mod agencies;
pub mod audit;
pub mod auth;
pub mod campaign_rules;
pub mod campaigns;
pub mod client_ip;
pub mod download;
pub mod duplicates;
pub mod effectiveness;
pub mod error;
pub mod forms;
pub mod health;
pub mod history;
pub mod home;
pub mod households;
pub mod imports;
pub mod lookups;
pub mod metrics;
pub mod offline;
pub mod offload;
pub mod page;
pub mod photos;
pub mod places;
pub mod profiles;
pub mod reports;
mod routes;
pub mod sponsorships;

use routes::routes;
pub use routes::{RouteDef, route_table};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware;
use sqlx::PgPool;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::csrf::CsrfLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

use crate::config::WebConfig;

/// Everything a handler needs, passed with `State`.
#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    /// The session store's own pool ([`crate::db::sessions_pool`]).
    pub sessions: PgPool,
    pub config: Arc<WebConfig>,
    /// The current campaign's organiser, named on every page.
    pub area: Arc<AreaName>,
}

impl AppState {
    pub fn new(db: PgPool, config: WebConfig) -> Self {
        AppState {
            sessions: crate::db::sessions_pool(&db),
            db,
            config: Arc::new(config),
            area: Arc::default(),
        }
    }
}

/// The name of the current campaign's organiser ("Huyện Bình Gia", "Tỉnh Lạng Sơn"), read at most
/// once a minute: the brand and the titles of every page come from data, not from the code.
#[derive(Debug, Default)]
pub struct AreaName {
    slot: std::sync::Mutex<Option<(std::time::Instant, String)>>,
}

impl AreaName {
    const FRESH: std::time::Duration = std::time::Duration::from_secs(60);

    pub async fn get(&self, db: &PgPool) -> String {
        let cached = self.slot.lock().ok().and_then(|s| s.clone());
        if let Some((at, name)) = &cached
            && at.elapsed() < Self::FRESH
        {
            return name.clone();
        }
        match crate::db::campaigns::organiser_of(db, None).await {
            Ok(found) => {
                let name = found.map(|(n, _)| n).unwrap_or_default();
                if let Ok(mut s) = self.slot.lock() {
                    *s = Some((std::time::Instant::now(), name.clone()));
                }
                name
            }
            // The page still renders, with the last name known.
            Err(_) => cached.map(|(_, n)| n).unwrap_or_default(),
        }
    }
}

impl AreaName {
    /// Read again at the next request (a campaign was saved: the current one may have changed).
    pub fn forget(&self) {
        if let Ok(mut s) = self.slot.lock() {
            *s = None;
        }
    }
}

/// The area's name for this request (see [`AreaName`]).
#[derive(Debug, Clone)]
pub struct Area(pub String);

/// The session store, on its own pool ([`crate::db::sessions_pool`]).
pub fn session_store(sessions: PgPool) -> PostgresStore {
    PostgresStore::new(sessions)
}

pub fn static_dir() -> PathBuf {
    std::env::var_os("GIUPDO_STATIC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/static")))
}

/// Largest form body accepted (axum's extractors enforce it); larger ones get 413.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;
/// The hard cap on any request body, uploads included.
pub const HARD_BODY_LIMIT: usize = imports::UPLOAD_LIMIT + 64 * 1024;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Build the whole application.
pub fn app(state: AppState) -> Router {
    let mut router: Router<AppState> = Router::new();
    for (def, handler) in routes() {
        let guarded = handler.route_layer(middleware::from_fn_with_state(
            def.access,
            auth::require_access,
        ));
        router = router.route(def.path, guarded);
    }

    let static_files = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=604800"),
        ))
        .service(ServeDir::new(static_dir()));

    let sessions = SessionManagerLayer::new(session_store(state.sessions.clone()))
        .with_name("giupdo_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(
            time::Duration::try_from(state.config.session_idle).unwrap_or(time::Duration::hours(8)),
        ));

    let mut csrf = CsrfLayer::new();
    for origin in &state.config.trusted_origins {
        match csrf.clone().add_trusted_origin(origin) {
            Ok(layer) => csrf = layer,
            Err(e) => tracing::warn!("ignoring trusted origin {origin}: {e}"),
        }
    }

    // Requests are counted and timed whether or not a metrics address is served.
    metrics::install();
    let x_request_id = HeaderName::from_static("x-request-id");
    let timeout = state.config.request_timeout;
    router
        .nest_service("/static", static_files)
        .fallback(error::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(error::refuse_nul))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::load_actor,
        ))
        .layer(sessions)
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(
                    x_request_id.clone(),
                    MakeRequestUuid,
                ))
                .layer(middleware::from_fn(metrics::track))
                .layer(TraceLayer::new_for_http().make_span_with(error::make_span))
                .layer(PropagateRequestIdLayer::new(x_request_id))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(CSP),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("same-origin"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(CompressionLayer::new())
                .layer(middleware::from_fn(error::render_error_pages))
                .layer(CatchPanicLayer::custom(error::panic_response))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    timeout,
                ))
                .layer(csrf)
                .layer(RequestBodyLimitLayer::new(HARD_BODY_LIMIT)),
        )
}

/// How often expired sessions are deleted from the store.
pub const SESSION_CLEANUP: Duration = Duration::from_secs(600);
