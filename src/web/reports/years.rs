//! The multi-year view: households helped each year and what became of them, page, CSV and xlsx.

use super::{Chart, describe};
use crate::domain::money::format_vnd;
use crate::domain::roles::Actor;
use crate::report::export;
use crate::report::{self, Filter, YearRow, percent};
use crate::web::AppState;
use crate::web::download::{csv_response, xlsx_response};
use crate::web::error::AppResult;
use crate::web::page::{Ctx, CurrentUser};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::Response;

pub struct YearLine {
    pub year: i32,
    pub helped: i64,
    pub delivered: String,
    pub near_poor: i64,
    pub escaped: i64,
    pub share: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "reports/years.html")]
pub struct YearsPage {
    pub ctx: Ctx,
    pub subtitle: String,
    pub lines: Vec<YearLine>,
    pub chart: Chart,
    pub total_helped: i64,
    pub total_escaped: i64,
}

async fn load_years(
    state: &AppState,
    actor: &Actor,
) -> AppResult<(Vec<YearRow>, report::YearTotals, String)> {
    let (rows, totals) = report::years(&state.db, &actor.scope()).await?;
    let subtitle = describe(state, actor, &Filter::default()).await?;
    Ok((rows, totals, subtitle))
}

pub async fn years(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
) -> AppResult<YearsPage> {
    let (rows, totals, subtitle) = load_years(&state, &actor).await?;
    let chart = Chart::new(
        "Hộ được giúp đỡ mỗi năm đã thoát nghèo về sau",
        rows.iter()
            .map(|r| {
                (
                    r.year.to_string(),
                    r.escaped_later,
                    r.helped,
                    format!(
                        "{}/{} hộ ({}%)",
                        r.escaped_later,
                        r.helped,
                        percent(r.escaped_later, r.helped)
                    ),
                )
            })
            .collect(),
    );
    Ok(YearsPage {
        ctx,
        subtitle,
        total_helped: totals.households,
        total_escaped: totals.escaped_later,
        lines: rows
            .iter()
            .map(|r| YearLine {
                year: r.year,
                helped: r.helped,
                delivered: format_vnd(r.delivered),
                near_poor: r.near_poor_later,
                escaped: r.escaped_later,
                share: percent(r.escaped_later, r.helped),
            })
            .collect(),
        chart,
    })
}

pub async fn years_csv(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> AppResult<Response> {
    let (rows, totals, subtitle) = load_years(&state, &actor).await?;
    csv_response("nhieu-nam.csv".into(), move || {
        export::years_table(&rows, &totals, &subtitle)
    })
    .await
}

pub async fn years_xlsx(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> AppResult<Response> {
    let (rows, totals, subtitle) = load_years(&state, &actor).await?;
    let area = super::area(&state, &Filter::default()).await?;
    xlsx_response("nhieu-nam.xlsx".into(), &area, move || {
        vec![(
            "Qua các năm",
            export::years_table(&rows, &totals, &subtitle),
        )]
    })
    .await
}
