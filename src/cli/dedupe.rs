//! `giupdo dedupe scan|evaluate`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Subcommand;
use sqlx::PgPool;

use crate::db::duplicates;
use crate::domain::duplicates::{Level, Pair, Thresholds, classify, compare_names, name_blocks};
use crate::domain::spreadsheet::SafeCsv;
use crate::domain::text::normalize_name;

#[derive(Debug, Subcommand)]
pub enum DedupeWhat {
    /// In các cặp hộ nghi trùng đã có trong sổ (bảng hoặc CSV).
    Scan {
        /// Chỉ quét một xã (mã, ví dụ 06073).
        #[arg(long)]
        commune: Option<String>,
        /// table | csv
        #[arg(long, default_value = "table")]
        format: String,
        /// Cả các cặp "tên gần giống" ở thôn khác (nhiều).
        #[arg(long)]
        all: bool,
    },
    /// Độ chính xác (precision) và độ phủ (recall) của từng mức trên bộ cặp tên có nhãn.
    Evaluate {
        /// Tệp CSV: a,b,birth_a,birth_b,same_village,same,kind
        #[arg(default_value = "tests/data/name-pairs.csv")]
        file: PathBuf,
    },
}

pub async fn run(pool: &PgPool, what: DedupeWhat, t: Thresholds) -> anyhow::Result<()> {
    match what {
        DedupeWhat::Scan {
            commune,
            format,
            all,
        } => {
            let pairs = duplicates::scan(pool, commune.as_deref(), t, all).await?;
            if format == "csv" {
                let mut w = SafeCsv::new(std::io::stdout());
                w.text_row([
                    "xa",
                    "muc",
                    "ho_a",
                    "thon_a",
                    "nam_sinh_a",
                    "ho_b",
                    "thon_b",
                    "nam_sinh_b",
                    "do_giong",
                    "ly_do",
                    "id_a",
                    "id_b",
                ])?;
                for p in &pairs {
                    w.text_row([
                        p.commune.clone(),
                        p.level.label().to_string(),
                        p.name_a.clone(),
                        p.village_a.clone(),
                        p.birth_a.map(|y| y.to_string()).unwrap_or_default(),
                        p.name_b.clone(),
                        p.village_b.clone(),
                        p.birth_b.map(|y| y.to_string()).unwrap_or_default(),
                        format!("{:.2}", p.similarity),
                        p.reasons.join("; "),
                        p.a.to_string(),
                        p.b.to_string(),
                    ])?;
                }
                w.flush()?;
            } else {
                println!(
                    "{:<16} {:<16} {:<28} {:<28} LÝ DO",
                    "XÃ", "MỨC", "HỘ A", "HỘ B"
                );
                for p in &pairs {
                    let a = format!("{} ({})", p.name_a, p.village_a);
                    let b = format!("{} ({})", p.name_b, p.village_b);
                    println!(
                        "{:<16} {:<16} {:<28} {:<28} {}",
                        p.commune,
                        p.level.label(),
                        a,
                        b,
                        p.reasons.join("; ")
                    );
                }
                println!("{} cặp nghi trùng.", pairs.len());
            }
            Ok(())
        }
        DedupeWhat::Evaluate { file } => {
            print!("{}", evaluate(pool, &file, t).await?);
            Ok(())
        }
    }
}

struct Labelled {
    kind: String,
    a: String,
    b: String,
    birth: (Option<i32>, Option<i32>),
    same_village: bool,
    same: bool,
    /// Both genders known and different.
    different_gender: bool,
    /// Both identity numbers known and different.
    different_ids: bool,
}

fn read_pairs(file: &Path) -> anyhow::Result<Vec<Labelled>> {
    let mut r = csv::Reader::from_path(file)
        .with_context(|| format!("Không đọc được {}", file.display()))?;
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        let year = |i: usize| rec.get(i).and_then(|v| v.trim().parse().ok());
        out.push(Labelled {
            kind: rec.get(6).unwrap_or_default().to_string(),
            a: rec.get(0).unwrap_or_default().to_string(),
            b: rec.get(1).unwrap_or_default().to_string(),
            birth: (year(2), year(3)),
            same_village: rec.get(4) == Some("1"),
            same: rec.get(5) == Some("1"),
            different_gender: matches!((rec.get(7), rec.get(8)), (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() && a != b),
            different_ids: rec.get(9) == Some("different"),
        });
    }
    Ok(out)
}

/// Precision and recall of each level on the labelled pairs, at the given thresholds and over a
/// sweep of the probable threshold, as a Markdown table.
pub async fn evaluate(pool: &PgPool, file: &Path, t: Thresholds) -> anyhow::Result<String> {
    let pairs = read_pairs(file)?;
    let a: Vec<String> = pairs.iter().map(|p| p.a.clone()).collect();
    let b: Vec<String> = pairs.iter().map(|p| p.b.clone()).collect();
    let sims = duplicates::similarities(pool, &a, &b).await?;
    let level_of = |p: &Labelled, sim: f32, t: Thresholds| {
        let pair = Pair {
            same_village: p.same_village,
            same_name_key: normalize_name(&p.a) == normalize_name(&p.b),
            similarity: sim,
            birth_years: p.birth,
            different_gender: p.different_gender,
            different_ids: p.different_ids,
            names: compare_names(&p.a, &p.b),
            ..Pair::default()
        };
        classify(&pair, t).map(|(l, _)| l)
    };
    let score = |t: Thresholds, at_least: Level| {
        let (mut tp, mut fp, mut fnn) = (0usize, 0usize, 0usize);
        for (p, s) in pairs.iter().zip(&sims) {
            let flagged = level_of(p, *s, t).is_some_and(|l| l <= at_least);
            match (flagged, p.same) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, true) => fnn += 1,
                _ => {}
            }
        }
        let precision = if tp + fp == 0 {
            1.0
        } else {
            tp as f64 / (tp + fp) as f64
        };
        let recall = if tp + fnn == 0 {
            1.0
        } else {
            tp as f64 / (tp + fnn) as f64
        };
        (precision, recall)
    };
    let same = pairs.iter().filter(|p| p.same).count();
    let mut out = String::new();
    writeln!(
        out,
        "{} labelled pairs ({} same household, {} different).\n",
        pairs.len(),
        same,
        pairs.len() - same
    )?;
    writeln!(
        out,
        "At the configured thresholds (probable {:.2}, possible {:.2}):\n",
        t.probable, t.possible
    )?;
    writeln!(out, "| flagged as | precision | recall |")?;
    writeln!(out, "|---|---:|---:|")?;
    for (label, level) in [
        ("probable (saving needs a reason)", Level::Probable),
        ("probable or possible (shown)", Level::Possible),
    ] {
        let (p, r) = score(t, level);
        writeln!(out, "| {label} | {:.1}% | {:.1}% |", p * 100.0, r * 100.0)?;
    }
    // Blocking (the cross-commune search): of the true duplicates flagged probable, how many
    // share a blocking key, that is, how many the search still finds.
    let (mut flagged, mut blocked) = (0usize, 0usize);
    for (p, s) in pairs.iter().zip(&sims) {
        if p.same && level_of(p, *s, t).is_some_and(|l| l <= Level::Probable) {
            flagged += 1;
            let (a, b) = (
                name_blocks(&normalize_name(&p.a)),
                name_blocks(&normalize_name(&p.b)),
            );
            blocked += usize::from(a.iter().any(|x| b.contains(x)));
        }
    }
    writeln!(
        out,
        "\nBlocking keys: {blocked} of the {flagged} true duplicates flagged probable share one \
         (found by the cross-commune search).",
    )?;

    // By kind of pair: how many a person is asked about (probable) and how many are shown.
    writeln!(out, "\nBy kind of pair:\n")?;
    writeln!(out, "| kind | same household | pairs | probable | shown |")?;
    writeln!(out, "|---|---|---:|---:|---:|")?;
    let mut kinds: Vec<&str> = pairs.iter().map(|p| p.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    for kind in kinds {
        let of: Vec<(&Labelled, &f32)> = pairs
            .iter()
            .zip(&sims)
            .filter(|(p, _)| p.kind == kind)
            .collect();
        let levels: Vec<Option<Level>> = of.iter().map(|(p, s)| level_of(p, **s, t)).collect();
        writeln!(
            out,
            "| {kind} | {} | {} | {} | {} |",
            if of[0].0.same { "yes" } else { "no" },
            of.len(),
            levels
                .iter()
                .filter(|l| **l == Some(Level::Probable) || **l == Some(Level::Certain))
                .count(),
            levels.iter().filter(|l| l.is_some()).count()
        )?;
    }
    Ok(out)
}
