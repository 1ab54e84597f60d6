//! `giupdo-bench duplicates`: the duplicate check and the cross-commune search at registry sizes.

use std::time::Instant;

use sqlx::PgPool;

use crate::fill;
use giupdo_bench::kit::{Latency, latency};

pub(crate) async fn duplicates_bench(
    pool: &PgPool,
    sizes: &[usize],
    requests: usize,
    commune: &str,
) -> anyhow::Result<()> {
    use giupdo::db::duplicates::{Probe, candidates, scan};
    use giupdo::domain::duplicates::Thresholds;
    let t = Thresholds::default();
    let mut scan_line = String::new();
    let mut search_lines = vec![
        format!("## Cross-commune search (\"Kiểm tra trùng hộ\", {requests} searches per size)\n"),
        "| households | search p50 (ms) | search p95 (ms) | blocked names: lookup p50 / p95 (ms), names scored (avg) | trigram names (before): lookup p50 / p95 (ms), names fetched (avg) | recall of the names the search shows |".into(),
        "|---:|---:|---:|---|---|---:|".into(),
    ];
    println!("## Duplicate check as the user types ({requests} checks per size)\n");
    println!("| households | p50 (ms) | p95 (ms) | max (ms) | candidates found (avg) |");
    println!("|---:|---:|---:|---:|---:|");
    for &size in sizes {
        let have: i64 = sqlx::query_scalar("SELECT count(*) FROM households")
            .fetch_one(pool)
            .await?;
        fill(pool, size.saturating_sub(have as usize)).await?;
        // Probes: real records of the registry, typed with a typo and without diacritics.
        let samples: Vec<(String, String, String, Option<i32>)> = sqlx::query_as(
            "SELECT h.commune_code, v.name, h.head_name, h.birth_year FROM households h TABLESAMPLE SYSTEM (1)
             JOIN villages v ON v.id = h.village_id LIMIT $1",
        )
        .bind(requests as i64)
        .fetch_all(pool)
        .await?;
        let mut times = Vec::new();
        let mut found = 0usize;
        for (i, (commune_code, village, name, birth)) in samples.iter().enumerate() {
            let typed = if i % 2 == 0 {
                giupdo::domain::text::normalize_name(name)
            } else {
                format!("{name}h")
            };
            let probe = Probe {
                commune_code: commune_code.clone(),
                village: village.clone(),
                head_name: typed,
                birth_year: *birth,
                ..Default::default()
            };
            let t0 = Instant::now();
            found += candidates(pool, &probe, t).await?.len();
            times.push(t0.elapsed());
        }
        let Latency { p50, p95, max, .. } = latency(&times);
        println!(
            "| {size} | {p50:.1} | {p95:.1} | {max:.1} | {:.1} |",
            found as f64 / samples.len().max(1) as f64
        );
        search_lines.push(cross_commune_search(pool, &samples, t, size).await?);
        if size == sizes[0] {
            // The scan pairs every household of the commune with its similar names: measured at
            // the first size, where a commune holds about what a real one does.
            let in_commune: i64 =
                sqlx::query_scalar("SELECT count(*) FROM households WHERE commune_code = $1")
                    .bind(commune)
                    .fetch_one(pool)
                    .await?;
            let t0 = Instant::now();
            let pairs = scan(pool, Some(commune), t, false).await?;
            scan_line = format!(
                "Full `dedupe scan` of commune {commune} ({in_commune} households, {size} in the district): {:.1} s, {} suspected pairs.",
                t0.elapsed().as_secs_f64(),
                pairs.len()
            );
        }
    }
    println!("\n{scan_line}");
    println!("\n{}", search_lines.join("\n"));
    Ok(())
}

/// The cross-commune search at this size: the whole search, and its name lookup by blocking keys
/// against the trigram lookup it replaced — time, names looked at, and recall: of the names the
/// trigram lookup finds that the search would show (the classifier, names alone, reaches
/// *possible*), how many blocking finds.
async fn cross_commune_search(
    pool: &PgPool,
    samples: &[(String, String, String, Option<i32>)],
    t: giupdo::domain::duplicates::Thresholds,
    size: usize,
) -> anyhow::Result<String> {
    use giupdo::db::duplicates::{blocked_names, search, trigram_names};
    use giupdo::domain::duplicates::{Model, RETRIEVAL_SIMILARITY, Record, Scope, classify};
    let model = Model::builtin();
    // A name is wanted when the search would show it: the names alone (a search has no village
    // or birth year) reach the possible threshold of the one classifier.
    let shown_by_search = |typed: &str, k: &str| {
        let r = |n| Record {
            head_name: n,
            ..Record::default()
        };
        classify(&model, &r(typed), &r(k), &|_, _| None, Scope::Search, t).is_some()
    };
    use giupdo::domain::text::normalize_name;
    let (mut whole, mut blocked_t, mut trigram_t) = (Vec::new(), Vec::new(), Vec::new());
    let (mut blocked_n, mut trigram_n, mut wanted, mut kept) = (0usize, 0usize, 0usize, 0usize);
    for (i, (_, _, name, _)) in samples.iter().enumerate() {
        // As people type a name to check: as registered, without diacritics, a letter dropped
        // from the given name, or the middle name left out.
        let words: Vec<&str> = name.split(' ').collect();
        let typed = match i % 4 {
            0 => name.clone(),
            1 => normalize_name(name),
            2 => {
                let mut w = words.clone();
                let last = w.pop().unwrap_or_default();
                let shorter: String = last.chars().skip(1).collect();
                format!("{} {shorter}", w.join(" "))
            }
            _ if words.len() >= 3 => format!("{} {}", words[0], words[words.len() - 1]),
            _ => name.clone(),
        };
        let key = normalize_name(&typed);
        let t0 = Instant::now();
        search(pool, &typed, t, None).await?;
        whole.push(t0.elapsed());
        let t0 = Instant::now();
        let blocked = blocked_names(pool, &key).await?;
        blocked_t.push(t0.elapsed());
        let t0 = Instant::now();
        let trigram = trigram_names(pool, &key, RETRIEVAL_SIMILARITY).await?;
        trigram_t.push(t0.elapsed());
        blocked_n += blocked.len();
        trigram_n += trigram.len();
        let blocked: std::collections::HashSet<&str> = blocked.iter().map(String::as_str).collect();
        for (k, _) in &trigram {
            if shown_by_search(&key, k) {
                wanted += 1;
                kept += usize::from(blocked.contains(k.as_str()));
            }
        }
    }
    let n = samples.len().max(1) as f64;
    let Latency {
        p50: w50, p95: w95, ..
    } = latency(&whole);
    let Latency {
        p50: b50, p95: b95, ..
    } = latency(&blocked_t);
    let Latency {
        p50: g50, p95: g95, ..
    } = latency(&trigram_t);
    Ok(format!(
        "| {size} | {w50:.1} | {w95:.1} | {b50:.2} / {b95:.2}, {:.0} | {g50:.2} / {g95:.2}, {:.0} | {kept} of {wanted} ({:.1} %) |",
        blocked_n as f64 / n,
        trigram_n as f64 / n,
        100.0 * kept as f64 / wanted.max(1) as f64
    ))
}
