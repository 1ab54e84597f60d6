//! Money is whole VND (R10), shown as `8.000.000 đ`.

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
