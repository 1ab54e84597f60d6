//! Household pages.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use uuid::Uuid;

use super::AppState;
use super::error::{AppError, AppResult};
use super::page::{Ctx, CurrentUser};
use crate::db::households;
use crate::domain::labels;
use crate::domain::money::format_vnd;
use crate::domain::roles;

pub struct HistoryLine {
    pub year: i32,
    pub agencies: String,
    pub support: String,
    pub pledged: String,
    pub delivered: String,
    pub state: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "household.html")]
pub struct HouseholdPage {
    pub ctx: Ctx,
    pub h: households::HouseholdRow,
    /// The CCCD as this user may see it: in full, masked, or absent.
    pub cccd: String,
    pub status: &'static str,
    pub ethnicity: &'static str,
    pub gender: &'static str,
    pub needs: Vec<&'static str>,
    pub history: Vec<HistoryLine>,
    pub statuses: Vec<(i32, &'static str)>,
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<HouseholdPage> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let h = households::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !roles::can_view_household(&actor, &h.commune_code) {
        return Err(AppError::NotFound);
    }
    let cccd = match &h.cccd {
        Some(c) if roles::can_see_full_cccd(&actor, &h.commune_code) => c.clone(),
        Some(c) => roles::mask_cccd(c),
        None => "Chưa có".to_string(),
    };
    let mut needs = Vec::new();
    for (flag, label) in [
        (h.lacks_capital, "Thiếu vốn sản xuất"),
        (h.lacks_land, "Thiếu đất sản xuất"),
        (h.lacks_labour, "Thiếu lao động"),
        (h.lacks_technique, "Thiếu kỹ thuật"),
        (h.illness, "Ốm đau, bệnh tật"),
    ] {
        if flag {
            needs.push(label);
        }
    }
    let history = households::history(&state.db, id)
        .await?
        .into_iter()
        .map(|r| HistoryLine {
            year: r.year,
            agencies: r.agencies,
            support: format!(
                "{}: {}",
                labels::support_form(&r.support_form),
                r.support_summary
            ),
            pledged: format_vnd(r.pledged_value),
            delivered: format_vnd(r.delivered_value),
            state: labels::sponsorship_state(&r.state),
        })
        .collect();
    let statuses = households::status_history(&state.db, id)
        .await?
        .into_iter()
        .map(|(y, s)| (y, labels::household_status(&s)))
        .collect();
    Ok(HouseholdPage {
        ctx,
        cccd,
        status: labels::household_status(&h.status),
        ethnicity: labels::ethnicity(&h.ethnicity),
        gender: h.gender.as_deref().map(labels::gender).unwrap_or(""),
        needs,
        history,
        statuses,
        h,
    })
}
