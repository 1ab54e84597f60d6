//! Deliveries (R6) and follow-up visits (R8) as typed, checked into records with Vietnamese messages.

use crate::domain::dates::parse_date;
use crate::domain::labels;
use crate::domain::money::Vnd;
use chrono::NaiveDate;

use super::{parse_count, parse_quantity, text};
use crate::domain::money::MAX_VND;

#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct DeliveryInput {
    #[serde(default)]
    pub ngay: String,
    #[serde(default)]
    pub vat_pham: String,
    #[serde(default)]
    pub so_luong: String,
    #[serde(default)]
    pub don_vi_tinh: String,
    #[serde(default)]
    pub don_gia: String,
    #[serde(default)]
    pub nguoi_trao: String,
    #[serde(default)]
    pub so_bien_ban: String,
    #[serde(default)]
    pub ghi_chu: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Delivery {
    pub delivered_on: NaiveDate,
    pub item: String,
    pub quantity: i32,
    pub unit: String,
    pub unit_value: i64,
    pub total_value: i64,
    pub delivered_by: String,
    pub record_number: Option<String>,
    pub note: Option<String>,
}

pub type Errors = std::collections::BTreeMap<&'static str, String>;

/// A delivery as typed, checked against the pledge date and today: not before the pledge, not
/// in the future, total = quantity × unit value within bounds.
pub fn parse_delivery(
    d: &DeliveryInput,
    pledged_on: NaiveDate,
    today: NaiveDate,
) -> Result<Delivery, Errors> {
    let mut errors = Errors::new();
    let date = parse_date(&d.ngay, "Ngày trao").and_then(|date| {
        if date > today {
            Err("Ngày trao không được ở tương lai.".to_string())
        } else if date < pledged_on {
            Err(format!(
                "Ngày trao không được trước ngày đăng ký ({}).",
                crate::domain::dates::format_date(pledged_on)
            ))
        } else {
            Ok(date)
        }
    });
    let item = text(&d.vat_pham, "Vật phẩm", 200, true);
    let quantity = parse_quantity(&d.so_luong, "Số lượng");
    let unit = text(&d.don_vi_tinh, "Đơn vị tính", 40, true);
    let unit_value = Vnd::parse(&d.don_gia, "Đơn giá").map(Vnd::get);
    let by = text(&d.nguoi_trao, "Người trao", 120, true);
    let record = text(&d.so_bien_ban, "Số biên bản bàn giao", 60, false);
    let note = text(&d.ghi_chu, "Ghi chú", 1000, false);
    let mut keep = |field: &'static str, r: Result<(), String>| {
        if let Err(e) = r {
            errors.insert(field, e);
        }
    };
    keep("ngay", date.as_ref().map(|_| ()).map_err(Clone::clone));
    keep("vat_pham", item.as_ref().map(|_| ()).map_err(Clone::clone));
    keep(
        "so_luong",
        quantity.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    keep(
        "don_vi_tinh",
        unit.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    keep(
        "don_gia",
        unit_value.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    keep("nguoi_trao", by.as_ref().map(|_| ()).map_err(Clone::clone));
    keep(
        "so_bien_ban",
        record.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    keep("ghi_chu", note.as_ref().map(|_| ()).map_err(Clone::clone));
    if let (Ok(q), Ok(v)) = (&quantity, &unit_value) {
        match i64::from(*q).checked_mul(*v) {
            Some(t) if t <= MAX_VND => {}
            _ => {
                errors.insert(
                    "don_gia",
                    format!(
                        "Thành tiền (số lượng × đơn giá) quá lớn (tối đa {}).",
                        crate::domain::money::format_vnd(MAX_VND)
                    ),
                );
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Every Result above is Ok here.
    let (Ok(delivered_on), Ok(Some(item)), Ok(quantity), Ok(Some(unit)), Ok(unit_value)) =
        (date, item, quantity, unit, unit_value)
    else {
        return Err(errors);
    };
    Ok(Delivery {
        delivered_on,
        item,
        quantity,
        unit,
        unit_value,
        total_value: i64::from(quantity) * unit_value,
        delivered_by: by.ok().flatten().unwrap_or_default(),
        record_number: record.ok().flatten(),
        note: note.ok().flatten(),
    })
}

#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct VisitInput {
    #[serde(default)]
    pub ngay: String,
    #[serde(default)]
    pub nhan_xet: String,
    #[serde(default)]
    pub nhan: String,
    #[serde(default)]
    pub sinh: String,
    #[serde(default)]
    pub chet: String,
    #[serde(default)]
    pub ban: String,
    #[serde(default)]
    pub cay_song: String,
    #[serde(default)]
    pub huong_dan: String,
    #[serde(default)]
    pub danh_gia: String,
    #[serde(default)]
    pub tinh_trang: String,
    /// "1": the commune official or clerk recording the visit also records it as the household's
    /// official status (from the commune's review). Never an agency's.
    #[serde(default)]
    pub chinh_thuc: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Visit {
    pub visited_on: NaiveDate,
    pub findings: String,
    pub received: Option<i32>,
    pub born: Option<i32>,
    pub died: Option<i32>,
    pub sold: Option<i32>,
    pub trees_surviving: Option<i32>,
    pub guidance: Option<String>,
    pub evaluation: &'static str,
    /// What the visitor saw: the visit's own finding.
    pub observed_status: &'static str,
    /// Also the household's official status that year (only the commune or the district may).
    pub official: bool,
}

pub fn parse_visit(
    v: &VisitInput,
    pledged_on: NaiveDate,
    today: NaiveDate,
) -> Result<Visit, Errors> {
    let mut errors = Errors::new();
    let date = parse_date(&v.ngay, "Ngày thăm").and_then(|d| {
        if d > today {
            Err("Ngày thăm không được ở tương lai.".to_string())
        } else if d < pledged_on {
            Err("Ngày thăm không được trước ngày đăng ký giúp đỡ.".to_string())
        } else {
            Ok(d)
        }
    });
    let findings = text(&v.nhan_xet, "Kết quả thăm", 2000, true);
    let guidance = text(&v.huong_dan, "Hướng dẫn kỹ thuật", 1000, false);
    let counts = [
        ("nhan", parse_count(&v.nhan, "Số con nhận")),
        ("sinh", parse_count(&v.sinh, "Số con sinh thêm")),
        ("chet", parse_count(&v.chet, "Số con chết")),
        ("ban", parse_count(&v.ban, "Số con đã bán")),
        ("cay_song", parse_count(&v.cay_song, "Số cây sống")),
    ];
    // The select offers exactly these codes (domain::labels).
    let evaluation = labels::code(labels::EVALUATIONS, &v.danh_gia)
        .ok_or_else(|| "Hãy chọn đánh giá hiệu quả.".to_string());
    let status = labels::code(labels::HOUSEHOLD_STATUSES, &v.tinh_trang)
        .ok_or_else(|| "Hãy chọn tình trạng của hộ quan sát được khi thăm.".to_string());
    if let Err(e) = &date {
        errors.insert("ngay", e.clone());
    }
    if let Err(e) = &findings {
        errors.insert("nhan_xet", e.clone());
    }
    if let Err(e) = &guidance {
        errors.insert("huong_dan", e.clone());
    }
    for (field, r) in &counts {
        if let Err(e) = r {
            errors.insert(field, e.clone());
        }
    }
    if let Err(e) = &evaluation {
        errors.insert("danh_gia", e.clone());
    }
    if let Err(e) = &status {
        errors.insert("tinh_trang", e.clone());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let count = |i: usize| counts[i].1.clone().ok().flatten();
    Ok(Visit {
        visited_on: date.map_err(|_| Errors::new())?,
        findings: findings.ok().flatten().unwrap_or_default(),
        received: count(0),
        born: count(1),
        died: count(2),
        sold: count(3),
        trees_surviving: count(4),
        guidance: guidance.ok().flatten(),
        evaluation: evaluation.map_err(|_| Errors::new())?,
        observed_status: status.map_err(|_| Errors::new())?,
        official: v.chinh_thuc == "1",
    })
}
