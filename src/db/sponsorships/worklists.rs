//! Work lists: an agency's, a commune's and the district's sponsorships, and the households to choose from.

use chrono::NaiveDate;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::codes::DbState;
use crate::domain::sponsorship::State;

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
    #[sqlx(try_from = "DbState")]
    pub state: State,
    pub support_summary: String,
    pub pledged_value: i64,
    pub delivered_value: i64,
    pub target: i64,
    pub is_late: bool,
    pub pledged_on: NaiveDate,
    pub last_visit: Option<NaiveDate>,
}

/// A work list's statement: the columns of [`WorkRow`] followed by `$rest` (the WHERE and ORDER
/// BY), checked by the compiler like every other statement (`query_as!` joins literals with `+`).
macro_rules! work_rows {
    ($rest:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            WorkRow,
            r#"SELECT s.id, c.year, h.id AS household_id, h.head_name, v.name AS village, co.name AS commune,
                (SELECT string_agg(a.name, ', ' ORDER BY m.is_lead DESC, a.name) FROM sponsorship_agencies m
                   JOIN agencies a ON a.id = m.agency_id WHERE m.sponsorship_id = s.id) AS "agencies!",
                (SELECT count(*) FROM sponsorship_agencies m WHERE m.sponsorship_id = s.id) AS "members!",
                s.state AS "state: DbState", s.support_summary, s.pledged_value, s.delivered_value,
                c.target_per_household AS target, s.is_late, s.pledged_on AS "pledged_on: NaiveDate",
                (SELECT max(fv.visited_on) FROM follow_up_visits fv WHERE fv.sponsorship_id = s.id)
                    AS "last_visit: NaiveDate"
            FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id JOIN households h ON h.id = s.household_id
            JOIN villages v ON v.id = h.village_id JOIN communes co ON co.code = h.commune_code "#
                + $rest
            $(, $arg)*
        )
    };
}

/// The codes of `states`, as the statements bind them.
fn codes(states: &[State]) -> Vec<&'static str> {
    states.iter().map(|s| s.as_str()).collect()
}

/// Rows of an agency's list on one page: a page reads this many, whatever the size of the list.
pub const AGENCY_PAGE: i64 = 50;

/// Where a page of a keyset-paged list starts: after the row with this pledge date and id (the
/// list is newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct After {
    pub pledged_on: NaiveDate,
    pub id: Uuid,
}

impl After {
    /// `2024-06-20_<uuid>`, as a link carries it.
    pub fn token(&self) -> String {
        format!("{}_{}", self.pledged_on, self.id)
    }

    pub fn parse(s: &str) -> Option<After> {
        let (date, id) = s.trim().split_once('_')?;
        Some(After {
            pledged_on: date.parse().ok()?,
            id: id.parse().ok()?,
        })
    }

    pub fn of(r: &WorkRow) -> After {
        After {
            pledged_on: r.pledged_on,
            id: r.id,
        }
    }
}

/// A page of an agency's sponsorships (lead or member) in one campaign, in `states`, newest first,
/// starting after `after`: at most `limit` rows read however many the agency has (keyset paging
/// on the pledge date and id, from the agency's memberships of the campaign).
pub async fn of_agency(
    pool: &PgPool,
    agency: Uuid,
    campaign: Uuid,
    states: &[State],
    after: Option<After>,
    limit: i64,
) -> sqlx::Result<Vec<WorkRow>> {
    work_rows!(
        "WHERE s.campaign_id = $2 AND s.state = ANY($3)
           AND EXISTS (SELECT 1 FROM sponsorship_agencies x WHERE x.sponsorship_id = s.id AND x.agency_id = $1)
           AND ($4::date IS NULL OR (s.pledged_on, s.id) < ($4, $5))
         ORDER BY s.pledged_on DESC, s.id DESC
         LIMIT $6",
        agency,
        campaign,
        &codes(states) as &[&str],
        after.map(|a| a.pledged_on) as Option<NaiveDate>,
        after.map(|a| a.id) as Option<Uuid>,
        limit
    )
    .fetch_all(pool)
    .await
}

/// How many sponsorships of the agency in the campaign are in `states` (the list's heading).
pub async fn count_of_agency(
    pool: &PgPool,
    agency: Uuid,
    campaign: Uuid,
    states: &[State],
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM sponsorship_agencies x JOIN sponsorships s ON s.id = x.sponsorship_id
           WHERE x.agency_id = $1 AND s.campaign_id = $2 AND s.state = ANY($3)"#,
        agency,
        campaign,
        &codes(states) as &[&str]
    )
    .fetch_one(pool)
    .await
}

/// Sponsorships of earlier campaigns this agency took part in that had no visit this year.
pub async fn follow_ups_due(
    pool: &PgPool,
    agency: Uuid,
    current_year: i32,
    this_year: i32,
) -> sqlx::Result<Vec<WorkRow>> {
    work_rows!(
        "WHERE c.year < $2 AND sponsorship_counts(s.state)
           AND EXISTS (SELECT 1 FROM sponsorship_agencies x WHERE x.sponsorship_id = s.id AND x.agency_id = $1)
           AND NOT EXISTS (SELECT 1 FROM follow_up_visits fv WHERE fv.sponsorship_id = s.id
                           AND fv.visited_on >= make_date($3, 1, 1) AND fv.visited_on < make_date($3 + 1, 1, 1))
         ORDER BY c.year DESC, h.head_name LIMIT 100",
        agency,
        current_year,
        this_year
    )
    .fetch_all(pool)
    .await
}

/// A page of a commune's sponsorships in one campaign (`communes`: its code and, since the 2025
/// merger, its predecessors'), in `states`, newest first, starting after `after`: at most
/// `limit` rows (keyset paging, like [`of_agency`]).
pub async fn of_commune(
    pool: &PgPool,
    communes: &[String],
    campaign: Uuid,
    states: &[State],
    after: Option<After>,
    limit: i64,
) -> sqlx::Result<Vec<WorkRow>> {
    work_rows!(
        "WHERE s.campaign_id = $2 AND s.commune_code = ANY($1) AND s.state = ANY($3)
           AND ($4::date IS NULL OR (s.pledged_on, s.id) < ($4, $5))
         ORDER BY s.pledged_on DESC, s.id DESC
         LIMIT $6",
        communes,
        campaign,
        &codes(states) as &[&str],
        after.map(|a| a.pledged_on) as Option<NaiveDate>,
        after.map(|a| a.id) as Option<Uuid>,
        limit
    )
    .fetch_all(pool)
    .await
}

/// How many sponsorships of the commune in the campaign are in `states`.
pub async fn count_of_commune(
    pool: &PgPool,
    communes: &[String],
    campaign: Uuid,
    states: &[State],
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM sponsorships s
           WHERE s.commune_code = ANY($1) AND s.campaign_id = $2 AND s.state = ANY($3)"#,
        communes,
        campaign,
        &codes(states) as &[&str]
    )
    .fetch_one(pool)
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
    macro_rules! part {
        ($helped:literal, $not:literal, $limit:expr) => {
            sqlx::query_as!(
                Unadopted,
                r#"SELECT h.id, h.head_name, v.name AS village, h.status, "# + $helped
                    + r#" AS "helped_before!"
                 FROM households h JOIN villages v ON v.id = h.village_id
                 WHERE h.commune_code = $1 AND h.merged_into IS NULL AND h.status <> 'escaped'
                   AND ($3 OR (h.will_to_escape AND (h.lacks_capital OR h.lacks_technique)))
                   AND NOT EXISTS (SELECT 1 FROM sponsorships s WHERE s.household_id = h.id AND s.campaign_id = $2
                                   AND sponsorship_is_live(s.state))
                   AND "# + $not + r#" EXISTS (SELECT 1 FROM sponsorships e JOIN campaigns ec ON ec.id = e.campaign_id
                            WHERE e.household_id = h.id AND ec.year < (SELECT year FROM campaigns WHERE id = $2)
                              AND sponsorship_is_live(e.state))
                 ORDER BY h.head_name_key, h.id LIMIT $4"#,
                commune,
                campaign,
                in_priority_commune,
                $limit
            )
            .fetch_all(pool)
        };
    }
    let mut rows = part!("false", "NOT", UNADOPTED_SHOWN).await?;
    if (rows.len() as i64) < UNADOPTED_SHOWN {
        let helped = part!("true", "", UNADOPTED_SHOWN - rows.len() as i64).await?;
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
            WHERE h.merged_into IS NULL AND h.status <> 'escaped'
              AND h.commune_code = ANY(ARRAY(SELECT campaign_area(",
    );
    // The campaign's area: the communes under its organiser that year (old codes included).
    b.push_bind(campaign);
    b.push(")))");
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

/// Is the household in the campaign's area (its commune under the campaign's organiser)?
pub async fn in_area(pool: &PgPool, campaign: Uuid, household: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM households h
                        WHERE h.id = $2 AND h.commune_code IN (SELECT campaign_area($1)))",
    )
    .bind(campaign)
    .bind(household)
    .fetch_one(pool)
    .await
}

/// Pledges per page of the district's list.
pub const DISTRICT_PAGE: i64 = 100;

/// One page of the district's sponsorships of one campaign in the given states (clerks), and how
/// many there are in all. (The list was one page of up to 2.000 rows, and said "2.000" when there
/// were more.)
pub async fn of_district(
    pool: &PgPool,
    campaign: Uuid,
    states: &[State],
    page: i64,
) -> sqlx::Result<(Vec<WorkRow>, i64)> {
    let codes = codes(states);
    let rows = work_rows!(
        "WHERE s.campaign_id = $1 AND s.state = ANY($2) ORDER BY co.name, h.head_name, s.id
         LIMIT $3 OFFSET $4",
        campaign,
        &codes as &[&str],
        DISTRICT_PAGE,
        (page.max(1) - 1) * DISTRICT_PAGE
    )
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM sponsorships WHERE campaign_id = $1 AND state = ANY($2)"#,
        campaign,
        &codes as &[&str]
    )
    .fetch_one(pool)
    .await?;
    Ok((rows, total))
}

/// The sponsorships an agency takes part in for a campaign year (counted ones: not withdrawn or
/// rejected), in the official order, optionally only in one commune: a batch of progress sheets,
/// `limit` of them from `offset`.
pub async fn sheet_batch(
    pool: &PgPool,
    agency: Uuid,
    year: i32,
    communes: Option<&[String]>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT s.id FROM sponsorships s
         JOIN campaigns c ON c.id = s.campaign_id
         JOIN sponsorship_agencies x ON x.sponsorship_id = s.id AND x.agency_id = $1
         JOIN households h ON h.id = s.household_id
         JOIN villages v ON v.id = h.village_id
         WHERE c.year = $2 AND sponsorship_counts(s.state) AND ($3::text[] IS NULL OR s.commune_code = ANY($3))
         ORDER BY s.commune_code, v.name, h.head_name, s.id
         LIMIT $4 OFFSET $5",
    )
    .bind(agency)
    .bind(year)
    .bind(communes)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
}
