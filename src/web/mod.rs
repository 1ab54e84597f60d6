//! The web application: one module per area, the route table with each route's access rule, and
//! the middleware stack.

pub mod accounts;
pub mod admin;
pub mod agencies;
pub mod audit;
pub mod auth;
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
pub mod offload;
pub mod page;
pub mod photos;
pub mod places;
pub mod reports;
pub mod sponsorships;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware;
use axum::routing::MethodRouter;
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
use crate::domain::roles::{ADMIN, Access, DISTRICT, Role};

/// Those who keep the household registry: the district and the commune officials.
const REGISTRY: &[Role] = &[Role::Admin, Role::Clerk, Role::Commune];
/// Agency staff: they pledge and deliver.
const AGENCY: &[Role] = &[Role::Agency];
/// Commune officials: they confirm or reject (R3).
const COMMUNE: &[Role] = &[Role::Commune];
/// Who may withdraw a pledge: the lead agency or the district.
const CANCELLERS: &[Role] = &[Role::Admin, Role::Clerk, Role::Agency];

/// Everything a handler needs, passed with `State`.
#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    /// The session store's own pool ([`crate::db::sessions_pool`]).
    pub sessions: PgPool,
    pub config: Arc<WebConfig>,
}

impl AppState {
    pub fn new(db: PgPool, config: WebConfig) -> Self {
        AppState {
            sessions: crate::db::sessions_pool(&db),
            db,
            config: Arc::new(config),
        }
    }
}

/// The session store, on its own pool ([`crate::db::sessions_pool`]).
pub fn session_store(sessions: PgPool) -> PostgresStore {
    PostgresStore::new(sessions)
}

/// One row of the route table: what the authorization test matrix iterates over.
#[derive(Debug, Clone)]
pub struct RouteDef {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

type Routes = Vec<(RouteDef, MethodRouter<AppState>)>;

fn r(
    method: Method,
    path: &'static str,
    access: Access,
    handler: MethodRouter<AppState>,
) -> (RouteDef, MethodRouter<AppState>) {
    (
        RouteDef {
            method,
            path,
            access,
        },
        handler,
    )
}

/// Every route of the app with its access rule. A route can only be added here, so it cannot
/// be added without deciding who may reach it.
fn routes() -> Routes {
    use axum::routing::{get, post};
    let signed_in = Access::SignedIn;
    vec![
        r(Method::GET, "/", Access::Public, get(home::index)),
        r(
            Method::GET,
            "/healthz",
            Access::Public,
            get(health::healthz),
        ),
        r(
            Method::GET,
            "/dang-nhap",
            Access::Public,
            get(auth::login_form),
        ),
        r(
            Method::POST,
            "/dang-nhap",
            Access::Public,
            post(auth::login),
        ),
        r(Method::POST, "/dang-xuat", signed_in, post(auth::logout)),
        r(
            Method::GET,
            "/bang-dieu-khien",
            signed_in,
            get(home::dashboard),
        ),
        r(
            Method::GET,
            "/tai-khoan/mat-khau",
            signed_in,
            get(accounts::password_form),
        ),
        r(
            Method::POST,
            "/tai-khoan/mat-khau",
            signed_in,
            post(accounts::change_password),
        ),
        r(
            Method::GET,
            "/quan-tri/nguoi-dung",
            Access::Roles(ADMIN),
            get(admin::list_users),
        ),
        r(
            Method::GET,
            "/quan-tri/nguoi-dung/moi",
            Access::Roles(ADMIN),
            get(admin::new_user_form),
        ),
        r(
            Method::POST,
            "/quan-tri/nguoi-dung",
            Access::Roles(ADMIN),
            post(admin::create_user),
        ),
        r(
            Method::POST,
            "/quan-tri/nguoi-dung/{id}/khoa",
            Access::Roles(ADMIN),
            post(admin::disable_user),
        ),
        r(
            Method::POST,
            "/quan-tri/nguoi-dung/{id}/mo-khoa",
            Access::Roles(ADMIN),
            post(admin::enable_user),
        ),
        r(
            Method::POST,
            "/quan-tri/nguoi-dung/{id}/dat-mat-khau",
            Access::Roles(ADMIN),
            post(admin::reset_password),
        ),
        r(
            Method::GET,
            "/nhat-ky",
            Access::Roles(DISTRICT),
            get(audit::list),
        ),
        // Campaigns (R1)
        r(
            Method::GET,
            "/dot-van-dong",
            Access::Roles(DISTRICT),
            get(campaigns::list),
        ),
        r(
            Method::GET,
            "/dot-van-dong/moi",
            Access::Roles(DISTRICT),
            get(campaigns::new_form),
        ),
        r(
            Method::POST,
            "/dot-van-dong",
            Access::Roles(DISTRICT),
            post(campaigns::create),
        ),
        r(
            Method::GET,
            "/dot-van-dong/{id}/sua",
            Access::Roles(DISTRICT),
            get(campaigns::edit_form),
        ),
        r(
            Method::POST,
            "/dot-van-dong/{id}",
            Access::Roles(DISTRICT),
            post(campaigns::update),
        ),
        // Agencies (R2)
        r(
            Method::GET,
            "/don-vi",
            Access::Roles(DISTRICT),
            get(agencies::list),
        ),
        r(
            Method::GET,
            "/don-vi/moi",
            Access::Roles(DISTRICT),
            get(agencies::new_form),
        ),
        r(
            Method::POST,
            "/don-vi",
            Access::Roles(DISTRICT),
            post(agencies::create),
        ),
        r(Method::GET, "/don-vi/{id}", signed_in, get(agencies::show)),
        r(
            Method::GET,
            "/don-vi/{id}/sua",
            Access::Roles(DISTRICT),
            get(agencies::edit_form),
        ),
        r(
            Method::POST,
            "/don-vi/{id}",
            Access::Roles(DISTRICT),
            post(agencies::update),
        ),
        r(
            Method::POST,
            "/don-vi/{id}/chi-tieu",
            Access::Roles(DISTRICT),
            post(agencies::set_override),
        ),
        // Places
        r(
            Method::GET,
            "/xa",
            Access::Roles(REGISTRY),
            get(places::communes),
        ),
        r(
            Method::GET,
            "/xa/{code}",
            Access::Roles(REGISTRY),
            get(places::commune),
        ),
        r(
            Method::POST,
            "/xa/{code}/thon",
            Access::Roles(REGISTRY),
            post(places::add_village),
        ),
        r(
            Method::POST,
            "/xa/{code}/gop-thon",
            Access::Roles(DISTRICT),
            post(places::merge_villages),
        ),
        r(
            Method::POST,
            "/xa/{code}/gop-thon/{id}/hoan-tac",
            Access::Roles(DISTRICT),
            post(places::undo_village_merge),
        ),
        // Households
        r(Method::GET, "/ho", signed_in, get(households::list)),
        r(
            Method::GET,
            "/ho/moi",
            Access::Roles(REGISTRY),
            get(households::new_form),
        ),
        r(
            Method::POST,
            "/ho",
            Access::Roles(REGISTRY),
            post(households::create),
        ),
        r(Method::GET, "/ho/{id}", signed_in, get(households::show)),
        r(
            Method::GET,
            "/ho/{id}/sua",
            Access::Roles(REGISTRY),
            get(households::edit_form),
        ),
        r(
            Method::POST,
            "/ho/{id}",
            Access::Roles(REGISTRY),
            post(households::update),
        ),
        // Duplicate household check (R4)
        r(
            Method::POST,
            "/ho/kiem-tra",
            Access::Roles(REGISTRY),
            post(duplicates::check),
        ),
        r(Method::GET, "/trung-ho", signed_in, get(duplicates::search)),
        r(
            Method::GET,
            "/trung-ho/ra-soat",
            Access::Roles(REGISTRY),
            get(duplicates::review),
        ),
        r(
            Method::POST,
            "/trung-ho/khong-trung",
            Access::Roles(REGISTRY),
            post(duplicates::not_duplicate),
        ),
        r(
            Method::POST,
            "/trung-ho/gop",
            Access::Roles(REGISTRY),
            post(duplicates::merge),
        ),
        r(
            Method::POST,
            "/trung-ho/gop/{id}/hoan-tac",
            Access::Roles(DISTRICT),
            post(duplicates::unmerge),
        ),
        // Reports (R9): scoped inside each handler, so every signed-in user gets their own part.
        r(Method::GET, "/bao-cao", signed_in, get(reports::summary)),
        r(
            Method::GET,
            "/bao-cao/tong-hop.xlsx",
            signed_in,
            get(reports::summary_xlsx),
        ),
        r(
            Method::GET,
            "/bao-cao/tong-hop.csv",
            signed_in,
            get(reports::summary_csv),
        ),
        r(
            Method::GET,
            "/bao-cao/in",
            signed_in,
            get(reports::summary_print),
        ),
        r(
            Method::GET,
            "/bao-cao/don-vi",
            signed_in,
            get(reports::agencies),
        ),
        r(
            Method::GET,
            "/bao-cao/don-vi.xlsx",
            signed_in,
            get(reports::agencies_xlsx),
        ),
        r(
            Method::GET,
            "/bao-cao/don-vi.csv",
            signed_in,
            get(reports::agencies_csv),
        ),
        r(
            Method::GET,
            "/bao-cao/nhieu-nam",
            signed_in,
            get(reports::years),
        ),
        r(
            Method::GET,
            "/bao-cao/nhieu-nam.xlsx",
            signed_in,
            get(reports::years_xlsx),
        ),
        r(
            Method::GET,
            "/bao-cao/nhieu-nam.csv",
            signed_in,
            get(reports::years_csv),
        ),
        r(
            Method::GET,
            "/bao-cao/hieu-qua",
            signed_in,
            get(effectiveness::page),
        ),
        r(
            Method::GET,
            "/bao-cao/hieu-qua.xlsx",
            signed_in,
            get(effectiveness::xlsx),
        ),
        r(
            Method::GET,
            "/bao-cao/hieu-qua.csv",
            signed_in,
            get(effectiveness::csv),
        ),
        // Sponsorships (R2–R8)
        r(
            Method::GET,
            "/nhan-giup",
            signed_in,
            get(sponsorships::list),
        ),
        r(
            Method::POST,
            "/nhan-giup",
            Access::Roles(AGENCY),
            post(sponsorships::pledge),
        ),
        r(
            Method::GET,
            "/nhan-giup/dang-ky",
            Access::Roles(AGENCY),
            get(sponsorships::pledge_form),
        ),
        r(
            Method::GET,
            "/nhan-giup/nhap-lich-su",
            Access::Roles(DISTRICT),
            get(history::upload_form),
        ),
        r(
            Method::POST,
            "/nhan-giup/nhap-lich-su",
            Access::Roles(DISTRICT),
            post(history::upload)
                .layer(axum::extract::DefaultBodyLimit::max(imports::UPLOAD_LIMIT)),
        ),
        r(
            Method::GET,
            "/nhan-giup/nhap-lich-su/mau.csv",
            Access::Roles(DISTRICT),
            get(history::template_csv),
        ),
        r(
            Method::GET,
            "/nhan-giup/nhap-lich-su/{id}",
            Access::Roles(DISTRICT),
            get(history::show_preview),
        ),
        r(
            Method::POST,
            "/nhan-giup/nhap-lich-su/{id}",
            Access::Roles(DISTRICT),
            post(history::confirm),
        ),
        r(
            Method::GET,
            "/nhan-giup/{id}",
            signed_in,
            get(sponsorships::show),
        ),
        r(
            Method::POST,
            "/nhan-giup/{id}/xac-nhan",
            Access::Roles(COMMUNE),
            post(sponsorships::confirm),
        ),
        r(
            Method::POST,
            "/nhan-giup/{id}/tu-choi",
            Access::Roles(COMMUNE),
            post(sponsorships::reject),
        ),
        r(
            Method::POST,
            "/nhan-giup/{id}/huy",
            Access::Roles(CANCELLERS),
            post(sponsorships::cancel),
        ),
        r(
            Method::POST,
            "/nhan-giup/{id}/trao",
            Access::Roles(AGENCY),
            post(sponsorships::deliver)
                .layer(axum::extract::DefaultBodyLimit::max(photos::BODY_LIMIT)),
        ),
        r(
            Method::POST,
            "/nhan-giup/{id}/tham",
            signed_in,
            post(sponsorships::visit)
                .layer(axum::extract::DefaultBodyLimit::max(photos::BODY_LIMIT)),
        ),
        r(Method::GET, "/anh/{id}", signed_in, get(photos::full)),
        r(Method::GET, "/anh/{id}/nho", signed_in, get(photos::thumb)),
        r(
            Method::POST,
            "/anh/{id}/xoa",
            signed_in,
            post(photos::delete),
        ),
        r(
            Method::POST,
            "/ho/{id}/dong-y-anh",
            Access::Roles(REGISTRY),
            post(photos::set_consent),
        ),
        r(
            Method::GET,
            "/ho/nhap",
            Access::Roles(REGISTRY),
            get(imports::upload_form),
        ),
        r(
            Method::POST,
            "/ho/nhap",
            Access::Roles(REGISTRY),
            post(imports::upload)
                .layer(axum::extract::DefaultBodyLimit::max(imports::UPLOAD_LIMIT)),
        ),
        r(
            Method::GET,
            "/ho/nhap/mau.xlsx",
            Access::Roles(REGISTRY),
            get(imports::template_xlsx),
        ),
        r(
            Method::GET,
            "/ho/nhap/mau.csv",
            Access::Roles(REGISTRY),
            get(imports::template_csv),
        ),
        r(
            Method::GET,
            "/ho/nhap/{id}",
            Access::Roles(REGISTRY),
            get(imports::show_preview),
        ),
        r(
            Method::POST,
            "/ho/nhap/{id}",
            Access::Roles(REGISTRY),
            post(imports::confirm),
        ),
    ]
}

/// The route table without handlers, for tests and documentation.
pub fn route_table() -> Vec<RouteDef> {
    routes().into_iter().map(|(def, _)| def).collect()
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
