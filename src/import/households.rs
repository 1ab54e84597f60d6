//! Importing household lists: map the columns, check every row, find duplicates in the file and
//! in the registry, and — only once the user confirms — write all rows in one transaction.

use std::collections::HashMap;

use sqlx::PgPool;
use uuid::Uuid;

use super::{Layout, Table, locate_header};
use crate::db::audit::{self, By};
use crate::db::households::exact_matches;
use crate::domain::duplicates::Thresholds;
use crate::domain::household::{HouseholdDraft, HouseholdInput};
use crate::domain::spreadsheet::SafeCsv;
use crate::domain::text::{normalize_name, village_key};

/// Rows accepted in one upload in the browser; the command line has no limit.
pub const BROWSER_ROW_LIMIT: usize = 10_000;

/// The columns of the template, in order: (field, header, required).
pub const COLUMNS: &[(&str, &str, bool)] = &[
    ("commune_code", "Xã", true),
    ("village", "Thôn", true),
    ("head_name", "Họ tên chủ hộ", true),
    ("birth_year", "Năm sinh", false),
    ("gender", "Giới tính", false),
    ("cccd", "Số CCCD", false),
    ("old_id_number", "Số CMND cũ", false),
    ("household_code", "Mã hộ nghèo", false),
    ("ethnicity", "Dân tộc", true),
    ("members", "Số nhân khẩu", true),
    ("status", "Tình trạng", true),
    ("status_year", "Năm xét", false),
    ("lacks_capital", "Thiếu vốn", false),
    ("lacks_land", "Thiếu đất", false),
    ("lacks_labour", "Thiếu lao động", false),
    ("lacks_technique", "Thiếu kỹ thuật", false),
    ("illness", "Ốm đau", false),
    ("other_needs", "Nhu cầu khác", false),
    ("will_to_escape", "Có ý chí thoát nghèo", false),
    ("phone", "Điện thoại", false),
    ("notes", "Ghi chú", false),
];

/// The example row of the template.
pub const EXAMPLE: &[&str] = &[
    "06073",
    "Thôn Nà Pàn",
    "Hoàng Văn Thụ",
    "1985",
    "Nam",
    "020085001234",
    "",
    "HN-06073-0001",
    "Tày",
    "4",
    "Hộ nghèo",
    "2024",
    "x",
    "",
    "",
    "x",
    "",
    "",
    "x",
    "0912345678",
    "",
];

/// Other headers people write for the same column.
pub fn field_for_header(h: &str) -> Option<&'static str> {
    let n = normalize_name(h.trim_end_matches("(*)"));
    // The template's names, and those of the lists of the annual review of poor households
    // (rà soát hộ nghèo, hộ cận nghèo) that communes keep.
    let by_alias = match n.as_str() {
        "ma xa" | "xa thi tran" | "xa phuong" | "ma xa thi tran" | "xa phuong thi tran"
        | "ten xa" => Some("commune_code"),
        "thon ban"
        | "thon ban to"
        | "ban"
        | "to dan pho"
        | "thon"
        | "thon xom"
        | "thon to"
        | "dia chi"
        | "dia chi thon ban"
        | "dia chi thon"
        | "noi o thon ban"
        | "thon ban to dan pho" => Some("village"),
        "chu ho" | "ho va ten chu ho" | "ho ten" | "ten chu ho" | "ho ten chu ho" | "ho va ten" => {
            Some("head_name")
        }
        "cccd"
        | "so can cuoc"
        | "can cuoc cong dan"
        | "so cccd cmnd"
        | "so cccd"
        | "cccd cmnd"
        | "so cmnd cccd"
        | "so dinh danh"
        | "so dinh danh ca nhan"
        | "so can cuoc cong dan"
        | "so cccd cmnd cua chu ho"
        | "so dinh danh ca nhan cua chu ho" => Some("cccd"),
        "cmnd"
        | "so cmnd"
        | "so chung minh nhan dan"
        | "chung minh nhan dan"
        | "cmnd cu"
        | "so cmnd cu" => Some("old_id_number"),
        "ma ho" | "ma so ho" | "ma ho ngheo can ngheo" | "ma ho gia dinh" => Some("household_code"),
        "nhan khau"
        | "so nhan khau trong ho"
        | "so thanh vien"
        | "tong so nhan khau"
        | "so khau"
        | "so nguoi trong ho" => Some("members"),
        "nam sinh chu ho" | "nam sinh" => Some("birth_year"),
        "gioi tinh chu ho" | "gioi tinh" | "nam nu" => Some("gender"),
        "dan toc chu ho" | "dan toc" => Some("ethnicity"),
        "phan loai ho" | "phan loai" | "loai ho" | "ho ngheo can ngheo" | "ket qua ra soat"
        | "tinh trang ho" => Some("status"),
        "nam" | "nam tinh trang" | "nam ra soat" | "nam xet" => Some("status_year"),
        "y chi thoat ngheo" => Some("will_to_escape"),
        "thieu von san xuat" => Some("lacks_capital"),
        "thieu dat san xuat" | "thieu dat" => Some("lacks_land"),
        "thieu lao dong" => Some("lacks_labour"),
        "thieu kien thuc ky thuat" | "thieu ky thuat" | "thieu kien thuc" => {
            Some("lacks_technique")
        }
        "om dau benh tat" | "co nguoi om dau" | "om dau" => Some("illness"),
        "sdt" | "so dien thoai" | "dien thoai" => Some("phone"),
        "ghi chu" => Some("notes"),
        _ => None,
    };
    by_alias.or_else(|| {
        COLUMNS
            .iter()
            .find(|(_, header, _)| normalize_name(header) == n)
            .map(|(f, _, _)| *f)
    })
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Line in the file (1-based), or 0 for the file as a whole.
    pub line: usize,
    pub column: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Preview {
    /// The rows a confirmation would write: every row without a problem.
    pub rows: Vec<(usize, HouseholdDraft)>,
    pub problems: Vec<Problem>,
    /// What the import changes from what the file says, row by row ("restored leading 0").
    pub notes: Vec<Problem>,
    /// Where the header was found and which rows are no data.
    pub layout: Layout,
    /// Probable duplicates (R4): the same head of household in the same village. They do not
    /// stop the import, but confirming it then needs a reason.
    pub warnings: Vec<Problem>,
    pub total_rows: usize,
}

impl Preview {
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && !self.rows.is_empty()
    }
}

/// Where the rows may go: a commune official imports only into their commune; `default_commune`
/// fills rows that leave the commune column empty (`--commune CODE`).
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub only_commune: Option<String>,
    pub default_commune: Option<String>,
    pub row_limit: Option<usize>,
}

fn header_label(field: &str) -> &'static str {
    COLUMNS
        .iter()
        .find(|(f, _, _)| *f == field)
        .map(|(_, h, _)| *h)
        .unwrap_or("")
}

/// Check a whole file: every problem by line and column, duplicates within the file and with
/// the registry. Writes nothing.
/// Which column holds which field (the first one wins), and the headers not recognised.
pub fn column_index(headers: &[String]) -> (HashMap<&'static str, usize>, Vec<String>) {
    let mut index: HashMap<&'static str, usize> = HashMap::new();
    let mut unknown = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        match field_for_header(h) {
            Some(f) => {
                index.entry(f).or_insert(i);
            }
            None if !h.trim().is_empty() => unknown.push(h.trim().to_string()),
            None => {}
        }
    }
    (index, unknown)
}

/// One row of the file as the household form's input (missing cells are empty).
pub fn row_input(index: &HashMap<&'static str, usize>, cells: &[String]) -> HouseholdInput {
    let cell = |field: &str| {
        index
            .get(field)
            .and_then(|i| cells.get(*i))
            .cloned()
            .unwrap_or_default()
    };
    HouseholdInput {
        commune_code: cell("commune_code"),
        village: cell("village"),
        head_name: cell("head_name"),
        birth_year: cell("birth_year"),
        gender: cell("gender"),
        cccd: cell("cccd"),
        old_id_number: cell("old_id_number"),
        household_code: cell("household_code"),
        ethnicity: cell("ethnicity"),
        members: cell("members"),
        status: cell("status"),
        status_year: cell("status_year"),
        lacks_capital: cell("lacks_capital"),
        lacks_land: cell("lacks_land"),
        lacks_labour: cell("lacks_labour"),
        lacks_technique: cell("lacks_technique"),
        illness: cell("illness"),
        other_needs: cell("other_needs"),
        will_to_escape: cell("will_to_escape"),
        phone: cell("phone"),
        notes: cell("notes"),
    }
}

/// The layout the preview found, in words: the header line, the numbering row and the trailing
/// rows that are no household.
pub fn layout_lines(l: &Layout) -> Vec<String> {
    let mut out = Vec::new();
    if !l.header_lines.is_empty() {
        out.push(format!("Dòng tiêu đề: {}.", l.header_label()));
    }
    if let Some(n) = l.numbering_line {
        out.push(format!("Bỏ qua dòng {n}: dòng đánh số cột (1), (2), (3)…"));
    }
    match l.trailing_lines.as_slice() {
        [] => {}
        [one] => out.push(format!(
            "Bỏ qua dòng {one} ở cuối: không phải hộ (chữ ký, ngày tháng, tổng cộng…)."
        )),
        [first, .., last] => out.push(format!(
            "Bỏ qua các dòng {first}–{last} ở cuối: không phải hộ (chữ ký, ngày tháng, tổng cộng…)."
        )),
    }
    out
}

/// What a header row must hold, for the message when none is found.
const HEADER_NEEDS: &str = "Dòng tiêu đề phải có các cột Thôn, Họ tên chủ hộ, Dân tộc, Số nhân khẩu, \
     Tình trạng (và Xã, trừ khi đã chọn xã khi tải lên), đặt tên như trong tệp mẫu hoặc như danh sách \
     rà soát hộ nghèo hằng năm (“Họ và tên chủ hộ”, “Thôn/bản”, “Số CCCD/CMND”, “Phân loại hộ”…).";

pub async fn preview(
    pool: &PgPool,
    table: &Table,
    target: &Target,
    this_year: i32,
    thresholds: Thresholds,
) -> sqlx::Result<Preview> {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let whole = |m: String| Problem {
        line: 0,
        column: String::new(),
        message: m,
    };
    let empty = |problems: Vec<Problem>, layout: Layout, total_rows: usize| Preview {
        rows: vec![],
        problems,
        notes: vec![],
        layout,
        warnings: vec![],
        total_rows,
    };

    // Official lists carry the committee, the motto and the title above the header, a numbering
    // row below it and signatures at the end: find the header by what it says.
    let (table, layout) = match locate_header(table, field_for_header, 2) {
        Ok(found) => found,
        Err(m) => {
            problems.push(whole(format!("{m} {HEADER_NEEDS}")));
            return Ok(empty(problems, Layout::default(), table.rows.len()));
        }
    };
    let table = &table;
    let (index, unknown) = column_index(&table.headers);
    let missing: Vec<&str> = COLUMNS
        .iter()
        .filter(|(f, _, required)| *required && !index.contains_key(f))
        .filter(|(f, _, _)| !(*f == "commune_code" && target.default_commune.is_some()))
        .map(|(_, h, _)| *h)
        .collect();
    if !missing.is_empty() {
        let mut m = format!(
            "Dòng tiêu đề ({}) thiếu cột bắt buộc: {}.",
            layout.header_label(),
            missing.join(", ")
        );
        if !unknown.is_empty() {
            m.push_str(&format!(" Các cột không nhận ra: {}.", unknown.join(", ")));
        }
        m.push_str(" Hãy dùng tệp mẫu để có đúng tên cột.");
        problems.push(whole(m));
        return Ok(empty(problems, layout, table.rows.len()));
    }
    if table.rows.is_empty() {
        problems.push(whole("Tệp chỉ có dòng tiêu đề, không có hộ nào.".into()));
        return Ok(empty(problems, layout, 0));
    }
    if let Some(limit) = target.row_limit
        && table.rows.len() > limit
    {
        problems.push(whole(format!(
            "Tệp có {} dòng, vượt giới hạn {} dòng mỗi lần nhập trên trình duyệt. Hãy chia nhỏ tệp, \
             hoặc nhờ quản trị viên dùng lệnh `giupdo import households`.",
            table.rows.len(),
            limit
        )));
        return Ok(empty(problems, layout, table.rows.len()));
    }

    let communes: Vec<(String, String)> = sqlx::query_as("SELECT code, name FROM communes")
        .fetch_all(pool)
        .await?;
    let resolve_commune = |cell: &str| -> Option<String> {
        let t = cell.trim();
        if let Some((code, _)) = communes.iter().find(|(c, _)| c == t) {
            return Some(code.clone());
        }
        let n = normalize_name(t);
        communes
            .iter()
            .find(|(_, name)| {
                let full = normalize_name(name);
                full == n
                    || full
                        .strip_prefix("xa ")
                        .or_else(|| full.strip_prefix("thi tran "))
                        == Some(n.as_str())
            })
            .map(|(c, _)| c.clone())
    };

    let mut rows = Vec::new();
    for (line, cells) in &table.rows {
        let mut input = row_input(&index, cells);
        let typed_commune = input.commune_code.trim().to_string();
        let mut commune_problem = None;
        if typed_commune.is_empty() {
            if let Some(d) = &target.default_commune {
                input.commune_code = d.clone();
            }
        } else {
            match resolve_commune(&typed_commune) {
                Some(code) => input.commune_code = code,
                None => {
                    commune_problem = Some(format!(
                        "Không có xã “{typed_commune}” trong huyện (ghi mã như 06073 hoặc tên xã)."
                    ))
                }
            }
        }
        if commune_problem.is_none()
            && let Some(only) = &target.only_commune
            && !input.commune_code.is_empty()
            && &input.commune_code != only
        {
            commune_problem =
                Some("Hộ này không thuộc xã của bạn: chỉ được nhập hộ của xã mình.".into());
        }
        if commune_problem.is_none()
            && let Some(d) = &target.default_commune
            && &input.commune_code != d
        {
            commune_problem = Some(format!("Hộ thuộc xã khác với xã đã chọn ({d})."));
        }
        let parsed = input.parse(this_year);
        if let Some(m) = commune_problem {
            problems.push(Problem {
                line: *line,
                column: header_label("commune_code").into(),
                message: m,
            });
        }
        match parsed {
            Ok(draft) => {
                if draft.old_id_moved {
                    notes.push(Problem {
                        line: *line,
                        column: header_label("cccd").into(),
                        message: format!(
                            "Số {} có 9 chữ số là CMND cũ: ghi vào cột Số CMND cũ.",
                            draft.old_id_number.as_deref().unwrap_or_default()
                        ),
                    });
                }
                if draft.cccd_restored {
                    notes.push(Problem {
                        line: *line,
                        column: header_label("cccd").into(),
                        message: format!(
                            "Đã thêm số 0 ở đầu mà Excel bỏ mất: {} → {}.",
                            input.cccd.trim(),
                            draft.cccd.as_deref().unwrap_or_default()
                        ),
                    });
                }
                rows.push((*line, draft))
            }
            Err(errors) => {
                for (field, message) in errors {
                    if field == "commune_code"
                        && problems
                            .last()
                            .is_some_and(|p| p.line == *line && p.column == "Xã")
                    {
                        continue;
                    }
                    problems.push(Problem {
                        line: *line,
                        column: header_label(field).into(),
                        message,
                    });
                }
            }
        }
    }

    // A village typed another way ("Nà Pàn", "thon na pan", "Bản Nà Pàn") is the commune's
    // village with the same key: written under its stored name, and the preview says so.
    let communes_in_file: Vec<String> = {
        let mut c: Vec<String> = rows.iter().map(|(_, d)| d.commune_code.clone()).collect();
        c.sort();
        c.dedup();
        c
    };
    let known = crate::db::places::villages_by_key(pool, &communes_in_file).await?;
    for (line, d) in rows.iter_mut() {
        if let Some((_, stored)) = known.get(&(d.commune_code.clone(), village_key(&d.village)))
            && *stored != d.village
        {
            notes.push(Problem {
                line: *line,
                column: header_label("village").into(),
                message: format!("“{}” ghi theo thôn đã có của xã: {stored}.", d.village),
            });
            d.village = stored.clone();
        }
    }
    notes.sort_by(|a, b| a.line.cmp(&b.line).then(a.column.cmp(&b.column)));

    // Duplicates within the file.
    let mut seen_cccd: HashMap<&str, usize> = HashMap::new();
    let mut seen_code: HashMap<(&str, &str), usize> = HashMap::new();
    let mut seen_old: HashMap<&str, usize> = HashMap::new();
    for (line, d) in &rows {
        if let Some(c) = &d.old_id_number
            && let Some(first) = seen_old.insert(c, *line)
        {
            problems.push(Problem {
                line: *line,
                column: "Số CMND cũ".into(),
                message: format!("Trùng số CMND với dòng {first} trong tệp."),
            });
            seen_old.insert(c, first);
        }
        if let Some(c) = &d.cccd
            && let Some(first) = seen_cccd.insert(c, *line)
        {
            problems.push(Problem {
                line: *line,
                column: "Số CCCD".into(),
                message: format!("Trùng CCCD với dòng {first} trong tệp."),
            });
            seen_cccd.insert(c, first);
        }
        if let Some(code) = &d.household_code
            && let Some(first) = seen_code.insert((d.commune_code.as_str(), code.as_str()), *line)
        {
            problems.push(Problem {
                line: *line,
                column: "Mã hộ nghèo".into(),
                message: format!("Trùng mã hộ nghèo với dòng {first} trong tệp."),
            });
            seen_code.insert((d.commune_code.as_str(), code.as_str()), first);
        }
    }

    // Duplicates with the registry (exact CCCD or household code).
    let cccds: Vec<String> = rows.iter().filter_map(|(_, d)| d.cccd.clone()).collect();
    let old_ids: Vec<String> = rows
        .iter()
        .filter_map(|(_, d)| d.old_id_number.clone())
        .collect();
    let codes: Vec<(String, String)> = rows
        .iter()
        .filter_map(|(_, d)| {
            d.household_code
                .clone()
                .map(|c| (d.commune_code.clone(), c))
        })
        .collect();
    if !cccds.is_empty() || !codes.is_empty() || !old_ids.is_empty() {
        let matches = exact_matches(pool, &cccds, &old_ids, &codes).await?;
        let by_old: HashMap<&str, &_> = matches
            .iter()
            .filter_map(|m| m.old_id_number.as_deref().map(|c| (c, m)))
            .collect();
        let by_cccd: HashMap<&str, &_> = matches
            .iter()
            .filter_map(|m| m.cccd.as_deref().map(|c| (c, m)))
            .collect();
        let by_code: HashMap<(&str, &str), &_> = matches
            .iter()
            .filter_map(|m| {
                m.household_code
                    .as_deref()
                    .map(|c| ((m.commune_code.as_str(), c), m))
            })
            .collect();
        for (line, d) in &rows {
            let found = d
                .cccd
                .as_deref()
                .and_then(|c| by_cccd.get(c).map(|m| ("Số CCCD", "CCCD", m)))
                .or_else(|| {
                    d.old_id_number
                        .as_deref()
                        .and_then(|c| by_old.get(c).map(|m| ("Số CMND cũ", "số CMND", m)))
                })
                .or_else(|| {
                    d.household_code.as_deref().and_then(|c| {
                        by_code
                            .get(&(d.commune_code.as_str(), c))
                            .map(|m| ("Mã hộ nghèo", "mã hộ nghèo", m))
                    })
                });
            if let Some((column, what, m)) = found {
                problems.push(Problem {
                    line: *line,
                    column: column.into(),
                    message: format!(
                        "Trùng {what} với hộ đã có: {}, {}, {}.",
                        m.head_name, m.village_name, m.commune_name
                    ),
                });
            }
        }
    }
    problems.sort_by(|a, b| a.line.cmp(&b.line).then(a.column.cmp(&b.column)));
    // Every count and list agrees with what a confirmation would write: a row with any problem
    // (a duplicate CCCD found after it parsed, say) is not among the rows to import.
    let bad: std::collections::HashSet<usize> = problems.iter().map(|p| p.line).collect();
    rows.retain(|(line, _)| !bad.contains(line));
    notes.retain(|n| !bad.contains(&n.line));
    let warnings = same_name_same_village(pool, &rows, thresholds).await?;
    Ok(Preview {
        rows,
        problems,
        notes,
        layout,
        warnings,
        total_rows: table.rows.len(),
    })
}

/// Rows whose head of household already stands in the same village (same normalised name, birth
/// years within one when both are known), in the registry or earlier in the file.
async fn same_name_same_village(
    pool: &PgPool,
    rows: &[(usize, HouseholdDraft)],
    thresholds: Thresholds,
) -> sqlx::Result<Vec<Problem>> {
    let mut out = Vec::new();
    // Within the file: the first line of each (commune, village, name, birth year); a birth year
    // within one of an earlier one (or unknown on either side) makes the row a probable duplicate.
    let mut seen: HashMap<(String, String, String), HashMap<Option<i32>, usize>> = HashMap::new();
    for (line, d) in rows {
        let key = (
            d.commune_code.clone(),
            village_key(&d.village),
            normalize_name(&d.head_name),
        );
        let years = seen.entry(key).or_default();
        let earlier = match d.birth_year {
            Some(y) => [Some(y), Some(y - 1), Some(y + 1), None]
                .iter()
                .filter_map(|k| years.get(k))
                .min()
                .copied(),
            None => years.values().min().copied(),
        };
        if let Some(first) = earlier {
            out.push(Problem {
                line: *line,
                column: "Họ tên chủ hộ".into(),
                message: format!(
                    "Có thể trùng: cùng họ tên chủ hộ, cùng thôn với dòng {first} trong tệp."
                ),
            });
        }
        years.entry(d.birth_year).or_insert(*line);
    }
    // With the registry: one probe per row of the (commune, name) index, at most one match.
    let lines: Vec<i32> = rows.iter().map(|(l, _)| *l as i32).collect();
    let communes: Vec<String> = rows.iter().map(|(_, d)| d.commune_code.clone()).collect();
    let villages: Vec<String> = rows.iter().map(|(_, d)| village_key(&d.village)).collect();
    let names: Vec<String> = rows
        .iter()
        .map(|(_, d)| normalize_name(&d.head_name))
        .collect();
    let births: Vec<Option<i32>> = rows.iter().map(|(_, d)| d.birth_year).collect();
    let found: Vec<(i32, String, String, Option<i32>)> = sqlx::query_as(
        "SELECT r.n, m.head_name, m.village, m.birth_year
         FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::int[]) AS r(n, commune, village_key, name_key, birth)
         JOIN villages v ON v.commune_code = r.commune AND village_key(v.name) = r.village_key AND v.merged_into IS NULL
         JOIN LATERAL (
            SELECT h.head_name, v.name AS village, h.birth_year FROM households h
            WHERE h.commune_code = r.commune AND h.head_name_key = r.name_key AND h.village_id = v.id
              AND h.merged_into IS NULL
              AND (r.birth IS NULL OR h.birth_year IS NULL OR abs(h.birth_year - r.birth) <= 1)
            ORDER BY h.commune_code, h.head_name_key, h.id
            LIMIT 1
         ) m ON true",
    )
    .bind(&lines)
    .bind(&communes)
    .bind(&villages)
    .bind(&names)
    .bind(&births)
    .fetch_all(pool)
    .await?;
    let mut matched = std::collections::HashSet::new();
    for (line, name, village, their_birth) in found {
        let born = their_birth
            .map(|y| format!(", sinh {y}"))
            .unwrap_or_default();
        matched.insert(line);
        out.push(Problem {
            line: line as usize,
            column: "Họ tên chủ hộ".into(),
            message: format!("Có thể trùng với hộ đã có: {name}, {village}{born} (cùng họ tên không tính dấu, cùng thôn)."),
        });
    }
    // Typo-level: a very similar name (a letter missed or doubled, a middle name dropped) in the
    // same village, birth years within one — the duplicate check's "probable" rule. One nearest-name
    // walk of the name dictionary per row not matched above; files larger than
    // FUZZY_ROWS (bulk loads from the command line) keep the exact check only.
    let rest: Vec<usize> = (0..rows.len())
        .filter(|i| !matched.contains(&lines[*i]))
        .collect();
    if !rest.is_empty() && rows.len() <= FUZZY_ROWS {
        let t = thresholds;
        let pick = |v: &Vec<String>| rest.iter().map(|i| v[*i].clone()).collect::<Vec<_>>();
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT set_config('pg_trgm.similarity_threshold', $1, true)")
            .bind(t.probable.clamp(0.05, 1.0).to_string())
            .execute(&mut *tx)
            .await?;
        let similar: Vec<(i32, String, String, Option<i32>, f32)> = sqlx::query_as(
            "SELECT r.n, m.head_name, m.village, m.birth_year, m.sim
             FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::int[]) AS r(n, commune, village_key, name_key, birth)
             JOIN villages v ON v.commune_code = r.commune AND village_key(v.name) = r.village_key AND v.merged_into IS NULL
             JOIN LATERAL (
                SELECT h.head_name, v.name AS village, h.birth_year,
                       similarity(h.head_name_key, r.name_key) AS sim
                FROM (SELECT n.key, n.key <-> r.name_key AS d FROM commune_name_keys n
                      WHERE n.commune_code = r.commune AND n.key % r.name_key ORDER BY d) k
                JOIN households h ON h.commune_code = r.commune AND h.head_name_key = k.key
                  AND h.village_id = v.id AND h.merged_into IS NULL
                  AND (r.birth IS NULL OR h.birth_year IS NULL OR abs(h.birth_year - r.birth) <= 1)
                ORDER BY k.d
                LIMIT 1
             ) m ON true",
        )
        .bind(rest.iter().map(|i| lines[*i]).collect::<Vec<_>>())
        .bind(pick(&communes))
        .bind(pick(&villages))
        .bind(pick(&names))
        .bind(rest.iter().map(|i| births[*i]).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        for (line, name, village, their_birth, sim) in similar {
            let born = their_birth
                .map(|y| format!(", sinh {y}"))
                .unwrap_or_default();
            out.push(Problem {
                line: line as usize,
                column: "Họ tên chủ hộ".into(),
                message: format!(
                    "Có thể trùng với hộ đã có: {name}, {village}{born} (họ tên rất giống, giống {:.0}%, cùng thôn).",
                    sim * 100.0
                ),
            });
        }
    }
    out.sort_by_key(|p| p.line);
    Ok(out)
}

/// Files up to this many rows get the typo-level comparison with the registry as well (every
/// browser upload does); larger ones, loaded from the command line, the exact one.
pub const FUZZY_ROWS: usize = 20_000;

/// The batch was confirmed before (a double submit, or a second tab).
#[derive(Debug, thiserror::Error)]
#[error("Tệp này đã được nhập rồi.")]
pub struct AlreadyImported;

/// The template file for download, as xlsx: the header row and one example row.
pub fn template_xlsx() -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Danh sách hộ")?;
    let bold = Format::new().set_bold().set_text_wrap();
    let text = Format::new().set_num_format("@");
    for (i, (_, header, required)) in COLUMNS.iter().enumerate() {
        let col = i as u16;
        let label = if *required {
            format!("{header} (*)")
        } else {
            header.to_string()
        };
        sheet.write_with_format(0, col, label.as_str(), &bold)?;
        sheet.write_with_format(1, col, EXAMPLE[i], &text)?;
        sheet.set_column_width(col, (header.chars().count().max(10) + 4) as f64)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

/// The template as CSV (UTF-8 with the BOM Excel needs to show Vietnamese).
pub fn template_csv() -> Vec<u8> {
    let mut w = SafeCsv::with_bom();
    let _ = w.text_row(COLUMNS.iter().map(|(_, h, _)| *h));
    let _ = w.text_row(EXAMPLE);
    w.into_bytes()
}

/// Write every row in one transaction: villages found or created, households inserted in
/// batches, their status history, one audit row per household (written by the same statement)
/// and one for the import itself. All or nothing. `confirm_reason`: why the user imports despite
/// probable duplicates (kept in every audit row).
pub async fn commit(
    pool: &PgPool,
    by: &By,
    rows: &[HouseholdDraft],
    source: &str,
    batch: Option<Uuid>,
    confirm_reason: Option<&str>,
) -> anyhow::Result<u64> {
    let mut tx = pool.begin().await?;
    // A batch is imported once: a double-submitted confirmation finds it already done.
    if let Some(batch) = batch {
        let marked = sqlx::query(
            "UPDATE import_batches SET confirmed_at = now() WHERE id = $1 AND confirmed_at IS NULL",
        )
        .bind(batch)
        .execute(&mut *tx)
        .await?;
        if marked.rows_affected() == 0 {
            anyhow::bail!(AlreadyImported);
        }
    }
    let mut villages: HashMap<(String, String), Uuid> = HashMap::new();
    for d in rows {
        let key = (d.commune_code.clone(), village_key(&d.village));
        if let std::collections::hash_map::Entry::Vacant(e) = villages.entry(key) {
            let id =
                crate::db::households::village_id(&mut tx, by, &d.commune_code, &d.village).await?;
            e.insert(id);
        }
    }
    // New names go to the name dictionary's GIN pending lists and are merged once, not one by one.
    sqlx::query("SET LOCAL gin_pending_list_limit = '256MB'")
        .execute(&mut *tx)
        .await?;
    let mut inserted = 0u64;
    for chunk in rows.chunks(20_000) {
        let col =
            |f: &dyn Fn(&HouseholdDraft) -> Option<String>| chunk.iter().map(f).collect::<Vec<_>>();
        // Time-ordered ids (UUIDv7): the primary key, the audit rows and the status history
        // are then appended to their indexes instead of scattered over them.
        let ids: Vec<Uuid> = chunk.iter().map(|_| Uuid::now_v7()).collect();
        let village_ids: Vec<Uuid> = chunk
            .iter()
            .map(|d| villages[&(d.commune_code.clone(), village_key(&d.village))])
            .collect();
        let communes = col(&|d| Some(d.commune_code.clone()));
        let names = col(&|d| Some(d.head_name.clone()));
        let birth: Vec<Option<i32>> = chunk.iter().map(|d| d.birth_year).collect();
        let gender = col(&|d| d.gender.map(str::to_string));
        let cccd = col(&|d| d.cccd.clone());
        let old_id = col(&|d| d.old_id_number.clone());
        let code = col(&|d| d.household_code.clone());
        let eth = col(&|d| Some(d.ethnicity.to_string()));
        let members: Vec<i32> = chunk.iter().map(|d| d.members).collect();
        let status = col(&|d| Some(d.status.to_string()));
        let status_year: Vec<i32> = chunk.iter().map(|d| d.status_year).collect();
        let flags =
            |f: &dyn Fn(&HouseholdDraft) -> bool| chunk.iter().map(f).collect::<Vec<bool>>();
        let other = col(&|d| d.other_needs.clone());
        let phone = col(&|d| d.phone.clone());
        let notes = col(&|d| d.notes.clone());
        let n: i64 = sqlx::query_scalar(
            "WITH ins AS (
                INSERT INTO households (commune_code, village_id, head_name, birth_year, gender, cccd, household_code,
                    ethnicity, members, status, status_year, lacks_capital, lacks_land, lacks_labour, lacks_technique,
                    illness, other_needs, will_to_escape, phone, notes, id, old_id_number)
                SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[],
                    $8::text[], $9::int[], $10::text[], $11::int[], $12::bool[], $13::bool[], $14::bool[], $15::bool[],
                    $16::bool[], $17::text[], $18::bool[], $19::text[], $20::text[], $24::uuid[], $25::text[])
                RETURNING *
             ), hist AS (
                INSERT INTO household_status_history (household_id, year, status)
                SELECT id, status_year, status FROM ins
             ), aud AS (
                INSERT INTO audit_log (user_id, actor, action, entity, entity_id, after, reason)
                SELECT $21, $22, 'create', 'household', ins.id::text, to_jsonb(ins) - 'created_at' - 'updated_at' - 'head_name_key', $23 FROM ins
             )
             SELECT count(*) FROM ins",
        )
        .bind(&communes)
        .bind(&village_ids)
        .bind(&names)
        .bind(&birth)
        .bind(&gender)
        .bind(&cccd)
        .bind(&code)
        .bind(&eth)
        .bind(&members)
        .bind(&status)
        .bind(&status_year)
        .bind(flags(&|d| d.lacks_capital))
        .bind(flags(&|d| d.lacks_land))
        .bind(flags(&|d| d.lacks_labour))
        .bind(flags(&|d| d.lacks_technique))
        .bind(flags(&|d| d.illness))
        .bind(&other)
        .bind(flags(&|d| d.will_to_escape))
        .bind(&phone)
        .bind(&notes)
        .bind(by.user_id)
        .bind(&by.name)
        .bind(match confirm_reason {
            Some(r) => format!("Nhập từ tệp {source}. Xác nhận không trùng hộ: {r}"),
            None => format!("Nhập từ tệp {source}"),
        })
        .bind(&ids)
        .bind(&old_id)
        .fetch_one(&mut *tx)
        .await?;
        inserted += n as u64;
    }
    audit::write(
        &mut tx,
        by,
        audit::Entry {
            action: audit::Action::Import,
            entity: "household_import",
            entity_id: source.chars().take(200).collect(),
            before: None,
            after: Some(serde_json::json!({ "rows": inserted })),
            reason: None,
        },
    )
    .await?;
    tx.commit().await?;
    // Searches read the whole pending list until it is merged: merge it now, not at the next
    // vacuum. Best effort: the import itself is already committed.
    if let Err(e) = crate::db::merge_name_index_pending(pool).await {
        tracing::warn!(error = %e, "could not merge the GIN pending lists");
    }
    Ok(inserted)
}
