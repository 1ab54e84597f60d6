//! The private PostgreSQL cluster that giupdo runs when `DATABASE_URL` is unset.
//!
//! Layout under the data directory (default `./data`):
//! - `pg/`   the cluster itself (owned by the `postgres` user when we run as root),
//! - `run/`  the Unix socket directory: the cluster listens on no TCP port at all,
//! - `postgres.log`, the server log,
//! - `startup.lock` and `users.lock`, two lock files (`File::lock`, i.e. `flock`) that coordinate
//!   several giupdo processes.
//!
//! Lifecycle rule: every process that uses the cluster holds a shared lock on `users.lock`. A
//! process that *started* the cluster leaves a marker (`pg/giupdo-autostop`); when a process
//! finishes and can take the lock exclusively (nobody else uses the cluster) and the marker is
//! there, it stops the cluster. `giupdo db url` removes the marker so the cluster stays up for psql.
//! So a server never loses its database because a short CLI command ended.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use thiserror::Error;

/// Name of the database giupdo uses inside its private cluster.
pub const DB_NAME: &str = "giupdo";

#[derive(Debug, Error)]
pub enum ClusterError {
    #[error(
        "Không tìm thấy PostgreSQL (initdb, pg_ctl) trên máy này.\n\
         Cài đặt gói máy chủ PostgreSQL: trên Debian/Ubuntu `apt-get install postgresql postgresql-contrib`,\n\
         hoặc đặt biến DATABASE_URL trỏ tới một máy chủ PostgreSQL sẵn có \
         (ví dụ DATABASE_URL=postgres://user:pass@host/giupdo)."
    )]
    NoBinaries,
    #[error(
        "Người dùng hệ thống `postgres` không vào được thư mục dữ liệu {dir} \
         (thư mục {blocker} chỉ cho phép chủ sở hữu).\n\
         Khi chạy bằng root, PostgreSQL phải chạy dưới người dùng `postgres`. Hãy chọn một thư mục \
         mà `postgres` vào được, ví dụ:\n  mkdir -p /var/lib/giupdo && GIUPDO_DATA_DIR=/var/lib/giupdo giupdo serve\n\
         hoặc mở quyền đi qua thư mục cha: chmod o+x {blocker}"
    )]
    Unreachable { dir: PathBuf, blocker: PathBuf },
    #[error(
        "Khi chạy bằng root cần có người dùng hệ thống `postgres` (cài gói postgresql sẽ tạo người dùng này)."
    )]
    NoPostgresUser,
    #[error(
        "Đường dẫn socket quá dài ({len} ký tự, tối đa 100): {dir}. Hãy đặt GIUPDO_DATA_DIR ngắn hơn."
    )]
    SocketPathTooLong { dir: PathBuf, len: usize },
    #[error("Lệnh `{cmd}` thất bại: {detail}")]
    Command { cmd: String, detail: String },
    #[error("Lỗi tệp tại {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "Cụm PostgreSQL đang được một tiến trình giupdo khác sử dụng (ví dụ `giupdo serve`); không dừng."
    )]
    InUse,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ClusterError + '_ {
    move |source| ClusterError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The OS account that owns and runs the cluster.
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: u32,
    gid: u32,
}

/// A private cluster rooted at a data directory.
#[derive(Debug, Clone)]
pub struct Cluster {
    root: PathBuf,
    bindir: PathBuf,
    run_as: Option<RunAs>,
    /// Extra `postgresql.conf` lines written at init (the test harness turns fsync off).
    extra_conf: Vec<String>,
}

/// What `start` did, so the caller knows whether it owns the shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    ByUs,
    AlreadyRunning,
}

/// Holds the shared "I use the cluster" lock for as long as it lives.
#[derive(Debug)]
pub struct ClusterGuard {
    cluster: Cluster,
    users_lock: Option<File>,
}

impl Cluster {
    /// Prepare (but do not start) the cluster under `root`. Fails with a clear message when no
    /// PostgreSQL binaries exist, when root must delegate to a missing `postgres` user, or when
    /// that user cannot reach the directory.
    pub fn new(root: impl Into<PathBuf>) -> Result<Self, ClusterError> {
        let root = absolute(root.into())?;
        let bindir = find_bindir().ok_or(ClusterError::NoBinaries)?;
        let run_as = if nix::unistd::geteuid().is_root() {
            Some(postgres_account().ok_or(ClusterError::NoPostgresUser)?)
        } else {
            None
        };
        let sock = root.join("run").join(".s.PGSQL.5432");
        let len = sock.as_os_str().len();
        if len > 100 {
            return Err(ClusterError::SocketPathTooLong { dir: root, len });
        }
        let cluster = Cluster {
            root,
            bindir,
            run_as,
            extra_conf: Vec::new(),
        };
        if let Some(acct) = run_as {
            check_reachable(&cluster.root, acct)?;
        }
        Ok(cluster)
    }

    pub fn with_extra_conf(mut self, lines: &[&str]) -> Self {
        self.extra_conf = lines.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn pgdata(&self) -> PathBuf {
        self.root.join("pg")
    }
    pub fn socket_dir(&self) -> PathBuf {
        self.root.join("run")
    }
    fn log_file(&self) -> PathBuf {
        self.root.join("postgres.log")
    }
    fn autostop_marker(&self) -> PathBuf {
        self.pgdata().join("giupdo-autostop")
    }

    /// Connection URL for database `db` over the Unix socket.
    pub fn url_for(&self, db: &str) -> String {
        format!(
            "postgres://postgres@localhost/{db}?host={}",
            self.socket_dir().display()
        )
    }
    pub fn url(&self) -> String {
        self.url_for(DB_NAME)
    }

    pub fn is_initialized(&self) -> bool {
        self.pgdata().join("PG_VERSION").exists()
    }

    /// Whether a postmaster is serving this data directory right now.
    pub fn is_running(&self) -> bool {
        // `pg_ctl status` trusts any live PID in postmaster.pid; we also check that the PID is a
        // postgres process, so a PID reused by something else after a crash reads as "stopped".
        match self.postmaster_pid() {
            Some(pid) => process_is_postgres(pid, &self.pgdata()),
            None => false,
        }
    }

    fn postmaster_pid(&self) -> Option<i32> {
        let text = fs::read_to_string(self.pgdata().join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// Take the shared usage lock, initialise and start the cluster when needed, and make sure
    /// the giupdo database exists. The returned guard keeps the lock; see [`ClusterGuard::release`].
    pub fn acquire(&self) -> Result<(ClusterGuard, Started), ClusterError> {
        self.ensure_dirs()?;
        let users = open_lock(&self.root.join("users.lock"))?;
        users.lock_shared().map_err(io_err(&self.root))?;
        let guard = ClusterGuard {
            cluster: self.clone(),
            users_lock: Some(users),
        };
        let startup = open_lock(&self.root.join("startup.lock"))?;
        startup.lock().map_err(io_err(&self.root))?;
        let started = self.start_locked()?;
        self.ensure_database(DB_NAME)?;
        drop(startup);
        Ok((guard, started))
    }

    fn ensure_dirs(&self) -> Result<(), ClusterError> {
        fs::create_dir_all(&self.root).map_err(io_err(&self.root))?;
        for dir in [self.pgdata(), self.socket_dir()] {
            if !dir.exists() {
                fs::create_dir(&dir).map_err(io_err(&dir))?;
                fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
                    .map_err(io_err(&dir))?;
            }
            self.give_to_owner(&dir)?;
        }
        let log = self.log_file();
        if !log.exists() {
            File::create(&log).map_err(io_err(&log))?;
        }
        self.give_to_owner(&log)
    }

    fn give_to_owner(&self, path: &Path) -> Result<(), ClusterError> {
        if let Some(acct) = self.run_as {
            let meta = fs::metadata(path).map_err(io_err(path))?;
            if meta.uid() != acct.uid {
                std::os::unix::fs::chown(path, Some(acct.uid), Some(acct.gid))
                    .map_err(io_err(path))?;
            }
        }
        Ok(())
    }

    fn start_locked(&self) -> Result<Started, ClusterError> {
        if !self.is_initialized() {
            self.initdb()?;
        }
        if self.is_running() {
            return Ok(Started::AlreadyRunning);
        }
        self.clear_stale_locks();
        // Memory and checkpoint settings sized for this machine, given at every start so that
        // clusters made by an earlier version get them too.
        // JIT off: the reports' aggregates (0,1–2 s) spend ~250 ms compiling expressions they
        // run once (the multi-year view at 2.000.000 households: 1,62 s without JIT, 1,84–1,91 s
        // with it, in psql on the giupdo-bench reports data).
        let mut options = format!(
            "-c shared_buffers={}MB -c max_wal_size=4GB -c checkpoint_timeout=15min -c effective_cache_size={}MB -c jit=off",
            shared_buffers_mb(),
            shared_buffers_mb() * 3
        );
        // pg_stat_statements (PostgreSQL's contrib) is loaded when installed, so that an operator
        // or `giupdo-bench load` can see where the database's time goes; it costs little.
        if self.bindir.join("../lib/pg_stat_statements.so").is_file() {
            options.push_str(" -c shared_preload_libraries=pg_stat_statements");
        }
        // WAL archiving into the pgBackRest repository once `giupdo backup setup` configured one
        // (`pitr`): at every start, so no command starts this cluster without it. The paths were
        // checked to hold no space or quote when the file was written.
        let archiving = match crate::pitr::settings(&self.root) {
            Ok(Some(backups)) => {
                for (name, value) in crate::pitr::archive_settings(&backups) {
                    options.push_str(&format!(" -c \"{name}={value}\""));
                }
                true
            }
            _ => false,
        };
        self.pg_ctl(
            &["start", "-w", "-t", "60", "-o", &options, "-l"],
            Some(&self.log_file()),
        )?;
        if archiving {
            self.wake_checkpointer()?;
        }
        File::create(self.autostop_marker()).map_err(io_err(&self.autostop_marker()))?;
        Ok(Started::ByUs)
    }

    /// A crash can leave `postmaster.pid` (and the socket lock) behind, naming a PID that is now
    /// dead or belongs to another program; PostgreSQL refuses to start on the latter. We checked
    /// above that no postgres process owns it, so the files are stale.
    fn clear_stale_locks(&self) {
        let pidfile = self.pgdata().join("postmaster.pid");
        if pidfile.exists() {
            tracing::warn!("removing stale postmaster.pid left by a crashed run");
            let _ = fs::remove_file(&pidfile);
        }
        let socklock = self.socket_dir().join(".s.PGSQL.5432.lock");
        if socklock.exists() {
            let _ = fs::remove_file(&socklock);
            let _ = fs::remove_file(self.socket_dir().join(".s.PGSQL.5432"));
        }
    }

    fn initdb(&self) -> Result<(), ClusterError> {
        // A half-finished earlier initdb leaves files without PG_VERSION; initdb wants it empty.
        let pgdata = self.pgdata();
        if fs::read_dir(&pgdata)
            .map_err(io_err(&pgdata))?
            .next()
            .is_some()
        {
            for entry in fs::read_dir(&pgdata).map_err(io_err(&pgdata))?.flatten() {
                let p = entry.path();
                let _ = if p.is_dir() {
                    fs::remove_dir_all(&p)
                } else {
                    fs::remove_file(&p)
                };
            }
        }
        let out = self.run(
            Command::new(self.bindir.join("initdb"))
                .arg("-D")
                .arg(&pgdata)
                .args([
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--auth=trust",
                ]),
        )?;
        expect_success("initdb", out)?;
        let conf = pgdata.join("postgresql.conf");
        let mut f = OpenOptions::new()
            .append(true)
            .open(&conf)
            .map_err(io_err(&conf))?;
        let mut lines = vec![
            "# giupdo: private cluster, Unix socket only".to_string(),
            "listen_addresses = ''".to_string(),
            format!(
                "unix_socket_directories = '{}'",
                self.socket_dir().display()
            ),
            "unix_socket_permissions = 0700".to_string(),
            "max_connections = 200".to_string(),
            "timezone = 'Asia/Ho_Chi_Minh'".to_string(),
        ];
        lines.extend(self.extra_conf.iter().cloned());
        writeln!(f, "\n{}", lines.join("\n")).map_err(io_err(&conf))?;
        Ok(())
    }

    fn ensure_database(&self, name: &str) -> Result<(), ClusterError> {
        let out = self.psql(&format!(
            "SELECT 1 FROM pg_database WHERE datname = '{}'",
            name.replace('\'', "''")
        ))?;
        if out.trim() != "1" {
            self.psql(&format!("CREATE DATABASE \"{}\"", name.replace('"', "")))?;
        }
        Ok(())
    }

    /// Run one SQL statement as superuser through psql (used only for bootstrap).
    fn psql(&self, sql: &str) -> Result<String, ClusterError> {
        let psql = self.bindir.join("psql");
        let out = self.run(
            Command::new(psql)
                .args([
                    "-X",
                    "-q",
                    "-t",
                    "-A",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-U",
                    "postgres",
                    "-h",
                ])
                .arg(self.socket_dir())
                .args(["-d", "postgres", "-c", sql]),
        )?;
        let out = expect_success("psql", out)?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn pg_ctl(&self, args: &[&str], log: Option<&Path>) -> Result<(), ClusterError> {
        let mut cmd = Command::new(self.bindir.join("pg_ctl"));
        cmd.arg("-D").arg(self.pgdata()).args(args);
        if let Some(log) = log {
            cmd.arg(log);
        }
        let out = self.run(&mut cmd)?;
        expect_success("pg_ctl", out).map(|_| ())
    }

    fn run(&self, cmd: &mut Command) -> Result<Output, ClusterError> {
        if let Some(acct) = self.run_as {
            // std drops supplementary groups itself when root sets a uid.
            cmd.uid(acct.uid).gid(acct.gid);
        }
        cmd.current_dir(&self.root)
            .env_remove("PGDATA")
            .env_remove("PGHOST")
            .env("LC_ALL", "C.UTF-8");
        let name = cmd.get_program().to_string_lossy().into_owned();
        cmd.output().map_err(|e| ClusterError::Command {
            cmd: name,
            detail: e.to_string(),
        })
    }

    /// Reload the configuration once the server takes writes. PostgreSQL 15's checkpointer, which
    /// forces a WAL segment switch every `archive_timeout`, computes its first sleep while the
    /// server is still starting up, when it ignores `archive_timeout`: it then sleeps a whole
    /// `checkpoint_timeout` (15 minutes here) and the writes of those minutes would wait that long
    /// for the archive (found by the crash drill in tests/it/recovery.rs). A reload wakes it.
    pub fn wake_checkpointer(&self) -> Result<(), ClusterError> {
        self.pg_ctl(&["reload"], None)
    }

    /// Whether the server is still replaying WAL (after a restore), not yet taking writes.
    pub fn in_recovery(&self) -> Result<bool, ClusterError> {
        Ok(self.psql("SELECT pg_is_in_recovery()")?.trim() == "t")
    }

    /// Stop the server (fast shutdown), whoever started it.
    pub fn stop(&self) -> Result<(), ClusterError> {
        if self.is_running() {
            self.pg_ctl(&["stop", "-w", "-m", "fast"], None)?;
        }
        let _ = fs::remove_file(self.autostop_marker());
        Ok(())
    }

    /// Stop only when no giupdo process holds the usage lock (`giupdo db stop`).
    pub fn stop_if_unused(&self) -> Result<(), ClusterError> {
        self.ensure_dirs()?;
        let users = open_lock(&self.root.join("users.lock"))?;
        if users.try_lock().is_ok() {
            self.stop()
        } else {
            Err(ClusterError::InUse)
        }
    }

    /// Keep the cluster running after this process ends (for `giupdo db url`).
    pub fn keep_running(&self) {
        let _ = fs::remove_file(self.autostop_marker());
    }
}

impl ClusterGuard {
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// Give up our use of the cluster; stop it if it was auto-started and nobody else uses it.
    pub fn release(mut self) -> Result<bool, ClusterError> {
        let Some(lock) = self.users_lock.take() else {
            return Ok(false);
        };
        // Turning our shared lock into an exclusive one succeeds only if no one else holds it.
        if lock.try_lock().is_ok() && self.cluster.autostop_marker().exists() {
            self.cluster.stop()?;
            return Ok(true);
        }
        Ok(false)
    }
}

fn absolute(p: PathBuf) -> Result<PathBuf, ClusterError> {
    if p.is_absolute() {
        Ok(p)
    } else {
        let cwd = std::env::current_dir().map_err(io_err(&p))?;
        Ok(cwd.join(p))
    }
}

fn open_lock(path: &Path) -> Result<File, ClusterError> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io_err(path))
}

fn expect_success(name: &str, out: Output) -> Result<Output, ClusterError> {
    if out.status.success() {
        Ok(out)
    } else {
        let mut detail = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if detail.is_empty() {
            detail = String::from_utf8_lossy(&out.stdout).trim().to_string();
        }
        Err(ClusterError::Command {
            cmd: name.to_string(),
            detail,
        })
    }
}

/// A quarter of the machine's memory, between 128 MB and 2 GB.
fn shared_buffers_mb() -> u64 {
    let total_kb = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(512 * 1024);
    (total_kb / 1024 / 4).clamp(128, 2048)
}

/// Finds the directory holding `initdb` and `pg_ctl`: `pg_config --bindir`, then `PATH`, then the
/// highest version under `/usr/lib/postgresql/*/bin` (Debian keeps them off `PATH`).
pub fn find_bindir() -> Option<PathBuf> {
    find_bindir_in(
        Some(Path::new("pg_config")),
        std::env::var_os("PATH").as_deref(),
        Path::new("/usr/lib/postgresql"),
    )
}

/// [`find_bindir`] with its three sources given, so each can be tested.
pub fn find_bindir_in(
    pg_config: Option<&Path>,
    path: Option<&std::ffi::OsStr>,
    lib_root: &Path,
) -> Option<PathBuf> {
    let has_tools = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(pg_config) = pg_config
        && let Ok(out) = Command::new(pg_config).arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has_tools(&dir) {
            return Some(dir);
        }
    }
    if let Some(path) = path {
        for dir in std::env::split_paths(path) {
            if has_tools(&dir) {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir(lib_root)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            has_tools(&bin).then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, p)| p)
}

/// The (uid, gid) PostgreSQL's own programs (postgres, pgbouncer, pg_autoctl) must run as: the
/// `postgres` account when we are root (they refuse to run as root), else None (ourselves).
pub fn service_account() -> Option<(u32, u32)> {
    if !nix::unistd::geteuid().is_root() {
        return None;
    }
    postgres_account().map(|a| (a.uid, a.gid))
}

/// The `postgres` account, looked up with `getpwnam_r` (thread-safe: the app looks it up from
/// the blocking pool while other threads may too).
fn postgres_account() -> Option<RunAs> {
    let user = nix::unistd::User::from_name("postgres").ok()??;
    Some(RunAs {
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
    })
}

/// The `postgres` user must be able to traverse every ancestor of the data directory.
fn check_reachable(root: &Path, acct: RunAs) -> Result<(), ClusterError> {
    let mut blocker = None;
    for dir in root.ancestors() {
        let Ok(meta) = fs::metadata(dir) else {
            continue; // not created yet: create_dir_all will make it 0755
        };
        let mode = meta.mode();
        let ok = if meta.uid() == acct.uid {
            mode & 0o100 != 0
        } else if meta.gid() == acct.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !ok {
            blocker = Some(dir.to_path_buf());
        }
    }
    match blocker {
        Some(blocker) => Err(ClusterError::Unreachable {
            dir: root.to_path_buf(),
            blocker,
        }),
        None => Ok(()),
    }
}

/// A live postgres process serving `pgdata` (its command line names the directory).
fn process_is_postgres(pid: i32, pgdata: &Path) -> bool {
    use nix::errno::Errno;
    use nix::unistd::Pid;
    // Signal 0 asks whether the process exists; EPERM means it does, under another user.
    let alive = pid > 0
        && matches!(
            nix::sys::signal::kill(Pid::from_raw(pid), None),
            Ok(()) | Err(Errno::EPERM)
        );
    if !alive {
        return false;
    }
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let is_pg = args
        .first()
        .and_then(|a| {
            Path::new(std::str::from_utf8(a).ok()?)
                .file_name()?
                .to_str()
        })
        .is_some_and(|n| n == "postgres" || n == "postmaster");
    let dir = pgdata.as_os_str().as_encoded_bytes();
    is_pg && args.contains(&dir)
}
