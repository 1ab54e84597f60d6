//! The poverty standards (rows of migration 0029) and households' deprivation profiles, one per
//! review year (issue #26). Every write is audited in its own transaction.

use std::collections::HashMap;

use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::audit::{self, Action, By, Entry};
use crate::domain::poverty::{Area, Indicator, Profile, Standard};

#[derive(sqlx::FromRow)]
struct StandardRow {
    code: String,
    name: String,
    legal_basis: String,
    first_year: i32,
    last_year: i32,
    poor_min_short: i16,
    note: String,
    rural_line: Option<i64>,
    urban_line: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct IndicatorRow {
    standard_code: String,
    code: String,
    dimension: String,
    dimension_label: String,
    label: String,
    heading: String,
}

/// Every standard, oldest period first, with its lines and indicators.
pub async fn standards(pool: &PgPool) -> sqlx::Result<Vec<Standard>> {
    let rows: Vec<StandardRow> = sqlx::query_as(
        "SELECT s.code, s.name, s.legal_basis, s.first_year, s.last_year, s.poor_min_short, s.note,
                r.income_line AS rural_line, u.income_line AS urban_line
         FROM poverty_standards s
         LEFT JOIN poverty_income_lines r ON r.standard_code = s.code AND r.area = 'rural'
         LEFT JOIN poverty_income_lines u ON u.standard_code = s.code AND u.area = 'urban'
         ORDER BY s.first_year",
    )
    .fetch_all(pool)
    .await?;
    let indicators: Vec<IndicatorRow> = sqlx::query_as(
        "SELECT standard_code, code, dimension, dimension_label, label, heading
         FROM poverty_indicators ORDER BY standard_code, position",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|s| Standard {
            indicators: indicators
                .iter()
                .filter(|i| i.standard_code == s.code)
                .map(|i| Indicator {
                    code: i.code.clone(),
                    dimension: i.dimension.clone(),
                    dimension_label: i.dimension_label.clone(),
                    label: i.label.clone(),
                    heading: i.heading.clone(),
                })
                .collect(),
            code: s.code,
            name: s.name,
            legal_basis: s.legal_basis,
            first_year: s.first_year,
            last_year: s.last_year,
            poor_min_short: s.poor_min_short.max(1) as usize,
            // A standard without a line for an area classifies nobody there as poor.
            rural_line: s.rural_line.unwrap_or(-1),
            urban_line: s.urban_line.unwrap_or(-1),
            note: s.note,
        })
        .collect())
}

/// One stored review, with who recorded it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProfileRow {
    pub household_id: Uuid,
    pub review_year: i32,
    pub standard_code: String,
    pub area: String,
    pub income_per_person: i64,
    pub short_of: Vec<String>,
    pub wishes: String,
    pub source: String,
    pub recorded_by: Option<String>,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

impl ProfileRow {
    pub fn profile(&self) -> Profile {
        Profile {
            review_year: self.review_year,
            standard_code: self.standard_code.clone(),
            area: Area::parse(&self.area).unwrap_or(Area::Rural),
            income_per_person: self.income_per_person,
            short_of: self.short_of.clone(),
            wishes: self.wishes.clone(),
        }
    }
}

/// The columns of a [`ProfileRow`] (`p` the review, `u` its recorder).
macro_rules! profile_columns {
    () => {
        "p.household_id, p.review_year, p.standard_code, p.area, p.income_per_person, p.short_of,
         p.wishes, p.source, u.username AS recorded_by, p.recorded_at"
    };
}

/// A household's reviews, oldest first.
pub async fn of_household(pool: &PgPool, household: Uuid) -> sqlx::Result<Vec<ProfileRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        profile_columns!(),
        " FROM household_profiles p LEFT JOIN users u ON u.id = p.recorded_by
         WHERE p.household_id = $1 ORDER BY p.review_year"
    ))
    .bind(household)
    .fetch_all(pool)
    .await
}

/// The reviews of several households (a batch of progress sheets), oldest first.
pub async fn of_households(
    pool: &PgPool,
    households: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, Vec<ProfileRow>>> {
    let rows: Vec<ProfileRow> = sqlx::query_as(concat!(
        "SELECT ",
        profile_columns!(),
        " FROM household_profiles p LEFT JOIN users u ON u.id = p.recorded_by
         WHERE p.household_id = ANY($1) ORDER BY p.household_id, p.review_year"
    ))
    .bind(households)
    .fetch_all(pool)
    .await?;
    let mut out: HashMap<Uuid, Vec<ProfileRow>> = HashMap::new();
    for r in rows {
        out.entry(r.household_id).or_default().push(r);
    }
    Ok(out)
}

/// What the audit trail keeps of a review.
#[derive(serde::Serialize)]
struct Audited<'a> {
    review_year: i32,
    standard: &'a str,
    area: &'a str,
    income_per_person: i64,
    short_of: &'a [String],
    wishes: &'a str,
}

fn audited(p: &Profile) -> Audited<'_> {
    Audited {
        review_year: p.review_year,
        standard: &p.standard_code,
        area: p.area.as_str(),
        income_per_person: p.income_per_person,
        short_of: &p.short_of,
        wishes: &p.wishes,
    }
}

async fn upsert(
    tx: &mut Transaction<'_, Postgres>,
    by: &By,
    household: Uuid,
    p: &Profile,
    source: &str,
) -> sqlx::Result<()> {
    let before: Option<ProfileRow> = sqlx::query_as(concat!(
        "SELECT ",
        profile_columns!(),
        " FROM household_profiles p LEFT JOIN users u ON u.id = p.recorded_by
         WHERE p.household_id = $1 AND p.review_year = $2 FOR UPDATE OF p"
    ))
    .bind(household)
    .bind(p.review_year)
    .fetch_optional(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO household_profiles (household_id, review_year, standard_code, area, income_per_person,
             short_of, wishes, source, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
         ON CONFLICT (household_id, review_year) DO UPDATE SET
             standard_code = excluded.standard_code, area = excluded.area,
             income_per_person = excluded.income_per_person, short_of = excluded.short_of,
             wishes = excluded.wishes, source = excluded.source, recorded_by = excluded.recorded_by,
             recorded_at = excluded.recorded_at",
    )
    .bind(household)
    .bind(p.review_year)
    .bind(&p.standard_code)
    .bind(p.area.as_str())
    .bind(p.income_per_person)
    .bind(&p.short_of)
    .bind(&p.wishes)
    .bind(source)
    .bind(by.user_id)
    .execute(&mut **tx)
    .await?;
    let id = format!("{household}/{}", p.review_year);
    match before {
        Some(b) => {
            let old = b.profile();
            if old != *p {
                audit::updated(tx, by, "household_profile", id, &audited(&old), &audited(p))
                    .await?;
            }
        }
        None => audit::created(tx, by, "household_profile", id, &audited(p)).await?,
    }
    Ok(())
}

/// Record (or correct) one household's review of a year, audited with before and after.
pub async fn save(pool: &PgPool, by: &By, household: Uuid, p: &Profile) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    upsert(&mut tx, by, household, p, "form").await?;
    tx.commit().await
}

/// Record the reviews of a spreadsheet, all or none: one transaction, each row audited, and one
/// import entry naming the file.
pub async fn save_many(
    pool: &PgPool,
    by: &By,
    rows: &[(Uuid, Profile)],
    file: &str,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    for (household, p) in rows {
        upsert(&mut tx, by, *household, p, "import").await?;
    }
    audit::write(
        &mut tx,
        by,
        Entry {
            action: Action::Import,
            entity: "household_profile",
            entity_id: file.chars().take(200).collect(),
            before: None,
            after: Some(serde_json::json!({ "rows": rows.len() })),
            reason: None,
        },
    )
    .await?;
    tx.commit().await
}

/// A household a review list's row may name: its id, commune, poor-household code, CCCD, head.
pub type HouseholdKey = (Uuid, String, Option<String>, Option<String>, String);

/// The households whose poor-household code or CCCD (the review form's keys) is among those given,
/// for the import; merged records are left out. A code is unique only within a commune: the
/// caller picks by commune.
pub async fn household_keys(
    pool: &PgPool,
    codes: &[String],
    cccds: &[String],
) -> sqlx::Result<Vec<HouseholdKey>> {
    sqlx::query_as(
        "SELECT id, commune_code, household_code, cccd, head_name FROM households
         WHERE merged_into IS NULL AND (household_code = ANY($1) OR cccd = ANY($2))",
    )
    .bind(codes)
    .bind(cccds)
    .fetch_all(pool)
    .await
}
