//! A user's own account: changing the password.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::AppState;
use super::error::{AppError, AppResult};
use super::page::{Ctx, CurrentUser, flash};
use crate::db::audit::By;
use crate::db::users;
use crate::domain::accounts::{check_new_password, hash_password};

#[derive(Template, WebTemplate)]
#[template(path = "password.html")]
pub struct PasswordPage {
    pub ctx: Ctx,
    pub error: Option<String>,
}

pub async fn password_form(ctx: Ctx) -> PasswordPage {
    PasswordPage { ctx, error: None }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    pub current: String,
    #[serde(default)]
    pub new_password: String,
    #[serde(default)]
    pub confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    ctx: Ctx,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let fail = |ctx: Ctx, msg: String| {
        Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            PasswordPage {
                ctx,
                error: Some(msg),
            },
        )
            .into_response())
    };
    let user = users::by_id(&state.db, actor.id)
        .await?
        .ok_or(AppError::Forbidden)?;
    let current = form.current.clone();
    let hash = user.password_hash.clone();
    let ok =
        tokio::task::spawn_blocking(move || password_auth::verify_password(current, &hash).is_ok())
            .await
            .map_err(|e| AppError::Other(e.into()))?;
    if !ok {
        return fail(ctx, "Mật khẩu hiện tại không đúng.".into());
    }
    if let Err(msg) = check_new_password(&form.new_password) {
        return fail(ctx, msg);
    }
    if form.new_password != form.confirm {
        return fail(ctx, "Mật khẩu nhập lại không khớp.".into());
    }
    let new_hash = hash_password(form.new_password).await?;
    users::set_password(&state.db, &By::from(&actor), actor.id, &new_hash).await?;
    // The session was bound to the old password; bind it to the new one so this user stays in
    // while every other session of theirs ends.
    super::auth::rebind_session(&session, &new_hash).await?;
    flash(&session, "ok", "Đã đổi mật khẩu.").await;
    Ok(Redirect::to("/bang-dieu-khien").into_response())
}
