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
/// [`GROUPS`]: crate::domain::effectiveness::GROUPS
pub async fn effectiveness(
    pool: &PgPool,
    scope: &Scope,
    year: Option<i32>,
) -> sqlx::Result<Vec<crate::domain::effectiveness::GroupFigures>> {
    use crate::domain::effectiveness::{GROUPS, GroupFigures};
    let (agency, commune, nothing) = scope_params(scope);
    // The medians sort every counted sponsorship of the scope: with the default 4 MB of working
    // memory 500.000 of them went to disk (bench reports: 0,7 s instead of 0,5 s).
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL work_mem = '64MB'")
        .execute(&mut *tx)
        .await?;
    let mut rows: Vec<EffectRow> = if nothing {
        Vec::new()
    } else {
        // One narrow row a sponsorship, kept by triggers (migration 0025): its main group, the
        // first official "escaped" year after it, its last official status after it (1 poor,
        // 2 near-poor, 3 escaped), its latest visit's counts.
        sqlx::query_as(
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
             FROM effectiveness_facts f CROSS JOIN review
             WHERE sponsorship_counts(f.state)
               AND ($1::uuid IS NULL OR EXISTS (SELECT 1 FROM sponsorship_agencies x
                                                WHERE x.sponsorship_id = f.sponsorship_id AND x.agency_id = $1))
               AND ($2::text IS NULL OR f.commune_code = $2)
               AND ($3::int IS NULL OR f.year = $3)
             GROUP BY 1",
    )
        .persistent(false)
        .bind(agency)
        .bind(&commune)
        .bind(year)
        .fetch_all(&mut *tx)
        .await?
    };
    tx.commit().await?;
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
