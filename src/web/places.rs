//! Communes and their villages. Clerks manage every commune's villages; a commune official
//! manages their own commune's.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::AppState;
use super::error::{AppError, AppResult};
use super::page::{Ctx, CurrentUser, flash};
use crate::db::audit::By;
use crate::db::places::{self, CommuneRow, VillageRow};
use crate::domain::roles::{Actor, Scope};

#[derive(Template, WebTemplate)]
#[template(path = "places/communes.html")]
pub struct CommunesPage {
    pub ctx: Ctx,
    pub communes: Vec<CommuneRow>,
}

pub async fn communes(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
) -> AppResult<CommunesPage> {
    let mut communes = places::communes(&state.db).await?;
    if let Scope::Commune(own) = actor.scope() {
        communes.retain(|c| c.code == own);
    }
    Ok(CommunesPage { ctx, communes })
}

#[derive(Template, WebTemplate)]
#[template(path = "places/commune.html")]
pub struct CommunePage {
    pub ctx: Ctx,
    pub commune: CommuneRow,
    pub villages: Vec<VillageRow>,
}

fn may_manage(actor: &Actor, code: &str) -> bool {
    actor.is_district() || actor.commune_code.as_deref() == Some(code)
}

pub async fn commune(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Path(code): Path<String>,
) -> AppResult<CommunePage> {
    if !may_manage(&actor, &code) {
        return Err(AppError::NotFound);
    }
    let commune = places::communes(&state.db)
        .await?
        .into_iter()
        .find(|c| c.code == code)
        .ok_or(AppError::NotFound)?;
    let villages = places::villages(&state.db, &code).await?;
    Ok(CommunePage {
        ctx,
        commune,
        villages,
    })
}

#[derive(Deserialize)]
pub struct VillageForm {
    #[serde(default)]
    pub name: String,
}

pub async fn add_village(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    Path(code): Path<String>,
    Form(f): Form<VillageForm>,
) -> AppResult<Response> {
    if !may_manage(&actor, &code) {
        return Err(AppError::NotFound);
    }
    let back = format!("/xa/{code}");
    let name = crate::domain::text::clean(&f.name);
    if name.is_empty() || name.chars().count() > 120 {
        flash(&session, "error", "Tên thôn, bản dài từ 1 đến 120 ký tự.").await;
        return Ok(Redirect::to(&back).into_response());
    }
    let mut tx = state.db.begin().await?;
    let added = match places::add_village(&mut tx, &By::from(&actor), &code, &name).await {
        Ok(added) => added,
        Err(sqlx::Error::Database(db)) if db.constraint() == Some("villages_commune_fkey") => {
            return Err(AppError::NotFound);
        }
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    match added {
        Some(_) => flash(&session, "ok", format!("Đã thêm {name}.")).await,
        None => {
            flash(
                &session,
                "error",
                format!("Xã đã có thôn “{name}” (cách viết khác vẫn tính là trùng)."),
            )
            .await
        }
    }
    Ok(Redirect::to(&back).into_response())
}
