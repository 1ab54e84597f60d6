//! One sponsorship: its detail, members, lines, deliveries and visits.

use crate::db::codes::DbState;
use crate::domain::sponsorship::State;
use chrono::NaiveDate;
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Detail {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub year: i32,
    pub campaign_is_current: bool,
    pub target: i64,
    pub household_id: Uuid,
    pub head_name: String,
    pub village: String,
    pub commune_code: String,
    pub commune: String,
    pub lead_agency_id: Uuid,
    #[sqlx(try_from = "DbState")]
    pub state: State,
    pub support_form: String,
    pub support_summary: String,
    pub pledged_value: i64,
    pub delivered_value: i64,
    pub note: Option<String>,
    pub pledged_on: NaiveDate,
    pub is_late: bool,
    pub helped_before_reason: Option<String>,
    pub rejection_reason: Option<String>,
    pub cancel_reason: Option<String>,
}

pub async fn get(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<Detail>> {
    sqlx::query_as!(
        Detail,
        r#"SELECT s.id, s.campaign_id, c.year, c.is_current AS campaign_is_current,
            c.target_per_household AS target, h.id AS household_id, h.head_name, v.name AS village,
            h.commune_code, co.name AS commune, s.lead_agency_id, s.state AS "state: DbState", s.support_form,
            s.support_summary, s.pledged_value, s.delivered_value, s.note,
            s.pledged_on AS "pledged_on: NaiveDate", s.is_late, s.helped_before_reason,
            s.rejection_reason, s.cancel_reason
        FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id
        JOIN households h ON h.id = s.household_id
        JOIN villages v ON v.id = h.village_id JOIN communes co ON co.code = h.commune_code
        WHERE s.id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await
}

/// A member of a sponsorship with its share of the pledge and what it delivered.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Member {
    pub agency_id: Uuid,
    pub name: String,
    pub is_lead: bool,
    pub share_value: i64,
    pub delivered: i64,
}

pub async fn members(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<Member>> {
    sqlx::query_as!(
        Member,
        r#"SELECT sa.agency_id, a.name, sa.is_lead, sa.share_value,
                coalesce((SELECT sum(d.total_value) FROM deliveries d
                          WHERE d.sponsorship_id = sa.sponsorship_id AND d.agency_id = sa.agency_id), 0)::bigint
                    AS "delivered!"
         FROM sponsorship_agencies sa JOIN agencies a ON a.id = sa.agency_id
         WHERE sa.sponsorship_id = $1 ORDER BY sa.is_lead DESC, a.name"#,
        id
    )
    .fetch_all(pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LineRow {
    pub form: String,
    pub item: String,
    pub quantity: i32,
    pub unit: String,
    pub estimated_value: i64,
}

pub async fn lines(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<LineRow>> {
    sqlx::query_as!(
        LineRow,
        "SELECT form, item, quantity, unit, estimated_value FROM support_lines
         WHERE sponsorship_id = $1 ORDER BY position",
        id
    )
    .fetch_all(pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub delivered_on: NaiveDate,
    pub agency: String,
    pub item: String,
    pub quantity: i32,
    pub unit: String,
    pub unit_value: i64,
    pub total_value: i64,
    pub delivered_by: String,
    pub record_number: Option<String>,
    pub note: Option<String>,
}

pub async fn deliveries(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<DeliveryRow>> {
    sqlx::query_as!(
        DeliveryRow,
        r#"SELECT d.id, d.delivered_on AS "delivered_on: NaiveDate", a.name AS agency, d.item,
                d.quantity, d.unit, d.unit_value, d.total_value, d.delivered_by, d.record_number, d.note
         FROM deliveries d JOIN agencies a ON a.id = d.agency_id
         WHERE d.sponsorship_id = $1 ORDER BY d.delivered_on, d.created_at"#,
        id
    )
    .fetch_all(pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VisitRow {
    pub id: Uuid,
    pub sponsorship_id: Uuid,
    pub year: i32,
    pub visited_on: NaiveDate,
    pub findings: String,
    pub received: Option<i32>,
    pub born: Option<i32>,
    pub died: Option<i32>,
    pub sold: Option<i32>,
    pub trees_surviving: Option<i32>,
    pub guidance: Option<String>,
    pub evaluation: String,
    /// What the visitor saw (the visit's own finding).
    pub observed_status: String,
    /// The visit also recorded the official status (by the commune or the district).
    pub official_status: bool,
}

/// Every visit to a household, across all its sponsorships and years: its story.
pub async fn visits_of_household(pool: &PgPool, household: Uuid) -> sqlx::Result<Vec<VisitRow>> {
    sqlx::query_as!(
        VisitRow,
        r#"SELECT v.id, v.sponsorship_id, c.year, v.visited_on AS "visited_on: NaiveDate",
                v.findings, v.received, v.born, v.died, v.sold, v.trees_surviving, v.guidance,
                v.evaluation, v.observed_status, v.official_status
         FROM follow_up_visits v JOIN sponsorships s ON s.id = v.sponsorship_id
         JOIN campaigns c ON c.id = s.campaign_id
         WHERE s.household_id = $1 ORDER BY v.visited_on, v.created_at"#,
        household
    )
    .fetch_all(pool)
    .await
}

/// Is `agency` a member (lead or joined) of the sponsorship?
pub async fn is_member(pool: &PgPool, id: Uuid, agency: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM sponsorship_agencies
                          WHERE sponsorship_id = $1 AND agency_id = $2) AS "member!""#,
        id,
        agency
    )
    .fetch_one(pool)
    .await
}

/// The date a sponsorship was pledged (deliveries and visits may not be earlier).
pub async fn pledged_on(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<NaiveDate>> {
    sqlx::query_scalar!(
        r#"SELECT pledged_on AS "pledged_on: NaiveDate" FROM sponsorships WHERE id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await
}
