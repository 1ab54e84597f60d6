//! The database's named constraints and what each means to the person whose form it refused:
//! one table instead of a match at every form. A test checks that each name here is a
//! constraint the schema really has, so renaming one in a migration cannot silently turn a
//! clear message into an error page.

/// A constraint a form may run into, the field it concerns and what to tell the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub table: &'static str,
    pub constraint: &'static str,
    pub field: &'static str,
    pub message: &'static str,
}

const fn r(
    table: &'static str,
    constraint: &'static str,
    field: &'static str,
    message: &'static str,
) -> Refusal {
    Refusal {
        table,
        constraint,
        field,
        message,
    }
}

pub const REFUSALS: &[Refusal] = &[
    r(
        "households",
        "households_cccd_key",
        "cccd",
        "Số CCCD này đã có trong sổ hộ (trùng hộ).",
    ),
    r(
        "households",
        "households_old_id_number_key",
        "old_id_number",
        "Số CMND này đã có trong sổ hộ (trùng hộ).",
    ),
    r(
        "households",
        "households_household_code_key",
        "household_code",
        "Mã hộ nghèo này đã có ở xã này (trùng hộ).",
    ),
    r(
        "households",
        "households_commune_fkey",
        "commune_code",
        "Không có xã này.",
    ),
    r(
        "agencies",
        "agencies_name_key",
        "name",
        "Đã có cơ quan, đơn vị mang tên này.",
    ),
    r(
        "agencies",
        "agencies_commune_fkey",
        "commune_code",
        "Không có xã này.",
    ),
    r(
        "campaigns",
        "campaigns_year_key",
        "year",
        "Đã có đợt vận động năm này.",
    ),
    r(
        "users",
        "users_username_key",
        "username",
        "Tên đăng nhập này đã có người dùng.",
    ),
    r(
        "villages",
        "villages_commune_fkey",
        "commune",
        "Không có xã này.",
    ),
    r(
        "villages",
        "villages_commune_key_key",
        "name",
        "Xã đã có thôn, bản này.",
    ),
    r(
        "sponsorships",
        "sponsorships_campaign_household_key",
        "household",
        "Hộ này đã được nhận giúp đỡ trong đợt vận động này.",
    ),
    r(
        "sponsorships",
        "sponsorships_submission_key",
        "submission",
        "Biểu mẫu này đã được gửi rồi.",
    ),
    r(
        "sponsorship_agencies",
        "sponsorship_agencies_agency_fkey",
        "agencies",
        "Không có cơ quan, đơn vị này.",
    ),
];

/// The named constraint `e` broke, if it is one of [`REFUSALS`].
pub fn refusal(e: &sqlx::Error) -> Option<&'static Refusal> {
    let sqlx::Error::Database(db) = e else {
        return None;
    };
    let name = db.constraint()?;
    REFUSALS.iter().find(|r| r.constraint == name)
}

/// [`refusal`], only for constraints of `table` (a form shows errors for its own fields only).
pub fn refusal_on(e: &sqlx::Error, table: &str) -> Option<&'static Refusal> {
    refusal(e).filter(|r| r.table == table)
}

/// Did `e` break this constraint?
pub fn broke(e: &sqlx::Error, constraint: &str) -> bool {
    refusal(e).is_some_and(|r| r.constraint == constraint)
}
