//! Communes and their villages.

use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::audit::{self, By};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommuneRow {
    pub code: String,
    pub name: String,
    pub merged_into_code: String,
    pub merged_into_name: String,
    pub villages: i64,
    pub households: i64,
}

pub async fn communes(pool: &PgPool) -> sqlx::Result<Vec<CommuneRow>> {
    sqlx::query_as(
        "SELECT c.code, c.name, c.merged_into_code, c.merged_into_name,
                (SELECT count(*) FROM villages v WHERE v.commune_code = c.code) AS villages,
                (SELECT count(*) FROM households h WHERE h.commune_code = c.code) AS households
         FROM communes c ORDER BY c.code",
    )
    .fetch_all(pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VillageRow {
    pub id: Uuid,
    pub name: String,
    pub households: i64,
}

pub async fn villages(pool: &PgPool, commune: &str) -> sqlx::Result<Vec<VillageRow>> {
    sqlx::query_as(
        "SELECT v.id, v.name, (SELECT count(*) FROM households h WHERE h.village_id = v.id) AS households
         FROM villages v WHERE v.commune_code = $1 ORDER BY normalize_name(v.name)",
    )
    .bind(commune)
    .fetch_all(pool)
    .await
}

/// Add a village; `Ok(None)` when the commune already has one of that name (spelled any way).
pub async fn add_village(
    conn: &mut PgConnection,
    by: &By,
    commune: &str,
    name: &str,
) -> sqlx::Result<Option<Uuid>> {
    let id: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO villages (commune_code, name) VALUES ($1, $2)
         ON CONFLICT (commune_code, normalize_name(name)) DO NOTHING RETURNING id",
    )
    .bind(commune)
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = id {
        #[derive(Serialize)]
        struct V<'a> {
            commune_code: &'a str,
            name: &'a str,
        }
        audit::created(
            conn,
            by,
            "village",
            id,
            &V {
                commune_code: commune,
                name,
            },
        )
        .await?;
    }
    Ok(id)
}
