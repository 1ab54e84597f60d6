//! `giupdo db|backup|restore`: the private cluster and whole-database copies.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Subcommand;

use crate::config::DbSource;
use crate::db::Database;
use crate::pgcluster::Cluster;

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
        if !yes && crate::backup::has_data(&database.pool).await? {
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
