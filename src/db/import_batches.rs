//! Uploaded files waiting for confirmation (`import_batches`): the file as sent, the file as read,
//! whose they are, and whether they were imported.

use sqlx::PgPool;
use uuid::Uuid;

/// A batch as stored.
#[derive(sqlx::FromRow)]
pub struct StoredBatch {
    pub filename: String,
    pub payload: Vec<u8>,
    /// The file as read at upload (serde_json of `import::Table`); `None` for older batches.
    pub parsed: Option<Vec<u8>>,
    pub confirmed: bool,
}

/// Keep an upload of `user` (and forget unconfirmed batches older than a day).
pub async fn insert(
    pool: &PgPool,
    user: Uuid,
    kind: &str,
    filename: &str,
    payload: &[u8],
    parsed: &[u8],
) -> sqlx::Result<Uuid> {
    sqlx::query!("DELETE FROM import_batches WHERE created_at < now() - interval '1 day'")
        .execute(pool)
        .await?;
    sqlx::query_scalar!(
        "INSERT INTO import_batches (user_id, kind, filename, payload, parsed)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        user,
        kind,
        filename,
        payload,
        parsed
    )
    .fetch_one(pool)
    .await
}

/// A batch of `kind` belonging to `user` (another user's is `None`).
pub async fn of_user(
    pool: &PgPool,
    id: Uuid,
    user: Uuid,
    kind: &str,
) -> sqlx::Result<Option<StoredBatch>> {
    sqlx::query_as!(
        StoredBatch,
        r#"SELECT filename, payload, parsed, confirmed_at IS NOT NULL AS "confirmed!"
         FROM import_batches WHERE id = $1 AND user_id = $2 AND kind = $3"#,
        id,
        user,
        kind
    )
    .fetch_optional(pool)
    .await
}
