//! Work lists: an agency's, a commune's and the district's sponsorships, and the households to choose from.

use chrono::NaiveDate;
use sqlx::PgPool;
use uuid::Uuid;

/// A sponsorship in a work list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WorkRow {
    pub id: Uuid,
    pub year: i32,
    pub household_id: Uuid,
    pub head_name: String,
    pub village: String,
    pub commune: String,
    pub agencies: String,
    pub members: i64,
    pub state: String,
    pub support_summary: String,
    pub pledged_value: i64,
    pub delivered_value: i64,
    pub target: i64,
    pub is_late: bool,
    pub pledged_on: NaiveDate,
    pub last_visit: Option<NaiveDate>,
}

const WORK: &str = "SELECT s.id, c.year, h.id AS household_id, h.head_name, v.name AS village, co.name AS commune,
        (SELECT string_agg(a.name, ', ' ORDER BY m.is_lead DESC, a.name) FROM sponsorship_agencies m
           JOIN agencies a ON a.id = m.agency_id WHERE m.sponsorship_id = s.id) AS agencies,
        (SELECT count(*) FROM sponsorship_agencies m WHERE m.sponsorship_id = s.id) AS members,
        s.state, s.support_summary, s.pledged_value, s.delivered_value, c.target_per_household AS target,
        s.is_late, s.pledged_on,
        (SELECT max(fv.visited_on) FROM follow_up_visits fv WHERE fv.sponsorship_id = s.id) AS last_visit
    FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id JOIN households h ON h.id = s.household_id
    JOIN villages v ON v.id = h.village_id JOIN communes co ON co.code = h.commune_code";

/// An agency's sponsorships (lead or member) in one campaign.
pub async fn of_agency(pool: &PgPool, agency: Uuid, campaign: Uuid) -> sqlx::Result<Vec<WorkRow>> {
    sqlx::query_as(&format!(
        "{WORK} WHERE s.campaign_id = $2
           AND EXISTS (SELECT 1 FROM sponsorship_agencies x WHERE x.sponsorship_id = s.id AND x.agency_id = $1)
         ORDER BY s.state = 'rejected', h.head_name"
    ))
    .bind(agency)
    .bind(campaign)
    .fetch_all(pool)
    .await
}

/// Sponsorships of earlier campaigns this agency took part in that had no visit this year.
pub async fn follow_ups_due(
    pool: &PgPool,
    agency: Uuid,
    current_year: i32,
    this_year: i32,
) -> sqlx::Result<Vec<WorkRow>> {
    sqlx::query_as(&format!(
        "{WORK} WHERE c.year < $2 AND sponsorship_counts(s.state)
           AND EXISTS (SELECT 1 FROM sponsorship_agencies x WHERE x.sponsorship_id = s.id AND x.agency_id = $1)
           AND NOT EXISTS (SELECT 1 FROM follow_up_visits fv WHERE fv.sponsorship_id = s.id
                           AND extract(year FROM fv.visited_on) = $3)
         ORDER BY c.year DESC, h.head_name LIMIT 100"
    ))
    .bind(agency)
    .bind(current_year)
    .bind(this_year)
    .fetch_all(pool)
    .await
}

/// A commune's sponsorships of one campaign in the given states.
pub async fn of_commune(
    pool: &PgPool,
    commune: &str,
    campaign: Uuid,
    states: &[&str],
) -> sqlx::Result<Vec<WorkRow>> {
    sqlx::query_as(&format!(
        "{WORK} WHERE s.campaign_id = $2 AND h.commune_code = $1 AND s.state = ANY($3)
         ORDER BY s.pledged_on, h.head_name"
    ))
    .bind(commune)
    .bind(campaign)
    .bind(states)
    .fetch_all(pool)
    .await
}

/// Priority households (R5) of a commune not yet adopted in the campaign.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Unadopted {
    pub id: Uuid,
    pub head_name: String,
    pub village: String,
    pub status: String,
    pub helped_before: bool,
}

pub async fn priority_unadopted(
    pool: &PgPool,
    commune: &str,
    campaign: Uuid,
    in_priority_commune: bool,
) -> sqlx::Result<Vec<Unadopted>> {
    // Never helped first, by name: read in the order of the commune's name index until 50
    // are found (sorting every priority household of the commune cost 5 ms a dashboard); the
    // households helped in earlier years are read only when fewer than 50 were never helped.
    let part = |helped: bool| {
        format!(
            "SELECT h.id, h.head_name, v.name AS village, h.status, {helped} AS helped_before
             FROM households h JOIN villages v ON v.id = h.village_id
             WHERE h.commune_code = $1 AND h.merged_into IS NULL AND h.status <> 'escaped'
               AND ($3 OR (h.will_to_escape AND (h.lacks_capital OR h.lacks_technique)))
               AND NOT EXISTS (SELECT 1 FROM sponsorships s WHERE s.household_id = h.id AND s.campaign_id = $2
                               AND sponsorship_is_live(s.state))
               AND {} EXISTS (SELECT 1 FROM sponsorships e JOIN campaigns ec ON ec.id = e.campaign_id
                        WHERE e.household_id = h.id AND ec.year < (SELECT year FROM campaigns WHERE id = $2)
                          AND sponsorship_is_live(e.state))
             ORDER BY h.head_name_key, h.id LIMIT $4",
            if helped { "" } else { "NOT" }
        )
    };
    let mut rows: Vec<Unadopted> = sqlx::query_as(&part(false))
        .bind(commune)
        .bind(campaign)
        .bind(in_priority_commune)
        .bind(UNADOPTED_SHOWN)
        .fetch_all(pool)
        .await?;
    if (rows.len() as i64) < UNADOPTED_SHOWN {
        let helped: Vec<Unadopted> = sqlx::query_as(&part(true))
            .bind(commune)
            .bind(campaign)
            .bind(in_priority_commune)
            .bind(UNADOPTED_SHOWN - rows.len() as i64)
            .fetch_all(pool)
            .await?;
        rows.extend(helped);
    }
    Ok(rows)
}

/// Priority households a commune's dashboard lists at most.
pub const UNADOPTED_SHOWN: i64 = 50;

/// Households an agency may choose for a pledge: not adopted in the campaign, not merged away,
/// not out of poverty; priority households (R5) first, then those never helped, then by name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Choice {
    pub id: Uuid,
    pub head_name: String,
    pub village: String,
    pub commune: String,
    pub status: String,
    pub priority: bool,
    pub helped_before: bool,
}

pub async fn choices(
    pool: &PgPool,
    campaign: Uuid,
    q: Option<&str>,
    commune: Option<&str>,
    priority_communes: &[String],
    limit: i64,
) -> sqlx::Result<Vec<Choice>> {
    // Only the filters given are written into the statement: each shape is prepared once and
    // keeps its plan (an optional filter written `($n IS NULL OR …)` had to be planned anew for
    // every request, or a cached plan would read every household).
    let mut b = sqlx::QueryBuilder::new(
        "WITH cand AS (
            SELECT h.id, h.head_name, v.name AS village, co.name AS commune, h.status,
                   (h.will_to_escape AND (h.lacks_capital OR h.lacks_technique)) OR h.commune_code = ANY(",
    );
    b.push_bind(priority_communes);
    b.push(
        ") AS priority,
                   EXISTS (SELECT 1 FROM sponsorships e JOIN campaigns ec ON ec.id = e.campaign_id
                           WHERE e.household_id = h.id AND ec.year < (SELECT year FROM campaigns WHERE id = ",
    );
    b.push_bind(campaign);
    b.push(
        ") AND sponsorship_is_live(e.state)) AS helped_before
            FROM households h JOIN villages v ON v.id = h.village_id JOIN communes co ON co.code = h.commune_code
            WHERE h.merged_into IS NULL AND h.status <> 'escaped'",
    );
    if let Some(q) = q {
        b.push(
            " AND (h.head_name_key = ANY(ARRAY(SELECT n.key FROM name_keys n
                       WHERE to_tsvector('simple', n.key) @@ plainto_tsquery('simple', normalize_name(",
        );
        b.push_bind(q);
        b.push(")))) OR h.household_code = ");
        b.push_bind(q);
        b.push(" OR h.cccd = ");
        b.push_bind(q);
        b.push(")");
    }
    if let Some(c) = commune {
        b.push(" AND h.commune_code = ");
        b.push_bind(c);
    }
    b.push(
        " AND NOT EXISTS (SELECT 1 FROM sponsorships s WHERE s.household_id = h.id AND s.campaign_id = ",
    );
    b.push_bind(campaign);
    b.push(
        " AND sponsorship_is_live(s.state)))
         SELECT * FROM cand ORDER BY priority DESC, helped_before, head_name, id LIMIT ",
    );
    b.push_bind(limit);
    b.build_query_as().fetch_all(pool).await
}

/// Pledges per page of the district's list.
pub const DISTRICT_PAGE: i64 = 100;

/// One page of the district's sponsorships of one campaign in the given states (clerks), and how
/// many there are in all. (The list was one page of up to 2.000 rows, and said "2.000" when there
/// were more.)
pub async fn of_district(
    pool: &PgPool,
    campaign: Uuid,
    states: &[&str],
    page: i64,
) -> sqlx::Result<(Vec<WorkRow>, i64)> {
    let rows = sqlx::query_as(&format!(
        "{WORK} WHERE s.campaign_id = $1 AND s.state = ANY($2) ORDER BY co.name, h.head_name, s.id
         LIMIT $3 OFFSET $4"
    ))
    .bind(campaign)
    .bind(states)
    .bind(DISTRICT_PAGE)
    .bind((page.max(1) - 1) * DISTRICT_PAGE)
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar(
        "SELECT count(*) FROM sponsorships WHERE campaign_id = $1 AND state = ANY($2)",
    )
    .bind(campaign)
    .bind(states)
    .fetch_one(pool)
    .await?;
    Ok((rows, total))
}
