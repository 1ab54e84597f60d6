//! The demo data set of Bình Gia 2024: villages, about 40 agencies, about 600 synthetic poor and
//! near-poor households (invented names, valid-format CCCDs), sponsorships of 2014–2023 and of the
//! current campaign in every state, and one account per role. Loading is idempotent: every row
//! has a natural key (`ON CONFLICT DO NOTHING`) and the generator is seeded, so a second run adds
//! nothing. Demo accounts get new random passwords at each run, printed once.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::NaiveDate;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom as _;
use rand::{Rng as _, SeedableRng as _};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db::audit::{self, By};
use crate::db::users::{self, NewUser};
use crate::domain::accounts::random_password;
use crate::domain::roles::Role;

const VILLAGE_NAMES: &[&str] = &[
    "Nà Pàn",
    "Khuổi Hẩu",
    "Bản Cáu",
    "Nà Lạn",
    "Khau Ràng",
    "Lũng Mần",
    "Cốc Phường",
    "Nà Khau",
    "Pò Đồn",
    "Tềnh Nghịu",
    "Khuổi Mò",
    "Bó Pia",
    "Còn Chè",
    "Thâm Xá",
    "Nà Thấu",
    "Pác Mạ",
    "Khuổi Khoang",
    "Nà Hin",
    "Bản Rị",
    "Kéo Coong",
    "Lũng Cút",
    "Nà Làng",
    "Phiêng Phấy",
    "Khòn Quang",
];

const SURNAMES_TAY_NUNG: &[&str] = &[
    "Hoàng", "Nông", "Lương", "Lăng", "Hà", "Vi", "Lộc", "Mông", "Chu", "Hứa", "Lý", "Vy", "Tô",
    "Dương", "Mã", "Lục", "Ma", "Đinh", "Hoàng", "Nông",
];
const SURNAMES_DAO: &[&str] = &["Triệu", "Bàn", "Đặng", "Lý", "Phùng", "Chảo"];
const SURNAMES_KINH: &[&str] = &["Nguyễn", "Trần", "Lê", "Phạm", "Vũ", "Đỗ", "Bùi", "Ngô"];
const MALE_MIDDLE: &[&str] = &["Văn", "Văn", "Đức", "Minh", "Quang", "Xuân"];
const FEMALE_MIDDLE: &[&str] = &["Thị", "Thị", "Thị", "Thu", "Ngọc"];
const MALE_GIVEN: &[&str] = &[
    "Thụ", "Sơn", "Hùng", "Dũng", "Cường", "Khánh", "Phúc", "Thắng", "Tuấn", "Chiến", "Bình",
    "Quý", "Sinh", "Toàn", "Hải", "Long", "Tiến", "Vượng", "Thành", "Kiên", "Lợi", "Pao", "Sằn",
    "Tòng",
];
const FEMALE_GIVEN: &[&str] = &[
    "Lan",
    "Hoa",
    "Mai",
    "Tâm",
    "Hạnh",
    "Nga",
    "Vân",
    "Liên",
    "Hiền",
    "Thơm",
    "Nhung",
    "Duyên",
    "Phượng",
    "Xuân",
    "Hằng",
    "Quyên",
    "Mùi",
    "Dịu",
    "Nhất",
    "Chang",
];

/// (name, kind, staff, named school, commune code for commune committees)
const AGENCIES: &[(&str, &str, i32, bool, Option<&str>)] = &[
    (
        "Văn phòng HĐND và UBND huyện",
        "department",
        24,
        false,
        None,
    ),
    ("Phòng Nội vụ", "department", 11, false, None),
    ("Phòng Tư pháp", "department", 6, false, None),
    ("Phòng Tài chính - Kế hoạch", "department", 12, false, None),
    ("Phòng Kinh tế và Hạ tầng", "department", 10, false, None),
    ("Phòng Nông nghiệp và PTNT", "department", 14, false, None),
    (
        "Phòng Tài nguyên và Môi trường",
        "department",
        9,
        false,
        None,
    ),
    ("Phòng Giáo dục và Đào tạo", "department", 13, false, None),
    ("Phòng Y tế", "department", 5, false, None),
    ("Phòng Văn hóa và Thông tin", "department", 7, false, None),
    (
        "Phòng Lao động - Thương binh và Xã hội - Dân tộc",
        "department",
        12,
        false,
        None,
    ),
    ("Thanh tra huyện", "department", 6, false, None),
    (
        "Chi cục Thuế khu vực Bình Gia - Văn Quan",
        "state_agency",
        35,
        false,
        None,
    ),
    ("Kho bạc Nhà nước Bình Gia", "state_agency", 14, false, None),
    ("Trung tâm Y tế huyện", "state_agency", 120, false, None),
    (
        "Ban Quản lý dự án Đầu tư xây dựng huyện",
        "state_agency",
        15,
        false,
        None,
    ),
    (
        "Trung tâm Văn hóa, Thể thao và Truyền thông",
        "state_agency",
        18,
        false,
        None,
    ),
    (
        "Phòng giao dịch Ngân hàng Chính sách xã hội huyện",
        "state_agency",
        16,
        false,
        None,
    ),
    ("Bảo hiểm xã hội huyện", "state_agency", 13, false, None),
    (
        "Ủy ban MTTQ Việt Nam huyện",
        "fatherland_front",
        8,
        false,
        None,
    ),
    ("Huyện đoàn Bình Gia", "mass_organisation", 6, false, None),
    (
        "Hội Liên hiệp Phụ nữ huyện",
        "mass_organisation",
        5,
        false,
        None,
    ),
    ("Hội Nông dân huyện", "mass_organisation", 6, false, None),
    (
        "Hội Cựu chiến binh huyện",
        "mass_organisation",
        4,
        false,
        None,
    ),
    (
        "Liên đoàn Lao động huyện",
        "mass_organisation",
        5,
        false,
        None,
    ),
    ("Ban Chỉ huy Quân sự huyện", "armed_forces", 42, false, None),
    ("Công an huyện Bình Gia", "armed_forces", 85, false, None),
    ("Trường THPT Bình Gia", "school", 68, true, None),
    ("Trường THPT Pác Khuông", "school", 45, true, None),
    ("Trường PTDTNT THCS-THPT Bình Gia", "school", 52, true, None),
    ("Trường THCS Thị trấn Bình Gia", "school", 30, false, None),
    (
        "UBND Xã Hoa Thám",
        "commune_committee",
        21,
        false,
        Some("06073"),
    ),
    (
        "UBND Xã Thiện Thuật",
        "commune_committee",
        20,
        false,
        Some("06091"),
    ),
    (
        "UBND Thị trấn Bình Gia",
        "commune_committee",
        23,
        false,
        Some("06112"),
    ),
    (
        "UBND Xã Tân Văn",
        "commune_committee",
        19,
        false,
        Some("06121"),
    ),
    (
        "UBND Xã Hồng Phong",
        "commune_committee",
        20,
        false,
        Some("06079"),
    ),
    (
        "Công ty TNHH Xây dựng Bình Gia",
        "business",
        40,
        false,
        None,
    ),
    (
        "Hợp tác xã Nông lâm nghiệp Hồng Phong",
        "business",
        12,
        false,
        None,
    ),
    (
        "Công ty Cổ phần Lâm sản Bình Gia",
        "business",
        60,
        false,
        None,
    ),
    (
        "Hội Doanh nghiệp huyện Bình Gia",
        "business_association",
        25,
        false,
        None,
    ),
];

/// Support a sponsorship can give: (form, summary, value).
const SUPPORT: &[(&str, &str, i64)] = &[
    ("livestock", "01 con bò cái sinh sản", 16_000_000),
    ("livestock", "01 con trâu giống", 18_000_000),
    ("livestock", "02 con lợn nái, 50 kg thức ăn", 8_500_000),
    ("livestock", "10 con dê giống", 12_000_000),
    ("livestock", "100 con gà giống và chuồng trại", 8_000_000),
    ("seedlings", "1.500 cây quế giống", 9_000_000),
    ("seedlings", "800 cây hồi ghép", 10_400_000),
    ("seedlings", "2.000 cây keo giống và phân bón", 8_200_000),
    ("seedlings", "200 cây ăn quả (hồng không hạt)", 8_000_000),
    ("tools", "Máy cày mini", 14_000_000),
    ("house_repair", "Sửa mái nhà, làm bể nước", 20_000_000),
    ("cash", "Tiền mặt hỗ trợ mua con giống", 8_000_000),
];

/// Demo households get ids `DEMO_HOUSEHOLD_IDS + n`, recognisable and stable across runs.
const DEMO_HOUSEHOLD_IDS: u128 = 0xde30_0000_0000_4000_8000_0000_0000_0000;

pub struct Report {
    pub villages: u64,
    pub agencies: u64,
    pub households: u64,
    pub campaigns: u64,
    pub sponsorships: u64,
    pub accounts: Vec<(String, String, String)>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "Đã nạp dữ liệu mẫu Bình Gia (bản ghi mới lần này):")?;
        writeln!(f, "  thôn, bản:            {}", self.villages)?;
        writeln!(f, "  cơ quan, đơn vị:      {}", self.agencies)?;
        writeln!(f, "  hộ nghèo, cận nghèo:  {}", self.households)?;
        writeln!(f, "  đợt vận động:         {}", self.campaigns)?;
        writeln!(f, "  lượt nhận giúp đỡ:    {}", self.sponsorships)?;
        writeln!(
            f,
            "Tài khoản mẫu (mật khẩu mới cấp ở lần chạy này, chỉ hiện một lần):"
        )?;
        for (user, role, password) in &self.accounts {
            writeln!(f, "  {user:<18} {password:<18} {role}")?;
        }
        Ok(())
    }
}

/// The demo adds invented households and accounts whose passwords it prints: never into a
/// database that holds households it did not create (a production one, reached through
/// `DATABASE_URL`), unless the operator says so with `--yes-add-demo-data`.
pub async fn refuse_real_data(pool: &PgPool) -> anyhow::Result<()> {
    let (first, last) = demo_id_range();
    let others: i64 =
        sqlx::query_scalar("SELECT count(*) FROM households WHERE NOT (id >= $1 AND id < $2)")
            .bind(first)
            .bind(last)
            .fetch_one(pool)
            .await?;
    if others > 0 {
        anyhow::bail!(
            "Không nạp dữ liệu mẫu: cơ sở dữ liệu này đã có {others} hộ không phải của bộ dữ liệu mẫu \
             (có thể đây là cơ sở dữ liệu thật). `giupdo demo` thêm hộ nghèo giả và các tài khoản mẫu \
             có mật khẩu in ra màn hình. Không có gì được ghi. Nếu thật sự muốn thêm, chạy lại với \
             --yes-add-demo-data."
        );
    }
    Ok(())
}

/// The ids demo households take: `[DEMO_HOUSEHOLD_IDS, DEMO_HOUSEHOLD_IDS + 2^32)`.
fn demo_id_range() -> (Uuid, Uuid) {
    (
        Uuid::from_u128(DEMO_HOUSEHOLD_IDS),
        Uuid::from_u128(DEMO_HOUSEHOLD_IDS + (1u128 << 32)),
    )
}

/// Load the demo set in one transaction.
pub async fn load(pool: &PgPool) -> anyhow::Result<Report> {
    let mut tx = pool.begin().await?;
    // Two concurrent `giupdo demo` runs would otherwise race on the same natural keys.
    sqlx::query("SELECT pg_advisory_xact_lock(4242002)")
        .execute(&mut *tx)
        .await?;
    let mut rng = StdRng::seed_from_u64(2024);
    let mut report = Report {
        villages: 0,
        agencies: 0,
        households: 0,
        campaigns: 0,
        sponsorships: 0,
        accounts: Vec::new(),
    };

    // Campaigns of earlier years, as history (R1, R8).
    for year in 2014..=2023 {
        let target: i64 = if year < 2020 {
            5_000_000
        } else if year < 2023 {
            6_000_000
        } else {
            8_000_000
        };
        let r = sqlx::query(
            "INSERT INTO campaigns (year, name, registration_deadline, report_deadline, target_per_household)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (year) DO NOTHING",
        )
        .bind(year)
        .bind(format!("Nhận giúp đỡ hộ nghèo theo địa chỉ năm {year}"))
        .bind(NaiveDate::from_ymd_opt(year, 7, 15))
        .bind(NaiveDate::from_ymd_opt(year, 7, 31))
        .bind(target)
        .execute(&mut *tx)
        .await?;
        report.campaigns += r.rows_affected();
    }

    // Villages: 3 to 5 per commune.
    let communes: Vec<String> = sqlx::query_scalar("SELECT code FROM communes ORDER BY code")
        .fetch_all(&mut *tx)
        .await?;
    for (i, code) in communes.iter().enumerate() {
        let n = 3 + (i % 3);
        for k in 0..n {
            let name = format!(
                "Thôn {}",
                VILLAGE_NAMES[(i * 5 + k * 7) % VILLAGE_NAMES.len()]
            );
            let r = sqlx::query(
                "INSERT INTO villages (commune_code, name) VALUES ($1, $2)
                 ON CONFLICT (commune_code, normalize_name(name)) DO NOTHING",
            )
            .bind(code)
            .bind(name)
            .execute(&mut *tx)
            .await?;
            report.villages += r.rows_affected();
        }
    }
    let villages: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, commune_code FROM villages ORDER BY commune_code, name")
            .fetch_all(&mut *tx)
            .await?;

    // Agencies.
    for (idx, (name, kind, staff, named, commune)) in AGENCIES.iter().enumerate() {
        let phone = format!("0205 3{:06}", 830_100 + idx * 7);
        let r = sqlx::query(
            "INSERT INTO agencies (name, kind, staff_count, named_school, commune_code, contact_person, phone)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(kind)
        .bind(staff)
        .bind(named)
        .bind(commune)
        .bind(format!("Cán bộ đầu mối {}", idx + 1))
        .bind(phone)
        .execute(&mut *tx)
        .await?;
        report.agencies += r.rows_affected();
    }
    let agencies: HashMap<String, Uuid> =
        sqlx::query_as::<_, (String, Uuid)>("SELECT name, id FROM agencies")
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();

    // Households.
    let mut household_ids = Vec::new();
    for i in 0..600usize {
        let (village_id, commune) = villages[(i * 13 + i / 7) % villages.len()].clone();
        let ethnic_roll: f64 = rng.random();
        let (ethnicity, surnames) = if ethnic_roll < 0.45 {
            ("tay", SURNAMES_TAY_NUNG)
        } else if ethnic_roll < 0.80 {
            ("nung", SURNAMES_TAY_NUNG)
        } else if ethnic_roll < 0.92 {
            ("dao", SURNAMES_DAO)
        } else {
            ("kinh", SURNAMES_KINH)
        };
        let male = rng.random_bool(0.7);
        let (middle, given) = if male {
            (MALE_MIDDLE, MALE_GIVEN)
        } else {
            (FEMALE_MIDDLE, FEMALE_GIVEN)
        };
        let name = format!(
            "{} {} {}",
            surnames.choose(&mut rng).unwrap_or(&"Hoàng"),
            middle.choose(&mut rng).unwrap_or(&"Văn"),
            given.choose(&mut rng).unwrap_or(&"Thụ")
        );
        let birth_year: i32 = rng.random_range(1950..=1998);
        let century_gender = match (birth_year >= 2000, male) {
            (false, true) => 0,
            (false, false) => 1,
            (true, true) => 2,
            (true, false) => 3,
        };
        let cccd = (rng.random_bool(0.9)).then(|| {
            format!(
                "020{}{:02}{:06}",
                century_gender,
                birth_year % 100,
                (i * 7919 + 13) % 1_000_000
            )
        });
        let household_code = rng
            .random_bool(0.7)
            .then(|| format!("HN-{commune}-{:04}", i + 1));
        let status = if rng.random_bool(0.72) {
            "poor"
        } else {
            "near_poor"
        };
        let lacks_capital = rng.random_bool(0.6);
        // A fixed id per demo household is its natural key: a second run inserts nothing.
        let fixed_id = Uuid::from_u128(DEMO_HOUSEHOLD_IDS + i as u128);
        household_ids.push(fixed_id);
        let id: Option<Uuid> = sqlx::query_scalar(
            "INSERT INTO households (id, commune_code, village_id, head_name, birth_year, gender, cccd, household_code,
                 ethnicity, members, status, status_year, lacks_capital, lacks_land, lacks_labour, lacks_technique,
                 illness, will_to_escape, notes)
             VALUES ($18, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 2024, $11, $12, $13, $14, $15, $16, $17)
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(&commune)
        .bind(village_id)
        .bind(&name)
        .bind(birth_year)
        .bind(if male { "male" } else { "female" })
        .bind(&cccd)
        .bind(&household_code)
        .bind(ethnicity)
        .bind(rng.random_range(1..=8))
        .bind(status)
        .bind(lacks_capital)
        .bind(rng.random_bool(0.3))
        .bind(rng.random_bool(0.25))
        .bind(rng.random_bool(0.45))
        .bind(rng.random_bool(0.15))
        .bind(rng.random_bool(0.75))
        .bind(Some("Dữ liệu mẫu").filter(|_| i % 10 == 0))
        .bind(fixed_id)
        .fetch_optional(&mut *tx)
        .await?;
        report.households += u64::from(id.is_some());
    }

    report.sponsorships += sponsorships(&mut tx, &mut rng, &household_ids, &agencies).await?;

    report.accounts = accounts(&mut tx, &agencies).await?;
    let summary = serde_json::json!({
        "villages": report.villages, "agencies": report.agencies, "households": report.households,
        "campaigns": report.campaigns, "sponsorships": report.sponsorships,
    });
    audit::write(
        &mut tx,
        &By::system("demo"),
        audit::Entry {
            action: audit::Action::Import,
            entity: "demo",
            entity_id: "binh-gia-2024".into(),
            before: None,
            after: Some(summary),
            reason: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// History 2014–2023 for some households, and the current campaign in every state.
async fn sponsorships(
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
async fn sponsorship(
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
fn outcome(item: &str) -> (f64, i32) {
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
fn seen_on_visit(rng: &mut StdRng, support: &(&str, &str, i64)) -> [Option<i32>; 5] {
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

async fn visit(
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
/// (Hoa Thám) each find something in every state on their dashboards.
async fn demo_accounts_work(
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

/// Small agencies (fewer than 10 staff) adopt one household together (R2).
async fn joint_group(
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

/// (username, full name, role, agency name, commune code)
type DemoAccount = (
    &'static str,
    &'static str,
    Role,
    Option<&'static str>,
    Option<&'static str>,
);

/// One account per role; existing ones get a fresh password.
async fn accounts(
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
                users::set_password(tx, &by, id, &hash).await?;
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
                users::create(tx, &by, &new).await?;
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
