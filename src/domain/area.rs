//! The area a campaign covers, in the words of the pages and the official papers: the organiser
//! is data (issue #28), so "Huyện Bình Gia", "HUYỆN BÌNH GIA" and "Toàn huyện" are too.

/// The organising unit: its name ("Huyện Bình Gia", "Tỉnh Lạng Sơn", "Xã Hoa Thám") and level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Area {
    pub name: String,
    /// `province`, `district`, `commune`, or empty when the campaign names no organiser.
    pub level: String,
}

impl Area {
    pub fn new(found: Option<(String, String)>) -> Area {
        found
            .map(|(name, level)| Area { name, level })
            .unwrap_or_default()
    }

    /// The issuing committee's unit on an official paper: "HUYỆN BÌNH GIA".
    pub fn issuer(&self) -> String {
        self.name.to_uppercase()
    }

    /// The whole area, as a report's scope says it: "Toàn huyện", "Toàn tỉnh", "Toàn xã".
    pub fn whole(&self) -> &'static str {
        match self.level.as_str() {
            "province" => "Toàn tỉnh",
            "district" => "Toàn huyện",
            "commune" => "Toàn xã",
            _ => "Toàn địa bàn",
        }
    }

    /// "Bình Gia, ngày …" on a paper: the unit's name without its level word.
    pub fn place(&self) -> String {
        let n = self.name.trim();
        for prefix in [
            "Thành phố ",
            "Thị trấn ",
            "Đặc khu ",
            "Huyện ",
            "Tỉnh ",
            "Phường ",
            "Xã ",
            "Quận ",
            "Thị xã ",
        ] {
            if let Some(rest) = n.strip_prefix(prefix) {
                return rest.to_string();
            }
        }
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_follow_the_organiser() {
        let district = Area::new(Some(("Huyện Bình Gia".into(), "district".into())));
        assert_eq!(
            (
                district.issuer().as_str(),
                district.whole(),
                district.place().as_str()
            ),
            ("HUYỆN BÌNH GIA", "Toàn huyện", "Bình Gia")
        );
        let province = Area::new(Some(("Tỉnh Lạng Sơn".into(), "province".into())));
        assert_eq!(
            (
                province.issuer().as_str(),
                province.whole(),
                province.place().as_str()
            ),
            ("TỈNH LẠNG SƠN", "Toàn tỉnh", "Lạng Sơn")
        );
        assert_eq!(Area::new(None).whole(), "Toàn địa bàn");
    }
}
