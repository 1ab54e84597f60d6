//! How Vietnamese words are mistyped, read by the comparison (`compare`): a slip of the hand
//! against another name one letter away, another ending, and a word typed in Telex or VNI with
//! the input method off.

use unicode_normalization::UnicodeNormalization;

use crate::domain::text::{Word, canonical_words};

/// One edit that a hand slipping makes, not another name: two neighbours swapped, a letter
/// doubled, or a result that is no Vietnamese syllable at all ("hng", "hunf"). "Hùng" and
/// "Dũng" are one edit apart too, and both are names.
pub(super) fn slip(a: &str, b: &str) -> bool {
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
pub(super) fn other_ending(x: &str, y: &str) -> bool {
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
