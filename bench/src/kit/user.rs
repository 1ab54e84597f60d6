//! One virtual user of the load mix: its HTTP client, its role's weights, its share of the
//! households, and the requests it sends.

use rand::seq::IndexedRandom as _;
use rand::{Rng as _, SeedableRng as _};
use uuid::Uuid;

use giupdo::domain::roles::Role;

use super::load::{Action, Plan, mix};

/// One signed-in user of the mix: its client, its role's weights, its own share of the free
/// households (so that pledges do not collide) and its seeded randomness (a run's sequence of
/// requests is the same every time).
pub(super) struct VirtualUser {
    client: reqwest::Client,
    role: Role,
    free: Vec<Uuid>,
    own: Vec<Uuid>,
    own_villages: Vec<(String, String)>,
    rng: rand::rngs::StdRng,
}

impl VirtualUser {
    pub(super) fn new(
        index: usize,
        users: usize,
        plan: &Plan,
        client: reqwest::Client,
    ) -> VirtualUser {
        let account = &plan.accounts[index];
        let mut free: Vec<Uuid> = plan
            .free
            .iter()
            .skip(index)
            .step_by(users.max(1))
            .copied()
            .collect();
        free.reverse();
        let own = match &account.commune {
            Some(c) => plan
                .households
                .iter()
                .filter(|h| &h.1 == c)
                .map(|h| h.0)
                .collect(),
            None => plan.households.iter().map(|h| h.0).collect(),
        };
        let own_villages = match &account.commune {
            Some(c) => plan
                .villages
                .iter()
                .filter(|v| &v.0 == c)
                .cloned()
                .collect(),
            None => plan.villages.clone(),
        };
        VirtualUser {
            client,
            role: account.role,
            free,
            own,
            own_villages,
            rng: rand::rngs::StdRng::seed_from_u64(index as u64),
        }
    }

    /// The next request this user makes, or None when the drawn action has nothing to work on.
    pub(super) fn next(
        &mut self,
        base: &str,
        plan: &Plan,
    ) -> Option<(Action, reqwest::RequestBuilder, Option<Uuid>)> {
        let weights = mix(self.role);
        let total: u32 = weights.iter().map(|w| w.1).sum();
        let rng = &mut self.rng;
        let client = &self.client;
        let mut pick = rng.random_range(0..total);
        let mut action = weights[0].0;
        for (a, w) in weights {
            if pick < *w {
                action = *a;
                break;
            }
            pick -= w;
        }
        let name = plan
            .names
            .choose(rng)
            .cloned()
            .unwrap_or_else(|| "Hoàng Văn Thụ".into());
        let typed = if rng.random_bool(0.5) {
            giupdo::domain::text::normalize_name(&name)
        } else {
            name.clone()
        };
        let page = rng.random_range(1..=20);
        let household = self.own.choose(rng).copied();
        let mut pledged = None;
        let request = match action {
            Action::Home => client.get(format!("{base}/")),
            Action::Dashboard => client.get(format!("{base}/bang-dieu-khien")),
            // A page of the list somewhere in it: after one of the user's households, or the first.
            Action::HouseholdList => match (page > 1).then_some(household).flatten() {
                Some(after) => client.get(format!("{base}/ho?sau={after}&trang={page}")),
                None => client.get(format!("{base}/ho")),
            },
            Action::HouseholdSearch => client.get(format!("{base}/ho")).query(&[("q", &typed)]),
            Action::HouseholdPage => client.get(format!("{base}/ho/{}", household?)),
            Action::DuplicateSearch => client
                .get(format!("{base}/trung-ho"))
                .query(&[("q", &typed)]),
            Action::DuplicateCheck => {
                let (commune, village) = self.own_villages.choose(rng)?;
                // What the form sends as the official types a head's name, letter by letter.
                let cut: String = name
                    .chars()
                    .take(rng.random_range(6..=name.chars().count().max(6)))
                    .collect();
                client.post(format!("{base}/ho/kiem-tra")).form(&[
                    ("commune_code", commune.as_str()),
                    ("village", village.as_str()),
                    ("head_name", cut.as_str()),
                    ("birth_year", "1970"),
                ])
            }
            Action::PledgeList => client.get(format!("{base}/nhan-giup")),
            Action::PledgeChoose => client
                .get(format!("{base}/nhan-giup/dang-ky"))
                .query(&[("q", &typed)]),
            Action::Agencies => client.get(format!("{base}/don-vi")),
            Action::Report => client.get(format!("{base}/bao-cao")),
            Action::Pledge => {
                let id = self.free.pop()?;
                pledged = Some(id);
                client.post(format!("{base}/nhan-giup")).form(&[
                    ("ho", id.to_string().as_str()),
                    ("hinh_thuc", "livestock"),
                    ("vat_pham", "Bò cái giống"),
                    ("so_luong", "1"),
                    ("don_vi", "con"),
                    ("gia_tri", "16.000.000"),
                    // Common names make look-alike households frequent: the staff member has
                    // checked, and says so, as the form asks.
                    ("ly_do_trung", "Đã đối chiếu: khác hộ, khác người"),
                    ("ly_do_giup_lai", "Hộ vẫn còn khó khăn"),
                ])
            }
        };
        Some((action, request, pledged))
    }
}

/// Send one request of the mix: (failure kind, whether a failure was the Vietnamese outage page).
pub(super) async fn send(
    action: Action,
    request: reqwest::RequestBuilder,
) -> (Option<String>, bool) {
    match request.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let body = resp.bytes().await;
            let expected = if action == Action::Pledge { 303 } else { 200 };
            match body {
                Ok(_) if status == expected => (None, false),
                Ok(body) => {
                    let outage = status == 503
                        && String::from_utf8_lossy(&body).contains("Hệ thống tạm thời gián đoạn");
                    (Some(format!("HTTP {status} ({})", action.label())), outage)
                }
                Err(e) => (Some(transport_kind(&e)), false),
            }
        }
        Err(e) => (Some(transport_kind(&e)), false),
    }
}

fn transport_kind(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "hết thời gian chờ (10 s)".into()
    } else if e.is_connect() {
        "không kết nối được".into()
    } else {
        "kết nối bị ngắt".into()
    }
}
