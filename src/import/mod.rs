//! Reading spreadsheets people send: `.xlsx` (calamine) and `.csv` (csv), as a header row and
//! rows of text cells, with a Vietnamese message for every way a file can be unreadable.

pub mod history;
pub mod households;

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

/// A sheet: the header row and the data rows (cells as text, trimmed). Serialisable: a browser
/// upload is read once and kept read with its batch (`import_batches.parsed`), not re-read at every
/// preview.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Table {
    pub headers: Vec<String>,
    /// Each data row with its line number in the file (1-based, as Excel shows it).
    pub rows: Vec<(usize, Vec<String>)>,
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
                .map(|c| c.trim().to_string())
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
        .map(|r| r.iter().map(cell_text).collect::<Vec<_>>())
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
    let Some((_, headers)) = rows.next() else {
        return Err("Tệp trống: không có dòng tiêu đề nào.".into());
    };
    Ok(Table {
        headers,
        rows: rows.collect(),
    })
}
