//! The citizen identity number (CCCD): 12 digits — a 3-digit province code, a century/gender
//! digit, the last two digits of the birth year, and 6 digits (Thông tư 07/2016/TT-BCA).

use std::fmt;

/// Province codes of the 63 provinces and cities (Thông tư 07/2016/TT-BCA). Lạng Sơn is 020.
const PROVINCES: &[&str] = &[
    "001", "002", "004", "006", "008", "010", "011", "012", "014", "015", "017", "019", "020",
    "022", "024", "025", "026", "027", "030", "031", "033", "034", "035", "036", "037", "038",
    "040", "042", "044", "045", "046", "048", "049", "051", "052", "054", "056", "058", "060",
    "062", "064", "066", "067", "068", "070", "072", "074", "075", "077", "079", "080", "082",
    "083", "084", "086", "087", "089", "091", "092", "093", "094", "095", "096",
];

/// Agency staff may look households up by a typed ID number (they need to find the household
/// they visit), but each such lookup tells whether that person is a registered poor household: it
/// is audited, and at most this many per account per hour are answered.
pub const AGENCY_ID_LOOKUPS_PER_HOUR: i64 = 30;

/// The ID number a search text is, if it is one ([`IdNumber::read`]).
pub fn as_id_number(q: &str) -> Option<String> {
    IdNumber::read(q).map(|n| n.digits().to_string())
}

/// What an identity-number field or a search holds, read the one way every path reads it (the
/// form, the check as one types, the search, the imports, the review scan).
#[derive(Clone, PartialEq, Eq, veil::Redact)]
pub enum IdNumber {
    /// A citizen identity card number, 12 digits.
    Cccd(#[redact] String),
    /// An old identity card number (CMND), 9 digits.
    Cmnd(#[redact] String),
}

impl IdNumber {
    /// Spaces, dots and dashes between groups are ignored, and the ".0" a spreadsheet adds to a
    /// number; 12 digits are a CCCD; 11 digits are a CCCD whose leading 0 a spreadsheet dropped
    /// when a 0 in front makes a province code (Lạng Sơn's is 020, so every one of its numbers
    /// loses its 0 in a numeric column); 9 digits are an old CMND. Anything else — a letter, too
    /// few or too many digits — is no identity number (a name, a household code, a typo).
    pub fn read(raw: &str) -> Option<IdNumber> {
        let t = raw.trim();
        let t = t
            .strip_suffix(".0")
            .filter(|x| x.chars().all(|c| c.is_ascii_digit()))
            .unwrap_or(t);
        let digits: String = t
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '.' | '-'))
            .collect();
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        match digits.len() {
            12 => Some(IdNumber::Cccd(digits)),
            11 if PROVINCES.contains(&format!("0{}", &digits[..2]).as_str()) => {
                Some(IdNumber::Cccd(format!("0{digits}")))
            }
            9 => Some(IdNumber::Cmnd(digits)),
            _ => None,
        }
    }

    pub fn digits(&self) -> &str {
        match self {
            IdNumber::Cccd(d) | IdNumber::Cmnd(d) => d,
        }
    }

    /// The CCCD it is, if it is one.
    pub fn cccd(raw: &str) -> Option<String> {
        match IdNumber::read(raw) {
            Some(IdNumber::Cccd(d)) => Some(d),
            _ => None,
        }
    }

    /// The old CMND it is, if it is one.
    pub fn cmnd(raw: &str) -> Option<String> {
        match IdNumber::read(raw) {
            Some(IdNumber::Cmnd(d)) => Some(d),
            _ => None,
        }
    }
}

/// A CCCD that passed every check; it can only be made by [`Cccd::parse`].
#[derive(Clone, PartialEq, Eq, Hash, veil::Redact)]
pub struct Cccd(#[redact] String);

/// Serialized as its 12 digits (the import batch and the audit trail keep it as text).
impl serde::Serialize for Cccd {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    pub fn code(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
        }
    }
}

impl Cccd {
    /// Check a typed CCCD. Spaces, dots and dashes people type between groups are ignored.
    /// When gender and birth year are known, the century/gender digit and the year digits must
    /// agree with them.
    pub fn parse(
        raw: &str,
        gender: Option<Gender>,
        birth_year: Option<i32>,
    ) -> Result<Cccd, String> {
        let digits: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-'))
            .collect();
        if digits.is_empty() {
            return Err("Số CCCD đang trống.".into());
        }
        if let Some(bad) = digits.chars().find(|c| !c.is_ascii_digit()) {
            return Err(format!("Số CCCD chỉ gồm chữ số; có ký tự “{bad}”."));
        }
        if digits.len() != 12 {
            return Err(format!(
                "Số CCCD phải có đúng 12 chữ số (đang có {}).",
                digits.len()
            ));
        }
        let province = &digits[..3];
        if !PROVINCES.contains(&province) {
            return Err(format!(
                "Ba chữ số đầu “{province}” không phải mã tỉnh, thành phố (Lạng Sơn là 020)."
            ));
        }
        let cg = digits.as_bytes()[3] - b'0';
        let century_start = 1900 + 100 * i32::from(cg / 2);
        let digit_gender = if cg.is_multiple_of(2) {
            Gender::Male
        } else {
            Gender::Female
        };
        let yy: i32 = digits[4..6].parse().unwrap_or(0);
        if let Some(g) = gender
            && g != digit_gender
        {
            let said = if g == Gender::Male { "nam" } else { "nữ" };
            return Err(format!(
                "Chữ số thứ 4 của CCCD ({cg}) là của {}, nhưng giới tính khai là {said}.",
                if digit_gender == Gender::Male {
                    "nam"
                } else {
                    "nữ"
                }
            ));
        }
        if let Some(year) = birth_year {
            let implied = century_start + yy;
            if implied != year {
                return Err(format!(
                    "CCCD ứng với năm sinh {implied} (chữ số thứ 4 là {cg}, chữ số 5–6 là {:02}), nhưng năm sinh khai là {year}.",
                    yy
                ));
            }
        }
        Ok(Cccd(digits))
    }

    /// As [`Cccd::parse`], and a number of 11 digits — a CCCD whose leading 0 a spreadsheet
    /// dropped by storing it as a number — gets its 0 back when the result is a valid CCCD of
    /// this person: a real province code, and the century/gender and year digits agreeing with
    /// the row's birth year (which must be known) and gender. `true` says it was restored, which
    /// the caller must show. Otherwise the message says what Excel did and how to keep the column
    /// as text.
    pub fn parse_restoring(
        raw: &str,
        gender: Option<Gender>,
        birth_year: Option<i32>,
    ) -> Result<(Cccd, bool), String> {
        let digits: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-'))
            .collect();
        if digits.len() == 11 && digits.chars().all(|c| c.is_ascii_digit()) {
            let Some(year) = birth_year else {
                return Err(
                    "Số CCCD có 11 chữ số: có thể Excel đã bỏ mất số 0 ở đầu vì coi cột này là số. \
                     Không tự thêm số 0 được vì chưa có năm sinh để đối chiếu. Hãy định dạng cột Số \
                     CCCD là Văn bản (Text) trong Excel — chuột phải vào cột, Định dạng ô, Văn bản — \
                     rồi gõ lại đủ 12 chữ số."
                        .into(),
                );
            };
            return match Cccd::parse(&format!("0{digits}"), gender, Some(year)) {
                Ok(c) => Ok((c, true)),
                Err(why) => Err(format!(
                    "Số CCCD có 11 chữ số: có thể Excel đã bỏ mất số 0 ở đầu vì coi cột này là số, \
                     nhưng thêm số 0 vẫn không thành số CCCD hợp lệ ({why}) Hãy định dạng cột Số CCCD \
                     là Văn bản (Text) trong Excel — chuột phải vào cột, Định dạng ô, Văn bản — rồi \
                     gõ lại đủ 12 chữ số."
                )),
            };
        }
        Cccd::parse(raw, gender, birth_year).map(|c| (c, false))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Cccd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_reader_for_every_identity_number() {
        use IdNumber::*;
        for (raw, want) in [
            ("020 085 001234", Some(Cccd("020085001234".into()))),
            ("020.085.001.234", Some(Cccd("020085001234".into()))),
            ("20085001234", Some(Cccd("020085001234".into()))),
            ("20085001234.0", Some(Cccd("020085001234".into()))),
            ("123456789", Some(Cmnd("123456789".into()))),
            ("123-456-789", Some(Cmnd("123456789".into()))),
            ("99985001234", None),
            ("2.00850E+10", None),
            ("HN-01", None),
            ("0200850012345", None),
            ("", None),
        ] {
            assert_eq!(IdNumber::read(raw), want, "{raw}");
        }
    }

    #[test]
    fn accepts_a_valid_lang_son_number_with_spacing() {
        let c = Cccd::parse("020 085 001234", Some(Gender::Male), Some(1985)).unwrap();
        assert_eq!(c.as_str(), "020085001234");
        assert!(Cccd::parse("020303001234", Some(Gender::Female), Some(2003)).is_ok());
    }

    #[test]
    fn a_leading_zero_dropped_by_a_spreadsheet_is_restored_when_the_result_is_valid() {
        let (c, restored) =
            Cccd::parse_restoring("20085001234", Some(Gender::Male), Some(1985)).unwrap();
        assert_eq!((c.as_str(), restored), ("020085001234", true));
        let (c, restored) = Cccd::parse_restoring("020085001234", None, None).unwrap();
        assert_eq!((c.as_str(), restored), ("020085001234", false));
        // 0 + 11 digits is no CCCD of this person: the message says what Excel did.
        let e = Cccd::parse_restoring("20085001234", Some(Gender::Female), None).unwrap_err();
        assert!(
            e.contains("Excel đã bỏ mất số 0") && e.contains("Văn bản"),
            "{e}"
        );
        let e = Cccd::parse_restoring("99985001234", None, Some(1985)).unwrap_err();
        assert!(e.contains("mã tỉnh"), "{e}");
        // No birth year to check it against: not restored, explained.
        let e = Cccd::parse_restoring("20085001234", None, None).unwrap_err();
        assert!(e.contains("chưa có năm sinh"), "{e}");
    }

    #[test]
    fn says_what_is_wrong() {
        let e = Cccd::parse("02008500123", None, None).unwrap_err();
        assert!(e.contains("đúng 12 chữ số (đang có 11)"), "{e}");
        let e = Cccd::parse("02008500123A", None, None).unwrap_err();
        assert!(e.contains("chỉ gồm chữ số") && e.contains('A'), "{e}");
        let e = Cccd::parse("999085001234", None, None).unwrap_err();
        assert!(e.contains("“999”") && e.contains("mã tỉnh"), "{e}");
        let e = Cccd::parse("020085001234", Some(Gender::Female), None).unwrap_err();
        assert!(e.contains("giới tính khai là nữ"), "{e}");
        let e = Cccd::parse("020085001234", None, Some(1986)).unwrap_err();
        assert!(e.contains("năm sinh 1985") && e.contains("1986"), "{e}");
        let e = Cccd::parse("020285001234", None, Some(1985)).unwrap_err();
        assert!(e.contains("năm sinh 2085"), "{e}");
        assert!(
            Cccd::parse("   ", None, None)
                .unwrap_err()
                .contains("trống")
        );
    }

    #[test]
    fn every_province_code_is_three_digits_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for p in PROVINCES {
            assert!(p.len() == 3 && p.chars().all(|c| c.is_ascii_digit()));
            assert!(seen.insert(p));
        }
        assert_eq!(PROVINCES.len(), 63);
    }
}
