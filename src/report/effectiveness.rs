//! "Hiệu quả theo hình thức hỗ trợ" (issue #18): the figures of each form of support, read from
//! `effectiveness_facts`, the one narrow row per sponsorship the database keeps (migration 0025).

use sqlx::PgPool;

use super::scope_params;
use crate::domain::roles::Scope;

#[derive(Debug, Clone, sqlx::FromRow)]
struct EffectRow {
    grp: String,
    households: i64,
    delivered_total: i64,
    delivered_median: i64,
    observed1: i64,
    observed2: i64,
    observed3: i64,
    escaped1: i64,
    escaped2: i64,
    escaped3: i64,
    reviewed: i64,
    still_poor: i64,
    escaped_ever: i64,
    received: i64,
    born: i64,
    died: i64,
    sold: i64,
    trees_surviving: i64,
}

/// The effectiveness of each form of support over the counted sponsorships of `year` (None: all
/// years), within the viewer's scope. Every group of [`GROUPS`] is returned, empty ones with 0.
///
/// The district and a commune read the tallies the database keeps (migration 0034): a few
/// thousand rows whatever the years, the median off the value histogram (exact to its bucket,
/// `median_within`). An agency's few sponsorships are read one by one, the median exact.
///
/// [`GROUPS`]: crate::domain::effectiveness::GROUPS
pub async fn effectiveness(
    pool: &PgPool,
    scope: &Scope,
    year: Option<i32>,
) -> sqlx::Result<Vec<crate::domain::effectiveness::GroupFigures>> {
    use crate::domain::effectiveness::{GROUPS, GroupFigures, median_of_buckets};
    let (agency, commune, nothing) = scope_params(scope);
    let (mut rows, buckets, width): (Vec<EffectRow>, Vec<(String, i64, i64)>, i64) = if nothing {
        (Vec::new(), Vec::new(), 0)
    } else if let Some(agency) = agency {
        // One narrow row a sponsorship, kept by triggers (migration 0025): its main group, the
        // first official "escaped" year after it, its last official status after it (1 poor,
        // 2 near-poor, 3 escaped), its latest visit's counts.
        let rows = sqlx::query_as(
            "WITH review AS (
                SELECT coalesce(max(year), 0) AS last FROM household_status_history WHERE source = 'official')
             SELECT f.support_group AS grp, count(*) AS households,
                    coalesce(sum(f.delivered_value), 0)::bigint AS delivered_total,
                    coalesce(round(percentile_cont(0.5) WITHIN GROUP (ORDER BY f.delivered_value)), 0)::bigint
                        AS delivered_median,
                    count(*) FILTER (WHERE f.year + 1 <= review.last) AS observed1,
                    count(*) FILTER (WHERE f.year + 2 <= review.last) AS observed2,
                    count(*) FILTER (WHERE f.year + 3 <= review.last) AS observed3,
                    count(*) FILTER (WHERE f.year + 1 <= review.last AND f.escaped_in <= f.year + 1) AS escaped1,
                    count(*) FILTER (WHERE f.year + 2 <= review.last AND f.escaped_in <= f.year + 2) AS escaped2,
                    count(*) FILTER (WHERE f.year + 3 <= review.last AND f.escaped_in <= f.year + 3) AS escaped3,
                    count(f.last_status) AS reviewed,
                    count(*) FILTER (WHERE f.last_status = 1) AS still_poor,
                    count(f.escaped_in) AS escaped_ever,
                    coalesce(sum(f.received), 0)::bigint AS received,
                    coalesce(sum(f.born), 0)::bigint AS born,
                    coalesce(sum(f.died), 0)::bigint AS died,
                    coalesce(sum(f.sold), 0)::bigint AS sold,
                    coalesce(sum(f.trees_surviving), 0)::bigint AS trees_surviving
             FROM sponsorship_agencies x
             JOIN effectiveness_facts f ON f.sponsorship_id = x.sponsorship_id
             CROSS JOIN review
             WHERE x.agency_id = $1 AND sponsorship_counts(f.state)
               AND ($2::int IS NULL OR f.year = $2)
             GROUP BY 1",
        )
        .persistent(false)
        .bind(agency)
        .bind(year)
        .fetch_all(pool)
        .await?;
        (rows, Vec::new(), 0)
    } else {
        // The tallies: escaped_in and last_status 0 stand for "none".
        let rows = sqlx::query_as(
            "WITH review AS (
                SELECT coalesce(max(year), 0) AS last FROM household_status_history WHERE source = 'official')
             SELECT t.support_group AS grp, sum(t.households)::bigint AS households,
                    sum(t.delivered_total)::bigint AS delivered_total,
                    0::bigint AS delivered_median,
                    coalesce(sum(t.households) FILTER (WHERE t.year + 1 <= review.last), 0)::bigint AS observed1,
                    coalesce(sum(t.households) FILTER (WHERE t.year + 2 <= review.last), 0)::bigint AS observed2,
                    coalesce(sum(t.households) FILTER (WHERE t.year + 3 <= review.last), 0)::bigint AS observed3,
                    coalesce(sum(t.households) FILTER (WHERE t.year + 1 <= review.last
                        AND t.escaped_in > 0 AND t.escaped_in <= t.year + 1), 0)::bigint AS escaped1,
                    coalesce(sum(t.households) FILTER (WHERE t.year + 2 <= review.last
                        AND t.escaped_in > 0 AND t.escaped_in <= t.year + 2), 0)::bigint AS escaped2,
                    coalesce(sum(t.households) FILTER (WHERE t.year + 3 <= review.last
                        AND t.escaped_in > 0 AND t.escaped_in <= t.year + 3), 0)::bigint AS escaped3,
                    coalesce(sum(t.households) FILTER (WHERE t.last_status > 0), 0)::bigint AS reviewed,
                    coalesce(sum(t.households) FILTER (WHERE t.last_status = 1), 0)::bigint AS still_poor,
                    coalesce(sum(t.households) FILTER (WHERE t.escaped_in > 0), 0)::bigint AS escaped_ever,
                    sum(t.received)::bigint AS received,
                    sum(t.born)::bigint AS born,
                    sum(t.died)::bigint AS died,
                    sum(t.sold)::bigint AS sold,
                    sum(t.trees_surviving)::bigint AS trees_surviving
             FROM effectiveness_tallies t CROSS JOIN review
             WHERE ($1::text[] IS NULL OR t.commune_code = ANY($1))
               AND ($2::int IS NULL OR t.year = $2)
             GROUP BY 1 HAVING sum(t.households) > 0",
        )
        .persistent(false)
        .bind(&commune)
        .bind(year)
        .fetch_all(pool)
        .await?;
        let buckets: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT support_group, bucket, sum(households)::bigint
             FROM effectiveness_value_buckets
             WHERE ($1::text[] IS NULL OR commune_code = ANY($1))
               AND ($2::int IS NULL OR year = $2)
             GROUP BY 1, 2 HAVING sum(households) > 0 ORDER BY 1, 2",
        )
        .persistent(false)
        .bind(&commune)
        .bind(year)
        .fetch_all(pool)
        .await?;
        let width: i64 = sqlx::query_scalar("SELECT effectiveness_bucket_width()")
            .persistent(false)
            .fetch_one(pool)
            .await?;
        (rows, buckets, width)
    };
    // Each tallied group's median, off its buckets.
    for r in rows.iter_mut() {
        if width > 0 {
            let own: Vec<(i64, i64)> = buckets
                .iter()
                .filter(|(g, _, _)| *g == r.grp)
                .map(|(_, b, n)| (*b, *n))
                .collect();
            r.delivered_median = median_of_buckets(&own, width);
        }
    }
    Ok(GROUPS
        .iter()
        .map(|(code, _)| {
            let r = rows
                .iter()
                .position(|r| r.grp == *code)
                .map(|i| rows.swap_remove(i));
            match r {
                None => GroupFigures {
                    group: code.to_string(),
                    ..Default::default()
                },
                Some(r) => GroupFigures {
                    group: r.grp,
                    households: r.households,
                    delivered_total: r.delivered_total,
                    delivered_median: r.delivered_median,
                    median_within: width,
                    observed: [r.observed1, r.observed2, r.observed3],
                    escaped: [r.escaped1, r.escaped2, r.escaped3],
                    reviewed: r.reviewed,
                    still_poor: r.still_poor,
                    escaped_ever: r.escaped_ever,
                    received: r.received,
                    born: r.born,
                    died: r.died,
                    sold: r.sold,
                    trees_surviving: r.trees_surviving,
                },
            }
        })
        .collect())
}

/// For each (form of help, indicators) asked, over every counted sponsorship of the district: the
/// households helped that way while short of at least one of those indicators at their last review
/// before the help and reviewed officially after it, and how many of them escaped poverty. In the
/// order asked; (0, 0) where nothing matches or no indicator is given.
pub async fn similar_results(
    pool: &PgPool,
    asked: &[(String, Vec<String>)],
) -> sqlx::Result<Vec<(i64, i64)>> {
    let mut out = Vec::with_capacity(asked.len());
    for (group, indicators) in asked {
        if indicators.is_empty() {
            out.push((0, 0));
            continue;
        }
        let (observed, escaped): (i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE f.last_status IS NOT NULL), count(f.escaped_in)
             FROM effectiveness_facts f
             WHERE f.short_before && $2 AND f.support_group = $1 AND sponsorship_counts(f.state)",
        )
        .bind(group)
        .bind(indicators)
        .fetch_one(pool)
        .await?;
        out.push((observed, escaped));
    }
    Ok(out)
}

/// One (form of help, indicator) cell of "effectiveness by deprivation".
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeprivationRow {
    pub grp: String,
    pub indicator: String,
    /// Households short of the indicator at their last review before the help.
    pub short_before: i64,
    /// Of those, reviewed again after the help; of those, no longer short; still short.
    pub reviewed_after: i64,
    pub resolved: i64,
    pub still_short: i64,
    /// Of `short_before`, reviewed officially as escaped after the help.
    pub escaped: i64,
}

/// Which deprivations were resolved after the help, per form of help and indicator, over the
/// counted sponsorships of `year` (None: all) in the viewer's scope. The district and a commune
/// add up `effectiveness_shortfall_tallies` (migration 0036); an agency's rows are read one by one.
pub async fn deprivation_effects(
    pool: &PgPool,
    scope: &Scope,
    year: Option<i32>,
) -> sqlx::Result<Vec<DeprivationRow>> {
    let (agency, commune, nothing) = scope_params(scope);
    if nothing {
        return Ok(Vec::new());
    }
    let sql = if agency.is_some() {
        "SELECT f.support_group AS grp, i.indicator, count(*) AS short_before,
                count(*) FILTER (WHERE f.short_after IS NOT NULL) AS reviewed_after,
                count(*) FILTER (WHERE f.short_after IS NOT NULL AND NOT i.indicator = ANY (f.short_after)) AS resolved,
                count(*) FILTER (WHERE i.indicator = ANY (f.short_after)) AS still_short,
                count(f.escaped_in) AS escaped
         FROM effectiveness_facts f CROSS JOIN LATERAL unnest(f.short_before) AS i (indicator)
         WHERE sponsorship_counts(f.state) AND f.short_before <> '{}'
           AND EXISTS (SELECT 1 FROM sponsorship_agencies x
                       WHERE x.sponsorship_id = f.sponsorship_id AND x.agency_id = $1)
           AND ($2::text[] IS NULL OR f.commune_code = ANY($2))
           AND ($3::int IS NULL OR f.year = $3)
         GROUP BY 1, 2"
    } else {
        "SELECT t.support_group AS grp, i.indicator, sum(t.households)::bigint AS short_before,
                coalesce(sum(t.households) FILTER (WHERE t.after_known), 0)::bigint AS reviewed_after,
                coalesce(sum(t.households) FILTER (WHERE t.after_known AND NOT i.indicator = ANY (t.short_after)), 0)::bigint AS resolved,
                coalesce(sum(t.households) FILTER (WHERE i.indicator = ANY (t.short_after)), 0)::bigint AS still_short,
                sum(t.escaped)::bigint AS escaped
         FROM effectiveness_shortfall_tallies t CROSS JOIN LATERAL unnest(t.short_before) AS i (indicator)
         WHERE t.households <> 0
           AND ($1::text[] IS NULL OR t.commune_code = ANY($1))
           AND ($2::int IS NULL OR t.year = $2)
         GROUP BY 1, 2 HAVING sum(t.households) <> 0"
    };
    fetch_scoped(pool, sql, agency, commune, year).await
}

/// The households helped, by their shortfalls before the help and the form of help: how many,
/// how many reviewed after, how many escaped. The caller folds the shortfalls into profiles.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProfileResultRow {
    pub short_before: Vec<String>,
    pub grp: String,
    pub households: i64,
    pub reviewed: i64,
    pub escaped: i64,
}

/// Per shortfalls and form of help; the district and a commune add up
/// `effectiveness_shortfall_tallies`, an agency's rows are read one by one.
pub async fn profile_results(
    pool: &PgPool,
    scope: &Scope,
    year: Option<i32>,
) -> sqlx::Result<Vec<ProfileResultRow>> {
    let (agency, commune, nothing) = scope_params(scope);
    if nothing {
        return Ok(Vec::new());
    }
    let sql = if agency.is_some() {
        "SELECT f.short_before, f.support_group AS grp, count(*) AS households,
                count(f.last_status) AS reviewed, count(f.escaped_in) AS escaped
         FROM effectiveness_facts f
         WHERE sponsorship_counts(f.state) AND f.short_before IS NOT NULL
           AND EXISTS (SELECT 1 FROM sponsorship_agencies x
                       WHERE x.sponsorship_id = f.sponsorship_id AND x.agency_id = $1)
           AND ($2::text[] IS NULL OR f.commune_code = ANY($2))
           AND ($3::int IS NULL OR f.year = $3)
         GROUP BY 1, 2"
    } else {
        "SELECT t.short_before, t.support_group AS grp, sum(t.households)::bigint AS households,
                sum(t.reviewed)::bigint AS reviewed, sum(t.escaped)::bigint AS escaped
         FROM effectiveness_shortfall_tallies t
         WHERE t.households <> 0
           AND ($1::text[] IS NULL OR t.commune_code = ANY($1))
           AND ($2::int IS NULL OR t.year = $2)
         GROUP BY 1, 2 HAVING sum(t.households) <> 0"
    };
    fetch_scoped(pool, sql, agency, commune, year).await
}

/// Runs one of a pair of statements: an agency's, row by row (`$1` the agency, `$2` the communes,
/// `$3` the year), or the tallied one (`$1` the communes, `$2` the year).
async fn fetch_scoped<R>(
    pool: &PgPool,
    sql: &'static str,
    agency: Option<uuid::Uuid>,
    commune: Option<Vec<String>>,
    year: Option<i32>,
) -> sqlx::Result<Vec<R>>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let query = match agency {
        Some(agency) => sqlx::query_as(sql).bind(agency),
        None => sqlx::query_as(sql),
    };
    query
        .persistent(false)
        .bind(commune)
        .bind(year)
        .fetch_all(pool)
        .await
}
