//! The home page (the current campaign and its deadlines) and each role's dashboard.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use super::AppState;
use super::error::AppResult;
use super::page::{Ctx, CurrentUser};
use chrono::Datelike;

use super::sponsorships::{WorkLine, work_line};
use crate::db::{agencies, campaigns, sponsorships, stats};
use crate::domain::dates::{self, DeadlineStatus};
use crate::domain::labels;
use crate::domain::money::{format_vnd, group_thousands};
use crate::domain::roles::{Role, Scope};
use crate::domain::sponsorship::State as SState;
use crate::report::figures;

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
            let (r, t) = tokio::try_join!(
                stats::registry(&state.db, id),
                figures::campaign_totals(&state.db, id)
            )?;
            let figures = vec![
                Figure {
                    label: "Cơ quan, đơn vị",
                    value: group_thousands(r.agencies),
                },
                Figure {
                    label: "Hộ nghèo, cận nghèo trong sổ",
                    value: group_thousands(r.households),
                },
                Figure {
                    label: "Hộ đã được nhận giúp đỡ",
                    value: group_thousands(t.adopted),
                },
                Figure {
                    label: "Đã được xã xác nhận",
                    value: group_thousands(t.confirmed),
                },
                Figure {
                    label: "Giá trị cam kết (đã xác nhận)",
                    value: format_vnd(t.pledged),
                },
                Figure {
                    label: "Giá trị đã trao",
                    value: format_vnd(t.delivered),
                },
                Figure {
                    label: "Hộ đã được giúp các năm trước",
                    value: group_thousands(r.helped_before),
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

/// One agency kind's progress on the clerk's dashboard.
pub struct KindLine {
    pub kind: &'static str,
    pub agencies: usize,
    pub expected: i64,
    pub counted: i64,
    pub met: usize,
}

/// An agency short of its quota, named on the clerk's dashboard.
pub struct ShortLine {
    pub id: uuid::Uuid,
    pub name: String,
    pub kind: &'static str,
    pub expected: i32,
    pub counted: i64,
    pub adopted: i64,
}

pub struct CommuneLine {
    pub name: String,
    pub households: i64,
    pub proposed: i64,
    pub confirmed: i64,
    pub reached: i64,
    pub delivered: String,
}

pub struct UnadoptedLine {
    pub id: uuid::Uuid,
    pub head_name: String,
    pub village: String,
    pub status: &'static str,
    pub helped_before: bool,
}

/// What each role's landing page shows; empty parts are not rendered.
/// The newest sponsorships of each dashboard list (the rest are on the list's pages).
const DASHBOARD_MINE: i64 = 20;

#[derive(Default)]
pub struct Work {
    /// Agency: its quota in words and whether it is met.
    pub quota: Option<(String, bool)>,
    pub mine: Vec<WorkLine>,
    /// The agency has more sponsorships this campaign than the dashboard shows.
    pub more_mine: bool,
    pub follow_ups: Vec<WorkLine>,
    /// Commune: pledges waiting for its confirmation, and those it confirmed (the newest of each,
    /// with how many there are).
    pub pending: Vec<WorkLine>,
    pub pending_total: i64,
    pub confirmed_total: i64,
    pub confirmed: Vec<WorkLine>,
    pub unadopted: Vec<UnadoptedLine>,
    /// Clerk.
    pub kinds: Vec<KindLine>,
    pub communes: Vec<CommuneLine>,
    pub short: Vec<ShortLine>,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub ctx: Ctx,
    pub campaign: Option<CampaignView>,
    pub heading: String,
    pub role: &'static str,
    pub agency_link: Option<String>,
    pub w: Work,
}

/// Each role's landing page: its own work list (issue #6, item 9).
pub async fn dashboard(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
) -> AppResult<DashboardPage> {
    let campaign = campaign_view(&state).await?;
    let campaign_id = campaign.as_ref().map(|(_, id)| *id);
    let year = campaign.as_ref().map(|(v, _)| v.year);
    let mut w = Work::default();
    let mut agency_link = None;
    let heading = match actor.scope() {
        Scope::Agency(agency_id) => {
            agency_link = Some(format!("/don-vi/{agency_id}"));
            if let (Some(c), Some(year)) = (campaign_id, year) {
                // The newest of this campaign; the whole list is on "Nhận giúp đỡ", a page at a time.
                let mine = sponsorships::of_agency(
                    &state.db,
                    agency_id,
                    c,
                    &crate::domain::sponsorship::State::ALL,
                    None,
                    DASHBOARD_MINE + 1,
                )
                .await?;
                w.more_mine = mine.len() as i64 > DASHBOARD_MINE;
                w.mine = mine
                    .into_iter()
                    .take(DASHBOARD_MINE as usize)
                    .map(work_line)
                    .collect();
                let this_year = dates::today().year();
                w.follow_ups = sponsorships::follow_ups_due(&state.db, agency_id, year, this_year)
                    .await?
                    .into_iter()
                    .map(work_line)
                    .collect();
                if let Some(r) = agencies::quota_of(&state.db, c, agency_id).await? {
                    let q = r.quota();
                    let text = format!(
                        "Chỉ tiêu: {} — {}. Đã được tính: {} hộ (đã nhận {}).",
                        q.label(),
                        q.rule,
                        r.counted(),
                        r.adopted
                    );
                    w.quota = Some((text, r.met()));
                }
            }
            agencies::name(&state.db, agency_id)
                .await?
                .unwrap_or_default()
        }
        Scope::Commune(codes) => {
            if let Some(c) = campaign_id {
                let lines = |rows: Vec<sponsorships::WorkRow>| -> Vec<WorkLine> {
                    rows.into_iter().map(work_line).collect()
                };
                // The newest of each; the whole lists are on "Nhận giúp đỡ", a page at a time.
                let proposed = [SState::Proposed];
                w.pending = lines(
                    sponsorships::of_commune(&state.db, &codes, c, &proposed, None, DASHBOARD_MINE)
                        .await?,
                );
                w.pending_total =
                    sponsorships::count_of_commune(&state.db, &codes, c, &proposed).await?;
                let counted: Vec<SState> = SState::ALL.into_iter().filter(|s| s.counts()).collect();
                w.confirmed = lines(
                    sponsorships::of_commune(&state.db, &codes, c, &counted, None, DASHBOARD_MINE)
                        .await?,
                );
                w.confirmed_total =
                    sponsorships::count_of_commune(&state.db, &codes, c, &counted).await?;
                let (_, prio) = crate::db::households::priority_context(&state.db).await?;
                // The commune's code and its predecessors' (since the 2025 merger), each with
                // its own priority.
                let mut unadopted = Vec::new();
                for code in &codes {
                    unadopted.extend(
                        sponsorships::priority_unadopted(&state.db, code, c, prio.contains(code))
                            .await?,
                    );
                }
                unadopted.truncate(sponsorships::UNADOPTED_SHOWN as usize);
                w.unadopted = unadopted
                    .into_iter()
                    .map(|u| UnadoptedLine {
                        id: u.id,
                        head_name: u.head_name,
                        village: u.village,
                        status: labels::household_status(&u.status),
                        helped_before: u.helped_before,
                    })
                    .collect();
            }
            let own = actor.commune_code.clone().unwrap_or_default();
            let name = agencies::commune_name(&state.db, &own)
                .await?
                .unwrap_or_default();
            format!("UBND {name}")
        }
        Scope::District => {
            if let Some(c) = campaign_id {
                let rows = agencies::list_with_quota(&state.db, c, None).await?;
                let mut kinds: Vec<KindLine> = Vec::new();
                for r in &rows {
                    let label = labels::agency_kind(&r.kind);
                    let q = r.quota();
                    let line = match kinds.iter_mut().find(|k| k.kind == label) {
                        Some(k) => k,
                        None => {
                            kinds.push(KindLine {
                                kind: label,
                                agencies: 0,
                                expected: 0,
                                counted: 0,
                                met: 0,
                            });
                            kinds.last_mut().expect("just pushed")
                        }
                    };
                    line.agencies += 1;
                    line.expected += i64::from(q.households);
                    line.counted += r.counted().min(i64::from(q.households));
                    line.met += usize::from(r.met());
                    if !r.met() {
                        w.short.push(ShortLine {
                            id: r.id,
                            name: r.name.clone(),
                            kind: label,
                            expected: q.households,
                            counted: r.counted(),
                            adopted: r.adopted,
                        });
                    }
                }
                w.short
                    .sort_by(|a, b| (a.adopted > 0, &a.name).cmp(&(b.adopted > 0, &b.name)));
                w.kinds = kinds;
                let (communes, groups) = tokio::try_join!(
                    stats::commune_households(&state.db),
                    figures::groups(&state.db, c, &Scope::District)
                )?;
                let mut progress = figures::per_commune(&groups);
                w.communes = communes
                    .into_iter()
                    .map(|co| {
                        let p = progress.remove(&co.code).unwrap_or_default();
                        CommuneLine {
                            name: co.name,
                            households: co.households,
                            proposed: p.proposed,
                            confirmed: p.households,
                            reached: p.reached,
                            delivered: format_vnd(p.delivered),
                        }
                    })
                    .collect();
            }
            match actor.role {
                Role::Admin => "Quản trị hệ thống".to_string(),
                Role::Province => format!("Chuyên viên cấp tỉnh — {}", ctx.area),
                _ => format!(
                    "Phòng Lao động - Thương binh và Xã hội - Dân tộc {}",
                    ctx.area_in_sentence()
                )
                .trim_end()
                .to_string(),
            }
        }
        Scope::Nothing => String::new(),
    };
    Ok(DashboardPage {
        ctx,
        campaign: campaign.map(|(v, _)| v),
        heading,
        role: actor.role.as_str(),
        agency_link,
        w,
    })
}
