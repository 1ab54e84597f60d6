//! Figures for the home page and dashboards.

use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct CampaignFigures {
    pub agencies: i64,
    pub households: i64,
    pub poor_households: i64,
    pub sponsorships: i64,
    pub confirmed: i64,
    pub pledged_value: i64,
    pub delivered_value: i64,
    pub helped_before: i64,
}

/// District-wide figures for one campaign. Only confirmed (or later) sponsorships count (R3).
pub async fn campaign_figures(pool: &PgPool, campaign: Uuid) -> sqlx::Result<CampaignFigures> {
    sqlx::query_as!(
        CampaignFigures,
        r#"SELECT
            (SELECT count(*) FROM agencies) AS "agencies!",
            (SELECT coalesce(sum(n), 0)::bigint FROM household_tallies) AS "households!",
            (SELECT coalesce(sum(n), 0)::bigint FROM household_tallies WHERE status = 'poor') AS "poor_households!",
            (SELECT count(*) FROM sponsorships s WHERE s.campaign_id = $1
                AND sponsorship_is_live(s.state)) AS "sponsorships!",
            (SELECT count(*) FROM sponsorships s WHERE s.campaign_id = $1
                AND sponsorship_counts(s.state)) AS "confirmed!",
            (SELECT coalesce(sum(pledged_value), 0)::bigint FROM sponsorships s WHERE s.campaign_id = $1
                AND sponsorship_counts(s.state)) AS "pledged_value!",
            (SELECT coalesce(sum(delivered_value), 0)::bigint FROM sponsorships s WHERE s.campaign_id = $1
                AND sponsorship_counts(s.state)) AS "delivered_value!",
            (SELECT count(DISTINCT s.household_id) FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id
                WHERE c.year < (SELECT year FROM campaigns WHERE id = $1)) AS "helped_before!""#,
        campaign
    )
    .fetch_one(pool)
    .await
}

/// Progress of one commune in a campaign (R3: confirmed counts).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommuneProgress {
    pub code: String,
    pub name: String,
    pub households: i64,
    pub proposed: i64,
    pub confirmed: i64,
    pub delivered_value: i64,
    pub reached: i64,
}

pub async fn by_commune(pool: &PgPool, campaign: Uuid) -> sqlx::Result<Vec<CommuneProgress>> {
    sqlx::query_as!(
        CommuneProgress,
        r#"SELECT c.code, c.name,
                (SELECT coalesce(sum(t.n), 0)::bigint FROM household_tallies t
                  WHERE t.commune_code = c.code AND t.status <> 'escaped') AS "households!",
                count(s.id) FILTER (WHERE s.state = 'proposed') AS "proposed!",
                count(s.id) FILTER (WHERE sponsorship_counts(s.state)) AS "confirmed!",
                coalesce(sum(s.delivered_value) FILTER (WHERE sponsorship_counts(s.state)), 0)::bigint AS "delivered_value!",
                count(s.id) FILTER (WHERE s.state IN ('target_reached', 'follow_up')) AS "reached!"
         FROM communes c
         LEFT JOIN sponsorships s ON s.commune_code = c.code AND s.campaign_id = $1
         GROUP BY c.code, c.name ORDER BY c.name"#,
        campaign
    )
    .fetch_all(pool)
    .await
}
