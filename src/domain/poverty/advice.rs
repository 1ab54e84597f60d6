//! Advice: which forms of help address which shortfalls, needs and wishes (issue #26). A table
//! of reasons and weights; the agency chooses, this only ranks.

use super::{Profile, Standard};

/// A form of help the advice can name: the effectiveness report's group (its measured results are
/// looked up by it) and what to give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// A code of `domain::effectiveness::GROUPS`.
    pub group: &'static str,
    pub what: &'static str,
    /// Why, in the words a user reads: the shortfalls and wishes it answers.
    pub because: Vec<String>,
    /// The indicators it addresses, to look up the results of similar households.
    pub indicators: Vec<String>,
    pub score: u32,
}

/// The advice table: an indicator (or a need of the household, `need:…`, or a word of its wishes,
/// `wish:…`) and the forms of help that answer it, with a weight. Forms of help that earn
/// income come first for employment and nutrition; a house repair for housing; a water tank for
/// water; a latrine for sanitation.
const ADVICE: &[(&str, &str, &str, u32)] = &[
    ("viec_lam", "cattle", "Con giống sinh sản (bò, trâu)", 3),
    ("viec_lam", "pigs", "Con giống (lợn nái)", 3),
    ("viec_lam", "goats", "Con giống (dê)", 2),
    (
        "viec_lam",
        "seedlings",
        "Cây giống (quế, hồi, cây ăn quả)",
        2,
    ),
    (
        "nguoi_phu_thuoc",
        "poultry",
        "Gia cầm nuôi quanh nhà (gà, vịt)",
        2,
    ),
    (
        "nguoi_phu_thuoc",
        "cash",
        "Tiền mặt cho người ốm, người già",
        1,
    ),
    (
        "dinh_duong",
        "poultry",
        "Gia cầm (gà, vịt) cho bữa ăn và bán",
        3,
    ),
    ("dinh_duong", "pigs", "Con giống (lợn)", 1),
    (
        "bao_hiem_y_te",
        "cash",
        "Mua thẻ bảo hiểm y tế cho người chưa có",
        3,
    ),
    (
        "giao_duc_nguoi_lon",
        "tools",
        "Công cụ và tập huấn kỹ thuật sản xuất",
        2,
    ),
    (
        "tre_em_di_hoc",
        "cash",
        "Sách vở, đồ dùng, học phí cho trẻ đi học",
        3,
    ),
    ("chat_luong_nha", "housing", "Sửa chữa, làm mới nhà", 4),
    ("dien_tich_nha", "housing", "Cơi nới, sửa chữa nhà", 3),
    ("nuoc_sinh_hoat", "other", "Bể, téc chứa nước sinh hoạt", 4),
    ("nha_tieu", "other", "Xây nhà tiêu hợp vệ sinh", 4),
    ("vien_thong", "other", "Điện thoại, thuê bao viễn thông", 2),
    ("tiep_can_thong_tin", "other", "Ti vi, đài, đầu thu", 2),
    ("need:capital", "cattle", "Con giống sinh sản (bò, trâu)", 2),
    ("need:capital", "pigs", "Con giống (lợn nái)", 2),
    (
        "need:capital",
        "seedlings",
        "Cây giống (quế, hồi, cây ăn quả)",
        1,
    ),
    (
        "need:technique",
        "tools",
        "Công cụ và tập huấn kỹ thuật sản xuất",
        3,
    ),
    ("need:land", "pigs", "Con giống (lợn nái)", 1),
    (
        "need:land",
        "poultry",
        "Gia cầm nuôi quanh nhà (gà, vịt)",
        2,
    ),
    (
        "need:labour",
        "poultry",
        "Gia cầm nuôi quanh nhà (gà, vịt)",
        1,
    ),
    // Wishes: a word with its marks, matched on the words as written (so "bỏ", "bố" and "lớn"
    // are not "bò" and "lợn"), or a phrase without marks for wishes typed without them, matched on
    // the unmarked text (a single unmarked word is too ambiguous: "bo", "lon", "de", "que").
    ("wish:bò", "cattle", "Con giống sinh sản (bò, trâu)", 3),
    ("wish:trâu", "cattle", "Con giống sinh sản (bò, trâu)", 3),
    (
        "wish:bo giong",
        "cattle",
        "Con giống sinh sản (bò, trâu)",
        3,
    ),
    ("wish:nuoi bo", "cattle", "Con giống sinh sản (bò, trâu)", 3),
    ("wish:lợn", "pigs", "Con giống (lợn nái)", 3),
    ("wish:heo", "pigs", "Con giống (lợn nái)", 3),
    ("wish:lon nai", "pigs", "Con giống (lợn nái)", 3),
    ("wish:nuoi lon", "pigs", "Con giống (lợn nái)", 3),
    ("wish:dê", "goats", "Con giống (dê)", 3),
    ("wish:nuoi de", "goats", "Con giống (dê)", 3),
    ("wish:gà", "poultry", "Gia cầm nuôi quanh nhà (gà, vịt)", 3),
    ("wish:vịt", "poultry", "Gia cầm nuôi quanh nhà (gà, vịt)", 3),
    (
        "wish:nuoi ga",
        "poultry",
        "Gia cầm nuôi quanh nhà (gà, vịt)",
        3,
    ),
    (
        "wish:cây",
        "seedlings",
        "Cây giống (quế, hồi, cây ăn quả)",
        3,
    ),
    (
        "wish:quế",
        "seedlings",
        "Cây giống (quế, hồi, cây ăn quả)",
        3,
    ),
    (
        "wish:cay giong",
        "seedlings",
        "Cây giống (quế, hồi, cây ăn quả)",
        3,
    ),
    (
        "wish:trong que",
        "seedlings",
        "Cây giống (quế, hồi, cây ăn quả)",
        3,
    ),
    ("wish:nhà tiêu", "other", "Xây nhà tiêu hợp vệ sinh", 3),
    ("wish:sửa nhà", "housing", "Sửa chữa, làm mới nhà", 3),
    ("wish:làm nhà", "housing", "Sửa chữa, làm mới nhà", 3),
    ("wish:mái nhà", "housing", "Sửa chữa, làm mới nhà", 3),
    ("wish:sửa lại nhà", "housing", "Sửa chữa, làm mới nhà", 3),
    ("wish:sua lai nha", "housing", "Sửa chữa, làm mới nhà", 3),
    ("wish:sua nha", "housing", "Sửa chữa, làm mới nhà", 3),
    ("wish:lam nha", "housing", "Sửa chữa, làm mới nhà", 3),
    ("wish:nước", "other", "Bể, téc chứa nước sinh hoạt", 3),
    ("wish:be nuoc", "other", "Bể, téc chứa nước sinh hoạt", 3),
    (
        "wish:nuoc sinh hoat",
        "other",
        "Bể, téc chứa nước sinh hoạt",
        3,
    ),
    (
        "wish:máy",
        "tools",
        "Công cụ và tập huấn kỹ thuật sản xuất",
        2,
    ),
    (
        "wish:ky thuat",
        "tools",
        "Công cụ và tập huấn kỹ thuật sản xuất",
        3,
    ),
];

/// What the household needs, besides its review: the need flags it carries.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    pub lacks_capital: bool,
    pub lacks_land: bool,
    pub lacks_labour: bool,
    pub lacks_technique: bool,
}

/// The forms of help that address a household's shortfalls, needs and wishes, best first (the
/// weights of the reasons summed; ties keep the advice table's order). Advice, never a rule: the
/// agency chooses.
pub fn suggest(
    standard: Option<&Standard>,
    profile: Option<&Profile>,
    needs: Needs,
) -> Vec<Suggestion> {
    let mut keys: Vec<(String, String)> = Vec::new();
    if let Some(p) = profile {
        for code in &p.short_of {
            let label = standard
                .and_then(|s| s.indicator(code))
                .map(|i| format!("thiếu hụt {}", i.label.to_lowercase()))
                .unwrap_or_else(|| format!("thiếu hụt {code}"));
            keys.push((code.clone(), label));
        }
    }
    for (flag, key, label) in [
        (needs.lacks_capital, "need:capital", "thiếu vốn sản xuất"),
        (needs.lacks_technique, "need:technique", "thiếu kỹ thuật"),
        (needs.lacks_land, "need:land", "thiếu đất sản xuất"),
        (needs.lacks_labour, "need:labour", "thiếu lao động"),
    ] {
        if flag {
            keys.push((key.to_string(), label.to_string()));
        }
    }
    if let Some(p) = profile {
        // As written (composed, lower case) and without marks, each padded for whole words.
        let written = format!(
            " {} ",
            crate::domain::text::clean(&p.wishes)
                .to_lowercase()
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        );
        let plain = format!(" {} ", crate::domain::text::normalize_name(&p.wishes));
        let unmarked = p.wishes.is_ascii();
        for (key, ..) in ADVICE {
            let Some(w) = key.strip_prefix("wish:") else {
                continue;
            };
            // Unmarked phrases only for a wish typed without marks: once per wish either way.
            let hit = if w.is_ascii() {
                unmarked && plain.contains(&format!(" {w} "))
            } else {
                written.contains(&format!(" {w} "))
            };
            if hit && !keys.iter().any(|(k, _)| k == key) {
                keys.push((key.to_string(), format!("gia đình mong muốn “{w}”")));
            }
        }
    }
    let mut out: Vec<Suggestion> = Vec::new();
    for (key, group, what, weight) in ADVICE {
        let Some((_, reason)) = keys.iter().find(|(k, _)| k == key) else {
            continue;
        };
        let s = match out.iter_mut().find(|s| s.what == *what) {
            Some(s) => s,
            None => {
                out.push(Suggestion {
                    group,
                    what,
                    because: Vec::new(),
                    indicators: Vec::new(),
                    score: 0,
                });
                out.last_mut().expect("just pushed")
            }
        };
        s.score += weight;
        if !s.because.contains(reason) {
            s.because.push(reason.clone());
        }
        if !key.contains(':') {
            s.indicators.push(key.to_string());
        }
    }
    // Stable: equal scores keep the table's order.
    out.sort_by_key(|s| std::cmp::Reverse(s.score));
    out
}
