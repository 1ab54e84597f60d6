//! Finding duplicate households (R4): candidates for a record being entered, the search page,
//! and the scan of a whole commune. Levels and reasons are decided by `domain::duplicates`.

use std::collections::HashMap;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::duplicates::{Level, Pair, Thresholds, classify, compare_names, name_blocks};
use crate::domain::text::{normalize_name, village_key};

mod review;

pub use review::*;

/// The record being entered (or edited: `exclude` is its own id).
#[derive(Clone, Default, veil::Redact)]
pub struct Probe {
    pub commune_code: String,
    pub village: String,
    pub head_name: String,
    pub birth_year: Option<i32>,
    /// "male" or "female" when known.
    pub gender: Option<String>,
    #[redact]
    pub cccd: Option<String>,
    #[redact]
    pub old_id_number: Option<String>,
    pub household_code: Option<String>,
    pub exclude: Option<Uuid>,
}

/// The identity numbers a candidate shares with what was typed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SameIds {
    pub cccd: bool,
    pub old_id: bool,
    pub household_code: bool,
}

#[derive(Clone, veil::Redact)]
pub struct Candidate {
    pub id: Uuid,
    pub head_name: String,
    pub village: String,
    pub commune_code: String,
    pub commune: String,
    pub birth_year: Option<i32>,
    #[redact]
    pub cccd: Option<String>,
    pub household_code: Option<String>,
    pub status: String,
    pub level: Level,
    pub reasons: Vec<String>,
    /// Which identity matched, when the level is certain: the form marks that field.
    pub same: SameIds,
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
    same_old_id: bool,
    same_code: bool,
    old_id_number: Option<String>,
    gender: Option<String>,
}

/// A candidate statement: the columns of [`Row`] for households `h` scored against the typed
/// name key ($1), CCCD ($2), commune ($3), household code ($4) and old ID number ($5), followed
/// by `$rest`; checked by the compiler (`query_as!` joins literals with `+`).
macro_rules! candidate_rows {
    ($rest:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Row,
            r#"SELECT h.id, h.head_name, h.head_name_key AS "head_name_key!", v.name AS village_name, h.commune_code,
                c.name AS commune_name, h.birth_year, h.gender, h.cccd, h.old_id_number, h.household_code,
                h.status, similarity(h.head_name_key, $1) AS "similarity!",
                coalesce(h.cccd = $2, false) AS "same_cccd!",
                coalesce(h.old_id_number = $5, false) AS "same_old_id!",
                coalesce(h.commune_code = $3 AND h.household_code = $4, false) AS "same_code!"
             FROM households h JOIN villages v ON v.id = h.village_id JOIN communes c ON c.code = h.commune_code "#
                + $rest
            $(, $arg)*
        )
    };
}

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
    // A commune's partition of the dictionary holds a few thousand names, and PostgreSQL's
    // estimate of `%` made it compare the name with each of them (13,7 ms) rather than use the
    // trigram index (1,5 ms).
    sqlx::query("SELECT set_config('enable_seqscan', 'off', true)")
        .execute(&mut *tx)
        .await?;
    // Similar names: the commune's partition of the name dictionary (migration 0018) above the
    // session's similarity threshold, nearest first; joined to households in this order, the
    // `LIMIT` stops the walk as soon as enough households are found.
    let rows: Vec<Row> = candidate_rows!(
        r#"WHERE h.id IS DISTINCT FROM $6 AND h.merged_into IS NULL AND h.id IN (
            (SELECT x.id FROM households x WHERE x.cccd = $2 OR x.old_id_number = $5
                 OR (x.commune_code = $3 AND x.household_code = $4))
            UNION ALL
            (SELECT x.id FROM (SELECT n.key, n.key <-> $1 AS d FROM commune_name_keys n
                               WHERE n.commune_code = $3 AND $1 <> '' AND n.key % $1 ORDER BY d) k
             CROSS JOIN LATERAL (SELECT x.id FROM households x
                WHERE x.commune_code = $3 AND x.head_name_key = k.key AND x.merged_into IS NULL) x
             ORDER BY k.d LIMIT 60))
         ORDER BY "same_cccd!" DESC, "same_old_id!" DESC, "same_code!" DESC, "similarity!" DESC LIMIT 50"#,
        &key,
        p.cccd.as_deref(),
        &p.commune_code,
        p.household_code.as_deref(),
        p.old_id_number.as_deref(),
        p.exclude
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let probe_village = village_key(&p.village);
    let mut out: Vec<Candidate> = rows
        .into_iter()
        .filter_map(|r| {
            let pair = Pair {
                same_cccd: r.same_cccd,
                same_old_id: r.same_old_id,
                same_household_code: r.same_code,
                same_commune: r.commune_code == p.commune_code,
                same_village: r.commune_code == p.commune_code
                    && village_key(&r.village_name) == probe_village,
                same_name_key: !key.is_empty() && r.head_name_key == key,
                similarity: r.similarity,
                birth_years: (p.birth_year, r.birth_year),
                different_ids: (p.cccd.is_some() && r.cccd.is_some() && !r.same_cccd)
                    || (p.old_id_number.is_some() && r.old_id_number.is_some() && !r.same_old_id),
                different_gender: matches!((&p.gender, &r.gender), (Some(a), Some(b)) if a != b),
                names: compare_names(&p.head_name, &r.head_name),
                other_village: &r.village_name,
                other_commune: &r.commune_name,
            };
            let same = SameIds {
                cccd: pair.same_cccd,
                old_id: pair.same_old_id,
                household_code: pair.same_household_code && pair.same_commune,
            };
            let (level, reasons) = classify(&pair, t)?;
            Some(candidate(r, level, reasons, same))
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

fn candidate(r: Row, level: Level, reasons: Vec<String>, same: SameIds) -> Candidate {
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
        same,
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
         WHERE s.household_id = ANY($1) AND sponsorship_is_live(s.state)
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
/// commune, ranked by the one classification (`domain::duplicates::classify`). A search has no
/// village: name matches are *possible* at most; only an identity number is *certain*, and a
/// household code only within `own_commune` (a commune official's own), codes being unique per
/// commune.
pub async fn search(
    pool: &PgPool,
    q: &str,
    t: Thresholds,
    own_commune: Option<&str>,
) -> sqlx::Result<Vec<Candidate>> {
    let digits: String = q.chars().filter(|c| c.is_ascii_digit()).collect();
    let key = normalize_name(q);
    let old_id = (digits.len() == 9).then(|| digits.clone());
    let cccd = (digits.len() == 12).then_some(digits);
    // Blocking (migration 0023): only the dictionary's names sharing a blocking key with the
    // typed one are looked at — a few dozen, where a trigram search fetched every name sharing a
    // common word (~4.500 for a common name) to keep ~200.
    let blocks = name_blocks(&key);
    let rows: Vec<Row> = candidate_rows!(
        r#"WHERE h.merged_into IS NULL AND h.id IN (
            (SELECT x.id FROM households x WHERE x.merged_into IS NULL
                AND (x.cccd = $2 OR x.old_id_number = $5 OR x.household_code = $4) LIMIT 50)
            UNION ALL
            (SELECT x.id FROM (SELECT DISTINCT b.key FROM name_blocks b WHERE b.block = ANY($6)) k
             CROSS JOIN LATERAL (SELECT x.id FROM households x
                WHERE x.head_name_key = k.key AND x.merged_into IS NULL LIMIT 20) x
             LIMIT 150))
         ORDER BY "same_cccd!" DESC, (h.household_code = $4) DESC, "similarity!" DESC LIMIT 50"#,
        &key,
        cccd.as_deref(),
        Option::<&str>::None,
        q.trim(),
        old_id.as_deref(),
        &blocks[..]
    )
    .fetch_all(pool)
    .await?;
    let mut out: Vec<Candidate> = rows
        .into_iter()
        .filter_map(|r| {
            let pair = Pair {
                same_cccd: r.same_cccd,
                same_old_id: r.same_old_id,
                same_household_code: r.household_code.as_deref() == Some(q.trim()),
                same_commune: own_commune == Some(r.commune_code.as_str()),
                same_village: false,
                same_name_key: !key.is_empty() && r.head_name_key == key,
                similarity: r.similarity,
                birth_years: (None, r.birth_year),
                different_ids: false,
                different_gender: false,
                names: compare_names(q, &r.head_name),
                other_village: &r.village_name,
                other_commune: &r.commune_name,
            };
            let same = SameIds {
                cccd: pair.same_cccd,
                old_id: pair.same_old_id,
                household_code: pair.same_household_code && pair.same_commune,
            };
            let (level, reasons) = classify(&pair, t)?;
            Some(candidate(r, level, reasons, same))
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

/// The dictionary's names sharing a blocking key with the normalised name `key`: what the
/// cross-commune search scores.
pub async fn blocked_names(pool: &PgPool, key: &str) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT DISTINCT key FROM name_blocks WHERE block = ANY($1)")
        .bind(name_blocks(key))
        .fetch_all(pool)
        .await
}

/// The dictionary's names within trigram similarity `threshold` of `key`, with their
/// similarity: what the cross-commune search scored before blocking (kept to measure the
/// blocking's recall and cost against it, `giupdo-bench duplicates`).
pub async fn trigram_names(
    pool: &PgPool,
    key: &str,
    threshold: f32,
) -> sqlx::Result<Vec<(String, f32)>> {
    let mut tx = pool.begin().await?;
    set_threshold(&mut tx, threshold).await?;
    // The dictionary (migration 0016) above the session's similarity threshold, nearest first.
    let rows = sqlx::query!(
        r#"SELECT n.key, similarity(n.key, $1) AS "similarity!"
           FROM name_keys n WHERE $1 <> '' AND n.key % $1 ORDER BY n.key <-> $1"#,
        key
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows.into_iter().map(|r| (r.key, r.similarity)).collect())
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
    /// Both have an identity number and they differ.
    different_ids: bool,
    different_gender: bool,
}

/// Suspected pairs in one commune (or all, commune by commune), without those a person
/// dismissed. `all_levels` includes "possible" pairs (similar names in other villages), which are
/// many.
pub async fn scan(
    pool: &PgPool,
    commune: Option<&str>,
    t: Thresholds,
    all_levels: bool,
) -> sqlx::Result<Vec<SuspectedPair>> {
    let communes: Vec<String> = match commune {
        Some(c) => vec![c.to_string()],
        None => {
            sqlx::query_scalar("SELECT code FROM communes ORDER BY name")
                .fetch_all(pool)
                .await?
        }
    };
    let mut out = Vec::new();
    for c in &communes {
        out.extend(scan_commune(pool, c, t, all_levels).await?);
    }
    Ok(out)
}

async fn scan_commune(
    pool: &PgPool,
    commune: &str,
    t: Thresholds,
    all_levels: bool,
) -> sqlx::Result<Vec<SuspectedPair>> {
    let mut tx = pool.begin().await?;
    set_threshold(&mut tx, if all_levels { t.possible } else { t.probable }).await?;
    // Each name of the commune is looked up through its partition's trigram index; PostgreSQL
    // would compare it with every name of a small partition instead, name by name.
    sqlx::query("SELECT set_config('enable_seqscan', 'off', true)")
        .execute(&mut *tx)
        .await?;
    let rows: Vec<PairRow> = sqlx::query_as(
        "WITH similar_names AS MATERIALIZED (
            -- Each pair of similar names of the commune once (ka <= kb), from its partition of
            -- the name dictionary (migration 0018), before any household is joined (left to
            -- itself, the planner paired the households of a village first: 9 million
            -- comparisons).
            SELECT a.key AS ka, b.key AS kb FROM commune_name_keys a
            JOIN LATERAL (SELECT b.key FROM commune_name_keys b
                          WHERE b.commune_code = $1 AND b.key % a.key AND b.key >= a.key) b ON true
            WHERE a.commune_code = $1
         )
         SELECT a.id AS a, b.id AS b, c.name AS commune, a.head_name AS name_a, b.head_name AS name_b,
                a.head_name_key AS key_a, b.head_name_key AS key_b,
                va.name AS village_a, vb.name AS village_b, a.village_id = b.village_id AS same_village,
                a.birth_year AS birth_a, b.birth_year AS birth_b,
                similarity(a.head_name_key, b.head_name_key) AS similarity,
                coalesce(a.cccd <> b.cccd, false) OR coalesce(a.old_id_number <> b.old_id_number, false) AS different_ids,
                coalesce(a.gender <> b.gender, false) AS different_gender
         FROM similar_names s
         JOIN households a ON a.commune_code = $1 AND a.head_name_key = s.ka AND a.merged_into IS NULL
         JOIN households b ON b.commune_code = $1 AND b.head_name_key = s.kb
              AND b.merged_into IS NULL AND (s.ka <> s.kb OR b.id > a.id)
              AND ($2 OR b.village_id = a.village_id)
         JOIN villages va ON va.id = a.village_id JOIN villages vb ON vb.id = b.village_id
         JOIN communes c ON c.code = a.commune_code
         WHERE NOT EXISTS (SELECT 1 FROM duplicate_dismissals d
                           WHERE d.household_a = least(a.id, b.id) AND d.household_b = greatest(a.id, b.id))
         ORDER BY s.ka, s.kb",
    )
    .bind(commune)
    .bind(all_levels)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            // A pair is reported as (smaller id, larger id), the order dismissals are kept in.
            if r.a < r.b {
                r
            } else {
                PairRow {
                    a: r.b,
                    b: r.a,
                    name_a: r.name_b,
                    name_b: r.name_a,
                    key_a: r.key_b,
                    key_b: r.key_a,
                    village_a: r.village_b,
                    village_b: r.village_a,
                    birth_a: r.birth_b,
                    birth_b: r.birth_a,
                    ..r
                }
            }
        })
        .filter_map(|r| {
            let pair = Pair {
                same_village: r.same_village,
                same_name_key: r.key_a == r.key_b,
                similarity: r.similarity,
                birth_years: (r.birth_a, r.birth_b),
                different_ids: r.different_ids,
                different_gender: r.different_gender,
                names: compare_names(&r.name_a, &r.name_b),
                other_village: &r.village_b,
                ..Pair::default()
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

/// Trigram similarity of each pair of names, after the same normalisation the duplicate check
/// uses (for `giupdo dedupe evaluate`).
pub async fn similarities(pool: &PgPool, a: &[String], b: &[String]) -> sqlx::Result<Vec<f32>> {
    sqlx::query_scalar(
        "SELECT similarity(normalize_name(x), normalize_name(y)) FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(x, y, n) ORDER BY n",
    )
    .bind(a)
    .bind(b)
    .fetch_all(pool)
    .await
}
