//! Real components in front of and beside PostgreSQL, started under a scratch directory for the
//! benchmarks and tests that prove the deployment guide (docs/deployment.md): Debian's PgBouncer,
//! and pg_auto_failover (a monitor and two nodes, synchronous replication). Nothing is downloaded:
//! both come from Debian's packages (`pgbouncer`, `postgresql-15-auto-failover`).
//! [`AutoFailover`] is in `auto_failover.rs`, the measured failover under load in `failover.rs`.

mod auto_failover;

pub use auto_failover::{AutoFailover, NodeState};

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
    if let Some((uid, gid)) = giupdo::pgcluster::service_account() {
        cmd.uid(uid).gid(gid);
    }
    let bindir =
        giupdo::pgcluster::find_bindir().context("không tìm thấy PostgreSQL (initdb, pg_ctl)")?;
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
    if let Some((uid, gid)) = giupdo::pgcluster::service_account() {
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
