//! `giupdo-bench load` (the closed-loop mix) and `giupdo-bench export` (the mix beside a clerk
//! downloading the summary workbook).

use std::time::{Duration, Instant};

use anyhow::Context as _;
use sqlx::PgPool;

use giupdo::domain::roles::Role;

use crate::fill;
use giupdo_bench::kit::serve::serve_local;
use giupdo_bench::kit::{Latency, latency};

pub(crate) async fn load_bench(
    url: &str,
    pool: &PgPool,
    users: usize,
    seconds: u64,
    households: usize,
    compare_seconds: u64,
) -> anyhow::Result<()> {
    use giupdo_bench::kit::load;
    let t = Instant::now();
    fill(pool, households).await?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM households")
        .fetch_one(pool)
        .await?;
    let plan = load::prepare(pool, users).await?;
    println!(
        "Dữ liệu: {total} hộ, {} tài khoản thử tải ({:.1} s chuẩn bị)",
        plan.accounts.len(),
        t.elapsed().as_secs_f64()
    );
    // The app gets its own pool, as `giupdo serve` has.
    let app_pool = giupdo::db::pool_options().connect(url).await?;
    let (base, server) = serve_local(app_pool.clone()).await?;
    let since = chrono::Utc::now();
    // Warm-up: caches, prepared statements, connections.
    load::run(&base, &plan, users, Duration::from_secs(2)).await?;
    // The warm-up adopted households of the plan: take the still-free ones again.
    let plan = load::prepare(pool, users).await?;
    let outcome = load::run(&base, &plan, users, Duration::from_secs(seconds)).await?;
    println!();
    load::print(&outcome, users);
    let half = load::half_written(pool, since).await?;
    println!("Lượt ghi dở dang (nhận giúp thiếu dòng hỗ trợ hoặc nhật ký): {half}");

    if compare_seconds > 0 {
        println!();
        println!(
            "{:<34} {:>10} {:>8} {:>8} {:>8} {:>7} {:>9}",
            format!("trang ({users} người dùng)"),
            "yêu cầu/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "lỗi",
            "so với tĩnh"
        );
        let d = Duration::from_secs(compare_seconds);
        let clerk = plan
            .accounts
            .iter()
            .find(|a| a.role == Role::Clerk)
            .context("cần ít nhất 10 người dùng để có cán bộ huyện")?;
        let mut static_rate = 0.0;
        for (label, path, signed_in) in [
            ("tệp tĩnh /static/app.css", "/static/app.css", false),
            ("trang đăng nhập (mẫu, phiên)", "/dang-nhap", false),
            (
                "đổi mật khẩu (phiên, tài khoản)",
                "/tai-khoan/mat-khau",
                true,
            ),
            ("trang chủ cán bộ huyện (CSDL)", "/", true),
            ("danh sách hộ, trang 1 (CSDL)", "/ho", true),
        ] {
            let r =
                load::hammer(&base, path, signed_in.then_some(&clerk.username), users, d).await?;
            if static_rate == 0.0 {
                static_rate = r.rate;
            }
            println!(
                "{label:<34} {:>10.0} {:>8.1} {:>8.1} {:>8.1} {:>7} {:>8.0} %",
                r.rate,
                r.p50,
                r.p95,
                r.p99,
                r.errors,
                100.0 * r.rate / static_rate
            );
        }
    }
    server.abort();
    app_pool.close().await;
    Ok(())
}

/// The load mix without, then with, a clerk downloading the summary .xlsx of `rows` households in
/// a loop; beside the mix, a probe asks for the login page (a template, no query) every 20 ms. A
/// workbook built on an async worker stalls every request that worker holds for as long as the
/// build takes: the probe's worst latency shows it, where the mix's own figures are mostly
/// PostgreSQL's.
pub(crate) async fn export_bench(
    url: &str,
    pool: &PgPool,
    users: usize,
    seconds: u64,
    rows: usize,
) -> anyhow::Result<()> {
    use giupdo_bench::kit::load;
    let t = Instant::now();
    fill(pool, rows * 2).await?;
    // `rows` counted sponsorships in the current campaign, one line each.
    sqlx::query(
        "WITH c AS (SELECT id FROM campaigns WHERE is_current),
              h AS (SELECT id, row_number() OVER (ORDER BY id) AS k FROM households
                    WHERE NOT EXISTS (SELECT 1 FROM sponsorships s, c WHERE s.household_id = households.id
                                      AND s.campaign_id = c.id)
                    ORDER BY id LIMIT $1),
              a AS (SELECT array_agg(id ORDER BY name) AS ids FROM agencies),
              s AS (INSERT INTO sponsorships (campaign_id, household_id, lead_agency_id, state, support_form,
                        support_summary, pledged_value, delivered_value)
                    SELECT c.id, h.id, a.ids[1 + h.k % array_length(a.ids, 1)],
                           CASE WHEN h.k % 2 = 0 THEN 'target_reached' ELSE 'delivering' END,
                           'livestock', 'Bò giống', 9000000, CASE WHEN h.k % 2 = 0 THEN 9000000 ELSE 4000000 END
                    FROM h, a, c RETURNING id, lead_agency_id, pledged_value, delivered_value),
              m AS (INSERT INTO sponsorship_agencies (sponsorship_id, agency_id, is_lead, share_value)
                    SELECT id, lead_agency_id, true, pledged_value FROM s)
         INSERT INTO support_lines (sponsorship_id, position, form, item, quantity, unit, estimated_value)
         SELECT id, 1, 'livestock', 'Bò giống', 1, 'con', pledged_value FROM s",
    )
    .bind(rows as i64)
    .execute(pool)
    .await?;
    sqlx::query("VACUUM (ANALYZE)").execute(pool).await?;
    let listed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id
         WHERE c.is_current AND s.state IN ('confirmed', 'delivering', 'target_reached', 'follow_up')",
    )
    .fetch_one(pool)
    .await?;
    let year: i32 = sqlx::query_scalar("SELECT year FROM campaigns WHERE is_current")
        .fetch_one(pool)
        .await?;
    let plan = load::prepare(pool, users.max(10)).await?;
    println!(
        "Data: {listed} households in the {year} list, {users} users ({:.0} s to prepare)\n",
        t.elapsed().as_secs_f64()
    );
    let app_pool = giupdo::db::pool_options().connect(url).await?;
    let (base, server) = serve_local(app_pool.clone()).await?;
    let clerk = plan
        .accounts
        .iter()
        .find(|a| a.role == Role::Clerk)
        .context("cần ít nhất 10 người dùng để có cán bộ huyện")?
        .username
        .clone();
    load::run(&base, &plan, users, Duration::from_secs(2)).await?;
    let d = Duration::from_secs(seconds);
    println!(
        "| run | mix requests/s | mix p50 (ms) | mix p99 (ms) | probe p50 (ms) | probe p99 (ms) | probe max (ms) | errors |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut export = None;
    for exporting in [false, true] {
        let plan = load::prepare(pool, users.max(10)).await?;
        let exporter = exporting.then(|| {
            let (base, clerk) = (base.clone(), clerk.clone());
            let path = format!("/bao-cao/tong-hop.xlsx?nam={year}");
            tokio::spawn(async move { load::hammer(&base, &path, Some(&clerk), 1, d).await })
        });
        let probe = {
            let url = format!("{base}/dang-nhap");
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let start = Instant::now();
                let mut times = Vec::new();
                let mut errors = 0u64;
                let mut tick = tokio::time::interval(Duration::from_millis(20));
                while start.elapsed() < d {
                    tick.tick().await;
                    let t = Instant::now();
                    let ok = match client.get(&url).send().await {
                        Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    if ok {
                        times.push(t.elapsed());
                    } else {
                        errors += 1;
                    }
                }
                (times, errors)
            })
        };
        let mix = load::run(&base, &plan, users, d).await?;
        let (probe_times, probe_errors) = probe.await?;
        let probe_max = probe_times
            .iter()
            .max()
            .map_or(0.0, |t| t.as_secs_f64() * 1000.0);
        let Latency { p50, p99, .. } = latency(&mix.all_latencies());
        let Latency {
            p50: q50, p99: q99, ..
        } = latency(&probe_times);
        let name = if exporting {
            "while exporting"
        } else {
            "no export"
        };
        println!(
            "| {name} | {:.0} | {p50:.0} | {p99:.0} | {q50:.1} | {q99:.1} | {probe_max:.0} | {} |",
            mix.rate(),
            mix.error_count() + probe_errors
        );
        if let Some(e) = exporter {
            export = Some(e.await??);
        }
    }
    if let Some(e) = export {
        println!(
            "\nExports of the {listed}-row summary .xlsx during the second run: {} done, p50 {:.0} ms, {} errors.",
            (e.rate * seconds as f64).round(),
            e.p50,
            e.errors
        );
    }
    server.abort();
    app_pool.close().await;
    Ok(())
}
