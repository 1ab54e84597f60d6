//! Reports as spreadsheets: `.xlsx` (rust_xlsxwriter: Vietnamese headers, title rows, VND with
//! thousands separators, column widths, frozen header row, a totals row) and CSV (UTF-8 with the
//! BOM Excel needs to read Vietnamese). Both render the same struct as the page.

use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet, XlsxError};

use super::{AgencyRow, Summary, YearRow, percent};
use crate::domain::labels;
use crate::domain::spreadsheet::{CsvCell, SafeCsv};

/// One table: headers, rows of cells, and which columns hold money or counts.
pub struct Table {
    pub title: String,
    pub subtitle: String,
    pub headers: Vec<&'static str>,
    pub widths: Vec<f64>,
    pub rows: Vec<Vec<Cell>>,
    pub total: Option<Vec<Cell>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(i64),
    /// Whole VND, shown with thousands separators.
    Money(i64),
}

impl Cell {
    fn csv(&self) -> CsvCell<'_> {
        match self {
            Cell::Text(s) => CsvCell::Text(s),
            Cell::Number(n) | Cell::Money(n) => CsvCell::Number(*n),
        }
    }
}

fn t(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

/// The list of adopted households: the table of the official report.
pub fn summary_list(s: &Summary, subtitle: &str) -> Table {
    let rows = s
        .list
        .iter()
        .enumerate()
        .map(|(i, a)| {
            vec![
                Cell::Number(i as i64 + 1),
                t(&a.agencies),
                t(&a.head_name),
                t(format!("{}, {}", a.village, a.commune)),
                t(s.form_label(&a.form)),
                t(&a.quantity),
                Cell::Money(a.pledged),
                Cell::Money(a.delivered),
                t(a.remark()),
            ]
        })
        .collect();
    Table {
        title: format!("DANH SÁCH HỘ ĐƯỢC NHẬN GIÚP ĐỠ NĂM {}", s.campaign.year),
        subtitle: subtitle.to_string(),
        headers: vec![
            "STT",
            "Cơ quan, đơn vị giúp đỡ",
            "Họ tên chủ hộ",
            "Thôn, xã",
            "Hình thức hỗ trợ",
            "Số lượng",
            "Giá trị cam kết (đồng)",
            "Giá trị đã trao (đồng)",
            "Ghi chú",
        ],
        widths: vec![6.0, 40.0, 24.0, 32.0, 18.0, 20.0, 18.0, 18.0, 30.0],
        rows,
        total: Some(vec![
            t(""),
            t("Tổng cộng"),
            t(format!("{} hộ", s.totals.confirmed)),
            t(""),
            t(""),
            t(""),
            Cell::Money(s.totals.pledged),
            Cell::Money(s.totals.delivered),
            t(""),
        ]),
    }
}

fn breakdown(title: &str, first: &'static str, rows: &[super::Breakdown], s: &Summary) -> Table {
    Table {
        title: title.to_string(),
        subtitle: String::new(),
        headers: vec![
            first,
            "Số hộ",
            "Giá trị cam kết (đồng)",
            "Giá trị đã trao (đồng)",
            "Số hộ đạt mức hỗ trợ",
        ],
        widths: vec![32.0, 10.0, 20.0, 20.0, 16.0],
        rows: rows
            .iter()
            .map(|b| {
                vec![
                    t(&b.label),
                    Cell::Number(b.households),
                    Cell::Money(b.pledged),
                    Cell::Money(b.delivered),
                    Cell::Number(b.reached),
                ]
            })
            .collect(),
        total: Some(vec![
            t("Tổng cộng"),
            Cell::Number(s.totals.confirmed),
            Cell::Money(s.totals.pledged),
            Cell::Money(s.totals.delivered),
            Cell::Number(s.totals.reached),
        ]),
    }
}

/// The figures of the summary as label/value pairs (the first sheet).
pub fn summary_totals(s: &Summary, subtitle: &str) -> Table {
    let tt = &s.totals;
    let row = |label: &str, v: Cell| vec![t(label), v];
    Table {
        title: format!(
            "BÁO CÁO KẾT QUẢ NHẬN GIÚP ĐỠ HỘ NGHÈO THEO ĐỊA CHỈ NĂM {}",
            s.campaign.year
        ),
        subtitle: subtitle.to_string(),
        headers: vec!["Chỉ tiêu", "Kết quả"],
        widths: vec![60.0, 20.0],
        rows: vec![
            row("Cơ quan, đơn vị tham gia", Cell::Number(tt.agencies)),
            row("Hộ được đăng ký nhận giúp đỡ", Cell::Number(tt.adopted)),
            row("Hộ đã được xã xác nhận", Cell::Number(tt.confirmed)),
            row("Giá trị cam kết (đồng)", Cell::Money(tt.pledged)),
            row("Giá trị đã trao (đồng)", Cell::Money(tt.delivered)),
            row("Hộ đạt mức hỗ trợ", Cell::Number(tt.reached)),
            row(
                "Nhóm đơn vị cùng giúp một hộ",
                Cell::Number(tt.joint_groups),
            ),
            row("Hộ ở xã ưu tiên", Cell::Number(tt.priority_households)),
            row(
                "Tỷ lệ hộ ở xã ưu tiên (%)",
                Cell::Number(s.priority_share()),
            ),
            row(
                "Đơn vị chưa đạt chỉ tiêu",
                Cell::Number(s.short.len() as i64),
            ),
        ],
        total: None,
    }
}

pub fn summary_tables(s: &Summary, subtitle: &str) -> Vec<(&'static str, Table)> {
    let short = Table {
        title: "CƠ QUAN, ĐƠN VỊ CHƯA ĐẠT CHỈ TIÊU".into(),
        subtitle: String::new(),
        headers: vec![
            "Cơ quan, đơn vị",
            "Loại",
            "Chỉ tiêu (hộ)",
            "Đã được tính (hộ)",
        ],
        widths: vec![40.0, 24.0, 14.0, 16.0],
        rows: s
            .short
            .iter()
            .map(|a| {
                vec![
                    t(&a.name),
                    t(a.kind),
                    Cell::Number(a.expected.into()),
                    Cell::Number(a.counted),
                ]
            })
            .collect(),
        total: None,
    };
    vec![
        ("Tổng hợp", summary_totals(s, subtitle)),
        ("Danh sách hộ", summary_list(s, subtitle)),
        (
            "Theo xã",
            breakdown("KẾT QUẢ THEO XÃ", "Xã, thị trấn", &s.by_commune, s),
        ),
        (
            "Theo loại đơn vị",
            breakdown(
                "KẾT QUẢ THEO LOẠI CƠ QUAN, ĐƠN VỊ",
                "Loại cơ quan, đơn vị (chủ trì)",
                &s.by_kind,
                s,
            ),
        ),
        (
            "Theo hình thức",
            breakdown(
                "KẾT QUẢ THEO HÌNH THỨC HỖ TRỢ",
                "Hình thức hỗ trợ",
                &s.by_form,
                s,
            ),
        ),
        ("Chưa đạt chỉ tiêu", short),
    ]
}

pub fn agencies_table(rows: &[AgencyRow], year: i32, subtitle: &str) -> Table {
    let mut sum = [0i64; 8];
    let body = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let q = r.quota();
            let v = [
                r.adopted,
                r.confirmed,
                r.counted(),
                r.delivered,
                r.visits,
                r.effective,
                r.partly,
                r.not_effective,
            ];
            for (s, x) in sum.iter_mut().zip(v) {
                *s += x;
            }
            vec![
                Cell::Number(i as i64 + 1),
                t(&r.name),
                t(labels::agency_kind(&r.kind)),
                Cell::Number(q.households.into()),
                t(q.rule),
                Cell::Number(r.adopted),
                Cell::Number(r.confirmed),
                Cell::Number(r.counted()),
                t(if r.met() { "Đạt" } else { "Chưa đạt" }),
                Cell::Money(r.delivered),
                Cell::Number(r.visits),
                Cell::Number(r.effective),
                Cell::Number(r.partly),
                Cell::Number(r.not_effective),
            ]
        })
        .collect();
    Table {
        title: format!("KẾT QUẢ NHẬN GIÚP ĐỠ HỘ NGHÈO CỦA CÁC CƠ QUAN, ĐƠN VỊ NĂM {year}"),
        subtitle: subtitle.to_string(),
        headers: vec![
            "STT",
            "Cơ quan, đơn vị",
            "Loại",
            "Chỉ tiêu (hộ)",
            "Quy tắc chỉ tiêu",
            "Đã đăng ký",
            "Đã xác nhận",
            "Tính vào chỉ tiêu",
            "Kết quả",
            "Giá trị đơn vị đã trao (đồng)",
            "Lần thăm hộ các năm trước",
            "Hiệu quả",
            "Hiệu quả một phần",
            "Chưa hiệu quả",
        ],
        widths: vec![
            6.0, 40.0, 22.0, 10.0, 40.0, 10.0, 10.0, 10.0, 10.0, 18.0, 12.0, 10.0, 10.0, 10.0,
        ],
        rows: body,
        total: Some(vec![
            t(""),
            t("Tổng cộng"),
            t(format!("{} đơn vị", rows.len())),
            t(""),
            t(""),
            Cell::Number(sum[0]),
            Cell::Number(sum[1]),
            Cell::Number(sum[2]),
            t(format!("{} đạt", rows.iter().filter(|r| r.met()).count())),
            Cell::Money(sum[3]),
            Cell::Number(sum[4]),
            Cell::Number(sum[5]),
            Cell::Number(sum[6]),
            Cell::Number(sum[7]),
        ]),
    }
}

pub fn years_table(rows: &[YearRow], totals: &super::years::YearTotals, subtitle: &str) -> Table {
    Table {
        title: "HỘ ĐƯỢC GIÚP ĐỠ QUA CÁC NĂM VÀ KẾT QUẢ THOÁT NGHÈO".into(),
        subtitle: subtitle.to_string(),
        headers: vec![
            "Năm",
            "Hộ được giúp đỡ",
            "Giá trị đã trao (đồng)",
            "Về sau là hộ cận nghèo",
            "Về sau đã thoát nghèo",
            "Tỷ lệ thoát nghèo (%)",
        ],
        widths: vec![8.0, 16.0, 22.0, 20.0, 20.0, 18.0],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Number(r.year.into()),
                    Cell::Number(r.helped),
                    Cell::Money(r.delivered),
                    Cell::Number(r.near_poor_later),
                    Cell::Number(r.escaped_later),
                    Cell::Number(percent(r.escaped_later, r.helped)),
                ]
            })
            .collect(),
        // Each household once, however many years it was helped.
        total: Some(vec![
            t("Tổng cộng (mỗi hộ một lần)"),
            Cell::Number(totals.households),
            Cell::Money(totals.delivered),
            Cell::Number(totals.near_poor_later),
            Cell::Number(totals.escaped_later),
            Cell::Number(percent(totals.escaped_later, totals.households)),
        ]),
    }
}

/// CSV of one table: UTF-8 with BOM, the header row, the rows, the totals row; text cells that a
/// spreadsheet would run as formulas are neutralised ([`SafeCsv`]).
pub fn csv(table: &Table) -> Vec<u8> {
    let mut w = SafeCsv::with_bom();
    let _ = w.text_row(&table.headers);
    for row in table.rows.iter().chain(table.total.iter()) {
        let _ = w.row(row.iter().map(Cell::csv));
    }
    w.into_bytes()
}

/// Where the header row of each sheet is (0-based): after the issuing body, title and subtitle.
pub const HEADER_ROW: u32 = 4;

fn sheet(ws: &mut Worksheet, table: &Table, issuer: &str) -> Result<(), XlsxError> {
    let body = Format::new().set_bold().set_align(FormatAlign::Left);
    let title = Format::new().set_bold().set_font_size(13);
    let head = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(rust_xlsxwriter::FormatBorder::Thin)
        .set_background_color("#E8EEF6");
    let money = Format::new()
        .set_num_format("#,##0")
        .set_border(rust_xlsxwriter::FormatBorder::Thin);
    let cell = Format::new()
        .set_text_wrap()
        .set_border(rust_xlsxwriter::FormatBorder::Thin);
    let total_money = money.clone().set_bold();
    let total_text = cell.clone().set_bold();
    ws.write_string_with_format(0, 0, issuer, &body)?;
    ws.write_string_with_format(1, 0, &table.title, &title)?;
    ws.write_string(2, 0, &table.subtitle)?;
    for (c, h) in table.headers.iter().enumerate() {
        ws.write_string_with_format(HEADER_ROW, c as u16, *h, &head)?;
        ws.set_column_width(c as u16, table.widths.get(c).copied().unwrap_or(14.0))?;
    }
    ws.set_freeze_panes(HEADER_ROW + 1, 0)?;
    let all = table.rows.iter().chain(table.total.iter()).enumerate();
    for (r, (i, row)) in (HEADER_ROW + 1..).zip(all) {
        let is_total = i == table.rows.len();
        for (c, v) in row.iter().enumerate() {
            let c = c as u16;
            match v {
                Cell::Text(s) => ws.write_string_with_format(
                    r,
                    c,
                    s,
                    if is_total { &total_text } else { &cell },
                )?,
                Cell::Number(n) => ws.write_number_with_format(
                    r,
                    c,
                    *n as f64,
                    if is_total { &total_text } else { &cell },
                )?,
                Cell::Money(n) => ws.write_number_with_format(
                    r,
                    c,
                    *n as f64,
                    if is_total { &total_money } else { &money },
                )?,
            };
        }
    }
    Ok(())
}

/// A workbook with one sheet per table.
/// `issuer`: the committee's line atop every sheet ("ỦY BAN NHÂN DÂN HUYỆN BÌNH GIA"), from the
/// campaign's organiser.
pub fn xlsx(tables: &[(&str, Table)], issuer: &str) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    for (name, table) in tables {
        let ws = wb.add_worksheet();
        ws.set_name(*name)?;
        sheet(ws, table, issuer)?;
    }
    wb.save_to_buffer()
}

/// "Hiệu quả theo hình thức hỗ trợ": one row a form of support; percentages as whole numbers,
/// empty where nothing is observed yet.
pub fn effectiveness_table(
    groups: &[crate::domain::effectiveness::GroupFigures],
    subtitle: &str,
) -> Table {
    let pct = |p: Option<i64>| p.map(Cell::Number).unwrap_or_else(|| t(""));
    let opt_money = |v: Option<i64>| v.map(Cell::Money).unwrap_or_else(|| t(""));
    Table {
        title: "HIỆU QUẢ THEO HÌNH THỨC HỖ TRỢ".into(),
        subtitle: subtitle.to_string(),
        headers: vec![
            "Hình thức hỗ trợ",
            "Hộ được giúp",
            "Tổng giá trị đã trao (đồng)",
            "Giá trị trung vị/hộ (đồng)",
            "Thoát nghèo sau 1 năm (%)",
            "Thoát nghèo sau 2 năm (%)",
            "Thoát nghèo sau 3 năm (%)",
            "Hộ đã thoát nghèo",
            "Còn nghèo (%)",
            "Chi phí/hộ thoát nghèo (đồng)",
            "Con giống nhận",
            "Sinh thêm",
            "Chết",
            "Đã bán",
            "Tỷ lệ sống (%)",
            "Cây còn sống",
            "Ghi chú",
        ],
        widths: vec![
            26.0, 12.0, 20.0, 18.0, 14.0, 14.0, 14.0, 12.0, 12.0, 20.0, 12.0, 10.0, 8.0, 8.0, 12.0,
            12.0, 30.0,
        ],
        rows: groups
            .iter()
            .map(|g| {
                vec![
                    t(g.label()),
                    Cell::Number(g.households),
                    Cell::Money(g.delivered_total),
                    Cell::Money(g.delivered_median),
                    pct(g.escaped_share(1)),
                    pct(g.escaped_share(2)),
                    pct(g.escaped_share(3)),
                    Cell::Number(g.escaped_ever),
                    pct(g.still_poor_share()),
                    opt_money(g.cost_per_escaped()),
                    Cell::Number(g.received),
                    Cell::Number(g.born),
                    Cell::Number(g.died),
                    Cell::Number(g.sold),
                    pct(g.survival_share()),
                    Cell::Number(g.trees_surviving),
                    t(if g.households > 0 && g.few() {
                        "Dưới 10 hộ, chưa đủ để kết luận"
                    } else {
                        ""
                    }),
                ]
            })
            .collect(),
        total: None,
    }
}

/// "Thiếu hụt nào được giải quyết sau khi hỗ trợ" (issue #26): one row per indicator and form of
/// help, in the standard's order, the forms of an indicator most households first. The indicators'
/// labels come from `standard` (the latest period's: codes are kept across periods).
pub fn deprivation_table(
    rows: &[crate::report::effectiveness::DeprivationRow],
    standard: Option<&crate::domain::poverty::Standard>,
    subtitle: &str,
) -> Table {
    let mut ordered: Vec<&crate::report::effectiveness::DeprivationRow> = rows.iter().collect();
    let position = |code: &str| {
        standard
            .and_then(|s| s.indicators.iter().position(|i| i.code == code))
            .unwrap_or(usize::MAX)
    };
    ordered.sort_by_key(|r| {
        (
            position(&r.indicator),
            std::cmp::Reverse(r.short_before),
            r.grp.clone(),
        )
    });
    let label = |code: &str| {
        standard
            .and_then(|s| s.indicator(code))
            .map(|i| i.label.clone())
            .unwrap_or_else(|| code.to_string())
    };
    Table {
        title: "THIẾU HỤT ĐƯỢC GIẢI QUYẾT SAU KHI HỖ TRỢ".into(),
        subtitle: subtitle.to_string(),
        headers: vec![
            "Chỉ số thiếu hụt trước khi giúp",
            "Hình thức hỗ trợ",
            "Hộ thiếu hụt trước",
            "Được rà soát lại",
            "Đã hết thiếu hụt",
            "Vẫn thiếu hụt",
            "Đã thoát nghèo",
        ],
        widths: vec![36.0, 26.0, 14.0, 14.0, 14.0, 14.0, 14.0],
        rows: ordered
            .iter()
            .map(|r| {
                vec![
                    t(label(&r.indicator)),
                    t(crate::domain::effectiveness::group_label(&r.grp)),
                    Cell::Number(r.short_before),
                    Cell::Number(r.reviewed_after),
                    Cell::Number(r.resolved),
                    Cell::Number(r.still_short),
                    Cell::Number(r.escaped),
                ]
            })
            .collect(),
        total: None,
    }
}
