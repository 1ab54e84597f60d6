//! Sponsorships: an agency, or a joint group led by one, adopts a household in a campaign.
//! R4's "one sponsorship per household per campaign" is the database's constraint
//! `sponsorships_campaign_household_key`; this module turns its refusal into a message naming the
//! agency that already has the household, and asks for a reason to adopt a household helped in an
//! earlier campaign.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::audit::{self, By};
use crate::domain::sponsorship::{self, Delivery, Event, Line, State, Visit};

/// A pledge as checked by the caller (lines parsed, members checked).
#[derive(Debug, Clone, Serialize)]
pub struct NewPledge {
    pub campaign_id: Uuid,
    pub household_id: Uuid,
    pub lead_agency_id: Uuid,
    /// Other members of a joint group (1–3 agencies), without the lead.
    pub members: Vec<Uuid>,
    pub lines: Vec<Line>,
    /// The household's wishes, as the agency noted them.
    pub note: Option<String>,
    /// R4: why the agency goes on although the household was helped in an earlier campaign.
    pub helped_before_reason: Option<String>,
    /// The form's one-time token: a second submission of the same form is not a second pledge.
    #[serde(skip)]
    pub submission: Option<Uuid>,
}

/// One earlier sponsorship of a household: (year, agencies, support).
pub type EarlierHelp = (i32, String, String);

#[derive(Debug, thiserror::Error)]
pub enum PledgeError {
    /// R4: the household is already adopted in this campaign.
    #[error("Hộ này đã được {agency} nhận giúp đỡ trong đợt vận động này.")]
    AlreadyAdopted { agency: String },
    /// R4: the household was helped in an earlier campaign; going on needs a stated reason.
    #[error("Hộ này đã được giúp đỡ các năm trước; hãy ghi lý do để tiếp tục nhận giúp đỡ.")]
    HelpedBefore { history: Vec<EarlierHelp> },
    #[error("Một đơn vị trong nhóm không có trong danh sách cơ quan, đơn vị.")]
    UnknownAgency,
    /// The same form arrived twice at the same instant; the caller looks up the first.
    #[error("Biểu mẫu này đã được gửi.")]
    Resubmitted,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Sponsorships of a household in campaigns before `campaign`, oldest first.
pub async fn earlier_help(
    conn: &mut PgConnection,
    campaign: Uuid,
    household: Uuid,
) -> sqlx::Result<Vec<EarlierHelp>> {
    sqlx::query_as(
        "SELECT c.year,
                (SELECT string_agg(a.name, ', ' ORDER BY sa.is_lead DESC, a.name)
                   FROM sponsorship_agencies sa JOIN agencies a ON a.id = sa.agency_id WHERE sa.sponsorship_id = s.id),
                s.support_summary
         FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id
         WHERE s.household_id = $2 AND s.state NOT IN ('rejected', 'cancelled')
           AND c.year < (SELECT year FROM campaigns WHERE id = $1)
         ORDER BY c.year",
    )
    .bind(campaign)
    .bind(household)
    .fetch_all(conn)
    .await
}

/// Record a pledge (state `proposed`, awaiting the commune's confirmation) with its members,
/// their shares and its support lines; marked late when made after the campaign's registration
/// deadline (R7). When another agency adopted the household first — even at the same instant —
/// the database refuses, this transaction writes nothing, and the error names that agency. The
/// same form submitted twice returns the first pledge's id and writes nothing more.
pub async fn pledge(conn: &mut PgConnection, by: &By, p: &NewPledge) -> Result<Uuid, PledgeError> {
    if let Some(token) = p.submission {
        let earlier: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM sponsorships WHERE submission = $1")
                .bind(token)
                .fetch_optional(&mut *conn)
                .await?;
        if let Some(id) = earlier {
            return Ok(id);
        }
    }
    let reason = p
        .helped_before_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let history = earlier_help(conn, p.campaign_id, p.household_id).await?;
    if !history.is_empty() && reason.is_none() {
        return Err(PledgeError::HelpedBefore { history });
    }
    let (form, summary) = sponsorship::summarise(&p.lines);
    let total: i64 = p.lines.iter().map(|l| l.value).sum();
    let inserted: Result<Uuid, sqlx::Error> = sqlx::query_scalar(
        "INSERT INTO sponsorships (campaign_id, household_id, lead_agency_id, state, support_form, support_summary,
             pledged_value, note, helped_before_reason, submission, pledged_on, is_late)
         SELECT $1, $2, $3, 'proposed', $4, $5, $6, $7, $8, $9, d.today, d.today > c.registration_deadline
         FROM campaigns c, (SELECT (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS today) d
         WHERE c.id = $1
         RETURNING id",
    )
    .bind(p.campaign_id)
    .bind(p.household_id)
    .bind(p.lead_agency_id)
    .bind(form)
    .bind(&summary)
    .bind(total)
    .bind(&p.note)
    .bind(reason.filter(|_| !history.is_empty()))
    .bind(p.submission)
    .fetch_one(&mut *conn)
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(sqlx::Error::Database(e))
            if e.constraint() == Some("sponsorships_campaign_household_key") =>
        {
            return Err(PledgeError::AlreadyAdopted {
                agency: String::new(),
            });
        }
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("sponsorships_submission_key") => {
            return Err(PledgeError::Resubmitted);
        }
        Err(e) => return Err(e.into()),
    };
    let members: Vec<Uuid> = std::iter::once(p.lead_agency_id)
        .chain(p.members.iter().copied())
        .collect();
    let shares = sponsorship::shares(total, members.len());
    let added = sqlx::query(
        "INSERT INTO sponsorship_agencies (sponsorship_id, agency_id, is_lead, share_value)
         SELECT $1, m.a, m.a = $2, m.share FROM unnest($3::uuid[], $4::bigint[]) AS m(a, share)",
    )
    .bind(id)
    .bind(p.lead_agency_id)
    .bind(&members)
    .bind(&shares)
    .execute(&mut *conn)
    .await;
    match added {
        Err(sqlx::Error::Database(e))
            if e.constraint() == Some("sponsorship_agencies_agency_fkey") =>
        {
            return Err(PledgeError::UnknownAgency);
        }
        other => {
            other?;
        }
    }
    sqlx::query(
        "INSERT INTO support_lines (sponsorship_id, position, form, item, quantity, unit, estimated_value)
         SELECT $1, l.pos, l.form, l.item, l.quantity, l.unit, l.value
         FROM unnest($2::int[], $3::text[], $4::text[], $5::int[], $6::text[], $7::bigint[])
              AS l(pos, form, item, quantity, unit, value)",
    )
    .bind(id)
    .bind((1..=p.lines.len() as i32).collect::<Vec<_>>())
    .bind(p.lines.iter().map(|l| l.form).collect::<Vec<_>>())
    .bind(p.lines.iter().map(|l| l.item.as_str()).collect::<Vec<_>>())
    .bind(p.lines.iter().map(|l| l.quantity).collect::<Vec<_>>())
    .bind(p.lines.iter().map(|l| l.unit.as_str()).collect::<Vec<_>>())
    .bind(p.lines.iter().map(|l| l.value).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    let entry = audit::Entry {
        action: audit::Action::Create,
        entity: "sponsorship",
        entity_id: id.to_string(),
        before: None,
        after: audit::json(p),
        reason: (!history.is_empty()).then_some(reason).flatten(),
    };
    audit::write(conn, by, entry).await?;
    Ok(id)
}

/// The agency (or agencies of a joint group) holding a household in a campaign.
pub async fn holder(
    pool: &sqlx::PgPool,
    campaign: Uuid,
    household: Uuid,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT string_agg(a.name, ', ' ORDER BY sa.is_lead DESC, a.name)
         FROM sponsorships s JOIN sponsorship_agencies sa ON sa.sponsorship_id = s.id JOIN agencies a ON a.id = sa.agency_id
         WHERE s.campaign_id = $1 AND s.household_id = $2 AND s.state NOT IN ('rejected', 'cancelled') GROUP BY s.id",
    )
    .bind(campaign)
    .bind(household)
    .fetch_optional(pool)
    .await
}

/// [`holder`] for several households at once: (household, agencies) of those adopted.
pub async fn holders(
    pool: &sqlx::PgPool,
    campaign: Uuid,
    households: &[Uuid],
) -> sqlx::Result<Vec<(Uuid, String)>> {
    if households.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(
        "SELECT s.household_id, string_agg(a.name, ', ' ORDER BY sa.is_lead DESC, a.name)
         FROM sponsorships s JOIN sponsorship_agencies sa ON sa.sponsorship_id = s.id JOIN agencies a ON a.id = sa.agency_id
         WHERE s.campaign_id = $1 AND s.household_id = ANY($2) AND s.state NOT IN ('rejected', 'cancelled')
         GROUP BY s.id, s.household_id",
    )
    .bind(campaign)
    .bind(households)
    .fetch_all(pool)
    .await
}

/// [`pledge`] in its own transaction, naming the holder when the household is taken.
pub async fn pledge_committed(
    pool: &sqlx::PgPool,
    by: &By,
    p: &NewPledge,
) -> Result<Uuid, PledgeError> {
    let mut tx = pool.begin().await?;
    match pledge(&mut tx, by, p).await {
        Ok(id) => {
            tx.commit().await?;
            Ok(id)
        }
        Err(PledgeError::AlreadyAdopted { .. }) => {
            drop(tx);
            // The same form sent twice at once: the first one's pledge is the answer.
            if let Some(token) = p.submission {
                let first: Option<Uuid> =
                    sqlx::query_scalar("SELECT id FROM sponsorships WHERE submission = $1")
                        .bind(token)
                        .fetch_optional(pool)
                        .await?;
                if let Some(id) = first {
                    return Ok(id);
                }
            }
            let agency = holder(pool, p.campaign_id, p.household_id)
                .await?
                .unwrap_or_else(|| "một cơ quan khác".to_string());
            Err(PledgeError::AlreadyAdopted { agency })
        }
        Err(PledgeError::Resubmitted) => {
            drop(tx);
            let first: Option<Uuid> =
                sqlx::query_scalar("SELECT id FROM sponsorships WHERE submission = $1")
                    .bind(p.submission)
                    .fetch_optional(pool)
                    .await?;
            first.ok_or(PledgeError::Resubmitted)
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------------
// One sponsorship: its detail, members, lines, deliveries and visits

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
    pub state: String,
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

impl Detail {
    pub fn state(&self) -> State {
        State::parse(&self.state).unwrap_or(State::Cancelled)
    }
}

const DETAIL: &str = "SELECT s.id, s.campaign_id, c.year, c.is_current AS campaign_is_current,
        c.target_per_household AS target, h.id AS household_id, h.head_name, v.name AS village,
        h.commune_code, co.name AS commune, s.lead_agency_id, s.state, s.support_form, s.support_summary,
        s.pledged_value, s.delivered_value, s.note, s.pledged_on, s.is_late, s.helped_before_reason,
        s.rejection_reason, s.cancel_reason
    FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id JOIN households h ON h.id = s.household_id
    JOIN villages v ON v.id = h.village_id JOIN communes co ON co.code = h.commune_code";

pub async fn get(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<Detail>> {
    sqlx::query_as(&format!("{DETAIL} WHERE s.id = $1"))
        .bind(id)
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
    sqlx::query_as(
        "SELECT sa.agency_id, a.name, sa.is_lead, sa.share_value,
                coalesce((SELECT sum(d.total_value) FROM deliveries d
                          WHERE d.sponsorship_id = sa.sponsorship_id AND d.agency_id = sa.agency_id), 0)::bigint AS delivered
         FROM sponsorship_agencies sa JOIN agencies a ON a.id = sa.agency_id
         WHERE sa.sponsorship_id = $1 ORDER BY sa.is_lead DESC, a.name",
    )
    .bind(id)
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
    sqlx::query_as(
        "SELECT form, item, quantity, unit, estimated_value FROM support_lines
         WHERE sponsorship_id = $1 ORDER BY position",
    )
    .bind(id)
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
    sqlx::query_as(
        "SELECT d.id, d.delivered_on, a.name AS agency, d.item, d.quantity, d.unit, d.unit_value, d.total_value,
                d.delivered_by, d.record_number, d.note
         FROM deliveries d JOIN agencies a ON a.id = d.agency_id
         WHERE d.sponsorship_id = $1 ORDER BY d.delivered_on, d.created_at",
    )
    .bind(id)
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
    sqlx::query_as(
        "SELECT v.id, v.sponsorship_id, c.year, v.visited_on, v.findings, v.received, v.born, v.died, v.sold,
                v.trees_surviving, v.guidance, v.evaluation, v.observed_status, v.official_status
         FROM follow_up_visits v JOIN sponsorships s ON s.id = v.sponsorship_id JOIN campaigns c ON c.id = s.campaign_id
         WHERE s.household_id = $1 ORDER BY v.visited_on, v.created_at",
    )
    .bind(household)
    .fetch_all(pool)
    .await
}

/// Is `agency` a member (lead or joined) of the sponsorship?
pub async fn is_member(pool: &PgPool, id: Uuid, agency: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sponsorship_agencies WHERE sponsorship_id = $1 AND agency_id = $2)",
    )
    .bind(id)
    .bind(agency)
    .fetch_one(pool)
    .await
}

// ---------------------------------------------------------------------------------------------
// Changes: each locks the sponsorship's row, asks `domain::sponsorship::next` whether the event
// is allowed, writes, and audits, in the caller's transaction.

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
    let row: Option<(String, i64, i64, NaiveDate)> = sqlx::query_as(
        "SELECT s.state, s.delivered_value, c.target_per_household, s.pledged_on
         FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id WHERE s.id = $1 FOR UPDATE OF s",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let (state, delivered, target, pledged_on) = row.ok_or(ChangeError::NotFound)?;
    let state = State::parse(&state).ok_or(ChangeError::Refused("Trạng thái không rõ."))?;
    Ok((state, delivered, target, pledged_on))
}

/// Was this form (its one-time token) already recorded in `table`? Asked under the
/// sponsorship's row lock, so two copies of one form cannot both pass.
async fn already_recorded(
    conn: &mut PgConnection,
    table: &'static str,
    submission: Option<Uuid>,
) -> sqlx::Result<bool> {
    let Some(token) = submission else {
        return Ok(false);
    };
    sqlx::query_scalar(&format!(
        "SELECT EXISTS (SELECT 1 FROM {table} WHERE submission = $1)"
    ))
    .bind(token)
    .fetch_one(conn)
    .await
}

/// Confirm, reject (with a reason) or cancel (with a reason) a sponsorship.
pub async fn decide(
    conn: &mut PgConnection,
    by: &By,
    id: Uuid,
    event: Event,
    reason: Option<&str>,
) -> Result<State, ChangeError> {
    let (state, ..) = lock(conn, id).await?;
    let next = sponsorship::next(state, event).map_err(ChangeError::Refused)?;
    sqlx::query(
        "UPDATE sponsorships SET state = $2, updated_at = now(),
             decided_at = CASE WHEN $2 IN ('confirmed', 'rejected') THEN now() ELSE decided_at END,
             decided_by = CASE WHEN $2 IN ('confirmed', 'rejected') THEN $3 ELSE decided_by END,
             rejection_reason = CASE WHEN $2 = 'rejected' THEN $4 ELSE rejection_reason END,
             cancel_reason = CASE WHEN $2 = 'cancelled' THEN $4 ELSE cancel_reason END
         WHERE id = $1",
    )
    .bind(id)
    .bind(next.as_str())
    .bind(by.user_id)
    .bind(reason)
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

/// The date a sponsorship was pledged (deliveries and visits may not be earlier).
pub async fn pledged_on(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<NaiveDate>> {
    sqlx::query_scalar("SELECT pledged_on FROM sponsorships WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Record a delivery by `agency` (a member). The delivered total and the state move in the same
/// transaction under the row lock, so concurrent deliveries all count and the total stays exact.
pub async fn deliver(
    conn: &mut PgConnection,
    by: &By,
    id: Uuid,
    agency: Uuid,
    d: &Delivery,
    submission: Option<Uuid>,
) -> Result<(State, Uuid), ChangeError> {
    let (state, delivered, target, pledged_on) = lock(conn, id).await?;
    if already_recorded(conn, "deliveries", submission).await? {
        return Err(ChangeError::AlreadyRecorded);
    }
    if d.delivered_on < pledged_on {
        return Err(ChangeError::Refused(
            "Ngày trao không được trước ngày đăng ký.",
        ));
    }
    let total = delivered.saturating_add(d.total_value);
    if total > sponsorship::MAX_VND {
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
    let delivery_id: Uuid = sqlx::query_scalar(
        "INSERT INTO deliveries (sponsorship_id, agency_id, delivered_on, item, quantity, unit, unit_value,
             total_value, delivered_by, record_number, note, recorded_by, submission)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(id)
    .bind(agency)
    .bind(d.delivered_on)
    .bind(&d.item)
    .bind(d.quantity)
    .bind(&d.unit)
    .bind(d.unit_value)
    .bind(d.total_value)
    .bind(&d.delivered_by)
    .bind(&d.record_number)
    .bind(&d.note)
    .bind(by.user_id)
    .bind(submission)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE sponsorships SET delivered_value = $2, state = $3, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(total)
    .bind(next.as_str())
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
                "delivered_total": total, "state": next.as_str()
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
pub async fn visit(
    conn: &mut PgConnection,
    by: &By,
    id: Uuid,
    v: &Visit,
    submission: Option<Uuid>,
) -> Result<(State, Uuid), ChangeError> {
    let (state, ..) = lock(conn, id).await?;
    if already_recorded(conn, "follow_up_visits", submission).await? {
        return Err(ChangeError::AlreadyRecorded);
    }
    let next = sponsorship::next(state, Event::Visit).map_err(ChangeError::Refused)?;
    let visit_id: Uuid = sqlx::query_scalar(
        "INSERT INTO follow_up_visits (sponsorship_id, visited_on, findings, received, born, died, sold,
             trees_surviving, guidance, evaluation, observed_status, official_status, recorded_by, submission)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
    )
    .bind(id)
    .bind(v.visited_on)
    .bind(&v.findings)
    .bind(v.received)
    .bind(v.born)
    .bind(v.died)
    .bind(v.sold)
    .bind(v.trees_surviving)
    .bind(&v.guidance)
    .bind(v.evaluation)
    .bind(v.observed_status)
    .bind(v.official)
    .bind(by.user_id)
    .bind(submission)
    .fetch_one(&mut *conn)
    .await?;
    if v.official {
        let year = v.visited_on.year();
        sqlx::query(
            "WITH h AS (SELECT household_id FROM sponsorships WHERE id = $1),
                  hist AS (INSERT INTO household_status_history (household_id, year, status, source, recorded_by)
                           SELECT household_id, $2, $3, 'official', $4 FROM h
                           ON CONFLICT (household_id, year) DO UPDATE
                           SET status = excluded.status, source = 'official', recorded_by = excluded.recorded_by)
             UPDATE households SET status = $3, status_year = $2, updated_at = now()
             WHERE id = (SELECT household_id FROM h) AND status_year <= $2",
        )
        .bind(id)
        .bind(year)
        .bind(v.observed_status)
        .bind(by.user_id)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("UPDATE sponsorships SET state = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(next.as_str())
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
            after: Some(
                serde_json::json!({ "sponsorship": id, "visit": v, "state": next.as_str() }),
            ),
            reason: None,
        },
    )
    .await?;
    Ok((next, visit_id))
}

// ---------------------------------------------------------------------------------------------
// Work lists

/// A sponsorship in a work list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WorkRow {
    pub id: Uuid,
    pub year: i32,
    pub household_id: Uuid,
    pub head_name: String,
    pub village: String,
    pub commune: String,
    pub agencies: String,
    pub members: i64,
    pub state: String,
    pub support_summary: String,
    pub pledged_value: i64,
    pub delivered_value: i64,
    pub target: i64,
    pub is_late: bool,
    pub pledged_on: NaiveDate,
    pub last_visit: Option<NaiveDate>,
}

const WORK: &str = "SELECT s.id, c.year, h.id AS household_id, h.head_name, v.name AS village, co.name AS commune,
        (SELECT string_agg(a.name, ', ' ORDER BY m.is_lead DESC, a.name) FROM sponsorship_agencies m
           JOIN agencies a ON a.id = m.agency_id WHERE m.sponsorship_id = s.id) AS agencies,
        (SELECT count(*) FROM sponsorship_agencies m WHERE m.sponsorship_id = s.id) AS members,
        s.state, s.support_summary, s.pledged_value, s.delivered_value, c.target_per_household AS target,
        s.is_late, s.pledged_on,
        (SELECT max(fv.visited_on) FROM follow_up_visits fv WHERE fv.sponsorship_id = s.id) AS last_visit
    FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id JOIN households h ON h.id = s.household_id
    JOIN villages v ON v.id = h.village_id JOIN communes co ON co.code = h.commune_code";

/// An agency's sponsorships (lead or member) in one campaign.
pub async fn of_agency(pool: &PgPool, agency: Uuid, campaign: Uuid) -> sqlx::Result<Vec<WorkRow>> {
    sqlx::query_as(&format!(
        "{WORK} WHERE s.campaign_id = $2
           AND EXISTS (SELECT 1 FROM sponsorship_agencies x WHERE x.sponsorship_id = s.id AND x.agency_id = $1)
         ORDER BY s.state = 'rejected', h.head_name"
    ))
    .bind(agency)
    .bind(campaign)
    .fetch_all(pool)
    .await
}

/// Sponsorships of earlier campaigns this agency took part in that had no visit this year.
pub async fn follow_ups_due(
    pool: &PgPool,
    agency: Uuid,
    current_year: i32,
    this_year: i32,
) -> sqlx::Result<Vec<WorkRow>> {
    sqlx::query_as(&format!(
        "{WORK} WHERE c.year < $2 AND s.state IN ('confirmed', 'delivering', 'target_reached', 'follow_up')
           AND EXISTS (SELECT 1 FROM sponsorship_agencies x WHERE x.sponsorship_id = s.id AND x.agency_id = $1)
           AND NOT EXISTS (SELECT 1 FROM follow_up_visits fv WHERE fv.sponsorship_id = s.id
                           AND extract(year FROM fv.visited_on) = $3)
         ORDER BY c.year DESC, h.head_name LIMIT 100"
    ))
    .bind(agency)
    .bind(current_year)
    .bind(this_year)
    .fetch_all(pool)
    .await
}

/// A commune's sponsorships of one campaign in the given states.
pub async fn of_commune(
    pool: &PgPool,
    commune: &str,
    campaign: Uuid,
    states: &[&str],
) -> sqlx::Result<Vec<WorkRow>> {
    sqlx::query_as(&format!(
        "{WORK} WHERE s.campaign_id = $2 AND h.commune_code = $1 AND s.state = ANY($3)
         ORDER BY s.pledged_on, h.head_name"
    ))
    .bind(commune)
    .bind(campaign)
    .bind(states)
    .fetch_all(pool)
    .await
}

/// Priority households (R5) of a commune not yet adopted in the campaign.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Unadopted {
    pub id: Uuid,
    pub head_name: String,
    pub village: String,
    pub status: String,
    pub helped_before: bool,
}

pub async fn priority_unadopted(
    pool: &PgPool,
    commune: &str,
    campaign: Uuid,
    in_priority_commune: bool,
) -> sqlx::Result<Vec<Unadopted>> {
    // Never helped first, by name: read in the order of the commune's name index until 50
    // are found (sorting every priority household of the commune cost 5 ms a dashboard); the
    // households helped in earlier years are read only when fewer than 50 were never helped.
    let part = |helped: bool| {
        format!(
            "SELECT h.id, h.head_name, v.name AS village, h.status, {helped} AS helped_before
             FROM households h JOIN villages v ON v.id = h.village_id
             WHERE h.commune_code = $1 AND h.merged_into IS NULL AND h.status <> 'escaped'
               AND ($3 OR (h.will_to_escape AND (h.lacks_capital OR h.lacks_technique)))
               AND NOT EXISTS (SELECT 1 FROM sponsorships s WHERE s.household_id = h.id AND s.campaign_id = $2
                               AND s.state NOT IN ('rejected', 'cancelled'))
               AND {} EXISTS (SELECT 1 FROM sponsorships e JOIN campaigns ec ON ec.id = e.campaign_id
                        WHERE e.household_id = h.id AND ec.year < (SELECT year FROM campaigns WHERE id = $2)
                          AND e.state NOT IN ('rejected', 'cancelled'))
             ORDER BY h.head_name_key, h.id LIMIT $4",
            if helped { "" } else { "NOT" }
        )
    };
    let mut rows: Vec<Unadopted> = sqlx::query_as(&part(false))
        .bind(commune)
        .bind(campaign)
        .bind(in_priority_commune)
        .bind(UNADOPTED_SHOWN)
        .fetch_all(pool)
        .await?;
    if (rows.len() as i64) < UNADOPTED_SHOWN {
        let helped: Vec<Unadopted> = sqlx::query_as(&part(true))
            .bind(commune)
            .bind(campaign)
            .bind(in_priority_commune)
            .bind(UNADOPTED_SHOWN - rows.len() as i64)
            .fetch_all(pool)
            .await?;
        rows.extend(helped);
    }
    Ok(rows)
}

/// Priority households a commune's dashboard lists at most.
pub const UNADOPTED_SHOWN: i64 = 50;

/// Households an agency may choose for a pledge: not adopted in the campaign, not merged away,
/// not out of poverty; priority households (R5) first, then those never helped, then by name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Choice {
    pub id: Uuid,
    pub head_name: String,
    pub village: String,
    pub commune: String,
    pub status: String,
    pub priority: bool,
    pub helped_before: bool,
}

pub async fn choices(
    pool: &PgPool,
    campaign: Uuid,
    q: Option<&str>,
    commune: Option<&str>,
    priority_communes: &[String],
    limit: i64,
) -> sqlx::Result<Vec<Choice>> {
    // Only the filters given are written into the statement: each shape is prepared once and
    // keeps its plan (an optional filter written `($n IS NULL OR …)` had to be planned anew for
    // every request, or a cached plan would read every household).
    let mut b = sqlx::QueryBuilder::new(
        "WITH cand AS (
            SELECT h.id, h.head_name, v.name AS village, co.name AS commune, h.status,
                   (h.will_to_escape AND (h.lacks_capital OR h.lacks_technique)) OR h.commune_code = ANY(",
    );
    b.push_bind(priority_communes);
    b.push(
        ") AS priority,
                   EXISTS (SELECT 1 FROM sponsorships e JOIN campaigns ec ON ec.id = e.campaign_id
                           WHERE e.household_id = h.id AND ec.year < (SELECT year FROM campaigns WHERE id = ",
    );
    b.push_bind(campaign);
    b.push(
        ") AND e.state NOT IN ('rejected', 'cancelled')) AS helped_before
            FROM households h JOIN villages v ON v.id = h.village_id JOIN communes co ON co.code = h.commune_code
            WHERE h.merged_into IS NULL AND h.status <> 'escaped'",
    );
    if let Some(q) = q {
        b.push(
            " AND (h.head_name_key = ANY(ARRAY(SELECT n.key FROM name_keys n
                       WHERE to_tsvector('simple', n.key) @@ plainto_tsquery('simple', normalize_name(",
        );
        b.push_bind(q);
        b.push(")))) OR h.household_code = ");
        b.push_bind(q);
        b.push(" OR h.cccd = ");
        b.push_bind(q);
        b.push(")");
    }
    if let Some(c) = commune {
        b.push(" AND h.commune_code = ");
        b.push_bind(c);
    }
    b.push(
        " AND NOT EXISTS (SELECT 1 FROM sponsorships s WHERE s.household_id = h.id AND s.campaign_id = ",
    );
    b.push_bind(campaign);
    b.push(
        " AND s.state NOT IN ('rejected', 'cancelled')))
         SELECT * FROM cand ORDER BY priority DESC, helped_before, head_name, id LIMIT ",
    );
    b.push_bind(limit);
    b.build_query_as().fetch_all(pool).await
}

/// Pledges per page of the district's list.
pub const DISTRICT_PAGE: i64 = 100;

/// One page of the district's sponsorships of one campaign in the given states (clerks), and how
/// many there are in all. (The list was one page of up to 2.000 rows, and said "2.000" when there
/// were more.)
pub async fn of_district(
    pool: &PgPool,
    campaign: Uuid,
    states: &[&str],
    page: i64,
) -> sqlx::Result<(Vec<WorkRow>, i64)> {
    let rows = sqlx::query_as(&format!(
        "{WORK} WHERE s.campaign_id = $1 AND s.state = ANY($2) ORDER BY co.name, h.head_name, s.id
         LIMIT $3 OFFSET $4"
    ))
    .bind(campaign)
    .bind(states)
    .bind(DISTRICT_PAGE)
    .bind((page.max(1) - 1) * DISTRICT_PAGE)
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar(
        "SELECT count(*) FROM sponsorships WHERE campaign_id = $1 AND state = ANY($2)",
    )
    .bind(campaign)
    .bind(states)
    .fetch_one(pool)
    .await?;
    Ok((rows, total))
}
