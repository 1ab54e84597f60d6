//! `giupdo-bench reports`: the summary, per-agency, multi-year and effectiveness reports and their
//! spreadsheets at 2.000.000 households.

use std::time::Instant;

use sqlx::PgPool;

use crate::fill;
use crate::registry::{signed_in_app, time_get};
use giupdo_bench::kit::synthetic::two_at_a_time;
use giupdo_bench::kit::{Latency, latency};

/// Reports at scale: households, and sponsorships spread over the campaigns 2014–2024 with the
/// current one holding `current` of them (its lines, members and deliveries too).
pub(crate) async fn reports_bench(
    pool: &PgPool,
    households: usize,
    sponsorships: usize,
    current: usize,
    requests: usize,
    reuse: bool,
) -> anyhow::Result<()> {
    let have: i64 = sqlx::query_scalar("SELECT count(*) FROM households")
        .fetch_one(pool)
        .await?;
    let have_sponsorships: i64 = sqlx::query_scalar("SELECT count(*) FROM sponsorships")
        .fetch_one(pool)
        .await?;
    let t = Instant::now();
    let campaigns: Vec<(uuid::Uuid, i32, bool)> =
        sqlx::query_as("SELECT id, year, is_current FROM campaigns ORDER BY year")
            .fetch_all(pool)
            .await?;
    let refill = !(reuse
        && have as usize >= households
        && have_sponsorships as usize >= sponsorships * 9 / 10);
    if refill {
        fill(pool, households.saturating_sub(have as usize)).await?;
    }
    let fill_households = t.elapsed();
    let t = Instant::now();
    let earlier = campaigns.iter().filter(|c| !c.2).count().max(1);
    sqlx::query("DELETE FROM sponsorships")
        .execute(pool)
        .await?;
    // The campaigns two at a time (two statements keep both cores busy; every trigger still runs).
    let jobs: Vec<(uuid::Uuid, i64, i64, bool, i32)> = campaigns
        .iter()
        .enumerate()
        .map(|(i, (id, _, is_current))| {
            let n = if *is_current {
                current
            } else {
                sponsorships.saturating_sub(current) / earlier
            };
            // Each campaign takes a different slice of the registry, so households recur across years.
            let offset = (i * 97_003 % households.max(1)) as i64;
            (*id, n as i64, offset, *is_current, i as i32)
        })
        .collect();
    let shared = pool.clone();
    two_at_a_time(jobs, move |(id, n, offset, is_current, i)| {
        let pool = shared.clone();
        async move {
            sqlx::query(
            "WITH h AS (SELECT id, row_number() OVER (ORDER BY id) AS k FROM households
                        ORDER BY id OFFSET $3 LIMIT $2),
                  a AS (SELECT array_agg(id ORDER BY name) AS ids FROM agencies),
                  s AS (
                    INSERT INTO sponsorships (campaign_id, household_id, lead_agency_id, state, support_form,
                        support_summary, pledged_value, delivered_value, pledged_on)
                    SELECT $1, h.id, a.ids[1 + h.k % array_length(a.ids, 1)],
                           CASE WHEN NOT $4 THEN 'follow_up'
                                WHEN h.k % 6 = 0 THEN 'proposed'
                                WHEN h.k % 6 IN (1, 2) THEN 'delivering'
                                WHEN h.k % 6 = 3 THEN 'confirmed'
                                ELSE 'target_reached' END,
                           (ARRAY['livestock','seedlings','tools','house_repair','cash','training'])[1 + h.k % 6],
                           'Hỗ trợ mẫu', 8000000 + (h.k % 9) * 1000000,
                           CASE WHEN $4 AND h.k % 6 IN (0, 3) THEN 0
                                WHEN $4 AND h.k % 6 IN (1, 2) THEN 4000000
                                ELSE 8000000 + (h.k % 9) * 1000000 END,
                           make_date(2014 + $5, 6, 20)
                    FROM h, a RETURNING id, lead_agency_id, support_form, pledged_value, delivered_value),
                  m AS (INSERT INTO sponsorship_agencies (sponsorship_id, agency_id, is_lead, share_value)
                        SELECT id, lead_agency_id, true, pledged_value FROM s),
                  l AS (INSERT INTO support_lines (sponsorship_id, position, form, item, quantity, unit, estimated_value)
                        SELECT id, 1, support_form, 'Vật phẩm mẫu', 1, 'gói', pledged_value FROM s)
             INSERT INTO deliveries (sponsorship_id, agency_id, delivered_on, item, quantity, unit, unit_value,
                 total_value, delivered_by)
             SELECT id, lead_agency_id, make_date(2014 + $5, 7, 20), 'Vật phẩm mẫu', 1, 'gói', delivered_value,
                    delivered_value, 'Cán bộ mẫu'
             FROM s WHERE delivered_value > 0",
            )
            .bind(id)
            .bind(n)
            .bind(offset)
            .bind(is_current)
            .bind(i)
            .execute(&pool)
            .await?;
            Ok(())
        }
    })
    .await?;
    // Outcomes for the effectiveness report: the official review of each household helped in an
    // earlier campaign for the three years after (escaping sooner and more often after livestock),
    // and a follow-up visit the next year for two sponsorships in three.
    sqlx::query("DELETE FROM household_status_history")
        .execute(pool)
        .await?;
    sqlx::query(
        "INSERT INTO household_status_history (household_id, year, status)
         SELECT s.household_id, c.year + k,
                CASE WHEN abs(hashtext(s.id::text)) % 1000
                          < k * 180 + CASE s.support_form WHEN 'livestock' THEN 250 WHEN 'cash' THEN 0 ELSE 100 END
                     THEN 'escaped' WHEN k = 1 THEN 'poor' ELSE 'near_poor' END
         FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id CROSS JOIN generate_series(1, 3) k
         WHERE NOT c.is_current AND c.year + k <= (SELECT year FROM campaigns WHERE is_current)
         ON CONFLICT DO NOTHING",
    )
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO follow_up_visits (sponsorship_id, visited_on, findings, received, born, died, sold,
             trees_surviving, evaluation, observed_status)
         SELECT s.id, make_date(c.year + 1, 8, 15), 'Thăm hộ mẫu',
                CASE WHEN s.support_form = 'livestock' THEN 2 END,
                CASE WHEN s.support_form = 'livestock' THEN abs(hashtext(s.id::text)) % 3 END,
                CASE WHEN s.support_form = 'livestock' THEN abs(hashtext(s.id::text)) % 2 END,
                CASE WHEN s.support_form = 'livestock' THEN 0 END,
                CASE WHEN s.support_form = 'seedlings' THEN 500 + abs(hashtext(s.id::text)) % 500 END,
                'effective', 'poor'
         FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id
         WHERE NOT c.is_current AND abs(hashtext(s.id::text)) % 3 <> 0",
    )
    .execute(pool)
    .await?;
    // Issue #26: every household's reviews of 2022–2024 under the 2022–2026 standard. Each is
    // short of a run of the 12 indicators starting at its own offset (0–5 of them); one household
    // in three sheds a shortfall a year, so later reviews resolve some. Two statements, each for
    // half of the households (all three years of a household in one), run side by side: the
    // statement-level trigger refreshes the effectiveness facts of each sponsorship once.
    let t_profiles = Instant::now();
    sqlx::query("DELETE FROM household_profiles")
        .execute(pool)
        .await?;
    let shared = pool.clone();
    two_at_a_time(vec![false, true], move |upper: bool| {
        let pool = shared.clone();
        async move {
            sqlx::query(
                "WITH c AS (SELECT array_agg(code ORDER BY position) || array_agg(code ORDER BY position) AS codes
                            FROM poverty_indicators WHERE standard_code = 'nd07-2021'),
                      p AS (SELECT h.id, y.year, abs(hashtext(h.id::text)) AS k FROM households h
                            CROSS JOIN generate_series(2022, 2024) AS y (year)
                            WHERE (h.id >= '80000000-0000-0000-0000-000000000000') = $1)
                 INSERT INTO household_profiles (household_id, review_year, standard_code, area, income_per_person,
                     short_of, wishes, source)
                 SELECT p.id, p.year, 'nd07-2021', 'rural', 500000 + p.k % 2000000,
                        c.codes[p.k % 12 + 1 : p.k % 12 + greatest(0, p.k % 6 - CASE WHEN p.k % 3 = 0 THEN p.year - 2022 ELSE 0 END)],
                        '', 'demo'
                 FROM p, c",
            )
            .bind(upper)
            .execute(&pool)
            .await?;
            Ok(())
        }
    })
    .await?;
    let profiles: i64 = sqlx::query_scalar("SELECT count(*) FROM household_profiles")
        .fetch_one(pool)
        .await?;
    println!(
        "Profiles: {profiles} reviews (2022–2024) filled in {:.0} s, effectiveness facts refreshed by the trigger.",
        t_profiles.elapsed().as_secs_f64()
    );
    // Measure a settled database, as a running district has: not autovacuum's first pass over
    // freshly loaded tables competing for the two cores,
    // nor the checkpoint writing the gigabyte just loaded.
    sqlx::query("VACUUM (ANALYZE)").execute(pool).await?;
    sqlx::query("CHECKPOINT").execute(pool).await?;
    let fill_sponsorships = t.elapsed();
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM sponsorships")
        .fetch_one(pool)
        .await?;
    let year: i32 = sqlx::query_scalar("SELECT year FROM campaigns WHERE is_current")
        .fetch_one(pool)
        .await?;
    let confirmed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id
         WHERE c.is_current AND s.state IN ('confirmed', 'delivering', 'target_reached', 'follow_up')",
    )
    .fetch_one(pool)
    .await?;
    println!(
        "Data: {households} households ({:.0} s to fill), {total} sponsorships over {} campaigns ({:.0} s), \
         {confirmed} confirmed in {year}.\n",
        fill_households.as_secs_f64(),
        campaigns.len(),
        fill_sponsorships.as_secs_f64()
    );
    let (app, cookie) = signed_in_app(pool).await?;
    // Issue #26: a household page with its three reviews, and a batch of 50 progress sheets of
    // the agency with the most sponsorships in the current campaign.
    let household: uuid::Uuid = sqlx::query_scalar(
        "SELECT s.household_id FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id
         WHERE c.year = $1 - 2 ORDER BY s.id LIMIT 1",
    )
    .bind(year)
    .fetch_one(pool)
    .await?;
    let agency: uuid::Uuid = sqlx::query_scalar(
        "SELECT x.agency_id FROM sponsorship_agencies x JOIN sponsorships s ON s.id = x.sponsorship_id
         JOIN campaigns c ON c.id = s.campaign_id WHERE c.is_current
         GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
    )
    .fetch_one(pool)
    .await?;
    let scenarios = [
        // The home page's tiles and the clerk's commune progress fold the summary's aggregate
        // (report::figures) since issue #17.
        (
            "home page (figures of the campaign)",
            "/".to_string(),
            requests,
        ),
        (
            "clerk's dashboard (quota by kind, progress by commune)",
            "/bang-dieu-khien".to_string(),
            requests,
        ),
        (
            "summary page, whole district, current campaign",
            format!("/bao-cao?nam={year}"),
            requests,
        ),
        (
            "summary page, one commune",
            format!("/bao-cao?nam={year}&xa=06073"),
            requests,
        ),
        (
            "summary page, merged communes",
            format!("/bao-cao?nam={year}&gop=1"),
            requests,
        ),
        (
            "per-agency results page",
            format!("/bao-cao/don-vi?nam={year}"),
            requests,
        ),
        (
            "multi-year view, whole dataset",
            "/bao-cao/nhieu-nam".to_string(),
            requests.min(20),
        ),
        (
            "effectiveness by form of support, all years",
            "/bao-cao/hieu-qua".to_string(),
            requests.min(20),
        ),
        (
            "effectiveness by form of support, one campaign",
            format!("/bao-cao/hieu-qua?nam={}", year - 3),
            requests,
        ),
        (
            "effectiveness .xlsx, all years",
            "/bao-cao/hieu-qua.xlsx".to_string(),
            requests.min(20),
        ),
        (
            "household page with its 3 reviews (issue #26)",
            format!("/ho/{household}"),
            requests,
        ),
        (
            "50 progress sheets, one batch (issue #26)",
            format!("/nhan-giup/phieu-tien-do?nam={year}&don_vi={agency}"),
            requests.min(10),
        ),
        (
            "summary .xlsx, every confirmed household of the campaign",
            format!("/bao-cao/tong-hop.xlsx?nam={year}"),
            requests.min(10),
        ),
        (
            "summary .csv",
            format!("/bao-cao/tong-hop.csv?nam={year}"),
            requests.min(10),
        ),
    ];
    println!("| scenario | requests | p50 (ms) | p95 (ms) | max (ms) |");
    println!("|---|---:|---:|---:|---:|");
    for (name, path, n) in scenarios {
        let Latency { p50, p95, max, .. } = latency(&time_get(&app, &cookie, &path, n).await?);
        println!("| {name} | {n} | {p50:.0} | {p95:.0} | {max:.0} |");
    }
    // The two queries the effectiveness page adds for issue #26, timed alone (the page's time
    // is mostly the earlier per-form aggregate).
    let district = giupdo::domain::roles::Scope::District;
    for (name, one_year) in [
        ("effectiveness by deprivation + models, all years", None),
        (
            "effectiveness by deprivation + models, one campaign",
            Some(year - 2),
        ),
    ] {
        let n = if one_year.is_some() {
            requests
        } else {
            requests.min(20)
        };
        let mut times = Vec::with_capacity(n);
        for i in 0..n + 2 {
            let t = Instant::now();
            giupdo::report::deprivation_effects(pool, &district, one_year).await?;
            giupdo::report::profile_results(pool, &district, one_year).await?;
            if i >= 2 {
                times.push(t.elapsed());
            }
        }
        let Latency { p50, p95, max, .. } = latency(&times);
        println!("| {name} (queries) | {n} | {p50:.0} | {p95:.0} | {max:.0} |");
    }
    Ok(())
}
