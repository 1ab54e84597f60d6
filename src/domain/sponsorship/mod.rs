//! Sponsorships (issue #6): the states a sponsorship goes through and the one function that
//! decides every transition, and the parsers of what agency staff and commune officials type —
//! support lines, deliveries, follow-up visits — into checked values with Vietnamese messages.

use super::money::{Vnd, parse_whole};
use super::text::normalize_name;

mod records;

pub use records::*;

use super::money::MAX_VND;
pub const MAX_QUANTITY: i64 = 1_000_000;
/// Agencies in one joint group: the lead and 1–3 others (R2).
pub const MAX_GROUP: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Proposed,
    Confirmed,
    Rejected,
    Delivering,
    TargetReached,
    FollowUp,
    Cancelled,
}

impl State {
    /// Every state, in the order a sponsorship usually goes through them.
    pub const ALL: [State; 7] = [
        State::Proposed,
        State::Confirmed,
        State::Rejected,
        State::Delivering,
        State::TargetReached,
        State::FollowUp,
        State::Cancelled,
    ];

    pub fn parse(s: &str) -> Option<State> {
        Some(match s {
            "proposed" => State::Proposed,
            "confirmed" => State::Confirmed,
            "rejected" => State::Rejected,
            "delivering" => State::Delivering,
            "target_reached" => State::TargetReached,
            "follow_up" => State::FollowUp,
            "cancelled" => State::Cancelled,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            State::Proposed => "proposed",
            State::Confirmed => "confirmed",
            State::Rejected => "rejected",
            State::Delivering => "delivering",
            State::TargetReached => "target_reached",
            State::FollowUp => "follow_up",
            State::Cancelled => "cancelled",
        }
    }
    /// The state in Vietnamese, as every page and export names it.
    pub fn label(self) -> &'static str {
        super::labels::sponsorship_state(self.as_str())
    }
    /// Confirmed by the commune and not cancelled: counts toward quotas and reports (R3). SQL
    /// asks `sponsorship_counts(state)` (migration 0026), checked against this by a test.
    pub fn counts(self) -> bool {
        matches!(
            self,
            State::Confirmed | State::Delivering | State::TargetReached | State::FollowUp
        )
    }
    /// Still holds the household in its campaign (R4); in SQL `sponsorship_is_live(state)`.
    pub fn is_live(self) -> bool {
        !matches!(self, State::Rejected | State::Cancelled)
    }
}

/// Something that happens to a sponsorship.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The household's commune official confirms the selection (R3).
    Confirm,
    /// … or rejects it, with a reason.
    Reject,
    /// The lead agency or a clerk withdraws it, with a reason.
    Cancel,
    /// A delivery is recorded; `reached` says whether the delivered total now meets the target.
    Deliver { reached: bool },
    /// A follow-up visit in a later year (R8).
    Visit,
}

/// The one place transitions are decided: the next state, or why the event is not allowed now.
pub fn next(state: State, event: Event) -> Result<State, &'static str> {
    use State::*;
    match (event, state) {
        (Event::Confirm, Proposed) => Ok(Confirmed),
        (Event::Reject, Proposed) => Ok(Rejected),
        (Event::Confirm | Event::Reject, _) => {
            Err("Chỉ xác nhận hoặc từ chối được đăng ký đang chờ xã xác nhận.")
        }
        (Event::Cancel, Proposed | Confirmed | Delivering) => Ok(Cancelled),
        (Event::Cancel, Cancelled) => Err("Đăng ký này đã bị hủy."),
        (Event::Cancel, Rejected) => Err("Đăng ký này đã bị xã từ chối."),
        (Event::Cancel, TargetReached | FollowUp) => {
            Err("Hộ đã nhận đủ hỗ trợ: không hủy được đăng ký này.")
        }
        (Event::Deliver { reached }, Confirmed | Delivering | TargetReached) => {
            Ok(if reached || state == TargetReached {
                TargetReached
            } else {
                Delivering
            })
        }
        (Event::Deliver { .. }, Proposed) => {
            Err("Đăng ký chưa được xã xác nhận: chưa ghi nhận trao hỗ trợ được.")
        }
        (Event::Deliver { .. }, Cancelled) => {
            Err("Đăng ký này đã bị hủy: không ghi nhận trao hỗ trợ được.")
        }
        (Event::Deliver { .. }, Rejected) => {
            Err("Đăng ký này đã bị xã từ chối: không ghi nhận trao hỗ trợ được.")
        }
        (Event::Deliver { .. }, FollowUp) => {
            Err("Đăng ký của đợt trước đang được theo dõi: hãy ghi lần thăm hộ.")
        }
        (Event::Visit, Confirmed | Delivering | TargetReached | FollowUp) => Ok(FollowUp),
        (Event::Visit, Proposed) => Err("Đăng ký chưa được xã xác nhận."),
        (Event::Visit, Rejected | Cancelled) => {
            Err("Đăng ký đã bị từ chối hoặc hủy: không theo dõi.")
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Quantities and counts as people type them (money: `domain::money`, dates: `domain::dates`)

/// A positive whole quantity (1 … 1.000.000).
pub fn parse_quantity(s: &str, label: &str) -> Result<i32, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(format!("{label}: hãy ghi số lượng."));
    }
    match parse_whole(t, label, MAX_QUANTITY, "đơn vị")? {
        0 => Err(format!("{label}: phải lớn hơn 0.")),
        // Bounded by MAX_QUANTITY above.
        v => Ok(v as i32),
    }
}

/// An optional count that may be zero (animals born, trees surviving): blank is "not recorded".
pub fn parse_count(s: &str, label: &str) -> Result<Option<i32>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    parse_whole(t, label, 10_000_000, "đơn vị").map(|v| Some(v as i32))
}

fn text(s: &str, label: &str, max: usize, required: bool) -> Result<Option<String>, String> {
    let t = super::text::clean_multiline(s);
    let t = t.as_str();
    if t.is_empty() {
        return if required {
            Err(format!("{label}: không được để trống."))
        } else {
            Ok(None)
        };
    }
    if t.chars().count() > max {
        return Err(format!("{label}: dài quá {max} ký tự."));
    }
    Ok(Some(t.to_string()))
}

/// A support form as typed or chosen: the stored code.
pub fn parse_form(s: &str) -> Option<&'static str> {
    Some(match normalize_name(s).as_str() {
        "livestock" | "con giong" | "vat nuoi" => "livestock",
        "seedlings" | "cay giong" => "seedlings",
        "tools" | "cong cu" | "cong cu san xuat" => "tools",
        "house_repair" | "sua chua nha" | "sua nha" => "house_repair",
        "cash" | "tien mat" => "cash",
        "training" | "tap huan" | "tap huan ky thuat" => "training",
        "other" | "khac" => "other",
        _ => return None,
    })
}

pub const FORMS: [&str; 7] = [
    "livestock",
    "seedlings",
    "tools",
    "house_repair",
    "cash",
    "training",
    "other",
];

// ---------------------------------------------------------------------------------------------
// Support lines of a pledge

/// One planned line as typed.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LineInput {
    pub form: String,
    pub item: String,
    pub quantity: String,
    pub unit: String,
    pub value: String,
}

impl LineInput {
    pub fn is_blank(&self) -> bool {
        self.item.trim().is_empty()
            && self.quantity.trim().is_empty()
            && self.unit.trim().is_empty()
            && self.value.trim().is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Line {
    pub form: &'static str,
    pub item: String,
    pub quantity: i32,
    pub unit: String,
    pub value: i64,
}

/// The lines of a pledge: blank rows are skipped, at least one line is needed, each line is
/// checked, and the total must fit. Errors are per line (`Dòng 2: …`).
pub fn parse_lines(lines: &[LineInput]) -> Result<Vec<Line>, Vec<String>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.is_blank() {
            continue;
        }
        let n = i + 1;
        let form =
            parse_form(&l.form).ok_or_else(|| format!("Dòng {n}: hãy chọn hình thức hỗ trợ."));
        let item = text(&l.item, &format!("Dòng {n}, vật phẩm"), 200, true);
        let quantity = parse_quantity(&l.quantity, &format!("Dòng {n}, số lượng"));
        let unit = text(&l.unit, &format!("Dòng {n}, đơn vị tính"), 40, true);
        let value = Vnd::parse(&l.value, &format!("Dòng {n}, giá trị dự kiến")).map(Vnd::get);
        match (form, item, quantity, unit, value) {
            (Ok(form), Ok(Some(item)), Ok(quantity), Ok(Some(unit)), Ok(value)) => out.push(Line {
                form,
                item,
                quantity,
                unit,
                value,
            }),
            (f, i, q, u, v) => {
                for e in [f.err(), i.err(), q.err(), u.err(), v.err()]
                    .into_iter()
                    .flatten()
                {
                    errors.push(e);
                }
            }
        }
    }
    if out.is_empty() && errors.is_empty() {
        errors
            .push("Hãy ghi ít nhất một dòng hỗ trợ (vật phẩm, số lượng, đơn vị, giá trị).".into());
    }
    let total: i64 = out.iter().map(|l| l.value).sum();
    if errors.is_empty() && total > MAX_VND {
        errors.push(format!(
            "Tổng giá trị quá lớn (tối đa {}).",
            super::money::format_vnd(MAX_VND)
        ));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The sponsorship's form is that of its most valuable line; its summary lists the lines.
pub fn summarise(lines: &[Line]) -> (&'static str, String) {
    let form = lines
        .iter()
        .max_by_key(|l| l.value)
        .map(|l| l.form)
        .unwrap_or("other");
    let mut summary = lines
        .iter()
        .map(|l| format!("{} {} {}", l.item, l.quantity, l.unit))
        .collect::<Vec<_>>()
        .join("; ");
    if summary.chars().count() > 500 {
        summary = summary.chars().take(499).collect::<String>() + "…";
    }
    (form, summary)
}

/// The other members of a joint group, as chosen: no more than three, none twice, not the
/// lead itself.
pub fn check_members<T: PartialEq + Copy>(lead: T, others: &[T]) -> Result<(), String> {
    if others.len() + 1 > MAX_GROUP {
        return Err(format!(
            "Một nhóm cùng giúp một hộ có tối đa {MAX_GROUP} đơn vị (đơn vị chủ trì và 1–3 đơn vị khác); đang chọn {}.",
            others.len() + 1
        ));
    }
    if others.contains(&lead) {
        return Err("Đơn vị chủ trì không cần chọn lại trong danh sách cùng giúp.".into());
    }
    for (i, a) in others.iter().enumerate() {
        if others[..i].contains(a) {
            return Err("Một đơn vị được chọn hai lần trong nhóm cùng giúp.".into());
        }
    }
    Ok(())
}

/// Each member's share of the pledged value: split evenly, the lead takes the remainder.
pub fn shares(total: i64, members: usize) -> Vec<i64> {
    let n = members.max(1) as i64;
    let each = total / n;
    let mut v = vec![each; n as usize];
    v[0] += total - each * n;
    v
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn every_transition_legal_and_illegal() {
        use State::*;
        let events = [
            Event::Confirm,
            Event::Reject,
            Event::Cancel,
            Event::Deliver { reached: false },
            Event::Deliver { reached: true },
            Event::Visit,
        ];
        // The whole table: (state, event) → Some(next) when legal.
        let expect = |s: State, e: Event| -> Option<State> {
            match (s, e) {
                (Proposed, Event::Confirm) => Some(Confirmed),
                (Proposed, Event::Reject) => Some(Rejected),
                (Proposed | Confirmed | Delivering, Event::Cancel) => Some(Cancelled),
                (Confirmed | Delivering, Event::Deliver { reached: false }) => Some(Delivering),
                (Confirmed | Delivering | TargetReached, Event::Deliver { .. }) => {
                    Some(TargetReached)
                }
                (Confirmed | Delivering | TargetReached | FollowUp, Event::Visit) => Some(FollowUp),
                _ => None,
            }
        };
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
            for e in events {
                let got = next(s, e);
                match expect(s, e) {
                    Some(n) => assert_eq!(got, Ok(n), "{s:?} + {e:?}"),
                    None => assert!(got.is_err(), "{s:?} + {e:?} should be refused, got {got:?}"),
                }
            }
        }
    }

    #[test]
    fn lines_and_groups() {
        let line = |item: &str, q: &str, v: &str| LineInput {
            form: "livestock".into(),
            item: item.into(),
            quantity: q.into(),
            unit: "con".into(),
            value: v.into(),
        };
        let ok = parse_lines(&[line("Bò cái", "1", "16.000.000"), LineInput::default()]).unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(summarise(&ok), ("livestock", "Bò cái 1 con".to_string()));
        let bad = parse_lines(&[line("Bò", "1", "16000000"), line("Lợn", "0", "-1")]).unwrap_err();
        assert!(bad.iter().all(|e| e.starts_with("Dòng 2")), "{bad:?}");
        assert_eq!(bad.len(), 2);
        assert!(parse_lines(&[LineInput::default()]).is_err());
        assert!(check_members(1, &[2, 3, 4]).is_ok());
        assert!(
            check_members(1, &[2, 3, 4, 5])
                .unwrap_err()
                .contains("tối đa 4")
        );
        assert!(check_members(1, &[2, 2]).unwrap_err().contains("hai lần"));
        assert!(check_members(1, &[1]).is_err());
        assert_eq!(shares(10, 3), vec![4, 3, 3]);
        assert_eq!(shares(16_500_000, 3).iter().sum::<i64>(), 16_500_000);
    }

    #[test]
    fn deliveries_are_checked_against_dates_and_bounds() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let input = DeliveryInput {
            ngay: "20/07/2024".into(),
            vat_pham: "Bò cái".into(),
            so_luong: "2".into(),
            don_vi_tinh: "con".into(),
            don_gia: "8.000.000".into(),
            nguoi_trao: "Nguyễn Văn A".into(),
            ..Default::default()
        };
        let ok = parse_delivery(&input, d(2024, 7, 1), d(2024, 8, 1)).unwrap();
        assert_eq!(ok.total_value, 16_000_000);
        let early = parse_delivery(&input, d(2024, 7, 25), d(2024, 8, 1)).unwrap_err();
        assert!(early["ngay"].contains("trước ngày đăng ký"));
        let future = parse_delivery(&input, d(2024, 7, 1), d(2024, 7, 10)).unwrap_err();
        assert!(future["ngay"].contains("tương lai"));
        let huge = DeliveryInput {
            so_luong: "1000000".into(),
            don_gia: "1.000.000".into(),
            ..input.clone()
        };
        assert!(
            parse_delivery(&huge, d(2024, 7, 1), d(2024, 8, 1)).unwrap_err()["don_gia"]
                .contains("quá lớn")
        );
    }
}
