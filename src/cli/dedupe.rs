//! `giupdo dedupe scan|train|model|evaluate`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Subcommand;
use sqlx::PgPool;

use crate::db::duplicates;
use crate::domain::cccd::IdNumber;
use crate::domain::duplicates::model::{MODEL_VERSION, TermFrequencies};
use crate::domain::duplicates::train::{self, Labelled, OwnedRecord};
use crate::domain::duplicates::{
    Field, Level, Model, RETRIEVAL_SIMILARITY, SCAN_SIMILARITY, Scope, Thresholds, classify,
    format_weight, name_blocks, reached_by_scan,
};
use crate::domain::spreadsheet::SafeCsv;
use crate::domain::text::normalize_name;

/// The generated benchmark (`tests/data/dedupe/make_pairs.py`).
pub const GENERATED_PAIRS: &str = "tests/data/dedupe/pairs.csv";
pub const GENERATED_REGISTRY: &str = "tests/data/dedupe/population.csv";
/// The hand-written labelled set kept from before (`tests/data/make_name_pairs.py`).
pub const HAND_PAIRS: &str = "tests/data/name-pairs.csv";

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
    /// Ước lượng lại mô hình: m từ nửa "fit" của bộ cặp có nhãn, u và tần suất tên từ sổ hộ
    /// (cơ sở dữ liệu, hoặc tệp --registry); lưu kèm ngày, hoặc ghi ra tệp --out.
    Train {
        /// Bộ cặp có nhãn (CSV của make_pairs.py). Không ghi: giữ m của mô hình đang dùng.
        #[arg(long)]
        pairs: Option<PathBuf>,
        /// Sổ hộ dạng CSV (commune,village,head_name,…) thay cho cơ sở dữ liệu.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// Ghi mô hình (JSON) ra tệp này thay vì lưu vào cơ sở dữ liệu.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// In mô hình đang dùng: ngày ước lượng, m, u và trọng số của từng mức.
    Model,
    /// Độ chính xác (precision) và độ phủ (recall) ở mức "có thể trùng" và "tên gần giống",
    /// theo từng loại lỗi gõ, trên nửa giữ lại, nửa fit và bộ viết tay.
    Evaluate {
        #[arg(long, default_value = GENERATED_PAIRS)]
        pairs: PathBuf,
        #[arg(long, default_value = GENERATED_REGISTRY)]
        registry: PathBuf,
        #[arg(long, default_value = HAND_PAIRS)]
        hand: PathBuf,
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
        DedupeWhat::Train {
            pairs,
            registry,
            out,
        } => {
            let model =
                train_command(pool, pairs.as_deref(), registry.as_deref(), out.is_some()).await?;
            print!("{}", describe(&model));
            match out {
                Some(path) => {
                    std::fs::write(&path, model.to_json() + "\n")
                        .with_context(|| format!("Không ghi được {}", path.display()))?;
                    println!("Đã ghi mô hình ra {}.", path.display());
                }
                None => println!("Đã lưu mô hình; kiểm tra trùng hộ dùng nó từ bây giờ."),
            }
            Ok(())
        }
        DedupeWhat::Model => {
            print!("{}", describe(&duplicates::model(pool).await?));
            Ok(())
        }
        DedupeWhat::Evaluate {
            pairs,
            registry,
            hand,
        } => {
            print!("{}", evaluate(pool, &pairs, &registry, &hand, t).await?);
            Ok(())
        }
    }
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

fn year(s: &str) -> Option<i32> {
    s.trim().parse().ok()
}

fn open_csv(path: &Path, what: &str) -> anyhow::Result<csv::Reader<std::fs::File>> {
    csv::Reader::from_path(path).map_err(|e| {
        anyhow::anyhow!(
            "Không đọc được {what} {}: {e}. Tệp phải là CSV của tests/data/dedupe/make_pairs.py.",
            path.display()
        )
    })
}

/// The generated labelled pairs (half, kind, same, then A's and B's 8 fields).
pub fn read_generated(path: &Path) -> anyhow::Result<Vec<Labelled>> {
    let mut r = open_csv(path, "bộ cặp có nhãn")?;
    let headers = r.headers()?.clone();
    if headers.get(0) != Some("half") || headers.len() != 19 {
        anyhow::bail!(
            "{} không phải bộ cặp có nhãn: cần 19 cột bắt đầu bằng half,kind,same (make_pairs.py).",
            path.display()
        );
    }
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.with_context(|| format!("{} dòng {}", path.display(), i + 2))?;
        let side = |o: usize| OwnedRecord {
            commune: rec[o].to_string(),
            commune_name: rec[o].to_string(),
            village: rec[o + 1].to_string(),
            head_name: rec[o + 2].to_string(),
            birth_year: year(&rec[o + 3]),
            gender: opt(&rec[o + 4]),
            cccd: IdNumber::cccd(&rec[o + 5]),
            old_id: IdNumber::cmnd(&rec[o + 6]),
            household_code: opt(&rec[o + 7]),
        };
        out.push(Labelled {
            half: rec[0].to_string(),
            kind: rec[1].to_string(),
            same: &rec[2] == "1",
            a: side(3),
            b: side(11),
        });
    }
    Ok(out)
}

/// The hand-written set: a,b,birth_a,birth_b,same_village,same,kind,gender_a,gender_b,ids.
pub fn read_hand(path: &Path) -> anyhow::Result<Vec<Labelled>> {
    let mut r = open_csv(path, "bộ cặp viết tay")?;
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        let get = |i: usize| rec.get(i).unwrap_or_default();
        let different_ids = get(9) == "different";
        let side = |name: &str, birth: &str, village: &str, gender: &str, cccd: &str| OwnedRecord {
            commune: "06073".into(),
            commune_name: "Xã Hoa Thám".into(),
            village: village.into(),
            head_name: name.into(),
            birth_year: year(birth),
            gender: opt(gender),
            cccd: different_ids.then(|| cccd.to_string()),
            ..OwnedRecord::default()
        };
        let other_village = if get(4) == "1" {
            "Thôn Nà Pàn"
        } else {
            "Thôn Khuổi Ngọa"
        };
        out.push(Labelled {
            half: "hand".into(),
            kind: get(6).to_string(),
            same: get(5) == "1",
            a: side(get(0), get(2), "Thôn Nà Pàn", get(7), "020085001234"),
            b: side(get(1), get(3), other_village, get(8), "020085009876"),
        });
    }
    Ok(out)
}

/// A registry as CSV: commune,village,head_name,birth_year,gender,cccd,old_id,household_code.
pub fn read_registry(path: &Path) -> anyhow::Result<Vec<OwnedRecord>> {
    let mut r = open_csv(path, "sổ hộ")?;
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        if rec.len() < 8 {
            anyhow::bail!("{}: mỗi dòng cần 8 cột.", path.display());
        }
        out.push(OwnedRecord {
            commune: rec[0].to_string(),
            commune_name: rec[0].to_string(),
            village: rec[1].to_string(),
            head_name: rec[2].to_string(),
            birth_year: year(&rec[3]),
            gender: opt(&rec[4]),
            cccd: IdNumber::cccd(&rec[5]),
            old_id: IdNumber::cmnd(&rec[6]),
            household_code: opt(&rec[7]),
        });
    }
    Ok(out)
}

/// The source line the built-in model carries: it names the files, not a date, so that
/// retraining from the same files gives the same model byte for byte.
pub const BUILTIN_SOURCE: &str =
    "m: nửa fit của tests/data/dedupe/pairs.csv; u và tần suất: tests/data/dedupe/population.csv";

async fn train_command(
    pool: &PgPool,
    pairs: Option<&Path>,
    registry: Option<&Path>,
    to_file: bool,
) -> anyhow::Result<Model> {
    let current = duplicates::model(pool).await?;
    let labelled = match pairs {
        Some(p) => Some(read_generated(p)?),
        None => None,
    };
    let (reg, reg_source) = match registry {
        Some(p) => (read_registry(p)?, p.display().to_string()),
        None => {
            let sample = duplicates::registry_sample(pool, 20_000).await?;
            let n = sample.len();
            (sample, format!("sổ hộ ({n} hộ ngẫu nhiên)"))
        }
    };
    if reg.len() < 100 {
        anyhow::bail!(
            "Sổ hộ mới có {} hộ: chưa đủ để ước lượng u (cần ít nhất 100). Mô hình đang dùng được giữ nguyên.",
            reg.len()
        );
    }
    let fit = labelled
        .as_ref()
        .map(|l| l.iter().filter(|p| p.half == "fit" && p.same).count())
        .unwrap_or(0);
    if labelled.is_some() && fit < 100 {
        anyhow::bail!(
            "Bộ cặp có nhãn có {fit} cặp trùng thật ở nửa fit: chưa đủ để ước lượng m (cần ít nhất 100). Không lưu gì."
        );
    }
    let (trained_at, source) = if to_file && pairs.is_some() && registry.is_some() {
        ("tích hợp sẵn".to_string(), BUILTIN_SOURCE.to_string())
    } else {
        (
            chrono::Local::now().format("%Y-%m-%d %H:%M").to_string(),
            match pairs {
                Some(p) => format!("m: nửa fit của {}; u: {reg_source}", p.display()),
                None => format!("m: giữ của mô hình {}; u: {reg_source}", current.trained_at),
            },
        )
    };
    let mut model = match &labelled {
        Some(l) => train::train(l, &reg, &trained_at, &source),
        None => {
            let u = train::count_u(&reg, train::U_SAMPLES);
            let mut m = crate::domain::duplicates::model::estimate(
                &Default::default(),
                &u,
                &trained_at,
                &source,
            );
            for (f, c) in m.fields.iter_mut().zip(&current.fields) {
                f.m = c.m.clone();
            }
            m
        }
    };
    model.version = MODEL_VERSION;
    if !to_file {
        duplicates::store_model(pool, &model, &whoami(), fit, reg.len()).await?;
    }
    Ok(model)
}

fn whoami() -> String {
    std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .map(|u| format!("cli:{u}"))
        .unwrap_or_else(|_| "cli".into())
}

/// The model as a table: each field's levels with m, u and the weight.
pub fn describe(m: &Model) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Mô hình kiểm tra trùng hộ (Fellegi–Sunter), phiên bản {}",
        m.version
    );
    let _ = writeln!(out, "Ước lượng: {}", m.trained_at);
    let _ = writeln!(out, "Nguồn: {}\n", m.source);
    let _ = writeln!(out, "| trường | mức | m | u | trọng số |");
    let _ = writeln!(out, "|---|---|---:|---:|---:|");
    for p in &m.fields {
        for (i, level) in p.field.levels().iter().enumerate() {
            let w = m.level_weight(p.field, i as u8);
            let tf = if i == 0 && p.field.term_frequency_part().is_some() {
                " (theo tần suất tên)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "| {} | {level}{tf} | {:.4} | {:.4} | {} |",
                p.field.label(),
                p.m[i],
                p.u[i],
                format_weight(w)
            );
        }
    }
    out
}

/// One labelled pair's verdict.
struct Scored<'a> {
    pair: &'a Labelled,
    level: Option<Level>,
    weight: f64,
}

fn score_all<'a>(
    model: &Model,
    tf: &TermFrequencies,
    pairs: &'a [Labelled],
    t: Thresholds,
) -> Vec<Scored<'a>> {
    pairs
        .iter()
        .map(|p| {
            let commune = p.a.record().commune;
            let f = |field: Field, w: &str| tf.frequency(commune, field, w).map(|x| (x, true));
            let v = classify(model, &p.b.record(), &p.a.record(), &f, Scope::Record, t);
            Scored {
                pair: p,
                level: v.as_ref().map(|v| v.level),
                weight: v.map(|v| v.weight).unwrap_or(f64::NEG_INFINITY),
            }
        })
        .collect()
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        return "–".into();
    }
    format!("{:.1}%", 100.0 * n as f64 / d as f64)
}

/// Precision and recall with "flagged" meaning at least `at`.
fn pr(scored: &[Scored<'_>], at: Level) -> (usize, usize, usize) {
    let (mut tp, mut fp, mut fnn) = (0, 0, 0);
    for s in scored {
        let flagged = s.level.is_some_and(|l| l <= at);
        match (flagged, s.pair.same) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fnn += 1,
            _ => {}
        }
    }
    (tp, fp, fnn)
}

fn section(out: &mut String, title: &str, scored: &[Scored<'_>], sims: Option<&[f32]>) {
    let same = scored.iter().filter(|s| s.pair.same).count();
    let _ = writeln!(
        out,
        "\n## {title}\n\n{} pairs ({same} same household, {} different).\n",
        scored.len(),
        scored.len() - same
    );
    let _ = writeln!(out, "| flagged as | precision | recall |");
    let _ = writeln!(out, "|---|---:|---:|");
    for (label, at) in [
        ("probable (saving needs a reason)", Level::Probable),
        ("probable or possible (shown)", Level::Possible),
    ] {
        let (tp, fp, fnn) = pr(scored, at);
        let _ = writeln!(
            out,
            "| {label} | {} | {} |",
            pct(tp, tp + fp),
            pct(tp, tp + fnn)
        );
    }
    if let Some(sims) = sims {
        let (mut n, mut retrieved, mut scanned, mut blocked) = (0, 0, 0, 0);
        for (s, sim) in scored.iter().zip(sims) {
            if s.pair.same && s.level.is_some_and(|l| l <= Level::Probable) {
                n += 1;
                retrieved +=
                    usize::from(*sim >= RETRIEVAL_SIMILARITY || s.level == Some(Level::Certain));
                scanned += usize::from(reached_by_scan(*sim));
                let (a, b) = (
                    name_blocks(&normalize_name(&s.pair.a.head_name)),
                    name_blocks(&normalize_name(&s.pair.b.head_name)),
                );
                blocked += usize::from(a.iter().any(|x| b.contains(x)));
            }
        }
        let _ = writeln!(
            out,
            "\nRetrieval: of the {n} true duplicates flagged probable, {} have names at least {:.0} % \
             alike by trigrams (what the check as one types and the import fetch) or the same \
             identity number; {} are at least {:.0} % alike (what the review scan pairs); {} share a \
             blocking key (what the cross-commune search fetches).",
            pct(retrieved, n),
            RETRIEVAL_SIMILARITY * 100.0,
            pct(scanned, n),
            SCAN_SIMILARITY * 100.0,
            pct(blocked, n)
        );
    }
    let _ = writeln!(
        out,
        "\n| kind | same household | pairs | probable | shown | median weight |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|");
    let mut kinds: BTreeMap<(bool, &str), Vec<&Scored<'_>>> = BTreeMap::new();
    for s in scored {
        kinds
            .entry((!s.pair.same, s.pair.kind.as_str()))
            .or_default()
            .push(s);
    }
    for ((different, kind), list) in kinds {
        let probable = list
            .iter()
            .filter(|s| s.level.is_some_and(|l| l <= Level::Probable))
            .count();
        let shown = list.iter().filter(|s| s.level.is_some()).count();
        let mut w: Vec<f64> = list.iter().map(|s| s.weight).collect();
        w.sort_by(f64::total_cmp);
        let median = w[w.len() / 2];
        let _ = writeln!(
            out,
            "| {kind} | {} | {} | {} | {} | {} |",
            if different { "no" } else { "yes" },
            list.len(),
            pct(probable, list.len()),
            pct(shown, list.len()),
            if median.is_finite() {
                format_weight(median)
            } else {
                "below".into()
            }
        );
    }
}

/// The whole evaluation, as Markdown: the held-out half, the fit half, the hand-written set, and
/// the fit half's precision/recall curve the thresholds were chosen on.
pub async fn evaluate(
    pool: &PgPool,
    pairs: &Path,
    registry: &Path,
    hand: &Path,
    t: Thresholds,
) -> anyhow::Result<String> {
    let labelled = read_generated(pairs)?;
    let reg = read_registry(registry)?;
    let hand = read_hand(hand)?;
    let model = train::train(&labelled, &reg, "evaluation", BUILTIN_SOURCE);
    let tf = train::frequencies(&reg);
    let holdout: Vec<Labelled> = labelled
        .iter()
        .filter(|p| p.half == "holdout")
        .cloned()
        .collect();
    let fit: Vec<Labelled> = labelled
        .iter()
        .filter(|p| p.half == "fit")
        .cloned()
        .collect();
    let sims = |set: &[Labelled]| {
        let a: Vec<String> = set.iter().map(|p| p.a.head_name.clone()).collect();
        let b: Vec<String> = set.iter().map(|p| p.b.head_name.clone()).collect();
        (a, b)
    };
    let (ha, hb) = sims(&holdout);
    let hold_sims = duplicates::similarities(pool, &ha, &hb).await?;
    let mut out = String::new();
    writeln!(
        out,
        "# The duplicate check, evaluated\n\nModel: m from the fit half of {}, u and name \
         frequencies from {} ({} households). Thresholds: probable from {}, possible from {} \
         (bits of evidence).",
        pairs.display(),
        registry.display(),
        reg.len(),
        format_weight(f64::from(t.probable)),
        format_weight(f64::from(t.possible))
    )?;
    let h = score_all(&model, &tf, &holdout, t);
    section(
        &mut out,
        "Held-out half (never used to fit)",
        &h,
        Some(&hold_sims),
    );
    let f = score_all(&model, &tf, &fit, t);
    section(&mut out, "Fit half", &f, None);
    let hs = score_all(&model, &tf, &hand, t);
    section(
        &mut out,
        &format!("Hand-written set ({})", HAND_PAIRS),
        &hs,
        None,
    );
    writeln!(
        out,
        "\n## Precision and recall at *probable* by threshold (fit half)\n"
    )?;
    writeln!(out, "| threshold | precision | recall |")?;
    writeln!(out, "|---:|---:|---:|")?;
    for th in (0..=60).step_by(2) {
        let th = th as f32 / 2.0;
        let at = Thresholds {
            probable: th,
            possible: t.possible.min(th),
        };
        let (tp, fp, fnn) = pr(&score_all(&model, &tf, &fit, at), Level::Probable);
        writeln!(
            out,
            "| {} | {} | {} |",
            format_weight(f64::from(th)),
            pct(tp, tp + fp),
            pct(tp, tp + fnn)
        )?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in model is what `giupdo dedupe train --pairs … --registry … --out …` makes from
    /// the committed benchmark: nobody edits its numbers by hand.
    #[test]
    fn the_built_in_model_is_trained_from_the_committed_benchmark() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let pairs = read_generated(&root.join(GENERATED_PAIRS)).unwrap();
        let registry = read_registry(&root.join(GENERATED_REGISTRY)).unwrap();
        let trained = train::train(&pairs, &registry, "tích hợp sẵn", BUILTIN_SOURCE);
        let builtin = Model::builtin();
        assert_eq!(
            (&trained.version, &trained.trained_at, &trained.source),
            (&builtin.version, &builtin.trained_at, &builtin.source)
        );
        // JSON keeps 17 digits; reading them back may differ in the last bit.
        for (a, b) in trained.fields.iter().zip(&builtin.fields) {
            assert_eq!(a.field, b.field);
            for (x, y) in a.m.iter().chain(&a.u).zip(b.m.iter().chain(&b.u)) {
                assert!((x - y).abs() < 1e-12, "{:?}: {x} / {y}", a.field);
            }
        }
    }

    #[test]
    fn a_file_that_is_not_the_benchmark_is_refused_in_vietnamese() {
        let dir = std::env::temp_dir().join(format!("giupdo-pairs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("x.csv");
        std::fs::write(&f, "a,b\n1,2\n").unwrap();
        let e = read_generated(&f).unwrap_err().to_string();
        assert!(e.contains("không phải bộ cặp có nhãn"), "{e}");
        let e = read_generated(&dir.join("missing.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("Không đọc được bộ cặp có nhãn"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
