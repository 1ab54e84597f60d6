//! The national multidimensional poverty standard (issue #26) and a household's deprivation profile
//! under it. A standard is data (migration 0029: `poverty_standards`, `poverty_income_lines`,
//! `poverty_indicators`); this module holds only what is the same for every period: the rule
//! "income at or below the line, and N or more indicators short → poor; fewer → near-poor", the
//! reading of what a commune types or its review spreadsheet holds, and the advice of which forms
//! of help address which shortfalls.

use std::collections::BTreeSet;

use super::money::{group_thousands, parse_whole};

/// Where the household lives: the income line depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Area {
    Rural,
    Urban,
}

impl Area {
    pub fn as_str(self) -> &'static str {
        match self {
            Area::Rural => "rural",
            Area::Urban => "urban",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Area::Rural => "Nông thôn",
            Area::Urban => "Thành thị",
        }
    }

    /// `rural`, `Nông thôn`, `NT`, `nong thon`; `urban`, `Thành thị`, `đô thị`, `TT`.
    pub fn parse(s: &str) -> Option<Area> {
        match super::text::normalize_name(s).as_str() {
            "rural" | "nong thon" | "nt" | "khu vuc nong thon" => Some(Area::Rural),
            "urban" | "thanh thi" | "do thi" | "tt" | "khu vuc thanh thi" | "khu vuc do thi" => {
                Some(Area::Urban)
            }
            _ => None,
        }
    }
}

/// One indicator of a standard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    pub code: String,
    pub dimension: String,
    pub dimension_label: String,
    pub label: String,
    /// The column heading of the commune's review form.
    pub heading: String,
}

/// A period's standard, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standard {
    pub code: String,
    pub name: String,
    pub legal_basis: String,
    pub first_year: i32,
    pub last_year: i32,
    pub poor_min_short: usize,
    pub rural_line: i64,
    pub urban_line: i64,
    /// In the order of the review form.
    pub indicators: Vec<Indicator>,
    pub note: String,
}

/// What a profile implies under its year's standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implied {
    Poor,
    NearPoor,
    /// Income above the line: neither poor nor near-poor, whatever the shortfalls.
    NotPoor,
}

impl Implied {
    pub fn label(self) -> &'static str {
        match self {
            Implied::Poor => "Hộ nghèo",
            Implied::NearPoor => "Hộ cận nghèo",
            Implied::NotPoor => "Không thuộc hộ nghèo, cận nghèo",
        }
    }

    /// Whether the commune's official status (`poor`, `near_poor`, `escaped`) says the same.
    pub fn agrees_with(self, official: &str) -> bool {
        matches!(
            (self, official),
            (Implied::Poor, "poor")
                | (Implied::NearPoor, "near_poor")
                | (Implied::NotPoor, "escaped")
        )
    }
}

impl Standard {
    pub fn applies_to(&self, review_year: i32) -> bool {
        (self.first_year..=self.last_year).contains(&review_year)
    }

    pub fn income_line(&self, area: Area) -> i64 {
        match area {
            Area::Rural => self.rural_line,
            Area::Urban => self.urban_line,
        }
    }

    pub fn indicator(&self, code: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.code == code)
    }

    /// The rule of every period so far: at or below the line and `poor_min_short` or more
    /// indicators short is poor; at or below the line with fewer is near-poor; above it, neither.
    pub fn classify(&self, area: Area, income_per_person: i64, shortfalls: usize) -> Implied {
        if income_per_person > self.income_line(area) {
            Implied::NotPoor
        } else if shortfalls >= self.poor_min_short {
            Implied::Poor
        } else {
            Implied::NearPoor
        }
    }

    /// The dimensions in the order of the form, each with its indicators.
    pub fn dimensions(&self) -> Vec<(&str, Vec<&Indicator>)> {
        let mut out: Vec<(&str, Vec<&Indicator>)> = Vec::new();
        for i in &self.indicators {
            match out.iter_mut().find(|(d, _)| *d == i.dimension_label) {
                Some((_, list)) => list.push(i),
                None => out.push((&i.dimension_label, vec![i])),
            }
        }
        out
    }
}

/// The standard that decides a review year, or a message saying none does.
pub fn standard_for(standards: &[Standard], review_year: i32) -> Result<&Standard, String> {
    standards
        .iter()
        .find(|s| s.applies_to(review_year))
        .ok_or_else(|| {
            let known: Vec<String> = standards
                .iter()
                .map(|s| format!("{}–{}", s.first_year, s.last_year))
                .collect();
            format!(
                "Năm rà soát {review_year} chưa có chuẩn nghèo trong hệ thống (có chuẩn cho các năm {}).",
                known.join(", ")
            )
        })
}

/// The most income per person per month accepted: far above any line, so a figure above it is a
/// typing slip (a yearly or household total, extra zeros).
pub const MAX_INCOME: i64 = 100_000_000;

/// Income per person per month as typed: `1.500.000`, `1500000`, `1 500 000 đ`.
pub fn parse_income(s: &str) -> Result<i64, String> {
    let label = "Thu nhập bình quân (đồng/người/tháng)";
    let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let lower = t.to_lowercase();
    let unit = ["vnđ", "vnd", "đồng", "đ"]
        .iter()
        .find(|u| lower.ends_with(*u))
        .map_or(0, |u| u.chars().count());
    let t: String = t.chars().take(t.chars().count() - unit).collect();
    // A spreadsheet number cell read as "1500000.0".
    let t = t.strip_suffix(".0").unwrap_or(&t).to_string();
    if t.is_empty() {
        return Err(format!("{label}: hãy ghi số tiền."));
    }
    let v = parse_whole(&t, label, i64::MAX / 4, "đồng")?;
    if v > MAX_INCOME {
        return Err(format!(
            "{label}: {} đ một người một tháng là quá lớn (tối đa {} đ); có thể đã ghi thu nhập cả năm hoặc cả hộ.",
            group_thousands(v),
            group_thousands(MAX_INCOME)
        ));
    }
    Ok(v)
}

/// A cell of an indicator column: short (`x`, `có`, `1`, `thiếu`), met (`không`, `0`, `đủ`,
/// blank), or a message.
pub fn parse_mark(s: &str) -> Result<bool, String> {
    let raw = s.trim();
    if raw.is_empty() || raw == "-" {
        return Ok(false);
    }
    if ["✓", "✔", "☑", "☒", "✗", "✘"].contains(&raw) {
        return Ok(true);
    }
    match super::text::normalize_name(raw).as_str() {
        "x" | "co" | "1" | "thieu" | "thieu hut" | "yes" | "v" => Ok(true),
        "khong" | "0" | "du" | "khong thieu" | "khong thieu hut" | "no" => Ok(false),
        _ => Err(format!(
            "“{}” không phải là có/không: ghi “x” (hoặc “có”) nếu thiếu hụt, để trống (hoặc “không”) nếu không thiếu hụt.",
            raw.chars().take(30).collect::<String>()
        )),
    }
}

/// What the user typed for one review (form fields or spreadsheet cells).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ProfileInput {
    #[serde(default)]
    pub review_year: String,
    #[serde(default)]
    pub area: String,
    #[serde(default)]
    pub income: String,
    /// Codes of the indicators ticked as short.
    #[serde(default)]
    pub short_of: Vec<String>,
    #[serde(default)]
    pub wishes: String,
}

/// A review, checked against its year's standard.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Profile {
    pub review_year: i32,
    pub standard_code: String,
    pub area: Area,
    pub income_per_person: i64,
    /// In the standard's order.
    pub short_of: Vec<String>,
    pub wishes: String,
}

/// The longest "thoughts and wishes" kept.
pub const MAX_WISHES: usize = 1000;

impl ProfileInput {
    /// The review checked field by field: (field, message) for each problem.
    pub fn parse(&self, standards: &[Standard]) -> Result<Profile, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let year = match self.review_year.trim().parse::<i32>() {
            Ok(y) if (2000..=2100).contains(&y) => Some(y),
            _ => {
                errors.push((
                    "review_year",
                    "Năm rà soát: hãy ghi năm, ví dụ 2025.".to_string(),
                ));
                None
            }
        };
        let standard = match year.map(|y| standard_for(standards, y)) {
            Some(Ok(s)) => Some(s),
            Some(Err(m)) => {
                errors.push(("review_year", m));
                None
            }
            None => None,
        };
        let area = Area::parse(&self.area);
        if area.is_none() {
            errors.push((
                "area",
                "Khu vực: chọn nông thôn hoặc thành thị.".to_string(),
            ));
        }
        let income = parse_income(&self.income).map_err(|m| errors.push(("income", m)));
        let wishes = crate::domain::text::clean_multiline(&self.wishes);
        if wishes.chars().count() > MAX_WISHES {
            errors.push((
                "wishes",
                format!("Tâm tư, nguyện vọng: tối đa {MAX_WISHES} ký tự."),
            ));
        }
        let mut short_of = Vec::new();
        if let Some(s) = standard {
            let ticked: BTreeSet<&str> = self.short_of.iter().map(|c| c.trim()).collect();
            for code in &ticked {
                if s.indicator(code).is_none() {
                    errors.push((
                        "short_of",
                        format!(
                            "Chỉ số “{}” không có trong {}.",
                            code.chars().take(40).collect::<String>(),
                            s.name
                        ),
                    ));
                }
            }
            short_of = s
                .indicators
                .iter()
                .filter(|i| ticked.contains(i.code.as_str()))
                .map(|i| i.code.clone())
                .collect();
        }
        match (year, standard, area, income) {
            (Some(review_year), Some(s), Some(area), Ok(income_per_person))
                if errors.is_empty() =>
            {
                Ok(Profile {
                    review_year,
                    standard_code: s.code.clone(),
                    area,
                    income_per_person,
                    short_of,
                    wishes,
                })
            }
            _ => Err(errors),
        }
    }
}

mod advice;
pub use advice::{Needs, Suggestion, suggest};

#[cfg(test)]
mod tests {
    use super::*;

    fn indicators() -> Vec<Indicator> {
        [
            ("viec_lam", "viec_lam"),
            ("nguoi_phu_thuoc", "viec_lam"),
            ("dinh_duong", "y_te"),
            ("bao_hiem_y_te", "y_te"),
            ("chat_luong_nha", "nha_o"),
            ("nuoc_sinh_hoat", "nuoc_ve_sinh"),
        ]
        .iter()
        .map(|(c, d)| Indicator {
            code: c.to_string(),
            dimension: d.to_string(),
            dimension_label: d.to_string(),
            label: c.to_string(),
            heading: c.to_string(),
        })
        .collect()
    }

    fn standard(first: i32, last: i32, rural: i64, urban: i64) -> Standard {
        Standard {
            code: format!("s{first}"),
            name: format!("Chuẩn {first}"),
            legal_basis: String::new(),
            first_year: first,
            last_year: last,
            poor_min_short: 3,
            rural_line: rural,
            urban_line: urban,
            indicators: indicators(),
            note: String::new(),
        }
    }

    #[test]
    fn a_review_year_without_a_standard_is_named() {
        let all = [standard(2022, 2026, 1, 2)];
        let e = standard_for(&all, 2019).unwrap_err();
        assert!(e.contains("2019") && e.contains("2022–2026"), "{e}");
    }

    #[test]
    fn wishes_and_shortfalls_rank_the_forms_that_answer_them() {
        let s = standard(2022, 2026, 1_500_000, 2_000_000);
        let p = Profile {
            review_year: 2024,
            standard_code: s.code.clone(),
            area: Area::Rural,
            income_per_person: 900_000,
            short_of: vec!["chat_luong_nha".into(), "nuoc_sinh_hoat".into()],
            wishes: "Gia đình muốn sửa lại nhà".into(),
        };
        let out = suggest(Some(&s), Some(&p), Needs::default());
        assert_eq!(out[0].group, "housing");
        assert_eq!(out[0].score, 7, "{out:?}");
        assert_eq!(out[0].because.len(), 2);
        assert_eq!(out[1].what, "Bể, téc chứa nước sinh hoạt");
        let work = suggest(
            Some(&s),
            Some(&Profile {
                short_of: vec!["viec_lam".into()],
                wishes: String::new(),
                ..p.clone()
            }),
            Needs {
                lacks_capital: true,
                ..Needs::default()
            },
        );
        assert_eq!(
            work.iter().take(2).map(|s| s.group).collect::<Vec<_>>(),
            ["cattle", "pigs"]
        );
        assert_eq!(
            work[0].because,
            ["thiếu hụt viec_lam", "thiếu vốn sản xuất"]
        );
        assert!(suggest(None, None, Needs::default()).is_empty());
    }

    #[test]
    fn a_wish_is_read_by_its_marks_not_by_a_word_that_loses_them() {
        let p = |wishes: &str| Profile {
            review_year: 2024,
            standard_code: "s".into(),
            area: Area::Rural,
            income_per_person: 0,
            short_of: Vec::new(),
            wishes: wishes.into(),
        };
        let groups = |w: &str| -> Vec<&'static str> {
            suggest(None, Some(&p(w)), Needs::default())
                .iter()
                .map(|s| s.group)
                .collect()
        };
        // "bỏ" (drop out), "bố" (father), "lớn" (big), "để" (in order to), "quê" (home village).
        assert!(groups("Bố muốn con lớn không bỏ học, để về quê làm ăn").is_empty());
        assert_eq!(groups("Muốn được hỗ trợ bò giống"), ["cattle"]);
        assert_eq!(groups("muon duoc ho tro bo giong"), ["cattle"]);
        assert_eq!(groups("Mong có vốn nuôi LỢN nái"), ["pigs"]);
        // Decomposed (as some phones paste it) reads the same.
        assert_eq!(groups("Mong được sửa nha\u{300}"), ["housing"]);
    }

    #[test]
    fn indicator_cells_read_yes_no_blank_and_refuse_the_rest() {
        for yes in ["x", "X", " có ", "1", "Thiếu", "thiếu hụt", "✓"] {
            assert_eq!(parse_mark(yes), Ok(true), "{yes}");
        }
        for no in ["", "không", "0", "Đủ", "-"] {
            assert_eq!(parse_mark(no), Ok(false), "{no}");
        }
        for bad in ["2", "có lẽ", "?", "nghèo"] {
            assert!(parse_mark(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn income_as_typed_and_the_absurd_refused() {
        assert_eq!(parse_income("1.500.000"), Ok(1_500_000));
        assert_eq!(parse_income("1 500 000 đ"), Ok(1_500_000));
        assert_eq!(parse_income("1500000.0"), Ok(1_500_000));
        assert_eq!(parse_income("0"), Ok(0));
        for bad in ["", "-5", "một triệu", "1,5", "18.000.000.000"] {
            assert!(parse_income(bad).is_err(), "{bad}");
        }
    }
}
