//! Review of suspected pairs: "not a duplicate" (remembered), merge (the kept record takes the other's history) and undo.

use crate::db::audit::{self, By};
use sqlx::{Acquire, Postgres};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Remember that two records are different households; the pair is never suggested again.
pub async fn dismiss(
    db: impl Acquire<'_, Database = Postgres>,
    by: &By,
    a: Uuid,
    b: Uuid,
    reason: &str,
) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    dismiss_in(&mut tx, by, a, b, reason).await?;
    tx.commit().await?;
    Ok(())
}

/// The same, inside the caller's transaction.
pub(crate) async fn dismiss_in(
    conn: &mut PgConnection,
    by: &By,
    a: Uuid,
    b: Uuid,
    reason: &str,
) -> sqlx::Result<()> {
    let (a, b) = if a < b { (a, b) } else { (b, a) };
    let r = sqlx::query!(
        "INSERT INTO duplicate_dismissals (household_a, household_b, user_id, reason) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
        a,
        b,
        by.user_id,
        reason
    )
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() > 0 {
        let entry = audit::Entry {
            action: audit::Action::Create,
            entity: "duplicate_dismissal",
            entity_id: format!("{a}/{b}"),
            before: None,
            after: Some(serde_json::json!({ "household_a": a, "household_b": b })),
            reason: Some(reason),
        };
        audit::write(conn, by, entry).await?;
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("Không tìm thấy một trong hai hộ.")]
    NotFound,
    #[error("Một trong hai hộ đã được gộp vào hộ khác.")]
    AlreadyMerged,
    #[error(
        "Hai hộ đều được nhận giúp đỡ trong đợt {0}: không gộp được. Hãy hủy một lượt giúp đỡ trước."
    )]
    SameCampaign(i32),
    #[error("Lần gộp này đã được hoàn tác.")]
    AlreadyUndone,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Merge `merged` into `survivor`: the survivor takes its sponsorships and the status years it
/// lacks; `merged` is marked and disappears from lists. One transaction, rows locked in id order
/// so two people merging the same pair cannot both win.
pub async fn merge(
    db: impl Acquire<'_, Database = Postgres>,
    by: &By,
    survivor: Uuid,
    merged: Uuid,
    reason: &str,
) -> Result<Uuid, MergeError> {
    let mut tx = db.begin().await?;
    let out = merge_in(&mut tx, by, survivor, merged, reason).await?;
    tx.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction.
pub(crate) async fn merge_in(
    conn: &mut PgConnection,
    by: &By,
    survivor: Uuid,
    merged: Uuid,
    reason: &str,
) -> Result<Uuid, MergeError> {
    let locked: Vec<(Uuid, Option<Uuid>)> = sqlx::query_as(
        "SELECT id, merged_into FROM households WHERE id = ANY($1) ORDER BY id FOR UPDATE",
    )
    .bind(vec![survivor, merged])
    .fetch_all(&mut *conn)
    .await?;
    if locked.len() != 2 || survivor == merged {
        return Err(MergeError::NotFound);
    }
    if locked.iter().any(|(_, m)| m.is_some()) {
        return Err(MergeError::AlreadyMerged);
    }
    let clash: Option<i32> = sqlx::query_scalar!(
        "SELECT c.year FROM sponsorships a JOIN sponsorships b ON a.campaign_id = b.campaign_id
         JOIN campaigns c ON c.id = a.campaign_id WHERE a.household_id = $1 AND b.household_id = $2 LIMIT 1",
        survivor,
        merged
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(year) = clash {
        return Err(MergeError::SameCampaign(year));
    }
    let moved: Vec<Uuid> = sqlx::query_scalar!(
        "UPDATE sponsorships SET household_id = $1, updated_at = now() WHERE household_id = $2 RETURNING id",
        survivor,
        merged
    )
        .fetch_all(&mut *conn)
        .await?;
    let years: Vec<i32> = sqlx::query_scalar!(
        "INSERT INTO household_status_history (household_id, year, status, source, recorded_by)
         SELECT $1, year, status, source, recorded_by FROM household_status_history WHERE household_id = $2
         ON CONFLICT (household_id, year) DO NOTHING RETURNING year",
        survivor,
        merged
    )
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE households SET merged_into = $1, updated_at = now() WHERE id = $2",
        survivor,
        merged
    )
    .execute(&mut *conn)
    .await?;
    let id: Uuid = sqlx::query_scalar!(
        "INSERT INTO household_merges (survivor_id, merged_id, user_id, reason, moved_sponsorships, moved_status_years)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        survivor,
        merged,
        by.user_id,
        reason,
        &moved,
        &years
    )
    .fetch_one(&mut *conn)
    .await?;
    let entry = audit::Entry {
        action: audit::Action::Merge,
        entity: "household",
        entity_id: merged.to_string(),
        before: None,
        after: Some(
            serde_json::json!({ "merge": id, "survivor": survivor, "sponsorships_moved": moved, "status_years_copied": years }),
        ),
        reason: Some(reason),
    };
    audit::write(conn, by, entry).await?;
    Ok(id)
}

/// Undo a merge exactly: the moved sponsorships and copied status years go back.
pub async fn unmerge(
    db: impl Acquire<'_, Database = Postgres>,
    by: &By,
    merge_id: Uuid,
) -> Result<(), MergeError> {
    let mut tx = db.begin().await?;
    unmerge_in(&mut tx, by, merge_id).await?;
    tx.commit().await?;
    Ok(())
}

/// The same, inside the caller's transaction.
pub(crate) async fn unmerge_in(
    conn: &mut PgConnection,
    by: &By,
    merge_id: Uuid,
) -> Result<(), MergeError> {
    #[derive(sqlx::FromRow)]
    struct MergeRecord {
        survivor_id: Uuid,
        merged_id: Uuid,
        moved_sponsorships: Vec<Uuid>,
        moved_status_years: Vec<i32>,
        undone: bool,
    }
    let row: Option<MergeRecord> = sqlx::query_as(
        "SELECT survivor_id, merged_id, moved_sponsorships, moved_status_years, undone_at IS NOT NULL AS undone
         FROM household_merges WHERE id = $1 FOR UPDATE",
    )
    .bind(merge_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(MergeRecord {
        survivor_id: survivor,
        merged_id: merged,
        moved_sponsorships: sponsorships,
        moved_status_years: years,
        undone,
    }) = row
    else {
        return Err(MergeError::NotFound);
    };
    if undone {
        return Err(MergeError::AlreadyUndone);
    }
    sqlx::query_scalar!(
        "SELECT id FROM households WHERE id = ANY($1) ORDER BY id FOR UPDATE",
        &[survivor, merged][..]
    )
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE sponsorships SET household_id = $1, updated_at = now() WHERE id = ANY($2)",
        merged,
        &sponsorships
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "DELETE FROM household_status_history WHERE household_id = $1 AND year = ANY($2)",
        survivor,
        &years
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE households SET merged_into = NULL, updated_at = now() WHERE id = $1",
        merged
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE household_merges SET undone_at = now(), undone_by = $2 WHERE id = $1",
        merge_id,
        by.user_id
    )
    .execute(&mut *conn)
    .await?;
    let entry = audit::Entry {
        action: audit::Action::Unmerge,
        entity: "household",
        entity_id: merged.to_string(),
        before: Some(serde_json::json!({ "merge": merge_id, "survivor": survivor })),
        after: Some(
            serde_json::json!({ "sponsorships_returned": sponsorships, "status_years_removed": years }),
        ),
        reason: None,
    };
    audit::write(conn, by, entry).await?;
    Ok(())
}

/// Merges of a commune (or all), newest first, for the review page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MergeRow {
    pub id: Uuid,
    pub survivor_id: Uuid,
    pub survivor_name: String,
    pub merged_name: String,
    pub commune_code: String,
    pub reason: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub undone: bool,
}

pub async fn merges(pool: &PgPool, commune: Option<&str>) -> sqlx::Result<Vec<MergeRow>> {
    sqlx::query_as(
        "SELECT m.id, m.survivor_id, s.head_name AS survivor_name, d.head_name AS merged_name, s.commune_code,
                m.reason, m.created_at, m.undone_at IS NOT NULL AS undone
         FROM household_merges m JOIN households s ON s.id = m.survivor_id JOIN households d ON d.id = m.merged_id
         WHERE ($1::text IS NULL OR s.commune_code = $1)
         ORDER BY m.created_at DESC LIMIT 100",
    )
    .bind(commune)
    .fetch_all(pool)
    .await
}
