//! A campaign's rule table (R2, issue #28) and the forms of support it offers: read for every
//! quota, replaced as a whole when a clerk saves the campaign.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::quota::{Rule, RuleTable};

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: Uuid,
    kinds: Vec<String>,
    staff_below: Option<i32>,
    staff_at_least: Option<i32>,
    named: bool,
    households_min: i32,
    households_max: Option<i32>,
    group_min: Option<i32>,
    group_max: Option<i32>,
    wording: String,
}

/// The campaign's rules in order, with their named lists.
pub async fn table(pool: &PgPool, campaign: Uuid) -> sqlx::Result<RuleTable> {
    let mut conn = pool.acquire().await?;
    table_on(&mut conn, campaign).await
}

pub async fn table_on(conn: &mut PgConnection, campaign: Uuid) -> sqlx::Result<RuleTable> {
    let rows: Vec<RuleRow> = sqlx::query_as(
        "SELECT id, kinds, staff_below, staff_at_least, named, households_min, households_max,
                group_min, group_max, wording
         FROM campaign_quota_rules WHERE campaign_id = $1 ORDER BY position",
    )
    .bind(campaign)
    .fetch_all(&mut *conn)
    .await?;
    let named: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT rule_id, agency_id FROM campaign_quota_rule_agencies WHERE campaign_id = $1",
    )
    .bind(campaign)
    .fetch_all(&mut *conn)
    .await?;
    let mut lists: BTreeMap<Uuid, BTreeSet<Uuid>> = BTreeMap::new();
    for (rule, agency) in named {
        lists.entry(rule).or_default().insert(agency);
    }
    Ok(RuleTable(
        rows.into_iter()
            .map(|r| Rule {
                named: r.named.then(|| lists.remove(&r.id).unwrap_or_default()),
                kinds: r.kinds,
                staff_below: r.staff_below,
                staff_at_least: r.staff_at_least,
                households_min: r.households_min,
                households_max: r.households_max,
                group: r.group_min.zip(r.group_max),
                wording: r.wording,
            })
            .collect(),
    ))
}

/// Replace the campaign's rules (checked by `RuleTable::faults` before).
pub async fn replace(conn: &mut PgConnection, campaign: Uuid, t: &RuleTable) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM campaign_quota_rules WHERE campaign_id = $1")
        .bind(campaign)
        .execute(&mut *conn)
        .await?;
    for (i, r) in t.0.iter().enumerate() {
        let id: Uuid = sqlx::query_scalar(
            "INSERT INTO campaign_quota_rules (campaign_id, position, kinds, staff_below, staff_at_least,
                 named, households_min, households_max, group_min, group_max, wording)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(campaign)
        .bind(i as i32 + 1)
        .bind(&r.kinds)
        .bind(r.staff_below)
        .bind(r.staff_at_least)
        .bind(r.named.is_some())
        .bind(r.households_min)
        .bind(r.households_max)
        .bind(r.group.map(|g| g.0))
        .bind(r.group.map(|g| g.1))
        .bind(r.wording.trim())
        .fetch_one(&mut *conn)
        .await?;
        if let Some(list) = &r.named {
            let ids: Vec<Uuid> = list.iter().copied().collect();
            sqlx::query(
                "INSERT INTO campaign_quota_rule_agencies (rule_id, campaign_id, agency_id)
                 SELECT $1, $2, unnest($3::uuid[])",
            )
            .bind(id)
            .bind(campaign)
            .bind(&ids)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// One form of support a campaign offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SupportForm {
    /// A stored code (`domain::sponsorship::FORMS`).
    pub form: String,
    pub label: String,
    pub report_group: String,
}

pub async fn support_forms(pool: &PgPool, campaign: Uuid) -> sqlx::Result<Vec<SupportForm>> {
    let mut conn = pool.acquire().await?;
    support_forms_on(&mut conn, campaign).await
}

pub async fn support_forms_on(
    conn: &mut PgConnection,
    campaign: Uuid,
) -> sqlx::Result<Vec<SupportForm>> {
    sqlx::query_as(
        "SELECT form, label, report_group FROM campaign_support_forms
         WHERE campaign_id = $1 ORDER BY position",
    )
    .bind(campaign)
    .fetch_all(conn)
    .await
}

pub async fn replace_support_forms(
    conn: &mut PgConnection,
    campaign: Uuid,
    forms: &[SupportForm],
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM campaign_support_forms WHERE campaign_id = $1")
        .bind(campaign)
        .execute(&mut *conn)
        .await?;
    for (i, f) in forms.iter().enumerate() {
        sqlx::query(
            "INSERT INTO campaign_support_forms (campaign_id, form, position, label, report_group)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(campaign)
        .bind(&f.form)
        .bind(i as i32 + 1)
        .bind(f.label.trim())
        .bind(f.report_group.trim())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The campaign's label of a stored form, or the stored code's usual label when the campaign
/// does not offer it (a history record made under an older list).
pub fn label_of<'a>(forms: &'a [SupportForm], code: &str) -> &'a str {
    forms
        .iter()
        .find(|f| f.form == code)
        .map(|f| f.label.as_str())
        .unwrap_or_else(|| crate::domain::labels::support_form(code))
}

/// What a clerk saves on the rules page: the table and the forms offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RulesDraft {
    pub rules: RuleTable,
    pub forms: Vec<SupportForm>,
}

/// Replace a campaign's rules and forms in one transaction, audited with before and after.
/// `None` when the campaign does not exist.
pub async fn save(
    pool: &PgPool,
    by: &super::audit::By,
    campaign: Uuid,
    d: &RulesDraft,
) -> sqlx::Result<Option<()>> {
    let mut tx = pool.begin().await?;
    let exists: Option<i32> =
        sqlx::query_scalar("SELECT year FROM campaigns WHERE id = $1 FOR UPDATE")
            .bind(campaign)
            .fetch_optional(&mut *tx)
            .await?;
    if exists.is_none() {
        return Ok(None);
    }
    let before = RulesDraft {
        rules: table_on(&mut tx, campaign).await?,
        forms: support_forms_on(&mut tx, campaign).await?,
    };
    replace(&mut tx, campaign, &d.rules).await?;
    replace_support_forms(&mut tx, campaign, &d.forms).await?;
    super::audit::write(
        &mut tx,
        by,
        super::audit::Entry {
            action: super::audit::Action::Update,
            entity: "campaign_rules",
            entity_id: campaign.to_string(),
            before: super::audit::json(&before),
            after: super::audit::json(d),
            reason: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(()))
}
