//! Campaigns (R1).

use chrono::NaiveDate;
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Campaign {
    pub id: Uuid,
    pub year: i32,
    pub name: String,
    pub registration_deadline: NaiveDate,
    pub report_deadline: NaiveDate,
    pub target_per_household: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PriorityCommune {
    pub commune_code: String,
    pub commune_name: String,
    pub reason: String,
}

pub async fn current(pool: &PgPool) -> sqlx::Result<Option<Campaign>> {
    sqlx::query_as(
        "SELECT id, year, name, registration_deadline, report_deadline, target_per_household
         FROM campaigns WHERE is_current",
    )
    .fetch_optional(pool)
    .await
}

pub async fn priority_communes(
    pool: &PgPool,
    campaign: Uuid,
) -> sqlx::Result<Vec<PriorityCommune>> {
    sqlx::query_as(
        "SELECT p.commune_code, c.name AS commune_name, p.reason
         FROM campaign_priority_communes p JOIN communes c ON c.code = p.commune_code
         WHERE p.campaign_id = $1 ORDER BY c.name",
    )
    .bind(campaign)
    .fetch_all(pool)
    .await
}
