//! Agency pages.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use uuid::Uuid;

use super::AppState;
use super::error::{AppError, AppResult};
use super::page::{Ctx, CurrentUser};
use crate::db::agencies::{self, AgencyRow, SponsorshipLine};
use crate::db::campaigns;
use crate::domain::roles;

#[derive(Template, WebTemplate)]
#[template(path = "agency.html")]
pub struct AgencyPage {
    pub ctx: Ctx,
    pub agency: AgencyRow,
    pub year: Option<i32>,
    pub rows: Vec<SponsorshipLine>,
}

/// An agency's page: clerks and admins see any; agency staff only their own (others → 404, so
/// ids cannot be probed).
pub async fn show(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<AgencyPage> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    if !roles::can_view_agency(&actor, id) {
        return Err(AppError::NotFound);
    }
    let agency = agencies::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let campaign = campaigns::current(&state.db).await?;
    let rows = match &campaign {
        Some(c) => agencies::sponsorships(&state.db, id, c.id).await?,
        None => Vec::new(),
    };
    Ok(AgencyPage {
        ctx,
        agency,
        year: campaign.map(|c| c.year),
        rows,
    })
}
