//! "Hiệu quả theo hình thức hỗ trợ" (issue #18): which help works. Each counted sponsorship falls
//! in the group of its main support line (the line of the largest value); its outcome is the
//! household's **official** status from the commune's yearly review, never an agency's visit.

/// The groups, in the order the report lists them before ranking, with their labels. The SQL
/// function `support_group` (migration 0025) returns these codes.
pub const GROUPS: &[(&str, &str)] = &[
    ("cattle", "Con giống (bò, trâu)"),
    ("pigs", "Con giống (lợn)"),
    ("goats", "Con giống (dê)"),
    ("poultry", "Gia cầm (gà, vịt, ngan)"),
    ("seedlings", "Cây giống"),
    ("tools", "Công cụ sản xuất"),
    ("housing", "Sửa chữa nhà"),
    ("cash", "Tiền mặt"),
    ("other", "Khác"),
];

pub fn group_label(code: &str) -> &'static str {
    GROUPS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
        .unwrap_or("Khác")
}

/// A group with fewer households than this gets a warning: its percentages say little.
pub const FEW: i64 = 10;

/// The figures of one group, as counted by the query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupFigures {
    pub group: String,
    pub households: i64,
    pub delivered_total: i64,
    pub delivered_median: i64,
    /// 0 when the median is exact; else the width of the value histogram it was read from: the
    /// true median is within that much of it.
    pub median_within: i64,
    /// `observed[k]`: households helped at least k+1 years before the latest official review;
    /// `escaped[k]`: of those, how many were reviewed as escaped within k+1 years.
    pub observed: [i64; 3],
    pub escaped: [i64; 3],
    /// Households with a review after the year they were helped; of those, still poor at the last.
    pub reviewed: i64,
    pub still_poor: i64,
    /// Households reviewed as escaped in any year after they were helped.
    pub escaped_ever: i64,
    /// From each sponsorship's latest follow-up visit.
    pub received: i64,
    pub born: i64,
    pub died: i64,
    pub sold: i64,
    pub trees_surviving: i64,
}

/// The median of values counted in buckets `[b·width, (b+1)·width)`, given as (b, count) in
/// ascending order: each value read as its bucket's lower bound, the two middle ones averaged (as
/// `percentile_cont(0.5)` does) and rounded half up. Exact when every value is a multiple of the
/// width (as most amounts are); otherwise less than `width` below the true median. 0 when empty.
pub fn median_of_buckets(buckets: &[(i64, i64)], width: i64) -> i64 {
    let n: i64 = buckets.iter().map(|(_, c)| (*c).max(0)).sum();
    if n == 0 {
        return 0;
    }
    // The values at 0-based positions (n-1)/2 and n/2.
    let at = |pos: i64| {
        let mut seen = 0;
        for (b, c) in buckets {
            seen += (*c).max(0);
            if pos < seen {
                return b * width;
            }
        }
        buckets.last().map(|(b, _)| b * width).unwrap_or(0)
    };
    let (lo, hi) = (at((n - 1) / 2), at(n / 2));
    (lo + hi + 1).div_euclid(2)
}

/// `part / whole` as a whole percentage (rounded half up), None when nothing is observed.
pub fn share(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| (part * 200 + whole) / (2 * whole))
}

impl GroupFigures {
    pub fn label(&self) -> &'static str {
        group_label(&self.group)
    }

    pub fn escaped_share(&self, years: usize) -> Option<i64> {
        share(self.escaped[years - 1], self.observed[years - 1])
    }

    pub fn still_poor_share(&self) -> Option<i64> {
        share(self.still_poor, self.reviewed)
    }

    /// What it cost (value delivered) for each household that left poverty.
    pub fn cost_per_escaped(&self) -> Option<i64> {
        (self.escaped_ever > 0).then(|| self.delivered_total / self.escaped_ever)
    }

    /// Animals still alive of those received and born: (received + born − died − sold) is what
    /// is kept; survival counts the sold ones as survived (they did not die).
    pub fn survival_share(&self) -> Option<i64> {
        share(
            self.received + self.born - self.died,
            self.received + self.born,
        )
    }

    pub fn few(&self) -> bool {
        self.households < FEW
    }
}

/// `14.500.000` → `14,5 triệu đ`.
pub fn millions(vnd: i64) -> String {
    let tenths = (vnd + 50_000) / 100_000;
    if tenths % 10 == 0 {
        format!("{} triệu đ", tenths / 10)
    } else {
        format!("{},{} triệu đ", tenths / 10, tenths % 10)
    }
}

/// The short ranked reading: groups ranked by the share that left poverty within 2 years (those
/// with nothing observed at 2 years last), one sentence each, with the counts behind it.
pub fn reading(groups: &[GroupFigures]) -> Vec<String> {
    let mut ranked: Vec<&GroupFigures> = groups.iter().filter(|g| g.households > 0).collect();
    ranked.sort_by_key(|g| {
        (
            std::cmp::Reverse(g.escaped_share(2).map(|s| s + 1).unwrap_or(0)),
            std::cmp::Reverse(g.households),
        )
    });
    ranked
        .into_iter()
        .map(|g| {
            let mut s = match g.escaped_share(2) {
                Some(p) => format!(
                    "{}: {p} % thoát nghèo sau 2 năm ({}/{} hộ)",
                    g.label(),
                    g.escaped[1],
                    g.observed[1]
                ),
                None => format!(
                    "{}: chưa có hộ nào được giúp đủ 2 năm để đánh giá ({} hộ)",
                    g.label(),
                    g.households
                ),
            };
            if let Some(c) = g.cost_per_escaped() {
                s.push_str(&format!(", {}/hộ thoát nghèo", millions(c)));
            }
            if g.few() {
                s.push_str(&format!(
                    " — chỉ {} hộ (dưới {FEW}), chưa đủ để kết luận",
                    g.households
                ));
            }
            s.push('.');
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_median_read_off_the_buckets_is_the_exact_one_for_round_amounts() {
        use super::median_of_buckets;
        let w = 500_000;
        // 8, 8, 16, 20 million: the exact median is 12 million.
        assert_eq!(
            median_of_buckets(&[(16, 2), (32, 1), (40, 1)], w),
            12_000_000
        );
        // An odd count: the middle value.
        assert_eq!(
            median_of_buckets(&[(16, 1), (32, 3), (40, 1)], w),
            16_000_000
        );
        assert_eq!(median_of_buckets(&[], w), 0);
        // 8.300.000 lies in the bucket of 8.000.000: off by less than the width.
        let m = median_of_buckets(&[(16, 1)], w);
        assert!((8_300_000 - m) < w && m <= 8_300_000);
    }
    use super::*;

    #[test]
    fn shares_round_half_up_and_say_nothing_without_observations() {
        assert_eq!(share(31, 50), Some(62));
        assert_eq!(share(1, 3), Some(33));
        assert_eq!(share(1, 8), Some(13));
        assert_eq!(share(0, 0), None);
    }

    #[test]
    fn millions_read_the_vietnamese_way() {
        assert_eq!(millions(14_500_000), "14,5 triệu đ");
        assert_eq!(millions(16_000_000), "16 triệu đ");
        assert_eq!(millions(8_333_333), "8,3 triệu đ");
    }

    #[test]
    fn the_reading_ranks_by_escape_within_two_years_and_warns_on_small_groups() {
        let cattle = GroupFigures {
            group: "cattle".into(),
            households: 50,
            delivered_total: 31 * 14_500_000,
            observed: [50, 50, 40],
            escaped: [10, 31, 30],
            escaped_ever: 31,
            ..Default::default()
        };
        let cash = GroupFigures {
            group: "cash".into(),
            households: 4,
            delivered_total: 32_000_000,
            observed: [4, 4, 4],
            escaped: [0, 1, 1],
            escaped_ever: 1,
            ..Default::default()
        };
        let lines = reading(&[cash, cattle]);
        assert_eq!(
            lines[0],
            "Con giống (bò, trâu): 62 % thoát nghèo sau 2 năm (31/50 hộ), 14,5 triệu đ/hộ thoát nghèo."
        );
        assert_eq!(
            lines[1],
            "Tiền mặt: 25 % thoát nghèo sau 2 năm (1/4 hộ), 32 triệu đ/hộ thoát nghèo — chỉ 4 hộ (dưới 10), chưa đủ để kết luận."
        );
    }
}
