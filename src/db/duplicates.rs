//! Finding duplicate households (R4): candidates for a record being entered, the search page,
//! and the scan of a whole commune. Levels and reasons are decided by `domain::duplicates`.

use std::collections::HashMap;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::duplicates::{Level, Pair, Thresholds, classify};
use crate::domain::text::normalize_name;

/// The record being entered (or edited: `exclude` is its own id).
#[derive(Debug, Clone, Default)]
pub struct Probe {
    pub commune_code: String,
    pub village: String,
    pub head_name: String,
    pub birth_year: Option<i32>,
    pub cccd: Option<String>,
    pub household_code: Option<String>,
    pub exclude: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: Uuid,
    pub head_name: String,
    pub village: String,
    pub commune_code: String,
    pub commune: String,
    pub birth_year: Option<i32>,
    pub cccd: Option<String>,
    pub household_code: Option<String>,
    pub status: String,
    pub level: Level,
    pub reasons: Vec<String>,
    pub similarity: f32,
    /// Earlier sponsorships: (year, agencies).
    pub history: Vec<(i32, String)>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    head_name: String,
    head_name_key: String,
    village_name: String,
    commune_code: String,
    commune_name: String,
    birth_year: Option<i32>,
    cccd: Option<String>,
    household_code: Option<String>,
    status: String,
    similarity: f32,
    same_cccd: bool,
    same_code: bool,
}

const SELECT: &str = "SELECT h.id, h.head_name, h.head_name_key, v.name AS village_name, h.commune_code,
        c.name AS commune_name, h.birth_year, h.cccd, h.household_code, h.status,
        similarity(h.head_name_key, $1) AS similarity,
        coalesce(h.cccd = $2, false) AS same_cccd,
        coalesce(h.commune_code = $3 AND h.household_code = $4, false) AS same_code
     FROM households h JOIN villages v ON v.id = h.village_id JOIN communes c ON c.code = h.commune_code";

/// `%` (the trigram index operator) uses this session threshold; set it for this transaction.
async fn set_threshold(conn: &mut PgConnection, t: f32) -> sqlx::Result<()> {
    sqlx::query("SELECT set_config('pg_trgm.similarity_threshold', $1, true)")
        .bind(t.clamp(0.05, 1.0).to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Registry households that may be the one being entered, most certain first.
pub async fn candidates(pool: &PgPool, p: &Probe, t: Thresholds) -> sqlx::Result<Vec<Candidate>> {
    let key = normalize_name(&p.head_name);
    let mut tx = pool.begin().await?;
    set_threshold(&mut tx, t.possible).await?;
    let sql = format!(
        "{SELECT} WHERE h.id IS DISTINCT FROM $5 AND (
            h.cccd = $2
            OR (h.commune_code = $3 AND h.household_code = $4)
            OR ($1 <> '' AND h.commune_code = $3 AND h.head_name_key % $1))
         ORDER BY same_cccd DESC, same_code DESC, similarity DESC LIMIT 50"
    );
    let rows: Vec<Row> = sqlx::query_as(&sql)
        .bind(&key)
        .bind(&p.cccd)
        .bind(&p.commune_code)
        .bind(&p.household_code)
        .bind(p.exclude)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    let village_key = normalize_name(&p.village);
    let mut out: Vec<Candidate> = rows
        .into_iter()
        .filter_map(|r| {
            let pair = Pair {
                same_cccd: r.same_cccd,
                same_household_code: r.same_code,
                same_village: r.commune_code == p.commune_code
                    && normalize_name(&r.village_name) == village_key,
                same_name_key: !key.is_empty() && r.head_name_key == key,
                similarity: r.similarity,
                birth_years: (p.birth_year, r.birth_year),
                other_village: &r.village_name,
            };
            let (level, reasons) = classify(&pair, t)?;
            Some(candidate(r, level, reasons))
        })
        .collect();
    out.sort_by(|a, b| {
        a.level
            .cmp(&b.level)
            .then(b.similarity.total_cmp(&a.similarity))
    });
    out.truncate(20);
    attach_history(pool, &mut out).await?;
    Ok(out)
}

fn candidate(r: Row, level: Level, reasons: Vec<String>) -> Candidate {
    Candidate {
        id: r.id,
        head_name: r.head_name,
        village: r.village_name,
        commune_code: r.commune_code,
        commune: r.commune_name,
        birth_year: r.birth_year,
        cccd: r.cccd,
        household_code: r.household_code,
        status: r.status,
        level,
        reasons,
        similarity: r.similarity,
        history: Vec::new(),
    }
}

async fn attach_history(pool: &PgPool, list: &mut [Candidate]) -> sqlx::Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = list.iter().map(|c| c.id).collect();
    let rows: Vec<(Uuid, i32, String)> = sqlx::query_as(
        "SELECT s.household_id, ca.year,
                (SELECT string_agg(a.name, ', ' ORDER BY sa.is_lead DESC, a.name)
                   FROM sponsorship_agencies sa JOIN agencies a ON a.id = sa.agency_id WHERE sa.sponsorship_id = s.id)
         FROM sponsorships s JOIN campaigns ca ON ca.id = s.campaign_id
         WHERE s.household_id = ANY($1) AND s.state NOT IN ('rejected', 'cancelled')
         ORDER BY ca.year",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    let mut by: HashMap<Uuid, Vec<(i32, String)>> = HashMap::new();
    for (id, year, agencies) in rows {
        by.entry(id).or_default().push((year, agencies));
    }
    for c in list {
        c.history = by.remove(&c.id).unwrap_or_default();
    }
    Ok(())
}

/// The "Kiểm tra trùng hộ" search: by CCCD or household code exactly, or by name across every
/// commune, ranked.
pub async fn search(pool: &PgPool, q: &str, t: Thresholds) -> sqlx::Result<Vec<Candidate>> {
    let digits: String = q.chars().filter(|c| c.is_ascii_digit()).collect();
    let key = normalize_name(q);
    let cccd = (digits.len() == 12).then_some(digits);
    let mut tx = pool.begin().await?;
    set_threshold(&mut tx, t.possible).await?;
    let sql = format!(
        "{SELECT} WHERE h.cccd = $2 OR h.household_code = $4 OR ($1 <> '' AND h.head_name_key % $1)
         ORDER BY same_cccd DESC, (h.household_code = $4) DESC, similarity DESC LIMIT 50"
    );
    let rows: Vec<Row> = sqlx::query_as(&sql)
        .bind(&key)
        .bind(&cccd)
        .bind(Option::<String>::None)
        .bind(q.trim())
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    let mut out: Vec<Candidate> = rows
        .into_iter()
        .map(|r| {
            let code_match = r.household_code.as_deref() == Some(q.trim());
            let (level, reason) = if r.same_cccd {
                (Level::Certain, "Trùng số CCCD".to_string())
            } else if code_match {
                (Level::Certain, "Trùng mã hộ nghèo".to_string())
            } else if r.head_name_key == key {
                (
                    Level::Probable,
                    "Cùng họ tên (không tính dấu, hoa thường)".to_string(),
                )
            } else if r.similarity >= t.probable {
                (
                    Level::Probable,
                    format!("Họ tên rất giống (giống {:.0}%)", r.similarity * 100.0),
                )
            } else {
                (
                    Level::Possible,
                    format!("Họ tên gần giống (giống {:.0}%)", r.similarity * 100.0),
                )
            };
            candidate(r, level, vec![reason])
        })
        .collect();
    out.sort_by(|a, b| {
        a.level
            .cmp(&b.level)
            .then(b.similarity.total_cmp(&a.similarity))
    });
    attach_history(pool, &mut out).await?;
    Ok(out)
}

/// A suspected pair already in the registry.
#[derive(Debug, Clone)]
pub struct SuspectedPair {
    pub a: Uuid,
    pub b: Uuid,
    pub commune: String,
    pub name_a: String,
    pub name_b: String,
    pub village_a: String,
    pub village_b: String,
    pub birth_a: Option<i32>,
    pub birth_b: Option<i32>,
    pub level: Level,
    pub reasons: Vec<String>,
    pub similarity: f32,
}

#[derive(sqlx::FromRow)]
struct PairRow {
    a: Uuid,
    b: Uuid,
    commune: String,
    name_a: String,
    name_b: String,
    key_a: String,
    key_b: String,
    village_a: String,
    village_b: String,
    same_village: bool,
    birth_a: Option<i32>,
    birth_b: Option<i32>,
    similarity: f32,
}

/// Suspected pairs in one commune (or all), without those a person dismissed. `all_levels`
/// includes "possible" pairs (similar names in other villages), which are many.
pub async fn scan(
    pool: &PgPool,
    commune: Option<&str>,
    t: Thresholds,
    all_levels: bool,
) -> sqlx::Result<Vec<SuspectedPair>> {
    let mut tx = pool.begin().await?;
    set_threshold(&mut tx, if all_levels { t.possible } else { t.probable }).await?;
    let rows: Vec<PairRow> = sqlx::query_as(
        "SELECT a.id AS a, b.id AS b, c.name AS commune, a.head_name AS name_a, b.head_name AS name_b,
                a.head_name_key AS key_a, b.head_name_key AS key_b,
                va.name AS village_a, vb.name AS village_b, a.village_id = b.village_id AS same_village,
                a.birth_year AS birth_a, b.birth_year AS birth_b,
                similarity(a.head_name_key, b.head_name_key) AS similarity
         FROM households a
         JOIN LATERAL (
            SELECT * FROM households b
            WHERE b.commune_code = a.commune_code AND b.id > a.id AND b.head_name_key % a.head_name_key
              AND ($2 OR b.village_id = a.village_id)
         ) b ON true
         JOIN villages va ON va.id = a.village_id JOIN villages vb ON vb.id = b.village_id
         JOIN communes c ON c.code = a.commune_code
         WHERE ($1::text IS NULL OR a.commune_code = $1)
           AND NOT EXISTS (SELECT 1 FROM duplicate_dismissals d WHERE d.household_a = a.id AND d.household_b = b.id)
         ORDER BY c.name, a.head_name_key",
    )
    .bind(commune)
    .bind(all_levels)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let pair = Pair {
                same_cccd: false,
                same_household_code: false,
                same_village: r.same_village,
                same_name_key: r.key_a == r.key_b,
                similarity: r.similarity,
                birth_years: (r.birth_a, r.birth_b),
                other_village: &r.village_b,
            };
            let (level, reasons) = classify(&pair, t)?;
            (all_levels || level != Level::Possible).then_some(SuspectedPair {
                a: r.a,
                b: r.b,
                commune: r.commune,
                name_a: r.name_a,
                name_b: r.name_b,
                village_a: r.village_a,
                village_b: r.village_b,
                birth_a: r.birth_a,
                birth_b: r.birth_b,
                level,
                reasons,
                similarity: r.similarity,
            })
        })
        .collect())
}
