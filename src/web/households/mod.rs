//! Household pages: the list (search, filters, sort, pages), the detail with its history across
//! years, the form to add or edit, and import from a spreadsheet.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;
use uuid::Uuid;

use super::AppState;
use super::error::{AppError, AppResult};
use super::forms::{nonblank, query_string};
use super::page::{Ctx, CurrentUser};
use crate::db::households::{self, Cursor, ListQuery, ListRow, Sort, Total};
use crate::domain::labels;
use crate::domain::money::group_thousands;
use crate::domain::roles::{self, Actor, Role, Scope};

mod form;
mod show;

pub use form::*;
pub use show::*;

// ----------------------------------------------------------------------------------------------
// List

#[derive(Deserialize, Default)]
pub struct ListParams {
    pub q: Option<String>,
    pub xa: Option<String>,
    pub thon: Option<String>,
    pub tinh_trang: Option<String>,
    pub uu_tien: Option<String>,
    pub da_giup: Option<String>,
    pub sap_xep: Option<String>,
    /// The page follows this household (`sau`) or precedes it (`truoc`); `trang` numbers the page
    /// for the reader only.
    pub sau: Option<String>,
    pub truoc: Option<String>,
    pub trang: Option<String>,
}

pub struct ListLine {
    pub id: Uuid,
    pub head_name: String,
    pub birth_year: String,
    pub place: String,
    pub cccd: String,
    pub status: &'static str,
    pub status_code: String,
    pub priority: bool,
    pub helped_before: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "households/list.html")]
pub struct ListPage {
    pub ctx: Ctx,
    pub p: ListParams,
    pub lines: Vec<ListLine>,
    pub total_label: String,
    pub page: i64,
    pub prev_link: Option<String>,
    pub next_link: Option<String>,
    pub communes: Vec<(String, String)>,
    pub villages: Vec<(Uuid, String)>,
    pub sorts: Vec<(&'static str, &'static str, String)>,
    pub can_add: bool,
}

impl ListPage {
    pub fn sel(&self, v: &Option<String>, option: &str) -> bool {
        v.as_deref() == Some(option)
    }
    pub fn q(&self) -> &str {
        self.p.q.as_deref().unwrap_or("")
    }
    pub fn village_selected(&self, id: &Uuid) -> bool {
        self.p.thon.as_deref() == Some(id.to_string().as_str())
    }
    /// A filter other than the search box is set: the "more filters" box stays open.
    pub fn filtered(&self) -> bool {
        [
            &self.p.xa,
            &self.p.thon,
            &self.p.tinh_trang,
            &self.p.uu_tien,
            &self.p.da_giup,
        ]
        .iter()
        .any(|v| v.as_deref().is_some_and(|v| !v.trim().is_empty()))
    }
}

fn yes_no(s: &Option<String>) -> Option<bool> {
    match s.as_deref() {
        Some("co") => Some(true),
        Some("khong") => Some(false),
        _ => None,
    }
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> AppResult<ListPage> {
    let scope = actor.scope();
    let commune = match &scope {
        // The official's commune covers its predecessors: one of them may be chosen.
        Scope::Commune(covered) => nonblank(&p.xa)
            .filter(|c| covered.contains(c))
            .or_else(|| (covered.len() == 1).then(|| covered[0].clone())),
        _ => nonblank(&p.xa).filter(|c| c.len() == 5 && c.chars().all(|d| d.is_ascii_digit())),
    };
    let q = ListQuery {
        q: nonblank(&p.q).map(|s| s.chars().take(100).collect()),
        commune: commune.clone(),
        village: nonblank(&p.thon).and_then(|v| v.parse().ok()),
        status: nonblank(&p.tinh_trang)
            .filter(|s| labels::code(labels::HOUSEHOLD_STATUSES, s).is_some()),
        priority: yes_no(&p.uu_tien),
        helped_before: yes_no(&p.da_giup),
        sort: Sort::parse(p.sap_xep.as_deref().unwrap_or("")),
        cursor: match (
            nonblank(&p.sau).and_then(|id| id.parse().ok()),
            nonblank(&p.truoc).and_then(|id| id.parse().ok()),
        ) {
            (Some(id), _) => Some(Cursor::After(id)),
            (None, Some(id)) => Some(Cursor::Before(id)),
            (None, None) => None,
        },
    };
    // Without a boundary this is the first page, whatever number a link carried.
    let number = match q.cursor {
        Some(_) => p
            .trang
            .as_deref()
            .and_then(|t| t.parse().ok())
            .unwrap_or(2)
            .clamp(1, 1_000_000),
        None => 1,
    };
    let lookup = match &q.q {
        Some(text) => super::lookups::guard(&state, &actor, text, "/ho").await?,
        None => None,
    };
    let (year, prio) = households::priority_context(&state.db).await?;
    let households::ListPage { rows, more, total } =
        households::list(&state.db, &q, &scope, &prio, year).await?;
    if let Some(lookup) = lookup {
        lookup.record(&state, &actor, !rows.is_empty()).await?;
    }
    let back = matches!(q.cursor, Some(Cursor::Before(_)));
    // Paging back from a page means one follows it; paging on from one, that one precedes it.
    let (has_next, has_prev) = if back {
        (true, more)
    } else {
        (more, q.cursor.is_some())
    };
    let first_id = rows.first().map(|r| r.id);
    let last_id = rows.last().map(|r| r.id);
    let lines = rows.into_iter().map(|r| line(&actor, r)).collect();
    let total_label = match total {
        Total::MoreThanCap => format!("Hơn {} hộ", group_thousands(households::COUNT_CAP)),
        Total::Exact(n) => format!("{} hộ", group_thousands(n)),
    };
    let base = |boundary: Option<(&str, Uuid, i64)>, sort: Option<&str>| {
        let mut pairs = vec![
            ("q", p.q.clone().unwrap_or_default()),
            ("xa", p.xa.clone().unwrap_or_default()),
            ("thon", p.thon.clone().unwrap_or_default()),
            ("tinh_trang", p.tinh_trang.clone().unwrap_or_default()),
            ("uu_tien", p.uu_tien.clone().unwrap_or_default()),
            ("da_giup", p.da_giup.clone().unwrap_or_default()),
            (
                "sap_xep",
                sort.map(str::to_string)
                    .unwrap_or_else(|| q.sort.code().to_string()),
            ),
        ];
        if let Some((key, id, number)) = boundary {
            pairs.push((key, id.to_string()));
            pairs.push(("trang", number.to_string()));
        }
        format!("/ho{}", query_string(&pairs))
    };

    let sorts = [
        (Sort::Name, "Tên chủ hộ"),
        (Sort::Village, "Thôn, xã"),
        (Sort::Status, "Tình trạng"),
        (Sort::Newest, "Mới thêm"),
    ]
    .into_iter()
    .map(|(s, label)| (s.code(), label, base(None, Some(s.code()))))
    .collect();
    let villages = match &commune {
        Some(c) => households::villages(&state.db, c).await?,
        None => Vec::new(),
    };
    Ok(ListPage {
        // Back to page 1 is the plain list (its link carries no boundary).
        prev_link: match first_id {
            Some(_) if has_prev && number == 2 => Some(base(None, None)),
            Some(id) if has_prev => Some(base(Some(("truoc", id, number - 1)), None)),
            _ => None,
        },
        next_link: last_id
            .filter(|_| has_next)
            .map(|id| base(Some(("sau", id, number + 1)), None)),
        page: number,
        lines,
        total_label,
        communes: crate::db::users::communes_for_select(&state.db).await?,
        villages,
        sorts,
        can_add: actor.is_district() || actor.role == Role::Commune,
        ctx,
        p,
    })
}

/// The CCCD as this user may see it: in full for the district and the household's commune,
/// masked for everyone else.
fn cccd_for(actor: &Actor, commune: &str, cccd: Option<&str>) -> Option<String> {
    cccd.map(|c| {
        if roles::can_see_full_cccd(actor, commune) {
            c.to_string()
        } else {
            roles::mask_cccd(c)
        }
    })
}

/// A household this user may see; any other id (another commune's, unknown, malformed) is a 404.
pub(super) async fn visible_household(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> AppResult<households::HouseholdRow> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let h = households::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !roles::can_view_household(actor, &h.commune_code) {
        return Err(AppError::NotFound);
    }
    Ok(h)
}

fn line(actor: &Actor, r: ListRow) -> ListLine {
    let cccd = cccd_for(actor, &r.commune_code, r.cccd.as_deref()).unwrap_or_default();
    ListLine {
        id: r.id,
        head_name: r.head_name,
        birth_year: r.birth_year.map(|y| y.to_string()).unwrap_or_default(),
        place: format!("{}, {}", r.village_name, r.commune_name),
        cccd,
        status: labels::household_status(&r.status),
        status_code: r.status,
        priority: r.priority,
        helped_before: r.helped_before,
    }
}
