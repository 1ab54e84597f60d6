//! R4, the duplicate household check: how sure we are that two records are one household, and
//! why, in words a commune official reads. The one classifier: the household form, the check as
//! one types, the search, the import (web and command line), the history import and the review
//! scan all call [`classify`]; no other module decides a level (`tests/layers.rs`).
//!
//! The database finds the candidates (`db::duplicates`: similar names in the commune, the same
//! identity numbers); this module scores each pair with the Fellegi–Sunter model (`model`):
//! every field's agreement level adds log2(m/u) bits, exact agreement on a name word weighed by
//! how common the word is. The sum decides the level:
//! - *certain*: the same CCCD or old CMND anywhere, or the same household code in the same
//!   commune — refused;
//! - *probable*: the weight reaches [`Thresholds::probable`] — saving needs a reason;
//! - *possible*: it reaches [`Thresholds::possible`] — shown.
//!
//! The thresholds were chosen on the precision/recall curve of the generated set's fit half
//! (`giupdo dedupe evaluate`, docs/duplicates.md).

use serde::Serialize;

pub mod compare;
pub mod model;
pub mod spelling;
pub mod train;

pub use compare::{Agreement, Field, Record};
pub use model::{Model, TermFrequencies};

#[cfg(test)]
use super::text::normalize_name;

/// How sure the match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Level {
    /// Same CCCD or CMND, or same household code in the same commune: refused.
    Certain,
    /// The evidence weighs at least the probable threshold: saving needs a reason.
    Probable,
    /// The evidence weighs at least the possible threshold: shown, nothing required.
    Possible,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Certain => "Chắc chắn trùng",
            Level::Probable => "Có thể trùng",
            Level::Possible => "Tên gần giống",
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Level::Certain => "certain",
            Level::Probable => "probable",
            Level::Possible => "possible",
        }
    }
}

/// The weights (bits of evidence, the sum of a pair's field weights) from which a pair is
/// probable and possible. Chosen on the fit half's precision/recall curve (docs/duplicates.md).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub probable: f32,
    pub possible: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            probable: DEFAULT_PROBABLE,
            possible: DEFAULT_POSSIBLE,
        }
    }
}

/// The default thresholds (see [`Thresholds`]).
pub const DEFAULT_PROBABLE: f32 = 12.0;
pub const DEFAULT_POSSIBLE: f32 = 4.0;

/// Candidates are fetched from the name dictionary above this trigram similarity of the name
/// keys (pg_trgm, 0–1): the retrieval, not the decision (`giupdo dedupe evaluate` reports how
/// many true duplicates it reaches).
pub const RETRIEVAL_SIMILARITY: f32 = 0.45;

/// The review scan (probable pairs already in the registry) pairs a commune's names at least this
/// alike: at 0,45 a commune of 100.000 households gave millions of household pairs to score.
pub const SCAN_SIMILARITY: f32 = 0.55;

/// Would the review scan pair two names this alike (pg_trgm similarity of their keys)?
pub fn reached_by_scan(similarity: f32) -> bool {
    similarity >= SCAN_SIMILARITY
}

/// Where the pair comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A record typed or imported against the registry, or two registry records: every field.
    Record,
    /// The search page: a name or number alone, no village or birth year: *possible* at most.
    Search,
}

/// The identity numbers a candidate shares with what was typed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SameIds {
    pub cccd: bool,
    pub old_id: bool,
    pub household_code: bool,
}

/// The classifier's answer for one pair.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub level: Level,
    /// The evidence, in bits.
    pub weight: f64,
    /// Why, in Vietnamese: what decided the level, then each field with its weight.
    pub reasons: Vec<String>,
    /// Which identity matched (the form marks that field).
    pub same: SameIds,
}

/// A weight as a reader sees it: "+6,1", "−2,0", "0".
pub fn format_weight(w: f64) -> String {
    if w.abs() < 0.05 {
        return "0".into();
    }
    let s = format!("{:.1}", w.abs()).replace('.', ",");
    if w > 0.0 {
        format!("+{s}")
    } else {
        format!("−{s}")
    }
}

/// The frequency lookup: (the word's frequency, taken in the commune itself?).
pub type Frequency<'a> = &'a dyn Fn(Field, &str) -> Option<(f64, bool)>;

/// The level of one pair (`a` the record typed or checked, `b` the registry's), or `None` when the
/// evidence is below the possible threshold.
pub fn classify(
    model: &Model,
    a: &Record<'_>,
    b: &Record<'_>,
    tf: Frequency<'_>,
    scope: Scope,
    t: Thresholds,
) -> Option<Verdict> {
    let freq = |f: Field, w: &str| tf(f, w).map(|(x, _)| x);
    let scored = model.score(a, b, &freq);
    let weight: f64 = scored.iter().map(|(_, w)| *w).sum();
    let level_of = |f: Field| {
        scored
            .iter()
            .find(|(x, _)| x.field == f)
            .map(|(x, _)| x.level)
    };
    let same = SameIds {
        cccd: level_of(Field::Cccd) == Some(0),
        old_id: level_of(Field::OldId) == Some(0),
        household_code: level_of(Field::HouseholdCode) == Some(0),
    };
    let mut head = Vec::new();
    if same.cccd {
        head.push("Trùng số CCCD".to_string());
    }
    if same.old_id {
        head.push("Trùng số CMND cũ".to_string());
    }
    if same.household_code {
        head.push("Trùng mã hộ nghèo trong cùng xã".to_string());
    }
    let code_elsewhere = !same.household_code
        && matches!((compare::nonblank(a.household_code), compare::nonblank(b.household_code)), (Some(x), Some(y)) if x == y);
    // Two valid CCCDs (or two old CMNDs) that differ are two people by their papers, as the same
    // number is one: the identity numbers decide both ways, the names only weigh.
    let different_papers = level_of(Field::Cccd) == Some(1) || level_of(Field::OldId) == Some(1);
    let level = if !head.is_empty() {
        Level::Certain
    } else if weight >= f64::from(t.probable) && scope == Scope::Record && !different_papers {
        Level::Probable
    } else if weight >= f64::from(t.possible.min(t.probable)) || code_elsewhere {
        Level::Possible
    } else {
        return None;
    };
    if code_elsewhere {
        let place = format!("{}, {}", b.village.unwrap_or_default(), b.commune_name);
        head.push(format!(
            "Trùng mã hộ nghèo nhưng ở {place}: mã hộ chỉ là duy nhất trong một xã"
        ));
    }
    let summary = match (level, scope) {
        (Level::Certain, _) => format!("Điểm các trường khác: {}", format_weight(weight)),
        (_, Scope::Search) => format!(
            "Tổng điểm {} (tìm theo tên: không có thôn, năm sinh để so, nên nhiều nhất là «{}»)",
            format_weight(weight),
            Level::Possible.label()
        ),
        (Level::Probable, _) => format!(
            "Tổng điểm {} — từ {} trở lên là «{}»",
            format_weight(weight),
            format_weight(f64::from(t.probable)),
            Level::Probable.label()
        ),
        (Level::Possible, _) if different_papers && weight >= f64::from(t.probable) => format!(
            "Tổng điểm {}, nhưng hai số giấy tờ tùy thân hợp lệ khác nhau: hai người, nên chỉ là «{}»",
            format_weight(weight),
            Level::Possible.label()
        ),
        (Level::Possible, _) => format!(
            "Tổng điểm {} — dưới {} nên chỉ là «{}»",
            format_weight(weight),
            format_weight(f64::from(t.probable)),
            Level::Possible.label()
        ),
    };
    head.push(summary);
    for (x, w) in &scored {
        if let Some(text) = explain(x, *w, a, b, tf) {
            head.push(format!("{text} ({})", format_weight(*w)));
        }
    }
    Some(Verdict {
        level,
        weight,
        reasons: head,
        same,
    })
}

/// One field's line of the explanation, or `None` for a field that says nothing here.
fn explain(
    x: &Agreement,
    w: f64,
    a: &Record<'_>,
    b: &Record<'_>,
    tf: Frequency<'_>,
) -> Option<String> {
    let (va, vb) = (&x.values.0, &x.values.1);
    let word = |what: &str| -> String {
        match x.level {
            0 => {
                let freq = x.tf_word.as_deref().and_then(|t| tf(x.field, t));
                let place = match freq {
                    Some((_, true)) => "trong xã",
                    _ => "trong sổ",
                };
                match freq {
                    Some((f, _)) if f < 0.01 && w > 0.0 => {
                        format!("{} {va} hiếm {place}", capitalise(what))
                    }
                    Some((f, _)) if f >= 0.05 => {
                        format!("cùng {what} {va}, {what} phổ biến {place}")
                    }
                    _ => format!("cùng {what} {va}"),
                }
            }
            1 => format!("{what} {va} và {vb} chỉ khác dấu hoặc cách gõ dấu"),
            2 => format!("{what} {va} và {vb}: gõ nhầm một chữ cái"),
            3 => format!("{what} {va} và {vb} khác một chữ cái, cả hai đều là tên"),
            4 => format!("{what} {va} và {vb} khác vần: hai tên khác nhau"),
            5 => format!("khác {what} ({va} và {vb})"),
            _ => format!("không có {what} để so"),
        }
    };
    Some(match x.field {
        Field::Surname => word("họ"),
        Field::Given => word("tên"),
        Field::Middle => match x.level {
            6 => format!(
                "một bên thiếu tên đệm ({})",
                if va.is_empty() { vb } else { va }
            ),
            7 => "cả hai không có tên đệm".into(),
            _ => word("tên đệm"),
        },
        Field::Order => match x.level {
            0 => return None,
            _ => "họ tên viết theo thứ tự khác".into(),
        },
        Field::BirthYear => match x.level {
            0 => format!("cùng năm sinh {va}"),
            1 => format!("năm sinh lệch 1 năm ({va} và {vb})"),
            2 => format!(
                "năm sinh lệch {} năm ({va} và {vb})",
                (a.birth_year? - b.birth_year?).abs()
            ),
            3 => format!("năm sinh khác xa ({va} và {vb})"),
            _ => "không rõ năm sinh để so".into(),
        },
        Field::Gender => match x.level {
            0 => "cùng giới tính".into(),
            1 => "khác giới tính".into(),
            _ => "không rõ giới tính để so".into(),
        },
        Field::Village => match x.level {
            0 => format!("cùng thôn ({vb})"),
            1 => format!("khác thôn ({va} và {vb}), cùng xã"),
            2 => format!("ở xã khác ({vb}, {})", b.commune_name),
            _ => "không có thôn để so".into(),
        },
        Field::Cccd => match x.level {
            0 => "trùng số CCCD".into(),
            1 => "khác số CCCD".into(),
            _ => "không có CCCD để so".into(),
        },
        Field::OldId => match x.level {
            0 => "trùng số CMND cũ".into(),
            1 => "khác số CMND cũ".into(),
            _ => return None,
        },
        Field::HouseholdCode => match x.level {
            0 => "trùng mã hộ nghèo trong cùng xã".into(),
            1 => "khác mã hộ nghèo".into(),
            _ => return None,
        },
    })
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The blocking keys of a normalised name (mirrored in SQL by `name_blocks()`, migration 0023):
/// names that may be the same person share at least one — the words sorted (another order), all
/// but the family name (a typo in it), and the family name with the given name and each of its
/// one-letter deletions (a middle name missing or another; a letter dropped, doubled, swapped or
/// replaced in the given name). The cross-commune search scores only the names sharing a key.
pub fn name_blocks(key: &str) -> Vec<String> {
    let w: Vec<&str> = key.split(' ').filter(|x| !x.is_empty()).collect();
    if w.is_empty() {
        return Vec::new();
    }
    let mut sorted = w.clone();
    sorted.sort_unstable();
    let mut out = vec![format!("w:{}", sorted.join(" "))];
    if w.len() >= 2 {
        let (fam, giv) = (w[0], w[w.len() - 1]);
        out.push(format!("r:{}", w[1..].join(" ")));
        out.push(format!("d:{fam} {giv}"));
        let chars: Vec<char> = giv.chars().collect();
        for i in 0..chars.len() {
            let shorter: String = chars
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, c)| c)
                .collect();
            out.push(format!("d:{fam} {shorter}"));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tf_none(_: Field, _: &str) -> Option<(f64, bool)> {
        None
    }

    fn record<'a>(name: &'a str) -> Record<'a> {
        Record {
            head_name: name,
            commune: Some("06073"),
            commune_name: "Xã Hoa Thám",
            village: Some("Thôn Nà Pàn"),
            birth_year: Some(1985),
            gender: Some("female"),
            ..Record::default()
        }
    }

    fn verdict(a: &Record<'_>, b: &Record<'_>, scope: Scope) -> Option<Verdict> {
        classify(
            &Model::builtin(),
            a,
            b,
            &tf_none,
            scope,
            Thresholds::default(),
        )
    }

    fn level(a: &Record<'_>, b: &Record<'_>) -> Option<Level> {
        verdict(a, b, Scope::Record).map(|v| v.level)
    }

    #[test]
    fn tone_placement_and_decomposed_text_are_never_below_probable() {
        let nfd =
            |s: &str| -> String { unicode_normalization::UnicodeNormalization::nfd(s).collect() };
        for (a, b) in [
            ("Hoàng Thị Hòa", "Hoàng Thị Hoà"),
            ("Lý Thị Thủy", "Lý Thị Thuỷ"),
            ("Nông Thị Thúy", "Nông Thị Thuý"),
        ] {
            let nb = nfd(b);
            for b in [b, nb.as_str()] {
                let got = level(&record(a), &record(b));
                assert!(
                    got.is_some_and(|l| l <= Level::Probable),
                    "{a} / {b}: {got:?}"
                );
            }
        }
    }

    #[test]
    fn identity_numbers_decide_certain_and_say_so_first() {
        let a = Record {
            cccd: Some("020085001234"),
            ..record("Hoàng Văn Thụ")
        };
        let b = Record {
            cccd: Some("020085001234"),
            ..record("Lý Thị Mai")
        };
        let v = verdict(&a, &b, Scope::Record).unwrap();
        assert_eq!(v.level, Level::Certain);
        assert_eq!(v.reasons[0], "Trùng số CCCD");
        assert!(v.same.cccd);
        // A household code is certain within its commune only.
        let a = Record {
            household_code: Some("HN-01"),
            ..record("Hoàng Văn Thụ")
        };
        let b = Record {
            household_code: Some("HN-01"),
            commune: Some("06079"),
            commune_name: "Xã Yên Lỗ",
            ..record("Lý Thị Mai")
        };
        let v = verdict(&a, &b, Scope::Record).unwrap();
        assert_eq!(v.level, Level::Possible);
        assert!(
            v.reasons[0].contains("mã hộ chỉ là duy nhất trong một xã"),
            "{:?}",
            v.reasons
        );
    }

    #[test]
    fn every_field_is_explained_with_its_weight() {
        let v = verdict(
            &record("Hoàng Thị Hòa"),
            &record("Hoang Thi Hoà"),
            Scope::Record,
        )
        .unwrap();
        let all = v.reasons.join("\n");
        for want in [
            "Tổng điểm +",
            "họ Hoàng và Hoang chỉ khác dấu hoặc cách gõ dấu (+",
            "cùng năm sinh 1985 (+",
            "cùng thôn (Thôn Nà Pàn) (+",
            "không có CCCD để so (0)",
        ] {
            assert!(all.contains(want), "{want} in\n{all}");
        }
    }

    #[test]
    fn a_rare_given_name_weighs_more_than_a_common_one() {
        let model = Model::builtin();
        let common = |_: Field, _: &str| Some((0.08, true));
        let rare = |_: Field, _: &str| Some((0.0005, true));
        let (a, b) = (record("Sầm Văn Pảo"), record("Sầm Văn Pảo"));
        let w = |tf: Frequency<'_>| {
            classify(&model, &a, &b, tf, Scope::Record, Thresholds::default())
                .unwrap()
                .weight
        };
        assert!(w(&rare) > w(&common) + 5.0);
        let v = classify(&model, &a, &b, &rare, Scope::Record, Thresholds::default()).unwrap();
        assert!(
            v.reasons
                .iter()
                .any(|r| r.starts_with("Tên Pảo hiếm trong xã (+")),
            "{:?}",
            v.reasons
        );
    }

    #[test]
    fn a_search_by_name_is_possible_at_most() {
        let a = Record {
            head_name: "Hoàng Văn Thụ",
            ..Record::default()
        };
        let b = record("Hoàng Văn Thụ");
        let v = verdict(&a, &b, Scope::Search).unwrap();
        assert_eq!(v.level, Level::Possible);
    }

    #[test]
    fn another_gender_or_two_valid_cccds_or_years_far_apart_are_not_probable() {
        let a = record("Hoàng Văn Thụ");
        {
            let b = Record {
                birth_year: Some(1950),
                ..record("Hoàng Văn Thụ")
            };
            assert!(level(&a, &b).is_none_or(|l| l == Level::Possible), "{b:?}");
        }
        let a = Record {
            cccd: Some("020185001234"),
            ..record("Hoàng Văn Thụ")
        };
        let b = Record {
            cccd: Some("020185009999"),
            ..record("Hoàng Văn Thụ")
        };
        assert!(level(&a, &b).is_none_or(|l| l == Level::Possible));
    }

    #[test]
    fn names_a_clerk_writes_for_one_person_share_a_block() {
        let blocks = |n: &str| name_blocks(&normalize_name(n));
        let share = |a: &str, b: &str| blocks(a).iter().any(|x| blocks(b).contains(x));
        for (a, b) in [
            ("Hoàng Văn Thụ", "Thụ Hoàng Văn"),
            ("Hoàng Văn Thụ", "Hoàng Thụ"),
            ("Hoàng Văn Thụ", "Hoàng Đức Thụ"),
            ("Hoàng Văn Thụ", "Hoàng Văn Thuu"),
            ("Hoàng Văn Thụ", "Hoàng Văn Tuh"),
            ("Hoàng Văn Thụ", "Hoàng Văn Tu"),
            ("Hoàng Văn Thụ", "Hoang Văn Thụ"),
            ("Hoàng Văn Thụ", "Hoàg Văn Thụ"),
        ] {
            assert!(share(a, b), "{a} / {b}");
        }
        assert!(!share("Hoàng Văn Thụ", "Nông Thị Lan"));
        assert!(!share("Hoàng Văn Thụ", "Hoàng Văn Sơn"));
    }
}
