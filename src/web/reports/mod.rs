//! Report pages (issue #7): the district summary with its charts, its spreadsheet and CSV, and
//! its print page in the official layout; the per-agency results; the multi-year view. Every
//! handler reads the user's scope, so a user exports only what they may see.

use serde::Deserialize;

use super::AppState;
use super::agencies::kinds;
use super::error::{AppError, AppResult};
use super::forms::{nonblank, query_string};
use crate::domain::labels;
use crate::domain::money::format_vnd;
use crate::domain::roles::{Actor, Scope};
use crate::report::{self, CampaignInfo, Filter, Rows, Summary, percent};

mod agencies;
mod summary;
mod years;

pub use agencies::*;
pub use summary::*;
pub use years::*;

#[derive(Deserialize, Default, Clone)]
pub struct Params {
    pub nam: Option<String>,
    pub xa: Option<String>,
    pub loai: Option<String>,
    pub gop: Option<String>,
    pub trang: Option<String>,
}

impl Params {
    /// The query string of the filters, for links to the other formats.
    pub fn query(&self) -> String {
        query_string(&[
            ("nam", self.nam.clone().unwrap_or_default()),
            ("xa", self.xa.clone().unwrap_or_default()),
            ("loai", self.loai.clone().unwrap_or_default()),
            ("gop", self.gop.clone().unwrap_or_default()),
        ])
    }
}

/// The years there are campaigns for, newest first (the campaign selector).
pub(super) async fn years_of_campaigns(state: &AppState) -> AppResult<Vec<i32>> {
    Ok(crate::db::campaigns::years(&state.db).await?)
}

/// The campaign asked for (by year), or the current one.
async fn chosen_campaign(state: &AppState, p: &Params) -> AppResult<CampaignInfo> {
    let year = match nonblank(&p.nam).and_then(|y| y.parse::<i32>().ok()) {
        Some(y) => y,
        None => {
            crate::db::campaigns::current(&state.db)
                .await?
                .ok_or(AppError::NotFound)?
                .year
        }
    };
    report::campaign_by_year(&state.db, year)
        .await?
        .ok_or(AppError::NotFound)
}

fn filter(actor: &Actor, p: &Params, campaign: &CampaignInfo) -> Filter {
    let kind = nonblank(&p.loai).filter(|k| kinds().iter().any(|o| o.code == k));
    // A commune official's scope already limits the rows to their commune.
    let commune = match actor.scope() {
        Scope::Commune(_) => None,
        _ => nonblank(&p.xa).filter(|c| c.len() == 5 && c.chars().all(|d| d.is_ascii_digit())),
    };
    Filter {
        campaign: campaign.id,
        commune,
        kind,
        // After the 2025 merger the old communes no longer exist: always the new map.
        merged: p.gop.as_deref() == Some("1") || campaign.after_map_change,
    }
}

/// The organiser of the report's campaign (the current one for reports over every year).
pub(crate) async fn area(state: &AppState, f: &Filter) -> AppResult<crate::domain::area::Area> {
    let campaign = (!f.campaign.is_nil()).then_some(f.campaign);
    Ok(crate::domain::area::Area::new(
        crate::db::campaigns::organiser_of(&state.db, campaign).await?,
    ))
}

/// The report's scope and filters in words (the subtitle of every format).
pub(super) async fn describe(state: &AppState, actor: &Actor, f: &Filter) -> AppResult<String> {
    let mut parts = Vec::new();
    match actor.scope() {
        Scope::Agency(a) => parts.push(
            crate::db::agencies::name(&state.db, a)
                .await?
                .unwrap_or_default(),
        ),
        Scope::Commune(_) => parts.push(
            crate::db::agencies::commune_name(
                &state.db,
                actor.commune_code.as_deref().unwrap_or_default(),
            )
            .await?
            .unwrap_or_default(),
        ),
        _ => parts.push(area(state, f).await?.whole().into()),
    }
    if let Some(c) = &f.commune {
        let name = if f.merged {
            crate::db::places::merged_commune_name(&state.db, c).await?
        } else {
            crate::db::agencies::commune_name(&state.db, c).await?
        };
        parts.push(name.unwrap_or_else(|| c.clone()));
    }
    if let Some(k) = &f.kind {
        parts.push(labels::agency_kind(k).to_string());
    }
    if f.merged {
        parts.push("xã gộp theo địa giới từ 01/07/2025".into());
    }
    Ok(format!("Phạm vi: {}", parts.join(" · ")))
}

async fn load_summary(
    state: &AppState,
    actor: &Actor,
    p: &Params,
    rows: Rows,
) -> AppResult<(Summary, Filter, String)> {
    let campaign = chosen_campaign(state, p).await?;
    let f = filter(actor, p, &campaign);
    let s = report::summary(&state.db, &f, &actor.scope(), rows)
        .await?
        .ok_or(AppError::NotFound)?;
    let subtitle = describe(state, actor, &f).await?;
    Ok((s, f, subtitle))
}

// ----------------------------------------------------------------------------------------------
// Charts: server-rendered SVG bars with their numbers as text

pub struct Bar {
    pub label: String,
    /// 0–100, for the bar's length.
    pub pct: i64,
    pub text: String,
    pub y: i64,
}

pub struct Chart {
    pub title: String,
    pub bars: Vec<Bar>,
    pub height: i64,
}

impl Chart {
    fn new(title: &str, items: Vec<(String, i64, i64, String)>) -> Chart {
        let bars: Vec<Bar> = items
            .into_iter()
            .enumerate()
            .map(|(i, (label, part, whole, text))| Bar {
                label,
                pct: percent(part, whole).clamp(0, 100),
                text,
                y: i as i64 * 26,
            })
            .collect();
        Chart {
            title: title.to_string(),
            height: bars.len() as i64 * 26 + 4,
            bars,
        }
    }
    /// The whole chart in words, for screen readers.
    pub fn describe(&self) -> String {
        self.bars
            .iter()
            .map(|b| format!("{}: {}", b.label, b.text))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Delivered value against the target for the confirmed households of each group.
fn delivered_chart(title: &str, rows: &[report::Breakdown], target: i64) -> Chart {
    Chart::new(
        title,
        rows.iter()
            .map(|b| {
                let goal = b.households.saturating_mul(target);
                (
                    b.label.clone(),
                    b.delivered,
                    goal,
                    format!(
                        "{}% ({} / {})",
                        percent(b.delivered, goal),
                        format_vnd(b.delivered),
                        format_vnd(goal)
                    ),
                )
            })
            .collect(),
    )
}
