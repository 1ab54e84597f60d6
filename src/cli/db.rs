//! `giupdo db|backup|restore`: the private cluster and whole-database copies.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Subcommand;

use crate::config::DbSource;
use crate::db::Database;
use crate::pgcluster::Cluster;

#[derive(Debug, Subcommand)]
pub enum BackupAction {
    /// Bật lưu trữ WAL liên tục vào một kho pgBackRest (ổ đĩa thứ hai hoặc thư mục chia sẻ đã
    /// gắn) và lấy bản toàn bộ đầu tiên: từ đây có thể khôi phục đến từng phút.
    Setup {
        /// Thư mục kho sao lưu (nên ở ổ đĩa khác với dữ liệu).
        #[arg(long)]
        repo: PathBuf,
        /// Một đoạn WAL được lưu trữ ít nhất sau bấy nhiêu giây khi có ghi (mất tối đa chừng ấy).
        #[arg(long, default_value_t = crate::pitr::DEFAULT_ARCHIVE_TIMEOUT)]
        archive_timeout: u32,
        /// Với DATABASE_URL: thư mục dữ liệu của máy chủ PostgreSQL (ví dụ
        /// /var/lib/postgresql/15/main); chạy lệnh bằng tài khoản postgres.
        #[arg(long)]
        pg_data: Option<PathBuf>,
    },
    /// Kiểm tra kho và việc lưu trữ WAL (pgbackrest check), in các bản sao lưu và điểm khôi
    /// phục mới nhất.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum DbAction {
    /// Khởi động cụm (nếu cần), để nó chạy và in URL kết nối cho psql.
    Url,
    /// Cho biết cụm đã khởi tạo chưa, có đang chạy không.
    Status,
    /// Dừng cụm (từ chối nếu một tiến trình giupdo khác đang dùng).
    Stop,
}

pub(super) async fn db_command(source: &DbSource, action: DbAction) -> anyhow::Result<()> {
    let dir = match source {
        DbSource::Url(_) => match action {
            DbAction::Status => {
                let database = Database::open(source).await?;
                println!("Đang dùng máy chủ PostgreSQL ngoài (DATABASE_URL): kết nối được.");
                database.close().await?;
                return Ok(());
            }
            _ => bail!(
                "DATABASE_URL đang được đặt: lệnh `giupdo db` chỉ quản lý cụm PostgreSQL riêng. Bỏ đặt DATABASE_URL để dùng nó."
            ),
        },
        DbSource::Private(dir) => dir.clone(),
    };
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let cluster = Cluster::new(&dir)?;
        match action {
            DbAction::Url => {
                let (guard, _) = cluster.acquire()?;
                cluster.keep_running();
                println!("{}", cluster.url());
                drop(guard);
            }
            DbAction::Status => {
                println!("Thư mục dữ liệu: {}", cluster.root().display());
                if !cluster.is_initialized() {
                    println!("Trạng thái: chưa khởi tạo (sẽ được tạo ở lần chạy đầu).");
                } else if cluster.is_running() {
                    println!("Trạng thái: đang chạy");
                    println!("URL: {}", cluster.url());
                } else {
                    println!("Trạng thái: đã dừng");
                }
            }
            DbAction::Stop => {
                cluster.stop_if_unused()?;
                println!("Đã dừng cụm PostgreSQL riêng.");
            }
        }
        Ok(())
    })
    .await?
}

pub(super) async fn backup_command(
    source: &DbSource,
    file: PathBuf,
    keep: Option<usize>,
) -> anyhow::Result<()> {
    if keep == Some(0) {
        bail!("--keep phải từ 1 trở lên (giữ ít nhất bản vừa sao lưu).");
    }
    let (file, dir) = match keep {
        Some(_) => {
            std::fs::create_dir_all(&file)
                .with_context(|| format!("không tạo được thư mục {}", file.display()))?;
            let name = format!(
                "giupdo-{}.dump",
                chrono::Local::now().format("%Y%m%d-%H%M%S")
            );
            (file.join(name), Some(file))
        }
        None => (file, None),
    };
    let database = Database::open(source).await?;
    let target = crate::backup::Target::from_url(database.url().expose());
    let result = match target {
        Ok(t) => {
            let f = file.clone();
            tokio::task::spawn_blocking(move || crate::backup::backup(&t, &f)).await?
        }
        Err(e) => Err(e),
    };
    let closed = database.close().await;
    let bytes = result?;
    closed?;
    println!(
        "Đã sao lưu vào {} ({} KB).",
        file.display(),
        bytes.div_ceil(1024)
    );
    if let (Some(dir), Some(keep)) = (dir, keep) {
        for old in crate::backup::prune(&dir, keep)? {
            println!("Đã xoá bản sao lưu cũ {}.", old.display());
        }
    }
    Ok(())
}

pub(super) async fn restore_command(
    source: &DbSource,
    file: PathBuf,
    yes: bool,
) -> anyhow::Result<()> {
    let database = Database::open(source).await?;
    let result = async {
        if !yes && crate::db::stats::has_data(&database.pool).await? {
            bail!(
                "Cơ sở dữ liệu đang có dữ liệu; khôi phục sẽ thay thế toàn bộ. Chạy lại với --yes nếu chắc chắn (nên sao lưu trước)."
            );
        }
        let target = crate::backup::Target::from_url(database.url().expose())?;
        // The pool holds no locks, but its idle connections would keep old catalog snapshots.
        database.pool.close().await;
        let f = file.clone();
        tokio::task::spawn_blocking(move || crate::backup::restore(&target, &f)).await?
    }
    .await;
    let closed = database.close().await;
    result?;
    closed?;
    println!("Đã khôi phục từ {}.", file.display());
    Ok(())
}

/// Where pgBackRest finds the database: the private cluster, or (with `DATABASE_URL`) the
/// server's data directory given at setup and its socket from the URL.
fn pitr_node(source: &DbSource, pg_data: Option<PathBuf>) -> anyhow::Result<crate::pitr::Node> {
    match source {
        DbSource::Private(dir) => Ok(crate::pitr::Node::private(&Cluster::new(dir)?)),
        DbSource::Url(url) => {
            let pgdata = pg_data.context(
                "Với DATABASE_URL, hãy cho biết thư mục dữ liệu của máy chủ: --pg-data /var/lib/postgresql/15/main",
            )?;
            let parsed = url::Url::parse(url.expose()).context("DATABASE_URL không hợp lệ")?;
            let socket_dir = parsed
                .query_pairs()
                .find(|(k, _)| k == "host")
                .map(|(_, v)| PathBuf::from(v.as_ref()))
                .unwrap_or_else(|| PathBuf::from("/var/run/postgresql"));
            Ok(crate::pitr::Node {
                pgdata,
                socket_dir,
                port: parsed.port().unwrap_or(5432),
                cluster: None,
            })
        }
    }
}

/// The configuration written by `giupdo backup setup`, or how to write it.
fn pitr_settings(data_dir: &std::path::Path) -> anyhow::Result<crate::pitr::Settings> {
    crate::pitr::settings(data_dir)?.with_context(|| {
        format!(
            "Chưa cấu hình sao lưu liên tục cho {}: chạy `giupdo backup setup --repo THƯ_MỤC_KHO` trước \
             (hoặc `giupdo backup TỆP` cho một bản pg_dump).",
            data_dir.display()
        )
    })
}

/// The `pg1-path` a configuration names (a `DATABASE_URL` server's data directory).
fn configured_pgdata(s: &crate::pitr::Settings) -> Option<PathBuf> {
    std::fs::read_to_string(&s.conf)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("pg1-path="))
        .map(PathBuf::from)
}

pub(super) async fn backup_action(
    source: &DbSource,
    data_dir: &std::path::Path,
    action: BackupAction,
) -> anyhow::Result<()> {
    crate::pitr::require_program()?;
    match action {
        BackupAction::Setup {
            repo,
            archive_timeout,
            pg_data,
        } => {
            let node = pitr_node(source, pg_data)?;
            let root = data_dir.to_path_buf();
            std::fs::create_dir_all(&root)
                .with_context(|| format!("không tạo được thư mục {}", root.display()))?;
            let settings = crate::pitr::write_conf(&root, &node, &repo, archive_timeout)?;
            let Some(cluster) = node.cluster.clone() else {
                println!("Đã ghi {}.", settings.conf.display());
                println!("Thêm vào postgresql.conf của máy chủ rồi khởi động lại PostgreSQL:");
                for (k, v) in crate::pitr::archive_settings(&settings) {
                    println!("  {k} = '{v}'");
                }
                println!(
                    "Sau đó, bằng tài khoản postgres: giupdo backup (bản toàn bộ đầu tiên), giupdo backup check."
                );
                return Ok(());
            };
            // Archiving starts with the server: restart it (refused while the app uses it).
            let (kind, newest) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                if cluster.is_running() {
                    cluster.stop_if_unused().context(
                        "cụm đang được dùng: dừng giupdo serve, chạy setup, rồi khởi động lại",
                    )?;
                }
                let (guard, _) = cluster.acquire()?;
                let result = (|| {
                    crate::pitr::stanza_create(&settings)?;
                    crate::pitr::check(&settings)?;
                    crate::pitr::backup(&settings, Some(crate::pitr::Kind::Full))
                })();
                guard.release()?;
                result
            })
            .await??;
            println!(
                "Đã bật lưu trữ WAL liên tục vào {} (ít nhất mỗi {} giây) và lấy bản {} đầu tiên {}.",
                repo.display(),
                archive_timeout,
                kind.label(),
                newest.label
            );
            Ok(())
        }
        BackupAction::Check => {
            let settings = pitr_settings(data_dir)?;
            let database = match source {
                DbSource::Private(_) => Some(Database::open(source).await?),
                DbSource::Url(_) => None,
            };
            let s = settings.clone();
            let checked = tokio::task::spawn_blocking(move || crate::pitr::check(&s)).await?;
            // The newest recoverable point: the private cluster's archiver says when it last
            // archived; for a DATABASE_URL server, the check has just switched and archived one.
            let archived = match &database {
                Some(d) => crate::db::stats::archived_until(&d.pool).await,
                None => Ok(checked.is_ok().then(chrono::Utc::now)),
            };
            if let Some(database) = database {
                database.close().await?;
            }
            let info = checked?;
            println!("Kho: {} — lưu trữ WAL: tốt.", settings.repo.display());
            if info.backups.is_empty() {
                println!("Chưa có bản sao lưu nào: chạy giupdo backup.");
            }
            for b in &info.backups {
                println!(
                    "  {} {:<5} xong lúc {}  {} KB",
                    b.label,
                    b.kind,
                    crate::domain::dates::format_date_time(b.stopped),
                    b.repo_size.div_ceil(1024)
                );
            }
            if let (Some(min), Some(max)) = (&info.archive_min, &info.archive_max) {
                println!("WAL trong kho: {min} … {max}");
            }
            match archived? {
                Some(t) => println!(
                    "Điểm khôi phục mới nhất: {} (giờ Việt Nam)",
                    t.with_timezone(&crate::domain::dates::vietnam_offset())
                        .format("%d/%m/%Y %H:%M:%S")
                ),
                None => println!("Điểm khôi phục mới nhất: chưa có đoạn WAL nào được lưu trữ."),
            }
            Ok(())
        }
    }
}

pub(super) async fn pitr_backup(
    source: &DbSource,
    data_dir: &std::path::Path,
    kind: Option<&str>,
) -> anyhow::Result<()> {
    crate::pitr::require_program()?;
    let settings = pitr_settings(data_dir)?;
    let kind = match kind {
        Some("full") => Some(crate::pitr::Kind::Full),
        Some(_) => Some(crate::pitr::Kind::Diff),
        None => None,
    };
    // The private cluster must be up for the backup; a server of DATABASE_URL is already (and
    // the postgres account this runs as may not sign in with the app's URL).
    let database = match source {
        DbSource::Private(_) => Some(Database::open(source).await?),
        DbSource::Url(_) => None,
    };
    let result = tokio::task::spawn_blocking(move || crate::pitr::backup(&settings, kind)).await?;
    if let Some(database) = database {
        database.close().await?;
    }
    let (kind, b) = result?;
    println!(
        "Đã sao lưu bản {} {} vào kho ({} KB, xong lúc {}).",
        kind.label(),
        b.label,
        b.repo_size.div_ceil(1024),
        crate::domain::dates::format_date_time(b.stopped)
    );
    Ok(())
}

pub(super) async fn pitr_restore(
    source: &DbSource,
    data_dir: &std::path::Path,
    target: crate::pitr::Target,
    yes: bool,
) -> anyhow::Result<()> {
    crate::pitr::require_program()?;
    let settings = pitr_settings(data_dir)?;
    let node = pitr_node(source, configured_pgdata(&settings))?;
    let url_server = node.cluster.is_none();
    tokio::task::spawn_blocking(move || crate::pitr::restore(&settings, &node, target, yes))
        .await??;
    let to = match target {
        crate::pitr::Target::Time(t) => format!(
            "thời điểm {}",
            t.with_timezone(&crate::domain::dates::vietnam_offset())
                .format("%d/%m/%Y %H:%M:%S")
        ),
        crate::pitr::Target::Latest => "điểm mới nhất trong kho".to_string(),
    };
    if url_server {
        println!(
            "Đã khôi phục thư mục dữ liệu đến {to}. Khởi động PostgreSQL (systemctl start postgresql): nó sẽ phục hồi đến đó rồi nhận ghi."
        );
    } else {
        println!("Đã khôi phục đến {to}; cụm PostgreSQL riêng đang chạy và nhận ghi.");
    }
    Ok(())
}
