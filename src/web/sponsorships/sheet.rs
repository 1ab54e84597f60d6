//! The yearly progress sheet of a sponsored household (issue #26): one A4 page an agency head signs
//! off and a sponsor keeps — who helped, what was pledged and delivered (with the photos the
//! viewer may see), the visits and their findings, the household's profile before and after the
//! help, its official status year by year, and its own words. Built from the same figures as the
//! sponsorship page ([`show_page`]), so the two cannot disagree. One sheet, or a batch: all of an
//! agency's households of a year.

use super::*;
use crate::web::profiles::{ReviewView, reviews};

/// One household's sheet.
pub struct Sheet {
    pub p: ShowPage,
    pub before: Option<ReviewView>,
    pub after: Option<ReviewView>,
    /// The household's own words: its wishes at the latest review.
    pub wishes: String,
}

impl Sheet {
    pub fn agencies(&self) -> String {
        self.p
            .members
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "sponsorships/sheet.html")]
pub struct SheetsPage {
    pub title: String,
    pub back: String,
    pub sheets: Vec<Sheet>,
    pub asset_version: &'static str,
    pub printed_on: String,
    /// For the district and commune officials without an agency chosen: the agencies to choose
    /// from, and the year.
    pub choose: Vec<(Uuid, String)>,
    pub year: i32,
    /// The batch shown (from 1), and the links to the batches before and after.
    pub batch: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// Sheets printed at once: a large agency's year comes in batches of this many, one link each.
pub const BATCH_SIZE: i64 = 50;

async fn sheet(state: &AppState, actor: &Actor, ctx: Ctx, d: Detail) -> AppResult<Sheet> {
    let household = d.household_id;
    let year = d.year;
    let mut p = show_page(
        state,
        actor,
        ctx,
        d,
        DeliveryInput::default(),
        VisitInput::default(),
        Errors::default(),
    )
    .await?;
    let standards = crate::db::profiles::standards(&state.db).await?;
    let rows = crate::db::profiles::of_household(&state.db, household).await?;
    let statuses = households::status_history(&state.db, household).await?;
    let h = households::get(&state.db, household)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut all = reviews(&standards, &rows, &statuses, (h.status_year, &h.status));
    // The official status by year: the history, and the household's current status where the
    // history has no row for its year.
    if !p.statuses.iter().any(|s| s.year == h.status_year) {
        p.statuses.push(StatusLine {
            year: h.status_year,
            status: labels::household_status(&h.status),
            note: "",
        });
        p.statuses.sort_by_key(|s| s.year);
    }
    let wishes = rows.last().map(|r| r.wishes.clone()).unwrap_or_default();
    // Before: the last review up to the campaign's year; after: the latest one after it.
    let split = all.iter().position(|r| r.year > year).unwrap_or(all.len());
    let after = if split < all.len() { all.pop() } else { None };
    all.truncate(split);
    let before = all.pop();
    Ok(Sheet {
        p,
        before,
        after,
        wishes,
    })
}

pub async fn progress_sheet(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<SheetsPage> {
    let d = visible(&state, &actor, &id).await?;
    let back = format!("/nhan-giup/{}", d.id);
    let title = format!("Phiếu theo dõi giúp đỡ hộ {} năm {}", d.head_name, d.year);
    let s = sheet(&state, &actor, ctx, d).await?;
    Ok(SheetsPage {
        title,
        back,
        year: s.p.d.year,
        sheets: vec![s],
        asset_version: crate::web::page::ASSET_VERSION,
        printed_on: format_date(today()),
        choose: Vec::new(),
        batch: 1,
        prev: None,
        next: None,
    })
}

#[derive(Deserialize, Default)]
pub struct BatchParams {
    pub nam: Option<String>,
    /// The agency, for the district and commune officials (agency staff print their own).
    pub don_vi: Option<String>,
    /// The batch (1-based) of [`BATCH_SIZE`] sheets.
    pub dot: Option<String>,
}

pub async fn progress_sheets(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Query(q): Query<BatchParams>,
) -> AppResult<Response> {
    let year = match nonblank(&q.nam).and_then(|y| y.parse::<i32>().ok()) {
        Some(y) => y,
        None => campaigns::current(&state.db)
            .await?
            .map(|c| c.year)
            .ok_or(AppError::NotFound)?,
    };
    let agency = match (actor.role, actor.agency_id) {
        (Role::Agency, Some(a)) => a,
        _ => match nonblank(&q.don_vi).and_then(|a| a.parse::<Uuid>().ok()) {
            Some(a) => a,
            None => {
                return Ok(SheetsPage {
                    title: format!("Phiếu theo dõi giúp đỡ hộ nghèo năm {year}"),
                    back: "/nhan-giup".into(),
                    sheets: Vec::new(),
                    asset_version: crate::web::page::ASSET_VERSION,
                    printed_on: format_date(today()),
                    choose: crate::db::agencies::others(&state.db, Uuid::nil()).await?,
                    year,
                    batch: 1,
                    prev: None,
                    next: None,
                }
                .into_response());
            }
        },
    };
    let commune = match actor.scope() {
        Scope::Commune(c) => Some(c),
        Scope::Nothing => return Err(AppError::NotFound),
        _ => None,
    };
    let batch = nonblank(&q.dot)
        .and_then(|b| b.parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, 10_000);
    let mut ids = db::sheet_batch(
        &state.db,
        agency,
        year,
        commune.as_deref(),
        BATCH_SIZE + 1,
        (batch - 1) * BATCH_SIZE,
    )
    .await?;
    let more = ids.len() as i64 > BATCH_SIZE;
    ids.truncate(BATCH_SIZE as usize);
    let link = |b: i64| {
        crate::web::forms::query_string(&[
            ("nam", year.to_string()),
            ("don_vi", q.don_vi.clone().unwrap_or_default()),
            ("dot", b.to_string()),
        ])
    };
    let next = more.then(|| format!("/nhan-giup/phieu-tien-do{}", link(batch + 1)));
    let prev = (batch > 1).then(|| format!("/nhan-giup/phieu-tien-do{}", link(batch - 1)));
    let mut sheets = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(d) = db::get(&state.db, id).await? {
            let ctx = Ctx {
                actor: ctx.actor.clone(),
                flash: None,
                area: ctx.area.clone(),
            };
            sheets.push(sheet(&state, &actor, ctx, d).await?);
        }
    }
    let name = sheets
        .first()
        .and_then(|s| s.p.members.iter().find(|m| m.lead).map(|m| m.name.clone()))
        .unwrap_or_default();
    Ok(SheetsPage {
        title: format!(
            "Phiếu theo dõi giúp đỡ hộ nghèo năm {year}{}{}",
            if name.is_empty() { "" } else { " — " },
            name
        ),
        back: "/nhan-giup".into(),
        sheets,
        asset_version: crate::web::page::ASSET_VERSION,
        printed_on: format_date(today()),
        choose: Vec::new(),
        year,
        batch,
        prev,
        next,
    }
    .into_response())
}
