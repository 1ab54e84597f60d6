//! Administrative units as dated data (issue #28): a units file in the layout of the official
//! list (code, name, level, parent, valid from/to, successor) read and checked as a whole — every
//! fault named by its row, nothing loaded unless all rows hold.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::Serialize;

use super::dates::{format_date, parse_date};
use super::text::normalize_name;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unit {
    /// The row of the file (1 = the header).
    pub row: usize,
    pub code: String,
    pub name: String,
    /// `province`, `district` or `commune`.
    pub level: &'static str,
    pub parent: Option<String>,
    pub valid_from: NaiveDate,
    /// Last day, inclusive.
    pub valid_to: Option<NaiveDate>,
    pub successors: Vec<String>,
}

impl Unit {
    fn covers(&self, d: NaiveDate) -> bool {
        self.valid_from <= d && self.valid_to.is_none_or(|t| d <= t)
    }
    fn overlaps(&self, o: &Unit) -> bool {
        self.valid_from <= o.valid_to.unwrap_or(NaiveDate::MAX)
            && o.valid_from <= self.valid_to.unwrap_or(NaiveDate::MAX)
    }
    /// "Xã", "Phường", "Thị trấn" or "Đặc khu", from the commune's name.
    pub fn commune_kind(&self) -> &'static str {
        let n = normalize_name(&self.name);
        if n.starts_with("phuong ") {
            "Phường"
        } else if n.starts_with("thi tran ") {
            "Thị trấn"
        } else if n.starts_with("dac khu ") {
            "Đặc khu"
        } else {
            "Xã"
        }
    }
}

fn level(s: &str) -> Option<&'static str> {
    Some(match normalize_name(s).as_str() {
        "province" | "tinh" | "thanh pho truc thuoc trung uong" | "thanh pho" => "province",
        "district" | "huyen" | "quan" | "thi xa" | "thanh pho thuoc tinh" => "district",
        "commune" | "xa" | "phuong" | "thi tran" | "dac khu" => "commune",
        _ => return None,
    })
}

/// The columns, by header (English or Vietnamese, marks and case ignored).
fn column(header: &str) -> Option<&'static str> {
    Some(match normalize_name(header).as_str() {
        "code" | "ma" | "ma don vi" => "code",
        "name" | "ten" | "ten don vi" => "name",
        "level" | "cap" => "level",
        "parent" | "ma cha" | "don vi cha" | "ma don vi cha" | "thuoc" => "parent",
        "valid from" | "valid_from" | "hieu luc tu" | "tu ngay" => "from",
        "valid to" | "valid_to" | "hieu luc den" | "den ngay" => "to",
        "successor" | "ke tiep" | "don vi ke tiep" | "sap nhap vao" => "successor",
        _ => return None,
    })
}

/// Read and check a units file (CSV, comma or semicolon, UTF-8 with or without BOM).
pub fn read(bytes: &[u8]) -> Result<Vec<Unit>, Vec<String>> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().next().unwrap_or_default();
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<Option<&'static str>> = match r.headers() {
        Ok(h) => h.iter().map(column).collect(),
        Err(e) => return Err(vec![format!("Không đọc được dòng tiêu đề: {e}")]),
    };
    let missing: Vec<&str> = ["code", "name", "level", "parent", "from", "to", "successor"]
        .into_iter()
        .filter(|c| !headers.contains(&Some(*c)))
        .collect();
    if !missing.is_empty() {
        return Err(vec![format!(
            "Thiếu cột: {} (cần: mã, tên, cấp, mã cha, hiệu lực từ, hiệu lực đến, kế tiếp).",
            missing.join(", ")
        )]);
    }
    let mut faults = Vec::new();
    let mut units = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let row = i + 2;
        let rec = match rec {
            Ok(rec) => rec,
            Err(e) => {
                faults.push(format!("Dòng {row}: không đọc được ({e})."));
                continue;
            }
        };
        let get = |c: &str| -> String {
            headers
                .iter()
                .position(|h| *h == Some(c))
                .and_then(|p| rec.get(p))
                .map(crate::domain::text::clean)
                .unwrap_or_default()
        };
        if rec.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        let code = get("code");
        if !(2..=5).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_digit()) {
            faults.push(format!(
                "Dòng {row}: mã đơn vị “{code}” phải gồm 2–5 chữ số."
            ));
        }
        let name = get("name");
        if name.is_empty() || name.chars().count() > 120 {
            faults.push(format!(
                "Dòng {row}: hãy ghi tên đơn vị (tối đa 120 ký tự)."
            ));
        }
        let lv = level(&get("level"));
        if lv.is_none() {
            faults.push(format!(
                "Dòng {row}: cấp “{}” không có (tỉnh, huyện hoặc xã).",
                get("level")
            ));
        }
        let parent = Some(get("parent")).filter(|p| !p.is_empty());
        match (lv, &parent) {
            (Some("province"), Some(p)) => faults.push(format!(
                "Dòng {row}: tỉnh {code} không thuộc đơn vị nào (đang ghi mã cha {p})."
            )),
            (Some(l), None) if l != "province" => {
                faults.push(format!("Dòng {row}: đơn vị {code} cần mã đơn vị cha."))
            }
            _ => {}
        }
        let from = parse_date(&get("from"), &format!("Dòng {row}, hiệu lực từ"))
            .map_err(|m| faults.push(m))
            .ok();
        let to_text = get("to");
        let to = if to_text.is_empty() {
            None
        } else {
            parse_date(&to_text, &format!("Dòng {row}, hiệu lực đến"))
                .map_err(|m| faults.push(m))
                .ok()
        };
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            faults.push(format!(
                "Dòng {row}: hết hiệu lực ({}) trước khi có hiệu lực ({}).",
                format_date(t),
                format_date(f)
            ));
        }
        let successors: Vec<String> = get("successor")
            .split([';', '|'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        if !successors.is_empty() && to_text.is_empty() {
            faults.push(format!(
                "Dòng {row}: đơn vị {code} còn hiệu lực nên chưa có đơn vị kế tiếp."
            ));
        }
        if let (Some(level), Some(valid_from)) = (lv, from) {
            units.push(Unit {
                row,
                code,
                name,
                level,
                parent,
                valid_from,
                valid_to: to,
                successors,
            });
        }
    }
    if units.is_empty() && faults.is_empty() {
        faults.push("Tệp không có đơn vị nào.".into());
    }
    if faults.is_empty() {
        faults.extend(check(&units));
    }
    if faults.is_empty() {
        Ok(units)
    } else {
        Err(faults)
    }
}

/// The faults that need all rows: a code in two periods at once (and so in two parents), a parent
/// or successor that is not there when needed, a cycle of successors.
pub fn check(units: &[Unit]) -> Vec<String> {
    let mut faults = Vec::new();
    let mut by_code: BTreeMap<&str, Vec<&Unit>> = BTreeMap::new();
    for u in units {
        by_code.entry(&u.code).or_default().push(u);
    }
    for (i, a) in units.iter().enumerate() {
        for b in &units[i + 1..] {
            if a.code == b.code && a.overlaps(b) {
                faults.push(if a.parent != b.parent {
                    format!(
                        "Dòng {} và dòng {}: đơn vị {} thuộc hai đơn vị cha ({} và {}) cùng một lúc.",
                        a.row,
                        b.row,
                        a.code,
                        a.parent.as_deref().unwrap_or("—"),
                        b.parent.as_deref().unwrap_or("—")
                    )
                } else {
                    format!(
                        "Dòng {} và dòng {}: đơn vị {} có hai thời gian hiệu lực chồng nhau.",
                        a.row, b.row, a.code
                    )
                });
            }
        }
    }
    for u in units {
        if let Some(p) = &u.parent {
            let ok = by_code.get(p.as_str()).is_some_and(|ps| {
                ps.iter()
                    .any(|p| p.covers(u.valid_from) && p.level != "commune")
            });
            if !ok {
                faults.push(format!(
                    "Dòng {}: đơn vị cha {p} của {} không có hiệu lực ngày {}.",
                    u.row,
                    u.code,
                    format_date(u.valid_from)
                ));
            }
        }
        if let Some(end) = u.valid_to {
            let next = end.succ_opt().unwrap_or(end);
            for s in &u.successors {
                let ok = by_code
                    .get(s.as_str())
                    .is_some_and(|ss| ss.iter().any(|x| x.covers(next)));
                if !ok {
                    faults.push(format!(
                        "Dòng {}: đơn vị kế tiếp {s} của {} không có hiệu lực ngày {}.",
                        u.row,
                        u.code,
                        format_date(next)
                    ));
                }
            }
        }
    }
    // Successor cycles among codes (a unit continuing under its own code is not one).
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for u in units {
        for s in &u.successors {
            if *s != u.code {
                edges.entry(&u.code).or_default().insert(s);
            }
        }
    }
    let mut reported: BTreeSet<&str> = BTreeSet::new();
    for start in edges.keys() {
        let mut path = vec![*start];
        if let Some(cycle) = find_cycle(&edges, &mut path)
            && cycle.iter().all(|c| reported.insert(c))
        {
            let rows: Vec<String> = units
                .iter()
                .filter(|u| cycle.contains(&u.code.as_str()) && !u.successors.is_empty())
                .map(|u| u.row.to_string())
                .collect();
            faults.push(format!(
                "Các đơn vị kế tiếp tạo thành vòng: {} → {} (dòng {}).",
                cycle.join(" → "),
                cycle[0],
                rows.join(", ")
            ));
        }
    }
    faults
}

fn find_cycle<'a>(
    edges: &BTreeMap<&'a str, BTreeSet<&'a str>>,
    path: &mut Vec<&'a str>,
) -> Option<Vec<&'a str>> {
    let last = *path.last()?;
    for next in edges.get(last).into_iter().flatten() {
        if let Some(p) = path.iter().position(|c| c == next) {
            return Some(path[p..].to_vec());
        }
        if path.len() < 64 {
            path.push(next);
            if let Some(c) = find_cycle(edges, path) {
                return Some(c);
            }
            path.pop();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "code,name,level,parent,valid_from,valid_to,successor\n";

    #[test]
    fn bình_gia_as_a_units_file_reads() {
        let file = format!(
            "{HEAD}20,Tỉnh Lạng Sơn,Tỉnh,,01/01/1900,,\n181,Huyện Bình Gia,Huyện,20,01/01/1900,30/06/2025,20\n\
             06067,Xã Hưng Đạo,Xã,181,01/01/1900,30/06/2025,06073\n06073,Xã Hoa Thám,Xã,181,01/01/1900,30/06/2025,06073\n\
             06073,Xã Hoa Thám,Xã,20,01/07/2025,,\n"
        );
        let units = read(file.as_bytes()).expect("reads");
        assert_eq!(units.len(), 5);
        assert_eq!(units[2].successors, ["06073"]);
    }

    #[test]
    fn headers_and_levels_read_as_phones_and_old_office_files_write_them() {
        use unicode_normalization::UnicodeNormalization;
        // Decomposed marks (NFD, as some phones paste), upper case, no marks at all.
        let file: String = "MÃ;Tên đơn vị;Cấp;Mã cha;Hiệu lực từ;Hiệu lực đến;Kế tiếp\n\
             20;Tỉnh Lạng Sơn;TỈNH;;01/01/1900;;\n\
             181;Huyện Bình Gia;huyen;20;01/01/1900;30/06/2025;20\n"
            .nfd()
            .collect();
        let units = read(file.as_bytes()).expect("reads");
        assert_eq!(
            units.iter().map(|u| u.level).collect::<Vec<_>>(),
            ["province", "district"]
        );
        assert_eq!(units[0].name, "Tỉnh Lạng Sơn", "stored composed (NFC)");
    }

    #[test]
    fn a_cycle_and_two_parents_at_once_are_refused_by_row() {
        let cycle = format!(
            "{HEAD}20,Tỉnh A,Tỉnh,,2000-01-01,,\n00001,Xã Một,Xã,20,2000-01-01,2025-06-30,00002\n\
             00002,Xã Hai,Xã,20,2000-01-01,2025-06-30,00001\n"
        );
        let f = read(cycle.as_bytes()).unwrap_err();
        assert!(
            f.iter()
                .any(|m| m.starts_with("Các đơn vị kế tiếp tạo thành vòng: 00001 → 00002 → 00001")),
            "{f:?}"
        );
        let two = format!(
            "{HEAD}20,Tỉnh A,Tỉnh,,2000-01-01,,\n21,Tỉnh B,Tỉnh,,2000-01-01,,\n\
             00001,Xã Một,Xã,20,2000-01-01,,\n00001,Xã Một,Xã,21,2020-01-01,,\n"
        );
        let f = read(two.as_bytes()).unwrap_err();
        assert_eq!(
            f,
            ["Dòng 4 và dòng 5: đơn vị 00001 thuộc hai đơn vị cha (20 và 21) cùng một lúc."]
        );
        let bad = format!("{HEAD}20,Tỉnh A,Vùng,,31/02/2000,,\n");
        let f = read(bad.as_bytes()).unwrap_err();
        assert!(f.iter().any(|m| m.contains("cấp “Vùng” không có")), "{f:?}");
        assert!(
            f.iter().any(|m| m.contains("không phải một ngày có thật")),
            "{f:?}"
        );
    }
}
