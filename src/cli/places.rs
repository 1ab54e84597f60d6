//! `giupdo places import FILE [--dry-run]`: the administrative units of a province (or of any
//! area) from a CSV in the layout of the official list, with no code change (issue #28).

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Subcommand;
use sqlx::PgPool;

use crate::db::audit::By;
use crate::db::places;
use crate::domain::places as units;

#[derive(Debug, Subcommand)]
pub enum PlacesAction {
    /// Nạp danh mục đơn vị hành chính từ tệp .csv (cột: mã, tên, cấp, mã cha, hiệu lực từ,
    /// hiệu lực đến, kế tiếp). Kiểm tra toàn bộ tệp; có lỗi thì không nạp gì.
    Import {
        file: PathBuf,
        /// Chỉ kiểm tra và in kết quả, không ghi.
        #[arg(long)]
        dry_run: bool,
    },
}

pub async fn run(pool: &PgPool, action: PlacesAction) -> anyhow::Result<()> {
    match action {
        PlacesAction::Import { file, dry_run } => {
            let bytes = std::fs::read(&file)
                .with_context(|| format!("không đọc được tệp {}", file.display()))?;
            let read = match units::read(&bytes) {
                Ok(u) => u,
                Err(faults) => bail!(
                    "tệp {} có {} lỗi, không nạp gì:\n  {}",
                    file.display(),
                    faults.len(),
                    faults.join("\n  ")
                ),
            };
            if dry_run {
                println!("Tệp hợp lệ: {} đơn vị (chưa ghi vì --dry-run).", read.len());
                return Ok(());
            }
            let done = places::load_units(pool, &By::system("giupdo places import"), &read).await?;
            println!(
                "Đã nạp {} đơn vị ({} tỉnh, {} huyện, {} xã), {} quan hệ kế tiếp; {} xã mới trong danh mục.",
                done.units,
                done.provinces,
                done.districts,
                done.communes,
                done.successors,
                done.new_communes
            );
            Ok(())
        }
    }
}
