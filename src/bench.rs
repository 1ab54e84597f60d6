//! `giupdo bench …`: benchmarks that print a table. They run in their own database
//! (`giupdo_bench`, recreated each time) inside the private cluster, never in the app's data.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, header};
use clap::Subcommand;
use sqlx::PgPool;
use tower::ServiceExt as _;

use crate::config::{DbSource, WebConfig};
use crate::db::audit::By;
use crate::db::users::{self, NewUser};
use crate::domain::roles::Role;
use crate::pgcluster::Cluster;
use crate::web::{self, AppState};

#[derive(Debug, Subcommand)]
pub enum BenchWhat {
    /// Registry: import from CSV and xlsx, then the household list/search page at scale.
    Registry {
        /// Households in the database for the list/search measurements.
        #[arg(long, default_value_t = 1_000_000)]
        households: usize,
        /// Rows in each import file.
        #[arg(long, default_value_t = 100_000)]
        import_rows: usize,
        /// Requests per list/search scenario.
        #[arg(long, default_value_t = 200)]
        requests: usize,
    },
    /// Photos: decoding, turning, downsizing and re-encoding phone photos (time per upload), and
    /// what each takes in PostgreSQL.
    Photos {
        /// Photos processed per size.
        #[arg(long, default_value_t = 10)]
        photos: usize,
    },
    /// Reports: the summary page, the per-agency and multi-year pages, and the spreadsheet export
    /// on a large dataset.
    Reports {
        #[arg(long, default_value_t = 2_000_000)]
        households: usize,
        /// Sponsorships over all campaigns.
        #[arg(long, default_value_t = 500_000)]
        sponsorships: usize,
        /// Of those, in the current campaign (the rest spread evenly over the earlier ones).
        #[arg(long, default_value_t = 60_000)]
        current: usize,
        /// Requests per page scenario.
        #[arg(long, default_value_t = 50)]
        requests: usize,
        /// Keep the database of the previous `bench reports` run when it holds this dataset
        /// (only the requests are measured again).
        #[arg(long)]
        reuse: bool,
    },
    /// Load: virtual users of every role, each signed in with its own session, run a mix of page
    /// views, searches, duplicate checks and pledges against the app over TCP; then the same users
    /// fetch a static file and dynamic pages to compare their throughput.
    Load {
        /// Concurrent virtual users.
        #[arg(long, default_value_t = 50)]
        users: usize,
        /// Length of the mixed run, in seconds.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// Households added to the demo data before the run.
        #[arg(long, default_value_t = 100_000)]
        households: usize,
        /// Length of each static/dynamic comparison run, in seconds (0: skip it).
        #[arg(long, default_value_t = 10)]
        compare_seconds: u64,
        /// Open-loop arrival rates to offer the mix at, requests per second.
        #[arg(long, value_delimiter = ',', default_value = "100,200,300,400")]
        rates: Vec<f64>,
        /// Length of each open-loop run, in seconds (0: skip them).
        #[arg(long, default_value_t = 20)]
        open_seconds: u64,
    },
    /// PgBouncer (Debian's, started here on a Unix socket) in session and transaction pooling,
    /// each carrying the load mix open-loop, against a direct connection.
    Pooler {
        #[arg(long, default_value_t = 50)]
        users: usize,
        /// Requests per second offered.
        #[arg(long, default_value_t = 200.0)]
        rate: f64,
        /// Length of each run, in seconds.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Households added to the demo data before the runs.
        #[arg(long, default_value_t = 100_000)]
        households: usize,
    },
    /// Failover: pg_auto_failover (a monitor and two nodes, synchronous replication) under the load
    /// mix; the primary node is killed with SIGKILL, the standby takes over, the old primary
    /// rejoins; every acknowledged pledge is checked on both nodes.
    Failover {
        /// Households added to the demo data.
        #[arg(long, default_value_t = 20_000)]
        households: usize,
        /// Requests per second offered (open-loop).
        #[arg(long, default_value_t = 50.0)]
        rate: f64,
        /// Length of the run, in seconds.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// When the primary is killed, in seconds from the start of the run.
        #[arg(long, default_value_t = 20)]
        kill_after: u64,
    },
    /// Exports in progress: the load mix run twice, without and with a district clerk downloading
    /// the summary .xlsx of `rows` households over and over, to compare the other pages' latency.
    Export {
        /// Concurrent virtual users of the mix (few: the point is the export, not saturation).
        #[arg(long, default_value_t = 10)]
        users: usize,
        /// Length of each of the two runs, in seconds.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Confirmed households of the current campaign (rows of the exported list).
        #[arg(long, default_value_t = 50_000)]
        rows: usize,
    },
    /// Duplicate check: the as-you-type candidates at growing registry sizes, and a commune scan.
    Duplicates {
        /// Registry sizes to measure at, ascending.
        #[arg(long, value_delimiter = ',', default_value = "100000,1000000,2000000")]
        sizes: Vec<usize>,
        /// Checks per size.
        #[arg(long, default_value_t = 200)]
        requests: usize,
        /// Commune to scan at the largest size.
        #[arg(long, default_value = "06073")]
        commune: String,
    },
}

pub async fn run(source: &DbSource, what: BenchWhat) -> anyhow::Result<()> {
    let DbSource::Private(dir) = source else {
        bail!(
            "`giupdo bench` chạy trong cụm PostgreSQL riêng (cơ sở dữ liệu giupdo_bench); hãy bỏ đặt DATABASE_URL."
        );
    };
    let dir = dir.clone();
    if let BenchWhat::Failover {
        households,
        rate,
        seconds,
        kill_after,
    } = what
    {
        // Its own formation under the data directory: the private cluster is not used.
        let scratch = std::path::absolute(dir.join("bench-failover"))?;
        return crate::bench_net::failover(&scratch, households, rate, seconds, kill_after).await;
    }
    let (guard, cluster) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let cluster = Cluster::new(dir)?;
        let (guard, _) = cluster.acquire()?;
        Ok((guard, cluster))
    })
    .await??;
    let admin = crate::db::pool_options()
        .max_connections(1)
        .connect(&cluster.url_for("postgres"))
        .await?;
    let reuse = matches!(what, BenchWhat::Reports { reuse: true, .. })
        && sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'giupdo_bench')",
        )
        .fetch_one(&admin)
        .await?;
    if !reuse {
        sqlx::query("DROP DATABASE IF EXISTS giupdo_bench WITH (FORCE)")
            .execute(&admin)
            .await?;
        sqlx::query("CREATE DATABASE giupdo_bench")
            .execute(&admin)
            .await?;
    }
    admin.close().await;
    let pool = crate::db::pool_options()
        .max_connections(8)
        .connect(&cluster.url_for("giupdo_bench"))
        .await?;
    crate::db::migrate(&pool).await?;
    if !reuse {
        crate::demo::load(&pool).await?;
    }
    let result = match what {
        BenchWhat::Registry {
            households,
            import_rows,
            requests,
        } => registry(&pool, households, import_rows, requests).await,
        BenchWhat::Load {
            users,
            seconds,
            households,
            compare_seconds,
            rates,
            open_seconds,
        } => {
            let url = cluster.url_for("giupdo_bench");
            let closed = load_bench(&url, &pool, users, seconds, households, compare_seconds).await;
            match closed {
                Ok(()) if open_seconds > 0 && !rates.is_empty() => {
                    let postmaster = postmaster_pid(&cluster);
                    crate::bench_net::open_loop(
                        &url,
                        &pool,
                        postmaster,
                        users,
                        &rates,
                        open_seconds,
                    )
                    .await
                }
                other => other,
            }
        }
        BenchWhat::Pooler {
            users,
            rate,
            seconds,
            households,
        } => {
            fill(&pool, households).await?;
            let scratch = std::path::absolute(cluster.root().join("bench-pooler"))?;
            crate::bench_net::pooler(
                &cluster.socket_dir(),
                &scratch,
                &cluster.url_for("giupdo_bench"),
                &pool,
                users,
                rate,
                seconds,
            )
            .await
        }
        BenchWhat::Failover { .. } => unreachable!("handled above"),
        BenchWhat::Duplicates {
            sizes,
            requests,
            commune,
        } => duplicates_bench(&pool, &sizes, requests, &commune).await,
        BenchWhat::Export {
            users,
            seconds,
            rows,
        } => {
            export_bench(
                &cluster.url_for("giupdo_bench"),
                &pool,
                users,
                seconds,
                rows,
            )
            .await
        }
        BenchWhat::Reports {
            households,
            sponsorships,
            current,
            requests,
            reuse,
        } => reports_bench(&pool, households, sponsorships, current, requests, reuse).await,
        BenchWhat::Photos { photos } => photos_bench(&pool, photos).await,
    };
    pool.close().await;
    tokio::task::spawn_blocking(move || guard.release()).await??;
    result
}

/// The private cluster's postmaster, for its CPU time.
fn postmaster_pid(cluster: &Cluster) -> Option<u32> {
    std::fs::read_to_string(cluster.pgdata().join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

/// A synthetic but valid household row (unique CCCD and code from `n`).
fn row(n: usize, villages: &[(String, String)]) -> Vec<String> {
    const SUR: &[&str] = &[
        "Hoàng", "Nông", "Lương", "Lăng", "Hà", "Vi", "Lộc", "Mông", "Triệu", "Bàn", "Nguyễn", "Lý",
    ];
    const MID: &[&str] = &["Văn", "Thị", "Đức", "Minh", "Văn", "Thị"];
    const GIV: &[&str] = &[
        "Thụ", "Sơn", "Hùng", "Lan", "Hoa", "Mai", "Tâm", "Cường", "Khánh", "Phúc", "Nga", "Vân",
        "Thu", "Thuận",
    ];
    let (commune, village) = &villages[n % villages.len()];
    let male = !n.is_multiple_of(3);
    let year = 1950 + (n % 48) as i32;
    let cccd = format!(
        "020{}{:02}{:06}",
        if male { 0 } else { 1 },
        year % 100,
        n % 1_000_000
    );
    vec![
        commune.clone(),
        village.clone(),
        format!(
            "{} {} {}",
            SUR[n % SUR.len()],
            MID[(n / 7) % MID.len()],
            GIV[(n / 3) % GIV.len()]
        ),
        year.to_string(),
        if male { "Nam" } else { "Nữ" }.into(),
        // Above 1,000,000 rows the 6 free digits repeat: leave the CCCD empty there.
        if n < 1_000_000 { cccd } else { String::new() },
        // No old CMND.
        String::new(),
        format!("BENCH-{n}"),
        ["Tày", "Nùng", "Dao", "Kinh"][n % 4].into(),
        (1 + n % 7).to_string(),
        if n.is_multiple_of(4) {
            "Cận nghèo"
        } else {
            "Hộ nghèo"
        }
        .into(),
        "2024".into(),
        if n.is_multiple_of(2) { "x" } else { "" }.into(),
        String::new(),
        String::new(),
        if n.is_multiple_of(5) { "x" } else { "" }.into(),
        String::new(),
        String::new(),
        if n.is_multiple_of(3) { "" } else { "x" }.into(),
        String::new(),
        String::new(),
    ]
}

pub fn csv_file(
    rows: std::ops::Range<usize>,
    villages: &[(String, String)],
) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(
        crate::import::households::COLUMNS
            .iter()
            .map(|(_, h, _)| *h),
    )?;
    for n in rows {
        w.write_record(row(n, villages))?;
    }
    Ok(w.into_inner()?)
}

fn xlsx_file(
    rows: std::ops::Range<usize>,
    villages: &[(String, String)],
) -> anyhow::Result<Vec<u8>> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, (_, h, _)) in crate::import::households::COLUMNS.iter().enumerate() {
        sheet.write(0, c as u16, *h)?;
    }
    for (i, n) in rows.enumerate() {
        for (c, v) in row(n, villages).iter().enumerate() {
            if !v.is_empty() {
                sheet.write((i + 1) as u32, c as u16, v.as_str())?;
            }
        }
    }
    Ok(book.save_to_buffer()?)
}

async fn time_import(
    pool: &PgPool,
    bytes: &[u8],
    name: &str,
) -> anyhow::Result<(usize, Duration, Duration)> {
    use crate::import::households::{Target, commit, preview};
    let t0 = Instant::now();
    let table = crate::import::read_table(bytes, name).map_err(anyhow::Error::msg)?;
    let p = preview(pool, &table, &Target::default(), 2024, crate::domain::duplicates::Thresholds::default()).await?;
    if !p.problems.is_empty() {
        bail!(
            "bench file has problems: {:?}",
            &p.problems[..p.problems.len().min(3)]
        );
    }
    let checked = t0.elapsed();
    let drafts: Vec<_> = p.rows.into_iter().map(|(_, d)| d).collect();
    let t1 = Instant::now();
    let n = commit(
        pool,
        &By::system("bench"),
        &drafts,
        name,
        None,
        Some("bench"),
    )
    .await?;
    Ok((n as usize, checked, t1.elapsed()))
}

async fn registry(
    pool: &PgPool,
    households: usize,
    import_rows: usize,
    requests: usize,
) -> anyhow::Result<()> {
    let villages: Vec<(String, String)> =
        sqlx::query_as("SELECT commune_code, name FROM villages ORDER BY commune_code, name")
            .fetch_all(pool)
            .await?;

    println!("## Import ({import_rows} rows per file)\n");
    println!("| format | rows | read + check (s) | write (s) | total rows/s |");
    println!("|---|---:|---:|---:|---:|");
    let csv = csv_file(0..import_rows, &villages)?;
    let (n, check, write) = time_import(pool, &csv, "bench.csv").await?;
    println!(
        "| CSV | {n} | {:.2} | {:.2} | {:.0} |",
        check.as_secs_f64(),
        write.as_secs_f64(),
        n as f64 / (check + write).as_secs_f64()
    );
    let xlsx = xlsx_file(import_rows..2 * import_rows, &villages)?;
    let (n, check, write) = time_import(pool, &xlsx, "bench.xlsx").await?;
    println!(
        "| xlsx | {n} | {:.2} | {:.2} | {:.0} |",
        check.as_secs_f64(),
        write.as_secs_f64(),
        n as f64 / (check + write).as_secs_f64()
    );

    let have: i64 = sqlx::query_scalar("SELECT count(*) FROM households")
        .fetch_one(pool)
        .await?;
    let need = households.saturating_sub(have as usize);
    let t = Instant::now();
    fill(pool, need).await?;
    println!(
        "\nFilled to {households} households in {:.1} s.\n",
        t.elapsed().as_secs_f64()
    );

    let (app, cookie) = signed_in_app(pool).await?;
    let a_cccd: String = sqlx::query_scalar(
        "SELECT cccd FROM households WHERE cccd IS NOT NULL LIMIT 1 OFFSET 5000",
    )
    .fetch_one(pool)
    .await?;
    let scenarios = [
        ("list, page 1", "/ho".to_string()),
        ("list, page 100", "/ho?trang=100".to_string()),
        (
            "search name without diacritics",
            "/ho?q=hoang+van+thu".to_string(),
        ),
        ("search rare name", "/ho?q=lang+thi+nga".to_string()),
        ("search CCCD", format!("/ho?q={a_cccd}")),
        (
            "commune + priority filter",
            "/ho?xa=06073&uu_tien=co".to_string(),
        ),
        (
            "never helped, by status",
            "/ho?da_giup=khong&sap_xep=tinh-trang".to_string(),
        ),
    ];
    println!(
        "## Household list/search with {households} households ({requests} requests each, in-process)\n"
    );
    println!("| scenario | p50 (ms) | p95 (ms) | max (ms) |");
    println!("|---|---:|---:|---:|");
    for (name, path) in scenarios {
        let (p50, p95, max) = percentiles(time_get(&app, &cookie, &path, requests).await?);
        println!("| {name} | {p50:.1} | {p95:.1} | {max:.1} |");
    }
    Ok(())
}

/// Name parts of the synthetic registry: 39 × 12 × 123 = 57.564 different full names, so a name is shared
/// by a few dozen households in a million, as in a real district, not by thousands.
const SURNAMES: &[&str] = &[
    "Hoàng", "Nông", "Lương", "Lăng", "Hà", "Vi", "Lộc", "Mông", "Chu", "Hứa", "Lý", "Vy", "Tô",
    "Dương", "Mã", "Lục", "Ma", "Đinh", "Triệu", "Bàn", "Đặng", "Phùng", "Chảo", "Nguyễn", "Trần",
    "Lê", "Phạm", "Vũ", "Đỗ", "Bùi", "Ngô", "Lâm", "Sầm", "Đàm", "Hầu", "Linh", "Luân", "La",
    "Ninh",
];
const MIDDLES: &[&str] = &[
    "Văn", "Thị", "Đức", "Minh", "Quang", "Xuân", "Ngọc", "Thu", "Hữu", "Thanh", "Kim", "Mạnh",
];
const GIVEN: &[&str] = &[
    "Thụ",
    "Sơn",
    "Hùng",
    "Dũng",
    "Cường",
    "Khánh",
    "Phúc",
    "Thắng",
    "Tuấn",
    "Chiến",
    "Bình",
    "Quý",
    "Sinh",
    "Toàn",
    "Hải",
    "Long",
    "Tiến",
    "Vượng",
    "Thành",
    "Kiên",
    "Lợi",
    "Pao",
    "Sằn",
    "Tòng",
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
    "Hằng",
    "Quyên",
    "Mùi",
    "Dịu",
    "Nhất",
    "Chang",
    "Thuận",
    "Thu",
    "Lâm",
    "Lực",
    "Lưu",
    "Mạc",
    "Nam",
    "Ngân",
    "Nghĩa",
    "Nguyên",
    "Nhàn",
    "Ninh",
    "Oanh",
    "Phong",
    "Phương",
    "Quân",
    "Quang",
    "Quyết",
    "Sang",
    "Sáng",
    "Tài",
    "Tân",
    "Thái",
    "Thanh",
    "Thảo",
    "Thìn",
    "Thoa",
    "Thông",
    "Thủy",
    "Tình",
    "Trang",
    "Trọng",
    "Trung",
    "Trường",
    "Tú",
    "Tuyết",
    "Uyên",
    "Vinh",
    "Vũ",
    "Xuân",
    "Yến",
    "An",
    "Anh",
    "Bắc",
    "Bảo",
    "Biên",
    "Cảnh",
    "Châu",
    "Chinh",
    "Công",
    "Cúc",
    "Dân",
    "Diệp",
    "Đại",
    "Đào",
    "Điệp",
    "Định",
    "Đông",
    "Đức",
    "Giang",
    "Hà",
    "Hạ",
    "Hào",
    "Hậu",
    "Hiếu",
    "Hòa",
    "Hoan",
    "Học",
    "Huệ",
    "Hưng",
    "Hương",
    "Hữu",
    "Kha",
    "Khải",
    "Khoa",
    "Lai",
    "Lành",
    "Liễu",
    "Linh",
    "Loan",
];

/// The app itself, in-process, and the session cookie of a clerk signed in to it.
async fn signed_in_app(pool: &PgPool) -> anyhow::Result<(axum::Router, String)> {
    let password = "bench-mat-khau-123".to_string();
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE username = 'bench.clerk')")
            .fetch_one(pool)
            .await?;
    if !exists {
        let mut tx = pool.begin().await?;
        users::create(
            &mut tx,
            &By::system("bench"),
            &NewUser {
                username: "bench.clerk".into(),
                full_name: "Bench".into(),
                password_hash: password_auth::generate_hash(&password),
                role: Role::Clerk,
                agency_id: None,
                commune_code: None,
            },
        )
        .await?;
        tx.commit().await?;
    }
    let app = web::app(AppState::new(pool.clone(), WebConfig::default()));
    let peer = ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 9)));
    let mut login = Request::post("/dang-nhap")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "username=bench.clerk&password={password}"
        )))?;
    login.extensions_mut().insert(peer);
    let resp = app.clone().oneshot(login).await?;
    let cookie = resp
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("bench login failed")?
        .to_string();
    Ok((app, cookie))
}

/// `requests` timed GETs of `path` (after 3 untimed ones), each body read in full.
async fn time_get(
    app: &axum::Router,
    cookie: &str,
    path: &str,
    requests: usize,
) -> anyhow::Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(requests);
    for i in 0..requests + 3 {
        let req = Request::get(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())?;
        let t = Instant::now();
        let resp = app.clone().oneshot(req).await?;
        let status = resp.status();
        let _ = axum::body::to_bytes(resp.into_body(), usize::MAX).await?;
        if !status.is_success() {
            bail!("{path}: {status}");
        }
        if i >= 3 {
            times.push(t.elapsed());
        }
    }
    Ok(times)
}

/// The app on a local TCP port as `giupdo serve` runs it (TCP_NODELAY included), for load runs.
pub async fn serve_local(pool: PgPool) -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    serve_state(AppState::new(pool, WebConfig::default())).await
}

/// [`serve_local`] with a state of the caller's.
pub async fn serve_state(state: AppState) -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    use axum::serve::ListenerExt as _;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = web::app(state);
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let handle = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Ok((format!("http://{addr}"), handle))
}

async fn load_bench(
    url: &str,
    pool: &PgPool,
    users: usize,
    seconds: u64,
    households: usize,
    compare_seconds: u64,
) -> anyhow::Result<()> {
    use crate::loadtest;
    let t = Instant::now();
    fill(pool, households).await?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM households")
        .fetch_one(pool)
        .await?;
    let plan = loadtest::prepare(pool, users).await?;
    println!(
        "Dữ liệu: {total} hộ, {} tài khoản thử tải ({:.1} s chuẩn bị)",
        plan.accounts.len(),
        t.elapsed().as_secs_f64()
    );
    // The app gets its own pool, as `giupdo serve` has.
    let app_pool = crate::db::pool_options().connect(url).await?;
    let (base, server) = serve_local(app_pool.clone()).await?;
    let since = chrono::Utc::now();
    // Warm-up: caches, prepared statements, connections.
    loadtest::run(&base, &plan, users, Duration::from_secs(2)).await?;
    // The warm-up adopted households of the plan: take the still-free ones again.
    let plan = loadtest::prepare(pool, users).await?;
    let outcome = loadtest::run(&base, &plan, users, Duration::from_secs(seconds)).await?;
    println!();
    loadtest::print(&outcome, users);
    let half = loadtest::half_written(pool, since).await?;
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
            let r = loadtest::hammer(&base, path, signed_in.then_some(&clerk.username), users, d)
                .await?;
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
async fn export_bench(
    url: &str,
    pool: &PgPool,
    users: usize,
    seconds: u64,
    rows: usize,
) -> anyhow::Result<()> {
    use crate::loadtest;
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
    let plan = loadtest::prepare(pool, users.max(10)).await?;
    println!(
        "Data: {listed} households in the {year} list, {users} users ({:.0} s to prepare)\n",
        t.elapsed().as_secs_f64()
    );
    let app_pool = crate::db::pool_options().connect(url).await?;
    let (base, server) = serve_local(app_pool.clone()).await?;
    let clerk = plan
        .accounts
        .iter()
        .find(|a| a.role == Role::Clerk)
        .context("cần ít nhất 10 người dùng để có cán bộ huyện")?
        .username
        .clone();
    loadtest::run(&base, &plan, users, Duration::from_secs(2)).await?;
    let d = Duration::from_secs(seconds);
    println!(
        "| run | mix requests/s | mix p50 (ms) | mix p99 (ms) | probe p50 (ms) | probe p99 (ms) | probe max (ms) | errors |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut export = None;
    for exporting in [false, true] {
        let plan = loadtest::prepare(pool, users.max(10)).await?;
        let exporter = exporting.then(|| {
            let (base, clerk) = (base.clone(), clerk.clone());
            let path = format!("/bao-cao/tong-hop.xlsx?nam={year}");
            tokio::spawn(async move { loadtest::hammer(&base, &path, Some(&clerk), 1, d).await })
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
        let mix = loadtest::run(&base, &plan, users, d).await?;
        let (probe_times, probe_errors) = probe.await?;
        let probe_max = probe_times
            .iter()
            .max()
            .map_or(0.0, |t| t.as_secs_f64() * 1000.0);
        let (p50, _, p99) = loadtest::percentiles(mix.all_latencies());
        let (q50, _, q99) = loadtest::percentiles(probe_times);
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

/// Reports at scale: households, and sponsorships spread over the campaigns 2014–2024 with the
/// current one holding `current` of them (its lines, members and deliveries too).
async fn reports_bench(
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
    for (i, (id, _, is_current)) in campaigns.iter().enumerate() {
        let n = if *is_current {
            current
        } else {
            sponsorships.saturating_sub(current) / earlier
        };
        // Each campaign takes a different slice of the registry, so households recur across years.
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
        .bind(n as i64)
        .bind((i * 97_003 % households.max(1)) as i64)
        .bind(is_current)
        .bind(i as i32)
        .execute(pool)
        .await?;
    }
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
    let scenarios = [
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
        let (p50, p95, max) = percentiles(time_get(&app, &cookie, &path, n).await?);
        println!("| {name} | {n} | {p50:.0} | {p95:.0} | {max:.0} |");
    }
    Ok(())
}

fn percentiles(mut times: Vec<Duration>) -> (f64, f64, f64) {
    times.sort();
    let pct = |p: f64| {
        times[((times.len() as f64 * p) as usize).min(times.len() - 1)].as_secs_f64() * 1000.0
    };
    (pct(0.50), pct(0.95), pct(1.0))
}

async fn duplicates_bench(
    pool: &PgPool,
    sizes: &[usize],
    requests: usize,
    commune: &str,
) -> anyhow::Result<()> {
    use crate::db::duplicates::{Probe, candidates, scan};
    use crate::domain::duplicates::Thresholds;
    let t = Thresholds::default();
    let mut scan_line = String::new();
    let mut search_lines = vec![
        format!("## Cross-commune search (\"Kiểm tra trùng hộ\", {requests} searches per size)\n"),
        "| households | search p50 (ms) | search p95 (ms) | blocked names: lookup p50 / p95 (ms), names scored (avg) | trigram names (before): lookup p50 / p95 (ms), names fetched (avg) | recall of the trigram search's probable names |".into(),
        "|---:|---:|---:|---|---|---:|".into(),
    ];
    println!("## Duplicate check as the user types ({requests} checks per size)\n");
    println!("| households | p50 (ms) | p95 (ms) | max (ms) | candidates found (avg) |");
    println!("|---:|---:|---:|---:|---:|");
    for &size in sizes {
        let have: i64 = sqlx::query_scalar("SELECT count(*) FROM households")
            .fetch_one(pool)
            .await?;
        fill(pool, size.saturating_sub(have as usize)).await?;
        // Probes: real records of the registry, typed with a typo and without diacritics.
        let samples: Vec<(String, String, String, Option<i32>)> = sqlx::query_as(
            "SELECT h.commune_code, v.name, h.head_name, h.birth_year FROM households h TABLESAMPLE SYSTEM (1)
             JOIN villages v ON v.id = h.village_id LIMIT $1",
        )
        .bind(requests as i64)
        .fetch_all(pool)
        .await?;
        let mut times = Vec::new();
        let mut found = 0usize;
        for (i, (commune_code, village, name, birth)) in samples.iter().enumerate() {
            let typed = if i % 2 == 0 {
                crate::domain::text::normalize_name(name)
            } else {
                format!("{name}h")
            };
            let probe = Probe {
                commune_code: commune_code.clone(),
                village: village.clone(),
                head_name: typed,
                birth_year: *birth,
                ..Default::default()
            };
            let t0 = Instant::now();
            found += candidates(pool, &probe, t).await?.len();
            times.push(t0.elapsed());
        }
        let (p50, p95, max) = percentiles(times);
        println!(
            "| {size} | {p50:.1} | {p95:.1} | {max:.1} | {:.1} |",
            found as f64 / samples.len().max(1) as f64
        );
        search_lines.push(cross_commune_search(pool, &samples, t, size).await?);
        if size == sizes[0] {
            // The scan pairs every household of the commune with its similar names: measured at
            // the first size, where a commune holds about what a real one does.
            let in_commune: i64 =
                sqlx::query_scalar("SELECT count(*) FROM households WHERE commune_code = $1")
                    .bind(commune)
                    .fetch_one(pool)
                    .await?;
            let t0 = Instant::now();
            let pairs = scan(pool, Some(commune), t, false).await?;
            scan_line = format!(
                "Full `dedupe scan` of commune {commune} ({in_commune} households, {size} in the district): {:.1} s, {} suspected pairs.",
                t0.elapsed().as_secs_f64(),
                pairs.len()
            );
        }
    }
    println!("\n{scan_line}");
    println!("\n{}", search_lines.join("\n"));
    Ok(())
}

/// The cross-commune search at this size: the whole search, and its name lookup by blocking keys
/// against the trigram lookup it replaced — time, names looked at, and recall: of the names the
/// trigram lookup finds that would be "probable" in one village (the same words, a middle name
/// missing, a typo in one word, or similarity ≥ the probable threshold), how many blocking finds.
async fn cross_commune_search(
    pool: &PgPool,
    samples: &[(String, String, String, Option<i32>)],
    t: crate::domain::duplicates::Thresholds,
    size: usize,
) -> anyhow::Result<String> {
    use crate::db::duplicates::{blocked_names, search, trigram_names};
    use crate::domain::duplicates::{NameMatch, compare_names};
    use crate::domain::text::normalize_name;
    let (mut whole, mut blocked_t, mut trigram_t) = (Vec::new(), Vec::new(), Vec::new());
    let (mut blocked_n, mut trigram_n, mut wanted, mut kept) = (0usize, 0usize, 0usize, 0usize);
    for (i, (_, _, name, _)) in samples.iter().enumerate() {
        // As people type a name to check: as registered, without diacritics, a letter dropped
        // from the given name, or the middle name left out.
        let words: Vec<&str> = name.split(' ').collect();
        let typed = match i % 4 {
            0 => name.clone(),
            1 => normalize_name(name),
            2 => {
                let mut w = words.clone();
                let last = w.pop().unwrap_or_default();
                let shorter: String = last.chars().skip(1).collect();
                format!("{} {shorter}", w.join(" "))
            }
            _ if words.len() >= 3 => format!("{} {}", words[0], words[words.len() - 1]),
            _ => name.clone(),
        };
        let key = normalize_name(&typed);
        let t0 = Instant::now();
        search(pool, &typed, t, None).await?;
        whole.push(t0.elapsed());
        let t0 = Instant::now();
        let blocked = blocked_names(pool, &key).await?;
        blocked_t.push(t0.elapsed());
        let t0 = Instant::now();
        let trigram = trigram_names(pool, &key, t.possible).await?;
        trigram_t.push(t0.elapsed());
        blocked_n += blocked.len();
        trigram_n += trigram.len();
        let blocked: std::collections::HashSet<&str> = blocked.iter().map(String::as_str).collect();
        for (k, _) in &trigram {
            let m = compare_names(&key, k);
            let probable = matches!(
                m,
                NameMatch::Same | NameMatch::MiddleDiffers | NameMatch::Typo
            );
            if probable {
                wanted += 1;
                kept += usize::from(blocked.contains(k.as_str()));
            }
        }
    }
    let n = samples.len().max(1) as f64;
    let (w50, w95, _) = percentiles(whole);
    let (b50, b95, _) = percentiles(blocked_t);
    let (g50, g95, _) = percentiles(trigram_t);
    Ok(format!(
        "| {size} | {w50:.1} | {w95:.1} | {b50:.2} / {b95:.2}, {:.0} | {g50:.2} / {g95:.2}, {:.0} | {kept} of {wanted} ({:.1} %) |",
        blocked_n as f64 / n,
        trigram_n as f64 / n,
        100.0 * kept as f64 / wanted.max(1) as f64
    ))
}

/// Add `n` synthetic households quickly, in SQL.
pub async fn fill(pool: &PgPool, n: usize) -> anyhow::Result<()> {
    let mut done = 0;
    while done < n {
        let batch = (n - done).min(200_000);
        sqlx::query(
            "WITH v AS (SELECT array_agg(id ORDER BY id) AS ids, array_agg(commune_code ORDER BY id) AS codes FROM villages),
                  names AS (SELECT $3::text[] AS s, $4::text[] AS m, $5::text[] AS g)
             INSERT INTO households (commune_code, village_id, head_name, birth_year, gender, ethnicity, members, status,
                 status_year, lacks_capital, lacks_technique, will_to_escape)
             SELECT v.codes[1 + (k % array_length(v.ids, 1))], v.ids[1 + (k % array_length(v.ids, 1))],
                    -- Each part drawn by its own hash of k: every combination occurs (the
                    -- strides used before repeated after ~6.700 names).
                    names.s[1 + abs(hashint8(k)::bigint) % array_length(names.s, 1)]
                        || ' ' || names.m[1 + abs(hashint8(k + 1000000000000)::bigint) % array_length(names.m, 1)]
                        || ' ' || names.g[1 + abs(hashint8(k + 2000000000000)::bigint) % array_length(names.g, 1)],
                    1940 + (k % 60), CASE WHEN k % 3 = 0 THEN 'female' ELSE 'male' END,
                    (ARRAY['tay','nung','dao','kinh'])[1 + k % 4], 1 + k % 7,
                    CASE WHEN k % 4 = 0 THEN 'near_poor' ELSE 'poor' END, 2024, k % 2 = 0, k % 5 = 0, k % 3 <> 0
             FROM generate_series($1::bigint, $2::bigint) AS k, v, names",
        )
        .bind((done + 10_000_000) as i64)
        .bind((done + 10_000_000 + batch - 1) as i64)
        .bind(SURNAMES)
        .bind(MIDDLES)
        .bind(GIVEN)
        .execute(pool)
        .await?;
        done += batch;
    }
    // As an import does: merge the name dictionary's pending index entries now, not at the next
    // vacuum.
    crate::db::merge_name_index_pending(pool).await?;
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(())
}

/// A synthetic phone photo of `w` × `h`: smooth light and colour with fine grain (what a camera
/// gives a field of grass or a cow's coat), saved as the camera would (JPEG quality 92).
fn phone_photo(w: u32, h: u32) -> Vec<u8> {
    use image::{DynamicImage, Rgb, RgbImage};
    let img = RgbImage::from_fn(w, h, |x, y| {
        let grain = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)).rotate_left(7) % 24;
        let fx = x as f32 / w as f32;
        let fy = y as f32 / h as f32;
        Rgb([
            (60.0 + 120.0 * fx + grain as f32) as u8,
            (110.0 + 80.0 * fy + grain as f32) as u8,
            (40.0 + 60.0 * (fx * fy) + grain as f32) as u8,
        ])
    });
    let mut out = Vec::new();
    let _ = DynamicImage::ImageRgb8(img).write_with_encoder(
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92),
    );
    out
}

async fn photos_bench(pool: &PgPool, n: usize) -> anyhow::Result<()> {
    sqlx::query("DROP TABLE IF EXISTS bench_photos")
        .execute(pool)
        .await?;
    // The same storage as the `photos` table (migration 0024).
    sqlx::raw_sql(
        "CREATE TABLE bench_photos (jpeg bytea NOT NULL, thumb bytea NOT NULL);
         ALTER TABLE bench_photos ALTER COLUMN jpeg SET STORAGE EXTERNAL;
         ALTER TABLE bench_photos ALTER COLUMN thumb SET STORAGE EXTERNAL;",
    )
    .execute(pool)
    .await?;
    println!(
        "| phone photo | file (KB) | per photo p50 (ms) | p95 (ms) | stored photo (KB) | thumbnail (KB) | in PostgreSQL (KB/photo) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (w, h, label) in [
        (4000u32, 3000u32, "12 MP (4000 × 3000)"),
        (4624, 3472, "16 MP (4624 × 3472)"),
        (1600, 1200, "2 MP (1600 × 1200)"),
    ] {
        let original = tokio::task::spawn_blocking(move || phone_photo(w, h)).await?;
        sqlx::query("TRUNCATE bench_photos").execute(pool).await?;
        let mut times = Vec::with_capacity(n);
        let mut last = None;
        for _ in 0..n {
            let bytes = original.clone();
            let t = Instant::now();
            let p = tokio::task::spawn_blocking(move || crate::photo::process("bench.jpg", &bytes))
                .await??;
            times.push(t.elapsed());
            sqlx::query("INSERT INTO bench_photos (jpeg, thumb) VALUES ($1, $2)")
                .bind(&p.jpeg)
                .bind(&p.thumb)
                .execute(pool)
                .await?;
            last = Some(p);
        }
        let stored: i64 = sqlx::query_scalar("SELECT pg_total_relation_size('bench_photos')")
            .fetch_one(pool)
            .await?;
        let p = last.ok_or_else(|| anyhow::anyhow!("không có ảnh nào"))?;
        let (p50, p95, _) = percentiles(times);
        println!(
            "| {label} | {} | {p50:.0} | {p95:.0} | {} | {:.1} | {:.0} |",
            original.len() / 1024,
            p.jpeg.len() / 1024,
            p.thumb.len() as f64 / 1024.0,
            stored as f64 / 1024.0 / n.max(1) as f64,
        );
    }
    sqlx::query("DROP TABLE bench_photos").execute(pool).await?;
    Ok(())
}
