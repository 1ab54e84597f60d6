//! Money is whole VND (R10): one type, [`Vnd`], with the one parser of amounts as people type
//! them and the one formatter (`8.000.000 đ`). The campaign form, the pledge's lines, deliveries,
//! the history import and every report and export go through here.

use std::fmt;

/// The most a value in VND may be: ten billion, far above any household's support, and well
/// inside `i64` so sums of thousands of them cannot overflow.
pub const MAX_VND: i64 = 10_000_000_000;

/// A positive whole amount of VND, at most [`MAX_VND`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Vnd(i64);

impl Vnd {
    /// An amount already known to be whole VND (from the database): `None` outside 1…[`MAX_VND`].
    pub fn new(v: i64) -> Option<Vnd> {
        (1..=MAX_VND).contains(&v).then_some(Vnd(v))
    }

    pub fn get(self) -> i64 {
        self.0
    }

    /// An amount as typed: `8000000`, `8.000.000`, `8 000 000 đ`, `8,000,000`, `8.000.000 VNĐ`,
    /// `8.000.000 đồng`.
    /// A fraction (`8000,5`, `1.5`), a sign, zero, words or more than [`MAX_VND`] get a message
    /// naming the field (`label`).
    pub fn parse(s: &str, label: &str) -> Result<Vnd, String> {
        let t: String = s.trim().chars().filter(|c| !c.is_whitespace()).collect();
        // The unit, however it is written: "đ", "đồng", "VNĐ", "VND", "vnđ".
        let lower = t.to_lowercase();
        let unit = ["vnđ", "vnd", "đồng", "đ"]
            .iter()
            .find(|u| lower.ends_with(*u))
            .map_or(0, |u| u.chars().count());
        let t: String = t.chars().take(t.chars().count() - unit).collect();
        let t = t.as_str();
        if t.is_empty() {
            return Err(format!("{label}: hãy ghi số tiền (đồng)."));
        }
        match parse_whole(t, label, MAX_VND, "đồng")? {
            0 => Err(format!("{label}: phải lớn hơn 0 đồng.")),
            v => Ok(Vnd(v)),
        }
    }
}

impl fmt::Display for Vnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_vnd(self.0))
    }
}

/// A whole number as people type it, with `.` or `,` as thousands separators (`1.234.567`,
/// `1,234,567`) but never as a decimal point: a group after the first that is not three digits
/// (`8,5`, `1.25`) is a fraction and is refused. At most `max`; `unit` names what is counted.
pub fn parse_whole(t: &str, label: &str, max: i64, unit: &str) -> Result<i64, String> {
    if t.starts_with('-') {
        return Err(format!("{label}: không được là số âm."));
    }
    let groups: Vec<&str> = t.split(['.', ',']).collect();
    let digits_only = groups
        .iter()
        .all(|g| !g.is_empty() && g.chars().all(|c| c.is_ascii_digit()));
    if !digits_only {
        return Err(format!("{label}: “{}” không phải là số.", shorten(t)));
    }
    if groups.len() > 1 && (groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)) {
        return Err(format!(
            "{label}: phải là số {unit} nguyên, không có phần lẻ (đang là “{}”).",
            shorten(t)
        ));
    }
    let joined: String = groups.concat();
    match joined.parse::<i64>() {
        Ok(v) if v <= max => Ok(v),
        _ => Err(format!(
            "{label}: quá lớn (tối đa {}).",
            group_thousands(max)
        )),
    }
}

/// What the user typed, cut to 30 characters for a message.
pub(super) fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(30).collect();
    if s.chars().count() > 30 {
        out.push('…');
    }
    out
}

/// Format a whole VND amount with dot thousands separators: `8000000` → `8.000.000 đ`.
pub fn format_vnd(amount: i64) -> String {
    format!("{} đ", group_thousands(amount))
}

/// `1234567` → `1.234.567` (Vietnamese separators).
pub fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vnd(s: &str, label: &str) -> Result<i64, String> {
        Vnd::parse(s, label).map(Vnd::get)
    }

    #[test]
    fn money_as_people_type_it() {
        assert_eq!(vnd("8000000", "x"), Ok(8_000_000));
        assert_eq!(vnd("8.000.000", "x"), Ok(8_000_000));
        assert_eq!(vnd("8 000 000 đ", "x"), Ok(8_000_000));
        assert_eq!(vnd("8,000,000", "x"), Ok(8_000_000));
        assert!(vnd("0", "Giá trị").unwrap_err().contains("lớn hơn 0"));
        assert!(vnd("-5000", "Giá trị").unwrap_err().contains("âm"));
        assert!(vnd("8000,5", "Giá trị").unwrap_err().contains("phần lẻ"));
        assert!(vnd("1.5", "Giá trị").unwrap_err().contains("phần lẻ"));
        assert!(
            vnd("99999999999999999999", "Giá trị")
                .unwrap_err()
                .contains("quá lớn")
        );
        assert!(
            vnd("10000000001", "Giá trị")
                .unwrap_err()
                .contains("quá lớn")
        );
        assert!(
            vnd("tám triệu", "Giá trị")
                .unwrap_err()
                .contains("không phải là số")
        );
        assert!(vnd("", "Giá trị").is_err());
    }

    #[test]
    fn the_campaign_form_and_the_pledge_now_read_amounts_alike() {
        // The campaign form used to take "8.0.0.0.0.0.0" and refuse "8,000,000"; the pledge the
        // opposite. One parser: both forms take the second and refuse the first.
        assert_eq!(vnd("8,000,000", "Mức hỗ trợ"), Ok(8_000_000));
        assert!(
            vnd("8.0.0.0.0.0.0", "Mức hỗ trợ")
                .unwrap_err()
                .contains("phần lẻ")
        );
        assert_eq!(Vnd::new(0), None);
        assert_eq!(
            Vnd::parse("8.000.000 VNĐ", "x").unwrap().to_string(),
            "8.000.000 đ"
        );
    }

    #[test]
    fn groups_thousands_the_vietnamese_way() {
        assert_eq!(format_vnd(8_000_000), "8.000.000 đ");
        assert_eq!(format_vnd(0), "0 đ");
        assert_eq!(format_vnd(999), "999 đ");
        assert_eq!(format_vnd(1_000), "1.000 đ");
        assert_eq!(format_vnd(-12_345_678), "-12.345.678 đ");
        assert_eq!(group_thousands(i64::MIN), "-9.223.372.036.854.775.808");
    }
}
