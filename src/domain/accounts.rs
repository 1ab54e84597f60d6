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
    let n = super::text::clean(raw);
    match n.chars().count() {
        0 => Err("Hãy nhập họ và tên.".into()),
        1..=120 => Ok(n),
        len => Err(format!("Họ và tên dài tối đa 120 ký tự (đang có {len}).")),
    }
}

/// Hash a password (Argon2id via password-auth) off the async runtime.
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    Ok(tokio::task::spawn_blocking(move || password_auth::generate_hash(password)).await?)
}

/// The rule every new password must meet, in Vietnamese.
pub fn check_new_password(p: &str) -> Result<(), String> {
    let n = p.chars().count();
    if n < 10 {
        return Err(format!("Mật khẩu phải có ít nhất 10 ký tự (hiện có {n})."));
    }
    if n > 200 {
        return Err("Mật khẩu dài quá 200 ký tự.".into());
    }
    Ok(())
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

/// Sign-in throttling. Failures count against the **account** tried, from any address, so one
/// person's typos behind a shared address (a commune office behind one NAT, the district behind
/// its reverse proxy) lock out no one else. Separately, an **address** that fails against many
/// different accounts (password spraying) is slowed down, at a much higher limit.
pub mod throttle {
    /// Failed sign-ins to one account within the window before that account refuses sign-ins.
    pub const ACCOUNT_FAILURES: i64 = 5;
    /// Different accounts failed from one address within the window before that address is refused.
    pub const ADDRESS_ACCOUNTS: i64 = 20;
    pub const WINDOW_MINUTES: i64 = 15;

    /// Why a sign-in is refused before the password is even checked, and for how long.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Refusal {
        Account { retry_after_secs: u64 },
        Address { retry_after_secs: u64 },
    }

    impl Refusal {
        pub fn retry_after_secs(&self) -> u64 {
            match self {
                Refusal::Account { retry_after_secs } | Refusal::Address { retry_after_secs } => {
                    (*retry_after_secs).max(1)
                }
            }
        }

        /// The truth, in Vietnamese: which account or which address, and for how long.
        pub fn message(&self, username: &str, address: &str) -> String {
            let minutes = self.retry_after_secs().div_ceil(60);
            match self {
                Refusal::Account { .. } => format!(
                    "Tài khoản «{username}» đã bị nhập sai mật khẩu {ACCOUNT_FAILURES} lần trong \
                     {WINDOW_MINUTES} phút gần đây, nên tạm thời không nhận đăng nhập vào tài khoản \
                     này. Vui lòng thử lại sau {minutes} phút, hoặc nhờ quản trị viên đặt lại mật \
                     khẩu. Các tài khoản khác vẫn đăng nhập bình thường."
                ),
                Refusal::Address { .. } => format!(
                    "Từ địa chỉ mạng {address} đã có đăng nhập sai vào {ADDRESS_ACCOUNTS} tài khoản \
                     khác nhau trong {WINDOW_MINUTES} phút gần đây, nên tạm thời không nhận đăng \
                     nhập từ địa chỉ này. Vui lòng thử lại sau {minutes} phút."
                ),
            }
        }
    }

    /// The decision, from the seconds until each limit frees up (`None`: not reached).
    pub fn decide(account_retry: Option<i64>, address_retry: Option<i64>) -> Option<Refusal> {
        let secs = |s: i64| u64::try_from(s).unwrap_or(0).max(1);
        match (account_retry, address_retry) {
            (Some(a), _) => Some(Refusal::Account {
                retry_after_secs: secs(a),
            }),
            (None, Some(b)) => Some(Refusal::Address {
                retry_after_secs: secs(b),
            }),
            (None, None) => None,
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn messages_name_the_account_or_the_address_and_the_minutes() {
            let a = decide(Some(61), None).unwrap();
            assert!(a.message("xa.hoatham", "1.2.3.4").contains("«xa.hoatham»"));
            assert!(a.message("xa.hoatham", "1.2.3.4").contains("sau 2 phút"));
            let b = decide(None, Some(30)).unwrap();
            assert!(b.message("u", "1.2.3.4").contains("1.2.3.4"));
            assert_eq!(b.retry_after_secs(), 30);
            assert_eq!(decide(None, None), None);
            assert_eq!(decide(Some(-3), None).unwrap().retry_after_secs(), 1);
        }
    }
}
