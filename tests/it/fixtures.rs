//! A small district for authorization tests: agencies A and B, communes X (Hoa Thám) and
//! Y (Thiện Thuật), a household in each, and one account per role and binding.

use giupdo::domain::roles::Role;
use uuid::Uuid;

use crate::harness::TestApp;

pub const COMMUNE_X: &str = "06073";
pub const COMMUNE_Y: &str = "06091";
pub const CCCD_X: &str = "020085001234";
pub const CCCD_Y: &str = "020190004321";

pub struct World {
    pub agency_a: Uuid,
    pub agency_b: Uuid,
    pub household_x: Uuid,
    pub household_y: Uuid,
    /// (username, password) per actor, in [`ACTORS`] order (anonymous has none).
    pub logins: Vec<(String, String)>,
    pub user_ids: Vec<Uuid>,
}

/// The actors of the matrix, in column order.
pub const ACTORS: [&str; 7] = [
    "anon", "admin", "clerk", "agencyA", "agencyB", "communeX", "communeY",
];

pub async fn agency(app: &TestApp, name: &str, kind: &str, staff: i32) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO agencies (name, kind, staff_count) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(name)
    .bind(kind)
    .bind(staff)
    .fetch_one(app.pool())
    .await
    .expect("agency")
}

pub async fn household(app: &TestApp, commune: &str, head: &str, cccd: &str) -> Uuid {
    let village: Uuid = sqlx::query_scalar(
        "INSERT INTO villages (commune_code, name) VALUES ($1, 'Thôn Nà Pàn')
         ON CONFLICT (commune_code, normalize_name(name)) DO UPDATE SET name = excluded.name RETURNING id",
    )
    .bind(commune)
    .fetch_one(app.pool())
    .await
    .expect("village");
    sqlx::query_scalar(
        "INSERT INTO households (commune_code, village_id, head_name, birth_year, gender, cccd, ethnicity,
             members, status, status_year, lacks_capital, will_to_escape)
         VALUES ($1, $2, $3, 1985, 'male', $4, 'tay', 4, 'poor', 2024, true, true) RETURNING id",
    )
    .bind(commune)
    .bind(village)
    .bind(head)
    .bind(cccd)
    .fetch_one(app.pool())
    .await
    .expect("household")
}

pub async fn world(app: &TestApp) -> World {
    let agency_a = agency(app, "Phòng Nông nghiệp và PTNT", "department", 14).await;
    let agency_b = agency(app, "Phòng Tư pháp", "department", 6).await;
    let household_x = household(app, COMMUNE_X, "Hoàng Văn Thụ", CCCD_X).await;
    let household_y = household(app, COMMUNE_Y, "Nông Thị Lan", CCCD_Y).await;
    let specs: [(&str, Role, Option<Uuid>, Option<&str>); 6] = [
        ("admin1", Role::Admin, None, None),
        ("clerk1", Role::Clerk, None, None),
        ("agency.a", Role::Agency, Some(agency_a), None),
        ("agency.b", Role::Agency, Some(agency_b), None),
        ("commune.x", Role::Commune, None, Some(COMMUNE_X)),
        ("commune.y", Role::Commune, None, Some(COMMUNE_Y)),
    ];
    let mut logins = Vec::new();
    let mut user_ids = Vec::new();
    for (name, role, agency, commune) in specs {
        let (id, password) = app.user(name, role, agency, commune).await;
        logins.push((name.to_string(), password));
        user_ids.push(id);
    }
    World {
        agency_a,
        agency_b,
        household_x,
        household_y,
        logins,
        user_ids,
    }
}

/// A pledge of 16 million (one cow) by `agency` for `household` in the current campaign, already
/// confirmed by the commune: ready for deliveries.
pub async fn confirmed_sponsorship(app: &TestApp, household: Uuid, agency: Uuid) -> Uuid {
    let campaign: Uuid = sqlx::query_scalar("SELECT id FROM campaigns WHERE is_current")
        .fetch_one(app.pool())
        .await
        .expect("current campaign");
    let p = giupdo::db::sponsorships::NewPledge {
        campaign_id: campaign,
        household_id: household,
        lead_agency_id: agency,
        members: vec![],
        lines: vec![giupdo::domain::sponsorship::Line {
            form: "livestock",
            item: "Bò cái giống".into(),
            quantity: 1,
            unit: "con".into(),
            value: 16_000_000,
        }],
        note: None,
        helped_before_reason: None,
        submission: None,
    };
    let by = giupdo::db::audit::By::system("test");
    let id = giupdo::db::sponsorships::pledge_committed(app.pool(), &by, &p)
        .await
        .expect("pledge");
    sqlx::query("UPDATE sponsorships SET state = 'confirmed' WHERE id = $1")
        .bind(id)
        .execute(app.pool())
        .await
        .expect("confirm");
    id
}
