//! Real components in front of and beside PostgreSQL, started under a scratch directory for the
//! benchmarks and tests that prove the README's "beyond one machine" section: Debian's PgBouncer,
//! and pg_auto_failover (a monitor and two nodes, synchronous replication). Nothing is downloaded:
//! both come from Debian's packages (`pgbouncer`, `postgresql-15-auto-failover`).

use std::fs;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// A free TCP port on the loopback address (bound then released: the caller uses it at once).
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// A command run as PostgreSQL's service account when we are root, in its own process group (so
/// that one signal reaches every process it starts), with PostgreSQL's binaries on the PATH.
fn service_command(program: &Path) -> anyhow::Result<Command> {
    let mut cmd = Command::new(program);
    if let Some((uid, gid)) = crate::pgcluster::service_account() {
        cmd.uid(uid).gid(gid);
    }
    let bindir =
        crate::pgcluster::find_bindir().context("không tìm thấy PostgreSQL (initdb, pg_ctl)")?;
    let path = std::env::var("PATH").unwrap_or_default();
    cmd.env("PATH", format!("{}:{path}", bindir.display()))
        .env("PG_CONFIG", bindir.join("pg_config"))
        .env_remove("PGDATA")
        .env_remove("PGHOST")
        .env("LC_ALL", "C.UTF-8")
        .process_group(0)
        .stdin(Stdio::null());
    Ok(cmd)
}

/// A scratch directory the service account owns.
fn scratch_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("xoá {}", dir.display()))?;
    }
    fs::create_dir_all(dir).with_context(|| format!("tạo {}", dir.display()))?;
    if let Some((uid, gid)) = crate::pgcluster::service_account() {
        std::os::unix::fs::chown(dir, Some(uid), Some(gid))?;
    }
    Ok(())
}

fn find_program(name: &str, candidates: &[&str], package: &str) -> anyhow::Result<PathBuf> {
    for c in candidates {
        let p = Path::new(c);
        if p.is_file() {
            return Ok(p.to_path_buf());
        }
    }
    bail!("không tìm thấy {name}: apt-get install {package}")
}

/// SIGKILL a whole process group: a machine lost, as far as PostgreSQL can tell.
fn kill_group(pid: u32) {
    // SAFETY: kill has no memory-safety preconditions; a negative pid names the process group.
    unsafe {
        libc::kill(-(pid as i32), libc::SIGKILL);
    }
}

/// SIGKILL every process working in `dir` (its current directory is there or below): PostgreSQL's
/// processes each lead their own process group and run in their data directory, so a group kill
/// of the keeper leaves the postmaster's children (logger, background workers) behind.
fn kill_under(dir: &Path) {
    let Ok(procs) = fs::read_dir("/proc") else {
        return;
    };
    for entry in procs.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(cwd) = fs::read_link(entry.path().join("cwd"))
            && cwd.starts_with(dir)
        {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

/// How PgBouncer hands server connections to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolMode {
    Session,
    Transaction,
}

impl PoolMode {
    pub fn name(self) -> &'static str {
        match self {
            PoolMode::Session => "session",
            PoolMode::Transaction => "transaction",
        }
    }
}

/// Debian's PgBouncer on a Unix socket in a scratch directory, pooling one database of a server
/// reached on its own Unix socket.
pub struct PgBouncer {
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl PgBouncer {
    /// Write the configuration and start PgBouncer in front of `upstream_socket_dir`
    /// (`postgres` user, trust authentication on the local socket).
    pub fn start(
        dir: &Path,
        upstream_socket_dir: &Path,
        database: &str,
        mode: PoolMode,
        pool_size: u32,
    ) -> anyhow::Result<PgBouncer> {
        scratch_dir(dir)?;
        let port = free_port()?;
        let conf = format!(
            "[databases]\n\
             {database} = host={up} dbname={database} user=postgres\n\
             [pgbouncer]\n\
             listen_addr =\n\
             listen_port = {port}\n\
             unix_socket_dir = {dir}\n\
             auth_type = trust\n\
             auth_file = {dir}/users.txt\n\
             pool_mode = {mode}\n\
             default_pool_size = {pool_size}\n\
             max_client_conn = 500\n\
             server_reset_query = DISCARD ALL\n\
             ignore_startup_parameters = extra_float_digits,options\n\
             logfile = {dir}/pgbouncer.log\n\
             pidfile = {dir}/pgbouncer.pid\n",
            up = upstream_socket_dir.display(),
            dir = dir.display(),
            mode = mode.name(),
        );
        fs::write(dir.join("pgbouncer.ini"), conf)?;
        fs::write(dir.join("users.txt"), "\"postgres\" \"\"\n")?;
        let mut bouncer = PgBouncer {
            dir: dir.to_path_buf(),
            port,
            child: None,
        };
        bouncer.restart()?;
        Ok(bouncer)
    }

    /// Start (again) with the same configuration, and wait for its socket.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        let program = find_program(
            "pgbouncer",
            &["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"],
            "pgbouncer",
        )?;
        let child = service_command(&program)?
            .arg(self.dir.join("pgbouncer.ini"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("khởi động pgbouncer")?;
        self.child = Some(child);
        let socket = self.dir.join(format!(".s.PGSQL.{}", self.port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            if Instant::now() > deadline {
                let log = fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default();
                bail!("pgbouncer không mở socket trong 10 s:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Kill it (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group(child.id());
            let _ = child.wait();
        }
        let _ = fs::remove_file(self.dir.join(format!(".s.PGSQL.{}", self.port)));
        let _ = fs::remove_file(self.dir.join("pgbouncer.pid"));
    }

    /// The URL through the pooler, with extra query parameters (e.g. `statement-cache-capacity=0`).
    pub fn url(&self, database: &str, extra: &str) -> String {
        let mut url = format!(
            "postgres://postgres@localhost/{database}?host={}&port={}",
            self.dir.display(),
            self.port
        );
        if !extra.is_empty() {
            url.push('&');
            url.push_str(extra);
        }
        url
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// pg_auto_failover on this machine: a monitor and two PostgreSQL nodes, each its own
/// `pg_autoctl` process group, on loopback ports, with synchronous replication (the default of a
/// two-node formation: `synchronous_standby_names = 'ANY 1 (…)'`, `synchronous_commit = on`).
pub struct AutoFailover {
    dir: PathBuf,
    monitor_port: u16,
    pub ports: [u16; 2],
    monitor: Option<Child>,
    nodes: [Option<Child>; 2],
    pub database: String,
}

/// One node as the monitor sees it.
#[derive(Debug, Clone)]
pub struct NodeState {
    pub name: String,
    pub port: u16,
    pub reported: String,
    pub assigned: String,
}

impl AutoFailover {
    /// Create the monitor and both nodes under `dir` (emptied first) and wait until the second
    /// node is a synchronous secondary. Health checks are tightened so that a lost primary is
    /// noticed within seconds rather than the default 20 s.
    pub async fn create(dir: &Path, database: &str) -> anyhow::Result<AutoFailover> {
        scratch_dir(dir)?;
        let mut formation = AutoFailover {
            dir: dir.to_path_buf(),
            monitor_port: free_port()?,
            ports: [free_port()?, free_port()?],
            monitor: None,
            nodes: [None, None],
            database: database.to_string(),
        };
        let monitor = formation.spawn(
            "monitor",
            &[
                "create",
                "monitor",
                "--pgdata",
                &formation.path("monitor"),
                "--pgport",
                &formation.monitor_port.to_string(),
                "--hostname",
                "localhost",
                "--auth",
                "trust",
                "--no-ssl",
                "--run",
            ],
        )?;
        formation.monitor = Some(monitor);
        let admin = formation.monitor_url("postgres");
        formation
            .wait(Duration::from_secs(60), "monitor", || async {
                let mut c = sqlx::PgConnection::connect(&formation.monitor_url("pg_auto_failover"))
                    .await
                    .ok()?;
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM pgautofailover.formation")
                    .fetch_one(&mut c)
                    .await
                    .ok()
                    .filter(|n| *n > 0)
            })
            .await?;
        {
            let mut c = sqlx::PgConnection::connect(&admin).await?;
            for setting in [
                "pgautofailover.health_check_period = 1000",
                "pgautofailover.health_check_timeout = 1000",
                "pgautofailover.health_check_max_retries = 1",
                "pgautofailover.health_check_retry_delay = 500",
                "pgautofailover.node_considered_unhealthy_timeout = 3000",
                // A primary that stops answering is demoted by its own keeper after the keepers'
                // network_partition_timeout (set to 5 s below); the monitor waits this long
                // before it promotes the standby, so that two primaries never take writes.
                "pgautofailover.primary_demote_timeout = 8000",
            ] {
                sqlx::query(&format!("ALTER SYSTEM SET {setting}"))
                    .execute(&mut c)
                    .await?;
            }
            sqlx::query("SELECT pg_reload_conf()")
                .execute(&mut c)
                .await?;
        }
        formation.create_node(0)?;
        formation
            .wait(Duration::from_secs(90), "node1 primary", || async {
                let s = formation.states().await.ok()?;
                s.iter()
                    .any(|n| n.reported == "single" || n.reported == "wait_primary")
                    .then_some(())
            })
            .await?;
        formation.create_node(1)?;
        // The standby's base backup waits for a checkpoint on the primary: ask for one rather than
        // wait for the spread one.
        let primary_url = formation.node_url(0);
        formation
            .wait(Duration::from_secs(120), "node2 secondary", || async {
                if let Ok(mut c) = sqlx::PgConnection::connect(&primary_url).await {
                    let _ = sqlx::query("CHECKPOINT").execute(&mut c).await;
                }
                let s = formation.states().await.ok()?;
                (s.len() == 2
                    && s.iter().any(|n| n.reported == "primary")
                    && s.iter().any(|n| n.reported == "secondary"))
                .then_some(())
            })
            .await?;
        for name in ["node1", "node2"] {
            formation.ctl(&[
                "config",
                "set",
                "--pgdata",
                &formation.path(name),
                "timeout.network_partition_timeout",
                "5",
            ])?;
            formation.ctl(&["reload", "--pgdata", &formation.path(name)])?;
        }
        Ok(formation)
    }

    /// Run one pg_autoctl command to its end.
    fn ctl(&self, args: &[&str]) -> anyhow::Result<()> {
        let program = find_program(
            "pg_autoctl",
            &["/usr/bin/pg_autoctl"],
            "postgresql-15-auto-failover",
        )?;
        let out = service_command(&program)?
            .args(args)
            .current_dir(&self.dir)
            .env("HOME", &self.dir)
            .env("XDG_CONFIG_HOME", self.dir.join("config"))
            .env("XDG_DATA_HOME", self.dir.join("share"))
            .output()
            .context("pg_autoctl")?;
        if !out.status.success() {
            bail!(
                "pg_autoctl {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn spawn(&self, name: &str, args: &[&str]) -> anyhow::Result<Child> {
        let program = find_program(
            "pg_autoctl",
            &["/usr/bin/pg_autoctl"],
            "postgresql-15-auto-failover",
        )?;
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("{name}.log")))?;
        if let Some((uid, gid)) = crate::pgcluster::service_account() {
            std::os::unix::fs::chown(self.dir.join(format!("{name}.log")), Some(uid), Some(gid))?;
        }
        service_command(&program)?
            .args(args)
            .current_dir(&self.dir)
            .env("HOME", &self.dir)
            .env("XDG_CONFIG_HOME", self.dir.join("config"))
            .env("XDG_DATA_HOME", self.dir.join("share"))
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("khởi động pg_autoctl ({name})"))
    }

    fn create_node(&mut self, i: usize) -> anyhow::Result<()> {
        let name = format!("node{}", i + 1);
        let monitor = self.monitor_url("pg_auto_failover");
        let monitor = monitor.replace("postgres@", "autoctl_node@");
        let child = self.spawn(
            &name,
            &[
                "create",
                "postgres",
                "--pgdata",
                &self.path(&name),
                "--pgport",
                &self.ports[i].to_string(),
                "--hostname",
                "localhost",
                "--name",
                &name,
                "--monitor",
                &monitor,
                "--auth",
                "trust",
                "--no-ssl",
                "--dbname",
                &self.database,
                "--run",
            ],
        )?;
        self.nodes[i] = Some(child);
        Ok(())
    }

    /// Start a node's keeper again after [`kill_node`]: it rejoins (pg_rewind) as the standby.
    pub fn restart_node(&mut self, i: usize) -> anyhow::Result<()> {
        let name = format!("node{}", i + 1);
        let child = self.spawn(&name, &["run", "--pgdata", &self.path(&name)])?;
        self.nodes[i] = Some(child);
        Ok(())
    }

    /// SIGKILL a node's keeper, its supervisor, its postmaster and every backend at once: the
    /// machine is gone.
    pub fn kill_node(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].take() {
            kill_group(child.id());
            kill_under(&self.dir.join(format!("node{}", i + 1)));
            let _ = child.wait();
        }
    }

    fn monitor_url(&self, db: &str) -> String {
        format!(
            "postgres://postgres@localhost:{}/{db}?sslmode=disable",
            self.monitor_port
        )
    }

    /// A direct URL to one node.
    pub fn node_url(&self, i: usize) -> String {
        format!(
            "postgres://postgres@localhost:{}/{}?sslmode=disable",
            self.ports[i], self.database
        )
    }

    /// The URL the app uses: both nodes, and only the one that takes writes will do.
    pub fn app_url(&self) -> String {
        format!(
            "postgres://postgres@localhost:{},localhost:{}/{}?target_session_attrs=read-write&sslmode=disable",
            self.ports[0], self.ports[1], self.database
        )
    }

    /// The monitor's view of the nodes.
    pub async fn states(&self) -> anyhow::Result<Vec<NodeState>> {
        let mut c = sqlx::PgConnection::connect(&self.monitor_url("pg_auto_failover")).await?;
        let rows: Vec<(String, i32, String, String)> = sqlx::query_as(
            "SELECT nodename, nodeport, reportedstate::text, goalstate::text
             FROM pgautofailover.node ORDER BY nodeid",
        )
        .fetch_all(&mut c)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(name, port, reported, assigned)| NodeState {
                name,
                port: port as u16,
                reported,
                assigned,
            })
            .collect())
    }

    /// The node (0 or 1) the monitor reports as primary.
    pub async fn primary(&self) -> anyhow::Result<Option<usize>> {
        let states = self.states().await?;
        // A dead node's last report stays "primary": the monitor's assignment says who it is now.
        let writable = |s: &str| matches!(s, "single" | "primary" | "wait_primary");
        Ok(states
            .iter()
            .find(|n| writable(&n.reported) && writable(&n.assigned))
            .and_then(|n| self.ports.iter().position(|p| *p == n.port)))
    }

    /// Poll `check` every 250 ms until it gives a value, or fail after `limit` with the logs' tails.
    pub async fn wait<T, F, Fut>(
        &self,
        limit: Duration,
        what: &str,
        mut check: F,
    ) -> anyhow::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(v) = check().await {
                return Ok(v);
            }
            if Instant::now() > deadline {
                let mut tails = String::new();
                for name in ["monitor", "node1", "node2"] {
                    let log = fs::read_to_string(self.dir.join(format!("{name}.log")))
                        .unwrap_or_default();
                    let tail: Vec<&str> = log.lines().rev().take(8).collect();
                    tails.push_str(&format!("--- {name}.log\n"));
                    for l in tail.into_iter().rev() {
                        tails.push_str(l);
                        tails.push('\n');
                    }
                }
                bail!(
                    "pg_auto_failover: quá {} s chờ {what}\n{tails}",
                    limit.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Stop everything (SIGKILL: the scratch directory is thrown away).
    pub fn destroy(&mut self) {
        for i in 0..2 {
            self.kill_node(i);
        }
        if let Some(mut m) = self.monitor.take() {
            kill_group(m.id());
            let _ = m.wait();
        }
        kill_under(&self.dir);
        let _ = fs::remove_dir_all(&self.dir);
    }
}

impl Drop for AutoFailover {
    fn drop(&mut self) {
        self.destroy();
    }
}

use sqlx::Connection as _;

/// What one failover under load showed.
#[derive(Debug)]
pub struct FailoverReport {
    /// Creating the formation (monitor, two nodes, the standby's base backup).
    pub setup: Duration,
    pub outcome: crate::loadtest::Outcome,
    /// When the primary was killed, since the load started.
    pub killed_at: Duration,
    /// From the kill to the first success after the last failed request (zero: nothing failed).
    pub back_after: Duration,
    /// Requests that failed, those answered with the Vietnamese outage page (503), the rest.
    pub failed: u64,
    pub outage_pages: u64,
    pub other_errors: u64,
    /// Pledges the app acknowledged (303), and of them those missing on the new primary and on the
    /// old one once it has rejoined as the standby.
    pub acknowledged: usize,
    pub lost_on_primary: usize,
    pub lost_on_standby: usize,
    /// Pledges left half-written (without support lines or audit row).
    pub half_written: i64,
    /// From restarting the killed node's keeper to its being the standby again.
    pub rejoined_after: Option<Duration>,
    pub old_primary: usize,
    pub new_primary: usize,
    /// What the app says when started on the standby alone (`target_session_attrs=read-write`).
    pub standby_refused: String,
    /// The size of a `giupdo backup` taken through the host list after the failover.
    pub backup_bytes: u64,
}

/// Set up pg_auto_failover under `dir`, load the demo data (plus `households`), run the load mix
/// open-loop at `rate` requests/s for `seconds` through the app (pool on the multi-host URL), kill
/// the primary node with SIGKILL after `kill_after`, then restart it and wait for it to rejoin as
/// the standby; count what failed and check every acknowledged pledge on both nodes.
pub async fn failover_run(
    dir: &Path,
    households: usize,
    rate: f64,
    seconds: u64,
    kill_after: Duration,
) -> anyhow::Result<FailoverReport> {
    use crate::loadtest;
    let t = Instant::now();
    let mut formation = AutoFailover::create(dir, "giupdo").await?;
    let setup = t.elapsed();
    let database = crate::db::Database::open(&crate::config::DbSource::Url(
        crate::config::Secret::new(formation.app_url()),
    ))
    .await?;
    let pool = database.pool.clone();
    crate::db::migrate(&pool).await?;
    crate::demo::load(&pool).await?;
    if households > 0 {
        crate::bench::fill(&pool, households).await?;
    }
    let plan = loadtest::prepare(&pool, 20).await?;
    let state = crate::web::AppState::new(pool.clone(), crate::config::WebConfig::default());
    database.follow_also(&state.sessions);
    let (base, server) = crate::bench::serve_state(state).await?;
    let since = chrono::Utc::now();
    let old = formation
        .primary()
        .await?
        .context("pg_auto_failover: không có máy chính")?;
    let run = {
        let base = base.clone();
        let plan = plan.clone();
        tokio::spawn(async move {
            loadtest::run_open(&base, &plan, 20, rate, Duration::from_secs(seconds)).await
        })
    };
    tokio::time::sleep(kill_after).await;
    let killed = Instant::now();
    formation.kill_node(old);
    let outcome = run.await??;
    let start = outcome.started.unwrap_or(killed);
    let killed_at = killed.saturating_duration_since(start);
    let last_failure = outcome
        .timeline
        .iter()
        .filter(|(at, ok)| !ok && *at >= killed_at)
        .map(|(at, _)| *at)
        .next_back();
    let back_after = match last_failure {
        Some(last) => outcome
            .timeline
            .iter()
            .find(|(at, ok)| *ok && *at > last)
            .map(|(at, _)| at.saturating_sub(killed_at))
            .unwrap_or(Duration::from_secs(seconds)),
        None => Duration::ZERO,
    };
    let failed = outcome.error_count();
    let outage_pages = outcome.outage_pages;
    server.abort();

    let new = formation
        .wait(
            Duration::from_secs(60),
            "máy dự phòng lên làm máy chính",
            || async {
                formation
                    .primary()
                    .await
                    .ok()
                    .flatten()
                    .filter(|p| *p != old)
            },
        )
        .await?;
    // The old primary comes back: its keeper rewinds it and it follows the new one.
    let t = Instant::now();
    formation.restart_node(old)?;
    let old_port = formation.ports[old];
    let rejoined_after = formation
        .wait(
            Duration::from_secs(180),
            "máy chính cũ quay lại làm máy dự phòng",
            || async {
                let s = formation.states().await.ok()?;
                s.iter()
                    .any(|n| n.port == old_port && n.reported == "secondary")
                    .then_some(())
            },
        )
        .await
        .ok()
        .map(|()| t.elapsed());

    let acknowledged = outcome.acknowledged.clone();
    let mut primary = sqlx::PgConnection::connect(&formation.node_url(new)).await?;
    let on_primary = stored_pledges(&mut primary, &acknowledged, since).await?;
    let half_written = loadtest::half_written(&pool, since).await?;
    let lost_on_standby = if rejoined_after.is_some() {
        // Read on the standby once it has replayed everything the primary has written.
        let target: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
            .fetch_one(&mut primary)
            .await?;
        let mut standby = sqlx::PgConnection::connect(&formation.node_url(old)).await?;
        formation
            .wait(
                Duration::from_secs(30),
                "máy dự phòng phát lại WAL",
                || {
                    let target = target.clone();
                    let url = formation.node_url(old);
                    async move {
                        let mut c = sqlx::PgConnection::connect(&url).await.ok()?;
                        sqlx::query_scalar::<_, bool>(
                            "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn",
                        )
                        .bind(target)
                        .fetch_one(&mut c)
                        .await
                        .ok()
                        .filter(|b| *b)
                    }
                },
            )
            .await?;
        acknowledged.len() - stored_pledges(&mut standby, &acknowledged, since).await?
    } else {
        acknowledged.len()
    };
    database.close().await?;
    // `giupdo backup` opens the database as the nightly timer does, on the same host list: the
    // dump comes from the server that takes writes now.
    let backup_bytes = {
        let db = crate::db::Database::open(&crate::config::DbSource::Url(
            crate::config::Secret::new(formation.app_url()),
        ))
        .await?;
        let target = crate::backup::Target::from_url(db.url().expose())?;
        let file =
            std::env::temp_dir().join(format!("giupdo-failover-{}.dump", uuid::Uuid::new_v4()));
        let f = file.clone();
        let bytes = tokio::task::spawn_blocking(move || crate::backup::backup(&target, &f)).await?;
        let _ = fs::remove_file(&file);
        db.close().await?;
        bytes?
    };
    let standby_only = format!(
        "postgres://postgres@localhost:{}/{}?target_session_attrs=read-write&sslmode=disable",
        formation.ports[old], formation.database
    );
    let standby_refused = match crate::db::Database::open(&crate::config::DbSource::Url(
        crate::config::Secret::new(standby_only),
    ))
    .await
    {
        Ok(db) => {
            db.close().await?;
            "mở được: máy dự phòng bị coi là máy chính".to_string()
        }
        Err(e) => e.to_string(),
    };
    formation.destroy();
    Ok(FailoverReport {
        setup,
        killed_at,
        back_after,
        failed,
        outage_pages,
        other_errors: failed - outage_pages.min(failed),
        lost_on_primary: acknowledged.len() - on_primary,
        acknowledged: acknowledged.len(),
        lost_on_standby,
        half_written,
        rejoined_after,
        old_primary: old,
        new_primary: new,
        standby_refused,
        backup_bytes,
        outcome,
    })
}

/// How many of these households have a pledge, with its support lines, made since `since`.
async fn stored_pledges(
    conn: &mut sqlx::PgConnection,
    households: &[uuid::Uuid],
    since: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<usize> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT s.household_id) FROM sponsorships s
         WHERE s.household_id = ANY($1) AND s.created_at >= $2
           AND EXISTS (SELECT 1 FROM support_lines l WHERE l.sponsorship_id = s.id)",
    )
    .bind(households)
    .bind(since)
    .fetch_one(conn)
    .await?;
    Ok(n as usize)
}
