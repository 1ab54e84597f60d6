//! Changes: each locks the sponsorship's row, asks `domain::sponsorship::next` whether the event is allowed, writes, and audits, in the caller's transaction.

use crate::db::audit::{self, By};
use crate::db::codes::DbState;
use crate::domain::sponsorship::{self, Delivery, Event, State, Visit};
use chrono::{Datelike, NaiveDate};
use sqlx::PgConnection;
use sqlx::{Acquire, Postgres};

use crate::db::photos as photo_db;
use crate::photo::Processed;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("not found")]
    NotFound,
    /// The transition is not allowed from the current state (the message says why).
    #[error("{0}")]
    Refused(&'static str),
    /// The same form was submitted before: nothing more was written.
    #[error("already recorded")]
    AlreadyRecorded,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

async fn lock(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<(State, i64, i64, NaiveDate), ChangeError> {
    let row = sqlx::query!(
        r#"SELECT s.state AS "state: DbState", s.delivered_value, c.target_per_household,
                  s.pledged_on AS "pledged_on: NaiveDate"
         FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id WHERE s.id = $1 FOR UPDATE OF s"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(ChangeError::NotFound)?;
    Ok((
        row.state.0,
        row.delivered_value,
        row.target_per_household,
        row.pledged_on,
    ))
}

/// Where a form's one-time token is kept.
#[derive(Clone, Copy)]
enum Recorded {
    Deliveries,
    Visits,
}

/// Was this form (its one-time token) already recorded? Asked under the sponsorship's row lock,
/// so two copies of one form cannot both pass.
async fn already_recorded(
    conn: &mut PgConnection,
    kind: Recorded,
    submission: Option<Uuid>,
) -> sqlx::Result<bool> {
    let Some(token) = submission else {
        return Ok(false);
    };
    match kind {
        Recorded::Deliveries => sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM deliveries WHERE submission = $1) AS "found!""#,
            token
        ),
        Recorded::Visits => sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM follow_up_visits WHERE submission = $1) AS "found!""#,
            token
        ),
    }
    .fetch_one(conn)
    .await
}

/// What came with a delivery or visit form besides its fields: the form's idempotency key (a
/// retried or doubled submission, from this device or another, is stored once) and, for an entry
/// recorded on a phone without signal and sent later, when it was recorded there.
#[derive(Debug, Clone, Copy, Default)]
pub struct Submission {
    pub key: Option<Uuid>,
    pub recorded_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Confirm, reject (with a reason) or cancel (with a reason) a sponsorship.
pub async fn decide(
    db: impl Acquire<'_, Database = Postgres>,
    by: &By,
    id: Uuid,
    event: Event,
    reason: Option<&str>,
) -> Result<State, ChangeError> {
    let mut tx = db.begin().await?;
    let out = decide_in(&mut tx, by, id, event, reason).await?;
    tx.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction.
pub(crate) async fn decide_in(
    conn: &mut PgConnection,
    by: &By,
    id: Uuid,
    event: Event,
    reason: Option<&str>,
) -> Result<State, ChangeError> {
    let (state, ..) = lock(conn, id).await?;
    let next = sponsorship::next(state, event).map_err(ChangeError::Refused)?;
    sqlx::query!(
        "UPDATE sponsorships SET state = $2, updated_at = now(),
             decided_at = CASE WHEN $2 IN ('confirmed', 'rejected') THEN now() ELSE decided_at END,
             decided_by = CASE WHEN $2 IN ('confirmed', 'rejected') THEN $3 ELSE decided_by END,
             rejection_reason = CASE WHEN $2 = 'rejected' THEN $4 ELSE rejection_reason END,
             cancel_reason = CASE WHEN $2 = 'cancelled' THEN $4 ELSE cancel_reason END
         WHERE id = $1",
        id,
        next.as_str(),
        by.user_id,
        reason
    )
    .execute(&mut *conn)
    .await?;
    audit::write(
        conn,
        by,
        audit::Entry {
            action: audit::Action::Update,
            entity: "sponsorship",
            entity_id: id.to_string(),
            before: Some(serde_json::json!({ "state": state.as_str() })),
            after: Some(serde_json::json!({ "state": next.as_str() })),
            reason,
        },
    )
    .await?;
    Ok(next)
}

/// Record a delivery by `agency` (a member) with its photos. The delivered total and the state
/// move in the same transaction under the row lock, so concurrent deliveries all count and the
/// total stays exact; the photos are kept with the delivery or not at all.
#[allow(clippy::too_many_arguments)]
pub async fn deliver(
    db: impl Acquire<'_, Database = Postgres>,
    by: &By,
    id: Uuid,
    agency: Uuid,
    d: &Delivery,
    sent: Submission,
    photos: &[Processed],
) -> Result<(State, Uuid), ChangeError> {
    let mut tx = db.begin().await?;
    let out = deliver_in(&mut tx, by, id, agency, d, sent).await?;
    photo_db::add(&mut tx, by, id, photo_db::Owner::Delivery(out.1), photos).await?;
    tx.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction.
pub(crate) async fn deliver_in(
    conn: &mut PgConnection,
    by: &By,
    id: Uuid,
    agency: Uuid,
    d: &Delivery,
    sent: Submission,
) -> Result<(State, Uuid), ChangeError> {
    let submission = sent.key;
    let (state, delivered, target, pledged_on) = lock(conn, id).await?;
    if already_recorded(conn, Recorded::Deliveries, submission).await? {
        return Err(ChangeError::AlreadyRecorded);
    }
    if d.delivered_on < pledged_on {
        return Err(ChangeError::Refused(
            "Ngày trao không được trước ngày đăng ký.",
        ));
    }
    let total = delivered.saturating_add(d.total_value);
    if total > crate::domain::money::MAX_VND {
        return Err(ChangeError::Refused(
            "Tổng giá trị đã trao vượt quá giới hạn cho phép.",
        ));
    }
    let next = sponsorship::next(
        state,
        Event::Deliver {
            reached: total >= target,
        },
    )
    .map_err(ChangeError::Refused)?;
    let delivery_id: Uuid = sqlx::query_scalar!(
        "INSERT INTO deliveries (sponsorship_id, agency_id, delivered_on, item, quantity, unit, unit_value,
             total_value, delivered_by, record_number, note, recorded_by, submission)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        id,
        agency,
        d.delivered_on as NaiveDate,
        &d.item,
        d.quantity,
        &d.unit,
        d.unit_value,
        d.total_value,
        &d.delivered_by,
        d.record_number.as_deref(),
        d.note.as_deref(),
        by.user_id,
        submission
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE sponsorships SET delivered_value = $2, state = $3, updated_at = now() WHERE id = $1",
        id,
        total,
        next.as_str()
    )
    .execute(&mut *conn)
    .await?;
    audit::write(
        conn,
        by,
        audit::Entry {
            action: audit::Action::Create,
            entity: "delivery",
            entity_id: delivery_id.to_string(),
            before: None,
            after: Some(serde_json::json!({
                "sponsorship": id, "agency": agency, "delivery": d,
                "delivered_total": total, "state": next.as_str(),
                "recorded_on_device_at": sent.recorded_at
            })),
            reason: None,
        },
    )
    .await?;
    Ok((next, delivery_id))
}

/// Record a follow-up visit (R8): the sponsorship moves to follow-up and the visit keeps what it
/// observed. Only a visit marked official (the caller has checked that a commune official of the
/// household or a clerk records it) writes the household's status that year to its history (and
/// makes it the current status when it is the latest): an agency cannot rewrite the official
/// status, which feeds the multi-year figures.
/// Its photos are kept with the visit or not at all.
pub async fn visit(
    db: impl Acquire<'_, Database = Postgres>,
    by: &By,
    id: Uuid,
    v: &Visit,
    sent: Submission,
    photos: &[Processed],
) -> Result<(State, Uuid), ChangeError> {
    let mut tx = db.begin().await?;
    let out = visit_in(&mut tx, by, id, v, sent).await?;
    photo_db::add(&mut tx, by, id, photo_db::Owner::Visit(out.1), photos).await?;
    tx.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction.
pub(crate) async fn visit_in(
    conn: &mut PgConnection,
    by: &By,
    id: Uuid,
    v: &Visit,
    sent: Submission,
) -> Result<(State, Uuid), ChangeError> {
    let submission = sent.key;
    let (state, ..) = lock(conn, id).await?;
    if already_recorded(conn, Recorded::Visits, submission).await? {
        return Err(ChangeError::AlreadyRecorded);
    }
    let next = sponsorship::next(state, Event::Visit).map_err(ChangeError::Refused)?;
    let visit_id: Uuid = sqlx::query_scalar!(
        "INSERT INTO follow_up_visits (sponsorship_id, visited_on, findings, received, born, died, sold,
             trees_surviving, guidance, evaluation, observed_status, official_status, recorded_by, submission)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
        id,
        v.visited_on as NaiveDate,
        &v.findings,
        v.received,
        v.born,
        v.died,
        v.sold,
        v.trees_surviving,
        v.guidance.as_deref(),
        v.evaluation,
        v.observed_status,
        v.official,
        by.user_id,
        submission
    )
    .fetch_one(&mut *conn)
    .await?;
    if v.official {
        let year = v.visited_on.year();
        sqlx::query!(
            "WITH h AS (SELECT household_id FROM sponsorships WHERE id = $1),
                  hist AS (INSERT INTO household_status_history (household_id, year, status, source, recorded_by)
                           SELECT household_id, $2, $3, 'official', $4 FROM h
                           ON CONFLICT (household_id, year) DO UPDATE
                           SET status = excluded.status, source = 'official', recorded_by = excluded.recorded_by)
             UPDATE households SET status = $3, status_year = $2, updated_at = now()
             WHERE id = (SELECT household_id FROM h) AND status_year <= $2",
            id,
            year,
            v.observed_status,
            by.user_id
        )
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query!(
        "UPDATE sponsorships SET state = $2, updated_at = now() WHERE id = $1",
        id,
        next.as_str()
    )
    .execute(&mut *conn)
    .await?;
    audit::write(
        conn,
        by,
        audit::Entry {
            action: audit::Action::Create,
            entity: "follow_up_visit",
            entity_id: visit_id.to_string(),
            before: Some(serde_json::json!({ "state": state.as_str() })),
            after: Some(serde_json::json!({
                "sponsorship": id, "visit": v, "state": next.as_str(),
                "recorded_on_device_at": sent.recorded_at
            })),
            reason: None,
        },
    )
    .await?;
    Ok((next, visit_id))
}

/// Who decided a sponsorship (confirmed or rejected it) and when, with its state now: what the
/// commune official is told when a second tap arrives after the first one's decision.
pub async fn decision(
    pool: &sqlx::PgPool,
    id: Uuid,
) -> sqlx::Result<
    Option<(
        String,
        Option<String>,
        Option<chrono::DateTime<chrono::Utc>>,
    )>,
> {
    sqlx::query_as(
        "SELECT s.state, coalesce(nullif(u.full_name, ''), u.username), s.decided_at
         FROM sponsorships s LEFT JOIN users u ON u.id = s.decided_by WHERE s.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}
