//! R2: each agency's expected number of households in a campaign, computed from its kind, staff
//! count and the named-school flag — never typed per agency — with the rule that produced it.

/// The agency facts the rule reads.
#[derive(Debug, Clone, Copy)]
pub struct AgencyFacts<'a> {
    pub kind: &'a str,
    pub staff_count: i32,
    pub named_school: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    /// Households the agency is expected to adopt (for a joint-group agency: 1 shared household).
    pub households: i32,
    /// Whether the agency meets it by joining 2–3 others in a joint group.
    pub joint: bool,
    /// The rule, in the words a clerk reads.
    pub rule: String,
    pub overridden: bool,
}

/// Staff count under which a department, agency, UBMTTQ or mass organisation joins a group.
pub const SMALL_AGENCY_STAFF: i32 = 10;

pub fn computed(a: AgencyFacts<'_>) -> Quota {
    let q = |households, joint, rule: &str| Quota {
        households,
        joint,
        rule: rule.to_string(),
        overridden: false,
    };
    let small_kind = matches!(
        a.kind,
        "department" | "state_agency" | "fatherland_front" | "mass_organisation"
    );
    match a.kind {
        _ if small_kind && a.staff_count < SMALL_AGENCY_STAFF => {
            q(1, true, "Dưới 10 biên chế: cùng 2–3 đơn vị khác giúp 01 hộ")
        }
        "armed_forces" => q(2, false, "Lực lượng vũ trang: giúp từ 02 hộ trở lên"),
        "school" if a.named_school => q(
            2,
            false,
            "Trường THPT Bình Gia, THPT Pác Khuông, PTDTNT THCS-THPT Bình Gia: giúp từ 02 hộ trở lên",
        ),
        "business_association" => q(2, false, "Hội Doanh nghiệp huyện: giúp 02–03 hộ trở lên"),
        _ => q(1, false, "Mỗi cơ quan, đơn vị giúp 01 hộ"),
    }
}

impl Quota {
    /// Households counted toward the quota (R2, R3): for an agency that meets it in a joint
    /// group, the confirmed sponsorships it is a member of; otherwise the confirmed ones it leads.
    pub fn counted(&self, confirmed_member: i64, confirmed_lead: i64) -> i64 {
        if self.joint {
            confirmed_member
        } else {
            confirmed_lead
        }
    }

    pub fn met(&self, counted: i64) -> bool {
        counted >= i64::from(self.households)
    }

    /// The quota in words: `02 hộ`, or `01 hộ cùng nhóm` for a joint group.
    pub fn label(&self) -> String {
        if self.joint {
            "01 hộ cùng nhóm".to_string()
        } else {
            format!("{:02} hộ", self.households)
        }
    }
}

/// The quota in force: a clerk's override (with its reason) wins over the computed one.
pub fn effective(a: AgencyFacts<'_>, overridden: Option<(i32, &str)>) -> Quota {
    match overridden {
        Some((households, reason)) => Quota {
            households,
            joint: false,
            rule: format!("Điều chỉnh: {reason}"),
            overridden: true,
        },
        None => computed(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(kind: &str, staff: i32, named: bool) -> Quota {
        computed(AgencyFacts {
            kind,
            staff_count: staff,
            named_school: named,
        })
    }

    #[test]
    fn every_kind_has_its_rule() {
        for kind in [
            "department",
            "state_agency",
            "fatherland_front",
            "mass_organisation",
        ] {
            let big = quota(kind, 25, false);
            assert_eq!((big.households, big.joint), (1, false), "{kind}");
            let small = quota(kind, 6, false);
            assert_eq!((small.households, small.joint), (1, true), "{kind}");
            assert_eq!(
                small.rule,
                "Dưới 10 biên chế: cùng 2–3 đơn vị khác giúp 01 hộ"
            );
        }
        assert_eq!(quota("armed_forces", 40, false).households, 2);
        // Small armed-forces units, schools, communes and businesses never join groups.
        assert!(!quota("armed_forces", 5, false).joint);
        assert_eq!(quota("school", 60, true).households, 2);
        assert_eq!(quota("school", 60, false).households, 1);
        assert!(!quota("school", 5, false).joint);
        assert_eq!(
            quota("commune_committee", 5, false),
            quota("commune_committee", 30, false)
        );
        assert_eq!(quota("business", 3, false).households, 1);
        let assoc = quota("business_association", 25, false);
        assert_eq!(assoc.households, 2);
        assert!(assoc.rule.contains("02–03"));
    }

    #[test]
    fn the_small_agency_threshold_is_fewer_than_ten() {
        assert!(quota("department", 9, false).joint);
        assert!(!quota("department", 10, false).joint);
    }

    #[test]
    fn an_override_wins_and_says_why() {
        let facts = AgencyFacts {
            kind: "department",
            staff_count: 30,
            named_school: false,
        };
        let q = effective(facts, Some((3, "Đơn vị tự nguyện nhận thêm")));
        assert_eq!(q.households, 3);
        assert!(q.overridden && q.rule.ends_with("tự nguyện nhận thêm"));
        assert_eq!(effective(facts, None), computed(facts));
    }

    #[test]
    fn a_joint_agency_counts_its_memberships_others_only_what_they_lead() {
        let joint = quota("department", 5, false);
        assert_eq!(joint.counted(1, 0), 1);
        assert!(joint.met(joint.counted(1, 0)));
        assert_eq!(joint.label(), "01 hộ cùng nhóm");
        let army = quota("armed_forces", 50, false);
        assert_eq!(
            army.counted(3, 1),
            1,
            "joining another's group does not count"
        );
        assert!(!army.met(army.counted(3, 1)));
        assert!(army.met(army.counted(2, 2)));
        assert_eq!(army.label(), "02 hộ");
    }
}
