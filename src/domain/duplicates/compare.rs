//! Field by field: how two records agree, as the agreement levels of the Fellegi–Sunter model
//! (`model`). Names are compared word by word in their canonical spelling
//! (`domain::text::canonical_words`): the tone placement and NFC/NFD never make two words differ.

use serde::{Deserialize, Serialize};

use unicode_normalization::UnicodeNormalization;

use crate::domain::text::{Word, canonical_words, village_key};

/// The fields the model weighs, each with its agreement levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Field {
    Surname,
    Middle,
    Given,
    Order,
    BirthYear,
    Gender,
    Village,
    Cccd,
    OldId,
    HouseholdCode,
}

impl Field {
    pub const ALL: [Field; 10] = [
        Field::Surname,
        Field::Middle,
        Field::Given,
        Field::Order,
        Field::BirthYear,
        Field::Gender,
        Field::Village,
        Field::Cccd,
        Field::OldId,
        Field::HouseholdCode,
    ];

    /// Its levels, best agreement first; a level named in [`Field::NULL_LEVELS`] says "nothing
    /// to compare" and weighs 0.
    pub fn levels(self) -> &'static [&'static str] {
        match self {
            Field::Surname | Field::Given => &[
                "equal",
                "equal_but_marks",
                "slip",
                "one_edit",
                "other_ending",
                "different",
                "missing",
            ],
            Field::Middle => &[
                "equal",
                "equal_but_marks",
                "slip",
                "one_edit",
                "other_ending",
                "different",
                "one_missing",
                "both_missing",
            ],
            Field::Order => &["same", "other"],
            Field::BirthYear => &["equal", "one_apart", "two_to_five", "far", "unknown"],
            Field::Gender => &["equal", "different", "unknown"],
            Field::Village => &["same_village", "same_commune", "other_commune", "unknown"],
            Field::Cccd | Field::OldId => &["equal", "different_valid", "missing"],
            Field::HouseholdCode => &["equal_in_commune", "different", "missing"],
        }
    }

    /// Does this level say the field could not be compared (weight 0)?
    pub fn is_null(self, level: u8) -> bool {
        matches!(
            (self, self.levels()[level as usize]),
            (Field::Surname | Field::Given, "missing")
                | (_, "unknown")
                | (Field::Cccd | Field::OldId | Field::HouseholdCode, "missing")
        )
    }

    /// The name words whose exact agreement is weighed by how common the word is.
    pub fn term_frequency_part(self) -> Option<i16> {
        match self {
            Field::Surname => Some(0),
            Field::Middle => Some(1),
            Field::Given => Some(2),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Field::Surname => "surname",
            Field::Middle => "middle",
            Field::Given => "given",
            Field::Order => "order",
            Field::BirthYear => "birth_year",
            Field::Gender => "gender",
            Field::Village => "village",
            Field::Cccd => "cccd",
            Field::OldId => "old_id",
            Field::HouseholdCode => "household_code",
        }
    }

    /// Its name for a Vietnamese reader.
    pub fn label(self) -> &'static str {
        match self {
            Field::Surname => "Họ",
            Field::Middle => "Tên đệm",
            Field::Given => "Tên",
            Field::Order => "Thứ tự họ tên",
            Field::BirthYear => "Năm sinh",
            Field::Gender => "Giới tính",
            Field::Village => "Thôn",
            Field::Cccd => "CCCD",
            Field::OldId => "CMND",
            Field::HouseholdCode => "Mã hộ",
        }
    }
}

/// One record as the classifier sees it: the one being typed, or a registry household.
#[derive(Debug, Clone, Default)]
pub struct Record<'a> {
    pub head_name: &'a str,
    /// Commune code; `None` when unknown (a search typed without one).
    pub commune: Option<&'a str>,
    /// The commune's name, for the explanation.
    pub commune_name: &'a str,
    /// The village as written; compared by its key (`village_key`).
    pub village: Option<&'a str>,
    pub birth_year: Option<i32>,
    /// "male" / "female".
    pub gender: Option<&'a str>,
    /// A CCCD as read by `IdNumber::read` (12 digits).
    pub cccd: Option<&'a str>,
    /// An old CMND (9 digits).
    pub old_id: Option<&'a str>,
    pub household_code: Option<&'a str>,
}

/// A field's level for one pair, with what the explanation names.
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    pub field: Field,
    pub level: u8,
    /// The canonical word whose frequency adjusts an exact name agreement.
    pub tf_word: Option<String>,
    /// The two values as typed (for the explanation), when they say something.
    pub values: (String, String),
}

/// The words of a name split the way a Vietnamese name is read: family name, middle name(s),
/// given name. A single word is a given name.
#[derive(Debug, Clone, Default)]
struct NameParts {
    surname: Option<Word>,
    middle: Vec<Word>,
    given: Option<Word>,
    /// The words as typed, for the explanation (same split).
    shown: (String, String, String),
}

fn split_name(words: &[Word], shown: &[String]) -> NameParts {
    match words.len() {
        0 => NameParts::default(),
        1 => NameParts {
            given: Some(words[0].clone()),
            shown: (String::new(), String::new(), shown[0].clone()),
            ..NameParts::default()
        },
        n => NameParts {
            surname: Some(words[0].clone()),
            middle: words[1..n - 1].to_vec(),
            given: Some(words[n - 1].clone()),
            shown: (
                shown[0].clone(),
                shown[1..n - 1].join(" "),
                shown[n - 1].clone(),
            ),
        },
    }
}

/// The words as typed (NFC), split like [`canonical_words`] for the explanation.
fn shown_words(s: &str, n: usize) -> Vec<String> {
    let clean = crate::domain::text::clean(s);
    let mut out: Vec<String> = clean
        .split(|c: char| !(c.is_alphanumeric()))
        .filter(|w| w.chars().any(|c| c.is_alphanumeric()))
        .map(str::to_string)
        .collect();
    // Exotic input may split otherwise: fall back to the canonical words themselves.
    if out.len() != n {
        out = canonical_words(s).iter().map(Word::canonical).collect();
    }
    out
}

/// The level of two words, without their frequency. `marks_unknown`: one of the two names is
/// written entirely without marks, so its words say nothing about marks — equal letters are the
/// same word (the whole name typed on a keyboard without Vietnamese is one choice, not one
/// error per word).
pub fn word_level(a: &Word, b: &Word, marks_unknown: bool) -> u8 {
    if a == b {
        return 0;
    }
    let (pa, pb) = (a.plain(), b.plain());
    if pa == pb {
        return if marks_unknown { 0 } else { 1 };
    }
    // A word typed with the input method off: its Telex or VNI keys read back as marks.
    let decoded = |w: &Word| {
        if w.has_marks() {
            None
        } else {
            decode_keyboard(&w.base)
        }
    };
    if let Some(da) = decoded(a)
        && (da == *b || (marks_unknown && da.plain() == pb))
    {
        return 1;
    }
    if let Some(db) = decoded(b)
        && (db == *a || (marks_unknown && db.plain() == pa))
    {
        return 1;
    }
    // Another ending with other marks is another name (Nga/Ngân, Hà/Hải, Thu/Thuận); the same
    // marks with a letter fewer is a slip of the hand (Lân/Lâ).
    let marks = |w: &Word| {
        (
            w.tones.clone(),
            w.base.chars().filter(|c| !c.is_ascii()).collect::<String>(),
        )
    };
    if other_ending(pa, pb) && marks(a) != marks(b) {
        return 4;
    }
    if strsim::osa_distance(pa, pb) <= 1 {
        return if slip(pa, pb) { 2 } else { 3 };
    }
    5
}

/// One edit that a hand slipping makes, not another name: two neighbours swapped, a letter
/// doubled, or a result that is no Vietnamese syllable at all ("hng", "hunf"). "Hùng" and
/// "Dũng" are one edit apart too, and both are names.
fn slip(a: &str, b: &str) -> bool {
    let (x, y): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let swapped = x.len() == y.len() && {
        let diff: Vec<usize> = (0..x.len()).filter(|i| x[*i] != y[*i]).collect();
        diff.len() == 2
            && diff[1] == diff[0] + 1
            && x[diff[0]] == y[diff[1]]
            && x[diff[1]] == y[diff[0]]
    };
    let doubled = |short: &[char], long: &[char]| {
        long.len() == short.len() + 1
            && (1..long.len()).any(|i| {
                long[i] == long[i - 1] && {
                    let mut l = long.to_vec();
                    l.remove(i);
                    l == short
                }
            })
    };
    swapped || doubled(&x, &y) || doubled(&y, &x) || !syllable(a) || !syllable(b)
}

/// A Vietnamese (or Tày, Nùng) syllable without marks: an initial consonant (or none), vowels,
/// a final consonant (or none).
pub fn syllable(w: &str) -> bool {
    const INITIALS: &[&str] = &[
        "ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr", "sl", "b", "c", "d",
        "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
    ];
    const FINALS: &[&str] = &["ch", "ng", "nh", "c", "m", "n", "p", "t", ""];
    INITIALS.iter().any(|i| {
        w.strip_prefix(i).is_some_and(|rest| {
            let vowels = rest.chars().take_while(|c| "aeiouy".contains(*c)).count();
            (1..=3).contains(&vowels) && FINALS.contains(&&rest[vowels..])
        })
    })
}

/// The name key (as `normalize_name`) of a name whose unmarked words are read back from Telex or
/// VNI keys ("DDawngj Thị Thủy" → "dang thi thuy"): the retrieval also looks for it, since such a
/// name shares too few trigrams with the one meant.
pub fn decoded_key(name: &str) -> String {
    canonical_words(name)
        .iter()
        .map(|w| {
            if w.has_marks() {
                w.plain().to_string()
            } else {
                decode_keyboard(&w.base)
                    .map(|d| d.plain().to_string())
                    .unwrap_or_else(|| w.plain().to_string())
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A word typed in Telex or VNI with the input method off ("hoangf", "dduwcs", "hoa2ng",
/// "d9u71c"), read back into its marks; `None` when it holds no such keys. Only keys that cannot
/// be Vietnamese letters there are read: a tone key (s f r x j) after the vowel, doubled vowels
/// and w, dd, and digits.
pub fn decode_keyboard(s: &str) -> Option<Word> {
    if !s.is_ascii() {
        return None;
    }
    let chars: Vec<char> = s.chars().collect();
    let first_vowel = chars.iter().position(|c| "aeiouy".contains(*c))?;
    let mut out: Vec<char> = Vec::new();
    let mut tones = String::new();
    let mut used = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let mark = |out: &mut Vec<char>, from: &[char], to: char| -> bool {
            match out.iter().rposition(|x| from.contains(x)) {
                Some(p) => {
                    out[p] = to;
                    true
                }
                None => false,
            }
        };
        match c {
            'd' if next == Some('d') && i == 0 => {
                out.push('đ');
                used = true;
                i += 2;
                continue;
            }
            'd' if next == Some('9') => {
                out.push('đ');
                used = true;
                i += 2;
                continue;
            }
            'a' | 'e' | 'o' if next == Some(c) => {
                out.push(match c {
                    'a' => 'â',
                    'e' => 'ê',
                    _ => 'ô',
                });
                used = true;
                i += 2;
                continue;
            }
            'w' => {
                // uow → ươ; aw → ă; ow → ơ; uw → ư
                let done = if out.ends_with(&['u', 'o']) {
                    let n = out.len();
                    out[n - 2] = 'ư';
                    out[n - 1] = 'ơ';
                    true
                } else {
                    mark(&mut out, &['a'], 'ă')
                        || mark(&mut out, &['o'], 'ơ')
                        || mark(&mut out, &['u'], 'ư')
                };
                if !done {
                    return None;
                }
                used = true;
            }
            's' | 'f' | 'r' | 'x' | 'j' if i > first_vowel => {
                tones.push(match c {
                    's' => '1',
                    'f' => '2',
                    'r' => '3',
                    'x' => '4',
                    _ => '5',
                });
                used = true;
            }
            '1'..='5' if i > first_vowel => {
                tones.push(c);
                used = true;
            }
            '6' => {
                if !mark(&mut out, &['a', 'e', 'o'], '_') {
                    return None;
                }
                let p = out.iter().rposition(|x| *x == '_').unwrap_or_default();
                out[p] = match chars[..i].iter().rev().find(|x| "aeo".contains(**x)) {
                    Some('a') => 'â',
                    Some('e') => 'ê',
                    _ => 'ô',
                };
                used = true;
            }
            '7' => {
                if out.ends_with(&['u', 'o']) {
                    let n = out.len();
                    out[n - 2] = 'ư';
                    out[n - 1] = 'ơ';
                } else if !(mark(&mut out, &['o'], 'ơ') || mark(&mut out, &['u'], 'ư')) {
                    return None;
                }
                used = true;
            }
            '8' => {
                if !mark(&mut out, &['a'], 'ă') {
                    return None;
                }
                used = true;
            }
            c if c.is_ascii_digit() => return None,
            c => out.push(c),
        }
        i += 1;
    }
    if !used || tones.len() > 1 {
        return None;
    }
    Some(Word::new(
        out.into_iter().collect::<String>().nfc().collect(),
        tones,
    ))
}

/// One word is the other with a Vietnamese ending added — "nga" and "ngan", "thu" and "thuan",
/// "ha" and "hai": two given names, not a slip. A doubled last letter ("thuu") is a slip, and the
/// shorter must be a syllable itself (have a vowel: "ch" for "chu" is a slip).
fn other_ending(x: &str, y: &str) -> bool {
    const ENDINGS: &[&str] = &[
        "n", "ng", "nh", "m", "c", "ch", "t", "p", "i", "y", "u", "o",
    ];
    let (short, long) = if x.len() < y.len() { (x, y) } else { (y, x) };
    match long.strip_prefix(short) {
        Some(tail) if !tail.is_empty() => {
            short.chars().any(|c| "aeiouy".contains(c))
                && !short.ends_with(tail)
                && (ENDINGS.contains(&tail) || tail.chars().count() >= 2)
                && tail.chars().all(|c| c.is_ascii_lowercase())
        }
        _ => false,
    }
}

/// The name fields of one alignment of the two names.
fn name_agreements(a: &NameParts, b: &NameParts, marks_unknown: bool) -> [Agreement; 3] {
    let one = |field: Field, x: &Option<Word>, y: &Option<Word>, sx: &str, sy: &str| {
        let (level, tf) = match (x, y) {
            (Some(x), Some(y)) => {
                let l = word_level(x, y, marks_unknown);
                // Frequencies are the registry's spelling of the word (`b`).
                (l, (l <= 2).then(|| y.canonical()))
            }
            _ => (6, None),
        };
        Agreement {
            field,
            level,
            tf_word: tf,
            values: (sx.to_string(), sy.to_string()),
        }
    };
    let middle = {
        let (x, y) = (&a.middle, &b.middle);
        let (level, tf) = match (x.is_empty(), y.is_empty()) {
            (true, true) => (7, None),
            (true, false) | (false, true) => (6, None),
            _ => {
                let jx = join(x);
                let jy = join(y);
                let l = word_level(&jx, &jy, marks_unknown);
                let tf = y.iter().map(Word::canonical).collect::<Vec<_>>().join(" ");
                (l, (l <= 2).then_some(tf))
            }
        };
        Agreement {
            field: Field::Middle,
            level,
            tf_word: tf,
            values: (a.shown.1.clone(), b.shown.1.clone()),
        }
    };
    [
        one(
            Field::Surname,
            &a.surname,
            &b.surname,
            &a.shown.0,
            &b.shown.0,
        ),
        middle,
        one(Field::Given, &a.given, &b.given, &a.shown.2, &b.shown.2),
    ]
}

/// Several middle words compared as one ("Thị Mỹ"): their letters, and their tones in order.
fn join(ws: &[Word]) -> Word {
    match ws {
        [one] => one.clone(),
        _ => Word::new(
            ws.iter()
                .map(|w| w.base.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            ws.iter()
                .map(|w| w.tones.as_str())
                .collect::<Vec<_>>()
                .join("|"),
        ),
    }
}

/// How two records agree, field by field. The name is aligned as written and, when one of them
/// is written given-name-first ("Thụ Hoàng Văn"), rotated: `weigh` scores each alignment and the
/// best one is kept, with the order field saying which.
pub fn agreements(
    a: &Record<'_>,
    b: &Record<'_>,
    weigh: &dyn Fn(&[Agreement]) -> f64,
) -> Vec<Agreement> {
    let (wa, wb) = (canonical_words(a.head_name), canonical_words(b.head_name));
    let (sa, sb) = (
        shown_words(a.head_name, wa.len()),
        shown_words(b.head_name, wb.len()),
    );
    let pa = split_name(&wa, &sa);
    let marks_unknown = !wa.iter().any(Word::has_marks) || !wb.iter().any(Word::has_marks);
    let mut best: Option<(f64, Vec<Agreement>)> = None;
    let n = wb.len();
    let mut rotations: Vec<(u8, Vec<Word>, Vec<String>)> = vec![(0, wb.clone(), sb.clone())];
    if n >= 2 {
        for r in [1, n - 1] {
            let mut w = wb.clone();
            let mut s = sb.clone();
            w.rotate_left(r);
            s.rotate_left(r);
            rotations.push((1, w, s));
        }
    }
    for (order, w, s) in rotations {
        let pb = split_name(&w, &s);
        let mut list: Vec<Agreement> = name_agreements(&pa, &pb, marks_unknown).to_vec();
        list.push(Agreement {
            field: Field::Order,
            level: order,
            tf_word: None,
            values: Default::default(),
        });
        let score = weigh(&list);
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, list));
        }
    }
    let mut out = best.map(|(_, l)| l).unwrap_or_default();
    let year = match (a.birth_year, b.birth_year) {
        (Some(x), Some(y)) => match (x - y).abs() {
            0 => 0,
            1 => 1,
            2..=5 => 2,
            _ => 3,
        },
        _ => 4,
    };
    out.push(Agreement {
        field: Field::BirthYear,
        level: year,
        tf_word: None,
        values: (
            a.birth_year.map(|y| y.to_string()).unwrap_or_default(),
            b.birth_year.map(|y| y.to_string()).unwrap_or_default(),
        ),
    });
    out.push(Agreement {
        field: Field::Gender,
        level: match (a.gender, b.gender) {
            (Some(x), Some(y)) if x == y => 0,
            (Some(_), Some(_)) => 1,
            _ => 2,
        },
        tf_word: None,
        values: Default::default(),
    });
    let village = match (
        nonblank(a.village),
        nonblank(b.village),
        a.commune,
        b.commune,
    ) {
        (Some(_), Some(_), Some(x), Some(y)) if x != y => 2,
        (Some(x), Some(y), Some(_), Some(_)) => {
            if village_key(x) == village_key(y) {
                0
            } else {
                1
            }
        }
        _ => 3,
    };
    out.push(Agreement {
        field: Field::Village,
        level: village,
        tf_word: None,
        values: (
            a.village.unwrap_or_default().to_string(),
            b.village.unwrap_or_default().to_string(),
        ),
    });
    for (field, x, y) in [
        (Field::Cccd, a.cccd, b.cccd),
        (Field::OldId, a.old_id, b.old_id),
    ] {
        out.push(Agreement {
            field,
            level: match (x, y) {
                (Some(x), Some(y)) if x == y => 0,
                (Some(_), Some(_)) => 1,
                _ => 2,
            },
            tf_word: None,
            values: Default::default(),
        });
    }
    let same_commune = matches!((a.commune, b.commune), (Some(x), Some(y)) if x == y);
    out.push(Agreement {
        field: Field::HouseholdCode,
        level: match (nonblank(a.household_code), nonblank(b.household_code)) {
            (Some(x), Some(y)) if x == y && same_commune => 0,
            (Some(x), Some(y)) if x != y && same_commune => 1,
            _ => 2,
        },
        tf_word: None,
        values: Default::default(),
    });
    out
}

/// A value that says something: present, and not only spaces (trimmed).
pub fn nonblank(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(a: &str, b: &str) -> u8 {
        let (x, y) = (canonical_words(a), canonical_words(b));
        word_level(&x[0], &y[0], false)
    }

    #[test]
    fn words_compare_in_levels() {
        assert_eq!(level("Hòa", "Hoà"), 0);
        assert_eq!(level("Thủy", "THUỶ"), 0);
        assert_eq!(level("Lan", "Lân"), 1);
        assert_eq!(level("Đặng", "Dặng"), 1);
        assert_eq!(level("Hùng", "Hùgn"), 2);
        assert_eq!(level("Hùng", "Hùngg"), 2);
        assert_eq!(level("Hùng", "Hùnf"), 2);
        assert_eq!(level("Hùng", "Dũng"), 3);
        assert_eq!(level("Hoàng", "Hoangf"), 1);
        assert_eq!(level("Hoàng", "Hoa2ng"), 1);
        assert_eq!(level("Hoàng", "hoang2"), 1);
        assert_eq!(level("Đức", "DDuwcs"), 1);
        assert_eq!(level("Đức", "D9u71c"), 1);
        assert_eq!(level("Văn", "Vawn"), 1);
        assert_eq!(level("Nguyễn", "Nguyeenx"), 1);
        assert_eq!(level("Hoàng", "Hoangs"), 2);
        assert!(super::syllable("nguyen") && super::syllable("slao") && super::syllable("khuong"));
        assert!(!super::syllable("hng") && !super::syllable("hunf") && !super::syllable("hoangf"));
        assert_eq!(level("Thụ", "Thuu"), 2);
        assert_eq!(level("Chu", "Ch"), 2);
        assert_eq!(level("Nga", "Ngân"), 4);
        assert_eq!(level("Thu", "Thuận"), 4);
        assert_eq!(level("Sơn", "Sang"), 5);
    }

    #[test]
    fn a_name_written_given_name_first_is_aligned_and_said_so() {
        let a = Record {
            head_name: "Hoàng Văn Thụ",
            ..Record::default()
        };
        let b = Record {
            head_name: "Thụ Hoàng Văn",
            ..Record::default()
        };
        // Any weighing that prefers equal words finds the rotation.
        let weigh = |l: &[Agreement]| l.iter().filter(|x| x.level == 0).count() as f64;
        let got = agreements(&a, &b, &weigh);
        let of = |f: Field| got.iter().find(|x| x.field == f).unwrap().level;
        assert_eq!(
            (of(Field::Surname), of(Field::Middle), of(Field::Given)),
            (0, 0, 0)
        );
        assert_eq!(of(Field::Order), 1);
    }
}
