//! Probable duplicates of imported rows, in the file and in the registry, decided by the one
//! classifier (`domain::duplicates::classify`, through `db::duplicates::Judge`) exactly as the
//! household form decides them. The same identity number or household code is refused earlier
//! (`preview`), as the database's unique constraints would.

use super::Problem;
use crate::db::duplicates::Judge;
use crate::domain::duplicates::{Level, Record, Scope, Thresholds, Verdict, name_blocks};
use crate::domain::household::HouseholdDraft;
use crate::domain::text::{normalize_name, village_key};
use sqlx::PgPool;
use std::collections::HashMap;

/// Files up to this many rows get the typo-level comparison (similar names, and every pair of
/// rows sharing a blocking key); larger ones, loaded from the command line, compare the rows
/// whose names have the same words.
pub const FUZZY_ROWS: usize = 20_000;

/// Registry households looked at per row, nearest names in the row's village first.
const PER_ROW: i64 = 12;

#[derive(sqlx::FromRow)]
struct Found {
    n: i32,
    head_name: String,
    village: String,
    commune_name: String,
    commune_code: String,
    birth_year: Option<i32>,
    gender: Option<String>,
    cccd: Option<String>,
    old_id_number: Option<String>,
    household_code: Option<String>,
}

fn record(d: &HouseholdDraft) -> Record<'_> {
    Record {
        head_name: &d.head_name,
        commune: Some(&d.commune_code),
        commune_name: "",
        village: Some(&d.village),
        birth_year: d.birth_year,
        gender: d.gender,
        cccd: d.cccd.as_ref().map(|c| c.as_str()),
        old_id: d.old_id_number.as_deref(),
        household_code: d.household_code.as_deref(),
    }
}

fn born(y: Option<i32>) -> String {
    y.map(|y| format!(", sinh {y}")).unwrap_or_default()
}

/// The reasons after the first (the summary) as one sentence for the row's message.
fn why(v: &Verdict) -> String {
    v.reasons.join("; ")
}

/// Rows that are probably a household already in the registry or an earlier row of the file.
pub(super) async fn probable_duplicates(
    pool: &PgPool,
    rows: &[(usize, HouseholdDraft)],
    thresholds: Thresholds,
) -> sqlx::Result<Vec<Problem>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let fuzzy = rows.len() <= FUZZY_ROWS;
    let mut communes: Vec<String> = rows.iter().map(|(_, d)| d.commune_code.clone()).collect();
    communes.sort_unstable();
    communes.dedup();
    let names: Vec<&str> = rows.iter().map(|(_, d)| d.head_name.as_str()).collect();
    let judge = Judge::load(pool, &communes, &names, thresholds).await?;
    let mut best: HashMap<usize, (Verdict, String)> = HashMap::new();
    let mut keep = |line: usize, v: Verdict, what: String| {
        if v.level > Level::Probable {
            return;
        }
        let better = best
            .get(&line)
            .is_none_or(|(b, _)| (v.level, -v.weight) < (b.level, -b.weight));
        if better {
            best.insert(line, (v, what));
        }
    };

    // Within the file: every pair of rows of one commune sharing a blocking key (the words
    // sorted only, for files too large for the rest).
    let mut by_block: HashMap<(&str, String), Vec<usize>> = HashMap::new();
    for (i, (_, d)) in rows.iter().enumerate() {
        let key = normalize_name(&d.head_name);
        let blocks = name_blocks(&key);
        for b in blocks {
            if fuzzy || b.starts_with("w:") {
                by_block
                    .entry((d.commune_code.as_str(), b))
                    .or_default()
                    .push(i);
            }
        }
    }
    let mut compared = std::collections::HashSet::new();
    for members in by_block.values() {
        for (x, &j) in members.iter().enumerate() {
            for &i in &members[..x] {
                if !compared.insert((i, j)) {
                    continue;
                }
                let ((first, earlier), (line, d)) = (&rows[i], &rows[j]);
                if let Some(v) = judge.classify(&record(d), &record(earlier), Scope::Record) {
                    keep(
                        *line,
                        v,
                        format!(
                            "dòng {first} trong tệp ({}{})",
                            earlier.head_name,
                            born(earlier.birth_year)
                        ),
                    );
                }
            }
        }
    }

    // With the registry: per row, the households of its commune with the nearest names (the
    // check's trigram walk of the commune's name dictionary), those of its village first.
    for chunk in rows.chunks(2_000) {
        // Each row's name key, and a second probe for a name typed with Telex or VNI keys left in.
        let (mut lines, mut communes, mut villages, mut keys) = (vec![], vec![], vec![], vec![]);
        for (i, (_, d)) in chunk.iter().enumerate() {
            let key = normalize_name(&d.head_name);
            let decoded = crate::domain::duplicates::spelling::decoded_key(&d.head_name);
            for k in std::iter::once(key.clone()).chain((decoded != key).then_some(decoded)) {
                lines.push(i as i32);
                communes.push(d.commune_code.clone());
                villages.push(village_key(&d.village));
                keys.push(k);
            }
        }
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT set_config('pg_trgm.similarity_threshold', $1, true)")
            .bind(crate::domain::duplicates::RETRIEVAL_SIMILARITY.to_string())
            .execute(&mut *tx)
            .await?;
        let found: Vec<Found> = sqlx::query_as(
            "SELECT r.n, h.head_name, v.name AS village, c.name AS commune_name, h.commune_code,
                    h.birth_year, h.gender, h.cccd, h.old_id_number, h.household_code
             FROM unnest($1::int[], $2::text[], $3::text[], $4::text[]) AS r(n, commune, village_key, name_key)
             LEFT JOIN villages rv ON rv.commune_code = r.commune AND village_key(rv.name) = r.village_key
                  AND rv.merged_into IS NULL
             JOIN LATERAL (
                SELECT x.* FROM (
                    SELECT n.key, n.key <-> r.name_key AS d FROM commune_name_keys n
                    WHERE $5 AND n.commune_code = r.commune AND r.name_key <> '' AND n.key % r.name_key
                    UNION ALL
                    SELECT r.name_key, 0 WHERE NOT $5
                    ORDER BY d LIMIT 30) k
                JOIN households x ON x.commune_code = r.commune AND x.head_name_key = k.key
                     AND x.merged_into IS NULL
                ORDER BY (x.village_id = rv.id) DESC NULLS LAST, k.d
                LIMIT $6
             ) h ON true
             JOIN villages v ON v.id = h.village_id JOIN communes c ON c.code = h.commune_code",
        )
        .bind(&lines)
        .bind(&communes)
        .bind(&villages)
        .bind(&keys)
        .bind(fuzzy)
        .bind(PER_ROW)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        for f in found {
            let (line, d) = &chunk[f.n as usize];
            let other = Record {
                head_name: &f.head_name,
                commune: Some(&f.commune_code),
                commune_name: &f.commune_name,
                village: Some(&f.village),
                birth_year: f.birth_year,
                gender: f.gender.as_deref(),
                cccd: f.cccd.as_deref(),
                old_id: f.old_id_number.as_deref(),
                household_code: f.household_code.as_deref(),
            };
            if let Some(v) = judge.classify(&record(d), &other, Scope::Record) {
                keep(
                    *line,
                    v,
                    format!(
                        "hộ đã có: {}, {}{}",
                        f.head_name,
                        f.village,
                        born(f.birth_year)
                    ),
                );
            }
        }
    }

    let mut out: Vec<Problem> = best
        .into_iter()
        .map(|(line, (v, what))| Problem {
            line,
            column: "Họ tên chủ hộ".into(),
            message: format!("{} với {what}. {}.", v.level.label(), why(&v)),
        })
        .collect();
    out.sort_by_key(|p| p.line);
    Ok(out)
}
