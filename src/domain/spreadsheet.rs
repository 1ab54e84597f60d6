//! CSV files that people open in Excel or LibreOffice.
//!
//! A spreadsheet program runs a cell as a formula when its text begins with `=`, `+`, `-` or `@`
//! (and, after a tab or a carriage return, with whatever follows): a household or agency named
//! `=HYPERLINK(…)` or `=cmd|…` would run on the clerk's computer when the CSV is opened (CSV
//! injection). Following OWASP's guidance, such a text cell is written with a leading `'`, which
//! both programs read as "this is text", and every text cell is wrapped in double quotes (a `;` in
//! a name then never splits it, whatever separator the spreadsheet guesses).
//! Numbers (money, counts) are written as numbers: a negative amount stays a number.
//!
//! Every CSV the app writes (reports, import templates, the command line's exports) goes through
//! [`SafeCsv`], so no writer can forget it.

use std::borrow::Cow;
use std::io::Write;

/// The characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The text of a cell as it is safe to write into a CSV: unchanged, or with a leading `'` when it
/// would be read as a formula. Leading spaces do not hide a formula (a spreadsheet may trim them).
pub fn neutralise(text: &str) -> Cow<'_, str> {
    match text.trim_start_matches(' ').chars().next() {
        Some(c) if FORMULA_START.contains(&c) => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

/// One cell of a row: text (neutralised) or a whole number (written as is).
#[derive(Debug, Clone, Copy)]
pub enum CsvCell<'a> {
    Text(&'a str),
    Number(i64),
}

/// A CSV writer whose text cells are all neutralised.
pub struct SafeCsv<W: Write> {
    w: csv::Writer<W>,
}

/// The byte-order mark Excel needs to read a CSV as UTF-8 (Vietnamese would be garbled without).
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

impl SafeCsv<Vec<u8>> {
    /// An in-memory CSV starting with the BOM.
    pub fn with_bom() -> Self {
        SafeCsv::new(BOM.to_vec())
    }

    /// The bytes written (the BOM, then the rows).
    pub fn into_bytes(self) -> Vec<u8> {
        self.w.into_inner().unwrap_or_default()
    }
}

impl<W: Write> SafeCsv<W> {
    pub fn new(out: W) -> Self {
        SafeCsv {
            w: csv::WriterBuilder::new()
                .quote_style(csv::QuoteStyle::NonNumeric)
                .from_writer(out),
        }
    }

    /// A row of text cells.
    pub fn text_row<I, S>(&mut self, cells: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let cells: Vec<String> = cells
            .into_iter()
            .map(|s| neutralise(s.as_ref()).into_owned())
            .collect();
        self.w.write_record(&cells)
    }

    /// A row of text and number cells.
    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = CsvCell<'a>>) -> csv::Result<()> {
        let cells: Vec<Cow<'a, str>> = cells
            .into_iter()
            .map(|c| match c {
                CsvCell::Text(s) => neutralise(s),
                CsvCell::Number(n) => Cow::Owned(n.to_string()),
            })
            .collect();
        self.w.write_record(cells.iter().map(|c| c.as_ref()))
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_neutralised_and_plain_text_is_not() {
        for bad in [
            "=1+2",
            "+84912",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "  =HYPERLINK(\"x\")",
        ] {
            assert_eq!(neutralise(bad), format!("'{bad}"), "{bad:?}");
        }
        for ok in [
            "Hoàng Văn Thụ",
            "Thôn Nà Pàn",
            "8.000.000",
            "",
            "a=b",
            "Bò giống - 1 con",
        ] {
            assert_eq!(neutralise(ok), ok);
        }
    }

    #[test]
    fn numbers_stay_numbers_and_text_is_quoted_by_the_csv_rules() {
        let mut w = SafeCsv::with_bom();
        w.row([
            CsvCell::Text("=cmd|' /C calc'!A0"),
            CsvCell::Number(-5),
            CsvCell::Text("a,b"),
        ])
        .unwrap();
        let bytes = w.into_bytes();
        assert!(bytes.starts_with(BOM));
        let text = String::from_utf8(bytes[BOM.len()..].to_vec()).unwrap();
        assert_eq!(text, "\"'=cmd|' /C calc'!A0\",-5,\"a,b\"\n");
    }
}
