//! Reports (issue #7, R9): the district summary of a campaign, the per-agency results and the
//! multi-year view. Each report is computed once into a plain struct; the page, the CSV, the xlsx
//! and the print page all render that struct, so their totals cannot disagree.
//!
//! Scope: every query takes the user's [`Scope`]. Agency staff see the sponsorships their agency
//! is a member of, commune officials their commune's, clerks everything — in every format.

pub mod effectiveness;
pub mod export;
pub mod figures;

pub use effectiveness::{deprivation_effects, effectiveness, profile_results, similar_results};

use sqlx::{PgPool, QueryBuilder};
use uuid::Uuid;

use crate::db::agencies;
use crate::db::codes::DbState;
use crate::domain::labels;
use crate::domain::roles::Scope;
use crate::domain::sponsorship::State;

mod agency_results;
mod years;

pub use agency_results::*;
pub use figures::{Breakdown, Folded, Totals};
pub use years::*;

use figures::{Joins, ScopeParams, push_scoped};

/// What a report is asked for.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub campaign: Uuid,
    /// A 2024 commune code; with `merged`, the code of a commune as of 01/07/2025.
    pub commune: Option<String>,
    /// Agency kind of the lead agency.
    pub kind: Option<String>,
    /// Group 2024 communes into the communes they became on 01/07/2025.
    pub merged: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignInfo {
    pub id: Uuid,
    pub year: i32,
    pub name: String,
    pub target: i64,
    pub report_deadline: chrono::NaiveDate,
    /// The map changed before this campaign (a commune ended before its registration deadline,
    /// as on 01/07/2025): its reports group communes as they are after the change.
    pub after_map_change: bool,
}

pub async fn campaign_by_year(pool: &PgPool, year: i32) -> sqlx::Result<Option<CampaignInfo>> {
    sqlx::query_as(
        "SELECT id, year, name, target_per_household AS target, report_deadline,
                EXISTS (SELECT 1 FROM admin_units u WHERE u.level = 'commune'
                        AND u.valid_to < c.registration_deadline) AS after_map_change
         FROM campaigns c WHERE year = $1",
    )
    .persistent(false)
    .bind(year)
    .fetch_optional(pool)
    .await
}

pub async fn campaign(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<CampaignInfo>> {
    sqlx::query_as(
        "SELECT id, year, name, target_per_household AS target, report_deadline,
                EXISTS (SELECT 1 FROM admin_units u WHERE u.level = 'commune'
                        AND u.valid_to < c.registration_deadline) AS after_map_change
         FROM campaigns c WHERE id = $1",
    )
    .persistent(false)
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// One confirmed sponsorship as the list of adopted households shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Adopted {
    pub agencies: String,
    pub head_name: String,
    pub village: String,
    pub commune_code: String,
    pub commune: String,
    pub merged_code: String,
    pub merged_name: String,
    pub lead_kind: String,
    pub members: i64,
    #[sqlx(try_from = "DbState")]
    pub state: State,
    pub form: String,
    pub quantity: String,
    pub pledged: i64,
    pub delivered: i64,
    pub is_late: bool,
    pub note: Option<String>,
}

impl Adopted {
    /// The note column of the official list: what a reader of the report needs to know.
    pub fn remark(&self) -> String {
        let mut parts = vec![self.state.label().to_string()];
        if self.members > 1 {
            parts.push(format!("nhóm {} đơn vị", self.members));
        }
        if self.is_late {
            parts.push("đăng ký trễ hạn".into());
        }
        parts.join("; ")
    }
}

/// An agency short of its quota.
#[derive(Debug, Clone)]
pub struct Short {
    pub name: String,
    pub kind: &'static str,
    pub expected: i32,
    pub counted: i64,
}

#[derive(Debug, Clone)]
pub struct Summary {
    pub campaign: CampaignInfo,
    pub totals: Totals,
    pub by_commune: Vec<Breakdown>,
    pub by_kind: Vec<Breakdown>,
    pub by_form: Vec<Breakdown>,
    pub short: Vec<Short>,
    pub list: Vec<Adopted>,
    /// The campaign's forms of support, whose labels the list shows.
    pub forms: Vec<crate::db::campaign_rules::SupportForm>,
}

impl Summary {
    /// A stored form in the campaign's words.
    pub fn form_label(&self, code: &str) -> String {
        crate::db::campaign_rules::label_of(&self.forms, code).to_string()
    }
    /// Share of confirmed households in priority communes, in whole percent.
    pub fn priority_share(&self) -> i64 {
        percent(self.totals.priority_households, self.totals.confirmed)
    }
    pub fn priority_value_share(&self) -> i64 {
        percent(self.totals.priority_delivered, self.totals.delivered)
    }
}

pub fn percent(part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        0
    } else {
        (part.saturating_mul(100) + whole / 2) / whole
    }
}

/// The scope as SQL parameters: (agency, commune, sees nothing).
fn scope_params(scope: &Scope) -> (Option<Uuid>, Option<Vec<String>>, bool) {
    let p = ScopeParams::of(scope);
    (p.agency, p.commune, p.nothing)
}

/// Which rows of the list of adopted households to fetch: the page shows a window of them, the
/// spreadsheet, the CSV and the print page all of them. Totals never depend on it.
#[derive(Debug, Clone, Copy)]
pub enum Rows {
    All,
    Window { offset: i64, limit: i64 },
}

/// Rows `offset..offset + limit` of the list of confirmed households, in the official order
/// (commune, village, head of household), optionally only in the communes `only`. The window is
/// chosen first (sorting needs only names), then only its rows get their agencies and lines:
/// PostgreSQL would otherwise compute them for every row before the sort.
async fn list_rows(
    pool: &PgPool,
    f: &Filter,
    scope: &ScopeParams,
    (offset, limit): (i64, i64),
    only: Option<Vec<String>>,
) -> sqlx::Result<Vec<Adopted>> {
    let mut b = QueryBuilder::new(
        "SELECT (SELECT string_agg(a.name, ', ' ORDER BY m.is_lead DESC, a.name) FROM sponsorship_agencies m
                   JOIN agencies a ON a.id = m.agency_id WHERE m.sponsorship_id = s.id) AS agencies,
                w.head_name, w.village, co.code AS commune_code, co.name AS commune,
                co.merged_into_code AS merged_code, co.merged_into_name AS merged_name, la.kind AS lead_kind,
                (SELECT count(*) FROM sponsorship_agencies m WHERE m.sponsorship_id = s.id) AS members,
                s.state, s.support_form AS form,
                coalesce((SELECT string_agg(l.quantity || ' ' || l.unit, '; ' ORDER BY l.position)
                          FROM support_lines l WHERE l.sponsorship_id = s.id), '') AS quantity,
                s.pledged_value AS pledged, s.delivered_value AS delivered, s.is_late, s.note
         FROM (SELECT s.id, co.name AS commune_name, v.name AS village, h.head_name",
    );
    push_scoped(&mut b, f, scope, Joins::Household);
    b.push(" AND sponsorship_counts(s.state)");
    if let Some(only) = only {
        b.push(" AND s.commune_code = ANY(")
            .push_bind(only)
            .push(")");
    }
    b.push(" ORDER BY co.name, v.name, h.head_name, s.id OFFSET ")
        .push_bind(offset)
        .push(" LIMIT ")
        .push_bind(limit)
        .push(
            ") w
         JOIN sponsorships s ON s.id = w.id
         JOIN communes co ON co.code = s.commune_code
         JOIN agencies la ON la.id = s.lead_agency_id
         ORDER BY w.commune_name, w.village, w.head_name, s.id",
        );
    b.build_query_as().persistent(false).fetch_all(pool).await
}

/// The district summary of a campaign, within the user's scope and the filter. Totals and
/// breakdowns are aggregated in PostgreSQL; `rows` says how much of the list to fetch.
pub async fn summary(
    pool: &PgPool,
    f: &Filter,
    scope: &Scope,
    rows: Rows,
) -> sqlx::Result<Option<Summary>> {
    let Some(campaign) = campaign(pool, f.campaign).await? else {
        return Ok(None);
    };
    let params = ScopeParams::of(scope);
    let nothing = params.nothing;
    let groups = figures::groups_in(pool, f, &params);
    // The whole list is fetched alongside the figures; a window of it once the figures say in
    // which communes the window lies.
    let whole = async {
        match rows {
            Rows::All if !nothing => list_rows(pool, f, &params, (0, i64::MAX), None)
                .await
                .map(Some),
            Rows::All => Ok(Some(Vec::new())),
            Rows::Window { .. } => Ok(None),
        }
    };
    let commune_order = async {
        sqlx::query_scalar::<_, String>("SELECT code FROM communes ORDER BY name")
            .persistent(false)
            .fetch_all(pool)
            .await
    };
    // Agencies taking part: for the whole district unfiltered, the quota rows below already
    // count each agency's confirmed memberships; otherwise one query.
    let unfiltered = matches!(scope, Scope::District) && f.commune.is_none() && f.kind.is_none();
    let taking_part = async {
        if nothing {
            return Ok::<Option<i64>, sqlx::Error>(Some(0));
        }
        if unfiltered {
            return Ok(None);
        }
        let mut b = QueryBuilder::new("SELECT count(DISTINCT m.agency_id) FROM (SELECT s.id");
        push_scoped(&mut b, f, &params, Joins::Plain);
        b.push(" AND sponsorship_counts(s.state)) pick JOIN sponsorship_agencies m ON m.sponsorship_id = pick.id AND m.campaign_id = ")
            .push_bind(f.campaign);
        if let Some(agency) = params.agency {
            b.push(" WHERE m.agency_id = ").push_bind(agency);
        }
        b.build_query_scalar()
            .persistent(false)
            .fetch_one(pool)
            .await
            .map(Some)
    };
    // Agencies short of their quota: the district sees all, an agency itself; quotas are not a
    // commune's business and a commune filter does not apply to them.
    let quota_rows = async {
        if !matches!(scope, Scope::District | Scope::Agency(_)) {
            return Ok::<Vec<agencies::QuotaRow>, sqlx::Error>(Vec::new());
        }
        agencies::list_with_quota(pool, f.campaign, f.kind.as_deref()).await
    };
    // Independent queries: run them at once on separate connections.
    let forms = crate::db::campaign_rules::support_forms(pool, f.campaign);
    let (groups, whole, taking_part, quota_rows, commune_order, forms) =
        tokio::try_join!(groups, whole, taking_part, quota_rows, commune_order, forms)?;
    let taking_part =
        taking_part.unwrap_or_else(|| quota_rows.iter().filter(|r| r.confirmed > 0).count() as i64);
    let short: Vec<Short> = quota_rows
        .into_iter()
        .filter(|r| !r.met())
        .filter(|r| params.agency.is_none_or(|a| a == r.id))
        .map(|r| Short {
            expected: r.quota().households,
            counted: r.counted(),
            kind: labels::agency_kind(&r.kind),
            name: r.name,
        })
        .collect();
    let list = match (whole, rows) {
        (Some(list), _) => list,
        (None, Rows::Window { offset, limit }) if !nothing => {
            // Confirmed households per commune, in the list's order: skip whole communes before
            // the window, and sort only the communes it covers.
            let mut skipped = 0;
            let mut only = Vec::new();
            for code in &commune_order {
                let n: i64 = groups
                    .iter()
                    .filter(|g| &g.commune_code == code)
                    .map(|g| g.confirmed)
                    .sum();
                if n == 0 {
                    continue;
                }
                if skipped + n <= offset && only.is_empty() {
                    skipped += n;
                    continue;
                }
                only.push(code.clone());
                let covered: i64 = skipped
                    + only
                        .iter()
                        .map(|c| {
                            groups
                                .iter()
                                .filter(|g| &g.commune_code == c)
                                .map(|g| g.confirmed)
                                .sum::<i64>()
                        })
                        .sum::<i64>();
                if covered >= offset + limit {
                    break;
                }
            }
            if only.is_empty() {
                Vec::new()
            } else {
                list_rows(pool, f, &params, (offset - skipped, limit), Some(only)).await?
            }
        }
        _ => Vec::new(),
    };

    let Folded {
        mut totals,
        by_commune,
        by_kind,
        by_form,
    } = figures::fold(&groups, f.merged, &forms);
    totals.agencies = taking_part;
    Ok(Some(Summary {
        campaign,
        totals,
        by_commune,
        by_kind,
        by_form,
        short,
        list,
        forms,
    }))
}
