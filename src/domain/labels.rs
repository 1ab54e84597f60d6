//! Vietnamese labels of the stored codes (kinds, statuses, states). The codes stay English in the
//! database so queries read the same to every engineer; people see these words.

pub fn agency_kind(code: &str) -> &'static str {
    match code {
        "department" => "Phòng, ban chuyên môn",
        "state_agency" => "Cơ quan nhà nước",
        "fatherland_front" => "Ủy ban MTTQ",
        "mass_organisation" => "Đoàn thể",
        "school" => "Trường học",
        "armed_forces" => "Lực lượng vũ trang",
        "commune_committee" => "UBND xã, thị trấn",
        "business" => "Doanh nghiệp",
        "business_association" => "Hội doanh nghiệp",
        _ => "Khác",
    }
}

pub fn household_status(code: &str) -> &'static str {
    match code {
        "poor" => "Hộ nghèo",
        "near_poor" => "Hộ cận nghèo",
        "escaped" => "Đã thoát nghèo",
        _ => "Không rõ",
    }
}

pub fn ethnicity(code: &str) -> &'static str {
    match code {
        "nung" => "Nùng",
        "tay" => "Tày",
        "kinh" => "Kinh",
        "dao" => "Dao",
        "hoa" => "Hoa",
        _ => "Dân tộc khác",
    }
}

pub fn gender(code: &str) -> &'static str {
    match code {
        "male" => "Nam",
        "female" => "Nữ",
        _ => "",
    }
}

pub fn sponsorship_state(code: &str) -> &'static str {
    match code {
        "proposed" => "Chờ xã xác nhận",
        "confirmed" => "Đã xác nhận",
        "rejected" => "Bị từ chối",
        "delivering" => "Đang trao hỗ trợ",
        "target_reached" => "Đạt mức hỗ trợ",
        "follow_up" => "Đang theo dõi",
        "cancelled" => "Đã hủy",
        _ => "Không rõ",
    }
}

pub fn support_form(code: &str) -> &'static str {
    match code {
        "livestock" => "Con giống",
        "seedlings" => "Cây giống",
        "tools" => "Công cụ sản xuất",
        "house_repair" => "Sửa chữa nhà",
        "cash" => "Tiền mặt",
        "training" => "Tập huấn kỹ thuật",
        _ => "Khác",
    }
}
