//! Per-agency results: each agency's quota, adopted households, pledged and delivered value.

use sqlx::PgPool;
use uuid::Uuid;

use super::scope_params;
use crate::db::agencies;
use crate::domain::roles::Scope;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgencyRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub staff_count: i32,
    pub override_quota: Option<i32>,
    pub override_reason: Option<String>,
    pub adopted: i64,
    pub confirmed: i64,
    pub confirmed_lead: i64,
    /// Value delivered by this agency itself (its deliveries), in confirmed sponsorships.
    pub delivered: i64,
    /// Follow-up visits during the campaign's year to households it helped in earlier years.
    pub visits: i64,
    pub effective: i64,
    pub partly: i64,
    pub not_effective: i64,
    /// The quota the campaign's rules give, filled in by `agency_results`.
    #[sqlx(skip)]
    pub by_rule: Option<crate::domain::quota::Quota>,
}

impl AgencyRow {
    fn quota_row(&self) -> agencies::QuotaRow {
        agencies::QuotaRow {
            id: self.id,
            name: self.name.clone(),
            kind: self.kind.clone(),
            staff_count: self.staff_count,
            override_quota: self.override_quota,
            override_reason: self.override_reason.clone(),
            adopted: self.adopted,
            confirmed: self.confirmed,
            confirmed_lead: self.confirmed_lead,
            by_rule: self.by_rule.clone(),
        }
    }
    pub fn quota(&self) -> crate::domain::quota::Quota {
        self.quota_row().quota()
    }
    pub fn counted(&self) -> i64 {
        self.quota_row().counted()
    }
    pub fn met(&self) -> bool {
        self.quota_row().met()
    }
}

/// Each agency's results in a campaign: quota, adopted, confirmed, delivered, and follow-up
/// visits that year with their evaluation. Agency staff get their own row; commune officials get
/// the agencies working in their commune, counted in their commune only.
pub async fn agency_results(
    pool: &PgPool,
    campaign: Uuid,
    kind: Option<&str>,
    scope: &Scope,
) -> sqlx::Result<Vec<AgencyRow>> {
    let (agency, commune, nothing) = scope_params(scope);
    if nothing {
        return Ok(Vec::new());
    }
    let mut rows: Vec<AgencyRow> = sqlx::query_as(
        "WITH mine AS (
            SELECT m.agency_id, count(*) AS adopted,
                   count(*) FILTER (WHERE sponsorship_counts(s.state)) AS confirmed,
                   count(*) FILTER (WHERE m.is_lead AND sponsorship_counts(s.state)) AS confirmed_lead
            FROM sponsorship_agencies m JOIN sponsorships s ON s.id = m.sponsorship_id AND s.campaign_id = $1
            WHERE m.campaign_id = $1 AND sponsorship_is_live(s.state)
              AND ($4::text[] IS NULL OR s.commune_code = ANY($4))
            GROUP BY m.agency_id),
         given AS (
            SELECT d.agency_id, sum(d.total_value)::bigint AS delivered
            FROM deliveries d JOIN sponsorships s ON s.id = d.sponsorship_id
            WHERE s.campaign_id = $1 AND sponsorship_counts(s.state) AND ($4::text[] IS NULL OR s.commune_code = ANY($4))
            GROUP BY d.agency_id),
         visited AS (
            SELECT m.agency_id, count(*) AS visits,
                   count(*) FILTER (WHERE fv.evaluation = 'effective') AS effective,
                   count(*) FILTER (WHERE fv.evaluation = 'partly') AS partly,
                   count(*) FILTER (WHERE fv.evaluation = 'not_effective') AS not_effective
            FROM follow_up_visits fv JOIN sponsorships s ON s.id = fv.sponsorship_id
            JOIN campaigns ec ON ec.id = s.campaign_id
            JOIN sponsorship_agencies m ON m.sponsorship_id = s.id
            WHERE ec.year < (SELECT year FROM campaigns WHERE id = $1)
              AND extract(year FROM fv.visited_on) = (SELECT year FROM campaigns WHERE id = $1)
              AND ($4::text[] IS NULL OR s.commune_code = ANY($4))
            GROUP BY m.agency_id)
         SELECT a.id, a.name, a.kind, a.staff_count,
                o.quota AS override_quota, o.reason AS override_reason,
                coalesce(mi.adopted, 0) AS adopted, coalesce(mi.confirmed, 0) AS confirmed,
                coalesce(mi.confirmed_lead, 0) AS confirmed_lead,
                coalesce(g.delivered, 0)::bigint AS delivered,
                coalesce(vi.visits, 0) AS visits, coalesce(vi.effective, 0) AS effective,
                coalesce(vi.partly, 0) AS partly, coalesce(vi.not_effective, 0) AS not_effective
         FROM agencies a
         LEFT JOIN agency_quota_overrides o ON o.agency_id = a.id AND o.campaign_id = $1
         LEFT JOIN mine mi ON mi.agency_id = a.id
         LEFT JOIN given g ON g.agency_id = a.id
         LEFT JOIN visited vi ON vi.agency_id = a.id
         WHERE ($2::text IS NULL OR a.kind = $2) AND ($3::uuid IS NULL OR a.id = $3)
           AND ($4::text[] IS NULL OR mi.agency_id IS NOT NULL)
         ORDER BY a.kind, a.name",
    )
    .persistent(false)
    .bind(campaign)
    .bind(kind)
    .bind(agency)
    .bind(&commune)
    .fetch_all(pool)
    .await?;
    let rules = crate::db::campaign_rules::table(pool, campaign).await?;
    for r in &mut rows {
        r.by_rule = Some(rules.quota(crate::domain::quota::AgencyFacts {
            id: r.id,
            kind: &r.kind,
            staff_count: r.staff_count,
        }));
    }
    Ok(rows)
}
