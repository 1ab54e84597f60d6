//! Signing in and out, loading the user on every request, and the route access check.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::AppState;
use super::client_ip::ClientIp;
use super::error::{AppError, AppResult};
use super::page::Ctx;
use crate::db::audit::{self, By};
use crate::db::{login_attempts, users};
use crate::domain::roles::{Access, Actor, Role};

const USER_KEY: &str = "uid";
const FINGERPRINT_KEY: &str = "pwfp";
/// When the session was last written back because it was used (unix milliseconds).
const TOUCHED_KEY: &str = "touched";

/// A session stays valid only while the password it was opened with is unchanged.
fn fingerprint(password_hash: &str) -> String {
    let tail = password_hash.len().saturating_sub(16);
    password_hash[tail..].to_string()
}

/// Middleware: put the signed-in [`Actor`] into the request, if the session names an enabled
/// user whose password has not changed since. A disabled user is signed out at their next request.
pub async fn load_actor(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if path.starts_with("/static/") || path == "/healthz" {
        return next.run(req).await;
    }
    let area = state.area.get(&state.db).await;
    req.extensions_mut().insert(super::Area(area));
    let uid = match session.get::<Uuid>(USER_KEY).await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "session store unavailable");
            return AppError::Unavailable(sqlx::Error::PoolTimedOut).into_response();
        }
    };
    if let Some(uid) = uid {
        let row = match users::by_id(&state.db, uid).await {
            Ok(row) => row,
            Err(e) => return AppError::from(e).into_response(),
        };
        let fp: Option<String> = session.get(FINGERPRINT_KEY).await.ok().flatten();
        let valid =
            row.filter(|u| !u.disabled && fp.as_deref() == Some(&fingerprint(&u.password_hash)));
        match valid.and_then(|u| u.actor()) {
            Some(mut actor) => {
                // A commune official of a merged commune sees its predecessors' records too.
                if let Some(code) = actor.commune_code.clone() {
                    match crate::db::places::covered_codes(&state.db, &code).await {
                        Ok(codes) if !codes.is_empty() => actor.communes = codes,
                        Ok(_) => {}
                        Err(e) => return AppError::from(e).into_response(),
                    }
                }
                keep_alive(&session, state.config.session_touch).await;
                req.extensions_mut().insert(actor);
            }
            None => {
                let _ = session.flush().await;
            }
        }
    }
    next.run(req).await
}

/// Move a signed-in session's idle deadline forward while it is used. tower-sessions writes a
/// session back only when it changed; changing it on every request (as reading the flash message
/// with `remove` did) cost an upsert per page view. Here it changes at most every `every`.
async fn keep_alive(session: &Session, every: std::time::Duration) {
    let now = chrono::Utc::now().timestamp_millis();
    let touched: Option<i64> = session.get(TOUCHED_KEY).await.ok().flatten();
    let every = i64::try_from(every.as_millis()).unwrap_or(i64::MAX);
    if touched.is_none_or(|t| now.saturating_sub(t) >= every)
        && let Err(e) = session.insert(TOUCHED_KEY, now).await
    {
        tracing::warn!(error = %e, "could not refresh the session");
    }
}

/// Route-layer middleware: the route table's access rule for this route.
pub async fn require_access(State(access): State<Access>, req: Request, next: Next) -> Response {
    let actor = req.extensions().get::<Actor>();
    if access.allows(actor) {
        return next.run(req).await;
    }
    if actor.is_none() {
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let to = format!("/dang-nhap?tiep={}", urlencode(target));
        return Redirect::to(&to).into_response();
    }
    AppError::Forbidden.into_response()
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Only a path on this site may be a redirect target: `/x`, never `//evil`, `/\evil` or `http:`.
pub fn safe_next(next: Option<&str>) -> Option<&str> {
    let n = next?;
    let ok = n.starts_with('/')
        && !n.starts_with("//")
        && !n.starts_with("/\\")
        && !n.chars().any(|c| c.is_control() || c == '\\')
        && n.len() <= 500;
    ok.then_some(n)
}

/// Where a user lands after signing in.
pub fn landing(role: Role) -> &'static str {
    match role {
        Role::Admin => "/quan-tri/nguoi-dung",
        _ => "/bang-dieu-khien",
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub ctx: Ctx,
    pub username: String,
    pub next: String,
    pub error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    pub tiep: Option<String>,
}

pub async fn login_form(ctx: Ctx, Query(q): Query<NextQuery>) -> Response {
    if let Some(actor) = &ctx.actor {
        return Redirect::to(landing(actor.role)).into_response();
    }
    LoginPage {
        ctx,
        username: String::new(),
        next: safe_next(q.tiep.as_deref()).unwrap_or("").to_string(),
        error: None,
    }
    .into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub tiep: String,
}

const WRONG: &str = "Tên đăng nhập hoặc mật khẩu không đúng.";

pub async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    session: Session,
    ctx: Ctx,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let username: String = form
        .username
        .trim()
        .to_lowercase()
        .chars()
        .take(60)
        .collect();
    let ip = client.to_string();
    let again = |ctx: Ctx, status: StatusCode, msg: String| {
        let page = LoginPage {
            ctx,
            username: form.username.chars().take(60).collect(),
            next: safe_next(Some(&form.tiep)).unwrap_or("").to_string(),
            error: Some(msg),
        };
        Ok((status, page).into_response())
    };

    if username.is_empty() || form.password.is_empty() {
        return again(
            ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Hãy nhập tên đăng nhập và mật khẩu.".into(),
        );
    }
    if let Some(refusal) = login_attempts::refusal(&state.db, &username, &ip).await? {
        super::metrics::login_failed("throttled");
        let mut resp = again(
            ctx,
            StatusCode::TOO_MANY_REQUESTS,
            refusal.message(&username, &ip),
        )?;
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(refusal.retry_after_secs()),
        );
        return Ok(resp);
    }

    let user = users::by_username(&state.db, &username).await?;
    let password = form.password.clone();
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || match hash {
        Some(h) => password_auth::verify_password(password, &h).is_ok(),
        None => {
            // Same work for an unknown user as for a wrong password.
            let _ = password_auth::verify_password(password, dummy_hash());
            false
        }
    })
    .await
    .map_err(|e| AppError::Other(e.into()))?;

    let user = match user {
        Some(u) if ok && !u.disabled => u,
        Some(u) if ok && u.disabled => {
            super::metrics::login_failed("disabled");
            return again(
                ctx,
                StatusCode::FORBIDDEN,
                "Tài khoản này đã bị khóa. Liên hệ quản trị viên.".into(),
            );
        }
        _ => {
            super::metrics::login_failed("wrong_password");
            login_attempts::record_failure(&state.db, &username, &ip).await?;
            return again(ctx, StatusCode::UNAUTHORIZED, WRONG.into());
        }
    };
    let Some(actor) = user.actor() else {
        return Err(AppError::Forbidden);
    };

    session
        .cycle_id()
        .await
        .map_err(|e| AppError::Other(anyhow::anyhow!("session: {e}")))?;
    session
        .insert(USER_KEY, user.id)
        .await
        .map_err(|e| AppError::Other(anyhow::anyhow!("session: {e}")))?;
    session
        .insert(FINGERPRINT_KEY, fingerprint(&user.password_hash))
        .await
        .map_err(|e| AppError::Other(anyhow::anyhow!("session: {e}")))?;

    login_attempts::signed_in(&state.db, &By::from(&actor), &username, user.id).await?;

    let to = safe_next(Some(&form.tiep))
        .filter(|n| !n.starts_with("/dang-nhap"))
        .unwrap_or(landing(actor.role));
    Ok(Redirect::to(to).into_response())
}

pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    Extension(actor): Extension<Actor>,
) -> AppResult<Response> {
    audit::record(
        &state.db,
        &By::from(&actor),
        audit::Entry {
            action: audit::Action::Logout,
            entity: "session",
            entity_id: actor.id.to_string(),
            before: None,
            after: None,
            reason: None,
        },
    )
    .await?;
    let _ = session.flush().await;
    Ok(Redirect::to("/").into_response())
}

/// An Argon2 hash of a random string, used to spend the same time on unknown usernames.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| password_auth::generate_hash(Uuid::new_v4().to_string()))
}

/// After a user changes their own password, keep their current session valid.
pub async fn rebind_session(session: &Session, new_hash: &str) -> AppResult<()> {
    session
        .cycle_id()
        .await
        .map_err(|e| AppError::Other(anyhow::anyhow!("session: {e}")))?;
    session
        .insert(FINGERPRINT_KEY, fingerprint(new_hash))
        .await
        .map_err(|e| AppError::Other(anyhow::anyhow!("session: {e}")))
}
