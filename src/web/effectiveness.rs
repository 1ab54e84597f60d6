//! "Hiệu quả theo hình thức hỗ trợ" (issue #18): the page, its `.xlsx` and its CSV, scoped like the
//! other reports (an agency sees its own sponsorships, a commune official its commune's). The
//! three formats render the same figures from `report::effectiveness`.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::AppState;
use super::download::{csv_response, xlsx_response};
use super::error::AppResult;
use super::forms::nonblank;
use super::page::{Ctx, CurrentUser};
use super::reports::{describe, years_of_campaigns};
use crate::domain::effectiveness::{self, GroupFigures};
use crate::domain::money::{format_vnd, group_thousands};
use crate::domain::roles::Actor;
use crate::report::{self, Filter, export};

#[derive(Deserialize, Default, Clone)]
pub struct Params {
    /// A campaign year, or empty for all years.
    pub nam: Option<String>,
}

impl Params {
    fn year(&self) -> Option<i32> {
        nonblank(&self.nam).and_then(|y| y.parse().ok())
    }
}

/// One row as the page shows it.
pub struct Line {
    pub label: &'static str,
    pub households: i64,
    pub total: String,
    pub median: String,
    pub after: [String; 3],
    pub escaped: i64,
    pub still_poor: String,
    pub cost: String,
    pub animals: String,
    pub survival: String,
    pub trees: String,
    pub few: bool,
}

fn pct(p: Option<i64>, part: i64, whole: i64) -> String {
    match p {
        Some(p) => format!("{p} % ({part}/{whole})"),
        None => "—".into(),
    }
}

fn line(g: &GroupFigures) -> Line {
    Line {
        label: g.label(),
        households: g.households,
        total: format_vnd(g.delivered_total),
        median: format_vnd(g.delivered_median),
        after: [0, 1, 2].map(|k| pct(g.escaped_share(k + 1), g.escaped[k], g.observed[k])),
        escaped: g.escaped_ever,
        still_poor: pct(g.still_poor_share(), g.still_poor, g.reviewed),
        cost: g.cost_per_escaped().map(format_vnd).unwrap_or("—".into()),
        animals: if g.received + g.born + g.died + g.sold == 0 {
            "—".into()
        } else {
            format!(
                "nhận {}, sinh {}, chết {}, bán {}",
                g.received, g.born, g.died, g.sold
            )
        },
        survival: g
            .survival_share()
            .map(|p| format!("{p} %"))
            .unwrap_or("—".into()),
        trees: if g.trees_surviving == 0 {
            "—".into()
        } else {
            group_thousands(g.trees_surviving)
        },
        few: g.households > 0 && g.few(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "reports/effectiveness.html")]
pub struct EffectivenessPage {
    pub ctx: Ctx,
    pub subtitle: String,
    pub years: Vec<i32>,
    pub year: Option<i32>,
    pub query: String,
    pub lines: Vec<Line>,
    pub reading: Vec<String>,
}

async fn load(
    state: &AppState,
    actor: &Actor,
    p: &Params,
) -> AppResult<(Vec<GroupFigures>, String)> {
    let groups = report::effectiveness(&state.db, &actor.scope(), p.year()).await?;
    let mut subtitle = describe(state, actor, &Filter::default()).await?;
    match p.year() {
        Some(y) => subtitle.push_str(&format!(" · hộ được giúp trong đợt {y}")),
        None => subtitle.push_str(" · hộ được giúp trong mọi đợt"),
    }
    Ok((groups, subtitle))
}

pub async fn page(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> AppResult<EffectivenessPage> {
    let (groups, subtitle) = load(&state, &actor, &p).await?;
    Ok(EffectivenessPage {
        ctx,
        subtitle,
        years: years_of_campaigns(&state).await?,
        year: p.year(),
        query: p.year().map(|y| format!("?nam={y}")).unwrap_or_default(),
        reading: effectiveness::reading(&groups),
        lines: groups.iter().map(line).collect(),
    })
}

pub async fn xlsx(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let (groups, subtitle) = load(&state, &actor, &p).await?;
    xlsx_response("hieu-qua.xlsx".into(), move || {
        vec![("Hiệu quả", export::effectiveness_table(&groups, &subtitle))]
    })
    .await
}

pub async fn csv(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let (groups, subtitle) = load(&state, &actor, &p).await?;
    csv_response("hieu-qua.csv".into(), move || {
        export::effectiveness_table(&groups, &subtitle)
    })
    .await
}
