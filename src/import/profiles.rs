//! Import of a commune's yearly poverty review (issue #26): the list the commune keeps after its
//! review — title rows, a header whose upper row groups the indicator columns under one merged
//! heading ("Các chỉ số thiếu hụt dịch vụ xã hội cơ bản"), a numbering row, signatures — read like
//! the household import (`import::locate_header`), each row found in the registry by its poor-
//! household code or its CCCD. Every row is checked first; the rows are then written all in one
//! transaction, or none when any row has a problem.

use std::collections::HashMap;

use sqlx::PgPool;
use uuid::Uuid;

use super::households::Problem;
use super::{Layout, Table, locate_header};
use crate::db::audit::By;
use crate::db::profiles;
use crate::domain::cccd::IdNumber;
use crate::domain::poverty::{
    Area, Implied, Profile, ProfileInput, Standard, parse_mark, standard_for,
};
use crate::domain::text::normalize_name;

/// A row ready to be written.
#[derive(Debug, Clone)]
pub struct Ready {
    pub line: usize,
    pub household: Uuid,
    pub head_name: String,
    pub profile: Profile,
    pub implied: Implied,
}

#[derive(Debug, Clone, Default)]
pub struct Checked {
    pub rows: Vec<Ready>,
    pub problems: Vec<Problem>,
    pub layout: Layout,
    pub total_rows: usize,
}

impl Checked {
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && !self.rows.is_empty()
    }
}

/// Where the review goes: its year (a "Năm rà soát" column overrides it row by row), the area
/// of rows that leave "Khu vực" empty, and the commune a commune official may write to.
#[derive(Debug, Clone)]
pub struct Target {
    pub review_year: i32,
    pub default_area: Area,
    pub only_commune: Option<String>,
}

/// The fields of the review list a header cell can stand for: the household's keys, the
/// figures, and each indicator of the standard by its heading or label.
fn field_for_header(h: &str, standard: &Standard) -> Option<String> {
    let n = normalize_name(h.trim_end_matches("(*)"));
    let fixed = match n.as_str() {
        "ma ho" | "ma ho ngheo" | "ma so ho" | "ma ho gia dinh" => Some("household_code"),
        "so cccd" | "cccd" | "so can cuoc" | "so can cuoc cong dan" | "so dinh danh" => {
            Some("cccd")
        }
        "ho ten chu ho" | "ho va ten chu ho" | "chu ho" | "ten chu ho" => Some("head_name"),
        "khu vuc" | "khu vuc nong thon thanh thi" => Some("area"),
        "nam ra soat" | "nam" => Some("review_year"),
        "tam tu nguyen vong" | "nguyen vong" | "tam tu nguyen vong cua ho" | "mong muon" => {
            Some("wishes")
        }
        _ if n.starts_with("thu nhap") => Some("income"),
        _ => None,
    };
    if let Some(f) = fixed {
        return Some(f.to_string());
    }
    standard
        .indicators
        .iter()
        .find(|i| normalize_name(&i.heading) == n || normalize_name(&i.label) == n)
        .map(|i| format!("i:{}", i.code))
}

/// Check every row of a review list against the registry and the year's standard.
pub async fn check(
    pool: &PgPool,
    table: &Table,
    target: &Target,
) -> anyhow::Result<Result<Checked, String>> {
    let standards = profiles::standards(pool).await?;
    let standard = match standard_for(&standards, target.review_year) {
        Ok(s) => s.clone(),
        Err(m) => return Ok(Err(m)),
    };
    // locate_header counts the distinct fields a row names: each recognised column gets a static
    // name (the indicators by position).
    let names: Vec<(String, &'static str)> = FIELD_NAMES
        .iter()
        .map(|f| (f.to_string(), *f))
        .chain(
            standard
                .indicators
                .iter()
                .zip(INDICATOR_SLOTS)
                .map(|(i, slot)| (format!("i:{}", i.code), *slot)),
        )
        .collect();
    let to_static = |f: String| names.iter().find(|(n, _)| *n == f).map(|(_, s)| *s);
    let original = table;
    let (mut table, mut layout) = match locate_header(
        table,
        |h| field_for_header(h, &standard).and_then(to_static),
        4,
    ) {
        Ok(x) => x,
        Err(m) => {
            return Ok(Err(format!(
                "{m} Danh sách rà soát cần các cột Mã hộ (hoặc Số CCCD), Thu nhập bình quân và các chỉ số thiếu hụt."
            )));
        }
    };
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, h) in table.headers.iter().enumerate() {
        if let Some(f) = field_for_header(h, &standard) {
            index.entry(f).or_insert(i);
        }
    }
    // A household short of few indicators fills few cells, which the generic reading takes for a
    // signature row at the end of the list: a row that names a household (its code or CCCD) is a
    // row of the list, whatever else it leaves blank.
    let keys: Vec<usize> = ["household_code", "cccd"]
        .iter()
        .filter_map(|f| index.get(*f).copied())
        .collect();
    let named_household = |row: &[String]| {
        keys.iter()
            .any(|k| row.get(*k).is_some_and(|c| !c.trim().is_empty()))
    };
    let trailing = std::mem::take(&mut layout.trailing_lines);
    for line in trailing {
        match original.rows.iter().find(|(l, _)| *l == line) {
            Some((l, row)) if named_household(row) => table.rows.push((*l, row.clone())),
            _ => layout.trailing_lines.push(line),
        }
    }
    let mut problems = Vec::new();
    if !index.contains_key("household_code") && !index.contains_key("cccd") {
        return Ok(Err(
            "Không có cột Mã hộ hay Số CCCD: không biết mỗi dòng là hộ nào.".into(),
        ));
    }
    if !index.contains_key("income") {
        return Ok(Err(
            "Không có cột Thu nhập bình quân (đồng/người/tháng).".into()
        ));
    }
    let cell = |row: &[String], f: &str| -> String {
        index
            .get(f)
            .and_then(|i| row.get(*i))
            .map(|c| c.trim().to_string())
            .unwrap_or_default()
    };
    // The keys of every row, looked up at once.
    let mut codes = Vec::new();
    let mut cccds = Vec::new();
    for (_, row) in &table.rows {
        let c = cell(row, "household_code");
        if !c.is_empty() {
            codes.push(c);
        }
        if let Some(IdNumber::Cccd(c)) = IdNumber::read(&cell(row, "cccd")) {
            cccds.push(c.as_str().to_string());
        }
    }
    let found = profiles::household_keys(pool, &codes, &cccds).await?;
    let mut rows = Vec::new();
    let mut seen: HashMap<(Uuid, i32), usize> = HashMap::new();
    for (line, row) in &table.rows {
        let line = *line;
        let mut problem = |column: &str, message: String| {
            problems.push(Problem {
                line,
                column: column.to_string(),
                message,
            })
        };
        let code = cell(row, "household_code");
        let cccd = match IdNumber::read(&cell(row, "cccd")) {
            Some(IdNumber::Cccd(c)) => Some(c.as_str().to_string()),
            _ => None,
        };
        let matches: Vec<_> = found
            .iter()
            .filter(|(_, _, hc, hcccd, _)| {
                (!code.is_empty() && hc.as_deref() == Some(code.as_str()))
                    || (cccd.is_some() && *hcccd == cccd)
            })
            .collect();
        // A household code is unique within a commune only: with a commune official's scope the
        // row is read in that commune.
        let matches: Vec<_> = match &target.only_commune {
            Some(c) if matches.iter().any(|m| &m.1 == c) => {
                matches.into_iter().filter(|m| &m.1 == c).collect()
            }
            _ => matches,
        };
        let household = match matches.as_slice() {
            [] => {
                problem(
                    if code.is_empty() {
                        "Số CCCD"
                    } else {
                        "Mã hộ"
                    },
                    format!(
                        "Không tìm thấy hộ có {} trong sổ hộ.",
                        if code.is_empty() {
                            "số CCCD này".to_string()
                        } else {
                            format!("mã hộ “{}”", code.chars().take(40).collect::<String>())
                        }
                    ),
                );
                None
            }
            [one] => {
                if target.only_commune.as_deref().is_some_and(|c| c != one.1) {
                    problem(
                        "Mã hộ",
                        format!(
                            "Hộ {} thuộc xã khác: cán bộ xã chỉ ghi rà soát cho hộ của xã mình.",
                            one.4
                        ),
                    );
                    None
                } else {
                    Some((one.0, one.4.clone()))
                }
            }
            _ => {
                problem(
                    "Mã hộ",
                    format!(
                        "Mã hộ “{code}” có ở {} xã: hãy ghi thêm số CCCD của chủ hộ.",
                        matches.len()
                    ),
                );
                None
            }
        };
        let year_cell = cell(row, "review_year");
        let mut input = ProfileInput {
            review_year: if year_cell.is_empty() {
                target.review_year.to_string()
            } else {
                year_cell
            },
            area: match cell(row, "area") {
                a if a.is_empty() => target.default_area.as_str().to_string(),
                a => a,
            },
            income: cell(row, "income"),
            short_of: Vec::new(),
            wishes: cell(row, "wishes"),
        };
        for i in &standard.indicators {
            let raw = cell(row, &format!("i:{}", i.code));
            match parse_mark(&raw) {
                Ok(true) => input.short_of.push(i.code.clone()),
                Ok(false) => {}
                Err(m) => problem(&i.heading, m),
            }
        }
        match input.parse(&standards) {
            Err(errs) => {
                for (field, m) in errs {
                    problem(column_label(field), m);
                }
            }
            Ok(profile) => {
                if let Some((household, head_name)) = household {
                    if let Some(first) = seen.insert((household, profile.review_year), line) {
                        problem(
                            "Mã hộ",
                            format!("Hộ {head_name} đã có ở dòng {first} cho cùng năm rà soát."),
                        );
                        continue;
                    }
                    let s = standard_for(&standards, profile.review_year)
                        .map_err(anyhow::Error::msg)?;
                    rows.push(Ready {
                        line,
                        household,
                        head_name,
                        implied: s.classify(
                            profile.area,
                            profile.income_per_person,
                            profile.short_of.len(),
                        ),
                        profile,
                    });
                }
            }
        }
    }
    Ok(Ok(Checked {
        total_rows: table.rows.len(),
        rows,
        problems,
        layout,
    }))
}

fn column_label(field: &str) -> &'static str {
    match field {
        "review_year" => "Năm rà soát",
        "area" => "Khu vực",
        "income" => "Thu nhập bình quân",
        "wishes" => "Tâm tư, nguyện vọng",
        _ => "Chỉ số thiếu hụt",
    }
}

const FIELD_NAMES: &[&str] = &[
    "household_code",
    "cccd",
    "head_name",
    "area",
    "review_year",
    "wishes",
    "income",
];

/// Static names for the indicator columns (a standard has at most this many indicators).
const INDICATOR_SLOTS: &[&str] = &[
    "i1", "i2", "i3", "i4", "i5", "i6", "i7", "i8", "i9", "i10", "i11", "i12", "i13", "i14", "i15",
    "i16", "i17", "i18", "i19", "i20", "i21", "i22", "i23", "i24",
];

/// Write the checked rows (all of them, in one transaction).
pub async fn commit(pool: &PgPool, by: &By, c: &Checked, file: &str) -> sqlx::Result<()> {
    let rows: Vec<(Uuid, Profile)> = c
        .rows
        .iter()
        .map(|r| (r.household, r.profile.clone()))
        .collect();
    profiles::save_many(pool, by, &rows, file).await
}

/// An official-layout review list to fill in (xlsx): title rows, the merged indicator heading,
/// the numbering row, one example row.
pub fn template_xlsx(
    standard: &Standard,
    year: i32,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let bold = Format::new().set_bold().set_align(FormatAlign::Center);
    let head = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin);
    let fixed = [
        "STT",
        "Họ và tên chủ hộ",
        "Mã hộ",
        "Số CCCD",
        "Khu vực",
        "Thu nhập bình quân (đồng/người/tháng)",
    ];
    let n = fixed.len() + standard.indicators.len() + 1;
    let last = (n - 1) as u16;
    ws.merge_range(0, 0, 0, 5, "ỦY BAN NHÂN DÂN XÃ ……", &bold)?;
    ws.merge_range(
        1,
        0,
        1,
        last,
        &format!("DANH SÁCH KẾT QUẢ RÀ SOÁT HỘ NGHÈO, HỘ CẬN NGHÈO NĂM {year}"),
        &bold,
    )?;
    ws.merge_range(
        2,
        0,
        2,
        last,
        &format!("(theo {})", standard.legal_basis),
        &bold,
    )?;
    for (c, h) in fixed.iter().enumerate() {
        ws.merge_range(4, c as u16, 5, c as u16, h, &head)?;
    }
    let first = fixed.len() as u16;
    ws.merge_range(
        4,
        first,
        4,
        first + standard.indicators.len() as u16 - 1,
        "Các chỉ số thiếu hụt dịch vụ xã hội cơ bản (ghi x nếu thiếu hụt)",
        &head,
    )?;
    for (k, i) in standard.indicators.iter().enumerate() {
        ws.write_with_format(5, first + k as u16, &i.heading, &head)?;
    }
    ws.merge_range(4, last, 5, last, "Tâm tư, nguyện vọng", &head)?;
    for c in 0..n {
        ws.write(6, c as u16, format!("({})", c + 1))?;
    }
    let example = ["1", "Hoàng Văn Thụ", "HN-001", "", "Nông thôn", "1.200.000"];
    for (c, v) in example.iter().enumerate() {
        ws.write(7, c as u16, *v)?;
    }
    ws.write(7, first, "x")?;
    ws.write(7, first + 6, "x")?;
    ws.write(7, last, "Muốn được hỗ trợ bò giống")?;
    ws.set_column_width(1, 24)?;
    ws.set_column_width(5, 16)?;
    ws.set_column_width(last, 30)?;
    wb.save_to_buffer()
}
