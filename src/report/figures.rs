//! The one place a campaign's figures are counted: the district summary report, the home page's
//! tiles and the clerk's per-commune progress all fold the same aggregate ([`groups`]) with the
//! same function ([`fold`]), so they cannot disagree. Before this module the home page counted a
//! household as "reached" by its state (a follow-up visit made it so) while the report compared
//! what was delivered with the target.

use std::collections::BTreeMap;

use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::Filter;
use crate::domain::labels;
use crate::domain::roles::Scope;

/// The scope as SQL parameters: agency, commune, or sees nothing.
#[derive(Debug, Clone, Default)]
pub(super) struct ScopeParams {
    pub agency: Option<Uuid>,
    pub commune: Option<Vec<String>>,
    pub nothing: bool,
}

impl ScopeParams {
    pub(super) fn of(scope: &Scope) -> ScopeParams {
        match scope {
            Scope::District => ScopeParams::default(),
            Scope::Agency(a) => ScopeParams {
                agency: Some(*a),
                ..Default::default()
            },
            Scope::Commune(c) => ScopeParams {
                commune: Some(c.clone()),
                ..Default::default()
            },
            Scope::Nothing => ScopeParams {
                nothing: true,
                ..Default::default()
            },
        }
    }

    /// Pushes ` AND …` clauses limiting sponsorships `s` to this scope; absent ones are left out
    /// rather than left to the planner.
    pub(super) fn push_where<'a>(&self, b: &mut QueryBuilder<'a, Postgres>) {
        if let Some(agency) = self.agency {
            b.push(
                " AND EXISTS (SELECT 1 FROM sponsorship_agencies x WHERE x.sponsorship_id = s.id AND x.agency_id = ",
            )
            .push_bind(agency)
            .push(")");
        }
        if let Some(communes) = &self.commune {
            b.push(" AND s.commune_code = ANY(")
                .push_bind(communes.clone())
                .push(")");
        }
    }
}

/// Joins a scoped query may ask for beyond `s`, `co` (its commune) and `la` (lead agency).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Joins {
    Plain,
    /// `h` (household) and `v` (village), for the list's order.
    Household,
    /// `c` (campaign), for the figures.
    Figures,
}

/// Pushes `FROM … WHERE …`: the live sponsorships of the filter's campaign, filtered by commune
/// and agency kind, within the scope. Households are not read unless asked: the sponsorship
/// carries its commune.
pub(super) fn push_scoped<'a>(
    b: &mut QueryBuilder<'a, Postgres>,
    f: &Filter,
    scope: &ScopeParams,
    joins: Joins,
) {
    b.push(
        " FROM sponsorships s
         JOIN communes co ON co.code = s.commune_code
         JOIN agencies la ON la.id = s.lead_agency_id",
    );
    match joins {
        Joins::Plain => {}
        Joins::Household => {
            b.push(
                " JOIN households h ON h.id = s.household_id JOIN villages v ON v.id = h.village_id",
            );
        }
        Joins::Figures => {
            b.push(" JOIN campaigns c ON c.id = s.campaign_id");
        }
    }
    b.push(" WHERE s.campaign_id = ")
        .push_bind(f.campaign)
        .push(" AND sponsorship_is_live(s.state)");
    if let Some(commune) = &f.commune {
        b.push(if f.merged {
            " AND co.merged_into_code = "
        } else {
            " AND co.code = "
        })
        .push_bind(commune.clone());
    }
    if let Some(kind) = &f.kind {
        b.push(" AND la.kind = ").push_bind(kind.clone());
    }
    scope.push_where(b);
}

/// One group of the figures' aggregate: the live sponsorships of one commune, lead-agency kind
/// and form of support.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Group {
    pub commune_code: String,
    pub commune: String,
    pub merged_code: String,
    pub merged_name: String,
    pub lead_kind: String,
    pub form: String,
    pub in_priority: bool,
    /// Live: proposed or counted (R3, R4).
    pub adopted: i64,
    /// Counted: confirmed by the commune and not cancelled (R3).
    pub confirmed: i64,
    pub pledged: i64,
    pub delivered: i64,
    /// Counted sponsorships whose deliveries reached the campaign's target per household.
    pub reached: i64,
    pub joint: i64,
}

impl Group {
    /// Live but not yet confirmed: waiting for the commune.
    pub fn proposed(&self) -> i64 {
        self.adopted - self.confirmed
    }
}

/// The aggregate every figure is folded from. The sponsorships are grouped by commune code, lead
/// agency kind and form first and the communes' names joined to the few hundred groups after:
/// grouping the rows by four text columns, and a left join to the joint memberships, had cost the
/// summary and the dashboard 30–40 ms at 60.000 sponsorships (issue #29).
pub(super) async fn groups_in(
    pool: &PgPool,
    f: &Filter,
    scope: &ScopeParams,
) -> sqlx::Result<Vec<Group>> {
    if scope.nothing {
        return Ok(Vec::new());
    }
    let mut b = QueryBuilder::new(
        "SELECT co.code AS commune_code, co.name AS commune, co.merged_into_code AS merged_code,
                co.merged_into_name AS merged_name, g.lead_kind, g.form,
                EXISTS (SELECT 1 FROM campaign_priority_communes p
                        WHERE p.campaign_id = g.campaign_id AND p.commune_code = co.code) AS in_priority,
                g.adopted, g.confirmed, g.pledged, g.delivered, g.reached, g.joint
         FROM (SELECT s.campaign_id, s.commune_code, la.kind AS lead_kind, s.support_form AS form,
                count(*) AS adopted,
                count(*) FILTER (WHERE sponsorship_counts(s.state)) AS confirmed,
                coalesce(sum(s.pledged_value) FILTER (WHERE sponsorship_counts(s.state)), 0)::bigint AS pledged,
                coalesce(sum(s.delivered_value) FILTER (WHERE sponsorship_counts(s.state)), 0)::bigint AS delivered,
                count(*) FILTER (WHERE sponsorship_counts(s.state) AND s.delivered_value >= c.target_per_household) AS reached,
                count(*) FILTER (WHERE sponsorship_counts(s.state) AND EXISTS (
                    SELECT 1 FROM sponsorship_agencies j WHERE j.sponsorship_id = s.id AND NOT j.is_lead)) AS joint",
    );
    push_scoped(&mut b, f, scope, Joins::Figures);
    b.push(
        " GROUP BY s.campaign_id, s.commune_code, la.kind, s.support_form) g
         JOIN communes co ON co.code = g.commune_code",
    );
    b.build_query_as().persistent(false).fetch_all(pool).await
}

/// What the home page shows of a campaign, district-wide: counted the way [`fold`] counts the
/// report's totals, off the running tallies the database keeps per commune and state
/// (`campaign_tallies`, migration 0035) instead of the campaign's rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct CampaignTotals {
    /// Live: proposed or counted (R3, R4).
    pub adopted: i64,
    /// Counted: confirmed by the commune and not cancelled (R3).
    pub confirmed: i64,
    pub pledged: i64,
    pub delivered: i64,
}

pub async fn campaign_totals(pool: &PgPool, campaign: Uuid) -> sqlx::Result<CampaignTotals> {
    sqlx::query_as(
        "SELECT coalesce(sum(sponsorships) FILTER (WHERE sponsorship_is_live(state)), 0)::bigint AS adopted,
                coalesce(sum(sponsorships) FILTER (WHERE sponsorship_counts(state)), 0)::bigint AS confirmed,
                coalesce(sum(pledged) FILTER (WHERE sponsorship_counts(state)), 0)::bigint AS pledged,
                coalesce(sum(delivered) FILTER (WHERE sponsorship_counts(state)), 0)::bigint AS delivered
         FROM campaign_tallies WHERE campaign_id = $1",
    )
    .bind(campaign)
    .fetch_one(pool)
    .await
}

/// The figures of a campaign within a scope, unfiltered.
pub async fn groups(pool: &PgPool, campaign: Uuid, scope: &Scope) -> sqlx::Result<Vec<Group>> {
    let f = Filter {
        campaign,
        ..Default::default()
    };
    groups_in(pool, &f, &ScopeParams::of(scope)).await
}

/// One line of a breakdown (by commune, by agency kind, by form of support).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Breakdown {
    pub key: String,
    pub label: String,
    /// Live sponsorships not yet confirmed (only [`per_commune`] counts them).
    pub proposed: i64,
    /// Counted (confirmed) households.
    pub households: i64,
    pub pledged: i64,
    pub delivered: i64,
    pub reached: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Agencies that are a member of at least one confirmed sponsorship.
    pub agencies: i64,
    /// Live pledges (proposed or confirmed, not rejected or cancelled).
    pub adopted: i64,
    pub confirmed: i64,
    pub pledged: i64,
    pub delivered: i64,
    pub reached: i64,
    pub joint_groups: i64,
    pub priority_households: i64,
    pub priority_delivered: i64,
}

/// The groups folded into totals and the three breakdowns.
#[derive(Debug, Clone, Default)]
pub struct Folded {
    pub totals: Totals,
    pub by_commune: Vec<Breakdown>,
    pub by_kind: Vec<Breakdown>,
    pub by_form: Vec<Breakdown>,
}

fn add(map: &mut BTreeMap<String, Breakdown>, order: &str, key: &str, label: &str, g: &Group) {
    let b = map.entry(order.to_string()).or_insert_with(|| Breakdown {
        key: key.to_string(),
        label: label.to_string(),
        ..Default::default()
    });
    b.households += g.confirmed;
    b.pledged += g.pledged;
    b.delivered += g.delivered;
    b.reached += g.reached;
}

/// Folds the groups; `merged` groups 2024 communes into the communes of 01/07/2025. Communes are
/// listed by name, kinds and forms by their code. `totals.agencies` is left for the caller.
///
/// Forms are added up under the campaign's report groups (`forms`, in their order); a form the
/// campaign does not list (a record kept under an earlier list) under its usual label.
pub fn fold(
    groups: &[Group],
    merged: bool,
    forms: &[crate::db::campaign_rules::SupportForm],
) -> Folded {
    let mut totals = Totals::default();
    let mut by_commune: BTreeMap<String, Breakdown> = BTreeMap::new();
    let mut by_kind: BTreeMap<String, Breakdown> = BTreeMap::new();
    let mut by_form: BTreeMap<String, Breakdown> = BTreeMap::new();
    for g in groups {
        totals.adopted += g.adopted;
        if g.confirmed == 0 {
            // The breakdowns list what counts (R3); waiting pledges are only in `adopted`.
            continue;
        }
        totals.confirmed += g.confirmed;
        totals.pledged += g.pledged;
        totals.delivered += g.delivered;
        totals.reached += g.reached;
        totals.joint_groups += g.joint;
        if g.in_priority {
            totals.priority_households += g.confirmed;
            totals.priority_delivered += g.delivered;
        }
        let (ckey, clabel) = if merged {
            (&g.merged_code, &g.merged_name)
        } else {
            (&g.commune_code, &g.commune)
        };
        add(&mut by_commune, clabel, ckey, clabel, g);
        add(
            &mut by_kind,
            &g.lead_kind,
            &g.lead_kind,
            labels::agency_kind(&g.lead_kind),
            g,
        );
        let (order, group) = match forms.iter().find(|f| f.form == g.form) {
            Some(f) => {
                let first = forms
                    .iter()
                    .position(|o| o.report_group == f.report_group)
                    .unwrap_or(0);
                (format!("{first:03}"), f.report_group.as_str())
            }
            None => (format!("999{}", g.form), labels::support_form(&g.form)),
        };
        add(&mut by_form, &order, group, group, g);
    }
    Folded {
        totals,
        by_commune: by_commune.into_values().collect(),
        by_kind: by_kind.into_values().collect(),
        by_form: by_form.into_values().collect(),
    }
}

/// Per 2024 commune code, everything live in it, waiting pledges included: the clerk's
/// progress table. Its counted figures are those [`fold`] gives the report's commune rows.
pub fn per_commune(groups: &[Group]) -> BTreeMap<String, Breakdown> {
    let mut map = BTreeMap::new();
    for g in groups {
        add(&mut map, &g.commune_code, &g.commune_code, &g.commune, g);
        if let Some(b) = map.get_mut(&g.commune_code) {
            b.proposed += g.proposed();
        }
    }
    map
}
