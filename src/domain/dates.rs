//! Dates: the time zone is Asia/Ho_Chi_Minh (UTC+7, no daylight saving), shown dd/mm/yyyy (R10).

use chrono::{FixedOffset, NaiveDate, Utc};

pub fn vietnam_offset() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

/// Today's date in Việt Nam.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&vietnam_offset()).date_naive()
}

/// A date as people type it: `15/07/2024` (also `15/7/2024`, `15-07-2024`, `15.07.2024`) or the
/// browser's `2024-07-15`. An impossible date (31/02/2024) or anything else gets a message naming
/// the field (`label`). The one date parser: campaign deadlines, deliveries, visits.
pub fn parse_date(s: &str, label: &str) -> Result<NaiveDate, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(format!("{label}: hãy ghi ngày (ngày/tháng/năm)."));
    }
    ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
        .ok_or_else(|| {
            format!(
                "{label}: “{}” không phải một ngày có thật (viết ngày/tháng/năm, ví dụ 15/07/2024).",
                super::money::shorten(t)
            )
        })
}

pub fn format_date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// A moment as people in Việt Nam read it: `05/08/2026 14:30`.
pub fn format_date_time(t: chrono::DateTime<Utc>) -> String {
    t.with_timezone(&vietnam_offset())
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

/// A moment as an operator types it for a restore, in Việt Nam's time: `2026-12-04 16:59`,
/// `04/12/2026 16:59` (seconds optional), or with its own offset (`2026-12-04T09:59:00Z`).
pub fn parse_moment(s: &str) -> Result<chrono::DateTime<FixedOffset>, String> {
    let t = s.trim();
    if let Ok(m) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(m);
    }
    [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(t, f).ok())
    .and_then(|n| n.and_local_timezone(vietnam_offset()).single())
    .ok_or_else(|| {
        format!(
            "“{}” không phải một thời điểm (viết năm-tháng-ngày giờ:phút, ví dụ 2026-12-04 16:59, giờ Việt Nam).",
            super::money::shorten(t)
        )
    })
}

/// How a deadline stands relative to `today`, worded for a dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineStatus {
    /// Days from today to the deadline; negative once it has passed.
    pub days_left: i64,
    pub label: String,
    /// `ok`, `soon` (7 days or fewer), `today`, or `passed`: used as a CSS class.
    pub tone: &'static str,
}

pub fn deadline_status(deadline: NaiveDate, today: NaiveDate) -> DeadlineStatus {
    let days_left = (deadline - today).num_days();
    let (label, tone) = match days_left {
        d if d < 0 => (format!("Đã quá hạn {} ngày", -d), "passed"),
        0 => ("Hạn chót là hôm nay".to_string(), "today"),
        d if d <= 7 => (format!("Còn {d} ngày"), "soon"),
        d => (format!("Còn {d} ngày"), "ok"),
    };
    DeadlineStatus {
        days_left,
        label,
        tone,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_restore_moment_is_read_in_vietnam_time_in_both_layouts() {
        let a = super::parse_moment("2026-12-04 16:59").unwrap();
        let b = super::parse_moment(" 04/12/2026 16:59:00 ").unwrap();
        let c = super::parse_moment("2026-12-04T09:59:00Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.offset().local_minus_utc(), 7 * 3600);
        let e = super::parse_moment("hôm qua").unwrap_err();
        assert!(e.contains("2026-12-04 16:59"), "{e}");
        assert!(super::parse_moment("2026-02-30 10:00").is_err());
    }

    use super::*;

    #[test]
    fn dates_as_people_type_them_and_impossible_ones_refused() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        for typed in [
            "15/07/2024",
            "15/7/2024",
            "15-07-2024",
            "15.07.2024",
            "2024-07-15",
            " 15/07/2024 ",
        ] {
            assert_eq!(
                parse_date(typed, "Hạn đăng ký"),
                Ok(d(2024, 7, 15)),
                "{typed}"
            );
        }
        let e = parse_date("31/02/2024", "Hạn đăng ký").unwrap_err();
        assert!(
            e.starts_with("Hạn đăng ký: “31/02/2024” không phải một ngày có thật"),
            "{e}"
        );
        assert!(
            parse_date("", "Ngày trao")
                .unwrap_err()
                .contains("hãy ghi ngày")
        );
        assert!(parse_date("mười lăm tháng bảy", "Ngày trao").is_err());
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn counts_days_to_and_past_a_deadline() {
        let deadline = d(2024, 7, 15);
        assert_eq!(
            deadline_status(deadline, d(2024, 7, 1)).label,
            "Còn 14 ngày"
        );
        assert_eq!(deadline_status(deadline, d(2024, 7, 10)).tone, "soon");
        assert_eq!(
            deadline_status(deadline, d(2024, 7, 15)).label,
            "Hạn chót là hôm nay"
        );
        let past = deadline_status(deadline, d(2024, 7, 31));
        assert_eq!(
            (past.days_left, past.label.as_str()),
            (-16, "Đã quá hạn 16 ngày")
        );
    }

    #[test]
    fn formats_dates_day_first() {
        assert_eq!(format_date(d(2024, 7, 5)), "05/07/2024");
    }
}
