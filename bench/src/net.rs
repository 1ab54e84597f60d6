//! The benchmarks of "beyond one machine": the load mix offered open-loop at fixed rates (with
//! where the time goes), the same mix through PgBouncer in each pooling mode against a direct
//! connection, and a failover under load with pg_auto_failover. Each prints a table.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sqlx::PgPool;

use giupdo_bench::ha::{self, PgBouncer, PoolMode};
use giupdo_bench::kit::failover::failover_run;
use giupdo_bench::kit::load::{self, Outcome, Plan};
use giupdo_bench::kit::{Latency, latency};

/// `giupdo serve` as its own process on a free port, on `url` — so that the app, PostgreSQL and
/// the load generator each show their own CPU time.
pub struct AppProcess {
    pub base: String,
    child: Child,
}

impl AppProcess {
    pub async fn start(url: &str) -> anyhow::Result<AppProcess> {
        let port = ha::free_port()?;
        // The production binary beside this one (`cargo build --release` builds both).
        let exe = std::env::current_exe()
            .context("đường dẫn chương trình")?
            .with_file_name("giupdo");
        if !exe.exists() {
            anyhow::bail!(
                "không thấy {}: hãy chạy `cargo build --release` (dựng cả giupdo lẫn giupdo-bench) trước.",
                exe.display()
            );
        }
        let log_path = std::env::temp_dir().join(format!("giupdo-bench-app-{port}.log"));
        let log = std::fs::File::create(&log_path)?;
        let mut child = Command::new(exe)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("khởi động giupdo serve")?;
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = reqwest::get(format!("{base}/healthz")).await
                && r.status() == 200
            {
                let _ = std::fs::remove_file(&log_path);
                return Ok(AppProcess { base, child });
            }
            let exited = child.try_wait().ok().flatten().is_some();
            if exited || Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let text = std::fs::read_to_string(&log_path).unwrap_or_default();
                let _ = std::fs::remove_file(&log_path);
                let last: Vec<&str> = text.lines().rev().take(3).collect();
                anyhow::bail!(
                    "giupdo serve không chạy lên: {}",
                    last.into_iter().rev().collect::<Vec<_>>().join(" / ")
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for AppProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time (user + system) a process has used so far, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // After the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    let total = ticks(11) + ticks(12) + ticks(13) + ticks(14);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    total as f64 / hz
}

/// CPU seconds of a postmaster and every backend it forked.
fn postgres_cpu_seconds(postmaster: u32) -> f64 {
    let mut total = cpu_seconds(postmaster);
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            let ppid = stat
                .rfind(')')
                .and_then(|i| stat[i + 2..].split_whitespace().nth(1))
                .and_then(|v| v.parse::<u32>().ok());
            if ppid == Some(postmaster) {
                total += cpu_seconds(pid);
            }
        }
    }
    total
}

fn row(label: &str, o: &Outcome, half: i64) {
    let Latency { p50, p95, p99, .. } = latency(&o.all_latencies());
    println!(
        "{label:<34} {:>9.0} {:>8.1} {:>8.1} {:>8.1} {:>6} {:>6}",
        o.rate(),
        p50,
        p95,
        p99,
        o.error_count(),
        half
    );
}

fn header(first: &str) {
    println!(
        "{first:<34} {:>9} {:>8} {:>8} {:>8} {:>6} {:>6}",
        "đạt/s", "p50 ms", "p95 ms", "p99 ms", "lỗi", "dở"
    );
}

/// The mix offered open-loop at each rate (the app as its own process), with the CPU each process
/// used; then the rate at which p99 crosses 100 ms, found by stepping up from the last rate below
/// it; and PostgreSQL's most expensive statements at `detail_rate` (pg_stat_statements).
pub async fn open_loop(
    url: &str,
    pool: &PgPool,
    postmaster: Option<u32>,
    users: usize,
    rates: &[f64],
    seconds: u64,
) -> anyhow::Result<()> {
    let app = AppProcess::start(url).await?;
    let plan = load::prepare(pool, users).await?;
    // Warm-up.
    load::run_open(&app.base, &plan, users, 100.0, Duration::from_secs(3)).await?;
    let stats = sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .execute(pool)
        .await
        .is_ok()
        && sqlx::query("SELECT pg_stat_statements_reset()")
            .execute(pool)
            .await
            .is_ok();
    println!();
    println!(
        "Vòng hở (open-loop): {users} người dùng, {seconds} s mỗi mức; độ trễ tính từ lúc yêu cầu đến hạn"
    );
    println!(
        "{:<10} {:>9} {:>8} {:>8} {:>8} {:>6} {:>9} {:>9} {:>9}",
        "mức/s", "đạt/s", "p50 ms", "p95 ms", "p99 ms", "lỗi", "CPU app", "CPU PG", "CPU tải"
    );
    let mut crossed = None;
    let mut last_below = None;
    let measure = |rate: f64, plan: Plan| {
        let base = app.base.clone();
        let pid = app.pid();
        async move {
            let (a0, p0, l0) = (
                cpu_seconds(pid),
                postmaster.map(postgres_cpu_seconds).unwrap_or(0.0),
                cpu_seconds(std::process::id()),
            );
            let o = load::run_open(&base, &plan, users, rate, Duration::from_secs(seconds)).await?;
            let wall = o.elapsed.as_secs_f64();
            let pct = |d: f64| 100.0 * d / wall;
            let Latency { p50, p95, p99, .. } = latency(&o.all_latencies());
            println!(
                "{rate:<10.0} {:>9.0} {:>8.1} {:>8.1} {:>8.1} {:>6} {:>8.0}% {:>8.0}% {:>8.0}%",
                o.rate(),
                p50,
                p95,
                p99,
                o.error_count(),
                pct(cpu_seconds(pid) - a0),
                pct(postmaster.map(postgres_cpu_seconds).unwrap_or(0.0) - p0),
                pct(cpu_seconds(std::process::id()) - l0),
            );
            anyhow::Ok(p99)
        }
    };
    for &rate in rates {
        let plan = load::prepare(pool, users).await?;
        let p99 = measure(rate, plan).await?;
        if p99 >= 100.0 && crossed.is_none() {
            crossed = Some(rate);
        } else if p99 < 100.0 && crossed.is_none() {
            last_below = Some(rate);
        }
    }
    if crossed.is_none()
        && let Some(mut rate) = last_below
    {
        while rate < 2000.0 {
            rate += 50.0;
            let plan = load::prepare(pool, users).await?;
            if measure(rate, plan).await? >= 100.0 {
                crossed = Some(rate);
                break;
            }
        }
    }
    match (crossed, last_below) {
        (Some(c), Some(b)) => {
            println!("p99 vượt 100 ms giữa {b:.0} và {c:.0} yêu cầu/s được đưa tới")
        }
        (Some(c), None) => println!("p99 đã vượt 100 ms ở mức thấp nhất đo ({c:.0}/s)"),
        _ => println!("p99 chưa vượt 100 ms đến 2000 yêu cầu/s"),
    }
    if stats {
        println!();
        println!(
            "PostgreSQL: các câu lệnh tốn thời gian nhất trong các lượt trên (pg_stat_statements)"
        );
        let rows: Vec<(String, i64, f64, f64)> = sqlx::query_as(
            "SELECT regexp_replace(left(query, 90), '\\s+', ' ', 'g'), calls,
                    total_exec_time, mean_exec_time
             FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 8",
        )
        .fetch_all(pool)
        .await
        .unwrap_or_default();
        let total: f64 =
            sqlx::query_scalar("SELECT coalesce(sum(total_exec_time), 0) FROM pg_stat_statements")
                .fetch_one(pool)
                .await
                .unwrap_or(0.0);
        println!(
            "{:>8} {:>9} {:>8} {:>6}  câu lệnh",
            "lượt", "tổng ms", "tb ms", "%"
        );
        for (q, calls, t, mean) in rows {
            println!(
                "{calls:>8} {t:>9.0} {mean:>8.2} {:>5.1}%  {q}",
                100.0 * t / total.max(1.0)
            );
        }
    } else {
        println!(
            "(pg_stat_statements không có: cụm riêng khởi động trước khi nạp nó; hãy `giupdo db stop` rồi chạy lại)"
        );
    }
    Ok(())
}

/// The mix through PgBouncer in each mode, against a direct connection, in one run.
pub async fn pooler(
    cluster_socket: &Path,
    scratch: &Path,
    direct_url: &str,
    pool: &PgPool,
    users: usize,
    rate: f64,
    seconds: u64,
) -> anyhow::Result<()> {
    println!();
    println!(
        "Qua PgBouncer 1.18 (Debian), vòng hở {rate:.0} yêu cầu/s, {seconds} s mỗi cách, {users} người dùng; \
         \"dở\" = lượt nhận giúp ghi thiếu"
    );
    header("cách kết nối");
    let cases: [(&str, Option<PoolMode>, &str); 4] = [
        ("trực tiếp (không qua pooler)", None, ""),
        ("session pooling", Some(PoolMode::Session), ""),
        (
            "transaction, bộ nhớ câu lệnh mặc định",
            Some(PoolMode::Transaction),
            "",
        ),
        (
            "transaction, statement-cache-capacity=0",
            Some(PoolMode::Transaction),
            "statement-cache-capacity=0",
        ),
    ];
    for (label, mode, extra) in cases {
        let bouncer = match mode {
            Some(mode) => Some(PgBouncer::start(
                &scratch.join("pgbouncer"),
                cluster_socket,
                "giupdo_bench",
                mode,
                // Every connection the app may open (16 + 8 for the sessions) and a margin:
                // fewer, and in session mode the app waits for a server connection (503s).
                30,
            )?),
            None => None,
        };
        let url = match &bouncer {
            Some(b) => b.url("giupdo_bench", extra),
            None => direct_url.to_string(),
        };
        let app = match AppProcess::start(&url).await {
            Ok(app) => app,
            Err(e) => {
                println!("{label:<34} không khởi động được: {e}");
                continue;
            }
        };
        // Warm-up: connections, prepared statements, caches.
        let plan = load::prepare(pool, users).await?;
        load::run_open(&app.base, &plan, users, rate, Duration::from_secs(3)).await?;
        let plan = load::prepare(pool, users).await?;
        let since = chrono::Utc::now();
        let o = load::run_open(&app.base, &plan, users, rate, Duration::from_secs(seconds)).await?;
        let half = load::half_written(pool, since).await?;
        row(label, &o, half);
        for (kind, n) in o.errors.iter().take(3) {
            println!("{:<34}   lỗi {kind}: {n}", "");
        }
        drop(app);
        drop(bouncer);
    }
    Ok(())
}

/// `bench failover`: the formation, the kill, the figures.
pub async fn failover(
    scratch: &Path,
    households: usize,
    rate: f64,
    seconds: u64,
    kill_after: u64,
) -> anyhow::Result<()> {
    let r = failover_run(
        scratch,
        households,
        rate,
        seconds,
        Duration::from_secs(kill_after),
    )
    .await?;
    println!(
        "pg_auto_failover 2.0: máy giám sát + 2 nút, sao chép đồng bộ; dựng trong {:.0} s",
        r.setup.as_secs_f64()
    );
    println!(
        "Tải vòng hở {rate:.0} yêu cầu/s trong {seconds} s; giết (SIGKILL) nút chính (nút {}) ở giây {:.1}",
        r.old_primary + 1,
        r.killed_at.as_secs_f64()
    );
    println!("giây  thành công  lỗi");
    for (i, (ok, failed)) in r.outcome.per_second.iter().enumerate() {
        println!("{i:>4}  {ok:>10}  {failed:>4}");
    }
    println!();
    println!(
        "phục vụ lại sau:                     {:.1} s (mục tiêu < 30 s)",
        r.back_after.as_secs_f64()
    );
    println!(
        "yêu cầu lỗi:                         {} (trang 503 tiếng Việt: {}, lỗi khác: {})",
        r.failed, r.outage_pages, r.other_errors
    );
    println!(
        "lượt nhận giúp đã báo thành công:    {} — mất trên máy chính mới: {}, trên máy dự phòng: {}",
        r.acknowledged, r.lost_on_primary, r.lost_on_standby
    );
    println!("lượt ghi dở dang:                    {}", r.half_written);
    println!(
        "nút chính mới:                       nút {}",
        r.new_primary + 1
    );
    println!("chỉ có máy dự phòng, ứng dụng báo:   {}", r.standby_refused);
    println!(
        "sao lưu qua danh sách máy sau đó:    {} KB",
        r.backup_bytes.div_ceil(1024)
    );
    match r.rejoined_after {
        Some(d) => println!(
            "nút cũ quay lại làm dự phòng sau:    {:.1} s (tính từ lúc chạy lại pg_autoctl)",
            d.as_secs_f64()
        ),
        None => println!("nút cũ CHƯA quay lại làm dự phòng trong 180 s"),
    }
    let Latency { p50, p99, .. } = latency(&r.outcome.all_latencies());
    println!("độ trễ cả lượt: p50 {p50:.1} ms, p99 {p99:.1} ms");
    Ok(())
}
