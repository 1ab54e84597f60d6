//! One household's page: its details, its history of help and statuses, visits and photos.

use super::{cccd_for, visible_household};
use crate::db::households::{self};
use crate::domain::household::{PriorityFacts, priority_reasons};
use crate::domain::labels;
use crate::domain::money::format_vnd;
use crate::domain::roles::{self, Actor, Role};
use crate::web::AppState;
use crate::web::error::AppResult;
use crate::web::page::{Ctx, CurrentUser};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use uuid::Uuid;

pub struct HistoryLine {
    pub id: Uuid,
    pub year: i32,
    pub agencies: String,
    pub support: String,
    pub pledged: String,
    pub delivered: String,
    pub state: &'static str,
}

/// A household as one viewer may see it. The page is given this, never the database row, so no
/// template can print a CCCD in full to a role that must not see it: the number is masked here,
/// once, for the viewer's role, and the row's own `cccd` is not among the fields.
pub struct HouseholdView {
    pub id: Uuid,
    pub head_name: String,
    pub village_name: String,
    pub commune_name: String,
    pub birth_year: Option<i32>,
    /// In full for the district and the household's commune, masked otherwise, "Chưa có" if none.
    pub cccd: String,
    /// The old CMND, shown like the CCCD; empty if none.
    pub old_id_number: String,
    pub household_code: Option<String>,
    pub members: i32,
    pub status: String,
    pub status_year: i32,
    pub will_to_escape: bool,
    pub other_needs: Option<String>,
    pub notes: Option<String>,
    pub merged_into: Option<Uuid>,
}

impl HouseholdView {
    pub fn for_viewer(actor: &Actor, h: &households::HouseholdRow) -> HouseholdView {
        HouseholdView {
            id: h.id,
            head_name: h.head_name.clone(),
            village_name: h.village_name.clone(),
            commune_name: h.commune_name.clone(),
            birth_year: h.birth_year,
            cccd: cccd_for(actor, &h.commune_code, h.cccd.as_deref())
                .unwrap_or_else(|| "Chưa có".to_string()),
            old_id_number: cccd_for(actor, &h.commune_code, h.old_id_number.as_deref())
                .unwrap_or_default(),
            household_code: h.household_code.clone(),
            members: h.members,
            status: h.status.clone(),
            status_year: h.status_year,
            will_to_escape: h.will_to_escape,
            other_needs: h.other_needs.clone(),
            notes: h.notes.clone(),
            merged_into: h.merged_into,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "household.html")]
pub struct HouseholdPage {
    pub ctx: Ctx,
    pub h: HouseholdView,
    pub status: &'static str,
    pub ethnicity: &'static str,
    pub gender: &'static str,
    pub needs: Vec<&'static str>,
    pub priority: Vec<&'static str>,
    pub history: Vec<HistoryLine>,
    pub statuses: Vec<crate::web::sponsorships::StatusLine>,
    /// Each follow-up visit's own finding: (date, "Quan sát khi thăm: …").
    pub visits: Vec<(String, String)>,
    pub can_edit: bool,
    /// Agency staff may adopt a household from its page.
    pub can_pledge: bool,
    /// The photos of its deliveries and visits this user may see, across the years.
    pub photos: Vec<crate::web::photos::PhotoView>,
    /// The family's answer about photos ("Chưa hỏi" by default), and who recorded it when.
    pub consent: &'static str,
    pub consent_code: &'static str,
    pub consent_by: String,
    /// The commune's reviews under the poverty standard, oldest first (issue #26).
    pub reviews: Vec<crate::web::profiles::ReviewView>,
    /// Forms of help that fit its latest review, needs and wishes.
    pub suggestions: Vec<crate::domain::poverty::Suggestion>,
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<HouseholdPage> {
    let h = visible_household(&state, &actor, &id).await?;
    let id = h.id;
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
    let (_, prio) = households::priority_context(&state.db).await?;
    let priority = priority_reasons(&PriorityFacts {
        will_to_escape: h.will_to_escape,
        lacks_capital: h.lacks_capital,
        lacks_technique: h.lacks_technique,
        in_priority_commune: prio.contains(&h.commune_code),
    });
    let history = households::history(&state.db, id)
        .await?
        .into_iter()
        .map(|r| HistoryLine {
            id: r.id,
            year: r.year,
            agencies: r.agencies,
            support: format!(
                "{}: {}",
                labels::support_form(&r.support_form),
                r.support_summary
            ),
            pledged: format_vnd(r.pledged_value),
            delivered: format_vnd(r.delivered_value),
            state: r.state.label(),
        })
        .collect();
    let status_rows = households::status_history(&state.db, id).await?;
    let standards = crate::db::profiles::standards(&state.db).await?;
    let profile_rows = crate::db::profiles::of_household(&state.db, id).await?;
    let reviews = crate::web::profiles::reviews(
        &standards,
        &profile_rows,
        &status_rows,
        (h.status_year, &h.status),
    );
    let suggestions = crate::web::profiles::suggestions(&standards, &profile_rows, &h);
    let statuses = crate::web::sponsorships::status_lines(status_rows);
    let visits = crate::db::sponsorships::visits_of_household(&state.db, id)
        .await?
        .iter()
        .map(|v| {
            (
                crate::domain::dates::format_date(v.visited_on),
                crate::web::sponsorships::visit_status_label(v),
            )
        })
        .collect();
    let photos = crate::web::photos::of_household(&state, &actor, id, &h.commune_code).await?;
    let consent_row = crate::db::photos::consent(&state.db, id).await?;
    let consent = consent_row
        .as_ref()
        .and_then(|c| crate::db::photos::Consent::parse(&c.photo_consent))
        .unwrap_or(crate::db::photos::Consent::NotAsked);
    let consent_by = match consent_row {
        Some(crate::db::photos::ConsentRow {
            recorded_by: Some(by),
            photo_consent_at: Some(at),
            ..
        }) => format!(
            "{by} ghi lúc {}",
            crate::domain::dates::format_date_time(at)
        ),
        _ => String::new(),
    };
    Ok(HouseholdPage {
        reviews,
        suggestions,
        photos,
        consent: consent.label(),
        consent_code: consent.as_str(),
        consent_by,
        can_edit: roles::can_edit_household(&actor, &h.commune_code),
        can_pledge: actor.role == Role::Agency && h.merged_into.is_none(),
        ctx,
        status: labels::household_status(&h.status),
        ethnicity: labels::ethnicity(&h.ethnicity),
        gender: h.gender.as_deref().map(labels::gender).unwrap_or(""),
        needs,
        priority,
        history,
        statuses,
        visits,
        h: HouseholdView::for_viewer(&actor, &h),
    })
}
