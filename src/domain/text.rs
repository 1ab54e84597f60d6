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

#[cfg(test)]
mod tests {
    use super::normalize_name;

    #[test]
    fn folds_vietnamese() {
        assert_eq!(normalize_name("  Hoàng  Văn Thụ "), "hoang van thu");
        assert_eq!(normalize_name("HOÀNG VĂN THỤ"), "hoang van thu");
        assert_eq!(normalize_name("Đặng Thị Ngọc-Ánh"), "dang thi ngoc anh");
        assert_eq!(normalize_name("Nông Thị Ước, (bà)"), "nong thi uoc ba");
        assert_eq!(normalize_name("Lý Thị Mỹ Dung 2"), "ly thi my dung 2");
    }
}
