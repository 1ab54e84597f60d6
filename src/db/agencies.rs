//! Agencies and what they sponsor.

use crate::db::codes::DbState;
use crate::domain::sponsorship::State;
use sqlx::PgPool;
use sqlx::{Acquire, Postgres};
use uuid::Uuid;

use crate::domain::labels;
use crate::domain::money::format_vnd;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgencyRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub staff_count: i32,
    pub contact_person: Option<String>,
    pub phone: Option<String>,
}

impl AgencyRow {
    pub fn kind_label(&self) -> &'static str {
        labels::agency_kind(&self.kind)
    }
}

pub async fn get(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<AgencyRow>> {
    sqlx::query_as!(
        AgencyRow,
        "SELECT id, name, kind, staff_count, contact_person, phone
         FROM agencies WHERE id = $1",
        id
    )
    .fetch_optional(pool)
    .await
}

pub async fn name(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("SELECT name FROM agencies WHERE id = $1", id)
        .fetch_optional(pool)
        .await
}

/// Every agency, by name (the named lists of a rule table are chosen from these).
pub async fn names(pool: &PgPool) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as("SELECT id, name FROM agencies ORDER BY name")
        .fetch_all(pool)
        .await
}

/// Every agency but `agency`, by name (the partners a lead agency may invite).
pub async fn others(pool: &PgPool, agency: Uuid) -> sqlx::Result<Vec<(Uuid, String)>> {
    let rows = sqlx::query!(
        "SELECT id, name FROM agencies WHERE id <> $1 ORDER BY name",
        agency
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

/// The agencies whose name is `name` once case, accents and spacing are set aside.
pub async fn ids_by_name(pool: &PgPool, name: &str) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        "SELECT id FROM agencies WHERE normalize_name(name) = normalize_name($1)",
        name
    )
    .fetch_all(pool)
    .await
}

pub async fn commune_name(pool: &PgPool, code: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("SELECT name FROM communes WHERE code = $1", code)
        .fetch_optional(pool)
        .await
}

/// One sponsorship of an agency, ready for display.
pub struct SponsorshipLine {
    pub household_id: Uuid,
    pub head_name: String,
    pub place: String,
    pub state: &'static str,
    pub joint: bool,
    pub support: String,
    pub pledged: String,
    pub delivered: String,
}

#[derive(sqlx::FromRow)]
struct LineRow {
    household_id: Uuid,
    head_name: String,
    village: String,
    commune: String,
    #[sqlx(try_from = "DbState")]
    state: State,
    members: i64,
    support_form: String,
    support_summary: String,
    pledged_value: i64,
    delivered_value: i64,
}

/// The sponsorships an agency leads or joins in a campaign (scoped to that agency in SQL).
pub async fn sponsorships(
    pool: &PgPool,
    agency: Uuid,
    campaign: Uuid,
) -> sqlx::Result<Vec<SponsorshipLine>> {
    let rows: Vec<LineRow> = sqlx::query_as(
        "SELECT h.id AS household_id, h.head_name, v.name AS village, c.name AS commune, s.state,
                (SELECT count(*) FROM sponsorship_agencies m WHERE m.sponsorship_id = s.id) AS members,
                s.support_form, s.support_summary, s.pledged_value, s.delivered_value
         FROM sponsorships s
         JOIN sponsorship_agencies sa ON sa.sponsorship_id = s.id AND sa.agency_id = $1
         JOIN households h ON h.id = s.household_id
         JOIN villages v ON v.id = h.village_id
         JOIN communes c ON c.code = h.commune_code
         WHERE s.campaign_id = $2
         ORDER BY h.head_name",
    )
    .bind(agency)
    .bind(campaign)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SponsorshipLine {
            household_id: r.household_id,
            head_name: r.head_name,
            place: format!("{}, {}", r.village, r.commune),
            state: r.state.label(),
            joint: r.members > 1,
            support: format!(
                "{}: {}",
                labels::support_form(&r.support_form),
                r.support_summary
            ),
            pledged: format_vnd(r.pledged_value),
            delivered: format_vnd(r.delivered_value),
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Registry: the list with quotas and progress, create, update, quota override.

use serde::Serialize;
use sqlx::PgConnection;

use super::audit::{self, By};
use crate::domain::quota::{self, AgencyFacts, Quota, RuleTable};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuotaRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub staff_count: i32,
    pub override_quota: Option<i32>,
    pub override_reason: Option<String>,
    /// Households the agency adopted this campaign (alone or in a group), not rejected/cancelled.
    pub adopted: i64,
    /// Of those, confirmed by the commune (R3), as lead or member.
    pub confirmed: i64,
    /// Confirmed ones the agency leads (alone or as a group's lead).
    pub confirmed_lead: i64,
    /// The quota the campaign's rule table gives, filled in by the query functions.
    #[sqlx(skip)]
    pub by_rule: Option<Quota>,
}

impl QuotaRow {
    /// Fill in the quota the campaign's rules give this agency.
    pub fn apply(&mut self, rules: &RuleTable) {
        self.by_rule = Some(rules.quota(AgencyFacts {
            id: self.id,
            kind: &self.kind,
            staff_count: self.staff_count,
        }));
    }

    pub fn quota(&self) -> Quota {
        match (self.override_quota, &self.by_rule) {
            (Some(q), _) => quota::effective(
                &RuleTable::default(),
                AgencyFacts {
                    id: self.id,
                    kind: &self.kind,
                    staff_count: self.staff_count,
                },
                Some((q, self.override_reason.as_deref().unwrap_or(""))),
            ),
            (None, Some(q)) => q.clone(),
            (None, None) => RuleTable::default().quota(AgencyFacts {
                id: self.id,
                kind: &self.kind,
                staff_count: self.staff_count,
            }),
        }
    }
    /// Households counted toward the quota (R2, R3): confirmed sponsorships the agency leads;
    /// an agency whose rule is to join a group (fewer than 10 staff) also counts each confirmed
    /// group it is a member of.
    pub fn counted(&self) -> i64 {
        self.quota().counted(self.confirmed, self.confirmed_lead)
    }
    pub fn met(&self) -> bool {
        let q = self.quota();
        q.met(q.counted(self.confirmed, self.confirmed_lead))
    }
}

pub async fn list_with_quota(
    pool: &PgPool,
    campaign: Uuid,
    kind: Option<&str>,
) -> sqlx::Result<Vec<QuotaRow>> {
    quota_rows(pool, campaign, kind, None).await
}

/// One agency's quota and progress in a campaign (its dashboard, record and pledge form): the
/// list's query for one agency, not the whole list searched for it.
pub async fn quota_of(
    pool: &PgPool,
    campaign: Uuid,
    agency: Uuid,
) -> sqlx::Result<Option<QuotaRow>> {
    Ok(quota_rows(pool, campaign, None, Some(agency))
        .await?
        .into_iter()
        .next())
}

async fn quota_rows(
    pool: &PgPool,
    campaign: Uuid,
    kind: Option<&str>,
    agency: Option<Uuid>,
) -> sqlx::Result<Vec<QuotaRow>> {
    let mut rows: Vec<QuotaRow> = sqlx::query_as(
        "SELECT a.id, a.name, a.kind, a.staff_count,
                o.quota AS override_quota, o.reason AS override_reason,
                count(s.id) FILTER (WHERE sponsorship_is_live(s.state)) AS adopted,
                count(s.id) FILTER (WHERE sponsorship_counts(s.state)) AS confirmed,
                count(s.id) FILTER (WHERE s.is_lead AND sponsorship_counts(s.state)) AS confirmed_lead
         FROM agencies a
         LEFT JOIN agency_quota_overrides o ON o.agency_id = a.id AND o.campaign_id = $1
         -- Only this campaign's memberships (reached through the campaign's index, not by
         -- reading every membership of every year).
         LEFT JOIN (SELECT s.id, s.state, sa.agency_id, sa.is_lead
                    FROM sponsorship_agencies sa
                    JOIN sponsorships s ON s.id = sa.sponsorship_id AND s.campaign_id = $1
                    WHERE sa.campaign_id = $1) s ON s.agency_id = a.id
         WHERE ($2::text IS NULL OR a.kind = $2) AND ($3::uuid IS NULL OR a.id = $3)
         GROUP BY a.id, o.quota, o.reason
         ORDER BY a.kind, a.name",
    )
    .persistent(false)
    .bind(campaign)
    .bind(kind)
    .bind(agency)
    .fetch_all(pool)
    .await?;
    let rules = super::campaign_rules::table(pool, campaign).await?;
    for r in &mut rows {
        r.apply(&rules);
    }
    Ok(rows)
}

/// An agency as typed and checked (see `web::agencies`).
#[derive(Debug, Clone, Serialize)]
pub struct AgencyDraft {
    pub name: String,
    pub kind: String,
    pub staff_count: i32,
    pub commune_code: Option<String>,
    pub contact_person: Option<String>,
    pub phone: Option<String>,
}

/// Write a draft under `id`: inserted when new, updated when it exists.
async fn upsert(conn: &mut PgConnection, id: Uuid, d: &AgencyDraft) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO agencies (id, name, kind, staff_count, commune_code, contact_person, phone)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, staff_count = excluded.staff_count,
             commune_code = excluded.commune_code,
             contact_person = excluded.contact_person, phone = excluded.phone, updated_at = now()",
        id,
        &d.name,
        &d.kind,
        d.staff_count,
        d.commune_code.as_deref(),
        d.contact_person.as_deref(),
        d.phone.as_deref()
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn create(
    db: impl Acquire<'_, Database = Postgres>,
    by: &By,
    d: &AgencyDraft,
) -> sqlx::Result<Uuid> {
    let mut tx = db.begin().await?;
    let out = create_in(&mut tx, by, d).await?;
    tx.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction.
pub(crate) async fn create_in(
    conn: &mut PgConnection,
    by: &By,
    d: &AgencyDraft,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    upsert(conn, id, d).await?;
    audit::created(conn, by, "agency", id, d).await?;
    Ok(id)
}

/// Update an agency; returns false when it does not exist (nothing is created).
pub async fn update(
    db: impl Acquire<'_, Database = Postgres>,
    by: &By,
    id: Uuid,
    d: &AgencyDraft,
) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    let out = update_in(&mut tx, by, id, d).await?;
    tx.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction.
pub(crate) async fn update_in(
    conn: &mut PgConnection,
    by: &By,
    id: Uuid,
    d: &AgencyDraft,
) -> sqlx::Result<bool> {
    let before: Option<serde_json::Value> =
        sqlx::query_scalar!(
            r#"SELECT to_jsonb(a) - 'created_at' - 'updated_at' - 'id' AS "snapshot!" FROM agencies a WHERE id = $1 FOR UPDATE"#,
            id
        )
            .fetch_optional(&mut *conn)
            .await?;
    let Some(before) = before else {
        return Ok(false);
    };
    upsert(conn, id, d).await?;
    let entry = audit::Entry {
        action: audit::Action::Update,
        entity: "agency",
        entity_id: id.to_string(),
        before: Some(before),
        after: audit::json(d),
        reason: None,
    };
    audit::write(conn, by, entry).await?;
    Ok(true)
}

/// Set (or with `None`, remove) a clerk's override of an agency's quota in a campaign.
pub async fn set_override(
    db: impl Acquire<'_, Database = Postgres>,
    by: &By,
    campaign: Uuid,
    agency: Uuid,
    value: Option<(i32, &str)>,
) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    set_override_in(&mut tx, by, campaign, agency, value).await?;
    tx.commit().await?;
    Ok(())
}

/// The same, inside the caller's transaction.
pub(crate) async fn set_override_in(
    conn: &mut PgConnection,
    by: &By,
    campaign: Uuid,
    agency: Uuid,
    value: Option<(i32, &str)>,
) -> sqlx::Result<()> {
    let before: Option<serde_json::Value> = sqlx::query_scalar!(
        r#"SELECT jsonb_build_object('quota', quota, 'reason', reason) AS "snapshot!" FROM agency_quota_overrides
         WHERE campaign_id = $1 AND agency_id = $2 FOR UPDATE"#,
        campaign,
        agency
    )
    .fetch_optional(&mut *conn)
    .await?;
    match value {
        Some((q, reason)) => {
            sqlx::query!(
                "INSERT INTO agency_quota_overrides (campaign_id, agency_id, quota, reason) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (campaign_id, agency_id) DO UPDATE SET quota = excluded.quota, reason = excluded.reason",
                campaign,
                agency,
                q,
                reason
            )
            .execute(&mut *conn)
            .await?;
        }
        None => {
            sqlx::query!(
                "DELETE FROM agency_quota_overrides WHERE campaign_id = $1 AND agency_id = $2",
                campaign,
                agency
            )
            .execute(&mut *conn)
            .await?;
        }
    }
    let entry = audit::Entry {
        action: if value.is_some() {
            audit::Action::Update
        } else {
            audit::Action::Delete
        },
        entity: "agency_quota_override",
        entity_id: format!("{campaign}/{agency}"),
        before,
        after: value.map(|(q, r)| serde_json::json!({ "quota": q, "reason": r })),
        reason: value.map(|(_, r)| r),
    };
    audit::write(conn, by, entry).await
}

#[derive(sqlx::FromRow)]
struct FullRow {
    #[sqlx(flatten)]
    agency: AgencyRow,
    commune_code: Option<String>,
}

/// An agency with the commune a commune People's Committee belongs to.
pub async fn get_full(
    pool: &PgPool,
    id: Uuid,
) -> sqlx::Result<Option<(AgencyRow, Option<String>)>> {
    let row: Option<FullRow> = sqlx::query_as(
        "SELECT id, name, kind, staff_count, contact_person, phone, commune_code FROM agencies WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| (r.agency, r.commune_code)))
}
