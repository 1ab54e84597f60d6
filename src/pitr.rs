//! Point-in-time recovery with pgBackRest (Debian's `pgbackrest`): continuous WAL archiving into
//! a repository directory (a second disk or a mounted share), a weekly full and a daily
//! differential backup, retention, and a restore to a moment ("2026-12-04 16:59") or to the newest
//! archived point.
//!
//! The configuration is one file beside the data, `<data dir>/pgbackrest.conf`, written by
//! `giupdo backup setup --repo DIR`. For the private cluster, [`crate::pgcluster`] turns WAL
//! archiving on at every start when that file is there, so no command can start the cluster
//! without it. For a `DATABASE_URL` server (Debian's PostgreSQL on the same machine), setup is
//! given the server's data directory and prints the three `postgresql.conf` lines to add; the
//! commands then run as the `postgres` account, which can read that directory.
//!
//! What the operator sees is Vietnamese; what pgBackRest says is passed on when it fails.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::{DateTime, FixedOffset, Utc};

use crate::pgcluster::Cluster;

/// The pgBackRest stanza: the one database cluster this repository backs up.
pub const STANZA: &str = "giupdo";
/// The configuration file's name in the data directory.
pub const CONF_FILE: &str = "pgbackrest.conf";
/// A WAL segment is archived at least this often when anything was written (`archive_timeout`):
/// the most a lost disk can take with it.
pub const DEFAULT_ARCHIVE_TIMEOUT: u32 = 60;
/// A full backup when the newest is older than this; a differential one otherwise.
const FULL_EVERY: chrono::Duration = chrono::Duration::days(7);
/// Full backups kept (with the WAL they need): four weeks of points to go back to.
const FULL_KEEP: u32 = 4;
/// Differential backups kept.
const DIFF_KEEP: u32 = 7;
const MARK: &str = "# giupdo-archive-timeout=";

/// Where the database lives, as pgBackRest must be told.
#[derive(Debug, Clone)]
pub struct Node {
    /// The data directory (`pg1-path`).
    pub pgdata: PathBuf,
    /// The Unix socket directory (`pg1-socket-path`) and port.
    pub socket_dir: PathBuf,
    pub port: u16,
    /// The private cluster, when it is ours to stop and start.
    pub cluster: Option<Cluster>,
}

impl Node {
    pub fn private(cluster: &Cluster) -> Node {
        Node {
            pgdata: cluster.pgdata(),
            socket_dir: cluster.socket_dir(),
            port: 5432,
            cluster: Some(cluster.clone()),
        }
    }
}

/// The settings read back from the configuration file.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub conf: PathBuf,
    pub repo: PathBuf,
    pub archive_timeout: u32,
}

/// The configuration of the data directory `root`, when backups were set up there.
pub fn settings(root: &Path) -> anyhow::Result<Option<Settings>> {
    let conf = root.join(CONF_FILE);
    let text = match fs::read_to_string(&conf) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("không đọc được {}", conf.display())),
    };
    let repo = text
        .lines()
        .find_map(|l| l.strip_prefix("repo1-path="))
        .map(PathBuf::from)
        .with_context(|| format!("{} không có repo1-path", conf.display()))?;
    let archive_timeout = text
        .lines()
        .find_map(|l| l.strip_prefix(MARK))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_ARCHIVE_TIMEOUT);
    Ok(Some(Settings {
        conf,
        repo,
        archive_timeout,
    }))
}

/// The `postgresql.conf` settings that archive every WAL segment into the repository.
pub fn archive_settings(s: &Settings) -> Vec<(String, String)> {
    vec![
        ("archive_mode".into(), "on".into()),
        (
            "archive_command".into(),
            format!(
                "{} --config={} --stanza={STANZA} archive-push %p",
                program().display(),
                s.conf.display()
            ),
        ),
        ("archive_timeout".into(), format!("{}s", s.archive_timeout)),
    ]
}

/// pgBackRest itself: Debian installs it in /usr/bin.
fn program() -> PathBuf {
    ["/usr/bin/pgbackrest", "/usr/local/bin/pgbackrest"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("pgbackrest"))
}

/// pgBackRest is installed, or the line that installs it.
pub fn require_program() -> anyhow::Result<()> {
    match Command::new(program()).arg("version").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => {
            bail!("Chưa có pgBackRest trên máy này. Cài bằng: apt-get install pgbackrest (Debian).")
        }
    }
}

/// A path that goes into `archive_command` unquoted: no space, quote or `%`.
fn plain_path(p: &Path, what: &str) -> anyhow::Result<()> {
    let s = p.to_string_lossy();
    if s.chars()
        .any(|c| c.is_whitespace() || "'\"%\\$`".contains(c))
    {
        bail!(
            "Đường dẫn {what} “{s}” có dấu cách, dấu nháy hoặc %: hãy chọn một đường dẫn không có các ký tự ấy."
        );
    }
    Ok(())
}

/// The (uid, gid) pgBackRest runs as: the `postgres` account when we are root.
fn owner() -> Option<(u32, u32)> {
    crate::pgcluster::service_account()
}

fn make_dir(dir: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("không tạo được thư mục {}", dir.display()))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o750))
        .with_context(|| format!("không đặt được quyền cho {}", dir.display()))?;
    if let Some((uid, gid)) = owner() {
        std::os::unix::fs::chown(dir, Some(uid), Some(gid))
            .with_context(|| format!("không giao được {} cho tài khoản postgres", dir.display()))?;
    }
    Ok(())
}

/// Write the configuration for `node` with its repository at `repo`.
pub fn write_conf(
    root: &Path,
    node: &Node,
    repo: &Path,
    archive_timeout: u32,
) -> anyhow::Result<Settings> {
    if !(1..=3600).contains(&archive_timeout) {
        bail!("--archive-timeout phải từ 1 đến 3600 giây (mặc định 60).");
    }
    let root = std::path::absolute(root)?;
    let repo = std::path::absolute(repo)?;
    plain_path(&root, "thư mục dữ liệu")?;
    plain_path(&repo, "kho sao lưu")?;
    if repo.starts_with(&node.pgdata) {
        bail!("Kho sao lưu không được nằm trong thư mục dữ liệu của PostgreSQL.");
    }
    make_dir(&repo)?;
    let work = root.join("pgbackrest");
    for d in [work.join("log"), work.join("lock"), work.join("spool")] {
        make_dir(&work)?;
        make_dir(&d)?;
    }
    let text = format!(
        "# giupdo: pgBackRest for this data directory (written by `giupdo backup setup`).\n\
         {MARK}{archive_timeout}\n\
         [global]\n\
         repo1-path={repo}\n\
         repo1-retention-full={FULL_KEEP}\n\
         repo1-retention-diff={DIFF_KEEP}\n\
         log-path={log}\n\
         lock-path={lock}\n\
         spool-path={spool}\n\
         log-level-console=warn\n\
         log-level-file=info\n\
         start-fast=y\n\
         process-max=2\n\
         \n\
         [{STANZA}]\n\
         pg1-path={pgdata}\n\
         pg1-socket-path={socket}\n\
         pg1-port={port}\n\
         pg1-user=postgres\n",
        repo = repo.display(),
        log = work.join("log").display(),
        lock = work.join("lock").display(),
        spool = work.join("spool").display(),
        pgdata = node.pgdata.display(),
        socket = node.socket_dir.display(),
        port = node.port,
    );
    let conf = root.join(CONF_FILE);
    fs::write(&conf, text).with_context(|| format!("không ghi được {}", conf.display()))?;
    fs::set_permissions(&conf, fs::Permissions::from_mode(0o640))?;
    if let Some((uid, gid)) = owner() {
        std::os::unix::fs::chown(&conf, Some(uid), Some(gid))?;
    }
    Ok(Settings {
        conf,
        repo,
        archive_timeout,
    })
}

/// Run one pgBackRest command as the account that owns the data; its output, or its message.
fn pgbackrest(s: &Settings, args: &[&str]) -> anyhow::Result<Output> {
    let mut cmd = Command::new(program());
    cmd.arg(format!("--config={}", s.conf.display()))
        .arg(format!("--stanza={STANZA}"))
        .args(args)
        .env("LC_ALL", "C.UTF-8")
        .env_remove("PGHOST")
        .env_remove("PGDATA");
    if let Some((uid, gid)) = owner() {
        cmd.uid(uid).gid(gid);
    }
    if let Some(dir) = s.conf.parent() {
        cmd.current_dir(dir);
    }
    let out = cmd
        .output()
        .context("không chạy được pgbackrest (apt-get install pgbackrest)")?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        bail!(
            "pgbackrest {} không thành công: {}",
            args.last().copied().unwrap_or(""),
            said.trim()
        );
    }
    Ok(out)
}

/// One backup in the repository.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupInfo {
    pub label: String,
    /// "full" or "diff" (or "incr").
    pub kind: String,
    pub started: DateTime<Utc>,
    pub stopped: DateTime<Utc>,
    /// Bytes in the repository (compressed).
    pub repo_size: u64,
}

/// What the repository holds.
#[derive(Debug, Clone, Default)]
pub struct RepoInfo {
    pub backups: Vec<BackupInfo>,
    /// The oldest and newest WAL segment archived.
    pub archive_min: Option<String>,
    pub archive_max: Option<String>,
}

/// `pgbackrest info` of the stanza, read from its JSON.
pub fn info(s: &Settings) -> anyhow::Result<RepoInfo> {
    let out = pgbackrest(s, &["--output=json", "info"])?;
    parse_info(&out.stdout)
}

fn parse_info(json: &[u8]) -> anyhow::Result<RepoInfo> {
    let v: serde_json::Value =
        serde_json::from_slice(json).context("pgbackrest info trả về JSON không đọc được")?;
    let Some(stanza) = v
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == STANZA))
    else {
        return Ok(RepoInfo::default());
    };
    let at = |x: &serde_json::Value| {
        x.as_i64()
            .and_then(|t| DateTime::<Utc>::from_timestamp(t, 0))
            .unwrap_or_default()
    };
    let backups = stanza["backup"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|b| BackupInfo {
                    label: b["label"].as_str().unwrap_or_default().to_string(),
                    kind: b["type"].as_str().unwrap_or_default().to_string(),
                    started: at(&b["timestamp"]["start"]),
                    stopped: at(&b["timestamp"]["stop"]),
                    repo_size: b["info"]["repository"]["delta"].as_u64().unwrap_or(0),
                })
                .collect()
        })
        .unwrap_or_default();
    let archive = stanza["archive"]
        .as_array()
        .and_then(|a| a.last())
        .cloned()
        .unwrap_or_default();
    Ok(RepoInfo {
        backups,
        archive_min: archive["min"].as_str().map(str::to_string),
        archive_max: archive["max"].as_str().map(str::to_string),
    })
}

/// Full or differential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Full,
    Diff,
}

impl Kind {
    fn arg(self) -> &'static str {
        match self {
            Kind::Full => "--type=full",
            Kind::Diff => "--type=diff",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Kind::Full => "toàn bộ",
            Kind::Diff => "phần thay đổi",
        }
    }
}

/// A full backup when none is newer than a week, else a differential one.
pub fn kind_due(backups: &[BackupInfo], now: DateTime<Utc>) -> Kind {
    let newest_full = backups
        .iter()
        .filter(|b| b.kind == "full")
        .map(|b| b.stopped)
        .max();
    match newest_full {
        Some(t) if now - t < FULL_EVERY => Kind::Diff,
        _ => Kind::Full,
    }
}

/// Create the stanza (idempotent) and check that WAL reaches the repository.
pub fn stanza_create(s: &Settings) -> anyhow::Result<()> {
    pgbackrest(s, &["stanza-create"])?;
    Ok(())
}

/// Take a backup of `kind` (the one due when `None`); the backup taken.
pub fn backup(s: &Settings, kind: Option<Kind>) -> anyhow::Result<(Kind, BackupInfo)> {
    // The stanza exists after setup; for a DATABASE_URL server the first backup creates it.
    stanza_create(s)?;
    let before = info(s)?;
    let kind = kind.unwrap_or_else(|| kind_due(&before.backups, Utc::now()));
    pgbackrest(s, &[kind.arg(), "backup"])?;
    let after = info(s)?;
    let newest = after
        .backups
        .last()
        .cloned()
        .context("pgbackrest báo xong nhưng kho không có bản sao lưu nào")?;
    Ok((kind, newest))
}

/// `pgbackrest check`: the repository is reachable and a WAL segment switched now reaches it.
pub fn check(s: &Settings) -> anyhow::Result<RepoInfo> {
    pgbackrest(s, &["check"])?;
    info(s)
}

/// Where a restore stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Every transaction committed up to this moment, none after.
    Time(DateTime<FixedOffset>),
    /// The end of the archived WAL: the newest recoverable point.
    Latest,
}

/// Restore `node`'s data directory from the repository, then start the private cluster and wait
/// until it takes writes. The directory must not be in use (the private cluster is stopped first
/// when nobody else uses it; a `DATABASE_URL` server must be stopped by its operator).
pub fn restore(s: &Settings, node: &Node, target: Target, yes: bool) -> anyhow::Result<()> {
    let has_data = node.pgdata.join("PG_VERSION").exists();
    if let Some(cluster) = &node.cluster {
        if cluster.is_running() {
            if !yes {
                bail!(
                    "Cụm PostgreSQL đang chạy với dữ liệu hiện có; khôi phục sẽ thay toàn bộ. Chạy lại với --yes nếu chắc chắn."
                );
            }
            cluster
                .stop_if_unused()
                .context("dừng ứng dụng (giupdo serve) trước khi khôi phục")?;
        }
    } else if node.pgdata.join("postmaster.pid").exists() {
        bail!(
            "PostgreSQL đang chạy trên {}: dừng nó trước (systemctl stop postgresql), rồi chạy lại lệnh này.",
            node.pgdata.display()
        );
    }
    if has_data && !yes {
        bail!(
            "Thư mục {} đang có dữ liệu; khôi phục sẽ thay toàn bộ. Chạy lại với --yes nếu chắc chắn.",
            node.pgdata.display()
        );
    }
    if !node.pgdata.exists() {
        fs::create_dir_all(&node.pgdata)?;
    }
    fs::set_permissions(&node.pgdata, fs::Permissions::from_mode(0o700))?;
    if let Some((uid, gid)) = owner() {
        std::os::unix::fs::chown(&node.pgdata, Some(uid), Some(gid))?;
    }
    let mut args: Vec<String> = Vec::new();
    if has_data {
        args.push("--delta".into());
    }
    match target {
        Target::Time(t) => {
            args.push("--type=time".into());
            args.push(format!("--target={}", t.format("%Y-%m-%d %H:%M:%S%:z")));
            args.push("--target-action=promote".into());
        }
        Target::Latest => args.push("--type=default".into()),
    }
    args.push("restore".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    pgbackrest(s, &args)?;
    if let Some(cluster) = &node.cluster {
        let (guard, _) = cluster.acquire().map_err(|e| {
            anyhow::anyhow!(
                "PostgreSQL không khởi động được sau khi khôi phục ({e}). Nếu thời điểm chọn sau điểm mới nhất trong kho, hãy chọn sớm hơn (giupdo backup check in điểm mới nhất)."
            )
        })?;
        wait_promoted(cluster, Duration::from_secs(600))?;
        // Promoted: the checkpointer must start counting archive_timeout now, not in 15 minutes.
        cluster.wake_checkpointer()?;
        cluster.keep_running();
        guard.release()?;
    }
    Ok(())
}

/// Wait until the restored cluster has replayed to its target and takes writes.
fn wait_promoted(cluster: &Cluster, limit: Duration) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        if !cluster.in_recovery()? {
            return Ok(());
        }
        if !cluster.is_running() {
            bail!(
                "PostgreSQL dừng trong khi phục hồi: xem {}",
                cluster.root().join("postgres.log").display()
            );
        }
        if start.elapsed() > limit {
            bail!("Sau {} giây PostgreSQL vẫn đang phục hồi.", limit.as_secs());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(kind: &str, days_ago: i64, now: DateTime<Utc>) -> BackupInfo {
        BackupInfo {
            label: String::new(),
            kind: kind.into(),
            started: now - chrono::Duration::days(days_ago),
            stopped: now - chrono::Duration::days(days_ago),
            repo_size: 0,
        }
    }

    #[test]
    fn a_full_backup_each_week_and_differential_ones_between() {
        let now = Utc::now();
        assert_eq!(kind_due(&[], now), Kind::Full);
        assert_eq!(
            kind_due(&[b("full", 2, now), b("diff", 1, now)], now),
            Kind::Diff
        );
        assert_eq!(
            kind_due(&[b("full", 8, now), b("diff", 1, now)], now),
            Kind::Full
        );
    }

    #[test]
    fn the_repository_listing_is_read_from_pgbackrest_json() {
        let json = br#"[{"name":"giupdo","archive":[{"id":"15-1","min":"000000010000000000000001","max":"000000010000000000000009"}],
            "backup":[{"label":"20261205-101010F","type":"full","timestamp":{"start":1796464210,"stop":1796464220},
            "info":{"repository":{"delta":4096}}}]}]"#;
        let info = parse_info(json).unwrap();
        assert_eq!(info.backups.len(), 1);
        assert_eq!(info.backups[0].kind, "full");
        assert_eq!(info.backups[0].repo_size, 4096);
        assert_eq!(
            info.archive_max.as_deref(),
            Some("000000010000000000000009")
        );
        assert!(parse_info(b"[]").unwrap().backups.is_empty());
        assert!(parse_info(b"not json").is_err());
    }

    #[test]
    fn a_path_with_a_space_or_quote_is_refused_for_the_archive_command() {
        assert!(plain_path(Path::new("/mnt/sao lưu"), "kho").is_err());
        assert!(plain_path(Path::new("/mnt/it's"), "kho").is_err());
        assert!(plain_path(Path::new("/mnt/backup/giupdo"), "kho").is_ok());
    }
}
