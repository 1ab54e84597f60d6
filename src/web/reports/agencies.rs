//! Per-agency results: each agency against its quota, page, xlsx and CSV.

use super::summary::file_name;
use super::{Chart, Params, chosen_campaign, describe, filter, years_of_campaigns};
use crate::domain::labels;
use crate::domain::money::format_vnd;
use crate::domain::roles::Actor;
use crate::report::export;
use crate::report::{self, AgencyRow, CampaignInfo, Filter};
use crate::web::AppState;
use crate::web::agencies::{KindOption, kinds};
use crate::web::download::{csv_response, xlsx_response};
use crate::web::error::AppResult;
use crate::web::page::{Ctx, CurrentUser};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::Response;

pub struct AgencyLine {
    pub name: String,
    pub kind: &'static str,
    pub quota: String,
    pub rule: String,
    pub adopted: i64,
    pub confirmed: i64,
    pub counted: i64,
    pub met: bool,
    pub delivered: String,
    pub visits: i64,
    pub evaluation: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "reports/agencies.html")]
pub struct AgenciesPage {
    pub ctx: Ctx,
    pub p: Params,
    pub query: String,
    pub year: i32,
    pub campaigns: Vec<i32>,
    pub kinds: Vec<KindOption>,
    pub subtitle: String,
    pub lines: Vec<AgencyLine>,
    pub met: usize,
    pub total_delivered: String,
    pub total_visits: i64,
    pub chart: Chart,
}

impl AgenciesPage {
    pub fn sel(&self, v: &Option<String>, option: &str) -> bool {
        v.as_deref() == Some(option)
    }
}

async fn load_agencies(
    state: &AppState,
    actor: &Actor,
    p: &Params,
) -> AppResult<(CampaignInfo, Vec<AgencyRow>, String)> {
    let campaign = chosen_campaign(state, p).await?;
    let f = filter(actor, p, &campaign);
    let rows =
        report::agency_results(&state.db, campaign.id, f.kind.as_deref(), &actor.scope()).await?;
    let subtitle = describe(
        state,
        actor,
        &Filter {
            commune: None,
            merged: false,
            ..f
        },
    )
    .await?;
    Ok((campaign, rows, subtitle))
}

pub async fn agencies(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> AppResult<AgenciesPage> {
    let (campaign, rows, subtitle) = load_agencies(&state, &actor, &p).await?;
    // Quota progress by agency kind: households counted against households expected.
    let mut by_kind: Vec<(String, i64, i64)> = Vec::new();
    for r in &rows {
        let label = labels::agency_kind(&r.kind).to_string();
        let expected = i64::from(r.quota().households);
        let counted = r.counted().min(expected);
        match by_kind.iter_mut().find(|k| k.0 == label) {
            Some(k) => {
                k.1 += counted;
                k.2 += expected;
            }
            None => by_kind.push((label, counted, expected)),
        }
    }
    let chart = Chart::new(
        "Tiến độ chỉ tiêu theo loại đơn vị (hộ được tính / hộ theo chỉ tiêu)",
        by_kind
            .into_iter()
            .map(|(l, c, e)| (l, c, e, format!("{c}/{e} hộ")))
            .collect(),
    );
    let lines = rows
        .iter()
        .map(|r| {
            let q = r.quota();
            AgencyLine {
                name: r.name.clone(),
                kind: labels::agency_kind(&r.kind),
                quota: if q.joint {
                    "01 (nhóm)".into()
                } else {
                    format!("{:02}", q.households)
                },
                rule: q.rule,
                adopted: r.adopted,
                confirmed: r.confirmed,
                counted: r.counted(),
                met: r.met(),
                delivered: format_vnd(r.delivered),
                visits: r.visits,
                evaluation: if r.visits == 0 {
                    String::new()
                } else {
                    format!(
                        "{} hiệu quả, {} một phần, {} chưa",
                        r.effective, r.partly, r.not_effective
                    )
                },
            }
        })
        .collect();
    Ok(AgenciesPage {
        query: p.query(),
        year: campaign.year,
        campaigns: years_of_campaigns(&state).await?,
        kinds: kinds(),
        subtitle,
        met: rows.iter().filter(|r| r.met()).count(),
        total_delivered: format_vnd(rows.iter().map(|r| r.delivered).sum()),
        total_visits: rows.iter().map(|r| r.visits).sum(),
        lines,
        chart,
        ctx,
        p,
    })
}

pub async fn agencies_xlsx(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let (campaign, rows, subtitle) = load_agencies(&state, &actor, &p).await?;
    let area = super::area(
        &state,
        &crate::report::Filter {
            campaign: campaign.id,
            ..Default::default()
        },
    )
    .await?;
    xlsx_response(
        file_name("ket-qua-don-vi", campaign.year, "xlsx"),
        &area,
        move || {
            vec![(
                "Kết quả đơn vị",
                export::agencies_table(&rows, campaign.year, &subtitle),
            )]
        },
    )
    .await
}

pub async fn agencies_csv(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let (campaign, rows, subtitle) = load_agencies(&state, &actor, &p).await?;
    let name = file_name("ket-qua-don-vi", campaign.year, "csv");
    csv_response(name, move || {
        export::agencies_table(&rows, campaign.year, &subtitle)
    })
    .await
}
