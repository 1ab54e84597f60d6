//! R4, the duplicate household check: how sure we are that two records are one household, and
//! why, in words a commune official reads. The database finds the candidates (trigram similarity
//! of the normalised names, `db::duplicates`); this module decides their level.

use serde::Serialize;

use super::text::normalize_name;

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

/// How two heads of household's names compare, word by word — what a person checks first,
/// where trigram similarity alone mixes typos up with namesakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameMatch {
    /// The same words (ignoring case, diacritics, punctuation and their order).
    Same,
    /// The same family and given name; the middle name differs or is missing ("Thị").
    MiddleDiffers,
    /// One word differs by a typo: a letter dropped, doubled, swapped or replaced.
    Typo,
    /// Another name by its spelling: one word differs in more than a typo ("Thu" and "Thuận"),
    /// or only by its tone marks while both are written with them ("Lan" and "Lân").
    Namesake,
    /// Nothing of the above (the trigram similarity still decides "possible").
    Other,
}

/// One edit apart at most: a letter dropped, added, replaced, or two neighbours swapped (optimal
/// string alignment distance, `strsim`).
fn osa_at_most_one(a: &str, b: &str) -> bool {
    strsim::osa_distance(a, b) <= 1
}

/// Two words, written with marks on both sides, of which one is the other with a Vietnamese
/// ending added — "Nga" and "Ngân", "Hà" and "Hải": two given names, not a typo. A doubled last
/// letter ("Thuu") is a typo.
fn another_ending(x: &str, y: &str, both_marked: bool) -> bool {
    const ENDINGS: &[&str] = &[
        "n", "ng", "nh", "m", "c", "ch", "t", "p", "i", "y", "u", "o",
    ];
    if !both_marked {
        return false;
    }
    let (short, long) = if x.len() < y.len() { (x, y) } else { (y, x) };
    match long.strip_prefix(short) {
        // The shorter must be a syllable itself (a vowel in it): "Ch" for "Chu" is a typo.
        Some(tail) if !tail.is_empty() => {
            ENDINGS.contains(&tail)
                && !short.ends_with(tail)
                && short.chars().any(|c| "aeiouy".contains(c))
        }
        _ => false,
    }
}

/// Does `s` carry Vietnamese tone or vowel marks (or đ)?
fn has_marks(s: &str) -> bool {
    s.chars().any(|c| !c.is_ascii() && c.is_alphabetic())
}

/// Compare two names as typed.
pub fn compare_names(a: &str, b: &str) -> NameMatch {
    let (ka, kb) = (normalize_name(a), normalize_name(b));
    let (wa, wb): (Vec<&str>, Vec<&str>) = (ka.split(' ').collect(), kb.split(' ').collect());
    if ka.is_empty() || kb.is_empty() {
        return NameMatch::Other;
    }
    // The words with their marks: NFC, lower case, anything else a separator (as normalize_name).
    let lower = |s: &str| -> Vec<String> {
        let spaced: String = super::text::clean(s)
            .chars()
            .flat_map(char::to_lowercase)
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect();
        spaced.split_whitespace().map(str::to_string).collect()
    };
    let mut sa = wa.clone();
    let mut sb = wb.clone();
    sa.sort_unstable();
    sb.sort_unstable();
    if sa == sb {
        // Written with marks on both sides, words equal but for their marks are two names.
        if has_marks(a) && has_marks(b) {
            let (la, lb) = (lower(a), lower(b));
            let mut la_sorted = la.clone();
            let mut lb_sorted = lb.clone();
            la_sorted.sort_unstable();
            lb_sorted.sort_unstable();
            if la_sorted != lb_sorted {
                return NameMatch::Namesake;
            }
        }
        return NameMatch::Same;
    }
    if wa.len() >= 2 && wb.len() >= 2 && wa[0] == wb[0] && wa.last() == wb.last() {
        return NameMatch::MiddleDiffers;
    }
    if wa.len() == wb.len() {
        let differing: Vec<(&str, &str)> = wa
            .iter()
            .zip(&wb)
            .filter(|(x, y)| x != y)
            .map(|(x, y)| (*x, *y))
            .collect();
        if let [(x, y)] = differing.as_slice() {
            return if osa_at_most_one(x, y) && !another_ending(x, y, has_marks(a) && has_marks(b)) {
                NameMatch::Typo
            } else {
                NameMatch::Namesake
            };
        }
    }
    NameMatch::Other
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
    /// Both genders are known and differ.
    pub different_gender: bool,
    /// The names word by word ([`compare_names`]).
    pub names: NameMatch,
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
            different_gender: false,
            names: NameMatch::Other,
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
    // Probable: the same name, or one a clerk would write for it (a middle name left out, a typo
    // in one word) — not a namesake whose given name is another word — born within a year, with
    // nothing on paper (identity numbers, gender) telling the two apart. Name similarity alone no
    // longer makes a pair probable: it mixed namesakes ("Thu" and "Thuận") and other names
    // ("Hoàng Thị Vân" for "Hoàng Văn Thụ", 75 % alike) with typos, and on the labelled set it
    // found no true duplicate the word rules miss.
    let name_close = matches!(
        p.names,
        NameMatch::Same | NameMatch::MiddleDiffers | NameMatch::Typo
    );
    if same_village && name_close && birth_close && !p.different_ids && !p.different_gender {
        let what = match p.names {
            NameMatch::Same => "Cùng họ tên chủ hộ (không tính dấu, hoa thường)".to_string(),
            NameMatch::MiddleDiffers => "Cùng họ và tên, khác hoặc thiếu tên đệm".to_string(),
            NameMatch::Typo => format!("Họ tên chỉ khác một chữ cái (giống {pct})"),
            _ => format!("Họ tên rất giống (giống {pct})"),
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
    let gender_note = if p.different_gender {
        ", nhưng khác giới tính"
    } else {
        ""
    };
    let name_like = matches!(
        p.names,
        NameMatch::Same | NameMatch::MiddleDiffers | NameMatch::Typo
    );
    if p.same_name_key || p.similarity >= t.possible || name_like {
        let what = if p.same_name_key {
            "Cùng họ tên".to_string()
        } else {
            format!("Họ tên gần giống (giống {pct})")
        };
        return Some((
            Level::Possible,
            vec![format!(
                "{what} ở {place}{birth_note}{ids_note}{gender_note}"
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
                names: NameMatch::Same,
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
                names: NameMatch::Typo,
                birth_years: (Some(1985), Some(1986)),
                ..pair()
            },
            t,
        )
        .unwrap();
        assert_eq!(l, Level::Probable);
        // As alike, but by its words another name: no longer probable.
        let (l, _) = classify(
            &Pair {
                similarity: 0.8,
                birth_years: (Some(1985), Some(1986)),
                ..pair()
            },
            t,
        )
        .unwrap();
        assert_eq!(l, Level::Possible);
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

    #[test]
    fn names_compare_word_by_word() {
        use NameMatch::*;
        for (a, b, want) in [
            ("Hoàng Văn Thụ", "HOANG VAN THU", Same),
            ("Hoàng Văn Thụ", "Thụ Hoàng Văn", Same),
            ("Nông Thị Lan", "Nông Lan", MiddleDiffers),
            ("Hoàng Văn Thụ", "Hoàng Văn Thuu", Typo),
            ("Hoàng Văn Thụ", "Hoàng Văn Tuh", Typo),
            ("Hoàng Văn Thu", "Hoàng Văn Thuận", Namesake),
            ("Nông Thị Lan", "Nông Thị Lân", Namesake),
            ("Mông Thu Nga", "Mông Thu Ngân", Namesake),
            ("Triệu Đức Hải", "Triệu Đức Hà", Namesake),
            ("Hoàng Văn Thụ", "Hoàng Văn Thụụ", Typo),
            ("Chu Thị Mai", "Ch Thị Mai", Typo),
            ("Nông Thị Lan", "Nong Thi Lan", Same),
            ("Lý Văn Phúc", "  Lý  Văn-Phúc. ", Same),
            ("Hoàng Văn Thụ", "Lý Thị Mai", Other),
        ] {
            assert_eq!(compare_names(a, b), want, "{a} / {b}");
        }
    }

    #[test]
    fn a_namesake_or_another_gender_in_the_same_village_and_year_is_only_possible() {
        let t = Thresholds::default();
        let namesake = Pair {
            names: NameMatch::Namesake,
            similarity: 0.7,
            birth_years: (Some(1985), Some(1985)),
            ..pair()
        };
        assert_eq!(classify(&namesake, t).unwrap().0, Level::Possible);
        let woman = Pair {
            names: NameMatch::Same,
            same_name_key: true,
            similarity: 1.0,
            different_gender: true,
            ..pair()
        };
        let (l, r) = classify(&woman, t).unwrap();
        assert_eq!(l, Level::Possible);
        assert!(r[0].contains("khác giới tính"));
    }

    #[test]
    fn identity_numbers_and_communes_cap_name_matches_at_possible() {
        let t = Thresholds::default();
        let twin = Pair {
            same_name_key: true,
            names: NameMatch::Same,
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
