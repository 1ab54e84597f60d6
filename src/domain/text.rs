//! The one normalisation of names, mirrored in SQL by `normalize_name()` (migration 0001):
//! lower case, diacritics removed (đ→d, every tone and vowel mark), punctuation dropped, spaces
//! collapsed and trimmed. "  Hoàng  Văn Thụ " and "HOANG VAN THU" both become "hoang van thu".

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

pub fn normalize_name(s: &str) -> String {
    let folded: String = s
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            // Ð and ð look like Đ and đ and are pasted for them; unaccent folds them to d too.
            'đ' | 'Đ' | 'Ð' | 'ð' => 'd',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                ' '
            }
        })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The five Vietnamese tone marks as combining characters (NFD), in the order of their digit in
/// the canonical spelling: sắc 1, huyền 2, hỏi 3, ngã 4, nặng 5 (the digits VNI typists use).
const TONES: [char; 5] = ['\u{0301}', '\u{0300}', '\u{0309}', '\u{0303}', '\u{0323}'];

/// One word of a name in its canonical spelling: its letters with their vowel marks (ă â ê ô ơ
/// ư đ, NFC) and, apart, its tone. Where a keyboard puts the tone mark — "hoà" or "hòa", "thuỷ"
/// or "thủy" — and whether the text came composed or decomposed no longer matters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Word {
    /// The letters with their vowel marks, lower case, NFC.
    pub base: String,
    /// The tone digits (1–5), sorted; empty for the level tone.
    pub tones: String,
    /// Without any mark (computed once: the classifier compares it many times).
    plain: String,
}

impl Word {
    /// The canonical spelling: letters, then the tone digit ("hoang2" for Hoàng).
    pub fn canonical(&self) -> String {
        format!("{}{}", self.base, self.tones)
    }
    /// A word from its letters (with vowel marks) and tone digits.
    pub fn new(base: String, tones: String) -> Word {
        let plain = base
            .nfd()
            .filter(|c| !is_combining_mark(*c))
            .map(|c| if c == 'đ' { 'd' } else { c })
            .collect();
        Word { base, tones, plain }
    }

    /// Without any mark: the word as the stored name key writes it ("hoang").
    pub fn plain(&self) -> &str {
        &self.plain
    }
    /// Marked at all (a tone or a vowel mark, or đ)?
    pub fn has_marks(&self) -> bool {
        !self.tones.is_empty() || !self.base.is_ascii()
    }
}

/// A name's words in their canonical spelling. Every character is first decomposed (NFD), the
/// look-alikes of Đ (Ð, ð) read as đ, ASCII lower-cased; a word is a run of a–z, 0–9, đ and
/// combining marks, anything else separates words; a word without a letter or digit is dropped.
/// Mirrored in SQL by `canonical_name()` (migration 0028; a test proves they agree).
pub fn canonical_words(s: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut Vec<Word>| {
        if cur.is_empty() {
            return;
        }
        let mut tones: Vec<char> = Vec::new();
        let mut base = String::new();
        for c in cur.chars() {
            match TONES.iter().position(|t| *t == c) {
                Some(i) => tones.push(char::from(b'1' + i as u8)),
                None => base.push(c),
            }
        }
        cur.clear();
        if !base.chars().any(|c| c.is_ascii_alphanumeric() || c == 'đ') {
            return;
        }
        tones.sort_unstable();
        tones.dedup();
        out.push(Word::new(base.nfc().collect(), tones.into_iter().collect()));
    };
    for c in s.nfd() {
        let c = match c {
            'Đ' | 'Ð' | 'ð' => 'đ',
            c => c.to_ascii_lowercase(),
        };
        let is_word = c.is_ascii_lowercase()
            || c.is_ascii_digit()
            || c == 'đ'
            || ('\u{0300}'..='\u{036F}').contains(&c);
        if is_word {
            cur.push(c);
        } else {
            flush(&mut cur, &mut out);
        }
    }
    flush(&mut cur, &mut out);
    out
}

/// The canonical spelling of a name: its [`canonical_words`] joined by one space.
/// "Hoàng Thị Hoà", "HOÀNG THỊ HÒA" and its NFD form all give "hoang2 thi5 hoa2"; "Hoang Thi Hoa"
/// gives "hoang thi hoa" (marks missing are another spelling, compared as such).
pub fn canonical_name(s: &str) -> String {
    canonical_words(s)
        .iter()
        .map(Word::canonical)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The words a village's name may start with that say what kind of place it is, not which.
const VILLAGE_PREFIXES: &[&str] = &[
    "to dan pho ",
    "thon ",
    "ban ",
    "khu ",
    "to ",
    "xom ",
    "khoi ",
    "lang ",
    "ap ",
];

/// A village's one key within its commune: normalised ([`normalize_name`]) with the prefixes
/// Thôn, Bản, Khu, Tổ, Tổ dân phố, Xóm, Khối, Làng, Ấp removed — "Thôn Nà Pàn", "Nà Pàn",
/// "thon na pan" and "Bản Nà Pàn" are one village. A prefix stays when only digits would remain
/// ("Khu 1" and "Tổ 1" stay apart). Mirrored in SQL by `village_key()` (migration 0021).
pub fn village_key(name: &str) -> String {
    let mut k = normalize_name(name);
    loop {
        let Some(rest) = VILLAGE_PREFIXES
            .iter()
            .find_map(|p| k.strip_prefix(p))
            .map(str::to_string)
        else {
            return k;
        };
        if rest.is_empty() || rest.chars().all(|c| c.is_ascii_digit() || c == ' ') {
            return k;
        }
        k = rest;
    }
}

/// Characters that phones, PDFs and web pages paste into text without anything to see: zero-width
/// spaces and joiners, the byte-order mark, the soft hyphen, the word joiner.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{FEFF}' | '\u{00AD}' | '\u{2060}'
    )
}

/// The one stored spelling of a one-line text (a name, a village, an agency, a spreadsheet cell):
/// Unicode NFC (a name pasted in decomposed form, as phones and PDFs give it, is stored composed,
/// so exports, Excel's filters and other systems see one string), invisible characters removed,
/// every run of spaces — no-break spaces and tabs too — made one space, trimmed. Mirrored in SQL
/// by `clean_text()` (migration 0020).
pub fn clean(s: &str) -> String {
    let composed: String = s.nfc().filter(|c| !invisible(*c)).collect();
    composed.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// As [`clean`] for free text of several lines (notes): NFC, invisible characters removed, each
/// line's spaces collapsed, blank lines at either end dropped; the line breaks stay.
pub fn clean_multiline(s: &str) -> String {
    let composed: String = s.nfc().filter(|c| !invisible(*c)).collect();
    let lines: Vec<String> = composed
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    lines.join("\n").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::{clean, clean_multiline, normalize_name};

    #[test]
    fn a_village_has_one_key_however_it_is_written() {
        use super::village_key;
        for v in [
            "Thôn Nà Pàn",
            "Nà Pàn",
            "thon na pan",
            "Bản Nà Pàn",
            "  NÀ  PÀN ",
            "Xóm Nà Pàn",
        ] {
            assert_eq!(village_key(v), "na pan", "{v}");
        }
        assert_eq!(village_key("Tổ dân phố Hòa Bình"), "hoa binh");
        assert_eq!(village_key("Thôn Bản Cáu"), village_key("Bản Cáu"));
        assert_eq!(village_key("Khu 1"), "khu 1");
        assert_ne!(village_key("Khu 1"), village_key("Tổ 1"));
        assert_eq!(village_key("Thôn"), "thon");
    }

    #[test]
    fn one_spelling_whatever_was_pasted() {
        let nfc = "Hoàng Văn Thụ";
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd(nfc).collect();
        assert_ne!(nfd, nfc);
        for variant in [
            nfd.clone(),
            format!("  {nfd}\t"),
            "Hoàng\u{00A0}Văn  Thụ".to_string(),
            "Hoàng\u{200B} Văn Thụ\u{FEFF}".to_string(),
        ] {
            assert_eq!(clean(&variant), nfc, "{variant:?}");
        }
        assert_eq!(
            clean_multiline("  Dòng 1  \n\n Dòng\u{00A0} 2 \n"),
            "Dòng 1\n\nDòng 2"
        );
    }

    #[test]
    fn one_canonical_spelling_whatever_the_keyboard_put_the_tone_on() {
        use super::canonical_name;
        let nfd =
            |s: &str| -> String { unicode_normalization::UnicodeNormalization::nfd(s).collect() };
        for (a, b) in [
            ("Hoàng Thị Hòa", "Hoàng Thị Hoà"),
            ("Lý Thị Thủy", "Lý Thị Thuỷ"),
            ("Nông Văn Khỏe", "Nông Văn Khoẻ"),
            ("Hà Thị Thúy", "HÀ THỊ THUÝ"),
            ("Đặng Văn Hóa", "Ðặng Văn Hoá"),
        ] {
            assert_eq!(canonical_name(a), canonical_name(b), "{a} / {b}");
            assert_eq!(canonical_name(a), canonical_name(&nfd(b)), "{a} / NFD {b}");
        }
        assert_eq!(canonical_name("Hoàng Thị Hoà"), "hoang2 thi5 hoa2");
        assert_eq!(canonical_name("  Đặng-Văn  Ước. "), "đăng5 văn ươc1");
        // A missing or another mark is another spelling: the scorer weighs it, it is not folded.
        assert_ne!(
            canonical_name("Nông Thị Lan"),
            canonical_name("Nông Thị Lân")
        );
        assert_ne!(
            canonical_name("Nông Thị Lan"),
            canonical_name("Nông Thị Lạn")
        );
        // Only marks, digits or punctuation: marks alone make no word.
        assert_eq!(canonical_name("\u{0301}\u{0323} ?!"), "");
        // The name key folds the canonical spelling: one key for every keyboard.
        for n in ["Hoàng Thị Hòa", "Ðặng Văn Hoá", "Lý Thị Thuỷ"] {
            let folded: Vec<String> = super::canonical_words(n)
                .iter()
                .map(|w| w.plain().to_string())
                .collect();
            assert_eq!(folded.join(" "), normalize_name(n), "{n}");
        }
    }

    #[test]
    fn folds_vietnamese() {
        assert_eq!(normalize_name("  Hoàng  Văn Thụ "), "hoang van thu");
        assert_eq!(normalize_name("HOÀNG VĂN THỤ"), "hoang van thu");
        assert_eq!(normalize_name("Đặng Thị Ngọc-Ánh"), "dang thi ngoc anh");
        assert_eq!(normalize_name("Nông Thị Ước, (bà)"), "nong thi uoc ba");
        assert_eq!(normalize_name("Lý Thị Mỹ Dung 2"), "ly thi my dung 2");
    }
}
