//! A household as typed in a form or an import row, parsed into checked values with a
//! Vietnamese message per field for whatever is wrong (parse, don't validate).

use std::collections::BTreeMap;

use super::cccd::{Cccd, Gender};
use super::text::normalize_name;

/// What the user typed, field by field (form fields or spreadsheet cells).
#[derive(Clone, Default, serde::Deserialize, serde::Serialize, veil::Redact)]
pub struct HouseholdInput {
    #[serde(default)]
    pub commune_code: String,
    #[serde(default)]
    pub village: String,
    #[serde(default)]
    pub head_name: String,
    #[serde(default)]
    pub birth_year: String,
    #[serde(default)]
    pub gender: String,
    #[serde(default)]
    #[redact]
    pub cccd: String,
    /// The old 9-digit identity card number (CMND), for heads of household who have no CCCD yet.
    #[serde(default)]
    #[redact]
    pub old_id_number: String,
    #[serde(default)]
    pub household_code: String,
    #[serde(default)]
    pub ethnicity: String,
    #[serde(default)]
    pub members: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub status_year: String,
    #[serde(default)]
    pub lacks_capital: String,
    #[serde(default)]
    pub lacks_land: String,
    #[serde(default)]
    pub lacks_labour: String,
    #[serde(default)]
    pub lacks_technique: String,
    #[serde(default)]
    pub illness: String,
    #[serde(default)]
    pub other_needs: String,
    #[serde(default)]
    pub will_to_escape: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub notes: String,
}

/// A household that passed every check (the commune and village are resolved by the caller).
#[derive(Clone, PartialEq, serde::Serialize, veil::Redact)]
pub struct HouseholdDraft {
    pub commune_code: String,
    pub village: String,
    pub head_name: String,
    pub birth_year: Option<i32>,
    pub gender: Option<&'static str>,
    #[redact]
    pub cccd: Option<Cccd>,
    /// The CCCD was typed with 11 digits and its leading 0 restored (shown to the user).
    pub cccd_restored: bool,
    #[redact]
    pub old_id_number: Option<String>,
    /// A 9-digit number typed in the CCCD field was taken as the old CMND (shown to the user).
    pub old_id_moved: bool,
    pub household_code: Option<String>,
    pub ethnicity: &'static str,
    pub members: i32,
    pub status: &'static str,
    pub status_year: i32,
    pub lacks_capital: bool,
    pub lacks_land: bool,
    pub lacks_labour: bool,
    pub lacks_technique: bool,
    pub illness: bool,
    pub other_needs: Option<String>,
    pub will_to_escape: bool,
    pub phone: Option<String>,
    pub notes: Option<String>,
}

/// Field name → message.
pub type FieldErrors = BTreeMap<&'static str, String>;

pub const MAX_NAME: usize = 120;
pub const MAX_OTHER_NEEDS: usize = 500;
pub const MAX_NOTES: usize = 2000;

fn collapse(s: &str) -> String {
    super::text::clean(s)
}

fn optional_text(s: &str, max: usize, label: &str) -> Result<Option<String>, String> {
    let t = super::text::clean_multiline(s);
    let t = t.as_str();
    let n = t.chars().count();
    if n > max {
        return Err(format!("{label} dài tối đa {max} ký tự (đang có {n})."));
    }
    Ok((!t.is_empty()).then(|| t.to_string()))
}

fn parse_int(s: &str, label: &str, min: i32, max: i32) -> Result<Option<i32>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    // Spreadsheets turn whole numbers into "1985.0".
    let t = t.strip_suffix(".0").unwrap_or(t);
    match t.parse::<i64>() {
        Ok(v) if (i64::from(min)..=i64::from(max)).contains(&v) => Ok(Some(v as i32)),
        Ok(v) => Err(format!("{label} phải từ {min} đến {max} (đang là {v}).")),
        Err(_) => Err(format!(
            "{label} phải là số nguyên (đang là “{}”).",
            shorten(t)
        )),
    }
}

fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(30).collect();
    if s.chars().count() > 30 {
        out.push('…');
    }
    out
}

/// Yes/no cells: "x", "có", "1", "true" are yes; empty, "không", "0", "false" are no.
pub fn parse_flag(s: &str, label: &str) -> Result<bool, String> {
    match normalize_name(s).as_str() {
        "" | "khong" | "0" | "false" | "no" | "off" => Ok(false),
        "x" | "co" | "1" | "true" | "yes" | "on" => Ok(true),
        _ => Err(format!(
            "{label}: ghi “x” hoặc “có” nếu đúng, để trống nếu không (đang là “{}”).",
            shorten(s.trim())
        )),
    }
}

pub fn parse_gender(s: &str) -> Result<Option<Gender>, String> {
    match normalize_name(s).as_str() {
        "" => Ok(None),
        "nam" | "male" | "m" => Ok(Some(Gender::Male)),
        "nu" | "female" | "f" => Ok(Some(Gender::Female)),
        _ => Err(format!(
            "Giới tính ghi “Nam” hoặc “Nữ” (đang là “{}”).",
            shorten(s.trim())
        )),
    }
}

pub fn parse_ethnicity(s: &str) -> Result<&'static str, String> {
    match normalize_name(s).as_str() {
        "nung" => Ok("nung"),
        "tay" => Ok("tay"),
        "kinh" => Ok("kinh"),
        "dao" => Ok("dao"),
        "hoa" => Ok("hoa"),
        "khac" | "other" | "dan toc khac" => Ok("other"),
        "" => Err("Hãy chọn dân tộc.".into()),
        _ => Err(format!(
            "Dân tộc là Nùng, Tày, Kinh, Dao, Hoa hoặc Khác (đang là “{}”).",
            shorten(s.trim())
        )),
    }
}

pub fn parse_status(s: &str) -> Result<&'static str, String> {
    match normalize_name(s).as_str() {
        "poor" | "ngheo" | "ho ngheo" => Ok("poor"),
        "near poor" | "near_poor" | "can ngheo" | "ho can ngheo" => Ok("near_poor"),
        "escaped" | "thoat ngheo" | "da thoat ngheo" => Ok("escaped"),
        "" => Err("Hãy chọn tình trạng (hộ nghèo, cận nghèo, đã thoát nghèo).".into()),
        _ => Err(format!(
            "Tình trạng là “Hộ nghèo”, “Cận nghèo” hoặc “Thoát nghèo” (đang là “{}”).",
            shorten(s.trim())
        )),
    }
}

impl HouseholdInput {
    /// Check every field; `this_year` bounds the birth year and is the default status year.
    pub fn parse(&self, this_year: i32) -> Result<HouseholdDraft, FieldErrors> {
        let mut e = FieldErrors::new();
        let mut take = |field: &'static str, r: Result<(), String>| {
            if let Err(m) = r {
                e.entry(field).or_insert(m);
            }
        };

        let commune_code = self.commune_code.trim().to_string();
        take(
            "commune_code",
            if commune_code.is_empty() {
                Err("Hãy chọn xã, thị trấn.".into())
            } else {
                Ok(())
            },
        );
        let village = collapse(&self.village);
        take(
            "village",
            match village.chars().count() {
                0 => Err("Hãy nhập thôn, bản.".into()),
                1..=120 => Ok(()),
                n => Err(format!("Tên thôn dài tối đa 120 ký tự (đang có {n}).")),
            },
        );
        let head_name = collapse(&self.head_name);
        take(
            "head_name",
            match head_name.chars().count() {
                0 => Err("Hãy nhập họ tên chủ hộ.".into()),
                1 => Err("Họ tên chủ hộ quá ngắn.".into()),
                n if n > MAX_NAME => Err(format!(
                    "Họ tên chủ hộ dài tối đa {MAX_NAME} ký tự (đang có {n})."
                )),
                _ if !head_name.chars().any(char::is_alphabetic) => {
                    Err("Họ tên chủ hộ phải có chữ cái.".into())
                }
                // The duplicate check compares Vietnamese letters: a name with none (only
                // marks, digits, symbols or another script) could never be checked.
                _ if !crate::domain::text::canonical_words(&head_name)
                    .iter()
                    .any(|w| w.base.chars().any(|c| c.is_ascii_alphabetic() || c == 'đ')) =>
                {
                    Err("Họ tên chủ hộ phải viết bằng chữ cái tiếng Việt (chỉ có dấu, số hay ký hiệu thì không kiểm tra trùng hộ được).".into())
                }
                _ => Ok(()),
            },
        );
        let birth_year = parse_int(&self.birth_year, "Năm sinh", 1900, this_year);
        let gender = parse_gender(&self.gender);
        // A 9-digit number in the CCCD field (lists titled "Số CCCD/CMND" mix both) is the old
        // CMND: it goes to its own field, and the caller says so.
        let digits_of = |s: &str| -> String {
            s.chars()
                .filter(|c| !matches!(c, ' ' | '.' | '-'))
                .collect()
        };
        let typed_cccd = digits_of(&self.cccd);
        let old_in_cccd = matches!(
            crate::domain::cccd::IdNumber::read(&self.cccd),
            Some(crate::domain::cccd::IdNumber::Cmnd(_))
        ) && self.old_id_number.trim().is_empty();
        let old_id_number = {
            let raw = if old_in_cccd {
                typed_cccd.clone()
            } else {
                digits_of(&self.old_id_number)
            };
            if raw.is_empty() {
                Ok(None)
            } else if raw.len() == 9 && raw.chars().all(|c| c.is_ascii_digit()) {
                Ok(Some(raw))
            } else {
                Err(format!(
                    "Số CMND cũ gồm đúng 9 chữ số (đang là “{}”). Số 12 chữ số là CCCD: ghi vào ô Số CCCD.",
                    shorten(self.old_id_number.trim())
                ))
            }
        };
        let cccd = match (&birth_year, &gender) {
            _ if self.cccd.trim().is_empty() || old_in_cccd => Ok(None),
            (Ok(y), Ok(g)) => Cccd::parse_restoring(&self.cccd, *g, *y).map(Some),
            _ => Cccd::parse_restoring(&self.cccd, None, None).map(Some),
        };
        let household_code = optional_text(&self.household_code, 40, "Mã hộ nghèo");
        let ethnicity = parse_ethnicity(&self.ethnicity);
        let members = parse_int(&self.members, "Số nhân khẩu", 1, 50)
            .and_then(|m| m.ok_or_else(|| "Hãy nhập số nhân khẩu.".to_string()));
        let status = parse_status(&self.status);
        let status_year = parse_int(&self.status_year, "Năm xét tình trạng", 2000, 2100)
            .map(|y| y.unwrap_or(this_year));
        let flags = [
            (
                "lacks_capital",
                parse_flag(&self.lacks_capital, "Thiếu vốn"),
            ),
            ("lacks_land", parse_flag(&self.lacks_land, "Thiếu đất")),
            (
                "lacks_labour",
                parse_flag(&self.lacks_labour, "Thiếu lao động"),
            ),
            (
                "lacks_technique",
                parse_flag(&self.lacks_technique, "Thiếu kỹ thuật"),
            ),
            ("illness", parse_flag(&self.illness, "Ốm đau")),
            (
                "will_to_escape",
                parse_flag(&self.will_to_escape, "Có ý chí thoát nghèo"),
            ),
        ];
        let other_needs = optional_text(&self.other_needs, MAX_OTHER_NEEDS, "Nhu cầu khác");
        let notes = optional_text(&self.notes, MAX_NOTES, "Ghi chú");
        let phone = match self.phone.trim() {
            "" => Ok(None),
            p if p.len() <= 20
                && p.len() >= 6
                && p.chars().all(|c| c.is_ascii_digit() || " +.-".contains(c)) =>
            {
                Ok(Some(p.to_string()))
            }
            p => Err(format!(
                "Số điện thoại chỉ gồm 6–20 chữ số (đang là “{}”).",
                shorten(p)
            )),
        };

        let errs = |r: &Result<_, String>| r.as_ref().err().cloned();
        for (field, err) in [
            ("birth_year", errs(&birth_year.clone().map(|_| ()))),
            ("gender", errs(&gender.clone().map(|_| ()))),
            ("cccd", errs(&cccd.clone().map(|_| ()))),
            ("old_id_number", errs(&old_id_number.clone().map(|_| ()))),
            ("household_code", errs(&household_code.clone().map(|_| ()))),
            ("ethnicity", errs(&ethnicity.clone().map(|_| ()))),
            ("members", errs(&members.clone().map(|_| ()))),
            ("status", errs(&status.clone().map(|_| ()))),
            ("status_year", errs(&status_year.clone().map(|_| ()))),
            ("other_needs", errs(&other_needs.clone().map(|_| ()))),
            ("notes", errs(&notes.clone().map(|_| ()))),
            ("phone", errs(&phone.clone().map(|_| ()))),
        ] {
            if let Some(m) = err {
                take(field, Err(m));
            }
        }
        for (field, r) in &flags {
            if let Err(m) = r {
                take(field, Err(m.clone()));
            }
        }
        if !e.is_empty() {
            return Err(e);
        }
        let flag = |i: usize| flags[i].1.clone().unwrap_or(false);
        Ok(HouseholdDraft {
            commune_code,
            village,
            head_name,
            birth_year: birth_year.unwrap_or(None),
            gender: gender.unwrap_or(None).map(Gender::code),
            cccd_restored: matches!(cccd, Ok(Some((_, true)))),
            old_id_number: old_id_number.unwrap_or(None),
            old_id_moved: old_in_cccd,
            cccd: cccd.unwrap_or(None).map(|(c, _)| c),
            household_code: household_code.unwrap_or(None),
            ethnicity: ethnicity.unwrap_or("other"),
            members: members.unwrap_or(1),
            status: status.unwrap_or("poor"),
            status_year: status_year.unwrap_or(this_year),
            lacks_capital: flag(0),
            lacks_land: flag(1),
            lacks_labour: flag(2),
            lacks_technique: flag(3),
            illness: flag(4),
            other_needs: other_needs.unwrap_or(None),
            will_to_escape: flag(5),
            phone: phone.unwrap_or(None),
            notes: notes.unwrap_or(None),
        })
    }
}

/// R5: why a household comes first, if it does. The SQL filter in `db::households` says the same.
pub fn priority_reasons(d: &PriorityFacts) -> Vec<&'static str> {
    let mut out = Vec::new();
    if d.will_to_escape && (d.lacks_capital || d.lacks_technique) {
        out.push("Có ý chí thoát nghèo, thiếu vốn hoặc kỹ thuật");
    }
    if d.in_priority_commune {
        out.push("Thuộc xã được ưu tiên");
    }
    out
}

#[derive(Debug, Clone, Copy)]
pub struct PriorityFacts {
    pub will_to_escape: bool,
    pub lacks_capital: bool,
    pub lacks_technique: bool,
    pub in_priority_commune: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> HouseholdInput {
        HouseholdInput {
            commune_code: "06073".into(),
            village: " Thôn  Nà Pàn ".into(),
            head_name: "  Hoàng   Văn Thụ ".into(),
            birth_year: "1985".into(),
            gender: "Nam".into(),
            cccd: "020085001234".into(),
            ethnicity: "Tày".into(),
            members: "4".into(),
            status: "Hộ nghèo".into(),
            lacks_capital: "x".into(),
            will_to_escape: "có".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_good_row_parses_with_defaults() {
        let d = input().parse(2024).unwrap();
        assert_eq!(d.head_name, "Hoàng Văn Thụ");
        assert_eq!(d.village, "Thôn Nà Pàn");
        assert_eq!(
            (d.status, d.status_year, d.ethnicity, d.gender),
            ("poor", 2024, "tay", Some("male"))
        );
        assert!(d.lacks_capital && d.will_to_escape && !d.lacks_land);
    }

    #[test]
    fn each_bad_field_gets_its_own_message() {
        let mut i = input();
        i.birth_year = "31/02/2024".into();
        i.members = "mười".into();
        i.cccd = "0200850012".into();
        i.ethnicity = "Mông".into();
        i.lacks_land = "maybe".into();
        i.notes = "x".repeat(2001);
        let e = i.parse(2024).unwrap_err();
        assert!(e["birth_year"].contains("số nguyên"), "{e:?}");
        assert!(e["members"].contains("“mười”"));
        assert!(e["cccd"].contains("đang có 10"));
        assert!(e["ethnicity"].contains("Nùng, Tày"));
        assert!(e["lacks_land"].contains("“maybe”"));
        assert!(e["notes"].contains("tối đa 2000"));
        assert!(!e.contains_key("head_name"));
    }

    #[test]
    fn negative_and_out_of_range_numbers_are_refused() {
        let mut i = input();
        i.members = "-3".into();
        i.birth_year = "2030".into();
        let e = i.parse(2024).unwrap_err();
        assert!(e["members"].contains("từ 1 đến 50"));
        assert!(e["birth_year"].contains("từ 1900 đến 2024"));
    }

    #[test]
    fn the_cccd_must_agree_with_gender_and_birth_year() {
        let mut i = input();
        i.gender = "Nữ".into();
        assert!(i.parse(2024).unwrap_err()["cccd"].contains("giới tính"));
    }

    #[test]
    fn priority_follows_r5() {
        let f = |w, c, t, p| {
            priority_reasons(&PriorityFacts {
                will_to_escape: w,
                lacks_capital: c,
                lacks_technique: t,
                in_priority_commune: p,
            })
        };
        assert_eq!(f(true, true, false, false).len(), 1);
        assert_eq!(f(true, false, true, true).len(), 2);
        assert!(f(false, true, true, false).is_empty());
        assert_eq!(f(false, false, false, true), vec!["Thuộc xã được ưu tiên"]);
    }
}
