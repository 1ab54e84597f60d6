//! Vietnamese labels of the stored codes (kinds, statuses, states). The codes stay English in the
//! database so queries read the same to every engineer; people see these words.
//!
//! Each family of codes is one table, in the order forms offer them: the label functions look a
//! code up in it, the forms' option lists iterate it, and the parsers accept what it holds — so a
//! select cannot offer a code the parser refuses, or show a word the pages do not.

/// (code, label) pairs of one family of codes.
pub type Codes = &'static [(&'static str, &'static str)];

pub const AGENCY_KINDS: Codes = &[
    ("department", "Phòng, ban chuyên môn"),
    ("state_agency", "Cơ quan nhà nước"),
    ("fatherland_front", "Ủy ban MTTQ"),
    ("mass_organisation", "Đoàn thể"),
    ("school", "Trường học"),
    ("armed_forces", "Lực lượng vũ trang"),
    ("commune_committee", "UBND xã, thị trấn"),
    ("business", "Doanh nghiệp"),
    ("business_association", "Hội doanh nghiệp"),
];

pub const HOUSEHOLD_STATUSES: Codes = &[
    ("poor", "Hộ nghèo"),
    ("near_poor", "Hộ cận nghèo"),
    ("escaped", "Đã thoát nghèo"),
];

pub const ETHNICITIES: Codes = &[
    ("nung", "Nùng"),
    ("tay", "Tày"),
    ("kinh", "Kinh"),
    ("dao", "Dao"),
    ("hoa", "Hoa"),
];

pub const GENDERS: Codes = &[("male", "Nam"), ("female", "Nữ")];

pub const SPONSORSHIP_STATES: Codes = &[
    ("proposed", "Chờ xã xác nhận"),
    ("confirmed", "Đã xác nhận"),
    ("rejected", "Bị từ chối"),
    ("delivering", "Đang trao hỗ trợ"),
    ("target_reached", "Đạt mức hỗ trợ"),
    ("follow_up", "Đang theo dõi"),
    ("cancelled", "Đã hủy"),
];

pub const SUPPORT_FORMS: Codes = &[
    ("livestock", "Con giống"),
    ("seedlings", "Cây giống"),
    ("tools", "Công cụ sản xuất"),
    ("house_repair", "Sửa chữa nhà"),
    ("cash", "Tiền mặt"),
    ("training", "Tập huấn kỹ thuật"),
];

/// How effective a follow-up visit found the support.
pub const EVALUATIONS: Codes = &[
    ("effective", "Hiệu quả"),
    ("partly", "Hiệu quả một phần"),
    ("not_effective", "Chưa hiệu quả"),
];

/// The label of `code` in `codes`, or `other` for a code the table does not hold.
pub fn label(codes: Codes, code: &str, other: &'static str) -> &'static str {
    codes
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(other, |(_, l)| l)
}

/// The table's own `&'static` copy of `code`, if it holds it: what a parser keeps.
pub fn code(codes: Codes, code: &str) -> Option<&'static str> {
    codes.iter().find(|(c, _)| *c == code).map(|(c, _)| *c)
}

pub fn agency_kind(code: &str) -> &'static str {
    label(AGENCY_KINDS, code, "Khác")
}

pub fn household_status(code: &str) -> &'static str {
    label(HOUSEHOLD_STATUSES, code, "Không rõ")
}

pub fn ethnicity(code: &str) -> &'static str {
    label(ETHNICITIES, code, "Dân tộc khác")
}

pub fn gender(code: &str) -> &'static str {
    label(GENDERS, code, "")
}

pub fn sponsorship_state(code: &str) -> &'static str {
    label(SPONSORSHIP_STATES, code, "Không rõ")
}

pub fn support_form(code: &str) -> &'static str {
    label(SUPPORT_FORMS, code, "Khác")
}

pub fn evaluation(code: &str) -> &'static str {
    label(EVALUATIONS, code, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_codes_get_the_families_fallback_and_known_ones_their_word() {
        assert_eq!(household_status("near_poor"), "Hộ cận nghèo");
        assert_eq!(household_status("rich"), "Không rõ");
        assert_eq!(agency_kind("club"), "Khác");
        assert_eq!(code(EVALUATIONS, "partly"), Some("partly"));
        assert_eq!(code(EVALUATIONS, "Partly"), None);
    }
}
