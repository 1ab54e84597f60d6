//! Photos of deliveries and visits (issue #18) and the household's consent to them. A photo is seen
//! by whoever may see its sponsorship; the web layer asks [`get`] for the sponsorship and checks.

use chrono::{DateTime, Utc};
use sqlx::{Acquire, Postgres};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::audit::{self, By};
use crate::photo::Processed;

/// What a photo proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Delivery(Uuid),
    Visit(Uuid),
}

/// Store the processed photos of one delivery or visit, in the caller's transaction (the delivery
/// or visit itself was written in it: both are kept or neither).
pub async fn add(
    conn: &mut PgConnection,
    by: &By,
    sponsorship: Uuid,
    owner: Owner,
    photos: &[Processed],
) -> sqlx::Result<Vec<Uuid>> {
    let (delivery, visit) = match owner {
        Owner::Delivery(id) => (Some(id), None),
        Owner::Visit(id) => (None, Some(id)),
    };
    let mut ids = Vec::with_capacity(photos.len());
    for p in photos {
        let id = sqlx::query_scalar!(
            "INSERT INTO photos (sponsorship_id, delivery_id, visit_id, width, height, jpeg, thumb, uploaded_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            sponsorship,
            delivery,
            visit,
            p.width as i32,
            p.height as i32,
            p.jpeg,
            p.thumb,
            by.user_id
        )
        .fetch_one(&mut *conn)
        .await?;
        ids.push(id);
    }
    if !ids.is_empty() {
        audit::write(
            conn,
            by,
            audit::Entry {
                action: audit::Action::Create,
                entity: "photo",
                entity_id: sponsorship.to_string(),
                before: None,
                after: Some(serde_json::json!({
                    "sponsorship": sponsorship, "delivery": delivery, "visit": visit,
                    "photos": ids, "bytes": photos.iter().map(|p| p.jpeg.len() + p.thumb.len()).sum::<usize>(),
                })),
                reason: None,
            },
        )
        .await?;
    }
    Ok(ids)
}

/// One photo's facts, without its bytes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PhotoRow {
    pub id: Uuid,
    pub sponsorship_id: Uuid,
    pub delivery_id: Option<Uuid>,
    pub visit_id: Option<Uuid>,
    pub width: i32,
    pub height: i32,
    pub uploaded_by: Option<Uuid>,
    pub uploader: String,
    pub uploaded_at: DateTime<Utc>,
}

pub async fn get(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<PhotoRow>> {
    sqlx::query_as!(
        PhotoRow,
        r#"SELECT p.id, p.sponsorship_id, p.delivery_id, p.visit_id, p.width, p.height, p.uploaded_by,
                coalesce(u.full_name, 'hệ thống') AS "uploader!",
                p.uploaded_at AS "uploaded_at: DateTime<Utc>"
         FROM photos p LEFT JOIN users u ON u.id = p.uploaded_by
         WHERE p.id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await
}

/// The photos of a household's sponsorships that a viewer may see: `agency` limits them to the
/// sponsorships that agency is a member of (None: all, for the commune and the district).
pub async fn of_household(
    pool: &PgPool,
    household: Uuid,
    agency: Option<Uuid>,
) -> sqlx::Result<Vec<PhotoRow>> {
    sqlx::query_as!(
        PhotoRow,
        r#"SELECT p.id, p.sponsorship_id, p.delivery_id, p.visit_id, p.width, p.height, p.uploaded_by,
                coalesce(u.full_name, 'hệ thống') AS "uploader!",
                p.uploaded_at AS "uploaded_at: DateTime<Utc>"
         FROM photos p LEFT JOIN users u ON u.id = p.uploaded_by
         JOIN sponsorships s ON s.id = p.sponsorship_id
         WHERE s.household_id = $1
           AND ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM sponsorship_agencies m
                                            WHERE m.sponsorship_id = p.sponsorship_id AND m.agency_id = $2))
         ORDER BY p.uploaded_at, p.id"#,
        household,
        agency
    )
    .fetch_all(pool)
    .await
}

/// The stored JPEG or its thumbnail.
pub async fn bytes(pool: &PgPool, id: Uuid, thumb: bool) -> sqlx::Result<Option<Vec<u8>>> {
    if thumb {
        sqlx::query_scalar!("SELECT thumb FROM photos WHERE id = $1", id)
            .fetch_optional(pool)
            .await
    } else {
        sqlx::query_scalar!("SELECT jpeg FROM photos WHERE id = $1", id)
            .fetch_optional(pool)
            .await
    }
}

/// Delete a photo (the caller checked who may), audited with why.
pub async fn delete(
    db: impl Acquire<'_, Database = Postgres>,
    by: &By,
    photo: &PhotoRow,
) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    let out = delete_in(&mut tx, by, photo).await?;
    tx.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction.
pub(crate) async fn delete_in(
    conn: &mut PgConnection,
    by: &By,
    photo: &PhotoRow,
) -> sqlx::Result<bool> {
    let gone = sqlx::query!("DELETE FROM photos WHERE id = $1", photo.id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        == 1;
    if gone {
        audit::write(
            conn,
            by,
            audit::Entry {
                action: audit::Action::Delete,
                entity: "photo",
                entity_id: photo.id.to_string(),
                before: Some(serde_json::json!({
                    "sponsorship": photo.sponsorship_id, "delivery": photo.delivery_id,
                    "visit": photo.visit_id, "uploaded_by": photo.uploaded_by,
                    "uploaded_at": photo.uploaded_at,
                })),
                after: None,
                reason: None,
            },
        )
        .await?;
    }
    Ok(gone)
}

/// The family's answer about photos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    NotAsked,
    Agreed,
    Refused,
}

impl Consent {
    pub const ALL: [Consent; 3] = [Consent::NotAsked, Consent::Agreed, Consent::Refused];

    pub fn as_str(self) -> &'static str {
        match self {
            Consent::NotAsked => "not_asked",
            Consent::Agreed => "agreed",
            Consent::Refused => "refused",
        }
    }

    pub fn parse(code: &str) -> Option<Consent> {
        Consent::ALL.into_iter().find(|c| c.as_str() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Consent::NotAsked => "Chưa hỏi",
            Consent::Agreed => "Gia đình đồng ý chụp ảnh",
            Consent::Refused => "Gia đình không đồng ý chụp ảnh người",
        }
    }
}

/// The household's consent and who recorded it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConsentRow {
    pub photo_consent: String,
    pub recorded_by: Option<String>,
    pub photo_consent_at: Option<DateTime<Utc>>,
}

pub async fn consent(pool: &PgPool, household: Uuid) -> sqlx::Result<Option<ConsentRow>> {
    sqlx::query_as!(
        ConsentRow,
        r#"SELECT h.photo_consent, u.full_name AS "recorded_by?",
                h.photo_consent_at AS "photo_consent_at: DateTime<Utc>"
         FROM households h LEFT JOIN users u ON u.id = h.photo_consent_by WHERE h.id = $1"#,
        household
    )
    .fetch_optional(pool)
    .await
}

/// Record the family's answer; audited with the answer before and after. Returns false when the
/// household does not exist.
pub async fn set_consent(
    db: impl Acquire<'_, Database = Postgres>,
    by: &By,
    household: Uuid,
    consent: Consent,
) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    let out = set_consent_in(&mut tx, by, household, consent).await?;
    tx.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction.
pub(crate) async fn set_consent_in(
    conn: &mut PgConnection,
    by: &By,
    household: Uuid,
    consent: Consent,
) -> sqlx::Result<bool> {
    let before = sqlx::query_scalar!(
        "SELECT photo_consent FROM households WHERE id = $1 FOR UPDATE",
        household
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(before) = before else {
        return Ok(false);
    };
    sqlx::query!(
        "UPDATE households SET photo_consent = $2, photo_consent_by = $3, photo_consent_at = now()
         WHERE id = $1",
        household,
        consent.as_str(),
        by.user_id
    )
    .execute(&mut *conn)
    .await?;
    audit::write(
        conn,
        by,
        audit::Entry {
            action: audit::Action::Update,
            entity: "household_photo_consent",
            entity_id: household.to_string(),
            before: Some(serde_json::json!({ "photo_consent": before })),
            after: Some(serde_json::json!({ "photo_consent": consent.as_str() })),
            reason: None,
        },
    )
    .await?;
    Ok(true)
}
