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

pub async fn years(pool: &PgPool, scope: &Scope) -> sqlx::Result<Vec<YearRow>> {
    let scope = ScopeParams::of(scope);
    if scope.nothing {
        return Ok(Vec::new());
    }
    // A household is adopted at most once per campaign (R4), so the confirmed sponsorships of a
    // year are its helped households. Status years are folded once per household: escaped (or
    // near-poor) "later" means its latest such year is after the year it was helped.
    let mut b = QueryBuilder::new(STATUS_LATER);
    b.push(
        "
         helped AS (
            SELECT c.year, s.household_id, s.delivered_value
            FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id
            WHERE sponsorship_counts(s.state)",
    );
    scope.push_where(&mut b);
    b.push(
        ")
         SELECT c.year, count(hp.household_id) AS helped,
                coalesce(sum(hp.delivered_value), 0)::bigint AS delivered,
                count(hp.household_id) FILTER (WHERE st.near_poor > hp.year
                                                AND NOT coalesce(st.escaped > hp.year, false)) AS near_poor_later,
                count(hp.household_id) FILTER (WHERE st.escaped > hp.year) AS escaped_later
         FROM campaigns c
         LEFT JOIN helped hp ON hp.year = c.year
         LEFT JOIN st ON st.household_id = hp.household_id
         GROUP BY c.year ORDER BY c.year",
    );
    b.build_query_as().persistent(false).fetch_all(pool).await
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

pub async fn years_totals(pool: &PgPool, scope: &Scope) -> sqlx::Result<YearTotals> {
    let scope = ScopeParams::of(scope);
    if scope.nothing {
        return Ok(YearTotals::default());
    }
    let mut b = QueryBuilder::new(STATUS_LATER);
    b.push(
        "
         helped AS (
            SELECT s.household_id, min(c.year) AS first_year, sum(s.delivered_value) AS delivered
            FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id
            WHERE sponsorship_counts(s.state)",
    );
    scope.push_where(&mut b);
    b.push(
        " GROUP BY s.household_id)
         SELECT count(*) AS households, coalesce(sum(hp.delivered), 0)::bigint AS delivered,
                count(*) FILTER (WHERE st.near_poor > hp.first_year
                                   AND NOT coalesce(st.escaped > hp.first_year, false)) AS near_poor_later,
                count(*) FILTER (WHERE st.escaped > hp.first_year) AS escaped_later
         FROM helped hp LEFT JOIN st ON st.household_id = hp.household_id",
    );
    b.build_query_as().persistent(false).fetch_one(pool).await
}
