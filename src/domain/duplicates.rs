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
    /// The same CCCD on both.
    pub same_cccd: bool,
    /// The same old 9-digit identity card number (CMND) on both.
    pub same_old_id: bool,
    /// The same household code; it identifies a household only within one commune.
    pub same_household_code: bool,
    /// Both in the same commune (a household code, a village, mean something only within one).
    pub same_commune: bool,
    pub same_village: bool,
    pub same_name_key: bool,
    pub similarity: f32,
    pub birth_years: (Option<i32>, Option<i32>),
    /// Both carry a valid identity number and the numbers differ: by their papers, two people.
    pub different_ids: bool,
    /// Village of the candidate, and its commune's name when it is another commune.
    pub other_village: &'a str,
    pub other_commune: &'a str,
}

impl Default for Pair<'_> {
    fn default() -> Self {
        Pair {
            same_cccd: false,
            same_old_id: false,
            same_household_code: false,
            same_commune: true,
            same_village: false,
            same_name_key: false,
            similarity: 0.0,
            birth_years: (None, None),
            different_ids: false,
            other_village: "",
            other_commune: "",
        }
    }
}

/// The level of a candidate and the reasons, or `None` when it is no match. The one
/// classification: the household form, the import, the duplicate search, the scan and the
/// history import all call it.
///
/// - *certain*: the same identity number anywhere, or the same household code in the same commune;
/// - *probable*: the same or a very similar name in the same village, born within a year, with no
///   identity numbers that tell them apart;
/// - *possible*: a similar name otherwise — another village, another commune, birth years far
///   apart, or two different valid CCCDs ("khác số CCCD") — shown, never blocking.
pub fn classify(p: &Pair<'_>, t: Thresholds) -> Option<(Level, Vec<String>)> {
    let mut reasons = Vec::new();
    if p.same_cccd {
        reasons.push("Trùng số CCCD".to_string());
    }
    if p.same_old_id {
        reasons.push("Trùng số CMND cũ".to_string());
    }
    if p.same_household_code && p.same_commune {
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
    let ids_note = if p.different_ids {
        ", nhưng khác số CCCD"
    } else {
        ""
    };
    let same_village = p.same_commune && p.same_village;
    let name_close = p.same_name_key || p.similarity >= t.probable;
    if same_village && name_close && birth_close && !p.different_ids {
        let what = if p.same_name_key {
            "Cùng họ tên chủ hộ (không tính dấu, hoa thường)".to_string()
        } else {
            format!("Họ tên rất giống (giống {pct})")
        };
        return Some((
            Level::Probable,
            vec![format!("{what} trong cùng thôn{birth_note}")],
        ));
    }
    let place = if same_village {
        "cùng thôn".to_string()
    } else if p.same_commune {
        format!("{} cùng xã", p.other_village)
    } else {
        format!("{}, {}", p.other_village, p.other_commune)
    };
    if p.same_household_code {
        return Some((
            Level::Possible,
            vec![format!(
                "Trùng mã hộ nghèo nhưng ở {place}: mã hộ chỉ là duy nhất trong một xã"
            )],
        ));
    }
    if p.same_name_key || p.similarity >= t.possible {
        let what = if p.same_name_key {
            "Cùng họ tên".to_string()
        } else {
            format!("Họ tên gần giống (giống {pct})")
        };
        return Some((
            Level::Possible,
            vec![format!("{what} ở {place}{birth_note}{ids_note}")],
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> Pair<'static> {
        Pair {
            same_village: true,
            other_village: "Thôn Nà Pàn",
            other_commune: "Xã Hoa Thám",
            ..Pair::default()
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

    #[test]
    fn identity_numbers_and_communes_cap_name_matches_at_possible() {
        let t = Thresholds::default();
        let twin = Pair {
            same_name_key: true,
            similarity: 1.0,
            birth_years: (Some(1985), Some(1985)),
            ..pair()
        };
        assert_eq!(classify(&twin, t).unwrap().0, Level::Probable);
        // Two different valid CCCDs: different people by their papers.
        let (l, r) = classify(
            &Pair {
                different_ids: true,
                ..twin.clone()
            },
            t,
        )
        .unwrap();
        assert_eq!(l, Level::Possible);
        assert!(r[0].contains("khác số CCCD"), "{r:?}");
        // Another commune: possible at most, and its household code means nothing here.
        let (l, r) = classify(
            &Pair {
                same_commune: false,
                same_household_code: true,
                ..twin.clone()
            },
            t,
        )
        .unwrap();
        assert_eq!(l, Level::Possible);
        assert!(r[0].contains("Thôn Nà Pàn, Xã Hoa Thám"), "{r:?}");
        // A household code alone, in another commune: shown, not certain.
        let (l, r) = classify(
            &Pair {
                same_commune: false,
                same_household_code: true,
                similarity: 0.1,
                ..pair()
            },
            t,
        )
        .unwrap();
        assert_eq!(l, Level::Possible);
        assert!(r[0].contains("mã hộ chỉ là duy nhất trong một xã"), "{r:?}");
        // ...but the same CCCD is certain anywhere.
        let (l, _) = classify(
            &Pair {
                same_commune: false,
                same_cccd: true,
                ..twin
            },
            t,
        )
        .unwrap();
        assert_eq!(l, Level::Certain);
    }
}
