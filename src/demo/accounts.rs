//! The demo accounts: one per role, and their own work on their dashboards.

use crate::db::audit::By;
use crate::db::users::{self, NewUser};
use crate::domain::accounts::random_password;
use crate::domain::roles::Role;
use sqlx::PgConnection;
use std::collections::HashMap;
use std::fmt::Write as _;
use uuid::Uuid;

use super::data::SUPPORT;
use super::sponsorships::sponsorship;

/// (Hoa Thám) each find something in every state on their dashboards.
pub(super) async fn demo_accounts_work(
    tx: &mut PgConnection,
    campaign: Uuid,
    households: &[Uuid],
    agencies: &HashMap<String, Uuid>,
) -> anyhow::Result<u64> {
    let Some(agency) = agencies.get("Phòng Nông nghiệp và PTNT").copied() else {
        return Ok(0);
    };
    let free: Vec<Uuid> = sqlx::query_scalar(
        "SELECT h.id FROM households h WHERE h.id = ANY($1) AND h.commune_code = '06073' AND h.status <> 'escaped'
           AND NOT EXISTS (SELECT 1 FROM sponsorships s WHERE s.household_id = h.id
                           AND NOT (s.campaign_id = $2 AND s.lead_agency_id = $3))
         ORDER BY h.id LIMIT 6",
    )
    .bind(households)
    .bind(campaign)
    .bind(agency)
    .fetch_all(&mut *tx)
    .await?;
    let mut count = 0;
    for (household, state) in free.iter().zip([
        "proposed",
        "proposed",
        "confirmed",
        "delivering",
        "target_reached",
        "rejected",
    ]) {
        let support = SUPPORT[count as usize % SUPPORT.len()];
        if sponsorship(tx, campaign, 2024, *household, &[agency], state, support)
            .await?
            .is_some()
        {
            count += 1;
        }
    }
    Ok(count)
}

/// (username, full name, role, agency name, commune code)
pub(super) type DemoAccount = (
    &'static str,
    &'static str,
    Role,
    Option<&'static str>,
    Option<&'static str>,
);

/// One account per role; existing ones get a fresh password.
pub(super) async fn accounts(
    tx: &mut PgConnection,
    agencies: &HashMap<String, Uuid>,
) -> anyhow::Result<Vec<(String, String, String)>> {
    let specs: [DemoAccount; 6] = [
        ("demo.quantri", "Quản trị (mẫu)", Role::Admin, None, None),
        (
            "demo.chuyenvien",
            "Chuyên viên Phòng LĐTBXH-DT (mẫu)",
            Role::Clerk,
            None,
            None,
        ),
        (
            "demo.nongnghiep",
            "Cán bộ Phòng Nông nghiệp (mẫu)",
            Role::Agency,
            Some("Phòng Nông nghiệp và PTNT"),
            None,
        ),
        (
            "demo.hoinongdan",
            "Cán bộ Hội Nông dân (mẫu, nhóm chung)",
            Role::Agency,
            Some("Hội Nông dân huyện"),
            None,
        ),
        (
            "demo.thptbinhgia",
            "Cán bộ Trường THPT Bình Gia (mẫu)",
            Role::Agency,
            Some("Trường THPT Bình Gia"),
            None,
        ),
        (
            "demo.hoatham",
            "Cán bộ UBND xã Hoa Thám (mẫu)",
            Role::Commune,
            None,
            Some("06073"),
        ),
    ];
    let by = By::system("demo");
    let mut out = Vec::new();
    for (username, full_name, role, agency, commune) in specs {
        let password = random_password();
        let hash = crate::domain::accounts::hash_password(password.clone()).await?;
        let existing: Option<Uuid> = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
        match existing {
            Some(id) => {
                users::set_password_in(tx, &by, id, &hash).await?;
            }
            None => {
                let new = NewUser {
                    username: username.into(),
                    full_name: full_name.into(),
                    password_hash: hash,
                    role,
                    agency_id: agency.and_then(|a| agencies.get(a).copied()),
                    commune_code: commune.map(str::to_string),
                };
                users::create_in(tx, &by, &new).await?;
            }
        }
        let mut label = role.label().to_string();
        if let Some(a) = agency {
            let _ = write!(label, " — {a}");
        }
        if commune.is_some() {
            label.push_str(" — Xã Hoa Thám");
        }
        out.push((username.to_string(), label, password));
    }
    Ok(out)
}
