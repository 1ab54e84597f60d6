//! The home page (the current campaign and its deadlines) and each role's dashboard.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use super::AppState;
use super::error::AppResult;
use super::page::{Ctx, CurrentUser};
use crate::db::{agencies, campaigns, stats};
use crate::domain::dates::{self, DeadlineStatus};
use crate::domain::money::{format_vnd, group_thousands};
use crate::domain::roles::{Role, Scope};

/// The current campaign as the layout shows it.
pub struct CampaignView {
    pub year: i32,
    pub name: String,
    pub registration_deadline: String,
    pub report_deadline: String,
    pub registration: DeadlineStatus,
    pub report: DeadlineStatus,
    pub target: String,
    pub priority: Vec<(String, String)>,
}

async fn campaign_view(state: &AppState) -> AppResult<Option<(CampaignView, uuid::Uuid)>> {
    let Some(c) = campaigns::current(&state.db).await? else {
        return Ok(None);
    };
    let today = dates::today();
    let priority = campaigns::priority_communes(&state.db, c.id)
        .await?
        .into_iter()
        .map(|p| (p.commune_name, p.reason))
        .collect();
    let view = CampaignView {
        year: c.year,
        name: c.name,
        registration_deadline: dates::format_date(c.registration_deadline),
        report_deadline: dates::format_date(c.report_deadline),
        registration: dates::deadline_status(c.registration_deadline, today),
        report: dates::deadline_status(c.report_deadline, today),
        target: format_vnd(c.target_per_household),
        priority,
    };
    Ok(Some((view, c.id)))
}

/// A labelled figure of the summary tiles.
pub struct Figure {
    pub label: &'static str,
    pub value: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    pub ctx: Ctx,
    pub campaign: Option<CampaignView>,
    pub figures: Vec<Figure>,
}

pub async fn index(State(state): State<AppState>, ctx: Ctx) -> AppResult<HomePage> {
    let (campaign, figures) = match campaign_view(&state).await? {
        Some((view, id)) => {
            let f = stats::campaign_figures(&state.db, id).await?;
            let figures = vec![
                Figure {
                    label: "Cơ quan, đơn vị",
                    value: group_thousands(f.agencies),
                },
                Figure {
                    label: "Hộ nghèo, cận nghèo trong sổ",
                    value: group_thousands(f.households),
                },
                Figure {
                    label: "Hộ đã được nhận giúp đỡ",
                    value: group_thousands(f.sponsorships),
                },
                Figure {
                    label: "Đã được xã xác nhận",
                    value: group_thousands(f.confirmed),
                },
                Figure {
                    label: "Giá trị cam kết (đã xác nhận)",
                    value: format_vnd(f.pledged_value),
                },
                Figure {
                    label: "Giá trị đã trao",
                    value: format_vnd(f.delivered_value),
                },
                Figure {
                    label: "Hộ đã được giúp các năm trước",
                    value: group_thousands(f.helped_before),
                },
            ];
            (Some(view), figures)
        }
        None => (None, Vec::new()),
    };
    Ok(HomePage {
        ctx,
        campaign,
        figures,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub ctx: Ctx,
    pub campaign: Option<CampaignView>,
    pub heading: String,
    pub agency_link: Option<String>,
    pub rows: Vec<agencies::SponsorshipLine>,
}

/// Each role's landing page. Later issues fill it with each role's work list.
pub async fn dashboard(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
) -> AppResult<DashboardPage> {
    let campaign = campaign_view(&state).await?;
    let campaign_id = campaign.as_ref().map(|(_, id)| *id);
    let (heading, agency_link, rows) = match actor.scope() {
        Scope::Agency(agency_id) => {
            let name = agencies::name(&state.db, agency_id)
                .await?
                .unwrap_or_default();
            let rows = match campaign_id {
                Some(c) => agencies::sponsorships(&state.db, agency_id, c).await?,
                None => Vec::new(),
            };
            (name, Some(format!("/don-vi/{agency_id}")), rows)
        }
        Scope::Commune(code) => {
            let name = agencies::commune_name(&state.db, &code)
                .await?
                .unwrap_or_default();
            (format!("UBND {name}"), None, Vec::new())
        }
        Scope::District => {
            let heading = match actor.role {
                Role::Admin => "Quản trị hệ thống",
                _ => "Phòng Lao động - Thương binh và Xã hội - Dân tộc huyện Bình Gia",
            };
            (heading.to_string(), None, Vec::new())
        }
        Scope::Nothing => (String::new(), None, Vec::new()),
    };
    Ok(DashboardPage {
        ctx,
        campaign: campaign.map(|(v, _)| v),
        heading,
        agency_link,
        rows,
    })
}
