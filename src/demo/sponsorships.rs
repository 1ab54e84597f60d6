//! The demo's sponsorships: history 2014–2023 and the current campaign in every state, joint groups, deliveries, visits and outcomes that depend on the form of support.

use rand::Rng as _;
use rand::rngs::StdRng;
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

use super::accounts::demo_accounts_work;
use super::data::{AGENCIES, SUPPORT};

/// History 2014–2023 for some households, and the current campaign in every state.
pub(super) async fn sponsorships(
    tx: &mut PgConnection,
    rng: &mut StdRng,
    households: &[Uuid],
    agencies: &HashMap<String, Uuid>,
) -> anyhow::Result<u64> {
    let campaigns: Vec<(Uuid, i32)> =
        sqlx::query_as("SELECT id, year FROM campaigns ORDER BY year")
            .fetch_all(&mut *tx)
            .await?;
    let single: Vec<Uuid> = AGENCIES
        .iter()
        .filter(|a| a.2 >= 10)
        .filter_map(|a| agencies.get(a.0).copied())
        .collect();
    let mut count = 0;
    let mut next = 0usize;
    for (campaign_id, year) in &campaigns {
        let current = *year == 2024;
        let n = if current { 30 } else { 14 };
        for k in 0..n {
            let household = households[next % households.len()];
            next += 1;
            let lead = single[(k + *year as usize) % single.len()];
            let support = SUPPORT[rng.random_range(0..SUPPORT.len())];
            let state = if current {
                [
                    "proposed",
                    "proposed",
                    "confirmed",
                    "delivering",
                    "target_reached",
                    "rejected",
                    "cancelled",
                ][k % 7]
            } else {
                "follow_up"
            };
            let Some(id) =
                sponsorship(tx, *campaign_id, *year, household, &[lead], state, support).await?
            else {
                continue;
            };
            count += 1;
            if !current {
                // The household's path out of poverty in the years after it was helped: how
                // often and how soon differs by the form of help (the effectiveness report).
                let (chance, soonest) = outcome(support.1);
                let escaped_after = rng
                    .random_bool(chance)
                    .then(|| rng.random_range(soonest..=3));
                let mut path = vec![(0, "poor")];
                match escaped_after {
                    Some(after) => {
                        if after > 1 {
                            path.push((after - 1, "near_poor"));
                        }
                        path.push((after, "escaped"));
                    }
                    None => path.push((
                        2,
                        if rng.random_bool(0.4) {
                            "near_poor"
                        } else {
                            "poor"
                        },
                    )),
                }
                let mut last = "poor";
                for (offset, status) in path {
                    if year + offset <= 2024 {
                        last = status;
                        sqlx::query("INSERT INTO household_status_history (household_id, year, status) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                            .bind(household)
                            .bind(year + offset)
                            .bind(status)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                // Most earlier sponsorships had a follow-up visit the next year (R8).
                if k % 3 != 0 {
                    let counts = seen_on_visit(rng, &support);
                    visit(tx, id, year + 1, last, k, counts).await?;
                }
            }
        }
        if current {
            count += joint_group(
                tx,
                *campaign_id,
                households[next % households.len()],
                agencies,
            )
            .await?;
            next += 1;
            count += demo_accounts_work(tx, *campaign_id, households, agencies).await?;
        }
    }
    Ok(count)
}

/// One sponsorship with its member(s), its support line and — as its state implies — the
/// deliveries that make up its delivered value. `None` when the household is already taken.
pub(super) async fn sponsorship(
    tx: &mut PgConnection,
    campaign: Uuid,
    year: i32,
    household: Uuid,
    members: &[Uuid],
    state: &str,
    (form, summary, value): (&str, &str, i64),
) -> anyhow::Result<Option<Uuid>> {
    let delivered = match state {
        "target_reached" | "follow_up" => value,
        "delivering" => value / 2,
        _ => 0,
    };
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sponsorships WHERE campaign_id = $1 AND household_id = $2)",
    )
    .bind(campaign)
    .bind(household)
    .fetch_one(&mut *tx)
    .await?;
    if exists {
        return Ok(None);
    }
    let pledged_on = chrono::NaiveDate::from_ymd_opt(year, 6, 20).unwrap_or_default();
    let id: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO sponsorships (campaign_id, household_id, lead_agency_id, state, support_form, support_summary,
             pledged_value, delivered_value, pledged_on, rejection_reason, cancel_reason, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
                 CASE WHEN $4 = 'rejected' THEN 'Trùng hộ: hộ đã có trong danh sách của xã với tên viết khác' END,
                 CASE WHEN $4 = 'cancelled' THEN 'Hộ chuyển đi nơi khác' END,
                 CASE WHEN $4 NOT IN ('proposed', 'cancelled') THEN now() END)
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(campaign)
    .bind(household)
    .bind(members[0])
    .bind(state)
    .bind(form)
    .bind(summary)
    .bind(value)
    .bind(delivered)
    .bind(pledged_on)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else { return Ok(None) };
    let shares = crate::domain::sponsorship::shares(value, members.len());
    for (i, agency) in members.iter().enumerate() {
        sqlx::query("INSERT INTO sponsorship_agencies (sponsorship_id, agency_id, is_lead, share_value) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(agency)
            .bind(i == 0)
            .bind(shares[i])
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO support_lines (sponsorship_id, position, form, item, quantity, unit, estimated_value)
         VALUES ($1, 1, $2, $3, 1, 'gói', $4)",
    )
    .bind(id)
    .bind(form)
    .bind(summary)
    .bind(value)
    .execute(&mut *tx)
    .await?;
    if delivered > 0 {
        sqlx::query(
            "INSERT INTO deliveries (sponsorship_id, agency_id, delivered_on, item, quantity, unit, unit_value,
                 total_value, delivered_by, record_number)
             VALUES ($1, $2, $3, $4, 1, 'gói', $5, $5, 'Cán bộ đơn vị (mẫu)', $6)",
        )
        .bind(id)
        .bind(members[0])
        .bind(pledged_on + chrono::Days::new(30))
        .bind(summary)
        .bind(delivered)
        .bind(format!("BB-{year}-{}", &id.simple().to_string()[..6]))
        .execute(&mut *tx)
        .await?;
    }
    Ok(Some(id))
}

/// How likely the help of this item led out of poverty, and in how many years at the soonest:
/// breeding cattle best, cash worst — what district reports commonly find.
pub(super) fn outcome(item: &str) -> (f64, i32) {
    let item = item.to_lowercase();
    if item.contains("bò") || item.contains("trâu") {
        (0.75, 1)
    } else if item.contains("dê") {
        (0.6, 2)
    } else if item.contains("lợn") {
        (0.5, 2)
    } else if item.contains("gà") {
        (0.35, 2)
    } else if item.contains("cây") {
        (0.45, 2)
    } else if item.contains("máy") {
        (0.5, 2)
    } else if item.contains("nhà") {
        (0.25, 3)
    } else {
        (0.15, 3)
    }
}

/// What a visit the next year counts: (received, born, died, sold, trees surviving), from the
/// number at the start of the item ("10 con dê giống", "1.500 cây quế giống").
pub(super) fn seen_on_visit(rng: &mut StdRng, support: &(&str, &str, i64)) -> [Option<i32>; 5] {
    let n: i32 = support
        .1
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(1);
    match support.0 {
        "livestock" => {
            let died = rng.random_range(0..=n / 4);
            let born = rng.random_range(0..=n.max(2) / 2 + 1);
            let sold = rng.random_range(0..=born / 2);
            [Some(n), Some(born), Some(died), Some(sold), None]
        }
        "seedlings" => [
            None,
            None,
            None,
            None,
            Some(n * rng.random_range(60..=95) / 100),
        ],
        _ => [None; 5],
    }
}

pub(super) async fn visit(
    tx: &mut PgConnection,
    id: Uuid,
    year: i32,
    status: &str,
    k: usize,
    counts: [Option<i32>; 5],
) -> anyhow::Result<()> {
    let evaluation = ["effective", "partly", "effective", "not_effective"][k % 4];
    sqlx::query(
        "INSERT INTO follow_up_visits (sponsorship_id, visited_on, findings, received, born, died, sold,
             trees_surviving, guidance, evaluation, observed_status, official_status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'Hướng dẫn chăm sóc, phòng bệnh', $9, $10, false)",
    )
    .bind(id)
    .bind(chrono::NaiveDate::from_ymd_opt(year.min(2024), 8, 15).unwrap_or_default())
    .bind("Hộ sử dụng hỗ trợ đúng mục đích, chăm sóc tốt")
    .bind(counts[0])
    .bind(counts[1])
    .bind(counts[2])
    .bind(counts[3])
    .bind(counts[4])
    .bind(evaluation)
    .bind(status)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The demo accounts' own work: the agency account (Phòng Nông nghiệp) and the commune account
/// Small agencies (fewer than 10 staff) adopt one household together (R2).
pub(super) async fn joint_group(
    tx: &mut PgConnection,
    campaign: Uuid,
    household: Uuid,
    agencies: &HashMap<String, Uuid>,
) -> anyhow::Result<u64> {
    let members = [
        "Hội Nông dân huyện",
        "Hội Liên hiệp Phụ nữ huyện",
        "Hội Cựu chiến binh huyện",
    ];
    let ids: Vec<Uuid> = members
        .iter()
        .filter_map(|m| agencies.get(*m).copied())
        .collect();
    if ids.is_empty() {
        return Ok(0);
    }
    let support = (
        "livestock",
        "01 con bò cái sinh sản (nhóm 3 hội)",
        16_500_000,
    );
    Ok(
        sponsorship(tx, campaign, 2024, household, &ids, "confirmed", support)
            .await?
            .map_or(0, |_| 1),
    )
}
