//! Sponsorships: an agency, or a joint group led by one, adopts a household in a campaign.
//! R4's "one sponsorship per household per campaign" is the database's constraint
//! `sponsorships_campaign_household_key`; this module turns its refusal into a message naming the
//! agency that already has the household, and asks for a reason to adopt a household helped in an
//! earlier campaign. (The pledge pages come with the sponsorship issue.)

use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::audit::{self, By};

/// A pledge as checked by the caller.
#[derive(Debug, Clone, Serialize)]
pub struct NewPledge {
    pub campaign_id: Uuid,
    pub household_id: Uuid,
    pub lead_agency_id: Uuid,
    /// Other members of a joint group (1–3 agencies), without the lead.
    pub members: Vec<Uuid>,
    pub support_form: String,
    pub support_summary: String,
    pub pledged_value: i64,
    pub note: Option<String>,
    /// R4: why the agency goes on although the household was helped in an earlier campaign.
    pub helped_before_reason: Option<String>,
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

/// Record a pledge (state `proposed`, awaiting the commune's confirmation) with its members.
/// When another agency adopted the household first — even at the same instant — the database
/// refuses, this transaction writes nothing, and the error names that agency.
pub async fn pledge(conn: &mut PgConnection, by: &By, p: &NewPledge) -> Result<Uuid, PledgeError> {
    let reason = p
        .helped_before_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let history = earlier_help(conn, p.campaign_id, p.household_id).await?;
    if !history.is_empty() && reason.is_none() {
        return Err(PledgeError::HelpedBefore { history });
    }
    let inserted: Result<Uuid, sqlx::Error> = sqlx::query_scalar(
        "INSERT INTO sponsorships (campaign_id, household_id, lead_agency_id, state, support_form, support_summary,
             pledged_value, note)
         VALUES ($1, $2, $3, 'proposed', $4, $5, $6, $7) RETURNING id",
    )
    .bind(p.campaign_id)
    .bind(p.household_id)
    .bind(p.lead_agency_id)
    .bind(&p.support_form)
    .bind(&p.support_summary)
    .bind(p.pledged_value)
    .bind(&p.note)
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
        Err(e) => return Err(e.into()),
    };
    sqlx::query(
        "INSERT INTO sponsorship_agencies (sponsorship_id, agency_id, is_lead)
         SELECT $1, a, a = $2 FROM unnest($3::uuid[]) AS a",
    )
    .bind(id)
    .bind(p.lead_agency_id)
    .bind(
        std::iter::once(p.lead_agency_id)
            .chain(p.members.iter().copied())
            .collect::<Vec<_>>(),
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
    sqlx::query_scalar(
        "SELECT string_agg(a.name, ', ' ORDER BY sa.is_lead DESC, a.name)
         FROM sponsorships s JOIN sponsorship_agencies sa ON sa.sponsorship_id = s.id JOIN agencies a ON a.id = sa.agency_id
         WHERE s.campaign_id = $1 AND s.household_id = $2 GROUP BY s.id",
    )
    .bind(campaign)
    .bind(household)
    .fetch_optional(pool)
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
            let agency = holder(pool, p.campaign_id, p.household_id)
                .await?
                .unwrap_or_else(|| "một cơ quan khác".to_string());
            Err(PledgeError::AlreadyAdopted { agency })
        }
        Err(e) => Err(e),
    }
}
