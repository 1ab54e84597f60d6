//! Administration of accounts: list, create, disable, re-enable, reset a password.

use crate::db::constraints;
use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::AppState;
use super::error::{AppError, AppResult};
use super::page::{Ctx, CurrentUser, flash};
use crate::db::audit::By;
use crate::db::users::{self, NewUser, UserListRow};
use crate::domain::accounts::{check_new_password, hash_password};
use crate::domain::accounts::{parse_full_name, parse_username, random_password};
use crate::domain::roles::Role;

pub struct RoleView {
    pub code: &'static str,
    pub label: &'static str,
}

fn roles() -> Vec<RoleView> {
    Role::ALL
        .iter()
        .map(|r| RoleView {
            code: r.as_str(),
            label: r.label(),
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    pub ctx: Ctx,
    pub users: Vec<UserListRow>,
    pub me: Uuid,
}

impl UsersPage {
    pub fn role_label(&self, code: &str) -> &'static str {
        Role::parse(code).map(|r| r.label()).unwrap_or("")
    }
}

pub async fn list_users(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
) -> AppResult<UsersPage> {
    Ok(UsersPage {
        ctx,
        users: users::list(&state.db).await?,
        me: actor.id,
    })
}

#[derive(Deserialize, Default, Clone)]
pub struct NewUserForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub full_name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub agency_id: String,
    #[serde(default)]
    pub commune_code: String,
    #[serde(default)]
    pub password: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/user_new.html")]
pub struct NewUserPage {
    pub ctx: Ctx,
    pub form: NewUserForm,
    pub errors: BTreeMap<&'static str, String>,
    pub roles: Vec<RoleView>,
    pub agencies: Vec<(Uuid, String)>,
    pub communes: Vec<(String, String)>,
}

impl NewUserPage {
    pub fn error(&self, field: &str) -> &str {
        self.errors.get(field).map(String::as_str).unwrap_or("")
    }
    pub fn agency_selected(&self, id: &Uuid) -> bool {
        self.form.agency_id == id.to_string()
    }
}

async fn new_user_page(
    state: &AppState,
    ctx: Ctx,
    form: NewUserForm,
    errors: BTreeMap<&'static str, String>,
) -> AppResult<NewUserPage> {
    Ok(NewUserPage {
        ctx,
        form,
        errors,
        roles: roles(),
        agencies: users::agencies_for_select(&state.db).await?,
        communes: users::communes_for_select(&state.db).await?,
    })
}

pub async fn new_user_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<NewUserPage> {
    new_user_page(&state, ctx, NewUserForm::default(), BTreeMap::new()).await
}

/// A new-user form that passed validation (the password is hashed next).
struct Checked {
    username: String,
    full_name: String,
    role: Role,
    agency_id: Option<Uuid>,
    commune_code: Option<String>,
}

/// Validate the form into a [`NewUser`] (without the hash), or say what is wrong field by field.
fn validate(
    state_agencies: &[(Uuid, String)],
    communes: &[(String, String)],
    f: &NewUserForm,
) -> Result<Checked, BTreeMap<&'static str, String>> {
    let mut errors = BTreeMap::new();
    let username = parse_username(&f.username)
        .map_err(|e| errors.insert("username", e))
        .ok();
    let full_name = parse_full_name(&f.full_name)
        .map_err(|e| errors.insert("full_name", e))
        .ok();
    let role = Role::parse(&f.role);
    if role.is_none() {
        errors.insert("role", "Hãy chọn vai trò.".to_string());
    }
    let mut agency_id = None;
    let mut commune_code = None;
    match role {
        Some(Role::Agency) => match f
            .agency_id
            .parse::<Uuid>()
            .ok()
            .filter(|id| state_agencies.iter().any(|(a, _)| a == id))
        {
            Some(id) => agency_id = Some(id),
            None => {
                errors.insert(
                    "agency_id",
                    "Tài khoản cơ quan phải gắn với một cơ quan, đơn vị.".to_string(),
                );
            }
        },
        Some(Role::Commune) => match communes.iter().find(|(c, _)| *c == f.commune_code) {
            Some((c, _)) => commune_code = Some(c.clone()),
            None => {
                errors.insert(
                    "commune_code",
                    "Tài khoản xã phải gắn với một xã, thị trấn.".to_string(),
                );
            }
        },
        _ => {}
    }
    if let Err(e) = check_new_password(&f.password) {
        errors.insert("password", e);
    }
    match (username, full_name, role) {
        (Some(username), Some(full_name), Some(role)) if errors.is_empty() => Ok(Checked {
            username,
            full_name,
            role,
            agency_id,
            commune_code,
        }),
        _ => Err(errors),
    }
}

pub async fn create_user(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    ctx: Ctx,
    Form(form): Form<NewUserForm>,
) -> AppResult<Response> {
    let agencies = users::agencies_for_select(&state.db).await?;
    let communes = users::communes_for_select(&state.db).await?;
    let state2 = state.clone();
    let again = |ctx, mut form: NewUserForm, errors| async move {
        form.password.clear();
        let page = new_user_page(&state2, ctx, form, errors).await?;
        Ok::<_, AppError>((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let checked = match validate(&agencies, &communes, &form) {
        Ok(v) => v,
        Err(errors) => return again(ctx, form, errors).await,
    };
    let new = NewUser {
        username: checked.username,
        full_name: checked.full_name,
        password_hash: hash_password(form.password.clone()).await?,
        role: checked.role,
        agency_id: checked.agency_id,
        commune_code: checked.commune_code,
    };
    match users::create(&state.db, &By::from(&actor), &new).await {
        Ok(_) => {}
        Err(e) => match constraints::refusal_on(&e, "users") {
            Some(r) => {
                let errors = BTreeMap::from([(r.field, r.message.to_string())]);
                return again(ctx, form, errors).await;
            }
            None => return Err(e.into()),
        },
    }
    flash(
        &session,
        "ok",
        format!("Đã tạo tài khoản {}.", new.username),
    )
    .await;
    Ok(Redirect::to("/quan-tri/nguoi-dung").into_response())
}

fn parse_id(id: &str) -> AppResult<Uuid> {
    id.parse().map_err(|_| AppError::NotFound)
}

async fn set_disabled(
    state: &AppState,
    actor: &crate::domain::roles::Actor,
    session: &Session,
    id: &str,
    disabled: bool,
) -> AppResult<Response> {
    let id = parse_id(id)?;
    if id == actor.id && disabled {
        flash(
            session,
            "error",
            "Không thể tự khóa tài khoản của chính mình.",
        )
        .await;
        return Ok(Redirect::to("/quan-tri/nguoi-dung").into_response());
    }
    if !users::set_disabled(&state.db, &By::from(actor), id, disabled).await? {
        return Err(AppError::NotFound);
    }
    let msg = if disabled {
        "Đã khóa tài khoản; mọi phiên đăng nhập của tài khoản này chấm dứt ngay."
    } else {
        "Đã mở khóa tài khoản."
    };
    flash(session, "ok", msg).await;
    Ok(Redirect::to("/quan-tri/nguoi-dung").into_response())
}

pub async fn disable_user(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    Path(id): Path<String>,
) -> AppResult<Response> {
    set_disabled(&state, &actor, &session, &id, true).await
}

pub async fn enable_user(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    Path(id): Path<String>,
) -> AppResult<Response> {
    set_disabled(&state, &actor, &session, &id, false).await
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/password_reset.html")]
pub struct ResetPage {
    pub ctx: Ctx,
    pub username: String,
    pub password: String,
}

/// Give a user a new random password, shown once on this page (never stored in clear, never
/// put in a flash message that would sit in the session table).
pub async fn reset_password(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let user = users::by_id(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let password = random_password();
    let hash = hash_password(password.clone()).await?;
    users::set_password(&state.db, &By::from(&actor), id, &hash).await?;
    let mut resp = ResetPage {
        ctx,
        username: user.username,
        password,
    }
    .into_response();
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}
