//! pg_auto_failover started under a scratch directory: a monitor and two nodes.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use sqlx::Connection as _;

use super::{find_program, free_port, kill_group, kill_under, scratch_dir, service_command};

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
            for statement in [
                "ALTER SYSTEM SET pgautofailover.health_check_period = 1000",
                "ALTER SYSTEM SET pgautofailover.health_check_timeout = 1000",
                "ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1",
                "ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500",
                "ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 3000",
                // A primary that stops answering is demoted by its own keeper after the keepers'
                // network_partition_timeout (set to 5 s below); the monitor waits this long
                // before it promotes the standby, so that two primaries never take writes.
                "ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 8000",
            ] {
                sqlx::query(statement).execute(&mut c).await?;
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

    /// `pg_autoctl` as the service account, with this formation's directory as its home (its
    /// configuration and state live there).
    fn autoctl(&self, args: &[&str]) -> anyhow::Result<Command> {
        let program = find_program(
            "pg_autoctl",
            &["/usr/bin/pg_autoctl"],
            "postgresql-15-auto-failover",
        )?;
        let mut cmd = service_command(&program)?;
        cmd.args(args)
            .current_dir(&self.dir)
            .env("HOME", &self.dir)
            .env("XDG_CONFIG_HOME", self.dir.join("config"))
            .env("XDG_DATA_HOME", self.dir.join("share"));
        Ok(cmd)
    }

    /// Run one pg_autoctl command to its end.
    fn ctl(&self, args: &[&str]) -> anyhow::Result<()> {
        let out = self.autoctl(args)?.output().context("pg_autoctl")?;
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

    /// Start a long-running pg_autoctl (`create … --run`, `run`), its output to `NAME.log`.
    fn spawn(&self, name: &str, args: &[&str]) -> anyhow::Result<Child> {
        let path = self.dir.join(format!("{name}.log"));
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        if let Some((uid, gid)) = giupdo::pgcluster::service_account() {
            std::os::unix::fs::chown(&path, Some(uid), Some(gid))?;
        }
        self.autoctl(args)?
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
