//! Registry counts for the home page and dashboards. What sponsorships add up to is not counted
//! here: `report::figures` counts it once for the home page and the reports alike.

use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct RegistryCounts {
    pub agencies: i64,
    pub households: i64,
    pub poor_households: i64,
    /// Households helped in a campaign before this one: those whose first year of help is
    /// earlier, summed from the tallies the database keeps (migration 0030).
    pub helped_before: i64,
}

pub async fn registry(pool: &PgPool, campaign: Uuid) -> sqlx::Result<RegistryCounts> {
    sqlx::query_as!(
        RegistryCounts,
        r#"SELECT
            (SELECT count(*) FROM agencies) AS "agencies!",
            (SELECT coalesce(sum(n), 0)::bigint FROM household_tallies) AS "households!",
            (SELECT coalesce(sum(n), 0)::bigint FROM household_tallies WHERE status = 'poor') AS "poor_households!",
            (SELECT coalesce(sum(n), 0)::bigint FROM first_help_tallies
                WHERE first_year < (SELECT year FROM campaigns WHERE id = $1)) AS "helped_before!""#,
        campaign
    )
    .fetch_one(pool)
    .await
}

/// A commune and its households still in poverty (poor or near-poor, not escaped).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommuneHouseholds {
    pub code: String,
    pub name: String,
    pub households: i64,
}

/// Every commune, by name, with its households still in poverty.
pub async fn commune_households(pool: &PgPool) -> sqlx::Result<Vec<CommuneHouseholds>> {
    sqlx::query_as!(
        CommuneHouseholds,
        r#"SELECT c.code, c.name,
                (SELECT coalesce(sum(t.n), 0)::bigint FROM household_tallies t
                  WHERE t.commune_code = c.code AND t.status <> 'escaped') AS "households!"
         FROM communes c ORDER BY c.name"#
    )
    .fetch_all(pool)
    .await
}

/// Whether the database holds any of the app's data (a restore over it needs `--yes`).
pub async fn has_data(pool: &sqlx::PgPool) -> sqlx::Result<bool> {
    let tables: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('public.households')::text")
            .fetch_one(pool)
            .await?;
    if tables.is_none() {
        return Ok(false);
    }
    let any: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM households) OR EXISTS (SELECT 1 FROM users) \
         OR EXISTS (SELECT 1 FROM agencies)",
    )
    .fetch_one(pool)
    .await?;
    Ok(any)
}

/// When the last WAL segment reached the archive (`pg_stat_archiver`): every transaction committed
/// before it can be recovered. `None` before the first.
pub async fn archived_until(pool: &PgPool) -> sqlx::Result<Option<chrono::DateTime<chrono::Utc>>> {
    sqlx::query_scalar("SELECT last_archived_time FROM pg_stat_archiver")
        .fetch_one(pool)
        .await
}
