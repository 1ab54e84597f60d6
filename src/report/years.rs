//! The multi-year view: households helped each year and how many escaped poverty later.

use sqlx::{PgPool, QueryBuilder};

use super::figures::ScopeParams;
use crate::domain::roles::Scope;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct YearRow {
    pub year: i32,
    /// Households with a confirmed sponsorship that year.
    pub helped: i64,
    pub delivered: i64,
    /// Of those, recorded as near-poor (and not yet escaped) in a later year.
    pub near_poor_later: i64,
    /// Of those, recorded as escaped poverty in a later year.
    pub escaped_later: i64,
}

/// Each household's latest official "escaped" and "near-poor" years, folded once per household:
/// the start of both multi-year queries (the per-year rows and the once-per-household total).
const STATUS_LATER: &str = "WITH st AS (
            SELECT household_id,
                   max(year) FILTER (WHERE status = 'escaped') AS escaped,
                   max(year) FILTER (WHERE status = 'near_poor') AS near_poor
            FROM household_status_history WHERE source = 'official' GROUP BY household_id),";

/// The multi-year view, rows and bottom line, in one statement: the official statuses are folded
/// and the counted sponsorships read once for both (two statements read them twice: 1,75 s instead
/// of 1,0 s at 2.000.000 households in `giupdo-bench reports`).
pub async fn years(pool: &PgPool, scope: &Scope) -> sqlx::Result<(Vec<YearRow>, YearTotals)> {
    #[derive(sqlx::FromRow)]
    struct Joined {
        year: Option<i32>,
        helped: Option<i64>,
        delivered: Option<i64>,
        near_poor_later: Option<i64>,
        escaped_later: Option<i64>,
        t_households: i64,
        t_delivered: i64,
        t_near_poor_later: i64,
        t_escaped_later: i64,
    }
    let scope = ScopeParams::of(scope);
    if scope.nothing {
        return Ok((Vec::new(), YearTotals::default()));
    }
    // A household is adopted at most once per campaign (R4), so the confirmed sponsorships of a
    // year are its helped households. Status years are folded once per household: escaped (or
    // near-poor) "later" means its latest such year is after the year it was helped (for the
    // bottom line, after the first year it was helped; each household counted once).
    let mut b = QueryBuilder::new(STATUS_LATER);
    b.push(
        "
         helped AS MATERIALIZED (
            SELECT c.year, s.household_id, s.delivered_value
            FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id
            WHERE sponsorship_counts(s.state)",
    );
    scope.push_where(&mut b);
    b.push(
        "),
         per_year AS (
            SELECT c.year, count(hp.household_id) AS helped,
                   coalesce(sum(hp.delivered_value), 0)::bigint AS delivered,
                   count(hp.household_id) FILTER (WHERE st.near_poor > hp.year
                                                   AND NOT coalesce(st.escaped > hp.year, false)) AS near_poor_later,
                   count(hp.household_id) FILTER (WHERE st.escaped > hp.year) AS escaped_later
            FROM campaigns c
            LEFT JOIN helped hp ON hp.year = c.year
            LEFT JOIN st ON st.household_id = hp.household_id
            GROUP BY c.year),
         per_household AS (
            SELECT household_id, min(year) AS first_year, sum(delivered_value) AS delivered
            FROM helped GROUP BY household_id),
         totals AS (
            SELECT count(*) AS t_households, coalesce(sum(ph.delivered), 0)::bigint AS t_delivered,
                   count(*) FILTER (WHERE st.near_poor > ph.first_year
                                      AND NOT coalesce(st.escaped > ph.first_year, false)) AS t_near_poor_later,
                   count(*) FILTER (WHERE st.escaped > ph.first_year) AS t_escaped_later
            FROM per_household ph LEFT JOIN st ON st.household_id = ph.household_id)
         SELECT y.year, y.helped, y.delivered, y.near_poor_later, y.escaped_later, t.*
         FROM totals t LEFT JOIN per_year y ON true
         ORDER BY y.year",
    );
    let joined: Vec<Joined> = b.build_query_as().persistent(false).fetch_all(pool).await?;
    let totals = joined
        .first()
        .map(|j| YearTotals {
            households: j.t_households,
            delivered: j.t_delivered,
            near_poor_later: j.t_near_poor_later,
            escaped_later: j.t_escaped_later,
        })
        .unwrap_or_default();
    let rows = joined
        .into_iter()
        .filter_map(|j| {
            Some(YearRow {
                year: j.year?,
                helped: j.helped.unwrap_or(0),
                delivered: j.delivered.unwrap_or(0),
                near_poor_later: j.near_poor_later.unwrap_or(0),
                escaped_later: j.escaped_later.unwrap_or(0),
            })
        })
        .collect();
    Ok((rows, totals))
}

/// The bottom line of the multi-year view: each household once, however many years it was helped
/// (a household of an old commune helped again under its new commune is one household).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct YearTotals {
    pub households: i64,
    pub delivered: i64,
    pub near_poor_later: i64,
    pub escaped_later: i64,
}
