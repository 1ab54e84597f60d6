//! Communes and their villages. Clerks manage every commune's villages; a commune official
//! manages their own commune's.

use crate::db::constraints;
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
use crate::db::places::{self, CommuneRow, VillageMergeError, VillageMergeRow, VillageRow};
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
    if let Scope::Commune(covered) = actor.scope() {
        communes.retain(|c| covered.contains(&c.code));
    }
    Ok(CommunesPage { ctx, communes })
}

#[derive(Template, WebTemplate)]
#[template(path = "places/commune.html")]
pub struct CommunePage {
    pub ctx: Ctx,
    pub commune: CommuneRow,
    pub villages: Vec<VillageRow>,
    /// Merges of this commune's villages, newest first (the district merges and undoes them).
    pub merges: Vec<VillageMergeRow>,
    pub can_merge: bool,
}

impl CommunePage {
    pub fn when(&self, m: &VillageMergeRow) -> String {
        m.created_at
            .with_timezone(&crate::domain::dates::vietnam_offset())
            .format("%d/%m/%Y %H:%M")
            .to_string()
    }
}

fn may_manage(actor: &Actor, code: &str) -> bool {
    actor.is_district() || actor.covers(code)
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
    let merges = places::village_merges(&state.db, &code).await?;
    Ok(CommunePage {
        ctx,
        commune,
        villages,
        merges,
        can_merge: actor.is_district(),
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
    let added = match places::add_village(&state.db, &By::from(&actor), &code, &name).await {
        Ok(added) => added,
        Err(e) if constraints::broke(&e, "villages_commune_fkey") => {
            return Err(AppError::NotFound);
        }
        Err(e) => return Err(e.into()),
    };
    match added {
        places::Added::New(_) => flash(&session, "ok", format!("Đã thêm {name}.")).await,
        places::Added::Exists(_, existing) => {
            flash(
                &session,
                "error",
                format!(
                    "Không thêm: xã đã có thôn “{existing}”. “{name}” là cùng một thôn \
                     (không tính chữ Thôn, Bản, Khu, Tổ, Xóm và cách viết hoa, dấu)."
                ),
            )
            .await
        }
    }
    Ok(Redirect::to(&back).into_response())
}

#[derive(Deserialize, Default)]
pub struct MergeForm {
    /// The village that stays.
    #[serde(default)]
    pub giu: String,
    /// The village merged into it.
    #[serde(default)]
    pub gop: String,
    #[serde(default)]
    pub ly_do: String,
}

/// `POST /xa/{code}/gop-thon` (district): two villages of the commune that are one; the
/// households of the second move to the first. Audited; undone exactly by the next route.
pub async fn merge_villages(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    Path(code): Path<String>,
    Form(f): Form<MergeForm>,
) -> AppResult<Response> {
    let back = format!("/xa/{code}");
    let reason = crate::domain::text::clean(&f.ly_do);
    let (Ok(survivor), Ok(merged)) = (f.giu.parse(), f.gop.parse()) else {
        flash(
            &session,
            "error",
            "Hãy chọn thôn giữ lại và thôn gộp vào nó.",
        )
        .await;
        return Ok(Redirect::to(&back).into_response());
    };
    if reason.is_empty() || reason.chars().count() > 500 {
        flash(
            &session,
            "error",
            "Hãy ghi lý do gộp hai thôn (tối đa 500 ký tự).",
        )
        .await;
        return Ok(Redirect::to(&back).into_response());
    }
    match places::merge_villages(
        &state.db,
        &By::from(&actor),
        &code,
        survivor,
        merged,
        &reason,
    )
    .await
    {
        Ok(_) => {
            flash(
                &session,
                "ok",
                "Đã gộp hai thôn; các hộ của thôn gộp đã chuyển sang thôn giữ lại.",
            )
            .await;
        }
        Err(VillageMergeError::Db(e)) => return Err(e.into()),
        Err(e) => flash(&session, "error", e.to_string()).await,
    }
    Ok(Redirect::to(&back).into_response())
}

/// `POST /xa/{code}/gop-thon/{id}/hoan-tac` (district): undo a merge of villages exactly.
pub async fn undo_village_merge(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    Path((code, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let back = format!("/xa/{code}");
    let id: uuid::Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    match places::undo_village_merge(&state.db, &By::from(&actor), &code, id).await {
        Ok(()) => {
            flash(&session, "ok", "Đã hoàn tác: các hộ đã về lại thôn cũ.").await;
        }
        Err(VillageMergeError::NotTwoVillages) => return Err(AppError::NotFound),
        Err(VillageMergeError::Db(e)) => return Err(e.into()),
        Err(e) => flash(&session, "error", e.to_string()).await,
    }
    Ok(Redirect::to(&back).into_response())
}
