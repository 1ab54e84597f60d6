//! Campaigns (R1).

use chrono::NaiveDate;
use sqlx::PgPool;
use sqlx::{Acquire, Postgres};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Campaign {
    pub id: Uuid,
    pub year: i32,
    pub name: String,
    pub registration_deadline: NaiveDate,
    pub report_deadline: NaiveDate,
    pub target_per_household: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PriorityCommune {
    pub commune_code: String,
    pub commune_name: String,
    pub reason: String,
}

pub async fn current(pool: &PgPool) -> sqlx::Result<Option<Campaign>> {
    sqlx::query_as!(
        Campaign,
        r#"SELECT id, year, name, registration_deadline AS "registration_deadline: NaiveDate",
                report_deadline AS "report_deadline: NaiveDate", target_per_household
         FROM campaigns WHERE is_current"#
    )
    .fetch_optional(pool)
    .await
}

pub async fn priority_communes(
    pool: &PgPool,
    campaign: Uuid,
) -> sqlx::Result<Vec<PriorityCommune>> {
    sqlx::query_as!(
        PriorityCommune,
        "SELECT p.commune_code, c.name AS commune_name, p.reason
         FROM campaign_priority_communes p JOIN communes c ON c.code = p.commune_code
         WHERE p.campaign_id = $1 ORDER BY c.name",
        campaign
    )
    .fetch_all(pool)
    .await
}

// ---------------------------------------------------------------------------------------------
// Managing campaigns (clerks).

use serde::Serialize;
use sqlx::PgConnection;

use super::audit::{self, By};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignListRow {
    pub id: Uuid,
    pub year: i32,
    pub name: String,
    pub registration_deadline: NaiveDate,
    pub report_deadline: NaiveDate,
    pub target_per_household: i64,
    pub is_current: bool,
    pub sponsorships: i64,
}

/// The years there are campaigns for, newest first.
pub async fn years(pool: &PgPool) -> sqlx::Result<Vec<i32>> {
    sqlx::query_scalar!("SELECT year FROM campaigns ORDER BY year DESC")
        .fetch_all(pool)
        .await
}

pub async fn list(pool: &PgPool) -> sqlx::Result<Vec<CampaignListRow>> {
    sqlx::query_as!(
        CampaignListRow,
        r#"SELECT c.id, c.year, c.name, c.registration_deadline AS "registration_deadline: NaiveDate",
                c.report_deadline AS "report_deadline: NaiveDate",
                c.target_per_household, c.is_current,
                (SELECT count(*) FROM sponsorships s WHERE s.campaign_id = c.id) AS "sponsorships!"
         FROM campaigns c ORDER BY c.year DESC"#
    )
    .fetch_all(pool)
    .await
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CampaignDraft {
    pub year: i32,
    pub name: String,
    pub registration_deadline: NaiveDate,
    pub report_deadline: NaiveDate,
    pub target_per_household: i64,
    pub is_current: bool,
    /// (commune code, reason)
    pub priority: Vec<(String, String)>,
    /// The unit organising it (a district in 2024; a province or a commune after the 2025
    /// reform): its area is what lies under it on the registration deadline.
    pub organiser: Option<String>,
}

pub async fn get_draft(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<CampaignDraft>> {
    let row = sqlx::query!(
        r#"SELECT year, name, registration_deadline AS "registration_deadline: NaiveDate",
                report_deadline AS "report_deadline: NaiveDate", target_per_household, is_current,
                organiser_code
         FROM campaigns WHERE id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?;
    let Some(c) = row else {
        return Ok(None);
    };
    let priority = sqlx::query!(
        "SELECT commune_code, reason FROM campaign_priority_communes
         WHERE campaign_id = $1 ORDER BY commune_code",
        id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|p| (p.commune_code, p.reason))
    .collect();
    Ok(Some(CampaignDraft {
        year: c.year,
        name: c.name,
        registration_deadline: c.registration_deadline,
        report_deadline: c.report_deadline,
        target_per_household: c.target_per_household,
        is_current: c.is_current,
        priority,
        organiser: c.organiser_code,
    }))
}

/// Create (`id` None) or update a campaign with its priority communes. Making it current
/// un-marks the previous current campaign in the same transaction.
pub async fn save(
    db: impl Acquire<'_, Database = Postgres>,
    by: &By,
    id: Option<Uuid>,
    d: &CampaignDraft,
) -> sqlx::Result<Option<Uuid>> {
    let mut tx = db.begin().await?;
    let out = save_in(&mut tx, by, id, d).await?;
    tx.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction.
pub(crate) async fn save_in(
    conn: &mut PgConnection,
    by: &By,
    id: Option<Uuid>,
    d: &CampaignDraft,
) -> sqlx::Result<Option<Uuid>> {
    if d.is_current {
        sqlx::query!(
            "UPDATE campaigns SET is_current = false WHERE is_current AND id IS DISTINCT FROM $1",
            id
        )
        .execute(&mut *conn)
        .await?;
    }
    let before: Option<serde_json::Value> = match id {
        Some(id) => {
            let found = sqlx::query_scalar!(
                r#"SELECT to_jsonb(c) - 'created_at' - 'updated_at' - 'id' AS "snapshot!"
                   FROM campaigns c WHERE id = $1 FOR UPDATE"#,
                id
            )
            .fetch_optional(&mut *conn)
            .await?;
            if found.is_none() {
                return Ok(None);
            }
            found
        }
        None => None,
    };
    // One statement for both: a new campaign gets a new id, an existing one (checked above) is updated.
    let id = id.unwrap_or_else(Uuid::now_v7);
    sqlx::query!(
        "INSERT INTO campaigns (id, year, name, registration_deadline, report_deadline, target_per_household, is_current, organiser_code)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO UPDATE SET year = excluded.year, name = excluded.name,
             registration_deadline = excluded.registration_deadline, report_deadline = excluded.report_deadline,
             target_per_household = excluded.target_per_household, is_current = excluded.is_current,
             organiser_code = excluded.organiser_code, updated_at = now()",
        id,
        d.year,
        d.name,
        d.registration_deadline as NaiveDate,
        d.report_deadline as NaiveDate,
        d.target_per_household,
        d.is_current,
        d.organiser.as_deref()
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "DELETE FROM campaign_priority_communes WHERE campaign_id = $1",
        id
    )
    .execute(&mut *conn)
    .await?;
    for (code, reason) in &d.priority {
        sqlx::query!(
            "INSERT INTO campaign_priority_communes (campaign_id, commune_code, reason) VALUES ($1, $2, $3)",
            id,
            code,
            reason
        )
        .execute(&mut *conn)
        .await?;
    }
    let entry = audit::Entry {
        action: if before.is_some() {
            audit::Action::Update
        } else {
            audit::Action::Create
        },
        entity: "campaign",
        entity_id: id.to_string(),
        before,
        after: audit::json(d),
        reason: None,
    };
    audit::write(conn, by, entry).await?;
    Ok(Some(id))
}

/// Why a copy was not made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyRefused {
    NoSource,
    /// A campaign of that year exists (its name).
    YearTaken(String),
}

/// Shift a date by whole years (29/02 becomes 28/02 in a year without it).
fn shift_years(d: NaiveDate, years: i32) -> NaiveDate {
    use chrono::Datelike;
    let y = d.year() + years;
    d.with_year(y)
        .or_else(|| NaiveDate::from_ymd_opt(y, d.month(), 28))
        .unwrap_or(d)
}

/// Next year's campaign as a copy of `source` (issue #28): deadlines shifted to `year`, the name's
/// year replaced, the target, priority communes, rule table with its named lists, and forms of
/// support copied; not current, no overrides (a clerk decides those per year). Audited.
pub async fn copy(
    pool: &PgPool,
    by: &By,
    source: Uuid,
    year: i32,
) -> sqlx::Result<Result<Uuid, CopyRefused>> {
    let mut tx = pool.begin().await?;
    let Some(src) = get_draft(pool, source).await? else {
        return Ok(Err(CopyRefused::NoSource));
    };
    // Serialise concurrent copies onto one year: the unique year constraint refuses the second.
    if let Some(name) =
        sqlx::query_scalar::<_, String>("SELECT name FROM campaigns WHERE year = $1")
            .bind(year)
            .fetch_optional(&mut *tx)
            .await?
    {
        return Ok(Err(CopyRefused::YearTaken(name)));
    }
    let shift = year - src.year;
    let name = if src.name.contains(&src.year.to_string()) {
        src.name.replace(&src.year.to_string(), &year.to_string())
    } else {
        format!("{} năm {year}", src.name)
    };
    let registration_deadline = shift_years(src.registration_deadline, shift);
    // The organiser as it is in the new year: a district gone since 01/07/2025 is followed to
    // its successor (Huyện Bình Gia → Tỉnh Lạng Sơn).
    let organiser = match &src.organiser {
        Some(o) => Some(
            sqlx::query_scalar::<_, String>("SELECT commune_on($1, $2)")
                .bind(o)
                .bind(registration_deadline)
                .fetch_one(&mut *tx)
                .await?,
        ),
        None => None,
    };
    let d = CampaignDraft {
        year,
        name,
        registration_deadline,
        report_deadline: shift_years(src.report_deadline, shift),
        target_per_household: src.target_per_household,
        is_current: false,
        priority: src.priority.clone(),
        organiser,
    };
    let id = Uuid::now_v7();
    let inserted = sqlx::query(
        "INSERT INTO campaigns (id, year, name, registration_deadline, report_deadline, target_per_household, is_current, organiser_code)
         VALUES ($1, $2, $3, $4, $5, $6, false, $7) ON CONFLICT (year) DO NOTHING",
    )
    .bind(id)
    .bind(d.year)
    .bind(&d.name)
    .bind(d.registration_deadline)
    .bind(d.report_deadline)
    .bind(d.target_per_household)
    .bind(&d.organiser)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(Err(CopyRefused::YearTaken(String::new())));
    }
    // The insert trigger gave the new campaign the nearest campaign's rules; the copy is of the
    // source's, whichever that was.
    sqlx::query("DELETE FROM campaign_quota_rules WHERE campaign_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM campaign_support_forms WHERE campaign_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT campaign_copy_rules($1, $2)")
        .bind(source)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO campaign_priority_communes (campaign_id, commune_code, reason)
         SELECT $2, commune_code, reason FROM campaign_priority_communes WHERE campaign_id = $1",
    )
    .bind(source)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    audit::write(
        &mut tx,
        by,
        audit::Entry {
            action: audit::Action::Create,
            entity: "campaign",
            entity_id: id.to_string(),
            before: None,
            after: audit::json(&serde_json::json!({ "copied_from": src.year, "campaign": d })),
            reason: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(id))
}

/// A unit that may organise a campaign: (code, name with its period, level).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrganiserOption {
    pub code: String,
    pub label: String,
}

/// Provinces, districts and communes of the map with their periods, for the campaign form.
pub async fn organiser_options(pool: &PgPool) -> sqlx::Result<Vec<OrganiserOption>> {
    sqlx::query_as(
        "SELECT DISTINCT ON (code) code,
                name || CASE WHEN valid_to IS NOT NULL THEN ' (đến ' || to_char(valid_to, 'DD/MM/YYYY') || ')'
                             WHEN valid_from > DATE '1900-01-01' THEN ' (từ ' || to_char(valid_from, 'DD/MM/YYYY') || ')'
                             ELSE '' END AS label
         FROM admin_units
         ORDER BY code, valid_from DESC",
    )
    .fetch_all(pool)
    .await
}

/// The name of the unit `code` valid on `day`, if any: a campaign's organiser must be.
pub async fn unit_valid_on(
    pool: &PgPool,
    code: &str,
    day: NaiveDate,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT name FROM admin_units WHERE code = $1
           AND $2 BETWEEN valid_from AND coalesce(valid_to, 'infinity')",
    )
    .bind(code)
    .bind(day)
    .fetch_optional(pool)
    .await
}

/// The unit organising a campaign (the current one when `campaign` is None): its name and level
/// as on the registration deadline, or as last valid before it.
pub async fn organiser_of(
    pool: &PgPool,
    campaign: Option<Uuid>,
) -> sqlx::Result<Option<(String, String)>> {
    sqlx::query_as(
        "SELECT u.name, u.level FROM campaigns c
         JOIN admin_units u ON u.code = c.organiser_code AND u.valid_from <= c.registration_deadline
         WHERE CASE WHEN $1::uuid IS NULL THEN c.is_current ELSE c.id = $1 END
         ORDER BY u.valid_from DESC LIMIT 1",
    )
    .bind(campaign)
    .fetch_optional(pool)
    .await
}
