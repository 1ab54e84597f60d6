//! Agencies and what they sponsor.

use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::labels;
use crate::domain::money::format_vnd;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgencyRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub staff_count: i32,
    pub named_school: bool,
    pub contact_person: Option<String>,
    pub phone: Option<String>,
}

impl AgencyRow {
    pub fn kind_label(&self) -> &'static str {
        labels::agency_kind(&self.kind)
    }
}

pub async fn get(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<AgencyRow>> {
    sqlx::query_as(
        "SELECT id, name, kind, staff_count, named_school, contact_person, phone
         FROM agencies WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

pub async fn name(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT name FROM agencies WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub async fn commune_name(pool: &PgPool, code: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT name FROM communes WHERE code = $1")
        .bind(code)
        .fetch_optional(pool)
        .await
}

/// One sponsorship of an agency, ready for display.
pub struct SponsorshipLine {
    pub household_id: Uuid,
    pub head_name: String,
    pub place: String,
    pub state: &'static str,
    pub joint: bool,
    pub support: String,
    pub pledged: String,
    pub delivered: String,
}

#[derive(sqlx::FromRow)]
struct LineRow {
    household_id: Uuid,
    head_name: String,
    village: String,
    commune: String,
    state: String,
    members: i64,
    support_form: String,
    support_summary: String,
    pledged_value: i64,
    delivered_value: i64,
}

/// The sponsorships an agency leads or joins in a campaign (scoped to that agency in SQL).
pub async fn sponsorships(
    pool: &PgPool,
    agency: Uuid,
    campaign: Uuid,
) -> sqlx::Result<Vec<SponsorshipLine>> {
    let rows: Vec<LineRow> = sqlx::query_as(
        "SELECT h.id AS household_id, h.head_name, v.name AS village, c.name AS commune, s.state,
                (SELECT count(*) FROM sponsorship_agencies m WHERE m.sponsorship_id = s.id) AS members,
                s.support_form, s.support_summary, s.pledged_value, s.delivered_value
         FROM sponsorships s
         JOIN sponsorship_agencies sa ON sa.sponsorship_id = s.id AND sa.agency_id = $1
         JOIN households h ON h.id = s.household_id
         JOIN villages v ON v.id = h.village_id
         JOIN communes c ON c.code = h.commune_code
         WHERE s.campaign_id = $2
         ORDER BY h.head_name",
    )
    .bind(agency)
    .bind(campaign)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SponsorshipLine {
            household_id: r.household_id,
            head_name: r.head_name,
            place: format!("{}, {}", r.village, r.commune),
            state: labels::sponsorship_state(&r.state),
            joint: r.members > 1,
            support: format!(
                "{}: {}",
                labels::support_form(&r.support_form),
                r.support_summary
            ),
            pledged: format_vnd(r.pledged_value),
            delivered: format_vnd(r.delivered_value),
        })
        .collect())
}
