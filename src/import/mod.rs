//! Reading spreadsheets people send: `.xlsx` (calamine) and `.csv` (csv), as a header row and
//! rows of text cells, with a Vietnamese message for every way a file can be unreadable.

pub mod history;
pub mod households;
pub mod profiles;

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

/// A sheet: the header row and the data rows (cells as text, trimmed). Serialisable: a browser
/// upload is read once and kept read with its batch (`import_batches.parsed`), not re-read at every
/// preview.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Table {
    /// Line of `headers` in the file (1-based).
    #[serde(default = "first_line")]
    pub header_line: usize,
    pub headers: Vec<String>,
    /// Each data row with its line number in the file (1-based, as Excel shows it).
    pub rows: Vec<(usize, Vec<String>)>,
}

fn first_line() -> usize {
    1
}

/// Read a file by its content (the name only breaks ties): xlsx is a ZIP, anything else is CSV.
pub fn read_table(bytes: &[u8], filename: &str) -> Result<Table, String> {
    if bytes.is_empty() {
        return Err("Tệp trống: không có dữ liệu nào.".into());
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return read_xlsx(bytes);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(
            "Tệp được đặt mật khẩu, hoặc là định dạng Excel 97–2003 (.xls). Hãy gỡ mật khẩu và lưu lại thành \
             “Sổ làm việc Excel (.xlsx)” hoặc “CSV UTF-8”."
                .into(),
        );
    }
    let lower = filename.to_lowercase();
    if lower.ends_with(".xlsx") || lower.ends_with(".xls") {
        return Err("Tệp .xlsx bị hỏng hoặc không phải tệp Excel thật: không mở được.".into());
    }
    read_csv(bytes)
}

fn read_csv(bytes: &[u8]) -> Result<Table, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Err(e) = std::str::from_utf8(bytes) {
        let at = e.valid_up_to();
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
        return Err(format!(
            "Tệp CSV không ở mã UTF-8 (lỗi ở dòng {line}); có thể tệp được lưu bằng mã Windows-1258 hoặc TCVN3. \
             Trong Excel hãy chọn Lưu thành → “CSV UTF-8 (phân cách bằng dấu phẩy)”."
        ));
    }
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
        return Err(format!(
            "Tệp có ký tự NUL (byte 0) ở dòng {line}: đây không phải tệp CSV văn bản. \
             Trong Excel hãy chọn Lưu thành → “CSV UTF-8 (phân cách bằng dấu phẩy)”."
        ));
    }
    // Excel in a Vietnamese locale writes ';' between cells: take whichever the header uses most.
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let count = |c: u8| first_line.iter().filter(|b| **b == c).count();
    let delimiter = if count(b';') > count(b',') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record =
            record.map_err(|e| format!("Dòng {} của tệp CSV không đọc được: {e}", i + 1))?;
        rows.push(
            record
                .iter()
                .map(crate::domain::text::clean)
                .collect::<Vec<_>>(),
        );
    }
    split_header(rows)
}

fn read_xlsx(bytes: &[u8]) -> Result<Table, String> {
    // calamine can panic on a crafted file (the fuzzer found an arithmetic overflow in its cell
    // reference parsing, a panic wherever overflow checks are on): a broken upload must get a
    // message, not take the request or the command down.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_xlsx_unguarded(bytes)))
        .unwrap_or_else(|_| {
            tracing::warn!("the xlsx reader panicked on an uploaded file");
            Err(
                "Tệp .xlsx bị hỏng: cấu trúc bên trong không hợp lệ. Hãy mở bằng Excel, lưu lại rồi tải lên lại."
                    .into(),
            )
        })
}

fn read_xlsx_unguarded(bytes: &[u8]) -> Result<Table, String> {
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        let text = e.to_string().to_lowercase();
        if text.contains("password") || text.contains("encrypt") {
            "Tệp Excel được đặt mật khẩu: hãy gỡ mật khẩu rồi tải lên lại.".to_string()
        } else {
            "Tệp .xlsx bị hỏng: không mở được. Hãy mở bằng Excel, lưu lại rồi tải lên lại."
                .to_string()
        }
    })?;
    let range = match book.worksheet_range_at(0) {
        Some(Ok(r)) => r,
        Some(Err(_)) => {
            return Err("Trang tính đầu tiên của tệp .xlsx bị hỏng: không đọc được.".into());
        }
        None => return Err("Tệp .xlsx không có trang tính nào.".into()),
    };
    let rows = range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| crate::domain::text::clean(&cell_text(c)))
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>();
    split_header(rows)
}

/// A cell as the text a person sees: whole numbers without ".0", dates as dd/mm/yyyy.
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        // An xlsx can escape a NUL (`_x0000_`); it is never meant, and PostgreSQL refuses it.
        Data::String(s) => s.replace('\0', "").trim().to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => {
            if *b {
                "x".into()
            } else {
                String::new()
            }
        }
        Data::DateTime(dt) => dt
            .as_datetime()
            .map(|d| d.format("%d/%m/%Y").to_string())
            .unwrap_or_default(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.replace('\0', ""),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// The first non-empty row is the header; fully empty rows are dropped.
fn split_header(rows: Vec<Vec<String>>) -> Result<Table, String> {
    let mut rows = rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| (i + 1, r))
        .filter(|(_, r)| r.iter().any(|c| !c.is_empty()));
    let Some((header_line, headers)) = rows.next() else {
        return Err("Tệp trống: không có dòng tiêu đề nào.".into());
    };
    Ok(Table {
        header_line,
        headers,
        rows: rows.collect(),
    })
}

/// Rows among the first of a file in which the header is looked for.
pub const HEADER_SEARCH_ROWS: usize = 15;

/// Where the header of an official-layout list was found, and the rows that are no data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// The header's line(s) in the file: one, or two for a merged group heading over sub-headings.
    pub header_lines: Vec<usize>,
    /// A numbering row "(1) (2) (3)…" under the header.
    pub numbering_line: Option<usize>,
    /// Trailing rows that are no household: signatures, "Người lập biểu", a date line, totals.
    pub trailing_lines: Vec<usize>,
}

impl Layout {
    /// "dòng 6", "dòng 6–7".
    pub fn header_label(&self) -> String {
        match self.header_lines.as_slice() {
            [a] => format!("dòng {a}"),
            [a, b, ..] => format!("dòng {a}–{b}"),
            [] => String::new(),
        }
    }
}

/// Find the header of a list laid out the official way: the committee's name, the national motto
/// and the title above it (often merged across columns), perhaps a two-row header whose upper row
/// groups several columns under one merged heading, a numbering row "(1) (2) (3)…" below it, and
/// signature rows at the end. `recognise` names the field a header cell stands for; the header is
/// the row (or pair of rows) of the first [`HEADER_SEARCH_ROWS`] that names the most fields, at
/// least `min_fields`. The result has the header as `headers` and only data rows as `rows`.
pub fn locate_header(
    t: &Table,
    recognise: impl Fn(&str) -> Option<&'static str>,
    min_fields: usize,
) -> Result<(Table, Layout), String> {
    let mut all: Vec<(usize, Vec<String>)> = Vec::with_capacity(t.rows.len() + 1);
    all.push((t.header_line, t.headers.clone()));
    all.extend(t.rows.iter().cloned());
    let fields = |row: &[String]| -> std::collections::BTreeSet<&'static str> {
        row.iter().filter_map(|c| recognise(c)).collect()
    };
    // The lower row's cell where it names a field the upper row's cell does not.
    let combine = |upper: &[String], lower: &[String]| -> Vec<String> {
        let n = upper.len().max(lower.len());
        (0..n)
            .map(|i| {
                let u = upper.get(i).map(String::as_str).unwrap_or("");
                let l = lower.get(i).map(String::as_str).unwrap_or("");
                if recognise(u).is_none() && recognise(l).is_some() {
                    l.to_string()
                } else {
                    u.to_string()
                }
            })
            .collect()
    };
    let window = all.len().min(HEADER_SEARCH_ROWS);
    // (score, header cells, index of the first and of the last header row)
    let mut best: Option<(usize, Vec<String>, usize, usize)> = None;
    for i in 0..window {
        let single = fields(&all[i].1).len();
        let mut candidate = (single, all[i].1.clone(), i, i);
        if i + 1 < all.len() {
            let merged = combine(&all[i].1, &all[i + 1].1);
            let score = fields(&merged).len();
            // The row below adds at least two columns the upper row leaves to a group heading.
            if score >= single + 2 {
                candidate = (score, merged, i, i + 1);
            }
        }
        if candidate.0 >= min_fields && best.as_ref().is_none_or(|b| candidate.0 > b.0) {
            best = Some(candidate);
        }
    }
    let Some((_, headers, first_row, last)) = best else {
        let (first, last_seen) = (
            all.first().map(|r| r.0).unwrap_or(1),
            all.get(window.saturating_sub(1)).map(|r| r.0).unwrap_or(1),
        );
        return Err(format!(
            "Không tìm thấy dòng tiêu đề: đã xem {window} dòng có chữ đầu tiên của tệp (dòng {first}–{last_seen}) \
             mà không dòng nào (hay cặp hai dòng tiêu đề gộp ô nào) có đủ {min_fields} tên cột nhận ra được."
        ));
    };
    let mut layout = Layout {
        header_lines: (first_row..=last).map(|i| all[i].0).collect(),
        ..Layout::default()
    };
    let mut rows: Vec<(usize, Vec<String>)> = all[last + 1..].to_vec();
    // A numbering row: every filled cell a small number, "(1)", "1" or a letter "A", "(B)".
    if let Some((line, first)) = rows.first() {
        let numbering = first.iter().filter(|c| !c.is_empty()).count() >= 3
            && first.iter().filter(|c| !c.is_empty()).all(|c| {
                let c = c.trim_start_matches('(').trim_end_matches(')');
                (c.len() <= 3 && c.chars().all(|d| d.is_ascii_digit()))
                    || (c.chars().count() == 1 && c.chars().all(char::is_alphabetic))
            });
        if numbering {
            layout.numbering_line = Some(*line);
            rows.remove(0);
        }
    }
    // Trailing rows that fill less than a third of the header's named columns (at least two) are
    // no household: "Người lập biểu", "TM. ỦY BAN NHÂN DÂN XÃ", a date line, a signer's name.
    let named: Vec<usize> = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| recognise(h).is_some())
        .map(|(i, _)| i)
        .collect();
    while let Some((line, last_row)) = rows.last() {
        let filled = named
            .iter()
            .filter(|i| last_row.get(**i).is_some_and(|c| !c.is_empty()))
            .count();
        if filled >= named.len().div_ceil(3).max(2) {
            break;
        }
        layout.trailing_lines.insert(0, *line);
        rows.pop();
    }
    let header_line = *layout.header_lines.first().unwrap_or(&t.header_line);
    Ok((
        Table {
            header_line,
            headers,
            rows,
        },
        layout,
    ))
}
