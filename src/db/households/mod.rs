//! Households and their history across campaigns.

use crate::db::codes::DbState;
use crate::domain::sponsorship::State;
use sqlx::PgPool;
use sqlx::{Acquire, Postgres};
use uuid::Uuid;

use sqlx::PgConnection;

use super::audit::{self, By};
use crate::domain::cccd::Cccd;
use crate::domain::household::HouseholdDraft;

mod list;
pub use list::*;

#[derive(Clone, sqlx::FromRow, veil::Redact)]
pub struct HouseholdRow {
    pub id: Uuid,
    pub commune_code: String,
    pub commune_name: String,
    pub village_name: String,
    pub head_name: String,
    pub birth_year: Option<i32>,
    pub gender: Option<String>,
    #[redact]
    pub cccd: Option<String>,
    #[redact]
    pub old_id_number: Option<String>,
    pub household_code: Option<String>,
    pub ethnicity: String,
    pub members: i32,
    pub status: String,
    pub status_year: i32,
    pub lacks_capital: bool,
    pub lacks_land: bool,
    pub lacks_labour: bool,
    pub lacks_technique: bool,
    pub illness: bool,
    pub other_needs: Option<String>,
    pub will_to_escape: bool,
    pub phone: Option<String>,
    pub notes: Option<String>,
    /// Set when this record was merged into another (R4); it then shows a link to the survivor.
    pub merged_into: Option<Uuid>,
}

pub async fn get(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<HouseholdRow>> {
    sqlx::query_as!(
        HouseholdRow,
        "SELECT h.id, h.commune_code, c.name AS commune_name, v.name AS village_name, h.head_name,
                h.birth_year, h.gender, h.cccd, h.old_id_number, h.household_code, h.ethnicity, h.members, h.status,
                h.status_year, h.lacks_capital, h.lacks_land, h.lacks_labour, h.lacks_technique,
                h.illness, h.other_needs, h.will_to_escape, h.phone, h.notes, h.merged_into
         FROM households h JOIN communes c ON c.code = h.commune_code
                           JOIN villages v ON v.id = h.village_id
         WHERE h.id = $1",
        id
    )
    .fetch_optional(pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRow {
    pub id: Uuid,
    pub year: i32,
    pub agencies: String,
    pub support_form: String,
    pub support_summary: String,
    pub pledged_value: i64,
    pub delivered_value: i64,
    #[sqlx(try_from = "DbState")]
    pub state: State,
}

/// Every sponsorship of a household, newest year first.
pub async fn history(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<HistoryRow>> {
    sqlx::query_as!(
        HistoryRow,
        r#"SELECT s.id, c.year,
                (SELECT string_agg(a.name, ', ' ORDER BY sa.is_lead DESC, a.name)
                   FROM sponsorship_agencies sa JOIN agencies a ON a.id = sa.agency_id
                  WHERE sa.sponsorship_id = s.id) AS "agencies!",
                s.support_form, s.support_summary, s.pledged_value, s.delivered_value,
                s.state AS "state: DbState"
         FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id
         WHERE s.household_id = $1
         ORDER BY c.year DESC, s.created_at DESC"#,
        id
    )
    .fetch_all(pool)
    .await
}

/// One year of a household's status: official (the registry, the commune's review), or written
/// by an agency's visit before such visits stopped changing it (`source = 'agency_visit'`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatusYear {
    pub year: i32,
    pub status: String,
    pub source: String,
}

/// The household's poverty status year by year.
pub async fn status_history(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<StatusYear>> {
    sqlx::query_as!(
        StatusYear,
        "SELECT year, status, source FROM household_status_history WHERE household_id = $1 ORDER BY year",
        id
    )
    .fetch_all(pool)
    .await
}

// ---------------------------------------------------------------------------------------------
// Writes. Each takes the acting user and writes the audit trail in the same transaction.

/// The village of `commune` with this name's key (`domain::text::village_key`: "Nà Pàn" is
/// "Thôn Nà Pàn"), created if new.
pub async fn village_id(
    conn: &mut PgConnection,
    by: &By,
    commune: &str,
    name: &str,
) -> sqlx::Result<Uuid> {
    match super::places::add_village_in(conn, by, commune, name).await? {
        super::places::Added::New(id) | super::places::Added::Exists(id, _) => Ok(id),
    }
}

/// A statement writing a draft: `$1` the household's id, then the draft's columns from `$2`
/// in the order the two statements below name them, checked by the compiler.
macro_rules! with_draft {
    ($sql:literal, $id:expr, $village:expr, $d:expr) => {
        sqlx::query!(
            $sql,
            $id,
            &$d.commune_code,
            $village,
            &$d.head_name,
            $d.birth_year,
            $d.gender,
            $d.cccd.as_ref().map(Cccd::as_str),
            $d.household_code.as_deref(),
            $d.ethnicity,
            $d.members,
            $d.status,
            $d.status_year,
            $d.lacks_capital,
            $d.lacks_land,
            $d.lacks_labour,
            $d.lacks_technique,
            $d.illness,
            $d.other_needs.as_deref(),
            $d.will_to_escape,
            $d.phone.as_deref(),
            $d.notes.as_deref(),
            $d.old_id_number.as_deref()
        )
    };
}

/// `reason`: why the user saved despite a probable duplicate (kept in the audit trail).
pub async fn create(
    db: impl Acquire<'_, Database = Postgres>,
    by: &By,
    d: &HouseholdDraft,
    reason: Option<&str>,
) -> sqlx::Result<Uuid> {
    let mut tx = db.begin().await?;
    let out = create_in(&mut tx, by, d, reason).await?;
    tx.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction.
pub(crate) async fn create_in(
    conn: &mut PgConnection,
    by: &By,
    d: &HouseholdDraft,
    reason: Option<&str>,
) -> sqlx::Result<Uuid> {
    let village = village_id(conn, by, &d.commune_code, &d.village).await?;
    let id = Uuid::new_v4();
    with_draft!(
        "INSERT INTO households (id, commune_code, village_id, head_name, birth_year, gender, cccd,
             household_code, ethnicity, members, status, status_year, lacks_capital, lacks_land,
             lacks_labour, lacks_technique, illness, other_needs, will_to_escape, phone, notes, old_id_number)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
                 $20, $21, $22)",
        id,
        village,
        d
    )
    .execute(&mut *conn)
    .await?;
    record_status(conn, by, id, d.status_year, d.status).await?;
    let entry = audit::Entry {
        action: audit::Action::Create,
        entity: "household",
        entity_id: id.to_string(),
        before: None,
        after: audit::json(d),
        reason,
    };
    audit::write(conn, by, entry).await?;
    Ok(id)
}

/// Update a household; returns false if it does not exist.
pub async fn update(
    db: impl Acquire<'_, Database = Postgres>,
    by: &By,
    id: Uuid,
    d: &HouseholdDraft,
    reason: Option<&str>,
) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    let out = update_in(&mut tx, by, id, d, reason).await?;
    tx.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction.
pub(crate) async fn update_in(
    conn: &mut PgConnection,
    by: &By,
    id: Uuid,
    d: &HouseholdDraft,
    reason: Option<&str>,
) -> sqlx::Result<bool> {
    let before = sqlx::query_scalar!(
        r#"SELECT to_jsonb(h) - 'created_at' - 'updated_at' - 'head_name_key' AS "snapshot!"
           FROM households h WHERE id = $1 FOR UPDATE"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(before) = before else {
        return Ok(false);
    };
    let village = village_id(conn, by, &d.commune_code, &d.village).await?;
    with_draft!(
        "UPDATE households SET (commune_code, village_id, head_name, birth_year, gender, cccd,
             household_code, ethnicity, members, status, status_year, lacks_capital, lacks_land,
             lacks_labour, lacks_technique, illness, other_needs, will_to_escape, phone, notes, old_id_number,
             updated_at)
           = ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
              now())
         WHERE id = $1",
        id,
        village,
        d
    )
    .execute(&mut *conn)
    .await?;
    record_status(conn, by, id, d.status_year, d.status).await?;
    let after = sqlx::query_scalar!(
        r#"SELECT to_jsonb(h) - 'created_at' - 'updated_at' - 'head_name_key' AS "snapshot!"
           FROM households h WHERE id = $1"#,
        id
    )
    .fetch_one(&mut *conn)
    .await?;
    let entry = audit::Entry {
        action: audit::Action::Update,
        entity: "household",
        entity_id: id.to_string(),
        before: Some(before),
        after: Some(after),
        reason,
    };
    audit::write(conn, by, entry).await?;
    Ok(true)
}

/// Keep the year-by-year status history in step with the record: the registry's status is
/// official (only the district and the household's commune edit households).
async fn record_status(
    conn: &mut PgConnection,
    by: &By,
    id: Uuid,
    year: i32,
    status: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO household_status_history (household_id, year, status, source, recorded_by)
         VALUES ($1, $2, $3, 'official', $4)
         ON CONFLICT (household_id, year) DO UPDATE
         SET status = excluded.status, source = 'official', recorded_by = excluded.recorded_by
         WHERE household_status_history.status <> excluded.status
            OR household_status_history.source <> 'official'",
        id,
        year,
        status,
        by.user_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Registry households that share a CCCD or a household code with the given values (the exact
/// duplicate check of the import preview and the household form).
#[derive(Clone, sqlx::FromRow, veil::Redact)]
pub struct ExactMatch {
    pub id: Uuid,
    pub head_name: String,
    pub commune_name: String,
    pub village_name: String,
    #[redact]
    pub cccd: Option<String>,
    #[redact]
    pub old_id_number: Option<String>,
    pub household_code: Option<String>,
    pub commune_code: String,
}

pub async fn exact_matches(
    pool: &PgPool,
    cccds: &[String],
    old_ids: &[String],
    codes: &[(String, String)],
) -> sqlx::Result<Vec<ExactMatch>> {
    let (code_communes, code_values): (Vec<String>, Vec<String>) = codes.iter().cloned().unzip();
    // Joins against the unnested lists use the unique indexes; `= ANY(huge array)` would not.
    sqlx::query_as(
        "WITH m AS (
            SELECT h.id FROM households h JOIN unnest($1::text[]) AS c(cccd) ON h.cccd = c.cccd
            UNION
            SELECT h.id FROM households h JOIN unnest($4::text[]) AS o(old_id) ON h.old_id_number = o.old_id
            UNION
            SELECT h.id FROM households h
              JOIN unnest($2::text[], $3::text[]) AS k(commune_code, code)
                ON h.commune_code = k.commune_code AND h.household_code = k.code
         )
         SELECT h.id, h.head_name, c.name AS commune_name, v.name AS village_name, h.cccd, h.old_id_number,
                h.household_code, h.commune_code
         FROM m JOIN households h ON h.id = m.id
         JOIN communes c ON c.code = h.commune_code JOIN villages v ON v.id = h.village_id",
    )
    .bind(cccds)
    .bind(&code_communes)
    .bind(&code_values)
    .bind(old_ids)
    .fetch_all(pool)
    .await
}

/// Villages of a commune (for the form's list and filters).
pub async fn villages(pool: &PgPool, commune: &str) -> sqlx::Result<Vec<(Uuid, String)>> {
    let rows = sqlx::query!(
        "SELECT id, name FROM villages WHERE commune_code = $1 AND merged_into IS NULL
         ORDER BY normalize_name(name)",
        commune
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

/// The current campaign's year and priority communes, which the list and badges depend on.
pub async fn priority_context(pool: &PgPool) -> sqlx::Result<(i32, Vec<String>)> {
    let row: Option<(i32, Vec<String>)> = sqlx::query_as(
        "SELECT c.year, coalesce(array_agg(p.commune_code) FILTER (WHERE p.commune_code IS NOT NULL), '{}')
         FROM campaigns c LEFT JOIN campaign_priority_communes p ON p.campaign_id = c.id
         WHERE c.is_current GROUP BY c.year",
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.unwrap_or((
        crate::domain::dates::today()
            .format("%Y")
            .to_string()
            .parse()
            .unwrap_or(2024),
        Vec::new(),
    )))
}
