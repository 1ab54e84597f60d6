//! The list of sponsorships, scoped to the viewer, filtered by state and paged.

use super::*;

// ----------------------------------------------------------------------------------------------
// The list

#[derive(Deserialize, Default)]
pub struct ListParams {
    pub trang_thai: Option<String>,
    pub trang: Option<String>,
    /// An agency's or a commune's list is paged by key: the page after this row
    /// (`db::After::token`).
    pub sau: Option<String>,
}

pub struct WorkLine {
    pub id: Uuid,
    pub year: i32,
    pub household_id: Uuid,
    pub head_name: String,
    pub place: String,
    pub agencies: String,
    pub joint: bool,
    pub state: &'static str,
    pub state_code: &'static str,
    pub support: String,
    pub pledged: String,
    pub delivered: String,
    pub percent: i64,
    pub short: bool,
    pub late: bool,
    pub pledged_on: String,
    pub last_visit: String,
}

pub fn work_line(r: WorkRow) -> WorkLine {
    let percent = if r.target > 0 {
        (r.delivered_value.saturating_mul(100) / r.target).min(999)
    } else {
        0
    };
    WorkLine {
        id: r.id,
        year: r.year,
        household_id: r.household_id,
        head_name: r.head_name,
        place: format!("{}, {}", r.village, r.commune),
        agencies: r.agencies,
        joint: r.members > 1,
        state: r.state.label(),
        short: r.state.counts() && r.delivered_value < r.target,
        state_code: r.state.as_str(),
        support: r.support_summary,
        pledged: format_vnd(r.pledged_value),
        delivered: format_vnd(r.delivered_value),
        percent,
        late: r.is_late,
        pledged_on: format_date(r.pledged_on),
        last_visit: r.last_visit.map(format_date).unwrap_or_default(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "sponsorships/list.html")]
pub struct ListPage {
    pub ctx: Ctx,
    pub year: Option<i32>,
    pub state: String,
    pub states: Vec<(&'static str, &'static str)>,
    pub lines: Vec<WorkLine>,
    /// All the pledges the filter matches (the district's list shows them a page at a time).
    pub total: i64,
    pub page: i64,
    pub prev_link: Option<String>,
    pub next_link: Option<String>,
    pub can_pledge: bool,
    pub can_import: bool,
    /// An agency's or a commune's list, paged by key (newest first): "more" and "back to the
    /// newest" links.
    pub keyed: bool,
    pub page_size: i64,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> AppResult<ListPage> {
    let wanted = nonblank(&p.trang_thai).and_then(|s| SState::parse(&s));
    let states: Vec<SState> = match wanted {
        Some(s) => vec![s],
        None => SState::ALL.to_vec(),
    };
    // A page number that is not a positive number is page 1.
    let page = p
        .trang
        .as_deref()
        .and_then(|t| t.trim().parse::<i64>().ok())
        .filter(|n| (1..=100_000).contains(n))
        .unwrap_or(1);
    let campaign = campaigns::current(&state.db).await?;
    // An agency's or a commune's list: the row the next page starts after, and whether this is a
    // later page.
    let mut keyed_next: Option<db::After> = None;
    let mut keyed_later = false;
    let (rows, total) = match (&campaign, actor.scope()) {
        (None, _) | (_, Scope::Nothing) => (Vec::new(), 0),
        (Some(c), scope @ (Scope::Agency(_) | Scope::Commune(_))) => {
            let after = nonblank(&p.sau).and_then(|t| db::After::parse(&t));
            let limit = db::AGENCY_PAGE + 1;
            let (mut rows, n) = match &scope {
                Scope::Agency(a) => (
                    db::of_agency(&state.db, *a, c.id, &states, after, limit).await?,
                    db::count_of_agency(&state.db, *a, c.id, &states).await?,
                ),
                Scope::Commune(codes) => (
                    db::of_commune(&state.db, codes, c.id, &states, after, limit).await?,
                    db::count_of_commune(&state.db, codes, c.id, &states).await?,
                ),
                _ => (Vec::new(), 0),
            };
            if rows.len() as i64 > db::AGENCY_PAGE {
                rows.truncate(db::AGENCY_PAGE as usize);
                keyed_next = rows.last().map(db::After::of);
            }
            keyed_later = after.is_some();
            (rows, n)
        }
        (Some(c), Scope::District) => db::of_district(&state.db, c.id, &states, page).await?,
    };
    let pages = (total + db::DISTRICT_PAGE - 1) / db::DISTRICT_PAGE;
    let link = |n: i64| {
        let mut pairs = vec![("trang", n.to_string())];
        if let Some(s) = wanted {
            pairs.insert(0, ("trang_thai", s.as_str().to_string()));
        }
        format!("/nhan-giup{}", crate::web::forms::query_string(&pairs))
    };
    let paged = matches!(actor.scope(), Scope::District);
    let keyed = |after: Option<db::After>| {
        let mut pairs = Vec::new();
        if let Some(s) = wanted {
            pairs.push(("trang_thai", s.as_str().to_string()));
        }
        if let Some(a) = after {
            pairs.push(("sau", a.token()));
        }
        format!("/nhan-giup{}", crate::web::forms::query_string(&pairs))
    };
    let (prev_link, next_link) = if paged {
        (
            (page > 1).then(|| link(page - 1)),
            (page < pages).then(|| link(page + 1)),
        )
    } else {
        (
            keyed_later.then(|| keyed(None)),
            keyed_next.map(|a| keyed(Some(a))),
        )
    };
    Ok(ListPage {
        ctx,
        year: campaign.map(|c| c.year),
        state: wanted.map(|s| s.as_str().to_string()).unwrap_or_default(),
        states: SState::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        lines: rows.into_iter().map(work_line).collect(),
        total,
        page,
        prev_link,
        next_link,
        can_pledge: actor.role == Role::Agency,
        can_import: actor.is_district(),
        keyed: matches!(actor.scope(), Scope::Agency(_) | Scope::Commune(_)),
        page_size: db::AGENCY_PAGE,
    })
}
