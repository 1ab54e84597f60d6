//! Pledges: recording one with its members and lines (R3, R4), and who already holds a household.

use crate::db::audit::{self, By};
use crate::db::constraints;
use crate::domain::sponsorship::{self, Line};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

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
    conn: impl sqlx::PgExecutor<'_>,
    campaign: Uuid,
    household: Uuid,
) -> sqlx::Result<Vec<EarlierHelp>> {
    sqlx::query_as(
        "SELECT c.year,
                (SELECT string_agg(a.name, ', ' ORDER BY sa.is_lead DESC, a.name)
                   FROM sponsorship_agencies sa JOIN agencies a ON a.id = sa.agency_id WHERE sa.sponsorship_id = s.id),
                s.support_summary
         FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id
         WHERE s.household_id = $2 AND sponsorship_is_live(s.state)
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
            sqlx::query_scalar!("SELECT id FROM sponsorships WHERE submission = $1", token)
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
    let history = earlier_help(&mut *conn, p.campaign_id, p.household_id).await?;
    if !history.is_empty() && reason.is_none() {
        return Err(PledgeError::HelpedBefore { history });
    }
    let (form, summary) = sponsorship::summarise(&p.lines);
    let total: i64 = p.lines.iter().map(|l| l.value).sum();
    let inserted: Result<Uuid, sqlx::Error> = sqlx::query_scalar!(
        "INSERT INTO sponsorships (campaign_id, household_id, lead_agency_id, state, support_form, support_summary,
             pledged_value, note, helped_before_reason, submission, pledged_on, is_late)
         SELECT $1, $2, $3, 'proposed', $4, $5, $6, $7, $8, $9, d.today, d.today > c.registration_deadline
         FROM campaigns c, (SELECT (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS today) d
         WHERE c.id = $1
         RETURNING id",
        p.campaign_id,
        p.household_id,
        p.lead_agency_id,
        form,
        &summary,
        total,
        p.note.as_deref(),
        reason.filter(|_| !history.is_empty()),
        p.submission
    )
    .fetch_one(&mut *conn)
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(e) if constraints::broke(&e, "sponsorships_campaign_household_key") => {
            return Err(PledgeError::AlreadyAdopted {
                agency: String::new(),
            });
        }
        Err(e) if constraints::broke(&e, "sponsorships_submission_key") => {
            return Err(PledgeError::Resubmitted);
        }
        Err(e) => return Err(e.into()),
    };
    let members: Vec<Uuid> = std::iter::once(p.lead_agency_id)
        .chain(p.members.iter().copied())
        .collect();
    let shares = sponsorship::shares(total, members.len());
    let added = sqlx::query!(
        "INSERT INTO sponsorship_agencies (sponsorship_id, agency_id, is_lead, share_value)
         SELECT $1, m.a, m.a = $2, m.share FROM unnest($3::uuid[], $4::bigint[]) AS m(a, share)",
        id,
        p.lead_agency_id,
        &members,
        &shares
    )
    .execute(&mut *conn)
    .await;
    match added {
        Err(e) if constraints::broke(&e, "sponsorship_agencies_agency_fkey") => {
            return Err(PledgeError::UnknownAgency);
        }
        other => {
            other?;
        }
    }
    sqlx::query!(
        "INSERT INTO support_lines (sponsorship_id, position, form, item, quantity, unit, estimated_value)
         SELECT $1, l.pos, l.form, l.item, l.quantity, l.unit, l.value
         FROM unnest($2::int[], $3::text[], $4::text[], $5::int[], $6::text[], $7::bigint[])
              AS l(pos, form, item, quantity, unit, value)",
        id,
        &(1..=p.lines.len() as i32).collect::<Vec<_>>(),
        &p.lines.iter().map(|l| l.form).collect::<Vec<_>>() as &[&str],
        &p.lines.iter().map(|l| l.item.as_str()).collect::<Vec<_>>() as &[&str],
        &p.lines.iter().map(|l| l.quantity).collect::<Vec<_>>(),
        &p.lines.iter().map(|l| l.unit.as_str()).collect::<Vec<_>>() as &[&str],
        &p.lines.iter().map(|l| l.value).collect::<Vec<_>>()
    )
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
    sqlx::query_scalar!(
        r#"SELECT string_agg(a.name, ', ' ORDER BY sa.is_lead DESC, a.name) AS "agencies!"
         FROM sponsorships s JOIN sponsorship_agencies sa ON sa.sponsorship_id = s.id JOIN agencies a ON a.id = sa.agency_id
         WHERE s.campaign_id = $1 AND s.household_id = $2 AND sponsorship_is_live(s.state) GROUP BY s.id"#,
        campaign,
        household
    )
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
         WHERE s.campaign_id = $1 AND s.household_id = ANY($2) AND sponsorship_is_live(s.state)
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
                    sqlx::query_scalar!("SELECT id FROM sponsorships WHERE submission = $1", token)
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
            let first: Option<Uuid> = sqlx::query_scalar!(
                "SELECT id FROM sponsorships WHERE submission = $1",
                p.submission
            )
            .fetch_optional(pool)
            .await?;
            first.ok_or(PledgeError::Resubmitted)
        }
        Err(e) => Err(e),
    }
}
