//! Account input rules, shared by the admin pages and the command line.

/// `Nguyen.Van.A ` → `nguyen.van.a`; 3–40 of a–z, 0–9, `.`, `_`, `-`.
pub fn parse_username(raw: &str) -> Result<String, String> {
    let u = raw.trim().to_lowercase();
    if u.chars().count() < 3 || u.chars().count() > 40 {
        return Err("Tên đăng nhập phải dài từ 3 đến 40 ký tự.".into());
    }
    if !u
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
    {
        return Err("Tên đăng nhập chỉ gồm chữ không dấu, chữ số và các dấu . _ -".into());
    }
    Ok(u)
}

pub fn parse_full_name(raw: &str) -> Result<String, String> {
    let n = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    match n.chars().count() {
        0 => Err("Hãy nhập họ và tên.".into()),
        1..=120 => Ok(n),
        len => Err(format!("Họ và tên dài tối đa 120 ký tự (đang có {len}).")),
    }
}

/// A random password for first-run and demo accounts and admin resets: 16 characters from an
/// alphabet without look-alikes (no 0/O, 1/l/I).
pub fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(parse_username(" Can.Bo-01 ").unwrap(), "can.bo-01");
        assert!(parse_username("ab").is_err());
        assert!(parse_username("nguyễn").is_err());
        assert!(parse_username("a b c").is_err());
    }

    #[test]
    fn full_names_collapse_spaces() {
        assert_eq!(
            parse_full_name("  Hoàng   Văn  Thụ ").unwrap(),
            "Hoàng Văn Thụ"
        );
        assert!(parse_full_name("   ").is_err());
        assert!(parse_full_name(&"a".repeat(121)).is_err());
    }

    #[test]
    fn random_passwords_are_long_and_distinct() {
        let a = random_password();
        assert_eq!(a.len(), 16);
        assert_ne!(a, random_password());
    }
}
