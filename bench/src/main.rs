//! `giupdo-bench …`: benchmarks that print a table. They run in their own database
//! (`giupdo_bench`, recreated each time) inside the private cluster, never in the app's data.
//! A binary of its own, so the production `giupdo` holds no benchmark code.

mod duplicates;
mod load;
mod net;
mod photos;
mod registry;
mod reports;

use std::process::ExitCode;

use anyhow::bail;
use clap::{Parser, Subcommand};

use giupdo::config::DbSource;
use giupdo::pgcluster::Cluster;
use giupdo_bench::kit;

use kit::synthetic::fill;

#[derive(Debug, Parser)]
#[command(
    name = "giupdo-bench",
    version,
    about = "Đo hiệu năng giupdo, in bảng kết quả"
)]
struct Cli {
    /// Thư mục dữ liệu của PostgreSQL riêng (cơ sở dữ liệu giupdo_bench được tạo trong đó).
    #[arg(long, env = "GIUPDO_DATA_DIR", default_value = "data", global = true)]
    data_dir: std::path::PathBuf,

    #[command(subcommand)]
    what: BenchWhat,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let source = giupdo::cli::db_source(&cli.data_dir);
    giupdo::cli::block_on_main(run(&source, cli.what))
}

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

async fn run(source: &DbSource, what: BenchWhat) -> anyhow::Result<()> {
    let DbSource::Private(dir) = source else {
        bail!(
            "`giupdo-bench` chạy trong cụm PostgreSQL riêng (cơ sở dữ liệu giupdo_bench); hãy bỏ đặt DATABASE_URL."
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
        return crate::net::failover(&scratch, households, rate, seconds, kill_after).await;
    }
    let (guard, cluster) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let cluster = Cluster::new(dir)?;
        let (guard, _) = cluster.acquire()?;
        Ok((guard, cluster))
    })
    .await??;
    let admin = giupdo::db::pool_options()
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
    let pool = giupdo::db::pool_options()
        .max_connections(8)
        .connect(&cluster.url_for("giupdo_bench"))
        .await?;
    giupdo::db::migrate(&pool).await?;
    if !reuse {
        giupdo::demo::load(&pool).await?;
    }
    let result = match what {
        BenchWhat::Registry {
            households,
            import_rows,
            requests,
        } => registry::registry(&pool, households, import_rows, requests).await,
        BenchWhat::Load {
            users,
            seconds,
            households,
            compare_seconds,
            rates,
            open_seconds,
        } => {
            let url = cluster.url_for("giupdo_bench");
            let closed =
                load::load_bench(&url, &pool, users, seconds, households, compare_seconds).await;
            match closed {
                Ok(()) if open_seconds > 0 && !rates.is_empty() => {
                    let postmaster = postmaster_pid(&cluster);
                    crate::net::open_loop(&url, &pool, postmaster, users, &rates, open_seconds)
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
            crate::net::pooler(
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
        } => duplicates::duplicates_bench(&pool, &sizes, requests, &commune).await,
        BenchWhat::Export {
            users,
            seconds,
            rows,
        } => {
            load::export_bench(
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
        } => {
            reports::reports_bench(&pool, households, sponsorships, current, requests, reuse).await
        }
        BenchWhat::Photos { photos } => photos::photos_bench(&pool, photos).await,
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
