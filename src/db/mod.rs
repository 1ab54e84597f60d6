//! Database access. One module per group of tables; functions that write take a
//! `&mut PgConnection` inside the caller's transaction plus the acting user, and write the audit
//! trail there too (see [`audit`]).

pub mod agencies;
pub mod audit;
pub mod campaign_rules;
pub mod campaigns;
pub mod codes;
pub mod constraints;
pub mod duplicates;
pub mod households;
pub mod import_batches;
pub mod login_attempts;
pub mod photos;
pub mod places;
pub mod profiles;
pub mod sponsorships;
pub mod stats;
pub mod targets;
pub mod users;

use std::time::Duration;

use anyhow::Context as _;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::config::DbSource;
use crate::pgcluster::{Cluster, ClusterGuard, Started};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// An open database: the pool, and the private cluster's usage guard when we run one.
pub struct Database {
    pub pool: PgPool,
    url: crate::config::Secret,
    guard: Option<ClusterGuard>,
    started_cluster: bool,
    /// With a list of servers: the task that points the pool at whichever takes writes.
    follower: Option<tokio::task::JoinHandle<()>>,
    /// Other pools the follower points at the primary along with `pool` (the session store's).
    companions: Companions,
}

type Companions = std::sync::Arc<std::sync::Mutex<Vec<PgPool>>>;

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
        let targets = targets::parse(&url).map_err(|e| anyhow::anyhow!(e))?;
        let companions = Companions::default();
        let mut tools_url = url.clone();
        let (pool, follower) = if targets.hosts.len() > 1 || targets.read_write {
            // A list of servers: start on the one that takes writes, then follow it.
            let primary = targets::find_primary(&targets, Duration::from_secs(5))
                .await
                .map_err(|e| anyhow::anyhow!(e))?;
            tracing::info!(server = %primary.label, "database primary");
            let pool = pool_options_for(true)
                .connect_with(primary.options.clone())
                .await
                .map_err(|e| {
                    anyhow::anyhow!("Không kết nối được cơ sở dữ liệu {}: {e}", primary.label)
                })?;
            // PostgreSQL's own tools (backup, restore) get the primary alone.
            tools_url = targets::with_single_host(&url, &primary.label);
            let follower = tokio::spawn(follow_primary(
                pool.clone(),
                companions.clone(),
                targets,
                primary.label,
            ));
            (pool, Some(follower))
        } else {
            let options = targets.hosts[0].options.clone();
            let pool = pool_options()
                .connect_with(options)
                .await
                .map_err(|e| anyhow::anyhow!("Không kết nối được cơ sở dữ liệu: {e}"))?;
            (pool, None)
        };
        Ok(Database {
            pool,
            url: crate::config::Secret::new(tools_url),
            guard,
            started_cluster: started,
            follower,
            companions,
        })
    }

    /// Keep another pool made from this one's options (the session store's) on the same server:
    /// when the follower moves `pool` to a new primary, it moves this one too.
    pub fn follow_also(&self, other: &PgPool) {
        if let Ok(mut list) = self.companions.lock() {
            list.push(other.clone());
        }
    }

    /// The URL the pool connects with (for PostgreSQL's own client tools); with a list of servers,
    /// the one that took writes when the database was opened.
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
        if let Some(follower) = &self.follower {
            follower.abort();
        }
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
    pool_options_for(false)
}

/// [`pool_options`]; with `read_write`, a new connection that lands on a standby is refused (it
/// would fail the first write), so that during a failover requests get the outage page until the
/// pool follows the new primary.
pub fn pool_options_for(read_write: bool) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(16)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(3))
        .test_before_acquire(true)
        // PostgreSQL's JIT compiles any query the planner costs above 100.000 — a report over a
        // campaign of 60.000 sponsorships — and spent 175 ms of a 270 ms query compiling it.
        // The app's queries are short and many; the compiler never pays for itself here.
        .after_connect(move |conn, _| {
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
                if read_write {
                    let standby: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
                        .persistent(false)
                        .fetch_one(&mut *conn)
                        .await?;
                    if standby {
                        return Err(sqlx::Error::Io(std::io::Error::other(
                            "the server is a standby (read-only)",
                        )));
                    }
                }
                Ok(())
            })
        })
}

/// With a list of servers: every second, ask the pool's server whether it still takes writes;
/// when it does not answer or has become a standby, ask every server of the list and point the
/// pool's new connections at the one that takes writes. Connections to the old server fail their
/// check before use and are dropped; meanwhile requests get the outage page (503).
async fn follow_primary(
    pool: PgPool,
    companions: Companions,
    targets: targets::Targets,
    mut current: String,
) {
    let check = Duration::from_secs(1);
    loop {
        tokio::time::sleep(check).await;
        if pool.is_closed() {
            return;
        }
        let healthy = tokio::time::timeout(
            Duration::from_secs(2),
            sqlx::query_scalar::<_, bool>("SELECT pg_is_in_recovery()").fetch_one(&pool),
        )
        .await;
        if matches!(healthy, Ok(Ok(false))) {
            continue;
        }
        match targets::find_primary(&targets, Duration::from_secs(2)).await {
            Ok(primary) if primary.label != current => {
                tracing::warn!(from = %current, to = %primary.label, "database primary changed; following it");
                if let Ok(list) = companions.lock() {
                    for other in list.iter() {
                        other.set_connect_options(primary.options.clone());
                    }
                }
                pool.set_connect_options(primary.options);
                current = primary.label;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "no database server takes writes yet"),
        }
    }
}

/// The session store's pool, beside the app's: the session lookup every signed-in request makes
/// does not queue behind the app's queries for a connection (under load it did: a signed-in page
/// with no query of its own went from 1.762 to 3.068 requests/s). Its writes — sign-in, sign-out,
/// flash messages — do not wait for the disk (`synchronous_commit = off`): a crash can lose the
/// last fraction of a second of them (a message unseen, a sign-in to repeat), never the app's data,
/// which keeps the durable pool. It connects where `main` connects now; with a list of servers,
/// [`Database::follow_also`] keeps it on the primary.
pub fn sessions_pool(main: &PgPool) -> PgPool {
    let options = (*main.connect_options()).clone();
    PgPoolOptions::new()
        .max_connections(8)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(3))
        .test_before_acquire(true)
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::Executor::execute(&mut *conn, "SET synchronous_commit = off").await?;
                Ok(())
            })
        })
        .connect_lazy_with(options)
}

/// One round trip to the server (the health check).
pub async fn ping(pool: &PgPool) -> sqlx::Result<()> {
    sqlx::query("SELECT 1").execute(pool).await.map(drop)
}

/// Apply every migration, including the session store's table.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .context("Không áp dụng được migration")?;
    tower_sessions_sqlx_store::PostgresStore::new(pool.clone())
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
