//! R4, the duplicate household check: how sure we are that two records are one household, and
//! why, in words a commune official reads. The database finds the candidates (trigram similarity
//! of the normalised names, `db::duplicates`); this module decides their level.

use serde::Serialize;

/// How sure the match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Level {
    /// Same CCCD, or same household code in the same commune: refused.
    Certain,
    /// Same name in the same village, or a very similar one with a birth year within ±1:
    /// saving needs an explicit confirmation with a reason.
    Probable,
    /// A similar name elsewhere in the same commune: shown, nothing required.
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

/// Similarity thresholds (pg_trgm `similarity` of normalised names, 0–1). Defaults chosen on
/// the labelled set `tests/data/name-pairs.csv` (`giupdo dedupe evaluate`; README).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub probable: f32,
    pub possible: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            probable: 0.55,
            possible: 0.45,
        }
    }
}

impl Thresholds {
    /// From `GIUPDO_DUP_PROBABLE` and `GIUPDO_DUP_POSSIBLE`, else the defaults.
    pub fn from_env() -> Thresholds {
        let d = Thresholds::default();
        let read = |name: &str, default: f32| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<f32>().ok())
                .filter(|v| (0.0..=1.0).contains(v))
                .unwrap_or(default)
        };
        Thresholds {
            probable: read("GIUPDO_DUP_PROBABLE", d.probable),
            possible: read("GIUPDO_DUP_POSSIBLE", d.possible),
        }
    }
}

/// What is known of the record being entered and of one registry candidate.
#[derive(Debug, Clone)]
pub struct Pair<'a> {
    pub same_cccd: bool,
    pub same_household_code: bool,
    pub same_village: bool,
    pub same_name_key: bool,
    pub similarity: f32,
    pub birth_years: (Option<i32>, Option<i32>),
    pub other_village: &'a str,
}

/// The level of a candidate and the reasons, or `None` when it is no match.
pub fn classify(p: &Pair<'_>, t: Thresholds) -> Option<(Level, Vec<String>)> {
    let mut reasons = Vec::new();
    if p.same_cccd {
        reasons.push("Trùng số CCCD".to_string());
    }
    if p.same_household_code {
        reasons.push("Trùng mã hộ nghèo trong cùng xã".to_string());
    }
    if !reasons.is_empty() {
        return Some((Level::Certain, reasons));
    }
    let pct = format!("{:.0}%", p.similarity * 100.0);
    let birth_close = match p.birth_years {
        (Some(a), Some(b)) => (a - b).abs() <= 1,
        _ => true,
    };
    let birth_note = match p.birth_years {
        (Some(a), Some(b)) if a == b => format!(", cùng năm sinh {a}"),
        (Some(a), Some(b)) if birth_close => format!(", năm sinh {a} và {b} (lệch 1 năm)"),
        (Some(a), Some(b)) => format!(", nhưng năm sinh khác nhau ({a} và {b})"),
        _ => String::new(),
    };
    if p.same_village && p.same_name_key && birth_close {
        return Some((
            Level::Probable,
            vec![format!(
                "Cùng họ tên chủ hộ (không tính dấu, hoa thường) trong cùng thôn{birth_note}"
            )],
        ));
    }
    if p.same_village && p.similarity >= t.probable && birth_close {
        return Some((
            Level::Probable,
            vec![format!(
                "Họ tên rất giống (giống {pct}) trong cùng thôn{birth_note}"
            )],
        ));
    }
    if p.similarity >= t.possible {
        let place = if p.same_village {
            "cùng thôn".to_string()
        } else {
            format!("{} cùng xã", p.other_village)
        };
        return Some((
            Level::Possible,
            vec![format!(
                "Họ tên gần giống (giống {pct}) ở {place}{birth_note}"
            )],
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> Pair<'static> {
        Pair {
            same_cccd: false,
            same_household_code: false,
            same_village: true,
            same_name_key: false,
            similarity: 0.0,
            birth_years: (None, None),
            other_village: "Thôn Nà Pàn",
        }
    }

    #[test]
    fn each_level_with_its_reason() {
        let t = Thresholds::default();
        let (l, r) = classify(
            &Pair {
                same_cccd: true,
                ..pair()
            },
            t,
        )
        .unwrap();
        assert_eq!((l, r[0].as_str()), (Level::Certain, "Trùng số CCCD"));
        let (l, _) = classify(
            &Pair {
                same_household_code: true,
                ..pair()
            },
            t,
        )
        .unwrap();
        assert_eq!(l, Level::Certain);
        let (l, r) = classify(
            &Pair {
                same_name_key: true,
                similarity: 1.0,
                birth_years: (Some(1985), Some(1985)),
                ..pair()
            },
            t,
        )
        .unwrap();
        assert_eq!(l, Level::Probable);
        assert!(r[0].contains("cùng năm sinh 1985"), "{r:?}");
        let (l, r) = classify(
            &Pair {
                similarity: 0.8,
                birth_years: (Some(1985), Some(1986)),
                ..pair()
            },
            t,
        )
        .unwrap();
        assert_eq!(l, Level::Probable);
        assert!(
            r[0].contains("giống 80%") && r[0].contains("lệch 1 năm"),
            "{r:?}"
        );
        // Same name, same village, birth years far apart: two people, shown only as possible.
        let (l, r) = classify(
            &Pair {
                same_name_key: true,
                similarity: 1.0,
                birth_years: (Some(1950), Some(1990)),
                ..pair()
            },
            t,
        )
        .unwrap();
        assert_eq!(l, Level::Possible);
        assert!(r[0].contains("năm sinh khác nhau"));
        let (l, r) = classify(
            &Pair {
                same_village: false,
                similarity: 0.9,
                ..pair()
            },
            t,
        )
        .unwrap();
        assert_eq!(l, Level::Possible);
        assert!(r[0].contains("Thôn Nà Pàn cùng xã"));
        assert!(
            classify(
                &Pair {
                    similarity: 0.2,
                    ..pair()
                },
                t
            )
            .is_none()
        );
    }
}
