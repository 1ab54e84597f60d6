//! Duplicates of an imported row in the file and in the registry: the same name in the same village, or a very similar one.

use super::Problem;
use crate::domain::duplicates::Thresholds;
use crate::domain::household::HouseholdDraft;
use crate::domain::text::{normalize_name, village_key};
use sqlx::PgPool;
use std::collections::HashMap;

/// Rows whose head of household already stands in the same village (same normalised name, birth
/// years within one when both are known), in the registry or earlier in the file.
pub(super) async fn same_name_same_village(
    pool: &PgPool,
    rows: &[(usize, HouseholdDraft)],
    thresholds: Thresholds,
) -> sqlx::Result<Vec<Problem>> {
    let mut out = Vec::new();
    // Within the file: the first line of each (commune, village, name, birth year); a birth year
    // within one of an earlier one (or unknown on either side) makes the row a probable duplicate.
    let mut seen: HashMap<(String, String, String), HashMap<Option<i32>, usize>> = HashMap::new();
    for (line, d) in rows {
        let key = (
            d.commune_code.clone(),
            village_key(&d.village),
            normalize_name(&d.head_name),
        );
        let years = seen.entry(key).or_default();
        let earlier = match d.birth_year {
            Some(y) => [Some(y), Some(y - 1), Some(y + 1), None]
                .iter()
                .filter_map(|k| years.get(k))
                .min()
                .copied(),
            None => years.values().min().copied(),
        };
        if let Some(first) = earlier {
            out.push(Problem {
                line: *line,
                column: "Họ tên chủ hộ".into(),
                message: format!(
                    "Có thể trùng: cùng họ tên chủ hộ, cùng thôn với dòng {first} trong tệp."
                ),
            });
        }
        years.entry(d.birth_year).or_insert(*line);
    }
    // With the registry: one probe per row of the (commune, name) index, at most one match.
    let lines: Vec<i32> = rows.iter().map(|(l, _)| *l as i32).collect();
    let communes: Vec<String> = rows.iter().map(|(_, d)| d.commune_code.clone()).collect();
    let villages: Vec<String> = rows.iter().map(|(_, d)| village_key(&d.village)).collect();
    let names: Vec<String> = rows
        .iter()
        .map(|(_, d)| normalize_name(&d.head_name))
        .collect();
    let births: Vec<Option<i32>> = rows.iter().map(|(_, d)| d.birth_year).collect();
    let found: Vec<(i32, String, String, Option<i32>)> = sqlx::query_as(
        "SELECT r.n, m.head_name, m.village, m.birth_year
         FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::int[]) AS r(n, commune, village_key, name_key, birth)
         JOIN villages v ON v.commune_code = r.commune AND village_key(v.name) = r.village_key AND v.merged_into IS NULL
         JOIN LATERAL (
            SELECT h.head_name, v.name AS village, h.birth_year FROM households h
            WHERE h.commune_code = r.commune AND h.head_name_key = r.name_key AND h.village_id = v.id
              AND h.merged_into IS NULL
              AND (r.birth IS NULL OR h.birth_year IS NULL OR abs(h.birth_year - r.birth) <= 1)
            ORDER BY h.commune_code, h.head_name_key, h.id
            LIMIT 1
         ) m ON true",
    )
    .bind(&lines)
    .bind(&communes)
    .bind(&villages)
    .bind(&names)
    .bind(&births)
    .fetch_all(pool)
    .await?;
    let mut matched = std::collections::HashSet::new();
    for (line, name, village, their_birth) in found {
        let born = their_birth
            .map(|y| format!(", sinh {y}"))
            .unwrap_or_default();
        matched.insert(line);
        out.push(Problem {
            line: line as usize,
            column: "Họ tên chủ hộ".into(),
            message: format!("Có thể trùng với hộ đã có: {name}, {village}{born} (cùng họ tên không tính dấu, cùng thôn)."),
        });
    }
    // Typo-level: a very similar name (a letter missed or doubled, a middle name dropped) in the
    // same village, birth years within one — the duplicate check's "probable" rule. One nearest-name
    // walk of the name dictionary per row not matched above; files larger than
    // FUZZY_ROWS (bulk loads from the command line) keep the exact check only.
    let rest: Vec<usize> = (0..rows.len())
        .filter(|i| !matched.contains(&lines[*i]))
        .collect();
    if !rest.is_empty() && rows.len() <= FUZZY_ROWS {
        let t = thresholds;
        let pick = |v: &Vec<String>| rest.iter().map(|i| v[*i].clone()).collect::<Vec<_>>();
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT set_config('pg_trgm.similarity_threshold', $1, true)")
            .bind(t.probable.clamp(0.05, 1.0).to_string())
            .execute(&mut *tx)
            .await?;
        let similar: Vec<(i32, String, String, Option<i32>, f32)> = sqlx::query_as(
            "SELECT r.n, m.head_name, m.village, m.birth_year, m.sim
             FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::int[]) AS r(n, commune, village_key, name_key, birth)
             JOIN villages v ON v.commune_code = r.commune AND village_key(v.name) = r.village_key AND v.merged_into IS NULL
             JOIN LATERAL (
                SELECT h.head_name, v.name AS village, h.birth_year,
                       similarity(h.head_name_key, r.name_key) AS sim
                FROM (SELECT n.key, n.key <-> r.name_key AS d FROM commune_name_keys n
                      WHERE n.commune_code = r.commune AND n.key % r.name_key ORDER BY d) k
                JOIN households h ON h.commune_code = r.commune AND h.head_name_key = k.key
                  AND h.village_id = v.id AND h.merged_into IS NULL
                  AND (r.birth IS NULL OR h.birth_year IS NULL OR abs(h.birth_year - r.birth) <= 1)
                ORDER BY k.d
                LIMIT 1
             ) m ON true",
        )
        .bind(rest.iter().map(|i| lines[*i]).collect::<Vec<_>>())
        .bind(pick(&communes))
        .bind(pick(&villages))
        .bind(pick(&names))
        .bind(rest.iter().map(|i| births[*i]).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        for (line, name, village, their_birth, sim) in similar {
            let born = their_birth
                .map(|y| format!(", sinh {y}"))
                .unwrap_or_default();
            out.push(Problem {
                line: line as usize,
                column: "Họ tên chủ hộ".into(),
                message: format!(
                    "Có thể trùng với hộ đã có: {name}, {village}{born} (họ tên rất giống, giống {:.0}%, cùng thôn).",
                    sim * 100.0
                ),
            });
        }
    }
    out.sort_by_key(|p| p.line);
    Ok(out)
}

/// Files up to this many rows get the typo-level comparison with the registry as well (every
/// browser upload does); larger ones, loaded from the command line, the exact one.
pub const FUZZY_ROWS: usize = 20_000;
