//! R2: each agency's expected number of households in a campaign, computed from the campaign's
//! own rule table (issue #28) — never typed per agency, never a constant in code — with the words
//! of the rule that produced it.
//!
//! A table is ordered; the first rule whose condition holds for the agency wins, and the last rule
//! has no condition (the default). A clerk edits the table of one campaign; the 2024 letter is the
//! seed of the 2024 campaign (migration 0031, and [`RuleTable::letter_2024`] in the same words).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use uuid::Uuid;

use super::labels;

/// The agency facts a rule reads.
#[derive(Debug, Clone, Copy)]
pub struct AgencyFacts<'a> {
    pub id: Uuid,
    pub kind: &'a str,
    pub staff_count: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    /// Households the agency is expected to adopt (for a joint-group agency: 1 shared household).
    pub households: i32,
    /// The top of the range when the letter gives one ("02–03").
    pub households_max: Option<i32>,
    /// Whether the agency meets it by joining others in a joint group.
    pub joint: bool,
    /// The rule, in the words a clerk reads.
    pub rule: String,
    pub overridden: bool,
}

/// One rule of a campaign's table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Agency kinds (codes of `labels::AGENCY_KINDS`) it is for; empty: any kind.
    pub kinds: Vec<String>,
    /// Staff count below this.
    pub staff_below: Option<i32>,
    /// Staff count at least this.
    pub staff_at_least: Option<i32>,
    /// Only the agencies of this named list, chosen from the registry.
    pub named: Option<BTreeSet<Uuid>>,
    pub households_min: i32,
    pub households_max: Option<i32>,
    /// Met in a joint group of this many agencies, the agency included (2024: 3–4, "together
    /// with 2–3 other agencies"); alone when `None`.
    pub group: Option<(i32, i32)>,
    pub wording: String,
}

impl Rule {
    pub fn applies(&self, a: &AgencyFacts<'_>) -> bool {
        (self.kinds.is_empty() || self.kinds.iter().any(|k| k == a.kind))
            && self.staff_below.is_none_or(|n| a.staff_count < n)
            && self.staff_at_least.is_none_or(|n| a.staff_count >= n)
            && self.named.as_ref().is_none_or(|list| list.contains(&a.id))
    }

    /// A rule with no condition: every agency.
    pub fn is_default(&self) -> bool {
        self.kinds.is_empty()
            && self.staff_below.is_none()
            && self.staff_at_least.is_none()
            && self.named.is_none()
    }

    fn quota(&self) -> Quota {
        Quota {
            households: self.households_min,
            households_max: self.households_max,
            joint: self.group.is_some(),
            rule: self.wording.clone(),
            overridden: false,
        }
    }

    /// The condition in words, for the rule editor and the preview.
    pub fn condition(&self) -> String {
        let mut parts = Vec::new();
        if !self.kinds.is_empty() {
            let kinds: Vec<&str> = self
                .kinds
                .iter()
                .map(|k| labels::label(labels::AGENCY_KINDS, k, "?"))
                .collect();
            parts.push(kinds.join(", "));
        }
        if let Some(n) = self.staff_below {
            parts.push(format!("dưới {n} biên chế"));
        }
        if let Some(n) = self.staff_at_least {
            parts.push(format!("từ {n} biên chế"));
        }
        if let Some(list) = &self.named {
            parts.push(format!("{} đơn vị được nêu tên", list.len()));
        }
        if parts.is_empty() {
            "Mọi đơn vị còn lại (mặc định)".into()
        } else {
            parts.join("; ")
        }
    }
}

/// A campaign's ordered rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RuleTable(pub Vec<Rule>);

/// Used only if a table somehow lacks its default (every saved table has one).
const FALLBACK: &str = "Mỗi cơ quan, đơn vị giúp 01 hộ";

impl RuleTable {
    /// The quota the first applying rule gives.
    pub fn quota(&self, a: AgencyFacts<'_>) -> Quota {
        self.0
            .iter()
            .find(|r| r.applies(&a))
            .map(Rule::quota)
            .unwrap_or_else(|| Quota {
                households: 1,
                households_max: None,
                joint: false,
                rule: FALLBACK.into(),
                overridden: false,
            })
    }

    /// Every fault of the table, each naming its rule ("Quy tắc 3: …") and, for a named list,
    /// the agency (`name_of`); empty when the table may be saved.
    pub fn faults(&self, name_of: impl Fn(Uuid) -> String) -> Vec<String> {
        let mut out = Vec::new();
        if self.0.is_empty() {
            out.push("Bảng quy tắc đang trống: cần ít nhất quy tắc mặc định.".into());
            return out;
        }
        let mut named_in: BTreeMap<Uuid, usize> = BTreeMap::new();
        for (i, r) in self.0.iter().enumerate() {
            let n = i + 1;
            let wording = r.wording.trim();
            if wording.is_empty() || wording.chars().count() > 300 {
                out.push(format!(
                    "Quy tắc {n}: hãy ghi lời quy tắc (tối đa 300 ký tự)."
                ));
            }
            for k in &r.kinds {
                if !labels::AGENCY_KINDS.iter().any(|(c, _)| c == k) {
                    out.push(format!("Quy tắc {n}: không có loại đơn vị «{k}»."));
                }
            }
            if !(1..=100).contains(&r.households_min) {
                out.push(format!("Quy tắc {n}: số hộ tối thiểu phải từ 1 đến 100."));
            }
            if let Some(max) = r.households_max
                && max < r.households_min
            {
                out.push(format!(
                    "Quy tắc {n}: số hộ tối thiểu ({:02}) lớn hơn tối đa ({max:02}).",
                    r.households_min
                ));
            }
            if let Some((lo, hi)) = r.group {
                if lo < 2 {
                    out.push(format!(
                        "Quy tắc {n}: nhóm cùng giúp phải có ít nhất 2 đơn vị (đang ghi {lo})."
                    ));
                } else if hi < lo {
                    out.push(format!(
                        "Quy tắc {n}: số đơn vị trong nhóm từ {lo} đến {hi} — số đầu lớn hơn số sau."
                    ));
                } else if hi > 10 {
                    out.push(format!(
                        "Quy tắc {n}: một nhóm cùng giúp có tối đa 10 đơn vị."
                    ));
                }
            }
            if let (Some(below), Some(least)) = (r.staff_below, r.staff_at_least)
                && below <= least
            {
                out.push(format!(
                    "Quy tắc {n}: không đơn vị nào vừa dưới {below} vừa từ {least} biên chế."
                ));
            }
            if let Some(list) = &r.named {
                if list.is_empty() {
                    out.push(format!(
                        "Quy tắc {n}: danh sách đơn vị được nêu tên đang trống."
                    ));
                }
                for id in list {
                    if let Some(first) = named_in.insert(*id, n) {
                        out.push(format!(
                            "Quy tắc {first} và quy tắc {n} cùng nêu tên {}: mỗi đơn vị chỉ ở một danh sách.",
                            name_of(*id)
                        ));
                    }
                }
            }
            if r.is_default() && n < self.0.len() {
                out.push(format!(
                    "Quy tắc {n} không có điều kiện nên các quy tắc sau nó không bao giờ được dùng: hãy đặt nó cuối bảng."
                ));
            }
        }
        if self.0.last().is_some_and(|r| !r.is_default()) {
            out.push(
                "Bảng quy tắc phải kết thúc bằng một quy tắc mặc định (không điều kiện) cho mọi đơn vị còn lại."
                    .into(),
            );
        }
        out
    }

    /// The 2024 letter (Công văn of Bình Gia district), in the words and order of the seed in
    /// migration 0031; `named` is the three schools.
    pub fn letter_2024(named: BTreeSet<Uuid>) -> RuleTable {
        let rule = |kinds: &[&str], households_min, wording: &str| Rule {
            kinds: kinds.iter().map(|k| k.to_string()).collect(),
            staff_below: None,
            staff_at_least: None,
            named: None,
            households_min,
            households_max: None,
            group: None,
            wording: wording.into(),
        };
        RuleTable(vec![
            Rule {
                staff_below: Some(10),
                group: Some((3, 4)),
                ..rule(
                    &[
                        "department",
                        "state_agency",
                        "fatherland_front",
                        "mass_organisation",
                    ],
                    1,
                    "Dưới 10 biên chế: cùng 2–3 đơn vị khác giúp 01 hộ",
                )
            },
            rule(
                &["armed_forces"],
                2,
                "Lực lượng vũ trang: giúp từ 02 hộ trở lên",
            ),
            Rule {
                named: Some(named),
                ..rule(
                    &[],
                    2,
                    "Trường THPT Bình Gia, THPT Pác Khuông, PTDTNT THCS-THPT Bình Gia: giúp từ 02 hộ trở lên",
                )
            },
            Rule {
                households_max: Some(3),
                ..rule(
                    &["business_association"],
                    2,
                    "Hội Doanh nghiệp huyện: giúp 02–03 hộ trở lên",
                )
            },
            rule(&[], 1, FALLBACK),
        ])
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

    /// The quota in words: `02 hộ`, `02–03 hộ`, or `01 hộ cùng nhóm` for a joint group.
    pub fn label(&self) -> String {
        match (self.joint, self.households_max) {
            (true, _) => format!("{:02} hộ cùng nhóm", self.households),
            (false, Some(max)) if max > self.households => {
                format!("{:02}–{max:02} hộ", self.households)
            }
            _ => format!("{:02} hộ", self.households),
        }
    }
}

/// The quota in force: a clerk's override (with its reason) wins over the rule's.
pub fn effective(rules: &RuleTable, a: AgencyFacts<'_>, overridden: Option<(i32, &str)>) -> Quota {
    match overridden {
        Some((households, reason)) => Quota {
            households,
            households_max: None,
            joint: false,
            rule: format!("Điều chỉnh: {reason}"),
            overridden: true,
        },
        None => rules.quota(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn school() -> Uuid {
        Uuid::from_u128(7)
    }

    fn quota(kind: &str, staff: i32, named: bool) -> Quota {
        let table = RuleTable::letter_2024([school()].into());
        let id = if named { school() } else { Uuid::from_u128(9) };
        table.quota(AgencyFacts {
            id,
            kind,
            staff_count: staff,
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
        assert_eq!(assoc.label(), "02–03 hộ");
        assert!(assoc.rule.contains("02–03"));
    }

    #[test]
    fn the_small_agency_threshold_is_fewer_than_ten() {
        assert!(quota("department", 9, false).joint);
        assert!(!quota("department", 10, false).joint);
    }

    #[test]
    fn the_first_applying_rule_wins_and_an_edit_moves_the_threshold() {
        let mut table = RuleTable::letter_2024([school()].into());
        table.0[0].staff_below = Some(15);
        let facts = AgencyFacts {
            id: Uuid::from_u128(1),
            kind: "department",
            staff_count: 12,
        };
        assert!(table.quota(facts).joint);
        assert!(!RuleTable::letter_2024(BTreeSet::new()).quota(facts).joint);
    }

    #[test]
    fn bad_tables_are_refused_naming_the_rule() {
        let name = |_| "Trường THPT Bình Gia".to_string();
        assert!(
            RuleTable::letter_2024([school()].into())
                .faults(name)
                .is_empty()
        );

        let mut no_default = RuleTable::letter_2024([school()].into());
        no_default.0.pop();
        let f = no_default.faults(name);
        assert!(f.iter().any(|m| m.contains("quy tắc mặc định")), "{f:?}");

        let mut range = RuleTable::letter_2024([school()].into());
        range.0[3].households_max = Some(1);
        assert_eq!(
            range.faults(name),
            ["Quy tắc 4: số hộ tối thiểu (02) lớn hơn tối đa (01)."]
        );

        let mut group = RuleTable::letter_2024([school()].into());
        group.0[0].group = Some((1, 3));
        assert!(group.faults(name)[0].starts_with("Quy tắc 1: nhóm cùng giúp phải có ít nhất 2"));

        let mut twice = RuleTable::letter_2024([school()].into());
        twice.0[1].named = Some([school()].into());
        assert_eq!(
            twice.faults(name),
            [
                "Quy tắc 2 và quy tắc 3 cùng nêu tên Trường THPT Bình Gia: mỗi đơn vị chỉ ở một danh sách."
            ]
        );

        let mut early = RuleTable::letter_2024([school()].into());
        early.0.swap(3, 4);
        let f = early.faults(name);
        assert!(
            f.iter()
                .any(|m| m.starts_with("Quy tắc 4 không có điều kiện")),
            "{f:?}"
        );
    }

    #[test]
    fn an_override_wins_and_says_why() {
        let table = RuleTable::letter_2024(BTreeSet::new());
        let facts = AgencyFacts {
            id: Uuid::from_u128(3),
            kind: "department",
            staff_count: 30,
        };
        let q = effective(&table, facts, Some((3, "Đơn vị tự nguyện nhận thêm")));
        assert_eq!(q.households, 3);
        assert!(q.overridden && q.rule.ends_with("tự nguyện nhận thêm"));
        assert_eq!(effective(&table, facts, None), table.quota(facts));
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
