//! Field by field: how two records agree, as the agreement levels of the Fellegi–Sunter model
//! (`model`). Names are compared word by word in their canonical spelling
//! (`domain::text::canonical_words`): the tone placement and NFC/NFD never make two words differ.

use serde::{Deserialize, Serialize};

use super::spelling::{decode_keyboard, other_ending, slip};
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
        assert!(
            super::super::spelling::syllable("nguyen")
                && super::super::spelling::syllable("slao")
                && super::super::spelling::syllable("khuong")
        );
        assert!(
            !super::super::spelling::syllable("hng")
                && !super::super::spelling::syllable("hunf")
                && !super::super::spelling::syllable("hoangf")
        );
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
