//! Database access. One module per group of tables; functions that write take a
//! `&mut PgConnection` inside the caller's transaction plus the acting user, and write the audit
//! trail there too (see [`audit`]).

pub mod agencies;
pub mod audit;
pub mod campaigns;
pub mod duplicates;
pub mod households;
pub mod import_batches;
pub mod login_attempts;
pub mod places;
pub mod sponsorships;
pub mod stats;
pub mod users;

use std::time::Duration;

use anyhow::Context as _;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::config::DbSource;
use crate::pgcluster::{Cluster, ClusterGuard, Started};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// An open database: the pool, and the private cluster's usage guard when we run one.
pub struct Database {
    pub pool: PgPool,
    url: crate::config::Secret,
    guard: Option<ClusterGuard>,
    started_cluster: bool,
}

impl Database {
    /// Open the configured database, starting the private cluster when needed.
    pub async fn open(source: &DbSource) -> anyhow::Result<Database> {
        let (url, guard, started) = match source {
            DbSource::Url(url) => (url.expose().to_string(), None, false),
            DbSource::Private(dir) => {
                let dir = dir.clone();
                let (guard, started) = tokio::task::spawn_blocking(move || {
                    let cluster = Cluster::new(dir)?;
                    cluster.acquire()
                })
                .await??;
                (guard.cluster().url(), Some(guard), started == Started::ByUs)
            }
        };
        let options: PgConnectOptions = url
            .parse()
            .context("DATABASE_URL không hợp lệ (dạng postgres://user:pass@host/db)")?;
        let pool = pool_options()
            .connect_with(options)
            .await
            .map_err(|e| anyhow::anyhow!("Không kết nối được cơ sở dữ liệu: {e}"))?;
        Ok(Database {
            pool,
            url: crate::config::Secret::new(url),
            guard,
            started_cluster: started,
        })
    }

    /// The URL the pool connects with (for PostgreSQL's own client tools).
    pub fn url(&self) -> &crate::config::Secret {
        &self.url
    }

    /// Whether this process started the private cluster (it will stop it on close).
    pub fn started_cluster(&self) -> bool {
        self.started_cluster
    }

    pub fn cluster(&self) -> Option<&Cluster> {
        self.guard.as_ref().map(|g| g.cluster())
    }

    /// Close the pool, then release the private cluster (stopping it if we started it and
    /// no other giupdo process uses it).
    pub async fn close(self) -> anyhow::Result<()> {
        self.pool.close().await;
        if let Some(guard) = self.guard {
            tokio::task::spawn_blocking(move || guard.release()).await??;
        }
        Ok(())
    }
}

/// Pool settings shared by the app and the tests. A short acquire timeout turns a database
/// outage into a quick 503 rather than a hung request; `test_before_acquire` drops connections
/// that died with the server, so service resumes by itself when it comes back.
pub fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(16)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(3))
        .test_before_acquire(true)
        // PostgreSQL's JIT compiles any query the planner costs above 100.000 — a report over a
        // campaign of 60.000 sponsorships — and spent 175 ms of a 270 ms query compiling it.
        // The app's queries are short and many; the compiler never pays for itself here.
        .after_connect(|conn, _| {
            Box::pin(async move {
                // Requests run side by side on two cores; a query forking parallel workers
                // competes with the others rather than finishing sooner.
                // Prepared statements keep PostgreSQL's default plan caching: after five runs a
                // statement may switch to a generic plan, which saves planning on every request
                // (a fifth of the load test's throughput). The queries whose best plan depends on
                // their parameters — the optional filters `($n IS NULL OR …)` of the reports, the
                // audit trail and the quota list — are sent unprepared
                // (`persistent(false)`) and planned for their values each time: a generic plan
                // for "some campaign, some commune" made the report page three times slower.
                sqlx::Executor::execute(
                    &mut *conn,
                    "SET jit = off; SET max_parallel_workers_per_gather = 0",
                )
                .await?;
                Ok(())
            })
        })
}

/// Apply every migration, including the session store's table.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .context("Không áp dụng được migration")?;
    crate::web::session_store(pool.clone())
        .migrate()
        .await
        .context("Không tạo được bảng phiên đăng nhập")?;
    Ok(())
}

/// Merge the pending entries of the name dictionaries' GIN indexes (`name_keys`, and each
/// partition of `commune_name_keys`) into the indexes. New names wait in those lists until a
/// vacuum, and every search reads the lists whole: after a bulk insert, merge them at once.
pub async fn merge_name_index_pending(pool: &PgPool) -> sqlx::Result<()> {
    sqlx::query(
        "SELECT gin_clean_pending_list(i.indexrelid)
         FROM pg_index i
         JOIN pg_class t ON t.oid = i.indrelid
         JOIN pg_class ix ON ix.oid = i.indexrelid AND ix.relkind = 'i'
         JOIN pg_am am ON am.oid = ix.relam AND am.amname = 'gin'
         WHERE t.relname = 'name_keys' OR t.relname LIKE 'commune\\_name\\_keys\\_%'",
    )
    .execute(pool)
    .await?;
    Ok(())
}
