//! Hostile input, by property: every form and import-row parser, fed arbitrary text, either gives
//! a value that keeps its invariants or a Vietnamese message — never a panic. And the inputs a
//! person legitimately types are accepted and read back exactly.

use chrono::{Datelike as _, NaiveDate};
use giupdo::domain::dates::{format_date, parse_date};
use giupdo::domain::household::HouseholdInput;
use giupdo::domain::money::{MAX_VND, Vnd, format_vnd, group_thousands};
use giupdo::domain::sponsorship::{
    DeliveryInput, LineInput, VisitInput, parse_delivery, parse_lines, parse_visit,
};
use giupdo::import::households::{COLUMNS, column_index, row_input};
use proptest::prelude::*;
use serde::de::DeserializeOwned;

/// Text as hostile users and broken spreadsheets produce it: any Unicode, control characters,
/// lookalike digits, separators, very long runs, and the strings people really type.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        2 => "[0-9 .,\\-/]{0,20}",
        2 => "[\\p{L}\\p{M} ]{0,40}",
        1 => Just(String::new()),
        1 => "\\PC{200,3000}",
        1 => prop::sample::select(vec![
            "31/02/2024", "-3", "mười", "1e9", "NaN", "0x10", "١٢٣", "８０００", "9999999999999999999999",
            "<script>alert(1)</script>", "'; DROP TABLE households; --", "\u{0}", "\u{202e}", "  x  ",
        ]).prop_map(str::to_string),
    ]
}

/// A form struct from field names and values, as axum's form extractor builds it.
fn form<T: DeserializeOwned>(fields: &[&str], values: Vec<String>) -> T {
    let map: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .zip(values)
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
        .collect();
    serde_json::from_value(serde_json::Value::Object(map)).expect("all-string form")
}

/// A message a Vietnamese user can read: not empty, and written in Vietnamese (it has the
/// language's letters; every message of the app does).
fn vietnamese(m: &str) -> bool {
    !m.trim().is_empty() && !m.is_ascii()
}

const HOUSEHOLD_FIELDS: &[&str] = &[
    "commune_code",
    "village",
    "head_name",
    "birth_year",
    "gender",
    "cccd",
    "household_code",
    "ethnicity",
    "members",
    "status",
    "status_year",
    "lacks_capital",
    "lacks_land",
    "lacks_labour",
    "lacks_technique",
    "illness",
    "other_needs",
    "will_to_escape",
    "phone",
    "notes",
];

/// The one money parser, as the forms use it.
fn parse_vnd(s: &str, label: &str) -> Result<i64, String> {
    Vnd::parse(s, label).map(Vnd::get)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn the_household_form_gives_a_household_or_vietnamese_messages(
        values in prop::collection::vec(text(), HOUSEHOLD_FIELDS.len())
    ) {
        let input: HouseholdInput = form(HOUSEHOLD_FIELDS, values);
        match input.parse(2024) {
            Ok(d) => {
                prop_assert!(!d.head_name.trim().is_empty());
                prop_assert!(d.members >= 1);
                if let Some(c) = d.cccd.as_ref().map(|c| c.as_str()) {
                    prop_assert_eq!(c.len(), 12);
                    prop_assert!(c.chars().all(|c| c.is_ascii_digit()));
                }
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                for (field, m) in &errors {
                    prop_assert!(HOUSEHOLD_FIELDS.contains(field), "{field}");
                    prop_assert!(vietnamese(m), "{field}: {m:?}");
                }
            }
        }
    }

    /// A name and a village pasted as phones and PDFs give them — decomposed accents, no-break
    /// and zero-width spaces, stray spaces — parse to the one NFC spelling, and so does every
    /// import cell.
    #[test]
    fn every_spelling_of_a_name_is_stored_as_one(
        name in prop::sample::select(vec![
            "Hoàng Thị Ngọc Ánh", "Nông Văn Thuận", "Lý Thị Ước", "Đặng Văn Ưng", "Triệu Thị Mỹ",
        ]),
        village in prop::sample::select(vec!["Thôn Nà Pàn", "Bản Khuổi Hẩu", "Thôn Pò Đồn"]),
        decompose in any::<bool>(),
        gaps in prop::collection::vec(prop::sample::select(vec![" ", "  ", "\u{00A0}", " \u{200B}", "\t"]), 8),
        pad in prop::sample::select(vec!["", " ", "\u{FEFF}", "\u{00A0} "]),
    ) {
        use unicode_normalization::UnicodeNormalization;
        let spell = |s: &str| {
            let base: String = if decompose { s.nfd().collect() } else { s.nfc().collect() };
            let mut out = pad.to_string();
            for (i, word) in base.split(' ').enumerate() {
                if i > 0 {
                    out.push_str(gaps[i % gaps.len()]);
                }
                out.push_str(word);
            }
            out.push_str(pad);
            out
        };
        let input = HouseholdInput {
            commune_code: "06073".into(),
            village: spell(village),
            head_name: spell(name),
            ethnicity: "Tày".into(),
            members: "3".into(),
            status: "Hộ nghèo".into(),
            notes: spell("Ghi chú  của  xã"),
            ..HouseholdInput::default()
        };
        let d = input.parse(2024).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(d.head_name.as_str(), name);
        prop_assert_eq!(d.village.as_str(), village);
        prop_assert_eq!(d.notes.as_deref(), Some("Ghi chú của xã"));
        // The same text as an import cell.
        let csv = format!("Họ tên chủ hộ,Thôn\n\"{}\",\"{}\"\n", spell(name), spell(village));
        let t = giupdo::import::read_table(csv.as_bytes(), "ds.csv").map_err(TestCaseError::fail)?;
        prop_assert_eq!(&t.rows[0].1, &vec![name.to_string(), village.to_string()]);
    }

    #[test]
    fn a_household_as_people_type_it_is_accepted(
        head in prop::sample::select(vec!["Hoàng Văn Thụ", "NÔNG THỊ LAN", "lương  đức  sơn", "Bàn Thị Mai"]),
        year in 1930i32..=2006,
        male in any::<bool>(),
        serial in 0u32..1_000_000,
        members in 1u32..=15,
        status in prop::sample::select(vec!["Hộ nghèo", "cận nghèo", "Can ngheo", "HỘ NGHÈO"]),
        ethnicity in prop::sample::select(vec!["Tày", "Nùng", "dao", "KINH"]),
        dotted in any::<bool>(),
    ) {
        let century = if year >= 2000 { 2 } else { 0 } + u32::from(!male);
        let digits = format!("020{century}{:02}{serial:06}", year % 100);
        let cccd = if dotted {
            format!("{} {} {}", &digits[..4], &digits[4..8], &digits[8..])
        } else {
            digits.clone()
        };
        let input = HouseholdInput {
            commune_code: "06073".into(),
            village: "Thôn Nà Pàn".into(),
            head_name: head.into(),
            birth_year: year.to_string(),
            gender: if male { "Nam" } else { "Nữ" }.into(),
            cccd,
            ethnicity: ethnicity.into(),
            members: members.to_string(),
            status: status.into(),
            lacks_capital: "x".into(),
            will_to_escape: "có".into(),
            ..HouseholdInput::default()
        };
        let d = input.parse(2024).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(d.cccd.as_ref().map(|c| c.as_str()), Some(digits.as_str()));
        prop_assert_eq!(d.birth_year, Some(year));
        prop_assert_eq!(d.members as u32, members);
    }

    #[test]
    fn money_parses_to_a_non_negative_amount_or_a_message(s in text()) {
        match parse_vnd(&s, "Giá trị") {
            Ok(v) => prop_assert!(v >= 0),
            Err(m) => prop_assert!(vietnamese(&m), "{m:?}"),
        }
    }

    #[test]
    fn money_written_the_vietnamese_way_reads_back(v in 1i64..1_000_000_000_000, frac in 1u32..100) {
        let plain = v.to_string();
        let dotted = group_thousands(v);
        let commas = dotted.replace('.', ",");
        for s in [plain.clone(), dotted.clone(), commas, format!(" {dotted} đ"), format_vnd(v),
                  format!("{dotted} VNĐ"), dotted.replace('.', " ")] {
            match parse_vnd(&s, "Giá trị") {
                Ok(got) => prop_assert_eq!(got, v, "{}", s),
                // A bound on the amount is a legitimate answer, with its message.
                Err(m) => prop_assert!(vietnamese(&m) && v > MAX_VND, "{s}: {m}"),
            }
        }
        // A fraction is never read as thousands: "8000000,5", "8.000.000,50", "12,5".
        for s in [format!("{plain},{frac}"), format!("{dotted},{frac:02}")] {
            match parse_vnd(&s, "Giá trị") {
                Ok(got) => prop_assert!(false, "{s} read as {got}"),
                Err(m) => prop_assert!(vietnamese(&m), "{s}: {m}"),
            }
        }
    }

    #[test]
    fn dates_read_back_and_impossible_ones_are_refused(
        y in 1990i32..2100, m in 1u32..=12, d in 1u32..=31, s in text()
    ) {
        let real = NaiveDate::from_ymd_opt(y, m, d);
        for typed in [format!("{d:02}/{m:02}/{y}"), format!("{d}/{m}/{y}"), format!("{d:02}-{m:02}-{y}"),
                      format!("{d:02}.{m:02}.{y}"), format!("{y}-{m:02}-{d:02}")] {
            match (real, parse_date(&typed, "Ngày trao")) {
                (Some(date), Ok(got)) => {
                    prop_assert_eq!(got, date);
                    prop_assert_eq!(parse_date(&format_date(date), "Ngày trao"), Ok(date));
                }
                (None, Err(msg)) => prop_assert!(vietnamese(&msg)),
                (real, parsed) => prop_assert!(false, "{typed}: {real:?} vs {parsed:?}"),
            }
        }
        if let Err(msg) = parse_date(&s, "Ngày trao") {
            prop_assert!(vietnamese(&msg));
        }
    }

    #[test]
    fn support_lines_give_lines_or_messages(
        rows in prop::collection::vec(prop::collection::vec(text(), 5), 0..6)
    ) {
        let lines: Vec<LineInput> = rows
            .into_iter()
            .map(|v| {
                let mut v = v.into_iter();
                let mut next = || v.next().unwrap_or_default();
                LineInput { form: next(), item: next(), quantity: next(), unit: next(), value: next() }
            })
            .collect();
        match parse_lines(&lines) {
            Ok(ok) => {
                prop_assert!(!ok.is_empty());
                for l in ok {
                    prop_assert!(l.quantity > 0 && l.value >= 0);
                }
            }
            Err(messages) => {
                prop_assert!(!messages.is_empty());
                for m in messages {
                    prop_assert!(vietnamese(&m), "{m:?}");
                }
            }
        }
    }

    #[test]
    fn deliveries_and_visits_give_a_record_or_messages(
        d in prop::collection::vec(text(), 8),
        v in prop::collection::vec(text(), 11),
    ) {
        let pledged = NaiveDate::from_ymd_opt(2024, 6, 1).unwrap();
        let today = NaiveDate::from_ymd_opt(2024, 11, 28).unwrap();
        let delivery: DeliveryInput = form(
            &["ngay", "vat_pham", "so_luong", "don_vi_tinh", "don_gia", "nguoi_trao", "so_bien_ban", "ghi_chu"],
            d,
        );
        match parse_delivery(&delivery, pledged, today) {
            Ok(r) => prop_assert!(
                r.delivered_on >= pledged && r.delivered_on <= today && r.total_value >= 0
            ),
            Err(e) => prop_assert!(e.values().all(|m| vietnamese(m)), "{e:?}"),
        }
        let visit: VisitInput = form(
            &["ngay", "nhan_xet", "nhan", "sinh", "chet", "ban", "cay_song", "huong_dan", "danh_gia", "tinh_trang", "ghi_chu"],
            v,
        );
        match parse_visit(&visit, pledged, today) {
            Ok(r) => prop_assert!(r.visited_on.year() == 2024),
            Err(e) => prop_assert!(e.values().all(|m| vietnamese(m)), "{e:?}"),
        }
    }

    #[test]
    fn agency_and_account_forms_give_a_value_or_messages(
        a in prop::collection::vec(text(), 6), u in text(), n in text()
    ) {
        let agency: giupdo::web::agencies::AgencyForm = form(
            &["name", "kind", "staff_count", "commune_code", "contact_person", "phone"],
            a,
        );
        match agency.parse() {
            Ok(d) => prop_assert!(d.staff_count >= 0),
            Err(e) => prop_assert!(!e.0.is_empty() && e.0.values().all(|m| vietnamese(m))),
        }
        match giupdo::domain::accounts::parse_username(&u) {
            Ok(name) => prop_assert!(name.len() >= 3 && name.is_ascii()),
            Err(m) => prop_assert!(vietnamese(&m)),
        }
        if let Err(m) = giupdo::domain::accounts::parse_full_name(&n) {
            prop_assert!(vietnamese(&m));
        }
    }

    /// Arbitrary bytes named as either kind of file: a table or a Vietnamese message.
    #[test]
    fn any_uploaded_bytes_give_a_table_or_a_message(
        bytes in prop::collection::vec(any::<u8>(), 0..4096),
        xlsx in any::<bool>(),
    ) {
        let name = if xlsx { "ho.xlsx" } else { "ho.csv" };
        match giupdo::import::read_table(&bytes, name) {
            Ok(t) => {
                let (index, _) = column_index(&t.headers);
                for (_, cells) in &t.rows {
                    if let Err(e) = row_input(&index, cells).parse(2024) {
                        prop_assert!(e.values().all(|m| vietnamese(m)));
                    }
                }
            }
            Err(m) => prop_assert!(vietnamese(&m), "{m:?}"),
        }
    }

    /// Whatever cells a spreadsheet program writes to CSV (quotes, commas, new lines, Vietnamese),
    /// the import reads back the same cells (trimmed) under the template's headers.
    #[test]
    fn csv_cells_read_back_exactly(
        rows in prop::collection::vec(prop::collection::vec("[^\u{0}\r]{0,20}", COLUMNS.len()), 1..20),
        bom in any::<bool>(),
    ) {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(COLUMNS.iter().map(|(_, h, _)| *h)).unwrap();
        for r in &rows {
            w.write_record(r).unwrap();
        }
        let mut bytes = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
        bytes.extend(w.into_inner().unwrap());
        let t = giupdo::import::read_table(&bytes, "ho.csv")
            .map_err(TestCaseError::fail)?;
        let (index, unknown) = column_index(&t.headers);
        prop_assert!(unknown.is_empty());
        prop_assert_eq!(index.len(), COLUMNS.len());
        // Rows of only blank cells are skipped by the reader, as Excel users expect.
        use giupdo::domain::text::clean;
        let expected: Vec<&Vec<String>> =
            rows.iter().filter(|r| r.iter().any(|c| !clean(c).is_empty())).collect();
        prop_assert_eq!(t.rows.len(), expected.len());
        let col = |field: &str| COLUMNS.iter().position(|(f, _, _)| *f == field).unwrap();
        for ((_, got), want) in t.rows.iter().zip(expected) {
            let input = row_input(&index, got);
            // Cells are read in their one spelling (NFC, spaces collapsed, trimmed), as people
            // mean them.
            prop_assert_eq!(input.head_name, clean(&want[col("head_name")]));
            prop_assert_eq!(input.notes, clean(&want[col("notes")]));
        }
    }
}

/// The file the fuzzer found (`fuzz/seeds/import_table/calamine-overflow.bin`, its first byte the
/// target's file-kind selector): calamine overflows while parsing it. A message, not a panic.
#[test]
fn the_xlsx_that_made_the_reader_panic_gets_a_message() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/seeds/import_table/calamine-overflow.bin"
    ))
    .unwrap();
    match giupdo::import::read_table(&bytes[1..], "ho.xlsx") {
        Ok(t) => panic!("a table from a broken file: {:?}", t.headers),
        Err(m) => assert!(m.contains("bị hỏng"), "{m}"),
    }
}
