//! Who may see and change what: the one authorization policy (issue #3).
//!
//! Route-level access is declared next to each route in `web::routes` with an [`Access`] value
//! and checked by one middleware; record-level scoping (which agency, which commune) is decided by
//! the functions here, and list queries take a [`Scope`] so an agency user's lists are filtered in
//! SQL, never by hiding a button.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Clerk,
    /// The province's staff since the 2025 reform: the clerk's rights (issue #28).
    Province,
    Agency,
    Commune,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "clerk" => Some(Role::Clerk),
            "province" => Some(Role::Province),
            "agency" => Some(Role::Agency),
            "commune" => Some(Role::Commune),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Clerk => "clerk",
            Role::Province => "province",
            Role::Agency => "agency",
            Role::Commune => "commune",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Quản trị",
            Role::Clerk => "Chuyên viên Phòng LĐTBXH-DT",
            Role::Province => "Chuyên viên cấp tỉnh",
            Role::Agency => "Cán bộ cơ quan, đơn vị",
            Role::Commune => "Cán bộ UBND xã, thị trấn",
        }
    }
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Clerk,
        Role::Province,
        Role::Agency,
        Role::Commune,
    ];
}

/// The signed-in user as the policy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: Uuid,
    pub username: String,
    pub full_name: String,
    pub role: Role,
    pub agency_id: Option<Uuid>,
    /// A commune official's commune: the one new records are made in.
    pub commune_code: Option<String>,
    /// The codes a commune official's commune covers: its own and, since the 2025 merger, its
    /// predecessors' (`db::places::covered_codes`); empty for other roles.
    pub communes: Vec<String>,
}

impl Actor {
    /// Is `code` this commune official's commune, or one of its predecessors?
    pub fn covers(&self, code: &str) -> bool {
        self.role == Role::Commune
            && (self.commune_code.as_deref() == Some(code)
                || self.communes.iter().any(|c| c == code))
    }

    pub fn is_district(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Clerk | Role::Province)
    }

    /// What this user's list queries are limited to.
    pub fn scope(&self) -> Scope {
        match (self.role, &self.agency_id, &self.commune_code) {
            (Role::Admin | Role::Clerk | Role::Province, _, _) => Scope::District,
            (Role::Agency, Some(id), _) => Scope::Agency(*id),
            (Role::Commune, _, Some(code)) => Scope::Commune(if self.communes.is_empty() {
                vec![code.clone()]
            } else {
                self.communes.clone()
            }),
            // A role without its binding sees nothing (the database forbids this state).
            _ => Scope::Nothing,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    District,
    Agency(Uuid),
    /// The commune official's covered codes, in code order.
    Commune(Vec<String>),
    Nothing,
}

/// Route-level access, declared once per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    /// Any signed-in user.
    SignedIn,
    /// Only these roles.
    Roles(&'static [Role]),
}

pub const ADMIN: &[Role] = &[Role::Admin];
pub const DISTRICT: &[Role] = &[Role::Admin, Role::Clerk, Role::Province];

impl Access {
    pub fn allows(self, actor: Option<&Actor>) -> bool {
        match (self, actor) {
            (Access::Public, _) => true,
            (_, None) => false,
            (Access::SignedIn, Some(_)) => true,
            (Access::Roles(roles), Some(a)) => roles.contains(&a.role),
        }
    }
}

/// May this user read an agency's own records (its page, its sponsorships)?
pub fn can_view_agency(actor: &Actor, agency_id: Uuid) -> bool {
    actor.is_district() || actor.role == Role::Agency && actor.agency_id == Some(agency_id)
}

/// May this user see a household of `commune_code` at all? District staff and agency staff see
/// the district's households (agencies need them to choose whom to help); commune officials see
/// only their own commune.
pub fn can_view_household(actor: &Actor, commune_code: &str) -> bool {
    match actor.role {
        Role::Admin | Role::Clerk | Role::Province | Role::Agency => true,
        Role::Commune => actor.covers(commune_code),
    }
}

/// May this user see a household's CCCD in full? Only those who need it: district staff and
/// the officials of the household's own commune.
pub fn can_see_full_cccd(actor: &Actor, commune_code: &str) -> bool {
    actor.is_district() || actor.covers(commune_code)
}

/// May this user change households of `commune_code`?
pub fn can_edit_household(actor: &Actor, commune_code: &str) -> bool {
    actor.is_district() || actor.covers(commune_code)
}

/// `020123456789` → `020******789`: province code and last three digits stay readable.
pub fn mask_cccd(cccd: &str) -> String {
    let chars: Vec<char> = cccd.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 6))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, agency: Option<Uuid>, commune: Option<&str>) -> Actor {
        Actor {
            id: Uuid::nil(),
            username: "x".into(),
            full_name: "X".into(),
            role,
            agency_id: agency,
            commune_code: commune.map(str::to_string),
            communes: commune.into_iter().map(str::to_string).collect(),
        }
    }

    #[test]
    fn masks_all_but_province_and_last_three() {
        assert_eq!(mask_cccd("020123456789"), "020******789");
        assert_eq!(mask_cccd("12"), "**");
    }

    #[test]
    fn record_scoping() {
        let a = Uuid::new_v4();
        let b = Uuid::new_v4();
        let agency_a = actor(Role::Agency, Some(a), None);
        assert!(can_view_agency(&agency_a, a));
        assert!(!can_view_agency(&agency_a, b));
        assert!(!can_see_full_cccd(&agency_a, "06073"));
        let hoa_tham = actor(Role::Commune, None, Some("06073"));
        assert!(can_view_household(&hoa_tham, "06073"));
        assert!(!can_view_household(&hoa_tham, "06091"));
        assert!(can_see_full_cccd(&hoa_tham, "06073"));
        assert!(!can_edit_household(&hoa_tham, "06091"));
        assert!(!can_view_household(&hoa_tham, "06067"));
        // The new Xã Hoa Thám (since 01/07/2025) covers the old Xã Hưng Đạo.
        let new_hoa_tham = Actor {
            communes: vec!["06067".into(), "06073".into()],
            ..hoa_tham.clone()
        };
        assert!(
            can_view_household(&new_hoa_tham, "06067")
                && can_edit_household(&new_hoa_tham, "06067")
        );
        assert_eq!(
            new_hoa_tham.scope(),
            Scope::Commune(vec!["06067".into(), "06073".into()])
        );
        let clerk = actor(Role::Clerk, None, None);
        assert!(can_view_agency(&clerk, b) && can_see_full_cccd(&clerk, "06091"));
        assert_eq!(agency_a.scope(), Scope::Agency(a));
        assert_eq!(actor(Role::Agency, None, None).scope(), Scope::Nothing);
    }

    #[test]
    fn route_access() {
        let clerk = actor(Role::Clerk, None, None);
        assert!(Access::Public.allows(None));
        assert!(!Access::SignedIn.allows(None));
        assert!(Access::Roles(DISTRICT).allows(Some(&clerk)));
        assert!(!Access::Roles(ADMIN).allows(Some(&clerk)));
    }
}
