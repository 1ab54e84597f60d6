//! Households and their history across campaigns.

use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HouseholdRow {
    pub id: Uuid,
    pub commune_code: String,
    pub commune_name: String,
    pub village_name: String,
    pub head_name: String,
    pub birth_year: Option<i32>,
    pub gender: Option<String>,
    pub cccd: Option<String>,
    pub household_code: Option<String>,
    pub ethnicity: String,
    pub members: i32,
    pub status: String,
    pub status_year: i32,
    pub lacks_capital: bool,
    pub lacks_land: bool,
    pub lacks_labour: bool,
    pub lacks_technique: bool,
    pub illness: bool,
    pub other_needs: Option<String>,
    pub will_to_escape: bool,
    pub phone: Option<String>,
    pub notes: Option<String>,
}

pub async fn get(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<HouseholdRow>> {
    sqlx::query_as(
        "SELECT h.id, h.commune_code, c.name AS commune_name, v.name AS village_name, h.head_name,
                h.birth_year, h.gender, h.cccd, h.household_code, h.ethnicity, h.members, h.status,
                h.status_year, h.lacks_capital, h.lacks_land, h.lacks_labour, h.lacks_technique,
                h.illness, h.other_needs, h.will_to_escape, h.phone, h.notes
         FROM households h JOIN communes c ON c.code = h.commune_code
                           JOIN villages v ON v.id = h.village_id
         WHERE h.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRow {
    pub year: i32,
    pub agencies: String,
    pub support_form: String,
    pub support_summary: String,
    pub pledged_value: i64,
    pub delivered_value: i64,
    pub state: String,
}

/// Every sponsorship of a household, newest year first.
pub async fn history(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<HistoryRow>> {
    sqlx::query_as(
        "SELECT c.year,
                (SELECT string_agg(a.name, ', ' ORDER BY sa.is_lead DESC, a.name)
                   FROM sponsorship_agencies sa JOIN agencies a ON a.id = sa.agency_id
                  WHERE sa.sponsorship_id = s.id) AS agencies,
                s.support_form, s.support_summary, s.pledged_value, s.delivered_value, s.state
         FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id
         WHERE s.household_id = $1
         ORDER BY c.year DESC",
    )
    .bind(id)
    .fetch_all(pool)
    .await
}

/// The household's poverty status year by year.
pub async fn status_history(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<(i32, String)>> {
    sqlx::query_as(
        "SELECT year, status FROM household_status_history WHERE household_id = $1 ORDER BY year",
    )
    .bind(id)
    .fetch_all(pool)
    .await
}
