//! Finding duplicate households (R4): candidates for a record being entered, the search page,
//! and the scan of a whole commune. Levels and reasons are decided by `domain::duplicates`.

use std::collections::HashMap;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

pub use crate::domain::duplicates::SameIds;
use crate::domain::duplicates::{
    Level, RETRIEVAL_SIMILARITY, Record, SCAN_SIMILARITY, Scope, Thresholds, Verdict, name_blocks,
};
use crate::domain::text::normalize_name;

mod judge;
mod review;

pub use judge::*;
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
    /// The model's weight of the evidence, in bits.
    pub weight: f64,
    pub similarity: f32,
    /// Earlier sponsorships: (year, agencies).
    pub history: Vec<(i32, String)>,
}

/// The candidate statement's columns; the key and the `same_*` flags order its rows (certain
/// first, `LIMIT` keeps them), the classifier reads the values themselves.
#[derive(sqlx::FromRow)]
#[allow(dead_code)]
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

impl Probe {
    fn record(&self) -> Record<'_> {
        Record {
            head_name: &self.head_name,
            commune: Some(self.commune_code.as_str()).filter(|c| !c.is_empty()),
            commune_name: "",
            village: Some(self.village.as_str()).filter(|v| !v.trim().is_empty()),
            birth_year: self.birth_year,
            gender: self.gender.as_deref(),
            cccd: self.cccd.as_deref(),
            old_id: self.old_id_number.as_deref(),
            household_code: self.household_code.as_deref(),
        }
    }
}

impl Row {
    fn record(&self) -> Record<'_> {
        Record {
            head_name: &self.head_name,
            commune: Some(&self.commune_code),
            commune_name: &self.commune_name,
            village: Some(&self.village_name),
            birth_year: self.birth_year,
            gender: self.gender.as_deref(),
            cccd: self.cccd.as_deref(),
            old_id: self.old_id_number.as_deref(),
            household_code: self.household_code.as_deref(),
        }
    }
}

/// Registry households that may be the one being entered, most certain first.
pub async fn candidates(pool: &PgPool, p: &Probe, t: Thresholds) -> sqlx::Result<Vec<Candidate>> {
    let typed_key = normalize_name(&p.head_name);
    let decoded = crate::domain::duplicates::spelling::decoded_key(&p.head_name);
    let mut keys = vec![typed_key];
    if decoded != keys[0] {
        keys.push(decoded);
    }
    let mut rows: Vec<Row> = Vec::new();
    for key in &keys {
        let mut tx = pool.begin().await?;
        set_threshold(&mut tx, RETRIEVAL_SIMILARITY).await?;
        // A commune's partition of the dictionary holds a few thousand names, and PostgreSQL's
        // estimate of `%` made it compare the name with each of them (13,7 ms) rather than use the
        // trigram index (1,5 ms).
        sqlx::query("SELECT set_config('enable_seqscan', 'off', true)")
            .execute(&mut *tx)
            .await?;
        // Similar names: the commune's partition of the name dictionary (migration 0018) above the
        // session's similarity threshold, nearest first; joined to households in this order, the
        // `LIMIT` stops the walk as soon as enough households are found.
        let found: Vec<Row> = candidate_rows!(
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
        key,
        p.cccd.as_deref(),
        &p.commune_code,
        p.household_code.as_deref(),
        p.old_id_number.as_deref(),
        p.exclude
    )
    .fetch_all(&mut *tx)
    .await?;
        tx.commit().await?;
        for r in found {
            if !rows.iter().any(|x| x.id == r.id) {
                rows.push(r);
            }
        }
    }
    let judge = Judge::load(
        pool,
        std::slice::from_ref(&p.commune_code),
        &[&p.head_name],
        t,
    )
    .await?;
    let probe = p.record();
    let mut out: Vec<Candidate> = rows
        .into_iter()
        .filter_map(|r| {
            let v = judge.classify(&probe, &r.record(), Scope::Record)?;
            Some(candidate(r, v))
        })
        .collect();
    sort(&mut out);
    out.truncate(20);
    attach_history(pool, &mut out).await?;
    Ok(out)
}

/// Most certain first, then by the weight of the evidence.
fn sort(list: &mut [Candidate]) {
    list.sort_by(|a, b| a.level.cmp(&b.level).then(b.weight.total_cmp(&a.weight)));
}

fn candidate(r: Row, v: Verdict) -> Candidate {
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
        level: v.level,
        reasons: v.reasons,
        same: v.same,
        weight: v.weight,
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
    let id = crate::domain::cccd::IdNumber::read(q);
    let key = normalize_name(q);
    let (cccd, old_id) = match &id {
        Some(crate::domain::cccd::IdNumber::Cccd(d)) => (Some(d.clone()), None),
        Some(crate::domain::cccd::IdNumber::Cmnd(d)) => (None, Some(d.clone())),
        None => (None, None),
    };
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
    // What was typed, as a record: a name, or a number, or a code — in the searcher's commune
    // (a household code means something only there).
    let typed = q.trim();
    let probe = Record {
        head_name: if id.is_some() { "" } else { typed },
        commune: own_commune,
        cccd: cccd.as_deref(),
        old_id: old_id.as_deref(),
        household_code: Some(typed),
        ..Record::default()
    };
    let communes: Vec<String> = own_commune.map(str::to_string).into_iter().collect();
    let judge = Judge::load(pool, &communes, &[probe.head_name], t).await?;
    let mut out: Vec<Candidate> = rows
        .into_iter()
        .filter_map(|r| {
            let v = judge.classify(&probe, &r.record(), Scope::Search)?;
            Some(candidate(r, v))
        })
        .collect();
    sort(&mut out);
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
    commune_code: String,
    commune: String,
    name_a: String,
    name_b: String,
    village_a: String,
    village_b: String,
    birth_a: Option<i32>,
    birth_b: Option<i32>,
    gender_a: Option<String>,
    gender_b: Option<String>,
    cccd_a: Option<String>,
    cccd_b: Option<String>,
    old_id_a: Option<String>,
    old_id_b: Option<String>,
    code_a: Option<String>,
    code_b: Option<String>,
    similarity: f32,
}

impl PairRow {
    fn records(&self) -> (Record<'_>, Record<'_>) {
        (
            Record {
                head_name: &self.name_a,
                commune: Some(&self.commune_code),
                commune_name: &self.commune,
                village: Some(&self.village_a),
                birth_year: self.birth_a,
                gender: self.gender_a.as_deref(),
                cccd: self.cccd_a.as_deref(),
                old_id: self.old_id_a.as_deref(),
                household_code: self.code_a.as_deref(),
            },
            Record {
                head_name: &self.name_b,
                commune: Some(&self.commune_code),
                commune_name: &self.commune,
                village: Some(&self.village_b),
                birth_year: self.birth_b,
                gender: self.gender_b.as_deref(),
                cccd: self.cccd_b.as_deref(),
                old_id: self.old_id_b.as_deref(),
                household_code: self.code_b.as_deref(),
            },
        )
    }
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
    set_threshold(
        &mut tx,
        if all_levels {
            RETRIEVAL_SIMILARITY
        } else {
            SCAN_SIMILARITY
        },
    )
    .await?;
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
         SELECT a.id AS a, b.id AS b, a.commune_code, c.name AS commune, a.head_name AS name_a, b.head_name AS name_b,
                va.name AS village_a, vb.name AS village_b,
                a.birth_year AS birth_a, b.birth_year AS birth_b, a.gender AS gender_a, b.gender AS gender_b,
                a.cccd AS cccd_a, b.cccd AS cccd_b, a.old_id_number AS old_id_a, b.old_id_number AS old_id_b,
                a.household_code AS code_a, b.household_code AS code_b,
                similarity(a.head_name_key, b.head_name_key) AS similarity
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
    // The commune's whole frequency table: every name of the commune may be scored.
    let tf_rows: Vec<(String, i16, String, i64)> = sqlx::query_as(
        "SELECT commune_code, part, word, n FROM name_word_counts WHERE commune_code IN ($1, '')",
    )
    .bind(commune)
    .fetch_all(pool)
    .await?;
    let judge = Judge {
        model: model(pool).await?,
        tf: frequency_table(tf_rows),
        thresholds: t,
    };
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
                    village_a: r.village_b,
                    village_b: r.village_a,
                    birth_a: r.birth_b,
                    birth_b: r.birth_a,
                    gender_a: r.gender_b,
                    gender_b: r.gender_a,
                    cccd_a: r.cccd_b,
                    cccd_b: r.cccd_a,
                    old_id_a: r.old_id_b,
                    old_id_b: r.old_id_a,
                    code_a: r.code_b,
                    code_b: r.code_a,
                    ..r
                }
            }
        })
        .filter_map(|r| {
            let (a, b) = r.records();
            let v = judge.classify(&a, &b, Scope::Record)?;
            (all_levels || v.level != Level::Possible).then(|| SuspectedPair {
                a: r.a,
                b: r.b,
                commune: r.commune.clone(),
                name_a: r.name_a.clone(),
                name_b: r.name_b.clone(),
                village_a: r.village_a.clone(),
                village_b: r.village_b.clone(),
                birth_a: r.birth_a,
                birth_b: r.birth_b,
                level: v.level,
                reasons: v.reasons,
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
