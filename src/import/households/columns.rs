//! The template's columns, how official-layout headers map to them, and a row read into a household's fields.

use crate::domain::household::HouseholdInput;
use crate::domain::spreadsheet::SafeCsv;
use crate::domain::text::normalize_name;
use crate::import::Layout;
use std::collections::HashMap;

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

pub(super) fn header_label(field: &str) -> &'static str {
    COLUMNS
        .iter()
        .find(|(f, _, _)| *f == field)
        .map(|(_, h, _)| *h)
        .unwrap_or("")
}

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
