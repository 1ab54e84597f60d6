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
            'đ' | 'Đ' => 'd',
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
    fn folds_vietnamese() {
        assert_eq!(normalize_name("  Hoàng  Văn Thụ "), "hoang van thu");
        assert_eq!(normalize_name("HOÀNG VĂN THỤ"), "hoang van thu");
        assert_eq!(normalize_name("Đặng Thị Ngọc-Ánh"), "dang thi ngoc anh");
        assert_eq!(normalize_name("Nông Thị Ước, (bà)"), "nong thi uoc ba");
        assert_eq!(normalize_name("Lý Thị Mỹ Dung 2"), "ly thi my dung 2");
    }
}
