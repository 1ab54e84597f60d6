//! The demo data set of Bình Gia 2024: villages, about 40 agencies, about 600 synthetic poor and
//! near-poor households (invented names, valid-format CCCDs), sponsorships of 2014–2023 and of the
//! current campaign in every state, and one account per role. Loading is idempotent: every row
//! has a natural key (`ON CONFLICT DO NOTHING`) and the generator is seeded, so a second run adds
//! nothing. Demo accounts get new random passwords at each run, printed once.

use std::collections::HashMap;

use chrono::NaiveDate;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom as _;
use rand::{Rng as _, SeedableRng as _};
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::audit::{self, By};

mod accounts;
mod data;
mod sponsorships;

use accounts::*;
use data::*;
use sponsorships::*;

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
    for (idx, (name, kind, staff, _named, commune)) in AGENCIES.iter().enumerate() {
        let phone = format!("0205 3{:06}", 830_100 + idx * 7);
        let r = sqlx::query(
            "INSERT INTO agencies (name, kind, staff_count, commune_code, contact_person, phone)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(kind)
        .bind(staff)
        .bind(commune)
        .bind(format!("Cán bộ đầu mối {}", idx + 1))
        .bind(phone)
        .execute(&mut *tx)
        .await?;
        report.agencies += r.rows_affected();
    }
    // The 2024 letter names three schools: they are the named list of each campaign's named rule
    // (seeded by migration 0031 with the letter's rules).
    let named: Vec<&str> = AGENCIES.iter().filter(|a| a.3).map(|a| a.0).collect();
    sqlx::query(
        "INSERT INTO campaign_quota_rule_agencies (rule_id, campaign_id, agency_id)
         SELECT r.id, r.campaign_id, a.id FROM campaign_quota_rules r JOIN agencies a ON a.name = ANY($1)
         WHERE r.named ON CONFLICT DO NOTHING",
    )
    .bind(&named)
    .execute(&mut *tx)
    .await?;
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
    profiles(&mut tx, &household_ids).await?;

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

/// The communes' reviews of 2022–2024 under the multidimensional standard (issue #26), consistent
/// with each year's official status: poor → income at most the line and 3–5 indicators short;
/// near-poor → at most the line and 1–2 short; escaped → above the line, 0–1 short. Each household
/// is short of the first indicators of its own fixed order, so a household that escapes sheds
/// shortfalls from one review to the next. One household in 17 is reviewed as near-poor while
/// its official status stays poor (the page then says they differ). A second run adds nothing.
async fn profiles(tx: &mut sqlx::PgConnection, households: &[Uuid]) -> anyhow::Result<()> {
    sqlx::query(
        "WITH y AS (SELECT generate_series(2022, 2024) AS year),
              base AS (
                SELECT h.id, y.year, abs(hashtext(h.id::text)) AS k,
                       coalesce((SELECT s.status FROM household_status_history s
                                 WHERE s.household_id = h.id AND s.year <= y.year AND s.source = 'official'
                                 ORDER BY s.year DESC LIMIT 1), h.status) AS status
                FROM households h CROSS JOIN y WHERE h.id = ANY($1)),
              shaped AS (
                SELECT b.*, CASE
                    WHEN b.status = 'poor' AND b.k % 17 = 0 THEN 2
                    WHEN b.status = 'poor' THEN 3 + (b.k + b.year) % 3
                    WHEN b.status = 'near_poor' THEN 1 + (b.k + b.year) % 2
                    ELSE (b.k + b.year) % 2 END AS n
                FROM base b)
         INSERT INTO household_profiles (household_id, review_year, standard_code, area, income_per_person,
             short_of, wishes, source)
         SELECT s.id, s.year, 'nd07-2021', 'rural',
                CASE WHEN s.status = 'escaped' THEN 1600000 + (s.k % 12) * 100000
                     WHEN s.status = 'near_poor' OR s.k % 17 = 0 THEN 1000000 + (s.k % 6) * 100000
                     ELSE 600000 + (s.k % 9) * 100000 END,
                ARRAY(SELECT code FROM (
                        SELECT i.code, i.position FROM poverty_indicators i
                        WHERE i.standard_code = 'nd07-2021'
                        ORDER BY abs(hashtext(s.id::text || i.code)) LIMIT s.n) AS o ORDER BY o.position),
                (ARRAY['Muốn được hỗ trợ bò giống để phát triển chăn nuôi',
                       'Mong được sửa lại nhà trước mùa mưa',
                       'Cần bể chứa nước sinh hoạt cho gia đình',
                       'Muốn học kỹ thuật trồng quế, hồi',
                       'Mong có vốn nuôi lợn nái',
                       ''])[1 + s.k % 6],
                'demo'
         FROM shaped s
         ON CONFLICT (household_id, review_year) DO NOTHING",
    )
    .bind(households)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
